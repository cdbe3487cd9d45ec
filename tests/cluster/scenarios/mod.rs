//! The five scenarios, in the order they run on one cluster.

pub mod db_outage;
pub mod drain;
pub mod kill;
pub mod last_seat;
pub mod smtp_outage;

use std::time::{Duration, Instant};

use crate::load::{self, Outcome};
use crate::report::Section;
use crate::{checks, Ctx};

/// Runs the sustained load on every traveller for `length` in a task of its own, so the
/// caller can inject faults meanwhile; `unpaid_every`: every n-th booking is left to expire.
pub fn spawn_load(
    ctx: &Ctx,
    length: Duration,
    unpaid_every: usize,
) -> (Instant, tokio::task::JoinHandle<Outcome>) {
    let travellers = ctx.travellers.clone();
    let base = ctx.cluster.base_url();
    let flights = ctx.flights.clone();
    let origin = ctx.cluster.started;
    let until = Instant::now() + length;
    let handle = tokio::spawn(async move {
        load::run(&travellers, &base, &flights, origin, until, unpaid_every).await
    });
    (until, handle)
}

/// Sleeps until `at`.
pub async fn at(at: Instant) {
    tokio::time::sleep_until(at.into()).await;
}

/// Waits until every hold is paid or expired and every email sent, then checks every promise
/// over the whole database.
pub async fn settle_and_verify(ctx: &mut Ctx, outcome: Outcome, section: &mut Section) {
    section.load(&outcome);
    ctx.told.merge(outcome);
    match checks::settle(&ctx.cluster).await {
        Ok(took) => section.line(format!(
            "- settled (no hold pending, every email sent) {:.1} s after the load",
            took.as_secs_f64()
        )),
        Err(why) => {
            section.line(format!("- **FAILED:** {why}"));
            section.fail(why);
        }
    }
    let verdict = checks::verify(&ctx.cluster, &ctx.told).await;
    section.verdict(verdict);
}

/// Which instance answered, from nginx's `X-Upstream`, for the records given.
pub fn spread<'a>(records: impl Iterator<Item = &'a load::Rec>) -> String {
    let mut by: std::collections::BTreeMap<String, usize> = Default::default();
    for rec in records {
        *by.entry(rec.upstream.clone().unwrap_or_else(|| "-".into()))
            .or_default() += 1;
    }
    by.iter()
        .map(|(u, n)| format!("{u}: {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}
