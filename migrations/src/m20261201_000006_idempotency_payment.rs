//! An index on `idempotency_keys.payment_id`: a payment's outcome is saved under the key that
//! started it, found by the payment. Without it every payment scanned the whole table, inside
//! the transaction that holds SQLite's one writer, and got slower as keys piled up.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    PaymentId,
}

const INDEX: &str = "ix_idempotency_payment";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(IdempotencyKeys::Table)
                    .col(IdempotencyKeys::PaymentId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(INDEX)
                    .table(IdempotencyKeys::Table)
                    .to_owned(),
            )
            .await
    }
}
