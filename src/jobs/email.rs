//! Email delivery on the apalis monitor: a relay (apalis-cron, every second) moves due
//! outbox emails into the apalis SQL job queue, and the email worker sends them.

use apalis::prelude::*;
use apalis_cron::Tick;

use super::queue::EmailJob;
use super::OneAtATime;
use crate::state::AppState;

/// How often the outbox is checked for due emails; a booking never waits on it.
pub const RELAY_INTERVAL_SECONDS: u64 = 1;
/// Email jobs one worker runs at once (each sends up to `delivery::EMAILS_PER_JOB` emails).
pub const CONCURRENCY: usize = 4;

pub async fn relay(
    _tick: Tick,
    state: Data<AppState>,
    guard: Data<OneAtATime>,
) -> Result<(), BoxDynError> {
    let Ok(_running) = guard.try_run() else {
        return Ok(());
    };
    // Its writes go through the database's write lane, like a booking's (see `Database::write`).
    let (delivery, queue) = (state.delivery.clone(), state.email_queue.clone());
    let relayed = state
        .db
        .write(async move { delivery.relay(&queue).await })
        .await;
    if let Err(err) = relayed {
        tracing::error!(error = %err, "email relay failed");
    }
    Ok(())
}

/// Never fails the job: the outbox records the failure and when to try again, and the relay
/// queues it then (apalis's own retry layer misbehaves with its SQL storages in rc.8).
pub async fn send(job: EmailJob, state: Data<AppState>) -> Result<(), BoxDynError> {
    match state.delivery.run(&job).await {
        Ok(outcomes) => tracing::debug!(email_ids = ?job.email_ids, ?outcomes, "email job done"),
        Err(err) => {
            tracing::error!(email_ids = ?job.email_ids, error = %err, "email job failed; the relay will retry")
        }
    }
    Ok(())
}
