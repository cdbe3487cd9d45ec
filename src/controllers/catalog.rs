//! Catalog endpoints: public reads, admin-only writes, flight search and seat maps.

use actix_web::{delete, get, patch, post, web, HttpResponse};
use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::extractors::{AdminUser, Guarded};
use crate::clock;
use crate::error::{AppError, Validator};
use crate::models::catalog::{CountryCode, Currency, FlightNumber, IataCode, Money, SeatLayout};
use crate::services::catalog::airplanes::{
    parse_model_name, AirplaneForCreate, AirplaneForUpdate, Cabin,
};
use crate::services::catalog::airports::{parse_timezone, AirportForCreate, AirportForUpdate};
use crate::services::catalog::cities::{parse_place_name, CityForCreate, CityForUpdate};
use crate::services::catalog::flights::{FlightForCreate, FlightForUpdate};
use crate::services::catalog::search::{FlightSearch, SearchSort};
use crate::services::catalog::{airplanes, airports, cities, flights, search, seats};
use crate::services::pagination::PageRequest;
use crate::state::AppState;
use crate::views::catalog::{AirplaneView, AirportView, CityView, FlightView, SeatMapView};
use crate::views::{PageView, ProblemView};

/// Seats one search may ask for: a booking holds at most 9.
const MAX_PASSENGERS: i32 = 9;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// From 1.
    pub page: Option<String>,
    /// 1-100, default 20.
    pub per_page: Option<String>,
}

impl ListParams {
    fn page(&self) -> Result<PageRequest, AppError> {
        PageRequest::parse(self.page.as_deref(), self.per_page.as_deref())
    }
}

/// Unwraps what a `Validator` has already checked.
fn checked<T>(value: Option<T>) -> Result<T, AppError> {
    value.ok_or_else(|| anyhow::anyhow!("a validated field went missing").into())
}

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

// ---- cities ----

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CityBody {
    pub name: String,
    #[schema(example = "IN")]
    pub country_code: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CityPatch {
    pub name: Option<String>,
    pub country_code: Option<String>,
}

impl TryFrom<CityBody> for CityForCreate {
    type Error = AppError;
    fn try_from(body: CityBody) -> Result<Self, AppError> {
        let mut v = Validator::new();
        let name = v.check("name", parse_place_name(&body.name));
        let country_code = v.check("country_code", CountryCode::parse(&body.country_code));
        v.finish()?;
        Ok(Self {
            name: checked(name)?,
            country_code: checked(country_code)?,
        })
    }
}

impl TryFrom<CityPatch> for CityForUpdate {
    type Error = AppError;
    fn try_from(body: CityPatch) -> Result<Self, AppError> {
        let mut v = Validator::new();
        let name = body.name.map(|n| v.check("name", parse_place_name(&n)));
        let country_code = body
            .country_code
            .map(|c| v.check("country_code", CountryCode::parse(&c)));
        v.finish()?;
        Ok(Self {
            name: name.flatten(),
            country_code: country_code.flatten(),
        })
    }
}

#[utoipa::path(tag = "catalog", params(ListParams), responses((status = 200, body = PageView<CityView>), (status = 422, body = ProblemView)))]
#[get("/cities")]
pub async fn list_cities(
    state: web::Data<AppState>,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, AppError> {
    let page = cities::list(&state.db, params.page()?).await?;
    Ok(HttpResponse::Ok().json(PageView::from_page(page, CityView::from)))
}

#[utoipa::path(tag = "catalog", params(("id" = i32, Path)), responses((status = 200, body = CityView), (status = 404, body = ProblemView)))]
#[get("/cities/{id}")]
pub async fn get_city(
    state: web::Data<AppState>,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(CityView::from(cities::get(&state.db, *id).await?)))
}

#[utoipa::path(tag = "catalog", request_body = CityBody,
    responses((status = 201, body = CityView), (status = 401, body = ProblemView), (status = 403, body = ProblemView), (status = 422, body = ProblemView)),
    security(("bearer" = ["admin"])))]
#[post("/cities")]
pub async fn create_city(
    Guarded(_admin, body): Guarded<AdminUser, web::Json<CityBody>>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let city = cities::create(&state.db, body.into_inner().try_into()?).await?;
    Ok(HttpResponse::Created().json(CityView::from(city)))
}

#[utoipa::path(tag = "catalog", params(("id" = i32, Path)), request_body = CityPatch,
    responses((status = 200, body = CityView), (status = 401, body = ProblemView), (status = 403, body = ProblemView), (status = 404, body = ProblemView), (status = 422, body = ProblemView)),
    security(("bearer" = ["admin"])))]
