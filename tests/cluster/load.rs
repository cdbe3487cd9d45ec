//! The clients: travellers that book and pay through nginx, each from a loopback address of
//! its own, each request recorded with its time, latency and answer.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// No request may take longer than this; one that does is recorded as unanswered.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// A payment is retried with its key until this long after the load stops.
const PAY_RETRY_AFTER_STOP: Duration = Duration::from_secs(90);
const RETRY_PAUSE: Duration = Duration::from_millis(250);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Book,
    Pay,
}

/// One request and its answer.
#[derive(Clone, Debug)]
pub struct Rec {
    pub op: Op,
    /// When it was sent, since the cluster started.
    pub sent: Duration,
    pub latency: Duration,
    /// None: no HTTP answer (connection error or timeout).
    pub status: Option<u16>,
    /// The problem document's `code`, for an error answer.
    pub code: Option<String>,
    /// Whether an error answer was `application/problem+json`.
    pub problem_json: bool,
    /// Which instance answered (nginx's `X-Upstream`).
    pub upstream: Option<String>,
    pub error: Option<String>,
}

impl Rec {
    pub fn is_5xx_or_lost(&self) -> bool {
        self.status.is_none_or(|s| s >= 500)
    }
}

/// A client of its own: its own address (so its own rate-limit budget) and account.
#[derive(Clone)]
pub struct Traveller {
    pub http: reqwest::Client,
    pub token: String,
}

/// `127.G.x.y`: the n-th client address of group `group` (one group per use).
pub fn address(group: u8, n: usize) -> Ipv4Addr {
    Ipv4Addr::new(127, group, (n / 250) as u8, (n % 250) as u8 + 1)
}

pub fn http_from(addr: Ipv4Addr) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::V4(addr))
        .timeout(REQUEST_TIMEOUT)
        .build()
        .expect("HTTP client")
}

/// What the clients were told, and every request they made.
#[derive(Default, Debug)]
pub struct Outcome {
    pub records: Vec<Rec>,
    /// Bookings answered 201: (id, reference).
    pub acknowledged: Vec<(i64, String)>,
    /// Bookings whose payment was answered 201.
    pub paid: Vec<i64>,
    /// Bookings the clients left unpaid on purpose (they must expire).
    pub unpaid: Vec<i64>,
    /// Bookings whose payment was refused because the hold had run out meanwhile (it can,
    /// when the database is down for longer than the hold): they must have expired.
    pub lapsed: Vec<i64>,
    /// Bookings whose payment ended otherwise, with the answer.
    pub payment_failed: Vec<(i64, String)>,
}

impl Outcome {
    pub fn merge(&mut self, other: Outcome) {
        self.records.extend(other.records);
        self.acknowledged.extend(other.acknowledged);
        self.paid.extend(other.paid);
        self.unpaid.extend(other.unpaid);
        self.lapsed.extend(other.lapsed);
        self.payment_failed.extend(other.payment_failed);
    }

    pub fn of(&self, op: Op) -> impl Iterator<Item = &Rec> {
        self.records.iter().filter(move |r| r.op == op)
    }
}

/// Sends one request; the record and the JSON body.
pub async fn call(
    http: &reqwest::Client,
    origin: Instant,
    op: Op,
    url: &str,
    token: &str,
    key: Option<&str>,
    body: &Value,
) -> (Rec, Value) {
    let sent = origin.elapsed();
    let started = Instant::now();
    let mut request = http.post(url).bearer_auth(token).json(body);
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    let mut rec = Rec {
        op,
        sent,
        latency: Duration::ZERO,
        status: None,
        code: None,
        problem_json: false,
        upstream: None,
        error: None,
    };
    let answer = match request.send().await {
        Ok(response) => {
            rec.status = Some(response.status().as_u16());
            let header = |name: &str| {
                response
                    .headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            };
            rec.problem_json =
                header("content-type").is_some_and(|t| t.starts_with("application/problem+json"));
            rec.upstream = header("x-upstream");
            match response.bytes().await {
                Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or(Value::Null),
                Err(err) => {
                    rec.error = Some(format!("body: {err}"));
                    Value::Null
                }
            }
        }
        Err(err) => {
            rec.error = Some(format!("{err:?}"));
            Value::Null
        }
    };
    rec.latency = started.elapsed();
    rec.code = answer["code"].as_str().map(str::to_string);
    (rec, answer)
}

/// The flights the load books on, handed out in turn so that no one flight's row is every
/// booking's queue.
#[derive(Clone)]
pub struct Flights {
    ids: Arc<Vec<i64>>,
    next: Arc<AtomicUsize>,
}

