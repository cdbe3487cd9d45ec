//! The sweeper, running on its apalis-cron schedule inside the app.

use std::time::Duration;

use sea_orm::{sea_query::Expr, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::Value;
use skybook::models::booking::{booking, idempotency_key, payment, sandbox_charge};
use skybook::models::catalog::{flight, flight_seat};
use skybook::models::notify::email;
use skybook::services::booking::payments::{settle, Settled};

use crate::helpers::{bookable_flight, spawn_app_with, status_and_json, TestApp};

/// Polls `check` until it holds, for up to 10 s.
async fn eventually<F, Fut>(what: &str, check: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..100 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for: {what}");
}

async fn stored_booking(app: &TestApp, id: i64) -> booking::Model {
    booking::Entity::find_by_id(id as i32)
        .one(&app.db.writer)
        .await
        .expect("query")
        .expect("booking")
}

async fn counter(app: &TestApp, flight_id: i64) -> i32 {
    flight::Entity::find_by_id(flight_id as i32)
        .one(&app.db.writer)
        .await
        .expect("query")
        .expect("flight")
        .seats_available
}

async fn booked(app: &TestApp, seats: &[&str]) -> (String, Value) {
    let catalog = app.catalog().await;
    let flight = bookable_flight(app, &catalog, "AI400").await;
    let token = app.customer_token().await;
    let (status, booking) = status_and_json(app.book(&token, flight, seats).await).await;
    assert_eq!(status, 201, "{booking}");
    (token, booking)
}

#[tokio::test]
async fn the_sweeper_expires_overdue_holds_and_frees_their_seats() {
    // Long enough that a slow CI machine reads the counter before the sweeper runs.
    let app = spawn_app_with(|s| {
        s.hold_ttl_seconds = 3;
        s.sweep_interval_seconds = 1;
    })
    .await;
    let (_, booking) = booked(&app, &["2A", "2B"]).await;
    let id = booking["id"].as_i64().expect("id");
    let flight = booking["flight_id"].as_i64().expect("flight");
    assert_eq!(counter(&app, flight).await, 10);
    eventually("the booking is stored as expired", || async {
        stored_booking(&app, id).await.status == "expired"
    })
    .await;
    assert_eq!(
        counter(&app, flight).await,
        12,
        "the counter got both seats back, once"
    );
    assert!(app.seat_map(flight).await.iter().all(|(_, free)| *free));
}

#[tokio::test]
async fn the_sweeper_deletes_idempotency_keys_after_a_day() {
    let app = spawn_app_with(|s| s.sweep_interval_seconds = 1).await;
    let (token, booking) = booked(&app, &["2A"]).await;
    assert_eq!(
        app.pay(&token, &booking, "old-key", "pm_card_ok")
            .await
            .status(),
        201
    );
    let key = idempotency_key::Entity::find()
        .one(&app.db.writer)
        .await
        .expect("query")
        .expect("key");
    let mut row: idempotency_key::ActiveModel = key.into();
    row.created_at = Set(skybook::clock::now() - chrono::Duration::hours(25));
    sea_orm::ActiveModelTrait::update(row, &app.db.writer)
        .await
        .expect("aged");
    eventually("the old key is deleted", || async {
        idempotency_key::Entity::find()
            .all(&app.db.writer)
            .await
            .expect("query")
            .is_empty()
    })
    .await;
}

/// Leaves the booking as a crash between the provider call and the commit would: an attempt
/// `processing`, the booking locked for payment, and (if `charged`) the provider's charge.
async fn interrupted_payment(app: &TestApp, booking: &Value, charged: bool) -> i32 {
    let now = skybook::clock::now();
    let booking_id = booking["id"].as_i64().expect("id") as i32;
    let stored = stored_booking(app, booking_id as i64).await;
    let attempt = payment::ActiveModel {
        booking_id: Set(booking_id),
        user_id: Set(stored.user_id),
        status: Set(payment::PROCESSING.into()),
        amount: Set(stored.total),
        currency: Set(stored.currency.clone()),
        method: Set("pm_card_ok".into()),
        provider_ref: Set(None),
        success_key: Set(None),
        refund_requested_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    let attempt = payment::Entity::insert(attempt)
        .exec_with_returning(&app.db.writer)
        .await
        .expect("attempt");
    let mut lock: booking::ActiveModel = stored.into();
    lock.payment_lock_until = Set(Some(now + chrono::Duration::seconds(1)));
    sea_orm::ActiveModelTrait::update(lock, &app.db.writer)
        .await
        .expect("locked");
    if charged {
        let charge = sandbox_charge::ActiveModel {
            payment_ref: Set(attempt.provider_key()),
            kind: Set(sandbox_charge::CHARGE.into()),
            amount: Set(attempt.amount),
            currency: Set(attempt.currency.clone()),
            created_at: Set(now),
            ..Default::default()
        };
        sandbox_charge::Entity::insert(charge)
            .exec(&app.db.writer)
            .await
            .expect("charge");
    }
    attempt.id
}

#[tokio::test]
async fn the_sweeper_completes_an_attempt_the_provider_charged() {
    let app = spawn_app_with(|s| {
        s.sweep_interval_seconds = 1;
        s.payment_lock_seconds = 1;
    })
    .await;
    let (token, booking) = booked(&app, &["2A"]).await;
    let attempt = interrupted_payment(&app, &booking, true).await;
    eventually("the attempt succeeded", || async {
        payment::Entity::find_by_id(attempt)
            .one(&app.db.writer)
            .await
            .expect("query")
            .expect("row")
            .status
            == "succeeded"
    })
    .await;
    let id = booking["id"].as_i64().expect("id");
    assert_eq!(app.booking(&token, id).await["status"], "confirmed");
    assert_eq!(
        app.sandbox_ledger().await,
        (1, 0),
        "charged once, by the original attempt"
    );
}

#[tokio::test]
async fn the_sweeper_fails_an_attempt_the_provider_never_charged_and_the_booking_stays_payable() {
    let app = spawn_app_with(|s| {
        s.sweep_interval_seconds = 1;
        s.payment_lock_seconds = 1;
    })
    .await;
    let (token, booking) = booked(&app, &["2A"]).await;
    let attempt = interrupted_payment(&app, &booking, false).await;
    eventually("the attempt failed", || async {
        payment::Entity::find_by_id(attempt)
            .one(&app.db.writer)
            .await
            .expect("query")
            .expect("row")
            .status
            == "failed"
    })
    .await;
    let id = booking["id"].as_i64().expect("id");
    assert_eq!(app.booking(&token, id).await["status"], "pending");
    assert_eq!(
        app.pay(&token, &booking, "after-crash", "pm_card_ok")
            .await
            .status(),
        201
    );
    assert_eq!(app.sandbox_ledger().await, (1, 0));
}

#[tokio::test]
async fn sweepers_running_at_once_expire_each_booking_once() {
    // As several instances sharing one database would.
    let app = spawn_app_with(|s| {
        s.hold_ttl_seconds = 1;
        s.sweep_interval_seconds = 3600;
        s.max_pending_bookings = 100;
    })
    .await;
    let catalog = app.catalog().await;
    let flight = bookable_flight(&app, &catalog, "AI401").await;
    let token = app.customer_token().await;
    for seat in ["2A", "2B", "2C", "2D", "3A", "3B"] {
        assert_eq!(app.book(&token, flight, &[seat]).await.status(), 201);
    }
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let provider = skybook::services::booking::provider::SandboxProvider::new(app.db.clone());
    let policy = skybook::services::booking::payments::PaymentPolicy {
        lock_seconds: 120,
        sales_close_minutes: 30,
        pause_after_charge: false,
        email_max_attempts: 3,
        replies: &skybook::views::booking::PaymentJson,
        outcomes: skybook::metrics::Outcomes::unobserved(),
    };
    let runs =
        (0..5).map(|_| skybook::services::booking::sweeper::sweep(&app.db, &provider, policy));
    let reports = futures::future::join_all(runs).await;
    let expired: u64 = reports.into_iter().map(|r| r.expect("sweep").expired).sum();
    assert_eq!(expired, 6, "each booking expired by exactly one sweeper");
    assert_eq!(counter(&app, flight).await, 12);
    let stored = booking::Entity::find()
        .filter(booking::Column::FlightId.eq(flight as i32))
        .all(&app.db.writer)
        .await
        .expect("query");
    assert!(stored.iter().all(|b| b.status == "expired"));
}

#[tokio::test]
async fn a_new_payment_after_an_interrupted_charge_settles_it_instead_of_charging_again() {
    // The sweeper is far away; the payment lock of the interrupted attempt has run out.
    let app = spawn_app_with(|s| {
        s.sweep_interval_seconds = 3600;
        s.payment_lock_seconds = 1;
    })
    .await;
    let (token, booking) = booked(&app, &["2A"]).await;
    interrupted_payment(&app, &booking, true).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let response = app.pay(&token, &booking, "a-fresh-key", "pm_card_ok").await;
    crate::helpers::assert_problem(response, 409, "booking_already_paid").await;
    let id = booking["id"].as_i64().expect("id");
    assert_eq!(app.booking(&token, id).await["status"], "confirmed");
    assert_eq!(
        app.sandbox_ledger().await,
        (1, 0),
        "the earlier charge counts; none was added"
    );
}

#[tokio::test]
async fn a_key_whose_request_died_before_recording_an_attempt_is_freed() {
    let app = spawn_app_with(|s| {
        s.sweep_interval_seconds = 1;
        s.payment_lock_seconds = 1;
    })
    .await;
    let (token, booking) = booked(&app, &["2A"]).await;
    let user_id = stored_booking(&app, booking["id"].as_i64().expect("id"))
        .await
        .user_id;
    let claim = idempotency_key::ActiveModel {
        user_id: Set(user_id),
        key: Set("orphan".into()),
        fingerprint: Set("from a request that died".into()),
        state: Set(idempotency_key::IN_PROGRESS.into()),
        response_status: Set(None),
        response_body: Set(None),
        payment_id: Set(None),
        created_at: Set(skybook::clock::now() - chrono::Duration::seconds(5)),
        ..Default::default()
    };
    idempotency_key::Entity::insert(claim)
        .exec(&app.db.writer)
        .await
        .expect("claim");
    eventually("the abandoned claim is deleted", || async {
        idempotency_key::Entity::find()
            .all(&app.db.writer)
            .await
            .expect("query")
            .is_empty()
    })
    .await;
    assert_eq!(
        app.pay(&token, &booking, "orphan", "pm_card_ok")
            .await
            .status(),
        201
    );
}

/// The provider's charge of `attempt` is recorded (as the sweeper or a request would), the
/// attempt's sandbox charge standing.
async fn record_charge(app: &TestApp, attempt: i32) -> Result<Settled, skybook::error::AppError> {
    let provider = skybook::services::booking::provider::SandboxProvider::new(app.db.clone());
    let attempt = payment::Entity::find_by_id(attempt)
        .one(&app.db.writer)
        .await
        .expect("query")
        .expect("attempt");
    let policy = skybook::services::booking::payments::PaymentPolicy {
        lock_seconds: 120,
        sales_close_minutes: 30,
        pause_after_charge: false,
        email_max_attempts: 3,
        replies: &skybook::views::booking::PaymentJson,
        outcomes: skybook::metrics::Outcomes::unobserved(),
    };
    settle(&app.db, &provider, policy, attempt).await
}

/// Whether each of `seats` of the booking's flight is free, from the seat map.
async fn free_of(app: &TestApp, booking: &Value, seats: &[&str]) -> Vec<bool> {
    let map = app
        .seat_map(booking["flight_id"].as_i64().expect("flight"))
        .await;
    seats
        .iter()
        .map(|seat| map.iter().any(|(s, free)| s == seat && *free))
        .collect()
}

async fn emails_of(app: &TestApp, booking_id: i64) -> Vec<String> {
    email::Entity::find()
        .filter(email::Column::BookingId.eq(booking_id as i32))
        .all(&app.db.writer)
        .await
        .expect("emails")
        .into_iter()
        .map(|e| e.kind)
        .collect()
}

#[tokio::test]
async fn a_charge_recorded_twice_confirms_the_booking_once() {
    // The sweeper and the request it raced both record the same charge: the second finds the
    // attempt finished and changes nothing (one confirmation, one email).
    let app = spawn_app_with(|s| s.sweep_interval_seconds = 3600).await;
    let (token, booking) = booked(&app, &["2A", "2B"]).await;
    let attempt = interrupted_payment(&app, &booking, true).await;
    for _ in 0..2 {
        assert_eq!(
            record_charge(&app, attempt).await.expect("settled"),
            Settled::Completed
        );
    }
    let id = booking["id"].as_i64().expect("id");
    assert_eq!(app.booking(&token, id).await["status"], "confirmed");
    assert_eq!(emails_of(&app, id).await, vec!["confirmed".to_string()]);
    assert_eq!(app.sandbox_ledger().await, (1, 0));
    assert_eq!(
        free_of(&app, &booking, &["2A", "2B"]).await,
        vec![false, false]
    );
}

/// Takes seat 2B away from the booking, as a concurrent booking would once its hold ran out.
async fn lose_seat_2b(app: &TestApp, booking_id: i64) {
    flight_seat::Entity::update_many()
        .col_expr(
            flight_seat::Column::Status,
            Expr::value(flight_seat::STATUS_AVAILABLE),
        )
        .col_expr(
            flight_seat::Column::BookingId,
            Expr::value(Option::<i32>::None),
        )
        .filter(flight_seat::Column::BookingId.eq(booking_id as i32))
        .filter(flight_seat::Column::Seat.eq("2B"))
        .exec(&app.db.writer)
        .await
        .expect("seat lost");
}

/// A booking of 2A and 2B whose payment was interrupted after the charge; 2B goes to someone
/// else, then the charge is recorded (as the sweeper would). Returns the owner's token, the
/// booking and the attempt.
async fn charged_after_seat_2b_was_lost(app: &TestApp) -> (String, Value, i32) {
    let (token, booking) = booked(app, &["2A", "2B"]).await;
    let attempt = interrupted_payment(app, &booking, true).await;
    lose_seat_2b(app, booking["id"].as_i64().expect("id")).await;
    assert_eq!(
        record_charge(app, attempt).await.expect("settled"),
        Settled::Completed
    );
    (token, booking, attempt)
}

#[tokio::test]
async fn without_the_plan_s_booked_check_a_booking_is_confirmed_without_its_seat() {
    // The negative control of the confirmation plan's `booked` check (every seat of the
    // booking booked): without it, the booking below is confirmed with a seat it lost.
    let app = spawn_app_with(|s| {
        s.sweep_interval_seconds = 3600;
        s.faults.unchecked = Some("booked");
    })
    .await;
    let (token, booking, _) = charged_after_seat_2b_was_lost(&app).await;
    let id = booking["id"].as_i64().expect("id");
    assert_eq!(app.booking(&token, id).await["status"], "confirmed");
    assert_eq!(free_of(&app, &booking, &["2B"]).await, vec![true]);
}

#[tokio::test]
async fn a_charge_for_a_booking_whose_seat_was_lost_cancels_it_and_refunds() {
    // The hold ran out while the provider worked and one of the two seats went elsewhere: the
    // booking cannot be confirmed, so nothing of the confirmation is kept, the booking is
    // cancelled, its other seat freed and the charge refunded.
    let app = spawn_app_with(|s| s.sweep_interval_seconds = 3600).await;
    let (token, booking, attempt) = charged_after_seat_2b_was_lost(&app).await;
    let id = booking["id"].as_i64().expect("id");
    assert_eq!(app.booking(&token, id).await["status"], "cancelled");
    assert_eq!(emails_of(&app, id).await, vec!["cancelled".to_string()]);
    assert_eq!(
        app.sandbox_ledger().await,
        (1, 1),
        "charged once, refunded once"
    );
    let refunded = payment::Entity::find_by_id(attempt)
        .one(&app.db.writer)
        .await
        .expect("query")
        .expect("attempt");
    assert_eq!(refunded.status, payment::REFUNDED);
    assert_eq!(
        free_of(&app, &booking, &["2A", "2B"]).await,
        vec![true, true]
    );
}
