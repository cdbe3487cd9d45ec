//! A payment request, from its checks to the provider's answer: the key claimed, the booking
//! locked and the attempt recorded in one plan, then the charge.

use chrono::{Duration, NaiveDateTime};
use sea_orm::sea_query::{Expr, Query, SimpleExpr, UpdateStatement};
use sea_orm::{ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryTrait};

use super::bookings::{departure_of_booking, Caller};
use super::confirm::{finish_success, finish_unsuccessful};
use super::idempotency::{self, TakenKey};
use super::payments::{PaymentForCreate, PaymentPolicy, PaymentReply, PaymentRequest};
use super::provider::{ChargeOutcome, PaymentProvider};
use super::refunds::settle_stale_attempts;
use super::seat_guard;
use crate::clock;
use crate::db::plan::{Expect, PlanError, WritePlan};
use crate::db::session::Session;
use crate::db::Database;
use crate::error::AppError;
use crate::metrics::PaymentOutcome;
use crate::models::booking::booking::{self, BookingStatus};
use crate::models::booking::{idempotency_key, payment};
use crate::models::catalog::flight_seat;

/// Times the key is claimed again after it was found free (given back, or past its
/// retention) between a failed claim and the look at it.
const CLAIMS: usize = 3;

/// `session` may hold the connection the caller was read on: the attempt's plan runs on it
/// and gives it back before the provider is asked (see `db::session`).
#[tracing::instrument(skip(session, provider, policy, request), fields(booking_id = request.booking_id))]
pub async fn pay(
    session: &mut Session<'_>,
    provider: &dyn PaymentProvider,
    policy: PaymentPolicy,
    caller: Caller,
    request: PaymentRequest,
) -> Result<PaymentReply, AppError> {
    let PaymentRequest {
        booking_id,
        key,
        fingerprint,
        payment: asked,
    } = request;
    let db = session.database();
    if !provider.accepts(&asked.method) {
        session.release();
        // Not the caller's booking is 404 whatever the body says.
        owned_booking(db, caller.user_id, booking_id).await?;
        // A key already used for another request is refused as such, even when this body is
        // also invalid. (A valid body learns of it from the claim below.)
        idempotency::ensure_not_reused(db, caller.user_id, &key, &fingerprint, clock::now())
            .await?;
        return Err(AppError::field(
            "payment_method",
            "must be one of pm_card_ok, pm_card_declined, pm_card_error",
        ));
    }
    // Nothing is read first: the plan's lock takes the booking only as the caller's, for the
    // amount asked, pending and not being paid, and a refusal reads it once to say why.
    let mut start = Start {
        user_id: caller.user_id,
        key: &key,
        fingerprint: &fingerprint,
        booking_id,
        asked: &asked,
        lock_seen_clear: true,
    };
    let mut claims = 0;
    loop {
        let now = clock::now();
        let refused = match session.execute(start.plan(now, policy)).await {
            Ok(written) => {
                let claim: idempotency_key::Model = written.one("claim")?;
                let attempt: payment::Model = written.one("attempt")?;
                let booking: booking::Model = written.one("booking")?;
                let outcome = charge(db, provider, policy, &booking, attempt).await;
                return finish_reply(db, policy, outcome, claim.id).await;
            }
            Err(refused) => refused,
        };
        match refused {
            // The key is claimed already: replay its answer, or refuse, or claim it again if
            // it has been given back meanwhile.
            err if err.is_unique_violation() => {
                claims += 1;
                if claims >= CLAIMS {
                    return Err(AppError::IdempotencyRequestInProgress);
                }
                match idempotency::taken(db, caller.user_id, &key, &fingerprint, now).await? {
                    TakenKey::Replay(response) => {
                        policy.outcomes.payment(PaymentOutcome::Replayed);
                        return Ok(PaymentReply {
                            response,
                            replayed: true,
                        });
                    }
                    TakenKey::Free => continue,
                }
            }
            PlanError::Refused("lock") => match start.refused(db, policy, now).await? {
                // An earlier attempt's lock ran out with the attempt unfinished: settle it
                // with the provider, then try once more (never charging while an earlier
                // charge is unrecorded).
                Refusal::SettleFirst => {
                    settle_stale_attempts(db, provider, policy, booking_id).await?;
                    start.lock_seen_clear = false;
                }
                Refusal::Answer(refusal) => return Err(refusal),
            },
            other => return Err(other.into()),
        }
    }
}

/// The caller's own booking (another user's does not exist for them).
async fn owned_booking(
    db: &Database,
    user_id: i32,
    booking_id: i32,
) -> Result<booking::Model, AppError> {
    booking::Entity::find_by_id(booking_id)
        .one(&db.reader)
        .await?
        .filter(|booking| booking.user_id == user_id)
        .ok_or(AppError::NotFound)
}

