//! Sign-in and sign-up forms, and the account page.

use serde::Serialize;

use super::FieldErrors;

#[derive(Serialize, Default)]
pub struct SignInPage {
    pub email: String,
    pub next: String,
    pub error: Option<String>,
}

#[derive(Serialize, Default)]
pub struct SignUpPage {
    pub name: String,
    pub email: String,
    pub next: String,
    pub errors: FieldErrors,
}

/// The account page: the password change form.
#[derive(Serialize, Default)]
pub struct AccountPage {
    pub email: String,
    /// Just changed (after the redirect).
    pub changed: bool,
    pub errors: FieldErrors,
}
