//! API.md §7: the airline cancels a flight (every live booking cancelled, refunded and told
//! once) or moves it (every live booking told the old and new times once).

use std::time::Duration;

use serde_json::{json, Value};
use skybook::config::Secret;

use crate::helpers::*;
use crate::smtp_sink::SmtpSink;

fn with_smtp(port: u16) -> impl FnOnce(&mut skybook::config::Settings) {
    move |s| {
        s.smtp_url = Secret::new(format!("smtp://127.0.0.1:{port}"));
        s.email_retry_seconds = 1;
        s.max_pending_bookings = 1_000;
    }
}

async fn eventually<F: FnMut() -> bool>(what: &str, mut check: F) {
    for _ in 0..600 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for: {what}");
}

/// A flight of 120 economy seats (rows 1-20, ABC DEF) and its id.
async fn big_flight(app: &TestApp, catalog: &Catalog, number: &str) -> i64 {
    let airplane = app
        .created(
            app.post(
                "/api/v1/airplanes",
                Some(&catalog.admin),
                &json!({"model": format!("Test 737 {number}"), "rows": 20, "seat_letters": "ABC DEF", "business_rows": 0}),
            )
            .await,
        )
        .await;
    let mut body = flight_body(
        catalog,
        number,
        days_ahead(10) + chrono::Duration::hours(6),
        100_000,
    );
    body["airplane_id"] = airplane["id"].clone();
    app.create_flight(catalog, body).await["id"]
        .as_i64()
        .expect("id")
}

fn seat(i: usize) -> String {
    format!("{}{}", i / 6 + 1, ['A', 'B', 'C', 'D', 'E', 'F'][i % 6])
}

/// The messages whose subject carries `text`, by the booking reference they name.
fn subjects_with(sink: &SmtpSink, text: &str) -> Vec<String> {
    sink.messages()
        .iter()
        .filter_map(|m| {
            m.data
                .lines()
                .find(|l| l.starts_with("Subject:"))
                .filter(|l| l.contains(text))
                .map(|l| l.to_string())
        })
        .collect()
}

fn references(bookings: &[Value]) -> Vec<String> {
    bookings
        .iter()
        .map(|b| b["reference"].as_str().expect("reference").to_string())
        .collect()
}

async fn cancel_flight(app: &TestApp, admin: &str, flight: i64) -> reqwest::Response {
    app.post(
        &format!("/api/v1/flights/{flight}/cancel"),
        Some(admin),
        &json!({"reason": "Aircraft unserviceable"}),
    )
    .await
}

