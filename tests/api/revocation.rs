//! Revocable tokens (API.md §3): sign-out revokes the presented token alone, on the API and
//! as the website's cookie; a password change revokes every earlier token, also one issued
//! in the same second.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::{Client, Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{
    assert_problem, spawn_app, status_and_json, token_of, unique_email, TestApp, PASSWORD,
};

const NEW_PASSWORD: &str = "a brand new passphrase";

async fn signed_up(app: &TestApp) -> String {
    let email = unique_email("revoke");
    assert_eq!(app.sign_up(&email, PASSWORD).await.status(), 201);
    email
}

async fn me_status(app: &TestApp, token: &str) -> u16 {
    app.get("/api/v1/me", Some(token)).await.status().as_u16()
}

async fn sign_out(app: &TestApp, token: &str) -> Response {
    app.post("/api/v1/auth/signout", Some(token), &json!({}))
        .await
}

async fn change_password(app: &TestApp, token: &str, current: &str, new: &str) -> Response {
    app.send_json(
        "PUT",
        "/api/v1/me/password",
        Some(token),
        &json!({"current_password": current, "new_password": new}),
    )
    .await
}

fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64")).expect("JSON")
}

#[tokio::test]
async fn signing_out_revokes_the_presented_token_only() {
    let app = spawn_app().await;
    let email = signed_up(&app).await;
    let first = token_of(app.sign_in(&email, PASSWORD).await).await;
    let second = token_of(app.sign_in(&email, PASSWORD).await).await;
    assert_ne!(first, second, "each sign-in issues its own token");
    assert_eq!(me_status(&app, &first).await, 200);

    let out = sign_out(&app, &first).await;
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    assert_eq!(out.text().await.expect("body"), "");

    assert_problem(
        app.get("/api/v1/me", Some(&first)).await,
        401,
        "unauthorized",
    )
    .await;
    assert_problem(sign_out(&app, &first).await, 401, "unauthorized").await;
    assert_eq!(
        me_status(&app, &second).await,
        200,
        "the other token stays valid"
    );
    // Signing in again gives a working token.
    let third = token_of(app.sign_in(&email, PASSWORD).await).await;
    assert_eq!(me_status(&app, &third).await, 200);
}

/// Booking and paying read their caller after the body (on the connection their write uses):
/// a signed-out token is still 401 whatever the body holds, and a good token with a bad body
/// is the body's 400.
#[tokio::test]
async fn booking_and_paying_refuse_a_revoked_token_before_judging_the_body() {
    let app = spawn_app().await;
    let email = signed_up(&app).await;
    let revoked = token_of(app.sign_in(&email, PASSWORD).await).await;
    let good = token_of(app.sign_in(&email, PASSWORD).await).await;
    assert_eq!(
        sign_out(&app, &revoked).await.status(),
        StatusCode::NO_CONTENT
    );
    let booking = json!({"flight_id": 1, "seats": ["1A"], "passengers": [{"name": "Asha Rao"}]});
    let payment = json!({"amount": 100, "currency": "INR", "payment_method": "pm_card_ok"});
    for (path, body) in [
        ("/api/v1/bookings", booking),
        ("/api/v1/bookings/1/payments", payment),
    ] {
        for sent in [body, json!(["not", "an", "object"])] {
            assert_problem(
                app.post(path, Some(&revoked), &sent).await,
                401,
                "unauthorized",
            )
            .await;
        }
        assert_problem(
            app.post(path, Some(&good), &json!(["not", "an", "object"]))
                .await,
            400,
            "malformed_request",
        )
        .await;
    }
}

#[tokio::test]
async fn signing_out_needs_a_valid_token() {
    let app = spawn_app().await;
    assert_problem(
        app.post("/api/v1/auth/signout", None, &json!({})).await,
        401,
        "unauthorized",
    )
    .await;
    assert_problem(sign_out(&app, "not.a.token").await, 401, "unauthorized").await;
}

