use serde_json::json;

use crate::helpers::{
    assert_problem, spawn_app, status_and_json, token_of, unique_email, PASSWORD,
};

#[tokio::test]
async fn signing_up_creates_a_customer() {
    let app = spawn_app().await;
    let email = unique_email("asha");
    let (status, body) = status_and_json(app.sign_up(&email, PASSWORD).await).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["email"], email);
    assert_eq!(body["role"], "customer");
    assert_eq!(body["name"], "Test Traveller");
    assert!(body["id"].is_i64());
    assert!(
        body.get("password_hash").is_none(),
        "the hash never leaves the server"
    );
}

#[tokio::test]
async fn an_email_can_sign_up_once_whatever_its_case() {
    let app = spawn_app().await;
    let email = unique_email("dup");
    assert_eq!(app.sign_up(&email, PASSWORD).await.status(), 201);
    assert_problem(app.sign_up(&email, PASSWORD).await, 409, "email_taken").await;
    assert_problem(
        app.sign_up(&email.to_uppercase(), PASSWORD).await,
        409,
        "email_taken",
    )
    .await;
}

#[tokio::test]
async fn sign_up_refuses_bad_emails_short_passwords_and_blank_names_naming_the_field() {
    let app = spawn_app().await;
    let cases = [
        (
            json!({"email": "not-an-email", "password": PASSWORD, "name": "A"}),
            "email",
        ),
        (
            json!({"email": unique_email("p"), "password": "short", "name": "A"}),
            "password",
        ),
        (
            json!({"email": unique_email("n"), "password": PASSWORD, "name": "   "}),
            "name",
        ),
    ];
    for (body, field) in cases {
        let problem = assert_problem(
            app.post("/api/v1/auth/signup", None, &body).await,
            422,
            "validation_failed",
        )
        .await;
        let fields: Vec<&str> = problem["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .filter_map(|e| e["field"].as_str())
            .collect();
        assert_eq!(fields, [field], "case {body}");
    }
}

#[tokio::test]
async fn sign_up_cannot_choose_a_role() {
    let app = spawn_app().await;
    let body = json!({"email": unique_email("mallory"), "password": PASSWORD, "name": "M", "role": "admin"});
    assert_problem(
        app.post("/api/v1/auth/signup", None, &body).await,
        400,
        "malformed_request",
    )
    .await;
}

#[tokio::test]
async fn signing_in_returns_a_bearer_token_that_identifies_the_user() {
    let app = spawn_app().await;
    let email = unique_email("ravi");
    app.sign_up(&email, PASSWORD).await;
    let (status, body) = status_and_json(app.sign_in(&email.to_uppercase(), PASSWORD).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["user"]["email"], email);
    let token = body["access_token"].as_str().expect("token");
    let (status, me) = status_and_json(app.get("/api/v1/me", Some(token)).await).await;
    assert_eq!(status, 200);
    assert_eq!(me["email"], email);
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_answer() {
    let app = spawn_app().await;
    let email = unique_email("known");
    app.sign_up(&email, PASSWORD).await;
    let wrong = assert_problem(
        app.sign_in(&email, "wrong password!").await,
        401,
        "unauthorized",
    )
    .await;
    let unknown = assert_problem(
        app.sign_in(&unique_email("nobody"), PASSWORD).await,
        401,
        "unauthorized",
    )
    .await;
    assert_eq!(wrong, unknown);
    let garbage = assert_problem(
        app.sign_in("not an email", PASSWORD).await,
        401,
        "unauthorized",
    )
    .await;
    assert_eq!(wrong, garbage);
}

#[tokio::test]
async fn me_needs_a_token() {
    let app = spawn_app().await;
    let response = app.get("/api/v1/me", None).await;
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    assert_problem(response, 401, "unauthorized").await;
}

#[tokio::test]
async fn an_admin_changes_roles_and_a_demoted_admin_loses_rights_at_once() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let email = unique_email("promoted");
    let (_, user) = status_and_json(app.sign_up(&email, PASSWORD).await).await;
    let user_id = user["id"].as_i64().expect("id");
    let promoted_token = token_of(app.sign_in(&email, PASSWORD).await).await;

    let path = format!("/api/v1/admin/users/{user_id}/role");
    let response = app
        .send_json("PUT", &path, Some(&admin), &json!({"role": "admin"}))
        .await;
    let (status, body) = status_and_json(response).await;
    assert_eq!(
        (status.as_u16(), body["role"].as_str()),
        (200, Some("admin")),
        "{body}"
    );

    // The token was issued while a customer; the current role in the database counts.
    let city = json!({"name": "Pune", "country_code": "IN"});
    assert_eq!(
        app.post("/api/v1/cities", Some(&promoted_token), &city)
            .await
            .status(),
        201
    );

    app.send_json("PUT", &path, Some(&admin), &json!({"role": "customer"}))
        .await;
    assert_problem(
        app.post("/api/v1/cities", Some(&promoted_token), &city)
            .await,
        403,
        "forbidden",
    )
    .await;

    assert_problem(
        app.send_json("PUT", &path, Some(&admin), &json!({"role": "emperor"}))
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_problem(
        app.send_json(
            "PUT",
            "/api/v1/admin/users/999999/role",
            Some(&admin),
            &json!({"role": "admin"}),
        )
        .await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn passwords_are_stored_as_argon2id_hashes() {
    use sea_orm::EntityTrait;
    let app = spawn_app().await;
    let email = unique_email("hash");
    app.sign_up(&email, PASSWORD).await;
    let users = skybook::models::identity::user::Entity::find()
        .all(&app.db.reader)
        .await
        .expect("users");
    let user = users.iter().find(|u| u.email == email).expect("stored");
    assert!(
        user.password_hash
            .starts_with("$argon2id$v=19$m=7168,t=5,p=1$"),
        "{}",
        user.password_hash
    );
    assert!(!user.password_hash.contains(PASSWORD));
}
