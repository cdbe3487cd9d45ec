//! The OpenAPI document is exact (API.md §2): errors are problem documents, the statuses every
//! operation can answer are declared, query parameters and bodies carry their rules, examples
//! are not in the past. Plus the two places where the server was looser than its document.

use chrono::{NaiveDate, Utc};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app, status_and_json};

async fn document() -> Value {
    let app = spawn_app().await;
    let (status, doc) = status_and_json(app.get("/api/openapi.json", None).await).await;
    assert_eq!(status, 200);
    doc
}

/// `(method, path, operation)` for every operation of the document.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut found = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in ["get", "put", "post", "delete", "patch"] {
            if let Some(operation) = item.get(method) {
                found.push((method.to_uppercase(), path.clone(), operation.clone()));
            }
        }
    }
    assert!(found.len() > 30, "the document lists the API");
    found
}

fn declares(operation: &Value, status: &str) -> bool {
    operation["responses"].get(status).is_some()
}

#[tokio::test]
async fn every_error_is_declared_as_a_problem_document_with_the_shared_statuses() {
    let doc = document().await;
    for (method, path, operation) in operations(&doc) {
        let label = format!("{method} {path}");
        for (status, response) in operation["responses"].as_object().expect("responses") {
            if status.starts_with('4') || status.starts_with('5') {
                let content = response["content"].as_object().expect("content");
                let media: Vec<&String> = content.keys().collect();
                assert_eq!(media, ["application/problem+json"], "{label} {status}");
                assert_eq!(
                    content["application/problem+json"]["schema"]["$ref"],
                    "#/components/schemas/ProblemView",
                    "{label} {status}"
                );
            }
        }
        for status in ["405", "429"] {
            assert!(declares(&operation, status), "{label} declares {status}");
        }
        assert!(
            operation["responses"]["429"]["headers"]["Retry-After"].is_object(),
            "{label}: 429 carries Retry-After"
        );
        if operation["requestBody"].is_object() {
            for status in ["400", "413", "422"] {
                assert!(declares(&operation, status), "{label} declares {status}");
            }
        }
        let secured = operation["security"]
            .as_array()
            .is_some_and(|s| !s.is_empty());
        if secured {
            assert!(declares(&operation, "401"), "{label} declares 401");
        }
        let admin_only = operation["security"].to_string().contains("\"admin\"");
        if admin_only {
            assert!(declares(&operation, "403"), "{label} declares 403");
        }
        if path.contains('{') {
            assert!(declares(&operation, "404"), "{label} declares 404");
        }
    }
}

#[tokio::test]
async fn query_parameters_carry_their_types_bounds_and_enums() {
    let doc = document().await;
    let mut seen = 0;
    for (method, path, operation) in operations(&doc) {
        for parameter in operation["parameters"].as_array().into_iter().flatten() {
            if parameter["in"] != "query" {
                continue;
            }
            seen += 1;
            let label = format!("{method} {path} ?{}", parameter["name"]);
            // An empty value reads as absent: a schema is its type or `maxLength: 0`.
            let schema = match parameter["schema"]["anyOf"].as_array() {
                Some(branches) => {
                    let typed: Vec<&Value> =
                        branches.iter().filter(|b| b["maxLength"] != 0).collect();
                    assert_eq!(typed.len(), 1, "{label}: its type or empty");
                    typed[0]
                }
                None => &parameter["schema"],
            };
            let typed = schema["type"].to_string();
            let described = typed.contains("integer")
                || typed.contains("boolean")
                || schema.get("enum").is_some()
                || schema.get("pattern").is_some()
                || schema.get("format").is_some();
            assert!(described, "{label} is a bare string: {schema}");
            if typed.contains("integer") {
                assert!(schema["minimum"].is_number(), "{label} has a minimum");
            }
            if parameter["name"] == "per_page" {
                assert_eq!(schema["minimum"], 1, "{label}");
                assert_eq!(schema["maximum"], 100, "{label}");
            }
        }
    }
    assert!(seen >= 15, "the list and search parameters are there");
    let search = &doc["paths"]["/api/v1/flights"]["get"]["parameters"];
    let sort = search
        .as_array()
        .expect("parameters")
        .iter()
        .find(|p| p["name"] == "sort")
        .expect("sort");
    assert!(
        sort["schema"].to_string().contains("-departure_time"),
        "sort lists its orders: {sort}"
    );
}

