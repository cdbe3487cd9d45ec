//! A request gives up writing once one of its database calls found the database unreachable.
//!
//! Each call waits up to the pool's acquire timeout before it is refused, and a request that
//! goes on after a refusal (a payment records its failed attempt, then gives its idempotency
//! key back) added a wait per call: one payment took 9.7 s during an outage
//! (docs/RESILIENCE.md). Within a request ([`scope`], set by the web layer), once a call was
//! refused as unreachable every later write plan fails at once with
//! [`PlanError::GaveUp`](super::plan::PlanError::GaveUp), which answers 503. What it would
//! have written is left as a crash at that point would leave it: every write path recovers
//! from that (the payment lock and the sweeper settle an unfinished attempt and the answer
//! kept under its key). Background work runs outside a request and keeps its own retries.

use std::cell::Cell;
use std::future::Future;

tokio::task_local! {
    static UNREACHABLE_SEEN: Cell<bool>;
}

/// Runs `work` (one request) with its own record of whether the database was unreachable.
pub async fn scope<F: Future>(work: F) -> F::Output {
    UNREACHABLE_SEEN.scope(Cell::new(false), work).await
}

/// Records, for the request running on this task if any, that the database was unreachable.
pub fn note_unreachable() {
    let _ = UNREACHABLE_SEEN.try_with(|seen| seen.set(true));
}

/// Whether the request running on this task already found the database unreachable.
pub(super) fn given_up() -> bool {
    UNREACHABLE_SEEN.try_with(Cell::get).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_refusal_is_remembered_for_its_own_request_only() {
        let first = scope(async {
            assert!(!given_up());
            note_unreachable();
            given_up()
        })
        .await;
        assert!(first, "the request that met it gives up");
        assert!(
            !scope(async { given_up() }).await,
            "the next request starts afresh"
        );
        note_unreachable();
        assert!(!given_up(), "outside a request nothing is recorded");
    }
}
