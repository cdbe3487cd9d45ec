//! The email queue's worker side on PostgreSQL: apalis-postgres's storage, fetched on the
//! queue's own poll strategy.
//!
//! apalis-postgres rc.8's fetcher ignores that strategy: after an empty fetch it waits 1 s
//! and doubles the wait after each further empty one, up to 5 minutes, so the first email
//! after a quiet spell waited up to 5 minutes (measured: 55 s after 70 s without email). Here
//! the fetch is apalis's own (`apalis.get_jobs`, the statement its fetcher runs) and only the
//! waiting between fetches is Skybook's: the configured interval and backoff (200 ms, up to
//! 2 s), like the SQLite and MySQL fetchers. The heartbeat, the worker's registration and the
//! middleware (lock and acknowledge) are apalis's, unchanged.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use apalis::prelude::*;
use apalis_codec::json::JsonCodec;
use apalis_core::backend::poll_strategy::{PollContext, PollStrategyExt};
use apalis_core::backend::TaskStream;
use apalis_core::layers::Stack;
use apalis_core::worker::ext::ack::AcknowledgeLayer;
use apalis_postgres::{
    initial_heartbeat, CompactType, Config, LockTaskLayer, PgAck, PgContext, PgPool, PgTask,
    TaskRow,
};
use apalis_sql::DateTime;
use futures_util::stream::{self, BoxStream, StreamExt, TryStreamExt};
use sqlx::Row;

use super::queue::{EmailJob, PostgresEmails};

/// The email storage on PostgreSQL, its worker fetching on the queue's poll strategy.
pub struct PolledPostgresEmails {
    storage: PostgresEmails,
}

impl PolledPostgresEmails {
    pub fn new(storage: PostgresEmails) -> Self {
        Self { storage }
    }
}

impl Backend for PolledPostgresEmails {
    type Args = EmailJob;
    type IdType = <PostgresEmails as Backend>::IdType;
    type Context = PgContext;
    type Error = sqlx::Error;
    type Stream = TaskStream<PgTask<EmailJob>, sqlx::Error>;
    type Beat = BoxStream<'static, Result<(), sqlx::Error>>;
    type Layer = Stack<LockTaskLayer, AcknowledgeLayer<PgAck>>;

    fn heartbeat(&self, worker: &WorkerContext) -> Self::Beat {
        self.storage.heartbeat(worker)
    }

    fn middleware(&self) -> Self::Layer {
        self.storage.middleware()
    }

    fn poll(self, worker: &WorkerContext) -> Self::Stream {
        let pool = self.storage.pool().clone();
        let config = self.storage.config().clone();
        let register = stream::once(initial_heartbeat(
            pool.clone(),
            config.clone(),
            worker.clone(),
            "PostgresStorage",
        ))
        .map_ok(|()| None);
        register
            .chain(fetched(pool, config, worker.clone()))
            .and_then(|task| async move {
                let Some(task) = task else { return Ok(None) };
                let task = task
                    .try_map(|job| <JsonCodec<CompactType> as Codec<EmailJob>>::decode(&job))
                    .map_err(|e| sqlx::Error::Decode(e.into()))?;
                Ok(Some(task))
            })
            .boxed()
    }
}

/// The worker's tasks: a fetch at once, another at once while fetches come back full, and
/// otherwise one per tick of the queue's poll strategy (which backs off while fetches come
/// back empty). A fetch error ends nothing here; the worker dies on it and is restarted.
fn fetched(
    pool: PgPool,
    config: Config,
    worker: WorkerContext,
) -> impl futures_util::Stream<Item = Result<Option<PgTask<CompactType>>, sqlx::Error>> + Send {
    let last_count = Arc::new(AtomicUsize::new(0));
    let ticks = config
        .poll_strategy()
        .clone()
        .build_stream(&PollContext::new(worker.clone(), last_count.clone()));
    let full = config.buffer_size();
    stream::unfold((ticks, true), move |(mut ticks, fetch_now)| {
        let (pool, config, worker, last_count) = (
            pool.clone(),
            config.clone(),
            worker.clone(),
            last_count.clone(),
        );
        async move {
            if !fetch_now {
                // The strategy's stream ending ends the worker's stream, as in apalis.
                ticks.next().await?;
            }
            let fetched = fetch_next(&pool, &config, &worker).await;
            let count = fetched.as_ref().map_or(0, Vec::len);
            last_count.store(count, Ordering::Relaxed);
            Some((fetched, (ticks, count >= full)))
        }
    })
    .flat_map(|fetched| match fetched {
        Ok(tasks) => stream::iter(tasks.into_iter().map(|task| Ok(Some(task)))).boxed(),
        Err(e) => stream::once(async move { Err(e) }).boxed(),
    })
}

/// Takes up to a buffer's worth of due jobs for this worker, as apalis's own fetcher does.
async fn fetch_next(
    pool: &PgPool,
    config: &Config,
    worker: &WorkerContext,
) -> Result<Vec<PgTask<CompactType>>, sqlx::Error> {
    let limit = i32::try_from(config.buffer_size()).unwrap_or(i32::MAX);
    let rows = sqlx::query("SELECT * FROM apalis.get_jobs($1, $2, $3)")
        .bind(worker.name())
        .bind(config.queue().to_string())
        .bind(limit)
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|row| {
            task_row(row)?
                .try_into_task_compact()
                .map_err(|e| sqlx::Error::Protocol(e.to_string()))
        })
        .collect()
}

/// One `apalis.jobs` row in apalis's own shape.
fn task_row(row: &sqlx::postgres::PgRow) -> Result<TaskRow, sqlx::Error> {
    let count = |column: &str| -> Result<Option<usize>, sqlx::Error> {
        Ok(row
            .try_get::<Option<i32>, _>(column)?
            .map(|n| usize::try_from(n).unwrap_or(0)))
    };
    Ok(TaskRow {
        job: row.try_get("job")?,
        id: row.try_get("id")?,
        job_type: row.try_get("job_type")?,
        status: row.try_get("status")?,
        attempts: count("attempts")?.unwrap_or(0),
        max_attempts: count("max_attempts")?,
        run_at: row.try_get::<Option<DateTime>, _>("run_at")?,
        last_result: row.try_get("last_result")?,
        lock_at: row.try_get::<Option<DateTime>, _>("lock_at")?,
        lock_by: row.try_get("lock_by")?,
        done_at: row.try_get::<Option<DateTime>, _>("done_at")?,
        priority: count("priority")?,
        idempotency_key: row.try_get("idempotency_key")?,
        metadata: row.try_get("metadata")?,
    })
}
