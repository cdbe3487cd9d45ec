//! Skybook's schema, one migration per step, identical on SQLite, PostgreSQL and MySQL.

pub use sea_orm_migration::prelude::*;

mod m20261125_000001_identity;
mod m20261125_000002_catalog;
mod m20261125_000003_booking;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_identity::Migration),
            Box::new(m20261125_000002_catalog::Migration),
            Box::new(m20261125_000003_booking::Migration),
        ]
    }
}
