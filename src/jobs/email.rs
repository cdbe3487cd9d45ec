//! The email worker: every second, sends what is due in the outbox (see `services::notify`).

use apalis::prelude::*;
use apalis_cron::Tick;

use super::sweeper::OneAtATime;
use crate::state::AppState;

/// How often the outbox is checked; a booking never waits on it.
pub const POLL_INTERVAL_SECONDS: u64 = 1;

pub async fn deliver(
    _tick: Tick,
    state: Data<AppState>,
    guard: Data<OneAtATime>,
) -> Result<(), BoxDynError> {
    let Ok(_running) = guard.try_run() else {
        return Ok(());
    };
    if let Err(err) = state.delivery.deliver_due().await {
        tracing::error!(error = %err, "email delivery pass failed");
    }
    Ok(())
}
