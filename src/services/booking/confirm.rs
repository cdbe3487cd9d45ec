//! Recording what the provider answered: a charge confirms the booking and books its seats; a
//! decline or a failure lets the booking be paid again. Used by the request and by the
//! sweeper; whoever comes second finds the attempt finished.

use chrono::NaiveDateTime;
use sea_orm::sea_query::{Expr, Query, SimpleExpr};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryTrait};

use super::idempotency;
use super::payments::PaymentPolicy;
use super::provider::PaymentProvider;
use super::refunds::{mark_refunded, refund_requested};
use super::seat_guard;
use crate::clock;
use crate::db::plan::{Expect, PlanError, WritePlan};
use crate::db::Database;
use crate::error::AppError;
use crate::metrics::{BookingOutcome, PaymentOutcome};
use crate::models::booking::booking::{self, BookingStatus};
use crate::models::booking::{booking_seat, payment};
use crate::services::notify::outbox;

/// Records a charge: the attempt succeeds, the booking is confirmed and its seats booked, the
/// answer is saved under the attempt's idempotency key and the confirmation email written —
/// one plan. When that cannot be (the attempt was finished meanwhile, the booking is no longer
/// payable, it was paid by another attempt), the money goes back.
pub async fn finish_success(
    db: &Database,
    provider: &dyn PaymentProvider,
    policy: PaymentPolicy,
    attempt: payment::Model,
    flight_id: i32,
    provider_ref: String,
) -> Result<payment::Model, AppError> {
    let now = clock::now();
    let booking_id = attempt.booking_id;
    let succeeded = succeeded(attempt.clone(), provider_ref.clone(), now);
    let seats_of_booking = Query::select()
        .expr(Expr::cust("COUNT(*)"))
        .from(booking_seat::Entity)
        .and_where(booking_seat::Column::BookingId.eq(booking_id))
        .to_owned();
    let plan = WritePlan::new()
        // It changes the flight's seats: it queues on the flight first.
        .lock("flight", seat_guard::flight_row(flight_id))
        .write(
            "charged",
            mark_succeeded(&attempt, &provider_ref, now),
            Expect::Is(1),
        )
        .write("confirmed", confirm_booking(booking_id, now), Expect::Is(1))
        .count("seats", seats_of_booking, Expect::AtLeast(1))
        .write(
            "booked",
            seat_guard::mark_booked_statement(booking_id),
            Expect::SameAs("seats"),
        )
        // Held seats become booked: none moves in or out of `available`.
        .write(
            "summaries",
            seat_guard::holds_summary_statement(flight_id),
            Expect::Is(1),
        )
        .write(
            "response",
            idempotency::response_for_payment(attempt.id, &policy.replies.created(&succeeded)),
            // None when no key started the attempt.
            Expect::Any,
        )
        .write(
            "email",
            outbox::enqueue_insert(
                booking_id,
                outbox::CONFIRMED,
                policy.email_max_attempts,
                now,
            )?,
            Expect::Is(1),
        );
    match db.execute(plan).await {
        Ok(_) => {
            policy.outcomes.payment(PaymentOutcome::Succeeded);
            policy.outcomes.booking(BookingOutcome::Confirmed);
            Ok(succeeded)
        }
        // The database refuses a second success for one booking: give this money back.
        Err(err) if err.is_unique_violation() => {
            tracing::error!(
                payment_id = attempt.id,
                "second charge for one booking: refunding"
            );
            provider
                .refund(&attempt.provider_key())
                .await
                .map_err(|e| AppError::PaymentProviderFailed(e.to_string()))?;
            mark_refunded(db, policy.outcomes, attempt.id, payment::PROCESSING).await?;
            Err(AppError::BookingAlreadyPaid)
        }
        Err(PlanError::Refused("charged")) => {
            finished_before(db, provider, policy, &attempt, now).await
        }
        Err(PlanError::Refused("confirmed" | "seats" | "booked")) => {
            unconfirmable(
                db,
                provider,
                policy,
                &attempt,
                flight_id,
                &provider_ref,
                now,
            )
            .await
        }
        Err(other) => Err(other.into()),
    }
}

