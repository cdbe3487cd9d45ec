//! 1,000 clients, each from its own address, ask at the same moment for the last seat of a
//! flight through nginx (so spread over the instances): exactly one 201, 999 409
//! `seat_unavailable`, nothing else.

use std::sync::Arc;
use std::time::Instant;

use serde_json::json;
use tokio::sync::Barrier;

use super::{settle_and_verify, spread};
use crate::cluster::{flight, token_for};
use crate::load::{self, call, Op, Outcome, Rec};
use crate::report::Section;
use crate::Ctx;

const CLIENTS: usize = 1000;
/// Accounts the clients share (any number works: one seat is free, so no account reaches
/// the pending-booking cap); each signs up from an address of its own.
const ACCOUNTS: usize = 25;

pub async fn run(ctx: &mut Ctx) -> Section {
    let mut section = Section::new("1. The last seat, 1,000 clients at once");
    let base = ctx.cluster.base_url();
    let setup = reqwest::Client::new();
    let flight_id = flight(&setup, &base, &ctx.admin, "CL1", 1, "AB").await;
    let mut tokens = Vec::new();
    for n in 0..ACCOUNTS {
        let http = load::http_from(load::address(21, n));
        tokens.push(token_for(&http, &base, &format!("seat-{n}@example.com")).await);
    }
    // Seat 1A is taken (and paid) first: 1B is the last seat.
    let mut told = Outcome::default();
    let (rec, first) = call(
        &setup,
        ctx.cluster.started,
        Op::Book,
        &format!("{base}/api/v1/bookings"),
        &tokens[0],
        None,
        &json!({"flight_id": flight_id, "seats": ["1A"], "passengers": [{"name": "First"}]}),
    )
    .await;
    assert_eq!(rec.status, Some(201), "the first seat: {first}");
    told.acknowledged.push((
        first["id"].as_i64().expect("id"),
        first["reference"].as_str().expect("reference").into(),
    ));

    ctx.cluster.event(format!(
        "last seat: {CLIENTS} requests for flight {flight_id}'s last seat"
    ));
    let barrier = Arc::new(Barrier::new(CLIENTS));
    let origin = ctx.cluster.started;
    let started = Instant::now();
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|n| {
            let http = load::http_from(load::address(20, n));
            let token = tokens[n % ACCOUNTS].clone();
            let url = format!("{base}/api/v1/bookings");
            // Half name the seat, half let the server assign one.
            let body = if n % 2 == 0 {
                json!({"flight_id": flight_id, "seats": ["1B"], "passengers": [{"name": "Racer"}]})
            } else {
                json!({"flight_id": flight_id, "passengers": [{"name": "Racer"}]})
            };
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                let (rec, body) = call(&http, origin, Op::Book, &url, &token, None, &body).await;
                (rec, body, n)
            })
        })
        .collect();
    let mut records: Vec<Rec> = Vec::new();
    let mut winners = Vec::new();
    for task in tasks {
        let (rec, body, n) = task.await.expect("a client");
        if rec.status == Some(201) {
            winners.push((body, n));
        }
        records.push(rec);
    }
    let took = started.elapsed();
    let refs: Vec<&Rec> = records.iter().collect();
    section.answers("answers", &refs);
    section.line(format!(
        "- all answered within {:.2} s; instances that answered: {}",
        took.as_secs_f64(),
        spread(records.iter())
    ));
    let created = records.iter().filter(|r| r.status == Some(201)).count();
    let refused = records
        .iter()
        .filter(|r| r.status == Some(409) && r.code.as_deref() == Some("seat_unavailable"))
        .count();
    let server_errors = records.iter().filter(|r| r.is_5xx_or_lost()).count();
    section.expect(created == 1, format!("{created} × 201 (1 expected)"));
    section.expect(
        refused == CLIENTS - 1,
        format!(
            "{refused} × 409 seat_unavailable ({} expected)",
            CLIENTS - 1
        ),
    );
    section.expect(
        server_errors == 0,
        format!("{server_errors} × 5xx or no answer (0 expected)"),
    );
    let instances = records
        .iter()
        .filter_map(|r| r.upstream.as_ref())
        .collect::<std::collections::HashSet<_>>()
        .len();
    section.expect(
        instances == ctx.cluster.instances.len(),
        format!("answered by {instances} instances"),
    );

    // Both bookings are paid, so the checks find them confirmed with their seats.
    for (booking, _) in &winners {
        told.acknowledged.push((
            booking["id"].as_i64().expect("id"),
            booking["reference"].as_str().expect("reference").into(),
        ));
    }
    let mut paid = vec![(first, 0)];
    paid.extend(winners);
    for (booking, n) in paid {
        let id = booking["id"].as_i64().expect("id");
        let (rec, payment) = call(
            &setup,
            origin,
            Op::Pay,
            &format!("{base}/api/v1/bookings/{id}/payments"),
            &tokens[n % ACCOUNTS],
            Some(&format!("last-seat-{id}")),
            &json!({"amount": booking["total"], "currency": "INR", "payment_method": "pm_card_ok"}),
        )
        .await;
        section.expect(
            rec.status == Some(201),
            format!("booking {id} paid: {:?} {payment}", rec.status),
        );
        if rec.status == Some(201) {
            told.paid.push(id);
        }
    }
    settle_and_verify(ctx, told, &mut section).await;
    section
}
