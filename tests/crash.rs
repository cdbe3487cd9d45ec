//! The process is killed (SIGKILL) in the middle of work that must finish exactly once:
//! - after the provider charged and before the result was committed: after a restart the
//!   sweeper finishes the attempt, the booking is confirmed and charged exactly once, and the
//!   client's retry with the same key replays the success;
//! - after a flight's cancellation committed and before its refunds: after a restart every
//!   charge is refunded once and every traveller gets one email.
//!
//! On SQLite, or on a fresh database of the server that SKYBOOK_TEST_POSTGRES_URL or
//! SKYBOOK_TEST_MYSQL_URL names (as the api suite chooses).

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{json, Value};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, Row};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

const SECRET: &str = "crash-test-secret-0123456789abcdefghij";

/// The file in a test's folder that names its database: made once per test by
/// [`fresh_database`], read by every process and query of the test.
const DATABASE_URL_FILE: &str = "database_url";

/// A new database for the test whose folder is `dir`: SQLite in the folder, or a fresh one on
/// the server the environment names.
async fn fresh_database(dir: &Path) {
    let server = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let db = format!("skybook_test_{}", uuid::Uuid::new_v4().simple());
    let url = if let Some(server) = server("SKYBOOK_TEST_POSTGRES_URL") {
        let mut conn = sqlx::PgConnection::connect(&server)
            .await
            .expect("PostgreSQL");
        sqlx::query(&format!("CREATE DATABASE {db}"))
            .execute(&mut conn)
            .await
            .expect("create the database");
        with_database(&server, &db)
    } else if let Some(server) = server("SKYBOOK_TEST_MYSQL_URL") {
        let mut conn = sqlx::MySqlConnection::connect(&server)
            .await
            .expect("MySQL");
        sqlx::query(&format!(
            "CREATE DATABASE {db} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
        ))
        .execute(&mut conn)
        .await
        .expect("create the database");
        with_database(&server, &db)
    } else {
        format!(
            "sqlite://{}?mode=rwc",
            dir.join("data/skybook.db").display()
        )
    };
    std::fs::write(dir.join(DATABASE_URL_FILE), url).expect("note the database");
}

/// `scheme://authority/whatever?query` with the path replaced by `/name`.
fn with_database(server: &str, name: &str) -> String {
    let (scheme, rest) = server.split_once("://").expect("a URL with a scheme");
    let (authority, tail) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let query = tail.find('?').map(|i| &tail[i..]).unwrap_or("");
    format!("{scheme}://{authority}/{name}{query}")
}

fn database_url(dir: &Path) -> String {
    std::fs::read_to_string(dir.join(DATABASE_URL_FILE)).expect("fresh_database ran first")
}

/// One row of `sql` (integer and text columns only) from the test's database, read-only.
async fn query_one<T>(dir: &Path, sql: &str, read: impl Fn(&dyn RowReader) -> T) -> T {
    let url = database_url(dir);
    if url.starts_with("postgres") {
        let mut conn = sqlx::PgConnection::connect(&url).await.expect("PostgreSQL");
        let row = sqlx::query(sql).fetch_one(&mut conn).await.expect("row");
        read(&row)
    } else if url.starts_with("mysql") {
        let mut conn = sqlx::MySqlConnection::connect(&url).await.expect("MySQL");
        let row = sqlx::query(sql).fetch_one(&mut conn).await.expect("row");
        read(&row)
    } else {
        let mut conn = SqliteConnectOptions::new()
            .filename(dir.join("data/skybook.db"))
            .read_only(true)
            .connect()
            .await
            .expect("open the database");
        let row = sqlx::query(sql).fetch_one(&mut conn).await.expect("row");
        read(&row)
    }
}

/// A row of any of the three databases, by column name.
trait RowReader {
    fn int(&self, column: &str) -> i64;
    fn text(&self, column: &str) -> String;
}

macro_rules! row_reader {
    ($row:ty) => {
        impl RowReader for $row {
            fn int(&self, column: &str) -> i64 {
                self.get(column)
            }
            fn text(&self, column: &str) -> String {
                self.get(column)
            }
        }
    };
}
row_reader!(sqlx::postgres::PgRow);
row_reader!(sqlx::sqlite::SqliteRow);

impl RowReader for sqlx::mysql::MySqlRow {
    fn int(&self, column: &str) -> i64 {
        self.get(column)
    }
    // The tables' binary collation (see the migrations) makes text columns VARBINARY.
    fn text(&self, column: &str) -> String {
        String::from_utf8(self.get::<Vec<u8>, _>(column)).expect("UTF-8")
    }
}

