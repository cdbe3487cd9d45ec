//! The website's admin area: the routes of a catalog entity's pages, and the home page.

mod catalog;
mod flights;
mod form;
mod operations;
mod pages;
mod reports;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};

pub use catalog::{Airplanes, Airports, Cities};
pub use flights::Flights;
pub use operations::{cancel_flight, cancel_flight_form, passengers};
pub use pages::{create, delete, edit, list, update, PageParams, Section};
pub use reports::{bookings, occupancy, BookingParams};

use super::render::page;
use super::session::Visitor;
use crate::error::AppError;
use crate::state::AppState;
use crate::views::site::admin::{AdminHome, Choice};

/// Rows on one page of every admin list.
const PER_PAGE: &str = "50";

/// The catalog routes of one entity.
pub fn section<S: Section>(cfg: &mut web::ServiceConfig) {
    let base = pages::list_url::<S>();
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
