//! The one promise that matters most: a seat is never sold twice. Seats are taken by a
//! conditional write (free → held by this booking) whose changed-row count must equal the
//! seats asked for, inside the transaction that creates the booking (its plan checks it). The
//! database serialises competing writes on the same rows (row locks on PostgreSQL/MySQL, the
//! single writer on SQLite), so of two overlapping requests exactly one can see the seats
//! free. The unique `(flight_id, seat)` index guarantees one row per seat to fight over.
//!
//! These are the statements every plan that changes a flight's seats is made of.

use chrono::NaiveDateTime;
use sea_orm::sea_query::{Expr, Query, SelectStatement, SimpleExpr, UpdateStatement};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryTrait};

use crate::error::AppError;
use crate::models::catalog::flight;
use crate::models::catalog::flight_seat::{self, STATUS_AVAILABLE, STATUS_BOOKED, STATUS_HELD};

/// The flight's row, for a plan's lock (`WritePlan::lock`). Every transaction that changes a
/// flight's seats locks it first: MySQL's foreign-key checks put shared locks on the flight
/// row, and two bookings that both hold one and then both want to update the flight's
/// summaries deadlock. Taken first, the lock queues them instead.
pub fn flight_row(flight_id: i32) -> SelectStatement {
    Query::select()
        .column(flight::Column::Id)
        .from(flight::Entity)
        .and_where(flight::Column::Id.eq(flight_id))
        .to_owned()
}

/// Takes the flight's lock in `conn`'s transaction, as a plan's lock step does; whether the
/// flight exists (for the catalog's own transactions on a flight).
pub async fn lock_flight<C: ConnectionTrait>(conn: &C, flight_id: i32) -> Result<bool, AppError> {
    Ok(crate::db::lock_rows(conn, flight_row(flight_id)).await? == 1)
}

/// A seat anyone may take at `now`: available, or held by a hold that ran out (the sweeper
/// has not freed it yet).
fn free_at(now: NaiveDateTime) -> Condition {
    Condition::any()
        .add(flight_seat::Column::Status.eq(STATUS_AVAILABLE))
        .add(
            Condition::all()
                .add(flight_seat::Column::Status.eq(STATUS_HELD))
                .add(flight_seat::Column::HeldUntil.lte(now)),
        )
}

/// Holds `seats` of `flight_id` for the booking `booking` names (its id, or a subquery that
/// finds it) until `held_until`: only the free ones, unless `guard` is off (a test-only
/// negative control, which takes them whatever their state).
pub fn take_statement(
    flight_id: i32,
    booking: SimpleExpr,
    seats: &[String],
    held_until: NaiveDateTime,
    now: NaiveDateTime,
    guard: bool,
) -> UpdateStatement {
    let mut take = flight_seat::Entity::update_many()
        .col_expr(flight_seat::Column::Status, Expr::value(STATUS_HELD))
        .col_expr(flight_seat::Column::BookingId, booking)
        .col_expr(flight_seat::Column::HeldUntil, Expr::value(held_until))
        .filter(flight_seat::Column::FlightId.eq(flight_id))
        .filter(flight_seat::Column::Seat.is_in(seats.iter().cloned()));
    if guard {
        take = take.filter(free_at(now));
    }
    take.into_query()
}

/// Frees every seat the booking still holds or booked.
pub fn release_statement(booking_id: i32) -> UpdateStatement {
    freed()
        .filter(flight_seat::Column::BookingId.eq(booking_id))
        .into_query()
}

/// Frees every held or booked seat of the flight (its cancellation).
pub fn release_flight_statement(flight_id: i32) -> UpdateStatement {
    freed()
        .filter(flight_seat::Column::FlightId.eq(flight_id))
        .into_query()
}

/// Held or booked seats made available, with no booking and no hold.
fn freed() -> sea_orm::UpdateMany<flight_seat::Entity> {
    flight_seat::Entity::update_many()
        .col_expr(flight_seat::Column::Status, Expr::value(STATUS_AVAILABLE))
        .col_expr(
            flight_seat::Column::BookingId,
            Expr::value(Option::<i32>::None),
        )
        .col_expr(
            flight_seat::Column::HeldUntil,
            Expr::value(Option::<NaiveDateTime>::None),
        )
        .filter(flight_seat::Column::Status.is_in([STATUS_HELD, STATUS_BOOKED]))
}

/// Turns the booking's held seats into booked ones.
pub fn mark_booked_statement(booking_id: i32) -> UpdateStatement {
    flight_seat::Entity::update_many()
        .col_expr(flight_seat::Column::Status, Expr::value(STATUS_BOOKED))
        .col_expr(
            flight_seat::Column::HeldUntil,
            Expr::value(Option::<NaiveDateTime>::None),
        )
        .filter(flight_seat::Column::BookingId.eq(booking_id))
        .filter(flight_seat::Column::Status.eq(STATUS_HELD))
        .into_query()
}

/// Moves the end of the booking's holds to `until` (kept while a payment is with the
/// provider, given back after it). The flight's `holds_lapse_at` is left alone: it stays a
/// lower bound (a hold that ends later than it says is found when it is looked at), and this
/// transaction does not hold the flight's lock.
pub fn hold_until_statement(booking_id: i32, until: SimpleExpr) -> UpdateStatement {
    flight_seat::Entity::update_many()
        .col_expr(flight_seat::Column::HeldUntil, until)
        .filter(flight_seat::Column::BookingId.eq(booking_id))
        .filter(flight_seat::Column::Status.eq(STATUS_HELD))
        .into_query()
}

/// Sets the flight's two summaries of its seats from the seats themselves, in the transaction
/// that changed them: `seats_available` (its `available` seats) and `holds_lapse_at` (the
/// earliest end of a hold, NULL when nothing is held). Both are one range of the
/// `(flight_id, status, held_until)` index. Search reads them instead of counting seat rows.
/// The caller holds the flight's lock (see [`flight_row`]). Changes one row when
/// the flight exists.
pub fn summaries_statement(flight_id: i32) -> UpdateStatement {
    let available: SelectStatement = seats_of(flight_id, STATUS_AVAILABLE)
        .expr(Expr::cust("COUNT(*)"))
        .to_owned();
    let mut update = holds_summary_statement(flight_id);
    update.value(
        flight::Column::SeatsAvailable,
        SimpleExpr::SubQuery(None, Box::new(available.into_sub_query_statement())),
    );
    update
}

/// [`summaries_statement`] for a change that moves no seat in or out of `available` (held
/// seats booked): only `holds_lapse_at`.
pub fn holds_summary_statement(flight_id: i32) -> UpdateStatement {
    let earliest_hold: SelectStatement = seats_of(flight_id, STATUS_HELD)
        .expr(Expr::col(flight_seat::Column::HeldUntil).min())
        .to_owned();
    Query::update()
        .table(flight::Entity)
        .value(
            flight::Column::HoldsLapseAt,
            SimpleExpr::SubQuery(None, Box::new(earliest_hold.into_sub_query_statement())),
        )
        .and_where(flight::Column::Id.eq(flight_id))
        .to_owned()
}

fn seats_of(flight_id: i32, status: &str) -> SelectStatement {
    Query::select()
        .from(flight_seat::Entity)
        .and_where(flight_seat::Column::FlightId.eq(flight_id))
        .and_where(flight_seat::Column::Status.eq(status))
        .to_owned()
}
