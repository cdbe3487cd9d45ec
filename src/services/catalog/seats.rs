//! The seat inventory of a flight: made from the airplane's cabin when the flight is created,
//! read as a seat map.

use chrono::NaiveDateTime;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};

use super::airplanes::Cabin;
use crate::db::Database;
use crate::error::AppError;
use crate::models::catalog::flight_seat::{
    self, CLASS_BUSINESS, CLASS_ECONOMY, STATUS_AVAILABLE, STATUS_HELD,
};
use crate::models::catalog::SeatCode;

/// Rows per INSERT: well under every backend's bound-parameter limit.
const INSERT_CHUNK: usize = 500;

/// Inserts one available seat per cabin position.
pub async fn insert_inventory<C: ConnectionTrait>(
    conn: &C,
    flight_id: i32,
    cabin: &Cabin,
) -> Result<(), AppError> {
    let mut rows = Vec::with_capacity(cabin.seat_count() as usize);
    for row_number in 1..=cabin.rows {
        let class = if row_number <= cabin.business_rows {
            CLASS_BUSINESS
        } else {
            CLASS_ECONOMY
        };
        for letter in cabin.layout.letters() {
            let seat = SeatCode::new(row_number as u16, letter).map_err(|e| anyhow::anyhow!(e))?;
            rows.push(flight_seat::ActiveModel {
                flight_id: Set(flight_id),
                seat: Set(seat.to_string()),
                row_number: Set(row_number),
                letter: Set(letter.to_string()),
                class: Set(class.to_string()),
                status: Set(STATUS_AVAILABLE.to_string()),
                booking_id: Set(None),
                held_until: Set(None),
                ..Default::default()
            });
        }
    }
    while !rows.is_empty() {
        let rest = rows.split_off(rows.len().min(INSERT_CHUNK));
        flight_seat::Entity::insert_many(rows).exec(conn).await?;
        rows = rest;
    }
    Ok(())
}

/// A seat is free when nobody holds or booked it, or when its hold has run out (whether or
/// not the sweeper has released it yet).
pub fn is_free(seat: &flight_seat::Model, now: NaiveDateTime) -> bool {
    seat.status == STATUS_AVAILABLE
        || (seat.status == STATUS_HELD && seat.held_until.is_some_and(|until| until <= now))
}

/// All seats of a flight in row, then letter order.
pub async fn seat_map(db: &Database, flight_id: i32) -> Result<Vec<flight_seat::Model>, AppError> {
    Ok(flight_seat::Entity::find()
        .filter(flight_seat::Column::FlightId.eq(flight_id))
        .order_by_asc(flight_seat::Column::RowNumber)
        .order_by_asc(flight_seat::Column::Letter)
        .all(&db.reader)
        .await?)
}

/// Whether any seat of the flight is held or booked (the flight is then referenced).
pub async fn any_taken<C: ConnectionTrait>(conn: &C, flight_id: i32) -> Result<bool, AppError> {
    Ok(flight_seat::Entity::find()
        .filter(flight_seat::Column::FlightId.eq(flight_id))
        .filter(flight_seat::Column::Status.ne(STATUS_AVAILABLE))
        .one(conn)
        .await?
        .is_some())
}
