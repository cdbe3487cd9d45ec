use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder,
};

use crate::db::Database;
use crate::error::AppError;
use crate::models::catalog::{airport, city, CountryCode};
use crate::services::db_errors::is_foreign_key_violation;
use crate::services::pagination::{fetch_page, Page, PageRequest};

pub struct CityForCreate {
    pub name: String,
    pub country_code: CountryCode,
}

#[derive(Default)]
pub struct CityForUpdate {
    pub name: Option<String>,
    pub country_code: Option<CountryCode>,
}

/// A place name: 1-100 characters after trimming.
pub fn parse_place_name(input: &str) -> Result<String, String> {
    let name = input.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err("must be 1 to 100 printable characters".into());
    }
    Ok(name.to_string())
}

pub async fn list(db: &Database, page: PageRequest) -> Result<Page<city::Model>, AppError> {
    let query = city::Entity::find().order_by_asc(city::Column::Id);
    fetch_page(&db.reader, query, page).await
}

pub async fn get(db: &Database, id: i32) -> Result<city::Model, AppError> {
    city::Entity::find_by_id(id)
        .one(&db.reader)
        .await?
        .ok_or(AppError::NotFound)
}

#[tracing::instrument(skip_all)]
pub async fn create(db: &Database, new: CityForCreate) -> Result<city::Model, AppError> {
    let row = city::ActiveModel {
        name: Set(new.name),
        country_code: Set(new.country_code.as_str().to_string()),
        ..Default::default()
    };
    db.durably(async { Ok(row.insert(&db.writer).await?) })
        .await
}

#[tracing::instrument(skip(db, changes))]
pub async fn update(
    db: &Database,
    id: i32,
    changes: CityForUpdate,
) -> Result<city::Model, AppError> {
    let existing = city::Entity::find_by_id(id)
        .one(&db.writer)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut row: city::ActiveModel = existing.into();
    if let Some(name) = changes.name {
        row.name = Set(name);
    }
    if let Some(code) = changes.country_code {
        row.country_code = Set(code.as_str().to_string());
    }
    db.durably(async { Ok(row.update(&db.writer).await?) })
        .await
}

#[tracing::instrument(skip(db))]
pub async fn delete(db: &Database, id: i32) -> Result<(), AppError> {
    get(db, id).await?;
    let airports = airport::Entity::find()
        .filter(airport::Column::CityId.eq(id))
        .count(&db.writer)
        .await?;
    if airports > 0 {
        return Err(AppError::Conflict(format!(
            "the city still has {airports} airport(s)"
        )));
    }
    db.durably(async {
        match city::Entity::delete_by_id(id).exec(&db.writer).await {
            Ok(_) => Ok(()),
            // An airport added between the check and the delete.
            Err(err) if is_foreign_key_violation(&err) => {
                Err(AppError::Conflict("the city still has airports".into()))
            }
            Err(err) => Err(err.into()),
        }
    })
    .await
}
