//! The two per-client rate limiters (the general API budget, and sign-in + sign-up's shared
//! one), keyed by [`client_key`], and the sweep that keeps their memory bounded.
//!
//! governor keeps one entry per key it has seen and never forgets one by itself, so a flood of
//! distinct addresses (easy with IPv6) would grow the store for ever. Every
//! [`EVICTION_INTERVAL`] the keys whose budget is full again (indistinguishable from a client
//! never seen) are dropped and the tables shrunk: memory follows the clients active within
//! one interval plus the refill time, not all clients ever seen. A key still owing is kept,
//! so eviction never hands out a fresh budget early.

use std::sync::{Arc, Weak};
use std::time::Duration;

use actix_governor::governor::clock::{Clock, DefaultClock, QuantaInstant};
use actix_governor::governor::middleware::NoOpMiddleware;
use actix_governor::governor::state::keyed::DefaultKeyedStateStore;
use actix_governor::governor::{NotUntil, RateLimiter};
use actix_governor::{GovernorConfig, GovernorConfigBuilder, KeyExtractor};
use actix_web::dev::ServiceRequest;
use actix_web::{HttpResponse, HttpResponseBuilder};

use super::client_ip::{client_key, ClientKey};
use crate::config::Settings;
use crate::error::AppError;

/// How often idle keys are dropped. A minute bounds the store by one minute's distinct
/// clients; a sweep of 1,000,000 keys took well under a second in a debug build.
pub const EVICTION_INTERVAL: Duration = Duration::from_secs(60);

type Limiter = RateLimiter<
    ClientKey,
    DefaultKeyedStateStore<ClientKey>,
    DefaultClock,
    NoOpMiddleware<QuantaInstant>,
>;
pub type LimitConfig = GovernorConfig<ByClient, NoOpMiddleware<QuantaInstant>>;

/// Keys governor's limiters by [`client_key`] and answers a refusal with a problem document.
#[derive(Clone, Copy, Debug, Default)]
pub struct ByClient;

impl KeyExtractor for ByClient {
    type Key = ClientKey;
    type KeyExtractionError = AppError;

    fn extract(&self, req: &ServiceRequest) -> Result<Self::Key, Self::KeyExtractionError> {
        Ok(client_key(req.request()))
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

/// The two rate limiters, built once so that every worker shares their counters.
#[derive(Clone)]
pub struct RateLimits {
    pub enabled: bool,
    pub general: LimitConfig,
    pub auth: LimitConfig,
}

impl RateLimits {
    pub fn new(settings: &Settings) -> anyhow::Result<Self> {
        let general = GovernorConfigBuilder::default()
            .requests_per_second(u64::from(settings.rate_limit_per_second))
            .burst_size(settings.rate_limit_burst)
            .key_extractor(ByClient)
            .finish()
            .ok_or_else(|| anyhow::anyhow!("invalid general rate limit"))?;
        let auth = GovernorConfigBuilder::default()
            .requests_per_minute(u64::from(settings.auth_rate_limit_per_minute))
            .burst_size(settings.auth_rate_limit_per_minute)
            .key_extractor(ByClient)
            .finish()
            .ok_or_else(|| anyhow::anyhow!("invalid sign-in rate limit"))?;
        Ok(Self {
            enabled: settings.rate_limit_enabled,
            general,
            auth,
        })
    }

    /// Drops idle keys every `interval` until the limiters are gone (the server stopped).
    pub fn spawn_eviction(&self, interval: Duration) -> tokio::task::JoinHandle<()> {
        let limiters = [
            Arc::downgrade(&self.general.limiter()),
            Arc::downgrade(&self.auth.limiter()),
        ];
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            ticks.tick().await;
            loop {
                ticks.tick().await;
                let alive: Vec<Arc<Limiter>> = limiters.iter().filter_map(Weak::upgrade).collect();
                if alive.is_empty() {
                    return;
                }
                let kept: usize = alive.iter().map(|limiter| evict_idle(limiter)).sum();
                tracing::debug!(kept, "rate limiter keys swept");
            }
        })
    }
}

