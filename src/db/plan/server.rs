//! A plan on PostgreSQL or MySQL: `BEGIN` and every statement of the plan go as one message
//! (the text protocol runs them in order and answers each), the checks judge the counts, and
//! a second message commits or rolls back. Two round trips, whatever the plan's size.
//!
//! A query without arguments goes by the text protocol (sqlx sends it as a simple `Query`).
//! The text protocol takes no parameters, so the values are written into the statements by
//! sea-query's builder for the backend, which escapes them (MySQL's connections keep
//! backslash escapes on, see `db::connect`).

use futures_util::TryStreamExt;
use sea_orm::{DbBackend, DbErr, QueryResult, RuntimeErr};
use sqlx::Either;

use super::{PlanError, Rerun, Role, WritePlan, Written};
use crate::config::DatabaseKind;
use crate::db::Database;

fn sqlx_err(err: sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(err))
}

/// Boxed where its lifetimes are concrete: sqlx's executors are not generic over every
/// lifetime, and a caller's `Send` check (an `async_trait`'s, a spawned task's) would otherwise
/// ask them to be.
pub(super) fn execute<'a>(
    db: &'a Database,
    plan: &'a WritePlan,
) -> futures_util::future::BoxFuture<'a, Result<Written, Rerun>> {
    Box::pin(run(db, plan))
}

