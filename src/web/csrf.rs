//! CSRF tokens for the website's forms: a signed double-submit token. A random seed lives in
//! its own HttpOnly cookie; a form's token is an HMAC of that seed and the session cookie, so
//! another site can neither read nor forge it, and a token planted with a stolen seed stops
//! working once the victim's session differs.
//!
//! BREACH: pages are compressed and some echo query values, so a secret repeated verbatim in
//! every response could be guessed byte by byte from compressed sizes. Each response carries
//! the HMAC masked with a fresh one-time pad (`hex(pad || pad XOR hmac)`, as Django does), so
//! no two responses share the token's bytes; the check unmasks first.

use hmac::{Hmac, Mac};
use rand::distributions::Alphanumeric;
use rand::Rng;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

pub const SEED_COOKIE: &str = "skybook_csrf";
pub const FORM_FIELD: &str = "csrf_token";
/// HMAC-SHA256's output, and the pad's length.
const MAC_BYTES: usize = 32;

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

    /// A token for one response's forms: masked afresh on every call.
    pub fn token(&self, seed: &str, session: &str) -> String {
        let mac = self.mac(seed, session).finalize().into_bytes();
        let mut pad = [0u8; MAC_BYTES];
        rand::thread_rng().fill(&mut pad);
        let mut token = Vec::with_capacity(2 * MAC_BYTES);
        token.extend_from_slice(&pad);
        token.extend(pad.iter().zip(mac.iter()).map(|(p, m)| p ^ m));
        hex::encode(token)
    }

    /// Constant-time check of a submitted token.
    pub fn verify(&self, token: &str, seed: &str, session: &str) -> bool {
        let Ok(bytes) = hex::decode(token) else {
            return false;
        };
        let mac: Vec<u8> = match bytes.len() {
            len if len == 2 * MAC_BYTES => {
                let (pad, masked) = bytes.split_at(MAC_BYTES);
                pad.iter().zip(masked).map(|(p, m)| p ^ m).collect()
            }
            // Unmasked, as forms rendered before masking carried it: cheap to keep, and no
            // response shows this form any more.
            MAC_BYTES => bytes,
            _ => return false,
        };
        self.mac(seed, session).verify_slice(&mac).is_ok()
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

    #[test]
    fn every_token_is_masked_afresh_and_each_one_verifies() {
        let key = CsrfKey::derive(b"0123456789abcdef0123456789abcdef").unwrap();
        let first = key.token("seed", "session");
        let second = key.token("seed", "session");
        assert_ne!(first, second);
        assert_eq!(first.len(), 128);
        assert!(key.verify(&first, "seed", "session"));
        assert!(key.verify(&second, "seed", "session"));
        // Tampering with the pad or the masked half breaks it.
        for at in [0, 100] {
            let mut bytes = hex::decode(&first).unwrap();
            bytes[at / 2] ^= 1;
            assert!(!key.verify(&hex::encode(bytes), "seed", "session"), "{at}");
        }
        // A token rendered before masking still works.
        let unmasked = hex::encode(key.mac("seed", "session").finalize().into_bytes());
        assert!(key.verify(&unmasked, "seed", "session"));
        assert!(!key.verify(&first[..96], "seed", "session"));
    }
}
