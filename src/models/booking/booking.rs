use sea_orm::entity::prelude::*;

/// A booking as stored. The status the outside sees comes from [`Model::effective_status`]:
/// a pending booking whose hold has run out is expired, whether or not the sweeper has
/// written that down yet.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bookings")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub reference: String,
    pub user_id: i32,
    pub flight_id: i32,
    pub status: String,
    pub total: i64,
    pub currency: String,
    /// The client address it was made from (see `BookingForCreate::client`); NULL before it
    /// was recorded.
    pub client_key: Option<String>,
    /// Who cancelled it: [`BY_TRAVELLER`] or [`BY_AIRLINE`]; NULL unless cancelled.
    pub cancelled_by: Option<String>,
    pub created_at: DateTime,
    pub expires_at: DateTime,
    pub payment_lock_until: Option<DateTime>,
    pub updated_at: DateTime,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Its owner cancelled it.
pub const BY_TRAVELLER: &str = "traveller";
/// An admin did, or its flight's cancellation.
pub const BY_AIRLINE: &str = "airline";

pub const PENDING: &str = BookingStatus::Pending.as_str();
pub const CONFIRMED: &str = BookingStatus::Confirmed.as_str();
pub const CANCELLED: &str = BookingStatus::Cancelled.as_str();
pub const EXPIRED: &str = BookingStatus::Expired.as_str();

/// Where a booking is in its life, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookingStatus {
    /// Seats held, not paid yet.
    Pending,
    Confirmed,
    Cancelled,
    /// Its hold ran out unpaid.
    Expired,
}

impl BookingStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            BookingStatus::Pending => "pending",
            BookingStatus::Confirmed => "confirmed",
            BookingStatus::Cancelled => "cancelled",
            BookingStatus::Expired => "expired",
        }
    }

    pub fn parse(stored: &str) -> Option<Self> {
        [
            BookingStatus::Pending,
            BookingStatus::Confirmed,
            BookingStatus::Cancelled,
            BookingStatus::Expired,
        ]
        .into_iter()
        .find(|status| status.as_str() == stored)
    }
}

impl Model {
    /// The stored status; `None` for a value this build does not know.
    pub fn stored_status(&self) -> Option<BookingStatus> {
        BookingStatus::parse(&self.status)
    }

    pub fn payment_locked(&self, now: DateTime) -> bool {
        self.payment_lock_until.is_some_and(|until| until > now)
    }

    pub fn effective_status(&self, now: DateTime) -> &str {
        if self.status == PENDING && self.expires_at <= now && !self.payment_locked(now) {
            EXPIRED
        } else {
            &self.status
        }
    }
}
