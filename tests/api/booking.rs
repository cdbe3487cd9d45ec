use serde_json::json;

use crate::helpers::{
    assert_problem, bookable_flight, passengers, spawn_app, spawn_app_with, status_and_json,
};

#[tokio::test]
async fn booking_named_seats_holds_them_until_the_hold_ends() {
    let app = spawn_app().await;
    let catalog = app.catalog().await;
    let flight = bookable_flight(&app, &catalog, "AI100").await;
    let token = app.customer_token().await;

    let before = chrono::Utc::now();
    let (status, booking) = status_and_json(app.book(&token, flight, &["1A", "2C"]).await).await;
    assert_eq!(status, 201, "{booking}");
    assert_eq!(booking["status"], "pending");
    assert_eq!(booking["flight_id"], flight);
    let reference = booking["reference"].as_str().expect("reference");
    assert_eq!(reference.len(), 6);
    assert!(
        reference
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()),
        "{reference}"
    );
    assert_eq!(
        booking["seats"],
        json!([
            {"seat": "1A", "class": "business", "price": 300_000, "passenger": "Passenger 0"},
            {"seat": "2C", "class": "economy", "price": 100_000, "passenger": "Passenger 1"},
        ])
    );
    assert_eq!(
        (booking["total"].as_i64(), booking["currency"].as_str()),
        (Some(400_000), Some("INR"))
    );
    let stored = app
        .booking(&token, booking["id"].as_i64().expect("id"))
        .await;
    assert_eq!(stored["total"].as_i64(), Some(400_000), "{stored}");
    let expires: chrono::DateTime<chrono::Utc> = booking["expires_at"]
        .as_str()
        .expect("expires")
        .parse()
        .expect("RFC 3339");
    let hold = (expires - before).num_seconds();
    assert!(
        (598..=601).contains(&hold),
        "the default hold is 600 s, got {hold}"
    );

    let map = app.seat_map(flight).await;
    let taken: Vec<&str> = map
        .iter()
        .filter(|(_, free)| !free)
        .map(|(s, _)| s.as_str())
        .collect();
    assert_eq!(taken, ["1A", "2C"]);
    assert_eq!(app.seats_available(flight).await, 10);

    let other = app.customer_token().await;
    let problem = assert_problem(
        app.book(&other, flight, &["2C", "2D"]).await,
        409,
        "seat_unavailable",
    )
    .await;
    assert_eq!(problem["seats"], json!(["2C"]));
    assert!(
        app.seat_map(flight)
            .await
            .contains(&("2D".to_string(), true)),
        "the refused request took nothing"
    );
}

#[tokio::test]
async fn assigned_seats_sit_together_in_the_cheapest_class_with_room() {
    let app = spawn_app().await;
    let catalog = app.catalog().await;
    let flight = bookable_flight(&app, &catalog, "AI101").await;
    let token = app.customer_token().await;
    let (status, booking) = status_and_json(app.book_assigned(&token, flight, 2).await).await;
    assert_eq!(status, 201, "{booking}");
    let seats: Vec<&str> = booking["seats"]
        .as_array()
        .expect("seats")
        .iter()
        .filter_map(|s| s["seat"].as_str())
        .collect();
    assert_eq!(seats, ["2A", "2B"], "economy (cheaper), side by side");
    // The total is the assigned seats' prices, as answered and as stored.
    assert_eq!(booking["total"].as_i64(), Some(200_000), "{booking}");
    let stored = app
        .booking(&token, booking["id"].as_i64().expect("id"))
        .await;
    assert_eq!(stored["total"].as_i64(), Some(200_000), "{stored}");
    let (_, second) = status_and_json(app.book_assigned(&token, flight, 2).await).await;
    let seats: Vec<&str> = second["seats"]
        .as_array()
        .expect("seats")
        .iter()
        .filter_map(|s| s["seat"].as_str())
        .collect();
    assert_eq!(seats, ["2C", "2D"]);
}

#[tokio::test]
async fn too_few_free_seats_for_an_assigned_booking_is_409_with_no_seats_named() {
    let app = spawn_app_with(|s| s.max_pending_bookings = 10).await;
    let catalog = app.catalog().await;
    let flight = bookable_flight(&app, &catalog, "AI102").await;
    let token = app.customer_token().await;
    assert_eq!(app.book_assigned(&token, flight, 9).await.status(), 201);
    let problem = assert_problem(
        app.book_assigned(&token, flight, 4).await,
        409,
        "seat_unavailable",
    )
    .await;
    assert_eq!(problem["seats"], json!([]));
    assert_eq!(
        app.book_assigned(&token, flight, 3).await.status(),
        201,
        "exactly three were left"
    );
}

