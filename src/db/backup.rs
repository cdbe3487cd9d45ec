//! `skybook backup --to FILE`: a consistent copy of the SQLite database, taken while the
//! server keeps serving. PostgreSQL and MySQL have their own tools (`pg_dump`,
//! `mariadb-dump`); restoring is described in docs/OPERATIONS.md.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, Instant};

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};

use crate::config::DatabaseKind;

/// Waits this long for the write lock a checkpoint may hold; a backup reads only.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The database is a server's: its own dump tool makes the backup.
    #[error("{0}")]
    UseServerTool(&'static str),
    #[error("{} exists: a backup never overwrites a file; choose a new name", .0.display())]
    Exists(PathBuf),
    #[error("no database at {}", .0.display())]
    NoDatabase(PathBuf),
    #[error("cannot create {}: {}", .0.display(), .1)]
    Create(PathBuf, std::io::Error),
    #[error("backup failed: {0:#}")]
    Failed(anyhow::Error),
}

impl BackupError {
    /// 2 for a database this command does not back up (as for a bad setting), 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            BackupError::UseServerTool(_) => 2,
            _ => 1,
        }
    }
}

/// What a backup wrote.
pub struct BackupDone {
    pub bytes: u64,
    pub took: Duration,
}

/// Writes a copy of the database at `url` to `to`, created with 0600 and never overwritten.
///
/// `VACUUM INTO` reads the database in one read transaction, so the copy is the state of one
/// moment (every commit before it, none after) while the server goes on writing through its
/// WAL; it also leaves out free pages. Every booking acknowledged before the backup started is
/// committed (and durable) by then, so it is in the copy.
pub async fn backup(kind: DatabaseKind, url: &str, to: &Path) -> Result<BackupDone, BackupError> {
    match kind {
        DatabaseKind::Sqlite => {}
        DatabaseKind::Postgres => {
            return Err(BackupError::UseServerTool(
                "backup works on SQLite only: back PostgreSQL up with pg_dump (see docs/OPERATIONS.md)",
            ))
        }
        DatabaseKind::MySql => {
            return Err(BackupError::UseServerTool(
                "backup works on SQLite only: back MySQL/MariaDB up with mariadb-dump (see docs/OPERATIONS.md)",
            ))
        }
    }
    let started = Instant::now();
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|e| BackupError::Failed(anyhow::anyhow!("invalid SQLite URL: {e}")))?
        // A missing database is an error here, not a new empty file.
        .create_if_missing(false)
        .busy_timeout(BUSY_TIMEOUT)
        // A large copy takes over a second: no "slow statement" warning for it.
        .disable_statement_logging();
    let source = options.get_filename().to_path_buf();
    if !source.is_file() {
        return Err(BackupError::NoDatabase(source));
    }
    // Made here, empty and private, so the copy is never readable by others, and atomically
    // refused if the name is taken. `VACUUM INTO` accepts an empty file as its target.
    match crate::private_files::create_new(to) {
        Ok(_) => {}
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(BackupError::Exists(to.to_path_buf()))
        }
        Err(err) => return Err(BackupError::Create(to.to_path_buf(), err)),
    }
    match copy(options, to).await {
        Ok(bytes) => Ok(BackupDone {
            bytes,
            took: started.elapsed(),
        }),
        Err(err) => {
            // Half a copy must not pass for a backup.
            let _ = std::fs::remove_file(to);
            Err(BackupError::Failed(err))
        }
    }
}

async fn copy(options: SqliteConnectOptions, to: &Path) -> anyhow::Result<u64> {
    use anyhow::Context;
    let target = to
        .to_str()
        .context("the backup's path is not valid UTF-8")?
        .to_string();
    let mut conn = options
        .connect()
        .await
        .context("cannot open the database")?;
    sqlx::query("VACUUM INTO ?")
        .bind(target)
        .execute(&mut conn)
        .await
        .context("VACUUM INTO failed")?;
    conn.close().await.ok();
    // VACUUM INTO does not flush what it wrote: a backup is meant to survive a power cut.
    let file = std::fs::File::open(to).context("cannot reopen the copy")?;
    file.sync_all().context("cannot flush the copy to disk")?;
    if let Some(dir) = to.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .context("cannot flush the backup's folder")?;
    }
    Ok(file
        .metadata()
        .context("cannot read the copy's size")?
        .len())
}
