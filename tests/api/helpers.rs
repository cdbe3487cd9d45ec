//! Starts the real application on port 0 against a fresh database and talks HTTP to it.
//! The database is SQLite in a temporary directory, or a new database on the PostgreSQL or
//! MySQL server named by SKYBOOK_TEST_POSTGRES_URL / SKYBOOK_TEST_MYSQL_URL.

use std::sync::atomic::{AtomicU32, Ordering};

use reqwest::{Client, Response, StatusCode};
use serde_json::{json, Value};
use skybook::config::{DatabaseKind, Secret, Settings};
use skybook::db::Database;
use skybook::models::identity::Email;
use skybook::services::identity::{create_admin, Password};
use skybook::startup::Application;
use sqlx::Connection;
use tempfile::TempDir;

pub const JWT_SECRET: &str = "test-secret-0123456789-abcdefghijklmnop";
pub const PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub address: String,
    pub client: Client,
    pub db: Database,
    /// The database this app runs on (a second app may share it).
    pub database_url: String,
    /// Kept so the SQLite file and the secret live as long as the app.
    data_dir: TempDir,
}

static USER_COUNTER: AtomicU32 = AtomicU32::new(0);

/// Which database this test run uses, chosen by the environment.
pub fn backend() -> DatabaseKind {
    if std::env::var("SKYBOOK_TEST_POSTGRES_URL").is_ok_and(|v| !v.is_empty()) {
        DatabaseKind::Postgres
    } else if std::env::var("SKYBOOK_TEST_MYSQL_URL").is_ok_and(|v| !v.is_empty()) {
        DatabaseKind::MySql
    } else {
        DatabaseKind::Sqlite
    }
}

/// A URL for a brand-new, empty database of the selected backend.
pub async fn fresh_database_url(data_dir: &std::path::Path) -> String {
    let name = format!("skybook_test_{}", uuid::Uuid::new_v4().simple());
    match backend() {
        DatabaseKind::Sqlite => format!(
            "sqlite://{}?mode=rwc",
            data_dir.join("skybook.db").display()
        ),
        DatabaseKind::Postgres => {
            let server = std::env::var("SKYBOOK_TEST_POSTGRES_URL").expect("checked above");
            let mut conn = sqlx::PgConnection::connect(&server)
                .await
                .expect("PostgreSQL is reachable");
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await
                .expect("create the test database");
            replace_database(&server, &name)
        }
        DatabaseKind::MySql => {
            let server = std::env::var("SKYBOOK_TEST_MYSQL_URL").expect("checked above");
            let mut conn = sqlx::MySqlConnection::connect(&server)
                .await
                .expect("MySQL is reachable");
            sqlx::query(&format!(
                "CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
            ))
            .execute(&mut conn)
            .await
            .expect("create the test database");
            replace_database(&server, &name)
        }
    }
}

/// `scheme://user@host:port/whatever?query` with the path replaced by `/name`.
fn replace_database(server: &str, name: &str) -> String {
    let (scheme, rest) = server.split_once("://").expect("a URL with a scheme");
    let (authority, tail) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let query = tail.find('?').map(|i| &tail[i..]).unwrap_or("");
    format!("{scheme}://{authority}/{name}{query}")
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(customize: impl FnOnce(&mut Settings)) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temporary directory");
    let mut settings = Settings::defaults().expect("default settings");
    let url = fresh_database_url(data_dir.path()).await;
    settings.database_kind = backend();
    settings.database_url = Secret::new(url);
    settings.database_max_connections = 5;
    settings.bind = "127.0.0.1:0".parse().expect("address");
    settings.http_workers = 2;
    settings.jwt_secret = Secret::new(JWT_SECRET);
    settings.rate_limit_enabled = false;
    // Every test client is 127.0.0.1: the cap across accounts is its own tests' subject.
    settings.max_held_seats_per_client = 10_000;
    settings.demo_data = false;
    settings.data_dir = data_dir.path().to_path_buf();
    customize(&mut settings);
    skybook::telemetry::init(&std::env::var("SKYBOOK_TEST_LOG").unwrap_or_else(|_| "error".into()));

    let database_url = settings.database_url.expose().to_string();
    let app = Application::build(settings)
        .await
        .expect("application builds");
    let port = app.port();
    let db = app.state().db.clone();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        client: Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
        db,
        database_url,
        data_dir,
    }
}

