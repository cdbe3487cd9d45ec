//! Several instances under faults (issue 19, API.md §9): N = 3 `skybook serve` processes on
//! one fresh PostgreSQL or MariaDB database behind nginx, with exact counts afterwards:
//! 1. the last seat asked for by 1,000 clients at once;
//! 2. bookings and payments while one instance is SIGKILLed and restarted every 15 s;
//! 3. instances stopped with SIGTERM under load (they drain);
//! 4. the database server stopped for 10 s under load;
//! 5. the SMTP server black-holed under load.
//!
//! Runs only when `SKYBOOK_CLUSTER_POSTGRES_URL` / `SKYBOOK_CLUSTER_MYSQL_URL` name a server
//! on this machine (it stops and starts that server; .ci/run and scripts/cluster set them);
//! without them each test returns at once. `SKYBOOK_CLUSTER_SECONDS` is the load per scenario
//! (default 20, CI's; scripts/cluster's full run: 60). `SKYBOOK_CLUSTER_REPORT` names the
//! markdown file the report goes to (its section for this database is replaced); the report
//! is printed either way.

mod checks;
mod cluster;
mod dbctl;
mod load;
mod report;
mod scenarios;
mod smtp;

use std::time::Duration;

use cluster::{Cluster, Kind};
use load::{Flights, Outcome, Traveller};

/// Instances behind nginx.
const INSTANCES: usize = 3;
/// Clients booking and paying at once in the sustained scenarios.
const TRAVELLERS: usize = 12;
/// Flights the sustained load spreads over (2,400 seats each).
const FLIGHTS: usize = 8;

/// What the scenarios share: the cluster, the clients, and everything the clients were told
/// so far (the checks after each scenario cover the whole database).
pub struct Ctx {
    pub cluster: Cluster,
    pub admin: String,
    pub travellers: Vec<Traveller>,
    pub flights: Flights,
    pub told: Outcome,
    pub seconds: u64,
}

impl Ctx {
    pub fn load_seconds(&self) -> Duration {
        Duration::from_secs(self.seconds)
    }
}

fn seconds() -> u64 {
    std::env::var("SKYBOOK_CLUSTER_SECONDS")
        .ok()
        .map(|s| s.parse().expect("SKYBOOK_CLUSTER_SECONDS: a whole number"))
        .unwrap_or(20)
}

/// `SKYBOOK_CLUSTER_ONLY=2,3`: only those scenarios (while working on one); all by default.
fn only() -> Vec<u32> {
    match std::env::var("SKYBOOK_CLUSTER_ONLY") {
        Ok(list) if !list.is_empty() => list
            .split(',')
            .map(|n| {
                n.trim()
                    .parse()
                    .expect("SKYBOOK_CLUSTER_ONLY: scenario numbers")
            })
            .collect(),
        _ => (1..=5).collect(),
    }
}

/// One database at a time: the two tests stop database servers and load the machine.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn run(kind: Kind, server_url: &str) {
    let _one = ONE_AT_A_TIME.lock().await;
    let seconds = seconds();
    let cluster = Cluster::start(kind, server_url, INSTANCES).await;
    let base = cluster.base_url();
    let setup = reqwest::Client::new();
    let admin = cluster::catalog(&setup, &base).await;
    let mut flights = Vec::new();
    for n in 0..FLIGHTS {
        flights.push(
            cluster::flight(
                &setup,
                &base,
                &admin,
                &format!("CL{}", 100 + n),
                100,
                "ABCDEFGHJKLM NPQRSTUVWXYZ",
            )
            .await,
        );
    }
    let mut travellers = Vec::new();
    for n in 0..TRAVELLERS {
        let http = load::http_from(load::address(10, n));
        let token = cluster::token_for(&http, &base, &format!("traveller-{n}@example.com")).await;
        travellers.push(Traveller { http, token });
    }
    let mut ctx = Ctx {
        cluster,
        admin,
        travellers,
        flights: Flights::new(flights),
        told: Outcome::default(),
        seconds,
    };
    let only = only();
    let mut sections = Vec::new();
    if only.contains(&1) {
        sections.push(scenarios::last_seat::run(&mut ctx).await);
    }
    if only.contains(&2) {
        sections.push(scenarios::kill::run(&mut ctx).await);
    }
    if only.contains(&3) {
        sections.push(scenarios::drain::run(&mut ctx).await);
    }
    if only.contains(&4) {
        sections.push(scenarios::db_outage::run(&mut ctx).await);
    }
    if only.contains(&5) {
        sections.push(scenarios::smtp_outage::run(&mut ctx).await);
    }
    let exited = ctx.cluster.exited();
    if !exited.is_empty() {
        let mut gone = report::Section::new("Instances");
        gone.fail(format!("instances exited on their own: {exited:?}"));
        sections.push(gone);
    }
    let text = report::render(&ctx, &sections);
    eprintln!("{text}");
    report::write(kind, &text);
    let failures: Vec<String> = sections
        .iter()
        .flat_map(|s| s.failures.iter().map(move |f| format!("{}: {f}", s.title)))
        .collect();
    if !failures.is_empty() {
        for i in 0..INSTANCES {
            eprintln!("--- instance {i} log (tail) ---");
            let logs = ctx.cluster.logs(i);
            let tail: Vec<&str> = logs.lines().rev().take(40).collect();
            for line in tail.into_iter().rev() {
                eprintln!("{line}");
            }
        }
    }
    ctx.cluster.finish().await;
    assert!(
        failures.is_empty(),
        "broken promises:\n{}",
        failures.join("\n")
    );
}

fn server(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_instances_on_postgres_behind_nginx_keep_every_promise_under_faults() {
    match server("SKYBOOK_CLUSTER_POSTGRES_URL") {
        Some(url) => run(Kind::Postgres, &url).await,
        None => eprintln!("SKYBOOK_CLUSTER_POSTGRES_URL is not set: nothing to run"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_instances_on_mariadb_behind_nginx_keep_every_promise_under_faults() {
    match server("SKYBOOK_CLUSTER_MYSQL_URL") {
        Some(url) => run(Kind::MySql, &url).await,
        None => eprintln!("SKYBOOK_CLUSTER_MYSQL_URL is not set: nothing to run"),
    }
}
