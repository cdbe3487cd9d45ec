//! Extractor configuration: malformed JSON, wrong types and unknown fields are 400
//! `malformed_request`, oversized bodies 413, unparsable path ids 404 — never a 500.

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::{web, HttpRequest};

use crate::error::AppError;

pub const MAX_JSON_BYTES: usize = 64 * 1024;

pub fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(MAX_JSON_BYTES)
        .error_handler(|err: JsonPayloadError, _req: &HttpRequest| {
            let app_error = match &err {
                JsonPayloadError::Overflow { .. }
                | JsonPayloadError::OverflowKnownLength { .. } => AppError::PayloadTooLarge,
                JsonPayloadError::ContentType => AppError::Malformed(
                    "the body must be JSON (Content-Type: application/json)".into(),
                ),
                JsonPayloadError::Deserialize(e) => {
                    AppError::Malformed(format!("invalid JSON body: {e}"))
                }
                other => AppError::Malformed(format!("unreadable body: {other}")),
            };
            app_error.into()
        })
}

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default()
        .error_handler(|_err: PathError, _req: &HttpRequest| AppError::NotFound.into())
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err: QueryPayloadError, _req: &HttpRequest| {
        AppError::Malformed(format!("invalid query string: {err}")).into()
    })
}
