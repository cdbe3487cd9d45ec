use sea_orm::entity::prelude::*;

/// One email in the outbox.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "email_outbox")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// The booking the email tells of; none for an account email (a password reset).
    pub booking_id: Option<i32>,
    pub kind: String,
    pub recipient: String,
    pub status: String,
    pub attempts: i32,
    pub max_attempts: i32,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    pub next_attempt_at: DateTime,
    pub lease_until: Option<DateTime>,
    pub sent_at: Option<DateTime>,
    pub created_at: DateTime,
    /// What the email tells beyond its booking (a schedule change's old times), as JSON.
    #[sea_orm(column_type = "Text", nullable)]
    pub details: Option<String>,
    /// A random key drawn when the email was written (one per statement that wrote it; the
    /// booking tells that statement's emails apart): the unique part of its `Message-ID`.
    pub message_key: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub const PENDING: &str = "pending";
pub const SENT: &str = "sent";
pub const FAILED: &str = "failed";
