//! Idempotency keys for payments, per user, kept 24 hours. The first request with a key
//! claims it by inserting a row (the unique `(user_id, key)` index decides who was first);
//! later requests with the same key replay the saved response, wait their turn (409), or are
//! refused when they are a different request (422).

use chrono::{Duration, NaiveDateTime};
use sea_orm::sea_query::{DeleteStatement, Expr, InsertStatement, SimpleExpr, UpdateStatement};
use sea_orm::{ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryTrait};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::db::plan::{Expect, WritePlan};
use crate::db::Database;
use crate::error::AppError;
use crate::models::booking::idempotency_key::{self, COMPLETED, IN_PROGRESS};

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

/// What a key that could not be claimed holds.
pub enum TakenKey {
    /// The key's first request finished; send its answer again.
    Replay(SavedResponse),
    /// The key was given back, or had passed its retention (now deleted): claim it again.
    Free,
}

/// Looks at a key whose claim failed because it exists: replay its answer, refuse a different
/// request under it (422) or one still running (409), or find it free again. The claim that
/// won is committed (the failed claim waited for it), so a reader sees it.
pub async fn taken(
    db: &Database,
    user_id: i32,
    key: &IdempotencyKey,
    fingerprint: &str,
    now: NaiveDateTime,
) -> Result<TakenKey, AppError> {
    let existing = idempotency_key::Entity::find()
        .filter(claim_of(user_id, key))
        .one(&db.reader)
        .await?;
    let Some(existing) = existing else {
        return Ok(TakenKey::Free);
    };
    if existing.created_at <= now - Duration::hours(RETENTION_HOURS) {
        // Past its retention (the sweeper has not deleted it yet): the key is free.
        let expired = idempotency_key::Entity::delete_many()
            .filter(idempotency_key::Column::Id.eq(existing.id))
            .into_query();
        db.execute(WritePlan::new().write("deleted", expired, Expect::Any))
            .await?;
        return Ok(TakenKey::Free);
    }
    if existing.fingerprint != fingerprint {
        return Err(AppError::IdempotencyKeyReused);
    }
    match (
        existing.state.as_str(),
        existing.response_status,
        existing.response_body,
    ) {
        (COMPLETED, Some(status), Some(body)) => Ok(TakenKey::Replay(SavedResponse {
            status: u16::try_from(status).unwrap_or(500),
            body,
        })),
        _ => Err(AppError::IdempotencyRequestInProgress),
    }
}

/// The claim's row: the key in progress, for no payment yet. A unique index refuses a second
/// claim of one key by one user.
pub fn claim_insert(
    user_id: i32,
    key: &IdempotencyKey,
    fingerprint: &str,
    now: NaiveDateTime,
) -> InsertStatement {
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
    .into_query()
}

/// Keeps a refusal for good under a key that no attempt claimed (the request was refused
/// before it started one), so a retry with the key hears the same. If the key was claimed
/// meanwhile, that claim stands.
pub async fn save_refusal(
    db: &Database,
    user_id: i32,
    key: &IdempotencyKey,
    fingerprint: &str,
    response: &SavedResponse,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let saved = idempotency_key::Entity::insert(idempotency_key::ActiveModel {
        user_id: Set(user_id),
        key: Set(key.as_str().to_string()),
        fingerprint: Set(fingerprint.to_string()),
        state: Set(COMPLETED.into()),
        response_status: Set(Some(i32::from(response.status))),
        response_body: Set(Some(response.body.clone())),
        payment_id: Set(None),
        created_at: Set(now),
        ..Default::default()
    })
    .into_query();
    match db
        .execute(WritePlan::new().write("saved", saved, Expect::Is(1)))
        .await
    {
        Err(err) if !err.is_unique_violation() => Err(err.into()),
        _ => Ok(()),
    }
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
    let abandoned = idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::State.eq(IN_PROGRESS))
        .filter(idempotency_key::Column::PaymentId.is_null())
        .filter(idempotency_key::Column::CreatedAt.lte(claimed_before))
        .into_query();
    deleted(db, abandoned).await
}

/// Saves the finished answer under the key.
pub async fn complete(
    db: &Database,
    claim_id: i32,
    response: &SavedResponse,
) -> Result<(), AppError> {
    let saved = save_response(idempotency_key::Column::Id.eq(claim_id), response);
    db.execute(WritePlan::new().write("saved", saved, Expect::Any))
        .await?;
    Ok(())
}

/// Saves `response` under the key that started payment `payment_id`, if a key did.
pub fn response_for_payment(payment_id: i32, response: &SavedResponse) -> UpdateStatement {
    save_response(idempotency_key::Column::PaymentId.eq(payment_id), response)
}

fn save_response(which: SimpleExpr, response: &SavedResponse) -> UpdateStatement {
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
        .into_query()
}

/// Gives the key back: the request's result is not saved (it may be retried with the key).
pub async fn release(db: &Database, claim_id: i32) -> Result<(), AppError> {
    let released = idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::Id.eq(claim_id))
        .into_query();
    deleted(db, released).await?;
    Ok(())
}

/// Gives back the key that started payment `payment_id`, if a key did.
pub fn release_for_payment(payment_id: i32) -> DeleteStatement {
    idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::PaymentId.eq(payment_id))
        .into_query()
}

/// The claim `claim` picks linked to the payment `payment` names.
pub fn link_payment_statement(claim: Condition, payment: SimpleExpr) -> UpdateStatement {
    idempotency_key::Entity::update_many()
        .col_expr(idempotency_key::Column::PaymentId, payment)
        .filter(claim)
        .into_query()
}

async fn deleted(db: &Database, delete: DeleteStatement) -> Result<u64, AppError> {
    let written = db
        .execute(WritePlan::new().write("deleted", delete, Expect::Any))
        .await?;
    Ok(u64::try_from(written.count("deleted")).unwrap_or(0))
}

/// Deletes keys older than the retention; returns how many.
pub async fn delete_expired(db: &Database, now: NaiveDateTime) -> Result<u64, AppError> {
    let expired = idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::CreatedAt.lte(now - Duration::hours(RETENTION_HOURS)))
        .into_query();
    deleted(db, expired).await
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