/// Forgets every key whose budget is whole again; returns how many keys remain.
pub fn evict_idle(limiter: &Limiter) -> usize {
    limiter.retain_recent();
    limiter.shrink_to_fit();
    limiter.len()
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    use std::time::Instant;

    use super::*;

    fn limiter(period: Duration, burst: u32) -> Arc<Limiter> {
        GovernorConfigBuilder::default()
            .period(period)
            .burst_size(burst)
            .key_extractor(ByClient)
            .finish()
            .expect("a valid quota")
            .limiter()
    }

    /// Resident memory of this process, from the kernel.
    fn rss_kib() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    /// Set in the child process that measures alone.
    const MEASURING_ALONE: &str = "SKYBOOK_RATE_LIMIT_MEMORY_CHILD";

    /// RSS belongs to the whole process, and the other unit tests running beside this one
    /// allocate too (a shared process failed this on a busy machine): the measurement runs
    /// in a child process of this test binary that runs this test alone.
    #[test]
    fn a_million_distinct_clients_are_forgotten_once_idle() {
        if std::env::var_os(MEASURING_ALONE).is_some() {
            return measure_a_million_clients();
        }
        let exe = std::env::current_exe().expect("the test binary");
        let output = std::process::Command::new(exe)
            .args([
                "web::rate_limit::tests::a_million_distinct_clients_are_forgotten_once_idle",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(MEASURING_ALONE, "1")
            .output()
            .expect("run the measurement alone");
        let report = String::from_utf8_lossy(&output.stderr);
        eprintln!("{report}");
        assert!(output.status.success(), "the measurement failed:\n{report}");
        assert!(report.contains("1M keys:"), "the child measured: {report}");
    }

    fn measure_a_million_clients() {
        // A short refill so that the keys go idle within the test; the eviction is the one
        // the server runs.
        let limiter = limiter(Duration::from_millis(1), 1);
        let before = rss_kib();
        let started = Instant::now();
        for n in 0..1_000_000u32 {
            let _ = limiter.check_key(&ClientKey::V4(Ipv4Addr::from(n)));
        }
        let filled = started.elapsed();
        let full_len = limiter.len();
        let full = rss_kib();
        std::thread::sleep(Duration::from_millis(5));
        let started = Instant::now();
        let kept = evict_idle(&limiter);
        let swept = started.elapsed();
        let after = rss_kib();
        eprintln!(
            "1M keys: {full_len} stored, RSS +{} KiB (filled in {filled:?}); after eviction: \
             {kept} stored, RSS +{} KiB over the start (swept in {swept:?})",
            full.saturating_sub(before),
            after.saturating_sub(before),
        );
        assert_eq!(full_len, 1_000_000);
        assert_eq!(kept, 0, "every idle key is dropped");
        let growth = full.saturating_sub(before);
        // Without the eviction all of it stays.
        assert!(
            after.saturating_sub(before) <= growth / 4 + 4096,
            "memory returns: +{growth} KiB full, +{} KiB after",
            after.saturating_sub(before)
        );
    }

    #[test]
    fn a_client_still_owing_keeps_its_key_and_its_refusal() {
        let limiter = limiter(Duration::from_secs(60), 1);
        let client = ClientKey::V4(Ipv4Addr::new(203, 0, 113, 9));
        assert!(limiter.check_key(&client).is_ok());
        assert!(limiter.check_key(&client).is_err());
        assert_eq!(evict_idle(&limiter), 1);
        assert!(limiter.check_key(&client).is_err(), "no fresh budget");
    }

    #[test]
    fn addresses_of_one_ipv6_64_share_one_budget() {
        let limiter = limiter(Duration::from_secs(60), 2);
        let net = u128::from("2001:db8:1:2::".parse::<Ipv6Addr>().expect("address"));
        let refused = (1..=1000u128)
            .map(|host| ClientKey::from(IpAddr::V6(Ipv6Addr::from(net | host))))
            .filter(|key| limiter.check_key(key).is_err())
            .count();
        assert_eq!(refused, 998);
        assert_eq!(limiter.len(), 1);
    }
}
