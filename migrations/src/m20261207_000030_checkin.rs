//! Online check-in, per booking seat: when it was checked in (NULL: not yet), and its
//! check-in sequence number on its flight, unique per flight. The flight is written beside the
//! number (`checkin_flight_id`) because a booking seat reaches its flight only through its
//! booking, and a unique index takes columns of one table. Seats not checked in have NULL in
//! both, and NULLs never clash in a unique index on SQLite, PostgreSQL or MySQL/MariaDB.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum BookingSeats {
    Table,
    CheckedInAt,
    CheckinFlightId,
    CheckinSequence,
}

const INDEX: &str = "ux_booking_seats_checkin_sequence";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per ALTER: SQLite adds only one at a time.
        for column in [
            ColumnDef::new(BookingSeats::CheckedInAt)
                .date_time()
                .null()
                .to_owned(),
            ColumnDef::new(BookingSeats::CheckinFlightId)
                .integer()
                .null()
                .to_owned(),
            ColumnDef::new(BookingSeats::CheckinSequence)
                .integer()
                .null()
                .to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(BookingSeats::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(BookingSeats::Table)
                    .col(BookingSeats::CheckinFlightId)
                    .col(BookingSeats::CheckinSequence)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(INDEX)
                    .table(BookingSeats::Table)
                    .to_owned(),
            )
            .await?;
        for column in [
            BookingSeats::CheckinSequence,
            BookingSeats::CheckinFlightId,
            BookingSeats::CheckedInAt,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(BookingSeats::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
