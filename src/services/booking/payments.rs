//! Paying for a booking: at most one successful charge per booking, whatever keys, retries,
//! concurrent requests or crashes.
//!
//! 1. Checks that need no state change (owner, method, amount) run first; what they reject
//!    is not saved under the idempotency key.
//! 2. One transaction claims the key (see `idempotency`), locks the booking for payment (a
//!    conditional write: pending, hold not run out, no other payment in progress), records
//!    the attempt as `processing` and keeps the seats held while the provider works. Attempts
//!    an earlier crash left with the provider are settled before it.
//! 3. The provider is called outside any transaction, with the attempt's own key.
//! 4. One transaction records the outcome, confirms the booking and books the seats, and saves
//!    the response under the idempotency key.
//!
//! A crash between 3 and 4 leaves a `processing` attempt; the sweeper asks the provider
//! whether it charged and finishes the attempt either way, never charging again.

use std::sync::Arc;

use chrono::{Duration, NaiveDateTime};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, DatabaseTransaction, DbBackend, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QueryTrait, TransactionTrait, UpdateMany,
};

use tracing::Instrument;

use super::bookings::{find_visible, Caller};
use super::idempotency::{self, Claim, IdempotencyKey, SavedResponse};
use super::one_trip::{AttemptInOneTrip, AttemptStart, StartAttempt};
use super::provider::{ChargeOutcome, PaymentProvider};
use super::seat_guard;
use crate::clock;
use crate::config::DatabaseKind;
use crate::db::batch::{Answers, Batch};
use crate::db::Database;
use crate::error::AppError;
use crate::models::booking::booking::{self, CONFIRMED, PENDING};
use crate::models::booking::{booking_seat, idempotency_key, payment};
use crate::services::db_errors::is_unique_violation;
use crate::services::notify::outbox;
use crate::views::booking::PaymentView;

/// How payments run, from the settings.
#[derive(Debug, Clone, Copy)]
pub struct PaymentPolicy {
    /// How long an attempt may stay with the provider before the sweeper reconciles it; the
    /// booking's seats stay held that long.
    pub lock_seconds: i64,
    /// Fault injection for the crash test.
    pub pause_after_charge: bool,
    /// For the emails a payment's outcome enqueues.
    pub email_max_attempts: u32,
}

pub struct PaymentForCreate {
    pub amount: i64,
    pub currency: String,
    pub method: String,
}

impl PaymentForCreate {
    /// The idempotency fingerprint of this payment posted to `path`: the API's body
    /// (`amount`, `currency`, `payment_method`), so the website and the API agree on what
    /// "the same request" is.
    pub fn fingerprint(&self, path: &str) -> String {
        let body = serde_json::json!({
            "amount": self.amount,
            "currency": self.currency,
            "payment_method": self.method,
        });
        super::idempotency::fingerprint("POST", path, &body)
    }
}

/// A refund can be due for a success (cancelled booking), or for a charge that arrived after
/// its attempt had been given up as failed.
pub const REFUNDABLE: [&str; 2] = [payment::SUCCEEDED, payment::FAILED];

/// What to send back: the fresh result, or the one saved under the key.
#[derive(Debug)]
pub struct PaymentReply {
    pub response: SavedResponse,
    pub replayed: bool,
}

#[allow(clippy::too_many_arguments)]
#[tracing::instrument(skip(db, provider, key, fingerprint, request))]
pub async fn pay(
    db: &Database,
    provider: Arc<dyn PaymentProvider>,
    policy: PaymentPolicy,
    caller: Caller,
    booking_id: i32,
    key: IdempotencyKey,
    fingerprint: String,
    request: PaymentForCreate,
) -> Result<PaymentReply, AppError> {
    let on_lane = db.clone();
    let work = async move {
        pay_here(
            &on_lane,
            provider.as_ref(),
            policy,
            caller,
            booking_id,
            key,
            fingerprint,
            request,
        )
        .await
    };
    db.write(work.in_current_span()).await
}

