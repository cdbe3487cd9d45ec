//! Passwords: the input newtype, the strength rule every new password must pass, and argon2id
//! hashing.

mod hashing;
mod strength;

pub use hashing::{hash_password, verify_password};
pub use strength::{check_strength, WeakPassword, MIN_PASSWORD_CHARS};

/// Bounds the work one sign-in can cause.
pub const MAX_PASSWORD_LEN: usize = 1024;

/// A password of acceptable size, never printed. Whether it is strong enough for a new
/// password is [`check_strength`]'s to say (it needs the account's email).
pub struct Password(String);

impl Password {
    pub fn parse(input: String) -> Result<Self, String> {
        if input.len() > MAX_PASSWORD_LEN {
            return Err(format!("must be at most {MAX_PASSWORD_LEN} bytes"));
        }
        Ok(Self(input))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_oversized_passwords_are_unreadable() {
        assert!(Password::parse("x".repeat(MAX_PASSWORD_LEN)).is_ok());
        assert!(Password::parse("x".repeat(MAX_PASSWORD_LEN + 1)).is_err());
    }
}
