//! The outbox table: enqueue inside a booking transaction; claim, finish and retry.

use chrono::{Duration, NaiveDateTime};
use sea_orm::sea_query::{Expr, InsertStatement, Query, SelectStatement};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait, UpdateMany,
};

use crate::db::plan::{Expect, WritePlan};
use crate::db::Database;
use crate::error::AppError;
use crate::metrics::EmailOutcome;
use crate::models::booking::booking;
use crate::models::identity::user;
use crate::models::notify::email::{self, FAILED, PENDING, SENT};
use crate::services::pagination::{fetch_page, Page, PageRequest};

pub const CONFIRMED: &str = "confirmed";
pub const CANCELLED: &str = "cancelled";
pub const EXPIRED: &str = "expired";
/// The booking's flight was cancelled by the airline (in place of [`CANCELLED`]).
pub const FLIGHT_CANCELLED: &str = "flight_cancelled";
/// The booking's flight was moved; the old times are in the email's details.
pub const SCHEDULE_CHANGED: &str = "schedule_changed";

/// A password-reset link, to an account rather than about a booking.
pub const PASSWORD_RESET: &str = "password_reset";

/// A fresh random key for the emails one statement writes (see `email::Model::message_key`).
fn new_message_key() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// What a `schedule_changed` email keeps of the flight before it moved (its details).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ScheduleDetails {
    pub old_departure: chrono::DateTime<chrono::Utc>,
    pub old_arrival: chrono::DateTime<chrono::Utc>,
}

/// How long one worker may take to send one email before another may try it.
pub const LEASE_SECONDS: i64 = 60;
/// Error texts kept per email.
const MAX_ERROR_LEN: usize = 1000;

/// The email announcing `kind` for the booking, for the plan that makes the change: it inserts
/// one row, or none when the booking has no owner. The recipient is the owner's address, read
/// by the INSERT itself.
pub fn enqueue_insert(
    booking_id: i32,
    kind: &str,
    max_attempts: u32,
    now: NaiveDateTime,
) -> Result<InsertStatement, AppError> {
    let this_booking = Query::select()
        .column(booking::Column::Id)
        .from(booking::Entity)
        .and_where(booking::Column::Id.eq(booking_id))
        .to_owned();
    enqueue_for_each(this_booking, kind, None, max_attempts, now)
}

/// One email announcing `kind` for each booking `bookings` selects (their ids), to its owner,
/// with `details` (JSON) if any: for the plan that makes the change to all of them.
pub fn enqueue_for_each(
    bookings: SelectStatement,
    kind: &str,
    details: Option<String>,
    max_attempts: u32,
    now: NaiveDateTime,
) -> Result<InsertStatement, AppError> {
    let owners = Query::select()
        .column((booking::Entity, booking::Column::Id))
        .column((user::Entity, user::Column::Email))
        .from(booking::Entity)
        .inner_join(
            user::Entity,
            Expr::col((user::Entity, user::Column::Id))
                .equals((booking::Entity, booking::Column::UserId)),
        )
        .and_where(Expr::col((booking::Entity, booking::Column::Id)).in_subquery(bookings))
        .to_owned();
    let email = PendingEmail {
        kind,
        details,
        max_attempts,
        now,
    };
    email.insert_for(
        owners,
        &[email::Column::BookingId, email::Column::Recipient],
    )
}

/// What a `password_reset` email keeps: the seed its token is made from (see
/// `services::identity::ResetKey`), never the token.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ResetDetails {
    pub seed: String,
}

/// One email announcing `kind` to the account with `address`, or none when no account has
/// it: the statement is the same either way (see the password reset's timing).
pub fn enqueue_for_account(
    address: &str,
    kind: &str,
    details: String,
    max_attempts: u32,
    now: NaiveDateTime,
) -> Result<InsertStatement, AppError> {
    let account = Query::select()
        .column(user::Column::Email)
        .from(user::Entity)
        .and_where(user::Column::Email.eq(address))
        .to_owned();
    let email = PendingEmail {
        kind,
        details: Some(details),
        max_attempts,
        now,
    };
    email.insert_for(account, &[email::Column::Recipient])
}

/// A new email's fixed values, written once per row that a SELECT gives.
struct PendingEmail<'a> {
    kind: &'a str,
    details: Option<String>,
    max_attempts: u32,
    now: NaiveDateTime,
}

impl PendingEmail<'_> {
    /// `INSERT INTO email_outbox (addressed…, kind, …) SELECT addressed…, 'kind', …`: one row
    /// per row of `addressed`, whose columns are `addressed_columns` (the recipient at least).
    fn insert_for(
        self,
        mut addressed: SelectStatement,
        addressed_columns: &[email::Column],
    ) -> Result<InsertStatement, AppError> {
        addressed
            .expr(Expr::val(self.kind))
            .expr(Expr::val(PENDING))
            .expr(Expr::val(0))
            .expr(Expr::val(
                i32::try_from(self.max_attempts).unwrap_or(i32::MAX),
            ))
            .expr(Expr::val(self.now))
            .expr(Expr::val(self.now))
            .expr(Expr::val(self.details))
            .expr(Expr::val(new_message_key()));
        let columns = addressed_columns.iter().copied().chain([
            email::Column::Kind,
            email::Column::Status,
            email::Column::Attempts,
            email::Column::MaxAttempts,
            email::Column::NextAttemptAt,
            email::Column::CreatedAt,
            email::Column::Details,
            email::Column::MessageKey,
        ]);
        Ok(Query::insert()
            .into_table(email::Entity)
            .columns(columns)
            .select_from(addressed)
            .map_err(|e| anyhow::anyhow!("outbox insert: {e}"))?
            .to_owned())
    }
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
    let due: Vec<i32> = due
        .select_only()
        .column(email::Column::Id)
        .into_tuple()
        .all(&db.reader)
        .await?;
    // One conditional write per email, all in one plan: of several workers (or instances),
    // exactly one leases each.
    let leases = due.iter().map(|&id| {
        email::Entity::update_many()
            .col_expr(email::Column::LeaseUntil, Expr::value(lease))
            .filter(email::Column::Id.eq(id))
            .filter(email::Column::Status.eq(PENDING))
            .filter(free())
            .into_query()
    });
    let claimed = leased(db, &due, leases).await?;
    Ok((claimed, lease))
}

