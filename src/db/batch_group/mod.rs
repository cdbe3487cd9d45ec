//! Many requests' batches in one SQLite transaction.
//!
//! Every SQLite transaction costs the same fixed work whatever it writes: BEGIN and COMMIT as
//! trips of their own to the writer connection's thread, sqlx's ping when the connection goes
//! back to the pool, SQLite's file locks, and a WAL commit that writes every changed page in
//! full (the flight's row page, the index pages) even when the transaction before it wrote the
//! same pages. Under sustained bookings that fixed work, not the statements, kept the writer
//! busy (see docs/BENCHMARKS.md, round 8).
//!
//! So the one-trip batches (see [`super::batch`]) that queue while the writer is busy run
//! together: one BEGIN, then each batch behind a savepoint of its own, judged by its caller's
//! check as soon as it has run, kept (RELEASE) or undone (ROLLBACK TO), and one COMMIT for the
//! group. BEGIN and each RELEASE go with the next batch's text, so a group of n batches is
//! n + 1 trips. A batch learns whether it was kept only once the COMMIT succeeded. If the group
//! loses its transaction before that, no batch of it was kept and the callers of the kept ones
//! hear [`BatchFailed::NotKept`] (they may run it again); if the COMMIT itself fails, they hear
//! [`BatchFailed::Unknown`] instead, and must not.
//!
//! The runner drives the writer connection through sqlx directly (sea-orm's transactions
//! would add BEGIN as a trip of its own), and keeps it for up to [`GROUPS_PER_TURN`] groups
//! that follow each other: each return to the pool costs a trip more (sqlx pings it).
//!
//! Nothing waits for company: the runner takes whatever is queued when it comes round, so a
//! lone request costs two trips (its batch with BEGIN, then COMMIT).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use sea_orm::DbErr;
use sqlx::{SqliteConnection, SqlitePool};
use tokio::sync::{mpsc, oneshot};

use super::batch::{Answers, Batch};
use super::write_lane::LaneStopped;

/// At most this many batches share a transaction: enough to spread its fixed cost thin,
/// few enough that the first in a group does not wait long for the last.
const MAX_GROUP: usize = 32;
/// Groups that follow each other without a pause keep the writer connection for at most this
/// many: each return to the pool costs a trip (sqlx pings the connection), and the writer's
/// other users (the email queue, the sweeper) wait for it meanwhile.
const GROUPS_PER_TURN: usize = 4;

/// Hands batches to the runner on the write lane, see [`BatchGroups::run`].
pub struct BatchGroups {
    queue: mpsc::UnboundedSender<Entry>,
    counts: Arc<Counts>,
}

#[derive(Default)]
struct Counts {
    groups_committed: AtomicU64,
    batches_kept: AtomicU64,
}

