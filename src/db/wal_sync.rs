//! Group commit for SQLite's single writer.
//!
//! With `synchronous=FULL` every COMMIT waits for its own fsync of the WAL, so the one writer
//! can commit no faster than the disk flushes (~250 bookings/s on this machine's disk, and
//! every booking queues behind every other's flush). The writer therefore runs with
//! `synchronous=NORMAL`: a COMMIT returns once its frames are in the WAL file (the OS's page
//! cache), and SQLite itself syncs the WAL before each checkpoint and the database after it.
//! Before a write is acknowledged (a response leaves, a card is charged, an email is sent) the
//! caller awaits [`WalSync::flush`], which makes every commit so far durable with one
//! `fdatasync` of the WAL file. Callers that arrive while a flush runs share the next one, so
//! fifty concurrent bookings cost two flushes, not fifty. What a caller has been told survives
//! a power cut exactly as under `FULL`; commits nobody was told of yet may be lost with it, and
//! the database stays consistent (a WAL is replayed only up to its last intact commit).
//!
//! On Linux `fdatasync` flushes the file's data whichever descriptor wrote it, so a descriptor
//! of our own covers the frames SQLite's connection wrote.

use std::fs::File;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::sync::Mutex;

pub struct WalSync {
    wal_path: PathBuf,
    /// Flushes started so far; a flush numbered above a caller's reading began after its call.
    started: AtomicU64,
    /// The highest flush number known to have completed.
    completed: AtomicU64,
    /// Held while one flush runs; the open WAL file, if it exists yet.
    file: Mutex<Option<Arc<File>>>,
}

impl WalSync {
    /// For the database file at `db_path` (its WAL is `<db_path>-wal`).
    pub fn new(db_path: &std::path::Path) -> Self {
        let mut wal = db_path.as_os_str().to_owned();
        wal.push("-wal");
        Self {
            wal_path: wal.into(),
            started: AtomicU64::new(0),
            completed: AtomicU64::new(0),
            file: Mutex::new(None),
        }
    }

    /// Returns once every commit made before this call is on disk.
    pub async fn flush(&self) -> io::Result<()> {
        let needed = self.started.load(Ordering::Acquire) + 1;
        let mut file = self.file.lock().await;
        if self.completed.load(Ordering::Acquire) >= needed {
            // A flush that began after our call has finished while we queued.
            return Ok(());
        }
        let number = self.started.fetch_add(1, Ordering::AcqRel) + 1;
        let Some(wal) = self.current_file(&mut file)? else {
            // No WAL file: nothing was ever written through it.
            self.completed.store(number, Ordering::Release);
            return Ok(());
        };
        tokio::task::spawn_blocking(move || wal.sync_data())
            .await
            .map_err(io::Error::other)??;
        self.completed.store(number, Ordering::Release);
        Ok(())
    }

    /// How many flushes have reached the disk (for tests and diagnostics).
    pub fn flushes(&self) -> u64 {
        self.completed.load(Ordering::Acquire)
    }

    /// The WAL file as it is now. SQLite deletes the WAL when its last connection closes and
    /// makes a new one on the next open; a descriptor of the old file would flush nothing, so
    /// the file is reopened whenever the path names another inode.
    fn current_file(&self, cached: &mut Option<Arc<File>>) -> io::Result<Option<Arc<File>>> {
        let on_disk = match std::fs::metadata(&self.wal_path) {
            Ok(meta) => meta,
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                *cached = None;
                return Ok(None);
            }
            Err(err) => return Err(err),
        };
        if let Some(file) = cached.as_ref() {
            let open = file.metadata()?;
            if open.ino() == on_disk.ino() && open.dev() == on_disk.dev() {
                return Ok(Some(file.clone()));
            }
        }
        let file = Arc::new(File::open(&self.wal_path)?);
        *cached = Some(file.clone());
        Ok(Some(file))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wal_in(dir: &tempfile::TempDir) -> (PathBuf, WalSync) {
        let db = dir.path().join("test.db");
        let sync = WalSync::new(&db);
        (dir.path().join("test.db-wal"), sync)
    }

    #[tokio::test]
    async fn no_wal_file_means_nothing_to_flush() {
        let dir = tempfile::tempdir().unwrap();
        let (_, sync) = wal_in(&dir);
        sync.flush().await.unwrap();
        assert_eq!(sync.flushes(), 1);
    }

    #[tokio::test]
    async fn each_call_after_a_finished_flush_needs_a_new_one() {
        let dir = tempfile::tempdir().unwrap();
        let (wal, sync) = wal_in(&dir);
        std::fs::write(&wal, b"frames").unwrap();
        sync.flush().await.unwrap();
        sync.flush().await.unwrap();
        assert_eq!(sync.flushes(), 2);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn callers_waiting_during_a_flush_share_the_next_one() {
        let dir = tempfile::tempdir().unwrap();
        let (wal, sync) = wal_in(&dir);
        std::fs::write(&wal, b"frames").unwrap();
        let sync = Arc::new(sync);
        // Hold the lock, as a flush in progress does, while twenty callers arrive.
        let in_progress = sync.file.lock().await;
        let callers: Vec<_> = (0..20)
            .map(|_| {
                let sync = sync.clone();
                tokio::spawn(async move { sync.flush().await })
            })
            .collect();
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        drop(in_progress);
        for caller in callers {
            caller.await.unwrap().unwrap();
        }
        assert_eq!(sync.flushes(), 1, "one flush served all twenty");
    }

    async fn inode_of_open_file(sync: &WalSync) -> u64 {
        let file = sync.file.lock().await;
        file.as_ref().unwrap().metadata().unwrap().ino()
    }

    #[tokio::test]
    async fn a_replaced_wal_file_is_reopened() {
        let dir = tempfile::tempdir().unwrap();
        let (wal, sync) = wal_in(&dir);
        std::fs::write(&wal, b"old").unwrap();
        sync.flush().await.unwrap();
        let first = inode_of_open_file(&sync).await;
        std::fs::remove_file(&wal).unwrap();
        std::fs::write(&wal, b"new").unwrap();
        sync.flush().await.unwrap();
        let second = inode_of_open_file(&sync).await;
        assert_ne!(first, second);
        assert_eq!(second, std::fs::metadata(&wal).unwrap().ino());
    }
}
