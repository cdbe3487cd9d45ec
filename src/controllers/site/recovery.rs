//! Getting back into an account from the website: `/forgot-password` asks for a reset link,
//! `/reset-password?token=…` sets a new password with it. The same service as the API's
//! `/api/v1/auth/password-reset`; both posts spend the sign-in budget (routed in
//! `site::configure_site`).

use actix_web::http::StatusCode;
use actix_web::{get, web, HttpResponse};
use serde::Deserialize;

use super::render::{page, see_other};
use super::session::{Posted, Visitor};
use crate::error::{AppError, FieldError};
use crate::models::identity::Email;
use crate::services::identity::{self, Password};
use crate::state::AppState;
use crate::views::site::account::{ForgotPasswordPage, ResetPasswordPage};
use crate::views::site::field_errors;

#[get("/forgot-password")]
pub async fn forgot_password_form(
    state: web::Data<AppState>,
    visitor: Visitor,
) -> Result<HttpResponse, AppError> {
    page(
        &state,
        &visitor,
        "forgot_password",
        StatusCode::OK,
        &ForgotPasswordPage::default(),
    )
}

#[derive(Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    pub email: String,
}

/// `POST /forgot-password`: the same page whether or not the address has an account.
pub async fn forgot_password(
    state: web::Data<AppState>,
    visitor: Visitor,
    Posted(form): Posted<ForgotForm>,
) -> Result<HttpResponse, AppError> {
    let email = match Email::parse(form.email.trim()) {
        Ok(email) => email,
        Err(message) => {
            let view = ForgotPasswordPage {
                email: form.email,
                sent: false,
                errors: field_errors(&[FieldError::new("email", message)]),
            };
            return page(
                &state,
                &visitor,
                "forgot_password",
                StatusCode::UNPROCESSABLE_ENTITY,
                &view,
            );
        }
    };
    identity::request_reset(
        &state.db,
        &state.delivery.reset_key,
        &email,
        state.settings.email_max_attempts,
    )
    .await?;
    let view = ForgotPasswordPage {
        email: email.as_str().to_string(),
        sent: true,
        ..Default::default()
    };
    page(&state, &visitor, "forgot_password", StatusCode::OK, &view)
}

#[derive(Deserialize)]
pub struct TokenParam {
    #[serde(default)]
    pub token: String,
}

/// Opening the link shows the form; it does not use the token up (mail scanners open links).
#[get("/reset-password")]
pub async fn reset_password_form(
    state: web::Data<AppState>,
    visitor: Visitor,
    params: web::Query<TokenParam>,
) -> Result<HttpResponse, AppError> {
    let view = ResetPasswordPage {
        token: params.into_inner().token,
        ..Default::default()
    };
    page(&state, &visitor, "reset_password", StatusCode::OK, &view)
}

#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    pub token: String,
    #[serde(default)]
    pub new_password: String,
}

/// `POST /reset-password`: on success the visitor signs in with the new password.
pub async fn reset_password(
    state: web::Data<AppState>,
    visitor: Visitor,
    Posted(form): Posted<ResetForm>,
) -> Result<HttpResponse, AppError> {
    let result = match Password::parse(form.new_password) {
        Ok(password) => identity::confirm_reset(&state.db, &form.token, password).await,
        Err(message) => Err(AppError::field("new_password", message)),
    };
    let mut view = ResetPasswordPage {
        token: form.token,
        ..Default::default()
    };
    match result {
        Ok(()) => return Ok(see_other("/signin?reset=1")),
        Err(AppError::TokenInvalid) => view.invalid = true,
        Err(AppError::WeakPassword(mut error)) => {
            error.field = "new_password".into();
            view.errors = field_errors(&[error]);
        }
        Err(AppError::Validation(mut errors)) if !errors.is_empty() => {
            errors[0].field = "new_password".into();
            view.errors = field_errors(&errors[..1]);
        }
        Err(other) => return Err(other),
    }
    page(
        &state,
        &visitor,
        "reset_password",
        StatusCode::UNPROCESSABLE_ENTITY,
        &view,
    )
}
