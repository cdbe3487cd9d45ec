//! The OpenAPI document, generated from the handlers' annotations, and the offline Swagger UI.

use actix_web::{get, HttpResponse};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::docs_links::Links;
use super::docs_responses::SharedResponses;
use super::{admin, booking, catalog, identity, manage, metrics, recovery};

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// Every operation can answer 405 (its path asked with a method it does not serve, see
/// `web::methods`): declared here once rather than on each handler.
struct MethodNotAllowed;

impl Modify for MethodNotAllowed {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{Content, Ref, ResponseBuilder};
        let response = ResponseBuilder::new()
            .description("the path does not serve this method; `Allow` lists the ones it does")
            .content(
                "application/problem+json",
                Content::new(Some(Ref::from_schema_name("ProblemView"))),
            )
            .build();
        for operation in super::docs_responses::operations_mut(openapi) {
            operation
                .responses
                .responses
                .entry("405".to_string())
                .or_insert_with(|| response.clone().into());
        }
    }
}

#[derive(OpenApi)]
#[openapi(paths(
    identity::sign_up,
    identity::sign_in,
    identity::sign_out,
    identity::me,
    identity::change_password,
    identity::set_role,
    recovery::request_reset,
    recovery::confirm_reset,
    manage::lookup_booking,
    catalog::cities::list_cities,
    catalog::cities::get_city,
    catalog::cities::create_city,
    catalog::cities::update_city,
    catalog::cities::delete_city,
    catalog::airports::list_airports,
    catalog::airports::get_airport,
    catalog::airports::create_airport,
    catalog::airports::update_airport,
    catalog::airports::delete_airport,
    catalog::airplanes::list_airplanes,
    catalog::airplanes::get_airplane,
    catalog::airplanes::create_airplane,
    catalog::airplanes::update_airplane,
    catalog::airplanes::delete_airplane,
    catalog::search::search_flights,
    catalog::flights::get_flight,
    catalog::flights::flight_seats,
    catalog::flights::create_flight,
    catalog::flights::update_flight,
    catalog::flights::delete_flight,
    catalog::flight_operations::cancel,
    booking::create_booking,
    booking::list_bookings,
    booking::get_booking,
    booking::cancel_booking,
    booking::pay_booking,
    booking::list_payments,
    booking::check_in,
    booking::boarding_passes,
    admin::list_notifications,
    admin::retry_notification,
))]
struct V1;

/// Operations marked `security(("bearer" = ["admin"]))` are admin-only; the test suite walks
/// this document to check that each of them refuses anonymous and customer callers.
#[derive(OpenApi)]
#[openapi(
    paths(metrics::metrics),
    info(title = "Skybook API", description = "Flight search, seat maps, bookings and payments."),
    nest((path = "/api/v1", api = V1)),
    modifiers(&BearerAuth, &MethodNotAllowed, &SharedResponses, &Links),
    tags(
        (name = "identity", description = "Accounts, tokens and roles"),
        (name = "catalog", description = "Cities, airports, airplanes, flights and search"),
        (name = "booking", description = "Seat holds, bookings, payments, check-in and boarding passes"),
        (name = "admin", description = "Operations: the email outbox"),
        (name = "operations", description = "Prometheus metrics of one instance"),
    )
)]
pub struct ApiDoc;

/// `/api/docs` without the trailing slash, where Swagger UI's relative asset paths break.
#[get("/api/docs")]
pub async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header(("Location", "/api/docs/"))
        .finish()
}
