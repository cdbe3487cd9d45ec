//! Concurrency: many truly concurrent requests (released together by a barrier) and exact
//! counts of what happened. The negative control turns the seat guard off to prove these
//! tests can see a double sale at all.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::Value;
use tokio::sync::Barrier;

use crate::helpers::{bookable_flight, spawn_app_with, status_and_json, TestApp};

/// Sends every request at once and returns (status, body) in request order.
async fn all_at_once<F, Fut>(count: usize, make: F) -> Vec<(u16, Value)>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = reqwest::Response> + Send + 'static,
{
    let barrier = Arc::new(Barrier::new(count));
    let mut tasks = Vec::with_capacity(count);
    for i in 0..count {
        let barrier = barrier.clone();
        let request = make(i);
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let (status, body) = status_and_json(request.await).await;
            (status.as_u16(), body)
        }));
    }
    let mut results = Vec::with_capacity(count);
    for task in tasks {
        results.push(task.await.expect("task"));
    }
    results
}

fn count(results: &[(u16, Value)], status: u16, code: Option<&str>) -> usize {
    results
        .iter()
        .filter(|(s, body)| *s == status && code.is_none_or(|c| body["code"] == c))
        .count()
}

fn no_server_errors(results: &[(u16, Value)]) {
    let errors: Vec<&(u16, Value)> = results.iter().filter(|(s, _)| *s >= 500).collect();
    assert!(errors.is_empty(), "server errors: {errors:?}");
}

async fn tokens(app: &TestApp, n: usize) -> Vec<String> {
    let mut tokens = Vec::with_capacity(n);
    for _ in 0..n {
        tokens.push(app.customer_token().await);
    }
    tokens
}

async fn race_for_one_seat(app: &TestApp) -> Vec<(u16, Value)> {
    let catalog = app.catalog().await;
    let flight = bookable_flight(app, &catalog, "AI300").await;
    let tokens = Arc::new(tokens(app, 10).await);
    let client = app.client.clone();
    let url = app.url("/api/v1/bookings");
    all_at_once(200, |i| {
        let request = client
            .post(&url)
            .bearer_auth(&tokens[i % tokens.len()])
            .json(&serde_json::json!({"flight_id": flight, "seats": ["2A"], "passengers": [{"name": format!("P{i}")}]}));
        async move { request.send().await.expect("sent") }
    })
    .await
}

#[tokio::test]
async fn two_hundred_requests_for_one_seat_sell_it_exactly_once() {
    let app = spawn_app_with(|s| s.max_pending_bookings = 1000).await;
    let results = race_for_one_seat(&app).await;
    no_server_errors(&results);
    assert_eq!(count(&results, 201, None), 1, "exactly one winner");
    assert_eq!(count(&results, 409, Some("seat_unavailable")), 199);
    let refused = results.iter().find(|(s, _)| *s == 409).expect("a refusal");
    assert_eq!(refused.1["seats"], serde_json::json!(["2A"]));
}

#[tokio::test]
async fn without_the_seat_guard_the_same_race_double_sells() {
    // The negative control: the test above would notice a broken guard.
    let app = spawn_app_with(|s| {
        s.max_pending_bookings = 1000;
        s.faults.disable_seat_guard = true;
    })
    .await;
    let results = race_for_one_seat(&app).await;
    let sold = count(&results, 201, None);
    assert!(
        sold > 1,
        "with the guard off the seat was sold {sold} times"
    );
}

/// Twenty requests for seat 2A that all read it free: the flight's row is held in a
/// transaction of the test's (on SQLite, the one writer is), so every request passes its read
/// and queues for its write; then the flight is let go.
async fn race_past_the_read(app: &TestApp) -> Vec<(u16, Value)> {
    use sea_orm::{ConnectionTrait, Statement, TransactionTrait};
    let catalog = app.catalog().await;
    let flight = bookable_flight(app, &catalog, "AI302").await;
    let tokens = Arc::new(tokens(app, 4).await);
    let holding = app.db.writer.begin().await.expect("begin");
    let backend = holding.get_database_backend();
    holding
        .execute(Statement::from_string(
            backend,
            format!("UPDATE flights SET seats_available = seats_available WHERE id = {flight}"),
        ))
        .await
        .expect("the flight held");
    let client = app.client.clone();
    let url = app.url("/api/v1/bookings");
    let racing = tokio::spawn(all_at_once(20, move |i| {
        let request = client
            .post(&url)
            .bearer_auth(&tokens[i % tokens.len()])
            .json(&serde_json::json!({"flight_id": flight, "seats": ["2A"], "passengers": [{"name": format!("P{i}")}]}));
        async move { request.send().await.expect("sent") }
    }));
    // Time for every request to read the seat free and queue (a request still reading when
    // the flight is let go is refused by its read: it only makes the race smaller).
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    holding.commit().await.expect("let go");
    racing.await.expect("race")
}

