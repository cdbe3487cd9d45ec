//! The raw rate at which SQLite commits the writes of one full booking (create, then pay),
//! without HTTP: the baseline that `scripts/bench` sets the sustained-booking workload
//! against. It opens the database as Skybook does (`Database::connect`: WAL, one writer
//! connection) on Skybook's own schema with the demo catalog, sets `synchronous=FULL` so that
//! each commit is on disk before the next (the server gets the same durability by flushing
//! its commits in groups, `skybook::db::wal_sync`, which one loop cannot do), and runs one
//! flow after another through that writer, as the server's requests do.
//!
//! Each flow is the five transactions the server commits, with the statements it runs
//! inside them (reads outside any transaction are left out):
//!   1. create: lock user and flight rows, insert the booking, count pending, hold the seat,
//!      refresh the flight's counters, insert the booking's seat, set its total
//!   2. claim the idempotency key
//!   3. payment attempt: lock the booking for payment, insert the payment, keep the hold,
//!      link the key
//!   4. the sandbox provider's charge
//!   5. finish: lock the flight, mark the payment, confirm the booking, book the seat,
//!      refresh the counters, queue the email, save the response under the key
//!
//!   SKYBOOK_DATA_DIR=/tmp/x cargo run --release --example sqlite_commit_rate -- SECONDS
//!
//! Prints one JSON line: flows, seconds, flows_per_sec, commits_per_sec.

use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use skybook::config::{DatabaseKind, Settings};
use skybook::services::catalog::demo;
use skybook::startup::prepare_database;
use sqlx::{Row, SqliteConnection};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn now() -> NaiveDateTime {
    skybook::clock::now()
}

async fn create(
    c: &mut SqliteConnection,
    user: i64,
    flight: i64,
    seat: &str,
    n: u64,
) -> Result<(i64, i64)> {
    let t = now();
    let expires = t + chrono::Duration::minutes(15);
    sqlx::query("BEGIN IMMEDIATE").execute(&mut *c).await?;
    sqlx::query("UPDATE users SET role = role WHERE id = ?")
        .bind(user)
        .execute(&mut *c)
        .await?;
    sqlx::query("UPDATE flights SET seats_available = seats_available WHERE id = ?")
        .bind(flight)
        .execute(&mut *c)
        .await?;
    sqlx::query("SAVEPOINT r").execute(&mut *c).await?;
    let booking: i64 = sqlx::query(
        "INSERT INTO bookings (reference, user_id, flight_id, status, total, currency, created_at, \
         expires_at, payment_lock_until, updated_at) VALUES (?, ?, ?, 'pending', 0, 'INR', ?, ?, NULL, ?) \
         RETURNING id",
    )
    .bind(format!("R{n:05X}"))
    .bind(user)
    .bind(flight)
    .bind(t)
    .bind(expires)
    .bind(t)
    .fetch_one(&mut *c)
    .await?
    .try_get(0)?;
    sqlx::query("RELEASE r").execute(&mut *c).await?;
    sqlx::query("SELECT * FROM bookings WHERE id = ?")
        .bind(booking)
        .fetch_one(&mut *c)
        .await?;
    sqlx::query(
        "SELECT COUNT(*) FROM bookings WHERE user_id = ? AND status = 'pending' AND expires_at > ?",
    )
    .bind(user)
    .bind(t)
    .fetch_one(&mut *c)
    .await?;
    let held = sqlx::query(
        "UPDATE flight_seats SET status = 'held', booking_id = ?, held_until = ? \
         WHERE flight_id = ? AND seat IN (?) AND status = 'available'",
    )
    .bind(booking)
    .bind(expires)
    .bind(flight)
    .bind(seat)
    .execute(&mut *c)
    .await?
    .rows_affected();
    if held != 1 {
        return Err(format!("seat {flight}/{seat} was not free").into());
    }
    refresh(c, flight, -1).await?;
    let row = sqlx::query("SELECT class FROM flight_seats WHERE flight_id = ? AND seat IN (?)")
        .bind(flight)
        .bind(seat)
        .fetch_one(&mut *c)
        .await?;
    let class: String = row.try_get(0)?;
    sqlx::query(
        "INSERT INTO booking_seats (booking_id, seat, class, price, passenger_name) VALUES (?, ?, ?, 450000, 'Flow')",
    )
    .bind(booking)
    .bind(seat)
    .bind(class)
    .execute(&mut *c)
    .await?;
    sqlx::query("SELECT * FROM booking_seats WHERE booking_id = ? ORDER BY id")
        .bind(booking)
        .fetch_all(&mut *c)
        .await?;
    sqlx::query("UPDATE bookings SET total = 450000 WHERE id = ?")
        .bind(booking)
        .execute(&mut *c)
        .await?;
    sqlx::query("COMMIT").execute(&mut *c).await?;
    Ok((booking, 450000))
}

