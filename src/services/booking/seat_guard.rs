//! The one promise that matters most: a seat is never sold twice. Seats are taken by a
//! conditional write (free → held by this booking) whose affected-row count must equal the
//! seats asked for, inside the transaction that creates the booking. The database serialises
//! competing writes on the same rows (row locks on PostgreSQL/MySQL, the single write lock on
//! SQLite), so of two overlapping requests exactly one can see the seats free. The unique
//! `(flight_id, seat)` index guarantees one row per seat for the write to fight over.

use chrono::NaiveDateTime;
use sea_orm::sea_query::{Expr, Query, SelectStatement, SimpleExpr, UpdateStatement};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Statement, UpdateMany,
};

use crate::error::AppError;
use crate::models::catalog::flight;
use crate::models::catalog::flight_seat::{self, STATUS_AVAILABLE, STATUS_BOOKED, STATUS_HELD};

/// Takes the flight's row lock (a write that changes nothing). Every transaction that changes
/// a flight's seats takes it first: MySQL's foreign-key checks put shared locks on the flight
/// row, and two bookings that both hold one and then both want to update the seat counter
/// deadlock. Taken first, the lock queues them instead. On SQLite it also makes the
/// transaction's first statement a write, so it takes the write lock at once.
/// Returns whether the flight exists.
pub async fn lock_flight<C: ConnectionTrait>(conn: &C, flight_id: i32) -> Result<bool, AppError> {
    let matched = lock_flight_statement(flight_id)
        .exec(conn)
        .await?
        .rows_affected;
    Ok(matched == 1)
}

/// The write of [`lock_flight`]; it changes one row when the flight exists.
pub fn lock_flight_statement(flight_id: i32) -> UpdateMany<flight::Entity> {
    flight::Entity::update_many()
        .col_expr(
            flight::Column::SeatsAvailable,
            Expr::col(flight::Column::SeatsAvailable).into(),
        )
        .filter(flight::Column::Id.eq(flight_id))
}

/// Takes the flight's row lock where the database has row locks; the lock's result is not
/// needed. SQLite runs one write transaction at a time, so there it would only cost a round
/// trip through the one writer; call it only where the transaction's next statement is a
/// write (which takes SQLite's write lock at once).
pub async fn queue_on_flight<C: ConnectionTrait>(conn: &C, flight_id: i32) -> Result<(), AppError> {
    if conn.get_database_backend() != DbBackend::Sqlite {
        lock_flight(conn, flight_id).await?;
    }
    Ok(())
}

/// Holds `seats` of `flight_id` for `booking_id` until `held_until`, or reports how many it
/// could take. A seat is free when available, or held by a hold that ran out (`<= now`).
/// With `guard` off (a test-only negative control) it takes the seats whatever their state.
pub async fn take<C: ConnectionTrait>(
    conn: &C,
    flight_id: i32,
    booking_id: i32,
    seats: &[String],
    held_until: NaiveDateTime,
    now: NaiveDateTime,
    guard: bool,
) -> Result<bool, AppError> {
    let hold = || hold_statement(flight_id, Expr::value(booking_id), seats, held_until);
    if !guard {
        let taken = hold().exec(conn).await?.rows_affected;
        refresh(conn, flight_id, -(taken as i64)).await?;
        return Ok(taken == seats.len() as u64);
    }
    // Available seats first: they are the ones the flight's counter counts.
    let fresh = take_available_statement(flight_id, Expr::value(booking_id), seats, held_until)
        .exec(conn)
        .await?
        .rows_affected;
    let mut taken = fresh;
    if taken < seats.len() as u64 {
        // Then seats whose hold ran out before the sweeper released them.
        taken += hold()
            .filter(flight_seat::Column::Status.eq(STATUS_HELD))
            .filter(flight_seat::Column::HeldUntil.lte(now))
            .filter(flight_seat::Column::BookingId.ne(booking_id))
            .exec(conn)
            .await?
            .rows_affected;
    }
    if taken != seats.len() as u64 {
        return Ok(false);
    }
    refresh(conn, flight_id, -(fresh as i64)).await?;
    Ok(true)
}

/// Holds `seats` of `flight_id` for the booking `booking` names (its id, or a subquery that
/// finds it) until `held_until`, whatever their state: callers add the state they take from.
pub fn hold_statement(
    flight_id: i32,
    booking: SimpleExpr,
    seats: &[String],
    held_until: NaiveDateTime,
) -> UpdateMany<flight_seat::Entity> {
    flight_seat::Entity::update_many()
        .col_expr(flight_seat::Column::Status, Expr::value(STATUS_HELD))
        .col_expr(flight_seat::Column::BookingId, booking)
        .col_expr(flight_seat::Column::HeldUntil, Expr::value(held_until))
        .filter(flight_seat::Column::FlightId.eq(flight_id))
        .filter(flight_seat::Column::Seat.is_in(seats.iter().cloned()))
}

/// [`hold_statement`] for the seats that are available (not those whose hold ran out).
pub fn take_available_statement(
    flight_id: i32,
    booking: SimpleExpr,
    seats: &[String],
    held_until: NaiveDateTime,
) -> UpdateMany<flight_seat::Entity> {
    hold_statement(flight_id, booking, seats, held_until)
        .filter(flight_seat::Column::Status.eq(STATUS_AVAILABLE))
}