#[allow(clippy::too_many_arguments)]
async fn pay_here(
    db: &Database,
    provider: &dyn PaymentProvider,
    policy: PaymentPolicy,
    caller: Caller,
    booking_id: i32,
    key: IdempotencyKey,
    fingerprint: String,
    request: PaymentForCreate,
) -> Result<PaymentReply, AppError> {
    // Reads outside a transaction use the readers: on SQLite they see every commit made so
    // far, and the one writer connection is kept for the writes everyone queues for.
    let booking = find_visible(&db.reader, caller, booking_id).await?;
    if booking.user_id != caller.user_id {
        return Err(AppError::NotFound);
    }
    if let Err(invalid) = check_request(provider, &request, &booking) {
        // A key already used for another request is refused as such, even when this body is
        // also invalid. (A valid body learns of it from the claim below.)
        idempotency::ensure_not_reused(db, caller.user_id, &key, &fingerprint, clock::now())
            .await?;
        return Err(invalid);
    }
    // A payment still with the provider keeps the booking's payment lock set, so with the lock
    // clear there is nothing to settle (and the attempt below insists it is still clear).
    let lock_seen_clear = booking.payment_lock_until.is_none();
    if !lock_seen_clear {
        settle_stale_attempts(db, provider, policy, booking.id).await?;
    }
    // The key is claimed in the transaction that starts the attempt: one commit, not two. On
    // SQLite that transaction is one trip to the writer when all goes as usual.
    let started = if db.kind == DatabaseKind::Sqlite {
        let now = clock::now();
        let start = AttemptInOneTrip::new(StartAttempt {
            user_id: caller.user_id,
            key: &key,
            fingerprint: &fingerprint,
            booking: &booking,
            request: &request,
            lock_seen_clear,
            now,
            lock_until: now + Duration::seconds(policy.lock_seconds),
        });
        start.run(db).await?
    } else {
        AttemptStart::StepByStep
    };
    let claimed = match started {
        AttemptStart::Started { claim_id, payment } => {
            let outcome = charge(db, provider, policy, &booking, payment).await;
            return finish_reply(db, outcome, claim_id).await;
        }
        AttemptStart::StepByStep => {
            let txn = db.writer.begin().await?;
            let claim =
                idempotency::try_claim(&txn, caller.user_id, &key, &fingerprint, clock::now());
            match claim.await? {
                Some(claim_id) => Some((txn, claim_id)),
                None => {
                    txn.rollback().await?;
                    None
                }
            }
        }
    };
    let (txn, claim_id) = match claimed {
        Some(claimed) => claimed,
        // The key is taken: replay its response, or wait, or take it over (see `claim`).
        None => {
            match idempotency::claim(db, caller.user_id, &key, &fingerprint, clock::now()).await? {
                Claim::Replay(response) => {
                    return Ok(PaymentReply {
                        response,
                        replayed: true,
                    })
                }
                Claim::Claimed(claim_id) => (db.writer.begin().await?, claim_id),
            }
        }
    };
    let outcome = attempt(
        db,
        txn,
        provider,
        policy,
        &booking,
        lock_seen_clear,
        claim_id,
        &request,
    )
    .await;
    finish_reply(db, outcome, claim_id).await
}

/// The checks of a payment request that need no state change.
fn check_request(
    provider: &dyn PaymentProvider,
    request: &PaymentForCreate,
    booking: &booking::Model,
) -> Result<(), AppError> {
    if !provider.accepts(&request.method) {
        return Err(AppError::field(
            "payment_method",
            "must be one of pm_card_ok, pm_card_declined, pm_card_error",
        ));
    }
    if request.amount != booking.total || request.currency != booking.currency {
        return Err(AppError::AmountMismatch);
    }
    Ok(())
}

/// Turns the attempt's outcome into the reply, and settles what the key keeps: the response
/// of a decline or of a booking that cannot be paid is saved under it; a request that did not
/// run gives it back.
async fn finish_reply(
    db: &Database,
    outcome: Result<payment::Model, AppError>,
    claim_id: i32,
) -> Result<PaymentReply, AppError> {
    let err = match outcome {
        Ok(payment) => {
            return Ok(PaymentReply {
                response: created(&payment),
                replayed: false,
            })
        }
        Err(err) => err,
    };
    let saved = matches!(
        err,
        AppError::PaymentDeclined | AppError::BookingNotPayable | AppError::BookingAlreadyPaid
    );
    let result = if saved {
        let response = SavedResponse {
            status: actix_web::ResponseError::status_code(&err).as_u16(),
            body: err.problem().to_string(),
        };
        idempotency::complete(&db.writer, claim_id, &response).await
    } else if let AppError::Unexpected(_) = err {
        // The attempt may have charged: the key stays in progress, and the sweeper settles the
        // attempt and saves its result under the key.
        Ok(())
    } else {
        // Nothing ran (another payment was in progress), or the provider failure was recorded
        // and the key already given back.
        idempotency::release(&db.writer, claim_id).await
    };
    if let Err(store_err) = result {
        tracing::error!(error = %store_err, "could not store the idempotent result");
    }
    Err(err)
}

