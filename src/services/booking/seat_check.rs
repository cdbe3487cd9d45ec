//! What a booking request is checked against before it queues for a write: the flight and
//! the chosen seats, in one read. Taken seats are refused here, so the losers of a rush for
//! one seat are answered at once; the booking's plan stays the guard for the seats that look
//! free.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use sea_orm::sea_query::{Alias, Expr, JoinType, Query};
use sea_orm::{
    Condition, ConnectionTrait, DbBackend, DbErr, FromQueryResult, Iterable, QueryResult,
    Statement, Value,
};

use crate::db::session::Session;
use crate::db::template::{PerBackend, Template};
use crate::error::AppError;
use crate::models::catalog::{flight, flight_seat, SeatCode};
use crate::services::catalog::seats::status_is_free;

/// A chosen seat as read before the booking: its status and the end of its hold.
pub(super) struct SeatSeen {
    pub seat: SeatCode,
    pub class: String,
    pub status: String,
    pub held_until: Option<NaiveDateTime>,
}

/// The flight, with one row per chosen seat it has (the LEFT JOIN gives one row with no seat
/// when none matches).
struct FlightSeatRow {
    flight: flight::Model,
    seat: Option<SeatSeen>,
}

impl FromQueryResult for FlightSeatRow {
    fn from_query_result(row: &QueryResult, pre: &str) -> Result<Self, DbErr> {
        let seat: Option<String> = row.try_get(pre, "s_seat")?;
        Ok(Self {
            flight: flight::Model::from_query_result(row, pre)?,
            seat: match seat {
                Some(seat) => Some(SeatSeen {
                    seat: SeatCode::parse(&seat).map_err(DbErr::Type)?,
                    class: row.try_get(pre, "s_class")?,
                    status: row.try_get(pre, "s_status")?,
                    held_until: row.try_get(pre, "s_held_until")?,
                }),
                None => None,
            },
        })
    }
}

/// The flight and the chosen seats among its seats, in one read.
pub(super) async fn flight_and_seats(
    session: &mut Session<'_>,
    flight_id: i32,
    seats: &[SeatCode],
) -> Result<Option<(flight::Model, Vec<SeatSeen>)>, AppError> {
    let seats: Vec<String> = seats.iter().map(ToString::to_string).collect();
    let backend = session.database().reader.get_database_backend();
    let statement = flight_and_seats_statement(backend, flight_id, &seats);
    let mut rows = session
        .query_all(statement)
        .await?
        .iter()
        .map(|row| FlightSeatRow::from_query_result(row, ""))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter();
    let Some(first) = rows.next() else {
        return Ok(None);
    };
    let flight = first.flight;
    let found = std::iter::once(first.seat)
        .chain(rows.map(|row| row.seat))
        .flatten()
        .collect();
    Ok(Some((flight, found)))
}

/// Bookings name at most this many seats; the SQL of each count is kept (see `Template`).
const TEMPLATED_SEATS: usize = 16;
const SENTINEL_FLIGHT: i32 = i32::MIN + 3;

fn flight_and_seats_select(
    flight_id: i32,
    seats: &[String],
) -> sea_orm::sea_query::SelectStatement {
    let s = Alias::new("s");
    let mut select = Query::select();
    select
        .columns(flight::Column::iter().map(|c| (flight::Entity, c)))
        .expr_as(
            Expr::col((s.clone(), flight_seat::Column::Seat)),
            Alias::new("s_seat"),
        )
        .expr_as(
            Expr::col((s.clone(), flight_seat::Column::Class)),
            Alias::new("s_class"),
        )
        .expr_as(
            Expr::col((s.clone(), flight_seat::Column::Status)),
            Alias::new("s_status"),
        )
        .expr_as(
            Expr::col((s.clone(), flight_seat::Column::HeldUntil)),
            Alias::new("s_held_until"),
        )
        .from(flight::Entity)
        .join_as(
            JoinType::LeftJoin,
            flight_seat::Entity,
            s.clone(),
            Condition::all()
                .add(
                    Expr::col((s.clone(), flight_seat::Column::FlightId))
                        .equals((flight::Entity, flight::Column::Id)),
                )
                .add(Expr::col((s, flight_seat::Column::Seat)).is_in(seats.iter().cloned())),
        )
        .and_where(Expr::col((flight::Entity, flight::Column::Id)).eq(flight_id));
    select
}

fn seat_sentinels(count: usize) -> Vec<String> {
    (0..count).map(|i| format!("\u{1}seat{i}")).collect()
}

fn flight_and_seats_statement(backend: DbBackend, flight_id: i32, seats: &[String]) -> Statement {
    // One per number of seats named.
    static TEMPLATES: [PerBackend; TEMPLATED_SEATS + 1] =
        [const { PerBackend::new() }; TEMPLATED_SEATS + 1];
    let Some(per_backend) = TEMPLATES.get(seats.len()) else {
        return backend.build(&flight_and_seats_select(flight_id, seats));
    };
    let template = per_backend.get(backend, || {
        let marks = seat_sentinels(seats.len());
        let mut sentinels = vec![Value::from(SENTINEL_FLIGHT)];
        sentinels.extend(marks.iter().map(|m| Value::from(m.as_str())));
        Template::new(
            backend,
            &flight_and_seats_select(SENTINEL_FLIGHT, &marks),
            &sentinels,
        )
    });
    let mut args = vec![Value::from(flight_id)];
    args.extend(seats.iter().map(|seat| Value::from(seat.as_str())));
    template.statement(&args)
}

/// Refuses seats the flight does not have (422); returns those of `chosen` that are not free,
/// in seat order.
pub(super) fn check_seats(
    chosen: &[SeatCode],
    found: &[SeatSeen],
    now: NaiveDateTime,
) -> Result<Vec<SeatCode>, AppError> {
    let free: HashMap<SeatCode, bool> = found
        .iter()
        .map(|s| (s.seat, status_is_free(&s.status, s.held_until, now)))
        .collect();
    let unknown: Vec<String> = chosen
        .iter()
        .filter(|s| !free.contains_key(s))
        .map(ToString::to_string)
        .collect();
    if !unknown.is_empty() {
        return Err(AppError::field(
            "seats",
            format!("no such seat on this flight: {}", unknown.join(", ")),
        ));
    }
    let mut taken: Vec<SeatCode> = chosen
        .iter()
        .filter(|s| free.get(s) == Some(&false))
        .copied()
        .collect();
    taken.sort();
    Ok(taken)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seat_check_s_templates_build_what_sea_query_builds() {
        for backend in [DbBackend::Sqlite, DbBackend::Postgres, DbBackend::MySql] {
            for count in 0..=TEMPLATED_SEATS + 1 {
                let seats: Vec<String> = (0..count).map(|i| format!("{}A", i + 1)).collect();
                assert_eq!(
                    flight_and_seats_statement(backend, 42, &seats),
                    backend.build(&flight_and_seats_select(42, &seats)),
                    "{backend:?}, {count} seats"
                );
            }
        }
    }
}
