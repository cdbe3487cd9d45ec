//! Revocable access tokens. `users.token_generation` is copied into every token issued; a
//! password change, reset or `create-admin --promote-existing` adds one to it, which revokes
//! every earlier token of that user at once. `revoked_tokens` holds single tokens revoked by
//! sign-out until they would have expired anyway.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    TokenGeneration,
}

#[derive(DeriveIden)]
enum RevokedTokens {
    Table,
    /// The token's `jti` (or a hash of a token without one).
    TokenKey,
    UserId,
    /// The token's own expiry: after it the row says nothing and may be deleted.
    ExpiresAt,
}

const EXPIRY_INDEX: &str = "ix_revoked_tokens_expires_at";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(
                        ColumnDef::new(Users::TokenGeneration)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(crate::portable(
                manager,
                Table::create()
                    .table(RevokedTokens::Table)
                    .col(
                        ColumnDef::new(RevokedTokens::TokenKey)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(RevokedTokens::UserId).integer().not_null())
                    .col(
                        ColumnDef::new(RevokedTokens::ExpiresAt)
                            .date_time()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_revoked_tokens_user")
                            .from(RevokedTokens::Table, RevokedTokens::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            ))
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(EXPIRY_INDEX)
                    .table(RevokedTokens::Table)
                    .col(RevokedTokens::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RevokedTokens::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Users::TokenGeneration)
                    .to_owned(),
            )
            .await
    }
}
