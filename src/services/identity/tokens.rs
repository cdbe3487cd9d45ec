//! Access tokens: HS256 JWTs whose algorithm, issuer and claims are all checked.

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

pub const ISSUER: &str = "skybook";

/// Every claim is required: a token missing one does not deserialize and is refused.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: String,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
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

    pub fn issue(&self, user_id: i32, role: &str) -> anyhow::Result<String> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: user_id.to_string(),
            role: role.to_string(),
            iat: now,
            exp: now + i64::try_from(self.ttl_seconds).unwrap_or(i64::MAX / 2),
            iss: ISSUER.to_string(),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| anyhow::anyhow!("cannot sign token: {e}"))
    }

    /// The user id of a valid token, or `None` for anything forged, expired or malformed.
    pub fn verify(&self, token: &str) -> Option<i32> {
        let data = decode::<Claims>(token, &self.decoding, &self.validation).ok()?;
        let claims = data.claims;
        if claims.iat > chrono::Utc::now().timestamp() + 60 {
            return None;
        }
        claims.sub.parse().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn a_token_round_trips() {
        let keys = TokenKeys::new(SECRET, 60);
        let token = keys.issue(42, "customer").unwrap();
        assert_eq!(keys.verify(&token), Some(42));
    }

    #[test]
    fn a_token_signed_with_another_secret_is_refused() {
        let other = TokenKeys::new(b"another secret of at least 32 bytes!", 60);
        let token = other.issue(42, "admin").unwrap();
        assert_eq!(TokenKeys::new(SECRET, 60).verify(&token), None);
    }

    #[test]
    fn an_expired_token_is_refused() {
        let keys = TokenKeys::new(SECRET, 60);
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: "1".into(),
            role: "customer".into(),
            iat: now - 120,
            exp: now - 60,
            iss: ISSUER.into(),
        };
        let token = encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(SECRET),
        )
        .unwrap();
        assert_eq!(keys.verify(&token), None);
    }
}