#[tokio::test]
async fn bodies_and_the_idempotency_key_carry_their_rules() {
    let doc = document().await;
    let schemas = &doc["components"]["schemas"];
    let airplane = &schemas["AirplaneBody"]["properties"];
    assert_eq!(airplane["rows"]["minimum"], 1);
    assert_eq!(airplane["rows"]["maximum"], 100);
    assert!(airplane["seat_letters"]["pattern"].is_string());
    assert_eq!(
        schemas["SignUpBody"]["properties"]["password"]["minLength"],
        8
    );
    assert_eq!(
        schemas["FlightCancelBody"]["properties"]["reason"]["maxLength"],
        500
    );
    assert!(schemas["AirportBody"]["properties"]["code"]["pattern"].is_string());
    let currencies = schemas["PaymentBody"]["properties"]["currency"]["enum"].to_string();
    assert!(currencies.contains("\"INR\"") && currencies.contains("\"JPY\""));
    assert_eq!(
        schemas["CityBody"]["additionalProperties"], false,
        "unknown fields are refused, and said so"
    );
    let pay = &doc["paths"]["/api/v1/bookings/{id}/payments"]["post"]["parameters"];
    let key = pay
        .as_array()
        .expect("parameters")
        .iter()
        .find(|p| p["name"] == "Idempotency-Key")
        .expect("Idempotency-Key");
    assert_eq!(key["in"], "header");
    assert_eq!(key["schema"]["minLength"], 1);
    assert_eq!(key["schema"]["maxLength"], 255);
}

/// Every string in the document that starts with a date (`example`, `examples`, `default`).
fn example_dates(value: &Value, inside_example: bool, found: &mut Vec<NaiveDate>) {
    match value {
        Value::String(text) if inside_example => {
            if let Some(date) = text
                .get(..10)
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            {
                found.push(date);
            }
        }
        Value::Array(items) => {
            for item in items {
                example_dates(item, inside_example, found);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                let example = inside_example || matches!(key.as_str(), "example" | "examples");
                example_dates(item, example, found);
            }
        }
        _ => {}
    }
}

#[tokio::test]
async fn no_example_date_is_in_the_past() {
    let doc = document().await;
    let mut dates = Vec::new();
    example_dates(&doc, false, &mut dates);
    assert!(
        !dates.is_empty(),
        "the flight and search examples have dates"
    );
    let today = Utc::now().date_naive();
    for date in dates {
        assert!(date > today, "example date {date} is not in the future");
    }
}

#[tokio::test]
async fn a_json_array_is_not_an_object_even_where_every_field_is_optional() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (_, city) = status_and_json(
        app.post(
            "/api/v1/cities",
            Some(&admin),
            &json!({"name": "Pune", "country_code": "IN"}),
        )
        .await,
    )
    .await;
    let path = format!("/api/v1/cities/{}", city["id"]);
    for body in [json!([null, null]), json!(["Goa", "IN"])] {
        let response = app.patch(&path, Some(&admin), &body).await;
        assert_problem(response, 400, "malformed_request").await;
    }
    let response = app
        .post("/api/v1/cities", Some(&admin), &json!(["Goa", "IN"]))
        .await;
    assert_problem(response, 400, "malformed_request").await;
}

#[tokio::test]
async fn a_whole_number_written_with_a_fraction_is_still_a_whole_number() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let body =
        json!({"model": "ATR 72", "rows": 18.0, "seat_letters": "AB CD", "business_rows": 0.0});
    let (status, airplane) =
        status_and_json(app.post("/api/v1/airplanes", Some(&admin), &body).await).await;
    assert_eq!(status, 201, "{airplane}");
    assert_eq!(airplane["rows"], 18);
    let half = json!({"model": "ATR 72", "rows": 18.5, "seat_letters": "AB CD"});
    let response = app.post("/api/v1/airplanes", Some(&admin), &half).await;
    assert_problem(response, 400, "malformed_request").await;
}
