//! The airline cancelling a flight: in one plan, the flight marked cancelled, every live
//! booking of it cancelled by the airline with one "flight cancelled" email each, every charge
//! of them marked for refund, and its seats freed. The refunds themselves go to the provider
//! after the commit; the sweeper retries any that a crash or the provider left undone, so the
//! work resumes after a restart and nothing is refunded or emailed twice.

use chrono::NaiveDateTime;
use sea_orm::sea_query::{Expr, Query, SelectStatement};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryTrait};

use super::provider::PaymentProvider;
use super::refunds::refund_requested;
use super::seat_guard;
use crate::clock;
use crate::db::plan::{Expect, PlanError, WritePlan};
use crate::db::Database;
use crate::error::AppError;
use crate::metrics::{BookingOutcome, Outcomes};
use crate::models::booking::booking::{self, BookingStatus, BY_AIRLINE};
use crate::models::booking::payment;
use crate::models::catalog::flight::{self, CANCELLED, SCHEDULED};
use crate::services::notify::outbox;

/// The rules a flight's cancellation follows, from the settings.
#[derive(Debug, Clone, Copy)]
pub struct CancelPolicy {
    pub email_max_attempts: u32,
    /// Fault injection for the crash test: stop once the cancellation is committed, before
    /// any refund.
    pub pause_before_refunds: bool,
    /// Where the bookings it cancels and the refunds it makes are counted.
    pub outcomes: &'static Outcomes,
}

/// What cancelling the flight did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cancellation {
    /// Bookings cancelled by it (pending and confirmed).
    pub bookings: u64,
    /// Charges marked for refund.
    pub refunds_due: u64,
    /// Refunds the provider made at once (the rest are the sweeper's).
    pub refunded: u64,
}

/// Cancels a scheduled flight that has not departed, for `reason`.
#[tracing::instrument(skip(db, provider, reason))]
pub async fn cancel_flight(
    db: &Database,
    provider: &dyn PaymentProvider,
    policy: CancelPolicy,
    flight_id: i32,
    reason: &str,
) -> Result<Cancellation, AppError> {
    let now = clock::now();
    let plan = WritePlan::new()
        .lock("flight", seat_guard::flight_row(flight_id))
        .write(
            "cancelled",
            flight::Entity::update_many()
                .col_expr(flight::Column::Status, Expr::value(CANCELLED))
                .col_expr(flight::Column::CancelReason, Expr::value(reason))
                .col_expr(flight::Column::CancelledAt, Expr::value(now))
                .filter(flight::Column::Id.eq(flight_id))
                .filter(flight::Column::Status.eq(SCHEDULED))
                .filter(flight::Column::DepartureTime.gt(now))
                .into_query(),
            Expect::Is(1),
        )
        // The emails first: they name the bookings the next step cancels.
        .write(
            "emails",
            outbox::enqueue_for_each(
                live_bookings(flight_id, now),
                outbox::FLIGHT_CANCELLED,
                None,
                policy.email_max_attempts,
                now,
            )?,
            Expect::Any,
        )
        .write(
            "bookings",
            booking::Entity::update_many()
                .col_expr(
                    booking::Column::Status,
                    Expr::value(BookingStatus::Cancelled.as_str()),
                )
                .col_expr(booking::Column::CancelledBy, Expr::value(BY_AIRLINE))
                .col_expr(booking::Column::UpdatedAt, Expr::value(now))
                .filter(booking::Column::FlightId.eq(flight_id))
                .filter(live(now))
                .into_query(),
            Expect::SameAs("emails"),
        )
        .write(
            "refunds",
            payment::Entity::update_many()
                .col_expr(payment::Column::RefundRequestedAt, Expr::value(now))
                .filter(payment::Column::Status.eq(payment::SUCCEEDED))
                .filter(payment::Column::RefundRequestedAt.is_null())
                .filter(payment::Column::BookingId.in_subquery(cancelled_bookings(flight_id)))
                .into_query(),
            Expect::Any,
        )
        .write(
            "seats",
            seat_guard::release_flight_statement(flight_id),
            Expect::Any,
        )
        .write(
            "summaries",
            seat_guard::summaries_statement(flight_id),
            Expect::Is(1),
        );
    let written = match db.execute(plan).await {
        Ok(written) => written,
        // The lock finds no flight (where rows have locks), or the status change no live one.
        Err(PlanError::Refused("flight" | "cancelled")) => {
            return Err(refusal(db, flight_id, now).await?)
        }
        Err(other) => return Err(other.into()),
    };
    let mut done = Cancellation {
        bookings: u64::try_from(written.count("bookings")).unwrap_or(0),
        refunds_due: u64::try_from(written.count("refunds")).unwrap_or(0),
        refunded: 0,
    };
    policy
        .outcomes
        .bookings(BookingOutcome::Cancelled, done.bookings);
    if policy.pause_before_refunds {
        tracing::warn!(flight_id, "fault injection: pausing before the refunds");
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
        }
    }
    // The requests are durable: a refund that fails here is the sweeper's to retry.
    for booking_id in refundable_bookings(db, flight_id).await? {
        match refund_requested(db, provider, policy.outcomes, booking_id).await {
            Ok(n) => done.refunded += n,
            Err(err) => tracing::warn!(error = %err, booking_id, "refund deferred to the sweeper"),
        }
    }
    Ok(done)
}

