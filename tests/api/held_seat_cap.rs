//! `SKYBOOK_MAX_HELD_SEATS_PER_CLIENT`: the seats unpaid bookings made from one client address
//! hold on one flight, across every account that address uses (API.md §1).

use serde_json::json;

use crate::helpers::*;

/// A booking request from `client`, as the trusted proxy in front of the app reports it.
async fn book_from(app: &TestApp, client: &str, token: &str, flight: i64, seats: &[&str]) -> u16 {
    let body = json!({"flight_id": flight, "seats": seats, "passengers": passengers(seats.len())});
    app.client
        .post(app.url("/api/v1/bookings"))
        .bearer_auth(token)
        .header("X-Forwarded-For", client)
        .json(&body)
        .send()
        .await
        .expect("request sent")
        .status()
        .as_u16()
}

fn behind_proxy(cap: u32) -> impl FnOnce(&mut skybook::config::Settings) {
    move |s| {
        s.max_held_seats_per_client = cap;
        s.trusted_proxies = vec!["127.0.0.1".parse().expect("ip")];
    }
}

#[tokio::test]
async fn accounts_from_one_address_share_the_cap_until_a_booking_is_paid_or_cancelled() {
    let app = spawn_app_with(behind_proxy(4)).await;
    let catalog = app.catalog().await;
    let flight = bookable_flight(&app, &catalog, "AI401").await;
    let other_flight = bookable_flight(&app, &catalog, "AI402").await;
    let (a, b, c) = (
        app.customer_token().await,
        app.customer_token().await,
        app.customer_token().await,
    );
    let home = "198.51.100.20";
    assert_eq!(book_from(&app, home, &a, flight, &["2A", "2B"]).await, 201);
    assert_eq!(book_from(&app, home, &b, flight, &["2C"]).await, 201);
    // 3 held: two more would make 5.
    let refused = app
        .client
        .post(app.url("/api/v1/bookings"))
        .bearer_auth(&c)
        .header("X-Forwarded-For", home)
        .json(&json!({"flight_id": flight, "seats": ["2D", "3A"], "passengers": passengers(2)}))
        .send()
        .await
        .expect("sent");
    assert_problem(refused, 409, "conflict").await;
    assert_eq!(
        book_from(&app, home, &c, flight, &["2D"]).await,
        201,
        "4 of 4"
    );
    assert_eq!(book_from(&app, home, &c, flight, &["3A"]).await, 409);
    // Another flight, another address: caps of their own.
    assert_eq!(book_from(&app, home, &c, other_flight, &["3A"]).await, 201);
    assert_eq!(
        book_from(&app, "198.51.100.21", &c, flight, &["3A"]).await,
        201
    );

    // Paying one of the address's bookings takes its seats off the count.
    let bookings = app.get("/api/v1/bookings", Some(&b)).await;
    let (_, list) = status_and_json(bookings).await;
    let held = list["data"][0].clone();
    app.created(app.pay(&b, &held, "cap-pay", "pm_card_ok").await)
        .await;
    assert_eq!(book_from(&app, home, &a, flight, &["3B"]).await, 201);
    assert_eq!(book_from(&app, home, &a, flight, &["3C"]).await, 409);
}

#[tokio::test]
async fn an_ipv6_client_is_capped_by_its_64() {
    let app = spawn_app_with(behind_proxy(2)).await;
    let catalog = app.catalog().await;
    let flight = bookable_flight(&app, &catalog, "AI403").await;
    let (a, b) = (app.customer_token().await, app.customer_token().await);
    assert_eq!(
        book_from(&app, "2001:db8:1:2::10", &a, flight, &["2A", "2B"]).await,
        201
    );
    // Another address of the same /64.
    assert_eq!(
        book_from(&app, "2001:db8:1:2:ffff::1", &b, flight, &["2C"]).await,
        409
    );
    // The neighbouring /64.
    assert_eq!(
        book_from(&app, "2001:db8:1:3::10", &b, flight, &["2C"]).await,
        201
    );
}

#[tokio::test]
async fn concurrent_bookings_from_one_address_stop_exactly_at_the_cap() {
    const CAP: usize = 5;
    const TRIES: usize = 10;
    let app = spawn_app_with(behind_proxy(CAP as u32)).await;
    let catalog = app.catalog().await;
    let flight = bookable_flight(&app, &catalog, "AI404").await;
    let mut tokens = Vec::new();
    for _ in 0..TRIES {
        tokens.push(app.customer_token().await);
    }
    // Twelve seats, ten accounts of one address: one seat each, all at once.
    let seats = ["2A", "2B", "2C", "2D", "3A", "3B", "3C", "3D", "1A", "1B"];
    let app = &app;
    let tries = tokens.iter().zip(seats).map(|(token, seat)| async move {
        book_from(app, "203.0.113.77", token, flight, &[seat]).await
    });
    let statuses = futures::future::join_all(tries).await;
    let created = statuses.iter().filter(|s| **s == 201).count();
    let refused = statuses.iter().filter(|s| **s == 409).count();
    assert_eq!((created, refused), (CAP, TRIES - CAP), "{statuses:?}");
    assert_eq!(app.seats_available(flight).await, 12 - CAP as i64);
}
