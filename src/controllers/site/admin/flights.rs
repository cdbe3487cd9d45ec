//! The admin pages' fields and rows of flights.

use super::form::{all, checked, form_time, number, text, timestamp, Rows, Values};
use super::pages::Section;
use crate::controllers::catalog::flights::{FlightBody, FlightPatch};
use crate::error::AppError;
use crate::services::catalog::search::{self, FlightSearch};
use crate::services::catalog::{airplanes, airports, flights};
use crate::services::pagination::PageRequest;
use crate::state::AppState;
use crate::views::site::admin::{Choice, FormField};
use crate::views::site::money;
use crate::views::site::operations::FlightOperations;

pub struct Flights;

impl Section for Flights {
    const SECTION: &'static str = "flights";
    const TITLE: &'static str = "Flights";
    fn columns() -> Vec<&'static str> {
        vec![
            "Flight",
            "From",
            "To",
            "Departs (UTC)",
            "Arrives (UTC)",
            "Economy",
            "Business",
            "Free seats",
        ]
    }
    async fn rows(state: &AppState, page: PageRequest) -> Result<Rows, AppError> {
        let query = FlightSearch {
            page,
            ..Default::default()
        };
        let found = search::search(&state.db, &query).await?;
        let rows = found
            .items
            .into_iter()
            .map(|f| {
                (
                    f.id,
                    vec![
                        f.flight_number,
                        f.departure_airport,
                        f.arrival_airport,
                        form_time(f.departure_time).replace('T', " "),
                        form_time(f.arrival_time).replace('T', " "),
                        money(f.price_economy, &f.currency),
                        money(f.price_business, &f.currency),
                        format!("{} of {}", f.seats_available, f.seats_total),
                    ],
                )
            })
            .collect();
        Ok((rows, found.total))
    }
    async fn fields(state: &AppState) -> Result<Vec<FormField>, AppError> {
        let planes = airplanes::list(&state.db, all())
            .await?
            .items
            .into_iter()
            .map(|a| Choice {
                value: a.id.to_string(),
                label: a.model,
            })
            .collect();
        let codes: Vec<Choice> = airports::directory(&state.db)
            .await?
            .into_iter()
            .map(|e| Choice {
                label: format!("{} · {} ({})", e.city, e.airport.name, e.airport.code),
                value: e.airport.code,
            })
            .collect();
        Ok(vec![
            FormField::new("flight_number", "Flight number", "text").hint("e.g. AI101"),
            FormField::new("airplane_id", "Airplane", "select").options(planes),
            FormField::new("departure_airport", "From", "select").options(codes.clone()),
            FormField::new("arrival_airport", "To", "select").options(codes),
            FormField::new("departure_time", "Departure (UTC)", "datetime-local"),
            FormField::new("arrival_time", "Arrival (UTC)", "datetime-local"),
            FormField::new("price_economy", "Economy price", "number")
                .hint("minor units: 459900 is 4,599.00"),
            FormField::new("price_business", "Business price", "number").hint("minor units"),
            FormField::new("currency", "Currency", "text").hint("ISO 4217, e.g. INR"),
        ])
    }
    async fn create(state: &AppState, values: &Values) -> Result<(), AppError> {
        let mut errors = Vec::new();
        let body = FlightBody {
            flight_number: text(values, "flight_number"),
            airplane_id: number(values, "airplane_id", &mut errors),
            departure_airport: text(values, "departure_airport"),
            arrival_airport: text(values, "arrival_airport"),
            departure_time: timestamp(values, "departure_time"),
            arrival_time: timestamp(values, "arrival_time"),
            price_economy: number(values, "price_economy", &mut errors),
            price_business: number(values, "price_business", &mut errors),
            currency: text(values, "currency"),
        };
        let new = checked(errors, body.try_into())?;
        flights::create(&state.db, new).await.map(drop)
    }
    async fn load(state: &AppState, id: i32) -> Result<Values, AppError> {
        let f = flights::get(&state.db, id).await?;
        Ok(Values::from([
            ("flight_number".into(), f.flight_number),
            ("airplane_id".into(), f.airplane_id.to_string()),
            ("departure_airport".into(), f.departure_airport),
            ("arrival_airport".into(), f.arrival_airport),
            ("departure_time".into(), form_time(f.departure_time)),
            ("arrival_time".into(), form_time(f.arrival_time)),
            ("price_economy".into(), f.price_economy.to_string()),
            ("price_business".into(), f.price_business.to_string()),
            ("currency".into(), f.currency),
        ]))
    }
    async fn update(state: &AppState, id: i32, values: &Values) -> Result<(), AppError> {
        let mut errors = Vec::new();
        let stored = flights::get(&state.db, id).await?;
        let airplane_id = number(values, "airplane_id", &mut errors);
        let patch = FlightPatch {
            flight_number: Some(text(values, "flight_number")),
            // A flight with sold seats keeps its airplane; send it only when it changes.
            airplane_id: (airplane_id != stored.airplane_id).then_some(airplane_id),
            departure_airport: Some(text(values, "departure_airport")),
            arrival_airport: Some(text(values, "arrival_airport")),
            // The form shows minutes: an unchanged field keeps the stored time to the second.
            departure_time: (text(values, "departure_time") != form_time(stored.departure_time))
                .then(|| timestamp(values, "departure_time")),
            arrival_time: (text(values, "arrival_time") != form_time(stored.arrival_time))
                .then(|| timestamp(values, "arrival_time")),
            price_economy: Some(number(values, "price_economy", &mut errors)),
            price_business: Some(number(values, "price_business", &mut errors)),
            currency: Some(text(values, "currency")),
        };
        let change = checked(errors, patch.try_into())?;
        flights::update(&state.db, id, change, state.settings.email_max_attempts)
            .await
            .map(drop)
    }
    async fn delete(state: &AppState, id: i32) -> Result<(), AppError> {
        flights::delete(&state.db, id).await
    }
    async fn operations(state: &AppState, id: i32) -> Result<Option<FlightOperations>, AppError> {
        super::operations::panel(state, id).await.map(Some)
    }
}
