//! Airplane endpoints: public reads, admin-only writes.

use actix_web::{delete, get, patch, post, web, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{checked, ListParams};
use crate::controllers::extractors::{AdminUser, Guarded};
use crate::error::{AppError, Validator};
use crate::models::catalog::SeatLayout;
use crate::services::catalog::airplanes::{
    self, parse_model_name, AirplaneForCreate, AirplaneForUpdate, Cabin,
};
use crate::state::AppState;
use crate::views::catalog::AirplaneView;
use crate::views::{PageView, ProblemView};
use crate::web::input::{whole, JsonBody};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AirplaneBody {
    #[schema(
        example = "Airbus A320neo",
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub model: String,
    #[schema(minimum = 1, maximum = 100)]
    #[serde(deserialize_with = "whole::number")]
    pub rows: i32,
    /// Distinct upper-case letters, one space for each aisle.
    #[schema(
        example = "ABC DEF",
        min_length = 1,
        max_length = 40,
        pattern = r"^[A-Z]+( [A-Z]+)*$"
    )]
    pub seat_letters: String,
    /// The first N rows are business class; at most `rows`.
    #[serde(default, deserialize_with = "whole::number")]
    #[schema(minimum = 0, maximum = 100)]
    pub business_rows: i32,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AirplanePatch {
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub model: Option<String>,
    #[schema(minimum = 1, maximum = 100)]
    #[serde(default, deserialize_with = "whole::optional")]
    pub rows: Option<i32>,
    #[schema(min_length = 1, max_length = 40, pattern = r"^[A-Z]+( [A-Z]+)*$")]
    pub seat_letters: Option<String>,
    #[schema(minimum = 0, maximum = 100)]
    #[serde(default, deserialize_with = "whole::optional")]
    pub business_rows: Option<i32>,
}

impl TryFrom<AirplaneBody> for AirplaneForCreate {
    type Error = AppError;
    fn try_from(body: AirplaneBody) -> Result<Self, AppError> {
        let mut v = Validator::new();
        let model = v.check("model", parse_model_name(&body.model));
        let layout = v.check("seat_letters", SeatLayout::parse(&body.seat_letters));
        let cabin =
            layout.and_then(
                |layout| match Cabin::new(body.rows, layout, body.business_rows) {
                    Ok(cabin) => Some(cabin),
                    Err((field, message)) => {
                        v.fail(field, message);
                        None
                    }
                },
            );
        v.finish()?;
        Ok(Self {
            model: checked(model)?,
            cabin: checked(cabin)?,
        })
    }
}

impl TryFrom<AirplanePatch> for AirplaneForUpdate {
    type Error = AppError;
    fn try_from(body: AirplanePatch) -> Result<Self, AppError> {
        let mut v = Validator::new();
        let model = body.model.map(|m| v.check("model", parse_model_name(&m)));
        let layout = body
            .seat_letters
            .map(|s| v.check("seat_letters", SeatLayout::parse(&s)));
        v.finish()?;
        Ok(Self {
            model: model.flatten(),
            rows: body.rows,
            seat_letters: layout.flatten(),
            business_rows: body.business_rows,
        })
    }
}

#[utoipa::path(tag = "catalog", params(ListParams), responses((status = 200, body = PageView<AirplaneView>), (status = 422, body = ProblemView)))]
#[get("/airplanes")]
pub async fn list_airplanes(
    state: web::Data<AppState>,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, AppError> {
    let page = airplanes::list(&state.db, params.page()?).await?;
    Ok(HttpResponse::Ok().json(PageView::from_page(page, AirplaneView::from)))
}

#[utoipa::path(tag = "catalog", params(("id" = i32, Path)), responses((status = 200, body = AirplaneView), (status = 404, body = ProblemView)))]
#[get("/airplanes/{id}")]
pub async fn get_airplane(
    state: web::Data<AppState>,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(AirplaneView::from(airplanes::get(&state.db, *id).await?)))
}

#[utoipa::path(tag = "catalog", request_body = AirplaneBody,
    responses((status = 201, body = AirplaneView), (status = 401, body = ProblemView), (status = 403, body = ProblemView), (status = 422, body = ProblemView)),
    security(("bearer" = ["admin"])))]
#[post("/airplanes")]
pub async fn create_airplane(
    Guarded(_admin, body): Guarded<AdminUser, JsonBody<AirplaneBody>>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let airplane = airplanes::create(&state.db, body.into_inner().try_into()?).await?;
    Ok(HttpResponse::Created().json(AirplaneView::from(airplane)))
}

#[utoipa::path(tag = "catalog", params(("id" = i32, Path)), request_body = AirplanePatch,
    responses((status = 200, body = AirplaneView), (status = 401, body = ProblemView), (status = 403, body = ProblemView), (status = 404, body = ProblemView), (status = 409, description = "the cabin of an airplane with flights is frozen", body = ProblemView), (status = 422, body = ProblemView)),
    security(("bearer" = ["admin"])))]
#[patch("/airplanes/{id}")]
pub async fn update_airplane(
    Guarded(_admin, body): Guarded<AdminUser, JsonBody<AirplanePatch>>,
    state: web::Data<AppState>,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let airplane = airplanes::update(&state.db, *id, body.into_inner().try_into()?).await?;
    Ok(HttpResponse::Ok().json(AirplaneView::from(airplane)))
}

#[utoipa::path(tag = "catalog", params(("id" = i32, Path)),
    responses((status = 204), (status = 401, body = ProblemView), (status = 403, body = ProblemView), (status = 404, body = ProblemView), (status = 409, description = "the airplane has flights", body = ProblemView)),
    security(("bearer" = ["admin"])))]
#[delete("/airplanes/{id}")]
pub async fn delete_airplane(
    _admin: AdminUser,
    state: web::Data<AppState>,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    airplanes::delete(&state.db, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}
