//! Time as the database stores it: UTC, without a zone, to whole seconds (MySQL's DATETIME
//! keeps no fraction, so every backend gets the same value back).

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};

pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc().trunc_subsecs(0)
}

pub fn to_utc(stored: NaiveDateTime) -> DateTime<Utc> {
    stored.and_utc()
}
