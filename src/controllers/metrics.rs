//! `GET /metrics`: this process's counters in Prometheus's text format (API.md §9), for whoever
//! holds `SKYBOOK_METRICS_TOKEN`, or, when none is set, for loopback clients only.

use actix_web::{get, web, HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};

use super::extractors::bearer_token;
use crate::error::AppError;
use crate::services::notify::outbox;
use crate::state::AppState;
use crate::web::client_ip::client_ip;

/// With `SKYBOOK_METRICS_TOKEN` set, send `Authorization: Bearer <that token>`; without it,
/// only loopback clients (as rate limits see them, behind trusted proxies) are answered.
#[utoipa::path(tag = "operations",
    responses(
        (status = 200, description = "Prometheus text exposition format 0.0.4: the `skybook_*` families of this process", body = String, content_type = "text/plain; version=0.0.4"),
        (status = 403, description = "forbidden: `SKYBOOK_METRICS_TOKEN` is set and the bearer token is not it, or it is empty and the client is not loopback", body = crate::views::ProblemView, content_type = "application/problem+json"),
    ))]
#[get("/metrics")]
pub async fn metrics(
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, AppError> {
    if !allowed(&request, state.settings.metrics_token.expose()) {
        return Err(AppError::MetricsForbidden);
    }
    // Read at scrape time: exact on every instance, whichever of them queued the emails.
    let waiting = outbox::waiting(&state.db).await?;
    let body = state.metrics.render(waiting)?;
    Ok(HttpResponse::Ok()
        .content_type(prometheus::TEXT_FORMAT)
        .body(body))
}

fn allowed(request: &HttpRequest, token: &str) -> bool {
    if token.is_empty() {
        return client_ip(request).is_loopback();
    }
    bearer_token(request).is_some_and(|given| same_secret(&given, token))
}

/// Compared as digests in constant time, so that neither the timing of the comparison nor its
/// early exit on a length difference tells how much of a guess was right.
fn same_secret(given: &str, expected: &str) -> bool {
    use subtle::ConstantTimeEq;
    let given = Sha256::digest(given.as_bytes());
    let expected = Sha256::digest(expected.as_bytes());
    given.ct_eq(&expected).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_secret_matches() {
        assert!(same_secret("s3cret-token", "s3cret-token"));
        assert!(!same_secret("s3cret-toke", "s3cret-token"));
        assert!(!same_secret("s3cret-token ", "s3cret-token"));
        assert!(!same_secret("", "s3cret-token"));
    }
}