#[tokio::test]
async fn requests_that_all_read_the_seat_free_still_sell_it_once() {
    let app = spawn_app_with(|s| s.max_pending_bookings = 1000).await;
    let results = race_past_the_read(&app).await;
    no_server_errors(&results);
    assert_eq!(count(&results, 201, None), 1, "exactly one winner");
    assert_eq!(count(&results, 409, Some("seat_unavailable")), 19);
}

#[tokio::test]
async fn without_the_plan_s_seats_check_the_same_race_sells_the_seat_again() {
    // The negative control of the booking plan's `seats` check: the conditional write alone
    // takes nothing for the losers, but without the check their bookings are kept anyway.
    let app = spawn_app_with(|s| {
        s.max_pending_bookings = 1000;
        s.faults.unchecked = Some("seats");
    })
    .await;
    let results = race_past_the_read(&app).await;
    let sold = count(&results, 201, None);
    assert!(sold > 1, "without the check the seat was sold {sold} times");
}

#[tokio::test]
async fn overlapping_multi_seat_requests_never_both_win() {
    let app = spawn_app_with(|s| s.max_pending_bookings = 1000).await;
    let catalog = app.catalog().await;
    let flight = bookable_flight(&app, &catalog, "AI301").await;
    let tokens = Arc::new(tokens(&app, 5).await);
    let letters = ['A', 'B', 'C', 'D'];
    // Pairs of seats that overlap each other in many ways.
    let pairs: Vec<[String; 2]> = (0..60)
        .map(|i| {
            let row = 2 + (i % 2);
            let first = letters[i % 4];
            let second = letters[(i / 4 + i + 1) % 4];
            let second = if second == first {
                letters[(i + 2) % 4]
            } else {
                second
            };
            [format!("{row}{first}"), format!("{row}{second}")]
        })
        .collect();
    let pairs = Arc::new(pairs);
    let client = app.client.clone();
    let url = app.url("/api/v1/bookings");
    let results = all_at_once(pairs.len(), |i| {
        let body = serde_json::json!({"flight_id": flight, "seats": pairs[i], "passengers": [{"name": "A"}, {"name": "B"}]});
        let request = client.post(&url).bearer_auth(&tokens[i % tokens.len()]).json(&body);
        async move { request.send().await.expect("sent") }
    })
    .await;
    no_server_errors(&results);
    let mut sold = HashSet::new();
    for (status, body) in &results {
        match status {
            201 => {
                for seat in body["seats"].as_array().expect("seats") {
                    let seat = seat["seat"].as_str().expect("seat").to_string();
                    assert!(sold.insert(seat.clone()), "seat {seat} sold twice");
                }
            }
            409 => assert_eq!(body["code"], "seat_unavailable"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(count(&results, 201, None) * 2, sold.len());
    let held: HashSet<String> = app
        .seat_map(flight)
        .await
        .into_iter()
        .filter(|(_, free)| !free)
        .map(|(s, _)| s)
        .collect();
    assert_eq!(held, sold, "the seat map shows exactly the sold seats");
    assert_eq!(app.seats_available(flight).await, 12 - sold.len() as i64);
}

#[tokio::test]
async fn assigned_seats_on_a_small_plane_are_handed_out_once() {
    let app = spawn_app_with(|s| s.max_pending_bookings = 1000).await;
    let catalog = app.catalog().await;
    let flight = bookable_flight(&app, &catalog, "AI302").await;
    let tokens = Arc::new(tokens(&app, 5).await);
    let client = app.client.clone();
    let url = app.url("/api/v1/bookings");
    let results = all_at_once(40, |i| {
        let body =
            serde_json::json!({"flight_id": flight, "passengers": [{"name": format!("P{i}")}]});
        let request = client
            .post(&url)
            .bearer_auth(&tokens[i % tokens.len()])
            .json(&body);
        async move { request.send().await.expect("sent") }
    })
    .await;
    no_server_errors(&results);
    assert_eq!(
        count(&results, 201, None),
        12,
        "every seat of the 12-seat plane, once"
    );
    assert_eq!(count(&results, 409, Some("seat_unavailable")), 28);
    let seats: Vec<String> = results
        .iter()
        .filter(|(s, _)| *s == 201)
        .map(|(_, b)| b["seats"][0]["seat"].as_str().expect("seat").to_string())
        .collect();
    assert_eq!(
        seats.iter().collect::<HashSet<_>>().len(),
        12,
        "no seat twice: {seats:?}"
    );
    assert_eq!(app.seats_available(flight).await, 0);
}

async fn one_booking(app: &TestApp) -> (String, Value) {
    let catalog = app.catalog().await;
    let flight = bookable_flight(app, &catalog, "AI310").await;
    let token = app.customer_token().await;
    let (status, booking) = status_and_json(app.book(&token, flight, &["2A", "2B"]).await).await;
    assert_eq!(status, 201, "{booking}");
    (token, booking)
}

#[tokio::test]
async fn thirty_concurrent_payments_with_different_keys_charge_once() {
    let app = spawn_app_with(|_| {}).await;
    let (token, booking) = one_booking(&app).await;
    let app = Arc::new(app);
    let results = all_at_once(30, |i| {
        let app = app.clone();
        let token = token.clone();
        let booking = booking.clone();
        async move {
            app.pay(&token, &booking, &format!("key-{i}"), "pm_card_ok")
                .await
        }
    })
    .await;
    no_server_errors(&results);
    assert_eq!(count(&results, 201, None), 1, "{results:?}");
    assert_eq!(
        count(&results, 409, None),
        29,
        "the rest see it paid or being paid: {results:?}"
    );
    assert_eq!(app.sandbox_ledger().await, (1, 0), "exactly one charge");
    let id = booking["id"].as_i64().expect("id");
    assert_eq!(app.booking(&token, id).await["status"], "confirmed");
}

#[tokio::test]
async fn twenty_concurrent_payments_with_one_key_charge_once() {
    let app = spawn_app_with(|_| {}).await;
    let (token, booking) = one_booking(&app).await;
    let app = Arc::new(app);
    let results = all_at_once(20, |_| {
        let app = app.clone();
        let token = token.clone();
        let booking = booking.clone();
        async move { app.pay(&token, &booking, "the-one-key", "pm_card_ok").await }
    })
    .await;
    no_server_errors(&results);
    let created = count(&results, 201, None);
    let in_progress = count(&results, 409, Some("idempotency_request_in_progress"));
    assert!(created >= 1, "{results:?}");
    assert_eq!(
        created + in_progress,
        20,
        "only replays and in-progress answers: {results:?}"
    );
    let first = results.iter().find(|(s, _)| *s == 201).expect("a success");
    assert!(
        results
            .iter()
            .filter(|(s, _)| *s == 201)
            .all(|r| r.1 == first.1),
        "replays equal the original"
    );
    assert_eq!(app.sandbox_ledger().await, (1, 0), "exactly one charge");
}

#[tokio::test]
async fn a_payment_racing_the_expiry_either_confirms_or_is_refused_never_both() {
    let app = spawn_app_with(|s| {
        s.hold_ttl_seconds = 2;
        s.max_pending_bookings = 1000;
        s.sweep_interval_seconds = 1;
    })
    .await;
    let catalog = app.catalog().await;
    let flight = bookable_flight(&app, &catalog, "AI320").await;
    let token = app.customer_token().await;
    let mut bookings = Vec::new();
    for seat in ["2A", "2B", "2C", "2D", "3A", "3B", "3C", "3D"] {
        let (_, booking) = status_and_json(app.book(&token, flight, &[seat]).await).await;
        bookings.push(booking);
    }
    let app = Arc::new(app);
    let mut tasks = Vec::new();
    for (i, booking) in bookings.iter().enumerate() {
        let expires: chrono::DateTime<chrono::Utc> = booking["expires_at"]
            .as_str()
            .expect("expires")
            .parse()
            .expect("time");
        // From 200 ms before to 150 ms after the expiry.
        let at = expires - chrono::Duration::milliseconds(200)
            + chrono::Duration::milliseconds(50 * i as i64);
        let (app, token, booking) = (app.clone(), token.clone(), booking.clone());
        tasks.push(tokio::spawn(async move {
            let wait = (at - chrono::Utc::now()).to_std().unwrap_or_default();
            tokio::time::sleep(wait).await;
            let (status, body) = status_and_json(
                app.pay(&token, &booking, &format!("race-{i}"), "pm_card_ok")
                    .await,
            )
            .await;
            (booking["id"].as_i64().expect("id"), status.as_u16(), body)
        }));
    }
    let mut outcomes: HashMap<i64, u16> = HashMap::new();
    for task in tasks {
        let (id, status, body) = task.await.expect("task");
        assert!(
            status == 201 || (status == 409 && body["code"] == "booking_not_payable"),
            "booking {id}: {status} {body}"
        );
        outcomes.insert(id, status);
    }
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let mut paid = 0;
    for (id, status) in &outcomes {
        let booking = app.booking(&token, *id).await;
        let expected = if *status == 201 {
            "confirmed"
        } else {
            "expired"
        };
        assert_eq!(booking["status"], expected, "booking {id} after a {status}");
        paid += usize::from(*status == 201);
    }
    assert_eq!(
        app.sandbox_ledger().await,
        (paid, 0),
        "charged exactly the confirmed bookings"
    );
}

#[tokio::test]
async fn the_pending_cap_holds_under_concurrent_bookings() {
    let app = spawn_app_with(|s| s.max_pending_bookings = 2).await;
    let catalog = app.catalog().await;
    let flight = bookable_flight(&app, &catalog, "AI330").await;
    let token = app.customer_token().await;
    let seats = ["2A", "2B", "2C", "2D", "3A", "3B", "3C", "3D"];
    let client = app.client.clone();
    let url = app.url("/api/v1/bookings");
    let results = all_at_once(seats.len(), |i| {
        let body = serde_json::json!({"flight_id": flight, "seats": [seats[i]], "passengers": [{"name": "P"}]});
        let request = client.post(&url).bearer_auth(&token).json(&body);
        async move { request.send().await.expect("sent") }
    })
    .await;
    no_server_errors(&results);
    assert_eq!(count(&results, 201, None), 2, "{results:?}");
    assert_eq!(count(&results, 409, Some("conflict")), 6, "{results:?}");
    assert_eq!(
        app.seats_available(flight).await,
        10,
        "refused bookings held nothing"
    );
}

/// The flight's `seats_available` and `holds_lapse_at` against its seat rows.
async fn assert_summaries_match_the_seats(app: &TestApp, flight_id: i64, when: &str) {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    use skybook::models::catalog::{flight, flight_seat};
    let stored = flight::Entity::find_by_id(flight_id as i32)
        .one(&app.db.writer)
        .await
        .expect("query")
        .expect("flight");
    let seats = flight_seat::Entity::find()
        .filter(flight_seat::Column::FlightId.eq(flight_id as i32))
        .all(&app.db.writer)
        .await
        .expect("seats");
    let available = seats
        .iter()
        .filter(|s| s.status == flight_seat::STATUS_AVAILABLE)
        .count() as i32;
    let earliest_hold = seats
        .iter()
        .filter(|s| s.status == flight_seat::STATUS_HELD)
        .filter_map(|s| s.held_until)
        .min();
    assert_eq!(stored.seats_available, available, "seats_available {when}");
    assert_eq!(
        stored.holds_lapse_at, earliest_hold,
        "holds_lapse_at {when}"
    );
}

#[tokio::test]
async fn the_flights_seat_counter_matches_its_seats_after_concurrent_bookings_cancels_payments_and_expiry(
) {
    let app = spawn_app_with(|s| {
        s.max_pending_bookings = 1000;
        s.hold_ttl_seconds = 3;
        s.sweep_interval_seconds = 1;
    })
    .await;
    let catalog = app.catalog().await;
    let flight = bookable_flight(&app, &catalog, "AI340").await;
    let tokens = Arc::new(tokens(&app, 4).await);
    let client = app.client.clone();
    let url = app.url("/api/v1/bookings");

    // More requests than the 12 seats, some for two seats, all at once.
    let created = all_at_once(16, |i| {
        let body = serde_json::json!({"flight_id": flight, "passengers": crate::helpers::passengers(1 + i % 2)});
        let request = client.post(&url).bearer_auth(&tokens[i % tokens.len()]).json(&body);
        async move { request.send().await.expect("sent") }
    })
    .await;
    no_server_errors(&created);
    assert!(count(&created, 201, None) > 0, "{created:?}");
    assert_summaries_match_the_seats(&app, flight, "after concurrent bookings").await;

    // Then, at once: cancel a third, pay a third, leave the rest to expire.
    let bookings: Vec<(usize, Value)> = created
        .into_iter()
        .enumerate()
        .filter(|(_, (status, _))| *status == 201)
        .map(|(i, (_, body))| (i, body))
        .collect();
    let app = Arc::new(app);
    let mut tasks = Vec::new();
    for (i, booking) in bookings.iter().cloned() {
        let (app, token) = (app.clone(), tokens[i % tokens.len()].clone());
        tasks.push(tokio::spawn(async move {
            let id = booking["id"].as_i64().expect("id");
            let status = match i % 3 {
                0 => app
                    .post(
                        &format!("/api/v1/bookings/{id}/cancel"),
                        Some(&token),
                        &serde_json::json!({}),
                    )
                    .await
                    .status()
                    .as_u16(),
                1 => app
                    .pay(&token, &booking, &format!("counter-{id}"), "pm_card_ok")
                    .await
                    .status()
                    .as_u16(),
                _ => 200,
            };
            assert!(status < 500, "booking {id}: {status}");
        }));
    }
    for task in tasks {
        task.await.expect("task");
    }
    assert_summaries_match_the_seats(&app, flight, "after cancels and payments").await;

    // The unpaid holds run out and the sweeper frees them.
    tokio::time::sleep(std::time::Duration::from_secs(6)).await;
    assert_summaries_match_the_seats(&app, flight, "after expiry").await;
    let paid = bookings.iter().filter(|(i, _)| i % 3 == 1).count();
    assert!(
        app.seats_available(flight).await <= 12 - paid as i64,
        "paid seats stay taken"
    );
}

#[tokio::test]
async fn forty_customers_booking_and_paying_at_once_all_get_their_seat_and_one_charge() {
    let app = spawn_app_with(|_| {}).await;
    let catalog = app.catalog().await;
    // Forty seats: rows 1-10 of "AB CD".
    let airplane = app
        .created(
            app.post(
                "/api/v1/airplanes",
                Some(&catalog.admin),
                &serde_json::json!({"model": "Test 40", "rows": 10, "seat_letters": "AB CD", "business_rows": 1}),
            )
            .await,
        )
        .await;
    let mut body = crate::helpers::flight_body(
        &catalog,
        "AI350",
        crate::helpers::days_ahead(10) + chrono::Duration::hours(6),
        100_000,
    );
    body["airplane_id"] = airplane["id"].clone();
    let flight = app.create_flight(&catalog, body).await["id"]
        .as_i64()
        .expect("id");
    let seats: Vec<String> = (1..=10)
        .flat_map(|row| ['A', 'B', 'C', 'D'].map(|letter| format!("{row}{letter}")))
        .collect();
    let tokens = tokens(&app, seats.len()).await;
    let groups_before = app.db.batch_groups_committed();
    let kept_before = app.db.batches_kept();
    let app = Arc::new(app);

    // Each customer books a seat of their own, then pays for it at once.
    let barrier = Arc::new(Barrier::new(seats.len()));
    let mut tasks = Vec::new();
    for (seat, token) in seats.iter().cloned().zip(tokens.clone()) {
        let (app, barrier) = (app.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let (status, booking) =
                status_and_json(app.book(&token, flight, &[seat.as_str()]).await).await;
            assert_eq!(status, 201, "booking {seat}: {booking}");
            let (status, paid) = status_and_json(
                app.pay(&token, &booking, &format!("pay-{seat}"), "pm_card_ok")
                    .await,
            )
            .await;
            assert_eq!(status, 201, "payment for {seat}: {paid}");
            (token, booking)
        }));
    }
    let mut paid = Vec::new();
    for task in tasks {
        paid.push(task.await.expect("task"));
    }

    assert_eq!(
        app.sandbox_ledger().await,
        (seats.len(), 0),
        "one charge each"
    );
    let mut booked = HashSet::new();
    for (token, booking) in &paid {
        let id = booking["id"].as_i64().expect("id");
        let stored = app.booking(token, id).await;
        assert_eq!(stored["status"], "confirmed", "{stored}");
        assert_eq!(
            confirmation_emails_of(&app, id).await,
            1,
            "one confirmation email for booking {id}"
        );
        let seat = stored["seats"][0]["seat"]
            .as_str()
            .expect("seat")
            .to_string();
        assert!(booked.insert(seat.clone()), "seat {seat} sold twice");
    }
    assert_eq!(booked.len(), seats.len());
    assert_eq!(app.seats_available(flight).await, 0);
    assert_summaries_match_the_seats(&app, flight, "after the bookings and payments").await;
    if crate::helpers::backend() == skybook::config::DatabaseKind::Sqlite {
        // A booking, an attempt, a charge and a confirmation each went in one batch (the
        // emails' sent marks may add more); fewer groups means batches shared transactions.
        let kept = app.db.batches_kept() - kept_before;
        let groups = app.db.batch_groups_committed() - groups_before;
        assert!(kept >= 4 * seats.len() as u64, "{kept} batches kept");
        assert!(groups < kept, "{groups} groups for {kept} batches");
    }
}

async fn confirmation_emails_of(app: &TestApp, booking_id: i64) -> u64 {
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    use skybook::models::notify::email;
    email::Entity::find()
        .filter(email::Column::BookingId.eq(booking_id as i32))
        .filter(email::Column::Kind.eq(skybook::services::notify::outbox::CONFIRMED))
        .count(&app.db.reader)
        .await
        .expect("emails")
}

#[tokio::test]
async fn the_sandbox_provider_asked_at_once_to_charge_one_key_charges_it_once() {
    use skybook::services::booking::provider::{ChargeOutcome, PaymentProvider, SandboxProvider};
    let app = spawn_app_with(|_| {}).await;
    let provider = Arc::new(SandboxProvider::new(app.db.clone()));
    let kept_before = app.db.batches_kept();
    let charge = |key: &'static str| {
        let provider = provider.clone();
        async move { provider.charge(key, 450_000, "INR", "pm_card_ok").await }
    };

    // Twenty calls for one attempt's key at once. On SQLite their rows go in groups of
    // batches: one is kept, the others find the key taken (in their group or before it), are
    // undone, and take the plain insert, which finds it taken too and answers the charge.
    let barrier = Arc::new(Barrier::new(20));
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (barrier, charged) = (barrier.clone(), charge("pay_rush"));
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            charged.await
        }));
    }
    let mut refs = HashSet::new();
    for task in tasks {
        match task.await.expect("task").expect("charge") {
            ChargeOutcome::Charged { provider_ref } => refs.insert(provider_ref),
            ChargeOutcome::Declined => panic!("declined"),
        };
    }
    assert_eq!(refs.len(), 1, "one charge answered to every call: {refs:?}");
    // Asked again afterwards, it answers the same charge.
    let again = charge("pay_rush").await.expect("charge");
    assert!(
        matches!(&again, ChargeOutcome::Charged { provider_ref } if refs.contains(provider_ref)),
        "{again:?}"
    );
    assert_eq!(app.sandbox_ledger().await, (1, 0), "one charge row");
    if crate::helpers::backend() == skybook::config::DatabaseKind::Sqlite {
        // The first call's batch was kept; every later one was undone in its group.
        assert_eq!(app.db.batches_kept() - kept_before, 1);
    }
}