async fn refresh(c: &mut SqliteConnection, flight: i64, delta: i64) -> Result<()> {
    let earliest: Option<NaiveDateTime> = sqlx::query(
        "SELECT MIN(held_until) FROM flight_seats WHERE flight_id = ? AND status = 'held'",
    )
    .bind(flight)
    .fetch_one(&mut *c)
    .await?
    .try_get(0)?;
    sqlx::query(
        "UPDATE flights SET seats_available = seats_available + ?, holds_lapse_at = ? WHERE id = ?",
    )
    .bind(delta)
    .bind(earliest)
    .bind(flight)
    .execute(&mut *c)
    .await?;
    Ok(())
}

async fn pay(c: &mut SqliteConnection, user: i64, flight: i64, booking: i64, n: u64) -> Result<()> {
    let t = now();
    let key: i64 = sqlx::query(
        "INSERT INTO idempotency_keys (user_id, key, fingerprint, state, response_status, \
         response_body, payment_id, created_at) VALUES (?, ?, ?, 'in_progress', NULL, NULL, NULL, ?) RETURNING id",
    )
    .bind(user)
    .bind(format!("raw-{n}"))
    .bind(format!("{:064x}", n))
    .bind(t)
    .fetch_one(&mut *c)
    .await?
    .try_get(0)?;

    sqlx::query("BEGIN IMMEDIATE").execute(&mut *c).await?;
    sqlx::query(
        "UPDATE bookings SET payment_lock_until = ?, updated_at = ? WHERE id = ? AND status = 'pending' \
         AND expires_at > ? AND (payment_lock_until IS NULL OR payment_lock_until <= ?)",
    )
    .bind(t + chrono::Duration::minutes(2))
    .bind(t)
    .bind(booking)
    .bind(t)
    .bind(t)
    .execute(&mut *c)
    .await?;
    let payment: i64 = sqlx::query(
        "INSERT INTO payments (booking_id, user_id, status, amount, currency, method, provider_ref, \
         success_key, refund_requested_at, created_at, updated_at) \
         VALUES (?, ?, 'processing', 450000, 'INR', 'pm_card_ok', NULL, NULL, NULL, ?, ?) RETURNING *",
    )
    .bind(booking)
    .bind(user)
    .bind(t)
    .bind(t)
    .fetch_one(&mut *c)
    .await?
    .try_get(0)?;
    sqlx::query("UPDATE flight_seats SET held_until = ? WHERE booking_id = ? AND status = 'held'")
        .bind(t + chrono::Duration::minutes(15))
        .bind(booking)
        .execute(&mut *c)
        .await?;
    sqlx::query("UPDATE idempotency_keys SET payment_id = ? WHERE id = ?")
        .bind(payment)
        .bind(key)
        .execute(&mut *c)
        .await?;
    sqlx::query("COMMIT").execute(&mut *c).await?;

    sqlx::query(
        "INSERT INTO sandbox_charges (payment_ref, kind, amount, currency, created_at) VALUES (?, 'charge', 450000, 'INR', ?)",
    )
    .bind(format!("pay_{payment}"))
    .bind(t)
    .execute(&mut *c)
    .await?;

    sqlx::query("BEGIN IMMEDIATE").execute(&mut *c).await?;
    sqlx::query("UPDATE flights SET seats_available = seats_available WHERE id = ?")
        .bind(flight)
        .execute(&mut *c)
        .await?;
    sqlx::query(
        "UPDATE payments SET status = 'succeeded', success_key = ?, provider_ref = ?, updated_at = ? \
         WHERE id = ? AND status = 'processing'",
    )
    .bind(booking)
    .bind(format!("ch_{payment}"))
    .bind(t)
    .bind(payment)
    .execute(&mut *c)
    .await?;
    sqlx::query(
        "UPDATE bookings SET status = 'confirmed', payment_lock_until = NULL, updated_at = ? \
         WHERE id = ? AND status = 'pending'",
    )
    .bind(t)
    .bind(booking)
    .execute(&mut *c)
    .await?;
    sqlx::query("SELECT * FROM booking_seats WHERE booking_id = ?")
        .bind(booking)
        .fetch_all(&mut *c)
        .await?;
    sqlx::query(
        "UPDATE flight_seats SET status = 'booked', held_until = NULL WHERE booking_id = ? AND status = 'held'",
    )
    .bind(booking)
    .execute(&mut *c)
    .await?;
    refresh(c, flight, 0).await?;
    sqlx::query("SELECT * FROM idempotency_keys WHERE payment_id = ?")
        .bind(payment)
        .fetch_optional(&mut *c)
        .await?;
    sqlx::query(
        "UPDATE idempotency_keys SET state = 'completed', response_status = 201, response_body = ? WHERE id = ?",
    )
    .bind(format!("{{\"id\":{payment},\"booking_id\":{booking},\"status\":\"succeeded\"}}"))
    .bind(key)
    .execute(&mut *c)
    .await?;
    sqlx::query("SELECT * FROM bookings WHERE id = ?")
        .bind(booking)
        .fetch_one(&mut *c)
        .await?;
    sqlx::query("SELECT * FROM users WHERE id = ?")
        .bind(user)
        .fetch_one(&mut *c)
        .await?;
    sqlx::query(
        "INSERT INTO email_outbox (booking_id, kind, recipient, status, attempts, max_attempts, \
         last_error, next_attempt_at, lease_until, sent_at, created_at) \
         VALUES (?, 'confirmed', 'raw@example.com', 'pending', 0, 8, NULL, ?, NULL, NULL, ?)",
    )
    .bind(booking)
    .bind(t)
    .bind(t)
    .execute(&mut *c)
    .await?;
    sqlx::query("COMMIT").execute(&mut *c).await?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let seconds: f64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or("usage: sqlite_commit_rate SECONDS (database from SKYBOOK_DATA_DIR)")?;
    let settings = Settings::load()?;
    if settings.database_kind != DatabaseKind::Sqlite {
        return Err("this baseline is for SQLite; PostgreSQL's is pgbench".into());
    }
    let db = prepare_database(&settings).await?;
    if !demo::has_flights(&db).await.map_err(|e| e.to_string())? {
        demo::seed(&db).await.map_err(|e| e.to_string())?;
    }
    let pool = db.writer.get_sqlite_connection_pool().clone();
    let mut c = pool.acquire().await?;
    sqlx::query("PRAGMA synchronous = FULL")
        .execute(&mut *c)
        .await?;
    let user: i64 = sqlx::query(
        "INSERT INTO users (email, name, password_hash, role, created_at) \
         VALUES (?, 'Raw', 'x', 'customer', ?) RETURNING id",
    )
    .bind(format!("raw-{}@example.com", std::process::id()))
    .bind(now())
    .fetch_one(&mut *c)
    .await?
    .try_get(0)?;
    let seats: Vec<(i64, String)> = sqlx::query(
        "SELECT flight_id, seat FROM flight_seats WHERE status = 'available' ORDER BY id",
    )
    .fetch_all(&mut *c)
    .await?
    .into_iter()
    .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
    .collect::<std::result::Result<_, sqlx::Error>>()?;

    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(seconds);
    let mut flows = 0u64;
    for (flight, seat) in &seats {
        if Instant::now() >= deadline {
            break;
        }
        let (booking, _) = create(&mut c, user, *flight, seat, flows).await?;
        pay(&mut c, user, *flight, booking, flows).await?;
        flows += 1;
    }
    let elapsed = started.elapsed().as_secs_f64();
    if flows as usize == seats.len() {
        eprintln!("sqlite_commit_rate: ran out of seats before the time was up");
    }
    println!(
        "{{\"flows\": {flows}, \"seconds\": {elapsed:.3}, \"flows_per_sec\": {:.1}, \"commits_per_sec\": {:.1}}}",
        flows as f64 / elapsed,
        5.0 * flows as f64 / elapsed
    );
    drop(c);
    db.close().await;
    Ok(())
}
