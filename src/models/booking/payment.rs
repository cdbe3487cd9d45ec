use sea_orm::entity::prelude::*;

/// One payment attempt. It is written (`processing`) before the provider is called and
/// finished after, so a crash in between leaves a trace the sweeper can reconcile.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub booking_id: i32,
    pub user_id: i32,
    pub status: String,
    pub amount: i64,
    pub currency: String,
    pub method: String,
    pub provider_ref: Option<String>,
    pub success_key: Option<i32>,
    pub refund_requested_at: Option<DateTime>,
    pub created_at: DateTime,
    pub updated_at: DateTime,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub const PROCESSING: &str = "processing";
pub const SUCCEEDED: &str = "succeeded";
pub const DECLINED: &str = "declined";
pub const FAILED: &str = "failed";
pub const REFUNDED: &str = "refunded";

impl Model {
    /// The reference the provider knows this attempt by (its idempotency key there).
    pub fn provider_key(&self) -> String {
        provider_key(self.id)
    }
}

pub fn provider_key(payment_id: i32) -> String {
    format!("pay_{payment_id}")
}
