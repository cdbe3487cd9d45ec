//! Admin pages. Each catalog entity (cities, airports, airplanes, flights) gets the same four
//! pages — a list with a create form, an edit form, update and delete — through one generic
//! set of handlers; the entity supplies its fields and calls the same services and the same
//! validation as the API.

use std::collections::HashMap;
use std::future::Future;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::render::{page, see_other};
use super::session::{Posted, Visitor};
use crate::clock;
use crate::controllers::catalog::{
    AirplaneBody, AirplanePatch, AirportBody, AirportPatch, CityBody, CityPatch, FlightBody,
    FlightPatch,
};
use crate::error::{AppError, FieldError};
use crate::services::booking::reports::{self, BookingFilter, STATUSES};
use crate::services::catalog::search::{self, FlightSearch};
use crate::services::catalog::{airplanes, airports, cities, flights};
use crate::services::pagination::PageRequest;
use crate::state::AppState;
use crate::views::site::admin::{
    AdminBookingRow, AdminBookingsPage, AdminHome, BookingFilterForm, CatalogPage, Choice,
    EditPage, EntityForm, FormField, OccupancyPage, OccupancyRow, TableRow,
};
use crate::views::site::trips::Notice;
use crate::views::site::{field_errors, money, FieldErrors, Pager};

const PER_PAGE: &str = "50";

/// Form values by field name, as posted or as stored.
type Values = HashMap<String, String>;

/// One page of a list: each row's id and cells, and the total across pages.
type Rows = (Vec<(i32, Vec<String>)>, u64);

fn text(values: &Values, name: &str) -> String {
    values
        .get(name)
        .map(|v| v.trim().to_string())
        .unwrap_or_default()
}

/// A whole number from a form field; a bad one is reported beside the field.
fn number<T: std::str::FromStr + Default>(
    values: &Values,
    name: &str,
    errors: &mut Vec<FieldError>,
) -> T {
    match text(values, name).parse::<T>() {
        Ok(n) => n,
        Err(_) => {
            errors.push(FieldError::new(name, "must be a whole number"));
            T::default()
        }
    }
}

/// The form's own errors first, then the API's rules; one answer names every broken field.
fn checked<T>(mut errors: Vec<FieldError>, converted: Result<T, AppError>) -> Result<T, AppError> {
    match converted {
        Ok(value) if errors.is_empty() => Ok(value),
        Ok(_) => Err(AppError::Validation(errors)),
        Err(AppError::Validation(more)) => {
            for e in more {
                if !errors.iter().any(|x| x.field == e.field) {
                    errors.push(e);
                }
            }
            Err(AppError::Validation(errors))
        }
        Err(other) => Err(other),
    }
}

/// `datetime-local` gives `2026-12-01T09:30`; the API takes RFC 3339. Times are UTC.
fn timestamp(values: &Values, name: &str) -> String {
    let raw = text(values, name);
    match raw.len() {
        16 => format!("{raw}:00Z"),
        19 => format!("{raw}Z"),
        _ => raw,
    }
}

fn form_time(t: chrono::NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M").to_string()
}

/// One catalog entity as the admin pages handle it.
pub trait Section: 'static {
    const SECTION: &'static str;
    const TITLE: &'static str;
    fn columns() -> Vec<&'static str>;
    fn rows(state: &AppState, page: PageRequest) -> impl Future<Output = Result<Rows, AppError>>;
    fn fields(state: &AppState) -> impl Future<Output = Result<Vec<FormField>, AppError>>;
    fn create(state: &AppState, values: &Values) -> impl Future<Output = Result<(), AppError>>;
    fn load(state: &AppState, id: i32) -> impl Future<Output = Result<Values, AppError>>;
    fn update(
        state: &AppState,
        id: i32,
        values: &Values,
    ) -> impl Future<Output = Result<(), AppError>>;
    fn delete(state: &AppState, id: i32) -> impl Future<Output = Result<(), AppError>>;
}

pub struct Cities;
pub struct Airports;
pub struct Airplanes;
pub struct Flights;