pub fn unique_email(prefix: &str) -> String {
    let n = USER_COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}{n}-{}@example.com", uuid::Uuid::new_v4().simple())
}

impl TestApp {
    pub fn data_dir(&self) -> &std::path::Path {
        self.data_dir.path()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        let mut request = self.client.get(self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request sent")
    }

    pub async fn send_json(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> Response {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self.client.request(method, self.url(path)).json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request sent")
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        self.send_json("POST", path, token, body).await
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        self.send_json("PATCH", path, token, body).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Response {
        let mut request = self.client.delete(self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request sent")
    }

    pub async fn sign_up(&self, email: &str, password: &str) -> Response {
        self.post(
            "/api/v1/auth/signup",
            None,
            &json!({"email": email, "password": password, "name": "Test Traveller"}),
        )
        .await
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> Response {
        self.post(
            "/api/v1/auth/signin",
            None,
            &json!({"email": email, "password": password}),
        )
        .await
    }

    /// A new customer's access token.
    pub async fn customer_token(&self) -> String {
        let email = unique_email("customer");
        assert_eq!(
            self.sign_up(&email, PASSWORD).await.status(),
            StatusCode::CREATED
        );
        token_of(self.sign_in(&email, PASSWORD).await).await
    }

    /// A new admin's email (made the way `skybook create-admin` makes one); the password is
    /// `PASSWORD`.
    pub async fn admin_email(&self) -> String {
        let email = unique_email("admin");
        create_admin(
            &self.db,
            Email::parse(&email).expect("email"),
            Password::parse(PASSWORD.into()).expect("password"),
        )
        .await
        .expect("admin created");
        email
    }

    /// A new admin's access token.
    pub async fn admin_token(&self) -> String {
        let email = self.admin_email().await;
        token_of(self.sign_in(&email, PASSWORD).await).await
    }
}

pub async fn token_of(response: Response) -> String {
    assert_eq!(response.status(), StatusCode::OK, "sign-in should succeed");
    let body: Value = response.json().await.expect("JSON");
    body["access_token"].as_str().expect("a token").to_string()
}

/// The status and the JSON body (problem documents included).
pub async fn status_and_json(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}

/// Asserts a problem document with the given status and code.
pub async fn assert_problem(response: Response, status: u16, code: &str) -> Value {
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let (actual, body) = status_and_json(response).await;
    assert_eq!(actual.as_u16(), status, "unexpected status; body: {body}");
    assert_eq!(body["code"], code, "unexpected code; body: {body}");
    assert_eq!(
        body["status"], status,
        "problem status member; body: {body}"
    );
    assert_eq!(content_type, "application/problem+json");
    body
}

/// A small catalog made through the API: two cities, airports, an airplane.
pub struct Catalog {
    pub admin: String,
    pub city_id: i64,
    pub airplane_id: i64,
}

impl TestApp {
    pub async fn catalog(&self) -> Catalog {
        let admin = self.admin_token().await;
        let city = self
            .created(
                self.post(
                    "/api/v1/cities",
                    Some(&admin),
                    &json!({"name": "Testville", "country_code": "IN"}),
                )
                .await,
            )
            .await;
        let city_id = city["id"].as_i64().expect("id");
        for (code, tz) in [
            ("TAA", "Asia/Kolkata"),
            ("TBB", "Asia/Kolkata"),
            ("TNY", "America/New_York"),
        ] {
            self.created(
                self.post(
                    "/api/v1/airports",
                    Some(&admin),
                    &json!({"code": code, "name": format!("{code} International"), "city_id": city_id, "timezone": tz}),
                )
                .await,
            )
            .await;
        }
        let airplane = self
            .created(
                self.post(
                    "/api/v1/airplanes",
                    Some(&admin),
                    &json!({"model": "Test 320", "rows": 3, "seat_letters": "AB CD", "business_rows": 1}),
                )
                .await,
            )
            .await;
        Catalog {
            admin,
            city_id,
            airplane_id: airplane["id"].as_i64().expect("id"),
        }
    }

    /// Asserts 201 and returns the body.
    pub async fn created(&self, response: Response) -> Value {
        let (status, body) = status_and_json(response).await;
        assert_eq!(status, StatusCode::CREATED, "expected 201; body: {body}");
        body
    }

    pub async fn create_flight(&self, catalog: &Catalog, body: Value) -> Value {
        self.created(
            self.post("/api/v1/flights", Some(&catalog.admin), &body)
                .await,
        )
        .await
    }
}

/// A valid flight body departing `days` from now at `hh:mm` UTC.
pub fn flight_body(
    catalog: &Catalog,
    number: &str,
    departs: chrono::DateTime<chrono::Utc>,
    price: i64,
) -> Value {
    let arrives = departs + chrono::Duration::minutes(130);
    json!({
        "flight_number": number,
        "airplane_id": catalog.airplane_id,
        "departure_airport": "TAA",
        "arrival_airport": "TBB",
        "departure_time": departs.to_rfc3339(),
        "arrival_time": arrives.to_rfc3339(),
        "price_economy": price,
        "price_business": price * 3,
        "currency": "INR",
    })
}

/// Midnight UTC `days` from today.
pub fn days_ahead(days: i64) -> chrono::DateTime<chrono::Utc> {
    let date = chrono::Utc::now().date_naive() + chrono::Duration::days(days);
    date.and_hms_opt(0, 0, 0).expect("midnight").and_utc()
}

/// A flight on the catalog's 12-seat airplane (rows 1-3, "AB CD", row 1 business),
/// departing `days` from now.
pub async fn bookable_flight(app: &TestApp, catalog: &Catalog, number: &str) -> i64 {
    let flight = app
        .create_flight(
            catalog,
            flight_body(
                catalog,
                number,
                days_ahead(10) + chrono::Duration::hours(6),
                100_000,
            ),
        )
        .await;
    flight["id"].as_i64().expect("id")
}

pub fn passengers(count: usize) -> Value {
    Value::Array(
        (0..count)
            .map(|i| json!({"name": format!("Passenger {i}")}))
            .collect(),
    )
}

impl TestApp {
    pub async fn book(&self, token: &str, flight_id: i64, seats: &[&str]) -> Response {
        let body =
            json!({"flight_id": flight_id, "seats": seats, "passengers": passengers(seats.len())});
        self.post("/api/v1/bookings", Some(token), &body).await
    }

    pub async fn book_assigned(&self, token: &str, flight_id: i64, count: usize) -> Response {
        let body = json!({"flight_id": flight_id, "passengers": passengers(count)});
        self.post("/api/v1/bookings", Some(token), &body).await
    }

    pub async fn pay(&self, token: &str, booking: &Value, key: &str, method: &str) -> Response {
        let id = booking["id"].as_i64().expect("booking id");
        self.client
            .post(self.url(&format!("/api/v1/bookings/{id}/payments")))
            .bearer_auth(token)
            .header("Idempotency-Key", key)
            .json(&json!({"amount": booking["total"], "currency": booking["currency"], "payment_method": method}))
            .send()
            .await
            .expect("request sent")
    }

    /// (charges, refunds) the sandbox provider recorded, from its own ledger.
    pub async fn sandbox_ledger(&self) -> (usize, usize) {
        use sea_orm::EntityTrait;
        use skybook::models::booking::sandbox_charge;
        let rows = sandbox_charge::Entity::find()
            .all(&self.db.writer)
            .await
            .expect("ledger");
        let charges = rows
            .iter()
            .filter(|r| r.kind == sandbox_charge::CHARGE)
            .count();
        (charges, rows.len() - charges)
    }

    pub async fn booking(&self, token: &str, id: i64) -> Value {
        let (status, body) = status_and_json(
            self.get(&format!("/api/v1/bookings/{id}"), Some(token))
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    pub async fn seat_map(&self, flight_id: i64) -> Vec<(String, bool)> {
        let (_, map) = status_and_json(
            self.get(&format!("/api/v1/flights/{flight_id}/seats"), None)
                .await,
        )
        .await;
        map["seats"]
            .as_array()
            .expect("seats")
            .iter()
            .map(|s| {
                (
                    s["seat"].as_str().expect("seat").to_string(),
                    s["available"].as_bool().expect("bool"),
                )
            })
            .collect()
    }

    pub async fn seats_available(&self, flight_id: i64) -> i64 {
        let (_, flight) = status_and_json(
            self.get(&format!("/api/v1/flights/{flight_id}"), None)
                .await,
        )
        .await;
        flight["seats_available"].as_i64().expect("seats_available")
    }
}
