//! `bookings.client_key`: the client address a booking was made from (as rate limits tell
//! clients apart; IPv6 by its /64), so the seats one client holds on a flight can be capped
//! across accounts. NULL for bookings made before it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Bookings {
    Table,
    FlightId,
    ClientKey,
}

const INDEX: &str = "idx_bookings_flight_client";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Bookings::Table)
                    .add_column(ColumnDef::new(Bookings::ClientKey).string_len(64).null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(Bookings::Table)
                    .col(Bookings::FlightId)
                    .col(Bookings::ClientKey)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name(INDEX).table(Bookings::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Bookings::Table)
                    .drop_column(Bookings::ClientKey)
                    .to_owned(),
            )
            .await
    }
}