#[tokio::test]
async fn a_password_change_revokes_every_earlier_token_and_the_new_password_works() {
    let app = spawn_app().await;
    let email = signed_up(&app).await;
    let asking = token_of(app.sign_in(&email, PASSWORD).await).await;
    let other = token_of(app.sign_in(&email, PASSWORD).await).await;
    let bystander = app.customer_token().await;

    let changed = change_password(&app, &asking, PASSWORD, NEW_PASSWORD).await;
    assert_eq!(changed.status(), StatusCode::NO_CONTENT);

    for (name, token) in [("the asking token", &asking), ("another token", &other)] {
        assert_eq!(me_status(&app, token).await, 401, "{name} is revoked");
    }
    assert_eq!(
        me_status(&app, &bystander).await,
        200,
        "other users keep theirs"
    );
    assert_problem(app.sign_in(&email, PASSWORD).await, 401, "unauthorized").await;
    let fresh = token_of(app.sign_in(&email, NEW_PASSWORD).await).await;
    assert_eq!(me_status(&app, &fresh).await, 200);
}

#[tokio::test]
async fn a_token_issued_in_the_same_second_as_a_password_change_is_judged_by_which_came_first() {
    let app = spawn_app().await;
    let mut same_second_seen = false;
    // Seconds are the tokens' `iat` unit: whether a run fits in one second depends on the
    // machine, so try until one does (every run checks the rule either way).
    for _ in 0..5 {
        let email = signed_up(&app).await;
        wait_for_a_fresh_second().await;
        let before = token_of(app.sign_in(&email, PASSWORD).await).await;
        let changed = change_password(&app, &before, PASSWORD, NEW_PASSWORD).await;
        assert_eq!(changed.status(), StatusCode::NO_CONTENT);
        let after = token_of(app.sign_in(&email, NEW_PASSWORD).await).await;

        assert_eq!(
            me_status(&app, &before).await,
            401,
            "issued before the change"
        );
        assert_eq!(
            me_status(&app, &after).await,
            200,
            "issued after the change"
        );
        if claims(&before)["iat"] == claims(&after)["iat"] {
            same_second_seen = true;
            break;
        }
    }
    assert!(same_second_seen, "no run fitted in one second");
}

async fn wait_for_a_fresh_second() {
    let now = chrono::Utc::now();
    let left = 1_000 - i64::from(now.timestamp_subsec_millis());
    tokio::time::sleep(std::time::Duration::from_millis(left as u64 + 5)).await;
}

#[tokio::test]
async fn a_wrong_current_password_is_401_and_changes_nothing() {
    let app = spawn_app().await;
    let email = signed_up(&app).await;
    let token = token_of(app.sign_in(&email, PASSWORD).await).await;
    assert_problem(
        change_password(&app, &token, "not my password", NEW_PASSWORD).await,
        401,
        "unauthorized",
    )
    .await;
    assert_eq!(me_status(&app, &token).await, 200, "nothing was revoked");
    token_of(app.sign_in(&email, PASSWORD).await).await;
    assert_problem(app.sign_in(&email, NEW_PASSWORD).await, 401, "unauthorized").await;
}

#[tokio::test]
async fn a_weak_new_password_is_422_weak_password_and_changes_nothing() {
    let app = spawn_app().await;
    let email = signed_up(&app).await;
    let token = token_of(app.sign_in(&email, PASSWORD).await).await;
    let local_part = email.split('@').next().expect("local part").to_uppercase();
    for weak in [
        "short",
        "        ",
        "password",
        "12345678",
        email.as_str(),
        &local_part,
    ] {
        let problem = assert_problem(
            change_password(&app, &token, PASSWORD, weak).await,
            422,
            "weak_password",
        )
        .await;
        assert_eq!(problem["errors"][0]["field"], "new_password", "{weak:?}");
    }
    assert_eq!(me_status(&app, &token).await, 200);
    token_of(app.sign_in(&email, PASSWORD).await).await;
}

#[tokio::test]
async fn a_password_change_takes_exactly_its_two_fields() {
    let app = spawn_app().await;
    let token = app.customer_token().await;
    for (case, body) in [
        ("missing new", json!({"current_password": PASSWORD})),
        (
            "extra field",
            json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD, "role": "admin"}),
        ),
        (
            "wrong type",
            json!({"current_password": PASSWORD, "new_password": 12345678}),
        ),
    ] {
        let response = app
            .send_json("PUT", "/api/v1/me/password", Some(&token), &body)
            .await;
        assert_eq!(response.status(), 400, "{case}");
    }
    assert_problem(
        change_password(&app, "", PASSWORD, NEW_PASSWORD).await,
        401,
        "unauthorized",
    )
    .await;
}

