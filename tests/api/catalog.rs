use serde_json::{json, Value};

use crate::helpers::{assert_problem, days_ahead, flight_body, spawn_app, status_and_json};

#[tokio::test]
async fn cities_can_be_created_read_listed_updated_and_deleted() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let city = app
        .created(
            app.post(
                "/api/v1/cities",
                Some(&admin),
                &json!({"name": "Pune", "country_code": "in"}),
            )
            .await,
        )
        .await;
    assert_eq!(city["country_code"], "IN");
    let id = city["id"].as_i64().expect("id");

    let (status, fetched) =
        status_and_json(app.get(&format!("/api/v1/cities/{id}"), None).await).await;
    assert_eq!((status.as_u16(), &fetched), (200, &city));

    let (_, list) = status_and_json(app.get("/api/v1/cities", None).await).await;
    assert_eq!(
        (
            list["total"].as_i64(),
            list["page"].as_i64(),
            list["per_page"].as_i64()
        ),
        (Some(1), Some(1), Some(20))
    );
    assert_eq!(list["data"][0], city);

    let (status, updated) = status_and_json(
        app.patch(
            &format!("/api/v1/cities/{id}"),
            Some(&admin),
            &json!({"name": "Poona"}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (
            status.as_u16(),
            updated["name"].as_str(),
            updated["country_code"].as_str()
        ),
        (200, Some("Poona"), Some("IN"))
    );

    assert_eq!(
        app.delete(&format!("/api/v1/cities/{id}"), Some(&admin))
            .await
            .status(),
        204
    );
    assert_problem(
        app.get(&format!("/api/v1/cities/{id}"), None).await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.delete(&format!("/api/v1/cities/{id}"), Some(&admin))
            .await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn country_codes_must_be_assigned_iso_codes() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    for code in ["XX", "IND", "", "1"] {
        let body = json!({"name": "Nowhere", "country_code": code});
        assert_problem(
            app.post("/api/v1/cities", Some(&admin), &body).await,
            422,
            "validation_failed",
        )
        .await;
    }
}

#[tokio::test]
async fn airports_keep_codes_upper_case_and_unique() {
    let app = spawn_app().await;
    let catalog = app.catalog().await;
    let admin = &catalog.admin;
    let body = json!({"code": "pnq", "name": "Pune", "city_id": catalog.city_id, "timezone": "Asia/Kolkata"});
    let airport = app
        .created(app.post("/api/v1/airports", Some(admin), &body).await)
        .await;
    assert_eq!(airport["code"], "PNQ");
    assert_eq!(airport["timezone"], "Asia/Kolkata");
    assert_problem(
        app.post("/api/v1/airports", Some(admin), &body).await,
        409,
        "conflict",
    )
    .await;
    let id = airport["id"].as_i64().expect("id");
    let rename = json!({"code": "TAA"});
    assert_problem(
        app.patch(&format!("/api/v1/airports/{id}"), Some(admin), &rename)
            .await,
        409,
        "conflict",
    )
    .await;
    let (status, updated) = status_and_json(
        app.patch(
            &format!("/api/v1/airports/{id}"),
            Some(admin),
            &json!({"name": "Pune Lohegaon"}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status.as_u16(), updated["name"].as_str()),
        (200, Some("Pune Lohegaon"))
    );
    assert_eq!(
        app.delete(&format!("/api/v1/airports/{id}"), Some(admin))
            .await
            .status(),
        204
    );
}

#[tokio::test]
async fn airport_rules_are_422_naming_the_field() {
    let app = spawn_app().await;
    let catalog = app.catalog().await;
    let cases = [
        (
            json!({"code": "P1Q", "name": "X", "city_id": catalog.city_id, "timezone": "Asia/Kolkata"}),
            "code",
        ),
        (
            json!({"code": "PNQ", "name": "X", "city_id": 999_999, "timezone": "Asia/Kolkata"}),
            "city_id",
        ),
        (
            json!({"code": "PNQ", "name": "X", "city_id": catalog.city_id, "timezone": "Mars/Olympus"}),
            "timezone",
        ),
        (
            json!({"code": "PNQ", "name": "", "city_id": catalog.city_id, "timezone": "Asia/Kolkata"}),
            "name",
        ),
    ];
    for (body, field) in cases {
        let problem = assert_problem(
            app.post("/api/v1/airports", Some(&catalog.admin), &body)
                .await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(problem["errors"][0]["field"], field, "case {body}");
    }
}

#[tokio::test]
async fn airplanes_validate_their_cabin() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let good = json!({"model": "ATR 72", "rows": 18, "seat_letters": "AC DF"});
    let airplane = app
        .created(app.post("/api/v1/airplanes", Some(&admin), &good).await)
        .await;
    assert_eq!(
        (
            airplane["seat_count"].as_i64(),
            airplane["business_rows"].as_i64()
        ),
        (Some(72), Some(0))
    );
    let cases = [
        (
            json!({"model": "X", "rows": 0, "seat_letters": "AB"}),
            "rows",
        ),
        (
            json!({"model": "X", "rows": 101, "seat_letters": "AB"}),
            "rows",
        ),
        (
            json!({"model": "X", "rows": 10, "seat_letters": "A  B"}),
            "seat_letters",
        ),
        (
            json!({"model": "X", "rows": 10, "seat_letters": "AA"}),
            "seat_letters",
        ),
        (
            json!({"model": "X", "rows": 10, "seat_letters": "AB", "business_rows": 11}),
            "business_rows",
        ),
        (
            json!({"model": " ", "rows": 10, "seat_letters": "AB"}),
            "model",
        ),
    ];
    for (body, field) in cases {
        let problem = assert_problem(
            app.post("/api/v1/airplanes", Some(&admin), &body).await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(problem["errors"][0]["field"], field, "case {body}");
    }
}

#[tokio::test]
async fn creating_a_flight_creates_its_seat_inventory_in_row_then_letter_order() {
    let app = spawn_app().await;
    let catalog = app.catalog().await;
    let departs = days_ahead(10) + chrono::Duration::hours(6);
    let flight = app
        .create_flight(&catalog, flight_body(&catalog, "ai101", departs, 450_000))
        .await;
    assert_eq!(flight["flight_number"], "AI101");
    assert_eq!(flight["departure_airport"], "TAA");
    assert_eq!(flight["duration_minutes"], 130);
    assert_eq!(flight["seats_available"], 12);
    assert_eq!(
        flight["departure_time"],
        departs.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    );

    let id = flight["id"].as_i64().expect("id");
    let (status, map) =
        status_and_json(app.get(&format!("/api/v1/flights/{id}/seats"), None).await).await;
    assert_eq!(status, 200);
    assert_eq!(map["flight_id"], id);
    let seats: Vec<&str> = map["seats"]
        .as_array()
        .expect("seats")
        .iter()
        .filter_map(|s| s["seat"].as_str())
        .collect();
    assert_eq!(
        seats,
        ["1A", "1B", "1C", "1D", "2A", "2B", "2C", "2D", "3A", "3B", "3C", "3D"]
    );
    assert_eq!(
        map["seats"][0],
        json!({"seat": "1A", "class": "business", "price": 1_350_000, "available": true})
    );
    assert_eq!(map["seats"][4]["class"], "economy");
    assert_eq!(map["seats"][4]["price"], 450_000);
    assert_problem(
        app.get("/api/v1/flights/999999/seats", None).await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn flight_rules_are_422_naming_the_field() {
    let app = spawn_app().await;
    let catalog = app.catalog().await;
    let departs = days_ahead(5);
    let base = flight_body(&catalog, "AI202", departs, 300_000);
    let with = |key: &str, value: Value| {
        let mut body = base.clone();
        body[key] = value;
        body
    };
    let cases = [
        (
            with("arrival_time", json!(departs.to_rfc3339())),
            "arrival_time",
        ),
        (
            with(
                "arrival_time",
                json!((departs - chrono::Duration::hours(1)).to_rfc3339()),
            ),
            "arrival_time",
        ),
        (with("arrival_airport", json!("TAA")), "arrival_airport"),
        (with("departure_airport", json!("ZZZ")), "departure_airport"),
        (with("airplane_id", json!(999_999)), "airplane_id"),
        (with("departure_time", json!("tomorrow")), "departure_time"),
        (
            with(
                "departure_time",
                json!((chrono::Utc::now() - chrono::Duration::days(1)).to_rfc3339()),
            ),
            "departure_time",
        ),
        (with("flight_number", json!("A-1")), "flight_number"),
        (
            with("departure_time", json!("2150-01-01T00:00:00Z")),
            "departure_time",
        ),
        (with("currency", json!("XYZ")), "currency"),
        (with("price_economy", json!(-5)), "price_economy"),
    ];
    for (body, field) in cases {
        let response = app
            .post("/api/v1/flights", Some(&catalog.admin), &body)
            .await;
        let problem = assert_problem(response, 422, "validation_failed").await;
        let fields: Vec<&str> = problem["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .filter_map(|e| e["field"].as_str())
            .collect();
        assert!(fields.contains(&field), "case {field}: {problem}");
    }
    // The control: the unmodified body is valid, and a second copy is a duplicate.
    app.create_flight(&catalog, base.clone()).await;
    assert_problem(
        app.post("/api/v1/flights", Some(&catalog.admin), &base)
            .await,
        409,
        "conflict",
    )
    .await;
}

#[tokio::test]
async fn flights_can_be_updated_and_deleted() {
    let app = spawn_app().await;
    let catalog = app.catalog().await;
    let flight = app
        .create_flight(
            &catalog,
            flight_body(&catalog, "AI303", days_ahead(3), 300_000),
        )
        .await;
    let id = flight["id"].as_i64().expect("id");
    let path = format!("/api/v1/flights/{id}");
    let (status, updated) = status_and_json(
        app.patch(
            &path,
            Some(&catalog.admin),
            &json!({"price_economy": 199_900, "arrival_airport": "TNY"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(
        (
            updated["price_economy"].as_i64(),
            updated["arrival_airport"].as_str()
        ),
        (Some(199_900), Some("TNY"))
    );
    let (_, fetched) = status_and_json(app.get(&path, None).await).await;
    assert_eq!(fetched, updated);
    let same_airports = json!({"arrival_airport": "TAA"});
    assert_problem(
        app.patch(&path, Some(&catalog.admin), &same_airports).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(app.delete(&path, Some(&catalog.admin)).await.status(), 204);
    assert_problem(app.get(&path, None).await, 404, "not_found").await;
}

#[tokio::test]
async fn deleting_what_is_still_referenced_is_409() {
    let app = spawn_app().await;
    let catalog = app.catalog().await;
    let admin = &catalog.admin;
    app.create_flight(
        &catalog,
        flight_body(&catalog, "AI404", days_ahead(3), 300_000),
    )
    .await;
    assert_problem(
        app.delete(&format!("/api/v1/cities/{}", catalog.city_id), Some(admin))
            .await,
        409,
        "conflict",
    )
    .await;
    assert_problem(
        app.delete(
            &format!("/api/v1/airplanes/{}", catalog.airplane_id),
            Some(admin),
        )
        .await,
        409,
        "conflict",
    )
    .await;
    let (_, airports) = status_and_json(app.get("/api/v1/airports", None).await).await;
    let taa = airports["data"]
        .as_array()
        .expect("data")
        .iter()
        .find(|a| a["code"] == "TAA")
        .expect("TAA")["id"]
        .clone();
    assert_problem(
        app.delete(&format!("/api/v1/airports/{taa}"), Some(admin))
            .await,
        409,
        "conflict",
    )
    .await;
    let cabin = json!({"rows": 10});
    assert_problem(
        app.patch(
            &format!("/api/v1/airplanes/{}", catalog.airplane_id),
            Some(admin),
            &cabin,
        )
        .await,
        409,
        "conflict",
    )
    .await;
    let rename = json!({"model": "Renamed 320"});
    assert_eq!(
        app.patch(
            &format!("/api/v1/airplanes/{}", catalog.airplane_id),
            Some(admin),
            &rename
        )
        .await
        .status(),
        200
    );
}
