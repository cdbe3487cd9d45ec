//! HEAD on every GET route, 405 with `Allow` for a known path asked with another method, and
//! 404 for unknown paths: on the API and the website alike (API.md §2).

use reqwest::{Method, Response, StatusCode};
use serde_json::Value;

use crate::helpers::{assert_problem, bookable_flight, spawn_app, TestApp};

async fn send(app: &TestApp, method: &str, path: &str, token: Option<&str>) -> Response {
    let method = Method::from_bytes(method.as_bytes()).expect("method");
    let mut request = app.client.request(method, app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("request sent")
}

fn header(response: &Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

#[tokio::test]
async fn head_answers_like_get_without_a_body() {
    let app = spawn_app().await;
    let catalog = app.catalog().await;
    let flight = bookable_flight(&app, &catalog, "SB101").await;
    for path in [
        format!("/api/v1/flights/{flight}"),
        format!("/api/v1/flights/{flight}/seats"),
        "/api/v1/cities".to_string(),
        "/api/v1/flights/999999".to_string(),
        "/health/live".to_string(),
        "/api/openapi.json".to_string(),
        "/".to_string(),
        "/signin".to_string(),
    ] {
        let get = send(&app, "GET", &path, None).await;
        let head = send(&app, "HEAD", &path, None).await;
        assert_eq!(head.status(), get.status(), "{path}");
        for name in ["content-type", "content-length", "cache-control"] {
            assert_eq!(header(&head, name), header(&get, name), "{path}: {name}");
        }
        let get_body = get.bytes().await.expect("body");
        if !path.starts_with("/api/") && !path.starts_with("/health/") {
            assert!(!get_body.is_empty(), "{path}");
        }
        assert!(head.bytes().await.expect("body").is_empty(), "{path}");
    }
    let head = send(&app, "HEAD", &format!("/api/v1/flights/{flight}"), None).await;
    let length: usize = header(&head, "content-length").parse().expect("a length");
    assert!(length > 100, "the GET's length, not 0: {length}");
}

#[tokio::test]
async fn a_known_api_path_with_another_method_is_405_listing_the_ones_it_serves() {
    let app = spawn_app().await;
    for (method, path, allow) in [
        ("DELETE", "/api/v1/auth/signin", "POST"),
        ("GET", "/api/v1/auth/signin", "POST"),
        ("HEAD", "/api/v1/auth/signup", "POST"),
        ("PUT", "/api/v1/cities", "GET, HEAD, POST"),
        ("POST", "/api/v1/flights/1", "GET, HEAD, PATCH, DELETE"),
        ("OPTIONS", "/api/v1/bookings/1", "GET, HEAD"),
        ("GET", "/api/v1/bookings/1/cancel", "POST"),
    ] {
        let response = send(&app, method, path, None).await;
        assert_eq!(
            response.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        assert_eq!(header(&response, "allow"), allow, "{method} {path}");
        if method != "HEAD" {
            let body = assert_problem(response, 405, "method_not_allowed").await;
            assert!(body["detail"].as_str().is_some(), "{body}");
        }
    }
}

#[tokio::test]
async fn unknown_paths_stay_404_whatever_the_method() {
    let app = spawn_app().await;
    for method in ["GET", "POST", "DELETE"] {
        for path in ["/api/v1/nothing-here", "/api/v1/auth/nothing", "/api/v1"] {
            assert_problem(send(&app, method, path, None).await, 404, "not_found").await;
        }
        let page = send(&app, method, "/no/such/page", None).await;
        assert_eq!(page.status(), StatusCode::NOT_FOUND, "{method}");
        assert!(header(&page, "content-type").starts_with("text/html"));
        assert!(page.headers().get("allow").is_none());
    }
}

#[tokio::test]
async fn website_pages_answer_405_pages_with_allow() {
    let app = spawn_app().await;
    for (method, path, allow) in [
        ("POST", "/", "GET, HEAD"),
        ("DELETE", "/signin", "GET, HEAD, POST"),
        ("PUT", "/flights/1", "GET, HEAD"),
        ("GET", "/signout", "POST"),
        ("DELETE", "/admin", "GET, HEAD"),
        ("PATCH", "/admin/cities", "GET, HEAD, POST"),
    ] {
        let response = send(&app, method, path, None).await;
        assert_eq!(
            response.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        assert_eq!(header(&response, "allow"), allow, "{method} {path}");
        assert!(header(&response, "content-type").starts_with("text/html"));
        assert!(response
            .text()
            .await
            .expect("body")
            .contains("Method not allowed"));
    }
}

/// Every operation of the OpenAPI document: its GETs answer HEAD alike, and a method it does
/// not list is 405 naming the ones it does.
#[tokio::test]
async fn every_documented_path_follows_the_method_rules() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let doc: Value = app
        .get("/api/openapi.json", None)
        .await
        .json()
        .await
        .expect("JSON");
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() > 10);
    for (template, operations) in paths {
        let path = template
            .split('/')
            .map(|segment| {
                if segment.starts_with('{') {
                    "1"
                } else {
                    segment
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        let served: Vec<String> = ["get", "post", "put", "patch", "delete"]
            .into_iter()
            .filter(|m| operations.get(*m).is_some())
            .map(str::to_uppercase)
            .collect();
        if served.iter().any(|m| m == "GET") {
            let get = send(&app, "GET", &path, Some(&admin)).await;
            let head = send(&app, "HEAD", &path, Some(&admin)).await;
            assert_eq!(head.status(), get.status(), "HEAD {path}");
            // The metrics change with every request (the GET just made is counted in them).
            if path != "/metrics" {
                assert_eq!(
                    header(&head, "content-length"),
                    header(&get, "content-length"),
                    "HEAD {path}"
                );
            }
        }
        let unserved = ["PUT", "PATCH", "DELETE", "POST", "GET"]
            .into_iter()
            .find(|m| !served.iter().any(|s| s == m))
            .expect("some method is not served");
        let response = send(&app, unserved, &path, Some(&admin)).await;
        assert_eq!(
            response.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{unserved} {path}"
        );
        let mut allow: Vec<String> = header(&response, "allow")
            .split(", ")
            .map(str::to_string)
            .collect();
        allow.retain(|m| m != "HEAD");
        allow.sort();
        let mut expected = served.clone();
        expected.sort();
        assert_eq!(allow, expected, "Allow of {path}");
        let declared = &operations[served[0].to_lowercase()]["responses"]["405"];
        assert!(declared.is_object(), "405 declared for {path}");
    }
}
