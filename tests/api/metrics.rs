//! `GET /metrics` (API.md §9): the families, counters that move with the work actually done,
//! and who may read them.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;
use skybook::config::{Secret, Settings};

use crate::helpers::{
    assert_problem, bookable_flight, spawn_app, spawn_app_with, status_and_json, TestApp,
};
use crate::smtp_sink::SmtpSink;

/// One scrape, as samples: `name{labels}` -> value.
struct Scrape {
    text: String,
    samples: Vec<(String, BTreeMap<String, String>, f64)>,
}

impl Scrape {
    fn parse(text: String) -> Self {
        let mut samples = Vec::new();
        for line in text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
        {
            let (series, value) = line.rsplit_once(' ').expect("`series value`");
            let value: f64 = value.parse().expect("a number");
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => (name, rest.trim_end_matches('}')),
                None => (series, ""),
            };
            let labels = labels
                .split(',')
                .filter(|pair| !pair.is_empty())
                .map(|pair| {
                    let (key, value) = pair.split_once('=').expect("label=value");
                    (key.to_string(), value.trim_matches('"').to_string())
                })
                .collect();
            samples.push((name.to_string(), labels, value));
        }
        Self { text, samples }
    }

    /// The value of the one series of `name` with these labels (others may be present); 0 when
    /// there is none.
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let matching: Vec<f64> = self
            .samples
            .iter()
            .filter(|(n, l, _)| {
                n == name
                    && labels
                        .iter()
                        .all(|(k, v)| l.get(*k).is_some_and(|actual| actual == v))
            })
            .map(|(_, _, v)| *v)
            .collect();
        assert!(matching.len() <= 1, "{name} {labels:?} is ambiguous");
        matching.first().copied().unwrap_or(0.0)
    }

    fn outcome(&self, family: &str, outcome: &str) -> f64 {
        self.value(family, &[("outcome", outcome)])
    }

    fn routes(&self) -> Vec<String> {
        self.samples
            .iter()
            .filter(|(n, _, _)| n == "skybook_http_requests_total")
            .filter_map(|(_, l, _)| l.get("route").cloned())
            .collect()
    }
}

async fn scrape(app: &TestApp) -> Scrape {
    let response = app.get("/metrics", None).await;
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    Scrape::parse(response.text().await.expect("body"))
}

const BOOKINGS: &str = "skybook_bookings_total";
const PAYMENTS: &str = "skybook_payments_total";
const EMAILS: &str = "skybook_emails_total";
const REQUESTS: &str = "skybook_http_requests_total";

#[tokio::test]
async fn every_family_is_there_from_the_first_scrape() {
    let app = spawn_app().await;
    let first = scrape(&app).await;
    for (family, outcomes) in [
        (
            BOOKINGS,
            &[
                "created",
                "seat_unavailable",
                "confirmed",
                "cancelled",
                "expired",
            ][..],
        ),
        (
            PAYMENTS,
            &["succeeded", "declined", "failed", "replayed", "refunded"][..],
        ),
        (EMAILS, &["sent", "retried", "failed"][..]),
    ] {
        assert!(
            first.text.contains(&format!("# TYPE {family} counter")),
            "{}",
            first.text
        );
        for outcome in outcomes {
            let line = format!("{family}{{outcome=\"{outcome}\"}} 0");
            assert!(first.text.contains(&line), "{line} in {}", first.text);
        }
    }
    for gauge in [
        "skybook_email_queue_depth",
        "skybook_sweeper_last_run_timestamp_seconds",
    ] {
        assert!(
            first.text.contains(&format!("# TYPE {gauge} gauge")),
            "{}",
            first.text
        );
    }
    // The HTTP families hold a series per route once a request has been answered.
    let second = scrape(&app).await;
    assert!(second
        .text
        .contains("# TYPE skybook_http_request_duration_seconds histogram"));
    let metrics_get = [("method", "GET"), ("route", "/metrics"), ("status", "200")];
    assert_eq!(second.value(REQUESTS, &metrics_get), 1.0);
    assert_eq!(
        second.value(
            "skybook_http_request_duration_seconds_count",
            &[("method", "GET"), ("route", "/metrics")]
        ),
        1.0
    );
}

async fn eventually<F, Fut>(what: &str, check: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..150 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for: {what}");
}

fn smtp(port: u16) -> impl FnOnce(&mut Settings) {
    move |s| {
        s.smtp_url = Secret::new(format!("smtp://127.0.0.1:{port}"));
        s.email_retry_seconds = 1;
    }
}