impl Flights {
    pub fn new(ids: Vec<i64>) -> Self {
        Flights {
            ids: Arc::new(ids),
            next: Arc::default(),
        }
    }

    fn pick(&self) -> i64 {
        self.ids[self.next.fetch_add(1, Ordering::Relaxed) % self.ids.len()]
    }
}

/// Every traveller books and pays in a loop until `until`; every `unpaid_every`-th booking of
/// each is left unpaid to expire. A failed booking is tried again as a new booking (a
/// booking has no idempotency key; one made but not answered expires); a payment is retried
/// with the same key until it gets an answer that settles it.
pub async fn run(
    travellers: &[Traveller],
    base: &str,
    flights: &Flights,
    origin: Instant,
    until: Instant,
    unpaid_every: usize,
) -> Outcome {
    let tasks: Vec<_> = travellers
        .iter()
        .enumerate()
        .map(|(n, traveller)| {
            let (traveller, base, flights) = (traveller.clone(), base.to_string(), flights.clone());
            tokio::spawn(async move {
                flows(&traveller, &base, &flights, origin, until, unpaid_every, n).await
            })
        })
        .collect();
    let mut outcome = Outcome::default();
    for task in tasks {
        outcome.merge(task.await.expect("a load task"));
    }
    outcome
}

async fn flows(
    traveller: &Traveller,
    base: &str,
    flights: &Flights,
    origin: Instant,
    until: Instant,
    unpaid_every: usize,
    n: usize,
) -> Outcome {
    let mut outcome = Outcome::default();
    let book_url = format!("{base}/api/v1/bookings");
    let mut count = n; // travellers leave their unpaid bookings at different moments
    while Instant::now() < until {
        let body = json!({"flight_id": flights.pick(), "passengers": [{"name": "Tess Traveller"}]});
        let (rec, booking) = call(
            &traveller.http,
            origin,
            Op::Book,
            &book_url,
            &traveller.token,
            None,
            &body,
        )
        .await;
        let status = rec.status;
        outcome.records.push(rec);
        if status != Some(201) {
            tokio::time::sleep(RETRY_PAUSE).await;
            continue;
        }
        let id = booking["id"].as_i64().expect("booking id");
        let reference = booking["reference"]
            .as_str()
            .expect("reference")
            .to_string();
        outcome.acknowledged.push((id, reference));
        count += 1;
        if unpaid_every > 0 && count.is_multiple_of(unpaid_every) {
            outcome.unpaid.push(id);
            continue;
        }
        pay(traveller, base, origin, until, &booking, &mut outcome).await;
    }
    outcome
}

async fn pay(
    traveller: &Traveller,
    base: &str,
    origin: Instant,
    until: Instant,
    booking: &Value,
    outcome: &mut Outcome,
) {
    let id = booking["id"].as_i64().expect("booking id");
    let url = format!("{base}/api/v1/bookings/{id}/payments");
    let key = uuid::Uuid::new_v4().to_string();
    let body = json!({"amount": booking["total"], "currency": booking["currency"], "payment_method": "pm_card_ok"});
    let give_up = until + PAY_RETRY_AFTER_STOP;
    loop {
        let (rec, answer) = call(
            &traveller.http,
            origin,
            Op::Pay,
            &url,
            &traveller.token,
            Some(&key),
            &body,
        )
        .await;
        let (status, code) = (rec.status, rec.code.clone());
        outcome.records.push(rec);
        match (status, code.as_deref()) {
            (Some(201), _) => {
                assert_eq!(answer["status"], "succeeded", "{answer}");
                outcome.paid.push(id);
                return;
            }
            // Still running on another instance, or killed there and not yet settled, or
            // no answer: the same key again.
            (Some(409), Some("idempotency_request_in_progress")) | (None, _) => {}
            (Some(s), _) if s >= 500 => {}
            (Some(409), Some("booking_not_payable")) => {
                outcome.lapsed.push(id);
                return;
            }
            (status, _) => {
                outcome
                    .payment_failed
                    .push((id, format!("{status:?} {answer}")));
                return;
            }
        }
        if Instant::now() > give_up {
            outcome
                .payment_failed
                .push((id, format!("no settled answer: last {status:?} {code:?}")));
            return;
        }
        tokio::time::sleep(RETRY_PAUSE).await;
    }
}

/// The p-th percentile of the latencies, in milliseconds.
pub fn percentile(latencies: &[Duration], p: f64) -> f64 {
    if latencies.is_empty() {
        return 0.0;
    }
    let mut sorted = latencies.to_vec();
    sorted.sort();
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1].as_secs_f64() * 1000.0
}