fn all() -> PageRequest {
    PageRequest {
        page: 1,
        per_page: 100,
    }
}

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

impl Section for Flights {
    const SECTION: &'static str = "flights";
    const TITLE: &'static str = "Flights";
    fn columns() -> Vec<&'static str> {
        vec![
            "Flight",
            "From",
            "To",
            "Departs (UTC)",
            "Arrives (UTC)",
            "Economy",
            "Business",
            "Free seats",
        ]
    }
    async fn rows(state: &AppState, page: PageRequest) -> Result<Rows, AppError> {
        let query = FlightSearch {
            page,
            ..Default::default()
        };
        let found = search::search(&state.db, &query).await?;
        let rows = found
            .items
            .into_iter()
            .map(|f| {
                (
                    f.id,
                    vec![
                        f.flight_number,
                        f.departure_airport,
                        f.arrival_airport,
                        form_time(f.departure_time).replace('T', " "),
                        form_time(f.arrival_time).replace('T', " "),
                        money(f.price_economy, &f.currency),
                        money(f.price_business, &f.currency),
                        format!("{} of {}", f.seats_available, f.seats_total),
                    ],
                )
            })
            .collect();
        Ok((rows, found.total))
    }
    async fn fields(state: &AppState) -> Result<Vec<FormField>, AppError> {
        let planes = airplanes::list(&state.db, all())
            .await?
            .items
            .into_iter()
            .map(|a| Choice {
                value: a.id.to_string(),
                label: a.model,
            })
            .collect();
        let codes: Vec<Choice> = airports::directory(&state.db)
            .await?
            .into_iter()
            .map(|e| Choice {
                label: format!("{} · {} ({})", e.city, e.airport.name, e.airport.code),
                value: e.airport.code,
            })
            .collect();
        Ok(vec![
            FormField::new("flight_number", "Flight number", "text").hint("e.g. AI101"),
            FormField::new("airplane_id", "Airplane", "select").options(planes),
            FormField::new("departure_airport", "From", "select").options(codes.clone()),
            FormField::new("arrival_airport", "To", "select").options(codes),
            FormField::new("departure_time", "Departure (UTC)", "datetime-local"),
            FormField::new("arrival_time", "Arrival (UTC)", "datetime-local"),
            FormField::new("price_economy", "Economy price", "number")
                .hint("minor units: 459900 is 4,599.00"),
            FormField::new("price_business", "Business price", "number").hint("minor units"),
            FormField::new("currency", "Currency", "text").hint("ISO 4217, e.g. INR"),
        ])
    }
    async fn create(state: &AppState, values: &Values) -> Result<(), AppError> {
        let mut errors = Vec::new();
        let body = FlightBody {
            flight_number: text(values, "flight_number"),
            airplane_id: number(values, "airplane_id", &mut errors),
            departure_airport: text(values, "departure_airport"),
            arrival_airport: text(values, "arrival_airport"),
            departure_time: timestamp(values, "departure_time"),
            arrival_time: timestamp(values, "arrival_time"),
            price_economy: number(values, "price_economy", &mut errors),
            price_business: number(values, "price_business", &mut errors),
            currency: text(values, "currency"),
        };
        let new = checked(errors, body.try_into())?;
        flights::create(&state.db, new).await.map(drop)
    }
    async fn load(state: &AppState, id: i32) -> Result<Values, AppError> {
        let f = flights::get(&state.db, id).await?;
        Ok(Values::from([
            ("flight_number".into(), f.flight_number),
            ("airplane_id".into(), f.airplane_id.to_string()),
            ("departure_airport".into(), f.departure_airport),
            ("arrival_airport".into(), f.arrival_airport),
            ("departure_time".into(), form_time(f.departure_time)),
            ("arrival_time".into(), form_time(f.arrival_time)),
            ("price_economy".into(), f.price_economy.to_string()),
            ("price_business".into(), f.price_business.to_string()),
            ("currency".into(), f.currency),
        ]))
    }
    async fn update(state: &AppState, id: i32, values: &Values) -> Result<(), AppError> {
        let mut errors = Vec::new();
        let stored = flights::get(&state.db, id).await?;
        let airplane_id = number(values, "airplane_id", &mut errors);
        let patch = FlightPatch {
            flight_number: Some(text(values, "flight_number")),
            // A flight with sold seats keeps its airplane; send it only when it changes.
            airplane_id: (airplane_id != stored.airplane_id).then_some(airplane_id),
            departure_airport: Some(text(values, "departure_airport")),
            arrival_airport: Some(text(values, "arrival_airport")),
            // The form shows minutes: an unchanged field keeps the stored time to the second.
            departure_time: (text(values, "departure_time") != form_time(stored.departure_time))
                .then(|| timestamp(values, "departure_time")),
            arrival_time: (text(values, "arrival_time") != form_time(stored.arrival_time))
                .then(|| timestamp(values, "arrival_time")),
            price_economy: Some(number(values, "price_economy", &mut errors)),
            price_business: Some(number(values, "price_business", &mut errors)),
            currency: Some(text(values, "currency")),
        };
        let change = checked(errors, patch.try_into())?;
        flights::update(&state.db, id, change).await.map(drop)
    }
    async fn delete(state: &AppState, id: i32) -> Result<(), AppError> {
        flights::delete(&state.db, id).await
    }
}

