//! Table-driven bad input on every write: a clear 4xx with a stable code, never a 5xx.

use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app, status_and_json};

#[tokio::test]
async fn malformed_bodies_are_400_and_oversized_ones_413() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let raw_cases: [(&str, &str); 6] = [
        ("not JSON", "{not json"),
        ("empty body", ""),
        ("a JSON array", "[]"),
        ("wrong type", r#"{"name": 5, "country_code": "IN"}"#),
        ("missing field", r#"{"name": "Pune"}"#),
        (
            "unknown field",
            r#"{"name": "Pune", "country_code": "IN", "id": 7}"#,
        ),
    ];
    for (case, body) in raw_cases {
        let response = app
            .client
            .post(app.url("/api/v1/cities"))
            .bearer_auth(&admin)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), 400, "case: {case}");
        assert_problem(response, 400, "malformed_request").await;
    }
    let response = app
        .client
        .post(app.url("/api/v1/cities"))
        .bearer_auth(&admin)
        .header("Content-Type", "text/plain")
        .body(r#"{"name": "Pune", "country_code": "IN"}"#)
        .send()
        .await
        .expect("sent");
    assert_problem(response, 400, "malformed_request").await;

    let huge = json!({"name": "x".repeat(70 * 1024), "country_code": "IN"});
    assert_problem(
        app.post("/api/v1/cities", Some(&admin), &huge).await,
        413,
        "payload_too_large",
    )
    .await;
    let (_, cities) = status_and_json(app.get("/api/v1/cities", None).await).await;
    assert_eq!(cities["total"], 0, "nothing was written by any bad request");
}

#[tokio::test]
async fn no_bad_input_produces_a_server_error() {
    let app = spawn_app().await;
    let catalog = app.catalog().await;
    let admin = Some(catalog.admin.as_str());
    let strange_values: Vec<Value> = vec![
        json!(null),
        json!(""),
        json!(" "),
        json!(-1),
        json!(0),
        json!(i64::MAX),
        json!(i64::MIN),
        json!(1e308),
        json!(true),
        json!([]),
        json!({}),
        json!("\u{0000}"),
        json!("🛫".repeat(300)),
        json!("'; DROP TABLE flights; --"),
        json!("9999-99-99T99:99:99Z"),
    ];
    let writes: Vec<(&str, String, Value)> = vec![
        (
            "POST",
            "/api/v1/auth/signup".into(),
            json!({"email": "a@example.com", "password": "not-a-common-pass", "name": "A"}),
        ),
        (
            "POST",
            "/api/v1/auth/signin".into(),
            json!({"email": "a@example.com", "password": "not-a-common-pass"}),
        ),
        (
            "POST",
            "/api/v1/cities".into(),
            json!({"name": "C", "country_code": "IN"}),
        ),
        (
            "POST",
            "/api/v1/airports".into(),
            json!({"code": "QQQ", "name": "Q", "city_id": catalog.city_id, "timezone": "UTC"}),
        ),
        (
            "POST",
            "/api/v1/airplanes".into(),
            json!({"model": "M", "rows": 2, "seat_letters": "AB", "business_rows": 0}),
        ),
        (
            "POST",
            "/api/v1/flights".into(),
            crate::helpers::flight_body(&catalog, "AI9", crate::helpers::days_ahead(2), 1000),
        ),
        (
            "PATCH",
            format!("/api/v1/cities/{}", catalog.city_id),
            json!({"name": "C"}),
        ),
        (
            "PATCH",
            format!("/api/v1/airplanes/{}", catalog.airplane_id),
            json!({"model": "M"}),
        ),
    ];
    for (method, path, valid) in &writes {
        for key in valid.as_object().expect("object").keys() {
            for value in &strange_values {
                let mut body = valid.clone();
                body[key] = value.clone();
                let response = app.send_json(method, path, admin, &body).await;
                let status = response.status();
                assert!(
                    status.is_client_error() || status.is_success(),
                    "{method} {path} with {key} = {value} gave {status}"
                );
            }
        }
    }
    let queries = [
        "from=%00",
        "date=%FF",
        "page=99999999999999999999",
        "per_page=-0",
        "min_price=99999999999999999999",
        "sort=%27",
    ];
    for query in queries {
        let status = app
            .get(&format!("/api/v1/flights?{query}"), None)
            .await
            .status();
        assert!(
            status.is_client_error() || status.is_success(),
            "search {query} gave {status}"
        );
    }
}
