use chrono::{Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde_json::{json, Value};

use crate::helpers::{
    assert_problem, days_ahead, flight_body, spawn_app, status_and_json, Catalog, TestApp,
};

async fn search(app: &TestApp, query: &str) -> Value {
    let (status, body) =
        status_and_json(app.get(&format!("/api/v1/flights?{query}"), None).await).await;
    assert_eq!(status, 200, "search {query}: {body}");
    body
}

fn numbers(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|f| f["flight_number"].as_str().expect("number").to_string())
        .collect()
}

fn local(tz: Tz, date: NaiveDate, hh: u32, mm: u32) -> chrono::DateTime<Utc> {
    tz.from_local_datetime(&date.and_hms_opt(hh, mm, 0).expect("time"))
        .single()
        .expect("unambiguous")
        .with_timezone(&Utc)
}

async fn flight_between(
    app: &TestApp,
    catalog: &Catalog,
    number: &str,
    from: &str,
    to: &str,
    departs: chrono::DateTime<Utc>,
) -> Value {
    let mut body = flight_body(catalog, number, departs, 300_000);
    body["departure_airport"] = json!(from);
    body["arrival_airport"] = json!(to);
    app.create_flight(catalog, body).await
}

#[tokio::test]
async fn the_date_is_the_local_departure_date_even_when_utc_has_moved_on() {
    let app = spawn_app().await;
    let catalog = app.catalog().await;
    let date = days_ahead(20).date_naive();
    let next = date + Duration::days(1);
    let previous = date - Duration::days(1);

    // 23:30 in New York is already the next day in UTC.
    let late = local(chrono_tz::America::New_York, date, 23, 30);
    assert_eq!(late.date_naive(), next, "the premise: UTC has moved on");
    flight_between(&app, &catalog, "NY2330", "TNY", "TAA", late).await;
    assert_eq!(
        numbers(&search(&app, &format!("from=TNY&to=TAA&date={date}")).await),
        ["NY2330"]
    );
    assert!(numbers(&search(&app, &format!("from=TNY&to=TAA&date={next}")).await).is_empty());

    // 00:30 in Kolkata is still the previous day in UTC.
    let early = local(chrono_tz::Asia::Kolkata, date, 0, 30);
    assert_eq!(
        early.date_naive(),
        previous,
        "the premise: UTC is a day behind"
    );
    flight_between(&app, &catalog, "AI30", "TAA", "TNY", early).await;
    assert_eq!(
        numbers(&search(&app, &format!("from=TAA&to=TNY&date={date}")).await),
        ["AI30"]
    );
    assert!(numbers(&search(&app, &format!("from=TAA&to=TNY&date={previous}")).await).is_empty());
}

