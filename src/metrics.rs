//! What one Skybook process counts, for `GET /metrics` (API.md §9), in Prometheus's text
//! format (rendered by the `prometheus` crate, never by hand).
//!
//! Every running application has its own registry: counters are per process, as Prometheus
//! expects, and several applications in one test process do not see each other's work. The
//! services count their outcomes through [`Outcomes`], which the booking, payment and
//! cancellation policies carry (a `&'static`, so the policies stay `Copy`).

use std::sync::LazyLock;

use prometheus::{
    Encoder, Gauge, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

/// What became of a booking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookingOutcome {
    Created,
    SeatUnavailable,
    Confirmed,
    Cancelled,
    Expired,
}

impl BookingOutcome {
    pub const ALL: [Self; 5] = [
        Self::Created,
        Self::SeatUnavailable,
        Self::Confirmed,
        Self::Cancelled,
        Self::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::SeatUnavailable => "seat_unavailable",
            Self::Confirmed => "confirmed",
            Self::Cancelled => "cancelled",
            Self::Expired => "expired",
        }
    }
}

/// What became of a payment attempt (or of a replayed request for one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentOutcome {
    Succeeded,
    Declined,
    Failed,
    Replayed,
    Refunded,
}

impl PaymentOutcome {
    pub const ALL: [Self; 5] = [
        Self::Succeeded,
        Self::Declined,
        Self::Failed,
        Self::Replayed,
        Self::Refunded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Declined => "declined",
            Self::Failed => "failed",
            Self::Replayed => "replayed",
            Self::Refunded => "refunded",
        }
    }
}

/// What became of one attempt to send an email.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailOutcome {
    Sent,
    /// Not sent; it will be tried again.
    Retried,
    /// Not sent, and given up (kept as `failed` for an admin to retry).
    Failed,
}

impl EmailOutcome {
    pub const ALL: [Self; 3] = [Self::Sent, Self::Retried, Self::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Retried => "retried",
            Self::Failed => "failed",
        }
    }
}

/// The domain counters, as the services and jobs see them.
pub struct Outcomes {
    bookings: IntCounterVec,
    payments: IntCounterVec,
    emails: IntCounterVec,
    sweeper_last_run: Gauge,
}

impl std::fmt::Debug for Outcomes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Outcomes")
    }
}

/// Counts that no registry exposes: for code that runs the services outside an application
/// (tests that drive a service directly).
static UNOBSERVED: LazyLock<Outcomes> = LazyLock::new(|| Outcomes::registered(&Registry::new()));

impl Outcomes {
    pub fn unobserved() -> &'static Outcomes {
        &UNOBSERVED
    }

    fn registered(registry: &Registry) -> Self {
        let outcomes = Self {
            bookings: counter(
                registry,
                "skybook_bookings_total",
                "Bookings by what became of them",
            ),
            payments: counter(
                registry,
                "skybook_payments_total",
                "Payment attempts by outcome; replayed: answered from an idempotency key",
            ),
            emails: counter(
                registry,
                "skybook_emails_total",
                "Email send attempts by outcome",
            ),
            sweeper_last_run: register(
                registry,
                Gauge::new(
                    "skybook_sweeper_last_run_timestamp_seconds",
                    "When this process's sweeper last finished a run (Unix time; 0: not yet)",
                ),
            ),
        };
        // Every series exists from the first scrape, so rates and alerts need no special case
        // for "never happened yet".
        for outcome in BookingOutcome::ALL {
            outcomes.bookings.with_label_values(&[outcome.as_str()]);
        }
        for outcome in PaymentOutcome::ALL {
            outcomes.payments.with_label_values(&[outcome.as_str()]);
        }
        for outcome in EmailOutcome::ALL {
            outcomes.emails.with_label_values(&[outcome.as_str()]);
        }
        outcomes
    }

    pub fn booking(&self, outcome: BookingOutcome) {
        self.bookings(outcome, 1);
    }

    pub fn bookings(&self, outcome: BookingOutcome, count: u64) {
        self.bookings
            .with_label_values(&[outcome.as_str()])
            .inc_by(count);
    }

    pub fn payment(&self, outcome: PaymentOutcome) {
        self.payments(outcome, 1);
    }

    pub fn payments(&self, outcome: PaymentOutcome, count: u64) {
        self.payments
            .with_label_values(&[outcome.as_str()])
            .inc_by(count);
    }

    pub fn email(&self, outcome: EmailOutcome) {
        self.emails.with_label_values(&[outcome.as_str()]).inc();
    }

    /// A sweeper run finished now.
    pub fn sweeper_ran(&self) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |since| since.as_secs_f64());
        self.sweeper_last_run.set(now);
    }
}

/// Request durations, in seconds: SQLite reads take well under a millisecond, a payment with
/// its provider call tens of milliseconds.
const DURATION_BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// One application's metrics; cloned cheaply (the counters are shared).
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    http_requests: IntCounterVec,
    http_duration: HistogramVec,
    email_queue_depth: IntGauge,
    pub outcomes: &'static Outcomes,
}

impl Metrics {
    /// A fresh registry with every family registered. Its [`Outcomes`] live as long as the
    /// process (one small allocation per application built).
    pub fn new() -> Self {
        let registry = Registry::new();
        let outcomes: &'static Outcomes = Box::leak(Box::new(Outcomes::registered(&registry)));
        let http_requests = register(
            &registry,
            IntCounterVec::new(
                Opts::new(
                    "skybook_http_requests_total",
                    "HTTP requests answered, by method, route pattern and status",
                ),
                &["method", "route", "status"],
            ),
        );
        let http_duration = register(
            &registry,
            HistogramVec::new(
                HistogramOpts::new(
                    "skybook_http_request_duration_seconds",
                    "Time to answer an HTTP request (until its head is ready), by route pattern",
                )
                .buckets(DURATION_BUCKETS.to_vec()),
                &["method", "route"],
            ),
        );
        let email_queue_depth = register(
            &registry,
            IntGauge::new(
                "skybook_email_queue_depth",
                "Emails waiting in the outbox (not yet sent, not given up), read at scrape time",
            ),
        );
        Self {
            registry,
            http_requests,
            http_duration,
            email_queue_depth,
            outcomes,
        }
    }

    /// One answered request. `method` and `route` must come from bounded sets (see
    /// `web::metrics`).
    pub fn http_request(&self, method: &str, route: &str, status: &str, seconds: f64) {
        self.http_requests
            .with_label_values(&[method, route, status])
            .inc();
        self.http_duration
            .with_label_values(&[method, route])
            .observe(seconds);
    }

    /// The text exposition of every family, with the queue depth read just now.
    pub fn render(&self, email_queue_depth: u64) -> anyhow::Result<String> {
        self.email_queue_depth
            .set(i64::try_from(email_queue_depth).unwrap_or(i64::MAX));
        let mut text = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut text)?;
        Ok(String::from_utf8(text)?)
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

fn counter(registry: &Registry, name: &str, help: &str) -> IntCounterVec {
    register(
        registry,
        IntCounterVec::new(Opts::new(name, help), &["outcome"]),
    )
}

/// Registers a collector whose name and labels are constants of this module: a failure is a
/// programming error found by the first test, not a runtime condition.
fn register<C>(registry: &Registry, collector: prometheus::Result<C>) -> C
where
    C: prometheus::core::Collector + Clone + 'static,
{
    let collector = collector.expect("a valid metric definition");
    registry
        .register(Box::new(collector.clone()))
        .expect("each metric registered once");
    collector
}
