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
async fn sign_up_refuses_bad_emails_oversized_passwords_and_blank_names_naming_the_field() {
    let app = spawn_app().await;
    let cases = [
        (
            json!({"email": "not-an-email", "password": PASSWORD, "name": "A"}),
            "email",
        ),
        (
            json!({"email": unique_email("p"), "password": "x".repeat(1025), "name": "A"}),
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

fn error_fields(problem: &serde_json::Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn only_plain_addresses_are_accepted_at_sign_up() {
    let app = spawn_app().await;
    let cases = [
        ("display name", "Bob <bob@example.com>"),
        ("angle brackets", "<bob@example.com>"),
        ("quoted local part", "\"a b\"@example.com"),
        ("quoted plain local part", "\"bob\"@example.com"),
        ("trailing comment", "a@example.com (comment)"),
        ("leading comment", "(comment)a@example.com"),
        ("newline", "bob@example.com\n"),
        (
            "header injection",
            "bob@example.com\r\nBcc: eve@example.com",
        ),
        ("NUL", "bob\u{0}@example.com"),
        ("tab", "bob\t@example.com"),
        ("IP literal", "bob@[127.0.0.1]"),
        ("no dot in the domain", "bob@localhost"),
        ("two addresses", "bob@example.com,eve@example.com"),
        ("non-ASCII local part", "bøb@example.com"),
    ];
    for (case, email) in cases {
        let body = json!({"email": email, "password": PASSWORD, "name": "Bob"});
        let problem = assert_problem(
            app.post("/api/v1/auth/signup", None, &body).await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(error_fields(&problem), ["email"], "case {case}: {problem}");
    }
    // The control: a plain address with the same mailbox is accepted.
    let (status, body) = status_and_json(app.sign_up("bob@example.com", PASSWORD).await).await;
    assert_eq!(status, 201, "{body}");
}

#[tokio::test]
async fn a_display_name_cannot_register_a_second_account_for_a_taken_mailbox() {
    let app = spawn_app().await;
    let email = unique_email("victim");
    assert_eq!(app.sign_up(&email, PASSWORD).await.status(), 201);
    for alias in [
        format!("Victim <{email}>"),
        format!(" {} ", email.to_uppercase()),
    ] {
        let response = app.sign_up(&alias, PASSWORD).await;
        assert!(
            [409, 422].contains(&response.status().as_u16()),
            "{alias:?} got {}",
            response.status()
        );
    }
    let (_, me) = status_and_json(
        app.get(
            "/api/v1/me",
            Some(&token_of(app.sign_in(&email, PASSWORD).await).await),
        )
        .await,
    )
    .await;
    assert_eq!(me["email"], email);
}

#[tokio::test]
async fn weak_passwords_are_refused_at_sign_up_with_a_stable_code() {
    let app = spawn_app().await;
    let email = unique_email("weak.Person");
    let local_part = email.split('@').next().expect("local part");
    let cases = [
        ("under 8 characters", "Ab3$xyz".to_string()),
        ("empty", String::new()),
        ("only spaces", " ".repeat(8)),
        ("only white space", " \t \t    ".to_string()),
        ("the email", email.clone()),
        ("the email in capitals", email.to_uppercase()),
        ("the local part", local_part.to_string()),
        ("the local part in other case", local_part.to_uppercase()),
        ("common: password", "password".to_string()),
        ("common: 12345678", "12345678".to_string()),
        ("common: qwertyuiop", "qwertyuiop".to_string()),
        ("common, other case", "PassWord1".to_string()),
    ];
    for (case, password) in cases {
        let problem =
            assert_problem(app.sign_up(&email, &password).await, 422, "weak_password").await;
        assert_eq!(
            error_fields(&problem),
            ["password"],
            "case {case}: {problem}"
        );
    }
    assert_problem(app.sign_in(&email, "password").await, 401, "unauthorized").await;
    // The control: the same email with a good password signs up.
    assert_eq!(app.sign_up(&email, PASSWORD).await.status(), 201);
}

#[tokio::test]
async fn the_website_s_sign_up_shows_a_weak_password_and_a_bad_email_next_to_their_fields() {
    let app = spawn_app().await;
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let html = client
        .get(app.url("/signup"))
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("body");
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker).expect("a form") + marker.len();
    let csrf = &html[start..start + html[start..].find('"').expect("quote")];
    let post = |email: String, password: &'static str| {
        let client = client.clone();
        let url = app.url("/signup");
        let csrf = csrf.to_string();
        async move {
            let fields = [
                ("name", "Web Person".to_string()),
                ("email", email),
                ("password", password.to_string()),
                ("csrf_token", csrf),
            ];
            let response = client.post(url).form(&fields).send().await.expect("sent");
            let status = response.status().as_u16();
            (status, response.text().await.expect("body"))
        }
    };

    let (status, page) = post(unique_email("web"), "12345678").await;
    assert_eq!(status, 422);
    assert!(page.contains("id=\"password-error\""), "{page}");
    assert!(page.contains("most common passwords"), "{page}");

    let (status, page) = post("Web <web@example.com>".into(), PASSWORD).await;
    assert_eq!(status, 422);
    assert!(page.contains("id=\"email-error\""), "{page}");

    let (status, _) = post(unique_email("web"), PASSWORD).await;
    assert_eq!(status, 303, "the control signs up");
}
