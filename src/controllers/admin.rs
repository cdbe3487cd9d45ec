//! Admin endpoints beyond the catalog: the email outbox.

use actix_web::{get, post, web, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use super::extractors::AdminUser;
use crate::clock;
use crate::error::AppError;
use crate::models::notify::email::{FAILED, PENDING, SENT};
use crate::services::notify::outbox;
use crate::services::pagination::PageRequest;
use crate::state::AppState;
use crate::views::notify::NotificationView;
use crate::views::{PageView, ProblemView};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationParams {
    /// Absent: all.
    #[param(schema_with = crate::controllers::docs_schemas::query_email_status)]
    pub status: Option<String>,
    /// From 1.
    #[param(schema_with = crate::controllers::docs_schemas::query_page)]
    pub page: Option<String>,
    /// 1-100, default 20.
    #[param(schema_with = crate::controllers::docs_schemas::query_per_page)]
    pub per_page: Option<String>,
}

#[utoipa::path(tag = "admin", params(NotificationParams),
    responses((status = 200, body = PageView<NotificationView>), (status = 401, body = ProblemView), (status = 403, body = ProblemView), (status = 422, body = ProblemView)),
    security(("bearer" = ["admin"])))]
#[get("/admin/notifications")]
pub async fn list_notifications(
    _admin: AdminUser,
    state: web::Data<AppState>,
    params: web::Query<NotificationParams>,
) -> Result<HttpResponse, AppError> {
    let status = match params.status.as_deref() {
        None | Some("") => None,
        Some(s) if [PENDING, SENT, FAILED].contains(&s) => Some(s),
        Some(_) => return Err(AppError::field("status", "must be pending, sent or failed")),
    };
    let page = PageRequest::parse(params.page.as_deref(), params.per_page.as_deref())?;
    let page = outbox::list(&state.db, status, page).await?;
    Ok(HttpResponse::Ok().json(PageView::from_page(page, NotificationView::from)))
}

#[utoipa::path(tag = "admin", params(("id" = i32, Path)),
    responses((status = 200, body = NotificationView), (status = 401, body = ProblemView), (status = 403, body = ProblemView), (status = 404, body = ProblemView), (status = 409, description = "the email has not failed", body = ProblemView)),
    security(("bearer" = ["admin"])))]
#[post("/admin/notifications/{id}/retry")]
pub async fn retry_notification(
    _admin: AdminUser,
    state: web::Data<AppState>,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let email = outbox::retry(&state.db, *id, clock::now()).await?;
    Ok(HttpResponse::Ok().json(NotificationView::from(email)))
}
