//! Password reset (API.md §3): one answer whatever the address, one email per account with a
//! link valid 30 minutes, a token that works once, and every earlier access token revoked.

use std::time::Duration;

use futures::future::join_all;
use reqwest::Response;
use sea_orm::sea_query::{Alias, Expr, Query};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{json, Value};
use skybook::config::Secret;

use crate::helpers::{
    assert_problem, spawn_app_with, status_and_json, token_of, unique_email, TestApp, PASSWORD,
};
use crate::smtp_sink::SmtpSink;

const NEW_PASSWORD: &str = "a fresh passphrase at last";

async fn app_with_mail(sink: &SmtpSink) -> TestApp {
    let port = sink.port;
    spawn_app_with(move |s| {
        s.smtp_url = Secret::new(format!("smtp://127.0.0.1:{port}"));
        s.email_retry_seconds = 1;
    })
    .await
}

async fn request_reset(app: &TestApp, email: &str) -> Response {
    app.post(
        "/api/v1/auth/password-reset",
        None,
        &json!({"email": email}),
    )
    .await
}

async fn confirm(app: &TestApp, token: &str, password: &str) -> Response {
    app.post(
        "/api/v1/auth/password-reset/confirm",
        None,
        &json!({"token": token, "password": password}),
    )
    .await
}

