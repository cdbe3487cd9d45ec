//! Account recovery: a password reset asked for by email, and confirmed with the emailed
//! token.
//!
//! Asking runs the same plan whether or not the address has an account: two INSERT ... SELECT
//! statements that read the account themselves and write a reset and its email only when
//! there is one. No argon2 work is done on asking, so known and unknown addresses answer
//! alike in time as in body.

use chrono::{Duration, NaiveDateTime};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ColumnTrait, EntityTrait, FromQueryResult, QueryFilter, QuerySelect, QueryTrait};

use super::credentials::password_update;
use super::passwords::{check_strength, hash_password, Password};
use super::reset_key::{token_hash, ResetKey, MAX_TOKEN_LEN};
use crate::db::plan::{Expect, PlanError, WritePlan};
use crate::db::Database;
use crate::error::AppError;
use crate::models::identity::{password_reset, user, Email};
use crate::services::notify::outbox::{self, ResetDetails};

/// How long a reset link works.
pub const RESET_TTL_MINUTES: i64 = 30;

/// Writes a reset token and its email for the account with `email`, if there is one.
#[tracing::instrument(skip_all)]
pub async fn request_reset(
    db: &Database,
    key: &ResetKey,
    email: &Email,
    email_max_attempts: u32,
) -> Result<(), AppError> {
    let now = crate::clock::now();
    let seed = ResetKey::new_seed();
    let token = token_hash(&key.token(&seed)?);
    let reset = Query::insert()
        .into_table(password_reset::Entity)
        .columns([
            password_reset::Column::UserId,
            password_reset::Column::TokenHash,
            password_reset::Column::ExpiresAt,
            password_reset::Column::CreatedAt,
        ])
        .select_from(
            Query::select()
                .column(user::Column::Id)
                .expr(Expr::val(token))
                .expr(Expr::val(now + Duration::minutes(RESET_TTL_MINUTES)))
                .expr(Expr::val(now))
                .from(user::Entity)
                .and_where(user::Column::Email.eq(email.as_str()))
                .to_owned(),
        )
        .map_err(|e| anyhow::anyhow!("reset insert: {e}"))?
        .to_owned();
    let details = serde_json::to_string(&ResetDetails { seed })
        .map_err(|e| anyhow::anyhow!("reset details: {e}"))?;
    let email_row = outbox::enqueue_for_account(
        email.as_str(),
        outbox::PASSWORD_RESET,
        details,
        email_max_attempts,
        now,
    )?;
    db.execute(WritePlan::new().write("reset", reset, Expect::Any).write(
        "email",
        email_row,
        Expect::SameAs("reset"),
    ))
    .await?;
    Ok(())
}

/// The reset a presented token opens, with its account, while it is unused and unexpired.
#[derive(Debug, FromQueryResult)]
struct OpenReset {
    id: i32,
    user_id: i32,
    email: String,
}

async fn find_open(
    db: &Database,
    token: &str,
    now: NaiveDateTime,
) -> Result<Option<OpenReset>, AppError> {
    let mut query = password_reset::Entity::find()
        .select_only()
        .column(password_reset::Column::Id)
        .column(password_reset::Column::UserId)
        .column_as(Expr::col((user::Entity, user::Column::Email)), "email")
        .filter(password_reset::Column::TokenHash.eq(token_hash(token)))
        .filter(password_reset::Column::UsedAt.is_null())
        .filter(password_reset::Column::ExpiresAt.gt(now));
    QueryTrait::query(&mut query).inner_join(
        user::Entity,
        Expr::col((user::Entity, user::Column::Id))
            .equals((password_reset::Entity, password_reset::Column::UserId)),
    );
    Ok(query.into_model::<OpenReset>().one(&db.reader).await?)
}

/// Sets the password of the token's account and spends the token, in one transaction whose
/// conditional UPDATE lets one of two concurrent confirms through. Every token issued to the
/// account before is revoked, and its other open reset links are spent too. A weak password
/// is refused before anything is written: the token still works.
#[tracing::instrument(skip_all)]
pub async fn confirm_reset(db: &Database, token: &str, password: Password) -> Result<(), AppError> {
    if token.is_empty() || token.len() > MAX_TOKEN_LEN {
        return Err(AppError::TokenInvalid);
    }
    let now = crate::clock::now();
    let open = find_open(db, token, now)
        .await?
        .ok_or(AppError::TokenInvalid)?;
    check_strength(password.expose(), &open.email).map_err(|weak| weak.on_field("password"))?;
    let hash = hash_password(password.into_inner()).await?;
    // Checked again in the transaction: the time passed hashing, and a concurrent confirm may
    // have spent it.
    let now = crate::clock::now();
    let spend = password_reset::Entity::update_many()
        .col_expr(password_reset::Column::UsedAt, Expr::value(now))
        .filter(password_reset::Column::Id.eq(open.id))
        .filter(password_reset::Column::UsedAt.is_null())
        .filter(password_reset::Column::ExpiresAt.gt(now))
        .into_query();
    let others = password_reset::Entity::update_many()
        .col_expr(password_reset::Column::UsedAt, Expr::value(now))
        .filter(password_reset::Column::UserId.eq(open.user_id))
        .filter(password_reset::Column::UsedAt.is_null())
        .into_query();
    let plan = WritePlan::new()
        .write("spent", spend, Expect::Is(1))
        .write(
            "password",
            password_update(open.user_id, hash).into_query(),
            Expect::Is(1),
        )
        .write("others", others, Expect::Any);
    match db.execute(plan).await {
        Ok(_) => Ok(()),
        // Spent or expired meanwhile, or the account is gone.
        Err(PlanError::Refused(_)) => Err(AppError::TokenInvalid),
        Err(err) => Err(err.into()),
    }
}
