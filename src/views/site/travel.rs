//! Search form, results and the flight page with its seat map.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;

use super::{duration, local_time, money, FieldErrors, LocalTime, Pager};
use crate::models::catalog::flight::CANCELLED;
use crate::models::catalog::flight_seat::{self, CLASS_BUSINESS};
use crate::models::catalog::Currency;
use crate::services::catalog::airports::AirportEntry;
use crate::services::catalog::flights::{local_date, FlightDetails};
use crate::services::catalog::seats::is_free;

#[derive(Serialize, Clone)]
pub struct AirportOption {
    pub code: String,
    /// `Delhi · Indira Gandhi International (DEL)`
    pub label: String,
}

/// Airport codes to names and time zones, for showing flights.
pub struct Airports {
    pub options: Vec<AirportOption>,
    zones: HashMap<String, (String, String)>,
}

impl Airports {
    pub fn new(entries: Vec<AirportEntry>) -> Self {
        let options = entries
            .iter()
            .map(|e| AirportOption {
                code: e.airport.code.clone(),
                label: format!("{} · {} ({})", e.city, e.airport.name, e.airport.code),
            })
            .collect();
        let zones = entries
            .into_iter()
            .map(|e| (e.airport.code, (e.city, e.airport.timezone)))
            .collect();
        Self { options, zones }
    }

    fn timezone(&self, code: &str) -> &str {
        self.zones.get(code).map(|z| z.1.as_str()).unwrap_or("UTC")
    }

    pub fn city(&self, code: &str) -> String {
        self.zones
            .get(code)
            .map(|z| z.0.clone())
            .unwrap_or_else(|| code.to_string())
    }
}

/// What the search form shows: the visitor's own input, as typed.
#[derive(Serialize, Default, Clone)]
pub struct SearchForm {
    pub from: String,
    pub to: String,
    pub date: String,
    pub passengers: String,
    pub sort: String,
}

#[derive(Serialize)]
pub struct HomePage {
    pub airports: Vec<AirportOption>,
    pub form: SearchForm,
    pub errors: FieldErrors,
    pub today: String,
}

/// A flight as lists and the flight page show it.
#[derive(Serialize)]
pub struct FlightSummary {
    pub id: i32,
    pub flight_number: String,
    pub from_code: String,
    pub from_city: String,
    pub to_code: String,
    pub to_city: String,
    pub departs: LocalTime,
    pub arrives: LocalTime,
    /// Days between the local departure and arrival dates, when not 0 (`+1`).
    pub day_change: Option<String>,
    pub duration: String,
    pub price_from: String,
    pub price_business: String,
    pub seats_left: i64,
    pub departed: bool,
    /// Cancelled by the airline: no longer on sale.
    pub cancelled: bool,
}

impl FlightSummary {
    pub fn new(flight: &FlightDetails, airports: &Airports, now: NaiveDateTime) -> Self {
        let departs = local_time(
            flight.departure_time,
            airports.timezone(&flight.departure_airport),
        );
        let arrives = local_time(
            flight.arrival_time,
            airports.timezone(&flight.arrival_airport),
        );
        let day = |t: NaiveDateTime, code: &str| {
            local_date(
                t,
                airports
                    .timezone(code)
                    .parse()
                    .unwrap_or(chrono_tz::Tz::UTC),
            )
        };
        let days = (day(flight.arrival_time, &flight.arrival_airport)
            - day(flight.departure_time, &flight.departure_airport))
        .num_days();
        Self {
            id: flight.id,
            flight_number: flight.flight_number.clone(),
            from_code: flight.departure_airport.clone(),
            from_city: airports.city(&flight.departure_airport),
            to_code: flight.arrival_airport.clone(),
            to_city: airports.city(&flight.arrival_airport),
            departs,
            arrives,
            day_change: (days != 0).then(|| format!("{days:+}")),
            duration: duration(flight.departure_time, flight.arrival_time),
            price_from: money(flight.price_economy, &flight.currency),
            price_business: money(flight.price_business, &flight.currency),
            seats_left: flight.seats_available,
            departed: flight.departure_time <= now,
            cancelled: flight.status == CANCELLED,
        }
    }
}

