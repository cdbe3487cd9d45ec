//! Account recovery: asking for a password-reset link by email, and setting a new password
//! with it. Both sit under `/auth` and spend the sign-in budget.

use actix_web::{post, web, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::error::AppError;
use crate::models::identity::Email;
use crate::services::identity::{self, Password};
use crate::state::AppState;
use crate::views::identity::ResetRequestedView;
use crate::views::ProblemView;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetRequestBody {
    #[schema(example = "asha@example.com", max_length = 254)]
    pub email: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetConfirmBody {
    /// The `token` of the emailed link.
    #[schema(max_length = 128)]
    pub token: String,
    /// The rule of the sign-up password (else 422 `weak_password`).
    #[schema(example = "Tr4vel-to-Goa!")]
    pub password: String,
}

/// Emails a reset link valid 30 minutes when the address has an account. The answer is the
/// same either way.
#[utoipa::path(
    tag = "identity",
    path = "/auth/password-reset",
    request_body = ResetRequestBody,
    responses(
        (status = 202, description = "accepted, whether or not the address has an account", body = ResetRequestedView),
        (status = 400, description = "malformed_request", body = ProblemView),
        (status = 422, description = "validation_failed: not an email address", body = ProblemView),
        (status = 429, description = "rate_limited (the sign-in budget)", body = ProblemView),
    )
)]
#[post("/password-reset")]
pub async fn request_reset(
    state: web::Data<AppState>,
    body: web::Json<ResetRequestBody>,
) -> Result<HttpResponse, AppError> {
    let email = Email::parse(&body.email).map_err(|message| AppError::field("email", message))?;
    identity::request_reset(
        &state.db,
        &state.delivery.reset_key,
        &email,
        state.settings.email_max_attempts,
    )
    .await?;
    Ok(HttpResponse::Accepted().json(ResetRequestedView::default()))
}

/// Sets a new password with a reset token; the token works once, and every access token
/// issued to the account before is revoked.
#[utoipa::path(
    tag = "identity",
    path = "/auth/password-reset/confirm",
    request_body = ResetConfirmBody,
    responses(
        (status = 204, description = "the password is set; earlier tokens are revoked"),
        (status = 400, description = "malformed_request", body = ProblemView),
        (status = 422, description = "token_invalid (unknown, used or expired), weak_password, or validation_failed for an oversized password", body = ProblemView),
        (status = 429, description = "rate_limited (the sign-in budget)", body = ProblemView),
    )
)]
#[post("/password-reset/confirm")]
pub async fn confirm_reset(
    state: web::Data<AppState>,
    body: web::Json<ResetConfirmBody>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    let password =
        Password::parse(body.password).map_err(|message| AppError::field("password", message))?;
    identity::confirm_reset(&state.db, &body.token, password).await?;
    Ok(HttpResponse::NoContent().finish())
}
