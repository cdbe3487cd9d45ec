//! A plan on PostgreSQL or MySQL: `BEGIN` and every statement of the plan go as one message
//! (the text protocol runs them in order and answers each).
//!
//! - PostgreSQL checks the plan itself: each step is written as a query that gives its count
//!   and fails when its check does not hold (a scalar subquery that then returns two rows), so
//!   the message ends with `COMMIT` and a plan is one round trip. A failed check stops the
//!   message there; which step it was is the number of answers before the error, and a
//!   `ROLLBACK` follows.
//! - MySQL answers each statement's count; the checks judge them here, and a second message
//!   commits or rolls back (a plan whose checks cannot fail commits in the first).
//!
//! A query without arguments goes by the text protocol (sqlx sends it as a simple `Query`).
//! The text protocol takes no parameters, so the values are written into the message by
//! sea-query's builder for the backend, which escapes them (MySQL's connections keep
//! backslash escapes on, see `db::connect`): on MySQL into the statements, on PostgreSQL as
//! the arguments of `EXECUTE`s of statements prepared once per connection (see `prepared`).

use futures_util::TryStreamExt;
use sea_orm::{DbBackend, DbErr, QueryResult, RuntimeErr};
use sqlx::Either;

use super::prepared::{self, PgStatement};
use super::{PlanError, Rerun, Role, WritePlan, Written};
use crate::config::DatabaseKind;
use crate::db::session::Held;
use crate::db::{connection_error, query_error, Database};

/// Boxed where its lifetimes are concrete: sqlx's executors are not generic over every
/// lifetime, and a caller's `Send` check (an `async_trait`'s, a spawned task's) would otherwise
/// ask them to be.
pub(super) fn execute<'a>(
    db: &'a Database,
    held: Option<Held>,
    plan: &'a WritePlan,
) -> futures_util::future::BoxFuture<'a, Result<Written, Rerun>> {
    Box::pin(run(db, held, plan))
}

