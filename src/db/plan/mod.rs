//! Guarded write plans: one description of a transaction, run the way each backend runs it
//! fastest.
//!
//! A service describes a transaction once: its statements in order, the row count (or the
//! value, for a query of one integer) each must give, named, and the rows to read back once
//! they ran. [`Database::execute`] runs the whole plan in one transaction and keeps it only if
//! every check holds; otherwise nothing of it stays and the caller learns which check failed
//! ([`PlanError::Refused`]), or which error a statement gave ([`PlanError::Failed`]). It then
//! reads the state once to choose what to answer. Every statement runs whatever the earlier
//! ones found: a plan says the whole write, and the checks judge it afterwards.
//!
//! How a plan runs is the `db` layer's business alone:
//! - SQLite (`sqlite.rs`): one batch in a group of batches on the single writer (see
//!   [`super::batch_group`]): a trip to the writer's thread, shared transactions.
//! - PostgreSQL (`server.rs`): the whole plan and its `COMMIT` in one message that checks
//!   itself: one round trip.
//! - MySQL (`server.rs`): `BEGIN` and every statement in one message, then `COMMIT` or
//!   `ROLLBACK`: two round trips whatever the plan's size.
//!
//! Row locks ([`WritePlan::lock`]) are taken only where the database has them; SQLite runs one
//! write transaction at a time. A plan returns once it is as durable as the settings say
//! (`SKYBOOK_SQLITE_SYNC`), unless it is [`WritePlan::quiet`]: no caller flushes anything.

mod prepared;
mod server;
mod sqlite;

use sea_orm::sea_query::{
    ColumnRef, DeleteStatement, InsertStatement, QueryStatementWriter, SeaRc, SelectStatement,
    UpdateStatement,
};
use sea_orm::{
    DbBackend, DbErr, EntityTrait, FromQueryResult, QueryResult, QueryTrait, Select, Statement,
};

use super::batch_group::BatchFailed;
use super::session::Held;
use super::Database;
use crate::config::DatabaseKind;

/// A statement of a plan, kept unbuilt until the backend is known. Boxed: a plan holds a
/// handful, and a SELECT's tree is several times an UPDATE's.
#[derive(Debug, Clone)]
pub enum Sql {
    Insert(Box<InsertStatement>),
    Update(Box<UpdateStatement>),
    Delete(Box<DeleteStatement>),
    Select(Box<SelectStatement>),
}

impl Sql {
    /// With bound values (SQLite, where the batch binds them).
    fn bound(&self, backend: DbBackend) -> Statement {
        match self {
            Sql::Insert(s) => backend.build(s.as_ref()),
            Sql::Update(s) => backend.build(s.as_ref()),
            Sql::Delete(s) => backend.build(s.as_ref()),
            Sql::Select(s) => backend.build(s.as_ref()),
        }
    }

    /// With its values written into the text, escaped by sea-query's builder for the backend
    /// (the servers' plans go as one message of several statements, which PostgreSQL's and
    /// MySQL's text protocols take only without parameters).
    fn inline(&self, backend: DbBackend) -> String {
        fn text<S: QueryStatementWriter>(statement: &S, backend: DbBackend) -> String {
            match backend {
                DbBackend::Postgres => {
                    statement.to_string(sea_orm::sea_query::PostgresQueryBuilder)
                }
                DbBackend::MySql => statement.to_string(sea_orm::sea_query::MysqlQueryBuilder),
                DbBackend::Sqlite => statement.to_string(sea_orm::sea_query::SqliteQueryBuilder),
            }
        }
        match self {
            Sql::Insert(s) => text(s.as_ref(), backend),
            Sql::Update(s) => text(s.as_ref(), backend),
            Sql::Delete(s) => text(s.as_ref(), backend),
            Sql::Select(s) => text(s.as_ref(), backend),
        }
    }
}

