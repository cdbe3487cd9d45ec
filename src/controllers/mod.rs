//! Thin HTTP handlers: extract, parse, authorise, call one service, render a view.
//! `configure_api` is the route table of `/api/v1`.

pub mod admin;
pub mod booking;
pub mod catalog;
pub mod docs;
pub mod extractors;
pub mod health;
pub mod identity;
pub mod manage;
pub mod metrics;
pub mod recovery;
pub mod site;

use actix_governor::Governor;
use actix_web::middleware::Condition;
use actix_web::web;

use crate::web::methods;
pub use crate::web::rate_limit::RateLimits;

pub fn configure_api(cfg: &mut web::ServiceConfig, limits: &RateLimits) {
    cfg.service(
        web::scope("/api/v1")
            .wrap(Condition::new(
                limits.enabled,
                Governor::new(&limits.general),
            ))
            // Before the `/auth` scope, which would take the path: signing out is not a
            // sign-in attempt and does not spend that budget.
            .service(identity::sign_out)
            .service(
                // Sign-in, sign-up and the password reset share one budget per client.
                web::scope("/auth")
                    .wrap(Condition::new(limits.enabled, Governor::new(&limits.auth)))
                    .service(identity::sign_up)
                    .service(identity::sign_in)
                    .service(recovery::request_reset)
                    .service(recovery::confirm_reset)
                    .service(methods::fallback()),
            )
            .service(identity::me)
            .service(identity::change_password)
            .service(identity::set_role)
            .service(catalog::cities::list_cities)
            .service(catalog::cities::get_city)
            .service(catalog::cities::create_city)
            .service(catalog::cities::update_city)
            .service(catalog::cities::delete_city)
            .service(catalog::airports::list_airports)
            .service(catalog::airports::get_airport)
            .service(catalog::airports::create_airport)
            .service(catalog::airports::update_airport)
            .service(catalog::airports::delete_airport)
            .service(catalog::airplanes::list_airplanes)
            .service(catalog::airplanes::get_airplane)
            .service(catalog::airplanes::create_airplane)
            .service(catalog::airplanes::update_airplane)
            .service(catalog::airplanes::delete_airplane)
            .service(catalog::search::search_flights)
            .service(catalog::flights::get_flight)
            .service(catalog::flights::flight_seats)
            .service(catalog::flights::create_flight)
            .service(catalog::flights::update_flight)
            .service(catalog::flights::delete_flight)
            .service(catalog::flight_operations::cancel)
            .service(booking::create_booking)
            .service(booking::list_bookings)
            // Before `/bookings/{id}`; a guess at a reference spends the sign-in budget.
            .service(
                web::resource("/bookings/lookup")
                    .wrap(Condition::new(limits.enabled, Governor::new(&limits.auth)))
                    .route(web::get().to(manage::lookup_booking)),
            )
            .service(booking::get_booking)
            .service(booking::cancel_booking)
            .service(booking::pay_booking)
            .service(booking::list_payments)
            .service(booking::check_in)
            .service(booking::boarding_passes)
            .service(admin::list_notifications)
            .service(admin::retry_notification)
            // Last: what no route above took is 405 or 404 (see `web::methods`).
            .service(methods::fallback()),
    );
}
