//! Online check-in: every seat of a confirmed booking marked and given its sequence number on
//! the flight, in one plan, inside the check-in window.

use chrono::{Duration, NaiveDateTime};
use sea_orm::sea_query::{Alias, Expr, Func, Query, SelectStatement, SimpleExpr, UpdateStatement};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait};

use super::bookings::{departure_of_booking, find_visible, seats_of, BookingDetails, Caller};
use super::seat_guard;
use crate::clock;
use crate::db::plan::{Expect, PlanError, WritePlan};
use crate::db::Database;
use crate::error::AppError;
use crate::models::booking::booking::{self, BookingStatus, CONFIRMED};
use crate::models::booking::booking_seat;

/// When online check-in is open, relative to departure (from the settings).
#[derive(Debug, Clone, Copy)]
pub struct CheckinWindow {
    pub opens_hours: u32,
    pub closes_minutes: u32,
}

impl CheckinWindow {
    pub fn opens_at(&self, departure: NaiveDateTime) -> NaiveDateTime {
        departure - Duration::hours(i64::from(self.opens_hours))
    }

    pub fn closes_at(&self, departure: NaiveDateTime) -> NaiveDateTime {
        departure - Duration::minutes(i64::from(self.closes_minutes))
    }

    /// Open from `opens_at` (included) until `closes_at` (excluded).
    pub fn is_open(&self, departure: NaiveDateTime, now: NaiveDateTime) -> bool {
        self.opens_at(departure) <= now && now < self.closes_at(departure)
    }
}

/// Checks in every seat of the caller's confirmed booking. A booking already checked in is
/// answered as it is, whenever asked; only its owner may check it in (anyone else: 404).
#[tracing::instrument(skip(db))]
pub async fn check_in(
    db: &Database,
    window: CheckinWindow,
    caller: Caller,
    id: i32,
) -> Result<BookingDetails, AppError> {
    let now = clock::now();
    // Which flight and seats, from a reader: a booking's seats never change.
    let booking = owned(find_visible(&db.reader, caller, id).await?, caller)?;
    let seats = seats_of(&db.reader, id).await?;
    if let Some(done) = already_checked_in(booking.clone(), seats.clone(), now) {
        return Ok(done);
    }
    let plan = plan(&booking, &seats, window, now);
    match db.execute(plan).await {
        Ok(written) => Ok(BookingDetails {
            booking: written.one("booking")?,
            seats: written.all("seats")?,
        }),
        Err(PlanError::Refused("open" | "seat")) => {
            // Read once to say why: the booking's state, a concurrent check-in of the same
            // booking (then it is done), or the window.
            let booking = owned(find_visible(&db.writer, caller, id).await?, caller)?;
            let seats = seats_of(&db.writer, id).await?;
            let status = booking.effective_status(now).to_string();
            if let Some(done) = already_checked_in(booking, seats, now) {
                return Ok(done);
            }
            if status != CONFIRMED {
                return Err(AppError::Conflict(format!(
                    "the booking is {status}; only a confirmed booking can be checked in"
                )));
            }
            Err(AppError::CheckinClosed)
        }
        Err(other) => Err(other.into()),
    }
}

/// Only the traveller checks in; for anyone else the booking does not exist.
fn owned(booking: booking::Model, caller: Caller) -> Result<booking::Model, AppError> {
    if booking.user_id == caller.user_id {
        Ok(booking)
    } else {
        Err(AppError::NotFound)
    }
}

/// The booking as it is, when it is confirmed and every seat is checked in.
fn already_checked_in(
    booking: booking::Model,
    seats: Vec<booking_seat::Model>,
    now: NaiveDateTime,
) -> Option<BookingDetails> {
    let done = booking.effective_status(now) == CONFIRMED
        && !seats.is_empty()
        && seats.iter().all(|seat| seat.checked_in_at.is_some());
    done.then_some(BookingDetails { booking, seats })
}

/// The check-in's one transaction: behind the flight's lock (so concurrent check-ins on the
/// flight queue and each sees the numbers given before it), the booking confirmed and in the
/// window, then each seat not yet checked in marked with the next number on the flight.
fn plan(
    booking: &booking::Model,
    seats: &[booking_seat::Model],
    window: CheckinWindow,
    now: NaiveDateTime,
) -> WritePlan {
    let open = booking::Entity::find()
        .select_only()
        .column_as(Expr::col(booking::Column::Id).count(), "open")
        .filter(booking::Column::Id.eq(booking.id))
        .filter(booking::Column::Status.eq(BookingStatus::Confirmed.as_str()))
        // Open from `opens_hours` before departure until `closes_minutes` before it.
        .filter(departure_of_booking().lte(now + Duration::hours(i64::from(window.opens_hours))))
        .filter(
            departure_of_booking().gt(now + Duration::minutes(i64::from(window.closes_minutes))),
        )
        .into_query();
    let mut plan = WritePlan::new()
        .lock("flight", seat_guard::flight_row(booking.flight_id))
        .count("open", open, Expect::Is(1));
    // One statement per seat, in the booking's seat order: each takes the number after the
    // highest given on the flight so far, this transaction's earlier seats included.
    for seat in seats.iter().filter(|seat| seat.checked_in_at.is_none()) {
        plan = plan.write(
            "seat",
            check_in_seat(seat.id, booking.flight_id, now),
            Expect::Is(1),
        );
    }
    plan.read("booking", booking::Entity::find_by_id(booking.id))
        .read(
            "seats",
            booking_seat::Entity::find()
                .filter(booking_seat::Column::BookingId.eq(booking.id))
                .order_by_asc(booking_seat::Column::Id),
        )
}

/// Marks one seat checked in with the flight's next sequence number, unless it already is.
fn check_in_seat(seat_id: i32, flight_id: i32, now: NaiveDateTime) -> UpdateStatement {
    booking_seat::Entity::update_many()
        .col_expr(booking_seat::Column::CheckedInAt, Expr::value(now))
        .col_expr(
            booking_seat::Column::CheckinFlightId,
            Expr::value(flight_id),
        )
        .col_expr(
            booking_seat::Column::CheckinSequence,
            SimpleExpr::SubQuery(
                None,
                Box::new(next_sequence(flight_id).into_sub_query_statement()),
            ),
        )
        .filter(booking_seat::Column::Id.eq(seat_id))
        .filter(booking_seat::Column::CheckedInAt.is_null())
        .into_query()
}

/// The flight's highest sequence number plus one. Read through a derived table: MySQL does
/// not let an UPDATE read its own table in a plain subquery, but does once the subquery's
/// result is materialised (an aggregate is never merged into the outer query).
fn next_sequence(flight_id: i32) -> SelectStatement {
    let highest = Query::select()
        .expr_as(
            Expr::expr(Func::coalesce([
                Expr::col(booking_seat::Column::CheckinSequence).max(),
                Expr::value(0),
            ]))
            .add(1),
            Alias::new("next"),
        )
        .from(booking_seat::Entity)
        .and_where(booking_seat::Column::CheckinFlightId.eq(flight_id))
        .to_owned();
    Query::select()
        .column(Alias::new("next"))
        .from_subquery(highest, Alias::new("highest"))
        .to_owned()
}