#[tokio::test]
async fn bad_booking_requests_are_refused_without_holding_anything() {
    let app = spawn_app().await;
    let catalog = app.catalog().await;
    let flight = bookable_flight(&app, &catalog, "AI103").await;
    let token = app.customer_token().await;
    let cases = [
        (
            json!({"flight_id": flight, "seats": ["9Z"], "passengers": passengers(1)}),
            422,
            "validation_failed",
            "unknown seat",
        ),
        (
            json!({"flight_id": flight, "seats": ["2A", "2a"], "passengers": passengers(2)}),
            422,
            "validation_failed",
            "duplicate seat",
        ),
        (
            json!({"flight_id": flight, "seats": ["2A"], "passengers": passengers(2)}),
            422,
            "validation_failed",
            "seat count",
        ),
        (
            json!({"flight_id": flight, "passengers": []}),
            422,
            "validation_failed",
            "no passengers",
        ),
        (
            json!({"flight_id": flight, "passengers": passengers(10)}),
            422,
            "validation_failed",
            "ten passengers",
        ),
        (
            json!({"flight_id": flight, "passengers": [{"name": " "}]}),
            422,
            "validation_failed",
            "blank name",
        ),
        (
            json!({"flight_id": 999_999, "passengers": passengers(1)}),
            422,
            "validation_failed",
            "unknown flight",
        ),
        (
            json!({"flight_id": flight, "passengers": passengers(1), "status": "confirmed"}),
            400,
            "malformed_request",
            "status",
        ),
        (
            json!({"flight_id": flight, "passengers": [{"name": "A", "price": 1}]}),
            400,
            "malformed_request",
            "nested price",
        ),
        (
            json!({"flight_id": "one", "passengers": passengers(1)}),
            400,
            "malformed_request",
            "wrong type",
        ),
    ];
    for (body, status, code, case) in cases {
        let response = app.post("/api/v1/bookings", Some(&token), &body).await;
        assert_eq!(response.status().as_u16(), status, "case: {case}");
        assert_problem(response, status, code).await;
    }
    assert_eq!(app.seats_available(flight).await, 12);
    assert_problem(
        app.post("/api/v1/bookings", None, &json!({})).await,
        401,
        "unauthorized",
    )
    .await;
}

#[tokio::test]
async fn a_departed_flight_cannot_be_booked() {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
    let app = spawn_app().await;
    let catalog = app.catalog().await;
    let flight = bookable_flight(&app, &catalog, "AI104").await;
    let model = skybook::models::catalog::flight::Entity::find_by_id(flight as i32)
        .one(&app.db.writer)
        .await
        .expect("query")
        .expect("flight");
    let mut row: skybook::models::catalog::flight::ActiveModel = model.into();
    row.departure_time = Set(skybook::clock::now() - chrono::Duration::minutes(5));
    row.update(&app.db.writer)
        .await
        .expect("moved into the past");
    let token = app.customer_token().await;
    assert_problem(
        app.book(&token, flight, &["2A"]).await,
        422,
        "flight_departed",
    )
    .await;
}

#[tokio::test]
async fn one_user_may_hold_only_so_many_pending_bookings() {
    let app = spawn_app_with(|s| s.max_pending_bookings = 2).await;
    let catalog = app.catalog().await;
    let flight = bookable_flight(&app, &catalog, "AI105").await;
    let token = app.customer_token().await;
    assert_eq!(app.book(&token, flight, &["2A"]).await.status(), 201);
    let (_, second) = status_and_json(app.book(&token, flight, &["2B"]).await).await;
    assert_problem(app.book(&token, flight, &["2C"]).await, 409, "conflict").await;
    assert!(app
        .seat_map(flight)
        .await
        .contains(&("2C".to_string(), true)));
    // Paying for one frees a place.
    assert_eq!(
        app.pay(&token, &second, "k1", "pm_card_ok").await.status(),
        201
    );
    assert_eq!(app.book(&token, flight, &["2C"]).await.status(), 201);
}

#[tokio::test]
async fn without_the_plan_s_pending_check_the_cap_is_exceeded() {
    // The negative control: the booking plan's `pending` check is what keeps the cap.
    let app = spawn_app_with(|s| {
        s.max_pending_bookings = 2;
        s.faults.unchecked = Some("pending");
    })
    .await;
    let catalog = app.catalog().await;
    let flight = bookable_flight(&app, &catalog, "AI105").await;
    let token = app.customer_token().await;
    for seat in ["2A", "2B", "2C"] {
        assert_eq!(app.book(&token, flight, &[seat]).await.status(), 201);
    }
}

