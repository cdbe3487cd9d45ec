//! The outbox table: enqueue inside a booking transaction; claim, finish and retry.

use chrono::{Duration, NaiveDateTime};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Statement, UpdateMany,
};

use crate::config::DatabaseKind;
use crate::db::batch::Batch;
use crate::db::Database;
use crate::error::AppError;
use crate::models::booking::booking;
use crate::models::identity::user;
use crate::models::notify::email::{self, FAILED, PENDING, SENT};
use crate::services::pagination::{fetch_page, Page, PageRequest};

pub const CONFIRMED: &str = "confirmed";
pub const CANCELLED: &str = "cancelled";
pub const EXPIRED: &str = "expired";

/// How long one worker may take to send one email before another may try it.
pub const LEASE_SECONDS: i64 = 60;
/// Error texts kept per email.
const MAX_ERROR_LEN: usize = 1000;

/// Writes the email announcing `kind` for the booking; call it inside the transaction that
/// makes the change.
pub async fn enqueue<C: ConnectionTrait>(
    txn: &C,
    booking_id: i32,
    kind: &str,
    max_attempts: u32,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let insert = enqueue_statement(
        txn.get_database_backend(),
        booking_id,
        kind,
        max_attempts,
        now,
    )?;
    let inserted = txn.execute(insert).await?.rows_affected();
    if inserted != 1 {
        return Err(anyhow::anyhow!("email for booking {booking_id}, which has no owner").into());
    }
    Ok(())
}

/// The write of [`enqueue`]: it inserts one row, or none when the booking has no owner.
pub fn enqueue_statement(
    backend: DbBackend,
    booking_id: i32,
    kind: &str,
    max_attempts: u32,
    now: NaiveDateTime,
) -> Result<Statement, AppError> {
    // One statement: the recipient is the booking's owner's address, read by the INSERT
    // itself (a round trip fewer through SQLite's one writer). Columns left out are NULL.
    let owner_of_booking = Query::select()
        .column(booking::Column::UserId)
        .from(booking::Entity)
        .and_where(booking::Column::Id.eq(booking_id))
        .to_owned();
    let row = Query::select()
        .expr(Expr::val(booking_id))
        .expr(Expr::val(kind))
        .column((user::Entity, user::Column::Email))
        .expr(Expr::val(PENDING))
        .expr(Expr::val(0))
        .expr(Expr::val(i32::try_from(max_attempts).unwrap_or(i32::MAX)))
        .expr(Expr::val(now))
        .expr(Expr::val(now))
        .from(user::Entity)
        .and_where(user::Column::Id.in_subquery(owner_of_booking))
        .to_owned();
    let insert = Query::insert()
        .into_table(email::Entity)
        .columns([
            email::Column::BookingId,
            email::Column::Kind,
            email::Column::Recipient,
            email::Column::Status,
            email::Column::Attempts,
            email::Column::MaxAttempts,
            email::Column::NextAttemptAt,
            email::Column::CreatedAt,
        ])
        .select_from(row)
        .map_err(|e| anyhow::anyhow!("outbox insert: {e}"))?
        .to_owned();
    Ok(backend.build(&insert))
}

