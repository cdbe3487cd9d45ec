//! The admin website's airline operations over plain HTTP: cancelling a flight through its
//! confirm step (counts and refund total shown before anything happens), the cancellation's
//! summary and passenger list, and what travellers see afterwards.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{bookable_flight, status_and_json, token_of, TestApp, PASSWORD};
use crate::site::{customer, location, Visitor};

async fn flight_status(app: &TestApp, flight: i64) -> String {
    let (status, body) =
        status_and_json(app.get(&format!("/api/v1/flights/{flight}"), None).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["status"].as_str().expect("status").to_string()
}

/// Text between `id="{id}">` and the next `<`.
fn text_of(html: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\">");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("#{id} on the page"))
        + marker.len();
    let end = html[start..].find('<').expect("element closes");
    html[start..start + end].to_string()
}

/// A flight with 2 confirmed bookings (3 economy seats paid, INR 3,000.00), 1 pending and 1
/// cancelled by its traveller; returns the flight, the traveller's email and token and the
/// bookings.
async fn flight_with_bookings(app: &TestApp) -> (i64, String, String, Vec<Value>) {
    let catalog = app.catalog().await;
    let flight = bookable_flight(app, &catalog, "SB720").await;
    let email = customer(app).await;
    let token = token_of(app.sign_in(&email, PASSWORD).await).await;
    let mut bookings = Vec::new();
    // Paid as they come: a traveller holds at most 3 pending bookings.
    for (i, seats) in [&["2A"][..], &["2B", "2C"], &["3A"], &["3B"]]
        .iter()
        .enumerate()
    {
        let booking = app.created(app.book(&token, flight, seats).await).await;
        if i < 2 {
            app.created(
                app.pay(&token, &booking, &format!("op{i}"), "pm_card_ok")
                    .await,
            )
            .await;
        }
        bookings.push(booking);
    }
    let id = bookings[3]["id"].as_i64().expect("id");
    let cancelled = app
        .post(
            &format!("/api/v1/bookings/{id}/cancel"),
            Some(&token),
            &json!({}),
        )
        .await;
    assert_eq!(cancelled.status(), StatusCode::OK);
    (flight, email, token, bookings)
}

