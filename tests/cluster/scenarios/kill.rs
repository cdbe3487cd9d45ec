//! Sustained bookings and payments while one instance after another is SIGKILLed and started
//! again every 15 s (a third of the load in the short run). Clients see failures (the
//! requests the killed instance had); they retry through nginx, payments with the same
//! idempotency key, and afterwards nothing is charged twice, lost or sent twice.

use std::time::{Duration, Instant};

use super::{at, settle_and_verify, spawn_load};
use crate::cluster::wait_listening;
use crate::load::Op;
use crate::report::Section;
use crate::Ctx;

const KILL_EVERY: Duration = Duration::from_secs(15);
/// Every 5th booking is left unpaid, so holds expire all along.
const UNPAID_EVERY: usize = 5;

pub async fn run(ctx: &mut Ctx) -> Section {
    let mut section = Section::new("2. SIGKILL and restart under load");
    let length = ctx.load_seconds();
    let every = KILL_EVERY.min(length / 3);
    let started = Instant::now();
    let (until, load) = spawn_load(ctx, length, UNPAID_EVERY);
    let mut kills = 0;
    let mut next = started + every;
    while next + Duration::from_secs(1) < until {
        at(next).await;
        let victim = kills % ctx.cluster.instances.len();
        ctx.cluster.signal(victim, libc::SIGKILL);
        let mut child = ctx.cluster.instances[victim].child.take().expect("running");
        let status = child.wait().await.expect("wait");
        ctx.cluster
            .event(format!("SIGKILL instance {victim} ({status})"));
        let restarted = Instant::now();
        let child = ctx.cluster.spawn_child(victim);
        let log = ctx.cluster.instance_log(victim);
        ctx.cluster.instances[victim].child =
            Some(wait_listening(child, log, Duration::from_secs(90)).await);
        ctx.cluster.event(format!(
            "instance {victim} listening again ({:.1} s after the kill)",
            restarted.elapsed().as_secs_f64()
        ));
        kills += 1;
        next += every;
    }
    let outcome = load.await.expect("the load");
    section.line(format!(
        "- {kills} instances SIGKILLed and restarted, one every {} s, during {} s of load",
        every.as_secs(),
        length.as_secs()
    ));
    let retried = outcome
        .of(Op::Pay)
        .filter(|r| r.status != Some(201) && r.status != Some(409))
        .count();
    let in_progress = outcome
        .of(Op::Pay)
        .filter(|r| r.code.as_deref() == Some("idempotency_request_in_progress"))
        .count();
    section.line(format!(
        "- payments retried with their key after a failure: {retried}; answered \
         `idempotency_request_in_progress` meanwhile: {in_progress}"
    ));
    section.expect(kills >= 1, format!("{kills} kills"));
    settle_and_verify(ctx, outcome, &mut section).await;
    section
}
