//! Sign-in and sign-up forms, the account page and the password-reset pages.

use serde::Serialize;

use super::FieldErrors;

#[derive(Serialize, Default)]
pub struct SignInPage {
    pub email: String,
    pub next: String,
    pub error: Option<String>,
    /// Just came back from setting a new password.
    pub reset: bool,
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

/// Asking for a reset link; `sent` once asked (the same page for any address).
#[derive(Serialize, Default)]
pub struct ForgotPasswordPage {
    pub email: String,
    pub sent: bool,
    pub errors: FieldErrors,
}

/// Choosing a new password with the emailed token.
#[derive(Serialize, Default)]
pub struct ResetPasswordPage {
    pub token: String,
    /// The token is unknown, used or expired.
    pub invalid: bool,
    pub errors: FieldErrors,
}