impl From<InsertStatement> for Sql {
    fn from(statement: InsertStatement) -> Self {
        Sql::Insert(Box::new(statement))
    }
}
impl From<UpdateStatement> for Sql {
    fn from(statement: UpdateStatement) -> Self {
        Sql::Update(Box::new(statement))
    }
}
impl From<DeleteStatement> for Sql {
    fn from(statement: DeleteStatement) -> Self {
        Sql::Delete(Box::new(statement))
    }
}
impl From<SelectStatement> for Sql {
    fn from(statement: SelectStatement) -> Self {
        Sql::Select(Box::new(statement))
    }
}

/// What a step must give for the plan to be kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Exactly this many rows changed (a write) or this value (a count).
    Is(i64),
    /// Less than this (a count under a cap).
    Below(i64),
    /// This or more.
    AtLeast(i64),
    /// The same as the named earlier step gave.
    SameAs(&'static str),
    /// Anything: the step is done for its effect alone.
    Any,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// A write; its count is the rows it changed.
    Write,
    /// A query of one row holding one integer; its count is that integer.
    Count,
    /// A row lock (a locking read), taken only where rows have locks.
    Lock,
}

#[derive(Debug, Clone)]
struct Step {
    name: &'static str,
    role: Role,
    sql: Sql,
    expect: Expect,
}

/// A query of a plan's [`WritePlan::read`].
pub struct Rows(SelectStatement);

impl From<SelectStatement> for Rows {
    fn from(sql: SelectStatement) -> Self {
        Rows(sql)
    }
}

/// An entity's whole rows, read as `table.*`: the rows map to the model by column name
/// either way, and sea-query 0.32 quotes each name of a listed column at ~1.6 k instructions
/// (two per column), which made these lists most of the cost of writing a plan out
/// (docs/bench-findings.md, round 16).
impl<E: EntityTrait> From<Select<E>> for Rows {
    fn from(select: Select<E>) -> Self {
        let mut sql = select.into_query();
        sql.clear_selects()
            .column(ColumnRef::TableAsterisk(SeaRc::new(E::default())));
        Rows(sql)
    }
}

#[derive(Debug, Clone)]
struct Read {
    name: &'static str,
    sql: SelectStatement,
}

/// One transaction, described once (see the module's docs).
#[derive(Debug, Clone, Default)]
pub struct WritePlan {
    steps: Vec<Step>,
    reads: Vec<Read>,
    /// Nothing outside the database learns of this write before a later one that waits for
    /// the disk (see [`WritePlan::quiet`]).
    quiet: bool,
}

impl WritePlan {
    pub fn new() -> Self {
        Self::default()
    }

    /// A write whose changed-row count must meet `expect`.
    pub fn write(mut self, name: &'static str, sql: impl Into<Sql>, expect: Expect) -> Self {
        self.steps.push(Step {
            name,
            role: Role::Write,
            sql: sql.into(),
            expect,
        });
        self
    }

    /// A query giving one row of one integer (a count), which must meet `expect`.
    pub fn count(mut self, name: &'static str, sql: SelectStatement, expect: Expect) -> Self {
        self.steps.push(Step {
            name,
            role: Role::Count,
            sql: sql.into(),
            expect,
        });
        self
    }

    /// A row lock: the row `row` selects is locked as a write would lock it, so that
    /// transactions touching it queue on it from this point. It must find one row (the row
    /// exists). The lock clause is the backend's: `FOR NO KEY UPDATE` on PostgreSQL (the lock
    /// an UPDATE of non-key columns takes, without writing a row version), `FOR UPDATE` on
    /// MySQL. Skipped where the database runs one write transaction at a time (SQLite).
    pub fn lock(mut self, name: &'static str, row: SelectStatement) -> Self {
        self.steps.push(Step {
            name,
            role: Role::Lock,
            sql: row.into(),
            expect: Expect::Is(1),
        });
        self
    }

