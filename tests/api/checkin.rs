//! Online check-in and boarding passes (API.md §8): the window's edges, who may, sequence
//! numbers under concurrent check-ins, and the BCBP text item by item.

use chrono::{Datelike, Duration, NaiveDateTime};
use reqwest::StatusCode;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
use serde_json::{json, Value};

use crate::helpers::{
    assert_problem, bookable_flight, flight_body, spawn_app, status_and_json, Catalog, TestApp,
};

/// The catalog's airports TAA and TBB are in this zone.
const ZONE: chrono_tz::Tz = chrono_tz::Asia::Kolkata;

/// Books `seats` for `passengers` and pays: a confirmed booking.
async fn confirmed(
    app: &TestApp,
    token: &str,
    flight: i64,
    seats: &[&str],
    passengers: &[&str],
) -> Value {
    let names: Vec<Value> = passengers.iter().map(|n| json!({"name": n})).collect();
    let booking = app
        .created(
            app.post(
                "/api/v1/bookings",
                Some(token),
                &json!({"flight_id": flight, "seats": seats, "passengers": names}),
            )
            .await,
        )
        .await;
    let key = format!("pay-{}", booking["id"]);
    let paid = app.pay(token, &booking, &key, "pm_card_ok").await;
    assert_eq!(paid.status(), StatusCode::CREATED);
    booking
}

/// Moves the flight's departure (and its local date at TAA) to `departure`, as a schedule
/// that has come near would be.
async fn move_departure(app: &TestApp, flight: i64, departure: NaiveDateTime) {
    use skybook::models::catalog::flight;
    let model = flight::Entity::find_by_id(flight as i32)
        .one(&app.db.writer)
        .await
        .expect("query")
        .expect("flight");
    let mut row: flight::ActiveModel = model.into();
    row.departure_time = Set(departure);
    row.arrival_time = Set(departure + Duration::minutes(130));
    row.departure_local_date = Set(departure.and_utc().with_timezone(&ZONE).date_naive());
    row.update(&app.db.writer).await.expect("moved");
}

fn now() -> NaiveDateTime {
    skybook::clock::now()
}

async fn check_in(app: &TestApp, token: &str, id: &Value) -> reqwest::Response {
    app.post(
        &format!("/api/v1/bookings/{id}/checkin"),
        Some(token),
        &json!({}),
    )
    .await
}

async fn passes(app: &TestApp, token: &str, id: &Value) -> reqwest::Response {
    app.get(
        &format!("/api/v1/bookings/{id}/boarding-passes"),
        Some(token),
    )
    .await
}

fn seats_checked_in(booking: &Value) -> Vec<Option<bool>> {
    booking["seats"]
        .as_array()
        .expect("seats")
        .iter()
        .map(|s| s["checked_in"].as_bool())
        .collect()
}

