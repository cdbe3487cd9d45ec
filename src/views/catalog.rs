use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::clock;
use crate::models::catalog::{airplane, airport, city, flight_seat};
use crate::services::catalog::flights::FlightDetails;
use crate::services::catalog::seats::{FlightPrices, SeatState};

#[derive(Serialize, ToSchema)]
pub struct CityView {
    pub id: i32,
    pub name: String,
    #[schema(example = "IN")]
    pub country_code: String,
}

impl From<city::Model> for CityView {
    fn from(city: city::Model) -> Self {
        Self {
            id: city.id,
            name: city.name,
            country_code: city.country_code,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AirportView {
    pub id: i32,
    #[schema(example = "DEL")]
    pub code: String,
    pub name: String,
    pub city_id: i32,
    #[schema(example = "Asia/Kolkata")]
    pub timezone: String,
}

impl From<airport::Model> for AirportView {
    fn from(airport: airport::Model) -> Self {
        Self {
            id: airport.id,
            code: airport.code,
            name: airport.name,
            city_id: airport.city_id,
            timezone: airport.timezone,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AirplaneView {
    pub id: i32,
    pub model: String,
    pub rows: i32,
    #[schema(example = "ABC DEF")]
    pub seat_letters: String,
    pub business_rows: i32,
    pub seat_count: i32,
}

impl From<airplane::Model> for AirplaneView {
    fn from(airplane: airplane::Model) -> Self {
        let per_row = airplane.seat_letters.chars().filter(|c| *c != ' ').count() as i32;
        Self {
            id: airplane.id,
            seat_count: airplane.rows * per_row,
            model: airplane.model,
            rows: airplane.rows,
            seat_letters: airplane.seat_letters,
            business_rows: airplane.business_rows,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct FlightView {
    pub id: i32,
    #[schema(example = "AI101")]
    pub flight_number: String,
    pub airplane_id: i32,
    #[schema(example = "DEL")]
    pub departure_airport: String,
    #[schema(example = "BOM")]
    pub arrival_airport: String,
    pub departure_time: DateTime<Utc>,
    pub arrival_time: DateTime<Utc>,
    pub duration_minutes: i64,
    /// Minor units of `currency`.
    pub price_economy: i64,
    pub price_business: i64,
    #[schema(example = "INR")]
    pub currency: String,
    pub seats_total: i32,
    pub seats_available: i64,
    /// `scheduled`, or `cancelled` by the airline.
    #[schema(example = "scheduled")]
    pub status: String,
}

impl From<FlightDetails> for FlightView {
    fn from(f: FlightDetails) -> Self {
        Self {
            id: f.id,
            duration_minutes: (f.arrival_time - f.departure_time).num_minutes(),
            flight_number: f.flight_number,
            airplane_id: f.airplane_id,
            departure_airport: f.departure_airport,
            arrival_airport: f.arrival_airport,
            departure_time: clock::to_utc(f.departure_time),
            arrival_time: clock::to_utc(f.arrival_time),
            price_economy: f.price_economy,
            price_business: f.price_business,
            currency: f.currency,
            seats_total: f.seats_total,
            seats_available: f.seats_available,
            status: f.status,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct SeatView {
    #[schema(example = "12C")]
    pub seat: String,
    #[schema(example = "economy")]
    pub class: String,
    pub price: i64,
    pub available: bool,
}

#[derive(Serialize, ToSchema)]
pub struct SeatMapView {
    pub flight_id: i32,
    pub currency: String,
    pub seats: Vec<SeatView>,
}

impl SeatMapView {
    pub fn new(flight: FlightPrices, seats: Vec<SeatState>, now: NaiveDateTime) -> Self {
        let seats = seats
            .into_iter()
            .map(|seat| SeatView {
                available: seat.is_free(now),
                price: if seat.class == flight_seat::CLASS_BUSINESS {
                    flight.price_business
                } else {
                    flight.price_economy
                },
                seat: seat.seat,
                class: seat.class,
            })
            .collect();
        Self {
            flight_id: flight.id,
            currency: flight.currency,
            seats,
        }
    }
}
