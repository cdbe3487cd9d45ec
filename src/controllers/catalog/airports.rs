//! Airport endpoints: public reads, admin-only writes.

use actix_web::{delete, get, patch, post, web, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{checked, ListParams};
use crate::controllers::docs_schemas;
use crate::controllers::extractors::{AdminUser, Guarded};
use crate::error::{AppError, Validator};
use crate::models::catalog::IataCode;
use crate::services::catalog::airports::{
    self, parse_timezone, AirportForCreate, AirportForUpdate,
};
use crate::services::catalog::cities::parse_place_name;
use crate::state::AppState;
use crate::views::catalog::AirportView;
use crate::views::{PageView, ProblemView};
use crate::web::input::{whole, JsonBody};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AirportBody {
    /// IATA: 3 letters (stored upper case).
    #[schema(example = "DEL", pattern = r"^[A-Za-z]{3}$")]
    pub code: String,
    #[schema(
        example = "Indira Gandhi International",
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub name: String,
    #[schema(minimum = 1)]
    #[serde(deserialize_with = "whole::number")]
    pub city_id: i32,
    #[schema(schema_with = docs_schemas::timezone)]
    pub timezone: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AirportPatch {
    #[schema(pattern = r"^[A-Za-z]{3}$")]
    pub code: Option<String>,
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub name: Option<String>,
    #[schema(minimum = 1)]
    #[serde(default, deserialize_with = "whole::optional")]
    pub city_id: Option<i32>,
    #[schema(schema_with = docs_schemas::timezone_or_null)]
    pub timezone: Option<String>,
}

impl TryFrom<AirportBody> for AirportForCreate {
    type Error = AppError;
    fn try_from(body: AirportBody) -> Result<Self, AppError> {
        let mut v = Validator::new();
        let code = v.check("code", IataCode::parse(&body.code));
        let name = v.check("name", parse_place_name(&body.name));
        let timezone = v.check("timezone", parse_timezone(&body.timezone));
        v.finish()?;
        Ok(Self {
            code: checked(code)?,
            name: checked(name)?,
            city_id: body.city_id,
            timezone: checked(timezone)?,
        })
    }
}

impl TryFrom<AirportPatch> for AirportForUpdate {
    type Error = AppError;
    fn try_from(body: AirportPatch) -> Result<Self, AppError> {
        let mut v = Validator::new();
        let code = body.code.map(|c| v.check("code", IataCode::parse(&c)));
        let name = body.name.map(|n| v.check("name", parse_place_name(&n)));
        let timezone = body
            .timezone
            .map(|t| v.check("timezone", parse_timezone(&t)));
        v.finish()?;
        Ok(Self {
            code: code.flatten(),
            name: name.flatten(),
            city_id: body.city_id,
            timezone: timezone.flatten(),
        })
    }
}

#[utoipa::path(tag = "catalog", params(ListParams), responses((status = 200, body = PageView<AirportView>), (status = 422, body = ProblemView)))]
#[get("/airports")]
pub async fn list_airports(
    state: web::Data<AppState>,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, AppError> {
    let page = airports::list(&state.db, params.page()?).await?;
    Ok(HttpResponse::Ok().json(PageView::from_page(page, AirportView::from)))
}

#[utoipa::path(tag = "catalog", params(("id" = i32, Path)), responses((status = 200, body = AirportView), (status = 404, body = ProblemView)))]
#[get("/airports/{id}")]
pub async fn get_airport(
    state: web::Data<AppState>,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(AirportView::from(airports::get(&state.db, *id).await?)))
}

#[utoipa::path(tag = "catalog", request_body = AirportBody,
    responses((status = 201, body = AirportView), (status = 401, body = ProblemView), (status = 403, body = ProblemView), (status = 409, description = "code taken", body = ProblemView), (status = 422, body = ProblemView)),
    security(("bearer" = ["admin"])))]
#[post("/airports")]
pub async fn create_airport(
    Guarded(_admin, body): Guarded<AdminUser, JsonBody<AirportBody>>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let airport = airports::create(&state.db, body.into_inner().try_into()?).await?;
    Ok(HttpResponse::Created().json(AirportView::from(airport)))
}

#[utoipa::path(tag = "catalog", params(("id" = i32, Path)), request_body = AirportPatch,
    responses((status = 200, body = AirportView), (status = 401, body = ProblemView), (status = 403, body = ProblemView), (status = 404, body = ProblemView), (status = 409, body = ProblemView), (status = 422, body = ProblemView)),
    security(("bearer" = ["admin"])))]
#[patch("/airports/{id}")]
pub async fn update_airport(
    Guarded(_admin, body): Guarded<AdminUser, JsonBody<AirportPatch>>,
    state: web::Data<AppState>,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let airport = airports::update(&state.db, *id, body.into_inner().try_into()?).await?;
    Ok(HttpResponse::Ok().json(AirportView::from(airport)))
}

#[utoipa::path(tag = "catalog", params(("id" = i32, Path)),
    responses((status = 204), (status = 401, body = ProblemView), (status = 403, body = ProblemView), (status = 404, body = ProblemView), (status = 409, description = "flights use the airport", body = ProblemView)),
    security(("bearer" = ["admin"])))]
#[delete("/airports/{id}")]
pub async fn delete_airport(
    _admin: AdminUser,
    state: web::Data<AppState>,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    airports::delete(&state.db, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}
