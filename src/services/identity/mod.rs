//! Identity: sign-up, sign-in, tokens and their revocation, passwords and roles.

mod credentials;
pub mod passwords;
mod recovery;
mod reset_key;
mod revocation;
mod roles;
mod tokens;
mod users;

pub use credentials::{change_password, replace_password};
pub use passwords::{check_strength, hash_password, verify_password, Password, WeakPassword};
pub use recovery::{confirm_reset, request_reset, RESET_TTL_MINUTES};
pub use reset_key::ResetKey;
pub use revocation::{delete_expired_revocations, find_caller, revoke_token};
pub use roles::{set_role, LAST_ADMIN_LOCK};
pub use tokens::{Claims, TokenKeys, VerifiedToken};
pub use users::*;