    /// Marks a write that nobody outside the database is told of before a later plan that is
    /// made durable (an email's lease or sent mark, the sandbox provider's own ledger): in
    /// `grouped` mode it returns at COMMIT, without waiting for the group flush. The later
    /// flush covers it (the WAL is written in order); a power cut before it loses only this
    /// write, which nobody acted on (at worst an email is sent again).
    pub fn quiet(mut self) -> Self {
        self.quiet = true;
        self
    }

    /// Rows to read back once every step ran (what the plan wrote, as it is now).
    pub fn read(mut self, name: &'static str, rows: impl Into<Rows>) -> Self {
        self.reads.push(Read {
            name,
            sql: rows.into().0,
        });
        self
    }

    /// The plan without the check of the step(s) named `name` (a test's negative control).
    fn without_check(mut self, name: &str) -> Self {
        for step in self.steps.iter_mut().filter(|step| step.name == name) {
            step.expect = Expect::Any;
        }
        self
    }

    /// The steps that run on `kind` (locks only where rows have locks).
    fn steps_for(&self, kind: DatabaseKind) -> impl Iterator<Item = &Step> {
        self.steps
            .iter()
            .filter(move |step| step.role != Role::Lock || kind != DatabaseKind::Sqlite)
    }

    /// The first check the counts (one per step of [`Self::steps_for`]) fail, if any.
    fn judge(&self, kind: DatabaseKind, counts: &[i64]) -> Result<(), &'static str> {
        let steps: Vec<&Step> = self.steps_for(kind).collect();
        if steps.len() != counts.len() {
            return Err("the plan's answers");
        }
        // A step compared with another compares with the first of that name.
        let count_of = |name: &str| {
            steps
                .iter()
                .position(|step| step.name == name)
                .map(|i| counts[i])
        };
        for (step, &count) in steps.iter().zip(counts) {
            let holds = match step.expect {
                Expect::Is(expected) => count == expected,
                Expect::Below(cap) => count < cap,
                Expect::AtLeast(floor) => count >= floor,
                Expect::SameAs(other) => count_of(other) == Some(count),
                Expect::Any => true,
            };
            if !holds {
                return Err(step.name);
            }
        }
        Ok(())
    }
}

