//! API.md §5's time rules: booking and paying close `sales_close_minutes` before departure, a
//! hold never outlives that close, and a confirmed booking is cancelled and refunded only
//! until departure.

use chrono::{Duration, NaiveDateTime};
use serde_json::{json, Value};

use crate::helpers::*;

/// Moves the flight's departure to `departs` in the database itself (a retime the API would
/// also allow; the rules must hold whatever moved it).
async fn move_departure(app: &TestApp, flight: i64, departs: NaiveDateTime) {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
    use skybook::models::catalog::flight;
    let model = flight::Entity::find_by_id(flight as i32)
        .one(&app.db.writer)
        .await
        .expect("query")
        .expect("flight");
    let mut row: flight::ActiveModel = model.into();
    row.departure_time = Set(departs);
    row.arrival_time = Set(departs + Duration::minutes(130));
    row.update(&app.db.writer).await.expect("flight moved");
}

fn expires_at(booking: &Value) -> NaiveDateTime {
    chrono::DateTime::parse_from_rfc3339(booking["expires_at"].as_str().expect("expires_at"))
        .expect("RFC 3339")
        .naive_utc()
}

#[tokio::test]
async fn booking_closes_before_departure_and_a_hold_ends_at_the_close() {
    let app = spawn_app_with(|s| {
        s.sales_close_minutes = 30;
        s.hold_ttl_seconds = 3_600;
    })
    .await;
    let catalog = app.catalog().await;
    let token = app.customer_token().await;
    let closing = bookable_flight(&app, &catalog, "AI301").await;
    let departs = skybook::clock::now() + Duration::minutes(29);
    move_departure(&app, closing, departs).await;
    assert_problem(
        app.book(&token, closing, &["2A"]).await,
        422,
        "sales_closed",
    )
    .await;
    assert_problem(
        app.book_assigned(&token, closing, 1).await,
        422,
        "sales_closed",
    )
    .await;

    // 50 minutes before departure an hour's hold is cut at the close, 20 minutes from now.
    let open = bookable_flight(&app, &catalog, "AI302").await;
    let departs = skybook::clock::now() + Duration::minutes(50);
    move_departure(&app, open, departs).await;
    let booking = app.created(app.book(&token, open, &["2A"]).await).await;
    let close = departs - Duration::minutes(30);
    let held_until = expires_at(&booking);
    assert!(
        (held_until - close).num_seconds().abs() <= 1,
        "the hold ends at the close ({close}), not at {held_until}"
    );

    // A departed flight keeps its own answer.
    move_departure(&app, open, skybook::clock::now() - Duration::minutes(1)).await;
    assert_problem(
        app.book(&token, open, &["2B"]).await,
        422,
        "flight_departed",
    )
    .await;
}

#[tokio::test]
async fn a_hold_cannot_be_paid_once_its_flight_s_sales_closed() {
    let app = spawn_app_with(|s| s.sales_close_minutes = 30).await;
    let catalog = app.catalog().await;
    let token = app.customer_token().await;
    let flight = bookable_flight(&app, &catalog, "AI303").await;
    let booking = app.created(app.book(&token, flight, &["2A"]).await).await;
    // The flight moved earlier: the hold (ten minutes) now outlives the close.
    move_departure(&app, flight, skybook::clock::now() + Duration::minutes(20)).await;
    assert_problem(
        app.pay(&token, &booking, "closed-1", "pm_card_ok").await,
        409,
        "booking_not_payable",
    )
    .await;
    assert_eq!(app.sandbox_ledger().await, (0, 0), "nothing charged");
    let id = booking["id"].as_i64().expect("id");
    assert_eq!(app.booking(&token, id).await["status"], "pending");
}

#[tokio::test]
async fn a_confirmed_booking_is_refunded_until_departure_and_not_after() {
    let app = spawn_app().await;
    let catalog = app.catalog().await;
    let token = app.customer_token().await;
    let flight = bookable_flight(&app, &catalog, "AI304").await;
    let mut paid = Vec::new();
    for (seat, key) in [("2A", "paid-1"), ("2B", "paid-2")] {
        let booking = app.created(app.book(&token, flight, &[seat]).await).await;
        app.created(app.pay(&token, &booking, key, "pm_card_ok").await)
            .await;
        paid.push(booking["id"].as_i64().expect("id"));
    }
    // Ten minutes before departure (sales closed): still cancelled and refunded.
    move_departure(&app, flight, skybook::clock::now() + Duration::minutes(10)).await;
    let path = |id: i64| format!("/api/v1/bookings/{id}/cancel");
    let (status, cancelled) =
        status_and_json(app.post(&path(paid[0]), Some(&token), &json!({})).await).await;
    assert_eq!(status, 200, "{cancelled}");
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(app.sandbox_ledger().await, (2, 1), "the first one refunded");

    // After departure: refused, still confirmed, nothing refunded.
    move_departure(&app, flight, skybook::clock::now() - Duration::minutes(1)).await;
    assert_problem(
        app.post(&path(paid[1]), Some(&token), &json!({})).await,
        422,
        "flight_departed",
    )
    .await;
    assert_eq!(app.booking(&token, paid[1]).await["status"], "confirmed");
    assert_eq!(app.sandbox_ledger().await, (2, 1), "no second refund");
}
