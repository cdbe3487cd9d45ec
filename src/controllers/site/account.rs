//! Sign-up, sign-in and sign-out for the website: the same identity service as the API, with
//! the access token kept in an HttpOnly cookie.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::render::{local_path, page, see_other};
use super::session::{cleared_session_cookie, session_cookie, Posted, Visitor};
use crate::controllers::identity::SignUpBody;
use crate::error::{AppError, FieldError};
use crate::services::identity::{self, UserForSignup};
use crate::state::AppState;
use crate::views::site::account::{SignInPage, SignUpPage};
use crate::views::site::field_errors;

#[derive(Deserialize)]
pub struct NextParam {
    pub next: Option<String>,
    /// Set by the redirect after a password reset.
    pub reset: Option<String>,
}

fn next_of(next: Option<&str>) -> String {
    local_path(next).unwrap_or("/").to_string()
}

#[get("/signin")]
pub async fn sign_in_form(
    state: web::Data<AppState>,
    visitor: Visitor,
    params: web::Query<NextParam>,
) -> Result<HttpResponse, AppError> {
    let view = SignInPage {
        next: next_of(params.next.as_deref()),
        reset: params.reset.is_some(),
        ..Default::default()
    };
    page(&state, &visitor, "signin", StatusCode::OK, &view)
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub password: String,
    pub next: Option<String>,
}

/// Signs the browser in and sends it on.
fn signed_in(req: &HttpRequest, state: &AppState, token: String, next: &str) -> HttpResponse {
    let mut response = see_other(next);
    let cookie = session_cookie(req, token, state.tokens.ttl_seconds());
    if let Err(err) = response.add_cookie(&cookie) {
        tracing::error!(error = %err, "cannot set the session cookie");
    }
    response
}

/// `POST /signin` (routed in `site::configure_site`, behind the sign-in rate limit).
pub async fn sign_in(
    req: HttpRequest,
    state: web::Data<AppState>,
    visitor: Visitor,
    Posted(form): Posted<SignInForm>,
) -> Result<HttpResponse, AppError> {
    let next = next_of(form.next.as_deref());
    match identity::sign_in(&state.db, &state.tokens, form.email.trim(), form.password).await {
        Ok(done) => Ok(signed_in(&req, &state, done.access_token, &next)),
        Err(AppError::Unauthorized) => {
            let view = SignInPage {
                email: form.email,
                next,
                error: Some("The email or the password is wrong.".into()),
                reset: false,
            };
            page(&state, &visitor, "signin", StatusCode::UNAUTHORIZED, &view)
        }
        Err(other) => Err(other),
    }
}

#[get("/signup")]
pub async fn sign_up_form(
    state: web::Data<AppState>,
    visitor: Visitor,
    params: web::Query<NextParam>,
) -> Result<HttpResponse, AppError> {
    let view = SignUpPage {
        next: next_of(params.next.as_deref()),
        ..Default::default()
    };
    page(&state, &visitor, "signup", StatusCode::OK, &view)
}

#[derive(Deserialize)]
pub struct SignUpForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub password: String,
    pub next: Option<String>,
}

/// `POST /signup` (routed in `site::configure_site`, behind the sign-in rate limit).
pub async fn sign_up(
    req: HttpRequest,
    state: web::Data<AppState>,
    visitor: Visitor,
    Posted(form): Posted<SignUpForm>,
) -> Result<HttpResponse, AppError> {
    let next = next_of(form.next.as_deref());
    let result = match UserForSignup::try_from(SignUpBody {
        email: form.email.clone(),
        password: form.password,
        name: form.name.clone(),
    }) {
        Ok(new) => identity::sign_up(&state.db, new).await,
        Err(err) => Err(err),
    };
    let (errors, status) = match result {
        Ok(user) => {
            let token = state.tokens.issue(&user)?;
            return Ok(signed_in(&req, &state, token, &next));
        }
        Err(AppError::Validation(errors)) => (errors, StatusCode::UNPROCESSABLE_ENTITY),
        Err(AppError::WeakPassword(error)) => (vec![error], StatusCode::UNPROCESSABLE_ENTITY),
        Err(AppError::EmailTaken) => (
            vec![FieldError::new(
                "email",
                "an account with this email already exists; sign in instead",
            )],
            StatusCode::CONFLICT,
        ),
        Err(other) => return Err(other),
    };
    let view = SignUpPage {
        name: form.name,
        email: form.email,
        next,
        errors: field_errors(&errors),
    };
    page(&state, &visitor, "signup", status, &view)
}

#[derive(Deserialize)]
pub struct NoFields {}

/// Revokes the session's token (a copy of the cookie stops working too) and clears it.
#[post("/signout")]
pub async fn sign_out(
    req: HttpRequest,
    state: web::Data<AppState>,
    visitor: Visitor,
    Posted(_): Posted<NoFields>,
) -> Result<HttpResponse, AppError> {
    if let Some(user) = &visitor.user {
        identity::revoke_token(&state.db, &user.token).await?;
    }
    let mut response = see_other("/");
    if let Err(err) = response.add_cookie(&cleared_session_cookie(&req)) {
        tracing::error!(error = %err, "cannot clear the session cookie");
    }
    Ok(response)
}
