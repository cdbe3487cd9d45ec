//! Airline operations: a flight's `status` (`scheduled` or `cancelled`) with the reason and
//! time of its cancellation, who cancelled a booking (`traveller` or `airline`), and what an
//! email needs beyond its booking (a schedule change's old times), as JSON, and the random
//! part of each email's `Message-ID`.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Flights {
    Table,
    Status,
    CancelReason,
    CancelledAt,
}

#[derive(DeriveIden)]
enum Bookings {
    Table,
    CancelledBy,
}

#[derive(DeriveIden)]
enum EmailOutbox {
    Table,
    Details,
    MessageKey,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        for column in [
            ColumnDef::new(Flights::Status)
                .string_len(16)
                .not_null()
                .default("scheduled")
                .to_owned(),
            ColumnDef::new(Flights::CancelReason)
                .string_len(500)
                .null()
                .to_owned(),
            ColumnDef::new(Flights::CancelledAt)
                .date_time()
                .null()
                .to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Flights::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Bookings::Table)
                    .add_column(ColumnDef::new(Bookings::CancelledBy).string_len(16).null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(EmailOutbox::Table)
                    .add_column(ColumnDef::new(EmailOutbox::Details).text().null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(EmailOutbox::Table)
                    .add_column(
                        ColumnDef::new(EmailOutbox::MessageKey)
                            .string_len(36)
                            .null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Flights::Status, Flights::CancelReason, Flights::CancelledAt] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Flights::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Bookings::Table)
                    .drop_column(Bookings::CancelledBy)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(EmailOutbox::Table)
                    .drop_column(EmailOutbox::Details)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(EmailOutbox::Table)
                    .drop_column(EmailOutbox::MessageKey)
                    .to_owned(),
            )
            .await
    }
}
