//! A flight's operations in the admin area: cancelling it (a confirm step showing what it
//! touches, then the post), the cancellation's summary on the flight's page, and its
//! passenger list.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::pages::PageParams;
use super::PER_PAGE;
use crate::clock;
use crate::controllers::catalog::flight_operations::parse_reason;
use crate::controllers::site::render::{page, see_other};
use crate::controllers::site::session::{Posted, Visitor};
use crate::error::AppError;
use crate::models::catalog::flight::SCHEDULED;
use crate::services::booking::flight_cancellation;
use crate::services::booking::flight_report::{self, CancellationPreview};
use crate::services::catalog::flights::{self, FlightDetails};
use crate::services::pagination::PageRequest;
use crate::state::AppState;
use crate::views::site::admin::Choice;
use crate::views::site::operations::{
    totals, utc, CancelFlightPage, CancellationView, FlightOperations, PassengerRow, PassengersPage,
};
use crate::views::site::trips::Notice;
use crate::views::site::Pager;

fn describe(f: &FlightDetails) -> String {
    format!(
        "{} {} → {}, departs {}",
        f.flight_number,
        f.departure_airport,
        f.arrival_airport,
        utc(f.departure_time)
    )
}

fn flight_url(id: i32) -> String {
    format!("/admin/flights/{id}")
}

/// What `cancel_flight` accepts; checked here only to offer the action, the plan decides.
fn cancellable(f: &FlightDetails) -> bool {
    f.status == SCHEDULED && f.departure_time > clock::now()
}

/// The flight page's operations: the cancel action or the cancellation's summary.
pub(super) async fn panel(state: &AppState, id: i32) -> Result<FlightOperations, AppError> {
    let flight = flights::get(&state.db, id).await?;
    let cancellation = flight_report::cancellation_summary(&state.db, id)
        .await?
        .map(|s| CancellationView::new(s, &flight.currency));
    Ok(FlightOperations {
        cancel_url: cancellable(&flight).then(|| format!("{}/cancel", flight_url(id))),
        passengers_url: format!("{}/passengers", flight_url(id)),
        cancellation,
    })
}

#[derive(Deserialize)]
pub struct CancelForm {
    #[serde(default)]
    pub reason: String,
}

async fn confirm_page(
    state: &AppState,
    visitor: &Visitor,
    id: i32,
    typed: (&str, Option<String>),
    notice: Option<Notice>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let flight = flights::get(&state.db, id).await?;
    let can_cancel = cancellable(&flight);
    let preview = if can_cancel {
        flight_report::cancellation_preview(&state.db, id).await?
    } else {
        CancellationPreview::default()
    };
    let (notice, status) = match notice {
        Some(notice) => (Some(notice), status),
        None if !can_cancel => {
            let text = if flight.status == SCHEDULED {
                "This flight has departed: it cannot be cancelled."
            } else {
                "This flight is cancelled already."
            };
            let notice = Notice {
                kind: "error",
                text: text.into(),
            };
            (Some(notice), StatusCode::CONFLICT)
        }
        None => (None, status),
    };
    let view = CancelFlightPage {
        section: "flights",
        flight: describe(&flight),
        flight_url: flight_url(id),
        action: format!("{}/cancel", flight_url(id)),
        can_cancel,
        pending: preview.pending,
        confirmed: preview.confirmed,
        refunds: preview.refunds,
        refund_total: totals(&preview.refund_total, &flight.currency),
        reason: typed.0.to_string(),
        reason_error: typed.1,
        notice,
    };
    page(state, visitor, "admin/cancel_flight", status, &view)
}

/// The confirm step: nothing changes until its form is posted.
pub async fn cancel_flight_form(
    state: web::Data<AppState>,
    visitor: Visitor,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    visitor.admin()?;
    confirm_page(&state, &visitor, *id, ("", None), None, StatusCode::OK).await
}

pub async fn cancel_flight(
    state: web::Data<AppState>,
    visitor: Visitor,
    id: web::Path<i32>,
    Posted(form): Posted<CancelForm>,
) -> Result<HttpResponse, AppError> {
    visitor.admin()?;
    let reason = match parse_reason(&form.reason) {
        Ok(reason) => reason,
        Err(AppError::Validation(errors)) => {
            let message = errors
                .into_iter()
                .map(|e| e.message)
                .collect::<Vec<_>>()
                .join("; ");
            let typed = (form.reason.as_str(), Some(message));
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return confirm_page(&state, &visitor, *id, typed, None, status).await;
        }
        Err(other) => return Err(other),
    };
    let done = flight_cancellation::cancel_flight(
        &state.db,
        state.payments.as_ref(),
        state.cancel_policy(),
        *id,
        &reason,
    )
    .await;
    match done {
        Ok(_) => Ok(see_other(&format!("{}?notice=cancelled", flight_url(*id)))),
        // Cancelled or departed meanwhile: the page says which, with the reason kept.
        Err(err @ AppError::Conflict(_)) => {
            let notice = Notice {
                kind: "error",
                text: format!("The flight was not cancelled: {}.", err.detail()),
            };
            let typed = (form.reason.as_str(), None);
            confirm_page(
                &state,
                &visitor,
                *id,
                typed,
                Some(notice),
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(other) => Err(other),
    }
}

/// Every booking of the flight with its owner, seats and passengers.
pub async fn passengers(
    state: web::Data<AppState>,
    visitor: Visitor,
    id: web::Path<i32>,
    params: web::Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    visitor.admin()?;
    let flight = flights::get(&state.db, *id).await?;
    let request = PageRequest::parse(params.page.as_deref(), Some(PER_PAGE))?;
    let found = flight_report::passengers(&state.db, *id, request).await?;
    let now = clock::now();
    let rows = found
        .items
        .into_iter()
        .map(|p| PassengerRow {
            checked_in: checked_in_words(&p.seats),
            id: p.booking.id,
            status: p.booking.effective_status(now).to_string(),
            reference: p.booking.reference,
            owner_email: p.owner_email,
            seats: p
                .seats
                .into_iter()
                .map(|s| Choice {
                    value: s.seat,
                    label: s.passenger_name,
                })
                .collect(),
        })
        .collect();
    let base = format!("{}/passengers", flight_url(*id));
    let view = PassengersPage {
        section: "flights",
        flight: describe(&flight),
        flight_url: flight_url(*id),
        rows,
        total: found.total,
        pager: Pager::new(request.page, request.per_page, found.total, |n| {
            format!("{base}?page={n}")
        }),
    };
    page(&state, &visitor, "admin/passengers", StatusCode::OK, &view)
}

/// "yes" when every seat is checked in, "no" when none is, else "n of m".
fn checked_in_words(seats: &[crate::models::booking::booking_seat::Model]) -> String {
    let done = seats.iter().filter(|s| s.checked_in_at.is_some()).count();
    match done {
        0 => "no".into(),
        n if n == seats.len() => "yes".into(),
        n => format!("{n} of {}", seats.len()),
    }
}