/// What a kept plan gave: each step's count and each read's rows, by name.
#[derive(Debug, Default)]
pub struct Written {
    counts: Vec<(&'static str, i64)>,
    reads: Vec<(&'static str, Vec<QueryResult>)>,
}

impl Written {
    /// The named step's count (0 for a step that did not run here, such as a lock on SQLite).
    pub fn count(&self, name: &str) -> i64 {
        self.counts
            .iter()
            .find(|(step, _)| *step == name)
            .map_or(0, |(_, count)| *count)
    }

    /// The counts of every step with this name, in order (for a plan that repeats a step per
    /// row).
    pub fn counts_of<'a>(&'a self, name: &'a str) -> impl Iterator<Item = i64> + 'a {
        self.counts
            .iter()
            .filter(move |(step, _)| *step == name)
            .map(|(_, count)| *count)
    }

    /// The named read's rows.
    pub fn all<M: FromQueryResult>(&self, name: &str) -> Result<Vec<M>, DbErr> {
        self.rows(name)?
            .iter()
            .map(|row| M::from_query_result(row, ""))
            .collect()
    }

    /// The named read's one row.
    pub fn one<M: FromQueryResult>(&self, name: &str) -> Result<M, DbErr> {
        match self.rows(name)? {
            [row] => M::from_query_result(row, ""),
            rows => Err(DbErr::Custom(format!(
                "the plan's read {name} gave {} rows, not one",
                rows.len()
            ))),
        }
    }

    fn rows(&self, name: &str) -> Result<&[QueryResult], DbErr> {
        self.reads
            .iter()
            .find(|(read, _)| *read == name)
            .map(|(_, rows)| rows.as_slice())
            .ok_or_else(|| DbErr::Custom(format!("the plan has no read named {name}")))
    }
}

/// Why a plan was not kept. In every case but [`PlanError::Unknown`], nothing of it was
/// written.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The named check did not hold.
    #[error("the write's check {0} did not hold")]
    Refused(&'static str),
    /// A statement failed (a unique key taken, a row gone), or the database did.
    #[error(transparent)]
    Failed(#[from] DbErr),
    /// The COMMIT failed after every check held: the plan may have been written. The caller
    /// must not do the work again another way.
    #[error("whether the write was kept is unknown: {0}")]
    Unknown(String),
    /// The commit was written but could not be made durable.
    #[error("the write could not be made durable: {0}")]
    NotDurable(#[from] std::io::Error),
    /// SQLite's write lane stopped (the process is shutting down).
    #[error("the database's write lane stopped")]
    Stopped,
    /// Not run: an earlier call of the same request found the database unreachable (see
    /// `db::give_up`).
    #[error("not run: the database was unreachable earlier in this request")]
    GaveUp,
}

impl PlanError {
    /// Whether the database could not be reached or was lost on the way (the outcome of a
    /// lost COMMIT included).
    pub fn is_unreachable(&self) -> bool {
        match self {
            PlanError::Failed(err) => crate::db::is_unreachable(err),
            PlanError::Unknown(_) | PlanError::GaveUp => true,
            _ => false,
        }
    }

    /// Whether a unique key refused a row (for callers that draw a fresh value and retry).
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, PlanError::Failed(err) if crate::db::is_unique_violation(err))
    }
}

/// Times a plan is run again when it was not written for a reason that is not its own (its
/// group on SQLite lost its transaction).
const RERUNS: usize = 3;

impl Database {
    /// Runs `plan` in one transaction, keeps it when every check holds, and returns what it
    /// read back once the write is durable (see the module's docs).
    pub async fn execute(&self, plan: WritePlan) -> Result<Written, PlanError> {
        self.execute_on(None, plan).await
    }

    /// [`Database::execute`], on `held` when a session holds a connection (its first run;
    /// a rerun takes one from the pool).
    pub(super) async fn execute_on(
        &self,
        mut held: Option<Held>,
        plan: WritePlan,
    ) -> Result<Written, PlanError> {
        if super::give_up::given_up() {
            return Err(PlanError::GaveUp);
        }
        let quiet = plan.quiet;
        // Shared, not copied, with each run (a rerun goes again from the same plan).
        let plan = std::sync::Arc::new(match self.unchecked {
            Some(name) => plan.without_check(name),
            None => plan,
        });
        let mut reruns = 0;
        let written = loop {
            let outcome = match self.kind {
                DatabaseKind::Sqlite => sqlite::execute(self, std::sync::Arc::clone(&plan)).await,
                DatabaseKind::Postgres | DatabaseKind::MySql => {
                    server::execute(self, held.take(), &plan).await
                }
            };
            match outcome {
                Err(Rerun::Again) if reruns < RERUNS => reruns += 1,
                Err(Rerun::Again) => {
                    return Err(PlanError::Failed(DbErr::Custom(
                        "the write was rolled back with its group too often".into(),
                    )))
                }
                Err(Rerun::Failed(err)) => {
                    if err.is_unreachable() {
                        super::give_up::note_unreachable();
                    }
                    return Err(err);
                }
                Ok(written) => break written,
            }
        };
        if !quiet {
            self.make_durable().await?;
        }
        Ok(written)
    }
}

/// A plan run that did not give an answer of its own.
enum Rerun {
    /// Not written for a reason of its group's: run it again.
    Again,
    Failed(PlanError),
}

impl From<PlanError> for Rerun {
    fn from(err: PlanError) -> Self {
        Rerun::Failed(err)
    }
}

impl From<BatchFailed> for Rerun {
    fn from(failed: BatchFailed) -> Self {
        match failed {
            BatchFailed::NotKept => Rerun::Again,
            BatchFailed::Stopped(_) => Rerun::Failed(PlanError::Stopped),
            BatchFailed::Unknown(err) => Rerun::Failed(PlanError::Unknown(err)),
        }
    }
}

#[cfg(test)]
mod tests;
