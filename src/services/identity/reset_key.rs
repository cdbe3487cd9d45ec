//! Password-reset tokens: drawn from a random seed, stored only as a hash.
//!
//! The token is `HMAC(key, seed)` with the key derived from the JWT secret. The outbox keeps
//! the seed (the email is rendered from it, and a retried send carries the same link); the
//! reset row keeps `SHA-256(token)`. Reading the database alone gives neither the token nor a
//! way to make one.

use hmac::{Hmac, Mac};
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// Bytes of seed per token: 256 bits from the OS.
const SEED_BYTES: usize = 32;
/// A presented token longer than this is not one of ours (and is not hashed).
pub const MAX_TOKEN_LEN: usize = 128;

#[derive(Clone)]
pub struct ResetKey {
    key: [u8; 32],
}

impl ResetKey {
    /// Derived from the JWT secret, so no second secret has to be kept, yet a reset token is
    /// never usable as anything else.
    pub fn derive(secret: &[u8]) -> anyhow::Result<Self> {
        let mut mac =
            HmacSha256::new_from_slice(secret).map_err(|e| anyhow::anyhow!("reset key: {e}"))?;
        mac.update(b"skybook password reset key v1");
        Ok(Self {
            key: mac.finalize().into_bytes().into(),
        })
    }

    /// A fresh seed, hex.
    pub fn new_seed() -> String {
        let mut seed = [0u8; SEED_BYTES];
        OsRng.fill_bytes(&mut seed);
        hex::encode(seed)
    }

    /// The token the email carries for `seed`.
    pub fn token(&self, seed: &str) -> anyhow::Result<String> {
        let mut mac =
            HmacSha256::new_from_slice(&self.key).map_err(|e| anyhow::anyhow!("reset key: {e}"))?;
        mac.update(seed.as_bytes());
        Ok(hex::encode(mac.finalize().into_bytes()))
    }
}

/// What the database keeps of a token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_stable_per_seed_and_differ_between_seeds_and_keys() {
        let key = ResetKey::derive(b"a secret of at least thirty-two bytes").unwrap();
        let other = ResetKey::derive(b"another secret, also thirty-two bytes").unwrap();
        let seed = ResetKey::new_seed();
        assert_eq!(seed.len(), 2 * SEED_BYTES);
        assert_eq!(key.token(&seed).unwrap(), key.token(&seed).unwrap());
        assert_ne!(
            key.token(&seed).unwrap(),
            key.token(&ResetKey::new_seed()).unwrap()
        );
        assert_ne!(key.token(&seed).unwrap(), other.token(&seed).unwrap());
        assert_eq!(token_hash("abc").len(), 64);
    }
}
