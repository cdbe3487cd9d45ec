//! Argon2id hashing, always on a blocking thread: one hash takes tens of milliseconds of CPU
//! and would stall every request sharing the async worker. At most one hash per core runs at
//! once: each holds its memory cost, so a burst of sign-ins queues for a slot instead of
//! growing the process by one hash's memory a request (and a core cannot hash faster by
//! sharing it).

use std::sync::OnceLock;

use anyhow::Context;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

/// Memory cost in KiB, passes and lanes: one of OWASP's equivalent argon2id settings
/// (7 MiB × 5 passes, beside 19 MiB × 2, 12 MiB × 3…). The one with the least memory: a hash
/// costs about the same CPU, and two running at once hold 14 MiB instead of 38 MiB of a small
/// machine's memory. Hashes stored with other parameters still verify (a hash names its own).
const MEMORY_KIB: u32 = 7_168;
const PASSES: u32 = 5;
const LANES: u32 = 1;

/// Stands in for the stored hash of an unknown account, so that its answer takes as long as
/// a known one's: a hash, with the parameters above, of a random password that was thrown
/// away. A constant rather than one computed at start: that cost every start a hash.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=7168,t=5,p=1$pxysMO61ZpFkQY4q23mcHw$fPIkLDFp53eFX1KPVELA8sWrWmoohpYz/inB+NT0HTM";

fn hasher() -> anyhow::Result<Argon2<'static>> {
    let params = Params::new(MEMORY_KIB, PASSES, LANES, None)
        .map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Runs `work` on a blocking thread once a hashing slot is free.
async fn in_hashing_slot<T: Send + 'static>(
    work: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    static SLOTS: OnceLock<Semaphore> = OnceLock::new();
    let slots = SLOTS.get_or_init(|| {
        Semaphore::new(std::thread::available_parallelism().map_or(2, usize::from))
    });
    let slot = slots.acquire().await.context("hashing slots closed")?;
    tokio::task::spawn_blocking(move || {
        let _slot = slot;
        work()
    })
    .await
    .context("hashing task failed")?
}

pub async fn hash_password(password: String) -> anyhow::Result<String> {
    in_hashing_slot(move || {
        let hash = hasher()?
            .hash_password(password.as_bytes())
            .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))?;
        Ok(hash.to_string())
    })
    .await
}

/// Checks `password` against `stored`; with no stored hash (unknown email), checks it against
/// a dummy hash so that the answer takes as long as for a real account.
pub async fn verify_password(password: String, stored: Option<String>) -> anyhow::Result<bool> {
    in_hashing_slot(move || {
        let real = stored.is_some();
        let phc = stored.unwrap_or_else(|| DUMMY_HASH.to_string());
        let parsed =
            PasswordHash::new(&phc).map_err(|e| anyhow::anyhow!("bad stored hash: {e}"))?;
        let matches = hasher()?
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        Ok(real && matches)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let hash = hash_password("correct horse".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=7168,t=5,p=1$"), "{hash}");
        assert!(verify_password("correct horse".into(), Some(hash.clone()))
            .await
            .unwrap());
        assert!(!verify_password("wrong horse".into(), Some(hash))
            .await
            .unwrap());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_more_hashes_run_at_once_than_there_are_cores() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (running, most) = (running.clone(), most.clone());
                tokio::spawn(in_hashing_slot(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(50));
                    running.fetch_sub(1, Ordering::SeqCst);
                    Ok(())
                }))
            })
            .collect();
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        let most = most.load(Ordering::SeqCst);
        assert!((1..=cores).contains(&most), "{most} at once, {cores} cores");
    }

    #[tokio::test]
    async fn an_unknown_account_never_verifies() {
        assert!(!verify_password("any password".into(), None).await.unwrap());
    }

    #[test]
    fn the_dummy_hash_costs_what_a_real_one_does() {
        // An unknown email must take as long as a known one: same algorithm and parameters.
        let hash = hasher()
            .unwrap()
            .hash_password(b"some password")
            .unwrap()
            .to_string();
        let settings = |phc: &str| phc.rsplitn(3, '$').nth(2).map(str::to_owned);
        assert_eq!(settings(DUMMY_HASH), settings(&hash));
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
    }

    #[tokio::test]
    async fn hashes_made_with_the_earlier_parameters_still_verify() {
        // "correct horse" under m=19456,t=2,p=1, the parameters before 7 MiB x 5.
        let earlier = "$argon2id$v=19$m=19456,t=2,p=1$nQOCBwLUvZPckQ77VgQ/qA$mc/Lq92DDfqjsxBRuff7LudYcAoAdelzIgLOT31b84w";
        assert!(
            verify_password("correct horse".into(), Some(earlier.into()))
                .await
                .unwrap()
        );
        assert!(!verify_password("wrong horse".into(), Some(earlier.into()))
            .await
            .unwrap());
    }
}
