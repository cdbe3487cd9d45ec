//! Writing flights: create (with its seats), update and delete, checked against the catalog.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, TransactionTrait,
};

use super::local_date;
use super::read::{get_details, FlightDetails};
use crate::clock;
use crate::db::Database;
use crate::error::{AppError, Validator};
use crate::models::catalog::{
    airplane, airport, flight, flight_seat, Currency, FlightNumber, IataCode, Money,
};
use crate::services::booking::flight_cancellation::live_bookings;
use crate::services::booking::seat_guard;
use crate::services::catalog::airplanes::Cabin;
use crate::services::catalog::airports::{find_by_code, parse_timezone};
use crate::services::catalog::seats;
use crate::services::db_errors::{is_foreign_key_violation, is_unique_violation};
use crate::services::notify::outbox::{self, ScheduleDetails};

/// No scheduled flight lasts longer.
const MAX_DURATION_HOURS: i64 = 24;

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
    db.durably(async move {
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
    })
    .await
}

/// Writes the flight and its seats; used by `create` and by the demo seeder.
async fn insert_with_inventory<C: ConnectionTrait>(
    conn: &C,
    new: &FlightForCreate,
    resolved: &Resolved,
) -> Result<i32, AppError> {
    let cabin = Cabin::of(&resolved.airplane)?;
    let id = insert_row(conn, new, resolved, cabin.seat_count()).await?;
    seats::insert_inventory(conn, id, &cabin).await?;
    Ok(id)
}

/// Writes the flight's own row, every seat free.
async fn insert_row<C: ConnectionTrait>(
    conn: &C,
    new: &FlightForCreate,
    resolved: &Resolved,
    seat_count: i32,
) -> Result<i32, AppError> {
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
        seats_total: Set(seat_count),
        seats_available: Set(seat_count),
        created_at: Set(clock::now()),
        ..Default::default()
    };
    match flight::Entity::insert(row).exec(conn).await {
        Ok(inserted) => Ok(inserted.last_insert_id),
        Err(err) if is_unique_violation(&err) => Err(duplicate(new.flight_number.as_str())),
        Err(err) => Err(err.into()),
    }
}

/// Inserts many flights without the "departs in the future" rule (the demo schedule starts
/// today), quickly: each airplane, route and duration is checked against the catalog once,
/// and a flight's seats are copied from the first flight of its airplane that this schedule
/// wrote (one short statement instead of a row of values per seat).
#[derive(Default)]
pub struct Schedule {
    resolved: HashMap<(i32, String, String, i64), Resolved>,
    /// Airplane id → a flight of it whose seats are the airplane's cabin.
    seats_like: HashMap<i32, (i32, i32)>,
}

impl Schedule {
    pub async fn insert<C: ConnectionTrait>(
        &mut self,
        conn: &C,
        new: &FlightForCreate,
    ) -> Result<i32, AppError> {
        let key = (
            new.airplane_id,
            new.departure_airport.to_string(),
            new.arrival_airport.to_string(),
            (new.arrival_time - new.departure_time).num_minutes(),
        );
        if !self.resolved.contains_key(&key) {
            let resolved = resolve(
                conn,
                new.airplane_id,
                new.departure_airport.as_str(),
                new.arrival_airport.as_str(),
                (new.departure_time, new.arrival_time),
                false,
            )
            .await?;
            self.resolved.insert(key.clone(), resolved);
        }
        let resolved = &self.resolved[&key];
        match self.seats_like.get(&new.airplane_id) {
            Some(&(like, seat_count)) => {
                let id = insert_row(conn, new, resolved, seat_count).await?;
                seats::copy_inventory(conn, like, id).await?;
                Ok(id)
            }
            None => {
                let id = insert_with_inventory(conn, new, resolved).await?;
                let seat_count = Cabin::of(&resolved.airplane)?.seat_count();
                self.seats_like.insert(new.airplane_id, (id, seat_count));
                Ok(id)
            }
        }
    }
}

#[tracing::instrument(skip(db, changes))]
pub async fn update(
    db: &Database,
    id: i32,
    changes: FlightForUpdate,
    email_max_attempts: u32,
) -> Result<FlightDetails, AppError> {
    db.durably(async move {
        let txn = db.writer.begin().await?;
        // Seats may be regenerated: queue behind bookings of this flight (see seat_guard).
        if !seat_guard::lock_flight(&txn, id).await? {
            return Err(AppError::NotFound);
        }
        let existing = flight::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or(AppError::NotFound)?;
        if existing.is_cancelled() {
            return Err(AppError::Conflict("the flight is cancelled".into()));
        }
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
        let moved = departs.naive_utc() != existing.departure_time
            || arrives.naive_utc() != existing.arrival_time;
        let previous = ScheduleDetails {
            old_departure: clock::to_utc(existing.departure_time),
            old_arrival: clock::to_utc(existing.arrival_time),
        };
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
        if moved {
            tell_of_new_times(&txn, id, &previous, email_max_attempts).await?;
        }
        let details = get_details(&txn, id).await?;
        txn.commit().await?;
        Ok(details)
    })
    .await
}

/// One "schedule changed" email to the owner of each booking still holding or owning seats
/// on the moved flight, in the transaction that moves it.
async fn tell_of_new_times<C: ConnectionTrait>(
    conn: &C,
    flight_id: i32,
    previous: &ScheduleDetails,
    email_max_attempts: u32,
) -> Result<(), AppError> {
    let now = clock::now();
    let details = serde_json::to_string(previous).map_err(anyhow::Error::from)?;
    let insert = outbox::enqueue_for_each(
        live_bookings(flight_id, now),
        outbox::SCHEDULE_CHANGED,
        Some(details),
        email_max_attempts,
        now,
    )?;
    let backend = conn.get_database_backend();
    conn.execute(backend.build(&insert)).await?;
    Ok(())
}

/// A flight with seats held or booked is referenced by bookings and stays.
#[tracing::instrument(skip(db))]
pub async fn delete(db: &Database, id: i32) -> Result<(), AppError> {
    db.durably(async move {
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
    })
    .await
}