#[derive(Serialize)]
pub struct SortOption {
    pub value: &'static str,
    pub label: &'static str,
}

pub const SORTS: [SortOption; 4] = [
    SortOption {
        value: "departure_time",
        label: "Earliest departure",
    },
    SortOption {
        value: "-departure_time",
        label: "Latest departure",
    },
    SortOption {
        value: "price",
        label: "Lowest price",
    },
    SortOption {
        value: "-price",
        label: "Highest price",
    },
];

/// A day in the results' heading and its neighbours, as links.
#[derive(Serialize, Default)]
pub struct Days {
    /// `Tue 8 Dec`
    pub label: String,
    /// `Tuesday 8 December 2026`, for the page title and screen readers.
    pub long: String,
    pub previous: Option<DayLink>,
    pub next: Option<DayLink>,
}

#[derive(Serialize)]
pub struct DayLink {
    pub href: String,
    pub label: String,
}

impl Days {
    /// `date`'s neighbours; no previous day before `today` (nothing is on sale then).
    pub fn around(date: NaiveDate, today: NaiveDate, link: impl Fn(NaiveDate) -> String) -> Self {
        let day = |d: NaiveDate| DayLink {
            href: link(d),
            label: short_date(d),
        };
        Self {
            label: short_date(date),
            long: date.format("%A %-d %B %Y").to_string(),
            previous: date.pred_opt().filter(|d| *d >= today).map(day),
            next: date.succ_opt().map(day),
        }
    }
}

/// `Tue 8 Dec`
pub fn short_date(date: NaiveDate) -> String {
    date.format("%a %-d %b").to_string()
}

/// What an empty result page says, honestly.
#[derive(Serialize, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum EmptyResults {
    /// Nothing flies this route that day.
    NoFlights,
    /// Flights fly, but none has enough free seats for the party.
    NotEnoughSeats,
}

#[derive(Serialize)]
pub struct ResultsPage {
    pub days: Days,
    pub empty: Option<EmptyResults>,
    pub airports: Vec<AirportOption>,
    pub form: SearchForm,
    pub errors: FieldErrors,
    pub today: String,
    pub from_city: String,
    pub to_city: String,
    pub flights: Vec<FlightSummary>,
    pub total: u64,
    pub sorts: &'static [SortOption],
    pub pager: Pager,
}

/// One seat on the map, as a real checkbox.
#[derive(Serialize)]
pub struct SeatCell {
    pub code: String,
    pub business: bool,
    pub available: bool,
    pub chosen: bool,
    /// `INR 5,500.00`, for screen readers and the tooltip.
    pub price: String,
    /// `5.5k`, printed on the seat itself.
    pub price_short: String,
    /// Taken by someone else since the visitor last saw the map.
    pub just_taken: bool,
}

/// A seat, or the aisle between seats.
#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Cell {
    Seat(SeatCell),
    Aisle,
}

#[derive(Serialize)]
pub struct SeatRow {
    pub number: i32,
    pub business: bool,
    pub cells: Vec<Cell>,
}

/// The rows of one cabin class, front to back, under a heading of their own.
#[derive(Serialize)]
pub struct CabinSection {
    /// `business` or `economy`, for ids and class names.
    pub class: &'static str,
    pub name: &'static str,
    pub price: String,
    pub rows: Vec<SeatRow>,
}

/// The cabin's rows split into its classes (business first, as it is in the airplane).
pub fn cabin_sections(flight: &FlightDetails, rows: Vec<SeatRow>) -> Vec<CabinSection> {
    let (business, economy): (Vec<_>, Vec<_>) = rows.into_iter().partition(|r| r.business);
    [
        ("business", "Business", flight.price_business, business),
        ("economy", "Economy", flight.price_economy, economy),
    ]
    .into_iter()
    .filter(|(.., rows)| !rows.is_empty())
    .map(|(class, name, price, rows)| CabinSection {
        class,
        name,
        price: money(price, &flight.currency),
        rows,
    })
    .collect()
}