#[tokio::test]
async fn check_in_is_open_from_its_opening_until_its_close_and_not_a_minute_outside() {
    let app = spawn_app().await;
    let catalog = app.catalog().await;
    let flight = bookable_flight(&app, &catalog, "AI301").await;
    let token = app.customer_token().await;
    let a = confirmed(&app, &token, flight, &["2A"], &["Asha Rao"]).await;
    let b = confirmed(&app, &token, flight, &["2B"], &["Dev Rao"]).await;
    let c = confirmed(&app, &token, flight, &["2C"], &["Mira Rao"]).await;
    assert_eq!(
        seats_checked_in(&app.booking(&token, a["id"].as_i64().unwrap()).await),
        [Some(false)]
    );

    // Opens 24 hours before departure.
    move_departure(
        &app,
        flight,
        now() + Duration::hours(24) + Duration::seconds(60),
    )
    .await;
    assert_problem(
        check_in(&app, &token, &a["id"]).await,
        409,
        "checkin_closed",
    )
    .await;
    move_departure(
        &app,
        flight,
        now() + Duration::hours(24) - Duration::seconds(60),
    )
    .await;
    let (status, checked) = status_and_json(check_in(&app, &token, &a["id"]).await).await;
    assert_eq!(status, StatusCode::OK, "{checked}");
    assert_eq!(checked["status"], "confirmed");
    assert_eq!(seats_checked_in(&checked), [Some(true)]);

    // Closes 60 minutes before departure.
    move_departure(
        &app,
        flight,
        now() + Duration::minutes(60) + Duration::seconds(60),
    )
    .await;
    let (status, body) = status_and_json(check_in(&app, &token, &b["id"]).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    move_departure(
        &app,
        flight,
        now() + Duration::minutes(60) - Duration::seconds(60),
    )
    .await;
    assert_problem(
        check_in(&app, &token, &c["id"]).await,
        409,
        "checkin_closed",
    )
    .await;
    assert_eq!(
        seats_checked_in(&app.booking(&token, c["id"].as_i64().unwrap()).await),
        [Some(false)]
    );

    // A booking checked in stays checked in: asking again is answered as it is.
    let (status, again) = status_and_json(check_in(&app, &token, &a["id"]).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again, checked);
}

#[tokio::test]
async fn the_window_follows_the_settings() {
    let app = crate::helpers::spawn_app_with(|s| {
        s.checkin_opens_hours = 2;
        s.checkin_closes_minutes = 10;
    })
    .await;
    let catalog = app.catalog().await;
    let flight = bookable_flight(&app, &catalog, "AI302").await;
    let token = app.customer_token().await;
    let a = confirmed(&app, &token, flight, &["2A"], &["Asha Rao"]).await;
    move_departure(&app, flight, now() + Duration::hours(3)).await;
    assert_problem(
        check_in(&app, &token, &a["id"]).await,
        409,
        "checkin_closed",
    )
    .await;
    move_departure(&app, flight, now() + Duration::minutes(30)).await;
    assert_eq!(
        check_in(&app, &token, &a["id"]).await.status(),
        StatusCode::OK
    );
}

/// A flight departing in five hours: bookable, and in the check-in window.
async fn flight_in_window(app: &TestApp, catalog: &Catalog, number: &str) -> i64 {
    let departs = chrono::Utc::now() + Duration::hours(5);
    let flight = app
        .create_flight(catalog, flight_body(catalog, number, departs, 100_000))
        .await;
    flight["id"].as_i64().expect("id")
}

#[tokio::test]
async fn only_a_confirmed_booking_can_be_checked_in() {
    let app = spawn_app().await;
    let catalog = app.catalog().await;
    let flight = flight_in_window(&app, &catalog, "AI303").await;
    let token = app.customer_token().await;
    let pending = app.created(app.book(&token, flight, &["2A"]).await).await;
    // A pending booking's seats say nothing of check-in.
    assert_eq!(seats_checked_in(&pending), [None]);
    assert_problem(
        check_in(&app, &token, &pending["id"]).await,
        409,
        "conflict",
    )
    .await;
    assert_problem(passes(&app, &token, &pending["id"]).await, 409, "conflict").await;

    let cancelled = app.created(app.book(&token, flight, &["2B"]).await).await;
    let id = &cancelled["id"];
    assert_eq!(
        app.post(
            &format!("/api/v1/bookings/{id}/cancel"),
            Some(&token),
            &json!({})
        )
        .await
        .status(),
        StatusCode::OK
    );
    assert_problem(check_in(&app, &token, id).await, 409, "conflict").await;

    // Checked in, then cancelled: no passes any more.
    let paid = confirmed(&app, &token, flight, &["2C"], &["Asha Rao"]).await;
    assert_eq!(
        check_in(&app, &token, &paid["id"]).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        passes(&app, &token, &paid["id"]).await.status(),
        StatusCode::OK
    );
    let id = &paid["id"];
    assert_eq!(
        app.post(
            &format!("/api/v1/bookings/{id}/cancel"),
            Some(&token),
            &json!({})
        )
        .await
        .status(),
        StatusCode::OK
    );
    assert_problem(passes(&app, &token, id).await, 409, "conflict").await;
    assert_problem(check_in(&app, &token, id).await, 409, "conflict").await;
}

#[tokio::test]
async fn boarding_passes_before_check_in_are_a_conflict() {
    let app = spawn_app().await;
    let catalog = app.catalog().await;
    let flight = flight_in_window(&app, &catalog, "AI304").await;
    let token = app.customer_token().await;
    let booking = confirmed(&app, &token, flight, &["2A"], &["Asha Rao"]).await;
    assert_problem(passes(&app, &token, &booking["id"]).await, 409, "conflict").await;
}

#[tokio::test]
async fn another_users_booking_is_not_found_for_check_in_or_passes() {
    let app = spawn_app().await;
    let catalog = app.catalog().await;
    let flight = flight_in_window(&app, &catalog, "AI305").await;
    let owner = app.customer_token().await;
    let other = app.customer_token().await;
    let booking = confirmed(&app, &owner, flight, &["2A"], &["Asha Rao"]).await;
    assert_problem(
        check_in(&app, &other, &booking["id"]).await,
        404,
        "not_found",
    )
    .await;
    // Checking in is the traveller's own act: an admin is not the owner either.
    assert_problem(
        check_in(&app, &catalog.admin, &booking["id"]).await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        check_in(&app, &owner, &json!(999_999)).await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(
        app.post(
            &format!("/api/v1/bookings/{}/checkin", booking["id"]),
            None,
            &json!({})
        )
        .await
        .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        check_in(&app, &owner, &booking["id"]).await.status(),
        StatusCode::OK
    );
    assert_problem(passes(&app, &other, &booking["id"]).await, 404, "not_found").await;
    // An admin may read them (the airline's desk).
    assert_eq!(
        passes(&app, &catalog.admin, &booking["id"]).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn checking_in_again_changes_nothing() {
    let app = spawn_app().await;
    let catalog = app.catalog().await;
    let flight = flight_in_window(&app, &catalog, "AI306").await;
    let token = app.customer_token().await;
    let booking = confirmed(
        &app,
        &token,
        flight,
        &["2A", "2B"],
        &["Asha Rao", "Dev Rao"],
    )
    .await;
    let (_, first) = status_and_json(check_in(&app, &token, &booking["id"]).await).await;
    let (_, first_passes) = status_and_json(passes(&app, &token, &booking["id"]).await).await;
    let (status, second) = status_and_json(check_in(&app, &token, &booking["id"]).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(first, second);
    let (_, second_passes) = status_and_json(passes(&app, &token, &booking["id"]).await).await;
    assert_eq!(first_passes, second_passes);
    let sequences: Vec<i64> = second_passes["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|p| p["sequence"].as_i64().expect("sequence"))
        .collect();
    assert_eq!(sequences, [1, 2]);
}

#[tokio::test]
async fn fifty_concurrent_check_ins_on_one_flight_get_distinct_gap_free_sequence_numbers() {
    const BOOKINGS: usize = 50;
    let app = spawn_app().await;
    let catalog = app.catalog().await;
    let airplane = app
        .created(
            app.post(
                "/api/v1/airplanes",
                Some(&catalog.admin),
                &json!({"model": "Test 321", "rows": 30, "seat_letters": "ABC DEF", "business_rows": 2}),
            )
            .await,
        )
        .await;
    let mut body = flight_body(&catalog, "AI307", crate::helpers::days_ahead(10), 100_000);
    body["airplane_id"] = airplane["id"].clone();
    let flight = app.create_flight(&catalog, body).await["id"]
        .as_i64()
        .expect("id");
    // Bookings of one and two seats, from ten travellers.
    let mut travellers = Vec::new();
    for _ in 0..10 {
        travellers.push(app.customer_token().await);
    }
    let mut bookings = Vec::new();
    for i in 0..BOOKINGS {
        let token = &travellers[i % travellers.len()];
        let seats = 1 + i % 2;
        let booking = app
            .created(app.book_assigned(token, flight, seats).await)
            .await;
        let paid = app
            .pay(token, &booking, &format!("k{i}"), "pm_card_ok")
            .await;
        assert_eq!(paid.status(), StatusCode::CREATED);
        bookings.push((token.clone(), booking));
    }
    let seats_total: usize = (0..BOOKINGS).map(|i| 1 + i % 2).sum();
    move_departure(&app, flight, now() + Duration::hours(5)).await;

    let answers = futures::future::join_all(
        bookings
            .iter()
            .map(|(token, booking)| check_in(&app, token, &booking["id"])),
    )
    .await;
    for answer in answers {
        assert_eq!(answer.status(), StatusCode::OK);
    }

    let mut sequences = Vec::new();
    for (token, booking) in &bookings {
        let (status, passes) = status_and_json(passes(&app, token, &booking["id"]).await).await;
        assert_eq!(status, StatusCode::OK, "{passes}");
        let mine: Vec<i64> = passes["data"]
            .as_array()
            .expect("data")
            .iter()
            .map(|p| p["sequence"].as_i64().expect("sequence"))
            .collect();
        // One booking's passengers check in together: consecutive numbers.
        for pair in mine.windows(2) {
            assert_eq!(pair[1], pair[0] + 1, "{mine:?}");
        }
        sequences.extend(mine);
    }
    sequences.sort_unstable();
    let expected: Vec<i64> = (1..=seats_total as i64).collect();
    assert_eq!(sequences, expected, "every number once, from 1, no gap");
}

/// The pass's text built here from §8 for flight AI42 from TAA to TBB, independently of the
/// application's encoder.
fn expected_bcbp(
    name: &str,
    reference: &str,
    day: u32,
    compartment: char,
    seat: &str,
    sequence: u32,
) -> String {
    let (carrier, digits) = ("AI", 42);
    format!(
        "M1{name:<20}E{reference:<7}TAATBB{carrier:<3}{digits:04} {day:03}{compartment}{seat}{sequence:04} 100"
    )
}

#[tokio::test]
async fn the_boarding_pass_text_is_bcbp_item_by_item() {
    let app = spawn_app().await;
    let catalog = app.catalog().await;
    let flight = bookable_flight(&app, &catalog, "AI42").await;
    let token = app.customer_token().await;
    let booking = confirmed(
        &app,
        &token,
        flight,
        &["1A", "3C"],
        &["José Émile Pérez", "Venkataraghavan"],
    )
    .await;
    // A departure in the window between 19:00 and 23:00 UTC, when it is already the next
    // day in India: the pass takes the local date.
    let mut departure = now() + Duration::hours(2);
    while !(19..23).contains(&chrono::Timelike::hour(&departure)) {
        departure += Duration::minutes(30);
    }
    assert_ne!(
        departure.date(),
        departure.and_utc().with_timezone(&ZONE).date_naive()
    );
    move_departure(&app, flight, departure).await;
    assert_eq!(
        check_in(&app, &token, &booking["id"]).await.status(),
        StatusCode::OK
    );
    let (status, body) = status_and_json(passes(&app, &token, &booking["id"]).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let passes = body["data"].as_array().expect("data");
    assert_eq!(passes.len(), 2);

    let reference = booking["reference"].as_str().expect("reference");
    let day = departure.and_utc().with_timezone(&ZONE).ordinal();
    let cases = [
        ("1A", "José Émile Pérez", "PEREZ/JOSE EMILE", 'J', "001A", 1),
        ("3C", "Venkataraghavan", "VENKATARAGHAVAN/", 'Y', "003C", 2),
    ];
    for (pass, (seat, passenger, name, compartment, seat_item, sequence)) in
        passes.iter().zip(cases)
    {
        assert_eq!(pass["seat"], seat);
        assert_eq!(pass["passenger"], passenger);
        assert_eq!(pass["sequence"], sequence);
        let text = pass["bcbp"].as_str().expect("bcbp");
        assert_eq!(text.len(), 60, "{text:?}");
        let items = [
            ("format and legs", &text[0..2], "M1".to_string()),
            ("name", &text[2..22], format!("{name:<20}")),
            ("e-ticket", &text[22..23], "E".to_string()),
            ("reference", &text[23..30], format!("{reference:<7}")),
            ("from", &text[30..33], "TAA".to_string()),
            ("to", &text[33..36], "TBB".to_string()),
            ("carrier", &text[36..39], "AI ".to_string()),
            ("flight", &text[39..44], "0042 ".to_string()),
            ("day of year", &text[44..47], format!("{day:03}")),
            ("compartment", &text[47..48], compartment.to_string()),
            ("seat", &text[48..52], seat_item.to_string()),
            ("sequence", &text[52..57], format!("{sequence:04} ")),
            ("status", &text[57..58], "1".to_string()),
            ("conditional size", &text[58..60], "00".to_string()),
        ];
        for (item, got, want) in items {
            assert_eq!(got, want, "{item} of {text:?}");
        }
        assert_eq!(
            text,
            expected_bcbp(name, reference, day, compartment, seat_item, sequence)
        );
    }
}

#[tokio::test]
async fn the_openapi_document_declares_check_in_and_passes() {
    let app = spawn_app().await;
    let (_, doc) = status_and_json(app.get("/api/openapi.json", None).await).await;
    let checkin = &doc["paths"]["/api/v1/bookings/{id}/checkin"]["post"]["responses"];
    for status in ["200", "401", "404", "405", "409"] {
        assert!(checkin.get(status).is_some(), "check-in lacks {status}");
    }
    let passes = &doc["paths"]["/api/v1/bookings/{id}/boarding-passes"]["get"]["responses"];
    for status in ["200", "401", "404", "405", "409"] {
        assert!(passes.get(status).is_some(), "passes lack {status}");
    }
}
