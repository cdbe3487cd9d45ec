//! Identity: users, their password hashes and roles.

mod email;
mod role;
pub mod user;

pub use email::Email;
pub use role::Role;
