//! Identity: sign-up, sign-in, tokens and roles.

mod passwords;
mod tokens;
mod users;

pub use passwords::{hash_password, verify_password};
pub use tokens::{Claims, TokenKeys};
pub use users::*;
