//! "Manage my booking" (API.md §5 `GET /api/v1/bookings/lookup`): a booking by its reference
//! and a passenger's last name, for anyone; one 404 for a wrong name and an unknown reference;
//! read-only; spends the sign-in budget.

use serde_json::{json, Value};

use crate::helpers::{
    assert_problem, bookable_flight, spawn_app, spawn_app_with, status_and_json, TestApp,
};

async fn lookup(app: &TestApp, reference: &str, last_name: &str) -> reqwest::Response {
    app.client
        .get(app.url("/api/v1/bookings/lookup"))
        .query(&[("reference", reference), ("last_name", last_name)])
        .send()
        .await
        .expect("request")
}

/// A booking of two passengers, `Dev Kumar Rao` and `Mira Shah`, and its owner's token.
async fn booked(app: &TestApp) -> (String, Value) {
    let catalog = app.catalog().await;
    let flight = bookable_flight(app, &catalog, "AI710").await;
    let token = app.customer_token().await;
    let body = json!({
        "flight_id": flight,
        "seats": ["3A", "3B"],
        "passengers": [{"name": "Dev Kumar Rao"}, {"name": "Mira Shah"}],
    });
    let (status, booking) =
        status_and_json(app.post("/api/v1/bookings", Some(&token), &body).await).await;
    assert_eq!(status, 201, "{booking}");
    (token, booking)
}

/// The problem document without what differs per request.
fn without_request_id(mut problem: Value) -> Value {
    if let Some(fields) = problem.as_object_mut() {
        fields.remove("request_id");
        fields.remove("instance");
    }
    problem
}

#[tokio::test]
async fn the_right_last_name_finds_the_booking_in_any_case() {
    let app = spawn_app().await;
    let (token, booking) = booked(&app).await;
    let reference = booking["reference"].as_str().expect("reference");
    let owner_view = app
        .booking(&token, booking["id"].as_i64().expect("id"))
        .await;

    for (reference, name) in [
        (reference.to_string(), "Rao"),
        (reference.to_lowercase(), "rao"),
        (reference.to_string(), "Kumar Rao"),
        (reference.to_string(), "  KUMAR   rao "),
        (reference.to_string(), "shah"),
        (reference.to_string(), "Dev Kumar Rao"),
    ] {
        let (status, found) = status_and_json(lookup(&app, &reference, name).await).await;
        assert_eq!(status, 200, "{reference} / {name}: {found}");
        assert_eq!(found, owner_view, "the same booking the owner sees");
    }
}

#[tokio::test]
async fn a_wrong_name_and_an_unknown_reference_answer_the_same() {
    let app = spawn_app().await;
    let (_, booking) = booked(&app).await;
    let reference = booking["reference"].as_str().expect("reference");
    let unknown = if reference == "ZZZZZZ" {
        "YYYYYY"
    } else {
        "ZZZZZZ"
    };

    let mut answers = Vec::new();
    for (reference, name) in [
        (reference, "ao"),
        (reference, "Kumar"),
        (reference, "Dev Kumar Rao Jr"),
        (reference, "Raoo"),
        (reference, ""),
        (unknown, "Rao"),
        ("AB", "Rao"),
        ("'; DROP TABLE bookings; --", "Rao"),
    ] {
        let problem = assert_problem(lookup(&app, reference, name).await, 404, "not_found").await;
        answers.push(without_request_id(problem));
    }
    assert!(
        answers.windows(2).all(|pair| pair[0] == pair[1]),
        "one answer for every miss: {answers:?}"
    );

    // A missing parameter is a malformed request, not a miss.
    let missing = app
        .client
        .get(app.url(&format!("/api/v1/bookings/lookup?reference={reference}")))
        .send()
        .await
        .expect("request");
    assert_eq!(missing.status(), 400);
}

#[tokio::test]
async fn finding_a_booking_does_not_let_a_stranger_change_it() {
    let app = spawn_app().await;
    let (_, booking) = booked(&app).await;
    let id = booking["id"].as_i64().expect("id");
    let stranger = app.customer_token().await;
    assert_problem(
        app.post(&format!("/api/v1/bookings/{id}/cancel"), None, &json!({}))
            .await,
        401,
        "unauthorized",
    )
    .await;
    let (status, _) = status_and_json(
        app.post(
            &format!("/api/v1/bookings/{id}/cancel"),
            Some(&stranger),
            &json!({}),
        )
        .await,
    )
    .await;
    assert!(
        status == 403 || status == 404,
        "a stranger cannot cancel: {status}"
    );
    let reference = booking["reference"].as_str().expect("reference");
    let (status, still) = status_and_json(lookup(&app, reference, "Shah").await).await;
    assert_eq!(status, 200);
    assert_eq!(still["status"], "pending");
}

#[tokio::test]
async fn lookups_spend_the_sign_in_budget() {
    let app = spawn_app_with(|s| {
        s.rate_limit_enabled = true;
        s.auth_rate_limit_per_minute = 4;
    })
    .await;
    // Signing in spends two of the four; two lookups spend the rest.
    for _ in 0..2 {
        let _ = app.sign_in("nobody@example.com", "whatever it is").await;
    }
    for _ in 0..2 {
        assert_eq!(lookup(&app, "ABCDEF", "Rao").await.status(), 404);
    }
    assert_problem(lookup(&app, "ABCDEF", "Rao").await, 429, "rate_limited").await;
    assert_problem(
        app.sign_in("nobody@example.com", "whatever it is").await,
        429,
        "rate_limited",
    )
    .await;
}
