//! Database connections. On SQLite, every write goes through one dedicated connection (SQLite
//! has one write lock; competing writers only wait on each other) and reads use their own
//! pool of read-only connections. On PostgreSQL and MySQL both roles share one pool.

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sea_orm::{DatabaseConnection, SqlxMySqlConnector, SqlxPostgresConnector, SqlxSqliteConnector};
use sqlx::mysql::{MySqlConnectOptions, MySqlPoolOptions};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::config::{DatabaseKind, Settings};

const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct Database {
    /// Transactions and every other write.
    pub writer: DatabaseConnection,
    /// Reads that need no transaction.
    pub reader: DatabaseConnection,
    pub kind: DatabaseKind,
}

impl Database {
    pub async fn connect(settings: &Settings) -> anyhow::Result<Self> {
        let url = settings.database_url.expose();
        let max = settings.database_max_connections;
        match settings.database_kind {
            DatabaseKind::Sqlite => connect_sqlite(url, max).await,
            DatabaseKind::Postgres => {
                let options = PgConnectOptions::from_str(url).context("invalid PostgreSQL URL")?;
                let pool = PgPoolOptions::new()
                    .max_connections(max)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .connect_with(options)
                    .await
                    .context("cannot connect to PostgreSQL")?;
                let db = SqlxPostgresConnector::from_sqlx_postgres_pool(pool);
                Ok(Self {
                    writer: db.clone(),
                    reader: db,
                    kind: DatabaseKind::Postgres,
                })
            }
            DatabaseKind::MySql => {
                let options = MySqlConnectOptions::from_str(url).context("invalid MySQL URL")?;
                let pool = MySqlPoolOptions::new()
                    .max_connections(max)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    // READ COMMITTED, as on PostgreSQL: InnoDB's default REPEATABLE READ adds
                    // gap locks on secondary indexes, and concurrent conditional updates of
                    // one booking then deadlock instead of queueing.
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            sqlx::Executor::execute(
                                conn,
                                "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
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
                })
            }
        }
    }

    /// Answers whether the database responds (readiness).
    pub async fn ping(&self) -> bool {
        self.reader.ping().await.is_ok()
    }

    pub async fn close(self) {
        let _ = self.reader.close().await;
        if self.kind == DatabaseKind::Sqlite {
            let _ = self.writer.close().await;
        }
    }
}

async fn connect_sqlite(url: &str, max_readers: u32) -> anyhow::Result<Database> {
    let options = SqliteConnectOptions::from_str(url)
        .context("invalid SQLite URL")?
        .journal_mode(SqliteJournalMode::Wal)
        // A confirmed booking must survive a power cut.
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(SQLITE_BUSY_TIMEOUT)
        .foreign_keys(true);
    if let Some(dir) = options.get_filename().parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create directory {}", dir.display()))?;
        }
    }
    let writer = SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(options.clone())
        .await
        .with_context(|| format!("cannot open SQLite database {url}"))?;
    let readers = SqlitePoolOptions::new()
        .max_connections(max_readers)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_lazy_with(options.read_only(true));
    Ok(Database {
        writer: SqlxSqliteConnector::from_sqlx_sqlite_pool(writer),
        reader: SqlxSqliteConnector::from_sqlx_sqlite_pool(readers),
        kind: DatabaseKind::Sqlite,
    })
}
