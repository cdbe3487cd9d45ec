//! Black-box tests of the `skybook` binary: each test runs the real executable as a child
//! process in its own temporary working directory, with a SQLite database inside it.
//!
//! These tests are SQLite-only: the PostgreSQL/MySQL selectors of the API suite are removed
//! from the child's environment, as is every other `SKYBOOK_*` variable of the parent.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{Duration as ChronoDuration, Utc};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

const BIN: &str = env!("CARGO_BIN_EXE_skybook");
const LISTENING_PREFIX: &str = "listening on http://127.0.0.1:";
// A deadline, not a target: a first start seeds the demo catalog, which in a debug build on a
// busy 2-core machine took 38 s alone and over 60 s beside other builds.
const START_TIMEOUT: Duration = Duration::from_secs(240);
const STOP_TIMEOUT: Duration = Duration::from_secs(30);
/// A one-shot command (migrate, seed-demo, create-admin) must finish within this.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);
const JWT_SECRET_40: &str = "0123456789abcdefghij0123456789abcdefghij";

/// A fresh working directory with its own `data/` directory.
struct Sandbox {
    dir: TempDir,
    logs: AtomicU32,
}

impl Sandbox {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("create a temporary directory"),
            logs: AtomicU32::new(0),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn data_dir(&self) -> PathBuf {
        self.path().join("data")
    }

    /// `skybook ARGS` in the sandbox, with a clean `SKYBOOK_*` environment: demo data off, an
    /// ephemeral port and the data directory (hence the default SQLite file) in the sandbox.
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(BIN);
        command.args(args).current_dir(self.path());
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("SKYBOOK_") {
                command.env_remove(&name);
            }
        }
        command
            .env_remove("SKYBOOK_TEST_POSTGRES_URL")
            .env_remove("SKYBOOK_TEST_MYSQL_URL")
            .env("SKYBOOK_DEMO_DATA", "false")
            .env("SKYBOOK_BIND", "127.0.0.1:0")
            .env("SKYBOOK_DATA_DIR", self.data_dir())
            .stdin(Stdio::null())
            .kill_on_drop(true);
        command
    }

    /// A file in the sandbox (outside `data/`) for a child's stderr.
    fn log_file(&self, what: &str) -> PathBuf {
        let n = self.logs.fetch_add(1, Ordering::Relaxed);
        self.path().join(format!("{what}-{n}.stderr.log"))
    }

    /// Writes a config file into the sandbox and returns its path.
    fn write_config(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.path().join(name);
        std::fs::write(&path, contents).expect("write the config file");
        path
    }
}

/// Runs a command to completion (killing it if it hangs), with `stdin` as its input.
async fn run(mut command: Command, stdin: Option<&str>) -> Output {
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    if stdin.is_some() {
        command.stdin(Stdio::piped());
    }
    let mut child = command.spawn().expect("start skybook");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("stdin is piped");
        pipe.write_all(input.as_bytes())
            .await
            .expect("write to skybook's stdin");
        drop(pipe);
    }
    // On a timeout the child is dropped, and `kill_on_drop` kills it.
    tokio::time::timeout(COMMAND_TIMEOUT, child.wait_with_output())
        .await
        .expect("skybook finishes in time")
        .expect("wait for skybook")
}

fn describe(output: &Output) -> String {
    format!(
        "status: {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn assert_success(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what} failed\n{}",
        describe(output)
    );
}

