//! Background work on one apalis monitor, in the same process as the HTTP server: the
//! booking sweeper (apalis-cron), the email relay (apalis-cron) and the email worker (apalis
//! SQL storage). Workers start and stop with the server.

mod account_email;
pub mod delivery;
pub mod email;
mod postgres_poll;
pub mod queue;
mod schedule;
pub mod sweeper;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use apalis::prelude::*;
use apalis_cron::CronStream;

use queue::ForWorkerRun;
use schedule::Every;

use crate::state::AppState;

/// The running workers, so that shutdown can wake them: apalis rc.9's monitor shutdown does
/// not wake a worker that is waiting on its stream (a cron worker would otherwise sit out the
/// whole shutdown timeout). `stop()` wakes it; it still finishes its in-flight tasks.
#[derive(Clone, Default)]
pub struct RunningWorkers(Arc<Mutex<Vec<WorkerContext>>>);

impl RunningWorkers {
    pub fn stop_all(&self) {
        // Copied out first: `stop()` emits an event whose handler takes this lock again.
        let workers: Vec<WorkerContext> = match self.0.lock() {
            Ok(workers) => workers.clone(),
            Err(_) => return,
        };
        for worker in workers {
            let _ = worker.stop();
        }
    }
}

/// Skips a cron tick while the previous run of the same worker still runs. Cron workers have
/// no concurrency limit (with one, a run longer than the period makes apalis-cron's stream
/// fail and the worker stop), so overlap is prevented here.
#[derive(Clone, Default)]
pub struct OneAtATime(Arc<tokio::sync::Mutex<()>>);

impl OneAtATime {
    pub fn try_run(&self) -> Result<tokio::sync::MutexGuard<'_, ()>, tokio::sync::TryLockError> {
        self.0.try_lock()
    }
}

/// The monitor with every worker registered.
pub fn monitor(state: &AppState, running: &RunningWorkers) -> Monitor {
    let deaths = Deaths::default();
    let running = running.clone();
    let sweeper_state = state.clone();
    let email_state = state.clone();
    let interval = Duration::from_secs(state.settings.sweep_interval_seconds);
    let mut monitor = Monitor::new();
    if !state.settings.faults.email_worker_off {
        let relay_state = state.clone();
        monitor = monitor.register(move |_restart| {
            WorkerBuilder::new("skybook-email-relay")
                .backend(CronStream::new(Every::new(Duration::from_secs(
                    email::RELAY_INTERVAL_SECONDS,
                ))))
                .data(relay_state.clone())
                .data(OneAtATime::default())
                .build(email::relay)
        });
        // One name per process run: apalis ties fetched jobs to the worker's name, and a
        // name reused after a crash would leave that run's jobs stuck.
        let name = format!(
            "skybook-email-{}-{}",
            std::process::id(),
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        macro_rules! email_worker {
            ($storage:expr) => {{
                let storage = $storage.clone();
                let state = email_state.clone();
                monitor = monitor.register(move |restart| {
                    WorkerBuilder::new(format!("{name}-{restart}"))
                        .backend(storage.for_worker_run())
                        .data(state.clone())
                        .concurrency(email::CONCURRENCY)
                        .build(email::send)
                });
            }};
        }
        match &state.email_queue {
            queue::EmailQueue::Sqlite(storage) => email_worker!(storage),
            queue::EmailQueue::Postgres(storage) => email_worker!(storage),
            queue::EmailQueue::MySql(storage) => email_worker!(storage),
        }
    }
    monitor
        .register(move |_restart| {
            WorkerBuilder::new("skybook-sweeper")
                .backend(CronStream::new(Every::new(interval)))
                .data(sweeper_state.clone())
                .data(OneAtATime::default())
                .build(sweeper::sweep)
        })
        .on_event(move |ctx, event| {
            if let (Event::Start, Ok(mut workers)) = (event, running.0.lock()) {
                workers.push(ctx.clone());
            }
            if let Event::Error(err) = event {
                tracing::error!(worker = %ctx.name(), error = %err, "background worker error");
            }
        })
        // Restarting a worker that exits on shutdown would loop during shutdown. Any other
        // death is restarted as long as deaths are spaced: during a database outage the MySQL
        // email worker dies at each fetch, every few seconds (the pool's acquire timeout), so
        // a fixed cap would leave a long outage with no email worker. Deaths in quick
        // succession (a closed pool, when the application is gone) are not work to retry:
        // they would spin.
        .should_restart(move |ctx, err, restarts| {
            if matches!(err, WorkerError::GracefulExit) {
                return false;
            }
            let restart = deaths.recorded_and_spaced();
            tracing::error!(worker = %ctx.name(), error = %err, restarts, restart, "background worker died");
            restart
        })
        // In-flight jobs get the grace period from SIGTERM; one cut off is leased, so it is
        // taken up again once its lease lapses (see docs/OPERATIONS.md).
        .shutdown_timeout(Duration::from_secs(state.settings.shutdown_grace_seconds))
}

/// Recent worker deaths, to tell a worker that fails now and then (restart it) from one that
/// fails as soon as it starts (stop).
#[derive(Default)]
struct Deaths(Mutex<std::collections::VecDeque<std::time::Instant>>);

impl Deaths {
    /// More than this many deaths within [`Deaths::WINDOW`] stop the restarts.
    const MOST: usize = 20;
    const WINDOW: Duration = Duration::from_secs(10);

    /// Records one death; whether the worker should be restarted.
    fn recorded_and_spaced(&self) -> bool {
        let now = std::time::Instant::now();
        let Ok(mut recent) = self.0.lock() else {
            return false;
        };
        recent.push_back(now);
        while recent
            .front()
            .is_some_and(|at| now.duration_since(*at) > Self::WINDOW)
        {
            recent.pop_front();
        }
        recent.len() <= Self::MOST
    }
}

#[cfg(test)]
mod tests {
    use super::Deaths;

    #[test]
    fn deaths_in_quick_succession_stop_the_restarts() {
        let deaths = Deaths::default();
        for n in 0..Deaths::MOST {
            assert!(deaths.recorded_and_spaced(), "death {n} is restarted");
        }
        assert!(!deaths.recorded_and_spaced(), "the 21st within 10 s is not");
    }
}
