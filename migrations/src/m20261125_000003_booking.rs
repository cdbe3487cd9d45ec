//! Bookings, their seats, payment attempts, idempotency keys, and the sandbox payment
//! provider's own ledger.

use sea_orm_migration::prelude::*;

use crate::id_column;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Flights {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum FlightSeats {
    Table,
    FlightId,
    Status,
    HeldUntil,
    BookingId,
}

#[derive(DeriveIden)]
enum Bookings {
    Table,
    Id,
    Reference,
    UserId,
    FlightId,
    Status,
    Total,
    Currency,
    CreatedAt,
    ExpiresAt,
    /// Set while a payment attempt is with the provider: the hold cannot expire or be
    /// cancelled under it.
    PaymentLockUntil,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum BookingSeats {
    Table,
    Id,
    BookingId,
    Seat,
    Class,
    Price,
    PassengerName,
}

#[derive(DeriveIden)]
enum Payments {
    Table,
    Id,
    BookingId,
    UserId,
    Status,
    Amount,
    Currency,
    Method,
    ProviderRef,
    /// The booking id once the attempt succeeded, NULL otherwise: a unique index on it lets
    /// the database itself refuse a second successful payment for one booking.
    SuccessKey,
    RefundRequestedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    Id,
    UserId,
    Key,
    Fingerprint,
    State,
    ResponseStatus,
    ResponseBody,
    PaymentId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SandboxCharges {
    Table,
    Id,
    PaymentRef,
    Kind,
    Amount,
    Currency,
    CreatedAt,
}

async fn index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden + 'static,
    columns: Vec<DynIden>,
    unique: bool,
) -> Result<(), DbErr> {
    let mut statement = Index::create();
    statement.name(name).table(table);
    for column in columns {
        statement.col(column);
    }
    if unique {
        statement.unique();
    }
    manager.create_index(statement.to_owned()).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(crate::portable(
                manager,
                Table::create()
                    .table(Bookings::Table)
                    .col(id_column(Bookings::Id))
                    .col(ColumnDef::new(Bookings::Reference).string_len(6).not_null())
                    .col(ColumnDef::new(Bookings::UserId).integer().not_null())
                    .col(ColumnDef::new(Bookings::FlightId).integer().not_null())
                    .col(ColumnDef::new(Bookings::Status).string_len(16).not_null())
                    .col(ColumnDef::new(Bookings::Total).big_integer().not_null())
                    .col(ColumnDef::new(Bookings::Currency).string_len(3).not_null())
                    .col(ColumnDef::new(Bookings::CreatedAt).date_time().not_null())
                    .col(ColumnDef::new(Bookings::ExpiresAt).date_time().not_null())
                    .col(
                        ColumnDef::new(Bookings::PaymentLockUntil)
                            .date_time()
                            .null(),
                    )
                    .col(ColumnDef::new(Bookings::UpdatedAt).date_time().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_bookings_user")
                            .from(Bookings::Table, Bookings::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_bookings_flight")
                            .from(Bookings::Table, Bookings::FlightId)
                            .to(Flights::Table, Flights::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            ))
            .await?;
        index(
            manager,
            "ux_bookings_reference",
            Bookings::Table,
            vec![Bookings::Reference.into_iden()],
            true,
        )
        .await?;
        index(
            manager,
            "ix_bookings_user_status",
            Bookings::Table,
            vec![Bookings::UserId.into_iden(), Bookings::Status.into_iden()],
            false,
        )
        .await?;
        index(
            manager,
            "ix_bookings_status_expires",
            Bookings::Table,
            vec![
                Bookings::Status.into_iden(),
                Bookings::ExpiresAt.into_iden(),
            ],
            false,
        )
        .await?;
        index(
            manager,
            "ix_bookings_flight",
            Bookings::Table,
            vec![Bookings::FlightId.into_iden()],
            false,
        )
        .await?;

        manager
            .create_table(crate::portable(
                manager,
                Table::create()
                    .table(BookingSeats::Table)
                    .col(id_column(BookingSeats::Id))
                    .col(ColumnDef::new(BookingSeats::BookingId).integer().not_null())
                    .col(ColumnDef::new(BookingSeats::Seat).string_len(4).not_null())
                    .col(
                        ColumnDef::new(BookingSeats::Class)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(BookingSeats::Price).big_integer().not_null())
                    .col(
                        ColumnDef::new(BookingSeats::PassengerName)
                            .string_len(200)
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_booking_seats_booking")
                            .from(BookingSeats::Table, BookingSeats::BookingId)
                            .to(Bookings::Table, Bookings::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            ))
            .await?;
        index(
            manager,
            "ux_booking_seats_booking_seat",
            BookingSeats::Table,
            vec![
                BookingSeats::BookingId.into_iden(),
                BookingSeats::Seat.into_iden(),
            ],
            true,
        )
        .await?;

        manager
            .create_table(crate::portable(
                manager,
                Table::create()
                    .table(Payments::Table)
                    .col(id_column(Payments::Id))
                    .col(ColumnDef::new(Payments::BookingId).integer().not_null())
                    .col(ColumnDef::new(Payments::UserId).integer().not_null())
                    .col(ColumnDef::new(Payments::Status).string_len(16).not_null())
                    .col(ColumnDef::new(Payments::Amount).big_integer().not_null())
                    .col(ColumnDef::new(Payments::Currency).string_len(3).not_null())
                    .col(ColumnDef::new(Payments::Method).string_len(32).not_null())
                    .col(ColumnDef::new(Payments::ProviderRef).string_len(64).null())
                    .col(ColumnDef::new(Payments::SuccessKey).integer().null())
                    .col(
                        ColumnDef::new(Payments::RefundRequestedAt)
                            .date_time()
                            .null(),
                    )
                    .col(ColumnDef::new(Payments::CreatedAt).date_time().not_null())
                    .col(ColumnDef::new(Payments::UpdatedAt).date_time().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_payments_booking")
                            .from(Payments::Table, Payments::BookingId)
                            .to(Bookings::Table, Bookings::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            ))
            .await?;
        index(
            manager,
            "ux_payments_success",
            Payments::Table,
            vec![Payments::SuccessKey.into_iden()],
            true,
        )
        .await?;
        index(
            manager,
            "ix_payments_booking",
            Payments::Table,
            vec![Payments::BookingId.into_iden()],
            false,
        )
        .await?;
        index(
            manager,
            "ix_payments_status_created",
            Payments::Table,
            vec![
                Payments::Status.into_iden(),
                Payments::CreatedAt.into_iden(),
            ],
            false,
        )
        .await?;

        manager
            .create_table(crate::portable(
                manager,
                Table::create()
                    .table(IdempotencyKeys::Table)
                    .col(id_column(IdempotencyKeys::Id))
                    .col(ColumnDef::new(IdempotencyKeys::UserId).integer().not_null())
                    .col(
                        ColumnDef::new(IdempotencyKeys::Key)
                            .string_len(255)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(IdempotencyKeys::Fingerprint)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(IdempotencyKeys::State)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(IdempotencyKeys::ResponseStatus)
                            .integer()
                            .null(),
                    )
                    .col(ColumnDef::new(IdempotencyKeys::ResponseBody).text().null())
                    .col(ColumnDef::new(IdempotencyKeys::PaymentId).integer().null())
                    .col(
                        ColumnDef::new(IdempotencyKeys::CreatedAt)
                            .date_time()
                            .not_null(),
                    )
                    .to_owned(),
            ))
            .await?;
        index(
            manager,
            "ux_idempotency_user_key",
            IdempotencyKeys::Table,
            vec![
                IdempotencyKeys::UserId.into_iden(),
                IdempotencyKeys::Key.into_iden(),
            ],
            true,
        )
        .await?;
        index(
            manager,
            "ix_idempotency_created",
            IdempotencyKeys::Table,
            vec![IdempotencyKeys::CreatedAt.into_iden()],
            false,
        )
        .await?;

        manager
            .create_table(crate::portable(
                manager,
                Table::create()
                    .table(SandboxCharges::Table)
                    .col(id_column(SandboxCharges::Id))
                    .col(
                        ColumnDef::new(SandboxCharges::PaymentRef)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SandboxCharges::Kind)
                            .string_len(8)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SandboxCharges::Amount)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SandboxCharges::Currency)
                            .string_len(3)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SandboxCharges::CreatedAt)
                            .date_time()
                            .not_null(),
                    )
                    .to_owned(),
            ))
            .await?;
        // The provider charges (and refunds) one payment attempt at most once.
        index(
            manager,
            "ux_sandbox_charges_ref_kind",
            SandboxCharges::Table,
            vec![
                SandboxCharges::PaymentRef.into_iden(),
                SandboxCharges::Kind.into_iden(),
            ],
            true,
        )
        .await?;

        index(
            manager,
            "ix_flight_seats_booking",
            FlightSeats::Table,
            vec![FlightSeats::BookingId.into_iden()],
            false,
        )
        .await?;
        index(
            manager,
            "ix_flight_seats_expired_holds",
            FlightSeats::Table,
            vec![
                FlightSeats::FlightId.into_iden(),
                FlightSeats::Status.into_iden(),
                FlightSeats::HeldUntil.into_iden(),
            ],
            false,
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            SandboxCharges::Table.into_iden(),
            IdempotencyKeys::Table.into_iden(),
            Payments::Table.into_iden(),
            BookingSeats::Table.into_iden(),
            Bookings::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
