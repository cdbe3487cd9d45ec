//! Settings: the embedded `config/default.toml`, then the file named by `SKYBOOK_CONFIG`,
//! then `SKYBOOK_*` environment variables. Every value is checked here, once, so that a bad
//! setting stops the start with one line naming it.

use std::fmt;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::Deserialize;

const DEFAULT_TOML: &str = include_str!("../config/default.toml");
const DEFAULT_DATABASE_URL: &str = "sqlite://data/skybook.db?mode=rwc";

/// A value that must never reach a log line.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// The database a URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseKind {
    Sqlite,
    Postgres,
    MySql,
}

/// How SQLite's commits reach the disk (`SKYBOOK_SQLITE_SYNC`). Either way nothing is
/// acknowledged before its commit is on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqliteSync {
    /// `synchronous=NORMAL`, and the WAL flushed once per group of commits before any of them
    /// is acknowledged (see `db::wal_sync`).
    Grouped,
    /// `synchronous=FULL`: each commit flushed on its own.
    Full,
}

/// Fault injection for tests; never read from the configuration file.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Takes seats without checking that they are free: the negative control that proves
    /// the concurrency tests can see a double sale. Settable only in code.
    pub disable_seat_guard: bool,
    /// Stops (sleeps forever) right after the provider charged and before the result is
    /// committed, so a test can SIGKILL the process there. `SKYBOOK_FAULT_PAUSE_AFTER_CHARGE=true`.
    pub pause_after_charge: bool,
    /// Stops (sleeps forever) right after a flight's cancellation committed and before its
    /// refunds are made, so a test can SIGKILL the process there.
    /// `SKYBOOK_FAULT_PAUSE_AFTER_FLIGHT_CANCEL=true`.
    pub pause_after_flight_cancel: bool,
    /// Runs no email worker, as a process that died right after committing would. Settable
    /// only in code.
    pub email_worker_off: bool,
    /// Ignores the write plans' check of this name (see `db::plan`): the negative controls
    /// that prove each check is what keeps its rule. Settable only in code.
    pub unchecked: Option<&'static str>,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: Secret,
    pub database_kind: DatabaseKind,
    pub database_max_connections: u32,
    pub sqlite_sync: SqliteSync,
    pub bind: SocketAddr,
    pub http_workers: usize,
    /// Empty: generate one and keep it in `data_dir/jwt.secret`.
    pub jwt_secret: Secret,
    pub token_ttl_seconds: u64,
    pub hold_ttl_seconds: u64,
    pub payment_lock_seconds: u64,
    pub sweep_interval_seconds: u64,
    pub rate_limit_enabled: bool,
    pub rate_limit_per_second: u32,
    pub rate_limit_burst: u32,
    pub auth_rate_limit_per_minute: u32,
    pub trusted_proxies: Vec<IpAddr>,
    pub smtp_url: Secret,
    pub mail_from: String,
    pub public_url: String,
    pub email_retry_seconds: u64,
    pub email_max_attempts: u32,
    pub demo_data: bool,
    pub data_dir: PathBuf,
    pub max_pending_bookings: u32,
    /// Booking and paying close this long before departure.
    pub sales_close_minutes: u32,
    /// Seats that pending bookings made from one client address may hold on one flight.
    pub max_held_seats_per_client: u32,
    /// Online check-in opens this long before departure...
    pub checkin_opens_hours: u32,
    /// ...and closes this long before it.
    pub checkin_closes_minutes: u32,
    /// On SIGTERM: how long in-flight requests and jobs may take to finish.
    pub shutdown_grace_seconds: u64,
    /// Empty: `/metrics` answers loopback clients only.
    pub metrics_token: Secret,
    pub log: String,
    pub faults: Faults,
}

/// The settings as written, before they are checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    database_url: String,
    database_max_connections: u32,
    sqlite_sync: String,
    bind: String,
    http_workers: usize,
    jwt_secret: String,
    token_ttl_seconds: u64,
    hold_ttl_seconds: u64,
    payment_lock_seconds: u64,
    sweep_interval_seconds: u64,
    rate_limit_enabled: bool,
    rate_limit_per_second: u32,
    rate_limit_burst: u32,
    auth_rate_limit_per_minute: u32,
    trusted_proxies: String,
    smtp_url: String,
    mail_from: String,
    public_url: String,
    email_retry_seconds: u64,
    email_max_attempts: u32,
    demo_data: bool,
    data_dir: String,
    max_pending_bookings: u32,
    sales_close_minutes: u32,
    max_held_seats_per_client: u32,
    checkin_opens_hours: u32,
    checkin_closes_minutes: u32,
    shutdown_grace_seconds: u64,
    metrics_token: String,
    log: String,
}

