use serde_json::{json, Value};

use crate::helpers::{
    assert_problem, bookable_flight, spawn_app, spawn_app_with, status_and_json, TestApp,
};

async fn booked(app: &TestApp, seats: &[&str]) -> (String, Value) {
    let catalog = app.catalog().await;
    let flight = bookable_flight(app, &catalog, "AI200").await;
    let token = app.customer_token().await;
    let (status, booking) = status_and_json(app.book(&token, flight, seats).await).await;
    assert_eq!(status, 201, "{booking}");
    (token, booking)
}

#[tokio::test]
async fn paying_confirms_the_booking_and_charges_once() {
    let app = spawn_app().await;
    let (token, booking) = booked(&app, &["2A", "2B"]).await;
    let response = app.pay(&token, &booking, "first-key", "pm_card_ok").await;
    assert!(response.headers().get("idempotent-replayed").is_none());
    let (status, payment) = status_and_json(response).await;
    assert_eq!(status, 201, "{payment}");
    assert_eq!(payment["status"], "succeeded");
    assert_eq!(payment["booking_id"], booking["id"]);
    assert_eq!(
        (payment["amount"].as_i64(), payment["currency"].as_str()),
        (Some(200_000), Some("INR"))
    );
    assert!(payment["created_at"].is_string() && payment["id"].is_i64());
    let id = booking["id"].as_i64().expect("id");
    assert_eq!(app.booking(&token, id).await["status"], "confirmed");
    assert_eq!(app.sandbox_ledger().await, (1, 0));

    assert_problem(
        app.pay(&token, &booking, "second-key", "pm_card_ok").await,
        409,
        "booking_already_paid",
    )
    .await;
    assert_eq!(
        app.sandbox_ledger().await,
        (1, 0),
        "nothing more was charged"
    );
}

#[tokio::test]
async fn without_the_plan_s_lock_check_a_paid_booking_is_charged_again() {
    // The negative control: the attempt plan's `lock` check is what keeps a second attempt
    // from reaching the provider (here the database's one-success rule then refunds it).
    let app = spawn_app_with(|s| s.faults.unchecked = Some("lock")).await;
    let (token, booking) = booked(&app, &["2A"]).await;
    assert_eq!(
        app.pay(&token, &booking, "first-key", "pm_card_ok")
            .await
            .status(),
        201
    );
    let _ = app.pay(&token, &booking, "second-key", "pm_card_ok").await;
    assert_eq!(
        app.sandbox_ledger().await,
        (2, 1),
        "charged a second time, and refunded"
    );
}

