//! The JSON API is sent uncompressed; the website's pages and the API docs are compressed.
//!
//! Measured with callgrind: compressing one response costs ~0.5 M instructions with gzip and
//! ~0.7 M with brotli, mostly setting up the encoder's tables, which is more than answering
//! the request itself (a flight by id is ~0.35 M in all), and actix compresses any body over
//! 1 KB on a blocking thread, one more thread hop per response. API answers are small JSON
//! (0.4-11 KB); a client on a slow link can have a TLS-terminating proxy compress them.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::ACCEPT_ENCODING;
use actix_web::middleware::Next;
use actix_web::Error;

/// Paths under this prefix are answered uncompressed.
pub const API_PREFIX: &str = "/api/v1/";

/// Wraps `Compress` from the outside: hides the client's `Accept-Encoding` from it for API
/// requests, so it answers them as they are.
pub async fn api_uncompressed(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    if req.path().starts_with(API_PREFIX) {
        req.headers_mut().remove(ACCEPT_ENCODING);
    }
    next.call(req).await
}
