//! A traveller cancelling a booking: seats freed, the email written, a paid booking's charge
//! marked for refund, in one plan; the refund itself after it.

use std::sync::Arc;

use chrono::NaiveDateTime;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryTrait};

use super::bookings::{
    departure_of_booking, find_visible, get, BookingDetails, BookingPolicy, Caller,
};
use super::provider::PaymentProvider;
use super::refunds::refund_requested;
use super::seat_guard;
use crate::clock;
use crate::db::plan::{Expect, PlanError, WritePlan};
use crate::db::Database;
use crate::error::AppError;
use crate::metrics::BookingOutcome;
use crate::models::booking::booking::{self, BookingStatus};
use crate::models::booking::payment;
use crate::models::catalog::flight;
use crate::services::notify::outbox;

/// Cancels a pending or confirmed booking and frees its seats; a confirmed booking's payment
/// is refunded through the provider after the commit (the sweeper retries a refund that a
/// crash or a provider error left undone).
#[tracing::instrument(skip(db, provider))]
pub async fn cancel(
    db: &Database,
    provider: Arc<dyn PaymentProvider>,
    policy: BookingPolicy,
    caller: Caller,
    id: i32,
) -> Result<BookingDetails, AppError> {
    let now = clock::now();
    // Which flight, from a reader: it never changes.
    let booking = find_visible(&db.reader, caller, id).await?;
    let cancellable = Condition::any()
        .add(booking::Column::Status.eq(BookingStatus::Confirmed.as_str()))
        .add(
            Condition::all()
                .add(booking::Column::Status.eq(BookingStatus::Pending.as_str()))
                .add(booking::Column::ExpiresAt.gt(now)),
        );
    let not_being_paid = Condition::any()
        .add(booking::Column::PaymentLockUntil.is_null())
        .add(booking::Column::PaymentLockUntil.lte(now));
    // An admin cancelling someone's booking is the airline.
    let by = if booking.user_id == caller.user_id {
        booking::BY_TRAVELLER
    } else {
        booking::BY_AIRLINE
    };
    let cancelled = booking::Entity::update_many()
        .col_expr(
            booking::Column::Status,
            Expr::value(BookingStatus::Cancelled.as_str()),
        )
        .col_expr(booking::Column::CancelledBy, Expr::value(by))
        .col_expr(booking::Column::UpdatedAt, Expr::value(now))
        .filter(booking::Column::Id.eq(id))
        .filter(not_being_paid)
        .filter(cancellable)
        // Until departure: after it, nothing is refunded.
        .filter(departure_of_booking().gt(now))
        .into_query();
    let refund_due = payment::Entity::update_many()
        .col_expr(payment::Column::RefundRequestedAt, Expr::value(now))
        .filter(payment::Column::BookingId.eq(id))
        .filter(payment::Column::Status.eq(payment::SUCCEEDED))
        .into_query();
    let plan = WritePlan::new()
        .lock("flight", seat_guard::flight_row(booking.flight_id))
        .write("cancelled", cancelled, Expect::Is(1))
        .write("released", seat_guard::release_statement(id), Expect::Any)
        .write(
            "summaries",
            seat_guard::summaries_statement(booking.flight_id),
            Expect::Any,
        )
        .write(
            "email",
            outbox::enqueue_insert(id, outbox::CANCELLED, policy.email_max_attempts, now)?,
            Expect::Is(1),
        )
        .write("refund", refund_due, Expect::Any);
    match db.execute(plan).await {
        Ok(written) => {
            policy.outcomes.booking(BookingOutcome::Cancelled);
            if written.count("refund") > 0 {
                if let Err(err) = refund_requested(db, provider.as_ref(), policy.outcomes, id).await
                {
                    tracing::warn!(error = %err, booking_id = id, "refund deferred to the sweeper");
                }
            }
            get(db, caller, id).await
        }
        Err(PlanError::Refused("cancelled")) => {
            let current = find_visible(&db.writer, caller, id).await?;
            if current.payment_locked(now) {
                return Err(AppError::Conflict(
                    "a payment for this booking is in progress".into(),
                ));
            }
            let status = current.effective_status(now);
            if status == booking::CONFIRMED && departed(db, current.flight_id, now).await? {
                return Err(AppError::FlightDeparted);
            }
            Err(AppError::Conflict(format!(
                "the booking is {status} and cannot be cancelled"
            )))
        }
        Err(other) => Err(other.into()),
    }
}

async fn departed(db: &Database, flight_id: i32, now: NaiveDateTime) -> Result<bool, AppError> {
    Ok(flight::Entity::find_by_id(flight_id)
        .one(&db.writer)
        .await?
        .is_some_and(|flight| flight.departure_time <= now))
}
