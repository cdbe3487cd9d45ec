//! Access tokens: HS256 JWTs whose algorithm, issuer and claims are all checked.
//!
//! Revocation (see docs/SECURITY.md): each token carries its user's token generation (`gen`)
//! and a random `jti`. Raising the user's generation revokes every earlier token at once,
//! whatever second it was issued in (no clock comparison, so no same-second ambiguity and no
//! clock skew between instances); a single token is revoked by its `jti` (sign-out).

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::models::identity::user;

pub const ISSUER: &str = "skybook";

/// `sub`, `role`, `iat`, `exp` and `iss` are required: a token missing one does not
/// deserialize and is refused. `gen` and `jti` are ours; a token without them (which only
/// the secret's holder can make) belongs to generation 0 and is revoked by a hash of itself.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: String,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    #[serde(default)]
    pub gen: i64,
}

/// What a valid token says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    pub user_id: i32,
    /// The user's token generation when the token was issued.
    pub generation: i64,
    /// The key that revokes this token alone.
    pub revocation_key: String,
    /// Seconds since the epoch.
    pub expires_at: i64,
}

#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl_seconds: u64,
}

impl TokenKeys {
    pub fn new(secret: &[u8], ttl_seconds: u64) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "sub", "iss"]);
        validation.leeway = 0;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl_seconds,
        }
    }

    pub fn ttl_seconds(&self) -> u64 {
        self.ttl_seconds
    }

    /// A token for `user` as it is now (its role and token generation).
    pub fn issue(&self, user: &user::Model) -> anyhow::Result<String> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: user.id.to_string(),
            role: user.role.clone(),
            iat: now,
            exp: now + i64::try_from(self.ttl_seconds).unwrap_or(i64::MAX / 2),
            iss: ISSUER.to_string(),
            jti: Some(uuid::Uuid::new_v4().simple().to_string()),
            gen: i64::from(user.token_generation),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| anyhow::anyhow!("cannot sign token: {e}"))
    }

    /// What a valid token says, or `None` for anything forged, expired or malformed. Whether
    /// it was revoked is the database's to say (see `revocation::find_caller`).
    pub fn verify(&self, token: &str) -> Option<VerifiedToken> {
        let data = decode::<Claims>(token, &self.decoding, &self.validation).ok()?;
        let claims = data.claims;
        if claims.iat > chrono::Utc::now().timestamp() + 60 {
            return None;
        }
        Some(VerifiedToken {
            user_id: claims.sub.parse().ok()?,
            generation: claims.gen,
            revocation_key: revocation_key(claims.jti.as_deref(), token),
            expires_at: claims.exp,
        })
    }
}

/// The `jti` when it is a plain short id; otherwise a hash of the signed part of the token,
/// which no one can vary without the secret (the signature covers it byte for byte).
fn revocation_key(jti: Option<&str>, token: &str) -> String {
    let plain = |id: &&str| {
        (1..=64).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    match jti.filter(plain) {
        Some(id) => id.to_string(),
        None => {
            let signed = token.rsplit_once('.').map_or(token, |(signed, _)| signed);
            hex::encode(Sha256::digest(signed.as_bytes()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn user(id: i32, generation: i32) -> user::Model {
        user::Model {
            id,
            email: "a@example.com".into(),
            name: "A".into(),
            password_hash: String::new(),
            role: "customer".into(),
            created_at: crate::clock::now(),
            token_generation: generation,
        }
    }

    fn signed(claims: &serde_json::Value) -> String {
        encode(
            &Header::new(Algorithm::HS256),
            claims,
            &EncodingKey::from_secret(SECRET),
        )
        .unwrap()
    }

    #[test]
    fn a_token_round_trips_with_its_generation_and_a_fresh_id() {
        let keys = TokenKeys::new(SECRET, 60);
        let first = keys.verify(&keys.issue(&user(42, 3)).unwrap()).unwrap();
        let second = keys.verify(&keys.issue(&user(42, 3)).unwrap()).unwrap();
        assert_eq!((first.user_id, first.generation), (42, 3));
        assert_eq!(first.revocation_key.len(), 32);
        assert_ne!(
            first.revocation_key, second.revocation_key,
            "two tokens of one second are told apart"
        );
    }

    #[test]
    fn a_token_signed_with_another_secret_is_refused() {
        let other = TokenKeys::new(b"another secret of at least 32 bytes!", 60);
        let token = other.issue(&user(42, 0)).unwrap();
        assert_eq!(TokenKeys::new(SECRET, 60).verify(&token), None);
    }

    #[test]
    fn an_expired_token_is_refused() {
        let keys = TokenKeys::new(SECRET, 60);
        let now = chrono::Utc::now().timestamp();
        let token = signed(&serde_json::json!({
            "sub": "1", "role": "customer", "iat": now - 120, "exp": now - 60, "iss": ISSUER,
        }));
        assert_eq!(keys.verify(&token), None);
    }

    #[test]
    fn a_token_without_our_claims_is_generation_0_and_revocable_by_its_hash() {
        let keys = TokenKeys::new(SECRET, 60);
        let now = chrono::Utc::now().timestamp();
        let token = signed(&serde_json::json!({
            "sub": "7", "role": "customer", "iat": now, "exp": now + 60, "iss": ISSUER,
        }));
        let verified = keys.verify(&token).unwrap();
        assert_eq!(verified.generation, 0);
        assert_eq!(verified.revocation_key.len(), 64);
        let odd_jti = signed(&serde_json::json!({
            "sub": "7", "role": "customer", "iat": now, "exp": now + 60, "iss": ISSUER,
            "jti": "x".repeat(65),
        }));
        assert_eq!(keys.verify(&odd_jti).unwrap().revocation_key.len(), 64);
    }
}
