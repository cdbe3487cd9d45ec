use sea_orm::entity::prelude::*;

/// A client's `Idempotency-Key`, per user, with the fingerprint of the request that first
/// used it and, once finished, the response to replay.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "idempotency_keys")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub user_id: i32,
    pub key: String,
    pub fingerprint: String,
    pub state: String,
    pub response_status: Option<i32>,
    #[sea_orm(column_type = "Text", nullable)]
    pub response_body: Option<String>,
    pub payment_id: Option<i32>,
    pub created_at: DateTime,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub const IN_PROGRESS: &str = "in_progress";
pub const COMPLETED: &str = "completed";