#[derive(Deserialize)]
pub struct PageParams {
    pub page: Option<String>,
    /// After a redirect: what just happened.
    pub notice: Option<String>,
}

fn list_url<S: Section>() -> String {
    format!("/admin/{}", S::SECTION)
}

async fn list_page<S: Section>(
    state: &AppState,
    visitor: &Visitor,
    page_number: Option<&str>,
    typed: Option<(&Values, FieldErrors)>,
    notice: Option<Notice>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let request = PageRequest::parse(page_number, Some(PER_PAGE))?;
    let (rows, total) = S::rows(state, request).await?;
    let base = list_url::<S>();
    let form = EntityForm {
        action: base.clone(),
        submit: "Create",
        fields: S::fields(state).await?,
        other_errors: Vec::new(),
    };
    let form = match typed {
        Some((values, errors)) => form.filled(|name| values.get(name).cloned(), &errors),
        None => form,
    };
    let view = CatalogPage {
        section: S::SECTION,
        title: S::TITLE,
        columns: S::columns(),
        rows: rows
            .into_iter()
            .map(|(id, cells)| TableRow {
                id,
                cells,
                edit_url: format!("{base}/{id}"),
                delete_url: format!("{base}/{id}/delete"),
            })
            .collect(),
        form,
        notice,
        pager: Pager::new(request.page, request.per_page, total, |n| {
            format!("{base}?page={n}")
        }),
    };
    page(state, visitor, "admin/catalog", status, &view)
}

pub async fn list<S: Section>(
    state: web::Data<AppState>,
    visitor: Visitor,
    params: web::Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    visitor.admin()?;
    let done = match params.notice.as_deref() {
        Some("created") => Some("Created."),
        Some("saved") => Some("Saved."),
        Some("deleted") => Some("Deleted."),
        _ => None,
    };
    let notice = done.map(|text| Notice {
        kind: "success",
        text: text.into(),
    });
    list_page::<S>(
        &state,
        &visitor,
        params.page.as_deref(),
        None,
        notice,
        StatusCode::OK,
    )
    .await
}

fn problem_notice(err: &AppError) -> Notice {
    Notice {
        kind: "error",
        text: err.detail(),
    }
}

