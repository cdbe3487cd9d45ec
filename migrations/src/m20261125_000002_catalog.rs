//! Cities, airports, airplanes, flights and the seat inventory of each flight.

use sea_orm_migration::prelude::*;

use crate::id_column;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Cities {
    Table,
    Id,
    Name,
    CountryCode,
}

#[derive(DeriveIden)]
enum Airports {
    Table,
    Id,
    Code,
    Name,
    CityId,
    Timezone,
}

#[derive(DeriveIden)]
enum Airplanes {
    Table,
    Id,
    Model,
    Rows,
    SeatLetters,
    BusinessRows,
}

#[derive(DeriveIden)]
enum Flights {
    Table,
    Id,
    FlightNumber,
    AirplaneId,
    DepartureAirportId,
    ArrivalAirportId,
    DepartureTime,
    ArrivalTime,
    /// The departure's calendar date at the departure airport, kept so search is one index range.
    DepartureLocalDate,
    PriceEconomy,
    PriceBusiness,
    Currency,
    SeatsTotal,
    /// Seats neither held nor booked, changed in the same transaction as the seats themselves.
    SeatsAvailable,
    CreatedAt,
}

#[derive(DeriveIden)]
enum FlightSeats {
    Table,
    Id,
    FlightId,
    Seat,
    RowNumber,
    Letter,
    Class,
    Status,
    BookingId,
    HeldUntil,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(crate::portable(
                manager,
                Table::create()
                    .table(Cities::Table)
                    .col(id_column(Cities::Id))
                    .col(ColumnDef::new(Cities::Name).string_len(100).not_null())
                    .col(ColumnDef::new(Cities::CountryCode).string_len(2).not_null())
                    .to_owned(),
            ))
            .await?;

        manager
            .create_table(crate::portable(
                manager,
                Table::create()
                    .table(Airports::Table)
                    .col(id_column(Airports::Id))
                    .col(ColumnDef::new(Airports::Code).string_len(3).not_null())
                    .col(ColumnDef::new(Airports::Name).string_len(200).not_null())
                    .col(ColumnDef::new(Airports::CityId).integer().not_null())
                    .col(ColumnDef::new(Airports::Timezone).string_len(64).not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_airports_city")
                            .from(Airports::Table, Airports::CityId)
                            .to(Cities::Table, Cities::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            ))
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_airports_code")
                    .table(Airports::Table)
                    .col(Airports::Code)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_airports_city")
                    .table(Airports::Table)
                    .col(Airports::CityId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(crate::portable(
                manager,
                Table::create()
                    .table(Airplanes::Table)
                    .col(id_column(Airplanes::Id))
                    .col(ColumnDef::new(Airplanes::Model).string_len(100).not_null())
                    .col(ColumnDef::new(Airplanes::Rows).integer().not_null())
                    .col(
                        ColumnDef::new(Airplanes::SeatLetters)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Airplanes::BusinessRows).integer().not_null())
                    .to_owned(),
            ))
            .await?;

        manager
            .create_table(crate::portable(
                manager,
                Table::create()
                    .table(Flights::Table)
                    .col(id_column(Flights::Id))
                    .col(
                        ColumnDef::new(Flights::FlightNumber)
                            .string_len(8)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Flights::AirplaneId).integer().not_null())
                    .col(
                        ColumnDef::new(Flights::DepartureAirportId)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Flights::ArrivalAirportId)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Flights::DepartureTime)
                            .date_time()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Flights::ArrivalTime).date_time().not_null())
                    .col(
                        ColumnDef::new(Flights::DepartureLocalDate)
                            .date()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Flights::PriceEconomy)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Flights::PriceBusiness)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Flights::Currency).string_len(3).not_null())
                    .col(ColumnDef::new(Flights::SeatsTotal).integer().not_null())
                    .col(ColumnDef::new(Flights::SeatsAvailable).integer().not_null())
                    .col(ColumnDef::new(Flights::CreatedAt).date_time().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_flights_airplane")
                            .from(Flights::Table, Flights::AirplaneId)
                            .to(Airplanes::Table, Airplanes::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_flights_departure_airport")
                            .from(Flights::Table, Flights::DepartureAirportId)
                            .to(Airports::Table, Airports::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_flights_arrival_airport")
                            .from(Flights::Table, Flights::ArrivalAirportId)
                            .to(Airports::Table, Airports::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            ))
            .await?;
        // Search: route + local date is an equality prefix, departure time orders within it.
        manager
            .create_index(
                Index::create()
                    .name("ix_flights_search")
                    .table(Flights::Table)
                    .col(Flights::DepartureAirportId)
                    .col(Flights::ArrivalAirportId)
                    .col(Flights::DepartureLocalDate)
                    .col(Flights::DepartureTime)
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("ix_flights_airplane", Flights::AirplaneId),
            ("ix_flights_arrival_airport", Flights::ArrivalAirportId),
            ("ix_flights_departure_time", Flights::DepartureTime),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Flights::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("ux_flights_number_departure")
                    .table(Flights::Table)
                    .col(Flights::FlightNumber)
                    .col(Flights::DepartureTime)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(crate::portable(
                manager,
                Table::create()
                    .table(FlightSeats::Table)
                    .col(id_column(FlightSeats::Id))
                    .col(ColumnDef::new(FlightSeats::FlightId).integer().not_null())
                    .col(ColumnDef::new(FlightSeats::Seat).string_len(4).not_null())
                    .col(ColumnDef::new(FlightSeats::RowNumber).integer().not_null())
                    .col(ColumnDef::new(FlightSeats::Letter).string_len(1).not_null())
                    .col(ColumnDef::new(FlightSeats::Class).string_len(16).not_null())
                    .col(
                        ColumnDef::new(FlightSeats::Status)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(FlightSeats::BookingId).integer().null())
                    .col(ColumnDef::new(FlightSeats::HeldUntil).date_time().null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_flight_seats_flight")
                            .from(FlightSeats::Table, FlightSeats::FlightId)
                            .to(Flights::Table, Flights::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            ))
            .await?;
        // One row per seat of a flight: the last guard against a seat existing twice.
        manager
            .create_index(
                Index::create()
                    .name("ux_flight_seats_flight_seat")
                    .table(FlightSeats::Table)
                    .col(FlightSeats::FlightId)
                    .col(FlightSeats::Seat)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_flight_seats_map")
                    .table(FlightSeats::Table)
                    .col(FlightSeats::FlightId)
                    .col(FlightSeats::RowNumber)
                    .col(FlightSeats::Letter)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            FlightSeats::Table.into_iden(),
            Flights::Table.into_iden(),
            Airplanes::Table.into_iden(),
            Airports::Table.into_iden(),
            Cities::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
