//! Checking in from the booking page, and the boarding pass page.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpResponse};

use super::account::NoFields;
use super::render::{page, see_other};
use super::session::{Posted, Visitor};
use super::trips::booking_page;
use crate::error::AppError;
use crate::services::booking::boarding_passes::boarding_passes;
use crate::services::booking::bookings::{self, Caller};
use crate::services::booking::checkin;
use crate::state::AppState;
use crate::views::site::passes::BoardingPassPage;
use crate::views::site::trips::Notice;

#[post("/bookings/{id}/checkin")]
pub async fn check_in(
    state: web::Data<AppState>,
    visitor: Visitor,
    id: web::Path<i32>,
    Posted(_): Posted<NoFields>,
) -> Result<HttpResponse, AppError> {
    let caller = Caller::from(visitor.signed_in()?);
    match checkin::check_in(&state.db, state.checkin_window(), caller, *id).await {
        Ok(_) => Ok(see_other(&format!("/bookings/{}/boarding-passes", *id))),
        Err(err @ (AppError::Conflict(_) | AppError::CheckinClosed)) => {
            let details = bookings::get(&state.db, caller, *id).await?;
            let notice = Notice {
                kind: "error",
                text: format!("Check-in did not go through: {}.", err.detail()),
            };
            let status = actix_web::ResponseError::status_code(&err);
            booking_page(&state, &visitor, details, Some(notice), status).await
        }
        Err(other) => Err(other),
    }
}

#[get("/bookings/{id}/boarding-passes")]
pub async fn show_passes(
    state: web::Data<AppState>,
    visitor: Visitor,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let caller = Caller::from(visitor.signed_in()?);
    let passes = boarding_passes(&state.db, caller, *id).await?;
    let view = BoardingPassPage::new(passes)?;
    page(&state, &visitor, "boarding_passes", StatusCode::OK, &view)
}
