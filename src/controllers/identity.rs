//! Sign-up, sign-in, sign-out, the caller's own account and password, and role changes by
//! admins.

use actix_web::{get, post, put, web, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use super::extractors::{AdminUser, AuthUser, Guarded};
use crate::error::{AppError, Validator};
use crate::models::identity::{Email, Role};
use crate::services::identity::{self, parse_person_name, Password, UserForSignup};
use crate::state::AppState;
use crate::views::identity::{SignInView, UserView};
use crate::views::ProblemView;
use crate::web::input::JsonBody;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignUpBody {
    /// A plain address (`local@domain`): no display name, comment or quotes.
    #[schema(
        example = "asha@example.com",
        max_length = 254,
        pattern = r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,64}(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,64})*@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$"
    )]
    pub email: String,
    /// At least 8 characters and at most 1024 bytes, not only white space, not the email or
    /// its local part, and not one of the 10,000 most common passwords (else 422
    /// `weak_password`).
    #[schema(example = "Tr4vel-to-Goa!", min_length = 8, max_length = 1024)]
    pub password: String,
    /// 1-200 characters once trimmed, no control characters.
    #[schema(
        example = "Asha Rao",
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub name: String,
}

impl TryFrom<SignUpBody> for UserForSignup {
    type Error = AppError;

    fn try_from(body: SignUpBody) -> Result<Self, AppError> {
        let mut v = Validator::new();
        let email = v.check("email", Email::parse(&body.email));
        let password = v.check("password", Password::parse(body.password));
        let name = v.check("name", parse_person_name(&body.name));
        v.finish()?;
        match (email, password, name) {
            (Some(email), Some(password), Some(name)) => Ok(UserForSignup {
                email,
                password,
                name,
            }),
            _ => Err(anyhow::anyhow!("validated sign-up lost a field").into()),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInBody {
    pub email: String,
    pub password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleBody {
    #[schema(value_type = Role, example = "admin")]
    pub role: String,
}

#[utoipa::path(
    tag = "identity",
    path = "/auth/signup",
    request_body = SignUpBody,
    responses(
        (status = 201, body = UserView),
        (status = 409, description = "email_taken", body = ProblemView),
        (status = 422, description = "validation_failed (a bad email, a blank name) or weak_password", body = ProblemView),
    )
)]
#[post("/signup")]
pub async fn sign_up(
    state: web::Data<AppState>,
    body: JsonBody<SignUpBody>,
) -> Result<HttpResponse, AppError> {
    let new = UserForSignup::try_from(body.into_inner())?;
    let user = identity::sign_up(&state.db, new).await?;
    Ok(HttpResponse::Created().json(UserView::from(user)))
}

#[utoipa::path(
    tag = "identity",
    path = "/auth/signin",
    request_body = SignInBody,
    responses(
        (status = 200, body = SignInView),
        (status = 401, description = "unknown email or wrong password", body = ProblemView),
    )
)]
#[post("/signin")]
pub async fn sign_in(
    state: web::Data<AppState>,
    body: JsonBody<SignInBody>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    let signed_in = identity::sign_in(&state.db, &state.tokens, &body.email, body.password).await?;
    Ok(HttpResponse::Ok().json(SignInView::from(signed_in)))
}

#[utoipa::path(
    tag = "identity",
    responses((status = 200, body = UserView), (status = 401, body = ProblemView)),
    security(("bearer" = []))
)]
#[get("/me")]
pub async fn me(user: AuthUser) -> HttpResponse {
    HttpResponse::Ok().json(UserView::from(user.user))
}

#[utoipa::path(
    tag = "identity",
    params(("id" = i32, Path, description = "user id")),
    request_body = RoleBody,
    responses(
        (status = 200, body = UserView),
        (status = 401, body = ProblemView),
        (status = 403, body = ProblemView),
        (status = 404, body = ProblemView),
        (status = 409, description = "last_admin: the only admin cannot be demoted", body = ProblemView),
        (status = 422, description = "validation_failed: an unknown role", body = ProblemView),
    ),
    security(("bearer" = ["admin"]))
)]
#[put("/admin/users/{id}/role")]
pub async fn set_role(
    Guarded(_admin, body): Guarded<AdminUser, JsonBody<RoleBody>>,
    state: web::Data<AppState>,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let role = Role::parse(&body.role)
        .ok_or_else(|| AppError::field("role", "must be admin or customer"))?;
    let user = identity::set_role(&state.db, id.into_inner(), role).await?;
    Ok(HttpResponse::Ok().json(UserView::from(user)))
}

/// Revokes the token this request came with; the user's other tokens stay valid.
#[utoipa::path(
    tag = "identity",
    path = "/auth/signout",
    responses(
        (status = 204, description = "the presented token is revoked"),
        (status = 401, body = ProblemView),
    ),
    security(("bearer" = []))
)]
#[post("/auth/signout")]
pub async fn sign_out(
    state: web::Data<AppState>,
    user: AuthUser,
) -> Result<HttpResponse, AppError> {
    identity::revoke_token(&state.db, &user.token).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordBody {
    pub current_password: String,
    /// The rule of the sign-up password (else 422 `weak_password`).
    #[schema(example = "Tr4vel-to-Goa!", min_length = 8, max_length = 1024)]
    pub new_password: String,
}

/// Changes the caller's password and revokes every token issued before, this one included.
#[utoipa::path(
    tag = "identity",
    path = "/me/password",
    request_body = ChangePasswordBody,
    responses(
        (status = 204, description = "changed; every earlier token is revoked"),
        (status = 400, description = "malformed_request: not JSON, a missing or unknown field", body = ProblemView),
        (status = 401, description = "no valid token, or a wrong current password", body = ProblemView),
        (status = 422, description = "weak_password, or validation_failed for an oversized password", body = ProblemView),
    ),
    security(("bearer" = []))
)]
#[put("/me/password")]
pub async fn change_password(
    Guarded(user, body): Guarded<AuthUser, JsonBody<ChangePasswordBody>>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    let new = Password::parse(body.new_password)
        .map_err(|message| AppError::field("new_password", message))?;
    identity::change_password(&state.db, &user.user, body.current_password, new).await?;
    Ok(HttpResponse::NoContent().finish())
}
