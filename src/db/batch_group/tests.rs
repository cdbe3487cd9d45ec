//! The group runner on a real SQLite file, its writer held to make batches queue.
use super::*;
use sea_orm::{DbBackend, Statement, Value};
use sqlx::sqlite::SqlitePoolOptions;
use sqlx::Row;
use std::sync::Arc;
use tokio::task::JoinHandle;

fn sql(text: &str, values: Vec<Value>) -> Statement {
    Statement::from_sql_and_values(DbBackend::Sqlite, text, values)
}

async fn database(dir: &tempfile::TempDir) -> SqlitePool {
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
    // One connection, as the writer is: a test holds it to make batches queue.
    let db = SqlitePoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .unwrap();
    sqlx::raw_sql(
        "PRAGMA journal_mode = WAL;
         CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER NOT NULL UNIQUE);
         CREATE TABLE child (id INTEGER PRIMARY KEY,
           parent INTEGER REFERENCES t (id) DEFERRABLE INITIALLY DEFERRED)",
    )
    .execute(&db)
    .await
    .unwrap();
    db
}

fn insert(v: i64) -> Batch {
    Batch::new().write(sql("INSERT INTO t (v) VALUES (?)", vec![v.into()]))
}

/// A verdict from a check that keeps what it has an answer for; a failed statement undoes.
fn keep_when<T>(
    check: impl FnOnce(Answers) -> Option<T>,
) -> impl FnOnce(Result<Answers, DbErr>) -> Verdict<Option<T>> {
    |answers| match answers.ok().and_then(check) {
        Some(kept) => Verdict::Keep(Some(kept)),
        None => Verdict::Undo(None),
    }
}

/// Kept when the insert changed one row.
fn one_row(answers: Answers) -> Option<()> {
    (answers.counts == [1]).then_some(())
}

async fn values(db: &SqlitePool) -> Vec<i64> {
    sqlx::query("SELECT v FROM t ORDER BY v")
        .fetch_all(db)
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect()
}

/// A runner on a one-connection pool, as the writer is.
struct Fixture {
    _dir: tempfile::TempDir,
    db: SqlitePool,
    groups: Arc<BatchGroups>,
}

impl Fixture {
    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = database(&dir).await;
        let groups = Arc::new(BatchGroups::start(db.clone()));
        Self {
            _dir: dir,
            db,
            groups,
        }
    }

    /// Runs `batch` from a task of its own; `Some` when `check` kept it and it committed.
    fn spawn<T, F>(&self, batch: Batch, check: F) -> JoinHandle<Option<T>>
    where
        T: Send + 'static,
        F: FnOnce(Answers) -> Option<T> + Send + 'static,
    {
        let run = self.spawn_fallible(batch, check);
        tokio::spawn(async move { run.await.unwrap().unwrap() })
    }

    fn spawn_fallible<T, F>(
        &self,
        batch: Batch,
        check: F,
    ) -> JoinHandle<Result<Option<T>, BatchFailed>>
    where
        T: Send + 'static,
        F: FnOnce(Answers) -> Option<T> + Send + 'static,
    {
        let groups = Arc::clone(&self.groups);
        tokio::spawn(async move { groups.run(batch, keep_when(check)).await })
    }

    /// Holds the writer while `queue` hands over its batches, so that they all queue
    /// behind it, then lets them run.
    async fn queued<R>(&self, queue: impl FnOnce() -> R) -> R {
        let holding = self.db.begin().await.unwrap();
        let queued = queue();
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        holding.commit().await.unwrap();
        queued
    }
}

#[tokio::test]
async fn batches_queued_while_the_writer_is_busy_share_one_transaction() {
    let fx = Fixture::new().await;
    let waiting: Vec<_> = fx
        .queued(|| (1..=40).map(|v| fx.spawn(insert(v), one_row)).collect())
        .await;
    for caller in waiting {
        assert_eq!(caller.await.unwrap(), Some(()));
    }
    assert_eq!(values(&fx.db).await, (1..=40).collect::<Vec<_>>());
    // 32 to a group, one after another on the same connection; the first batch may have
    // been taken alone before the others queued.
    let committed = fx.groups.groups_committed();
    assert!((2..=3).contains(&committed), "{committed} groups");
    assert_eq!(fx.groups.batches_kept(), 40);
}

#[tokio::test]
async fn another_writer_gets_the_connection_while_batches_keep_coming() {
    let fx = Fixture::new().await;
    let waiting: Vec<_> = fx
        .queued(|| (1..=200).map(|v| fx.spawn(insert(v), one_row)).collect())
        .await;
    // Queued behind the runner, which has far more than a turn's groups to run.
    let other = fx.db.acquire().await.unwrap();
    let kept = fx.groups.batches_kept();
    assert!(
        (MAX_GROUP as u64..200).contains(&kept),
        "the other writer waited for {kept} batches"
    );
    drop(other);
    for caller in waiting {
        assert_eq!(caller.await.unwrap(), Some(()));
    }
    assert_eq!(fx.groups.batches_kept(), 200);
}

