//! The HTTP families of `/metrics`: every answered request counted and timed by its method,
//! route pattern (`/api/v1/bookings/{id}`, not the raw path) and status. Every label comes
//! from a bounded set, so no client can grow the number of series.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, Error};

use crate::state::AppState;

/// The route label of a path no route serves (404s, and whatever a scanner tries).
pub const UNMATCHED: &str = "unmatched";

pub async fn record(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return next.call(req).await;
    };
    let method = method_label(req.method());
    let started = Instant::now();
    let result = next.call(req).await;
    // Read once routed: actix then names the pattern from the resource it matched. Asked
    // before, it matched the path against the whole route table a second time (0.09 M of a
    // booking + payment's 4.09 M instructions; bench-findings round 15). Handlers' and
    // extractors' errors, 404s and 429s are responses with their request; an `Err` here is a
    // middleware's failure that took the request with it, so its route is not known.
    let (route, status) = match &result {
        Ok(response) => (
            route_label(response.request().match_pattern()),
            response.status(),
        ),
        Err(err) => (UNMATCHED.to_string(), err.as_response_error().status_code()),
    };
    state.metrics.http_request(
        method,
        &route,
        status.as_str(),
        started.elapsed().as_secs_f64(),
    );
    result
}

/// The matched resource's pattern; the catch-all resources (`web::methods::fallback`, which
/// answers 404 and 405 for every path) and no match at all are one label.
fn route_label(pattern: Option<String>) -> String {
    match pattern {
        Some(pattern) if !pattern.contains("{_unrouted") => pattern,
        _ => UNMATCHED.to_string(),
    }
}

/// HTTP allows any token as a method: the ones Skybook serves are kept, the rest are one label.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_stay_in_bounded_sets() {
        assert_eq!(
            route_label(Some("/api/v1/bookings/{id}".into())),
            "/api/v1/bookings/{id}"
        );
        assert_eq!(
            route_label(Some("/api/v1/{_unrouted:.*}".into())),
            UNMATCHED
        );
        assert_eq!(route_label(None), UNMATCHED);
        let custom = Method::from_bytes(b"BREW").expect("a token");
        assert_eq!(method_label(&custom), "other");
        assert_eq!(method_label(&Method::DELETE), "DELETE");
    }
}
