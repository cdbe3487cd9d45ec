//! The booking sweeper as an apalis-cron worker, every `SKYBOOK_SWEEP_INTERVAL_SECONDS`.

use apalis::prelude::*;
use apalis_cron::Tick;

use super::OneAtATime;
use crate::services::booking::sweeper;
use crate::state::AppState;

pub async fn sweep(
    _tick: Tick,
    state: Data<AppState>,
    guard: Data<OneAtATime>,
) -> Result<(), BoxDynError> {
    let Ok(_running) = guard.try_run() else {
        tracing::debug!("previous sweep still running; skipping this tick");
        return Ok(());
    };
    // A failed sweep is logged and tried again on the next tick; the worker keeps running.
    // Only a run that finished counts: an alert on its age then also catches a failing sweep.
    match sweeper::sweep(&state.db, state.payments.as_ref(), state.payment_policy()).await {
        Ok(_) => state.metrics.outcomes.sweeper_ran(),
        Err(err) => tracing::error!(error = %err, "sweep failed"),
    }
    if let Err(err) = super::queue::delete_finished(&state.db).await {
        tracing::error!(error = %err, "cleaning finished email jobs failed");
    }
    // Revocations of tokens that have expired anyway say nothing any more.
    if let Err(err) = crate::services::identity::delete_expired_revocations(&state.db).await {
        tracing::error!(error = %err, "deleting expired token revocations failed");
    }
    Ok(())
}
