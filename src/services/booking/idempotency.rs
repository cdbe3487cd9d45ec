//! Idempotency keys for payments, per user, kept 24 hours. The first request with a key
//! claims it by inserting a row (the unique `(user_id, key)` index decides who was first);
//! later requests with the same key replay the saved response, wait their turn (409), or are
//! refused when they are a different request (422).

use chrono::{Duration, NaiveDateTime};
use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, UpdateMany,
};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::db::Database;
use crate::error::AppError;
use crate::models::booking::idempotency_key::{self, COMPLETED, IN_PROGRESS};
use crate::services::db_errors::is_unique_violation;

pub const RETENTION_HOURS: i64 = 24;
pub const MAX_KEY_LEN: usize = 255;

/// A checked `Idempotency-Key` header value.
#[derive(Debug, Clone)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(header: Option<&str>) -> Result<Self, AppError> {
        match header {
            None | Some("") => Err(AppError::IdempotencyKeyMissing),
            Some(key) if key.len() > MAX_KEY_LEN => Err(AppError::Malformed(format!(
                "Idempotency-Key must be at most {MAX_KEY_LEN} characters"
            ))),
            Some(key) => Ok(Self(key.to_string())),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The request a key was first used for: method, path and body as a JSON value (so key
/// order and spacing do not matter).
pub fn fingerprint(method: &str, path: &str, body: &Value) -> String {
    let mut hasher = Sha256::new();
    hasher.update(method.as_bytes());
    hasher.update(b"\n");
    hasher.update(path.as_bytes());
    hasher.update(b"\n");
    hasher.update(canonical(body).as_bytes());
    hex::encode(hasher.finalize())
}

/// JSON with object keys sorted at every level.
fn canonical(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let members: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", Value::String(k.clone()), canonical(&map[k])))
                .collect();
            format!("{{{}}}", members.join(","))
        }
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(canonical).collect::<Vec<_>>().join(",")
        ),
        other => other.to_string(),
    }
}

/// A response saved under a key, to be sent again.
#[derive(Debug, Clone)]
pub struct SavedResponse {
    pub status: u16,
    pub body: String,
}

pub enum Claim {
    /// This request owns the key (row id); run it.
    Claimed(i32),
    /// The key's first request finished; send its response again.
    Replay(SavedResponse),
}

pub async fn claim(
    db: &Database,
    user_id: i32,
    key: &IdempotencyKey,
    fingerprint: &str,
    now: NaiveDateTime,
) -> Result<Claim, AppError> {
    for _ in 0..2 {
        if let Some(claim_id) = try_claim(&db.writer, user_id, key, fingerprint, now).await? {
            return Ok(Claim::Claimed(claim_id));
        }
        let existing = idempotency_key::Entity::find()
            .filter(idempotency_key::Column::UserId.eq(user_id))
            .filter(idempotency_key::Column::Key.eq(key.as_str()))
            .one(&db.writer)
            .await?;
        let Some(existing) = existing else {
            continue; // released in between: try to claim again
        };
        if existing.created_at <= now - Duration::hours(RETENTION_HOURS) {
            // Past its retention (the sweeper has not deleted it yet): the key is free.
            idempotency_key::Entity::delete_by_id(existing.id)
                .exec(&db.writer)
                .await?;
            continue;
        }
        if existing.fingerprint != fingerprint {
            return Err(AppError::IdempotencyKeyReused);
        }
        return match (
            existing.state.as_str(),
            existing.response_status,
            existing.response_body,
        ) {
            (COMPLETED, Some(status), Some(body)) => Ok(Claim::Replay(SavedResponse {
                status: u16::try_from(status).unwrap_or(500),
                body,
            })),
            _ => Err(AppError::IdempotencyRequestInProgress),
        };
    }
    Err(AppError::IdempotencyRequestInProgress)
}

/// Claims the key inside `txn` if no one holds it; `None` when it is taken (then roll back
/// and see [`claim`]: a failed insert ends a PostgreSQL transaction).
pub async fn try_claim<C: ConnectionTrait>(
    txn: &C,
    user_id: i32,
    key: &IdempotencyKey,
    fingerprint: &str,
    now: NaiveDateTime,
) -> Result<Option<i32>, AppError> {
    match claim_insert(user_id, key, fingerprint, now).exec(txn).await {
        Ok(inserted) => Ok(Some(inserted.last_insert_id)),
        Err(err) if is_unique_violation(&err) => Ok(None),
        Err(err) => Err(err.into()),
    }
}

/// The claim's row: the key in progress, for no payment yet. A unique index refuses a second
/// claim of one key by one user.
pub fn claim_insert(
    user_id: i32,
    key: &IdempotencyKey,
    fingerprint: &str,
    now: NaiveDateTime,
) -> sea_orm::Insert<idempotency_key::ActiveModel> {
    idempotency_key::Entity::insert(idempotency_key::ActiveModel {
        user_id: Set(user_id),
        key: Set(key.as_str().to_string()),
        fingerprint: Set(fingerprint.to_string()),
        state: Set(IN_PROGRESS.into()),
        response_status: Set(None),
        response_body: Set(None),
        payment_id: Set(None),
        created_at: Set(now),
        ..Default::default()
    })
}

/// The user's claim of `key`, by the unique index (for statements written before its id is
/// known).
pub fn claim_of(user_id: i32, key: &IdempotencyKey) -> Condition {
    Condition::all()
        .add(idempotency_key::Column::UserId.eq(user_id))
        .add(idempotency_key::Column::Key.eq(key.as_str()))
}