pub async fn create<S: Section>(
    state: web::Data<AppState>,
    visitor: Visitor,
    Posted(values): Posted<Values>,
) -> Result<HttpResponse, AppError> {
    visitor.admin()?;
    match S::create(&state, &values).await {
        Ok(()) => Ok(see_other(&format!("{}?notice=created", list_url::<S>()))),
        Err(AppError::Validation(errors)) => {
            let errors = field_errors(&errors);
            list_page::<S>(
                &state,
                &visitor,
                None,
                Some((&values, errors)),
                Some(Notice {
                    kind: "error",
                    text: "Please correct the fields marked below.".into(),
                }),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(err @ AppError::Conflict(_)) => {
            list_page::<S>(
                &state,
                &visitor,
                None,
                Some((&values, FieldErrors::new())),
                Some(problem_notice(&err)),
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(other) => Err(other),
    }
}

async fn edit_page<S: Section>(
    state: &AppState,
    visitor: &Visitor,
    id: i32,
    values: &Values,
    errors: FieldErrors,
    notice: Option<Notice>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let base = list_url::<S>();
    let form = EntityForm {
        action: format!("{base}/{id}"),
        submit: "Save",
        fields: S::fields(state).await?,
        other_errors: Vec::new(),
    }
    .filled(|name| values.get(name).cloned(), &errors);
    let view = EditPage {
        section: S::SECTION,
        title: format!("{} #{id}", S::TITLE),
        form,
        back_url: base,
        notice,
    };
    page(state, visitor, "admin/edit", status, &view)
}

pub async fn edit<S: Section>(
    state: web::Data<AppState>,
    visitor: Visitor,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    visitor.admin()?;
    let values = S::load(&state, *id).await?;
    edit_page::<S>(
        &state,
        &visitor,
        *id,
        &values,
        FieldErrors::new(),
        None,
        StatusCode::OK,
    )
    .await
}

pub async fn update<S: Section>(
    state: web::Data<AppState>,
    visitor: Visitor,
    id: web::Path<i32>,
    Posted(values): Posted<Values>,
) -> Result<HttpResponse, AppError> {
    visitor.admin()?;
    let (errors, notice, status) = match S::update(&state, *id, &values).await {
        Ok(()) => return Ok(see_other(&format!("{}?notice=saved", list_url::<S>()))),
        Err(AppError::Validation(errors)) => (
            field_errors(&errors),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(err @ AppError::Conflict(_)) => (
            FieldErrors::new(),
            Some(problem_notice(&err)),
            StatusCode::CONFLICT,
        ),
        Err(other) => return Err(other),
    };
    edit_page::<S>(&state, &visitor, *id, &values, errors, notice, status).await
}

pub async fn delete<S: Section>(
    state: web::Data<AppState>,
    visitor: Visitor,
    id: web::Path<i32>,
    Posted(_): Posted<Values>,
) -> Result<HttpResponse, AppError> {
    visitor.admin()?;
    match S::delete(&state, *id).await {
        Ok(()) => Ok(see_other(&format!("{}?notice=deleted", list_url::<S>()))),
        Err(err @ AppError::Conflict(_)) => {
            list_page::<S>(
                &state,
                &visitor,
                None,
                None,
                Some(problem_notice(&err)),
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(other) => Err(other),
    }
}

/// The catalog routes of one entity.
pub fn section<S: Section>(cfg: &mut web::ServiceConfig) {
    let base = list_url::<S>();
    cfg.route(&base, web::get().to(list::<S>))
        .route(&base, web::post().to(create::<S>))
        .route(&format!("{base}/{{id}}"), web::get().to(edit::<S>))
        .route(&format!("{base}/{{id}}"), web::post().to(update::<S>))
        .route(
            &format!("{base}/{{id}}/delete"),
            web::post().to(delete::<S>),
        );
}

pub async fn home(state: web::Data<AppState>, visitor: Visitor) -> Result<HttpResponse, AppError> {
    visitor.admin()?;
    let link = |value: &str, label: &str| Choice {
        value: value.into(),
        label: label.into(),
    };
    let view = AdminHome {
        section: "home",
        links: vec![
            link("/admin/cities", "Cities"),
            link("/admin/airports", "Airports"),
            link("/admin/airplanes", "Airplanes"),
            link("/admin/flights", "Flights"),
            link("/admin/bookings", "Bookings"),
            link("/admin/occupancy", "Occupancy per flight"),
        ],
    };
    page(&state, &visitor, "admin/home", StatusCode::OK, &view)
}

#[derive(Deserialize)]
pub struct BookingParams {
    pub status: Option<String>,
    pub flight_id: Option<String>,
    pub reference: Option<String>,
    pub page: Option<String>,
}

pub async fn bookings(
    state: web::Data<AppState>,
    visitor: Visitor,
    params: web::Query<BookingParams>,
) -> Result<HttpResponse, AppError> {
    visitor.admin()?;
    let blank = |v: &Option<String>| v.as_deref().map(str::trim).unwrap_or("").to_string();
    let form = BookingFilterForm {
        status: blank(&params.status),
        flight_id: blank(&params.flight_id),
        reference: blank(&params.reference),
    };
    let mut errors = Vec::new();
    let status_filter = match form.status.as_str() {
        "" => None,
        s if STATUSES.contains(&s) => Some(s.to_string()),
        _ => {
            errors.push(FieldError::new("status", "choose a status from the list"));
            None
        }
    };
    let flight_id = match form.flight_id.as_str() {
        "" => None,
        s => match s.parse::<i32>() {
            Ok(id) => Some(id),
            Err(_) => {
                errors.push(FieldError::new("flight_id", "must be a flight id"));
                None
            }
        },
    };
    let request = PageRequest::parse(params.page.as_deref(), Some(PER_PAGE))?;
    let filter = BookingFilter {
        status: status_filter,
        flight_id,
        reference: (!form.reference.is_empty()).then(|| form.reference.clone()),
    };
    let (rows, total, status) = if errors.is_empty() {
        let found = reports::bookings(&state.db, &filter, request).await?;
        let ids: Vec<i32> = found.items.iter().map(|b| b.flight_id).collect();
        let flights = flights::get_many(&state.db, &ids).await?;
        let now = clock::now();
        let rows = found
            .items
            .into_iter()
            .map(|b| AdminBookingRow {
                id: b.id,
                status: b.effective_status(now).to_string(),
                flight_number: flights
                    .get(&b.flight_id)
                    .map(|f| f.flight_number.clone())
                    .unwrap_or_default(),
                flight_id: b.flight_id,
                user_id: b.user_id,
                total: money(b.total, &b.currency),
                created_at: form_time(b.created_at).replace('T', " "),
                reference: b.reference,
            })
            .collect();
        (rows, found.total, StatusCode::OK)
    } else {
        (Vec::new(), 0, StatusCode::UNPROCESSABLE_ENTITY)
    };
    let query = serde_html_form::to_string([
        ("status", form.status.as_str()),
        ("flight_id", form.flight_id.as_str()),
        ("reference", form.reference.as_str()),
    ])
    .unwrap_or_default();
    let view = AdminBookingsPage {
        section: "bookings",
        statuses: &STATUSES,
        errors: field_errors(&errors),
        rows,
        total,
        pager: Pager::new(request.page, request.per_page, total, |n| {
            format!("/admin/bookings?{query}&page={n}")
        }),
        filter: form,
    };
    page(&state, &visitor, "admin/bookings", status, &view)
}

pub async fn occupancy(
    state: web::Data<AppState>,
    visitor: Visitor,
    params: web::Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    visitor.admin()?;
    let request = PageRequest::parse(params.page.as_deref(), Some(PER_PAGE))?;
    let (found, counts) = reports::occupancy(&state.db, request).await?;
    let rows = found
        .items
        .into_iter()
        .map(|f| {
            let count = counts.get(&f.id).copied().unwrap_or_default();
            let free = (count.seats - count.booked - count.held).max(0);
            OccupancyRow {
                flight_id: f.id,
                flight_number: f.flight_number,
                departs_utc: form_time(f.departure_time).replace('T', " "),
                seats: count.seats,
                booked: count.booked,
                held: count.held,
                free,
                percent_booked: (count.booked * 100).checked_div(count.seats).unwrap_or(0),
            }
        })
        .collect();
    let view = OccupancyPage {
        section: "occupancy",
        rows,
        pager: Pager::new(request.page, request.per_page, found.total, |n| {
            format!("/admin/occupancy?page={n}")
        }),
    };
    page(&state, &visitor, "admin/occupancy", StatusCode::OK, &view)
}
