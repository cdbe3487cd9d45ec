//! The one error type services return, and its rendering as `application/problem+json`
//! (RFC 9457) with a stable `code`. Unexpected failures are logged in full and answered with
//! a 500 that says nothing internal.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use serde_json::{Map, Value};

mod database;

/// One rule broken by one field of the input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("validation failed: {0:?}")]
    Validation(Vec<FieldError>),
    #[error("malformed request: {0}")]
    Malformed(String),
    #[error("authentication required")]
    Unauthorized,
    #[error("not allowed")]
    Forbidden,
    /// `/metrics` without the configured bearer token, or (with none) from a remote client.
    #[error("metrics not allowed")]
    MetricsForbidden,
    /// A website form without a valid CSRF token.
    #[error("form token missing or stale")]
    CsrfRejected,
    #[error("not found")]
    NotFound,
    /// A known path asked with a method it does not serve; `allow` is the `Allow` header.
    #[error("method not allowed")]
    MethodNotAllowed { allow: String },
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("email already registered")]
    EmailTaken,
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("rate limited")]
    RateLimited { retry_after_seconds: u64 },
    #[error("seats unavailable: {0:?}")]
    SeatUnavailable(Vec<crate::models::catalog::SeatCode>),
    #[error("flight departed")]
    FlightDeparted,
    /// Booking and paying closed before departure (`sales_close_minutes`).
    #[error("sales closed")]
    SalesClosed,
    /// The airline cancelled the flight.
    #[error("flight cancelled")]
    FlightCancelled,
    /// Online check-in is not open now (`checkin_opens_hours`, `checkin_closes_minutes`).
    #[error("check-in closed")]
    CheckinClosed,
    #[error("booking not payable")]
    BookingNotPayable,
    #[error("booking already paid")]
    BookingAlreadyPaid,
    #[error("amount mismatch")]
    AmountMismatch,
    #[error("payment declined")]
    PaymentDeclined,
    #[error("payment provider failed: {0}")]
    PaymentProviderFailed(String),
    #[error("idempotency key missing")]
    IdempotencyKeyMissing,
    #[error("idempotency key reused")]
    IdempotencyKeyReused,
    #[error("idempotent request in progress")]
    IdempotencyRequestInProgress,
    #[error("overloaded")]
    Unavailable,
    /// A new password that API.md §3's rule refuses; names the field that held it.
    #[error("weak password: {}", .0.message)]
    WeakPassword(FieldError),
    /// A password-reset token that is unknown, used or expired (one answer for all three).
    #[error("reset token invalid")]
    TokenInvalid,
    #[error("the last admin cannot be demoted")]
    LastAdmin,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Seats as a reader lists them: "12C, 12D".