#[patch("/cities/{id}")]
pub async fn update_city(
    Guarded(_admin, body): Guarded<AdminUser, web::Json<CityPatch>>,
    state: web::Data<AppState>,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let city = cities::update(&state.db, *id, body.into_inner().try_into()?).await?;
    Ok(HttpResponse::Ok().json(CityView::from(city)))
}

#[utoipa::path(tag = "catalog", params(("id" = i32, Path)),
    responses((status = 204), (status = 401, body = ProblemView), (status = 403, body = ProblemView), (status = 404, body = ProblemView), (status = 409, description = "the city has airports", body = ProblemView)),
    security(("bearer" = ["admin"])))]
#[delete("/cities/{id}")]
pub async fn delete_city(
    _admin: AdminUser,
    state: web::Data<AppState>,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    cities::delete(&state.db, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---- airports ----

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AirportBody {
    #[schema(example = "DEL")]
    pub code: String,
    pub name: String,
    pub city_id: i32,
    #[schema(example = "Asia/Kolkata")]
    pub timezone: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AirportPatch {
    pub code: Option<String>,
    pub name: Option<String>,
    pub city_id: Option<i32>,
    pub timezone: Option<String>,
}

impl TryFrom<AirportBody> for AirportForCreate {
    type Error = AppError;
    fn try_from(body: AirportBody) -> Result<Self, AppError> {
        let mut v = Validator::new();
        let code = v.check("code", IataCode::parse(&body.code));
        let name = v.check("name", parse_place_name(&body.name));
        let timezone = v.check("timezone", parse_timezone(&body.timezone));
        v.finish()?;
        Ok(Self {
            code: checked(code)?,
            name: checked(name)?,
            city_id: body.city_id,
            timezone: checked(timezone)?,
        })
    }
}

impl TryFrom<AirportPatch> for AirportForUpdate {
    type Error = AppError;
    fn try_from(body: AirportPatch) -> Result<Self, AppError> {
        let mut v = Validator::new();
        let code = body.code.map(|c| v.check("code", IataCode::parse(&c)));
        let name = body.name.map(|n| v.check("name", parse_place_name(&n)));
        let timezone = body
            .timezone
            .map(|t| v.check("timezone", parse_timezone(&t)));
        v.finish()?;
        Ok(Self {
            code: code.flatten(),
            name: name.flatten(),
            city_id: body.city_id,
            timezone: timezone.flatten(),
        })
    }
}

#[utoipa::path(tag = "catalog", params(ListParams), responses((status = 200, body = PageView<AirportView>), (status = 422, body = ProblemView)))]
#[get("/airports")]
pub async fn list_airports(
    state: web::Data<AppState>,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, AppError> {
    let page = airports::list(&state.db, params.page()?).await?;
    Ok(HttpResponse::Ok().json(PageView::from_page(page, AirportView::from)))
}

#[utoipa::path(tag = "catalog", params(("id" = i32, Path)), responses((status = 200, body = AirportView), (status = 404, body = ProblemView)))]
#[get("/airports/{id}")]
pub async fn get_airport(
    state: web::Data<AppState>,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(AirportView::from(airports::get(&state.db, *id).await?)))
}

#[utoipa::path(tag = "catalog", request_body = AirportBody,
    responses((status = 201, body = AirportView), (status = 401, body = ProblemView), (status = 403, body = ProblemView), (status = 409, description = "code taken", body = ProblemView), (status = 422, body = ProblemView)),
    security(("bearer" = ["admin"])))]
#[post("/airports")]
pub async fn create_airport(
    Guarded(_admin, body): Guarded<AdminUser, web::Json<AirportBody>>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let airport = airports::create(&state.db, body.into_inner().try_into()?).await?;
    Ok(HttpResponse::Created().json(AirportView::from(airport)))
}

#[utoipa::path(tag = "catalog", params(("id" = i32, Path)), request_body = AirportPatch,
    responses((status = 200, body = AirportView), (status = 401, body = ProblemView), (status = 403, body = ProblemView), (status = 404, body = ProblemView), (status = 409, body = ProblemView), (status = 422, body = ProblemView)),
    security(("bearer" = ["admin"])))]
#[patch("/airports/{id}")]
pub async fn update_airport(
    Guarded(_admin, body): Guarded<AdminUser, web::Json<AirportPatch>>,
    state: web::Data<AppState>,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let airport = airports::update(&state.db, *id, body.into_inner().try_into()?).await?;
    Ok(HttpResponse::Ok().json(AirportView::from(airport)))
}

#[utoipa::path(tag = "catalog", params(("id" = i32, Path)),
    responses((status = 204), (status = 401, body = ProblemView), (status = 403, body = ProblemView), (status = 404, body = ProblemView), (status = 409, description = "flights use the airport", body = ProblemView)),
    security(("bearer" = ["admin"])))]
