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
    pub created_at: DateTime,
    pub expires_at: DateTime,
    pub payment_lock_until: Option<DateTime>,
    pub updated_at: DateTime,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub const PENDING: &str = "pending";
pub const CONFIRMED: &str = "confirmed";
pub const CANCELLED: &str = "cancelled";
pub const EXPIRED: &str = "expired";

impl Model {
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
