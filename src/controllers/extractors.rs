//! Who is calling: `AuthUser` for any signed-in user, `AdminUser` for admins. The role is read
//! from the database on every request, so a demoted admin loses admin rights at once; the
//! same read says whether the token was revoked (sign-out, password change).

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header;
use actix_web::{dev::Payload, web, FromRequest, HttpRequest};

use crate::db::session::Session;
use crate::error::AppError;
use crate::models::identity::{user, Role};
use crate::services::identity::{find_caller, VerifiedToken};
use crate::state::AppState;
use crate::web::client_ip::client_key;

#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: i32,
    pub role: Role,
    pub user: user::Model,
    /// The token this request came with (what sign-out revokes).
    pub token: VerifiedToken,
}

impl AuthUser {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

#[derive(Debug, Clone)]
pub struct AdminUser(pub AuthUser);

/// The client's address as rate limits key it (behind trusted proxies, the forwarded one;
/// an IPv6 client by its /64), for caps that span accounts.
#[derive(Debug, Clone)]
pub struct ClientAddress(pub String);

impl FromRequest for ClientAddress {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        std::future::ready(Ok(ClientAddress(client_key(req).to_string())))
    }
}

pub(crate) fn bearer_token(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return None;
    }
    Some(token.trim().to_string())
}

pub(crate) async fn authenticate(
    state: Option<web::Data<AppState>>,
    token: Option<String>,
) -> Result<AuthUser, AppError> {
    let state = state.ok_or_else(|| anyhow::anyhow!("application state missing"))?;
    let token = verify(&state, token)?;
    AuthUser::read(&mut state.db.session(), token).await
}

/// The token's signature and expiry, checked without the database.
fn verify(state: &AppState, token: Option<String>) -> Result<VerifiedToken, AppError> {
    let token = token.ok_or(AppError::Unauthorized)?;
    state.tokens.verify(&token).ok_or(AppError::Unauthorized)
}

impl AuthUser {
    /// The caller of a verified token, read on `session`: refused when the token was revoked
    /// or its user is gone.
    pub async fn read(session: &mut Session<'_>, token: VerifiedToken) -> Result<Self, AppError> {
        let user = find_caller(session, &token)
            .await?
            .ok_or(AppError::Unauthorized)?;
        let role = Role::parse(&user.role)
            .ok_or_else(|| anyhow::anyhow!("user {} has an unknown role", user.id))?;
        Ok(AuthUser {
            id: user.id,
            role,
            user,
            token,
        })
    }
}

/// A bearer token whose signature and expiry hold, its caller not yet read: for a handler
/// that reads the caller on the session its write will use (see `db::session`), once the
/// body has been read (`AuthUser::read`). Whether the token was revoked is that read's to say.
pub struct Bearer(pub VerifiedToken);

impl FromRequest for Bearer {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let verified = match req.app_data::<web::Data<AppState>>() {
            Some(state) => verify(state, bearer_token(req)).map(Bearer),
            None => Err(anyhow::anyhow!("application state missing").into()),
        };
        std::future::ready(verified)
    }
}

impl FromRequest for AuthUser {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer_token(req);
        Box::pin(authenticate(state, token))
    }
}

impl FromRequest for AdminUser {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer_token(req);
        Box::pin(async move {
            let user = authenticate(state, token).await?;
            if !user.is_admin() {
                return Err(AppError::Forbidden);
            }
            Ok(AdminUser(user))
        })
    }
}

/// The caller `C`, checked before `T` (usually the JSON body) is read. Actix runs a handler's
/// extractors concurrently and answers with whichever fails first; this makes a refused caller
/// a 401/403 whatever the body holds.
pub struct Guarded<C, T>(pub C, pub T);

impl<C, T> FromRequest for Guarded<C, T>
where
    C: FromRequest + 'static,
    T: FromRequest + 'static,
{
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let caller = C::from_request(&req, &mut Payload::None)
                .await
                .map_err(Into::into)?;
            let inner = T::from_request(&req, &mut payload)
                .await
                .map_err(Into::into)?;
            Ok(Guarded(caller, inner))
        })
    }
}
