//! Skybook's schema, one migration per step, identical on SQLite, PostgreSQL and MySQL.

pub use sea_orm_migration::prelude::*;

mod m20261125_000001_identity;
mod m20261125_000002_catalog;
mod m20261125_000003_booking;
mod m20261125_000004_notify;
mod m20261125_000005_hold_lapse;
mod m20261201_000006_idempotency_payment;
mod m20261207_000007_token_revocation;
mod m20261207_000010_booking_client;
mod m20261207_000020_flight_operations;
mod m20261207_000030_checkin;
mod m20261207_000040_password_reset;

pub struct Migrator;

/// An integer primary key the database numbers (`INTEGER PRIMARY KEY` on SQLite).
pub(crate) fn id_column<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name)
        .integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

/// On MySQL/MariaDB, every table is utf8mb4 with a binary collation: names may hold any
/// script or emoji whatever the server's default charset, and keys and codes compare exactly
/// (not case- or accent-insensitively) as they do on SQLite and PostgreSQL.
pub(crate) fn portable(
    manager: &SchemaManager,
    mut table: TableCreateStatement,
) -> TableCreateStatement {
    if manager.get_database_backend() == sea_orm_migration::sea_orm::DatabaseBackend::MySql {
        table.character_set("utf8mb4").collate("utf8mb4_bin");
    }
    table
}

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_identity::Migration),
            Box::new(m20261125_000002_catalog::Migration),
            Box::new(m20261125_000003_booking::Migration),
            Box::new(m20261125_000004_notify::Migration),
            Box::new(m20261125_000005_hold_lapse::Migration),
            Box::new(m20261201_000006_idempotency_payment::Migration),
            Box::new(m20261207_000007_token_revocation::Migration),
            Box::new(m20261207_000010_booking_client::Migration),
            Box::new(m20261207_000020_flight_operations::Migration),
            Box::new(m20261207_000030_checkin::Migration),
            Box::new(m20261207_000040_password_reset::Migration),
        ]
    }
}
