//! The demo catalog: real airports and airplane layouts and a daily schedule for the next 30
//! days, inserted only where missing so that seeding twice changes nothing.

use std::collections::{HashMap, HashSet};

use chrono::{Duration, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QuerySelect, TransactionTrait,
};

use super::demo_data::{DemoRoute, AIRPLANES, AIRPORTS, CITIES, MORE_DEPARTURES, ROUTES};
use super::flights::{FlightForCreate, Schedule};
use crate::db::Database;
use crate::error::AppError;
use crate::models::catalog::{
    airplane, airport, city, flight, Currency, FlightNumber, IataCode, Money,
};

/// Today and the 30 days after it.
pub const SCHEDULE_DAYS: i64 = 31;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct SeedSummary {
    pub cities: usize,
    pub airports: usize,
    pub airplanes: usize,
    pub flights: usize,
}

pub async fn has_flights(db: &Database) -> Result<bool, AppError> {
    Ok(flight::Entity::find().limit(1).count(&db.reader).await? > 0)
}

#[tracing::instrument(skip(db))]
pub async fn seed(db: &Database) -> Result<SeedSummary, AppError> {
    let mut summary = SeedSummary::default();
    // Each transaction returns once durable: a seeded catalog survives a power cut.
    let airplane_ids = db
        .durably(async {
            let txn = db.writer.begin().await?;

            let mut city_ids = HashMap::new();
            for demo in CITIES {
                let existing = city::Entity::find()
                    .filter(city::Column::Name.eq(demo.name))
                    .filter(city::Column::CountryCode.eq(demo.country_code))
                    .one(&txn)
                    .await?;
                let id = match existing {
                    Some(found) => found.id,
                    None => {
                        summary.cities += 1;
                        city::ActiveModel {
                            name: Set(demo.name.into()),
                            country_code: Set(demo.country_code.into()),
                            ..Default::default()
                        }
                        .insert(&txn)
                        .await?
                        .id
                    }
                };
                city_ids.insert(demo.name, id);
            }

            for demo in AIRPORTS {
                let existing = airport::Entity::find()
                    .filter(airport::Column::Code.eq(demo.code))
                    .one(&txn)
                    .await?;
                if existing.is_none() {
                    let city_id = *city_ids
                        .get(demo.city)
                        .ok_or_else(|| anyhow::anyhow!("demo airport {} has no city", demo.code))?;
                    summary.airports += 1;
                    airport::ActiveModel {
                        code: Set(demo.code.into()),
                        name: Set(demo.name.into()),
                        city_id: Set(city_id),
                        timezone: Set(demo.timezone.into()),
                        ..Default::default()
                    }
                    .insert(&txn)
                    .await?;
                }
            }

            let mut airplane_ids = HashMap::new();
            for demo in AIRPLANES {
                let existing = airplane::Entity::find()
                    .filter(airplane::Column::Model.eq(demo.model))
                    .one(&txn)
                    .await?;
                let id = match existing {
                    Some(found) => found.id,
                    None => {
                        summary.airplanes += 1;
                        airplane::ActiveModel {
                            model: Set(demo.model.into()),
                            rows: Set(demo.rows),
                            seat_letters: Set(demo.seat_letters.into()),
                            business_rows: Set(demo.business_rows),
                            ..Default::default()
                        }
                        .insert(&txn)
                        .await?
                        .id
                    }
                };
                airplane_ids.insert(demo.model, id);
            }
            txn.commit().await?;
            Ok::<_, AppError>(airplane_ids)
        })
        .await?;

    let zones: HashMap<&str, Tz> = AIRPORTS
        .iter()
        .filter_map(|a| a.timezone.parse::<Tz>().ok().map(|tz| (a.code, tz)))
        .collect();
    let existing: HashSet<(String, NaiveDateTime)> = flight::Entity::find()
        .select_only()
        .column(flight::Column::FlightNumber)
        .column(flight::Column::DepartureTime)
        .into_tuple::<(String, NaiveDateTime)>()
        .all(&db.writer)
        .await?
        .into_iter()
        .collect();

    let now = Utc::now();
    let today = now.date_naive();
    let mut schedule = Schedule::default();
    // One transaction per day keeps each write short while staying fast.
    for day in 0..SCHEDULE_DAYS {
        let date = today + Duration::days(day);
        db.durably(async {
            let txn = db.writer.begin().await?;
            for route in ROUTES {
                let airplane_id = *airplane_ids.get(route.airplane).ok_or_else(|| {
                    anyhow::anyhow!("demo route {} has no airplane", route.flight_number)
                })?;
                for leg in legs(route) {
                    let tz = *zones
                        .get(leg.from)
                        .ok_or_else(|| anyhow::anyhow!("demo airport {} has no zone", leg.from))?;
                    let time = NaiveTime::parse_from_str(leg.departs_local, "%H:%M")
                        .map_err(|e| anyhow::anyhow!("demo time {}: {e}", leg.departs_local))?;
                    // `earliest` settles the rare local time that a DST change makes ambiguous.
                    let Some(departs) = tz.from_local_datetime(&date.and_time(time)).earliest()
                    else {
                        continue;
                    };
                    let departs = departs.with_timezone(&Utc);
                    if departs <= now
                        || existing.contains(&(leg.flight_number.to_string(), departs.naive_utc()))
                    {
                        continue;
                    }
                    let new = scheduled_flight(route, &leg, airplane_id, departs)?;
                    schedule.insert(&txn, &new).await?;
                    summary.flights += 1;
                }
            }
            txn.commit().await?;
            Ok::<_, AppError>(())
        })
        .await?;
    }
    Ok(summary)
}