fn created(payment: &payment::Model) -> SavedResponse {
    SavedResponse {
        status: 201,
        body: serde_json::to_string(&PaymentView::from(payment.clone())).unwrap_or_default(),
    }
}

/// Starts the attempt in `txn` (which holds the key's claim) and takes it to the provider.
/// With `lock_seen_clear`, no attempt was settled first, so the booking's payment lock must
/// still be clear, not merely run out.
#[allow(clippy::too_many_arguments)]
async fn attempt(
    db: &Database,
    txn: DatabaseTransaction,
    provider: &dyn PaymentProvider,
    policy: PaymentPolicy,
    booking: &booking::Model,
    lock_seen_clear: bool,
    claim_id: i32,
    request: &PaymentForCreate,
) -> Result<payment::Model, AppError> {
    let now = clock::now();
    let lock_until = now + Duration::seconds(policy.lock_seconds);
    let locked = lock_for_payment(booking.id, now, lock_until, lock_seen_clear)
        .exec(&txn)
        .await?
        .rows_affected;
    if locked != 1 {
        let current = booking::Entity::find_by_id(booking.id)
            .one(&txn)
            .await?
            .ok_or(AppError::NotFound)?;
        // The claim stays: the caller saves the refusal under it, or gives it back.
        txn.commit().await?;
        return Err(if current.status == CONFIRMED {
            AppError::BookingAlreadyPaid
        } else if current.status == PENDING
            && (current.payment_locked(now)
                || (lock_seen_clear
                    && current.payment_lock_until.is_some()
                    && current.expires_at > now))
        {
            // Still with the provider; or its lock ran out only since the booking was read,
            // and that attempt must be settled first (by a retry, or the sweeper).
            AppError::Conflict("another payment for this booking is in progress".into())
        } else {
            AppError::BookingNotPayable
        });
    }
    let payment = payment::Entity::insert(new_attempt(booking, request, now))
        .exec_with_returning(&txn)
        .await?;
    // The seats stay held while the provider works. They are held until the booking's own
    // expiry already; only a lock that outlasts it lengthens the hold.
    if lock_until > booking.expires_at {
        seat_guard::hold_until(&txn, booking.id, lock_until).await?;
    }
    idempotency::link_payment(&txn, claim_id, payment.id).await?;
    txn.commit().await?;
    charge(db, provider, policy, booking, payment).await
}

/// The booking locked for payment until `lock_until` (conditional: pending, its hold not run
/// out, and no payment in progress; with `lock_seen_clear`, the lock must still be clear).
pub(super) fn lock_for_payment(
    booking_id: i32,
    now: NaiveDateTime,
    lock_until: NaiveDateTime,
    lock_seen_clear: bool,
) -> UpdateMany<booking::Entity> {
    let lock_free = if lock_seen_clear {
        Condition::all().add(booking::Column::PaymentLockUntil.is_null())
    } else {
        Condition::any()
            .add(booking::Column::PaymentLockUntil.is_null())
            .add(booking::Column::PaymentLockUntil.lte(now))
    };
    booking::Entity::update_many()
        .col_expr(booking::Column::PaymentLockUntil, Expr::value(lock_until))
        .col_expr(booking::Column::UpdatedAt, Expr::value(now))
        .filter(booking::Column::Id.eq(booking_id))
        .filter(booking::Column::Status.eq(PENDING))
        .filter(booking::Column::ExpiresAt.gt(now))
        .filter(lock_free)
}

