//! The website's self-service pages over plain HTTP, on every backend: a forgotten password
//! reset from `/forgot-password` to `/reset-password`, and "manage my booking" (`/manage`).

use reqwest::StatusCode;
use serde_json::json;
use skybook::config::Secret;

use crate::helpers::{bookable_flight, spawn_app, spawn_app_with, status_and_json, PASSWORD};
use crate::site::{csrf_in, customer, location, Visitor};
use crate::smtp_sink::SmtpSink;

/// The reset link's path and query (`/reset-password?token=…`) from the one email to `to`.
async fn emailed_link(sink: &SmtpSink, to: &str) -> String {
    for _ in 0..150 {
        let mails: Vec<String> = sink
            .messages()
            .into_iter()
            .filter(|m| m.to.iter().any(|t| t.contains(to)))
            .map(|m| {
                m.data
                    .replace("=\r\n", "")
                    .replace("=\n", "")
                    .replace("=3D", "=")
            })
            .collect();
        if let Some(mail) = mails.first() {
            let start = mail.find("/reset-password?token=").expect("a reset link");
            return mail[start..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || "/-?=".contains(*c))
                .collect();
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no reset email to {to} within 15 s");
}

#[tokio::test]
async fn a_forgotten_password_is_reset_through_the_website() {
    let sink = SmtpSink::start().await;
    let port = sink.port;
    let app = spawn_app_with(move |s| {
        s.smtp_url = Secret::new(format!("smtp://127.0.0.1:{port}"));
        s.email_retry_seconds = 1;
    })
    .await;
    let email = customer(&app).await;
    let visitor = Visitor::new(&app);

    let (_, signin) = visitor.page("/signin").await;
    assert!(
        signin.contains("href=\"/forgot-password\""),
        "sign-in links to recovery"
    );
    let token = visitor.csrf("/forgot-password").await;
    let bad = visitor
        .post(
            "/forgot-password",
            &[("email", "nope"), ("csrf_token", &token)],
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Known and unknown addresses get the same page (but for the address echoed).
    let unknown = visitor
        .post(
            "/forgot-password",
            &[("email", "nobody@example.com"), ("csrf_token", &token)],
        )
        .await;
    assert_eq!(unknown.status(), StatusCode::OK);
    let unknown = unknown.text().await.expect("page");
    let sent = visitor
        .post(
            "/forgot-password",
            &[("email", &email), ("csrf_token", &token)],
        )
        .await;
    assert_eq!(sent.status(), StatusCode::OK);
    let sent = sent.text().await.expect("page");
    assert!(sent.contains("id=\"reset-sent\""));
    assert_eq!(
        sent.replace(&email, "ADDRESS"),
        unknown.replace("nobody@example.com", "ADDRESS")
    );

    let link = emailed_link(&sink, &email).await;
    let (status, form) = visitor.page(&link).await;
    assert_eq!(status, StatusCode::OK);
    let reset_token = link.split("token=").nth(1).expect("token").to_string();
    assert!(form.contains(&reset_token), "the form carries the token");
    let csrf = csrf_in(&form);
    let weak = visitor
        .post(
            "/reset-password",
            &[
                ("token", &reset_token),
                ("new_password", "12345678"),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(weak.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(weak
        .text()
        .await
        .expect("page")
        .contains("new_password-error"));
    let done = visitor
        .post(
            "/reset-password",
            &[
                ("token", &reset_token),
                ("new_password", "a new and long passphrase"),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&done), "/signin?reset=1");
    let (_, after) = visitor.page("/signin?reset=1").await;
    assert!(after.contains("new password is set"));
    assert_eq!(app.sign_in(&email, PASSWORD).await.status(), 401);
    assert_eq!(
        app.sign_in(&email, "a new and long passphrase")
            .await
            .status(),
        200
    );

    // The link is spent: the page says so.
    let again = visitor
        .post(
            "/reset-password",
            &[
                ("token", &reset_token),
                ("new_password", "yet another passphrase"),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(again.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again
        .text()
        .await
        .expect("page")
        .contains("id=\"token-invalid\""));
}

#[tokio::test]
async fn manage_my_booking_shows_it_to_anyone_with_reference_and_last_name() {
    let app = spawn_app().await;
    let catalog = app.catalog().await;
    let flight = bookable_flight(&app, &catalog, "AI720").await;
    let owner_email = customer(&app).await;
    let owner_token = crate::helpers::token_of(app.sign_in(&owner_email, PASSWORD).await).await;
    let (status, booking) = status_and_json(
        app.post(
            "/api/v1/bookings",
            Some(&owner_token),
            &json!({"flight_id": flight, "seats": ["3C"], "passengers": [{"name": "Asha Mehta"}]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{booking}");
    let reference = booking["reference"].as_str().expect("reference");
    let id = booking["id"].as_i64().expect("id");

    let stranger = Visitor::new(&app);
    let token = stranger.csrf("/manage").await;
    let miss = stranger
        .post(
            "/manage",
            &[
                ("reference", reference),
                ("last_name", "Meh"),
                ("csrf_token", &token),
            ],
        )
        .await;
    assert_eq!(miss.status(), StatusCode::NOT_FOUND);
    let miss = miss.text().await.expect("page");
    assert!(miss.contains("id=\"not-found\""));
    assert!(!miss.contains("3C"), "a miss shows nothing of the booking");

    let found = stranger
        .post(
            "/manage",
            &[
                ("reference", &reference.to_lowercase()),
                ("last_name", "mehta"),
                ("csrf_token", &token),
            ],
        )
        .await;
    assert_eq!(found.status(), StatusCode::OK);
    let found = found.text().await.expect("page");
    assert!(found.contains(reference) && found.contains("Asha Mehta") && found.contains("3C"));
    assert!(found.contains(&format!("/signin?next=/bookings/{id}")));
    assert!(
        !found.contains("action=\"/bookings/"),
        "no form that acts on it"
    );

    let owner = Visitor::new(&app);
    owner.sign_in(&owner_email).await;
    let token = owner.csrf("/manage").await;
    let mine = owner
        .post(
            "/manage",
            &[
                ("reference", reference),
                ("last_name", "Mehta"),
                ("csrf_token", &token),
            ],
        )
        .await;
    assert_eq!(mine.status(), StatusCode::OK);
    assert!(mine
        .text()
        .await
        .expect("page")
        .contains(&format!("href=\"/bookings/{id}\"")));
}

#[tokio::test]
async fn manage_guesses_spend_the_sign_in_budget() {
    let app = spawn_app_with(|s| {
        s.rate_limit_enabled = true;
        s.auth_rate_limit_per_minute = 2;
    })
    .await;
    let visitor = Visitor::new(&app);
    let token = visitor.csrf("/manage").await;
    let guess = [
        ("reference", "ABCDEF"),
        ("last_name", "Rao"),
        ("csrf_token", &token),
    ];
    for _ in 0..2 {
        assert_eq!(
            visitor.post("/manage", &guess).await.status(),
            StatusCode::NOT_FOUND
        );
    }
    let refused = visitor.post("/manage", &guess).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
}
