//! The cluster under test: a fresh database on the server named, N `skybook serve` processes
//! on fixed loopback ports, nginx in front of them, and the SMTP sink they all send to.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sqlx::Connection;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

use crate::smtp::SmtpSink;

pub const BIN: &str = env!("CARGO_BIN_EXE_skybook");
const SECRET: &str = "cluster-test-secret-0123456789-abcdefghij";
pub const ADMIN_EMAIL: &str = "ops@example.com";
pub const ADMIN_PASSWORD: &str = "ops-password";
/// nginx connects to the instances from this address, and it is the only trusted proxy: the
/// harness's clients connect to nginx from other loopback addresses, one per client, so
/// that each is a client of its own for rate limits and the held-seat cap.
pub const PROXY_ADDR: &str = "127.0.0.2";
/// Wide margins: CI is a busy machine.
const START_TIMEOUT: Duration = Duration::from_secs(90);

/// Settings every instance runs with (besides the per-instance ones). Short holds, sweeps,
/// payment locks and email retries, so that expiries, reconciliations and retries happen
/// within a scenario.
pub const SETTINGS: &[(&str, &str)] = &[
    ("SKYBOOK_HOLD_TTL_SECONDS", "10"),
    ("SKYBOOK_SWEEP_INTERVAL_SECONDS", "1"),
    ("SKYBOOK_PAYMENT_LOCK_SECONDS", "3"),
    ("SKYBOOK_EMAIL_RETRY_SECONDS", "2"),
    ("SKYBOOK_SHUTDOWN_GRACE_SECONDS", "10"),
    ("SKYBOOK_HTTP_WORKERS", "2"),
    // Each load client holds at most one unpaid booking at a time plus the ones a lost
    // answer left behind (they expire); the default of 3 would refuse a client whose
    // retries left orphans. Rate limits and the held-seat cap keep their defaults: every
    // client has its own address.
    ("SKYBOOK_MAX_PENDING_BOOKINGS", "20"),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Postgres,
    MySql,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Postgres => "PostgreSQL",
            Kind::MySql => "MariaDB",
        }
    }
}

/// A free TCP port on loopback (bound, then released for a child to take).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("address").port()
}

/// `scheme://authority/whatever?query` with the path replaced by `/name`.
pub fn with_database(server: &str, name: &str) -> String {
    let (scheme, rest) = server.split_once("://").expect("a URL with a scheme");
    let (authority, tail) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let query = tail.find('?').map(|i| &tail[i..]).unwrap_or("");
    format!("{scheme}://{authority}/{name}{query}")
}

/// One `skybook serve` slot: its port stays the same across restarts, so nginx's upstream
/// list never changes.
pub struct Instance {
    pub port: u16,
    pub child: Option<Child>,
    dir: PathBuf,
    pub starts: u32,
}

pub struct Cluster {
    pub kind: Kind,
    pub dir: tempfile::TempDir,
    server_url: String,
    db_name: String,
    pub database_url: String,
    pub instances: Vec<Instance>,
    pub nginx_port: u16,
    nginx: Option<Child>,
    pub smtp: SmtpSink,
    pub started: Instant,
    /// Faults injected and other events, with their time since `started`.
    pub events: Vec<(Duration, String)>,
}

