use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder,
};

use crate::db::Database;
use crate::error::AppError;
use crate::models::catalog::{airplane, flight, SeatLayout};
use crate::services::db_errors::is_foreign_key_violation;
use crate::services::pagination::{fetch_page, Page, PageRequest};

pub const MAX_ROWS: i32 = 100;

/// A cabin: rows, the letters of a row, and how many front rows are business class.
#[derive(Debug, Clone)]
pub struct Cabin {
    pub rows: i32,
    pub layout: SeatLayout,
    pub business_rows: i32,
}

impl Cabin {
    pub fn new(
        rows: i32,
        layout: SeatLayout,
        business_rows: i32,
    ) -> Result<Self, (&'static str, String)> {
        if !(1..=MAX_ROWS).contains(&rows) {
            return Err(("rows", format!("must be from 1 to {MAX_ROWS}")));
        }
        if !(0..=rows).contains(&business_rows) {
            return Err((
                "business_rows",
                "must be from 0 to the number of rows".into(),
            ));
        }
        Ok(Self {
            rows,
            layout,
            business_rows,
        })
    }

    pub fn of(airplane: &airplane::Model) -> Result<Self, AppError> {
        let layout = SeatLayout::parse(&airplane.seat_letters)
            .map_err(|e| anyhow::anyhow!("airplane {} has a bad layout: {e}", airplane.id))?;
        Cabin::new(airplane.rows, layout, airplane.business_rows).map_err(|(_, e)| {
            anyhow::anyhow!("airplane {} has a bad cabin: {e}", airplane.id).into()
        })
    }

    pub fn seat_count(&self) -> i32 {
        self.rows * self.layout.seats_per_row() as i32
    }
}

pub struct AirplaneForCreate {
    pub model: String,
    pub cabin: Cabin,
}

#[derive(Default)]
pub struct AirplaneForUpdate {
    pub model: Option<String>,
    pub rows: Option<i32>,
    pub seat_letters: Option<SeatLayout>,
    pub business_rows: Option<i32>,
}

pub fn parse_model_name(input: &str) -> Result<String, String> {
    let model = input.trim();
    if model.is_empty() || model.chars().count() > 100 || model.chars().any(char::is_control) {
        return Err("must be 1 to 100 printable characters".into());
    }
    Ok(model.to_string())
}

pub async fn list(db: &Database, page: PageRequest) -> Result<Page<airplane::Model>, AppError> {
    let query = airplane::Entity::find().order_by_asc(airplane::Column::Id);
    fetch_page(&db.reader, query, page).await
}

pub async fn get(db: &Database, id: i32) -> Result<airplane::Model, AppError> {
    airplane::Entity::find_by_id(id)
        .one(&db.reader)
        .await?
        .ok_or(AppError::NotFound)
}

#[tracing::instrument(skip_all)]
pub async fn create(db: &Database, new: AirplaneForCreate) -> Result<airplane::Model, AppError> {
    let row = airplane::ActiveModel {
        model: Set(new.model),
        rows: Set(new.cabin.rows),
        seat_letters: Set(new.cabin.layout.as_str().to_string()),
        business_rows: Set(new.cabin.business_rows),
        ..Default::default()
    };
    db.durably(async { Ok(row.insert(&db.writer).await?) })
        .await
}

async fn flight_count(db: &Database, airplane_id: i32) -> Result<u64, AppError> {
    Ok(flight::Entity::find()
        .filter(flight::Column::AirplaneId.eq(airplane_id))
        .count(&db.writer)
        .await?)
}

/// The cabin of an airplane with flights is frozen: their seat inventories were made from it.
#[tracing::instrument(skip(db, changes))]
pub async fn update(
    db: &Database,
    id: i32,
    changes: AirplaneForUpdate,
) -> Result<airplane::Model, AppError> {
    let existing = airplane::Entity::find_by_id(id)
        .one(&db.writer)
        .await?
        .ok_or(AppError::NotFound)?;
    let cabin_changes =
        changes.rows.is_some() || changes.seat_letters.is_some() || changes.business_rows.is_some();
    let layout = match changes.seat_letters {
        Some(layout) => layout,
        None => Cabin::of(&existing)?.layout,
    };
    let cabin = Cabin::new(
        changes.rows.unwrap_or(existing.rows),
        layout,
        changes.business_rows.unwrap_or(existing.business_rows),
    )
    .map_err(|(field, message)| AppError::field(field, message))?;
    if cabin_changes && flight_count(db, id).await? > 0 {
        return Err(AppError::Conflict(
            "the cabin of an airplane with flights cannot change".into(),
        ));
    }
    let mut row: airplane::ActiveModel = existing.into();
    if let Some(model) = changes.model {
        row.model = Set(model);
    }
    row.rows = Set(cabin.rows);
    row.seat_letters = Set(cabin.layout.as_str().to_string());
    row.business_rows = Set(cabin.business_rows);
    db.durably(async { Ok(row.update(&db.writer).await?) })
        .await
}

#[tracing::instrument(skip(db))]
pub async fn delete(db: &Database, id: i32) -> Result<(), AppError> {
    get(db, id).await?;
    let flights = flight_count(db, id).await?;
    if flights > 0 {
        return Err(AppError::Conflict(format!(
            "the airplane has {flights} flight(s)"
        )));
    }
    db.durably(async {
        match airplane::Entity::delete_by_id(id).exec(&db.writer).await {
            Ok(_) => Ok(()),
            Err(err) if is_foreign_key_violation(&err) => {
                Err(AppError::Conflict("the airplane has flights".into()))
            }
            Err(err) => Err(err.into()),
        }
    })
    .await
}