/// A running `skybook serve`. Dropping it kills the process, so a failing test leaves nothing
/// behind.
struct Server {
    child: Child,
    port: u16,
    stdout_lines: Arc<Mutex<Vec<String>>>,
    stdout_reader: Option<JoinHandle<()>>,
    stderr_path: PathBuf,
    client: Client,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

impl Server {
    /// Starts `command` (a `serve`) and waits for its `listening on` line.
    async fn start(sandbox: &Sandbox, mut command: Command) -> Server {
        let stderr_path = sandbox.log_file("serve");
        let stderr = std::fs::File::create(&stderr_path).expect("create the stderr log");
        command.stdout(Stdio::piped()).stderr(Stdio::from(stderr));
        let mut child = command.spawn().expect("start skybook serve");
        let stdout = child.stdout.take().expect("stdout is piped");
        let stdout_lines = Arc::new(Mutex::new(Vec::new()));
        let (sender, mut receiver) = mpsc::unbounded_channel::<String>();
        let lines = Arc::clone(&stdout_lines);
        let stdout_reader = tokio::spawn(async move {
            let mut reader = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                lines.lock().expect("lines lock").push(line.clone());
                let _ = sender.send(line);
            }
        });
        let client = Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("build an HTTP client");
        let mut server = Server {
            child,
            port: 0,
            stdout_lines,
            stdout_reader: Some(stdout_reader),
            stderr_path,
            client,
        };
        let port = tokio::time::timeout(START_TIMEOUT, async {
            while let Some(line) = receiver.recv().await {
                if let Some(rest) = line.strip_prefix(LISTENING_PREFIX) {
                    return Some(
                        rest.trim()
                            .parse::<u16>()
                            .unwrap_or_else(|_| panic!("a port in the listening line {line:?}")),
                    );
                }
            }
            None
        })
        .await;
        match port {
            Ok(Some(port)) => server.port = port,
            Ok(None) => panic!(
                "skybook serve closed stdout without a listening line\n{}",
                server.diagnostics()
            ),
            Err(_) => panic!(
                "no listening line within {START_TIMEOUT:?}\n{}",
                server.diagnostics()
            ),
        }
        assert_ne!(server.port, 0, "the server listens on a real port");
        server
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    fn diagnostics(&self) -> String {
        let stdout = self.stdout_lines.lock().expect("lines lock").join("\n");
        let stderr = std::fs::read_to_string(&self.stderr_path).unwrap_or_default();
        format!("stdout:\n{stdout}\nstderr:\n{stderr}")
    }

    async fn get_json(&self, path: &str) -> Value {
        let response = self
            .client
            .get(self.url(path))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let status = response.status();
        let body = response.text().await.expect("read the response body");
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path} is JSON ({e}): {body}"))
    }

    async fn post_json(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        let response = self
            .client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"));
        let status = response.status();
        let text = response.text().await.expect("read the response body");
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value)
    }

    async fn sign_in(&self, email: &str, password: &str) -> Value {
        let (status, body) = self
            .post_json(
                "/api/v1/auth/signin",
                &json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "sign in as {email}: {body}");
        body
    }

    async fn me_status(&self, token: &str) -> StatusCode {
        self.client
            .get(self.url("/api/v1/me"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET /api/v1/me: {e}"))
            .status()
    }

    /// Sends SIGTERM and waits for the process to exit; returns its exit code and stdout.
    async fn stop(mut self) -> (Option<i32>, Vec<String>) {
        let pid = self.child.id().expect("the server is still running");
        let kill = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status()
            .expect("run kill");
        assert!(kill.success(), "kill -TERM {pid} failed");
        let status = match tokio::time::timeout(STOP_TIMEOUT, self.child.wait()).await {
            Ok(status) => status.expect("wait for skybook serve"),
            Err(_) => panic!(
                "skybook serve did not stop within {STOP_TIMEOUT:?} of SIGTERM\n{}",
                self.diagnostics()
            ),
        };
        // stdout is closed once the process has exited; let the reader see the end of it.
        if let Some(reader) = self.stdout_reader.take() {
            tokio::time::timeout(STOP_TIMEOUT, reader)
                .await
                .expect("stdout reaches its end")
                .expect("the stdout reader does not panic");
        }
        assert!(
            status.code().is_some(),
            "skybook serve was killed by a signal ({status:?}) instead of exiting\n{}",
            self.diagnostics()
        );
        let lines = self.stdout_lines.lock().expect("lines lock").clone();
        (status.code(), lines)
    }
}

/// Starts `skybook serve` with the sandbox's default environment plus `env`.
async fn serve(sandbox: &Sandbox, env: &[(&str, &str)]) -> Server {
    let mut command = sandbox.command(&["serve"]);
    command.envs(env.iter().copied());
    Server::start(sandbox, command).await
}

/// "demo catalog: 10 cities, 20 airports, 3 airplanes, 900 flights added" → the four numbers.
fn parse_seed_summary(stdout: &str) -> (usize, usize, usize, usize) {
    let line = stdout
        .lines()
        .find(|line| line.contains("flights added"))
        .unwrap_or_else(|| panic!("a summary line with 'flights added' in {stdout:?}"));
    let numbers: Vec<usize> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().expect("a count"))
        .collect();
    assert_eq!(numbers.len(), 4, "four counts in {line:?}");
    (numbers[0], numbers[1], numbers[2], numbers[3])
}