#[delete("/airports/{id}")]
pub async fn delete_airport(
    _admin: AdminUser,
    state: web::Data<AppState>,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    airports::delete(&state.db, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---- airplanes ----

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AirplaneBody {
    #[schema(example = "Airbus A320neo")]
    pub model: String,
    pub rows: i32,
    #[schema(example = "ABC DEF")]
    pub seat_letters: String,
    #[serde(default)]
    pub business_rows: i32,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AirplanePatch {
    pub model: Option<String>,
    pub rows: Option<i32>,
    pub seat_letters: Option<String>,
    pub business_rows: Option<i32>,
}

impl TryFrom<AirplaneBody> for AirplaneForCreate {
    type Error = AppError;
    fn try_from(body: AirplaneBody) -> Result<Self, AppError> {
        let mut v = Validator::new();
        let model = v.check("model", parse_model_name(&body.model));
        let layout = v.check("seat_letters", SeatLayout::parse(&body.seat_letters));
        let cabin =
            layout.and_then(
                |layout| match Cabin::new(body.rows, layout, body.business_rows) {
                    Ok(cabin) => Some(cabin),
                    Err((field, message)) => {
                        v.fail(field, message);
                        None
                    }
                },
            );
        v.finish()?;
        Ok(Self {
            model: checked(model)?,
            cabin: checked(cabin)?,
        })
    }
}

impl TryFrom<AirplanePatch> for AirplaneForUpdate {
    type Error = AppError;
    fn try_from(body: AirplanePatch) -> Result<Self, AppError> {
        let mut v = Validator::new();
        let model = body.model.map(|m| v.check("model", parse_model_name(&m)));
        let layout = body
            .seat_letters
            .map(|s| v.check("seat_letters", SeatLayout::parse(&s)));
        v.finish()?;
        Ok(Self {
            model: model.flatten(),
            rows: body.rows,
            seat_letters: layout.flatten(),
            business_rows: body.business_rows,
        })
    }
}

#[utoipa::path(tag = "catalog", params(ListParams), responses((status = 200, body = PageView<AirplaneView>), (status = 422, body = ProblemView)))]
#[get("/airplanes")]
pub async fn list_airplanes(
    state: web::Data<AppState>,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, AppError> {
    let page = airplanes::list(&state.db, params.page()?).await?;
    Ok(HttpResponse::Ok().json(PageView::from_page(page, AirplaneView::from)))
}

#[utoipa::path(tag = "catalog", params(("id" = i32, Path)), responses((status = 200, body = AirplaneView), (status = 404, body = ProblemView)))]
#[get("/airplanes/{id}")]
pub async fn get_airplane(
    state: web::Data<AppState>,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(AirplaneView::from(airplanes::get(&state.db, *id).await?)))
}

#[utoipa::path(tag = "catalog", request_body = AirplaneBody,
    responses((status = 201, body = AirplaneView), (status = 401, body = ProblemView), (status = 403, body = ProblemView), (status = 422, body = ProblemView)),
    security(("bearer" = ["admin"])))]
#[post("/airplanes")]
pub async fn create_airplane(
    Guarded(_admin, body): Guarded<AdminUser, web::Json<AirplaneBody>>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let airplane = airplanes::create(&state.db, body.into_inner().try_into()?).await?;
    Ok(HttpResponse::Created().json(AirplaneView::from(airplane)))
}

#[utoipa::path(tag = "catalog", params(("id" = i32, Path)), request_body = AirplanePatch,
    responses((status = 200, body = AirplaneView), (status = 401, body = ProblemView), (status = 403, body = ProblemView), (status = 404, body = ProblemView), (status = 409, description = "the cabin of an airplane with flights is frozen", body = ProblemView), (status = 422, body = ProblemView)),
    security(("bearer" = ["admin"])))]
#[patch("/airplanes/{id}")]
pub async fn update_airplane(
    Guarded(_admin, body): Guarded<AdminUser, web::Json<AirplanePatch>>,
    state: web::Data<AppState>,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let airplane = airplanes::update(&state.db, *id, body.into_inner().try_into()?).await?;
    Ok(HttpResponse::Ok().json(AirplaneView::from(airplane)))
}

#[utoipa::path(tag = "catalog", params(("id" = i32, Path)),
    responses((status = 204), (status = 401, body = ProblemView), (status = 403, body = ProblemView), (status = 404, body = ProblemView), (status = 409, description = "the airplane has flights", body = ProblemView)),
    security(("bearer" = ["admin"])))]