/// A fare short enough to print on a seat: major units, thousands as `k` (`5.5k`, `198k`,
/// `489`). The currency is in the section's heading.
pub fn short_price(minor: i64, currency: &str) -> String {
    let digits = Currency::parse(currency)
        .map(|c| c.minor_digits())
        .unwrap_or(2);
    let major = minor as f64 / 10f64.powi(digits as i32);
    if major >= 100_000.0 {
        format!("{:.0}k", major / 1000.0)
    } else if major >= 1000.0 {
        let thousands = format!("{:.1}", major / 1000.0);
        format!("{}k", thousands.trim_end_matches(".0"))
    } else {
        format!("{major:.0}")
    }
}

/// The rows of a seat map; `layout` is the airplane's `"ABC DEF"`.
pub fn seat_rows(
    flight: &FlightDetails,
    layout: &str,
    seats: Vec<flight_seat::Model>,
    chosen: &[String],
    just_taken: &[String],
    now: NaiveDateTime,
) -> Vec<SeatRow> {
    let mut by_row: std::collections::BTreeMap<i32, HashMap<String, flight_seat::Model>> =
        Default::default();
    for seat in seats {
        by_row
            .entry(seat.row_number)
            .or_default()
            .insert(seat.letter.clone(), seat);
    }
    by_row
        .into_iter()
        .map(|(number, seats)| {
            let business = seats.values().any(|s| s.class == CLASS_BUSINESS);
            let cells = layout
                .chars()
                .filter_map(|c| {
                    if c == ' ' {
                        return Some(Cell::Aisle);
                    }
                    let seat = seats.get(c.to_string().as_str())?;
                    let is_business = seat.class == CLASS_BUSINESS;
                    let fare = if is_business {
                        flight.price_business
                    } else {
                        flight.price_economy
                    };
                    Some(Cell::Seat(SeatCell {
                        available: is_free(seat, now),
                        chosen: chosen.contains(&seat.seat),
                        just_taken: just_taken.contains(&seat.seat),
                        business: is_business,
                        price: money(fare, &flight.currency),
                        price_short: short_price(fare, &flight.currency),
                        code: seat.seat.clone(),
                    }))
                })
                .collect();
            SeatRow {
                number,
                business,
                cells,
            }
        })
        .collect()
}

#[derive(Serialize)]
pub struct PassengerInput {
    pub index: usize,
    pub name: String,
    pub error: Option<String>,
}

#[derive(Serialize)]
pub struct FlightPage {
    pub flight: FlightSummary,
    pub sections: Vec<CabinSection>,
    pub columns: Vec<String>,
    pub passengers: Vec<PassengerInput>,
    pub passenger_count: usize,
    /// A problem with the whole request (seat taken, too many pending bookings...).
    pub message: Option<String>,
    pub seat_error: Option<String>,
    pub signin_url: String,
    pub signup_url: String,
    /// Why the airline cancelled the flight, when it did.
    pub cancel_reason: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_read_like_people_write_them_and_link_to_their_neighbours() {
        let date = NaiveDate::from_ymd_opt(2026, 12, 8).unwrap();
        let days = Days::around(date, date - chrono::Duration::days(3), |d| d.to_string());
        assert_eq!(days.label, "Tue 8 Dec");
        assert_eq!(days.long, "Tuesday 8 December 2026");
        let previous = days.previous.expect("a day before");
        assert_eq!(
            (previous.label.as_str(), previous.href.as_str()),
            ("Mon 7 Dec", "2026-12-07")
        );
        assert_eq!(days.next.expect("a day after").label, "Wed 9 Dec");
        // Today: yesterday is not on sale.
        assert!(Days::around(date, date, |d| d.to_string())
            .previous
            .is_none());
    }

    #[test]
    fn seat_prices_are_short_enough_for_a_seat() {
        assert_eq!(short_price(550_000, "INR"), "5.5k");
        assert_eq!(short_price(1_650_000, "INR"), "16.5k");
        assert_eq!(short_price(500_000, "INR"), "5k");
        assert_eq!(short_price(19_800_000, "INR"), "198k");
        assert_eq!(short_price(48_900, "GBP"), "489");
    }
}