/// A bad setting: which one, and what is wrong with it.
#[derive(Debug, thiserror::Error)]
#[error("invalid setting {name}: {problem}")]
pub struct SettingsError {
    pub name: String,
    pub problem: String,
}

impl SettingsError {
    fn new(key: &str, problem: impl Into<String>) -> Self {
        Self {
            name: format!("{} (SKYBOOK_{})", key, key.to_uppercase()),
            problem: problem.into(),
        }
    }
}

impl Settings {
    /// Loads the settings from the embedded defaults, `SKYBOOK_CONFIG` and the environment.
    pub fn load() -> Result<Self, SettingsError> {
        let mut figment = Figment::from(Toml::string(DEFAULT_TOML));
        if let Ok(path) = std::env::var("SKYBOOK_CONFIG") {
            if !Path::new(&path).is_file() {
                return Err(SettingsError {
                    name: "SKYBOOK_CONFIG".into(),
                    problem: format!("no such file: {path}"),
                });
            }
            figment = figment.merge(Toml::file(path));
        }
        // Only the keys of the defaults come from the environment, so that variables such as
        // SKYBOOK_CONFIG or the test suite's SKYBOOK_TEST_* are not mistaken for settings.
        // Text settings are taken verbatim (a secret of digits stays text); the others are
        // parsed as TOML values.
        let (text_keys, typed_keys) = default_keys_by_kind();
        let typed: Vec<&str> = typed_keys.iter().map(String::as_str).collect();
        figment = figment.merge(Env::prefixed("SKYBOOK_").only(&typed));
        for key in text_keys {
            if let Ok(value) = std::env::var(format!("SKYBOOK_{}", key.to_uppercase())) {
                figment = figment.merge(Serialized::default(&key, value));
            }
        }
        let config_file = std::env::var("SKYBOOK_CONFIG").ok();
        let raw: RawSettings = figment.extract().map_err(|err| {
            let key = err.path.join(".");
            // Parse errors span several lines; the contract is one line.
            let problem = err.kind.to_string().replace('\n', " ");
            let problem = problem.split_whitespace().collect::<Vec<_>>().join(" ");
            match (key.is_empty(), &config_file) {
                (false, _) => SettingsError::new(&key, problem),
                (true, Some(path)) => SettingsError {
                    name: format!("SKYBOOK_CONFIG ({path})"),
                    problem,
                },
                (true, None) => SettingsError::new("configuration", problem),
            }
        })?;
        Self::check(raw)
    }

    /// The defaults alone, ignoring files and environment (tests start from these).
    pub fn defaults() -> Result<Self, SettingsError> {
        let raw: RawSettings = Figment::from(Toml::string(DEFAULT_TOML))
            .extract()
            .map_err(|err| SettingsError::new("configuration", err.kind.to_string()))?;
        Self::check(raw)
    }

