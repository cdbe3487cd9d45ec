//! The admin reports: bookings with filters, and occupancy per flight.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::form::form_time;
use super::pages::PageParams;
use super::PER_PAGE;
use crate::clock;
use crate::controllers::site::render::page;
use crate::controllers::site::session::Visitor;
use crate::error::{AppError, FieldError};
use crate::services::booking::reports::{self, BookingFilter, STATUSES};
use crate::services::catalog::flights;
use crate::services::pagination::PageRequest;
use crate::state::AppState;
use crate::views::site::admin::{
    AdminBookingRow, AdminBookingsPage, BookingFilterForm, OccupancyPage, OccupancyRow,
};
use crate::views::site::{field_errors, money, Pager};

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