#[tokio::test]
async fn expired_revocations_are_deleted_and_live_ones_kept() {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, PaginatorTrait};
    use skybook::models::identity::revoked_token;

    let app = spawn_app().await;
    let email = signed_up(&app).await;
    let token = token_of(app.sign_in(&email, PASSWORD).await).await;
    let (_, me) = status_and_json(app.get("/api/v1/me", Some(&token)).await).await;
    let user_id = i32::try_from(me["id"].as_i64().expect("id")).expect("i32");
    assert_eq!(sign_out(&app, &token).await.status(), 204);
    revoked_token::ActiveModel {
        token_key: Set("expired-long-ago".into()),
        user_id: Set(user_id),
        expires_at: Set(skybook::clock::now() - chrono::Duration::hours(2)),
    }
    .insert(&app.db.writer)
    .await
    .expect("inserted");

    let deleted = skybook::services::identity::delete_expired_revocations(&app.db)
        .await
        .expect("cleanup");
    assert_eq!(deleted, 1);
    let left = revoked_token::Entity::find()
        .count(&app.db.reader)
        .await
        .expect("count");
    assert_eq!(left, 1, "the live revocation stays");
    assert_eq!(me_status(&app, &token).await, 401, "and still counts");
}

/// A browser's cookies and the session token the website gave it.
struct Browser<'a> {
    app: &'a TestApp,
    client: Client,
}

impl<'a> Browser<'a> {
    fn new(app: &'a TestApp) -> Self {
        let client = Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Self { app, client }
    }

    async fn csrf(&self, path: &str) -> String {
        let html = self
            .client
            .get(self.app.url(path))
            .send()
            .await
            .expect("sent")
            .text()
            .await
            .expect("body");
        let marker = "name=\"csrf_token\" value=\"";
        let start = html.find(marker).expect("a form") + marker.len();
        let end = html[start..].find('"').expect("quote");
        html[start..start + end].to_string()
    }

    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        self.client
            .post(self.app.url(path))
            .form(fields)
            .send()
            .await
            .expect("sent")
    }

    /// Signs in through the form and returns the session cookie's token.
    async fn sign_in(&self, email: &str) -> String {
        let csrf = self.csrf("/signin").await;
        let response = self
            .post(
                "/signin",
                &[
                    ("email", email),
                    ("password", PASSWORD),
                    ("csrf_token", &csrf),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|c| c.strip_prefix("skybook_session="))
            .and_then(|c| c.split(';').next())
            .expect("a session cookie")
            .to_string()
    }

    async fn bookings_status(&self) -> u16 {
        self.client
            .get(self.app.url("/bookings"))
            .send()
            .await
            .expect("sent")
            .status()
            .as_u16()
    }
}

/// `/bookings` with only this session cookie, as a copy of the cookie would be sent.
async fn bookings_with_cookie(app: &TestApp, token: &str) -> u16 {
    app.client
        .get(app.url("/bookings"))
        .header("Cookie", format!("skybook_session={token}"))
        .send()
        .await
        .expect("sent")
        .status()
        .as_u16()
}

#[tokio::test]
async fn the_website_s_sign_out_revokes_its_cookie_s_token() {
    let app = spawn_app().await;
    let email = signed_up(&app).await;
    let browser = Browser::new(&app);
    let session = browser.sign_in(&email).await;
    let api_token = token_of(app.sign_in(&email, PASSWORD).await).await;
    assert_eq!(browser.bookings_status().await, 200);
    assert_eq!(
        me_status(&app, &session).await,
        200,
        "the cookie's token works as a bearer"
    );

    let csrf = browser.csrf("/bookings").await;
    let out = browser.post("/signout", &[("csrf_token", &csrf)]).await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);

    assert_eq!(
        me_status(&app, &session).await,
        401,
        "the cookie's token is revoked"
    );
    assert_eq!(
        bookings_with_cookie(&app, &session).await,
        303,
        "a kept copy of the cookie is signed out"
    );
    assert_eq!(
        me_status(&app, &api_token).await,
        200,
        "other sessions stay"
    );
}

