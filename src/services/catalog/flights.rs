use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use sea_orm::sea_query::{Alias, Expr, JoinType, Query, SelectStatement, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, DbErr,
    EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter, QueryResult, TransactionTrait,
};

use super::airplanes::Cabin;
use super::airports::{find_by_code, parse_timezone};
use super::seats;
use crate::clock;
use crate::db::template::{PerBackend, Template};
use crate::db::Database;
use crate::error::{AppError, Validator};
use crate::models::catalog::{
    airplane, airport, flight, flight_seat, Currency, FlightNumber, IataCode, Money,
};
use crate::services::booking::seat_guard;
use crate::services::db_errors::{is_foreign_key_violation, is_unique_violation};

/// No scheduled flight lasts longer.
const MAX_DURATION_HOURS: i64 = 24;

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
        })
    }
}

pub struct FlightForCreate {
    pub flight_number: FlightNumber,
    pub airplane_id: i32,
    pub departure_airport: IataCode,
    pub arrival_airport: IataCode,
    pub departure_time: DateTime<Utc>,
    pub arrival_time: DateTime<Utc>,
    pub price_economy: Money,
    pub price_business: Money,
}

#[derive(Default)]
pub struct FlightForUpdate {
    pub flight_number: Option<FlightNumber>,
    pub airplane_id: Option<i32>,
    pub departure_airport: Option<IataCode>,
    pub arrival_airport: Option<IataCode>,
    pub departure_time: Option<DateTime<Utc>>,
    pub arrival_time: Option<DateTime<Utc>>,
    pub price_economy: Option<i64>,
    pub price_business: Option<i64>,
    pub currency: Option<Currency>,
}

/// The calendar date of a UTC instant at a place.
pub fn local_date(utc: NaiveDateTime, tz: Tz) -> NaiveDate {
    tz.from_utc_datetime(&utc).date_naive()
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
        .from(flight::Entity);
    join_airports(&mut select);
    select
}