/// The attempt was finished before this charge was recorded: by the request or sweeper it
/// raced (then it succeeded), or given up as failed (then this charge is given back).
async fn finished_before(
    db: &Database,
    provider: &dyn PaymentProvider,
    policy: PaymentPolicy,
    attempt: &payment::Model,
    now: NaiveDateTime,
) -> Result<payment::Model, AppError> {
    let finished = payment::Entity::find_by_id(attempt.id)
        .one(&db.reader)
        .await?
        .ok_or_else(|| anyhow::anyhow!("payment {} vanished", attempt.id))?;
    if finished.status == payment::SUCCEEDED {
        return Ok(finished);
    }
    tracing::error!(
        payment_id = attempt.id,
        "charge arrived after the attempt was failed: refunding"
    );
    let refund_due = payment::Entity::update_many()
        .col_expr(payment::Column::RefundRequestedAt, Expr::value(now))
        .filter(payment::Column::Id.eq(attempt.id))
        .into_query();
    db.execute(WritePlan::new().write("refund", refund_due, Expect::Any))
        .await?;
    refund_requested(db, provider, policy.outcomes, attempt.booking_id).await?;
    Err(AppError::PaymentProviderFailed(
        "the provider answered too late; the charge was refunded".into(),
    ))
}

/// Charged, but the booking cannot be kept (it is no longer pending, or its seats went to
/// someone else after the payment lock ran out): the charge is recorded with its refund due,
/// the booking cancelled and its seats freed, the key given back; then the refund.
async fn unconfirmable(
    db: &Database,
    provider: &dyn PaymentProvider,
    policy: PaymentPolicy,
    attempt: &payment::Model,
    flight_id: i32,
    provider_ref: &str,
    now: NaiveDateTime,
) -> Result<payment::Model, AppError> {
    tracing::error!(
        payment_id = attempt.id,
        "charged but the booking cannot be confirmed: refunding"
    );
    let booking_id = attempt.booking_id;
    let cancelled = booking::Entity::update_many()
        .col_expr(
            booking::Column::Status,
            Expr::value(BookingStatus::Cancelled.as_str()),
        )
        .col_expr(
            booking::Column::PaymentLockUntil,
            Expr::value(Option::<NaiveDateTime>::None),
        )
        .filter(booking::Column::Id.eq(booking_id))
        .into_query();
    let mut charged = mark_succeeded(attempt, provider_ref, now);
    charged.value(payment::Column::RefundRequestedAt, Expr::value(now));
    let plan = WritePlan::new()
        .lock("flight", seat_guard::flight_row(flight_id))
        .write("charged", charged, Expect::Is(1))
        .write("cancelled", cancelled, Expect::Any)
        .write(
            "released",
            seat_guard::release_statement(booking_id),
            Expect::Any,
        )
        .write(
            "summaries",
            seat_guard::summaries_statement(flight_id),
            Expect::Any,
        )
        .write(
            "email",
            outbox::enqueue_insert(
                booking_id,
                outbox::CANCELLED,
                policy.email_max_attempts,
                now,
            )?,
            Expect::Is(1),
        )
        .write(
            "key",
            idempotency::release_for_payment(attempt.id),
            Expect::Any,
        );
    match db.execute(plan).await {
        Ok(written) => policy.outcomes.bookings(
            BookingOutcome::Cancelled,
            u64::try_from(written.count("cancelled")).unwrap_or(0),
        ),
        Err(PlanError::Refused("charged")) => {
            return finished_before(db, provider, policy, attempt, now).await
        }
        Err(other) => return Err(other.into()),
    }
    refund_requested(db, provider, policy.outcomes, booking_id).await?;
    Err(AppError::BookingNotPayable)
}

