//! Money going back, and attempts a crash left with the provider: refunds that were asked
//! for, and attempts settled by asking the provider whether it charged.

use chrono::Duration;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryTrait};

use super::confirm::{finish_success, finish_unsuccessful};
use super::payments::{PaymentPolicy, REFUNDABLE};
use super::provider::PaymentProvider;
use crate::clock;
use crate::db::plan::{Expect, WritePlan};
use crate::db::Database;
use crate::error::AppError;
use crate::metrics::{Outcomes, PaymentOutcome};
use crate::models::booking::{booking, payment};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    Completed,
    Failed,
}

/// Settles attempts of this booking left `processing` past the payment lock (a crash, or a
/// provider that never answered) before a new attempt may start, so that a retry can never
/// charge while an earlier charge is still unrecorded.
pub(super) async fn settle_stale_attempts(
    db: &Database,
    provider: &dyn PaymentProvider,
    policy: PaymentPolicy,
    booking_id: i32,
) -> Result<(), AppError> {
    let cutoff = clock::now() - Duration::seconds(policy.lock_seconds);
    let stale = payment::Entity::find()
        .filter(payment::Column::BookingId.eq(booking_id))
        .filter(payment::Column::Status.eq(payment::PROCESSING))
        .filter(payment::Column::CreatedAt.lte(cutoff))
        .all(&db.reader)
        .await?;
    for attempt in stale {
        settle(db, provider, policy, attempt).await?;
    }
    Ok(())
}

/// Finishes an interrupted attempt by asking the provider whether it charged.
pub async fn settle(
    db: &Database,
    provider: &dyn PaymentProvider,
    policy: PaymentPolicy,
    attempt: payment::Model,
) -> Result<Settled, AppError> {
    let charge = provider
        .find_charge(&attempt.provider_key())
        .await
        .map_err(|e| AppError::PaymentProviderFailed(e.to_string()))?;
    let Some(provider_ref) = charge else {
        finish_unsuccessful(db, policy, &attempt, payment::FAILED, None).await?;
        return Ok(Settled::Failed);
    };
    let flight_id = booking::Entity::find_by_id(attempt.booking_id)
        .one(&db.reader)
        .await?
        .map(|b| b.flight_id)
        .ok_or_else(|| anyhow::anyhow!("payment without booking"))?;
    match finish_success(db, provider, policy, attempt, flight_id, provider_ref).await {
        Ok(_) | Err(AppError::BookingNotPayable) | Err(AppError::BookingAlreadyPaid) => {
            Ok(Settled::Completed)
        }
        Err(err) => Err(err),
    }
}

/// Marks a charge refunded (it was in `from`), counting it once if this call moved it.
pub(super) async fn mark_refunded(
    db: &Database,
    outcomes: &Outcomes,
    payment_id: i32,
    from: &str,
) -> Result<u64, AppError> {
    let marked =
        u64::try_from(mark_status(db, payment_id, from, payment::REFUNDED).await?).unwrap_or(0);
    outcomes.payments(PaymentOutcome::Refunded, marked);
    Ok(marked)
}

/// Moves an attempt from `from` to `to`; how many rows changed (0: it was not in `from`).
pub(super) async fn mark_status(
    db: &Database,
    payment_id: i32,
    from: &str,
    to: &str,
) -> Result<i64, AppError> {
    let marked = payment::Entity::update_many()
        .col_expr(payment::Column::Status, Expr::value(to))
        .col_expr(payment::Column::UpdatedAt, Expr::value(clock::now()))
        .filter(payment::Column::Id.eq(payment_id))
        .filter(payment::Column::Status.eq(from))
        .into_query();
    let written = db
        .execute(WritePlan::new().write("marked", marked, Expect::Any))
        .await?;
    Ok(written.count("marked"))
}

/// Refunds every charge of the booking whose refund was requested; returns how many. Safe to
/// repeat: the provider refunds one charge at most once. The requests are durable already
/// (their plans returned), so a power cut cannot leave a refund nobody can explain.
pub async fn refund_requested(
    db: &Database,
    provider: &dyn PaymentProvider,
    outcomes: &Outcomes,
    booking_id: i32,
) -> Result<u64, AppError> {
    let due = payment::Entity::find()
        .filter(payment::Column::BookingId.eq(booking_id))
        .filter(payment::Column::Status.is_in(REFUNDABLE))
        .filter(payment::Column::RefundRequestedAt.is_not_null())
        .all(&db.reader)
        .await?;
    let mut refunded = 0;
    for attempt in due {
        provider
            .refund(&attempt.provider_key())
            .await
            .map_err(|e| AppError::PaymentProviderFailed(e.to_string()))?;
        refunded += mark_refunded(db, outcomes, attempt.id, &attempt.status).await?;
    }
    Ok(refunded)
}
