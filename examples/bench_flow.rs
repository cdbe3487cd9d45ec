//! Drives the "sustained full bookings" workload of `scripts/bench`: each of N connections
//! loops create-a-booking → pay-it-with-a-fresh-idempotency-key for a fixed time, and the
//! flows per second and their latencies are printed as one JSON line.
//!
//! oha drives every other workload; it cannot run this one, because each payment needs the
//! id of the booking just created and its own `Idempotency-Key` header (oha's headers are
//! fixed for a run). This program only sequences the two requests; it measures the same way
//! (wall clock from send to the last body byte, per connection, keep-alive).
//!
//!   cargo run --release --example bench_flow -- BASE_URL CONNECTIONS SECONDS FLIGHT_ID...
//!
//! It signs up one customer per connection (so the per-user pending cap and the user's row
//! lock do not serialise the connections), reads the seat maps of the given flights, and
//! hands each flow a free seat on the next flight in turn, as travellers spread over many
//! flights (and as the PostgreSQL baseline, scripts/bench-flow.pgbench, picks a random one).
//! Seats handed out flight by flight would put every flow in flight on one flight: on
//! PostgreSQL that measures the queue for that flight's row lock, not the system.
//!
//! With `BENCH_TRIP_STATS=HOST:PORT`, the totals address of examples/trip_counter.rs (a proxy
//! between Skybook and its database server), it reads the counter once the setup above is
//! done and again once the last flow has finished, and adds the difference to its line:
//! the round trips of exactly the flow phase, which `scripts/bench` divides by `flows`.
//!
//! With `BENCH_CPU_PID=PID`, Skybook's process id, it reads that process's CPU time at the same
//! two points and adds the CPU milliseconds per flow: how much of the machine Skybook itself
//! takes per booking + payment, beside the database server on the same cores.

use std::collections::VecDeque;
use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

struct Args {
    base: String,
    connections: usize,
    duration: Duration,
    flights: Vec<i64>,
}

fn args() -> Result<Args, String> {
    let mut raw = std::env::args().skip(1);
    let usage = "usage: bench_flow BASE_URL CONNECTIONS SECONDS FLIGHT_ID...";
    let base = raw.next().ok_or(usage)?;
    let connections = raw
        .next()
        .and_then(|c| c.parse().ok())
        .filter(|c| *c > 0)
        .ok_or(usage)?;
    let seconds: f64 = raw
        .next()
        .and_then(|s| s.parse().ok())
        .filter(|s: &f64| *s > 0.0)
        .ok_or(usage)?;
    let flights: Vec<i64> = raw
        .map(|f| f.parse().map_err(|_| usage))
        .collect::<Result<_, _>>()?;
    if flights.is_empty() {
        return Err(usage.into());
    }
    Ok(Args {
        base,
        connections,
        duration: Duration::from_secs_f64(seconds),
        flights,
    })
}

#[derive(Default)]
struct Tally {
    flows: Vec<Duration>,
    creates: Vec<Duration>,
    pays: Vec<Duration>,
    /// Any answer but 201, or a transport error, with what it was.
    errors: Vec<String>,
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1].as_secs_f64() * 1000.0
}

/// CPU time (user + system, all threads) the process has used so far, in milliseconds.
fn cpu_ms(pid: &str) -> Result<f64, String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map_err(|e| format!("/proc/{pid}/stat: {e}"))?;
    // The fields after the command's name, which may itself hold spaces; utime and stime are
    // the 14th and 15th of the line, counted in USER_HZ ticks (100 a second on Linux).
    let rest = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let ticks: Vec<u64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|field| field.parse().ok())
        .collect();
    match ticks.as_slice() {
        [user, system] => Ok((user + system) as f64 * 10.0),
        _ => Err(format!("/proc/{pid}/stat has no CPU times: {stat:?}")),
    }
}

/// The trip counter's running totals: (round trips, database connections opened).
fn trip_totals(addr: &str) -> Result<(u64, u64), String> {
    let mut line = String::new();
    std::net::TcpStream::connect(addr)
        .and_then(|mut stats| stats.read_to_string(&mut line))
        .map_err(|e| format!("trip counter at {addr}: {e}"))?;
    let mut fields = line.split_whitespace().map(str::parse::<u64>);
    match (fields.next(), fields.next()) {
        (Some(Ok(trips)), Some(Ok(connections))) => Ok((trips, connections)),
        _ => Err(format!("trip counter at {addr} answered {line:?}")),
    }
}

async fn post(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    key: Option<&str>,
    body: &Value,
) -> Result<(u16, Value), String> {
    let mut request = client.post(url).bearer_auth(token).json(body);
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    let response = request.send().await.map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let body = response.json::<Value>().await.unwrap_or(Value::Null);
    Ok((status, body))
}

