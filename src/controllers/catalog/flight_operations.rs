//! The airline's operations on a flight that has travellers: cancelling it.

use actix_web::{post, web, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::controllers::extractors::{AdminUser, Guarded};
use crate::error::{AppError, Validator};
use crate::services::booking::flight_cancellation::cancel_flight;
use crate::services::catalog::flights;
use crate::state::AppState;
use crate::views::catalog::FlightView;
use crate::views::ProblemView;
use crate::web::input::JsonBody;

const MAX_REASON: usize = 500;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlightCancelBody {
    /// Told to every traveller in the "flight cancelled" email.
    #[schema(
        example = "Aircraft unserviceable",
        min_length = 1,
        max_length = 500,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub reason: String,
}

/// The reason, trimmed: 1 to 500 characters.
pub fn parse_reason(reason: &str) -> Result<String, AppError> {
    let reason = reason.trim();
    let mut v = Validator::new();
    if reason.is_empty() || reason.chars().count() > MAX_REASON {
        v.fail(
            "reason",
            format!("give a reason of 1 to {MAX_REASON} characters"),
        );
    }
    if reason.chars().any(char::is_control) {
        v.fail("reason", "must be one line of text");
    }
    v.finish()?;
    Ok(reason.to_string())
}

#[utoipa::path(tag = "catalog", params(("id" = i32, Path)), request_body = FlightCancelBody,
    responses(
        (status = 200, description = "the flight, `status: cancelled`; its bookings are cancelled, refunded and told", body = FlightView),
        (status = 400, body = ProblemView),
        (status = 401, body = ProblemView),
        (status = 403, body = ProblemView),
        (status = 404, body = ProblemView),
        (status = 409, description = "conflict: the flight departed or is cancelled already", body = ProblemView),
        (status = 422, body = ProblemView),
    ),
    security(("bearer" = ["admin"])))]
#[post("/flights/{id}/cancel")]
pub async fn cancel(
    Guarded(_admin, body): Guarded<AdminUser, JsonBody<FlightCancelBody>>,
    state: web::Data<AppState>,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let reason = parse_reason(&body.reason)?;
    cancel_flight(
        &state.db,
        state.payments.as_ref(),
        state.cancel_policy(),
        *id,
        &reason,
    )
    .await?;
    let flight = flights::get(&state.db, *id).await?;
    Ok(HttpResponse::Ok().json(FlightView::from(flight)))
}