#[tokio::test]
async fn an_admin_cancels_a_flight_through_the_confirm_step_and_sees_its_summary() {
    let app = crate::helpers::spawn_app().await;
    let (flight, email, token, bookings) = flight_with_bookings(&app).await;
    let admin = Visitor::new(&app);
    admin.sign_in(&app.admin_email().await).await;
    let page_url = format!("/admin/flights/{flight}");
    let cancel_url = format!("{page_url}/cancel");

    let (status, html) = admin.page(&page_url).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"cancel-flight-link\""), "cancel action");
    assert!(!html.contains("id=\"cancellation-summary\""));

    // The confirm step shows what the cancellation touches, before anything happens.
    let (status, html) = admin.page(&cancel_url).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(text_of(&html, "confirmed-count"), "2");
    assert_eq!(text_of(&html, "pending-count"), "1");
    assert_eq!(text_of(&html, "refund-total"), "INR 3,000.00");
    assert_eq!(flight_status(&app, flight).await, "scheduled");

    // Without the form's token: refused, nothing cancelled.
    let forged = admin
        .post(&cancel_url, &[("reason", "Aircraft unserviceable")])
        .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert_eq!(flight_status(&app, flight).await, "scheduled");

    // An empty reason: the error beside the field, nothing cancelled.
    let csrf = crate::site::csrf_in(&html);
    let empty = admin
        .post(&cancel_url, &[("reason", "  "), ("csrf_token", &csrf)])
        .await;
    assert_eq!(empty.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = empty.text().await.expect("body");
    assert!(
        html.contains("id=\"reason-error\""),
        "error beside the field"
    );
    assert!(html.contains("aria-describedby=\"reason-error\""));
    assert_eq!(text_of(&html, "confirmed-count"), "2", "still the preview");
    let long = "x".repeat(501);
    let too_long = admin
        .post(&cancel_url, &[("reason", &long), ("csrf_token", &csrf)])
        .await;
    assert_eq!(too_long.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(flight_status(&app, flight).await, "scheduled");
    let first = bookings[0]["id"].as_i64().expect("id");
    assert_eq!(app.booking(&token, first).await["status"], "confirmed");

    let done = admin
        .post(
            &cancel_url,
            &[("reason", "Aircraft unserviceable"), ("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&done), format!("{page_url}?notice=cancelled"));
    assert_eq!(flight_status(&app, flight).await, "cancelled");
    for (booking, by) in bookings
        .iter()
        .zip(["airline", "airline", "airline", "traveller"])
    {
        let id = booking["id"].as_i64().expect("id");
        let now = app.booking(&token, id).await;
        assert_eq!(now["status"], "cancelled", "{now}");
        assert_eq!(now["cancelled_by"], by, "{now}");
    }
    assert_eq!(app.sandbox_ledger().await, (2, 2), "both charges refunded");

    let (status, html) = admin.page(&location(&done)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("The flight is cancelled."), "notice");
    assert_eq!(text_of(&html, "cancel-reason"), "Aircraft unserviceable");
    assert_eq!(text_of(&html, "cancelled-bookings"), "3");
    assert_eq!(text_of(&html, "refunds-made"), "2 (INR 3,000.00)");
    assert_eq!(text_of(&html, "refunds-pending"), "0 (INR 0.00)");
    assert!(
        !html.contains("id=\"cancel-flight-link\""),
        "no second cancel"
    );

    // The confirm step of a cancelled flight offers nothing; a second post changes nothing.
    let (status, html) = admin.page(&cancel_url).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(!html.contains("id=\"confirm-cancel\""));
    let again = admin
        .post(&cancel_url, &[("reason", "Again"), ("csrf_token", &csrf)])
        .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert_eq!(app.sandbox_ledger().await, (2, 2));

    // The passenger list: every booking, its owner, effective status and passengers.
    let (status, html) = admin.page(&format!("{page_url}/passengers")).await;
    assert_eq!(status, StatusCode::OK);
    for booking in &bookings {
        let reference = booking["reference"].as_str().expect("reference");
        assert!(html.contains(reference), "{reference} listed");
    }
    assert_eq!(html.matches(&email).count(), 4, "the owner on each row");
    assert!(html.contains("<strong>2B</strong> Passenger 0"));
    assert!(html.contains("<strong>2C</strong> Passenger 1"));
    assert_eq!(html.matches("<td>no</td>").count(), 4, "nobody checked in");

    // Travellers: the flight page says why and has no hold form; the booking says who.
    let traveller = Visitor::new(&app);
    traveller.sign_in(&email).await;
    let (status, html) = traveller.page(&format!("/flights/{flight}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"flight-cancelled\""));
    assert!(html.contains("Aircraft unserviceable"));
    assert!(!html.contains("class=\"hold\""), "no hold form");
    assert!(!html.contains("name=\"seat\""), "no seat selection");
    let (_, html) = traveller.page(&format!("/bookings/{first}")).await;
    assert_eq!(
        text_of(&html, "airline-note"),
        "Cancelled by the airline: Aircraft unserviceable"
    );
    let traveller_cancelled = bookings[3]["id"].as_i64().expect("id");
    let (_, html) = traveller
        .page(&format!("/bookings/{traveller_cancelled}"))
        .await;
    assert!(
        !html.contains("id=\"airline-note\""),
        "cancelled by its owner"
    );
}

#[tokio::test]
async fn the_confirm_step_counts_only_live_bookings_and_refunds_nothing_unpaid() {
    let app = crate::helpers::spawn_app().await;
    let catalog = app.catalog().await;
    let flight = bookable_flight(&app, &catalog, "SB721").await;
    let admin = Visitor::new(&app);
    admin.sign_in(&app.admin_email().await).await;
    let (status, html) = admin.page(&format!("/admin/flights/{flight}/cancel")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(text_of(&html, "confirmed-count"), "0");
    assert_eq!(text_of(&html, "pending-count"), "0");
    assert_eq!(text_of(&html, "refund-total"), "INR 0.00");
    let (status, html) = admin
        .page(&format!("/admin/flights/{flight}/passengers"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("No bookings yet."));
    let (status, _) = admin.page("/admin/flights/999999/cancel").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn customers_cannot_use_the_flight_operations_pages() {
    let app = crate::helpers::spawn_app().await;
    let catalog = app.catalog().await;
    let flight = bookable_flight(&app, &catalog, "SB722").await;
    let visitor = Visitor::new(&app);
    visitor.sign_in(&customer(&app).await).await;
    for path in [
        format!("/admin/flights/{flight}"),
        format!("/admin/flights/{flight}/cancel"),
        format!("/admin/flights/{flight}/passengers"),
    ] {
        let (status, _) = visitor.page(&path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    }
    let csrf = visitor.csrf("/bookings").await;
    let response = visitor
        .post(
            &format!("/admin/flights/{flight}/cancel"),
            &[("reason", "Not mine to cancel"), ("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(flight_status(&app, flight).await, "scheduled");
    // Signed out: to sign-in, back to the confirm step afterwards.
    let signed_out = Visitor::new(&app);
    let response = signed_out
        .get(&format!("/admin/flights/{flight}/cancel"))
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(location(&response).starts_with("/signin?next="));
}
