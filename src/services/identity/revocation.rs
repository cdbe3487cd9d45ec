//! Whether a presented token still counts, checked on every authenticated request with one
//! read and no write: the caller's row (read anyway, for the current role) and, in the same
//! statement, whether the token's own key was revoked.

use chrono::DateTime;
use sea_orm::sea_query::{Expr, Query, SelectStatement, SimpleExpr, SubQueryStatement};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult,
    QueryFilter, QuerySelect, QueryTrait,
};

use super::VerifiedToken;
use crate::db::session::Session;
use crate::db::template::{PerBackend, Template};
use crate::db::Database;
use crate::error::AppError;
use crate::models::identity::{revoked_token, user};
use crate::services::db_errors::is_unique_violation;

const REVOKED: &str = "revoked";

/// The caller's user row, when the token is still good: its user exists, it was issued in
/// the user's current token generation, and it was not revoked on its own.
pub async fn find_caller(
    session: &mut Session<'_>,
    token: &VerifiedToken,
) -> Result<Option<user::Model>, AppError> {
    static CALLER: PerBackend = PerBackend::new();
    const SENTINEL_ID: i32 = i32::MIN + 7;
    const SENTINEL_KEY: &str = "\u{1}revocation key";
    let backend = session.database().reader.get_database_backend();
    let template = CALLER.get(backend, || {
        Template::new(
            backend,
            &caller_query(SENTINEL_ID, SENTINEL_KEY),
            &[SENTINEL_ID.into(), SENTINEL_KEY.into()],
        )
    });
    let statement =
        template.statement(&[token.user_id.into(), token.revocation_key.as_str().into()]);
    let Some(row) = session.query_one(statement).await? else {
        return Ok(None);
    };
    let revoked: i64 = row.try_get("", REVOKED)?;
    let user = user::Model::from_query_result(&row, "")?;
    let current = i64::from(user.token_generation) == token.generation;
    Ok((revoked == 0 && current).then_some(user))
}

/// `SELECT users.*, (SELECT COUNT(token_key) FROM revoked_tokens WHERE token_key = ?) AS
/// revoked FROM users WHERE id = ? LIMIT 1`: one round trip, as the user read alone was.
fn caller_query(id: i32, key: &str) -> SelectStatement {
    let revoked = Query::select()
        .expr(Expr::col(revoked_token::Column::TokenKey).count())
        .from(revoked_token::Entity)
        .and_where(revoked_token::Column::TokenKey.eq(key))
        .to_owned();
    user::Entity::find_by_id(id)
        .expr_as(
            SimpleExpr::SubQuery(None, Box::new(SubQueryStatement::SelectStatement(revoked))),
            REVOKED,
        )
        .limit(1)
        .into_query()
}

/// Revokes one token (sign-out) until it would have expired anyway; revoking it twice is
/// the same as once.
#[tracing::instrument(skip_all, fields(user_id = token.user_id))]
pub async fn revoke_token(db: &Database, token: &VerifiedToken) -> Result<(), AppError> {
    // MySQL's DATETIME ends with year 9999; a real token expires long before.
    const LATEST: i64 = 253_402_300_799;
    let expires_at = DateTime::from_timestamp(token.expires_at.clamp(0, LATEST), 0)
        .map(|t| t.naive_utc())
        .ok_or_else(|| anyhow::anyhow!("token expiry out of range"))?;
    let row = revoked_token::ActiveModel {
        token_key: Set(token.revocation_key.clone()),
        user_id: Set(token.user_id),
        expires_at: Set(expires_at),
    };
    db.durably(async {
        match row.insert(&db.writer).await {
            Ok(_) => Ok(()),
            Err(err) if is_unique_violation(&err) => Ok(()),
            Err(err) => Err(AppError::from(err)),
        }
    })
    .await
}

/// Deletes revocations of tokens that have expired (they are refused for that alone).
pub async fn delete_expired_revocations(db: &Database) -> Result<u64, AppError> {
    let now = crate::clock::now();
    db.durably(async {
        let done = revoked_token::Entity::delete_many()
            .filter(revoked_token::Column::ExpiresAt.lt(now))
            .exec(&db.writer)
            .await?;
        Ok::<_, AppError>(done.rows_affected)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_caller_template_puts_each_argument_in_its_place() {
        use sea_orm::DbBackend;
        for backend in [DbBackend::Sqlite, DbBackend::Postgres, DbBackend::MySql] {
            let template = Template::new(
                backend,
                &caller_query(i32::MIN + 7, "\u{1}key"),
                &[(i32::MIN + 7).into(), "\u{1}key".into()],
            );
            assert_eq!(
                template.statement(&[42.into(), "abc".into()]),
                backend.build(&caller_query(42, "abc"))
            );
        }
    }
}