/// The server binary on `dir`'s data, with `fault` (a `SKYBOOK_FAULT_*` variable) set if any.
fn skybook(dir: &Path, fault: Option<&str>) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_skybook"));
    command
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SKYBOOK_DATA_DIR", dir.join("data"))
        .env("SKYBOOK_DATABASE_URL", database_url(dir))
        .env("SKYBOOK_DEMO_DATA", "false")
        .env("SKYBOOK_BIND", "127.0.0.1:0")
        .env("SKYBOOK_JWT_SECRET", SECRET)
        .env("SKYBOOK_RATE_LIMIT_ENABLED", "false")
        .env("SKYBOOK_PAYMENT_LOCK_SECONDS", "1")
        .env("SKYBOOK_SWEEP_INTERVAL_SECONDS", "1")
        .env("SKYBOOK_LOG", "warn")
        .env("SKYBOOK_MAX_PENDING_BOOKINGS", "100")
        .env("SKYBOOK_MAX_HELD_SEATS_PER_CLIENT", "1000")
        .kill_on_drop(true)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(fault) = fault {
        command.env(fault, "true");
    }
    command
}

const PAUSE_AFTER_CHARGE: Option<&str> = Some("SKYBOOK_FAULT_PAUSE_AFTER_CHARGE");
const PAUSE_AFTER_FLIGHT_CANCEL: Option<&str> = Some("SKYBOOK_FAULT_PAUSE_AFTER_FLIGHT_CANCEL");

async fn serve(dir: &Path, fault: Option<&str>) -> (Child, String) {
    serve_with(dir, fault, &[]).await
}

