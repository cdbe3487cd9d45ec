//! Sign-in and sign-up forms.

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