#[tokio::test]
async fn bookings_are_visible_to_their_owner_and_admins_only() {
    let app = spawn_app().await;
    let catalog = app.catalog().await;
    let flight = bookable_flight(&app, &catalog, "AI106").await;
    let owner = app.customer_token().await;
    let stranger = app.customer_token().await;
    let (_, booking) = status_and_json(app.book(&owner, flight, &["3A"]).await).await;
    let id = booking["id"].as_i64().expect("id");
    let path = format!("/api/v1/bookings/{id}");

    assert_eq!(
        app.booking(&owner, id).await["reference"],
        booking["reference"]
    );
    assert_eq!(
        app.booking(&catalog.admin, id).await["reference"],
        booking["reference"]
    );
    assert_problem(app.get(&path, Some(&stranger)).await, 404, "not_found").await;
    assert_problem(
        app.get(&format!("{path}/payments"), Some(&stranger)).await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.post(&format!("{path}/cancel"), Some(&stranger), &json!({}))
            .await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.pay(&stranger, &booking, "k", "pm_card_ok").await,
        404,
        "not_found",
    )
    .await;

    let (_, mine) = status_and_json(app.get("/api/v1/bookings", Some(&owner)).await).await;
    assert_eq!(
        (mine["total"].as_i64(), mine["data"][0]["id"].as_i64()),
        (Some(1), Some(id))
    );
    let (_, theirs) = status_and_json(app.get("/api/v1/bookings", Some(&stranger)).await).await;
    assert_eq!(theirs["total"], 0);
    assert_problem(
        app.get("/api/v1/bookings?all=true", Some(&stranger)).await,
        403,
        "forbidden",
    )
    .await;
    let (status, all) = status_and_json(
        app.get("/api/v1/bookings?all=true", Some(&catalog.admin))
            .await,
    )
    .await;
    assert_eq!((status.as_u16(), all["total"].as_i64()), (200, Some(1)));
    assert_problem(
        app.get("/api/v1/bookings?per_page=0", Some(&owner)).await,
        422,
        "validation_failed",
    )
    .await;
}

#[tokio::test]
async fn cancelling_frees_the_seats_and_twice_is_409() {
    let app = spawn_app().await;
    let catalog = app.catalog().await;
    let flight = bookable_flight(&app, &catalog, "AI107").await;
    let token = app.customer_token().await;
    let (_, booking) = status_and_json(app.book(&token, flight, &["3C", "3D"]).await).await;
    let path = format!("/api/v1/bookings/{}/cancel", booking["id"]);
    let (status, cancelled) =
        status_and_json(app.post(&path, Some(&token), &json!({})).await).await;
    assert_eq!(
        (status.as_u16(), cancelled["status"].as_str()),
        (200, Some("cancelled"))
    );
    assert_eq!(app.seats_available(flight).await, 12);
    assert!(app.seat_map(flight).await.iter().all(|(_, free)| *free));
    assert_problem(
        app.post(&path, Some(&token), &json!({})).await,
        409,
        "conflict",
    )
    .await;
    let other = app.customer_token().await;
    assert_eq!(
        app.book(&other, flight, &["3C"]).await.status(),
        201,
        "the seat is free again"
    );
    assert_problem(
        app.pay(&token, &booking, "late", "pm_card_ok").await,
        409,
        "booking_not_payable",
    )
    .await;
}

#[tokio::test]
async fn without_the_plan_s_cancelled_check_a_booking_is_cancelled_twice() {
    // The negative control: the cancellation plan's `cancelled` check is what refuses a
    // second cancellation (and its second email).
    let app = spawn_app_with(|s| s.faults.unchecked = Some("cancelled")).await;
    let catalog = app.catalog().await;
    let flight = bookable_flight(&app, &catalog, "AI107").await;
    let token = app.customer_token().await;
    let (_, booking) = status_and_json(app.book(&token, flight, &["3C"]).await).await;
    let path = format!("/api/v1/bookings/{}/cancel", booking["id"]);
    for _ in 0..2 {
        assert_eq!(
            app.post(&path, Some(&token), &json!({})).await.status(),
            200
        );
    }
}

#[tokio::test]
async fn a_flight_with_bookings_cannot_be_deleted() {
    let app = spawn_app().await;
    let catalog = app.catalog().await;
    let flight = bookable_flight(&app, &catalog, "AI108").await;
    let token = app.customer_token().await;
    let (_, booking) = status_and_json(app.book(&token, flight, &["2A"]).await).await;
    app.post(
        &format!("/api/v1/bookings/{}/cancel", booking["id"]),
        Some(&token),
        &json!({}),
    )
    .await;
    assert_problem(
        app.delete(&format!("/api/v1/flights/{flight}"), Some(&catalog.admin))
            .await,
        409,
        "conflict",
    )
    .await;
}
