//! End-to-end tests in real headless Chromium (Debian's `chromium` and `chromium-driver`):
//! the real application on a random port, a fresh database per test, a browser per context.
//! `scripts/test` installs the browser when it is missing.

mod accessibility;
mod axe;
mod harness;
// Shared with the API suite; this crate uses only part of it.
#[allow(dead_code)]
#[path = "../api/helpers.rs"]
mod helpers;

mod boarding_pass;
mod website;

use harness::Browser;
use helpers::spawn_app;

/// Proves the harness on a page the binary already serves: Swagger UI renders the OpenAPI
/// document, "Try it out" calls the real API from the page, and a second browser is a
/// separate context (its own cookie jar) running at the same time.
#[tokio::test]
async fn api_docs_render_and_call_the_api_in_two_independent_browsers() {
    let app = spawn_app().await;
    let catalog = app.catalog().await; // makes the city "Testville"
    let (first, second) =
        tokio::join!(Browser::launch(&app.address), Browser::launch(&app.address));

    // The slash-less address redirects to the UI.
    first.goto("/api/docs").await;
    first.wait_for_path("/api/docs/").await;
    let title = first.wait_for_text(".info .title", "Skybook API").await;
    assert!(title.starts_with("Skybook API"), "title: {title:?}");
    assert!(
        !first.exists(".errors-wrapper").await,
        "Swagger UI reported errors loading the document"
    );
    first.screenshot("api-docs").await;

    // Try it out: GET /api/v1/cities/{id} through the page.
    let operation = "#operations-catalog-get_city";
    first.click(&format!("{operation} .opblock-summary")).await;
    first.click(&format!("{operation} .try-out__btn")).await;
    first
        .fill(
            &format!("{operation} input[placeholder='id']"),
            &catalog.city_id.to_string(),
        )
        .await;
    first.click(&format!("{operation} .execute")).await;
    first
        .wait_for_text(&format!("{operation} .live-responses-table"), "Testville")
        .await;

    // Two contexts: a cookie set in the first browser is not seen by the second.
    first
        .execute("document.cookie = 'context=first; path=/'")
        .await;
    second.goto("/api/docs/").await;
    second.wait_for_text(".info .title", "Skybook API").await;
    assert_eq!(
        first.execute("return document.cookie").await,
        "context=first"
    );
    assert_eq!(second.execute("return document.cookie").await, "");

    first.close().await;
    second.close().await;
}