/// A flight's timestamp column as a read carries it. SQLite keeps timestamps as text, which
/// sqlx parses by trying three formats in turn (each re-reading its format string: ~4 % of a
/// 20-result search's samples); as whole seconds since the epoch it decodes with no parsing
/// (stored times are whole seconds everywhere).
fn stored_time(backend: DbBackend, column: flight::Column) -> SimpleExpr {
    let column = Expr::col((flight::Entity, column));
    match backend {
        // `?` is where sea-query puts the expression on SQLite (`$1` is only PostgreSQL's).
        DbBackend::Sqlite => Expr::cust_with_expr("CAST(strftime('%s', ?) AS INTEGER)", column),
        DbBackend::Postgres | DbBackend::MySql => column.into(),
    }
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

/// The checked, resolved form of a flight about to be written.
struct Resolved {
    airplane: airplane::Model,
    departure: airport::Model,
    arrival: airport::Model,
}

async fn resolve<C: ConnectionTrait>(
    conn: &C,
    airplane_id: i32,
    departure: &str,
    arrival: &str,
    times: (DateTime<Utc>, DateTime<Utc>),
    departure_must_be_future: bool,
) -> Result<Resolved, AppError> {
    let mut v = Validator::new();
    let airplane = airplane::Entity::find_by_id(airplane_id).one(conn).await?;
    if airplane.is_none() {
        v.fail("airplane_id", "no airplane has this id");
    }
    let departure_airport = find_by_code(conn, departure).await?;
    if departure_airport.is_none() {
        v.fail("departure_airport", "no airport has this code");
    }
    let arrival_airport = find_by_code(conn, arrival).await?;
    if arrival_airport.is_none() {
        v.fail("arrival_airport", "no airport has this code");
    }
    if departure == arrival {
        v.fail("arrival_airport", "must differ from the departure airport");
    }
    let (departs, arrives) = times;
    if arrives <= departs {
        v.fail("arrival_time", "must be after the departure time");
    } else if arrives - departs > chrono::Duration::hours(MAX_DURATION_HOURS) {
        v.fail(
            "arrival_time",
            format!("a flight lasts at most {MAX_DURATION_HOURS} hours"),
        );
    }
    if departure_must_be_future && departs <= Utc::now() {
        v.fail("departure_time", "must be in the future");
    }
    v.finish()?;
    match (airplane, departure_airport, arrival_airport) {
        (Some(airplane), Some(departure), Some(arrival)) => Ok(Resolved {
            airplane,
            departure,
            arrival,
        }),
        _ => Err(anyhow::anyhow!("validated flight lost a reference").into()),
    }
}

fn zone_of(airport: &airport::Model) -> Result<Tz, AppError> {
    parse_timezone(&airport.timezone)
        .map_err(|e| anyhow::anyhow!("airport {} has a bad time zone: {e}", airport.code).into())
}

fn check_prices(economy: &Money, business: &Money) -> Result<(), AppError> {
    if economy.currency() != business.currency() {
        return Err(AppError::field(
            "currency",
            "both prices are in one currency",
        ));
    }
    Ok(())
}

fn duplicate(number: &str) -> AppError {
    AppError::Conflict(format!("flight {number} already departs at that time"))
}

#[tracing::instrument(skip_all, fields(flight_number = %new.flight_number))]
pub async fn create(db: &Database, new: FlightForCreate) -> Result<FlightDetails, AppError> {
    check_prices(&new.price_economy, &new.price_business)?;
    let txn = db.writer.begin().await?;
    let resolved = resolve(
        &txn,
        new.airplane_id,
        new.departure_airport.as_str(),
        new.arrival_airport.as_str(),
        (new.departure_time, new.arrival_time),
        true,
    )
    .await?;
    let id = insert_with_inventory(&txn, &new, &resolved).await?;
    let details = get_details(&txn, id).await?;
    txn.commit().await?;
    Ok(details)
}

/// Writes the flight and its seats; used by `create` and by the demo seeder.
async fn insert_with_inventory<C: ConnectionTrait>(
    conn: &C,
    new: &FlightForCreate,
    resolved: &Resolved,
) -> Result<i32, AppError> {
    let cabin = Cabin::of(&resolved.airplane)?;
    let departure_time = new.departure_time.naive_utc();
    let row = flight::ActiveModel {
        flight_number: Set(new.flight_number.to_string()),
        airplane_id: Set(resolved.airplane.id),
        departure_airport_id: Set(resolved.departure.id),
        arrival_airport_id: Set(resolved.arrival.id),
        departure_time: Set(departure_time),
        arrival_time: Set(new.arrival_time.naive_utc()),
        departure_local_date: Set(local_date(departure_time, zone_of(&resolved.departure)?)),
        price_economy: Set(new.price_economy.minor()),
        price_business: Set(new.price_business.minor()),
        currency: Set(new.price_economy.currency().code().to_string()),
        seats_total: Set(cabin.seat_count()),
        seats_available: Set(cabin.seat_count()),
        created_at: Set(clock::now()),
        ..Default::default()
    };
    let inserted = match flight::Entity::insert(row).exec(conn).await {
        Ok(inserted) => inserted,
        Err(err) if is_unique_violation(&err) => return Err(duplicate(new.flight_number.as_str())),
        Err(err) => return Err(err.into()),
    };
    seats::insert_inventory(conn, inserted.last_insert_id, &cabin).await?;
    Ok(inserted.last_insert_id)
}

/// Inserts a flight without the "departs in the future" rule (the demo schedule starts today).
pub async fn insert_scheduled<C: ConnectionTrait>(
    conn: &C,
    new: &FlightForCreate,
) -> Result<i32, AppError> {
    let resolved = resolve(
        conn,
        new.airplane_id,
        new.departure_airport.as_str(),
        new.arrival_airport.as_str(),
        (new.departure_time, new.arrival_time),
        false,
    )
    .await?;
    insert_with_inventory(conn, new, &resolved).await
}

#[tracing::instrument(skip(db, changes))]
pub async fn update(
    db: &Database,
    id: i32,
    changes: FlightForUpdate,
) -> Result<FlightDetails, AppError> {
    let txn = db.writer.begin().await?;
    // Seats may be regenerated: queue behind bookings of this flight (see seat_guard).
    if !seat_guard::lock_flight(&txn, id).await? {
        return Err(AppError::NotFound);
    }
    let existing = flight::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let current = get_details(&txn, id).await?;
    let departure_code = changes
        .departure_airport
        .as_ref()
        .map(|c| c.to_string())
        .unwrap_or(current.departure_airport.clone());
    let arrival_code = changes
        .arrival_airport
        .as_ref()
        .map(|c| c.to_string())
        .unwrap_or(current.arrival_airport.clone());
    let departs = changes
        .departure_time
        .unwrap_or(clock::to_utc(existing.departure_time));
    let arrives = changes
        .arrival_time
        .unwrap_or(clock::to_utc(existing.arrival_time));
    let airplane_id = changes.airplane_id.unwrap_or(existing.airplane_id);
    let resolved = resolve(
        &txn,
        airplane_id,
        &departure_code,
        &arrival_code,
        (departs, arrives),
        changes.departure_time.is_some(),
    )
    .await?;
    let currency = match changes.currency {
        Some(currency) => currency,
        None => Currency::parse(&existing.currency).map_err(|e| anyhow::anyhow!(e))?,
    };
    let mut v = Validator::new();
    let economy = v.check(
        "price_economy",
        Money::new(
            changes.price_economy.unwrap_or(existing.price_economy),
            currency,
        ),
    );
    let business = v.check(
        "price_business",
        Money::new(
            changes.price_business.unwrap_or(existing.price_business),
            currency,
        ),
    );
    v.finish()?;
    let (Some(economy), Some(business)) = (economy, business) else {
        return Err(anyhow::anyhow!("validated prices went missing").into());
    };

    let new_airplane = airplane_id != existing.airplane_id;
    if new_airplane && seats::any_taken(&txn, id).await? {
        return Err(AppError::Conflict(
            "the airplane of a flight with bookings cannot change".into(),
        ));
    }
    let number = changes
        .flight_number
        .map(|n| n.to_string())
        .unwrap_or(existing.flight_number.clone());
    let mut row: flight::ActiveModel = existing.into();
    row.flight_number = Set(number.clone());
    row.airplane_id = Set(airplane_id);
    row.departure_airport_id = Set(resolved.departure.id);
    row.arrival_airport_id = Set(resolved.arrival.id);
    row.departure_time = Set(departs.naive_utc());
    row.arrival_time = Set(arrives.naive_utc());
    row.departure_local_date = Set(local_date(
        departs.naive_utc(),
        zone_of(&resolved.departure)?,
    ));
    row.price_economy = Set(economy.minor());
    row.price_business = Set(business.minor());
    row.currency = Set(currency.code().to_string());
    if new_airplane {
        let cabin = Cabin::of(&resolved.airplane)?;
        flight_seat::Entity::delete_many()
            .filter(flight_seat::Column::FlightId.eq(id))
            .exec(&txn)
            .await?;
        seats::insert_inventory(&txn, id, &cabin).await?;
        row.seats_total = Set(cabin.seat_count());
        row.seats_available = Set(cabin.seat_count());
    }
    match row.update(&txn).await {
        Ok(_) => {}
        Err(err) if is_unique_violation(&err) => return Err(duplicate(&number)),
        Err(err) => return Err(err.into()),
    }
    let details = get_details(&txn, id).await?;
    txn.commit().await?;
    Ok(details)
}

/// A flight with seats held or booked is referenced by bookings and stays.
#[tracing::instrument(skip(db))]
pub async fn delete(db: &Database, id: i32) -> Result<(), AppError> {
    let txn = db.writer.begin().await?;
    if !seat_guard::lock_flight(&txn, id).await? {
        return Err(AppError::NotFound);
    }
    flight::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let bookings = crate::models::booking::booking::Entity::find()
        .filter(crate::models::booking::booking::Column::FlightId.eq(id))
        .count(&txn)
        .await?;
    if bookings > 0 || seats::any_taken(&txn, id).await? {
        return Err(AppError::Conflict("the flight has bookings".into()));
    }
    flight_seat::Entity::delete_many()
        .filter(flight_seat::Column::FlightId.eq(id))
        .exec(&txn)
        .await?;
    match flight::Entity::delete_by_id(id).exec(&txn).await {
        Ok(_) => {}
        Err(err) if is_foreign_key_violation(&err) => {
            return Err(AppError::Conflict("the flight has bookings".into()))
        }
        Err(err) => return Err(err.into()),
    }
    txn.commit().await?;
    Ok(())
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
