//! Database connections. On SQLite, every write goes through one dedicated connection (SQLite
//! has one write lock; competing writers only wait on each other) and reads use their own
//! pool of read-only connections. On PostgreSQL and MySQL both roles share one pool.

pub mod backup;
pub mod batch;
pub mod batch_group;
pub mod give_up;
pub mod plan;
pub mod portable;
pub mod session;
pub mod template;
pub mod wal_sync;
pub mod write_lane;

use std::future::Future;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use futures_util::future::{Either, FutureExt};
use sea_orm::{DatabaseConnection, SqlxMySqlConnector, SqlxPostgresConnector, SqlxSqliteConnector};
use sqlx::mysql::MySqlConnectOptions;
use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};

use crate::config::{DatabaseKind, Settings, SqliteSync};
use batch_group::BatchGroups;
use plan::PlanError;
use wal_sync::WalSync;
use write_lane::{LaneStopped, WriteLane};

/// Whether a unique key refused a row, on every backend.
pub fn is_unique_violation(err: &sea_orm::DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

/// Whether the database could not be reached, or a connection to it was lost (a server
/// stopped or restarting, a connection cut, every connection busy for the whole acquire
/// timeout): nothing about the request was wrong and it may be retried, so 503, not 500.
pub fn is_unreachable(err: &sea_orm::DbErr) -> bool {
    use sea_orm::{DbErr, RuntimeErr};
    let err = match err {
        DbErr::ConnectionAcquire(_) => return true,
        DbErr::Conn(RuntimeErr::SqlxError(err))
        | DbErr::Exec(RuntimeErr::SqlxError(err))
        | DbErr::Query(RuntimeErr::SqlxError(err)) => err,
        _ => return false,
    };
    match err {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        // SQLSTATE class 08 (connection exception; MySQL's 08S01 too), PostgreSQL's
        // 57P01-57P03 (terminated by the administrator, crash, cannot connect now), and
        // MySQL's 70100 (connection killed).
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08") || matches!(&*code, "57P01" | "57P02" | "57P03" | "70100")
        }),
        _ => false,
    }
}

/// A statement's sqlx error as sea-orm reports one, for the calls `db` makes on sqlx's
/// connections itself (plans, sessions).
pub(crate) fn query_error(err: sqlx::Error) -> sea_orm::DbErr {
    sea_orm::DbErr::Query(sea_orm::RuntimeErr::SqlxError(err))
}

/// A connection's sqlx error (taking one from the pool) as sea-orm reports one.
pub(crate) fn connection_error(err: sqlx::Error) -> sea_orm::DbErr {
    sea_orm::DbErr::Conn(sea_orm::RuntimeErr::SqlxError(err))
}

/// `rows` with the lock a plan's `lock` step and [`lock_rows`] put on a row: on PostgreSQL the
/// lock an UPDATE of non-key columns takes (`FOR NO KEY UPDATE`), without writing a row version
/// as a no-op UPDATE would (which also made a later update of that row in the transaction check
/// its foreign keys again); MySQL has one write lock (`FOR UPDATE`). None on SQLite, which runs
/// one write transaction at a time.
pub(crate) fn with_row_lock(
    mut rows: sea_orm::sea_query::SelectStatement,
    backend: sea_orm::DbBackend,
) -> sea_orm::sea_query::SelectStatement {
    use sea_orm::sea_query::LockType;
    match backend {
        sea_orm::DbBackend::Postgres => rows.lock(LockType::NoKeyUpdate),
        sea_orm::DbBackend::MySql => rows.lock(LockType::Update),
        sea_orm::DbBackend::Sqlite => &mut rows,
    };
    rows
}

/// Locks the rows `rows` selects in `conn`'s transaction, as a plan's lock step does, and
/// says how many there were. For transactions written outside plans (the catalog's).
pub async fn lock_rows<C: sea_orm::ConnectionTrait>(
    conn: &C,
    rows: sea_orm::sea_query::SelectStatement,
) -> Result<usize, sea_orm::DbErr> {
    let backend = conn.get_database_backend();
    let locked = with_row_lock(rows, backend);
    Ok(conn.query_all(backend.build(&locked)).await?.len())
}

