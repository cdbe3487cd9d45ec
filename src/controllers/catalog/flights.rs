//! Flight endpoints: public reads and seat maps, admin-only writes.

use actix_web::{delete, get, patch, post, web, HttpResponse};
use chrono::{DateTime, SubsecRound, Utc};
use serde::Deserialize;
use utoipa::ToSchema;

use super::checked;
use crate::clock;
use crate::controllers::docs_schemas;
use crate::controllers::extractors::{AdminUser, Guarded};
use crate::error::{AppError, Validator};
use crate::models::catalog::{Currency, FlightNumber, IataCode, Money};
use crate::services::catalog::flights::{self, FlightForCreate, FlightForUpdate};
use crate::services::catalog::seats;
use crate::state::AppState;
use crate::views::catalog::{FlightView, SeatMapView};
use crate::views::ProblemView;
use crate::web::input::{whole, JsonBody};

fn parse_timestamp(input: &str) -> Result<DateTime<Utc>, String> {
    let time = DateTime::parse_from_rfc3339(input.trim())
        .map(|t| t.with_timezone(&Utc).trunc_subsecs(0))
        .map_err(|_| "must be an RFC 3339 timestamp, e.g. 2026-12-01T09:30:00Z".to_string())?;
    // Far beyond any schedule, and inside every backend's date range.
    if !(2000..2100).contains(&chrono::Datelike::year(&time)) {
        return Err("must be between the years 2000 and 2099".into());
    }
    Ok(time)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlightBody {
    /// An airline designator and 1-4 digits, an optional letter.
    #[schema(
        example = "AI101",
        pattern = r"^([A-Za-z][A-Za-z0-9]|[0-9][A-Za-z])[0-9]{1,4}[A-Za-z]?$"
    )]
    pub flight_number: String,
    #[schema(minimum = 1)]
    #[serde(deserialize_with = "whole::number")]
    pub airplane_id: i32,
    #[schema(example = "DEL", pattern = r"^[A-Za-z]{3}$")]
    pub departure_airport: String,
    #[schema(example = "BOM", pattern = r"^[A-Za-z]{3}$")]
    pub arrival_airport: String,
    /// RFC 3339, in the future, before the year 2100.
    #[schema(
        example = "2099-12-01T03:30:00Z",
        pattern = r"^20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
    )]
    pub departure_time: String,
    /// RFC 3339, after `departure_time`, before the year 2100.
    #[schema(
        example = "2099-12-01T05:40:00Z",
        pattern = r"^20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
    )]
    pub arrival_time: String,
    /// Minor units of `currency`.
    #[schema(minimum = 0, maximum = 1000000000000_i64)]
    #[serde(deserialize_with = "whole::number")]
    pub price_economy: i64,
    #[schema(minimum = 0, maximum = 1000000000000_i64)]
    #[serde(deserialize_with = "whole::number")]
    pub price_business: i64,
    #[schema(schema_with = docs_schemas::currency)]
    pub currency: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlightPatch {
    #[schema(pattern = r"^([A-Za-z][A-Za-z0-9]|[0-9][A-Za-z])[0-9]{1,4}[A-Za-z]?$")]
    pub flight_number: Option<String>,
    #[schema(minimum = 1)]
    #[serde(default, deserialize_with = "whole::optional")]
    pub airplane_id: Option<i32>,
    #[schema(pattern = r"^[A-Za-z]{3}$")]
    pub departure_airport: Option<String>,
    #[schema(pattern = r"^[A-Za-z]{3}$")]
    pub arrival_airport: Option<String>,
    #[schema(
        pattern = r"^20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
    )]
    pub departure_time: Option<String>,
    #[schema(
        pattern = r"^20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
    )]
    pub arrival_time: Option<String>,
    #[schema(minimum = 0, maximum = 1000000000000_i64)]
    #[serde(default, deserialize_with = "whole::optional")]
    pub price_economy: Option<i64>,
    #[schema(minimum = 0, maximum = 1000000000000_i64)]
    #[serde(default, deserialize_with = "whole::optional")]
    pub price_business: Option<i64>,
    #[schema(schema_with = docs_schemas::currency_or_null)]
    pub currency: Option<String>,
}