/// The attempt marked as charged (conditional: only while it is still `processing`).
fn mark_succeeded(
    attempt: &payment::Model,
    provider_ref: &str,
    now: NaiveDateTime,
) -> sea_orm::sea_query::UpdateStatement {
    payment::Entity::update_many()
        .col_expr(payment::Column::Status, Expr::value(payment::SUCCEEDED))
        .col_expr(payment::Column::SuccessKey, Expr::value(attempt.booking_id))
        .col_expr(payment::Column::ProviderRef, Expr::value(provider_ref))
        .col_expr(payment::Column::UpdatedAt, Expr::value(now))
        .filter(payment::Column::Id.eq(attempt.id))
        .filter(payment::Column::Status.eq(payment::PROCESSING))
        .into_query()
}

/// The booking confirmed and its payment lock cleared (conditional: only while pending).
fn confirm_booking(booking_id: i32, now: NaiveDateTime) -> sea_orm::sea_query::UpdateStatement {
    booking::Entity::update_many()
        .col_expr(
            booking::Column::Status,
            Expr::value(BookingStatus::Confirmed.as_str()),
        )
        .col_expr(
            booking::Column::PaymentLockUntil,
            Expr::value(Option::<NaiveDateTime>::None),
        )
        .col_expr(booking::Column::UpdatedAt, Expr::value(now))
        .filter(booking::Column::Id.eq(booking_id))
        .filter(booking::Column::Status.eq(BookingStatus::Pending.as_str()))
        .into_query()
}

/// The attempt as `mark_succeeded` leaves it.
fn succeeded(attempt: payment::Model, provider_ref: String, now: NaiveDateTime) -> payment::Model {
    payment::Model {
        status: payment::SUCCEEDED.into(),
        success_key: Some(attempt.booking_id),
        provider_ref: Some(provider_ref),
        updated_at: now,
        ..attempt
    }
}

/// Records a declined or failed attempt and lets the booking be paid again (until its hold
/// runs out): the payment lock cleared, the seats held to the booking's own expiry again. A
/// decline (`refusal`) is saved under the key; a provider failure gives the key back.
pub async fn finish_unsuccessful(
    db: &Database,
    policy: PaymentPolicy,
    attempt: &payment::Model,
    status: &str,
    refusal: Option<&AppError>,
) -> Result<(), AppError> {
    let now = clock::now();
    let booking_id = attempt.booking_id;
    let finished = payment::Entity::update_many()
        .col_expr(payment::Column::Status, Expr::value(status))
        .col_expr(payment::Column::UpdatedAt, Expr::value(now))
        .filter(payment::Column::Id.eq(attempt.id))
        .filter(payment::Column::Status.eq(payment::PROCESSING))
        .into_query();
    let unlocked = booking::Entity::update_many()
        .col_expr(
            booking::Column::PaymentLockUntil,
            Expr::value(Option::<NaiveDateTime>::None),
        )
        .filter(booking::Column::Id.eq(booking_id))
        .into_query();
    let booking_expiry = Query::select()
        .column(booking::Column::ExpiresAt)
        .from(booking::Entity)
        .and_where(booking::Column::Id.eq(booking_id))
        .to_owned();
    let hold = seat_guard::hold_until_statement(
        booking_id,
        SimpleExpr::SubQuery(None, Box::new(booking_expiry.into_sub_query_statement())),
    );
    let plan = WritePlan::new()
        .write("finished", finished, Expect::Is(1))
        .write("unlocked", unlocked, Expect::Any)
        .write("hold", hold, Expect::Any);
    let plan = match refusal {
        Some(refusal) => plan.write(
            "key",
            idempotency::response_for_payment(attempt.id, &policy.replies.refused(refusal)),
            Expect::Any,
        ),
        None => plan.write(
            "key",
            idempotency::release_for_payment(attempt.id),
            Expect::Any,
        ),
    };
    match db.execute(plan).await {
        Ok(_) => {
            policy.outcomes.payment(if status == payment::DECLINED {
                PaymentOutcome::Declined
            } else {
                PaymentOutcome::Failed
            });
            Ok(())
        }
        // Finished already, by the request or the sweeper it raced.
        Err(PlanError::Refused("finished")) => Ok(()),
        Err(other) => Err(other.into()),
    }
}
