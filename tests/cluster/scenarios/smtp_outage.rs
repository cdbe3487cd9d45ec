//! The SMTP server black-holed (it accepts connections and never answers) under load:
//! bookings are not slowed (p99 within 20 % of a normal period just before, same load), and
//! every email arrives once after it recovers.

use std::time::{Duration, Instant};

use super::{at, settle_and_verify, spawn_load};
use crate::load::{percentile, Op, Rec};
use crate::report::Section;
use crate::Ctx;

/// How much slower the p99 may be while the SMTP server is black-holed.
const SLOWER_AT_MOST: f64 = 1.2;

pub async fn run(ctx: &mut Ctx) -> Section {
    let mut section = Section::new("5. SMTP black-holed under load");
    // 30 s in the full run, as issue 19 asks; 20 s in the short one (a slow send times out
    // after 15 s, so a shorter black hole would hide little).
    let window = (ctx.load_seconds() / 2).clamp(Duration::from_secs(20), Duration::from_secs(30));
    let before = ctx.cluster.smtp.accepted_total();
    let started = Instant::now();
    let (_, load) = spawn_load(ctx, window * 2, 5);
    let normal_from = ctx.cluster.elapsed();
    at(started + window).await;
    ctx.cluster.smtp.black_hole(true);
    let hole_from = ctx.cluster.elapsed();
    ctx.cluster.event("SMTP black-holed");
    let sent_before_hole = ctx.cluster.smtp.accepted_total();
    let outcome = load.await.expect("the load");
    let received_in_hole = ctx.cluster.smtp.accepted_total() - sent_before_hole;
    ctx.cluster.smtp.black_hole(false);
    let hole_to = ctx.cluster.elapsed();
    ctx.cluster.event("SMTP answering again");

    let window_of = |from: Duration, to: Duration, op: Op| -> Vec<&Rec> {
        outcome
            .of(op)
            .filter(|r| r.sent >= from && r.sent < to)
            .collect()
    };
    let mut slowed = Vec::new();
    for (op, name) in [(Op::Book, "bookings"), (Op::Pay, "payments")] {
        let normal = window_of(normal_from, hole_from, op);
        let hole = window_of(hole_from, hole_to, op);
        section.answers(&format!("{name}, normal period"), &normal);
        section.answers(&format!("{name}, SMTP black-holed"), &hole);
        let p99 = |records: &[&Rec]| {
            percentile(&records.iter().map(|r| r.latency).collect::<Vec<_>>(), 99.0)
        };
        slowed.push((name, p99(&normal), p99(&hole)));
        let failed = hole.iter().filter(|r| r.status != Some(201)).count();
        section.expect(
            failed == 0,
            format!("{failed} {name} failed while SMTP was black-holed (0 expected)"),
        );
    }
    for (name, normal, hole) in slowed {
        section.expect(
            hole <= normal * SLOWER_AT_MOST,
            format!(
                "{name} p99 {hole:.1} ms while black-holed against {normal:.1} ms before \
                 ({:+.0} %, at most +20 %)",
                (hole / normal - 1.0) * 100.0
            ),
        );
    }
    section.expect(
        received_in_hole == 0,
        format!("{received_in_hole} emails accepted while black-holed (the hole held)"),
    );
    section.line(format!(
        "- emails received before this scenario: {before}, before the black hole: \
         {sent_before_hole}"
    ));
    settle_and_verify(ctx, outcome, &mut section).await;
    section
}
