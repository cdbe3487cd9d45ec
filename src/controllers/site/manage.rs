//! "Manage my booking" on the website (`/manage`): a booking by its reference and a
//! passenger's last name, for anyone who has both. Looking needs no account; paying,
//! checking in and cancelling still need its owner signed in. The post spends the sign-in
//! budget (routed in `site::configure_site`): it is a guess at a secret.

use actix_web::http::StatusCode;
use actix_web::{get, web, HttpResponse};
use serde::Deserialize;

use super::render::page;
use super::session::{Posted, Visitor};
use super::trips::booking_view;
use crate::error::AppError;
use crate::services::booking::lookup;
use crate::state::AppState;
use crate::views::site::trips::ManagePage;

#[get("/manage")]
pub async fn manage_form(
    state: web::Data<AppState>,
    visitor: Visitor,
) -> Result<HttpResponse, AppError> {
    page(
        &state,
        &visitor,
        "manage",
        StatusCode::OK,
        &ManagePage::default(),
    )
}

#[derive(Deserialize)]
pub struct LookupForm {
    #[serde(default)]
    pub reference: String,
    #[serde(default)]
    pub last_name: String,
}

/// `POST /manage`: the booking, or the form again with one answer for every miss.
pub async fn find_booking(
    state: web::Data<AppState>,
    visitor: Visitor,
    Posted(form): Posted<LookupForm>,
) -> Result<HttpResponse, AppError> {
    match lookup::find_by_reference(&state.db, &form.reference, &form.last_name).await {
        Ok(details) => {
            let viewer = visitor.user.as_ref().map(|user| user.id);
            let booking = booking_view(&state, details, None, viewer).await?;
            let view = ManagePage {
                found: true,
                booking: Some(booking),
                ..Default::default()
            };
            page(&state, &visitor, "manage", StatusCode::OK, &view)
        }
        Err(AppError::NotFound) => {
            let view = ManagePage {
                not_found: true,
                reference: form.reference,
                last_name: form.last_name,
                ..Default::default()
            };
            page(&state, &visitor, "manage", StatusCode::NOT_FOUND, &view)
        }
        Err(other) => Err(other),
    }
}
