//! Flight search: its query parameters, their validation, and the endpoint.

use actix_web::{get, web, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::IntoParams;

use super::checked;
use crate::error::{AppError, Validator};
use crate::models::catalog::IataCode;
use crate::services::catalog::search::{self, FlightSearch, SearchSort};
use crate::services::pagination::PageRequest;
use crate::state::AppState;
use crate::views::catalog::FlightView;
use crate::views::{PageView, ProblemView};

/// Seats one search may ask for: a booking holds at most 9.
const MAX_PASSENGERS: i32 = 9;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Departure airport code (IATA, 3 letters, either case); empty like absent, as a blank
    /// form field sends it.
    #[param(pattern = "^([A-Za-z]{3})?$", example = "DEL")]
    pub from: Option<String>,
    /// Arrival airport code.
    #[param(pattern = "^([A-Za-z]{3})?$", example = "BOM")]
    pub to: Option<String>,
    /// The departure's local date at the departure airport, YYYY-MM-DD.
    #[param(schema_with = crate::controllers::docs_schemas::query_date)]
    pub date: Option<String>,
    /// Keep flights with at least this many free seats.
    #[param(schema_with = crate::controllers::docs_schemas::query_passengers)]
    pub passengers: Option<String>,
    /// Inclusive lower bound on `price_economy`, minor units.
    #[param(schema_with = crate::controllers::docs_schemas::query_price)]
    pub min_price: Option<String>,
    /// Inclusive upper bound on `price_economy`, minor units; not below `min_price`.
    #[param(schema_with = crate::controllers::docs_schemas::query_price)]
    pub max_price: Option<String>,
    /// Default `departure_time`; a leading `-` sorts descending.
    #[param(schema_with = crate::controllers::docs_schemas::query_sort)]
    pub sort: Option<String>,
    /// From 1.
    #[param(schema_with = crate::controllers::docs_schemas::query_page)]
    pub page: Option<String>,
    /// 1-100, default 20.
    #[param(schema_with = crate::controllers::docs_schemas::query_per_page)]
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