/// Whether a foreign key refused a row, on every backend.
pub fn is_foreign_key_violation(err: &sea_orm::DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::ForeignKeyConstraintViolation(_))
    )
}

/// How long a request waits for a connection before it is answered 503. It is also how long
/// a request waits while the database server is down: sqlx keeps retrying a refused
/// connection until this runs out. 10 s held requests that long in a 10 s outage
/// (tests/cluster, docs/RESILIENCE.md); a few seconds is what a client can wait for a 503.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);
const SQLITE_ROW_BUFFER: usize = 256;
/// A connection that sat in the pool longer than this is pinged before use. sqlx pings on
/// every acquire by default: one more round trip per query (on SQLite, two more thread
/// switches to the connection's worker; dropping it gave ~10 % more flight-by-id reads).
/// A connection used a moment ago is as good as its last query showed.
const PING_AFTER_IDLE: Duration = Duration::from_secs(30);

/// Pool options shared by every backend: bounded waits, and a ping only after an idle spell.
fn pool_options<DB: sqlx::Database>(max_connections: u32) -> sqlx::pool::PoolOptions<DB> {
    sqlx::pool::PoolOptions::<DB>::new()
        .max_connections(max_connections)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for > PING_AFTER_IDLE {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
}

#[derive(Clone)]
pub struct Database {
    /// Transactions and every other write.
    pub writer: DatabaseConnection,
    /// Reads that need no transaction.
    pub reader: DatabaseConnection,
    pub kind: DatabaseKind,
    /// SQLite's group commit (see [`wal_sync`]); the servers are durable at COMMIT.
    wal_sync: Option<Arc<WalSync>>,
    /// SQLite's write lane (see [`write_lane`]); the servers' connections need none.
    lane: Option<Arc<WriteLane>>,
    /// SQLite's batches, run in groups on the lane (see [`batch_group`]).
    batch_groups: Option<Arc<BatchGroups>>,
    /// A plan check ignored (a test's negative control, see `Faults::unchecked`).
    unchecked: Option<&'static str>,
}

impl Database {
    pub async fn connect(settings: &Settings) -> anyhow::Result<Self> {
        let url = settings.database_url.expose();
        let max = settings.database_max_connections;
        let mut db = match settings.database_kind {
            DatabaseKind::Sqlite => connect_sqlite(url, max, settings.sqlite_sync).await,
            DatabaseKind::Postgres => {
                let options = PgConnectOptions::from_str(url).context("invalid PostgreSQL URL")?;
                let pool = pool_options::<sqlx::Postgres>(max)
                    .connect_with(options)
                    .await
                    .context("cannot connect to PostgreSQL")?;
                let db = SqlxPostgresConnector::from_sqlx_postgres_pool(pool);
                Ok(Self {
                    writer: db.clone(),
                    reader: db,
                    kind: DatabaseKind::Postgres,
                    wal_sync: None,
                    lane: None,
                    batch_groups: None,
                    unchecked: None,
                })
            }
            DatabaseKind::MySql => {
                let options = MySqlConnectOptions::from_str(url).context("invalid MySQL URL")?;
                let pool = pool_options::<sqlx::MySql>(max)
                    // READ COMMITTED, as on PostgreSQL: InnoDB's default REPEATABLE READ adds
                    // gap locks on secondary indexes, and concurrent conditional updates of
                    // one booking then deadlock instead of queueing.
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            // Backslash escapes on: write plans send their values escaped
                            // into the text (see `plan::server`).
                            sqlx::Executor::execute(
                                &mut *conn,
                                "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
                            )
                            .await?;
                            sqlx::Executor::execute(
                                conn,
                                "SET SESSION sql_mode = REPLACE(@@sql_mode, 'NO_BACKSLASH_ESCAPES', '')",
                            )
                            .await?;
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await
                    .context("cannot connect to MySQL")?;
                let db = SqlxMySqlConnector::from_sqlx_mysql_pool(pool);
                Ok(Self {
                    writer: db.clone(),
                    reader: db,
                    kind: DatabaseKind::MySql,
                    wal_sync: None,
                    lane: None,
                    batch_groups: None,
                    unchecked: None,
                })
            }
        }?;
        db.unchecked = settings.faults.unchecked;
        Ok(db)
    }

    /// Runs a unit of write work (transactions through [`Database::writer`]) where it is
    /// fastest: on SQLite, on the write lane, beside the writer connection's thread; on
    /// PostgreSQL and MySQL, in place. Work handed to the lane finishes even if the caller
    /// stops waiting. It returns once what it wrote is durable as the settings say. The work
    /// is moved to the heap at once either way, so the caller's future does not carry its size
    /// (see [`WriteLane::run`]).
    pub fn write<W, T, E>(&self, work: W) -> impl Future<Output = Result<T, E>> + Send
    where
        W: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: From<PlanError> + Send + 'static,
    {
        let running = match &self.lane {
            Some(lane) => Either::Left(lane.run(work).map(|ran| match ran {
                Ok(done) => done,
                Err(LaneStopped) => Err(E::from(PlanError::Stopped)),
            })),
            None => Either::Right(Box::pin(work)),
        };
        let wal_sync = self.wal_sync.clone();
        async move {
            let done = running.await?;
            if let Some(sync) = wal_sync {
                sync.flush().await.map_err(PlanError::from)?;
            }
            Ok(done)
        }
    }

    /// Runs write work in place (statements through [`Database::writer`], for the catalog's
    /// and accounts' plain writes) and returns once what it wrote is durable as the settings
    /// say. The booking context's transactions are plans instead (see [`plan`]).
    pub async fn durably<T, E>(&self, work: impl Future<Output = Result<T, E>>) -> Result<T, E>
    where
        E: From<PlanError>,
    {
        let done = work.await?;
        self.make_durable().await.map_err(PlanError::from)?;
        Ok(done)
    }

    /// Whether a test switched the check named `name` off (its negative control, see
    /// `Faults::unchecked`); always false in production.
    pub fn ignores_check(&self, name: &str) -> bool {
        self.unchecked == Some(name)
    }

    /// How many groups of batches have committed (SQLite; always 0 elsewhere).
    pub fn batch_groups_committed(&self) -> u64 {
        self.batch_groups
            .as_ref()
            .map_or(0, |groups| groups.groups_committed())
    }

    /// How many batches committed groups have kept (SQLite; always 0 elsewhere).
    pub fn batches_kept(&self) -> u64 {
        self.batch_groups
            .as_ref()
            .map_or(0, |groups| groups.batches_kept())
    }

    /// Gives back what preparing the database left cached (SQLite): seeding the demo catalog
    /// fills the writer's page cache, which then sat idle until real traffic wrote (1.7 MB of
    /// idle RSS on a fresh database). SQLite allocates with the C library's malloc, whose
    /// freed pages stay mapped until trimmed. Once, at start: the cache refills as writes
    /// need it.
    pub async fn release_startup_memory(&self) {
        use sea_orm::ConnectionTrait;
        if self.kind != DatabaseKind::Sqlite {
            return;
        }
        if let Err(err) = self.writer.execute_unprepared("PRAGMA shrink_memory").await {
            tracing::warn!(error = %err, "could not shrink SQLite's cache");
        }
        // SAFETY: `malloc_trim` only hands free pages of the C heap back to the kernel.
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        unsafe {
            libc::malloc_trim(0);
        }
    }

    /// Answers whether the database responds (readiness).
    pub async fn ping(&self) -> bool {
        self.reader.ping().await.is_ok()
    }

    /// Returns once every write committed before the call is on disk: on SQLite in `grouped`
    /// mode the group commit of [`wal_sync`]; with `full`, and on PostgreSQL and MySQL, a
    /// COMMIT is durable already. Every write call of this module awaits it before it
    /// returns; nothing outside it needs to.
    async fn make_durable(&self) -> std::io::Result<()> {
        match &self.wal_sync {
            Some(sync) => sync.flush().await,
            None => Ok(()),
        }
    }

    /// How many group flushes have reached the disk (SQLite; always 0 elsewhere).
    pub fn durable_flushes(&self) -> u64 {
        self.wal_sync.as_ref().map_or(0, |sync| sync.flushes())
    }

    pub async fn close(self) {
        if let Err(err) = self.make_durable().await {
            tracing::error!(error = %err, "could not flush the database's last writes");
        }
        let _ = self.reader.close().await;
        if self.kind == DatabaseKind::Sqlite {
            let _ = self.writer.close().await;
        }
    }
}

async fn connect_sqlite(url: &str, max_readers: u32, sync: SqliteSync) -> anyhow::Result<Database> {
    // A confirmed booking must survive a power cut: either each commit is flushed (`full`),
    // or commits are made durable in groups before anyone is told of them (see `wal_sync`).
    let synchronous = match sync {
        SqliteSync::Grouped => SqliteSynchronous::Normal,
        SqliteSync::Full => SqliteSynchronous::Full,
    };
    let options = SqliteConnectOptions::from_str(url)
        .context("invalid SQLite URL")?
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(synchronous)
        .busy_timeout(SQLITE_BUSY_TIMEOUT)
        // Rows cross from the connection's worker thread in batches of this many: the default
        // 50 made a 180-seat map wait on the channel several times.
        .row_buffer_size(SQLITE_ROW_BUFFER)
        .foreign_keys(true);
    let db_path = options.get_filename().to_path_buf();
    private_database_file(url, &db_path)?;
    // The writer is opened from the write lane, whose CPU its worker thread inherits. It is
    // never recycled: closing the last connection would delete the WAL, and a replacement
    // opened elsewhere would lose the lane's CPU.
    let lane = Arc::new(WriteLane::start().context("cannot start the database write lane")?);
    let writer_options = options.clone();
    let writer = lane
        .run(async move {
            pool_options::<sqlx::Sqlite>(1)
                .min_connections(1)
                .max_lifetime(None)
                .idle_timeout(None)
                .connect_with(writer_options)
                .await
        })
        .await?
        .with_context(|| format!("cannot open SQLite database {url}"))?;
    let for_groups = writer.clone();
    let batch_groups = lane
        .run(async move { BatchGroups::start(for_groups) })
        .await?;
    let writer = SqlxSqliteConnector::from_sqlx_sqlite_pool(writer);
    // The readers are all opened here, and kept: one opened later by work on the write lane
    // would inherit the lane's CPU, and reads are meant to use every CPU.
    let readers = pool_options::<sqlx::Sqlite>(max_readers)
        .min_connections(max_readers)
        .max_lifetime(None)
        .idle_timeout(None)
        .connect_with(options.read_only(true))
        .await
        .with_context(|| format!("cannot open SQLite database {url}"))?;
    Ok(Database {
        writer,
        reader: SqlxSqliteConnector::from_sqlx_sqlite_pool(readers),
        kind: DatabaseKind::Sqlite,
        wal_sync: (sync == SqliteSync::Grouped).then(|| Arc::new(WalSync::new(&db_path))),
        lane: Some(lane),
        batch_groups: Some(Arc::new(batch_groups)),
        unchecked: None,
    })
}

/// The database holds password hashes and personal data: its folder is made 0700 and, when
/// the URL lets SQLite create the file, the file is made here first with 0600, a mode SQLite
/// copies to `-wal` and `-shm`. A file left readable by an older version is narrowed.
fn private_database_file(url: &str, db_path: &std::path::Path) -> anyhow::Result<()> {
    let in_memory = db_path.as_os_str() == ":memory:"
        || url.contains("mode=memory")
        || url.contains(":memory:");
    if in_memory {
        return Ok(());
    }
    if let Some(dir) = db_path.parent() {
        if !dir.as_os_str().is_empty() {
            crate::private_files::create_dir_all(dir)
                .with_context(|| format!("cannot create directory {}", dir.display()))?;
        }
    }
    let creates = url
        .split_once('?')
        .is_some_and(|(_, query)| query.split('&').any(|p| p == "mode=rwc"));
    if creates {
        crate::private_files::create_file_if_missing(db_path)
            .with_context(|| format!("cannot create {}", db_path.display()))?;
    }
    for suffix in ["", "-wal", "-shm"] {
        let mut name = db_path.as_os_str().to_owned();
        name.push(suffix);
        let path = std::path::PathBuf::from(name);
        match crate::private_files::narrow(&path) {
            Ok(Some(mode)) => tracing::warn!(
                path = %path.display(),
                was = format!("{mode:o}"),
                "the database file was readable by others: narrowed to the owner"
            ),
            Ok(None) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => {
                tracing::warn!(path = %path.display(), error = %err, "cannot narrow the database file's mode")
            }
        }
    }
    Ok(())
}