/// The bookings a flight's cancellation takes: confirmed ones, and pending ones still holding
/// their seats (or with a payment under way, which then finds its booking cancelled and
/// refunds its charge). A pending booking whose hold ran out is the sweeper's to expire.
fn live(now: NaiveDateTime) -> Condition {
    Condition::any()
        .add(booking::Column::Status.eq(BookingStatus::Confirmed.as_str()))
        .add(
            Condition::all()
                .add(booking::Column::Status.eq(BookingStatus::Pending.as_str()))
                .add(
                    Condition::any()
                        .add(booking::Column::ExpiresAt.gt(now))
                        .add(booking::Column::PaymentLockUntil.gt(now)),
                ),
        )
}

/// The ids of the flight's [`live`] bookings: the ones whose travellers a change to the flight
/// concerns.
pub fn live_bookings(flight_id: i32, now: NaiveDateTime) -> SelectStatement {
    Query::select()
        .column((booking::Entity, booking::Column::Id))
        .from(booking::Entity)
        .and_where(Expr::col((booking::Entity, booking::Column::FlightId)).eq(flight_id))
        .cond_where(live(now))
        .to_owned()
}

fn cancelled_bookings(flight_id: i32) -> SelectStatement {
    Query::select()
        .column(booking::Column::Id)
        .from(booking::Entity)
        .and_where(booking::Column::FlightId.eq(flight_id))
        .and_where(booking::Column::Status.eq(BookingStatus::Cancelled.as_str()))
        .to_owned()
}

/// The flight's bookings with a charge whose refund is requested and not made yet.
async fn refundable_bookings(db: &Database, flight_id: i32) -> Result<Vec<i32>, AppError> {
    let mut ids: Vec<i32> = payment::Entity::find()
        .filter(payment::Column::Status.eq(payment::SUCCEEDED))
        .filter(payment::Column::RefundRequestedAt.is_not_null())
        .filter(payment::Column::BookingId.in_subquery(cancelled_bookings(flight_id)))
        .all(&db.writer)
        .await?
        .into_iter()
        .map(|p| p.booking_id)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// Why the flight could not be cancelled, from its state now.
async fn refusal(db: &Database, flight_id: i32, now: NaiveDateTime) -> Result<AppError, AppError> {
    let flight = flight::Entity::find_by_id(flight_id)
        .one(&db.writer)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(AppError::Conflict(if flight.is_cancelled() {
        "the flight is cancelled already".into()
    } else if flight.departure_time <= now {
        "the flight has departed".into()
    } else {
        // Changed between the plan and this read: a retry will tell.
        "the flight changed meanwhile; try again".into()
    }))
}