#[tokio::test]
async fn an_airport_s_time_zone_is_fixed_while_flights_to_come_use_it() {
    let app = spawn_app().await;
    let catalog = app.catalog().await;
    let date = days_ahead(20).date_naive();
    let departs = local(chrono_tz::Asia::Kolkata, date, 0, 30);
    let flight = flight_between(&app, &catalog, "AI31", "TAA", "TBB", departs).await;
    let (_, airports) = status_and_json(app.get("/api/v1/airports", None).await).await;
    let taa = airports["data"]
        .as_array()
        .expect("data")
        .iter()
        .find(|a| a["code"] == "TAA")
        .expect("TAA")["id"]
        .clone();
    let path = format!("/api/v1/airports/{taa}");
    // Every local time its travellers were shown would move (API.md §7).
    assert_problem(
        app.patch(&path, Some(&catalog.admin), &json!({"timezone": "UTC"}))
            .await,
        409,
        "conflict",
    )
    .await;
    assert_eq!(
        numbers(&search(&app, &format!("from=TAA&to=TBB&date={date}")).await),
        ["AI31"]
    );
    // Once no flight to come uses it, the zone may change.
    let cancelled = app
        .post(
            &format!("/api/v1/flights/{}/cancel", flight["id"]),
            Some(&catalog.admin),
            &json!({"reason": "Route closed"}),
        )
        .await;
    assert_eq!(cancelled.status(), 200);
    assert_eq!(
        app.patch(&path, Some(&catalog.admin), &json!({"timezone": "UTC"}))
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn results_filter_by_price_and_seats_and_sort() {
    let app = spawn_app().await;
    let catalog = app.catalog().await;
    let day = days_ahead(7);
    let date = local(chrono_tz::Asia::Kolkata, day.date_naive(), 12, 0).date_naive();
    for (number, hour, price) in [
        ("AI1", 8, 300_000),
        ("AI2", 10, 100_000),
        ("AI3", 12, 200_000),
    ] {
        let departs = local(chrono_tz::Asia::Kolkata, date, hour, 0);
        app.create_flight(&catalog, flight_body(&catalog, number, departs, price))
            .await;
    }
    let route = format!("from=taa&to=TBB&date={date}");
    assert_eq!(
        numbers(&search(&app, &route).await),
        ["AI1", "AI2", "AI3"],
        "default: departure time"
    );
    assert_eq!(
        numbers(&search(&app, &format!("{route}&sort=-departure_time")).await),
        ["AI3", "AI2", "AI1"]
    );
    assert_eq!(
        numbers(&search(&app, &format!("{route}&sort=price")).await),
        ["AI2", "AI3", "AI1"]
    );
    assert_eq!(
        numbers(&search(&app, &format!("{route}&sort=-price")).await),
        ["AI1", "AI3", "AI2"]
    );
    assert_eq!(
        numbers(
            &search(
                &app,
                &format!("{route}&min_price=200000&max_price=300000&sort=price")
            )
            .await
        ),
        ["AI3", "AI1"],
        "bounds are inclusive"
    );
    assert_eq!(
        numbers(&search(&app, &format!("{route}&max_price=99999")).await),
        Vec::<String>::new()
    );

    let first = &search(&app, &route).await["data"][0];
    for key in [
        "id",
        "flight_number",
        "departure_airport",
        "arrival_airport",
        "departure_time",
        "arrival_time",
        "duration_minutes",
        "price_economy",
        "price_business",
        "currency",
        "seats_available",
    ] {
        assert!(first.get(key).is_some(), "search items carry {key}");
    }
    assert_eq!(first["seats_available"], 12);
    assert_eq!(
        numbers(&search(&app, &format!("{route}&passengers=9")).await).len(),
        3
    );
}

#[tokio::test]
async fn passengers_keeps_only_flights_with_enough_free_seats() {
    let app = spawn_app().await;
    let catalog = app.catalog().await;
    let tiny = json!({"model": "Two seater", "rows": 1, "seat_letters": "AB"});
    let tiny_id = app
        .created(
            app.post("/api/v1/airplanes", Some(&catalog.admin), &tiny)
                .await,
        )
        .await["id"]
        .clone();
    let departs = days_ahead(4) + Duration::hours(6);
    let mut body = flight_body(&catalog, "AI2", departs, 100_000);
    body["airplane_id"] = tiny_id;
    app.create_flight(&catalog, body).await;
    app.create_flight(
        &catalog,
        flight_body(&catalog, "AI12", departs + Duration::hours(1), 100_000),
    )
    .await;
    let date = local(chrono_tz::Asia::Kolkata, departs.date_naive(), 12, 0).date_naive();
    let date = if departs
        .with_timezone(&chrono_tz::Asia::Kolkata)
        .date_naive()
        == date
    {
        date
    } else {
        departs.date_naive()
    };
    let route = format!("from=TAA&to=TBB&date={date}");
    assert_eq!(
        numbers(&search(&app, &format!("{route}&passengers=2")).await),
        ["AI2", "AI12"]
    );
    assert_eq!(
        numbers(&search(&app, &format!("{route}&passengers=3")).await),
        ["AI12"]
    );
}

#[tokio::test]
async fn pages_are_bounded_and_do_not_overlap() {
    let app = spawn_app().await;
    let catalog = app.catalog().await;
    for n in 0..5 {
        app.create_flight(
            &catalog,
            flight_body(
                &catalog,
                &format!("AI5{n}"),
                days_ahead(3) + Duration::hours(n),
                100_000,
            ),
        )
        .await;
    }
    let page1 = search(&app, "per_page=2&page=1").await;
    let page2 = search(&app, "per_page=2&page=2").await;
    let page3 = search(&app, "per_page=2&page=3").await;
    assert_eq!(
        (
            page1["total"].as_i64(),
            page1["per_page"].as_i64(),
            page2["page"].as_i64()
        ),
        (Some(5), Some(2), Some(2))
    );
    let mut all = numbers(&page1);
    all.extend(numbers(&page2));
    all.extend(numbers(&page3));
    assert_eq!(all, ["AI50", "AI51", "AI52", "AI53", "AI54"]);
    assert!(
        numbers(&search(&app, "per_page=2&page=4").await).is_empty(),
        "past the end is an empty page"
    );
    assert_eq!(
        search(&app, "per_page=100").await["data"]
            .as_array()
            .map(Vec::len),
        Some(5)
    );
}

#[tokio::test]
async fn bad_search_parameters_are_422_naming_the_field() {
    let app = spawn_app().await;
    let cases = [
        ("page=0", "page"),
        ("page=-1", "page"),
        ("page=abc", "page"),
        ("per_page=0", "per_page"),
        ("per_page=101", "per_page"),
        ("from=D1L", "from"),
        ("to=TOOLONG", "to"),
        ("date=2026-13-01", "date"),
        ("date=tomorrow", "date"),
        ("passengers=0", "passengers"),
        ("passengers=10", "passengers"),
        ("passengers=two", "passengers"),
        ("min_price=-1", "min_price"),
        ("max_price=1.5", "max_price"),
        ("min_price=500&max_price=100", "max_price"),
        ("sort=cheapest", "sort"),
    ];
    for (query, field) in cases {
        let problem = assert_problem(
            app.get(&format!("/api/v1/flights?{query}"), None).await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(problem["errors"][0]["field"], field, "case {query}");
    }
    for path in [
        "/api/v1/cities?page=0",
        "/api/v1/airports?per_page=1000",
        "/api/v1/airplanes?page=x",
    ] {
        assert_problem(app.get(path, None).await, 422, "validation_failed").await;
    }
}

#[tokio::test]
async fn search_is_one_index_range_on_route_and_local_date() {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    use skybook::models::catalog::IataCode;
    use skybook::services::catalog::search::{statements, FlightSearch};
    let app = spawn_app().await;
    if app.db.writer.get_database_backend() != DbBackend::Sqlite {
        // The plan below is SQLite's wording; the indexes are the same on every backend.
        return;
    }
    let query = FlightSearch {
        from: Some(IataCode::parse("DEL").expect("code")),
        to: Some(IataCode::parse("BOM").expect("code")),
        date: Some(days_ahead(3).date_naive()),
        passengers: Some(2),
        ..FlightSearch::default()
    };
    let (rows, count) = statements(&query, DbBackend::Sqlite);
    for statement in [rows, count] {
        let built = DbBackend::Sqlite.build(&statement);
        let explain = Statement::from_sql_and_values(
            DbBackend::Sqlite,
            format!("EXPLAIN QUERY PLAN {}", built.sql),
            built.values.map(|v| v.0).unwrap_or_default(),
        );
        let plan: Vec<String> = app
            .db
            .reader
            .query_all(explain)
            .await
            .expect("plan")
            .iter()
            .map(|row| row.try_get::<String>("", "detail").expect("detail"))
            .collect();
        let plan = plan.join("\n");
        assert!(plan.contains("USING INDEX ix_flights_search (departure_airport_id=? AND arrival_airport_id=? AND departure_local_date=?)"), "{plan}");
        assert!(
            plan.contains("ix_flight_seats_expired_holds"),
            "lapsed holds are counted from their index: {plan}"
        );
        assert!(!plan.contains("SCAN f"), "no scan of flights: {plan}");
    }
}