/// A new attempt, `processing` from the start: it is recorded before the provider is asked.
pub(super) fn new_attempt(
    booking: &booking::Model,
    request: &PaymentForCreate,
    now: NaiveDateTime,
) -> payment::ActiveModel {
    payment::ActiveModel {
        booking_id: Set(booking.id),
        user_id: Set(booking.user_id),
        status: Set(payment::PROCESSING.into()),
        amount: Set(request.amount),
        currency: Set(request.currency.clone()),
        method: Set(request.method.clone()),
        provider_ref: Set(None),
        success_key: Set(None),
        refund_requested_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
}

/// Takes a recorded attempt (committed) to the provider and records what it answered.
async fn charge(
    db: &Database,
    provider: &dyn PaymentProvider,
    policy: PaymentPolicy,
    booking: &booking::Model,
    payment: payment::Model,
) -> Result<payment::Model, AppError> {
    // The attempt must be on disk before money moves: after a power cut it is what tells the
    // sweeper to ask the provider.
    durable(db).await?;

    let outcome = provider
        .charge(
            &payment.provider_key(),
            payment.amount,
            &payment.currency,
            &payment.method,
        )
        .await;
    if policy.pause_after_charge && matches!(outcome, Ok(ChargeOutcome::Charged { .. })) {
        tracing::warn!(
            payment_id = payment.id,
            "fault injection: pausing after the charge"
        );
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
        }
    }
    match outcome {
        Ok(ChargeOutcome::Charged { provider_ref }) => {
            finish_success(
                db,
                provider,
                policy.email_max_attempts,
                payment,
                booking.flight_id,
                provider_ref,
            )
            .await
        }
        Ok(ChargeOutcome::Declined) => {
            finish_unsuccessful(
                db,
                &payment,
                payment::DECLINED,
                Some(&AppError::PaymentDeclined),
            )
            .await?;
            Err(AppError::PaymentDeclined)
        }
        Err(err) => {
            tracing::warn!(error = %err, payment_id = payment.id, "the provider failed");
            finish_unsuccessful(db, &payment, payment::FAILED, None).await?;
            Err(AppError::PaymentProviderFailed(err.to_string()))
        }
    }
}

/// Settles attempts of this booking left `processing` past the payment lock (a crash, or a
/// provider that never answered) before a new attempt may start, so that a retry can never
/// charge while an earlier charge is still unrecorded.
async fn settle_stale_attempts(
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
        settle(db, provider, policy.email_max_attempts, attempt).await?;
    }
    Ok(())
}

