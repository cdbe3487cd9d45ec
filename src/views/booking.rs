use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::clock;
use crate::error::AppError;
use crate::models::booking::booking as stored;
use crate::models::booking::payment;
use crate::services::booking::boarding_passes::BoardingPasses;
use crate::services::booking::bookings::BookingDetails;
use crate::services::booking::idempotency::SavedResponse;
use crate::services::booking::payments::PaymentReplies;

#[derive(Serialize, ToSchema)]
pub struct BookingSeatView {
    #[schema(example = "12C")]
    pub seat: String,
    #[schema(example = "economy")]
    pub class: String,
    pub price: i64,
    pub passenger: String,
    /// On a confirmed booking only: whether this seat's passenger checked in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checked_in: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub struct BookingView {
    pub id: i32,
    #[schema(example = "K7QX4M")]
    pub reference: String,
    pub flight_id: i32,
    /// `pending`, `confirmed`, `cancelled` or `expired`.
    #[schema(example = "pending")]
    pub status: String,
    pub seats: Vec<BookingSeatView>,
    /// Minor units of `currency`.
    pub total: i64,
    pub currency: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// On a cancelled booking: `traveller` (its owner cancelled it) or `airline` (an admin, or
    /// the flight's cancellation).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "traveller")]
    pub cancelled_by: Option<String>,
}

impl From<BookingDetails> for BookingView {
    fn from(details: BookingDetails) -> Self {
        let booking = details.booking;
        let status = booking.effective_status(clock::now()).to_string();
        let confirmed = status == crate::models::booking::booking::CONFIRMED;
        Self {
            id: booking.id,
            status,
            reference: booking.reference,
            flight_id: booking.flight_id,
            seats: details
                .seats
                .into_iter()
                .map(|s| BookingSeatView {
                    seat: s.seat,
                    class: s.class,
                    price: s.price,
                    passenger: s.passenger_name,
                    checked_in: confirmed.then_some(s.checked_in_at.is_some()),
                })
                .collect(),
            total: booking.total,
            currency: booking.currency,
            created_at: clock::to_utc(booking.created_at),
            expires_at: clock::to_utc(booking.expires_at),
            // Bookings cancelled before it was recorded were their owners' doing.
            cancelled_by: (booking.status == stored::CANCELLED).then(|| {
                booking
                    .cancelled_by
                    .clone()
                    .unwrap_or_else(|| stored::BY_TRAVELLER.into())
            }),
        }
    }
}

/// One passenger's boarding pass.
#[derive(Serialize, ToSchema)]
pub struct BoardingPassView {
    #[schema(example = "12C")]
    pub seat: String,
    #[schema(example = "Asha Rao")]
    pub passenger: String,
    /// The barcode's text: IATA BCBP (Resolution 792), one leg, mandatory items, 60 characters.
    #[schema(example = "M1RAO/ASHA            EK7QX4M DELBOMAI 0101 342Y012C0001 100")]
    pub bcbp: String,
    /// The order of check-in on the flight, from 1.
    #[schema(example = 1)]
    pub sequence: i32,
}

#[derive(Serialize, ToSchema)]
pub struct BoardingPassListView {
    pub data: Vec<BoardingPassView>,
}

impl From<BoardingPasses> for BoardingPassListView {
    fn from(passes: BoardingPasses) -> Self {
        Self {
            data: passes
                .passes
                .into_iter()
                .map(|pass| BoardingPassView {
                    seat: pass.seat.to_string(),
                    passenger: pass.passenger,
                    bcbp: pass.bcbp,
                    sequence: pass.sequence,
                })
                .collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct PaymentView {
    pub id: i32,
    pub booking_id: i32,
    /// `processing`, `succeeded`, `declined`, `failed` or `refunded`.
    #[schema(example = "succeeded")]
    pub status: String,
    pub amount: i64,
    pub currency: String,
    #[schema(example = "pm_card_ok")]
    pub payment_method: String,
    pub created_at: DateTime<Utc>,
}

impl From<payment::Model> for PaymentView {
    fn from(p: payment::Model) -> Self {
        Self {
            id: p.id,
            booking_id: p.booking_id,
            status: p.status,
            amount: p.amount,
            currency: p.currency,
            payment_method: p.method,
            created_at: clock::to_utc(p.created_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct PaymentListView {
    pub data: Vec<PaymentView>,
}

/// Payment answers as the API sends them, saved under idempotency keys to be replayed.
pub struct PaymentJson;

impl PaymentReplies for PaymentJson {
    fn created(&self, payment: &payment::Model) -> SavedResponse {
        SavedResponse {
            status: 201,
            body: serde_json::to_string(&PaymentView::from(payment.clone())).unwrap_or_default(),
        }
    }

    fn refused(&self, refusal: &AppError) -> SavedResponse {
        SavedResponse {
            status: actix_web::ResponseError::status_code(refusal).as_u16(),
            body: refusal.problem().to_string(),
        }
    }
}