impl Cluster {
    /// A fresh database on `server_url`, migrated, an admin made, N instances and nginx.
    pub async fn start(kind: Kind, server_url: &str, instances: usize) -> Cluster {
        let dir = tempfile::tempdir().expect("temp dir");
        let db_name = format!("skybook_test_cluster_{}", uuid::Uuid::new_v4().simple());
        match kind {
            Kind::Postgres => {
                let mut conn = sqlx::PgConnection::connect(server_url)
                    .await
                    .expect("connect to PostgreSQL");
                sqlx::query(&format!("CREATE DATABASE {db_name}"))
                    .execute(&mut conn)
                    .await
                    .expect("create the database");
            }
            Kind::MySql => {
                let mut conn = sqlx::MySqlConnection::connect(server_url)
                    .await
                    .expect("connect to MariaDB");
                sqlx::query(&format!(
                    "CREATE DATABASE {db_name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
                ))
                .execute(&mut conn)
                .await
                .expect("create the database");
            }
        }
        let database_url = with_database(server_url, &db_name);
        let smtp = SmtpSink::start().await;
        let mut cluster = Cluster {
            kind,
            server_url: server_url.to_string(),
            db_name,
            database_url,
            instances: Vec::new(),
            nginx_port: free_port(),
            nginx: None,
            smtp,
            started: Instant::now(),
            events: Vec::new(),
            dir,
        };
        // Migrations once, before any instance: N instances migrating one fresh database at
        // once is not what a deploy does (docs/OPERATIONS.md: `skybook migrate` first).
        cluster.one_shot(&["migrate"], None).await;
        cluster
            .one_shot(
                &["create-admin", "--email", ADMIN_EMAIL, "--password-stdin"],
                Some(&format!("{ADMIN_PASSWORD}\n")),
            )
            .await;
        for i in 0..instances {
            let dir = cluster.dir.path().join(format!("instance-{i}"));
            std::fs::create_dir_all(&dir).expect("instance dir");
            cluster.instances.push(Instance {
                port: free_port(),
                child: None,
                dir,
                starts: 0,
            });
        }
        for i in 0..instances {
            cluster.spawn(i).await;
        }
        cluster.nginx = Some(cluster.start_nginx().await);
        cluster.started = Instant::now();
        cluster
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    pub fn event(&mut self, what: impl Into<String>) {
        let what = what.into();
        eprintln!("[{:>7.1}s] {what}", self.elapsed().as_secs_f64());
        self.events.push((self.elapsed(), what));
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.nginx_port)
    }