struct Leg {
    flight_number: &'static str,
    from: &'static str,
    to: &'static str,
    departs_local: &'static str,
    fare_percent: i64,
}

/// Every daily flight of a route: its own rotation and those MORE_DEPARTURES adds, both ways.
fn legs(route: &DemoRoute) -> Vec<Leg> {
    let rotations = std::iter::once((
        route.flight_number,
        route.return_flight_number,
        route.departs_local,
        route.returns_local,
        100,
    ))
    .chain(
        MORE_DEPARTURES
            .iter()
            .filter(|d| d.route == route.flight_number)
            .map(|d| {
                (
                    d.flight_number,
                    d.return_flight_number,
                    d.departs_local,
                    d.returns_local,
                    d.fare_percent,
                )
            }),
    );
    rotations
        .flat_map(|(out, back, departs, returns, fare_percent)| {
            [
                Leg {
                    flight_number: out,
                    from: route.from,
                    to: route.to,
                    departs_local: departs,
                    fare_percent,
                },
                Leg {
                    flight_number: back,
                    from: route.to,
                    to: route.from,
                    departs_local: returns,
                    fare_percent,
                },
            ]
        })
        .collect()
}

fn scheduled_flight(
    route: &DemoRoute,
    leg: &Leg,
    airplane_id: i32,
    departs: chrono::DateTime<Utc>,
) -> Result<FlightForCreate, AppError> {
    let bad = |what: &str, e: String| AppError::from(anyhow::anyhow!("demo {what}: {e}"));
    let currency = Currency::parse(route.currency).map_err(|e| bad("currency", e))?;
    Ok(FlightForCreate {
        flight_number: FlightNumber::parse(leg.flight_number)
            .map_err(|e| bad("flight number", e))?,
        airplane_id,
        departure_airport: IataCode::parse(leg.from).map_err(|e| bad("airport", e))?,
        arrival_airport: IataCode::parse(leg.to).map_err(|e| bad("airport", e))?,
        departure_time: departs,
        arrival_time: departs + Duration::minutes(route.duration_minutes),
        price_economy: Money::new(fare(route.price_economy, leg.fare_percent), currency)
            .map_err(|e| bad("price", e))?,
        price_business: Money::new(fare(route.price_business, leg.fare_percent), currency)
            .map_err(|e| bad("price", e))?,
    })
}

/// A fare scaled by `percent`, rounded to whole currency units (100 minor units) as fares are.
fn fare(minor: i64, percent: i64) -> i64 {
    (minor * percent / 100 + 50) / 100 * 100
}
