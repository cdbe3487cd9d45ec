//! The database server stopped for 10 s under load: requests fail fast with 503
//! problem+json (none waits more than a few seconds, none is a 500), the instances recover
//! by themselves once it is back, and afterwards every count still holds.

use std::time::{Duration, Instant};

use super::{at, settle_and_verify, spawn_load};
use crate::dbctl::Outage;
use crate::load::{Op, Rec};
use crate::report::Section;
use crate::Ctx;

const OUTAGE: Duration = Duration::from_secs(10);
/// "Fail fast": no answer during the outage may take longer than this. A database call waits
/// up to the pool's acquire timeout (3 s, src/db) for a connection, and a request gives up at
/// its first refused call (src/web/give_up.rs); a payment can still meet two waits, the
/// sandbox provider's own call (a stand-in for a network provider) and then its own. Before
/// the give-up, waits added up: 9.7 s for one payment.
const FAIL_FAST: Duration = Duration::from_secs(8);
/// Back to normal (every request answered well again) within this after the restart.
const RECOVERY: Duration = Duration::from_secs(30);
/// Load after the server is back, to see the recovery.
const AFTER: Duration = Duration::from_secs(15);

pub async fn run(ctx: &mut Ctx) -> Section {
    let mut section = Section::new("4. The database server stopped for 10 s under load");
    let kind = ctx.cluster.kind;
    let length = ctx
        .load_seconds()
        .max(ctx.load_seconds() / 5 + OUTAGE + AFTER);
    let started = Instant::now();
    let (_, load) = spawn_load(ctx, length, 5);
    at(started + ctx.load_seconds() / 5).await;
    let outage = tokio::task::spawn_blocking(move || Outage::begin(kind))
        .await
        .expect("stop the database server");
    let down = ctx.cluster.elapsed();
    ctx.cluster.event(format!("{} stopped", kind.name()));
    tokio::time::sleep(OUTAGE).await;
    let restart = ctx.cluster.elapsed();
    let ended = tokio::task::spawn_blocking(move || outage.end())
        .await
        .expect("start the database server");
    let up = ctx.cluster.elapsed();
    ctx.cluster.event(format!(
        "{} started again ({:.1} s to answer)",
        kind.name(),
        (up - restart).as_secs_f64()
    ));
    if let Err(why) = ended {
        section.fail(why);
    }
    let outcome = load.await.expect("the load");

    // Requests answered while the server was down, or in flight as it stopped.
    let during: Vec<&Rec> = outcome
        .records
        .iter()
        .filter(|r| r.sent + r.latency >= down && r.sent <= up)
        .collect();
    section.line(format!(
        "- outage from {:.1} s to {:.1} s (the server answering again)",
        down.as_secs_f64(),
        up.as_secs_f64()
    ));
    section.answers("requests answered during the outage", &during);
    let slow: Vec<&&Rec> = during.iter().filter(|r| r.latency > FAIL_FAST).collect();
    section.expect(
        slow.is_empty(),
        format!(
            "{} answers during the outage took longer than {} s (0 expected; slowest {:.1} s)",
            slow.len(),
            FAIL_FAST.as_secs(),
            during
                .iter()
                .map(|r| r.latency.as_secs_f64())
                .fold(0.0, f64::max)
        ),
    );
    let wrong: Vec<&&Rec> = during
        .iter()
        .filter(|r| r.is_5xx_or_lost() && !(r.status == Some(503) && r.problem_json))
        .collect();
    section.expect(
        wrong.is_empty(),
        format!(
            "{} failures (5xx or no answer) during the outage were not 503 problem+json (0 expected){}",
            wrong.len(),
            wrong
                .iter()
                .take(5)
                .map(|r| format!("; {:?} {:?} {:?}", r.status, r.code, r.error))
                .collect::<String>()
        ),
    );
    let unavailable = during.iter().filter(|r| r.status == Some(503)).count();
    section.expect(
        unavailable > 0,
        format!("{unavailable} × 503 during the outage (the load saw it)"),
    );

    // Recovered: the last failure after the restart, and every instance making bookings.
    let last_failure = outcome
        .records
        .iter()
        .filter(|r| r.sent > up && r.is_5xx_or_lost())
        .map(|r| r.sent + r.latency)
        .max();
    let recovered_after = last_failure.map_or(Duration::ZERO, |t| t - up);
    section.expect(
        recovered_after <= RECOVERY,
        format!(
            "recovered by themselves: the last failure {:.1} s after the server was back \
             (at most {} s)",
            recovered_after.as_secs_f64(),
            RECOVERY.as_secs()
        ),
    );
    let booked_after: std::collections::HashSet<&String> = outcome
        .of(Op::Book)
        .filter(|r| r.sent > up + recovered_after && r.status == Some(201))
        .filter_map(|r| r.upstream.as_ref())
        .collect();
    section.expect(
        booked_after.len() == ctx.cluster.instances.len(),
        format!(
            "{} instances made bookings after the recovery",
            booked_after.len()
        ),
    );
    settle_and_verify(ctx, outcome, &mut section).await;
    section
}