#[tokio::test]
async fn the_same_key_and_body_replay_the_first_result() {
    let app = spawn_app().await;
    let (token, booking) = booked(&app, &["2A"]).await;
    let (_, first) =
        status_and_json(app.pay(&token, &booking, "replay-me", "pm_card_ok").await).await;
    // The same JSON value with other key order and spacing.
    let id = booking["id"].as_i64().expect("id");
    let raw = format!(
        r#"{{ "payment_method":"pm_card_ok",   "currency": "INR", "amount": {} }}"#,
        booking["total"]
    );
    let response = app
        .client
        .post(app.url(&format!("/api/v1/bookings/{id}/payments")))
        .bearer_auth(&token)
        .header("Idempotency-Key", "replay-me")
        .header("Content-Type", "application/json")
        .body(raw)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.headers()["idempotent-replayed"], "true");
    let (status, again) = status_and_json(response).await;
    assert_eq!((status.as_u16(), &again), (201, &first));
    assert_eq!(app.sandbox_ledger().await, (1, 0));

    assert_problem(
        app.pay(&token, &booking, "replay-me", "pm_card_declined")
            .await,
        422,
        "idempotency_key_reused",
    )
    .await;
    // Keys are per user: another user's identical key is theirs alone.
    let stranger = app.customer_token().await;
    assert_problem(
        app.pay(&stranger, &booking, "replay-me", "pm_card_ok")
            .await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn idempotency_keys_are_required_and_bounded() {
    let app = spawn_app().await;
    let (token, booking) = booked(&app, &["2A"]).await;
    let id = booking["id"].as_i64().expect("id");
    let body =
        json!({"amount": booking["total"], "currency": "INR", "payment_method": "pm_card_ok"});
    let url = app.url(&format!("/api/v1/bookings/{id}/payments"));
    let without = app
        .client
        .post(&url)
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .expect("sent");
    assert_problem(without, 400, "idempotency_key_missing").await;
    let empty = app
        .client
        .post(&url)
        .bearer_auth(&token)
        .header("Idempotency-Key", "")
        .json(&body)
        .send()
        .await
        .expect("sent");
    assert_problem(empty, 400, "idempotency_key_missing").await;
    assert_problem(
        app.pay(&token, &booking, &"k".repeat(256), "pm_card_ok")
            .await,
        400,
        "malformed_request",
    )
    .await;
    assert_eq!(
        app.pay(&token, &booking, &"k".repeat(255), "pm_card_ok")
            .await
            .status(),
        201
    );
}

#[tokio::test]
async fn requests_rejected_before_running_are_not_saved_under_the_key() {
    let app = spawn_app().await;
    let (token, booking) = booked(&app, &["2A"]).await;
    let id = booking["id"].as_i64().expect("id");
    let url = app.url(&format!("/api/v1/bookings/{id}/payments"));
    let send = |body: Value| {
        app.client
            .post(&url)
            .bearer_auth(&token)
            .header("Idempotency-Key", "k")
            .json(&body)
            .send()
    };
    let wrong_amount = json!({"amount": 1, "currency": "INR", "payment_method": "pm_card_ok"});
    assert_problem(
        send(wrong_amount).await.expect("sent"),
        422,
        "amount_mismatch",
    )
    .await;
    let wrong_currency =
        json!({"amount": booking["total"], "currency": "USD", "payment_method": "pm_card_ok"});
    assert_problem(
        send(wrong_currency).await.expect("sent"),
        422,
        "amount_mismatch",
    )
    .await;
    let unknown_method =
        json!({"amount": booking["total"], "currency": "INR", "payment_method": "pm_bitcoin"});
    assert_problem(
        send(unknown_method).await.expect("sent"),
        422,
        "validation_failed",
    )
    .await;
    let extra = json!({"amount": booking["total"], "currency": "INR", "payment_method": "pm_card_ok", "status": "succeeded"});
    assert_problem(send(extra).await.expect("sent"), 400, "malformed_request").await;
    // None of those claimed the key.
    assert_eq!(
        app.pay(&token, &booking, "k", "pm_card_ok").await.status(),
        201
    );
    assert_eq!(app.sandbox_ledger().await, (1, 0));
}

#[tokio::test]
async fn a_declined_card_is_saved_under_its_key_and_a_new_key_may_retry() {
    let app = spawn_app().await;
    let (token, booking) = booked(&app, &["2A"]).await;
    let id = booking["id"].as_i64().expect("id");
    let declined = assert_problem(
        app.pay(&token, &booking, "d1", "pm_card_declined").await,
        402,
        "payment_declined",
    )
    .await;
    assert_eq!(app.booking(&token, id).await["status"], "pending");
    let replay = app.pay(&token, &booking, "d1", "pm_card_declined").await;
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    assert_eq!(
        assert_problem(replay, 402, "payment_declined").await,
        declined
    );
    assert_eq!(
        app.pay(&token, &booking, "d2", "pm_card_ok").await.status(),
        201
    );
    assert_eq!(app.sandbox_ledger().await, (1, 0));
    let (_, payments) = status_and_json(
        app.get(&format!("/api/v1/bookings/{id}/payments"), Some(&token))
            .await,
    )
    .await;
    let statuses: Vec<&str> = payments["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(|p| p["status"].as_str())
        .collect();
    assert_eq!(
        statuses,
        ["declined", "succeeded"],
        "every attempt, oldest first"
    );
}

#[tokio::test]
async fn a_provider_error_charges_nothing_and_frees_the_key() {
    let app = spawn_app().await;
    let (token, booking) = booked(&app, &["2A"]).await;
    let id = booking["id"].as_i64().expect("id");
    let response = app.pay(&token, &booking, "e1", "pm_card_error").await;
    assert_eq!(response.status(), 502);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    assert_eq!(app.sandbox_ledger().await, (0, 0));
    assert_eq!(app.booking(&token, id).await["status"], "pending");
    // The failed result was not saved: the same key runs again.
    assert_eq!(
        app.pay(&token, &booking, "e1", "pm_card_error")
            .await
            .status(),
        502
    );
    assert_eq!(
        app.pay(&token, &booking, "e1", "pm_card_ok").await.status(),
        201
    );
    let (_, payments) = status_and_json(
        app.get(&format!("/api/v1/bookings/{id}/payments"), Some(&token))
            .await,
    )
    .await;
    let statuses: Vec<&str> = payments["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(|p| p["status"].as_str())
        .collect();
    assert_eq!(statuses, ["failed", "failed", "succeeded"]);
}

#[tokio::test]
async fn cancelling_a_confirmed_booking_refunds_it() {
    let app = spawn_app().await;
    let (token, booking) = booked(&app, &["3A", "3B"]).await;
    let id = booking["id"].as_i64().expect("id");
    assert_eq!(
        app.pay(&token, &booking, "k", "pm_card_ok").await.status(),
        201
    );
    let (status, cancelled) = status_and_json(
        app.post(
            &format!("/api/v1/bookings/{id}/cancel"),
            Some(&token),
            &json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status.as_u16(), cancelled["status"].as_str()),
        (200, Some("cancelled"))
    );
    assert_eq!(app.sandbox_ledger().await, (1, 1), "one charge, one refund");
    let (_, payments) = status_and_json(
        app.get(&format!("/api/v1/bookings/{id}/payments"), Some(&token))
            .await,
    )
    .await;
    assert_eq!(payments["data"][0]["status"], "refunded");
    assert_eq!(
        app.seats_available(booking["flight_id"].as_i64().expect("flight"))
            .await,
        12
    );
}

#[tokio::test]
async fn an_expired_hold_cannot_be_paid_and_its_seats_are_free_even_without_the_sweeper() {
    // Times are kept to whole seconds, so a hold of N s lasts between N-1 and N s: 3 s leaves
    // a slow CI machine 2 s to see the seat held.
    let app = spawn_app_with(|s| {
        s.hold_ttl_seconds = 3;
        s.sweep_interval_seconds = 3600;
    })
    .await;
    let (token, booking) = booked(&app, &["2A"]).await;
    let id = booking["id"].as_i64().expect("id");
    let flight = booking["flight_id"].as_i64().expect("flight");
    assert_eq!(app.seats_available(flight).await, 11);
    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    assert_eq!(app.booking(&token, id).await["status"], "expired");
    assert_eq!(
        app.seats_available(flight).await,
        12,
        "search counts the lapsed hold as free"
    );
    assert!(app
        .seat_map(flight)
        .await
        .contains(&("2A".to_string(), true)));
    assert_problem(
        app.pay(&token, &booking, "late", "pm_card_ok").await,
        409,
        "booking_not_payable",
    )
    .await;
    assert_eq!(app.sandbox_ledger().await, (0, 0));
    let other = app.customer_token().await;
    let (status, taken) = status_and_json(app.book(&other, flight, &["2A"]).await).await;
    assert_eq!(status, 201, "{taken}");
    assert_eq!(app.seats_available(flight).await, 11);
    assert_problem(
        app.post(
            &format!("/api/v1/bookings/{id}/cancel"),
            Some(&token),
            &json!({}),
        )
        .await,
        409,
        "conflict",
    )
    .await;
}
