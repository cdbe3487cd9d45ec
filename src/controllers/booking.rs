//! Booking endpoints: holding seats, reading and cancelling bookings, paying, checking in.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::extractors::{AuthUser, Bearer, ClientAddress, Guarded};
use crate::error::{AppError, Validator};
use crate::models::catalog::SeatCode;
use crate::services::booking::bookings::{
    self, BookingForCreate, Caller, SeatRequest, MAX_PASSENGERS,
};
use crate::services::booking::idempotency::IdempotencyKey;
use crate::services::booking::payments::{self, PaymentForCreate, PaymentRequest};
use crate::services::booking::{boarding_passes as passes, checkin};
use crate::services::identity::parse_person_name;
use crate::services::pagination::PageRequest;
use crate::state::AppState;
use crate::views::booking::{BoardingPassListView, BookingView, PaymentListView, PaymentView};
use crate::views::{PageView, ProblemView};
use crate::web::input::{whole, JsonBody};

impl From<&AuthUser> for Caller {
    fn from(user: &AuthUser) -> Self {
        Caller {
            user_id: user.id,
            is_admin: user.is_admin(),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PassengerBody {
    #[schema(
        example = "Asha Rao",
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub name: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BookingBody {
    #[schema(minimum = 1)]
    #[serde(deserialize_with = "whole::number")]
    pub flight_id: i32,
    /// One seat per passenger, e.g. `["12C", "12D"]`; leave out to have seats assigned.
    #[schema(schema_with = crate::controllers::docs_schemas::seat_list)]
    pub seats: Option<Vec<String>>,
    #[schema(min_items = 1, max_items = 9)]
    pub passengers: Vec<PassengerBody>,
}

impl BookingBody {
    /// The booking asked for, checked, as made from `client`.
    pub fn parse(self, client: ClientAddress) -> Result<BookingForCreate, AppError> {
        let body = self;
        let mut v = Validator::new();
        if body.passengers.is_empty() || body.passengers.len() > MAX_PASSENGERS {
            v.fail(
                "passengers",
                format!("one booking holds 1 to {MAX_PASSENGERS} passengers"),
            );
        }
        let mut passengers = Vec::with_capacity(body.passengers.len());
        for (i, passenger) in body.passengers.iter().enumerate() {
            if let Some(name) = v.check(
                &format!("passengers[{i}].name"),
                parse_person_name(&passenger.name),
            ) {
                passengers.push(name);
            }
        }
        let seats = match body.seats {
            None => SeatRequest::Assigned,
            Some(seats) => {
                let mut parsed: Vec<SeatCode> = Vec::with_capacity(seats.len());
                for (i, seat) in seats.iter().enumerate() {
                    if let Some(code) = v.check(&format!("seats[{i}]"), SeatCode::parse(seat)) {
                        if parsed.contains(&code) {
                            v.fail(
                                &format!("seats[{i}]"),
                                format!("seat {code} is listed twice"),
                            );
                        }
                        parsed.push(code);
                    }
                }
                if seats.len() != body.passengers.len() {
                    v.fail("seats", "give one seat per passenger");
                }
                SeatRequest::Chosen(parsed)
            }
        };
        v.finish()?;
        Ok(BookingForCreate {
            client: client.0,
            flight_id: body.flight_id,
            seats,
            passengers,
        })
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentBody {
    /// Must equal the booking's total, in minor units.
    #[schema(minimum = 0, maximum = 1000000000000_i64)]
    #[serde(deserialize_with = "whole::number")]
    pub amount: i64,
    /// Must equal the booking's currency.
    #[schema(schema_with = crate::controllers::docs_schemas::currency)]
    pub currency: String,
    /// The sandbox provider's: `pm_card_ok` succeeds, `pm_card_declined` is declined (402),
    /// `pm_card_error` fails at the provider (502).
    #[schema(value_type = PaymentMethod, example = "pm_card_ok")]
    pub payment_method: String,
}

/// The sandbox payment methods (documentation of `payment_method`).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum PaymentMethod {
    PmCardOk,
    PmCardDeclined,
    PmCardError,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BookingListParams {
    /// Admins only (a customer gets 403): everyone's bookings.
    #[param(schema_with = crate::controllers::docs_schemas::query_bool)]
    pub all: Option<String>,
    /// From 1.
    #[param(schema_with = crate::controllers::docs_schemas::query_page)]
    pub page: Option<String>,
    /// 1-100, default 20.
    #[param(schema_with = crate::controllers::docs_schemas::query_per_page)]
    pub per_page: Option<String>,
}

#[utoipa::path(tag = "booking", request_body = BookingBody,
    responses(
        (status = 201, body = BookingView),
        (status = 401, body = ProblemView),
        (status = 409, description = "seat_unavailable (with `seats`), or conflict: too many pending bookings, or too many seats held from the client's address on the flight", body = ProblemView),
        (status = 422, description = "validation_failed, flight_departed, or sales_closed (booking closes `SKYBOOK_SALES_CLOSE_MINUTES` before departure)", body = ProblemView),
    ),
    security(("bearer" = [])))]
#[post("/bookings")]
pub async fn create_booking(
    state: web::Data<AppState>,
    Guarded(bearer, body): Guarded<Bearer, Result<JsonBody<BookingBody>, actix_web::Error>>,
    client: ClientAddress,
) -> Result<HttpResponse, actix_web::Error> {
    // The caller is read once the body is in, on the connection the booking's reads and its
    // write will use (see `db::session`); a refused caller is still 401 whatever the body.
    let mut session = state.db.session();
    let user = AuthUser::read(&mut session, bearer.0).await?;
    let new = body?.into_inner().parse(client)?;
    let policy = state.booking_policy();
    let booking = bookings::create(&mut session, Caller::from(&user), policy, new).await?;
    Ok(HttpResponse::Created().json(BookingView::from(booking)))
}

#[utoipa::path(tag = "booking", params(BookingListParams),
    responses((status = 200, body = PageView<BookingView>), (status = 401, body = ProblemView), (status = 403, description = "`all` as a customer", body = ProblemView)),
    security(("bearer" = [])))]
#[get("/bookings")]
pub async fn list_bookings(
    state: web::Data<AppState>,
    user: AuthUser,
    params: web::Query<BookingListParams>,
) -> Result<HttpResponse, AppError> {
    let all = match params.all.as_deref() {
        None | Some("") | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(AppError::field("all", "must be true or false")),
    };
    let page = PageRequest::parse(params.page.as_deref(), params.per_page.as_deref())?;
    let page = bookings::list(&state.db, Caller::from(&user), all, page).await?;
    Ok(HttpResponse::Ok().json(PageView::from_page(page, BookingView::from)))
}

#[utoipa::path(tag = "booking", params(("id" = i32, Path)),
    responses((status = 200, body = BookingView), (status = 401, body = ProblemView), (status = 404, body = ProblemView)),
    security(("bearer" = [])))]
