//! Paying for a booking: at most one successful charge per booking, whatever keys, retries,
//! concurrent requests or crashes.
//!
//! 1. Checks that need no state change (owner, method, amount) run first; what they reject
//!    is not saved under the idempotency key (`pay`).
//! 2. One plan claims the key (see `idempotency`), locks the booking for payment (a
//!    conditional write: pending, hold not run out, no other payment in progress), records
//!    the attempt as `processing` and keeps the seats held while the provider works (`pay`).
//!    Attempts an earlier crash left with the provider are settled before it (`refunds`).
//! 3. The provider is called outside any transaction, with the attempt's own key.
//! 4. One plan records the outcome, confirms the booking and books the seats, and saves the
//!    response under the idempotency key (`confirm`).
//!
//! A crash between 3 and 4 leaves a `processing` attempt; the sweeper asks the provider
//! whether it charged and finishes the attempt either way, never charging again.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::bookings::{find_visible, Caller};
use super::idempotency::{IdempotencyKey, SavedResponse};
use crate::db::Database;
use crate::error::AppError;
use crate::metrics::Outcomes;
use crate::models::booking::payment;

pub use super::confirm::{finish_success, finish_unsuccessful};
pub use super::pay::pay;
pub use super::refunds::{refund_requested, settle, Settled};

/// How payments run, from the settings.
#[derive(Debug, Clone, Copy)]
pub struct PaymentPolicy {
    /// How long an attempt may stay with the provider before the sweeper reconciles it; the
    /// booking's seats stay held that long.
    pub lock_seconds: i64,
    /// Paying closes this long before departure (a hold never lasts past it either, but a
    /// flight moved earlier can bring the close forward).
    pub sales_close_minutes: u32,
    /// Fault injection for the crash test.
    pub pause_after_charge: bool,
    /// For the emails a payment's outcome enqueues.
    pub email_max_attempts: u32,
    /// How an outcome is saved under its idempotency key, to be replayed.
    pub replies: &'static dyn PaymentReplies,
    /// Where payment outcomes (and the bookings they confirm or cancel) are counted.
    pub outcomes: &'static Outcomes,
}

/// The answers saved under an idempotency key, in the form the API sends them. The web layer
/// supplies it: the services decide what happened, not how it is told.
pub trait PaymentReplies: Send + Sync {
    /// The answer to an attempt that charged.
    fn created(&self, payment: &payment::Model) -> SavedResponse;
    /// The answer to a payment refused for good (declined, not payable, paid already).
    fn refused(&self, refusal: &AppError) -> SavedResponse;
}

impl std::fmt::Debug for dyn PaymentReplies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PaymentReplies")
    }
}

/// A payment as asked for.
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

/// A payment request: which booking, under which key, for what.
pub struct PaymentRequest {
    pub booking_id: i32,
    pub key: IdempotencyKey,
    pub fingerprint: String,
    pub payment: PaymentForCreate,
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
