//! The admin pages' fields and rows of cities, airports and airplanes.

use std::collections::HashMap;

use super::form::{all, checked, number, text, Rows, Values};
use super::pages::Section;
use crate::controllers::catalog::airplanes::{AirplaneBody, AirplanePatch};
use crate::controllers::catalog::airports::{AirportBody, AirportPatch};
use crate::controllers::catalog::cities::{CityBody, CityPatch};
use crate::error::AppError;
use crate::services::catalog::{airplanes, airports, cities};
use crate::services::pagination::PageRequest;
use crate::state::AppState;
use crate::views::site::admin::{Choice, FormField};

pub struct Cities;

impl Section for Cities {
    const SECTION: &'static str = "cities";
    const TITLE: &'static str = "Cities";
    fn columns() -> Vec<&'static str> {
        vec!["Name", "Country"]
    }
    async fn rows(state: &AppState, page: PageRequest) -> Result<Rows, AppError> {
        let found = cities::list(&state.db, page).await?;
        let rows = found
            .items
            .into_iter()
            .map(|c| (c.id, vec![c.name, c.country_code]))
            .collect();
        Ok((rows, found.total))
    }
    async fn fields(_: &AppState) -> Result<Vec<FormField>, AppError> {
        Ok(vec![
            FormField::new("name", "Name", "text"),
            FormField::new("country_code", "Country code", "text")
                .hint("ISO 3166 alpha-2, e.g. IN"),
        ])
    }
    async fn create(state: &AppState, values: &Values) -> Result<(), AppError> {
        let body = CityBody {
            name: text(values, "name"),
            country_code: text(values, "country_code"),
        };
        cities::create(&state.db, body.try_into()?).await.map(drop)
    }
    async fn load(state: &AppState, id: i32) -> Result<Values, AppError> {
        let c = cities::get(&state.db, id).await?;
        Ok(Values::from([
            ("name".into(), c.name),
            ("country_code".into(), c.country_code),
        ]))
    }
    async fn update(state: &AppState, id: i32, values: &Values) -> Result<(), AppError> {
        let patch = CityPatch {
            name: Some(text(values, "name")),
            country_code: Some(text(values, "country_code")),
        };
        cities::update(&state.db, id, patch.try_into()?)
            .await
            .map(drop)
    }
    async fn delete(state: &AppState, id: i32) -> Result<(), AppError> {
        cities::delete(&state.db, id).await
    }
}

pub struct Airports;

impl Section for Airports {
    const SECTION: &'static str = "airports";
    const TITLE: &'static str = "Airports";
    fn columns() -> Vec<&'static str> {
        vec!["Code", "Name", "City", "Time zone"]
    }
    async fn rows(state: &AppState, page: PageRequest) -> Result<Rows, AppError> {
        let found = airports::list(&state.db, page).await?;
        let names: HashMap<i32, String> = cities::list(&state.db, all())
            .await?
            .items
            .into_iter()
            .map(|c| (c.id, c.name))
            .collect();
        let rows = found
            .items
            .into_iter()
            .map(|a| {
                let city = names.get(&a.city_id).cloned().unwrap_or_default();
                (a.id, vec![a.code, a.name, city, a.timezone])
            })
            .collect();
        Ok((rows, found.total))
    }
    async fn fields(state: &AppState) -> Result<Vec<FormField>, AppError> {
        let cities = cities::list(&state.db, all())
            .await?
            .items
            .into_iter()
            .map(|c| Choice {
                value: c.id.to_string(),
                label: format!("{} ({})", c.name, c.country_code),
            })
            .collect();
        Ok(vec![
            FormField::new("code", "IATA code", "text").hint("three letters, e.g. DEL"),
            FormField::new("name", "Name", "text"),
            FormField::new("city_id", "City", "select").options(cities),
            FormField::new("timezone", "Time zone", "text").hint("IANA name, e.g. Asia/Kolkata"),
        ])
    }
    async fn create(state: &AppState, values: &Values) -> Result<(), AppError> {
        let mut errors = Vec::new();
        let body = AirportBody {
            code: text(values, "code"),
            name: text(values, "name"),
            city_id: number(values, "city_id", &mut errors),
            timezone: text(values, "timezone"),
        };
        let new = checked(errors, body.try_into())?;
        airports::create(&state.db, new).await.map(drop)
    }
    async fn load(state: &AppState, id: i32) -> Result<Values, AppError> {
        let a = airports::get(&state.db, id).await?;
        Ok(Values::from([
            ("code".into(), a.code),
            ("name".into(), a.name),
            ("city_id".into(), a.city_id.to_string()),
            ("timezone".into(), a.timezone),
        ]))
    }
    async fn update(state: &AppState, id: i32, values: &Values) -> Result<(), AppError> {
        let mut errors = Vec::new();
        let patch = AirportPatch {
            code: Some(text(values, "code")),
            name: Some(text(values, "name")),
            city_id: Some(number(values, "city_id", &mut errors)),
            timezone: Some(text(values, "timezone")),
        };
        let change = checked(errors, patch.try_into())?;
        airports::update(&state.db, id, change).await.map(drop)
    }
    async fn delete(state: &AppState, id: i32) -> Result<(), AppError> {
        airports::delete(&state.db, id).await
    }
}