/// Why the booking could not be locked for payment.
enum Refusal {
    /// An earlier attempt's lock ran out unfinished.
    SettleFirst,
    Answer(AppError),
}

/// The start of an attempt.
struct Start<'a> {
    user_id: i32,
    key: &'a idempotency::IdempotencyKey,
    fingerprint: &'a str,
    booking_id: i32,
    asked: &'a PaymentForCreate,
    /// No attempt was settled first, so the booking's payment lock must still be clear, not
    /// merely run out.
    lock_seen_clear: bool,
}

impl Start<'_> {
    /// The key claimed, the booking locked for payment, the attempt recorded and linked to
    /// the claim, the seats held while the provider works; then the claim, the attempt and
    /// the booking read back. The attempt is the booking's newest: its lock, taken in this
    /// plan, keeps any other attempt of the booking from being recorded meanwhile.
    fn plan(&self, now: NaiveDateTime, policy: PaymentPolicy) -> WritePlan {
        let booking_id = self.booking_id;
        let lock_until = now + Duration::seconds(policy.lock_seconds);
        let claim = || idempotency::claim_of(self.user_id, self.key);
        let newest_attempt = Query::select()
            .expr(Expr::col(payment::Column::Id).max())
            .from(payment::Entity)
            .and_where(payment::Column::BookingId.eq(booking_id))
            .to_owned();
        let linked_attempt = Query::select()
            .column(idempotency_key::Column::PaymentId)
            .from(idempotency_key::Entity)
            .cond_where(claim())
            .to_owned();
        let plan = WritePlan::new()
            .write(
                "claim",
                idempotency::claim_insert(self.user_id, self.key, self.fingerprint, now),
                Expect::Is(1),
            )
            .write(
                "lock",
                self.lock(now, lock_until, policy.sales_close_minutes),
                Expect::Is(1),
            )
            .write(
                "attempt",
                payment::Entity::insert(new_attempt(booking_id, self.user_id, self.asked, now))
                    .into_query(),
                Expect::Is(1),
            )
            .write(
                "link",
                idempotency::link_payment_statement(
                    claim(),
                    SimpleExpr::SubQuery(None, Box::new(newest_attempt.into_sub_query_statement())),
                ),
                Expect::Is(1),
            )
            // The seats stay held while the provider works: a hold that would end sooner is
            // lengthened.
            .write("hold", hold_through(booking_id, lock_until), Expect::Any);
        plan.read("claim", idempotency_key::Entity::find().filter(claim()))
            .read(
                "attempt",
                payment::Entity::find().filter(payment::Column::Id.in_subquery(linked_attempt)),
            )
            .read("booking", booking::Entity::find_by_id(booking_id))
    }

    /// The booking locked for payment until `lock_until`: only the caller's, for the amount
    /// and currency asked, pending, its hold not run out, its flight's sales open, and no
    /// payment in progress (with `lock_seen_clear`, the lock must be clear, not merely run
    /// out).
    fn lock(
        &self,
        now: NaiveDateTime,
        lock_until: NaiveDateTime,
        sales_close_minutes: u32,
    ) -> UpdateStatement {
        let lock_free = if self.lock_seen_clear {
            Condition::all().add(booking::Column::PaymentLockUntil.is_null())
        } else {
            Condition::any()
                .add(booking::Column::PaymentLockUntil.is_null())
                .add(booking::Column::PaymentLockUntil.lte(now))
        };
        booking::Entity::update_many()
            .col_expr(booking::Column::PaymentLockUntil, Expr::value(lock_until))
            .col_expr(booking::Column::UpdatedAt, Expr::value(now))
            .filter(booking::Column::Id.eq(self.booking_id))
            .filter(booking::Column::UserId.eq(self.user_id))
            .filter(booking::Column::Total.eq(self.asked.amount))
            .filter(booking::Column::Currency.eq(self.asked.currency.as_str()))
            .filter(booking::Column::Status.eq(BookingStatus::Pending.as_str()))
            .filter(booking::Column::ExpiresAt.gt(now))
            // Holds end before sales close, but a flight moved earlier brings the close forward.
            .filter(
                departure_of_booking().gt(now + Duration::minutes(i64::from(sales_close_minutes))),
            )
            .filter(lock_free)
            .into_query()
    }

    /// Why the booking could not be locked for payment, from its state now; a refusal for
    /// good is saved under the key, so a retry with it hears the same.
    async fn refused(
        &self,
        db: &Database,
        policy: PaymentPolicy,
        now: NaiveDateTime,
    ) -> Result<Refusal, AppError> {
        let current = owned_booking(db, self.user_id, self.booking_id).await?;
        if self.asked.amount != current.total || self.asked.currency != current.currency {
            // Not saved under the key: the request was wrong, not refused.
            idempotency::ensure_not_reused(db, self.user_id, self.key, self.fingerprint, now)
                .await?;
            return Ok(Refusal::Answer(AppError::AmountMismatch));
        }
        let in_progress = || {
            Refusal::Answer(AppError::Conflict(
                "another payment for this booking is in progress".into(),
            ))
        };
        let pending = current.stored_status() == Some(BookingStatus::Pending);
        let lock_set = current.payment_lock_until.is_some();
        let refusal = match current.stored_status() {
            Some(BookingStatus::Confirmed) => AppError::BookingAlreadyPaid,
            // Still with the provider.
            _ if pending && current.payment_locked(now) => return Ok(in_progress()),
            // Its lock ran out with the attempt unfinished: settled first, once; if it still
            // cannot be, a retry or the sweeper will.
            _ if pending && lock_set && current.expires_at > now => {
                return Ok(if self.lock_seen_clear {
                    Refusal::SettleFirst
                } else {
                    in_progress()
                });
            }
            _ => AppError::BookingNotPayable,
        };
        let response = policy.replies.refused(&refusal);
        idempotency::save_refusal(db, self.user_id, self.key, self.fingerprint, &response, now)
            .await?;
        Ok(Refusal::Answer(refusal))
    }
}

