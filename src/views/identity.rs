use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::clock;
use crate::models::identity::user;
use crate::services::identity::SignedIn;

#[derive(Serialize, ToSchema)]
pub struct UserView {
    pub id: i32,
    pub email: String,
    pub name: String,
    #[schema(example = "customer")]
    pub role: String,
    pub created_at: DateTime<Utc>,
}

impl From<user::Model> for UserView {
    fn from(user: user::Model) -> Self {
        Self {
            id: user.id,
            email: user.email,
            name: user.name,
            role: user.role,
            created_at: clock::to_utc(user.created_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct SignInView {
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the token expires.
    pub expires_in: u64,
    pub user: UserView,
}

impl From<SignedIn> for SignInView {
    fn from(signed_in: SignedIn) -> Self {
        Self {
            access_token: signed_in.access_token,
            token_type: "Bearer",
            expires_in: signed_in.expires_in,
            user: signed_in.user.into(),
        }
    }
}

/// The answer to a password-reset request, the same whether or not the address has an
/// account.
#[derive(Serialize, ToSchema)]
pub struct ResetRequestedView {
    #[schema(example = "If an account has this email, a reset link is on its way.")]
    pub message: &'static str,
}

impl Default for ResetRequestedView {
    fn default() -> Self {
        Self {
            message: "If an account has this email, a reset link is on its way.",
        }
    }
}
