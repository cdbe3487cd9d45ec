//! City endpoints: public reads, admin-only writes.

use actix_web::{delete, get, patch, post, web, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{checked, ListParams};
use crate::controllers::docs_schemas;
use crate::controllers::extractors::{AdminUser, Guarded};
use crate::error::{AppError, Validator};
use crate::models::catalog::CountryCode;
use crate::services::catalog::cities::{self, parse_place_name, CityForCreate, CityForUpdate};
use crate::state::AppState;
use crate::views::catalog::CityView;
use crate::views::{PageView, ProblemView};
use crate::web::input::JsonBody;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CityBody {
    /// 1-100 characters once trimmed, no control characters.
    #[schema(
        example = "New Delhi",
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub name: String,
    #[schema(schema_with = docs_schemas::country_code)]
    pub country_code: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CityPatch {
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub name: Option<String>,
    #[schema(schema_with = docs_schemas::country_code_or_null)]
    pub country_code: Option<String>,
}

impl TryFrom<CityBody> for CityForCreate {
    type Error = AppError;
    fn try_from(body: CityBody) -> Result<Self, AppError> {
        let mut v = Validator::new();
        let name = v.check("name", parse_place_name(&body.name));
        let country_code = v.check("country_code", CountryCode::parse(&body.country_code));
        v.finish()?;
        Ok(Self {
            name: checked(name)?,
            country_code: checked(country_code)?,
        })
    }
}

impl TryFrom<CityPatch> for CityForUpdate {
    type Error = AppError;
    fn try_from(body: CityPatch) -> Result<Self, AppError> {
        let mut v = Validator::new();
        let name = body.name.map(|n| v.check("name", parse_place_name(&n)));
        let country_code = body
            .country_code
            .map(|c| v.check("country_code", CountryCode::parse(&c)));
        v.finish()?;
        Ok(Self {
            name: name.flatten(),
            country_code: country_code.flatten(),
        })
    }
}

#[utoipa::path(tag = "catalog", params(ListParams), responses((status = 200, body = PageView<CityView>), (status = 422, body = ProblemView)))]
#[get("/cities")]
pub async fn list_cities(
    state: web::Data<AppState>,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, AppError> {
    let page = cities::list(&state.db, params.page()?).await?;
    Ok(HttpResponse::Ok().json(PageView::from_page(page, CityView::from)))
}

#[utoipa::path(tag = "catalog", params(("id" = i32, Path)), responses((status = 200, body = CityView), (status = 404, body = ProblemView)))]
#[get("/cities/{id}")]
pub async fn get_city(
    state: web::Data<AppState>,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(CityView::from(cities::get(&state.db, *id).await?)))
}

#[utoipa::path(tag = "catalog", request_body = CityBody,
    responses((status = 201, body = CityView), (status = 401, body = ProblemView), (status = 403, body = ProblemView), (status = 422, body = ProblemView)),
    security(("bearer" = ["admin"])))]
#[post("/cities")]
pub async fn create_city(
    Guarded(_admin, body): Guarded<AdminUser, JsonBody<CityBody>>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let city = cities::create(&state.db, body.into_inner().try_into()?).await?;
    Ok(HttpResponse::Created().json(CityView::from(city)))
}

#[utoipa::path(tag = "catalog", params(("id" = i32, Path)), request_body = CityPatch,
    responses((status = 200, body = CityView), (status = 401, body = ProblemView), (status = 403, body = ProblemView), (status = 404, body = ProblemView), (status = 422, body = ProblemView)),
    security(("bearer" = ["admin"])))]
#[patch("/cities/{id}")]
pub async fn update_city(
    Guarded(_admin, body): Guarded<AdminUser, JsonBody<CityPatch>>,
    state: web::Data<AppState>,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let city = cities::update(&state.db, *id, body.into_inner().try_into()?).await?;
    Ok(HttpResponse::Ok().json(CityView::from(city)))
}

#[utoipa::path(tag = "catalog", params(("id" = i32, Path)),
    responses((status = 204), (status = 401, body = ProblemView), (status = 403, body = ProblemView), (status = 404, body = ProblemView), (status = 409, description = "the city has airports", body = ProblemView)),
    security(("bearer" = ["admin"])))]
#[delete("/cities/{id}")]
pub async fn delete_city(
    _admin: AdminUser,
    state: web::Data<AppState>,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    cities::delete(&state.db, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}