#[get("/bookings/{id}")]
pub async fn get_booking(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let booking = bookings::get(&state.db, Caller::from(&user), *id).await?;
    Ok(HttpResponse::Ok().json(BookingView::from(booking)))
}

#[utoipa::path(tag = "booking", params(("id" = i32, Path)),
    responses((status = 200, body = BookingView), (status = 401, body = ProblemView), (status = 404, body = ProblemView), (status = 409, description = "already cancelled or expired", body = ProblemView)),
    security(("bearer" = [])))]
#[post("/bookings/{id}/cancel")]
pub async fn cancel_booking(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let booking = bookings::cancel(
        &state.db,
        state.payments.clone(),
        state.booking_policy(),
        Caller::from(&user),
        *id,
    )
    .await?;
    Ok(HttpResponse::Ok().json(BookingView::from(booking)))
}

#[utoipa::path(tag = "booking", params(("id" = i32, Path)),
    responses(
        (status = 200, description = "the booking, every seat `checked_in: true` (again: unchanged)", body = BookingView),
        (status = 401, body = ProblemView),
        (status = 404, description = "no such booking of the caller's", body = ProblemView),
        (status = 409, description = "conflict (the booking is not confirmed) or checkin_closed (open from `SKYBOOK_CHECKIN_OPENS_HOURS` until `SKYBOOK_CHECKIN_CLOSES_MINUTES` before departure)", body = ProblemView),
    ),
    security(("bearer" = [])))]