#[tokio::test]
async fn serve_prints_listening_on_once_and_stops_cleanly_on_sigterm() {
    let sandbox = Sandbox::new();
    let server = serve(&sandbox, &[]).await;

    let response = server
        .client
        .get(server.url("/health/live"))
        .send()
        .await
        .expect("GET /health/live");
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "{}",
        server.diagnostics()
    );

    let secret_path = sandbox.data_dir().join("jwt.secret");
    let metadata = std::fs::metadata(&secret_path).expect("data/jwt.secret was generated");
    assert_eq!(
        metadata.permissions().mode() & 0o777,
        0o600,
        "jwt.secret is readable by its owner only"
    );
    let secret = std::fs::read_to_string(&secret_path).expect("read jwt.secret");
    assert!(
        secret.trim().len() >= 32,
        "jwt.secret holds at least 32 bytes, got {}",
        secret.trim().len()
    );

    let (code, lines) = server.stop().await;
    assert_eq!(code, Some(0), "a SIGTERM stop exits 0; stdout: {lines:?}");
    let listening = lines
        .iter()
        .filter(|line| line.starts_with("listening on "))
        .count();
    assert_eq!(listening, 1, "one listening line, stdout: {lines:?}");
}

#[tokio::test]
async fn a_bad_setting_stops_the_start_with_one_line_and_exit_code_2() {
    let cases: &[(&str, &str)] = &[
        ("SKYBOOK_HOLD_TTL_SECONDS", "abc"),
        ("SKYBOOK_BIND", "nonsense"),
        ("SKYBOOK_JWT_SECRET", "short"),
        ("SKYBOOK_DATABASE_URL", "redis://x"),
        ("SKYBOOK_RATE_LIMIT_ENABLED", "maybe"),
        ("SKYBOOK_TRUSTED_PROXIES", "not-an-ip"),
        ("SKYBOOK_LOG", "[[["),
        ("SKYBOOK_MAX_PENDING_BOOKINGS", "0"),
    ];
    let sandbox = Sandbox::new();
    for (name, value) in cases {
        let case = format!("{name}={value}");
        let mut command = sandbox.command(&["serve"]);
        command.env(name, value);
        let output = run(command, None).await;
        assert_bad_setting(&output, &case, name);
    }

    // A bad value in the override file names its key.
    let config = sandbox.write_config("bad.toml", "hold_ttl_seconds = \"ten\"\n");
    let mut command = sandbox.command(&["serve"]);
    command.env("SKYBOOK_CONFIG", &config);
    let output = run(command, None).await;
    assert_bad_setting(
        &output,
        "hold_ttl_seconds = \"ten\" in SKYBOOK_CONFIG",
        "hold_ttl_seconds",
    );

    // A durability mode that does not exist.
    let mut command = sandbox.command(&["serve"]);
    command.env("SKYBOOK_SQLITE_SYNC", "sometimes");
    let output = run(command, None).await;
    assert_bad_setting(&output, "SKYBOOK_SQLITE_SYNC=sometimes", "sqlite_sync");

    // A file that is not TOML at all: still one line, naming the file.
    let config = sandbox.write_config("broken.toml", "hold_ttl_seconds = = 5\n[[[\n");
    let mut command = sandbox.command(&["serve"]);
    command.env("SKYBOOK_CONFIG", &config);
    let output = run(command, None).await;
    assert_bad_setting(
        &output,
        "a syntax error in SKYBOOK_CONFIG",
        "SKYBOOK_CONFIG",
    );

    // An override file that does not exist.
    let mut command = sandbox.command(&["serve"]);
    command.env("SKYBOOK_CONFIG", sandbox.path().join("missing.toml"));
    let output = run(command, None).await;
    assert_bad_setting(
        &output,
        "SKYBOOK_CONFIG naming a missing file",
        "SKYBOOK_CONFIG",
    );

    // Nothing was started for any of these.
    assert!(
        !sandbox.data_dir().join("skybook.db").exists(),
        "a bad setting stops the start before the database is touched"
    );
}

