use sea_orm::entity::prelude::*;

/// The sandbox payment provider's own ledger: every charge and refund it made.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sandbox_charges")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub payment_ref: String,
    pub kind: String,
    pub amount: i64,
    pub currency: String,
    pub created_at: DateTime,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub const CHARGE: &str = "charge";
pub const REFUND: &str = "refund";
