//! The email outbox: one row per email, written in the same transaction as the booking change
//! it announces, and worked off by the email worker.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Bookings {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum EmailOutbox {
    Table,
    Id,
    BookingId,
    /// `confirmed`, `cancelled` or `expired`.
    Kind,
    Recipient,
    /// `pending`, `sent` or `failed` (gave up; an admin may retry it).
    Status,
    Attempts,
    MaxAttempts,
    LastError,
    NextAttemptAt,
    /// While a worker sends it, no other worker takes it.
    LeaseUntil,
    SentAt,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(crate::portable(
                manager,
                Table::create()
                    .table(EmailOutbox::Table)
                    .col(crate::id_column(EmailOutbox::Id))
                    .col(ColumnDef::new(EmailOutbox::BookingId).integer().not_null())
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
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_email_outbox_booking")
                            .from(EmailOutbox::Table, EmailOutbox::BookingId)
                            .to(Bookings::Table, Bookings::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            ))
            .await?;
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
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(EmailOutbox::Table).to_owned())
            .await
    }
}
