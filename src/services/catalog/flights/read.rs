//! Reading flights as every read shows them: the details query, by one id or several.

use chrono::NaiveDateTime;
use sea_orm::sea_query::{Alias, Expr, JoinType, Query, SelectStatement, SimpleExpr};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, FromQueryResult, QueryResult};

use crate::clock;
use crate::db::template::{PerBackend, Template};
use crate::db::Database;
use crate::error::AppError;
use crate::models::catalog::{airport, flight, flight_seat};

/// A flight with its airports' codes, as every read shows it. Read from `details_select`'s
/// columns by position (see the `FromQueryResult` below).
#[derive(Debug, Clone)]
pub struct FlightDetails {
    pub id: i32,
    pub flight_number: String,
    pub airplane_id: i32,
    pub departure_airport: String,
    pub arrival_airport: String,
    pub departure_time: NaiveDateTime,
    pub arrival_time: NaiveDateTime,
    pub price_economy: i64,
    pub price_business: i64,
    pub currency: String,
    pub seats_total: i32,
    /// Free seats: the flight's counter plus holds that ran out before the sweeper freed them.
    pub seats_available: i64,
    /// `scheduled` or `cancelled`.
    pub status: String,
}

/// By position, in `details_select`'s column order: looking each of 12 columns up by name
/// (a formatted key and a map lookup per column) was a sixth of a 20-result search.
impl FromQueryResult for FlightDetails {
    fn from_query_result(row: &QueryResult, pre: &str) -> Result<Self, DbErr> {
        if !pre.is_empty() {
            return Err(DbErr::Type(format!(
                "FlightDetails is read by position, not under the prefix {pre}"
            )));
        }
        Ok(Self {
            id: row.try_get_by_index(0)?,
            flight_number: row.try_get_by_index(1)?,
            airplane_id: row.try_get_by_index(2)?,
            departure_time: row.try_get_by_index(3)?,
            arrival_time: row.try_get_by_index(4)?,
            price_economy: row.try_get_by_index(5)?,
            price_business: row.try_get_by_index(6)?,
            currency: row.try_get_by_index(7)?,
            seats_total: row.try_get_by_index(8)?,
            seats_available: row.try_get_by_index(9)?,
            departure_airport: row.try_get_by_index(10)?,
            arrival_airport: row.try_get_by_index(11)?,
            status: row.try_get_by_index(12)?,
        })
    }
}

/// `flights.seats_available` counts available seats; a hold that ran out is free too, even
/// before the sweeper releases it. Such holds are counted (from the holds index) only on a
/// flight whose earliest hold has ended (`holds_lapse_at`): for every other flight the
/// counter is the answer, with no subquery run.
pub fn free_seats(now: NaiveDateTime) -> SimpleExpr {
    let s = Alias::new("s");
    let expired_holds = Query::select()
        .expr(Expr::col((s.clone(), flight_seat::Column::Id)).count())
        .from_as(flight_seat::Entity, s.clone())
        .and_where(
            Expr::col((s.clone(), flight_seat::Column::FlightId))
                .equals((flight::Entity, flight::Column::Id)),
        )
        .and_where(Expr::col((s.clone(), flight_seat::Column::Status)).eq(flight_seat::STATUS_HELD))
        .and_where(Expr::col((s, flight_seat::Column::HeldUntil)).lte(now))
        .to_owned();
    let lapsed = Expr::case(
        Expr::col((flight::Entity, flight::Column::HoldsLapseAt)).lte(now),
        SimpleExpr::SubQuery(None, Box::new(expired_holds.into_sub_query_statement())),
    )
    .finally(0);
    Expr::col((flight::Entity, flight::Column::SeatsAvailable))
        .add(SimpleExpr::Case(Box::new(lapsed)))
}