/// Runs `plan` on `held` (a session's connection) or on one taken from the pool.
async fn run(db: &Database, held: Option<Held>, plan: &WritePlan) -> Result<Written, Rerun> {
    let kind = db.kind;
    let backend = match kind {
        DatabaseKind::Postgres => DbBackend::Postgres,
        _ => DbBackend::MySql,
    };
    let roles: Vec<(&'static str, Role)> = plan.steps_for(kind).map(|s| (s.name, s.role)).collect();
    let checked_here = kind == DatabaseKind::Postgres;
    // PostgreSQL's statements go prepared (see `prepared`); MySQL's with their values in.
    let mut pg_statements = Vec::new();
    let mut text = String::from("BEGIN;\n");
    for step in plan.steps_for(kind) {
        let locking = (step.role == Role::Lock).then(|| with_row_lock(&step.sql, backend));
        let sql = locking.as_ref().unwrap_or(&step.sql);
        if checked_here {
            let bound = sql.bound(backend);
            let statement =
                PgStatement::new(&checked_step(plan, step, &bound.sql), &values(&bound));
            text.push_str(&statement.execute);
            pg_statements.push(statement);
        } else {
            text.push_str(&sql.inline(backend));
        }
        text.push_str(";\n");
    }
    for read in &plan.reads {
        let sql = super::Sql::from(read.sql.clone());
        if checked_here {
            let bound = sql.bound(backend);
            let statement = PgStatement::new(&bound.sql, &values(&bound));
            text.push_str(&statement.execute);
            pg_statements.push(statement);
        } else {
            text.push_str(&sql.inline(backend));
        }
        text.push_str(";\n");
    }
    // A plan whose checks cannot fail, or that the server checks itself, commits in the same
    // message: one round trip. (A statement that fails stops the message before its COMMIT;
    // the ROLLBACK follows.)
    let commits_at_once = checked_here
        || plan
            .steps_for(kind)
            .all(|step| step.expect == super::Expect::Any);
    if commits_at_once {
        text.push_str("COMMIT;\n");
    }
    let statements = 1 + roles.len() + plan.reads.len() + usize::from(commits_at_once);
    // The same steps on either server; a macro, because sqlx's executors are concrete types
    // whose generic form does not keep the future `Send`.
    // The stream's type is written out: left to inference it is a projection through
    // sqlx's `Executor`, which the compiler cannot prove `Send` for every lifetime.
    macro_rules! run_on {
        ($held:expr, $pool:expr, $done:ty, $row:ty, $prepare:path) => {{
            let mut conn = match $held {
                Some(conn) => conn,
                None => $pool
                    .acquire()
                    .await
                    .map_err(|e| PlanError::Failed(connection_error(e)))?,
            };
            let mut prepared_here = false;
            let answers = loop {
                let results: futures_util::stream::BoxStream<
                    '_,
                    Result<Either<$done, $row>, sqlx::Error>,
                > = sqlx::Executor::fetch_many(&mut *conn, text.as_str());
                match collect(results, statements).await {
                    // A statement this connection has not prepared: nothing of the plan was
                    // kept; prepare what is missing and run it again, once.
                    Err((_, err)) if !prepared_here && prepared::is_missing(&err) => {
                        prepared_here = true;
                        let ready = match sqlx::Executor::execute(&mut *conn, "ROLLBACK").await {
                            Ok(_) => $prepare(&mut *conn, &pg_statements).await,
                            Err(err) => Err(err),
                        };
                        if let Err(err) = ready {
                            conn.close_on_drop();
                            return Err(Rerun::Failed(PlanError::Failed(query_error(err))));
                        }
                    }
                    answers => break answers,
                }
            };
            let judged = answers
                .map_err(|(answered, err)| refusal(&roles, answered, err))
                .and_then(|answers| written(plan, kind, &roles, answers));
            let ended: Result<$done, sqlx::Error> = match (&judged, commits_at_once) {
                (Ok(_), true) => Ok(<$done>::default()),
                (Ok(_), false) => sqlx::Executor::execute(&mut *conn, "COMMIT").await,
                (Err(_), _) => sqlx::Executor::execute(&mut *conn, "ROLLBACK").await,
            };
            ended_with(conn, judged, ended)
        }};
    }
    let outcome = match kind {
        DatabaseKind::Postgres => run_on!(
            match held {
                Some(Held::Postgres(conn)) => Some(conn),
                _ => None,
            },
            db.writer.get_postgres_connection_pool(),
            sqlx::postgres::PgQueryResult,
            sqlx::postgres::PgRow,
            prepared::prepare_missing
        ),
        _ => run_on!(
            match held {
                Some(Held::MySql(conn)) => Some(conn),
                _ => None,
            },
            db.writer.get_mysql_connection_pool(),
            sqlx::mysql::MySqlQueryResult,
            sqlx::mysql::MySqlRow,
            nothing_to_prepare
        ),
    };
    match outcome {
        // Two transactions waited for each other and the server gave up one of them: nothing
        // of it was written, and the server's own advice is to run it again.
        Err(PlanError::Failed(err)) if is_deadlock(&err) => {
            tracing::debug!(error = %err, "a write plan lost a deadlock; running it again");
            Err(Rerun::Again)
        }
        outcome => Ok(outcome?),
    }
}

/// A lock step's read with the server's row lock (see [`crate::db::with_row_lock`]).
fn with_row_lock(sql: &super::Sql, backend: DbBackend) -> super::Sql {
    match sql {
        super::Sql::Select(select) => super::Sql::Select(Box::new(crate::db::with_row_lock(
            (**select).clone(),
            backend,
        ))),
        other => other.clone(),
    }
}

/// MySQL's plans go with their values written in: nothing is prepared.
async fn nothing_to_prepare(
    _: &mut sqlx::MySqlConnection,
    _: &[PgStatement],
) -> Result<(), sqlx::Error> {
    Ok(())
}

/// A statement's values, for PostgreSQL's `EXECUTE`.
fn values(statement: &sea_orm::Statement) -> sea_orm::sea_query::Values {
    statement
        .values
        .clone()
        .unwrap_or(sea_orm::sea_query::Values(Vec::new()))
}

/// Whether the server rolled the transaction back to break a deadlock (SQLSTATE 40001 on
/// MySQL's 1213, 40P01 on PostgreSQL).
fn is_deadlock(err: &DbErr) -> bool {
    matches!(
        err,
        DbErr::Query(RuntimeErr::SqlxError(sqlx::Error::Database(db)))
            if matches!(db.code().as_deref(), Some("40001" | "40P01"))
    )
}

/// Each statement's answer: its changed-row count and its rows.
type Answer = (u64, Vec<QueryResult>);

/// One answer per statement from the text's results; on an error, how many statements had
/// answered before it.
async fn collect<R, Q>(
    mut results: impl futures_util::Stream<Item = Result<Either<Q, R>, sqlx::Error>> + Unpin,
    statements: usize,
) -> Result<Vec<Answer>, (usize, DbErr)>
where
    R: Into<QueryResult>,
    Q: RowsAffected,
{
    let mut answers: Vec<Answer> = Vec::with_capacity(statements);
    let mut rows = Vec::new();
    loop {
        match results.try_next().await {
            Ok(Some(Either::Right(row))) => rows.push(row.into()),
            Ok(Some(Either::Left(done))) => {
                answers.push((done.affected(), std::mem::take(&mut rows)))
            }
            Ok(None) => break,
            Err(err) => return Err((answers.len(), query_error(err))),
        }
    }
    if answers.len() != statements {
        let answered = answers.len();
        return Err((
            answered,
            DbErr::Custom(format!(
                "a plan of {statements} statements had {answered} answers"
            )),
        ));
    }
    Ok(answers)
}

/// PostgreSQL's answer to a check that failed in the server: "more than one row returned by a
/// subquery used as an expression".
const CHECK_FAILED: &str = "21000";

/// The error of a plan's text as the caller should hear it: a check the server refused is
/// named by the step it stopped at (the answer after BEGIN's and the earlier steps').
fn refusal(roles: &[(&'static str, Role)], answered: usize, err: DbErr) -> PlanError {
    let code = match &err {
        DbErr::Query(RuntimeErr::SqlxError(sqlx::Error::Database(db))) => db.code(),
        _ => None,
    };
    match (
        code.as_deref(),
        answered.checked_sub(1).and_then(|i| roles.get(i)),
    ) {
        (Some(CHECK_FAILED), Some((name, _))) => PlanError::Refused(name),
        _ => PlanError::Failed(err),
    }
}

/// A step as PostgreSQL runs it when it checks the plan itself: one row whose first column is
/// the step's count, and a column that fails the statement when the check does not hold. A
/// step another one compares with keeps its count for the transaction (`set_config`).
fn checked_step(plan: &WritePlan, step: &super::Step, sql: &str) -> String {
    use super::Expect;
    let source = match step.role {
        Role::Write => format!(
            "WITH w AS ({sql} RETURNING 1) SELECT c.n FROM (SELECT count(*) AS n FROM w) AS c"
        ),
        Role::Lock => {
            format!("WITH w AS ({sql}) SELECT c.n FROM (SELECT count(*) AS n FROM w) AS c")
        }
        Role::Count => format!("SELECT c.n FROM ({sql}) AS c(n)"),
    };
    let setting = |name: &str| format!("'skybook.plan_{name}'");
    let holds = match step.expect {
        Expect::Is(value) => Some(format!("c.n = {value}")),
        Expect::Below(cap) => Some(format!("c.n < {cap}")),
        Expect::AtLeast(floor) => Some(format!("c.n >= {floor}")),
        Expect::SameAs(other) => Some(format!("c.n = current_setting({})::bigint", setting(other))),
        Expect::Any => None,
    };
    let mut extra = String::new();
    if let Some(holds) = holds {
        extra.push_str(&format!(
            ", (SELECT 1 UNION ALL SELECT 2 WHERE NOT ({holds})) AS checked"
        ));
    }
    let compared = plan
        .steps
        .iter()
        .any(|other| other.expect == Expect::SameAs(step.name));
    if compared {
        extra.push_str(&format!(
            ", set_config({}, c.n::text, true) AS kept",
            setting(step.name)
        ));
    }
    // `SELECT c.n` is the first column; the rest are added after it.
    source.replacen("SELECT c.n FROM", &format!("SELECT c.n{extra} FROM"), 1)
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
            Role::Write if kind != DatabaseKind::Postgres => {
                i64::try_from(affected).unwrap_or(i64::MAX)
            }
            Role::Lock if kind != DatabaseKind::Postgres => {
                i64::try_from(rows.len()).unwrap_or(i64::MAX)
            }
            // A count, or on PostgreSQL any step (see `checked_step`): its first column.
            _ => match rows.as_slice() {
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
