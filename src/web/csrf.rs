//! CSRF tokens for the website's forms: a signed double-submit token. A random seed lives in
//! its own HttpOnly cookie; a form's token is an HMAC of that seed and the session cookie, so
//! another site can neither read nor forge it, and a token planted with a stolen seed stops
//! working once the victim's session differs.

use hmac::{Hmac, Mac};
use rand::distributions::Alphanumeric;
use rand::Rng;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

pub const SEED_COOKIE: &str = "skybook_csrf";
pub const FORM_FIELD: &str = "csrf_token";

#[derive(Clone)]
pub struct CsrfKey {
    key: [u8; 32],
}

impl CsrfKey {
    /// Derived from the JWT secret, so that no second secret has to be kept, yet a CSRF token
    /// is never usable as anything else.
    pub fn derive(secret: &[u8]) -> anyhow::Result<Self> {
        let mut mac =
            HmacSha256::new_from_slice(secret).map_err(|e| anyhow::anyhow!("csrf key: {e}"))?;
        mac.update(b"skybook csrf key v1");
        Ok(Self {
            key: mac.finalize().into_bytes().into(),
        })
    }

    fn mac(&self, seed: &str, session: &str) -> HmacSha256 {
        // A 32-byte key is always accepted.
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.key).expect("any key length");
        mac.update(seed.as_bytes());
        mac.update(b"\0");
        mac.update(session.as_bytes());
        mac
    }

    pub fn token(&self, seed: &str, session: &str) -> String {
        hex::encode(self.mac(seed, session).finalize().into_bytes())
    }

    /// Constant-time check of a submitted token.
    pub fn verify(&self, token: &str, seed: &str, session: &str) -> bool {
        match hex::decode(token) {
            Ok(bytes) => self.mac(seed, session).verify_slice(&bytes).is_ok(),
            Err(_) => false,
        }
    }
}

/// A fresh seed for a visitor who has none.
pub fn new_seed() -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(32)
        .map(char::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_verifies_only_with_its_seed_and_session() {
        let key = CsrfKey::derive(b"0123456789abcdef0123456789abcdef").unwrap();
        let token = key.token("seed", "session-a");
        assert!(key.verify(&token, "seed", "session-a"));
        assert!(!key.verify(&token, "other-seed", "session-a"));
        assert!(!key.verify(&token, "seed", "session-b"));
        assert!(!key.verify("not hex", "seed", "session-a"));
        assert!(!key.verify("", "seed", "session-a"));
        let other = CsrfKey::derive(b"another secret, also 32 bytes long").unwrap();
        assert!(!other.verify(&token, "seed", "session-a"));
    }
}
