//! Thin HTTP handlers: extract, parse, authorise, call one service, render a view.
//! `configure_api` is the route table of `/api/v1`.

pub mod admin;
pub mod booking;
pub mod catalog;
pub mod docs;
pub mod extractors;
pub mod health;
pub mod identity;
pub mod site;

use actix_governor::{Governor, GovernorConfig, GovernorConfigBuilder};
use actix_web::middleware::Condition;
use actix_web::web;

use crate::config::Settings;
use crate::web::client_ip::ClientIp;

/// The two rate limiters, built once so that every worker shares their counters.
#[derive(Clone)]
pub struct RateLimits {
    pub enabled: bool,
    pub general: GovernorConfig<
        ClientIp,
        actix_governor::governor::middleware::NoOpMiddleware<
            actix_governor::governor::clock::QuantaInstant,
        >,
    >,
    pub auth: GovernorConfig<
        ClientIp,
        actix_governor::governor::middleware::NoOpMiddleware<
            actix_governor::governor::clock::QuantaInstant,
        >,
    >,
}

impl RateLimits {
    pub fn new(settings: &Settings) -> anyhow::Result<Self> {
        let clients = ClientIp::new(settings.trusted_proxies.clone());
        let general = GovernorConfigBuilder::default()
            .requests_per_second(u64::from(settings.rate_limit_per_second))
            .burst_size(settings.rate_limit_burst)
            .key_extractor(clients.clone())
            .finish()
            .ok_or_else(|| anyhow::anyhow!("invalid general rate limit"))?;
        let auth = GovernorConfigBuilder::default()
            .requests_per_minute(u64::from(settings.auth_rate_limit_per_minute))
            .burst_size(settings.auth_rate_limit_per_minute)
            .key_extractor(clients)
            .finish()
            .ok_or_else(|| anyhow::anyhow!("invalid sign-in rate limit"))?;
        Ok(Self {
            enabled: settings.rate_limit_enabled,
            general,
            auth,
        })
    }
}

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
                // Sign-in and sign-up share one budget per client.
                web::scope("/auth")
                    .wrap(Condition::new(limits.enabled, Governor::new(&limits.auth)))
                    .service(identity::sign_up)
                    .service(identity::sign_in),
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
            .service(booking::create_booking)
            .service(booking::list_bookings)
            .service(booking::get_booking)
            .service(booking::cancel_booking)
            .service(booking::pay_booking)
            .service(booking::list_payments)
            .service(admin::list_notifications)
            .service(admin::retry_notification),
    );
}