#[post("/bookings/{id}/checkin")]
pub async fn check_in(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let booking =
        checkin::check_in(&state.db, state.checkin_window(), Caller::from(&user), *id).await?;
    Ok(HttpResponse::Ok().json(BookingView::from(booking)))
}

#[utoipa::path(tag = "booking", params(("id" = i32, Path)),
    responses(
        (status = 200, body = BoardingPassListView),
        (status = 401, body = ProblemView),
        (status = 404, body = ProblemView),
        (status = 409, description = "conflict: the booking is not checked in", body = ProblemView),
    ),
    security(("bearer" = [])))]
#[get("/bookings/{id}/boarding-passes")]
pub async fn boarding_passes(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let passes = passes::boarding_passes(&state.db, Caller::from(&user), *id).await?;
    Ok(HttpResponse::Ok().json(BoardingPassListView::from(passes)))
}

#[utoipa::path(tag = "booking", params(
        ("id" = i32, Path),
        ("Idempotency-Key" = String, Header, min_length = 1, max_length = 255, description = "1-255 characters; the same key and body replay the first result"),
    ),
    request_body = PaymentBody,
    responses(
        (status = 201, body = PaymentView, headers(("Idempotent-Replayed" = String, description = "`true` on a replay"))),
        (status = 400, description = "idempotency_key_missing or malformed_request", body = ProblemView),
        (status = 401, body = ProblemView),
        (status = 402, description = "payment_declined", body = ProblemView),
        (status = 404, body = ProblemView),
        (status = 409, description = "booking_not_payable, booking_already_paid or idempotency_request_in_progress", body = ProblemView),
        (status = 422, description = "amount_mismatch, idempotency_key_reused or validation_failed", body = ProblemView),
        (status = 502, description = "the provider failed; nothing charged, the key may be reused", body = ProblemView),
    ),
    security(("bearer" = [])))]
#[post("/bookings/{id}/payments")]
pub async fn pay_booking(
    state: web::Data<AppState>,
    request: HttpRequest,
    id: web::Path<i32>,
    Guarded(bearer, body): Guarded<Bearer, Result<JsonBody<PaymentBody>, actix_web::Error>>,
) -> Result<HttpResponse, actix_web::Error> {
    // As a booking's: the caller read once the body is in, on the attempt's connection.
    let mut session = state.db.session();
    let user = AuthUser::read(&mut session, bearer.0).await?;
    let body = body?.into_inner();
    let key = match request.headers().get("idempotency-key").map(|v| v.to_str()) {
        Some(Err(_)) => {
            return Err(AppError::Malformed("Idempotency-Key must be visible ASCII".into()).into())
        }
        Some(Ok(value)) => IdempotencyKey::parse(Some(value))?,
        None => IdempotencyKey::parse(None)?,
    };
    let payment = PaymentForCreate {
        amount: body.amount,
        currency: body.currency,
        method: body.payment_method,
    };
    let reply = payments::pay(
        &mut session,
        state.payments.as_ref(),
        state.payment_policy(),
        Caller::from(&user),
        PaymentRequest {
            booking_id: *id,
            key,
            fingerprint: payment.fingerprint(request.path()),
            payment,
        },
    )
    .await?;
    let status = actix_web::http::StatusCode::from_u16(reply.response.status)
        .map_err(|e| AppError::from(anyhow::anyhow!(e)))?;
    let content_type = if status.is_success() {
        "application/json"
    } else {
        "application/problem+json"
    };
    let mut response = HttpResponse::build(status);
    response.content_type(content_type);
    if reply.replayed {
        response.insert_header(("Idempotent-Replayed", "true"));
    }
    Ok(response.body(reply.response.body))
}

#[utoipa::path(tag = "booking", params(("id" = i32, Path)),
    responses((status = 200, body = PaymentListView), (status = 401, body = ProblemView), (status = 404, body = ProblemView)),
    security(("bearer" = [])))]
#[get("/bookings/{id}/payments")]
pub async fn list_payments(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let payments = payments::list(&state.db, Caller::from(&user), *id).await?;
    Ok(HttpResponse::Ok().json(PaymentListView {
        data: payments.into_iter().map(PaymentView::from).collect(),
    }))
}
