//! The email job queue: apalis's SQL storage in the application's own database, on whichever
//! backend the URL chose. Its tables are created next to Skybook's when the database is
//! prepared (see `setup`).

use std::time::Duration;

use apalis::prelude::*;
use apalis_codec::json::JsonCodec;
use apalis_mysql::MySqlStorage;
use apalis_postgres::PostgresStorage;
use apalis_sql::config::Config;
use apalis_sqlite::SqliteStorage;
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use super::postgres_poll::PolledPostgresEmails;
use crate::config::DatabaseKind;
use crate::db::Database;

/// The queue's name in the jobs table (`job_type`), fixed so that moving a Rust type cannot
/// strand stored jobs.
pub const EMAIL_QUEUE: &str = "skybook::email";

/// "Send outbox emails `email_ids`", each valid while its outbox row still carries `lease`:
/// an email whose job outlived its lease (pushed again later, or already done) is skipped.
/// Several emails share a job because the queue's own bookkeeping (insert, fetch, start,
/// finish) is four writes through SQLite's one writer per job; per email, that starved the
/// emails behind sustained bookings. A job stored in the older one-email shape fails to
/// decode and is dropped; its email's lease runs out and the relay queues it again.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EmailJob {
    pub email_ids: Vec<i32>,
    pub lease: NaiveDateTime,
}

pub type SqliteEmails =
    SqliteStorage<EmailJob, JsonCodec<Vec<u8>>, apalis_sqlite::fetcher::SqliteFetcher>;
pub type PostgresEmails = PostgresStorage<EmailJob>;
pub type MySqlEmails =
    MySqlStorage<EmailJob, JsonCodec<Vec<u8>>, apalis_mysql::fetcher::MySqlFetcher>;

#[derive(Clone)]
pub enum EmailQueue {
    Sqlite(SqliteEmails),
    Postgres(PostgresEmails),
    MySql(MySqlEmails),
}

fn config() -> Config {
    // The default poll backs off to once a minute on an idle queue; an email should not wait.
    let poll = StrategyBuilder::new()
        .apply(
            IntervalStrategy::new(Duration::from_millis(200))
                .with_backoff(BackoffConfig::new(Duration::from_secs(2))),
        )
        .build();
    Config::new(EMAIL_QUEUE)
        .with_poll_interval(poll)
        // Enough per fetch to keep up with sustained booking (4 one-email jobs at a time sent
        // ~20 emails/s while bookings came at ~270/s). Jobs a stopped worker had fetched cost
        // little: the relay queues their emails again once the outbox lease (60 s) runs out.
        .set_buffer_size(32)
}

/// Creates apalis's tables beside Skybook's (idempotent). On SQLite only the migrations run
/// (apalis's `setup()` would switch the writer to `synchronous=NORMAL`); on MariaDB its
/// MySQL-8-only collation is replaced, keeping the migrations' checksums.
pub async fn setup(db: &Database) -> anyhow::Result<()> {
    match db.kind {
        DatabaseKind::Sqlite => {
            SqliteStorage::<(), (), ()>::migrations()
                .run(db.writer.get_sqlite_connection_pool())
                .await?;
        }
        DatabaseKind::Postgres => {
            PostgresStorage::<(), (), ()>::setup(db.writer.get_postgres_connection_pool()).await?;
        }
        DatabaseKind::MySql => {
            let mut migrator = MySqlStorage::<(), (), ()>::migrations();
            for migration in migrator.migrations.to_mut() {
                if migration.sql.contains("utf8mb4_0900_ai_ci") {
                    migration.sql = std::borrow::Cow::Owned(
                        migration
                            .sql
                            .replace("utf8mb4_0900_ai_ci", "utf8mb4_unicode_ci"),
                    );
                }
            }
            migrator.run(db.writer.get_mysql_connection_pool()).await?;
        }
    }
    Ok(())
}

impl EmailQueue {
    pub fn new(db: &Database) -> Self {
        let config = config();
        match db.kind {
            DatabaseKind::Sqlite => {
                // The writer pool: fetching a job is a write.
                EmailQueue::Sqlite(SqliteStorage::<EmailJob, (), ()>::new_with_config(
                    db.writer.get_sqlite_connection_pool(),
                    &config,
                ))
            }
            DatabaseKind::Postgres => EmailQueue::Postgres(PostgresEmails::new_with_config(
                db.writer.get_postgres_connection_pool(),
                &config,
            )),
            DatabaseKind::MySql => {
                EmailQueue::MySql(MySqlStorage::<EmailJob, (), ()>::new_with_config(
                    db.writer.get_mysql_connection_pool(),
                    &config,
                ))
            }
        }
    }

