//! Checking in on the booking page, and the boarding pass page's barcode read back from the
//! pixels Chromium drew, compared with the API's BCBP text.

use serde_json::{json, Value};

use crate::harness::Browser;
use crate::helpers::{flight_body, spawn_app, status_and_json, token_of, unique_email, PASSWORD};

#[tokio::test]
async fn a_traveller_checks_in_and_the_pass_barcode_scans_back_to_the_bcbp_text() {
    let app = spawn_app().await;
    let catalog = app.catalog().await;
    // Departs in five hours: on sale, and check-in is open.
    let departs = chrono::Utc::now() + chrono::Duration::hours(5);
    let flight = app
        .create_flight(&catalog, flight_body(&catalog, "SB7", departs, 100_000))
        .await["id"]
        .as_i64()
        .expect("id");

    let email = unique_email("pass");
    assert_eq!(app.sign_up(&email, PASSWORD).await.status(), 201);
    let token = token_of(app.sign_in(&email, PASSWORD).await).await;
    let body = json!({"flight_id": flight, "seats": ["1A", "2C"],
        "passengers": [{"name": "José Pérez"}, {"name": "Venkataraghavan"}]});
    let booking = app
        .created(app.post("/api/v1/bookings", Some(&token), &body).await)
        .await;
    assert_eq!(
        app.pay(&token, &booking, "k", "pm_card_ok").await.status(),
        201
    );
    let id = booking["id"].as_i64().expect("id");

    let browser = Browser::launch(&app.address).await;
    browser.goto("/signin").await;
    browser.fill("#email", &email).await;
    browser.fill("#password", PASSWORD).await;
    browser
        .click("form[action='/signin'] button[type=submit]")
        .await;
    browser.wait_for_path("/").await;
    browser.goto(&format!("/bookings/{id}")).await;
    assert!(!browser.exists("#boarding-passes").await);
    browser.click("#checkin").await;
    browser
        .wait_for_path(&format!("/bookings/{id}/boarding-passes"))
        .await;
    browser.wait_for(".pass").await;

    let (status, passes) = status_and_json(
        app.get(
            &format!("/api/v1/bookings/{id}/boarding-passes"),
            Some(&token),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{passes}");
    let passes: &Vec<Value> = passes["data"].as_array().expect("data");
    assert_eq!(passes.len(), 2);

    let cards = browser
        .client()
        .find_all(fantoccini::Locator::Css(".pass"))
        .await
        .expect("passes");
    assert_eq!(cards.len(), 2);
    for (card, pass) in cards.iter().zip(passes) {
        // As shown (labels are in capitals).
        let text = card.text().await.expect("card text").to_lowercase();
        for item in [
            pass["passenger"].as_str().expect("passenger"),
            pass["seat"].as_str().expect("seat"),
            "SB7",
            "Gate closes",
            booking["reference"].as_str().expect("reference"),
        ] {
            let item = item.to_lowercase();
            assert!(text.contains(&item), "{item} not on the pass: {text}");
        }
        let sequence = format!("{:04}", pass["sequence"].as_i64().expect("sequence"));
        assert!(text.contains(&sequence), "{text}");

        // The barcode as drawn on screen, scanned.
        let svg = card
            .find(fantoccini::Locator::Css(".barcode-image svg"))
            .await
            .expect("the barcode");
        // Whole on screen: an element screenshot is cut at the viewport's edge.
        browser
            .client()
            .execute(
                "arguments[0].scrollIntoView({block: 'center'}); return true",
                vec![serde_json::to_value(&svg).expect("element as an argument")],
            )
            .await
            .expect("scroll to the barcode");
        let png = svg.screenshot().await.expect("screenshot of the barcode");
        let image = image::load_from_memory(&png).expect("a PNG");
        let scanned = rxing::helpers::detect_in_image(image, Some(rxing::BarcodeFormat::QR_CODE))
            .expect("the barcode scans");
        assert_eq!(scanned.getText(), pass["bcbp"].as_str().expect("bcbp"));
    }

    // Back on the booking page: checked in, the passes one link away, no second check-in.
    browser.goto(&format!("/bookings/{id}")).await;
    assert!(browser.exists("#boarding-passes").await);
    assert!(!browser.exists("#checkin").await);
    browser.close().await;
}