pub struct Airplanes;

impl Section for Airplanes {
    const SECTION: &'static str = "airplanes";
    const TITLE: &'static str = "Airplanes";
    fn columns() -> Vec<&'static str> {
        vec!["Model", "Rows", "Seat letters", "Business rows"]
    }
    async fn rows(state: &AppState, page: PageRequest) -> Result<Rows, AppError> {
        let found = airplanes::list(&state.db, page).await?;
        let rows = found
            .items
            .into_iter()
            .map(|a| {
                (
                    a.id,
                    vec![
                        a.model,
                        a.rows.to_string(),
                        a.seat_letters,
                        a.business_rows.to_string(),
                    ],
                )
            })
            .collect();
        Ok((rows, found.total))
    }
    async fn fields(_: &AppState) -> Result<Vec<FormField>, AppError> {
        Ok(vec![
            FormField::new("model", "Model", "text"),
            FormField::new("rows", "Rows", "number"),
            FormField::new("seat_letters", "Seat letters", "text")
                .hint("a space for each aisle, e.g. ABC DEF"),
            FormField::new("business_rows", "Business rows", "number")
                .hint("the first rows are business class"),
        ])
    }
    async fn create(state: &AppState, values: &Values) -> Result<(), AppError> {
        let mut errors = Vec::new();
        let body = AirplaneBody {
            model: text(values, "model"),
            rows: number(values, "rows", &mut errors),
            // Not trimmed inside: spaces are aisles.
            seat_letters: text(values, "seat_letters"),
            business_rows: number(values, "business_rows", &mut errors),
        };
        let new = checked(errors, body.try_into())?;
        airplanes::create(&state.db, new).await.map(drop)
    }
    async fn load(state: &AppState, id: i32) -> Result<Values, AppError> {
        let a = airplanes::get(&state.db, id).await?;
        Ok(Values::from([
            ("model".into(), a.model),
            ("rows".into(), a.rows.to_string()),
            ("seat_letters".into(), a.seat_letters),
            ("business_rows".into(), a.business_rows.to_string()),
        ]))
    }
    async fn update(state: &AppState, id: i32, values: &Values) -> Result<(), AppError> {
        let mut errors = Vec::new();
        let stored = airplanes::get(&state.db, id).await?;
        let rows = number(values, "rows", &mut errors);
        let seat_letters = text(values, "seat_letters");
        let business_rows = number(values, "business_rows", &mut errors);
        // Only what changed: the cabin of an airplane with flights is frozen, its name is not.
        let patch = AirplanePatch {
            model: Some(text(values, "model")),
            rows: (rows != stored.rows).then_some(rows),
            seat_letters: (seat_letters != stored.seat_letters).then_some(seat_letters),
            business_rows: (business_rows != stored.business_rows).then_some(business_rows),
        };
        let change = checked(errors, patch.try_into())?;
        airplanes::update(&state.db, id, change).await.map(drop)
    }
    async fn delete(state: &AppState, id: i32) -> Result<(), AppError> {
        airplanes::delete(&state.db, id).await
    }
}
