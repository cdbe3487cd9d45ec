//! A fixed-period schedule for apalis-cron. Cron expressions cannot say "every 45 s" (`*/45`
//! fires at :00 and :45), and the sweep interval is any number of seconds.

use std::time::Duration;

use chrono::{DateTime, Utc};

#[derive(Clone, Debug)]
pub struct Every {
    period: chrono::Duration,
    last: Option<DateTime<Utc>>,
}

impl Every {
    pub fn new(period: Duration) -> Self {
        Self {
            period: chrono::Duration::from_std(period).unwrap_or(chrono::Duration::seconds(30)),
            last: None,
        }
    }
}

impl apalis_cron::Schedule<Utc> for Every {
    /// Ticks follow the previous tick; ticks missed while the worker was busy or the machine
    /// asleep are skipped, never returned in the past (which would stop the cron stream).
    fn next_tick(&mut self, _tz: &Utc) -> Option<DateTime<Utc>> {
        let now = Utc::now();
        let mut next = match self.last {
            Some(last) => last + self.period,
            None => now + self.period,
        };
        if next <= now + chrono::Duration::milliseconds(5) {
            next = now + self.period;
        }
        self.last = Some(next);
        Some(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use apalis_cron::Schedule;

    #[test]
    fn ticks_are_one_period_apart_and_never_in_the_past() {
        let mut every = Every::new(Duration::from_secs(45));
        let first = every.next_tick(&Utc).unwrap();
        let second = every.next_tick(&Utc).unwrap();
        assert_eq!(second - first, chrono::Duration::seconds(45));
        assert!(first > Utc::now());
    }
}