impl TryFrom<FlightBody> for FlightForCreate {
    type Error = AppError;
    fn try_from(body: FlightBody) -> Result<Self, AppError> {
        let mut v = Validator::new();
        let flight_number = v.check("flight_number", FlightNumber::parse(&body.flight_number));
        let departure_airport = v.check(
            "departure_airport",
            IataCode::parse(&body.departure_airport),
        );
        let arrival_airport = v.check("arrival_airport", IataCode::parse(&body.arrival_airport));
        let departure_time = v.check("departure_time", parse_timestamp(&body.departure_time));
        let arrival_time = v.check("arrival_time", parse_timestamp(&body.arrival_time));
        let currency = v.check("currency", Currency::parse(&body.currency));
        let prices = currency.map(|currency| {
            (
                v.check("price_economy", Money::new(body.price_economy, currency)),
                v.check("price_business", Money::new(body.price_business, currency)),
            )
        });
        v.finish()?;
        let (price_economy, price_business) = checked(prices)?;
        Ok(Self {
            flight_number: checked(flight_number)?,
            airplane_id: body.airplane_id,
            departure_airport: checked(departure_airport)?,
            arrival_airport: checked(arrival_airport)?,
            departure_time: checked(departure_time)?,
            arrival_time: checked(arrival_time)?,
            price_economy: checked(price_economy)?,
            price_business: checked(price_business)?,
        })
    }
}

impl TryFrom<FlightPatch> for FlightForUpdate {
    type Error = AppError;
    fn try_from(body: FlightPatch) -> Result<Self, AppError> {
        let mut v = Validator::new();
        let flight_number = body
            .flight_number
            .map(|n| v.check("flight_number", FlightNumber::parse(&n)));
        let departure_airport = body
            .departure_airport
            .map(|c| v.check("departure_airport", IataCode::parse(&c)));
        let arrival_airport = body
            .arrival_airport
            .map(|c| v.check("arrival_airport", IataCode::parse(&c)));
        let departure_time = body
            .departure_time
            .map(|t| v.check("departure_time", parse_timestamp(&t)));
        let arrival_time = body
            .arrival_time
            .map(|t| v.check("arrival_time", parse_timestamp(&t)));
        let currency = body
            .currency
            .map(|c| v.check("currency", Currency::parse(&c)));
        v.finish()?;
        Ok(Self {
            flight_number: flight_number.flatten(),
            airplane_id: body.airplane_id,
            departure_airport: departure_airport.flatten(),
            arrival_airport: arrival_airport.flatten(),
            departure_time: departure_time.flatten(),
            arrival_time: arrival_time.flatten(),
            price_economy: body.price_economy,
            price_business: body.price_business,
            currency: currency.flatten(),
        })
    }
}

#[utoipa::path(tag = "catalog", params(("id" = i32, Path)), responses((status = 200, body = FlightView), (status = 404, body = ProblemView)))]
#[get("/flights/{id}")]
pub async fn get_flight(
    state: web::Data<AppState>,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(FlightView::from(flights::get(&state.db, *id).await?)))
}

#[utoipa::path(tag = "catalog", params(("id" = i32, Path)), responses((status = 200, body = SeatMapView), (status = 404, body = ProblemView)))]
#[get("/flights/{id}/seats")]
pub async fn flight_seats(
    state: web::Data<AppState>,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let (flight, seats) = seats::priced_seat_map(&state.db, *id).await?;
    Ok(HttpResponse::Ok().json(SeatMapView::new(flight, seats, clock::now())))
}

#[utoipa::path(tag = "catalog", request_body = FlightBody,
    responses((status = 201, body = FlightView), (status = 401, body = ProblemView), (status = 403, body = ProblemView), (status = 409, description = "same flight number at the same time", body = ProblemView), (status = 422, body = ProblemView)),
    security(("bearer" = ["admin"])))]
#[post("/flights")]
pub async fn create_flight(
    Guarded(_admin, body): Guarded<AdminUser, JsonBody<FlightBody>>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let flight = flights::create(&state.db, body.into_inner().try_into()?).await?;
    Ok(HttpResponse::Created().json(FlightView::from(flight)))
}

#[utoipa::path(tag = "catalog", params(("id" = i32, Path)), request_body = FlightPatch,
    responses((status = 200, body = FlightView), (status = 401, body = ProblemView), (status = 403, body = ProblemView), (status = 404, body = ProblemView), (status = 409, body = ProblemView), (status = 422, body = ProblemView)),
    security(("bearer" = ["admin"])))]
#[patch("/flights/{id}")]
pub async fn update_flight(
    Guarded(_admin, body): Guarded<AdminUser, JsonBody<FlightPatch>>,
    state: web::Data<AppState>,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let flight = flights::update(
        &state.db,
        *id,
        body.into_inner().try_into()?,
        state.settings.email_max_attempts,
    )
    .await?;
    Ok(HttpResponse::Ok().json(FlightView::from(flight)))
}

#[utoipa::path(tag = "catalog", params(("id" = i32, Path)),
    responses((status = 204), (status = 401, body = ProblemView), (status = 403, body = ProblemView), (status = 404, body = ProblemView), (status = 409, description = "the flight has bookings", body = ProblemView)),
    security(("bearer" = ["admin"])))]
#[delete("/flights/{id}")]
pub async fn delete_flight(
    _admin: AdminUser,
    state: web::Data<AppState>,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    flights::delete(&state.db, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}