/// Frees every seat still held or booked by `booking_id`; returns how many.
pub async fn release<C: ConnectionTrait>(
    conn: &C,
    flight_id: i32,
    booking_id: i32,
) -> Result<u64, AppError> {
    let released = flight_seat::Entity::update_many()
        .col_expr(flight_seat::Column::Status, Expr::value(STATUS_AVAILABLE))
        .col_expr(
            flight_seat::Column::BookingId,
            Expr::value(Option::<i32>::None),
        )
        .col_expr(
            flight_seat::Column::HeldUntil,
            Expr::value(Option::<NaiveDateTime>::None),
        )
        .filter(flight_seat::Column::BookingId.eq(booking_id))
        .filter(flight_seat::Column::Status.is_in([STATUS_HELD, STATUS_BOOKED]))
        .exec(conn)
        .await?
        .rows_affected;
    refresh(conn, flight_id, released as i64).await?;
    Ok(released)
}

/// Turns the booking's held seats into booked ones; returns how many. The caller holds the
/// flight's lock (see `lock_flight`).
pub async fn mark_booked<C: ConnectionTrait>(
    conn: &C,
    flight_id: i32,
    booking_id: i32,
) -> Result<u64, AppError> {
    let booked = mark_booked_statement(booking_id)
        .exec(conn)
        .await?
        .rows_affected;
    refresh(conn, flight_id, 0).await?;
    Ok(booked)
}

/// The write of [`mark_booked`] without the summaries' refresh that must follow it (see
/// [`summaries_statement`]).
pub fn mark_booked_statement(booking_id: i32) -> UpdateMany<flight_seat::Entity> {
    flight_seat::Entity::update_many()
        .col_expr(flight_seat::Column::Status, Expr::value(STATUS_BOOKED))
        .col_expr(
            flight_seat::Column::HeldUntil,
            Expr::value(Option::<NaiveDateTime>::None),
        )
        .filter(flight_seat::Column::BookingId.eq(booking_id))
        .filter(flight_seat::Column::Status.eq(STATUS_HELD))
}

/// Moves the end of the booking's holds (kept while a payment is with the provider). Holds
/// only get longer here, so the flight's `holds_lapse_at` stays a lower bound and is left
/// alone: this transaction does not hold the flight's lock, and taking it after the booking's
/// would invert the lock order.
pub async fn hold_until<C: ConnectionTrait>(
    conn: &C,
    booking_id: i32,
    until: NaiveDateTime,
) -> Result<(), AppError> {
    hold_until_statement(booking_id, until).exec(conn).await?;
    Ok(())
}

/// The write of [`hold_until`].
pub fn hold_until_statement(
    booking_id: i32,
    until: NaiveDateTime,
) -> UpdateMany<flight_seat::Entity> {
    flight_seat::Entity::update_many()
        .col_expr(flight_seat::Column::HeldUntil, Expr::value(until))
        .filter(flight_seat::Column::BookingId.eq(booking_id))
        .filter(flight_seat::Column::Status.eq(STATUS_HELD))
}

/// Keeps the flight's two summaries of its seats right, in the same transaction as the seats:
/// `seats_available` (its `available` seats, moved by `delta`) and `holds_lapse_at` (the
/// earliest end of a hold, NULL when nothing is held; one lookup in the holds index). Search
/// reads both instead of counting seat rows. The caller holds the flight's lock, so no other
/// transaction changes which of its seats are held meanwhile.
async fn refresh<C: ConnectionTrait>(conn: &C, flight_id: i32, delta: i64) -> Result<(), AppError> {
    let backend = conn.get_database_backend();
    if backend != DbBackend::MySql {
        // One statement: one round trip fewer through SQLite's single writer.
        conn.execute(summaries_statement(backend, flight_id, delta))
            .await?;
        return Ok(());
    }
    // A plain read, then a write: on MySQL a subquery inside the UPDATE would lock the seats.
    let row = conn
        .query_one(backend.build(&earliest_hold(flight_id)))
        .await?;
    let earliest: Option<NaiveDateTime> = match row {
        Some(row) => row.try_get_by_index(0)?,
        None => None,
    };
    conn.execute(backend.build(&summaries_update(flight_id, delta, Expr::value(earliest))))
        .await?;
    Ok(())
}

/// The refresh of the flight's seat summaries as one statement, its earliest hold found by a
/// subquery (SQLite and PostgreSQL; see `refresh` for MySQL).
pub fn summaries_statement(backend: DbBackend, flight_id: i32, delta: i64) -> Statement {
    let earliest = SimpleExpr::SubQuery(
        None,
        Box::new(earliest_hold(flight_id).into_sub_query_statement()),
    );
    backend.build(&summaries_update(flight_id, delta, earliest))
}

fn earliest_hold(flight_id: i32) -> SelectStatement {
    Query::select()
        .expr(Expr::col(flight_seat::Column::HeldUntil).min())
        .from(flight_seat::Entity)
        .and_where(flight_seat::Column::FlightId.eq(flight_id))
        .and_where(flight_seat::Column::Status.eq(STATUS_HELD))
        .to_owned()
}

fn summaries_update(flight_id: i32, delta: i64, earliest_hold: SimpleExpr) -> UpdateStatement {
    Query::update()
        .table(flight::Entity)
        .value(
            flight::Column::SeatsAvailable,
            Expr::col(flight::Column::SeatsAvailable).add(delta),
        )
        .value(flight::Column::HoldsLapseAt, earliest_hold)
        .and_where(flight::Column::Id.eq(flight_id))
        .to_owned()
}
