//! "Manage my booking": a booking by its reference and a passenger's last name, for anyone.
//! Mounted with the sign-in budget (see `configure_api`): it is a guess at a secret.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::AppError;
use crate::services::booking::lookup;
use crate::state::AppState;
use crate::views::booking::BookingView;
use crate::views::ProblemView;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LookupParams {
    /// The booking's 6-character reference (any case).
    #[param(example = "K7QX4M", min_length = 1, max_length = 16)]
    pub reference: String,
    /// A passenger's last name, or the last words of their name (any case).
    #[param(example = "Rao", min_length = 1, max_length = 200)]
    pub last_name: String,
}

#[utoipa::path(
    get,
    tag = "booking",
    path = "/bookings/lookup",
    params(LookupParams),
    responses(
        (status = 200, body = BookingView),
        (status = 400, description = "malformed_request: a parameter is missing", body = ProblemView),
        (status = 404, description = "no booking with that reference and last name (one answer for both)", body = ProblemView),
        (status = 429, description = "rate_limited (the sign-in budget)", body = ProblemView),
    )
)]
pub async fn lookup_booking(
    state: web::Data<AppState>,
    params: web::Query<LookupParams>,
) -> Result<HttpResponse, AppError> {
    let found = lookup::find_by_reference(&state.db, &params.reference, &params.last_name).await?;
    Ok(HttpResponse::Ok().json(BookingView::from(found)))
}
