//! Forged, expired and tampered tokens are all plain 401s.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app, status_and_json, TestApp, JWT_SECRET};

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn sign(claims: &Value, algorithm: Algorithm, secret: &str) -> String {
    encode(
        &Header::new(algorithm),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("signed")
}

async fn admin_id(app: &TestApp) -> i64 {
    let token = app.admin_token().await;
    let (_, me) = status_and_json(app.get("/api/v1/me", Some(&token)).await).await;
    me["id"].as_i64().expect("id")
}

fn claims(sub: i64) -> Value {
    json!({"sub": sub.to_string(), "role": "admin", "iat": now(), "exp": now() + 600, "iss": "skybook"})
}

#[tokio::test]
async fn a_correctly_signed_token_is_accepted() {
    // The control for the forgeries below: the same claims, signed properly, work.
    let app = spawn_app().await;
    let id = admin_id(&app).await;
    let token = sign(&claims(id), Algorithm::HS256, JWT_SECRET);
    assert_eq!(app.get("/api/v1/me", Some(&token)).await.status(), 200);
}

#[tokio::test]
async fn forged_and_malformed_tokens_are_refused() {
    let app = spawn_app().await;
    let id = admin_id(&app).await;
    let without = |key: &str| {
        let mut c = claims(id);
        c.as_object_mut().expect("object").remove(key);
        c
    };
    let with = |key: &str, value: Value| {
        let mut c = claims(id);
        c[key] = value;
        c
    };
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims(id).to_string())
    );
    let cases: Vec<(&str, String)> = vec![
        ("alg none", unsigned),
        (
            "wrong secret",
            sign(
                &claims(id),
                Algorithm::HS256,
                "another-secret-that-is-32-bytes-long!!",
            ),
        ),
        (
            "HS512 with the right secret",
            sign(&claims(id), Algorithm::HS512, JWT_SECRET),
        ),
        (
            "expired",
            sign(
                &with("exp", json!(now() - 10)),
                Algorithm::HS256,
                JWT_SECRET,
            ),
        ),
        (
            "wrong issuer",
            sign(&with("iss", json!("evil")), Algorithm::HS256, JWT_SECRET),
        ),
        (
            "no exp",
            sign(&without("exp"), Algorithm::HS256, JWT_SECRET),
        ),
        (
            "no iat",
            sign(&without("iat"), Algorithm::HS256, JWT_SECRET),
        ),
        (
            "no sub",
            sign(&without("sub"), Algorithm::HS256, JWT_SECRET),
        ),
        (
            "no role",
            sign(&without("role"), Algorithm::HS256, JWT_SECRET),
        ),
        (
            "no iss",
            sign(&without("iss"), Algorithm::HS256, JWT_SECRET),
        ),
        (
            "unknown user",
            sign(&claims(987_654), Algorithm::HS256, JWT_SECRET),
        ),
        (
            "non-numeric sub",
            sign(&with("sub", json!("root")), Algorithm::HS256, JWT_SECRET),
        ),
        ("garbage", "not.a.token".into()),
        ("empty", String::new()),
    ];
    for (case, token) in cases {
        let response = app.get("/api/v1/me", Some(&token)).await;
        assert_eq!(response.status(), 401, "case: {case}");
        assert_problem(response, 401, "unauthorized").await;
    }
}

#[tokio::test]
async fn a_customer_token_with_its_role_rewritten_to_admin_is_refused() {
    let app = spawn_app().await;
    let token = app.customer_token().await;
    let parts: Vec<&str> = token.split('.').collect();
    let mut payload: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("base64")).expect("JSON");
    payload["role"] = json!("admin");
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(payload.to_string()),
        parts[2]
    );
    assert_problem(
        app.get("/api/v1/me", Some(&tampered)).await,
        401,
        "unauthorized",
    )
    .await;
    let city = json!({"name": "X", "country_code": "IN"});
    assert_problem(
        app.post("/api/v1/cities", Some(&tampered), &city).await,
        401,
        "unauthorized",
    )
    .await;
}

#[tokio::test]
async fn only_the_bearer_scheme_is_understood() {
    let app = spawn_app().await;
    let token = app.customer_token().await;
    let response = app
        .client
        .get(app.url("/api/v1/me"))
        .header("Authorization", format!("Basic {token}"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 401);
    let response = app
        .client
        .get(app.url("/api/v1/me"))
        .header("Authorization", format!("bearer {token}"))
        .send()
        .await
        .expect("sent");
    assert_eq!(
        response.status(),
        200,
        "the scheme name is case-insensitive"
    );
}