/// [`serve`] with more settings in the environment.
async fn serve_with(dir: &Path, fault: Option<&str>, env: &[(&str, &str)]) -> (Child, String) {
    let mut command = skybook(dir, fault);
    command.envs(env.iter().copied());
    let mut child = command.arg("serve").spawn().expect("skybook starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
        .await
        .expect("a listening line in time")
        .expect("readable stdout")
        .expect("a line");
    let address = line
        .strip_prefix("listening on ")
        .expect("listening line")
        .to_string();
    (child, address)
}

async fn ledger(dir: &Path) -> (i64, i64) {
    // COUNT is a 64-bit integer on all three.
    query_one(
        dir,
        "SELECT (SELECT COUNT(*) FROM sandbox_charges WHERE kind = 'charge') AS charges, \
         (SELECT COUNT(*) FROM sandbox_charges WHERE kind = 'refund') AS refunds",
        |row| (row.int("charges"), row.int("refunds")),
    )
    .await
}

/// A flight three days out on a new airplane of `rows` rows of `letters`, between two new
/// airports: the catalog each crash test books on.
async fn scheduled_flight(
    client: &reqwest::Client,
    base: &str,
    admin: &str,
    number: &str,
    rows: u32,
    letters: &str,
) -> Value {
    let post = reqwest::Method::POST;
    let (_, city) = send(
        client,
        post.clone(),
        format!("{base}/api/v1/cities"),
        Some(admin),
        json!({"name": "Crashville", "country_code": "IN"}),
    )
    .await;
    for code in ["CRA", "CRB"] {
        let (status, _) = send(
            client,
            post.clone(),
            format!("{base}/api/v1/airports"),
            Some(admin),
            json!({"code": code, "name": code, "city_id": city["id"], "timezone": "Asia/Kolkata"}),
        )
        .await;
        assert_eq!(status, 201);
    }
    let (_, airplane) = send(
        client,
        post.clone(),
        format!("{base}/api/v1/airplanes"),
        Some(admin),
        json!({"model": format!("Crash {number}"), "rows": rows, "seat_letters": letters}),
    )
    .await;
    let departs = chrono::Utc::now() + chrono::Duration::days(3);
    let (status, flight) = send(client, post, format!("{base}/api/v1/flights"), Some(admin), json!({
        "flight_number": number, "airplane_id": airplane["id"], "departure_airport": "CRA", "arrival_airport": "CRB",
        "departure_time": departs.to_rfc3339(), "arrival_time": (departs + chrono::Duration::hours(1)).to_rfc3339(),
        "price_economy": 500_000, "price_business": 900_000, "currency": "INR"})).await;
    assert_eq!(status, 201, "{flight}");
    flight
}

async fn send(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: Option<&str>,
    body: Value,
) -> (u16, Value) {
    let mut request = client.request(method, url).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("sent");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_payment_killed_between_charge_and_commit_is_finished_after_restart_and_charged_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    fresh_database(dir.path()).await;
    let mut admin = skybook(dir.path(), None)
        .args([
            "create-admin",
            "--email",
            "ops@example.com",
            "--password-stdin",
        ])
        .spawn()
        .expect("create-admin");
    admin
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"ops-password\n")
        .await
        .expect("password");
    assert!(admin.wait().await.expect("exit").success());

    let (mut first, base) = serve(dir.path(), PAUSE_AFTER_CHARGE).await;
    let client = reqwest::Client::new();
    let post = reqwest::Method::POST;
    let (_, signed_in) = send(
        &client,
        post.clone(),
        format!("{base}/api/v1/auth/signin"),
        None,
        json!({"email": "ops@example.com", "password": "ops-password"}),
    )
    .await;
    let admin = signed_in["access_token"]
        .as_str()
        .expect("admin token")
        .to_string();
    let flight = scheduled_flight(&client, &base, &admin, "CR1", 2, "AB").await;
    send(
        &client,
        post.clone(),
        format!("{base}/api/v1/auth/signup"),
        None,
        json!({"email": "t@example.com", "password": "traveller-pw", "name": "T"}),
    )
    .await;
    let (_, signed_in) = send(
        &client,
        post.clone(),
        format!("{base}/api/v1/auth/signin"),
        None,
        json!({"email": "t@example.com", "password": "traveller-pw"}),
    )
    .await;
    let token = signed_in["access_token"]
        .as_str()
        .expect("token")
        .to_string();
    let (status, booking) = send(
        &client,
        post.clone(),
        format!("{base}/api/v1/bookings"),
        Some(&token),
        json!({"flight_id": flight["id"], "seats": ["1A"], "passengers": [{"name": "T"}]}),
    )
    .await;
    assert_eq!(status, 201, "{booking}");
    let pay_url = format!("{base}/api/v1/bookings/{}/payments", booking["id"]);
    let pay_body =
        json!({"amount": booking["total"], "currency": "INR", "payment_method": "pm_card_ok"});

    // The payment hangs after the charge (fault injection); kill the process right there.
    let hanging = {
        let (client, url, token, body) = (
            client.clone(),
            pay_url.clone(),
            token.clone(),
            pay_body.clone(),
        );
        tokio::spawn(async move {
            client
                .post(url)
                .bearer_auth(token)
                .header("Idempotency-Key", "crash-key")
                .json(&body)
                .send()
                .await
        })
    };
    for _ in 0..200 {
        if ledger(dir.path()).await.0 == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        ledger(dir.path()).await,
        (1, 0),
        "the provider charged before the kill"
    );
    first.kill().await.expect("SIGKILL");
    assert!(
        hanging.await.expect("task").is_err(),
        "the client never got an answer"
    );

    let (_second, base) = serve(dir.path(), None).await;
    let booking_url = format!("{base}/api/v1/bookings/{}", booking["id"]);
    let mut status = Value::Null;
    for _ in 0..150 {
        let response = client
            .get(&booking_url)
            .bearer_auth(&token)
            .send()
            .await
            .expect("sent");
        status = response.json::<Value>().await.expect("json")["status"].clone();
        if status == "confirmed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        status, "confirmed",
        "the sweeper finished the interrupted payment"
    );
    assert_eq!(ledger(dir.path()).await, (1, 0), "charged exactly once");

    // The client retries with its key and gets the success, not a second charge.
    let pay_url = pay_url.replace(pay_url.split("/api").next().unwrap_or_default(), &base);
    let retry = client
        .post(&pay_url)
        .bearer_auth(&token)
        .header("Idempotency-Key", "crash-key")
        .json(&pay_body)
        .send()
        .await
        .expect("sent");
    assert_eq!(retry.status(), 201);
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    let payment: Value = retry.json().await.expect("json");
    assert_eq!(payment["status"], "succeeded");
    assert_eq!(ledger(dir.path()).await, (1, 0));
}

/// Signs up (if new) and signs in; the access token.
async fn token_for(client: &reqwest::Client, base: &str, email: &str, password: &str) -> String {
    send(
        client,
        reqwest::Method::POST,
        format!("{base}/api/v1/auth/signup"),
        None,
        json!({"email": email, "password": password, "name": "Tess Traveller"}),
    )
    .await;
    let (_, signed_in) = send(
        client,
        reqwest::Method::POST,
        format!("{base}/api/v1/auth/signin"),
        None,
        json!({"email": email, "password": password}),
    )
    .await;
    signed_in["access_token"]
        .as_str()
        .expect("token")
        .to_string()
}

/// The `.eml` files written for emails of `kind` (no SMTP server: emails go to files).
fn emails_of_kind(dir: &Path, kind: &str) -> usize {
    std::fs::read_dir(dir.join("data/outbox"))
        .map(|files| {
            files
                .filter_map(Result::ok)
                .filter(|f| {
                    let name = f.file_name().to_string_lossy().to_string();
                    name.ends_with(".eml") && name.contains(&format!("-{kind}-"))
                })
                .count()
        })
        .unwrap_or(0)
}