/// Takes up to `limit` due emails for this worker: a conditional write per email, so of
/// several workers (or instances) exactly one gets each. Returns them with the lease set.
pub async fn claim_due(
    db: &Database,
    now: NaiveDateTime,
    limit: u64,
) -> Result<(Vec<email::Model>, NaiveDateTime), AppError> {
    let free = || {
        Condition::any()
            .add(email::Column::LeaseUntil.is_null())
            .add(email::Column::LeaseUntil.lte(now))
    };
    let lease = now + Duration::seconds(LEASE_SECONDS);
    let due = email::Entity::find()
        .filter(email::Column::Status.eq(PENDING))
        .filter(email::Column::NextAttemptAt.lte(now))
        .filter(free())
        .order_by_asc(email::Column::Id)
        .limit(limit);
    let lease_free = || {
        email::Entity::update_many()
            .col_expr(email::Column::LeaseUntil, Expr::value(lease))
            .filter(email::Column::Status.eq(PENDING))
            .filter(free())
    };
    if db.writer.support_returning() {
        // One statement for the whole batch, still conditional per row.
        let mut claimed = lease_free()
            .filter(
                email::Column::Id.in_subquery(
                    due.clone()
                        .select_only()
                        .column(email::Column::Id)
                        .into_query(),
                ),
            )
            .exec_with_returning(&db.writer)
            .await?;
        claimed.sort_by_key(|email| email.id);
        return Ok((claimed, lease));
    }
    // MySQL can neither limit a subquery under IN nor return the rows it updated.
    let due = due.all(&db.writer).await?;
    let mut claimed = Vec::with_capacity(due.len());
    for candidate in due {
        let taken = lease_free()
            .filter(email::Column::Id.eq(candidate.id))
            .exec(&db.writer)
            .await?
            .rows_affected;
        if taken == 1 {
            claimed.push(candidate);
        }
    }
    Ok((claimed, lease))
}