fn assert_bad_setting(output: &Output, case: &str, must_mention: &str) {
    assert_eq!(
        output.status.code(),
        Some(2),
        "case {case}: exit code 2\n{}",
        describe(output)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "case {case}: stderr is exactly one line, got {stderr:?}"
    );
    assert!(
        !lines[0].trim().is_empty(),
        "case {case}: the stderr line is not empty"
    );
    assert!(
        lines[0].contains(must_mention),
        "case {case}: the stderr line names {must_mention}, got {:?}",
        lines[0]
    );
}

#[tokio::test]
async fn a_config_file_overrides_defaults_and_the_environment_overrides_the_file() {
    let sandbox = Sandbox::new();
    let config = sandbox.write_config("override.toml", "jwt_secret = \"short\"\n");

    // The file overrides the (valid, empty) default: its short secret is refused.
    let mut command = sandbox.command(&["migrate"]);
    command.env("SKYBOOK_CONFIG", &config);
    let output = run(command, None).await;
    assert_eq!(
        output.status.code(),
        Some(2),
        "the file's short jwt_secret is refused\n{}",
        describe(&output)
    );
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("jwt_secret"),
        "the error names jwt_secret\n{}",
        describe(&output)
    );

    // The environment overrides the file.
    let mut command = sandbox.command(&["migrate"]);
    command
        .env("SKYBOOK_CONFIG", &config)
        .env("SKYBOOK_JWT_SECRET", JWT_SECRET_40);
    let output = run(command, None).await;
    assert_success(&output, "migrate with SKYBOOK_JWT_SECRET over the file");

    // A secret made of digits is text, leading zeros and all.
    let mut command = sandbox.command(&["migrate"]);
    command.env(
        "SKYBOOK_JWT_SECRET",
        "0000000000000000000000000000000000000042",
    );
    let output = run(command, None).await;
    assert_success(&output, "a 40-digit secret with leading zeros");
}

#[tokio::test]
async fn migrate_applies_migrations_and_exits() {
    let sandbox = Sandbox::new();
    let output = run(sandbox.command(&["migrate"]), None).await;
    assert_success(&output, "the first migrate");
    assert!(
        sandbox.data_dir().join("skybook.db").is_file(),
        "migrate creates data/skybook.db"
    );

    let output = run(sandbox.command(&["migrate"]), None).await;
    assert_success(&output, "a second migrate");
}

#[tokio::test]
async fn seed_demo_is_idempotent() {
    let sandbox = Sandbox::new();
    let output = run(sandbox.command(&["seed-demo"]), None).await;
    assert_success(&output, "the first seed-demo");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let (_, _, _, flights) = parse_seed_summary(&stdout);
    assert!(
        flights > 500,
        "the demo catalog has over 500 flights, got {flights}"
    );

    let output = run(sandbox.command(&["seed-demo"]), None).await;
    assert_success(&output, "the second seed-demo");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        parse_seed_summary(&stdout),
        (0, 0, 0, 0),
        "seeding again adds nothing: {stdout}"
    );

    let server = serve(&sandbox, &[("SKYBOOK_DEMO_DATA", "true")]).await;
    let airports = server.get_json("/api/v1/airports?per_page=100").await;
    let total = airports["total"].as_u64().expect("airports total");
    assert!(total >= 20, "at least 20 demo airports, got {total}");

    let airplanes = server.get_json("/api/v1/airplanes").await;
    let count = airplanes["data"].as_array().expect("airplanes data").len();
    assert!(count >= 3, "at least 3 demo airplanes, got {count}");

    let kolkata_now = Utc::now() + ChronoDuration::minutes(5 * 60 + 30);
    let tomorrow = (kolkata_now + ChronoDuration::days(1)).format("%Y-%m-%d");
    let path = format!("/api/v1/flights?from=DEL&to=BOM&date={tomorrow}");
    let flights = server.get_json(&path).await;
    let total = flights["total"].as_u64().expect("flights total");
    assert!(total >= 1, "a DEL-BOM flight on {tomorrow}: {flights}");

    let (code, _) = server.stop().await;
    assert_eq!(code, Some(0));
}