    fn check(raw: RawSettings) -> Result<Self, SettingsError> {
        let data_dir = PathBuf::from(&raw.data_dir);
        if raw.data_dir.trim().is_empty() {
            return Err(SettingsError::new("data_dir", "must not be empty"));
        }
        let database_url = if raw.database_url == DEFAULT_DATABASE_URL {
            // The default SQLite file follows `data_dir`.
            format!(
                "sqlite://{}?mode=rwc",
                data_dir.join("skybook.db").display()
            )
        } else {
            raw.database_url.clone()
        };
        let database_kind = database_kind(&database_url).ok_or_else(|| {
            SettingsError::new(
                "database_url",
                "must start with sqlite://, postgres://, postgresql:// or mysql://",
            )
        })?;
        if raw.database_max_connections == 0 {
            return Err(SettingsError::new(
                "database_max_connections",
                "must be at least 1",
            ));
        }
        let sqlite_sync = match raw.sqlite_sync.as_str() {
            "grouped" => SqliteSync::Grouped,
            "full" => SqliteSync::Full,
            _ => return Err(SettingsError::new("sqlite_sync", "must be grouped or full")),
        };
        let bind = raw
            .bind
            .to_socket_addrs()
            .ok()
            .and_then(|mut addrs| addrs.next())
            .ok_or_else(|| {
                SettingsError::new("bind", format!("expected HOST:PORT, got {:?}", raw.bind))
            })?;
        if !raw.jwt_secret.is_empty() && raw.jwt_secret.len() < 32 {
            return Err(SettingsError::new(
                "jwt_secret",
                "must be at least 32 bytes long (or empty to generate one)",
            ));
        }
        for (key, value) in [
            ("token_ttl_seconds", raw.token_ttl_seconds),
            ("hold_ttl_seconds", raw.hold_ttl_seconds),
            ("payment_lock_seconds", raw.payment_lock_seconds),
            ("sweep_interval_seconds", raw.sweep_interval_seconds),
            (
                "rate_limit_per_second",
                u64::from(raw.rate_limit_per_second),
            ),
            ("rate_limit_burst", u64::from(raw.rate_limit_burst)),
            (
                "auth_rate_limit_per_minute",
                u64::from(raw.auth_rate_limit_per_minute),
            ),
            ("max_pending_bookings", u64::from(raw.max_pending_bookings)),
            (
                "max_held_seats_per_client",
                u64::from(raw.max_held_seats_per_client),
            ),
            ("email_retry_seconds", raw.email_retry_seconds),
            ("email_max_attempts", u64::from(raw.email_max_attempts)),
            // No grace would cut every request in flight: that is SIGKILL, not a drain.
            ("shutdown_grace_seconds", raw.shutdown_grace_seconds),
        ] {
            if value == 0 {
                return Err(SettingsError::new(key, "must be at least 1"));
            }
        }
        let trusted_proxies = raw
            .trusted_proxies
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<IpAddr>().map_err(|_| {
                    SettingsError::new("trusted_proxies", format!("{s:?} is not an IP address"))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let smtp_scheme_ok = ["smtp://", "smtps://"]
            .iter()
            .any(|scheme| raw.smtp_url.starts_with(scheme));
        if !raw.smtp_url.is_empty() && !smtp_scheme_ok {
            return Err(SettingsError::new(
                "smtp_url",
                "must start with smtp:// or smtps:// (or be empty)",
            ));
        }
        let web_scheme_ok = ["http://", "https://"]
            .iter()
            .any(|scheme| raw.public_url.starts_with(scheme));
        if !raw.public_url.is_empty() && !web_scheme_ok {
            return Err(SettingsError::new(
                "public_url",
                "must start with http:// or https://",
            ));
        }
        if raw.mail_from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(SettingsError::new(
                "mail_from",
                "must be an email address, e.g. Skybook <no-reply@example.com>",
            ));
        }
        if raw.http_workers > 256 {
            return Err(SettingsError::new(
                "http_workers",
                "must be from 0 (one per core) to 256",
            ));
        }
        // The window must open before it closes (and at most a year ahead: hours as minutes
        // stay far inside u32).
        if raw.checkin_opens_hours == 0 || raw.checkin_opens_hours > 8_784 {
            return Err(SettingsError::new(
                "checkin_opens_hours",
                "must be from 1 to 8784",
            ));
        }
        if raw.checkin_closes_minutes >= raw.checkin_opens_hours * 60 {
            return Err(SettingsError::new(
                "checkin_closes_minutes",
                "must be less than checkin_opens_hours in minutes (the window would be empty)",
            ));
        }
        if tracing_subscriber::EnvFilter::try_new(&raw.log).is_err() {
            return Err(SettingsError::new(
                "log",
                format!("{:?} is not a tracing filter", raw.log),
            ));
        }
        Ok(Self {
            database_url: Secret::new(database_url),
            database_kind,
            database_max_connections: raw.database_max_connections,
            sqlite_sync,
            bind,
            http_workers: raw.http_workers,
            jwt_secret: Secret::new(raw.jwt_secret),
            token_ttl_seconds: raw.token_ttl_seconds,
            hold_ttl_seconds: raw.hold_ttl_seconds,
            payment_lock_seconds: raw.payment_lock_seconds,
            sweep_interval_seconds: raw.sweep_interval_seconds,
            rate_limit_enabled: raw.rate_limit_enabled,
            rate_limit_per_second: raw.rate_limit_per_second,
            rate_limit_burst: raw.rate_limit_burst,
            auth_rate_limit_per_minute: raw.auth_rate_limit_per_minute,
            trusted_proxies,
            smtp_url: Secret::new(raw.smtp_url),
            public_url: if raw.public_url.trim().is_empty() {
                format!("http://{bind}")
            } else {
                raw.public_url.trim_end_matches('/').to_string()
            },
            email_retry_seconds: raw.email_retry_seconds,
            email_max_attempts: raw.email_max_attempts,
            mail_from: raw.mail_from,
            demo_data: raw.demo_data,
            data_dir,
            max_pending_bookings: raw.max_pending_bookings,
            sales_close_minutes: raw.sales_close_minutes,
            max_held_seats_per_client: raw.max_held_seats_per_client,
            checkin_opens_hours: raw.checkin_opens_hours,
            checkin_closes_minutes: raw.checkin_closes_minutes,
            shutdown_grace_seconds: raw.shutdown_grace_seconds,
            metrics_token: Secret::new(raw.metrics_token),
            log: raw.log,
            faults: Faults {
                disable_seat_guard: false,
                email_worker_off: false,
                pause_after_charge: std::env::var("SKYBOOK_FAULT_PAUSE_AFTER_CHARGE")
                    .is_ok_and(|v| v == "true"),
                pause_after_flight_cancel: std::env::var("SKYBOOK_FAULT_PAUSE_AFTER_FLIGHT_CANCEL")
                    .is_ok_and(|v| v == "true"),
                unchecked: None,
            },
        })
    }

    pub fn jwt_secret_path(&self) -> PathBuf {
        self.data_dir.join("jwt.secret")
    }
}

pub fn database_kind(url: &str) -> Option<DatabaseKind> {
    let scheme = url.split_once("://")?.0;
    match scheme {
        "sqlite" => Some(DatabaseKind::Sqlite),
        "postgres" | "postgresql" => Some(DatabaseKind::Postgres),
        "mysql" | "mariadb" => Some(DatabaseKind::MySql),
        _ => None,
    }
}

fn default_keys() -> Vec<String> {
    DEFAULT_TOML
        .lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .filter_map(|line| line.split_once('=').map(|(key, _)| key.trim().to_string()))
        .filter(|key| !key.is_empty())
        .collect()
}

/// The keys of the defaults, split into those whose value is text and the others.
fn default_keys_by_kind() -> (Vec<String>, Vec<String>) {
    let defaults = Figment::from(Toml::string(DEFAULT_TOML));
    default_keys().into_iter().partition(|key| {
        matches!(
            defaults.find_value(key),
            Ok(figment::value::Value::String(..))
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_defaults_are_valid() {
        let settings = Settings::defaults().expect("defaults load");
        assert_eq!(settings.bind.port(), 8080);
        assert_eq!(settings.hold_ttl_seconds, 600);
        assert_eq!(settings.database_kind, DatabaseKind::Sqlite);
        assert!(settings.database_url.expose().contains("data/skybook.db"));
        assert_eq!(settings.sqlite_sync, SqliteSync::Grouped);
        assert_eq!(settings.checkin_opens_hours, 24);
        assert_eq!(settings.checkin_closes_minutes, 60);
        assert_eq!(settings.shutdown_grace_seconds, 10);
    }

    #[test]
    fn every_default_key_is_found() {
        let keys = default_keys();
        assert!(keys.contains(&"database_url".to_string()));
        assert!(keys.contains(&"max_pending_bookings".to_string()));
        assert!(keys.contains(&"sqlite_sync".to_string()));
        assert!(keys.contains(&"sales_close_minutes".to_string()));
        assert!(keys.contains(&"max_held_seats_per_client".to_string()));
        assert_eq!(keys.len(), 30, "{keys:?}");
    }

    #[test]
    fn text_and_typed_keys_are_told_apart() {
        let (text, typed) = default_keys_by_kind();
        assert!(text.contains(&"jwt_secret".to_string()));
        assert!(text.contains(&"bind".to_string()));
        assert!(typed.contains(&"hold_ttl_seconds".to_string()));
        assert!(typed.contains(&"rate_limit_enabled".to_string()));
    }

    #[test]
    fn database_kinds_follow_the_scheme() {
        assert_eq!(database_kind("sqlite://x.db"), Some(DatabaseKind::Sqlite));
        assert_eq!(
            database_kind("postgres://h/db"),
            Some(DatabaseKind::Postgres)
        );
        assert_eq!(database_kind("mysql://h/db"), Some(DatabaseKind::MySql));
        assert_eq!(database_kind("redis://h"), None);
        assert_eq!(database_kind("nonsense"), None);
    }

    #[test]
    fn secrets_do_not_print() {
        let secret = Secret::new("hunter2");
        assert!(!format!("{secret:?}").contains("hunter2"));
    }
}
