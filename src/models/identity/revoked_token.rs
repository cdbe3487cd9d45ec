//! A single access token revoked before its expiry (sign-out).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "revoked_tokens")]
pub struct Model {
    /// The token's `jti`, or a hash of a token without one.
    #[sea_orm(primary_key, auto_increment = false)]
    pub token_key: String,
    pub user_id: i32,
    /// When the token expires anyway; the row may be deleted after it.
    pub expires_at: DateTime,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
