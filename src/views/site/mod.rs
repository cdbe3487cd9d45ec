//! The website's view-models: one typed struct per page, serialized into its tera template.
//! Formatting for people (money in major units, local times, durations) happens here.

pub mod account;
pub mod admin;
pub mod operations;
pub mod passes;
pub mod travel;
pub mod trips;

use std::collections::BTreeMap;

use chrono::{NaiveDateTime, TimeZone};
use chrono_tz::Tz;
use serde::Serialize;

use crate::clock;
use crate::controllers::extractors::AuthUser;
use crate::error::FieldError;
use crate::models::catalog::{Currency, Money};

/// The signed-in user, as the layout's header shows them.
#[derive(Serialize)]
pub struct MeView {
    pub name: String,
    pub email: String,
    pub is_admin: bool,
}

impl From<&AuthUser> for MeView {
    fn from(user: &AuthUser) -> Self {
        Self {
            name: user.user.name.clone(),
            email: user.user.email.clone(),
            is_admin: user.is_admin(),
        }
    }
}

#[derive(Serialize)]
pub struct ErrorPage {
    pub status: u16,
    pub title: String,
    pub detail: String,
    pub code: String,
}

/// A form's errors by field name, shown next to each field (the first rule broken wins).
pub type FieldErrors = BTreeMap<String, String>;

pub fn field_errors(errors: &[FieldError]) -> FieldErrors {
    let mut map = FieldErrors::new();
    for e in errors {
        map.entry(e.field.clone())
            .or_insert_with(|| e.message.clone());
    }
    map
}

/// `INR 4,599.00`; an unknown currency (never stored, but be safe) shows minor units.
pub fn money(minor: i64, currency: &str) -> String {
    match Currency::parse(currency).and_then(|c| Money::new(minor, c)) {
        Ok(money) => money.to_string(),
        Err(_) => format!("{minor} {currency} (minor units)"),
    }
}

/// An instant as a traveller at a place reads it.
#[derive(Serialize)]
pub struct LocalTime {
    /// `09:30`
    pub time: String,
    /// `Tue 1 Dec 2026`
    pub date: String,
    /// RFC 3339 in UTC, for `<time datetime>`.
    pub iso: String,
}

pub fn local_time(utc: NaiveDateTime, timezone: &str) -> LocalTime {
    let tz: Tz = timezone.parse().unwrap_or(Tz::UTC);
    let local = tz.from_utc_datetime(&utc);
    LocalTime {
        time: local.format("%H:%M").to_string(),
        date: local.format("%a %-d %b %Y").to_string(),
        iso: clock::to_utc(utc).to_rfc3339(),
    }
}

/// `2h 10m`
pub fn duration(from: NaiveDateTime, to: NaiveDateTime) -> String {
    let minutes = (to - from).num_minutes().max(0);
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m}m"),
        (h, 0) => format!("{h}h"),
        (h, m) => format!("{h}h {m}m"),
    }
}

/// Links to the previous and next page of a list.
#[derive(Serialize, Default)]
pub struct Pager {
    pub page: u64,
    pub pages: u64,
    pub previous: Option<String>,
    pub next: Option<String>,
}

impl Pager {
    /// `link(n)` builds the URL of page `n`.
    pub fn new(page: u64, per_page: u64, total: u64, link: impl Fn(u64) -> String) -> Self {
        let pages = total.div_ceil(per_page.max(1)).max(1);
        Self {
            page,
            pages,
            previous: (page > 1).then(|| link(page - 1)),
            next: (page < pages).then(|| link(page + 1)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn times_read_in_the_airports_zone() {
        let utc = NaiveDate::from_ymd_opt(2026, 12, 1)
            .unwrap()
            .and_hms_opt(18, 0, 0)
            .unwrap();
        let delhi = local_time(utc, "Asia/Kolkata");
        assert_eq!(delhi.time, "23:30");
        assert_eq!(delhi.date, "Tue 1 Dec 2026");
        let tokyo = local_time(utc, "Asia/Tokyo");
        assert_eq!(
            (tokyo.time.as_str(), tokyo.date.as_str()),
            ("03:00", "Wed 2 Dec 2026")
        );
        assert_eq!(delhi.iso, "2026-12-01T18:00:00+00:00");
    }

    #[test]
    fn durations_and_money_read_naturally() {
        let at = |h, m| {
            NaiveDate::from_ymd_opt(2026, 12, 1)
                .unwrap()
                .and_hms_opt(h, m, 0)
                .unwrap()
        };
        assert_eq!(duration(at(9, 30), at(11, 40)), "2h 10m");
        assert_eq!(duration(at(9, 0), at(11, 0)), "2h");
        assert_eq!(duration(at(9, 0), at(9, 45)), "45m");
        assert_eq!(money(459_900, "INR"), "INR 4,599.00");
    }

    #[test]
    fn pager_links_only_where_pages_exist() {
        let pager = Pager::new(1, 20, 45, |n| format!("?page={n}"));
        assert_eq!(pager.pages, 3);
        assert_eq!(pager.previous, None);
        assert_eq!(pager.next.as_deref(), Some("?page=2"));
        let empty = Pager::new(1, 20, 0, |n| format!("?page={n}"));
        assert_eq!((empty.pages, empty.next), (1, None));
    }
}