    fn command(&self, data_dir: &Path) -> Command {
        let mut command = Command::new(BIN);
        command
            .current_dir(data_dir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("SKYBOOK_DATA_DIR", data_dir.join("data"))
            .env("SKYBOOK_DATABASE_URL", &self.database_url)
            .env("SKYBOOK_DEMO_DATA", "false")
            .env("SKYBOOK_JWT_SECRET", SECRET)
            .env("SKYBOOK_TRUSTED_PROXIES", PROXY_ADDR)
            .env(
                "SKYBOOK_SMTP_URL",
                format!("smtp://127.0.0.1:{}", self.smtp.port),
            )
            .env("SKYBOOK_LOG", "warn")
            .envs(SETTINGS.iter().copied())
            .stdin(Stdio::null())
            .kill_on_drop(true);
        command
    }

    async fn one_shot(&self, args: &[&str], stdin: Option<&str>) {
        let mut command = self.command(self.dir.path());
        command
            .args(args)
            .env("SKYBOOK_BIND", "127.0.0.1:0")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if stdin.is_some() {
            command.stdin(Stdio::piped());
        }
        let mut child = command.spawn().expect("run skybook");
        if let Some(input) = stdin {
            let mut pipe = child.stdin.take().expect("stdin");
            pipe.write_all(input.as_bytes()).await.expect("stdin");
        }
        let output = tokio::time::timeout(START_TIMEOUT, child.wait_with_output())
            .await
            .expect("the command finishes in time")
            .expect("wait");
        assert!(
            output.status.success(),
            "skybook {args:?}: {:?}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Starts instance `i` and waits for its listening line.
    pub async fn spawn(&mut self, i: usize) {
        let child = self.spawn_child(i);
        let child = wait_listening(child, self.instance_log(i), START_TIMEOUT).await;
        self.instances[i].child = Some(child);
    }

    /// Starts instance `i` without waiting for it (its listening line is read in the
    /// background): a restart under load goes on while the clients keep going.
    pub fn spawn_child(&mut self, i: usize) -> Child {
        let log = self.instance_log(i);
        let instance = &mut self.instances[i];
        instance.starts += 1;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("instance log");
        let mut command = self.command(&self.instances[i].dir);
        command
            .arg("serve")
            .env(
                "SKYBOOK_BIND",
                format!("127.0.0.1:{}", self.instances[i].port),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::from(file));
        command.spawn().expect("start skybook serve")
    }

    pub fn instance_log(&self, i: usize) -> PathBuf {
        self.dir.path().join(format!("instance-{i}.stderr.log"))
    }

    pub fn logs(&self, i: usize) -> String {
        std::fs::read_to_string(self.instance_log(i)).unwrap_or_default()
    }

    /// SIGKILL or SIGTERM to instance `i`.
    pub fn signal(&self, i: usize, signal: libc::c_int) {
        let pid = self.instances[i]
            .child
            .as_ref()
            .and_then(Child::id)
            .expect("the instance is running");
        // SAFETY: a signal to our own child process.
        let sent = unsafe { libc::kill(pid as libc::pid_t, signal) };
        assert_eq!(sent, 0, "kill -{signal} {pid}");
    }

    /// Whether every instance is still running (none exited on its own).
    pub fn exited(&mut self) -> Vec<(usize, std::process::ExitStatus)> {
        let mut gone = Vec::new();
        for (i, instance) in self.instances.iter_mut().enumerate() {
            if let Some(child) = instance.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    gone.push((i, status));
                }
            }
        }
        gone
    }

    async fn start_nginx(&self) -> Child {
        let prefix = self.dir.path().join("nginx");
        std::fs::create_dir_all(prefix.join("logs")).expect("nginx dir");
        let servers: String = self
            .instances
            .iter()
            .map(|i| {
                format!(
                    "        server 127.0.0.1:{} max_fails=1 fail_timeout=2s;\n",
                    i.port
                )
            })
            .collect();
        let config = nginx_config(&prefix, self.nginx_port, &servers);
        std::fs::write(prefix.join("nginx.conf"), config).expect("nginx.conf");
        let child = Command::new("nginx")
            .arg("-p")
            .arg(&prefix)
            .arg("-c")
            .arg(prefix.join("nginx.conf"))
            .arg("-e")
            .arg(prefix.join("logs/error.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("start nginx (apt-get install -y nginx)");
        let deadline = Instant::now() + START_TIMEOUT;
        let client = reqwest::Client::new();
        loop {
            let ready = client
                .get(format!("{}/health/ready", self.base_url()))
                .send()
                .await
                .map(|r| r.status().as_u16());
            if matches!(ready, Ok(200)) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "nginx did not answer: {ready:?}\n{}",
                std::fs::read_to_string(prefix.join("logs/error.log")).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        child
    }

    pub fn nginx_config_text(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("nginx/nginx.conf")).unwrap_or_default()
    }

    /// nginx's error log lines about its upstreams (connections refused, reset, closed).
    pub fn nginx_upstream_errors(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("nginx/logs/error.log"))
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("upstream"))
            .map(str::to_string)
            .collect()
    }

    /// nginx's access log: one line per request answered.
    pub fn access_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("nginx/logs/access.log")).unwrap_or_default()
    }

    /// Stops everything and drops the database.
    pub async fn finish(mut self) {
        if let Some(mut nginx) = self.nginx.take() {
            let _ = nginx.kill().await;
        }
        for instance in &mut self.instances {
            if let Some(mut child) = instance.child.take() {
                let _ = child.kill().await;
            }
        }
        let drop = format!("DROP DATABASE IF EXISTS {}", self.db_name);
        let dropped = match self.kind {
            Kind::Postgres => match sqlx::PgConnection::connect(&self.server_url).await {
                Ok(mut conn) => sqlx::query(&drop).execute(&mut conn).await.map(|_| ()),
                Err(err) => Err(err),
            },
            Kind::MySql => match sqlx::MySqlConnection::connect(&self.server_url).await {
                Ok(mut conn) => sqlx::query(&drop).execute(&mut conn).await.map(|_| ()),
                Err(err) => Err(err),
            },
        };
        if let Err(err) = dropped {
            eprintln!("could not drop {}: {err}", self.db_name);
        }
    }
}

/// Waits for `child`'s `listening on` line and keeps draining its stdout afterwards.
pub async fn wait_listening(mut child: Child, log: PathBuf, timeout: Duration) -> Child {
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(timeout, lines.next_line())
        .await
        .unwrap_or_else(|_| panic!("no listening line within {timeout:?}"))
        .expect("readable stdout")
        .unwrap_or_else(|| {
            panic!(
                "serve exited without a listening line:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            )
        });
    assert!(line.starts_with("listening on "), "got {line:?}");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    child
}

/// The load balancer (docs/OPERATIONS.md, "Several instances", shows the same upstream).
fn nginx_config(prefix: &Path, port: u16, servers: &str) -> String {
    let p = prefix.display();
    format!(
        r#"# Written by tests/cluster for one run; started with -p {p}.
worker_processes 1;
daemon off;
pid {p}/nginx.pid;
worker_rlimit_nofile 16384;
events {{ worker_connections 8192; }}
http {{
    client_body_temp_path {p}/client_body;
    proxy_temp_path {p}/proxy;
    fastcgi_temp_path {p}/fastcgi;
    uwsgi_temp_path {p}/uwsgi;
    scgi_temp_path {p}/scgi;
    log_format cluster '$msec $status "$upstream_addr" "$upstream_status" $request_time "$request"';
    access_log {p}/logs/access.log cluster;

    upstream skybook {{
{servers}        # No keepalive pool: every request opens its own connection. A draining
        # instance refuses new connections, which nginx passes to the next server even for
        # a POST (nothing was sent); a pooled idle connection that the instance closes as
        # its drain ends could fail a POST already written to it, which nginx must not
        # resend (bookings have no idempotency key).
    }}

    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location / {{
            proxy_pass http://skybook;
            proxy_bind {PROXY_ADDR};
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            # Connection refused or reset before the request was sent, or no connection
            # within 1 s: try the next instance, at most twice more. Not non_idempotent: a
            # POST that reached an instance may have been done, and is the client's to retry
            # (payments with their Idempotency-Key).
            proxy_next_upstream error timeout;
            proxy_next_upstream_tries 3;
            proxy_connect_timeout 1s;
            proxy_read_timeout 60s;
            add_header X-Upstream $upstream_addr always;
        }}
    }}
}}
"#
    )
}