#[tokio::test]
async fn a_refused_or_failed_batch_is_undone_and_its_neighbours_kept() {
    let fx = Fixture::new().await;
    let run = |batch: Batch, keep: bool| {
        fx.spawn(batch, move |answers| one_row(answers).filter(|_| keep))
    };
    let [failed_first, first, refused, judged_no, failed, last] = fx
        .queued(|| {
            [
                // The batch whose text carries the group's BEGIN fails.
                run(
                    Batch::new().write(sql("INSERT INTO missing (v) VALUES (1)", vec![])),
                    true,
                ),
                run(insert(1), true),
                // Two writes, refused by its check after both ran: neither stays.
                run(
                    insert(2).write(sql("INSERT INTO t (v) VALUES (?)", vec![3.into()])),
                    true,
                ),
                run(insert(4), false),
                // Its second statement breaks the unique rule: its first one goes too.
                run(
                    insert(5).write(sql("INSERT INTO t (v) VALUES (?)", vec![1.into()])),
                    true,
                ),
                run(insert(6), true),
            ]
        })
        .await;
    assert_eq!(failed_first.await.unwrap(), None);
    assert_eq!(first.await.unwrap(), Some(()));
    assert_eq!(refused.await.unwrap(), None);
    assert_eq!(judged_no.await.unwrap(), None);
    assert_eq!(failed.await.unwrap(), None);
    assert_eq!(last.await.unwrap(), Some(()));
    assert_eq!(values(&fx.db).await, vec![1, 6]);
    assert_eq!(fx.groups.batches_kept(), 2);
}

#[tokio::test]
async fn a_failed_commit_leaves_the_kept_batches_unknown_and_writes_nothing() {
    let fx = Fixture::new().await;
    let keep_all = |_| Some(());
    let [kept, orphan, refused] = fx
        .queued(|| {
            [
                fx.spawn_fallible(insert(1), keep_all),
                // Its parent does not exist: checked only at COMMIT, which fails.
                fx.spawn_fallible(
                    Batch::new().write(sql(
                        "INSERT INTO child (parent) VALUES (?)",
                        vec![999.into()],
                    )),
                    keep_all,
                ),
                fx.spawn_fallible(insert(2), |_| None::<()>),
            ]
        })
        .await;
    for unknown in [kept, orphan] {
        assert!(matches!(
            unknown.await.unwrap(),
            Err(BatchFailed::Unknown(_))
        ));
    }
    // Undone before the COMMIT: not in the group whatever became of it.
    assert!(matches!(refused.await.unwrap(), Ok(None)));
    assert!(values(&fx.db).await.is_empty());
    assert_eq!(fx.groups.groups_committed(), 0);
    // The transaction the failed COMMIT left open was rolled back: the runner goes on.
    assert_eq!(fx.spawn(insert(3), one_row).await.unwrap(), Some(()));
    assert_eq!(values(&fx.db).await, vec![3]);
}

#[tokio::test]
async fn a_check_that_panics_undoes_its_batch_and_the_runner_goes_on() {
    let fx = Fixture::new().await;
    let (kept, panicking) = fx
        .queued(|| {
            (
                fx.spawn(insert(1), one_row),
                fx.spawn_fallible(insert(2), |_| -> Option<()> { panic!("a check's bug") }),
            )
        })
        .await;
    assert_eq!(kept.await.unwrap(), Some(()));
    assert!(matches!(
        panicking.await.unwrap(),
        Err(BatchFailed::NotKept)
    ));
    assert_eq!(fx.spawn(insert(3), one_row).await.unwrap(), Some(()));
    assert_eq!(values(&fx.db).await, vec![1, 3]);
}

#[tokio::test]
async fn a_group_that_loses_its_transaction_keeps_nothing() {
    let fx = Fixture::new().await;
    let keep_all = |_| Some(());
    let [before, breaking, after] = fx
        .queued(|| {
            [
                fx.spawn_fallible(insert(1), keep_all),
                // Ends the group's transaction, then fails: the savepoint to go back to
                // is gone.
                fx.spawn_fallible(
                    Batch::new()
                        .write(sql("ROLLBACK", vec![]))
                        .write(sql("INSERT INTO missing (v) VALUES (1)", vec![])),
                    keep_all,
                ),
                fx.spawn_fallible(insert(2), keep_all),
            ]
        })
        .await;
    // Kept, then lost with the group; never run: either may run again.
    assert!(matches!(before.await.unwrap(), Err(BatchFailed::NotKept)));
    assert!(matches!(after.await.unwrap(), Err(BatchFailed::NotKept)));
    // Its statement failed: undone on its own merits.
    assert!(matches!(breaking.await.unwrap(), Ok(None)));
    assert!(values(&fx.db).await.is_empty());
    // The runner goes on with the next group.
    assert_eq!(fx.spawn(insert(3), one_row).await.unwrap(), Some(()));
    assert_eq!(values(&fx.db).await, vec![3]);
}
