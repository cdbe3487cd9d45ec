//! Operations, black-box: the real `skybook` binary as a child process on a SQLite file in a
//! temporary folder, driven over real HTTP. `backup`: a backup taken under a stream of
//! bookings, and restoring it. `drain`: bookings sent just before SIGTERM are all answered.

mod backup;
mod drain;

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

const BIN: &str = env!("CARGO_BIN_EXE_skybook");
const SECRET: &str = "ops-test-secret-0123456789-abcdefghijklmnop";
/// Wide margins: CI is a busy machine.
const START_TIMEOUT: Duration = Duration::from_secs(60);
const STOP_TIMEOUT: Duration = Duration::from_secs(60);
const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);
const ADMIN_EMAIL: &str = "ops@example.com";
const ADMIN_PASSWORD: &str = "ops-password";

/// `skybook ARGS` with a clean environment: the data folder `dir/data`, no demo data, an
/// ephemeral port, no rate limits and no booking caps (the tests make many bookings from one
/// address and one account).
fn skybook(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SKYBOOK_DATA_DIR", dir.join("data"))
        .env("SKYBOOK_DEMO_DATA", "false")
        .env("SKYBOOK_BIND", "127.0.0.1:0")
        .env("SKYBOOK_JWT_SECRET", SECRET)
        .env("SKYBOOK_RATE_LIMIT_ENABLED", "false")
        .env("SKYBOOK_MAX_PENDING_BOOKINGS", "1000000")
        .env("SKYBOOK_MAX_HELD_SEATS_PER_CLIENT", "1000000")
        .env("SKYBOOK_LOG", "info")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    command
}

/// Runs a one-shot command to completion, with `stdin` as its input.
async fn run(mut command: Command, stdin: Option<&str>) -> Output {
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    if stdin.is_some() {
        command.stdin(Stdio::piped());
    }
    let mut child = command.spawn().expect("start skybook");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("stdin is piped");
        pipe.write_all(input.as_bytes()).await.expect("write stdin");
    }
    tokio::time::timeout(COMMAND_TIMEOUT, child.wait_with_output())
        .await
        .expect("the command finishes in time")
        .expect("wait for the command")
}