/// The booking's held seats kept until `until` at least.
fn hold_through(booking_id: i32, until: NaiveDateTime) -> UpdateStatement {
    let mut hold = seat_guard::hold_until_statement(booking_id, Expr::value(until));
    hold.and_where(flight_seat::Column::HeldUntil.lt(until));
    hold
}

/// A new attempt, `processing` from the start: it is recorded before the provider is asked.
fn new_attempt(
    booking_id: i32,
    user_id: i32,
    asked: &PaymentForCreate,
    now: NaiveDateTime,
) -> payment::ActiveModel {
    payment::ActiveModel {
        booking_id: Set(booking_id),
        user_id: Set(user_id),
        status: Set(payment::PROCESSING.into()),
        amount: Set(asked.amount),
        currency: Set(asked.currency.clone()),
        method: Set(asked.method.clone()),
        provider_ref: Set(None),
        success_key: Set(None),
        refund_requested_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
}

/// Takes a recorded attempt (durable: its plan returned) to the provider and records what it
/// answered. The provider is called here, on the request's own task: a real one is a network
/// call, and nothing of the database's write lane waits for it.
async fn charge(
    db: &Database,
    provider: &dyn PaymentProvider,
    policy: PaymentPolicy,
    booking: &booking::Model,
    attempt: payment::Model,
) -> Result<payment::Model, AppError> {
    let outcome = provider
        .charge(
            &attempt.provider_key(),
            attempt.amount,
            &attempt.currency,
            &attempt.method,
        )
        .await;
    if policy.pause_after_charge && matches!(outcome, Ok(ChargeOutcome::Charged { .. })) {
        tracing::warn!(
            payment_id = attempt.id,
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
                policy,
                attempt,
                booking.flight_id,
                provider_ref,
            )
            .await
        }
        Ok(ChargeOutcome::Declined) => {
            finish_unsuccessful(
                db,
                policy,
                &attempt,
                payment::DECLINED,
                Some(&AppError::PaymentDeclined),
            )
            .await?;
            Err(AppError::PaymentDeclined)
        }
        Err(err) => {
            tracing::warn!(error = %err, payment_id = attempt.id, "the provider failed");
            finish_unsuccessful(db, policy, &attempt, payment::FAILED, None).await?;
            Err(AppError::PaymentProviderFailed(err.to_string()))
        }
    }
}

/// Turns the attempt's outcome into the reply, and settles what the key keeps: the answer to
/// a refusal for good is saved under it; a request that did not run gives it back.
async fn finish_reply(
    db: &Database,
    policy: PaymentPolicy,
    outcome: Result<payment::Model, AppError>,
    claim_id: i32,
) -> Result<PaymentReply, AppError> {
    let err = match outcome {
        Ok(succeeded) => {
            return Ok(PaymentReply {
                response: policy.replies.created(&succeeded),
                replayed: false,
            })
        }
        Err(err) => err,
    };
    let kept = match err {
        AppError::PaymentDeclined | AppError::BookingNotPayable | AppError::BookingAlreadyPaid => {
            idempotency::complete(db, claim_id, &policy.replies.refused(&err)).await
        }
        // The attempt may have charged: the key stays in progress, and the sweeper settles the
        // attempt and saves its result under the key.
        AppError::Unexpected(_) => Ok(()),
        // Nothing ran, or the provider failure was recorded and the key already given back.
        _ => idempotency::release(db, claim_id).await,
    };
    if let Err(store_err) = kept {
        tracing::error!(error = %store_err, "could not store the idempotent result");
    }
    Err(err)
}
