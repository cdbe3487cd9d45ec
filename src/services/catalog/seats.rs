//! The seat inventory of a flight: made from the airplane's cabin when the flight is created,
//! read as a seat map.

use chrono::NaiveDateTime;
use sea_orm::sea_query::{Expr, Order, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult,
    QueryFilter, QueryOrder, QueryResult, QuerySelect,
};

use super::airplanes::Cabin;
use crate::db::Database;
use crate::error::AppError;
use crate::models::catalog::flight;
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

/// Gives `flight_id` the seats of `like` (a flight of the same airplane), every one free:
/// one short statement where `insert_inventory` sends a row of values per seat.
pub async fn copy_inventory<C: ConnectionTrait>(
    conn: &C,
    like: i32,
    flight_id: i32,
) -> Result<(), AppError> {
    use flight_seat::Column;
    let seats = Query::select()
        .expr(Expr::val(flight_id))
        .columns([
            Column::Seat,
            Column::RowNumber,
            Column::Letter,
            Column::Class,
        ])
        .expr(Expr::val(STATUS_AVAILABLE))
        .from(flight_seat::Entity)
        .and_where(Column::FlightId.eq(like))
        .order_by(Column::Id, Order::Asc)
        .to_owned();
    let insert = Query::insert()
        .into_table(flight_seat::Entity)
        .columns([
            Column::FlightId,
            Column::Seat,
            Column::RowNumber,
            Column::Letter,
            Column::Class,
            Column::Status,
        ])
        .select_from(seats)
        .map_err(|e| anyhow::anyhow!("copy seats: {e}"))?
        .to_owned();
    conn.execute(conn.get_database_backend().build(&insert))
        .await?;
    Ok(())
}

/// A seat is free when nobody holds or booked it, or when its hold has run out (whether or
/// not the sweeper has released it yet).
pub fn is_free(seat: &flight_seat::Model, now: NaiveDateTime) -> bool {
    status_is_free(&seat.status, seat.held_until, now)
}

/// `is_free` for a seat read as its status and hold end only.
pub fn status_is_free(status: &str, held_until: Option<NaiveDateTime>, now: NaiveDateTime) -> bool {
    status == STATUS_AVAILABLE
        || (status == STATUS_HELD && held_until.is_some_and(|until| until <= now))
}

/// A seat as the API's seat map shows it: only the columns it needs (decoding 180 whole rows
/// by name was half of the map's cost).
#[derive(Debug, Clone)]
pub struct SeatState {
    pub seat: String,
    pub class: String,
    pub status: String,
    pub held_until: Option<NaiveDateTime>,
}

/// By position, in the order `priced_seat_map` selects them: a lookup by name formats a key
/// per column and row.
impl FromQueryResult for SeatState {
    fn from_query_result(row: &QueryResult, _pre: &str) -> Result<Self, DbErr> {
        Ok(Self {
            seat: row.try_get_by_index(0)?,
            class: row.try_get_by_index(1)?,
            status: row.try_get_by_index(2)?,
            held_until: row.try_get_by_index(3)?,
        })
    }
}

impl SeatState {
    pub fn is_free(&self, now: NaiveDateTime) -> bool {
        status_is_free(&self.status, self.held_until, now)
    }
}

/// What pricing a seat map needs from its flight.
#[derive(Debug, Clone, FromQueryResult)]
pub struct FlightPrices {
    pub id: i32,
    pub price_economy: i64,
    pub price_business: i64,
    pub currency: String,
}

/// The flight's prices and the state of each of its seats, in row, then letter order.
pub async fn priced_seat_map(
    db: &Database,
    flight_id: i32,
) -> Result<(FlightPrices, Vec<SeatState>), AppError> {
    let prices = flight::Entity::find_by_id(flight_id)
        .select_only()
        .columns([
            flight::Column::Id,
            flight::Column::PriceEconomy,
            flight::Column::PriceBusiness,
            flight::Column::Currency,
        ])
        .into_model::<FlightPrices>()
        .one(&db.reader)
        .await?
        .ok_or(AppError::NotFound)?;
    let seats = flight_seat::Entity::find()
        .select_only()
        .columns([
            flight_seat::Column::Seat,
            flight_seat::Column::Class,
            flight_seat::Column::Status,
            flight_seat::Column::HeldUntil,
        ])
        .filter(flight_seat::Column::FlightId.eq(flight_id))
        .order_by_asc(flight_seat::Column::RowNumber)
        .order_by_asc(flight_seat::Column::Letter)
        .into_model::<SeatState>()
        .all(&db.reader)
        .await?;
    Ok((prices, seats))
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
