//! SQLite's write work runs on one thread, kept on one CPU together with the writer
//! connection's own worker thread.
//!
//! sqlx runs each SQLite connection on a worker thread of its own: every statement is a
//! message to that thread and a wake-up of the task awaiting the answer. A booking and its
//! payment are ~45 such round trips through the one writer. Measured on this project's 2-core
//! VM, each wake-up that crosses to the other CPU costs tens of microseconds (an
//! inter-processor interrupt through the hypervisor), and that chain, not the CPUs (45 % idle)
//! nor the disk, bounded the booking rate: 340 flows/s with the process free to use both CPUs,
//! 570 flows/s with the whole process confined to one. Keeping just the write work and the
//! writer's thread on one CPU makes those round trips local while reads still use every CPU.
//!
//! The lane is a thread with a current-thread runtime. [`WriteLane::run`] hands it a future and
//! awaits its result; futures run concurrently on the lane and queue there for the writer as
//! they would anywhere else. The writer connection is opened from the lane, so its worker
//! thread inherits the lane's CPU. Reader connections must not be opened from the lane (they
//! would inherit it too): the readers are opened up front, see `connect_sqlite`.

use std::future::Future;
use std::pin::Pin;

use tokio::sync::{mpsc, oneshot};

type Job = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The lane's thread ended, or the work panicked (the panic is logged by the runtime).
#[derive(Debug, thiserror::Error)]
#[error("the database write lane stopped before the work finished")]
pub struct LaneStopped;

pub struct WriteLane {
    jobs: mpsc::UnboundedSender<Job>,
}

impl WriteLane {
    /// Starts the lane's thread; it ends once the lane is dropped and its work is done.
    pub fn start() -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (jobs, mut queue) = mpsc::unbounded_channel::<Job>();
        std::thread::Builder::new()
            .name("skybook-writer".into())
            .spawn(move || {
                pin_to_last_cpu();
                runtime.block_on(async move {
                    while let Some(job) = queue.recv().await {
                        tokio::spawn(job);
                    }
                });
            })?;
        Ok(Self { jobs })
    }

    /// Runs `work` on the lane and returns its output. Work already handed over finishes even
    /// if the caller stops waiting (a client that hangs up does not cut a write short).
    ///
    /// Not an `async fn`: that would keep room for `work` in the caller's future after it was
    /// moved to the lane, and write futures are large (in the 1,000-connection race, ~15 KB
    /// per request: 62 -> 77 MB of peak RSS). The future returned holds only the answer's
    /// channel.
    pub fn run<W, T>(&self, work: W) -> impl Future<Output = Result<T, LaneStopped>> + Send
    where
        W: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        let (done, result) = oneshot::channel();
        let job: Job = Box::pin(async move {
            let _ = done.send(work.await);
        });
        let handed_over = self.jobs.send(job).is_ok();
        async move {
            if !handed_over {
                return Err(LaneStopped);
            }
            result.await.map_err(|_| LaneStopped)
        }
    }
}

/// Confines the calling thread to the last CPU it may run on. With one CPU there is nothing
/// to choose, and where affinity cannot be set the lane simply runs unpinned.
fn pin_to_last_cpu() {
    let Some(cpus) = core_affinity::get_core_ids() else {
        return;
    };
    if cpus.len() < 2 {
        return;
    }
    if let Some(cpu) = cpus.last() {
        if !core_affinity::set_for_current(*cpu) {
            tracing::warn!(
                cpu = cpu.id,
                "could not pin the database write lane to a CPU"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed_cpus_of_this_thread() -> String {
        std::fs::read_to_string("/proc/thread-self/status")
            .unwrap()
            .lines()
            .find_map(|line| line.strip_prefix("Cpus_allowed_list:"))
            .unwrap()
            .trim()
            .to_string()
    }

    #[tokio::test]
    async fn work_runs_on_the_lane_thread_kept_on_one_cpu() {
        let lane = WriteLane::start().unwrap();
        let (name, cpus) = lane
            .run(async {
                let name = std::thread::current().name().map(str::to_string);
                (name, allowed_cpus_of_this_thread())
            })
            .await
            .unwrap();
        assert_eq!(name.as_deref(), Some("skybook-writer"));
        let available = core_affinity::get_core_ids().unwrap();
        if available.len() >= 2 {
            let last = available.last().unwrap().id;
            assert_eq!(cpus, last.to_string());
        } else {
            assert_eq!(cpus, allowed_cpus_of_this_thread());
        }
    }

    #[tokio::test]
    async fn threads_the_lane_starts_inherit_its_cpu() {
        let lane = WriteLane::start().unwrap();
        let (lane_cpus, child_cpus) = lane
            .run(async {
                let child = std::thread::spawn(allowed_cpus_of_this_thread);
                (allowed_cpus_of_this_thread(), child.join().unwrap())
            })
            .await
            .unwrap();
        assert_eq!(child_cpus, lane_cpus);
    }

    #[tokio::test]
    async fn work_finishes_when_the_caller_stops_waiting() {
        let lane = WriteLane::start().unwrap();
        let (finished, seen) = oneshot::channel();
        let (started, running) = oneshot::channel::<()>();
        let caller = lane.run(async move {
            let _ = started.send(());
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            let _ = finished.send(());
        });
        // The caller gives up once the work has started.
        tokio::select! {
            _ = caller => panic!("the work cannot finish before it is seen to start"),
            _ = running => {}
        }
        assert!(seen.await.is_ok(), "the work was cut short");
    }

    #[tokio::test]
    async fn the_callers_future_does_not_carry_the_work() {
        let lane = WriteLane::start().unwrap();
        let big = [7u8; 16 * 1024];
        let work = async move {
            tokio::task::yield_now().await;
            big.iter().map(|b| u64::from(*b)).sum::<u64>()
        };
        assert!(std::mem::size_of_val(&work) > 16 * 1024);
        let waiting = lane.run(work);
        assert!(
            std::mem::size_of_val(&waiting) < 256,
            "the caller's future is {} bytes",
            std::mem::size_of_val(&waiting)
        );
        assert_eq!(waiting.await.unwrap(), 7 * 16 * 1024);
    }

    #[tokio::test]
    async fn a_panic_in_the_work_is_an_error_and_the_lane_goes_on() {
        let lane = WriteLane::start().unwrap();
        let failed = lane.run(async { panic!("boom") }).await;
        assert!(matches!(failed, Err::<(), _>(LaneStopped)));
        assert_eq!(lane.run(async { 7 }).await.unwrap(), 7);
    }
}
