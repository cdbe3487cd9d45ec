//! The sweeper: expires pending bookings whose hold ran out and frees their seats, finishes
//! payment attempts a crash left `processing`, retries refunds left undone, and deletes
//! idempotency keys past their retention. Every step is a conditional write, so several
//! instances may sweep one database at once without doing anything twice.

use chrono::{Duration, NaiveDateTime};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QuerySelect, QueryTrait};

use super::idempotency;
use super::payments::{refund_requested, settle, PaymentPolicy, Settled, REFUNDABLE};
use super::provider::PaymentProvider;
use super::seat_guard;
use crate::clock;
use crate::db::plan::{Expect, PlanError, WritePlan};
use crate::db::Database;
use crate::error::AppError;
use crate::metrics::{BookingOutcome, Outcomes};
use crate::models::booking::booking::{self, EXPIRED, PENDING};
use crate::models::booking::payment;
use crate::services::notify::outbox;

/// Rows handled per step and run, so one run stays short.
const BATCH: u64 = 500;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SweepReport {
    pub expired: u64,
    pub payments_completed: u64,
    pub payments_failed: u64,
    pub refunds: u64,
    pub keys_deleted: u64,
}

#[tracing::instrument(skip_all)]
pub async fn sweep(
    db: &Database,
    provider: &dyn PaymentProvider,
    policy: PaymentPolicy,
) -> Result<SweepReport, AppError> {
    let now = clock::now();
    let mut report = SweepReport::default();
    // Interrupted payments first: a booking whose charge went through is confirmed rather
    // than expired and refunded.
    reconcile_payments(db, provider, policy, now, &mut report).await?;
    report.expired = expire_overdue(db, policy, now).await?;
    report.refunds = retry_refunds(db, provider, policy.outcomes).await?;
    report.keys_deleted = idempotency::delete_expired(db, now).await?
        + idempotency::delete_abandoned(db, now - Duration::seconds(policy.lock_seconds)).await?;
    if report != SweepReport::default() {
        tracing::info!(?report, "sweep finished");
    }
    Ok(report)
}

/// Pending bookings past `expires_at` and not being paid become `expired`, seats freed.
async fn expire_overdue(
    db: &Database,
    policy: PaymentPolicy,
    now: NaiveDateTime,
) -> Result<u64, AppError> {
    let not_locked = || {
        Condition::any()
            .add(booking::Column::PaymentLockUntil.is_null())
            .add(booking::Column::PaymentLockUntil.lte(now))
    };
    let overdue = booking::Entity::find()
        .filter(booking::Column::Status.eq(PENDING))
        .filter(booking::Column::ExpiresAt.lte(now))
        .filter(not_locked())
        .limit(BATCH)
        .all(&db.reader)
        .await?;
    let mut expired = 0;
    for candidate in overdue {
        let expire = booking::Entity::update_many()
            .col_expr(booking::Column::Status, Expr::value(EXPIRED))
            .col_expr(booking::Column::UpdatedAt, Expr::value(now))
            .filter(booking::Column::Id.eq(candidate.id))
            .filter(booking::Column::Status.eq(PENDING))
            .filter(booking::Column::ExpiresAt.lte(now))
            .filter(not_locked())
            .into_query();
        let plan = WritePlan::new()
            .lock("flight", seat_guard::flight_row(candidate.flight_id))
            .write("expired", expire, Expect::Is(1))
            .write(
                "released",
                seat_guard::release_statement(candidate.id),
                Expect::Any,
            )
            .write(
                "summaries",
                seat_guard::summaries_statement(candidate.flight_id),
                Expect::Any,
            )
            .write(
                "email",
                outbox::enqueue_insert(
                    candidate.id,
                    outbox::EXPIRED,
                    policy.email_max_attempts,
                    now,
                )?,
                Expect::Is(1),
            );
        match db.execute(plan).await {
            Ok(_) => {
                policy.outcomes.booking(BookingOutcome::Expired);
                expired += 1;
            }
            // Paid, cancelled or expired meanwhile (by another sweeper).
            Err(PlanError::Refused("expired")) => {}
            Err(other) => return Err(other.into()),
        }
    }
    Ok(expired)
}

/// Attempts still `processing` after the payment lock: the provider says whether it charged.
async fn reconcile_payments(
    db: &Database,
    provider: &dyn PaymentProvider,
    policy: PaymentPolicy,
    now: NaiveDateTime,
    report: &mut SweepReport,
) -> Result<(), AppError> {
    let stale = payment::Entity::find()
        .filter(payment::Column::Status.eq(payment::PROCESSING))
        .filter(payment::Column::CreatedAt.lte(now - Duration::seconds(policy.lock_seconds)))
        .limit(BATCH)
        .all(&db.reader)
        .await?;
    for attempt in stale {
        let id = attempt.id;
        // One attempt that cannot be settled now must not hold up the rest of the sweep.
        match settle(db, provider, policy, attempt).await {
            Ok(Settled::Completed) => report.payments_completed += 1,
            Ok(Settled::Failed) => report.payments_failed += 1,
            Err(err) => {
                tracing::warn!(error = %err, payment_id = id, "could not settle the attempt; will retry")
            }
        }
    }
    Ok(())
}

async fn retry_refunds(
    db: &Database,
    provider: &dyn PaymentProvider,
    outcomes: &Outcomes,
) -> Result<u64, AppError> {
    let bookings: Vec<i32> = payment::Entity::find()
        .select_only()
        .column(payment::Column::BookingId)
        .filter(payment::Column::Status.is_in(REFUNDABLE))
        .filter(payment::Column::RefundRequestedAt.is_not_null())
        .limit(BATCH)
        .into_tuple::<i32>()
        .all(&db.reader)
        .await?;
    let mut refunded = 0;
    for booking_id in bookings {
        match refund_requested(db, provider, outcomes, booking_id).await {
            Ok(n) => refunded += n,
            Err(err) => tracing::warn!(error = %err, booking_id, "refund failed; will retry"),
        }
    }
    Ok(refunded)
}