/// Signs up (from `client`'s own address) and signs in; the token.
pub async fn token_for(client: &reqwest::Client, base: &str, email: &str) -> String {
    let password = "cluster-traveller-pw";
    let signup = json!({"email": email, "password": password, "name": "Tess Traveller"});
    let (status, body) =
        post_json(client, &format!("{base}/api/v1/auth/signup"), None, &signup).await;
    assert!(
        status == 201 || status == 409,
        "sign-up {email}: {status} {body}"
    );
    let (status, body) = post_json(
        client,
        &format!("{base}/api/v1/auth/signin"),
        None,
        &json!({"email": email, "password": password}),
    )
    .await;
    assert_eq!(status, 200, "sign-in {email}: {body}");
    body["access_token"].as_str().expect("token").to_string()
}

pub async fn post_json(
    client: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    body: &Value,
) -> (u16, Value) {
    let mut request = client.post(url).json(body);
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

/// A flight five days out on a new airplane of `rows` rows of `letters`; its id.
pub async fn flight(
    client: &reqwest::Client,
    base: &str,
    admin: &str,
    number: &str,
    rows: u32,
    letters: &str,
) -> i64 {
    let api = |path: &str| format!("{base}/api/v1{path}");
    let (status, airplane) = post_json(
        client,
        &api("/airplanes"),
        Some(admin),
        &json!({"model": format!("Cluster {number}"), "rows": rows, "seat_letters": letters}),
    )
    .await;
    assert_eq!(status, 201, "airplane: {airplane}");
    let departs = chrono::Utc::now() + chrono::Duration::days(5);
    let (status, flight) = post_json(
        client,
        &api("/flights"),
        Some(admin),
        &json!({
            "flight_number": number, "airplane_id": airplane["id"],
            "departure_airport": "CLA", "arrival_airport": "CLB",
            "departure_time": departs.to_rfc3339(),
            "arrival_time": (departs + chrono::Duration::hours(2)).to_rfc3339(),
            "price_economy": 500_000, "price_business": 900_000, "currency": "INR"
        }),
    )
    .await;
    assert_eq!(status, 201, "flight: {flight}");
    flight["id"].as_i64().expect("flight id")
}

/// The admin's token and the two airports every flight uses.
pub async fn catalog(client: &reqwest::Client, base: &str) -> String {
    let (status, signed_in) = post_json(
        client,
        &format!("{base}/api/v1/auth/signin"),
        None,
        &json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}),
    )
    .await;
    assert_eq!(status, 200, "admin sign-in: {signed_in}");
    let admin = signed_in["access_token"]
        .as_str()
        .expect("token")
        .to_string();
    let (status, city) = post_json(
        client,
        &format!("{base}/api/v1/cities"),
        Some(&admin),
        &json!({"name": "Clusterville", "country_code": "IN"}),
    )
    .await;
    assert_eq!(status, 201, "city: {city}");
    for code in ["CLA", "CLB"] {
        let (status, airport) = post_json(
            client,
            &format!("{base}/api/v1/airports"),
            Some(&admin),
            &json!({"code": code, "name": code, "city_id": city["id"], "timezone": "Asia/Kolkata"}),
        )
        .await;
        assert_eq!(status, 201, "airport {code}: {airport}");
    }
    admin
}
