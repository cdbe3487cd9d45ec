//! Instances stopped with SIGTERM under load, one at a time, each started again once it has
//! exited: the instance drains (API.md §9) and nginx sends new requests elsewhere, so the
//! clients see no failure at all.

use std::time::{Duration, Instant};

use super::{at, settle_and_verify, spawn_load};
use crate::load::Rec;
use crate::report::Section;
use crate::Ctx;

/// The grace period is 10 s (cluster::SETTINGS); exiting takes longer only if it is broken.
const EXIT_TIMEOUT: Duration = Duration::from_secs(40);
const STOPS: u32 = 3;

pub async fn run(ctx: &mut Ctx) -> Section {
    let mut section = Section::new("3. SIGTERM under load");
    let length = ctx.load_seconds();
    let started = Instant::now();
    let (_, load) = spawn_load(ctx, length, 0);
    let nginx_errors_before = ctx.cluster.nginx_upstream_errors().len();
    let mut stops = Vec::new();
    for n in 1..=STOPS {
        at(started + length * n / (STOPS + 1)).await;
        let victim = (n as usize) % ctx.cluster.instances.len();
        ctx.cluster.signal(victim, libc::SIGTERM);
        ctx.cluster.event(format!("SIGTERM instance {victim}"));
        let signalled = Instant::now();
        let mut child = ctx.cluster.instances[victim].child.take().expect("running");
        let code = match tokio::time::timeout(EXIT_TIMEOUT, child.wait()).await {
            Ok(status) => status.expect("wait").code(),
            Err(_) => {
                let _ = child.kill().await;
                None
            }
        };
        let took = signalled.elapsed();
        ctx.cluster.event(format!(
            "instance {victim} exited with {code:?} {:.1} s after SIGTERM",
            took.as_secs_f64()
        ));
        stops.push((victim, code, took));
        ctx.cluster.spawn(victim).await;
        ctx.cluster
            .event(format!("instance {victim} listening again"));
    }
    let outcome = load.await.expect("the load");
    for (victim, code, took) in &stops {
        section.expect(
            *code == Some(0),
            format!(
                "instance {victim} exited {code:?} {:.1} s after SIGTERM (0 expected)",
                took.as_secs_f64()
            ),
        );
    }
    let failed: Vec<&Rec> = outcome
        .records
        .iter()
        .filter(|r| r.is_5xx_or_lost() || r.status == Some(429))
        .collect();
    section.expect(
        failed.is_empty(),
        format!(
            "{} requests failed as clients saw them (0 expected){}",
            failed.len(),
            failed
                .iter()
                .take(5)
                .map(|r| format!(
                    "; at {:.2} s {:?} {:?} via {:?} {}",
                    r.sent.as_secs_f64(),
                    r.status,
                    r.code,
                    r.upstream,
                    r.error.as_deref().unwrap_or("")
                ))
                .collect::<String>()
        ),
    );
    // What nginx saw of the draining instances: refused connections it passed on to another
    // instance, and any error it could not pass on (a failed request).
    let nginx_errors: Vec<String> =
        ctx.cluster.nginx_upstream_errors()[nginx_errors_before..].to_vec();
    let refused = nginx_errors
        .iter()
        .filter(|l| l.contains("Connection refused"))
        .count();
    section.line(format!(
        "- nginx: {} upstream errors, {refused} of them connections refused (passed to the \
         next instance){}",
        nginx_errors.len(),
        nginx_errors
            .iter()
            .filter(|l| !l.contains("Connection refused"))
            .take(5)
            .map(|l| format!("; `{l}`"))
            .collect::<String>()
    ));
    settle_and_verify(ctx, outcome, &mut section).await;
    section
}
