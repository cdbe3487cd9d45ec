//! Account recovery: `password_resets` holds each reset token's SHA-256 (never the token), its
//! expiry and when it was used; and an email need no longer belong to a booking (a reset email
//! has none), so `email_outbox.booking_id` becomes nullable.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Bookings {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum PasswordResets {
    Table,
    Id,
    UserId,
    /// Hex SHA-256 of the token sent by email.
    TokenHash,
    ExpiresAt,
    /// Set once, by the conditional UPDATE that spends the token.
    UsedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum EmailOutbox {
    Table,
    Id,
    BookingId,
    Kind,
    Recipient,
    Status,
    Attempts,
    MaxAttempts,
    LastError,
    NextAttemptAt,
    LeaseUntil,
    SentAt,
    CreatedAt,
    Details,
    MessageKey,
}

/// SQLite cannot drop a NOT NULL: the table is rebuilt under a temporary name.
const REBUILT: &str = "email_outbox_rebuilt";
const COLUMNS: &str = "id, booking_id, kind, recipient, status, attempts, max_attempts, \
    last_error, next_attempt_at, lease_until, sent_at, created_at, details, message_key";

fn outbox_table(name: impl IntoIden + 'static, booking_id: ColumnDef) -> TableCreateStatement {
    Table::create()
        .table(name)
        .col(crate::id_column(EmailOutbox::Id))
        .col(booking_id)
        .col(ColumnDef::new(EmailOutbox::Kind).string_len(16).not_null())
        .col(
            ColumnDef::new(EmailOutbox::Recipient)
                .string_len(254)
                .not_null(),
        )
        .col(
            ColumnDef::new(EmailOutbox::Status)
                .string_len(16)
                .not_null(),
        )
        .col(ColumnDef::new(EmailOutbox::Attempts).integer().not_null())
        .col(
            ColumnDef::new(EmailOutbox::MaxAttempts)
                .integer()
                .not_null(),
        )
        .col(ColumnDef::new(EmailOutbox::LastError).text().null())
        .col(
            ColumnDef::new(EmailOutbox::NextAttemptAt)
                .date_time()
                .not_null(),
        )
        .col(ColumnDef::new(EmailOutbox::LeaseUntil).date_time().null())
        .col(ColumnDef::new(EmailOutbox::SentAt).date_time().null())
        .col(
            ColumnDef::new(EmailOutbox::CreatedAt)
                .date_time()
                .not_null(),
        )
        .col(ColumnDef::new(EmailOutbox::Details).text().null())
        .col(
            ColumnDef::new(EmailOutbox::MessageKey)
                .string_len(36)
                .null(),
        )
        .foreign_key(
            ForeignKey::create()
                .name("fk_email_outbox_booking")
                .from(EmailOutbox::Table, EmailOutbox::BookingId)
                .to(Bookings::Table, Bookings::Id)
                .on_delete(ForeignKeyAction::Restrict),
        )
        .to_owned()
}

async fn set_booking_id_null(manager: &SchemaManager<'_>, nullable: bool) -> Result<(), DbErr> {
    let conn = manager.get_connection();
    match manager.get_database_backend() {
        DatabaseBackend::Postgres => {
            let change = if nullable { "DROP" } else { "SET" };
            conn.execute_unprepared(&format!(
                "ALTER TABLE email_outbox ALTER COLUMN booking_id {change} NOT NULL"
            ))
            .await?;
        }
        DatabaseBackend::MySql => {
            let null = if nullable { "NULL" } else { "NOT NULL" };
            conn.execute_unprepared(&format!(
                "ALTER TABLE email_outbox MODIFY booking_id int {null}"
            ))
            .await?;
        }
        DatabaseBackend::Sqlite => {
            let mut booking_id = ColumnDef::new(EmailOutbox::BookingId);
            booking_id.integer();
            if nullable {
                booking_id.null();
            } else {
                booking_id.not_null();
            }
            manager
                .create_table(outbox_table(Alias::new(REBUILT), booking_id))
                .await?;
            conn.execute_unprepared(&format!(
                "INSERT INTO {REBUILT} ({COLUMNS}) SELECT {COLUMNS} FROM email_outbox"
            ))
            .await?;
            manager
                .drop_table(Table::drop().table(EmailOutbox::Table).to_owned())
                .await?;
            conn.execute_unprepared(&format!("ALTER TABLE {REBUILT} RENAME TO email_outbox"))
                .await?;
            // The indexes went with the old table.
            manager
                .create_index(
                    Index::create()
                        .name("ix_email_outbox_due")
                        .table(EmailOutbox::Table)
                        .col(EmailOutbox::Status)
                        .col(EmailOutbox::NextAttemptAt)
                        .to_owned(),
                )
                .await?;
            manager
                .create_index(
                    Index::create()
                        .name("ix_email_outbox_booking")
                        .table(EmailOutbox::Table)
                        .col(EmailOutbox::BookingId)
                        .to_owned(),
                )
                .await?;
        }
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(crate::portable(
                manager,
                Table::create()
                    .table(PasswordResets::Table)
                    .col(crate::id_column(PasswordResets::Id))
                    .col(ColumnDef::new(PasswordResets::UserId).integer().not_null())
                    .col(
                        ColumnDef::new(PasswordResets::TokenHash)
                            .string_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(PasswordResets::ExpiresAt)
                            .date_time()
                            .not_null(),
                    )
                    .col(ColumnDef::new(PasswordResets::UsedAt).date_time().null())
                    .col(
                        ColumnDef::new(PasswordResets::CreatedAt)
                            .date_time()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_password_resets_user")
                            .from(PasswordResets::Table, PasswordResets::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            ))
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_password_resets_user")
                    .table(PasswordResets::Table)
                    .col(PasswordResets::UserId)
                    .to_owned(),
            )
            .await?;
        set_booking_id_null(manager, true).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Reset emails have no booking; they go with the step that made them possible.
        manager
            .get_connection()
            .execute_unprepared("DELETE FROM email_outbox WHERE booking_id IS NULL")
            .await?;
        set_booking_id_null(manager, false).await?;
        manager
            .drop_table(Table::drop().table(PasswordResets::Table).to_owned())
            .await
    }
}