/// Finishes an interrupted attempt by asking the provider whether it charged.
pub async fn settle(
    db: &Database,
    provider: &dyn PaymentProvider,
    email_max_attempts: u32,
    attempt: payment::Model,
) -> Result<Settled, AppError> {
    let charge = provider
        .find_charge(&attempt.provider_key())
        .await
        .map_err(|e| AppError::PaymentProviderFailed(e.to_string()))?;
    match charge {
        Some(provider_ref) => {
            let flight_id = booking::Entity::find_by_id(attempt.booking_id)
                .one(&db.reader)
                .await?
                .map(|b| b.flight_id)
                .ok_or_else(|| anyhow::anyhow!("payment without booking"))?;
            let finished = finish_success(
                db,
                provider,
                email_max_attempts,
                attempt,
                flight_id,
                provider_ref,
            )
            .await;
            match finished {
                Ok(_) | Err(AppError::BookingNotPayable) | Err(AppError::BookingAlreadyPaid) => {
                    Ok(Settled::Completed)
                }
                Err(err) => Err(err),
            }
        }
        None => {
            finish_unsuccessful(db, &attempt, payment::FAILED, None).await?;
            Ok(Settled::Failed)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    Completed,
    Failed,
}

/// Records a charge: the attempt succeeds, the booking is confirmed and its seats booked, and
/// the response is saved under the attempt's idempotency key — all in one transaction.
/// Used by the request and by the sweeper; whoever comes second finds the attempt finished.
pub async fn finish_success(
    db: &Database,
    provider: &dyn PaymentProvider,
    email_max_attempts: u32,
    payment: payment::Model,
    flight_id: i32,
    provider_ref: String,
) -> Result<payment::Model, AppError> {
    let now = clock::now();
    if db.kind == DatabaseKind::Sqlite {
        let confirmed = confirm_in_one_trip(
            db,
            email_max_attempts,
            &payment,
            flight_id,
            &provider_ref,
            now,
        )
        .await?;
        if let Some(succeeded) = confirmed {
            return Ok(succeeded);
        }
    }
    let txn = db.writer.begin().await?;
    // It may have to give the seats back (below), so it queues on the flight first.
    seat_guard::queue_on_flight(&txn, flight_id).await?;
    let marked = mark_succeeded(&payment, &provider_ref, now)
        .exec(&txn)
        .await;
    match marked {
        Ok(result) if result.rows_affected == 1 => {}
        Ok(_) => {
            // Finished already, by the sweeper or the request it raced.
            txn.rollback().await?;
            let finished = current(db, payment.id).await?;
            if finished.status == payment::SUCCEEDED {
                return Ok(finished);
            }
            // The attempt was given up as failed before this charge landed: give it back.
            tracing::error!(
                payment_id = payment.id,
                "charge arrived after the attempt was failed: refunding"
            );
            payment::Entity::update_many()
                .col_expr(payment::Column::RefundRequestedAt, Expr::value(now))
                .filter(payment::Column::Id.eq(payment.id))
                .exec(&db.writer)
                .await?;
            refund_requested(db, provider, payment.booking_id).await?;
            return Err(AppError::PaymentProviderFailed(
                "the provider answered too late; the charge was refunded".into(),
            ));
        }
        Err(err) if is_unique_violation(&err) => {
            // The database refuses a second success for one booking: give this money back.
            txn.rollback().await?;
            tracing::error!(
                payment_id = payment.id,
                "second charge for one booking: refunding"
            );
            provider
                .refund(&payment.provider_key())
                .await
                .map_err(|e| AppError::PaymentProviderFailed(e.to_string()))?;
            mark_status(db, payment.id, payment::PROCESSING, payment::REFUNDED).await?;
            return Err(AppError::BookingAlreadyPaid);
        }
        Err(err) => return Err(err.into()),
    }
    let confirmed = confirm_booking(payment.booking_id, now)
        .exec(&txn)
        .await?
        .rows_affected;
    let seats_expected = booking_seat::Entity::find()
        .filter(booking_seat::Column::BookingId.eq(payment.booking_id))
        .count(&txn)
        .await?;
    let seats_booked = seat_guard::mark_booked(&txn, flight_id, payment.booking_id).await?;
    if confirmed != 1 || seats_booked != seats_expected {
        // The booking could not be kept (it was no longer pending, or its seats went to someone
        // else after the payment lock ran out): cancel it and refund after the commit.
        tracing::error!(
            payment_id = payment.id,
            "charged but the booking cannot be confirmed: refunding"
        );
        let booking = booking::Entity::find_by_id(payment.booking_id)
            .one(&txn)
            .await?
            .ok_or_else(|| anyhow::anyhow!("payment without booking"))?;
        booking::Entity::update_many()
            .col_expr(booking::Column::Status, Expr::value(booking::CANCELLED))
            .col_expr(
                booking::Column::PaymentLockUntil,
                Expr::value(Option::<NaiveDateTime>::None),
            )
            .filter(booking::Column::Id.eq(booking.id))
            .exec(&txn)
            .await?;
        seat_guard::release(&txn, booking.flight_id, booking.id).await?;
        outbox::enqueue(&txn, booking.id, outbox::CANCELLED, email_max_attempts, now).await?;
        payment::Entity::update_many()
            .col_expr(payment::Column::RefundRequestedAt, Expr::value(now))
            .filter(payment::Column::Id.eq(payment.id))
            .exec(&txn)
            .await?;
        release_claim_of(&txn, payment.id).await?;
        txn.commit().await?;
        refund_requested(db, provider, payment.booking_id).await?;
        return Err(AppError::BookingNotPayable);
    }
    let succeeded = succeeded(payment, provider_ref, now);
    idempotency::complete_for_payment(&txn, succeeded.id, &created(&succeeded)).await?;
    outbox::enqueue(
        &txn,
        succeeded.booking_id,
        outbox::CONFIRMED,
        email_max_attempts,
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(succeeded)
}

/// [`finish_success`] on SQLite when nothing unusual happened, in one trip to the writer (see
/// `db::batch`) instead of eight: the same writes, sent together, then checked. If any count
/// is not what a clean confirmation gives (the attempt finished already, the booking is no
/// longer pending, a seat went to someone else), or a statement fails (the database refusing a
/// second success for the booking), nothing is kept and `None` sends the caller down the
/// step-by-step path.
async fn confirm_in_one_trip(
    db: &Database,
    email_max_attempts: u32,
    payment: &payment::Model,
    flight_id: i32,
    provider_ref: &str,
    now: NaiveDateTime,
) -> Result<Option<payment::Model>, AppError> {
    let sqlite = DbBackend::Sqlite;
    let booking_id = payment.booking_id;
    let succeeded = succeeded(payment.clone(), provider_ref.to_string(), now);
    let seats_of_booking = Query::select()
        .expr(Expr::col(booking_seat::Column::Id).count())
        .from(booking_seat::Entity)
        .and_where(booking_seat::Column::BookingId.eq(booking_id))
        .to_owned();
    let batch = Batch::new()
        .write(mark_succeeded(payment, provider_ref, now).build(sqlite))
        .write(confirm_booking(booking_id, now).build(sqlite))
        .count(sqlite.build(&seats_of_booking))
        .write(seat_guard::mark_booked_statement(booking_id).build(sqlite))
        .write(seat_guard::summaries_statement(sqlite, flight_id, 0))
        .write(idempotency::response_for_payment(payment.id, &created(&succeeded)).build(sqlite))
        .write(outbox::enqueue_statement(
            sqlite,
            booking_id,
            outbox::CONFIRMED,
            email_max_attempts,
            now,
        )?);
    // A failed statement (the database refusing a second success for the booking) leaves it
    // to the step-by-step path.
    let check = move |answers: Answers| {
        // marked, confirmed, the booking's seats, the seats booked, the flight's summaries,
        // the key's response (none when no key started the attempt), the email.
        let clean = matches!(
            answers.counts.as_slice(),
            [1, 1, seats, booked, 1, _, 1] if seats == booked && *seats > 0
        );
        clean.then_some(succeeded)
    };
    Ok(db.run_batch(batch, check).await?)
}

/// The attempt marked as charged (conditional: only while it is still `processing`).
fn mark_succeeded(
    payment: &payment::Model,
    provider_ref: &str,
    now: NaiveDateTime,
) -> UpdateMany<payment::Entity> {
    payment::Entity::update_many()
        .col_expr(payment::Column::Status, Expr::value(payment::SUCCEEDED))
        .col_expr(payment::Column::SuccessKey, Expr::value(payment.booking_id))
        .col_expr(payment::Column::ProviderRef, Expr::value(provider_ref))
        .col_expr(payment::Column::UpdatedAt, Expr::value(now))
        .filter(payment::Column::Id.eq(payment.id))
        .filter(payment::Column::Status.eq(payment::PROCESSING))
}

/// The booking confirmed and its payment lock cleared (conditional: only while pending).
fn confirm_booking(booking_id: i32, now: NaiveDateTime) -> UpdateMany<booking::Entity> {
    booking::Entity::update_many()
        .col_expr(booking::Column::Status, Expr::value(CONFIRMED))
        .col_expr(
            booking::Column::PaymentLockUntil,
            Expr::value(Option::<NaiveDateTime>::None),
        )
        .col_expr(booking::Column::UpdatedAt, Expr::value(now))
        .filter(booking::Column::Id.eq(booking_id))
        .filter(booking::Column::Status.eq(PENDING))
}

/// The attempt as `mark_succeeded` leaves it.
fn succeeded(payment: payment::Model, provider_ref: String, now: NaiveDateTime) -> payment::Model {
    payment::Model {
        status: payment::SUCCEEDED.into(),
        success_key: Some(payment.booking_id),
        provider_ref: Some(provider_ref),
        updated_at: now,
        ..payment
    }
}

/// Records a declined or failed attempt and lets the booking be paid again (until its hold
/// runs out). A decline is saved under the key; a provider failure gives the key back.
pub async fn finish_unsuccessful(
    db: &Database,
    payment: &payment::Model,
    status: &str,
    saved_error: Option<&AppError>,
) -> Result<(), AppError> {
    let now = clock::now();
    let txn = db.writer.begin().await?;
    let marked = payment::Entity::update_many()
        .col_expr(payment::Column::Status, Expr::value(status))
        .col_expr(payment::Column::UpdatedAt, Expr::value(now))
        .filter(payment::Column::Id.eq(payment.id))
        .filter(payment::Column::Status.eq(payment::PROCESSING))
        .exec(&txn)
        .await?
        .rows_affected;
    if marked != 1 {
        txn.rollback().await?;
        return Ok(());
    }
    booking::Entity::update_many()
        .col_expr(
            booking::Column::PaymentLockUntil,
            Expr::value(Option::<NaiveDateTime>::None),
        )
        .filter(booking::Column::Id.eq(payment.booking_id))
        .exec(&txn)
        .await?;
    if let Some(booking) = booking::Entity::find_by_id(payment.booking_id)
        .one(&txn)
        .await?
    {
        seat_guard::hold_until(&txn, booking.id, booking.expires_at).await?;
    }
    match (claim_of(&txn, payment.id).await?, saved_error) {
        (Some(claim), Some(err)) => {
            let response = SavedResponse {
                status: actix_web::ResponseError::status_code(err).as_u16(),
                body: err.problem().to_string(),
            };
            idempotency::complete(&txn, claim.id, &response).await?;
        }
        (Some(claim), None) => idempotency::release(&txn, claim.id).await?,
        (None, _) => {}
    }
    txn.commit().await?;
    Ok(())
}

async fn claim_of<C: sea_orm::ConnectionTrait>(
    conn: &C,
    payment_id: i32,
) -> Result<Option<idempotency_key::Model>, AppError> {
    Ok(idempotency_key::Entity::find()
        .filter(idempotency_key::Column::PaymentId.eq(payment_id))
        .one(conn)
        .await?)
}

async fn release_claim_of<C: sea_orm::ConnectionTrait>(
    conn: &C,
    payment_id: i32,
) -> Result<(), AppError> {
    if let Some(claim) = claim_of(conn, payment_id).await? {
        idempotency::release(conn, claim.id).await?;
    }
    Ok(())
}

async fn durable(db: &Database) -> Result<(), AppError> {
    db.make_durable().await.map_err(|err| {
        anyhow::Error::new(err)
            .context("cannot make the payment durable")
            .into()
    })
}

async fn current(db: &Database, payment_id: i32) -> Result<payment::Model, AppError> {
    payment::Entity::find_by_id(payment_id)
        .one(&db.writer)
        .await?
        .ok_or_else(|| anyhow::anyhow!("payment {payment_id} vanished").into())
}

async fn mark_status(
    db: &Database,
    payment_id: i32,
    from: &str,
    to: &str,
) -> Result<u64, AppError> {
    Ok(payment::Entity::update_many()
        .col_expr(payment::Column::Status, Expr::value(to))
        .col_expr(payment::Column::UpdatedAt, Expr::value(clock::now()))
        .filter(payment::Column::Id.eq(payment_id))
        .filter(payment::Column::Status.eq(from))
        .exec(&db.writer)
        .await?
        .rows_affected)
}

/// Refunds every succeeded payment of the booking whose refund was requested; returns how
/// many. Safe to repeat: the provider refunds one charge at most once.
pub async fn refund_requested(
    db: &Database,
    provider: &dyn PaymentProvider,
    booking_id: i32,
) -> Result<u64, AppError> {
    let due = payment::Entity::find()
        .filter(payment::Column::BookingId.eq(booking_id))
        .filter(payment::Column::Status.is_in(REFUNDABLE))
        .filter(payment::Column::RefundRequestedAt.is_not_null())
        .all(&db.writer)
        .await?;
    if !due.is_empty() {
        // The request for the refund is on disk before the refund: it is what says why.
        durable(db).await?;
    }
    let mut refunded = 0;
    for payment in due {
        provider
            .refund(&payment.provider_key())
            .await
            .map_err(|e| AppError::PaymentProviderFailed(e.to_string()))?;
        refunded += mark_status(db, payment.id, &payment.status, payment::REFUNDED).await?;
    }
    Ok(refunded)
}

/// Every attempt of a booking the caller may see, oldest first.
pub async fn list(
    db: &Database,
    caller: Caller,
    booking_id: i32,
) -> Result<Vec<payment::Model>, AppError> {
    let booking = find_visible(&db.reader, caller, booking_id).await?;
    Ok(payment::Entity::find()
        .filter(payment::Column::BookingId.eq(booking.id))
        .order_by_asc(payment::Column::Id)
        .all(&db.reader)
        .await?)
}
