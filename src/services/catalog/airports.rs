use chrono_tz::Tz;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, TransactionTrait,
};

use super::flights::local_date;
use crate::db::Database;
use crate::error::AppError;
use crate::models::catalog::{airport, city, flight, IataCode};
use crate::services::db_errors::{is_foreign_key_violation, is_unique_violation};
use crate::services::pagination::{fetch_page, Page, PageRequest};

pub struct AirportForCreate {
    pub code: IataCode,
    pub name: String,
    pub city_id: i32,
    pub timezone: Tz,
}

#[derive(Default)]
pub struct AirportForUpdate {
    pub code: Option<IataCode>,
    pub name: Option<String>,
    pub city_id: Option<i32>,
    pub timezone: Option<Tz>,
}

pub fn parse_timezone(input: &str) -> Result<Tz, String> {
    input
        .trim()
        .parse::<Tz>()
        .map_err(|_| "must be an IANA time zone, e.g. Asia/Kolkata".to_string())
}

pub async fn list(db: &Database, page: PageRequest) -> Result<Page<airport::Model>, AppError> {
    let query = airport::Entity::find().order_by_asc(airport::Column::Code);
    fetch_page(&db.reader, query, page).await
}

pub async fn get(db: &Database, id: i32) -> Result<airport::Model, AppError> {
    airport::Entity::find_by_id(id)
        .one(&db.reader)
        .await?
        .ok_or(AppError::NotFound)
}

pub async fn find_by_code<C: sea_orm::ConnectionTrait>(
    conn: &C,
    code: &str,
) -> Result<Option<airport::Model>, AppError> {
    Ok(airport::Entity::find()
        .filter(airport::Column::Code.eq(code))
        .one(conn)
        .await?)
}

async fn ensure_city(db: &Database, city_id: i32) -> Result<(), AppError> {
    match city::Entity::find_by_id(city_id).one(&db.writer).await? {
        Some(_) => Ok(()),
        None => Err(AppError::field("city_id", "no city has this id")),
    }
}

fn duplicate_code(code: &str) -> AppError {
    AppError::Conflict(format!("an airport with code {code} already exists"))
}

#[tracing::instrument(skip_all, fields(code = %new.code))]
pub async fn create(db: &Database, new: AirportForCreate) -> Result<airport::Model, AppError> {
    ensure_city(db, new.city_id).await?;
    let row = airport::ActiveModel {
        code: Set(new.code.as_str().to_string()),
        name: Set(new.name),
        city_id: Set(new.city_id),
        timezone: Set(new.timezone.name().to_string()),
        ..Default::default()
    };
    db.durably(async {
        match row.insert(&db.writer).await {
            Ok(airport) => Ok(airport),
            Err(err) if is_unique_violation(&err) => Err(duplicate_code(new.code.as_str())),
            Err(err) if is_foreign_key_violation(&err) => {
                Err(AppError::field("city_id", "no city has this id"))
            }
            Err(err) => Err(err.into()),
        }
    })
    .await
}

/// A new time zone moves the local departure date of every flight leaving this airport,
/// so both change in one transaction.
#[tracing::instrument(skip(db, changes))]
pub async fn update(
    db: &Database,
    id: i32,
    changes: AirportForUpdate,
) -> Result<airport::Model, AppError> {
    if let Some(city_id) = changes.city_id {
        ensure_city(db, city_id).await?;
    }
    db.durably(async move {
        let txn = db.writer.begin().await?;
        let existing = airport::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or(AppError::NotFound)?;
        let mut row: airport::ActiveModel = existing.clone().into();
        if let Some(code) = &changes.code {
            row.code = Set(code.as_str().to_string());
        }
        if let Some(name) = changes.name {
            row.name = Set(name);
        }
        if let Some(city_id) = changes.city_id {
            row.city_id = Set(city_id);
        }
        let new_zone = changes.timezone.filter(|tz| tz.name() != existing.timezone);
        let new_city = changes.city_id.filter(|city| *city != existing.city_id);
        // Every local time shown for its flights would move under their travellers.
        if (new_zone.is_some() || new_city.is_some()) && has_flights_to_come(&txn, id).await? {
            return Err(AppError::Conflict(
                "scheduled flights that have not departed use this airport; its time zone and \
                 city cannot change"
                    .into(),
            ));
        }
        if let Some(tz) = new_zone {
            row.timezone = Set(tz.name().to_string());
        }
        let updated = match row.update(&txn).await {
            Ok(updated) => updated,
            Err(err) if is_unique_violation(&err) => {
                let code = changes.code.map(|c| c.to_string()).unwrap_or_default();
                return Err(duplicate_code(&code));
            }
            Err(err) => return Err(err.into()),
        };
        if let Some(tz) = new_zone {
            let departing = flight::Entity::find()
                .filter(flight::Column::DepartureAirportId.eq(id))
                .all(&txn)
                .await?;
            for f in departing {
                let date = local_date(f.departure_time, tz);
                if date != f.departure_local_date {
                    let mut row: flight::ActiveModel = f.into();
                    row.departure_local_date = Set(date);
                    row.update(&txn).await?;
                }
            }
        }
        txn.commit().await?;
        Ok(updated)
    })
    .await
}

#[tracing::instrument(skip(db))]
pub async fn delete(db: &Database, id: i32) -> Result<(), AppError> {
    get(db, id).await?;
    let flights = flight::Entity::find()
        .filter(
            Condition::any()
                .add(flight::Column::DepartureAirportId.eq(id))
                .add(flight::Column::ArrivalAirportId.eq(id)),
        )
        .count(&db.writer)
        .await?;
    if flights > 0 {
        return Err(AppError::Conflict(format!(
            "the airport is used by {flights} flight(s)"
        )));
    }
    db.durably(async {
        match airport::Entity::delete_by_id(id).exec(&db.writer).await {
            Ok(_) => Ok(()),
            Err(err) if is_foreign_key_violation(&err) => {
                Err(AppError::Conflict("the airport is used by flights".into()))
            }
            Err(err) => Err(err.into()),
        }
    })
    .await
}

/// An airport with its city's name, as the website's from/to choices show it.
pub struct AirportEntry {
    pub airport: airport::Model,
    pub city: String,
}

/// Every airport with its city, ordered by city then code (dozens of rows, read whole).
pub async fn directory(db: &Database) -> Result<Vec<AirportEntry>, AppError> {
    let cities: std::collections::HashMap<i32, String> = city::Entity::find()
        .all(&db.reader)
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    let mut entries: Vec<AirportEntry> = airport::Entity::find()
        .all(&db.reader)
        .await?
        .into_iter()
        .map(|airport| AirportEntry {
            city: cities.get(&airport.city_id).cloned().unwrap_or_default(),
            airport,
        })
        .collect();
    entries.sort_by(|a, b| (&a.city, &a.airport.code).cmp(&(&b.city, &b.airport.code)));
    Ok(entries)
}

/// Whether a scheduled flight that has not departed leaves from or arrives at the airport.
async fn has_flights_to_come<C: sea_orm::ConnectionTrait>(
    conn: &C,
    airport_id: i32,
) -> Result<bool, AppError> {
    use sea_orm::PaginatorTrait;
    let count = flight::Entity::find()
        .filter(
            sea_orm::Condition::any()
                .add(flight::Column::DepartureAirportId.eq(airport_id))
                .add(flight::Column::ArrivalAirportId.eq(airport_id)),
        )
        .filter(flight::Column::Status.eq(flight::SCHEDULED))
        .filter(flight::Column::DepartureTime.gt(crate::clock::now()))
        .count(conn)
        .await?;
    Ok(count > 0)
}