async fn booked(app: &TestApp, token: &str, flight: i64, seat: &str) -> Value {
    let (status, booking) = status_and_json(app.book(token, flight, &[seat]).await).await;
    assert_eq!(status, 201, "{booking}");
    booking
}

#[tokio::test]
async fn counters_move_with_the_work_done() {
    let sink = SmtpSink::start().await;
    let app = spawn_app_with(smtp(sink.port)).await;
    let catalog = app.catalog().await;
    let flight = bookable_flight(&app, &catalog, "AI900").await;
    let token = app.customer_token().await;
    let other = app.customer_token().await;
    let before = scrape(&app).await;

    let paid = booked(&app, &token, flight, "2A").await;
    let declined = booked(&app, &token, flight, "2B").await;
    let errored = booked(&app, &token, flight, "2C").await;
    assert_problem(
        app.book(&other, flight, &["2A"]).await,
        409,
        "seat_unavailable",
    )
    .await;
    assert_eq!(
        app.pay(&token, &paid, "k-paid", "pm_card_ok")
            .await
            .status(),
        201
    );
    let replay = app.pay(&token, &paid, "k-paid", "pm_card_ok").await;
    assert_eq!(replay.status(), 201);
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    assert_problem(
        app.pay(&token, &declined, "k-declined", "pm_card_declined")
            .await,
        402,
        "payment_declined",
    )
    .await;
    assert_eq!(
        app.pay(&token, &errored, "k-error", "pm_card_error")
            .await
            .status(),
        502
    );
    let paid_id = paid["id"].as_i64().expect("id");
    let cancelled = app
        .post(
            &format!("/api/v1/bookings/{paid_id}/cancel"),
            Some(&token),
            &Value::Null,
        )
        .await;
    assert_eq!(cancelled.status(), 200);
    assert_eq!(app.get("/no/such/page", None).await.status(), 404);
    // The confirmation and the cancellation of the paid booking.
    eventually("both emails arrive", || async {
        sink.messages().len() >= 2
    })
    .await;
    eventually("the sent emails are counted", || async {
        let now = scrape(&app).await;
        now.outcome(EMAILS, "sent") - before.outcome(EMAILS, "sent") >= 2.0
            && now.value("skybook_email_queue_depth", &[]) == 0.0
    })
    .await;
    let after = scrape(&app).await;

    let delta = |family: &str, outcome: &str| {
        after.outcome(family, outcome) - before.outcome(family, outcome)
    };
    assert_eq!(delta(BOOKINGS, "created"), 3.0);
    assert_eq!(delta(BOOKINGS, "seat_unavailable"), 1.0);
    assert_eq!(delta(BOOKINGS, "confirmed"), 1.0);
    assert_eq!(delta(BOOKINGS, "cancelled"), 1.0);
    assert_eq!(delta(BOOKINGS, "expired"), 0.0);
    assert_eq!(delta(PAYMENTS, "succeeded"), 1.0);
    assert_eq!(delta(PAYMENTS, "replayed"), 1.0);
    assert_eq!(delta(PAYMENTS, "declined"), 1.0);
    assert_eq!(delta(PAYMENTS, "failed"), 1.0);
    assert_eq!(delta(PAYMENTS, "refunded"), 1.0);
    assert_eq!(delta(EMAILS, "sent"), sink.messages().len() as f64);
    assert_eq!(delta(EMAILS, "retried"), 0.0);

    // HTTP requests by route pattern, not by raw path.
    let requests = |method: &str, route: &str, status: &str| {
        let labels = [("method", method), ("route", route), ("status", status)];
        after.value(REQUESTS, &labels) - before.value(REQUESTS, &labels)
    };
    assert_eq!(requests("POST", "/api/v1/bookings", "201"), 3.0);
    assert_eq!(requests("POST", "/api/v1/bookings", "409"), 1.0);
    assert_eq!(
        requests("POST", "/api/v1/bookings/{id}/payments", "201"),
        2.0
    );
    assert_eq!(
        requests("POST", "/api/v1/bookings/{id}/payments", "402"),
        1.0
    );
    assert_eq!(requests("POST", "/api/v1/bookings/{id}/cancel", "200"), 1.0);
    assert_eq!(requests("GET", "unmatched", "404"), 1.0);
    let routes = after.routes();
    assert!(
        !routes
            .iter()
            .any(|r| r.split('/').any(|segment| segment.parse::<i64>().is_ok())),
        "raw paths leaked into the route label: {routes:?}"
    );
    let timed = |route: &str| {
        let labels = [("method", "POST"), ("route", route)];
        after.value("skybook_http_request_duration_seconds_count", &labels)
            - before.value("skybook_http_request_duration_seconds_count", &labels)
    };
    assert_eq!(timed("/api/v1/bookings"), 4.0);
}