/// Flights joined to their airports' codes; filters and order are added by the caller. The
/// column order is what `FlightDetails` reads; more columns may follow.
pub fn details_select(backend: DbBackend, now: NaiveDateTime) -> SelectStatement {
    let dep = Alias::new("dep");
    let arr = Alias::new("arr");
    let mut select = Query::select();
    select
        .columns([
            (flight::Entity, flight::Column::Id),
            (flight::Entity, flight::Column::FlightNumber),
            (flight::Entity, flight::Column::AirplaneId),
        ])
        .expr(stored_time(backend, flight::Column::DepartureTime))
        .expr(stored_time(backend, flight::Column::ArrivalTime))
        .columns([
            (flight::Entity, flight::Column::PriceEconomy),
            (flight::Entity, flight::Column::PriceBusiness),
            (flight::Entity, flight::Column::Currency),
            (flight::Entity, flight::Column::SeatsTotal),
        ])
        .expr_as(free_seats(now), Alias::new("seats_available"))
        .expr_as(
            Expr::col((dep.clone(), airport::Column::Code)),
            Alias::new("departure_airport"),
        )
        .expr_as(
            Expr::col((arr.clone(), airport::Column::Code)),
            Alias::new("arrival_airport"),
        )
        .column((flight::Entity, flight::Column::Status))
        .from(flight::Entity);
    join_airports(&mut select);
    select
}

/// A flight's timestamp column as a read carries it (see `db::portable`).
fn stored_time(backend: DbBackend, column: flight::Column) -> SimpleExpr {
    crate::db::portable::timestamp_for_read(backend, Expr::col((flight::Entity, column)))
}

/// The two airport joins, shared by the rows and the count of a search.
pub fn join_airports(select: &mut SelectStatement) {
    let dep = Alias::new("dep");
    let arr = Alias::new("arr");
    select
        .join_as(
            JoinType::InnerJoin,
            airport::Entity,
            dep.clone(),
            Expr::col((dep, airport::Column::Id))
                .equals((flight::Entity, flight::Column::DepartureAirportId)),
        )
        .join_as(
            JoinType::InnerJoin,
            airport::Entity,
            arr.clone(),
            Expr::col((arr, airport::Column::Id))
                .equals((flight::Entity, flight::Column::ArrivalAirportId)),
        );
}

/// Stands for "now" while a template is built: no flight read holds the earliest time.
pub const SENTINEL_NOW: NaiveDateTime = NaiveDateTime::MIN;
const SENTINEL_ID: i32 = i32::MIN + 7;

fn details_by_id(backend: DbBackend, now: NaiveDateTime, id: i32) -> SelectStatement {
    let mut select = details_select(backend, now);
    select.and_where(Expr::col((flight::Entity, flight::Column::Id)).eq(id));
    select
}

pub async fn get_details<C: ConnectionTrait>(conn: &C, id: i32) -> Result<FlightDetails, AppError> {
    static BY_ID: PerBackend = PerBackend::new();
    let backend = conn.get_database_backend();
    let template = BY_ID.get(backend, || {
        Template::new(
            backend,
            &details_by_id(backend, SENTINEL_NOW, SENTINEL_ID),
            &[SENTINEL_NOW.into(), SENTINEL_ID.into()],
        )
    });
    let statement = template.statement(&[clock::now().into(), id.into()]);
    FlightDetails::find_by_statement(statement)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)
}

pub async fn get(db: &Database, id: i32) -> Result<FlightDetails, AppError> {
    get_details(&db.reader, id).await
}

/// Several flights in one query, by id (a list of bookings shows each one's flight).
pub async fn get_many(
    db: &Database,
    ids: &[i32],
) -> Result<std::collections::HashMap<i32, FlightDetails>, AppError> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let backend = db.reader.get_database_backend();
    let mut select = details_select(backend, clock::now());
    select.and_where(Expr::col((flight::Entity, flight::Column::Id)).is_in(ids.iter().copied()));
    let statement = backend.build(&select);
    let flights = FlightDetails::find_by_statement(statement)
        .all(&db.reader)
        .await?;
    Ok(flights.into_iter().map(|f| (f.id, f)).collect())
}

#[cfg(test)]
mod template_tests {
    use super::*;

    #[test]
    fn the_by_id_template_builds_what_sea_query_builds() {
        let now = clock::now();
        for backend in [DbBackend::Sqlite, DbBackend::Postgres, DbBackend::MySql] {
            let template = Template::new(
                backend,
                &details_by_id(backend, SENTINEL_NOW, SENTINEL_ID),
                &[SENTINEL_NOW.into(), SENTINEL_ID.into()],
            );
            assert_eq!(
                template.statement(&[now.into(), 42.into()]),
                backend.build(&details_by_id(backend, now, 42))
            );
        }
    }
}
