//! A traveller's bookings: the list, one booking with its countdown, paying and cancelling
//! (checking in and the boarding passes: `passes`).

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::account::NoFields;
use super::render::{page, see_other};
use super::session::{Posted, Visitor};
use crate::clock;
use crate::error::AppError;
use crate::models::booking::booking::{self, BY_AIRLINE};
use crate::services::booking::bookings::{self, BookingDetails, Caller};
use crate::services::booking::flight_report;
use crate::services::booking::idempotency::IdempotencyKey;
use crate::services::booking::payments::{self, PaymentForCreate, PaymentRequest};
use crate::services::catalog::{airports, flights};
use crate::services::pagination::PageRequest;
use crate::state::AppState;
use crate::views::site::travel::{Airports, FlightSummary};
use crate::views::site::trips::{BookingPage, BookingRow, BookingsPage, Notice, PAYMENT_METHODS};
use crate::views::site::{money, Pager};

#[derive(Deserialize)]
pub struct ListParams {
    pub page: Option<String>,
}

#[get("/bookings")]
pub async fn my_bookings(
    state: web::Data<AppState>,
    visitor: Visitor,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, AppError> {
    let user = visitor.signed_in()?;
    let request = PageRequest::parse(params.page.as_deref(), None)?;
    let found = bookings::list(&state.db, Caller::from(user), false, request).await?;
    let ids: Vec<i32> = found.items.iter().map(|b| b.booking.flight_id).collect();
    let flights = flights::get_many(&state.db, &ids).await?;
    let airports = Airports::new(airports::directory(&state.db).await?);
    let now = clock::now();
    let rows = found
        .items
        .into_iter()
        .map(|details| {
            let booking = &details.booking;
            BookingRow {
                id: booking.id,
                reference: booking.reference.clone(),
                status: booking.effective_status(now).to_string(),
                total: money(booking.total, &booking.currency),
                seats: details
                    .seats
                    .iter()
                    .map(|s| s.seat.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                flight: flights
                    .get(&booking.flight_id)
                    .map(|f| FlightSummary::new(f, &airports, now)),
            }
        })
        .collect();
    let view = BookingsPage {
        bookings: rows,
        pager: Pager::new(
            found.request.page,
            found.request.per_page,
            found.total,
            |n| format!("/bookings?page={n}"),
        ),
    };
    page(&state, &visitor, "bookings", StatusCode::OK, &view)
}

pub(super) async fn booking_page(
    state: &AppState,
    visitor: &Visitor,
    details: BookingDetails,
    notice: Option<Notice>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let viewer = visitor.signed_in()?.id;
    let view = booking_view(state, details, notice, Some(viewer)).await?;
    page(state, visitor, "booking", status, &view)
}

/// What a booking's page shows to `viewer` (none: a signed-out visitor of "manage my
/// booking", who may look but not act).
pub(super) async fn booking_view(
    state: &AppState,
    details: BookingDetails,
    notice: Option<Notice>,
    viewer: Option<i32>,
) -> Result<BookingPage, AppError> {
    let flight = flights::get(&state.db, details.booking.flight_id).await?;
    let airports = Airports::new(airports::directory(&state.db).await?);
    let now = clock::now();
    let booking = &details.booking;
    let by_airline =
        booking.status == booking::CANCELLED && booking.cancelled_by.as_deref() == Some(BY_AIRLINE);
    let airline_note = if by_airline {
        // The flight's reason only if its cancellation took this booking (same instant); an
        // admin may have cancelled just this booking before.
        let reason = flight_report::cancellation_of(&state.db, flight.id)
            .await?
            .filter(|(reason, at)| !reason.is_empty() && *at == Some(booking.updated_at))
            .map(|(reason, _)| reason);
        Some(match reason {
            Some(reason) => format!("Cancelled by the airline: {reason}"),
            None => "Cancelled by the airline.".to_string(),
        })
    } else {
        None
    };
    let mut view = BookingPage::new(
        details,
        FlightSummary::new(&flight, &airports, now),
        notice,
        viewer,
        now,
    );
    view.can_check_in = view.is_owner
        && view.status == crate::models::booking::booking::CONFIRMED
        && !view.checked_in
        && state.checkin_window().is_open(flight.departure_time, now);
    view.airline_note = airline_note;
    Ok(view)
}

#[derive(Deserialize)]
pub struct BookingParams {
    pub notice: Option<String>,
}

#[get("/bookings/{id}")]
pub async fn show_booking(
    state: web::Data<AppState>,
    visitor: Visitor,
    id: web::Path<i32>,
    params: web::Query<BookingParams>,
) -> Result<HttpResponse, AppError> {
    let user = visitor.signed_in()?;
    let details = bookings::get(&state.db, Caller::from(user), *id).await?;
    let notice = match params.notice.as_deref() {
        Some("paid") => Some(Notice {
            kind: "success",
            text:
                "Payment received. Your booking is confirmed; a confirmation email is on its way."
                    .into(),
        }),
        Some("cancelled") => Some(Notice {
            kind: "success",
            text: "Your booking is cancelled and its seats are released.".into(),
        }),
        _ => None,
    };
    booking_page(&state, &visitor, details, notice, StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct PayForm {
    #[serde(default)]
    pub payment_method: String,
    #[serde(default)]
    pub idempotency_key: String,
}

/// The problem document's `detail`, for showing a failed payment on the page.
fn detail_of(problem_json: &str) -> String {
    serde_json::from_str::<serde_json::Value>(problem_json)
        .ok()
        .and_then(|v| v.get("detail").and_then(|d| d.as_str()).map(str::to_string))
        .unwrap_or_else(|| "the payment did not go through".into())
}

/// Pays the booking's total: the amount comes from the booking, never from the form.
#[post("/bookings/{id}/pay")]
pub async fn pay(
    req: HttpRequest,
    state: web::Data<AppState>,
    visitor: Visitor,
    id: web::Path<i32>,
    Posted(form): Posted<PayForm>,
) -> Result<HttpResponse, AppError> {
    let user = visitor.signed_in()?;
    let caller = Caller::from(user);
    let details = bookings::get(&state.db, caller, *id).await?;
    if !PAYMENT_METHODS
        .iter()
        .any(|m| m.value == form.payment_method)
    {
        let notice = Notice {
            kind: "error",
            text: "Choose a payment method.".into(),
        };
        return booking_page(
            &state,
            &visitor,
            details,
            Some(notice),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let key = IdempotencyKey::parse(Some(form.idempotency_key.as_str()))?;
    let request = PaymentForCreate {
        amount: details.booking.total,
        currency: details.booking.currency.clone(),
        method: form.payment_method.clone(),
    };
    let outcome = payments::pay(
        &mut state.db.session(),
        state.payments.as_ref(),
        state.payment_policy(),
        caller,
        PaymentRequest {
            booking_id: *id,
            key,
            fingerprint: request.fingerprint(req.path()),
            payment: request,
        },
    )
    .await;
    let (text, status) = match outcome {
        Ok(reply) if reply.response.status < 300 => {
            return Ok(see_other(&format!("/bookings/{}?notice=paid", *id)))
        }
        Ok(reply) => (
            detail_of(&reply.response.body),
            StatusCode::from_u16(reply.response.status).unwrap_or(StatusCode::CONFLICT),
        ),
        Err(
            err @ (AppError::BookingNotPayable
            | AppError::BookingAlreadyPaid
            | AppError::IdempotencyRequestInProgress
            | AppError::PaymentDeclined
            | AppError::PaymentProviderFailed(_)),
        ) => (err.detail(), actix_web::ResponseError::status_code(&err)),
        Err(other) => return Err(other),
    };
    let details = bookings::get(&state.db, caller, *id).await?;
    let notice = Notice {
        kind: "error",
        text: format!("Payment failed: {text}."),
    };
    booking_page(&state, &visitor, details, Some(notice), status).await
}

#[post("/bookings/{id}/cancel")]
pub async fn cancel(
    state: web::Data<AppState>,
    visitor: Visitor,
    id: web::Path<i32>,
    Posted(_): Posted<NoFields>,
) -> Result<HttpResponse, AppError> {
    let user = visitor.signed_in()?;
    let caller = Caller::from(user);
    match bookings::cancel(
        &state.db,
        state.payments.clone(),
        state.booking_policy(),
        caller,
        *id,
    )
    .await
    {
        Ok(_) => Ok(see_other(&format!("/bookings/{}?notice=cancelled", *id))),
        Err(err @ (AppError::Conflict(_) | AppError::FlightDeparted)) => {
            let details = bookings::get(&state.db, caller, *id).await?;
            let notice = Notice {
                kind: "error",
                text: format!("The booking cannot be cancelled: {}.", err.detail()),
            };
            let status = actix_web::ResponseError::status_code(&err);
            booking_page(&state, &visitor, details, Some(notice), status).await
        }
        Err(other) => Err(other),
    }
}