pub fn seat_list(seats: &[crate::models::catalog::SeatCode]) -> String {
    seats
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl AppError {
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        AppError::Validation(vec![FieldError::new(field, message)])
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::Validation(_) => "validation_failed",
            AppError::Malformed(_) => "malformed_request",
            AppError::Unauthorized => "unauthorized",
            AppError::Forbidden | AppError::MetricsForbidden | AppError::CsrfRejected => {
                "forbidden"
            }
            AppError::NotFound => "not_found",
            AppError::MethodNotAllowed { .. } => "method_not_allowed",
            AppError::Conflict(_) => "conflict",
            AppError::EmailTaken => "email_taken",
            AppError::PayloadTooLarge => "payload_too_large",
            AppError::RateLimited { .. } => "rate_limited",
            AppError::SeatUnavailable(_) => "seat_unavailable",
            AppError::FlightDeparted => "flight_departed",
            AppError::SalesClosed => "sales_closed",
            AppError::FlightCancelled => "flight_cancelled",
            AppError::CheckinClosed => "checkin_closed",
            AppError::BookingNotPayable => "booking_not_payable",
            AppError::BookingAlreadyPaid => "booking_already_paid",
            AppError::AmountMismatch => "amount_mismatch",
            AppError::PaymentDeclined => "payment_declined",
            AppError::PaymentProviderFailed(_) => "payment_provider_error",
            AppError::IdempotencyKeyMissing => "idempotency_key_missing",
            AppError::IdempotencyKeyReused => "idempotency_key_reused",
            AppError::IdempotencyRequestInProgress => "idempotency_request_in_progress",
            AppError::Unavailable => "unavailable",
            AppError::WeakPassword(_) => "weak_password",
            AppError::TokenInvalid => "token_invalid",
            AppError::LastAdmin => "last_admin",
            AppError::Unexpected(_) => "internal",
        }
    }

    pub fn title(&self) -> &'static str {
        match self {
            AppError::Validation(_) => "The request breaks a validation rule",
            AppError::Malformed(_) => "The request could not be read",
            AppError::Unauthorized => "Authentication required",
            AppError::Forbidden | AppError::MetricsForbidden => "Not allowed",
            AppError::CsrfRejected => "The form expired",
            AppError::NotFound => "Not found",
            AppError::MethodNotAllowed { .. } => "Method not allowed",
            AppError::Conflict(_) => "Conflict with the current state",
            AppError::EmailTaken => "Email already registered",
            AppError::PayloadTooLarge => "Payload too large",
            AppError::RateLimited { .. } => "Too many requests",
            AppError::SeatUnavailable(_) => "Seats unavailable",
            AppError::FlightDeparted => "The flight has departed",
            AppError::SalesClosed => "Sales for this flight have closed",
            AppError::FlightCancelled => "The flight is cancelled",
            AppError::CheckinClosed => "Check-in is not open",
            AppError::BookingNotPayable => "The booking cannot be paid",
            AppError::BookingAlreadyPaid => "The booking is already paid",
            AppError::AmountMismatch => "The amount does not match the booking",
            AppError::PaymentDeclined => "Payment declined",
            AppError::PaymentProviderFailed(_) => "The payment provider failed",
            AppError::IdempotencyKeyMissing => "Idempotency-Key header required",
            AppError::IdempotencyKeyReused => "Idempotency key reused",
            AppError::IdempotencyRequestInProgress => "Request in progress",
            AppError::Unavailable => "Temporarily unavailable",
            AppError::WeakPassword(_) => "The password is too weak",
            AppError::TokenInvalid => "The reset link is invalid or has expired",
            AppError::LastAdmin => "The last admin cannot be demoted",
            AppError::Unexpected(_) => "Internal error",
        }
    }

    pub fn detail(&self) -> String {
        match self {
            AppError::Validation(errors) => {
                let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
                format!("invalid field(s): {}", fields.join(", "))
            }
            AppError::Malformed(why) => why.clone(),
            AppError::Unauthorized => "a valid bearer token is required".into(),
            AppError::Forbidden => "your role does not allow this".into(),
            AppError::MetricsForbidden => {
                "metrics need the configured bearer token, or without one a loopback client".into()
            }
            AppError::CsrfRejected => {
                "the form's security token is missing or stale; reload the page and submit again"
                    .into()
            }
            AppError::NotFound => "no such resource".into(),
            AppError::MethodNotAllowed { allow } => format!("this path answers {allow}"),
            AppError::Conflict(why) => why.clone(),
            AppError::EmailTaken => "an account with this email already exists".into(),
            AppError::PayloadTooLarge => "the body is larger than 64 KiB".into(),
            AppError::RateLimited {
                retry_after_seconds,
            } => format!("retry in {retry_after_seconds} s"),
            AppError::SeatUnavailable(seats) if seats.is_empty() => {
                "too few seats are free for this booking".into()
            }
            AppError::SeatUnavailable(seats) => {
                format!("taken or held by someone else: {}", seat_list(seats))
            }
            AppError::FlightDeparted => "the flight has already departed".into(),
            AppError::FlightCancelled => {
                "the airline cancelled this flight; it cannot be booked".into()
            }
            AppError::SalesClosed => {
                "booking and paying close shortly before departure; this flight's have closed"
                    .into()
            }
            AppError::CheckinClosed => {
                "online check-in is open only in its window before departure".into()
            }
            AppError::BookingNotPayable => {
                "the booking is no longer pending, or its hold has run out".into()
            }
            AppError::BookingAlreadyPaid => "the booking is already confirmed".into(),
            AppError::AmountMismatch => "amount and currency must equal the booking's total".into(),
            AppError::PaymentDeclined => "the card was declined; nothing was charged".into(),
            AppError::PaymentProviderFailed(_) => {
                "the payment provider failed; nothing stays charged, retry with the same key".into()
            }
            AppError::IdempotencyKeyMissing => {
                "send an Idempotency-Key header (1-255 characters)".into()
            }
            AppError::IdempotencyKeyReused => {
                "this Idempotency-Key was used for a different request".into()
            }
            AppError::IdempotencyRequestInProgress => {
                "the first request with this Idempotency-Key is still running".into()
            }
            AppError::Unavailable => {
                "the database is saturated or unreachable; retry shortly".into()
            }
            AppError::WeakPassword(error) => format!("{} {}", error.field, error.message),
            AppError::TokenInvalid => {
                "this reset link is unknown, already used or expired; ask for a new one".into()
            }
            AppError::LastAdmin => {
                "this is the only admin; promote another user before demoting it".into()
            }
            AppError::Unexpected(_) => "something went wrong on our side".into(),
        }
    }

    /// The problem document, shared by the API and (as data) the website's error page.
    pub fn problem(&self) -> Value {
        let status = self.status_code();
        let mut body = Map::new();
        body.insert(
            "type".into(),
            format!("urn:skybook:problem:{}", self.code()).into(),
        );
        body.insert("title".into(), self.title().into());
        body.insert("status".into(), status.as_u16().into());
        body.insert("detail".into(), self.detail().into());
        body.insert("code".into(), self.code().into());
        if let AppError::Validation(errors) = self {
            body.insert(
                "errors".into(),
                serde_json::to_value(errors).unwrap_or_default(),
            );
        }
        if let AppError::WeakPassword(error) = self {
            body.insert(
                "errors".into(),
                serde_json::to_value([error]).unwrap_or_default(),
            );
        }
        if let AppError::SeatUnavailable(seats) = self {
            let seats: Vec<String> = seats.iter().map(ToString::to_string).collect();
            body.insert("seats".into(), seats.into());
        }
        Value::Object(body)
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Malformed(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden | AppError::MetricsForbidden | AppError::CsrfRejected => {
                StatusCode::FORBIDDEN
            }
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            AppError::Conflict(_) | AppError::EmailTaken | AppError::LastAdmin => {
                StatusCode::CONFLICT
            }
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::SeatUnavailable(_)
            | AppError::FlightCancelled
            | AppError::CheckinClosed
            | AppError::BookingNotPayable
            | AppError::BookingAlreadyPaid
            | AppError::IdempotencyRequestInProgress => StatusCode::CONFLICT,
            AppError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            AppError::FlightDeparted
            | AppError::SalesClosed
            | AppError::AmountMismatch
            | AppError::IdempotencyKeyReused
            | AppError::WeakPassword(_)
            | AppError::TokenInvalid => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::PaymentDeclined => StatusCode::PAYMENT_REQUIRED,
            AppError::PaymentProviderFailed(_) => StatusCode::BAD_GATEWAY,
            AppError::IdempotencyKeyMissing => StatusCode::BAD_REQUEST,
            AppError::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let AppError::Unexpected(err) = self {
            tracing::error!(error = ?err, "request failed unexpectedly");
        }
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        if let AppError::Unauthorized = self {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        if let AppError::RateLimited {
            retry_after_seconds,
        } = self
        {
            response.insert_header((header::RETRY_AFTER, retry_after_seconds.to_string()));
        }
        if let AppError::Unavailable = self {
            response.insert_header((header::RETRY_AFTER, "1"));
        }
        if let AppError::MethodNotAllowed { allow } = self {
            response.insert_header((header::ALLOW, allow.as_str()));
        }
        response.body(self.problem().to_string())
    }
}

/// Collects field errors so that one answer names every broken field.
#[derive(Default)]
pub struct Validator {
    errors: Vec<FieldError>,
}

impl Validator {
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps the value, or records why the field is wrong.
    pub fn check<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(message) => {
                self.errors.push(FieldError::new(field, message));
                None
            }
        }
    }

    pub fn fail(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    pub fn finish(self) -> Result<(), AppError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(AppError::Validation(self.errors))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_carry_status_code_and_errors() {
        let problem = AppError::field("email", "must be a valid email address").problem();
        assert_eq!(problem["status"], 422);
        assert_eq!(problem["code"], "validation_failed");
        assert_eq!(problem["errors"][0]["field"], "email");
    }

    #[test]
    fn internal_errors_leak_nothing() {
        let err = AppError::Unexpected(anyhow::anyhow!("password=hunter2 in table users"));
        let body = err.problem().to_string();
        assert!(!body.contains("hunter2"));
        assert_eq!(err.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