/// Takes the email for sending if it still carries `lease` (renewed for the send): of two
/// jobs for one email, only one gets it. Returns the email.
pub async fn take(
    db: &Database,
    id: i32,
    lease: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<Option<email::Model>, AppError> {
    let renew = lease_renewal(lease, now).filter(email::Column::Id.eq(id));
    if db.writer.support_returning() {
        return Ok(renew.exec_with_returning(&db.writer).await?.pop());
    }
    if renew.exec(&db.writer).await?.rows_affected != 1 {
        return Ok(None);
    }
    Ok(email::Entity::find_by_id(id).one(&db.writer).await?)
}

/// [`take`] for several emails of one lease in one statement, where the database returns
/// the rows it updates (SQLite, PostgreSQL); `None` elsewhere, where the caller takes them
/// one by one. Returns the emails it took, each with its renewed lease.
pub async fn take_together(
    db: &Database,
    ids: &[i32],
    lease: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<Option<Vec<email::Model>>, AppError> {
    if !db.writer.support_returning() {
        return Ok(None);
    }
    let taken = lease_renewal(lease, now)
        .filter(email::Column::Id.is_in(ids.iter().copied()))
        .exec_with_returning(&db.writer)
        .await?;
    Ok(Some(taken))
}

/// A fresh lease from `now` for pending emails that still carry `lease` (the caller picks
/// which).
fn lease_renewal(lease: NaiveDateTime, now: NaiveDateTime) -> UpdateMany<email::Entity> {
    email::Entity::update_many()
        .col_expr(
            email::Column::LeaseUntil,
            Expr::value(now + Duration::seconds(LEASE_SECONDS)),
        )
        .filter(email::Column::Status.eq(PENDING))
        .filter(email::Column::LeaseUntil.eq(lease))
}

/// Gives a claimed email back at once (it could not be queued).
pub async fn release(db: &Database, id: i32) -> Result<(), AppError> {
    email::Entity::update_many()
        .col_expr(
            email::Column::LeaseUntil,
            Expr::value(Option::<NaiveDateTime>::None),
        )
        .filter(email::Column::Id.eq(id))
        .filter(email::Column::Status.eq(PENDING))
        .exec(&db.writer)
        .await?;
    Ok(())
}

/// The server accepted it: never send it again. On SQLite the write joins the next group of
/// batches (see `db::batch_group`) rather than paying for a transaction of its own.
pub async fn mark_sent(db: &Database, id: i32, now: NaiveDateTime) -> Result<(), AppError> {
    let marked = email::Entity::update_many()
        .col_expr(email::Column::Status, Expr::value(SENT))
        .col_expr(email::Column::SentAt, Expr::value(now))
        .col_expr(
            email::Column::LeaseUntil,
            Expr::value(Option::<NaiveDateTime>::None),
        )
        .col_expr(
            email::Column::Attempts,
            Expr::col(email::Column::Attempts).add(1),
        )
        .filter(email::Column::Id.eq(id))
        .filter(email::Column::Status.eq(PENDING));
    if db.kind == DatabaseKind::Sqlite {
        // Any count will do: none means another job recorded it first.
        let batch = Batch::new().write(marked.clone().build(DbBackend::Sqlite));
        if db.run_batch(batch, |_| Some(())).await?.is_some() {
            return Ok(());
        }
    }
    marked.exec(&db.writer).await?;
    Ok(())
}

/// Records a failed attempt: tried again after `retry_seconds · 2^(attempts-1)` (at most a
/// day), or given up (`failed`) once it has been tried `max_attempts` times.
pub async fn mark_attempt_failed(
    db: &Database,
    sent: &email::Model,
    error: &str,
    retry_seconds: u64,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let attempts = sent.attempts + 1;
    let give_up = attempts >= sent.max_attempts;
    let delay = backoff_seconds(retry_seconds, attempts);
    let error: String = error.chars().take(MAX_ERROR_LEN).collect();
    email::Entity::update_many()
        .col_expr(email::Column::Attempts, Expr::value(attempts))
        .col_expr(
            email::Column::Status,
            Expr::value(if give_up { FAILED } else { PENDING }),
        )
        .col_expr(email::Column::LastError, Expr::value(error))
        .col_expr(
            email::Column::NextAttemptAt,
            Expr::value(now + Duration::seconds(delay)),
        )
        .col_expr(
            email::Column::LeaseUntil,
            Expr::value(Option::<NaiveDateTime>::None),
        )
        .filter(email::Column::Id.eq(sent.id))
        .filter(email::Column::Status.eq(PENDING))
        .exec(&db.writer)
        .await?;
    Ok(())
}

fn backoff_seconds(retry_seconds: u64, attempts: i32) -> i64 {
    let doublings = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(20);
    let delay = retry_seconds.saturating_mul(1u64 << doublings).min(86_400);
    i64::try_from(delay).unwrap_or(86_400)
}

/// Emails by status, newest first.
pub async fn list(
    db: &Database,
    status: Option<&str>,
    page: PageRequest,
) -> Result<Page<email::Model>, AppError> {
    let mut query = email::Entity::find();
    if let Some(status) = status {
        query = query.filter(email::Column::Status.eq(status));
    }
    fetch_page(&db.reader, query.order_by_desc(email::Column::Id), page).await
}

/// Puts a failed email back in the queue with a fresh set of attempts.
pub async fn retry(db: &Database, id: i32, now: NaiveDateTime) -> Result<email::Model, AppError> {
    let requeued = email::Entity::update_many()
        .col_expr(email::Column::Status, Expr::value(PENDING))
        .col_expr(email::Column::Attempts, Expr::value(0))
        .col_expr(email::Column::NextAttemptAt, Expr::value(now))
        .col_expr(
            email::Column::LeaseUntil,
            Expr::value(Option::<NaiveDateTime>::None),
        )
        .filter(email::Column::Id.eq(id))
        .filter(email::Column::Status.eq(FAILED))
        .exec(&db.writer)
        .await?
        .rows_affected;
    let current = email::Entity::find_by_id(id)
        .one(&db.writer)
        .await?
        .ok_or(AppError::NotFound)?;
    if requeued == 0 {
        return Err(AppError::Conflict(format!(
            "the email is {}, not failed",
            current.status
        )));
    }
    Ok(current)
}

#[cfg(test)]
mod tests {
    use super::backoff_seconds;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff_seconds(30, 1), 30);
        assert_eq!(backoff_seconds(30, 2), 60);
        assert_eq!(backoff_seconds(30, 4), 240);
        assert_eq!(backoff_seconds(30, 60), 86_400);
        assert_eq!(backoff_seconds(u64::MAX, 3), 86_400);
    }
}