#[delete("/airplanes/{id}")]
pub async fn delete_airplane(
    _admin: AdminUser,
    state: web::Data<AppState>,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    airplanes::delete(&state.db, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---- flights ----

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlightBody {
    #[schema(example = "AI101")]
    pub flight_number: String,
    pub airplane_id: i32,
    #[schema(example = "DEL")]
    pub departure_airport: String,
    #[schema(example = "BOM")]
    pub arrival_airport: String,
    #[schema(example = "2026-12-01T03:30:00Z")]
    pub departure_time: String,
    #[schema(example = "2026-12-01T05:40:00Z")]
    pub arrival_time: String,
    /// Minor units of `currency`.
    pub price_economy: i64,
    pub price_business: i64,
    #[schema(example = "INR")]
    pub currency: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlightPatch {
    pub flight_number: Option<String>,
    pub airplane_id: Option<i32>,
    pub departure_airport: Option<String>,
    pub arrival_airport: Option<String>,
    pub departure_time: Option<String>,
    pub arrival_time: Option<String>,
    pub price_economy: Option<i64>,
    pub price_business: Option<i64>,
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

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Departure airport code.
    pub from: Option<String>,
    /// Arrival airport code.
    pub to: Option<String>,
    /// The departure's local date at the departure airport, YYYY-MM-DD.
    pub date: Option<String>,
    /// Keep flights with at least this many free seats (1-9).
    pub passengers: Option<String>,
    /// Inclusive bounds on `price_economy`, minor units.
    pub min_price: Option<String>,
    pub max_price: Option<String>,
    /// `price`, `-price`, `departure_time` (default) or `-departure_time`.
    pub sort: Option<String>,
    pub page: Option<String>,
    pub per_page: Option<String>,
}

/// An absent or empty query value means "no filter" (what an HTML form sends for a blank field).
fn present(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn parse_price(input: &str) -> Result<i64, String> {
    input
        .parse::<i64>()
        .ok()
        .filter(|n| *n >= 0)
        .ok_or_else(|| "must be a whole number of minor units, 0 or more".to_string())
}

impl TryFrom<&SearchParams> for FlightSearch {
    type Error = AppError;
    fn try_from(params: &SearchParams) -> Result<Self, AppError> {
        let mut v = Validator::new();
        let from = present(&params.from).and_then(|c| v.check("from", IataCode::parse(c)));
        let to = present(&params.to).and_then(|c| v.check("to", IataCode::parse(c)));
        let date = present(&params.date).and_then(|d| {
            v.check(
                "date",
                NaiveDate::parse_from_str(d, "%Y-%m-%d")
                    .map_err(|_| "must be a date, YYYY-MM-DD".to_string()),
            )
        });
        let passengers = present(&params.passengers).and_then(|p| {
            v.check(
                "passengers",
                p.parse::<i32>()
                    .ok()
                    .filter(|n| (1..=MAX_PASSENGERS).contains(n))
                    .ok_or_else(|| format!("must be a whole number from 1 to {MAX_PASSENGERS}")),
            )
        });
        let min_price =
            present(&params.min_price).and_then(|p| v.check("min_price", parse_price(p)));
        let max_price =
            present(&params.max_price).and_then(|p| v.check("max_price", parse_price(p)));
        if let (Some(min), Some(max)) = (min_price, max_price) {
            if min > max {
                v.fail("max_price", "must not be below min_price");
            }
        }
        let sort = present(&params.sort).and_then(|s| v.check("sort", SearchSort::parse(s)));
        let page = match PageRequest::parse(params.page.as_deref(), params.per_page.as_deref()) {
            Ok(page) => Some(page),
            Err(AppError::Validation(errors)) => {
                for e in errors {
                    v.fail(&e.field, e.message);
                }
                None
            }
            Err(other) => return Err(other),
        };
        v.finish()?;
        Ok(Self {
            from,
            to,
            date,
            passengers,
            min_price,
            max_price,
            sort: sort.unwrap_or_default(),
            page: checked(page)?,
        })
    }
}

#[utoipa::path(tag = "catalog", params(SearchParams),
    responses((status = 200, body = PageView<FlightView>), (status = 422, body = ProblemView)))]
#[get("/flights")]
pub async fn search_flights(
    state: web::Data<AppState>,
    params: web::Query<SearchParams>,
) -> Result<HttpResponse, AppError> {
    let query = FlightSearch::try_from(&*params)?;
    let page = search::search(&state.db, &query).await?;
    Ok(HttpResponse::Ok().json(PageView::from_page(page, FlightView::from)))
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
    Guarded(_admin, body): Guarded<AdminUser, web::Json<FlightBody>>,
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
    Guarded(_admin, body): Guarded<AdminUser, web::Json<FlightPatch>>,
    state: web::Data<AppState>,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let flight = flights::update(&state.db, *id, body.into_inner().try_into()?).await?;
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