#[tokio::test]
async fn a_cancelled_flight_cancels_refunds_and_tells_each_live_booking_once() {
    let sink = SmtpSink::start().await;
    let app = spawn_app_with(with_smtp(sink.port)).await;
    let catalog = app.catalog().await;
    let flight = big_flight(&app, &catalog, "AI601").await;
    let token = app.customer_token().await;
    let mut confirmed = Vec::new();
    let mut pending = Vec::new();
    let mut cancelled = Vec::new();
    for i in 0..70 {
        let booking = app
            .created(app.book(&token, flight, &[&seat(i)]).await)
            .await;
        match i {
            0..40 => {
                app.created(
                    app.pay(&token, &booking, &format!("k{i}"), "pm_card_ok")
                        .await,
                )
                .await;
                confirmed.push(booking);
            }
            40..60 => pending.push(booking),
            _ => {
                let id = booking["id"].as_i64().expect("id");
                let (status, body) = status_and_json(
                    app.post(
                        &format!("/api/v1/bookings/{id}/cancel"),
                        Some(&token),
                        &json!({}),
                    )
                    .await,
                )
                .await;
                assert_eq!(status, 200, "{body}");
                cancelled.push(booking);
            }
        }
    }
    assert_eq!(app.sandbox_ledger().await, (40, 0));
    let date = (days_ahead(10) + chrono::Duration::hours(6))
        .with_timezone(&chrono_tz::Asia::Kolkata)
        .date_naive();
    let search = format!("/api/v1/flights?from=TAA&to=TBB&date={date}&passengers=1");
    let listed = |page: &Value| {
        page["data"]
            .as_array()
            .expect("data")
            .iter()
            .any(|f| f["id"] == flight)
    };
    let (_, before) = status_and_json(app.get(&search, None).await).await;
    assert!(listed(&before), "{before}");

    let (status, body) = status_and_json(cancel_flight(&app, &catalog.admin, flight).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "cancelled");
    assert_eq!(body["seats_available"], 120, "every seat freed");

    assert_eq!(
        app.sandbox_ledger().await,
        (40, 40),
        "each charge refunded once"
    );
    eventually("60 flight-cancelled emails", || {
        subjects_with(&sink, "cancelled: booking").len() >= 60
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let told = subjects_with(&sink, "Flight AI601 cancelled");
    assert_eq!(told.len(), 60, "one each, no more");
    for reference in references(&confirmed).iter().chain(&references(&pending)) {
        assert_eq!(
            told.iter()
                .filter(|s| s.contains(reference.as_str()))
                .count(),
            1
        );
    }
    for reference in references(&cancelled) {
        assert!(!told.iter().any(|s| s.contains(&reference)), "{reference}");
    }
    let body = sink
        .messages()
        .into_iter()
        .find(|m| m.data.contains("Flight AI601 cancelled"))
        .expect("one")
        .data;
    assert!(
        body.contains("Aircraft unserviceable"),
        "the reason is told"
    );

    let (_, after) = status_and_json(app.get(&search, None).await).await;
    assert!(!listed(&after), "{after}");
    for booking in confirmed.iter().chain(&pending) {
        let shown = app
            .booking(&token, booking["id"].as_i64().expect("id"))
            .await;
        assert_eq!(shown["status"], "cancelled");
        assert_eq!(shown["cancelled_by"], "airline");
    }
    let first = app
        .booking(&token, cancelled[0]["id"].as_i64().expect("id"))
        .await;
    assert_eq!(first["cancelled_by"], "traveller");

    // Once is all.
    assert_problem(
        cancel_flight(&app, &catalog.admin, flight).await,
        409,
        "conflict",
    )
    .await;
    assert_problem(
        app.book(&token, flight, &["20F"]).await,
        409,
        "flight_cancelled",
    )
    .await;
    assert_problem(
        app.pay(&token, &pending[0], "late", "pm_card_ok").await,
        409,
        "booking_not_payable",
    )
    .await;
    assert_eq!(app.sandbox_ledger().await, (40, 40));
}

#[tokio::test]
async fn only_admins_cancel_flights_and_a_reason_is_required() {
    let app = spawn_app().await;
    let catalog = app.catalog().await;
    let flight = bookable_flight(&app, &catalog, "AI602").await;
    let customer = app.customer_token().await;
    assert_problem(
        cancel_flight(&app, &customer, flight).await,
        403,
        "forbidden",
    )
    .await;
    let path = format!("/api/v1/flights/{flight}/cancel");
    for reason in [json!(""), json!("  "), json!("x".repeat(501))] {
        assert_problem(
            app.post(&path, Some(&catalog.admin), &json!({"reason": reason}))
                .await,
            422,
            "validation_failed",
        )
        .await;
    }
    assert_problem(
        app.post(&path, Some(&catalog.admin), &json!({})).await,
        400,
        "malformed_request",
    )
    .await;
    assert_problem(
        cancel_flight(&app, &catalog.admin, 999_999).await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn a_cancellation_racing_bookings_and_payments_leaves_nothing_confirmed_or_unrefunded() {
    let app = spawn_app_with(|s| s.max_pending_bookings = 1_000).await;
    let catalog = app.catalog().await;
    let flight = big_flight(&app, &catalog, "AI603").await;
    let token = app.customer_token().await;
    let mut held = Vec::new();
    for i in 0..50 {
        held.push(
            app.created(app.book(&token, flight, &[&seat(i)]).await)
                .await,
        );
    }
    let app = &app;
    let token = &token;
    let payments = held.iter().enumerate().map(|(i, booking)| async move {
        app.pay(token, booking, &format!("race{i}"), "pm_card_ok")
            .await
            .status()
            .as_u16()
    });
    let bookings = (50..100)
        .map(|i| async move { app.book(token, flight, &[&seat(i)]).await.status().as_u16() });
    let cancel = async {
        tokio::time::sleep(Duration::from_millis(20)).await;
        cancel_flight(app, &catalog.admin, flight)
            .await
            .status()
            .as_u16()
    };
    let (paid, booked, cancelled) = tokio::join!(
        futures::future::join_all(payments),
        futures::future::join_all(bookings),
        cancel
    );
    assert_eq!(cancelled, 200);
    assert!(paid.iter().all(|s| [201, 409].contains(s)), "{paid:?}");
    assert!(booked.iter().all(|s| [201, 409].contains(s)), "{booked:?}");

    let (_, mine) =
        status_and_json(app.get("/api/v1/bookings?per_page=100", Some(token)).await).await;
    let statuses: Vec<&str> = mine["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|b| b["status"].as_str().expect("status"))
        .collect();
    assert_eq!(
        statuses.len(),
        50 + booked.iter().filter(|s| **s == 201).count()
    );
    assert!(
        statuses.iter().all(|s| *s == "cancelled"),
        "nothing left confirmed or holding seats: {statuses:?}"
    );
    let (charges, refunds) = app.sandbox_ledger().await;
    assert_eq!(charges, refunds, "every charge refunded");
    assert_eq!(app.seats_available(flight).await, 120);
}

#[tokio::test]
async fn moving_a_flight_tells_each_live_booking_its_old_and_new_local_times() {
    let sink = SmtpSink::start().await;
    let app = spawn_app_with(with_smtp(sink.port)).await;
    let catalog = app.catalog().await;
    let flight = bookable_flight(&app, &catalog, "AI604").await;
    let token = app.customer_token().await;
    let paid = app.created(app.book(&token, flight, &["2A"]).await).await;
    app.created(app.pay(&token, &paid, "move-1", "pm_card_ok").await)
        .await;
    let held = app.created(app.book(&token, flight, &["2B"]).await).await;
    let dropped = app.created(app.book(&token, flight, &["2C"]).await).await;
    let id = dropped["id"].as_i64().expect("id");
    app.post(
        &format!("/api/v1/bookings/{id}/cancel"),
        Some(&token),
        &json!({}),
    )
    .await;
    // 06:00Z = 11:30 in Kolkata, two hours later; arrival 08:10Z = 13:40, then 15:40.
    let departs = days_ahead(10) + chrono::Duration::hours(8);
    let (status, body) = status_and_json(
        app.patch(
            &format!("/api/v1/flights/{flight}"),
            Some(&catalog.admin),
            &json!({"departure_time": departs.to_rfc3339(), "arrival_time": (departs + chrono::Duration::minutes(130)).to_rfc3339()}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    eventually("two schedule emails", || {
        subjects_with(&sink, "schedule changed").len() >= 2
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let told: Vec<String> = sink
        .messages()
        .into_iter()
        .map(|m| m.data)
        .filter(|d| d.contains("schedule changed"))
        .collect();
    assert_eq!(told.len(), 2, "the paid and the held booking, once each");
    for booking in [&paid, &held] {
        let reference = booking["reference"].as_str().expect("reference");
        let message = told
            .iter()
            .find(|d| d.contains(reference))
            .unwrap_or_else(|| panic!("no email for {reference}"));
        let text = message.replace("=\r\n", "");
        for time in ["11:30", "13:40", "13:30", "15:40"] {
            assert!(text.contains(time), "{time} missing:\n{text}");
        }
    }
    let shown = app.booking(&token, paid["id"].as_i64().expect("id")).await;
    assert_eq!(shown["status"], "confirmed");
    let (_, moved) =
        status_and_json(app.get(&format!("/api/v1/flights/{flight}"), None).await).await;
    assert_eq!(
        moved["departure_time"],
        departs.to_rfc3339().replace("+00:00", "Z")
    );
}