#[tokio::test]
async fn create_admin_reads_the_password_from_stdin() {
    let sandbox = Sandbox::new();
    let mut command = sandbox.command(&[
        "create-admin",
        "--email",
        "Boss@Example.com",
        "--password-stdin",
    ]);
    command.env("SKYBOOK_JWT_SECRET", JWT_SECRET_40);
    let output = run(command, Some("s3cret-password\n")).await;
    assert_success(&output, "create-admin");

    let env = [("SKYBOOK_JWT_SECRET", JWT_SECRET_40)];
    let server = serve(&sandbox, &env).await;
    // The email compares case-insensitively and the trailing newline was not kept.
    let signed_in = server.sign_in("boss@example.com", "s3cret-password").await;
    assert_eq!(signed_in["user"]["role"], "admin", "{signed_in}");
    let (code, _) = server.stop().await;
    assert_eq!(code, Some(0));
}

/// `create-admin` for `email` with `password` on stdin (and `extra` arguments).
async fn create_admin(sandbox: &Sandbox, email: &str, password: &str, extra: &[&str]) -> Output {
    let mut args = vec!["create-admin", "--email", email, "--password-stdin"];
    args.extend_from_slice(extra);
    let mut command = sandbox.command(&args);
    command.env("SKYBOOK_JWT_SECRET", JWT_SECRET_40);
    run(command, Some(&format!("{password}\n"))).await
}

/// Exit code 1 and one line on stderr (beside the log's, which carry a timestamp) that
/// contains `says`.
fn assert_refused_in_one_line(output: &Output, case: &str, says: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{case}\n{}",
        describe(output)
    );
    let said: Vec<&str> = stderr
        .lines()
        .filter(|line| !line.starts_with(|c: char| c.is_ascii_digit()))
        .collect();
    assert_eq!(said.len(), 1, "{case}: one line\n{}", describe(output));
    assert!(
        said[0].contains(says),
        "{case}: mentions {says:?}\n{}",
        describe(output)
    );
}

