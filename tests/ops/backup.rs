//! `skybook backup --to FILE` while bookings keep coming, and a restore from its copy.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Row};

use super::*;

/// Booking loops running side by side against the server.
const LOOPS: usize = 4;
/// Bookings acknowledged before the backup starts, and after it ends (so the loops are seen
/// running on both sides of it).
const BEFORE: usize = 40;
const AFTER: usize = 20;
const WAIT: Duration = Duration::from_secs(120);

/// Each booking whose 201 arrived: its reference, when its request left and when the answer came.
type Acknowledged = Arc<Mutex<BTreeMap<i64, Booked>>>;

#[derive(Clone, Debug)]
struct Booked {
    reference: String,
    sent: Instant,
    answered: Instant,
}

/// Waits until `count` bookings are acknowledged, polling up to a wide deadline.
async fn wait_for(acknowledged: &Acknowledged, count: usize, failures: &Arc<Mutex<Vec<String>>>) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let have = acknowledged.lock().expect("lock").len();
        if have >= count {
            return;
        }
        let failed = failures.lock().expect("lock").clone();
        assert!(failed.is_empty(), "bookings failed: {failed:?}");
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {have} of {count} bookings acknowledged within {WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_backup_under_bookings_holds_every_acknowledged_booking_and_restores() {
    let dir = tempfile::tempdir().expect("temp dir");
    create_admin(dir.path()).await;
    let server = Server::start(dir.path()).await;
    let fixture = fixture(&server).await;

    // Arrange: loops that keep booking, each recording the bookings whose 201 arrived.
    let acknowledged: Acknowledged = Arc::default();
    let failures: Arc<Mutex<Vec<String>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let mut loops = Vec::new();
    for _ in 0..LOOPS {
        let (acknowledged, failures, stop) = (acknowledged.clone(), failures.clone(), stop.clone());
        let (url, token, body) = (
            server.url("/api/v1/bookings"),
            fixture.token.clone(),
            booking_body(fixture.flight_id),
        );
        loops.push(tokio::spawn(async move {
            let client = Client::new();
            while !stop.load(Ordering::SeqCst) {
                let sent = Instant::now();
                let answer = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await;
                match answer {
                    Ok(response) if response.status() == StatusCode::CREATED => {
                        let booking: Value = response.json().await.unwrap_or(Value::Null);
                        match (booking["id"].as_i64(), booking["reference"].as_str()) {
                            (Some(id), Some(reference)) => {
                                let booked = Booked {
                                    reference: reference.to_string(),
                                    sent,
                                    answered: Instant::now(),
                                };
                                acknowledged.lock().expect("lock").insert(id, booked);
                            }
                            _ => failures.lock().expect("lock").push(booking.to_string()),
                        }
                    }
                    Ok(response) => failures
                        .lock()
                        .expect("lock")
                        .push(format!("status {}", response.status())),
                    Err(err) => failures.lock().expect("lock").push(err.to_string()),
                }
            }
        }));
    }
    wait_for(&acknowledged, BEFORE, &failures).await;

    // Act: the backup, while the loops go on.
    let before_backup = acknowledged.lock().expect("lock").clone();
    let backup_path = dir.path().join("skybook-backup.db");
    let backup_arg = backup_path.to_str().expect("a UTF-8 path");
    let backup_started = Instant::now();
    let output = run(skybook(dir.path(), &["backup", "--to", backup_arg]), None).await;
    let backup_ended = Instant::now();
    assert!(output.status.success(), "backup\n{}", describe(&output));
    let after_backup = acknowledged.lock().expect("lock").len();
    wait_for(&acknowledged, after_backup + AFTER, &failures).await;
    stop.store(true, Ordering::SeqCst);
    for running in loops {
        running.await.expect("a booking loop");
    }
    let failed = failures.lock().expect("lock").clone();
    assert!(failed.is_empty(), "bookings failed: {failed:?}");
    // Bookings were being written while the backup ran: requests sent before it ended and
    // answered after it began.
    let during = acknowledged
        .lock()
        .expect("lock")
        .values()
        .filter(|b| b.sent < backup_ended && b.answered > backup_started)
        .count();
    assert!(during > 0, "no booking was in flight during the backup");
    println!(
        "backup: {} ({} bookings acknowledged before it, {during} in flight during it, {} by its end)",
        String::from_utf8_lossy(&output.stdout).trim(),
        before_backup.len(),
        after_backup
    );

    // Assert: a private, sound copy holding every booking acknowledged before it began.
    let mode = std::fs::metadata(&backup_path)
        .expect("the backup exists")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600, "the backup is readable by its owner only");
    let mut copy = SqliteConnectOptions::new()
        .filename(&backup_path)
        .read_only(true)
        .connect()
        .await
        .expect("the backup opens as a SQLite database");
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut copy)
        .await
        .expect("integrity_check runs");
    assert_eq!(integrity, "ok");
    let rows = sqlx::query("SELECT id, reference FROM bookings")
        .fetch_all(&mut copy)
        .await
        .expect("read the bookings");
    let in_copy: BTreeMap<i64, String> = rows
        .iter()
        .map(|row| (row.get::<i64, _>("id"), row.get::<String, _>("reference")))
        .collect();
    let missing: Vec<_> = before_backup
        .iter()
        .filter(|(id, booked)| in_copy.get(id) != Some(&booked.reference))
        .collect();
    assert!(
        missing.is_empty(),
        "acknowledged before the backup but not in it: {missing:?}"
    );
    drop(copy);

    // A second backup to the same name is refused, and the file is left as it was.
    let kept = std::fs::read(&backup_path).expect("read the backup");
    let output = run(skybook(dir.path(), &["backup", "--to", backup_arg]), None).await;
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr:?}");
    assert!(stderr.contains("exists"), "{stderr:?}");
    assert_eq!(
        std::fs::read(&backup_path).expect("read"),
        kept,
        "unchanged"
    );
    server.stop().await;

    // Restore, as docs/OPERATIONS.md says: the copy in place of the database (no stale -wal
    // or -shm beside it), mode kept, then start. Every booking is read back.
    let restored = tempfile::tempdir().expect("temp dir");
    let data = restored.path().join("data");
    std::fs::create_dir(&data).expect("data folder");
    std::fs::copy(&backup_path, data.join("skybook.db")).expect("copy the backup in place");
    let restored_mode = std::fs::metadata(data.join("skybook.db"))
        .expect("restored file")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(restored_mode, 0o600, "the copy keeps its mode");
    let server = Server::start(restored.path()).await;
    let client = Client::new();
    for (id, booked) in before_backup.iter().step_by(7) {
        let (status, booking) = get(
            &client,
            server.url(&format!("/api/v1/bookings/{id}")),
            &fixture.token,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "booking {id}: {booking}");
        assert_eq!(
            booking["reference"].as_str(),
            Some(booked.reference.as_str())
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn backup_refuses_server_databases_and_a_missing_database() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cases = [
        ("postgres://skybook@127.0.0.1:1/skybook", "pg_dump"),
        ("mysql://skybook@127.0.0.1:1/skybook", "mariadb-dump"),
    ];
    for (url, tool) in cases {
        let mut command = skybook(dir.path(), &["backup", "--to", "x.db"]);
        command.env("SKYBOOK_DATABASE_URL", url);
        let output = run(command, None).await;
        assert_eq!(
            output.status.code(),
            Some(2),
            "{url}\n{}",
            describe(&output)
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(stderr.lines().count(), 1, "{url}: one line: {stderr:?}");
        assert!(stderr.contains(tool), "{url}: names {tool}: {stderr:?}");
        assert!(!dir.path().join("x.db").exists(), "{url}: no file made");
    }

    // No database yet: nothing to copy, and no empty database made by trying.
    let output = run(skybook(dir.path(), &["backup", "--to", "x.db"]), None).await;
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    assert!(!dir.path().join("x.db").exists(), "no backup file made");
    assert!(
        !dir.path().join("data/skybook.db").exists(),
        "no database made"
    );
}