async fn flight_status(dir: &Path, flight_id: i64) -> String {
    query_one(
        dir,
        &format!("SELECT status FROM flights WHERE id = {flight_id}"),
        |row| row.text("status"),
    )
    .await
}

#[tokio::test]
async fn a_flight_cancellation_killed_before_its_refunds_finishes_after_restart_exactly_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    fresh_database(dir.path()).await;
    let mut admin = skybook(dir.path(), None)
        .args([
            "create-admin",
            "--email",
            "ops@example.com",
            "--password-stdin",
        ])
        .spawn()
        .expect("create-admin");
    admin
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"ops-password\n")
        .await
        .expect("password");
    assert!(admin.wait().await.expect("exit").success());

    // No sweep in the first life: only the (paused) request could refund, so the kill
    // lands before any refund, and the restarted instance's sweeper must make them all.
    let (mut first, base) = serve_with(
        dir.path(),
        PAUSE_AFTER_FLIGHT_CANCEL,
        &[("SKYBOOK_SWEEP_INTERVAL_SECONDS", "3600")],
    )
    .await;
    let client = reqwest::Client::new();
    let post = reqwest::Method::POST;
    let admin = token_for(&client, &base, "ops@example.com", "ops-password").await;
    let flight = scheduled_flight(&client, &base, &admin, "CR2", 12, "ABC DEF").await;
    let flight_id = flight["id"].as_i64().expect("id");
    let token = token_for(&client, &base, "tess@example.com", "traveller-pw").await;
    // 40 confirmed, 20 pending, 10 cancelled by their traveller.
    for i in 0..70 {
        let seat = format!("{}{}", i / 6 + 1, ["A", "B", "C", "D", "E", "F"][i % 6]);
        let (status, booking) = send(&client, post.clone(), format!("{base}/api/v1/bookings"), Some(&token),
            json!({"flight_id": flight_id, "seats": [seat], "passengers": [{"name": "Tess Traveller"}]})).await;
        assert_eq!(status, 201, "{booking}");
        let id = booking["id"].as_i64().expect("id");
        if i < 40 {
            let paid = client
                .post(format!("{base}/api/v1/bookings/{id}/payments"))
                .bearer_auth(&token)
                .header("Idempotency-Key", format!("pay-{i}"))
                .json(&json!({"amount": booking["total"], "currency": "INR", "payment_method": "pm_card_ok"}))
                .send()
                .await
                .expect("sent");
            assert_eq!(paid.status(), 201);
        } else if i >= 60 {
            let (status, _) = send(
                &client,
                post.clone(),
                format!("{base}/api/v1/bookings/{id}/cancel"),
                Some(&token),
                json!({}),
            )
            .await;
            assert_eq!(status, 200);
        }
    }
    assert_eq!(ledger(dir.path()).await, (40, 0));

    // The cancellation commits, then the process stops before any refund: kill it there.
    let hanging = {
        let (client, url, admin) = (
            client.clone(),
            format!("{base}/api/v1/flights/{flight_id}/cancel"),
            admin.clone(),
        );
        tokio::spawn(async move {
            client
                .post(url)
                .bearer_auth(admin)
                .json(&json!({"reason": "Volcanic ash"}))
                .send()
                .await
        })
    };
    for _ in 0..400 {
        if flight_status(dir.path(), flight_id).await == "cancelled" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(flight_status(dir.path(), flight_id).await, "cancelled");
    // Let the (paused) request settle where the fault holds it, then kill.
    tokio::time::sleep(Duration::from_millis(300)).await;
    first.kill().await.expect("SIGKILL");
    assert!(
        hanging.await.expect("task").is_err(),
        "the admin never got an answer"
    );
    assert_eq!(
        ledger(dir.path()).await,
        (40, 0),
        "killed before any refund"
    );

    let (_second, _base) = serve(dir.path(), None).await;
    for _ in 0..600 {
        if ledger(dir.path()).await == (40, 40)
            && emails_of_kind(dir.path(), "flight_cancelled") >= 60
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A few more sweeps: nothing is done twice.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        ledger(dir.path()).await,
        (40, 40),
        "each charge refunded exactly once"
    );
    assert_eq!(
        emails_of_kind(dir.path(), "flight_cancelled"),
        60,
        "one email per live booking"
    );
    assert_eq!(
        emails_of_kind(dir.path(), "cancelled"),
        10,
        "the travellers' own cancellations"
    );
}
