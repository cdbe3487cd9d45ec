//! Every admin-only operation refuses anonymous callers (401) and customers (403). The list of
//! operations is not written here: it is read from the OpenAPI document the app generates
//! from its own route annotations, and every documented path is checked to be routed.

use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app};

struct Operation {
    method: String,
    path: String,
    roles: Vec<String>,
}

fn operations(doc: &Value) -> Vec<Operation> {
    let mut found = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            let Some(requirements) = operation["security"].as_array() else {
                continue;
            };
            let roles = requirements
                .iter()
                .filter_map(|r| r["bearer"].as_array())
                .flatten()
                .filter_map(|r| r.as_str().map(String::from))
                .collect();
            found.push(Operation {
                method: method.to_uppercase(),
                // Any id will do: authorization is checked before the resource is looked up.
                path: path.replace("{id}", "1"),
                roles,
            });
        }
    }
    found
}

/// A body that is valid JSON for every write (its content does not matter before auth).
fn body_for(method: &str) -> Option<Value> {
    matches!(method, "POST" | "PATCH" | "PUT").then(|| json!({}))
}

#[tokio::test]
async fn admin_operations_refuse_anonymous_callers_and_customers() {
    let app = spawn_app().await;
    let doc: Value = app
        .get("/api/openapi.json", None)
        .await
        .json()
        .await
        .expect("JSON");
    let customer = app.customer_token().await;
    let operations = operations(&doc);
    let admin_only: Vec<&Operation> = operations
        .iter()
        .filter(|o| o.roles.iter().any(|r| r == "admin"))
        .collect();
    assert!(
        admin_only.len() >= 13,
        "the route table marks the catalog writes and role changes as admin-only"
    );

    for operation in &operations {
        let send = |token: Option<&str>| {
            let method = reqwest::Method::from_bytes(operation.method.as_bytes()).expect("method");
            let mut request = app.client.request(method, app.url(&operation.path));
            if let Some(body) = body_for(&operation.method) {
                request = request.json(&body);
            }
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            request.send()
        };
        let anonymous = send(None).await.expect("sent");
        assert_eq!(
            anonymous.status(),
            401,
            "{} {} without a token",
            operation.method,
            operation.path
        );
        assert_problem(anonymous, 401, "unauthorized").await;
        if operation.roles.iter().any(|r| r == "admin") {
            let as_customer = send(Some(&customer)).await.expect("sent");
            assert_eq!(
                as_customer.status(),
                403,
                "{} {} as a customer",
                operation.method,
                operation.path
            );
            assert_problem(as_customer, 403, "forbidden").await;
        }
    }
}

#[tokio::test]
async fn catalog_reads_are_public() {
    let app = spawn_app().await;
    for path in [
        "/api/v1/cities",
        "/api/v1/airports",
        "/api/v1/airplanes",
        "/api/v1/flights",
    ] {
        assert_eq!(app.get(path, None).await.status(), 200, "{path}");
    }
}