/// Why [`BatchGroups::run`] has no answer for a batch.
#[derive(Debug, thiserror::Error)]
pub enum BatchFailed {
    #[error(transparent)]
    Stopped(#[from] LaneStopped),
    /// The group's COMMIT failed after the batch had been judged fit to keep. SQLite may have
    /// written the group all the same (an I/O error can strike after the commit reached the
    /// WAL), so the caller must not do the work again another way.
    #[error("the commit of a group of batches failed; whether it was written is unknown: {0}")]
    Unknown(String),
    /// Nothing of the batch was written, and it was not judged on its own merits: the group
    /// lost its transaction, or the check panicked. Running it again is safe.
    #[error("a group of batches was rolled back; the batch was not written")]
    NotKept,
}

/// What a caller's check makes of its batch's answers; either way it carries the caller's
/// answer.
pub enum Verdict<T> {
    /// Keep the batch's writes; the caller hears `T` once the group committed.
    Keep(T),
    /// Undo them (nothing of the batch stays); the caller hears `T` whatever the group does.
    Undo(T),
}

struct Entry {
    batch: Batch,
    caller: Box<dyn Waiting>,
}

/// How a group ended.
enum Ending {
    /// COMMIT succeeded: the kept batches are written.
    Committed,
    /// Nothing of the group was written.
    RolledBack,
    /// COMMIT failed (see [`BatchFailed::Unknown`]), with the error's text for the kept
    /// batches' callers.
    Unknown(String),
}

/// A caller waiting for its batch, with the check that judges it.
trait Waiting: Send {
    /// Judges what the batch answered (or the error of its failed statement); true keeps its
    /// writes.
    fn judge(&mut self, answers: Result<Answers, DbErr>) -> bool;
    /// Whether the check kept the batch.
    fn kept(&self) -> bool;
    /// Tells the caller how its group ended.
    fn finish(self: Box<Self>, ending: &Ending);
}

struct Caller<T, F> {
    check: Option<F>,
    verdict: Option<Verdict<T>>,
    reply: oneshot::Sender<Result<T, BatchFailed>>,
}

impl<T, F> Waiting for Caller<T, F>
where
    T: Send,
    F: FnOnce(Result<Answers, DbErr>) -> Verdict<T> + Send,
{
    fn judge(&mut self, answers: Result<Answers, DbErr>) -> bool {
        self.verdict = self.check.take().map(|check| check(answers));
        self.kept()
    }

    fn kept(&self) -> bool {
        matches!(self.verdict, Some(Verdict::Keep(_)))
    }

    fn finish(self: Box<Self>, ending: &Ending) {
        let answer = match (self.verdict, ending) {
            // Undone before the group ended: not in it, whatever became of it.
            (Some(Verdict::Undo(answer)), _) | (Some(Verdict::Keep(answer)), Ending::Committed) => {
                Ok(answer)
            }
            (Some(Verdict::Keep(_)), Ending::Unknown(error)) => {
                Err(BatchFailed::Unknown(error.clone()))
            }
            (Some(Verdict::Keep(_)), Ending::RolledBack) | (None, _) => Err(BatchFailed::NotKept),
        };
        // A caller that stopped waiting loses nothing it was promised: its batch is written
        // or not, as for any request cut short after the write.
        let _ = self.reply.send(answer);
    }
}

impl BatchGroups {
    /// Starts the runner on the current runtime (the write lane's); it ends once this is
    /// dropped and the queued batches have run. `writer` must be a pool of one connection,
    /// SQLite's writer.
    pub fn start(writer: SqlitePool) -> Self {
        let (queue, entries) = mpsc::unbounded_channel();
        let counts = Arc::new(Counts::default());
        tokio::spawn(run_groups(writer, entries, Arc::clone(&counts)));
        Self { queue, counts }
    }

    /// How many groups have committed so far.
    pub fn groups_committed(&self) -> u64 {
        self.counts.groups_committed.load(Ordering::Relaxed)
    }

    /// How many batches committed groups have kept so far.
    pub fn batches_kept(&self) -> u64 {
        self.counts.batches_kept.load(Ordering::Relaxed)
    }

    /// Runs `batch` in the next group and gives the answer `check` made of it: at once when
    /// `check` undid it, once the group committed when `check` kept it. An error: the runner
    /// is gone, the COMMIT failed after `check` kept the batch, or the batch was not written
    /// for a reason of the group's (see [`BatchFailed`]).
    pub async fn run<T, F>(&self, batch: Batch, check: F) -> Result<T, BatchFailed>
    where
        T: Send + 'static,
        F: FnOnce(Result<Answers, DbErr>) -> Verdict<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let caller = Box::new(Caller {
            check: Some(check),
            verdict: None,
            reply,
        });
        self.queue
            .send(Entry { batch, caller })
            .map_err(|_| LaneStopped)?;
        answer.await.map_err(|_| LaneStopped)?
    }
}

