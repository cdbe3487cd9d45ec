//! Search form, results and the flight page with its seat map.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use serde::Serialize;

use super::{duration, local_time, money, FieldErrors, LocalTime, Pager};
use crate::models::catalog::flight::CANCELLED;
use crate::models::catalog::flight_seat::{self, CLASS_BUSINESS};
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

#[derive(Serialize)]
pub struct ResultsPage {
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
    pub price: String,
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
                    Some(Cell::Seat(SeatCell {
                        available: is_free(seat, now),
                        chosen: chosen.contains(&seat.seat),
                        just_taken: just_taken.contains(&seat.seat),
                        business: is_business,
                        price: money(
                            if is_business {
                                flight.price_business
                            } else {
                                flight.price_economy
                            },
                            &flight.currency,
                        ),
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
    pub rows: Vec<SeatRow>,
    pub columns: Vec<String>,
    pub passengers: Vec<PassengerInput>,
    pub passenger_count: usize,
    /// A problem with the whole request (seat taken, too many pending bookings...).
    pub message: Option<String>,
    pub seat_error: Option<String>,
    pub signin_url: String,
    /// Why the airline cancelled the flight, when it did.
    pub cancel_reason: Option<String>,
}