fn describe(output: &Output) -> String {
    format!(
        "status: {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A running `skybook serve`; dropping it kills the process.
struct Server {
    child: Child,
    port: u16,
    stderr: PathBuf,
}

impl Server {
    async fn start(dir: &Path) -> Server {
        let mut command = skybook(dir, &["serve"]);
        let stderr = dir.join(format!("serve-{}.stderr.log", log_number()));
        let log = std::fs::File::create(&stderr).expect("create the stderr log");
        command.stdout(Stdio::piped()).stderr(Stdio::from(log));
        let mut child = command.spawn().expect("start skybook serve");
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(START_TIMEOUT, lines.next_line())
            .await
            .unwrap_or_else(|_| panic!("no listening line within {START_TIMEOUT:?}"))
            .expect("readable stdout")
            .unwrap_or_else(|| {
                panic!(
                    "serve exited without a listening line:\n{}",
                    std::fs::read_to_string(&stderr).unwrap_or_default()
                )
            });
        let port = line
            .strip_prefix("listening on http://127.0.0.1:")
            .and_then(|port| port.trim().parse().ok())
            .unwrap_or_else(|| panic!("a listening line, got {line:?}"));
        // Keep reading stdout so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Server {
            child,
            port,
            stderr,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    fn logs(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    fn sigterm(&self) {
        let pid = self.child.id().expect("the server is running");
        let pid = libc::pid_t::try_from(pid).expect("a pid");
        // SAFETY: sending a signal to our own child process.
        let sent = unsafe { libc::kill(pid, libc::SIGTERM) };
        assert_eq!(sent, 0, "kill -TERM {pid}");
    }

    fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Waits for the process to exit and returns its exit code (None: killed by a signal).
    async fn exit_code(&mut self) -> Option<i32> {
        match tokio::time::timeout(STOP_TIMEOUT, self.child.wait()).await {
            Ok(status) => status.expect("wait for serve").code(),
            Err(_) => panic!(
                "serve did not exit within {STOP_TIMEOUT:?}\n{}",
                self.logs()
            ),
        }
    }

    /// SIGTERM, and the exit code must be 0.
    async fn stop(mut self) {
        self.sigterm();
        let code = self.exit_code().await;
        assert_eq!(code, Some(0), "a SIGTERM stop exits 0\n{}", self.logs());
    }
}

/// Tells apart the stderr logs of the servers one test starts.
fn log_number() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// A flight with 2,400 seats and a traveller's token, made over the API.
struct Fixture {
    token: String,
    flight_id: i64,
}

async fn send(client: &Client, url: String, token: Option<&str>, body: Value) -> (u16, Value) {
    let mut request = client.post(&url).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {url}: {e}"));
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Makes an admin before the server starts (as an operator would).
async fn create_admin(dir: &Path) {
    let output = run(
        skybook(
            dir,
            &["create-admin", "--email", ADMIN_EMAIL, "--password-stdin"],
        ),
        Some(&format!("{ADMIN_PASSWORD}\n")),
    )
    .await;
    assert!(
        output.status.success(),
        "create-admin\n{}",
        describe(&output)
    );
}

/// The catalog (a city, two airports, a 2,400-seat airplane, a flight) and a traveller, over
/// the API.
async fn fixture(server: &Server) -> Fixture {
    let client = Client::new();
    let api = |path: &str| server.url(&format!("/api/v1{path}"));
    let (status, signed_in) = send(
        &client,
        api("/auth/signin"),
        None,
        json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}),
    )
    .await;
    assert_eq!(status, 200, "admin sign-in: {signed_in}");
    let admin = signed_in["access_token"].as_str().expect("admin token");
    let (status, city) = send(
        &client,
        api("/cities"),
        Some(admin),
        json!({"name": "Opsville", "country_code": "IN"}),
    )
    .await;
    assert_eq!(status, 201, "city: {city}");
    for code in ["OPA", "OPB"] {
        let (status, airport) = send(
            &client,
            api("/airports"),
            Some(admin),
            json!({"code": code, "name": code, "city_id": city["id"], "timezone": "Asia/Kolkata"}),
        )
        .await;
        assert_eq!(status, 201, "airport {code}: {airport}");
    }
    let (status, airplane) = send(
        &client,
        api("/airplanes"),
        Some(admin),
        json!({"model": "Ops 2400", "rows": 100, "seat_letters": "ABCDEFGHJKLM NPQRSTUVWXYZ"}),
    )
    .await;
    assert_eq!(status, 201, "airplane: {airplane}");
    let departs = chrono::Utc::now() + chrono::Duration::days(5);
    let (status, flight) = send(
        &client,
        api("/flights"),
        Some(admin),
        json!({
            "flight_number": "OP1", "airplane_id": airplane["id"],
            "departure_airport": "OPA", "arrival_airport": "OPB",
            "departure_time": departs.to_rfc3339(),
            "arrival_time": (departs + chrono::Duration::hours(2)).to_rfc3339(),
            "price_economy": 500_000, "price_business": 900_000, "currency": "INR"
        }),
    )
    .await;
    assert_eq!(status, 201, "flight: {flight}");
    let (status, body) = send(
        &client,
        api("/auth/signup"),
        None,
        json!({"email": "t@example.com", "password": "traveller-pw", "name": "T"}),
    )
    .await;
    assert_eq!(status, 201, "sign-up: {body}");
    let (status, signed_in) = send(
        &client,
        api("/auth/signin"),
        None,
        json!({"email": "t@example.com", "password": "traveller-pw"}),
    )
    .await;
    assert_eq!(status, 200, "sign-in: {signed_in}");
    Fixture {
        token: signed_in["access_token"]
            .as_str()
            .expect("token")
            .to_string(),
        flight_id: flight["id"].as_i64().expect("flight id"),
    }
}

/// The JSON body of a one-passenger booking on `flight_id`, seat assigned by the server.
fn booking_body(flight_id: i64) -> Value {
    json!({"flight_id": flight_id, "passengers": [{"name": "T"}]})
}

/// `GET url` with the token; the status and the JSON body.
async fn get(client: &Client, url: String, token: &str) -> (StatusCode, Value) {
    let response = client
        .get(&url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}
