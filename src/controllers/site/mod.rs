//! The server-rendered website: the same services as the API, rendered with tera. Sessions
//! are the API's JWT in an HttpOnly cookie; every form post carries a CSRF token.

pub mod account;
pub mod admin;
pub mod assets;
pub mod manage;
pub mod passes;
pub mod password;
pub mod recovery;
pub mod render;
pub mod session;
pub mod travel;
pub mod trips;

use actix_governor::Governor;
use actix_web::dev::HttpServiceFactory;
use actix_web::middleware::{self, Condition};
use actix_web::{guard, web, FromRequest, Handler, Responder};

use super::RateLimits;

pub fn configure_site(cfg: &mut web::ServiceConfig, limits: &RateLimits) {
    cfg.service(travel::home)
        .service(travel::results)
        .service(travel::show_flight)
        .service(travel::sign_in_to_book)
        .service(travel::hold)
        .service(account::sign_in_form)
        .service(account::sign_up_form)
        .service(account::sign_out)
        .service(password::account_page)
        .service(password::change_password)
        .service(recovery::forgot_password_form)
        .service(recovery::reset_password_form)
        .service(manage::manage_form)
        .service(trips::my_bookings)
        .service(trips::show_booking)
        .service(trips::pay)
        .service(trips::cancel)
        .service(passes::check_in)
        .service(passes::show_passes)
        .service(assets::asset)
        // Signing in and up through the website shares the API's budget per client.
        .service(throttled_post("/signin", limits, account::sign_in))
        .service(throttled_post("/signup", limits, account::sign_up))
        .service(throttled_post(
            "/forgot-password",
            limits,
            recovery::forgot_password,
        ))
        .service(throttled_post(
            "/reset-password",
            limits,
            recovery::reset_password,
        ))
        .service(throttled_post("/manage", limits, manage::find_booking))
        .route("/admin", web::get().to(admin::home))
        .route("/admin/bookings", web::get().to(admin::bookings))
        .route("/admin/occupancy", web::get().to(admin::occupancy))
        .route(
            "/admin/flights/{id}/cancel",
            web::get().to(admin::cancel_flight_form),
        )
        .route(
            "/admin/flights/{id}/cancel",
            web::post().to(admin::cancel_flight),
        )
        .route(
            "/admin/flights/{id}/passengers",
            web::get().to(admin::passengers),
        )
        .configure(admin::section::<admin::Cities>)
        .configure(admin::section::<admin::Airports>)
        .configure(admin::section::<admin::Airplanes>)
        .configure(admin::section::<admin::Flights>);
}

/// A form post that spends the sign-in budget (signing in or up, a password reset, a guess
/// at a booking reference); a refusal is shown as a page.
fn throttled_post<F, Args>(path: &str, limits: &RateLimits, handler: F) -> impl HttpServiceFactory
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    web::resource(path)
        .guard(guard::Post())
        // The last `wrap` is the outermost: the page maker sees the limiter's refusal.
        .wrap(Condition::new(limits.enabled, Governor::new(&limits.auth)))
        .wrap(middleware::from_fn(render::middleware_errors_as_pages))
        .to(handler)
}
