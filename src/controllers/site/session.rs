//! The website's visitor: who is signed in (the JWT in an HttpOnly cookie) and the CSRF token
//! their forms carry; and `Posted<T>`, a form body accepted only with a valid CSRF token.

use std::future::Future;
use std::pin::Pin;

use actix_web::body::MessageBody;
use actix_web::cookie::{time::Duration, Cookie, SameSite};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, Error, FromRequest, HttpMessage, HttpRequest};
use serde::de::DeserializeOwned;

use crate::controllers::extractors::{authenticate, AuthUser};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::csrf::{new_seed, FORM_FIELD, SEED_COOKIE};

pub const SESSION_COOKIE: &str = "skybook_session";
/// Form bodies are small; anything larger is not a form of ours.
const MAX_FORM_BYTES: usize = 64 * 1024;

/// The person looking at a page, as every page handler sees them.
#[derive(Clone)]
pub struct Visitor {
    pub user: Option<AuthUser>,
    pub csrf_token: String,
}

impl Visitor {
    /// Signed-out visitors are sent to the sign-in page (by the error-page middleware).
    pub fn signed_in(&self) -> Result<&AuthUser, AppError> {
        self.user.as_ref().ok_or(AppError::Unauthorized)
    }

    pub fn admin(&self) -> Result<&AuthUser, AppError> {
        let user = self.signed_in()?;
        if !user.is_admin() {
            return Err(AppError::Forbidden);
        }
        Ok(user)
    }
}

/// The seed set by [`ensure_csrf_seed`] in this request, for visitors who arrived without one.
#[derive(Clone)]
struct FreshSeed(String);

fn csrf_seed(req: &HttpRequest) -> Option<String> {
    if let Some(fresh) = req.extensions().get::<FreshSeed>() {
        return Some(fresh.0.clone());
    }
    req.cookie(SEED_COOKIE).map(|c| c.value().to_string())
}

fn session_token(req: &HttpRequest) -> Option<String> {
    req.cookie(SESSION_COOKIE)
        .map(|c| c.value().to_string())
        .filter(|v| !v.is_empty())
}

impl FromRequest for Visitor {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = req
                .app_data::<web::Data<AppState>>()
                .cloned()
                .ok_or_else(|| anyhow::anyhow!("application state missing"))?;
            let session = session_token(&req);
            let user = match &session {
                None => None,
                Some(token) => match authenticate(Some(state.clone()), Some(token.clone())).await {
                    Ok(user) => Some(user),
                    // An expired or revoked session is simply signed out.
                    Err(AppError::Unauthorized) => None,
                    Err(other) => return Err(other),
                },
            };
            let seed = csrf_seed(&req).unwrap_or_default();
            let visitor = Visitor {
                user,
                csrf_token: state.csrf.token(&seed, session.as_deref().unwrap_or("")),
            };
            // The error page shows the same header as the page that failed.
            req.extensions_mut().insert(visitor.clone());
            Ok(visitor)
        })
    }
}

/// A visitor without a CSRF seed gets one now, so the first page they see can carry forms.
pub async fn ensure_csrf_seed(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    // API clients carry no cookies and need no forms.
    let fresh = if !super::render::is_api(req.path()) && req.cookie(SEED_COOKIE).is_none() {
        let seed = new_seed();
        req.extensions_mut().insert(FreshSeed(seed.clone()));
        Some(seed)
    } else {
        None
    };
    let secure = is_secure(req.request());
    let mut response = next.call(req).await?;
    if let Some(seed) = fresh {
        let cookie = Cookie::build(SEED_COOKIE, seed)
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(secure)
            .finish();
        if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    Ok(response)
}

/// Cookies are marked Secure when the site is served over TLS (directly or, as a trusted
/// proxy says, behind one) or its public URL is https.
pub fn is_secure(req: &HttpRequest) -> bool {
    let public_https = req
        .app_data::<web::Data<AppState>>()
        .is_some_and(|s| s.settings.public_url.starts_with("https://"));
    public_https || crate::web::client_ip::is_https(req)
}

pub fn session_cookie(req: &HttpRequest, token: String, ttl_seconds: u64) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, token)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(is_secure(req))
        .max_age(Duration::seconds(
            i64::try_from(ttl_seconds).unwrap_or(i64::MAX),
        ))
        .finish()
}

pub fn cleared_session_cookie(req: &HttpRequest) -> Cookie<'static> {
    let mut cookie = session_cookie(req, String::new(), 0);
    cookie.make_removal();
    cookie
}

/// A form post whose `csrf_token` matches the visitor's seed and session; anything else is
/// 403 before the handler runs.
pub struct Posted<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Posted<T> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let state = req
                .app_data::<web::Data<AppState>>()
                .cloned()
                .ok_or_else(|| anyhow::anyhow!("application state missing"))?;
            let is_form = req
                .content_type()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded");
            let body = web::Bytes::from_request(&req, &mut payload)
                .await
                .map_err(|_| AppError::PayloadTooLarge)?;
            if body.len() > MAX_FORM_BYTES {
                return Err(AppError::PayloadTooLarge);
            }
            let fields: Vec<(String, String)> = if is_form {
                serde_html_form::from_bytes(&body)
                    .map_err(|e| AppError::Malformed(format!("unreadable form: {e}")))?
            } else {
                Vec::new()
            };
            let token = fields
                .iter()
                .find(|(name, _)| name == FORM_FIELD)
                .map(|(_, value)| value.as_str())
                .unwrap_or("");
            let seed = req
                .cookie(SEED_COOKIE)
                .map(|c| c.value().to_string())
                .unwrap_or_default();
            let session = session_token(&req).unwrap_or_default();
            if seed.is_empty() || !state.csrf.verify(token, &seed, &session) {
                return Err(AppError::CsrfRejected);
            }
            let value = serde_html_form::from_bytes(&body)
                .map_err(|e| AppError::Malformed(format!("unreadable form: {e}")))?;
            Ok(Posted(value))
        })
    }
}