#[tokio::test]
async fn a_token_signed_out_on_the_api_no_longer_works_as_the_website_s_cookie() {
    let app = spawn_app().await;
    let email = signed_up(&app).await;
    let browser = Browser::new(&app);
    let session = browser.sign_in(&email).await;
    assert_eq!(browser.bookings_status().await, 200);

    assert_eq!(sign_out(&app, &session).await.status(), 204);
    assert_eq!(
        browser.bookings_status().await,
        303,
        "redirected to sign in"
    );
    assert_eq!(bookings_with_cookie(&app, &session).await, 303);
}

#[tokio::test]
async fn a_password_change_signs_the_website_out_too() {
    let app = spawn_app().await;
    let email = signed_up(&app).await;
    let browser = Browser::new(&app);
    let session = browser.sign_in(&email).await;
    let token = token_of(app.sign_in(&email, PASSWORD).await).await;
    assert_eq!(
        change_password(&app, &token, PASSWORD, NEW_PASSWORD)
            .await
            .status(),
        204
    );
    assert_eq!(browser.bookings_status().await, 303);
    assert_eq!(me_status(&app, &session).await, 401);
}

#[tokio::test]
async fn the_openapi_document_declares_sign_out_password_change_and_their_answers() {
    let app = spawn_app().await;
    let (status, doc) = status_and_json(app.get("/api/openapi.json", None).await).await;
    assert_eq!(status, 200);
    let responses = |path: &str, method: &str| {
        let operation = &doc["paths"][path][method];
        assert!(operation.is_object(), "{method} {path} is declared");
        let mut codes: Vec<String> = operation["responses"]
            .as_object()
            .expect("responses")
            .keys()
            .cloned()
            .collect();
        codes.sort();
        codes
    };
    assert_eq!(
        responses("/api/v1/auth/signout", "post"),
        ["204", "401", "405", "429", "503"]
    );
    assert_eq!(
        responses("/api/v1/me/password", "put"),
        ["204", "400", "401", "405", "413", "422", "429", "503"]
    );
    assert!(responses("/api/v1/admin/users/{id}/role", "put").contains(&"409".to_string()));
    assert!(responses("/api/v1/auth/signup", "post").contains(&"422".to_string()));
}

#[tokio::test]
async fn the_account_page_changes_the_password_and_signs_out_every_other_session() {
    let app = spawn_app().await;
    let email = signed_up(&app).await;
    let signed_out = app.get("/account", None).await;
    assert_eq!(
        signed_out.status(),
        303,
        "a signed-out visitor is sent to sign in"
    );
    let browser = Browser::new(&app);
    let old_session = browser.sign_in(&email).await;
    let api_token = token_of(app.sign_in(&email, PASSWORD).await).await;

    let change = |current: &'static str, new: &'static str| {
        let browser = &browser;
        async move {
            let csrf = browser.csrf("/account").await;
            browser
                .post(
                    "/account",
                    &[
                        ("current_password", current),
                        ("new_password", new),
                        ("csrf_token", &csrf),
                    ],
                )
                .await
        }
    };
    let wrong = change("not my password", NEW_PASSWORD).await;
    assert_eq!(wrong.status(), 401);
    assert!(wrong
        .text()
        .await
        .expect("body")
        .contains("id=\"current_password-error\""));
    let weak = change(PASSWORD, "qwertyuiop").await;
    assert_eq!(weak.status(), 422);
    assert!(weak
        .text()
        .await
        .expect("body")
        .contains("id=\"new_password-error\""));
    assert_eq!(
        me_status(&app, &api_token).await,
        200,
        "refused changes revoke nothing"
    );

    let done = change(PASSWORD, NEW_PASSWORD).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        done.headers()["location"].to_str().expect("ascii"),
        "/account?changed=1"
    );
    assert_eq!(
        browser.bookings_status().await,
        200,
        "this browser stays signed in"
    );
    assert_eq!(
        me_status(&app, &old_session).await,
        401,
        "its old cookie is revoked"
    );
    assert_eq!(
        me_status(&app, &api_token).await,
        401,
        "other sessions are signed out"
    );
    token_of(app.sign_in(&email, NEW_PASSWORD).await).await;
}