#[tokio::test]
async fn a_refused_email_counts_as_retried_and_an_expired_hold_as_expired() {
    let sink = SmtpSink::start().await;
    sink.refuse_next(1);
    let app = spawn_app_with(|s| {
        smtp(sink.port)(s);
        s.hold_ttl_seconds = 2;
        s.sweep_interval_seconds = 1;
    })
    .await;
    let catalog = app.catalog().await;
    let flight = bookable_flight(&app, &catalog, "AI901").await;
    let token = app.customer_token().await;
    let booking = booked(&app, &token, flight, "3A").await;
    let id = booking["id"].as_i64().expect("id");
    // Nothing paid it: the sweeper expires it, and the "expired" email is refused once.
    eventually("the hold expires", || async {
        app.booking(&token, id).await["status"] == "expired"
    })
    .await;
    eventually("the email arrives after a retry", || async {
        !sink.messages().is_empty()
    })
    .await;
    eventually("the attempts are counted", || async {
        scrape(&app).await.outcome(EMAILS, "sent") >= 1.0
    })
    .await;
    let after = scrape(&app).await;
    assert_eq!(after.outcome(BOOKINGS, "expired"), 1.0);
    assert_eq!(after.outcome(EMAILS, "retried"), 1.0);
    assert_eq!(after.outcome(EMAILS, "sent"), 1.0);
    assert_eq!(after.outcome(EMAILS, "failed"), 0.0);
    let last_run = after.value("skybook_sweeper_last_run_timestamp_seconds", &[]);
    let now = chrono::Utc::now().timestamp() as f64;
    assert!(
        (now - 60.0..=now + 1.0).contains(&last_run),
        "last run {last_run}, now {now}"
    );
}

#[tokio::test]
async fn with_a_token_only_its_bearer_may_read() {
    const TOKEN: &str = "scrape-me-0123456789";
    let app = spawn_app_with(|s| s.metrics_token = Secret::new(TOKEN)).await;
    assert_problem(app.get("/metrics", None).await, 403, "forbidden").await;
    assert_problem(
        app.get("/metrics", Some("wrong-token")).await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        app.get("/metrics", Some(&format!("{TOKEN}x"))).await,
        403,
        "forbidden",
    )
    .await;
    let allowed = app.get("/metrics", Some(TOKEN)).await;
    assert_eq!(allowed.status(), 200);
    assert!(allowed
        .text()
        .await
        .expect("body")
        .contains("skybook_bookings_total"));
}

#[tokio::test]
async fn without_a_token_only_loopback_clients_may_read() {
    let app = spawn_app_with(|s| s.trusted_proxies = vec!["127.0.0.1".parse().expect("ip")]).await;
    let from = |client: &'static str| {
        app.client
            .get(app.url("/metrics"))
            .header("X-Forwarded-For", client)
            .send()
    };
    // Behind the trusted proxy the client is the forwarded address.
    assert_problem(from("203.0.113.7").await.expect("sent"), 403, "forbidden").await;
    assert_problem(
        from("::ffff:198.51.100.1").await.expect("sent"),
        403,
        "forbidden",
    )
    .await;
    assert_eq!(from("127.0.0.1").await.expect("sent").status(), 200);
    assert_eq!(from("::1").await.expect("sent").status(), 200);
    // A bearer token is not a way in when none is configured.
    let with_bearer = app
        .client
        .get(app.url("/metrics"))
        .header("X-Forwarded-For", "203.0.113.7")
        .bearer_auth("anything")
        .send()
        .await
        .expect("sent");
    assert_problem(with_bearer, 403, "forbidden").await;

    // Without trusted proxies the header is ignored: the peer (loopback) is the client.
    let direct = spawn_app().await;
    let claimed = direct
        .client
        .get(direct.url("/metrics"))
        .header("X-Forwarded-For", "203.0.113.7")
        .send()
        .await
        .expect("sent");
    assert_eq!(claimed.status(), 200);
}

#[tokio::test]
async fn a_configured_token_admits_a_remote_client() {
    let app = spawn_app_with(|s| {
        s.metrics_token = Secret::new("remote-scraper-token");
        s.trusted_proxies = vec!["127.0.0.1".parse().expect("ip")];
    })
    .await;
    let response = app
        .client
        .get(app.url("/metrics"))
        .header("X-Forwarded-For", "203.0.113.7")
        .bearer_auth("remote-scraper-token")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
}
