//! Every response carries `X-Request-Id` (the client's own, when it sent a sane one), and
//! every log line of a request carries the same id.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::InternalError;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::Error;
use tracing::Instrument;

pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

fn acceptable(id: &str) -> bool {
    !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic())
}

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = req
        .headers()
        .get(&HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable(v))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %req.method(),
        path = %req.path(),
    );
    let started = Instant::now();
    let result = next.call(req).instrument(span.clone()).await;
    let header_value = HeaderValue::from_str(&id).ok();
    match result {
        Ok(mut response) => {
            log_finished(&span, response.status().as_u16(), started);
            if let Some(value) = header_value {
                response.headers_mut().insert(HEADER, value);
            }
            Ok(response.map_into_boxed_body())
        }
        // An error that escaped every handler: render it here so it still carries the id.
        Err(err) => {
            let mut response = err.error_response();
            log_finished(&span, response.status().as_u16(), started);
            if let Some(value) = header_value {
                response.headers_mut().insert(HEADER, value);
            }
            Err(InternalError::from_response(err.to_string(), response).into())
        }
    }
}

fn log_finished(span: &tracing::Span, status: u16, started: Instant) {
    span.in_scope(|| {
        tracing::info!(
            status,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "request finished"
        )
    });
}

#[cfg(test)]
mod tests {
    use super::acceptable;

    #[test]
    fn only_sane_ids_are_echoed() {
        assert!(acceptable("abc-123"));
        assert!(!acceptable(""));
        assert!(!acceptable("has space"));
        assert!(!acceptable(&"x".repeat(129)));
    }
}