async fn customer(client: &reqwest::Client, base: &str, i: usize) -> Result<String, String> {
    let email = format!("flow-{}-{i}@example.com", std::process::id());
    let password = "flow-password-123";
    let signup = json!({"email": email, "password": password, "name": format!("Flow {i}")});
    client
        .post(format!("{base}/api/v1/auth/signup"))
        .json(&signup)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let body: Value = client
        .post(format!("{base}/api/v1/auth/signin"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    body["access_token"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("sign-in failed: {body}"))
}

async fn free_seats(
    client: &reqwest::Client,
    base: &str,
    flights: &[i64],
) -> Result<VecDeque<(i64, String)>, String> {
    let mut by_flight = Vec::with_capacity(flights.len());
    for flight in flights {
        let mut seats = VecDeque::new();
        let map: Value = client
            .get(format!("{base}/api/v1/flights/{flight}/seats"))
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        for seat in map["seats"].as_array().ok_or("no seat map")? {
            if seat["available"] == true {
                if let Some(code) = seat["seat"].as_str() {
                    seats.push_back((*flight, code.to_string()));
                }
            }
        }
        by_flight.push(seats);
    }
    // Round-robin: one seat of each flight, then the next seat of each, and so on.
    let mut seats = VecDeque::new();
    while by_flight.iter().any(|left| !left.is_empty()) {
        for left in &mut by_flight {
            seats.extend(left.pop_front());
        }
    }
    Ok(seats)
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let args = args()?;
    let setup = reqwest::Client::new();
    let mut tokens = Vec::with_capacity(args.connections);
    for i in 0..args.connections {
        tokens.push(customer(&setup, &args.base, i).await?);
    }
    let seats = Arc::new(Mutex::new(
        free_seats(&setup, &args.base, &args.flights).await?,
    ));
    let tally = Arc::new(Mutex::new(Tally::default()));
    // Read here, with none of this program's requests in flight: the setup's sign-ups and
    // seat maps stay out of the count.
    let trip_stats = std::env::var("BENCH_TRIP_STATS").ok();
    let trips_before = trip_stats.as_deref().map(trip_totals).transpose()?;
    let cpu_pid = std::env::var("BENCH_CPU_PID").ok();
    let cpu_before = cpu_pid.as_deref().map(cpu_ms).transpose()?;
    let started = Instant::now();
    let deadline = started + args.duration;
    let mut tasks = Vec::new();
    for (i, token) in tokens.into_iter().enumerate() {
        let (seats, tally, base) = (seats.clone(), tally.clone(), args.base.clone());
        tasks.push(tokio::spawn(async move {
            // One keep-alive connection per simulated client.
            let client = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .build()
                .map_err(|e| e.to_string())?;
            let bookings = format!("{base}/api/v1/bookings");
            let mut n = 0u64;
            while Instant::now() < deadline {
                let Some((flight, seat)) = seats.lock().map_err(|e| e.to_string())?.pop_front()
                else {
                    return Err("ran out of free seats: give more flights".to_string());
                };
                n += 1;
                let t0 = Instant::now();
                let body =
                    json!({"flight_id": flight, "seats": [seat], "passengers": [{"name": "Flow"}]});
                let created = post(&client, &bookings, &token, None, &body).await;
                let t1 = Instant::now();
                let booking = match created {
                    Ok((201, booking)) => booking,
                    Ok((status, body)) => {
                        tally
                            .lock()
                            .map_err(|e| e.to_string())?
                            .errors
                            .push(format!("create {status}: {body}"));
                        continue;
                    }
                    Err(err) => {
                        tally
                            .lock()
                            .map_err(|e| e.to_string())?
                            .errors
                            .push(format!("create: {err}"));
                        continue;
                    }
                };
                let pay = json!({
                    "amount": booking["total"],
                    "currency": booking["currency"],
                    "payment_method": "pm_card_ok",
                });
                let url = format!("{bookings}/{}/payments", booking["id"]);
                let key = format!("flow-{}-{i}-{n}", std::process::id());
                let paid = post(&client, &url, &token, Some(&key), &pay).await;
                let t2 = Instant::now();
                let mut tally = tally.lock().map_err(|e| e.to_string())?;
                tally.creates.push(t1 - t0);
                match paid {
                    Ok((201, _)) => {
                        tally.pays.push(t2 - t1);
                        tally.flows.push(t2 - t0);
                    }
                    Ok((status, body)) => tally.errors.push(format!("pay {status}: {body}")),
                    Err(err) => tally.errors.push(format!("pay: {err}")),
                }
            }
            Ok::<(), String>(())
        }));
    }
    for task in tasks {
        task.await.map_err(|e| e.to_string())??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    // Every flow has had its answer by now; emails they queued may still be going out.
    let trips_after = trip_stats.as_deref().map(trip_totals).transpose()?;
    let trips = trips_before.zip(trips_after);
    let cpu_after = cpu_pid.as_deref().map(cpu_ms).transpose()?;
    let mut tally = Arc::try_unwrap(tally)
        .map_err(|_| "tally still shared")?
        .into_inner()
        .map_err(|e| e.to_string())?;
    for list in [&mut tally.flows, &mut tally.creates, &mut tally.pays] {
        list.sort();
    }
    for error in tally.errors.iter().take(5) {
        eprintln!("bench_flow: {error}");
    }
    println!(
        "{}",
        json!({
            "flows": tally.flows.len(),
            "seconds": elapsed,
            "flows_per_sec": tally.flows.len() as f64 / elapsed,
            "flow_p50_ms": percentile(&tally.flows, 50.0),
            "flow_p99_ms": percentile(&tally.flows, 99.0),
            "create_p99_ms": percentile(&tally.creates, 99.0),
            "pay_p99_ms": percentile(&tally.pays, 99.0),
            "errors": tally.errors.len(),
            // null without BENCH_TRIP_STATS
            "db_round_trips": trips.map(|(before, after)| after.0 - before.0),
            "db_round_trips_total": trips_after.map(|(total, _)| total),
            "db_connections_opened": trips.map(|(before, after)| after.1 - before.1),
            // null without BENCH_CPU_PID
            "server_cpu_ms_per_flow": cpu_before
                .zip(cpu_after)
                .filter(|_| !tally.flows.is_empty())
                .map(|(before, after)| (after - before) / tally.flows.len() as f64),
        })
    );
    Ok(())
}
