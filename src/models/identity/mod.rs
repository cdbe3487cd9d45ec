//! Identity: users, their password hashes and roles, and revoked access tokens.

mod email;
pub mod revoked_token;
mod role;
pub mod user;

pub use email::Email;
pub use role::Role;
