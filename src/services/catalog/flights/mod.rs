//! Flights: `read` answers what a flight shows, `write` creates, changes and removes flights.

mod read;
mod write;

use chrono::{NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;

pub use read::{
    details_select, free_seats, get, get_details, get_many, join_airports, FlightDetails,
    SENTINEL_NOW,
};
pub use write::{create, delete, update, FlightForCreate, FlightForUpdate, Schedule};

/// The calendar date of a UTC instant at a place.
pub fn local_date(utc: NaiveDateTime, tz: Tz) -> NaiveDate {
    tz.from_utc_datetime(&utc).date_naive()
}