/// The messages sent to `address`, once `count` of them have arrived (polls for 15 s).
async fn mails_to(sink: &SmtpSink, address: &str, count: usize) -> Vec<String> {
    for _ in 0..150 {
        let mails: Vec<String> = sink
            .messages()
            .into_iter()
            .filter(|m| m.to.iter().any(|to| to.contains(address)))
            .map(|m| m.data)
            .collect();
        if mails.len() >= count {
            return mails;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no {count} email(s) to {address} within 15 s");
}

/// The link's token, read from the message as sent (undoing quoted-printable's soft breaks
/// and `=3D`, should the mailer choose that encoding).
fn reset_link(app: &TestApp, message: &str) -> (String, String) {
    let unfolded = message
        .replace("=\r\n", "")
        .replace("=\n", "")
        .replace("=3D", "=");
    // The link's host is the configured public URL; the path is what matters here.
    let marker = "/reset-password?token=";
    let prefix = format!("{}{marker}", app.address);
    let start = unfolded
        .find(marker)
        .unwrap_or_else(|| panic!("no link to {marker} in:\n{message}"))
        + marker.len();
    let token: String = unfolded[start..]
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect();
    assert!(token.len() >= 32, "a token of some strength: {token}");
    (format!("{prefix}{token}"), token)
}

async fn signed_up(app: &TestApp) -> String {
    let email = unique_email("reset");
    assert_eq!(app.sign_up(&email, PASSWORD).await.status(), 201);
    email
}

#[tokio::test]
async fn asking_answers_alike_for_any_address_and_mails_only_an_account() {
    let sink = SmtpSink::start().await;
    let app = app_with_mail(&sink).await;
    let email = signed_up(&app).await;
    let stranger = unique_email("nobody");

    let (known_status, known) = status_and_json(request_reset(&app, &email).await).await;
    let (unknown_status, unknown) = status_and_json(request_reset(&app, &stranger).await).await;
    assert_eq!(known_status, 202, "{known}");
    assert_eq!(unknown_status, 202, "{unknown}");
    assert_eq!(
        known, unknown,
        "the body must not tell whether the address has an account"
    );

    let mails = mails_to(&sink, &email, 1).await;
    assert_eq!(mails.len(), 1);
    let (link, _) = reset_link(&app, &mails[0]);
    assert!(
        mails[0]
            .replace("=\r\n", "")
            .replace("=\n", "")
            .contains("30 minutes"),
        "says how long it works"
    );
    // Another account's mail flow is not disturbed and the stranger gets nothing.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(sink
        .messages()
        .iter()
        .all(|m| !m.to.iter().any(|to| to.contains(&stranger))));
    assert_eq!(
        mails_to(&sink, &email, 1).await.len(),
        1,
        "exactly one email"
    );

    // A malformed address says nothing about accounts.
    assert_problem(
        request_reset(&app, "not an address").await,
        422,
        "validation_failed",
    )
    .await;
    // Opening the link's page does not spend the token.
    let page = app.client.get(&link).send().await.expect("page");
    assert_eq!(page.status(), 200);
    let page = app.client.get(&link).send().await.expect("page again");
    assert_eq!(page.status(), 200);
    let (_, token) = reset_link(&app, &mails[0]);
    assert_eq!(confirm(&app, &token, NEW_PASSWORD).await.status(), 204);
}

#[tokio::test]
async fn a_token_works_once_sets_the_password_and_revokes_earlier_tokens() {
    let sink = SmtpSink::start().await;
    let app = app_with_mail(&sink).await;
    let email = signed_up(&app).await;
    let before = token_of(app.sign_in(&email, PASSWORD).await).await;
    assert_eq!(app.get("/api/v1/me", Some(&before)).await.status(), 200);

    assert_eq!(request_reset(&app, &email).await.status(), 202);
    let (_, token) = reset_link(&app, &mails_to(&sink, &email, 1).await[0]);

    // A weak password spends nothing: the token still works afterwards.
    assert_problem(
        confirm(&app, &token, "password").await,
        422,
        "weak_password",
    )
    .await;
    let done = confirm(&app, &token, NEW_PASSWORD).await;
    assert_eq!(done.status(), 204);
    assert_eq!(done.text().await.expect("body"), "");

    assert_problem(
        confirm(&app, &token, "yet another passphrase").await,
        422,
        "token_invalid",
    )
    .await;
    assert_problem(
        app.get("/api/v1/me", Some(&before)).await,
        401,
        "unauthorized",
    )
    .await;
    assert_eq!(app.sign_in(&email, PASSWORD).await.status(), 401);
    let after = token_of(app.sign_in(&email, NEW_PASSWORD).await).await;
    assert_eq!(app.get("/api/v1/me", Some(&after)).await.status(), 200);
}

#[tokio::test]
async fn unknown_expired_and_superseded_tokens_are_refused_alike() {
    let sink = SmtpSink::start().await;
    let app = app_with_mail(&sink).await;
    let email = signed_up(&app).await;

    for token in ["", "abc", &"f".repeat(64), &"x".repeat(5000)] {
        assert_problem(
            confirm(&app, token, NEW_PASSWORD).await,
            422,
            "token_invalid",
        )
        .await;
    }

    // Two links; the first is made to expire in the database.
    assert_eq!(request_reset(&app, &email).await.status(), 202);
    let (_, first) = reset_link(&app, &mails_to(&sink, &email, 1).await[0]);
    assert_eq!(request_reset(&app, &email).await.status(), 202);
    let mails = mails_to(&sink, &email, 2).await;
    let second = mails
        .iter()
        .map(|m| reset_link(&app, m).1)
        .find(|t| *t != first)
        .expect("a second, different token");

    let backend = app.db.writer.get_database_backend();
    let first_id: i32 = app
        .db
        .writer
        .query_one(Statement::from_string(
            backend,
            "SELECT MIN(id) AS id FROM password_resets",
        ))
        .await
        .expect("read")
        .expect("a row")
        .try_get("", "id")
        .expect("id");
    let past = skybook::clock::now() - chrono::Duration::minutes(1);
    let expire = Query::update()
        .table(Alias::new("password_resets"))
        .value(Alias::new("expires_at"), past)
        .and_where(Expr::col(Alias::new("id")).eq(first_id))
        .to_owned();
    let expired = app
        .db
        .writer
        .execute(backend.build(&expire))
        .await
        .expect("expire the first link");
    assert_eq!(expired.rows_affected(), 1);
    assert_problem(
        confirm(&app, &first, NEW_PASSWORD).await,
        422,
        "token_invalid",
    )
    .await;

    // The second works, and the first stays refused.
    assert_eq!(confirm(&app, &second, NEW_PASSWORD).await.status(), 204);
    assert_problem(
        confirm(&app, &first, NEW_PASSWORD).await,
        422,
        "token_invalid",
    )
    .await;
}

#[tokio::test]
async fn of_concurrent_confirms_with_one_token_exactly_one_wins() {
    let sink = SmtpSink::start().await;
    let app = app_with_mail(&sink).await;
    let email = signed_up(&app).await;
    assert_eq!(request_reset(&app, &email).await.status(), 202);
    let (_, token) = reset_link(&app, &mails_to(&sink, &email, 1).await[0]);

    let passwords: Vec<String> = (0..10).map(|i| format!("racing passphrase {i}")).collect();
    let answers = join_all(passwords.iter().map(|p| confirm(&app, &token, p))).await;
    let mut won = Vec::new();
    for (password, answer) in passwords.iter().zip(answers) {
        let (status, body): (_, Value) = status_and_json(answer).await;
        match status.as_u16() {
            204 => won.push(password.clone()),
            422 => assert_eq!(body["code"], "token_invalid", "{body}"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(won.len(), 1, "exactly one confirm spends the token");
    assert_eq!(app.sign_in(&email, &won[0]).await.status(), 200);
}

#[tokio::test]
async fn asking_and_confirming_spend_the_sign_in_budget() {
    let app = spawn_app_with(|s| {
        s.rate_limit_enabled = true;
        s.auth_rate_limit_per_minute = 3;
    })
    .await;
    let email = unique_email("budget");
    for _ in 0..3 {
        assert_eq!(request_reset(&app, &email).await.status(), 202);
    }
    assert_problem(request_reset(&app, &email).await, 429, "rate_limited").await;
    assert_problem(
        confirm(&app, "abc", NEW_PASSWORD).await,
        429,
        "rate_limited",
    )
    .await;
    assert_problem(app.sign_in(&email, PASSWORD).await, 429, "rate_limited").await;
}
