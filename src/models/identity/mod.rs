//! Identity: users, their password hashes and roles, revoked access tokens and password-reset
//! tokens.

mod email;
pub mod password_reset;
pub mod revoked_token;
mod role;
pub mod user;

pub use email::Email;
pub use role::Role;