#[tokio::test]
async fn create_admin_on_a_registered_email_changes_nothing_unless_told_to_take_it_over() {
    let sandbox = Sandbox::new();
    let env = [("SKYBOOK_JWT_SECRET", JWT_SECRET_40)];
    let server = serve(&sandbox, &env).await;
    let (status, body) = server
        .post_json(
            "/api/v1/auth/signup",
            &json!({"email": "carol@example.com", "password": "carols-password", "name": "Carol"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "sign up: {body}");
    let carols_token = server.sign_in("carol@example.com", "carols-password").await["access_token"]
        .as_str()
        .expect("a token")
        .to_string();
    let (code, _) = server.stop().await;
    assert_eq!(code, Some(0));

    // Without --promote-existing: refused, in any case of the address.
    for email in ["carol@example.com", "CAROL@example.com"] {
        let output = create_admin(&sandbox, email, "another-password", &[]).await;
        assert_refused_in_one_line(&output, email, "already exists");
    }
    let server = serve(&sandbox, &env).await;
    let signed_in = server.sign_in("carol@example.com", "carols-password").await;
    assert_eq!(
        signed_in["user"]["role"], "customer",
        "nothing changed: {signed_in}"
    );
    assert_eq!(
        server.me_status(&carols_token).await,
        200,
        "her token still works"
    );
    let (code, _) = server.stop().await;
    assert_eq!(code, Some(0));

    // A weak password is refused before anything changes, even with the flag.
    let output = create_admin(
        &sandbox,
        "carol@example.com",
        "password",
        &["--promote-existing"],
    )
    .await;
    assert_refused_in_one_line(&output, "weak password", "common passwords");

    let output = create_admin(
        &sandbox,
        "carol@example.com",
        "another-password",
        &["--promote-existing"],
    )
    .await;
    assert_success(&output, "create-admin --promote-existing");
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("promoted"),
        "create-admin says it promoted the user\n{}",
        describe(&output)
    );

    let server = serve(&sandbox, &env).await;
    assert_eq!(
        server.me_status(&carols_token).await,
        401,
        "her old token is revoked"
    );
    let (status, _) = server
        .post_json(
            "/api/v1/auth/signin",
            &json!({"email": "carol@example.com", "password": "carols-password"}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "her old password no longer works"
    );
    let signed_in = server
        .sign_in("carol@example.com", "another-password")
        .await;
    assert_eq!(signed_in["user"]["role"], "admin", "{signed_in}");
    let (code, _) = server.stop().await;
    assert_eq!(code, Some(0));
}

#[tokio::test]
async fn create_admin_with_promote_existing_creates_a_missing_account() {
    let sandbox = Sandbox::new();
    let output = create_admin(
        &sandbox,
        "ops@example.com",
        "ops-password",
        &["--promote-existing"],
    )
    .await;
    assert_success(&output, "create-admin --promote-existing, no account yet");
    assert!(String::from_utf8_lossy(&output.stdout).contains("created admin"));
}

#[tokio::test]
async fn create_admin_refuses_weak_passwords_and_addresses_that_are_not_plain() {
    let sandbox = Sandbox::new();
    let weak = [
        ("under 8 characters", "short", "at least 8"),
        ("only spaces", "          ", "spaces"),
        ("common", "qwertyuiop", "common passwords"),
        ("the local part", "Shorty.Admin", "email"),
    ];
    for (case, password, says) in weak {
        let output = create_admin(&sandbox, "shorty.admin@example.com", password, &[]).await;
        assert_refused_in_one_line(&output, case, says);
    }
    for email in [
        "Bob <bob@example.com>",
        "\"a b\"@example.com",
        "a@example.com (comment)",
        "bob@localhost",
    ] {
        let output = create_admin(&sandbox, email, "a-strong-passphrase", &[]).await;
        assert_refused_in_one_line(&output, email, "--email");
    }
    // Nothing was created by any of them.
    let server = serve(&sandbox, &[("SKYBOOK_JWT_SECRET", JWT_SECRET_40)]).await;
    let (status, _) = server
        .post_json(
            "/api/v1/auth/signin",
            &json!({"email": "shorty.admin@example.com", "password": "short"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (code, _) = server.stop().await;
    assert_eq!(code, Some(0));
}

#[tokio::test]
async fn the_first_start_seeds_demo_data_unless_disabled() {
    let sandbox = Sandbox::new();
    let server = serve(&sandbox, &[("SKYBOOK_DEMO_DATA", "false")]).await;
    let flights = server.get_json("/api/v1/flights").await;
    assert_eq!(flights["total"], 0, "no demo flights: {flights}");
    let (code, _) = server.stop().await;
    assert_eq!(code, Some(0));

    // With demo data on (the default), the first start seeds the empty catalog.
    let sandbox = Sandbox::new();
    let mut command = sandbox.command(&["serve"]);
    command.env_remove("SKYBOOK_DEMO_DATA");
    let server = Server::start(&sandbox, command).await;
    let flights = server.get_json("/api/v1/flights").await;
    let total = flights["total"].as_u64().expect("flights total");
    assert!(
        total > 500,
        "the demo schedule was seeded, got {total} flights"
    );
    let (code, _) = server.stop().await;
    assert_eq!(code, Some(0));
}
