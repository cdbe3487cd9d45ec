//! The weak-password rule of API.md §3, for every new password (sign-up, create-admin,
//! password change, reset): one function, so that no path can skip a part of it.

use std::collections::HashSet;
use std::sync::LazyLock;

use crate::error::{AppError, FieldError};

pub const MIN_PASSWORD_CHARS: usize = 8;

/// SecLists' 10,000 most common passwords (see `resources/common_passwords.LICENSE`), in the
/// binary so that the check needs no file or network at run time.
const COMMON_PASSWORDS: &str = include_str!("../../../../resources/common_passwords.txt");

/// Lower-cased once on first use: the check ignores case (`Password` is as guessable as
/// `password`).
static COMMON: LazyLock<HashSet<String>> = LazyLock::new(|| {
    COMMON_PASSWORDS
        .lines()
        .map(str::trim_end)
        .filter(|line| !line.is_empty())
        .map(str::to_lowercase)
        .collect()
});

/// Why a password is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeakPassword {
    TooShort,
    OnlyWhiteSpace,
    SameAsEmail,
    Common,
}

impl WeakPassword {
    pub fn message(self) -> String {
        match self {
            WeakPassword::TooShort => format!("must be at least {MIN_PASSWORD_CHARS} characters"),
            WeakPassword::OnlyWhiteSpace => "must not be only spaces".into(),
            WeakPassword::SameAsEmail => "must not be your email address or its name part".into(),
            WeakPassword::Common => {
                "is one of the most common passwords; choose one that is harder to guess".into()
            }
        }
    }

    /// The 422 `weak_password` answer, naming the input field that held the password.
    pub fn on_field(self, field: &str) -> AppError {
        AppError::WeakPassword(FieldError::new(field, self.message()))
    }
}

/// `Ok` when `password` may become the password of the account with `email`.
pub fn check_strength(password: &str, email: &str) -> Result<(), WeakPassword> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(WeakPassword::TooShort);
    }
    if password.chars().all(char::is_whitespace) {
        return Err(WeakPassword::OnlyWhiteSpace);
    }
    let lowered = password.to_lowercase();
    let email = email.trim().to_lowercase();
    let local_part = email
        .rsplit_once('@')
        .map_or(email.as_str(), |(local, _)| local);
    if lowered == email || lowered == local_part {
        return Err(WeakPassword::SameAsEmail);
    }
    if COMMON.contains(&lowered) {
        return Err(WeakPassword::Common);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMAIL: &str = "asha.rao2024@example.com";

    #[test]
    fn the_list_holds_the_ten_thousand_passwords() {
        // 10,000 lines, a few of which differ only in case.
        assert!((9_900..=10_000).contains(&COMMON.len()), "{}", COMMON.len());
        for common in [
            "password",
            "12345678",
            "qwertyuiop",
            "iloveyou",
            "password1",
        ] {
            assert!(COMMON.contains(common), "{common}");
        }
    }

    #[test]
    fn each_kind_of_weak_password_is_refused_for_its_reason() {
        let cases = [
            ("1234567", WeakPassword::TooShort),
            ("", WeakPassword::TooShort),
            ("ñandú12", WeakPassword::TooShort),
            ("        ", WeakPassword::OnlyWhiteSpace),
            ("\t \n \u{a0}   ", WeakPassword::OnlyWhiteSpace),
            ("Asha.Rao2024@Example.com", WeakPassword::SameAsEmail),
            ("ASHA.RAO2024", WeakPassword::SameAsEmail),
            ("password", WeakPassword::Common),
            ("PassWord", WeakPassword::Common),
            ("12345678", WeakPassword::Common),
            ("qwertyuiop", WeakPassword::Common),
        ];
        for (password, why) in cases {
            assert_eq!(check_strength(password, EMAIL), Err(why), "{password:?}");
        }
    }

    #[test]
    fn ordinary_passwords_pass() {
        for password in [
            "correct horse battery",
            "ñandú-1234",
            "Tr4vel-to-Goa!",
            "asha.rao2024x",
        ] {
            assert_eq!(check_strength(password, EMAIL), Ok(()), "{password:?}");
        }
    }
}
