//! The account page (`/account`): the signed-in visitor changes their password. The same
//! service as `PUT /api/v1/me/password`; every other session of theirs is signed out, and
//! this browser gets a fresh session cookie.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::render::{page, see_other};
use super::session::{session_cookie, Posted, Visitor};
use crate::error::{AppError, FieldError};
use crate::services::identity::{self, Password};
use crate::state::AppState;
use crate::views::site::account::AccountPage;
use crate::views::site::field_errors;

#[derive(Deserialize)]
pub struct AccountParams {
    pub changed: Option<String>,
}

#[get("/account")]
pub async fn account_page(
    state: web::Data<AppState>,
    visitor: Visitor,
    params: web::Query<AccountParams>,
) -> Result<HttpResponse, AppError> {
    let user = visitor.signed_in()?;
    let view = AccountPage {
        email: user.user.email.clone(),
        changed: params.changed.is_some(),
        ..Default::default()
    };
    page(&state, &visitor, "account", StatusCode::OK, &view)
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    pub current_password: String,
    #[serde(default)]
    pub new_password: String,
}

#[post("/account")]
pub async fn change_password(
    req: HttpRequest,
    state: web::Data<AppState>,
    visitor: Visitor,
    Posted(form): Posted<PasswordForm>,
) -> Result<HttpResponse, AppError> {
    let user = visitor.signed_in()?;
    let result = match Password::parse(form.new_password) {
        Ok(new) => {
            identity::change_password(&state.db, &user.user, form.current_password, new).await
        }
        Err(message) => Err(AppError::field("new_password", message)),
    };
    let (error, status) = match result {
        Ok(()) => return signed_in_again(&req, &state, user.id).await,
        Err(AppError::Unauthorized) => (
            FieldError::new("current_password", "is not your current password"),
            StatusCode::UNAUTHORIZED,
        ),
        Err(AppError::WeakPassword(error)) => (error, StatusCode::UNPROCESSABLE_ENTITY),
        Err(AppError::Validation(mut errors)) if !errors.is_empty() => {
            (errors.remove(0), StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(other) => return Err(other),
    };
    let view = AccountPage {
        email: user.user.email.clone(),
        changed: false,
        errors: field_errors(&[error]),
    };
    page(&state, &visitor, "account", status, &view)
}

/// The change revoked this browser's token with the others: it gets one of the new
/// generation, so only the other sessions are signed out.
async fn signed_in_again(
    req: &HttpRequest,
    state: &AppState,
    user_id: i32,
) -> Result<HttpResponse, AppError> {
    let user = identity::find_user(&state.db, user_id)
        .await?
        .ok_or(AppError::Unauthorized)?;
    let token = state.tokens.issue(&user)?;
    let mut response = see_other("/account?changed=1");
    let cookie = session_cookie(req, token, state.tokens.ttl_seconds());
    if let Err(err) = response.add_cookie(&cookie) {
        tracing::error!(error = %err, "cannot set the session cookie");
    }
    Ok(response)
}