async fn run(db: &Database, plan: &WritePlan) -> Result<Written, Rerun> {
    let kind = db.kind;
    let backend = match kind {
        DatabaseKind::Postgres => DbBackend::Postgres,
        _ => DbBackend::MySql,
    };
    let roles: Vec<(&'static str, Role)> = plan.steps_for(kind).map(|s| (s.name, s.role)).collect();
    let mut text = String::from("BEGIN;\n");
    for step in plan.steps_for(kind) {
        text.push_str(&step.sql.inline(backend));
        text.push_str(";\n");
    }
    for read in &plan.reads {
        text.push_str(&super::Sql::from(read.sql.clone()).inline(backend));
        text.push_str(";\n");
    }
    // A plan whose checks cannot fail commits in the same message: one round trip. (A
    // statement that fails stops the message before its COMMIT; the ROLLBACK follows.)
    let unrefusable = plan
        .steps_for(kind)
        .all(|step| step.expect == super::Expect::Any);
    if unrefusable {
        text.push_str("COMMIT;\n");
    }
    let statements = 1 + roles.len() + plan.reads.len() + usize::from(unrefusable);
    // The same steps on either server; a macro, because sqlx's executors are concrete types
    // whose generic form does not keep the future `Send`.
    // The stream's type is written out: left to inference it is a projection through
    // sqlx's `Executor`, which the compiler cannot prove `Send` for every lifetime.
    macro_rules! run_on {
        ($pool:expr, $done:ty, $row:ty) => {{
            let mut conn = $pool
                .acquire()
                .await
                .map_err(|e| PlanError::Failed(DbErr::Conn(RuntimeErr::SqlxError(e))))?;
            let results: futures_util::stream::BoxStream<
                '_,
                Result<Either<$done, $row>, sqlx::Error>,
            > = sqlx::Executor::fetch_many(&mut *conn, text.as_str());
            let answers = collect(results, statements).await;
            let judged = answers
                .map_err(PlanError::Failed)
                .and_then(|answers| written(plan, kind, &roles, answers));
            let ended: Result<$done, sqlx::Error> = match (&judged, unrefusable) {
                (Ok(_), true) => Ok(<$done>::default()),
                (Ok(_), false) => sqlx::Executor::execute(&mut *conn, "COMMIT").await,
                (Err(_), _) => sqlx::Executor::execute(&mut *conn, "ROLLBACK").await,
            };
            ended_with(conn, judged, ended)
        }};
    }
    let outcome = match kind {
        DatabaseKind::Postgres => run_on!(
            db.writer.get_postgres_connection_pool(),
            sqlx::postgres::PgQueryResult,
            sqlx::postgres::PgRow
        ),
        _ => run_on!(
            db.writer.get_mysql_connection_pool(),
            sqlx::mysql::MySqlQueryResult,
            sqlx::mysql::MySqlRow
        ),
    };
    Ok(outcome?)
}

/// Each statement's answer: its changed-row count and its rows.
type Answer = (u64, Vec<QueryResult>);

/// One answer per statement from the text's results.
async fn collect<R, Q>(
    mut results: impl futures_util::Stream<Item = Result<Either<Q, R>, sqlx::Error>> + Unpin,
    statements: usize,
) -> Result<Vec<Answer>, DbErr>
where
    R: Into<QueryResult>,
    Q: RowsAffected,
{
    let mut answers: Vec<Answer> = Vec::with_capacity(statements);
    let mut rows = Vec::new();
    while let Some(item) = results.try_next().await.map_err(sqlx_err)? {
        match item {
            Either::Right(row) => rows.push(row.into()),
            Either::Left(done) => answers.push((done.affected(), std::mem::take(&mut rows))),
        }
    }
    if answers.len() != statements {
        return Err(DbErr::Custom(format!(
            "a plan of {statements} statements had {} answers",
            answers.len()
        )));
    }
    Ok(answers)
}

/// The rows a statement changed, whichever server answered.
trait RowsAffected {
    fn affected(&self) -> u64;
}

impl RowsAffected for sqlx::postgres::PgQueryResult {
    fn affected(&self) -> u64 {
        self.rows_affected()
    }
}

impl RowsAffected for sqlx::mysql::MySqlQueryResult {
    fn affected(&self) -> u64 {
        self.rows_affected()
    }
}

/// The outcome once the transaction ended. A connection whose transaction could not be
/// ended is closed, not handed back to the pool inside it.
fn ended_with<DB: sqlx::Database, E>(
    mut conn: sqlx::pool::PoolConnection<DB>,
    judged: Result<Written, PlanError>,
    ended: Result<E, sqlx::Error>,
) -> Result<Written, PlanError> {
    match (judged, ended) {
        (Ok(written), Ok(_)) => Ok(written),
        (Ok(_), Err(err)) => {
            conn.close_on_drop();
            Err(PlanError::Unknown(err.to_string()))
        }
        (Err(refused), Ok(_)) => Err(refused),
        (Err(refused), Err(err)) => {
            tracing::warn!(error = %err, "could not roll back a refused write; closing its connection");
            conn.close_on_drop();
            Err(refused)
        }
    }
}

fn written(
    plan: &WritePlan,
    kind: DatabaseKind,
    roles: &[(&'static str, Role)],
    answers: Vec<Answer>,
) -> Result<Written, PlanError> {
    // The first answer is BEGIN's.
    let mut answers = answers.into_iter().skip(1);
    let mut counts = Vec::with_capacity(roles.len());
    for &(name, role) in roles {
        let (affected, rows) = answers
            .next()
            .ok_or_else(|| DbErr::Custom("a plan's answer is missing".into()))?;
        let count = match role {
            Role::Write | Role::Lock => i64::try_from(affected).unwrap_or(i64::MAX),
            Role::Count => match rows.as_slice() {
                [row] => row
                    .try_get_by_index::<i64>(0)
                    .or_else(|_| row.try_get_by_index::<i32>(0).map(i64::from))?,
                _ => return Err(PlanError::Refused(name)),
            },
        };
        counts.push((name, count));
    }
    let values: Vec<i64> = counts.iter().map(|(_, count)| *count).collect();
    plan.judge(kind, &values).map_err(PlanError::Refused)?;
    let reads = plan
        .reads
        .iter()
        .zip(answers)
        .map(|(read, (_, rows))| (read.name, rows))
        .collect();
    Ok(Written { counts, reads })
}