async fn run_groups(
    writer: SqlitePool,
    mut entries: mpsc::UnboundedReceiver<Entry>,
    counts: Arc<Counts>,
) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    while let Some(first) = entries.recv().await {
        group.push(first);
        take_queued(&mut group, &mut entries);
        let mut conn = match writer.acquire().await {
            Ok(conn) => conn,
            Err(err) => {
                tracing::warn!(error = %err, "no writer for a group of batches");
                finish(&mut group, &Ending::RolledBack);
                continue;
            }
        };
        for turn in 1..=GROUPS_PER_TURN {
            let ending = run_group(&mut conn, &mut group).await;
            let clean = match &ending {
                Ending::Committed => {
                    let kept = group.iter().filter(|entry| entry.caller.kept()).count();
                    counts.groups_committed.fetch_add(1, Ordering::Relaxed);
                    counts
                        .batches_kept
                        .fetch_add(kept as u64, Ordering::Relaxed);
                    tracing::trace!(batches = group.len(), kept, "a group of batches committed");
                    true
                }
                Ending::RolledBack | Ending::Unknown(_) => abandon(&mut conn).await,
            };
            finish(&mut group, &ending);
            if !clean {
                // Still inside a transaction that will not end: closed, not reused (SQLite
                // rolls it back), and the pool opens a new writer.
                tracing::error!("the writer connection is stuck in a transaction; closing it");
                conn.close_on_drop();
                break;
            }
            if turn == GROUPS_PER_TURN {
                break;
            }
            take_queued(&mut group, &mut entries);
            if group.is_empty() {
                break;
            }
        }
        // Back to the pool: sqlx pings it there, and the other writers get their turn.
    }
}

/// Adds what is queued to `group`, up to its size.
fn take_queued(group: &mut Vec<Entry>, entries: &mut mpsc::UnboundedReceiver<Entry>) {
    while group.len() < MAX_GROUP {
        match entries.try_recv() {
            Ok(entry) => group.push(entry),
            Err(_) => break,
        }
    }
}

fn finish(group: &mut Vec<Entry>, ending: &Ending) {
    for entry in group.drain(..) {
        entry.caller.finish(ending);
    }
}

/// Runs one group in one transaction. The batches are taken out of the entries as they run;
/// the callers stay, judged, to be told how the group ended.
async fn run_group(conn: &mut SqliteConnection, group: &mut [Entry]) -> Ending {
    // BEGIN goes with the first batch's text, and the RELEASE of a kept batch with the next
    // one's: neither is a trip of its own. IMMEDIATE takes the write lock at once, so no
    // statement of the group can wait on it later. (If BEGIN fails, so does the ROLLBACK TO
    // below, which has no savepoint to go back to.)
    let mut prefix = "BEGIN IMMEDIATE;\nSAVEPOINT batch;\n";
    for entry in group.iter_mut() {
        let batch = std::mem::take(&mut entry.batch).after(prefix);
        let answers = batch.run(conn).await;
        if let Err(err) = &answers {
            // Most often a constraint its caller tells apart and answers.
            tracing::debug!(error = %err, "a statement of a batch failed");
        }
        // A check that panics would end the runner, and with it every later batch: it counts
        // as a refusal instead (the panic is still reported by the hook).
        let kept = catch_unwind(AssertUnwindSafe(|| entry.caller.judge(answers))).unwrap_or(false);
        prefix = if kept {
            "RELEASE batch;\nSAVEPOINT batch;\n"
        } else {
            // Fails only when the transaction itself is gone: then nothing of the group is
            // kept.
            let undone = sqlx::query("ROLLBACK TO batch; RELEASE batch")
                .execute(&mut *conn)
                .await;
            if let Err(err) = undone {
                tracing::warn!(error = %err, batches = group.len(), "a group of batches lost its transaction");
                return Ending::RolledBack;
            }
            "SAVEPOINT batch;\n"
        };
    }
    // COMMIT ends every savepoint still open.
    match sqlx::query("COMMIT").execute(conn).await {
        Ok(_) => Ending::Committed,
        Err(err) => {
            tracing::error!(error = %err, batches = group.len(), "the COMMIT of a group of batches failed");
            Ending::Unknown(err.to_string())
        }
    }
}

/// Ends whatever is left of a failed group's transaction; `false` when the connection is still
/// inside one and must not be used again.
async fn abandon(conn: &mut SqliteConnection) -> bool {
    if sqlx::query("ROLLBACK").execute(&mut *conn).await.is_ok() {
        return true;
    }
    // No transaction was left to roll back, which a BEGIN shows, or the connection is stuck.
    sqlx::query("BEGIN").execute(&mut *conn).await.is_ok()
        && sqlx::query("ROLLBACK").execute(&mut *conn).await.is_ok()
}

#[cfg(test)]
mod tests;
