//! Stopping and starting the real database server on this machine, for the outage scenario.
//! The guard starts it again when dropped, whatever happened (a failed check panics).
//! PostgreSQL: `pg_ctlcluster VERSION main stop -m fast` (every connection is cut at once).
//! MariaDB: `mysqladmin shutdown`, and started again as .ci/run starts it.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::cluster::Kind;

const UP_TIMEOUT: Duration = Duration::from_secs(60);

fn pg_version() -> String {
    let mut versions: Vec<String> = std::fs::read_dir("/etc/postgresql")
        .expect("/etc/postgresql: the harness stops the local PostgreSQL cluster")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    versions.sort();
    versions.into_iter().next().expect("a PostgreSQL version")
}

fn run(program: &str, args: &[&str]) -> Result<(), String> {
    let output = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("{program}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{program} {args:?}: {:?} {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

fn is_up(kind: Kind) -> bool {
    match kind {
        Kind::Postgres => run("pg_isready", &["-q", "-h", "127.0.0.1", "-p", "5432"]).is_ok(),
        Kind::MySql => run(
            "mysqladmin",
            &[
                "--protocol=tcp",
                "-h",
                "127.0.0.1",
                "-P",
                "3306",
                "-uroot",
                "ping",
            ],
        )
        .is_ok(),
    }
}

/// The server is down while this lives.
pub struct Outage {
    kind: Kind,
    up: bool,
}

impl Outage {
    /// Stops the server; returns once it no longer answers.
    pub fn begin(kind: Kind) -> Outage {
        let stopped = match kind {
            Kind::Postgres => run(
                "pg_ctlcluster",
                &[
                    "--skip-systemctl-redirect",
                    &pg_version(),
                    "main",
                    "stop",
                    "-m",
                    "fast",
                ],
            ),
            Kind::MySql => run(
                "mysqladmin",
                &[
                    "--protocol=tcp",
                    "-h",
                    "127.0.0.1",
                    "-P",
                    "3306",
                    "-uroot",
                    "shutdown",
                ],
            ),
        };
        let outage = Outage { kind, up: false };
        stopped.expect("stop the database server");
        let deadline = Instant::now() + UP_TIMEOUT;
        while is_up(kind) {
            assert!(
                Instant::now() < deadline,
                "the database server did not stop"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        outage
    }

    /// Starts the server again and waits until it answers.
    pub fn end(mut self) -> Result<(), String> {
        self.start()
    }

    fn start(&mut self) -> Result<(), String> {
        if self.up {
            return Ok(());
        }
        self.up = true;
        match self.kind {
            Kind::Postgres => run(
                "pg_ctlcluster",
                &["--skip-systemctl-redirect", &pg_version(), "main", "start"],
            )?,
            Kind::MySql => run(
                "start-stop-daemon",
                &[
                    "--start",
                    "--oknodo",
                    "--background",
                    "--exec",
                    "/usr/sbin/mariadbd",
                ],
            )?,
        }
        let deadline = Instant::now() + UP_TIMEOUT;
        while !is_up(self.kind) {
            if Instant::now() > deadline {
                return Err(format!(
                    "the database server did not start within {UP_TIMEOUT:?}"
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(())
    }
}

impl Drop for Outage {
    fn drop(&mut self) {
        if let Err(err) = self.start() {
            eprintln!("could not start the database server again: {err}");
        }
    }
}
