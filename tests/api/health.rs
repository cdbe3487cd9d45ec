use crate::helpers::spawn_app;

#[tokio::test]
async fn liveness_and_readiness_answer_200() {
    let app = spawn_app().await;
    assert_eq!(app.get("/health/live", None).await.status(), 200);
    assert_eq!(app.get("/health/ready", None).await.status(), 200);
}

#[tokio::test]
async fn readiness_is_503_when_the_database_is_gone() {
    let app = spawn_app().await;
    app.db.clone().close().await;
    assert_eq!(app.get("/health/ready", None).await.status(), 503);
    assert_eq!(app.get("/health/live", None).await.status(), 200);
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_echoes_the_clients() {
    let app = spawn_app().await;
    for path in [
        "/health/live",
        "/api/v1/cities",
        "/api/v1/nowhere",
        "/api/v1/me",
    ] {
        let response = app.get(path, None).await;
        let id = response.headers().get("x-request-id");
        assert!(
            id.is_some_and(|v| !v.is_empty()),
            "{path} has no X-Request-Id"
        );
    }
    let response = app
        .client
        .get(app.url("/api/v1/cities"))
        .header("X-Request-Id", "trace-me-42")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.headers()["x-request-id"], "trace-me-42");
}

#[tokio::test]
async fn unknown_paths_are_problem_documents() {
    let app = spawn_app().await;
    crate::helpers::assert_problem(app.get("/api/v1/nowhere", None).await, 404, "not_found").await;
    crate::helpers::assert_problem(
        app.get("/api/v1/cities/not-a-number", None).await,
        404,
        "not_found",
    )
    .await;
    crate::helpers::assert_problem(
        app.get("/api/v1/cities/99999999999999", None).await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn the_openapi_document_lists_every_operation_and_the_docs_page_is_served() {
    let app = spawn_app().await;
    let doc: serde_json::Value = app
        .get("/api/openapi.json", None)
        .await
        .json()
        .await
        .expect("JSON");
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with('3')));
    let paths = doc["paths"].as_object().expect("paths");
    for path in [
        "/api/v1/auth/signup",
        "/api/v1/auth/signin",
        "/api/v1/me",
        "/api/v1/admin/users/{id}/role",
        "/api/v1/cities",
        "/api/v1/cities/{id}",
        "/api/v1/airports",
        "/api/v1/airports/{id}",
        "/api/v1/airplanes",
        "/api/v1/airplanes/{id}",
        "/api/v1/flights",
        "/api/v1/flights/{id}",
        "/api/v1/flights/{id}/seats",
    ] {
        assert!(
            paths.contains_key(path),
            "{path} is missing from the OpenAPI document"
        );
    }
    let signup = &doc["paths"]["/api/v1/auth/signup"]["post"];
    assert!(
        signup["requestBody"].is_object(),
        "request schemas are documented"
    );
    let redirect = app.get("/api/docs", None).await;
    assert_eq!(redirect.status(), 308);
    let page = app.get("/api/docs/", None).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    assert!(html.contains("swagger"), "the docs page is Swagger UI");
    assert!(
        !html.contains("cdn."),
        "the docs page loads nothing from a CDN"
    );
}

#[tokio::test]
async fn api_answers_are_uncompressed_and_the_docs_are_compressed() {
    let app = spawn_app().await;
    let fetch = |path: &'static str| {
        app.client
            .get(app.url(path))
            .header("Accept-Encoding", "gzip, deflate, br, zstd")
            .send()
    };
    let api = fetch("/api/v1/airplanes?per_page=100").await.expect("sent");
    assert_eq!(api.status(), 200);
    assert!(
        api.headers().get("content-encoding").is_none(),
        "API JSON is sent as it is"
    );
    let docs = fetch("/api/openapi.json").await.expect("sent");
    assert_eq!(docs.status(), 200);
    assert!(
        docs.headers().get("content-encoding").is_some(),
        "the OpenAPI document is compressed"
    );
}