/// Takes the emails for sending that still carry `lease` (each renewed for the send): of two
/// jobs for one email, only one gets it. Returns the emails taken, in id order.
pub async fn take(
    db: &Database,
    ids: &[i32],
    lease: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<Vec<email::Model>, AppError> {
    let renewals = ids.iter().map(|&id| {
        lease_renewal(lease, now)
            .filter(email::Column::Id.eq(id))
            .into_query()
    });
    leased(db, ids, renewals).await
}

/// Runs one lease write per email of `ids` (in order) in one plan and returns the emails whose
/// write changed their row, as they are now.
async fn leased(
    db: &Database,
    ids: &[i32],
    writes: impl Iterator<Item = sea_orm::sea_query::UpdateStatement>,
) -> Result<Vec<email::Model>, AppError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // Quiet: a lease nobody outside learns of; lost, the email is only leased again.
    let plan = writes
        .fold(WritePlan::new().quiet(), |plan, write| {
            plan.write("lease", write, Expect::Any)
        })
        .read(
            "emails",
            email::Entity::find()
                .filter(email::Column::Id.is_in(ids.iter().copied()))
                .order_by_asc(email::Column::Id),
        );
    let written = db.execute(plan).await?;
    let mine: Vec<i32> = ids
        .iter()
        .zip(written.counts_of("lease"))
        .filter(|(_, count)| *count == 1)
        .map(|(id, _)| *id)
        .collect();
    Ok(written
        .all::<email::Model>("emails")?
        .into_iter()
        .filter(|email| mine.contains(&email.id))
        .collect())
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
    let released = email::Entity::update_many()
        .col_expr(
            email::Column::LeaseUntil,
            Expr::value(Option::<NaiveDateTime>::None),
        )
        .filter(email::Column::Id.eq(id))
        .filter(email::Column::Status.eq(PENDING))
        .into_query();
    db.execute(WritePlan::new().write("released", released, Expect::Any))
        .await?;
    Ok(())
}

/// The server accepted it: never send it again. (On SQLite the write joins the next group of
/// batches rather than paying for a transaction of its own, see `db::plan`.)
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
        .filter(email::Column::Status.eq(PENDING))
        .into_query();
    // None marked: another job recorded it first. Quiet: a mark lost to a power cut sends
    // the email again, which is all the flush would prevent.
    db.execute(WritePlan::new().write("sent", marked, Expect::Any).quiet())
        .await?;
    Ok(())
}

/// Records a failed attempt: tried again after `retry_seconds · 2^(attempts-1)` (at most a
/// day), or given up (`failed`) once it has been tried `max_attempts` times; says which.
pub async fn mark_attempt_failed(
    db: &Database,
    sent: &email::Model,
    error: &str,
    retry_seconds: u64,
    now: NaiveDateTime,
) -> Result<EmailOutcome, AppError> {
    let attempts = sent.attempts + 1;
    let give_up = attempts >= sent.max_attempts;
    let delay = backoff_seconds(retry_seconds, attempts);
    let error: String = error.chars().take(MAX_ERROR_LEN).collect();
    let failed = email::Entity::update_many()
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
        .into_query();
    db.execute(WritePlan::new().write("failed", failed, Expect::Any))
        .await?;
    Ok(if give_up {
        EmailOutcome::Failed
    } else {
        EmailOutcome::Retried
    })
}

fn backoff_seconds(retry_seconds: u64, attempts: i32) -> i64 {
    let doublings = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(20);
    let delay = retry_seconds.saturating_mul(1u64 << doublings).min(86_400);
    i64::try_from(delay).unwrap_or(86_400)
}

/// Emails still to be sent: due now, waiting for a retry, or being sent.
pub async fn waiting(db: &Database) -> Result<u64, AppError> {
    Ok(email::Entity::find()
        .filter(email::Column::Status.eq(PENDING))
        .count(&db.reader)
        .await?)
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
    let requeue = email::Entity::update_many()
        .col_expr(email::Column::Status, Expr::value(PENDING))
        .col_expr(email::Column::Attempts, Expr::value(0))
        .col_expr(email::Column::NextAttemptAt, Expr::value(now))
        .col_expr(
            email::Column::LeaseUntil,
            Expr::value(Option::<NaiveDateTime>::None),
        )
        .filter(email::Column::Id.eq(id))
        .filter(email::Column::Status.eq(FAILED))
        .into_query();
    let written = db
        .execute(
            WritePlan::new()
                .write("requeued", requeue, Expect::Any)
                .read(
                    "email",
                    email::Entity::find().filter(email::Column::Id.eq(id)),
                ),
        )
        .await?;
    let current: email::Model = written.all("email")?.pop().ok_or(AppError::NotFound)?;
    if written.count("requeued") == 0 {
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