/// Refuses a key already used for a different request (without claiming it).
pub async fn ensure_not_reused(
    db: &Database,
    user_id: i32,
    key: &IdempotencyKey,
    fingerprint: &str,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let existing = idempotency_key::Entity::find()
        .filter(idempotency_key::Column::UserId.eq(user_id))
        .filter(idempotency_key::Column::Key.eq(key.as_str()))
        .filter(idempotency_key::Column::CreatedAt.gt(now - Duration::hours(RETENTION_HOURS)))
        .one(&db.reader)
        .await?;
    match existing {
        Some(existing) if existing.fingerprint != fingerprint => {
            Err(AppError::IdempotencyKeyReused)
        }
        _ => Ok(()),
    }
}

/// Deletes claims that never got as far as recording a payment attempt (the process died in
/// between), so their keys do not stay "in progress" for a day; returns how many.
pub async fn delete_abandoned(
    db: &Database,
    claimed_before: NaiveDateTime,
) -> Result<u64, AppError> {
    Ok(idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::State.eq(IN_PROGRESS))
        .filter(idempotency_key::Column::PaymentId.is_null())
        .filter(idempotency_key::Column::CreatedAt.lte(claimed_before))
        .exec(&db.writer)
        .await?
        .rows_affected)
}

/// Saves the finished response under the key.
pub async fn complete<C: ConnectionTrait>(
    conn: &C,
    claim_id: i32,
    response: &SavedResponse,
) -> Result<(), AppError> {
    save_response(idempotency_key::Column::Id.eq(claim_id), response)
        .exec(conn)
        .await?;
    Ok(())
}

/// Saves `response` under the key that started payment `payment_id`, if a key did (one write,
/// no read of the key first).
pub async fn complete_for_payment<C: ConnectionTrait>(
    conn: &C,
    payment_id: i32,
    response: &SavedResponse,
) -> Result<(), AppError> {
    response_for_payment(payment_id, response)
        .exec(conn)
        .await?;
    Ok(())
}

/// The write of [`complete_for_payment`].
pub fn response_for_payment(
    payment_id: i32,
    response: &SavedResponse,
) -> UpdateMany<idempotency_key::Entity> {
    save_response(idempotency_key::Column::PaymentId.eq(payment_id), response)
}

fn save_response(
    which: sea_orm::sea_query::SimpleExpr,
    response: &SavedResponse,
) -> UpdateMany<idempotency_key::Entity> {
    idempotency_key::Entity::update_many()
        .col_expr(idempotency_key::Column::State, Expr::value(COMPLETED))
        .col_expr(
            idempotency_key::Column::ResponseStatus,
            Expr::value(i32::from(response.status)),
        )
        .col_expr(
            idempotency_key::Column::ResponseBody,
            Expr::value(response.body.clone()),
        )
        .filter(which)
}

/// Gives the key back: the request's result is not saved (it may be retried with the key).
pub async fn release<C: ConnectionTrait>(conn: &C, claim_id: i32) -> Result<(), AppError> {
    idempotency_key::Entity::delete_by_id(claim_id)
        .exec(conn)
        .await?;
    Ok(())
}

pub async fn link_payment<C: ConnectionTrait>(
    conn: &C,
    claim_id: i32,
    payment_id: i32,
) -> Result<(), AppError> {
    link_payment_statement(
        Condition::all().add(idempotency_key::Column::Id.eq(claim_id)),
        Expr::value(payment_id),
    )
    .exec(conn)
    .await?;
    Ok(())
}

/// The write of [`link_payment`] for the claim `claim` picks, to the payment `payment` names.
pub fn link_payment_statement(
    claim: Condition,
    payment: SimpleExpr,
) -> UpdateMany<idempotency_key::Entity> {
    idempotency_key::Entity::update_many()
        .col_expr(idempotency_key::Column::PaymentId, payment)
        .filter(claim)
}

/// Deletes keys older than the retention; returns how many.
pub async fn delete_expired(db: &Database, now: NaiveDateTime) -> Result<u64, AppError> {
    Ok(idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::CreatedAt.lte(now - Duration::hours(RETENTION_HOURS)))
        .exec(&db.writer)
        .await?
        .rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_order_and_spacing_do_not_change_the_fingerprint() {
        let a: Value = serde_json::from_str(
            r#"{"amount": 100, "currency": "INR", "m": {"x": 1, "y": [1, 2]}}"#,
        )
        .unwrap();
        let b: Value =
            serde_json::from_str(r#"{"m":{"y":[1,2],"x":1},"currency":"INR","amount":100}"#)
                .unwrap();
        assert_eq!(fingerprint("POST", "/p", &a), fingerprint("POST", "/p", &b));
        assert_ne!(fingerprint("POST", "/p", &a), fingerprint("POST", "/q", &a));
        assert_ne!(
            fingerprint("POST", "/p", &a),
            fingerprint("POST", "/p", &json!({"amount": 101}))
        );
    }

    #[test]
    fn keys_must_be_present_and_bounded() {
        assert!(matches!(
            IdempotencyKey::parse(None),
            Err(AppError::IdempotencyKeyMissing)
        ));
        assert!(matches!(
            IdempotencyKey::parse(Some("")),
            Err(AppError::IdempotencyKeyMissing)
        ));
        assert!(matches!(
            IdempotencyKey::parse(Some(&"k".repeat(256))),
            Err(AppError::Malformed(_))
        ));
        assert!(IdempotencyKey::parse(Some(&"k".repeat(255))).is_ok());
    }
}
