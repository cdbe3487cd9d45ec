//! Who the client is, for rate limiting: the peer address, or, when the peer is a trusted
//! proxy, the right-most `X-Forwarded-For` address that is not itself a trusted proxy.
//! Forwarding headers from anyone else are ignored, so they cannot buy a fresh budget.

use std::net::IpAddr;
use std::sync::Arc;

use actix_governor::governor::clock::{Clock, DefaultClock, QuantaInstant};
use actix_governor::governor::NotUntil;
use actix_governor::{KeyExtractor, SimpleKeyExtractionError};
use actix_web::dev::ServiceRequest;
use actix_web::http::header;
use actix_web::{HttpResponse, HttpResponseBuilder};

use crate::error::AppError;

#[derive(Clone)]
pub struct ClientIp {
    trusted_proxies: Arc<Vec<IpAddr>>,
}

impl ClientIp {
    pub fn new(trusted_proxies: Vec<IpAddr>) -> Self {
        Self {
            trusted_proxies: Arc::new(trusted_proxies),
        }
    }

    pub fn resolve(&self, peer: IpAddr, forwarded_for: Option<&str>) -> IpAddr {
        if !self.trusted_proxies.contains(&peer) {
            return peer;
        }
        let Some(chain) = forwarded_for else {
            return peer;
        };
        let hops: Vec<IpAddr> = chain
            .split(',')
            .filter_map(|hop| hop.trim().parse::<IpAddr>().ok())
            .collect();
        hops.iter()
            .rev()
            .find(|ip| !self.trusted_proxies.contains(ip))
            .or(hops.first())
            .copied()
            .unwrap_or(peer)
    }
}

impl KeyExtractor for ClientIp {
    type Key = IpAddr;
    type KeyExtractionError = SimpleKeyExtractionError<&'static str>;

    fn extract(&self, req: &ServiceRequest) -> Result<Self::Key, Self::KeyExtractionError> {
        let peer = req
            .peer_addr()
            .map(|addr| addr.ip())
            .ok_or_else(|| SimpleKeyExtractionError::new("no peer address"))?;
        let forwarded_for = req
            .headers()
            .get(header::X_FORWARDED_FOR)
            .and_then(|v| v.to_str().ok());
        Ok(self.resolve(peer, forwarded_for))
    }

    fn exceed_rate_limit_response(
        &self,
        negative: &NotUntil<QuantaInstant>,
        _response: HttpResponseBuilder,
    ) -> HttpResponse {
        let wait = negative.wait_time_from(DefaultClock::default().now());
        // Round up: "retry in 0 s" would invite an immediate, refused retry.
        let retry_after_seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        actix_web::ResponseError::error_response(&AppError::RateLimited {
            retry_after_seconds: retry_after_seconds.max(1),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let clients = ClientIp::new(vec![ip("10.0.0.1")]);
        assert_eq!(
            clients.resolve(ip("203.0.113.9"), Some("1.2.3.4")),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn behind_trusted_proxies_the_rightmost_untrusted_hop_is_the_client() {
        let clients = ClientIp::new(vec![ip("10.0.0.1"), ip("10.0.0.2")]);
        let chain = "6.6.6.6, 198.51.100.7, 10.0.0.2";
        assert_eq!(
            clients.resolve(ip("10.0.0.1"), Some(chain)),
            ip("198.51.100.7")
        );
        assert_eq!(clients.resolve(ip("10.0.0.1"), None), ip("10.0.0.1"));
        assert_eq!(
            clients.resolve(ip("10.0.0.1"), Some("garbage")),
            ip("10.0.0.1")
        );
    }
}
