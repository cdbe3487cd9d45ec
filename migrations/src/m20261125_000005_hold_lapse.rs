//! `flights.holds_lapse_at`: the earliest end of a hold on the flight's seats (NULL while none
//! is held). Search shows a lapsed hold as a free seat before the sweeper releases it; with
//! this column it looks for lapsed holds only on the few flights where one can exist, instead
//! of running a subquery for every flight it lists.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Flights {
    Table,
    Id,
    HoldsLapseAt,
}

#[derive(DeriveIden)]
enum FlightSeats {
    Table,
    FlightId,
    Status,
    HeldUntil,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Flights::Table)
                    .add_column(ColumnDef::new(Flights::HoldsLapseAt).date_time().null())
                    .to_owned(),
            )
            .await?;
        // Holds that exist already.
        let earliest = Query::select()
            .expr(Expr::col((FlightSeats::Table, FlightSeats::HeldUntil)).min())
            .from(FlightSeats::Table)
            .and_where(
                Expr::col((FlightSeats::Table, FlightSeats::FlightId))
                    .equals((Flights::Table, Flights::Id)),
            )
            .and_where(Expr::col((FlightSeats::Table, FlightSeats::Status)).eq("held"))
            .to_owned();
        manager
            .exec_stmt(
                Query::update()
                    .table(Flights::Table)
                    .value(
                        Flights::HoldsLapseAt,
                        SimpleExpr::SubQuery(None, Box::new(earliest.into_sub_query_statement())),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Flights::Table)
                    .drop_column(Flights::HoldsLapseAt)
                    .to_owned(),
            )
            .await
    }
}