    pub async fn push(&self, job: EmailJob) -> anyhow::Result<()> {
        let result = match self {
            EmailQueue::Sqlite(storage) => {
                storage.clone().push(job).await.map_err(|e| e.to_string())
            }
            EmailQueue::Postgres(storage) => {
                storage.clone().push(job).await.map_err(|e| e.to_string())
            }
            EmailQueue::MySql(storage) => {
                storage.clone().push(job).await.map_err(|e| e.to_string())
            }
        };
        result.map_err(|e| anyhow::anyhow!("cannot queue the email: {e}"))
    }
}

/// The email worker's backend for one run of the worker, with a poll strategy of its own.
/// apalis's strategy (a `MultiStrategy`) is shared by a storage's clones and used up by the
/// first worker that polls it: a worker restarted on a clone polled once, found the strategy
/// empty and stopped fetching for good (seen after a MariaDB outage, where the email worker
/// dies at each fetch until the server is back).
pub trait ForWorkerRun {
    type Backend;
    fn for_worker_run(&self) -> Self::Backend;
}

impl ForWorkerRun for SqliteEmails {
    type Backend = Self;
    fn for_worker_run(&self) -> Self {
        SqliteStorage::<EmailJob, (), ()>::new_with_config(self.pool(), &config())
    }
}

impl ForWorkerRun for PostgresEmails {
    /// apalis-postgres's own fetcher ignores the poll strategy (see `postgres_poll`).
    type Backend = PolledPostgresEmails;
    fn for_worker_run(&self) -> PolledPostgresEmails {
        PolledPostgresEmails::new(PostgresEmails::new_with_config(self.pool(), &config()))
    }
}

impl ForWorkerRun for MySqlEmails {
    type Backend = Self;
    fn for_worker_run(&self) -> Self {
        MySqlStorage::<EmailJob, (), ()>::new_with_config(self.pool(), &config())
    }
}

/// How long finished email jobs stay in apalis's table (the outbox keeps the record).
pub const FINISHED_JOB_RETENTION_HOURS: i64 = 24;

/// Deletes this queue's finished jobs older than the retention; returns how many. (apalis's
/// own `vacuum` would delete every queue's rows and VACUUM the whole SQLite file.)
pub async fn delete_finished(db: &Database) -> anyhow::Result<u64> {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    let cutoff = chrono::Utc::now() - chrono::Duration::hours(FINISHED_JOB_RETENTION_HOURS);
    let statement = match db.kind {
        DatabaseKind::Sqlite => Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "DELETE FROM Jobs WHERE job_type = ? AND status IN ('Done', 'Killed') AND done_at < ?",
            [EMAIL_QUEUE.into(), cutoff.timestamp().into()],
        ),
        DatabaseKind::Postgres => Statement::from_sql_and_values(
            DbBackend::Postgres,
            "DELETE FROM apalis.jobs WHERE job_type = $1 AND status IN ('Done', 'Killed') AND done_at < $2",
            [EMAIL_QUEUE.into(), cutoff.into()],
        ),
        DatabaseKind::MySql => Statement::from_sql_and_values(
            DbBackend::MySql,
            "DELETE FROM jobs WHERE job_type = ? AND status IN ('Done', 'Killed') AND done_at < ?",
            [EMAIL_QUEUE.into(), cutoff.naive_utc().into()],
        ),
    };
    Ok(db.writer.execute(statement).await?.rows_affected())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use apalis::prelude::WorkerContext;
    use apalis_core::backend::poll_strategy::{PollContext, PollStrategyExt};
    use futures::StreamExt;

    use super::*;

    /// Whether the storage's poll strategy still ticks for a new worker run.
    async fn ticks(storage: &SqliteEmails) -> bool {
        let context = PollContext::new(WorkerContext::new::<()>("test"), Default::default());
        let mut ticks = storage
            .config()
            .poll_strategy()
            .clone()
            .build_stream(&context);
        tokio::time::timeout(Duration::from_secs(10), ticks.next())
            .await
            .is_ok_and(|tick| tick.is_some())
    }

    #[tokio::test]
    async fn a_restarted_worker_run_gets_a_poll_strategy_that_still_ticks() {
        let pool = sqlx::SqlitePool::connect_lazy("sqlite::memory:").expect("an in-memory pool");
        let storage = SqliteStorage::<EmailJob, (), ()>::new_with_config(&pool, &config());
        assert!(ticks(&storage).await, "the first run polls");
        // The trap: a clone shares the strategy the first run used up.
        assert!(
            !ticks(&storage.clone()).await,
            "a clone's strategy is used up"
        );
        assert!(
            ticks(&storage.for_worker_run()).await,
            "a run of its own polls"
        );
        assert!(
            ticks(&storage.for_worker_run()).await,
            "and so does the next"
        );
    }
}
