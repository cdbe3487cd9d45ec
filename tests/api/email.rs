//! Booking emails through the outbox, delivered to a real SMTP server on loopback.

use skybook::db::plan::{Expect, WritePlan};
use std::time::Duration;

use serde_json::{json, Value};
use skybook::config::Secret;

use crate::helpers::{bookable_flight, spawn_app_with, status_and_json, TestApp};
use crate::smtp_sink::SmtpSink;

async fn eventually<F>(what: &str, mut check: F)
where
    F: FnMut() -> bool,
{
    for _ in 0..150 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for: {what}");
}

fn smtp(port: u16) -> impl FnOnce(&mut skybook::config::Settings) {
    move |s| {
        s.smtp_url = Secret::new(format!("smtp://127.0.0.1:{port}"));
        s.email_retry_seconds = 1;
    }
}

/// A signed-up customer (their email) with a fresh booking on a fresh flight.
async fn booking(app: &TestApp) -> (String, String, Value) {
    let catalog = app.catalog().await;
    let flight = bookable_flight(app, &catalog, "AI500").await;
    let email = crate::helpers::unique_email("mail");
    assert_eq!(
        app.sign_up(&email, crate::helpers::PASSWORD).await.status(),
        201
    );
    let token = crate::helpers::token_of(app.sign_in(&email, crate::helpers::PASSWORD).await).await;
    let (status, booking) = status_and_json(app.book(&token, flight, &["2A", "2B"]).await).await;
    assert_eq!(status, 201, "{booking}");
    (email, token, booking)
}

async fn outbox(app: &TestApp, admin: &str, status: &str) -> Value {
    let (code, page) = status_and_json(
        app.get(
            &format!("/api/v1/admin/notifications?status={status}"),
            Some(admin),
        )
        .await,
    )
    .await;
    assert_eq!(code, 200, "{page}");
    page
}

#[tokio::test]
async fn paying_sends_one_confirmation_email_to_the_owner() {
    let sink = SmtpSink::start().await;
    let app = spawn_app_with(smtp(sink.port)).await;
    let (email, token, booking) = booking(&app).await;
    assert_eq!(
        app.pay(&token, &booking, "k", "pm_card_ok").await.status(),
        201
    );
    eventually("the confirmation arrives", || !sink.messages().is_empty()).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let messages = sink.messages();
    assert_eq!(messages.len(), 1, "exactly one email");
    let message = &messages[0];
    assert_eq!(message.to, [format!("<{email}>")]);
    let reference = booking["reference"].as_str().expect("reference");
    assert!(
        message
            .data
            .contains(&format!("Subject: Booking {reference} confirmed")),
        "{}",
        message.data
    );
    assert!(
        message.data.contains("INR 2,000.00"),
        "the total in major units"
    );
    assert!(message.data.contains("text/html") && message.data.contains("text/plain"));
}

/// The email worker keeps polling at its own pace through a quiet spell. apalis-postgres's
/// fetcher doubled its wait after each empty fetch (1 s, 2 s, ... up to 5 min): after 35 s
/// without email it was in a 32 s wait, and this email took ~28 s.
#[tokio::test]
async fn an_email_after_a_quiet_spell_goes_out_within_seconds() {
    let sink = SmtpSink::start().await;
    let app = spawn_app_with(smtp(sink.port)).await;
    let (_, token, booking) = booking(&app).await;
    tokio::time::sleep(Duration::from_secs(35)).await;
    assert!(sink.messages().is_empty(), "nothing was sent while quiet");
    assert_eq!(
        app.pay(&token, &booking, "k", "pm_card_ok").await.status(),
        201
    );
    let paid = std::time::Instant::now();
    for _ in 0..200 {
        if !sink.messages().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let waited = paid.elapsed();
    assert!(!sink.messages().is_empty(), "no email after {waited:?}");
    // The relay runs each second and the worker polls at least every 2 s; 10 s is the margin
    // for a loaded machine, well under the old wait.
    assert!(
        waited < Duration::from_secs(10),
        "the confirmation took {waited:?}"
    );
}

#[tokio::test]
async fn cancelling_and_expiring_send_their_emails() {
    let sink = SmtpSink::start().await;
    let app = spawn_app_with(|s| {
        smtp(sink.port)(s);
        // Times are kept to whole seconds, so a 1 s hold may lapse at once; 3 s leaves the
        // cancel below at least 2 s.
        s.hold_ttl_seconds = 3;
        s.sweep_interval_seconds = 1;
    })
    .await;
    let (_, token, expiring) = booking(&app).await;
    let (status, cancelled) = status_and_json(
        app.book(&token, expiring["flight_id"].as_i64().expect("id"), &["3A"])
            .await,
    )
    .await;
    assert_eq!(status, 201);
    app.post(
        &format!("/api/v1/bookings/{}/cancel", cancelled["id"]),
        Some(&token),
        &json!({}),
    )
    .await;
    eventually("both emails arrive", || sink.messages().len() >= 2).await;
    let subjects: Vec<String> = sink
        .messages()
        .iter()
        .filter_map(|m| {
            m.data
                .lines()
                .find(|l| l.starts_with("Subject:"))
                .map(String::from)
        })
        .collect();
    let expected_cancel = format!(
        "Subject: Booking {} cancelled",
        cancelled["reference"].as_str().expect("ref")
    );
    let expected_expiry = format!(
        "Subject: Booking {} expired",
        expiring["reference"].as_str().expect("ref")
    );
    assert!(subjects.contains(&expected_cancel), "{subjects:?}");
    assert!(subjects.contains(&expected_expiry), "{subjects:?}");
}

#[tokio::test]
async fn an_email_waits_out_an_smtp_outage_and_arrives_once() {
    // A port with nothing listening: the server is down.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port();
    let app = spawn_app_with(smtp(port)).await;
    let admin = app.admin_token().await;
    let (_, token, booking) = booking(&app).await;
    let started = std::time::Instant::now();
    assert_eq!(
        app.pay(&token, &booking, "k", "pm_card_ok").await.status(),
        201
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the booking never waits on SMTP"
    );
    for _ in 0..100 {
        let pending = outbox(&app, &admin, "pending").await;
        if pending["data"][0]["attempts"].as_i64().unwrap_or(0) >= 1 {
            assert!(pending["data"][0]["last_error"].is_string());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let sink = SmtpSink::start_on(port).await;
    eventually("the email arrives once the server is up", || {
        !sink.messages().is_empty()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(sink.messages().len(), 1);
    assert_eq!(outbox(&app, &admin, "sent").await["total"], 1);
}

#[tokio::test]
async fn a_temporary_refusal_is_retried_and_the_email_sent_once() {
    let sink = SmtpSink::start().await;
    sink.refuse_next(1);
    let app = spawn_app_with(smtp(sink.port)).await;
    let admin = app.admin_token().await;
    let (_, token, booking) = booking(&app).await;
    assert_eq!(
        app.pay(&token, &booking, "k", "pm_card_ok").await.status(),
        201
    );
    eventually("the retried email arrives", || !sink.messages().is_empty()).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(sink.messages().len(), 1);
    let sent = outbox(&app, &admin, "sent").await;
    assert_eq!(sent["data"][0]["attempts"], 2, "{sent}");
}

#[tokio::test]
async fn an_email_that_keeps_failing_is_kept_as_failed_and_an_admin_can_retry_it() {
    let sink = SmtpSink::start().await;
    sink.refuse_next(2);
    let app = spawn_app_with(|s| {
        smtp(sink.port)(s);
        s.email_max_attempts = 2;
    })
    .await;
    let admin = app.admin_token().await;
    let (_, token, booking) = booking(&app).await;
    assert_eq!(
        app.pay(&token, &booking, "k", "pm_card_ok").await.status(),
        201
    );
    let mut failed = Value::Null;
    for _ in 0..100 {
        failed = outbox(&app, &admin, "failed").await;
        if failed["total"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(failed["total"], 1, "{failed}");
    assert_eq!(failed["data"][0]["attempts"], 2);
    assert!(
        failed["data"][0]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("451")),
        "{failed}"
    );
    assert!(sink.messages().is_empty());
    let id = failed["data"][0]["id"].as_i64().expect("id");

    let customer = app.customer_token().await;
    let path = format!("/api/v1/admin/notifications/{id}/retry");
    assert_eq!(
        app.post(&path, Some(&customer), &json!({})).await.status(),
        403
    );
    let (status, retried) = status_and_json(app.post(&path, Some(&admin), &json!({})).await).await;
    assert_eq!(
        (status.as_u16(), retried["status"].as_str()),
        (200, Some("pending")),
        "{retried}"
    );
    eventually("the retried email arrives", || !sink.messages().is_empty()).await;
    assert_eq!(sink.messages().len(), 1);
    crate::helpers::assert_problem(
        app.post(&path, Some(&admin), &json!({})).await,
        409,
        "conflict",
    )
    .await;
    crate::helpers::assert_problem(
        app.get("/api/v1/admin/notifications?status=lost", Some(&admin))
            .await,
        422,
        "validation_failed",
    )
    .await;
}

#[tokio::test]
async fn an_email_committed_by_a_process_that_died_is_sent_after_restart() {
    let sink = SmtpSink::start().await;
    // The first process commits the confirmation but never sends (it "died").
    let first = spawn_app_with(|s| {
        smtp(sink.port)(s);
        s.faults.email_worker_off = true;
    })
    .await;
    let (_, token, booking) = booking(&first).await;
    assert_eq!(
        first
            .pay(&token, &booking, "k", "pm_card_ok")
            .await
            .status(),
        201
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        sink.messages().is_empty(),
        "nothing sent by the dead process"
    );
    // The restarted process works off the outbox it finds.
    let url = first.database_url.clone();
    let _second = spawn_app_with(move |s| {
        smtp(sink.port)(s);
        s.database_url = Secret::new(url);
    })
    .await;
    eventually("the email arrives after the restart", || {
        !sink.messages().is_empty()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(sink.messages().len(), 1);
}

#[tokio::test]
async fn two_instances_on_one_database_send_each_email_once() {
    let sink = SmtpSink::start().await;
    let first = spawn_app_with(smtp(sink.port)).await;
    let url = first.database_url.clone();
    let second_sink = sink.clone();
    let _second = spawn_app_with(move |s| {
        smtp(second_sink.port)(s);
        s.database_url = Secret::new(url);
    })
    .await;
    let catalog = first.catalog().await;
    let flight = bookable_flight(&first, &catalog, "AI501").await;
    let token = first.customer_token().await;
    for seat in ["2A", "2B", "2C"] {
        let (_, booking) = status_and_json(first.book(&token, flight, &[seat]).await).await;
        first
            .post(
                &format!("/api/v1/bookings/{}/cancel", booking["id"]),
                Some(&token),
                &json!({}),
            )
            .await;
    }
    eventually("three cancellation emails", || sink.messages().len() >= 3).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        sink.messages().len(),
        3,
        "each email once, whichever instance sent it"
    );
}

#[tokio::test]
async fn without_smtp_emails_are_written_as_eml_files() {
    let app = spawn_app_with(|s| s.email_retry_seconds = 1).await;
    let (_, token, booking) = booking(&app).await;
    assert_eq!(
        app.pay(&token, &booking, "k", "pm_card_ok").await.status(),
        201
    );
    let dir = app.data_dir().join("outbox");
    let mut files = Vec::new();
    for _ in 0..100 {
        files = std::fs::read_dir(&dir)
            .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        if !files.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(files.len(), 1, "{files:?}");
    let eml = std::fs::read_to_string(&files[0]).expect("readable");
    assert!(eml.contains(&format!(
        "Booking {} confirmed",
        booking["reference"].as_str().expect("ref")
    )));
}

#[tokio::test]
async fn finished_email_jobs_are_cleaned_only_after_their_retention() {
    let sink = SmtpSink::start().await;
    let app = spawn_app_with(smtp(sink.port)).await;
    let (_, token, booking) = booking(&app).await;
    assert_eq!(
        app.pay(&token, &booking, "k", "pm_card_ok").await.status(),
        201
    );
    eventually("the email is sent", || !sink.messages().is_empty()).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    // The job that sent it is finished but young: it stays (and the query runs on this backend).
    let deleted = skybook::jobs::queue::delete_finished(&app.db)
        .await
        .expect("cleanup runs");
    assert_eq!(deleted, 0);
}

#[tokio::test]
async fn one_relay_pass_queues_every_due_email_not_just_one_batch() {
    use skybook::jobs::delivery::{Delivery, EMAILS_PER_JOB};
    use skybook::jobs::queue::EmailQueue;
    use skybook::services::notify::{mailer::Mailer, outbox};
    // No background relay: this test is the only one moving emails.
    let app = spawn_app_with(|s| s.faults.email_worker_off = true).await;
    let (_, _, booking) = booking(&app).await;
    let booking_id = i32::try_from(booking["id"].as_i64().expect("id")).expect("small id");
    const DUE: usize = 250;
    let now = skybook::clock::now();
    for _ in 0..DUE {
        let email = outbox::enqueue_insert(booking_id, outbox::CANCELLED, 8, now).expect("email");
        app.db
            .execute(WritePlan::new().write("email", email, Expect::Is(1)))
            .await
            .expect("enqueue");
    }
    let delivery = Delivery {
        db: app.db.clone(),
        tera: std::sync::Arc::new(tera::Tera::default()),
        mailer: Mailer::new("", app.data_dir()).expect("mailer"),
        from: "skybook@example.com".parse().expect("address"),
        public_url: app.address.clone(),
        retry_seconds: 1,
        reset_key: skybook::services::identity::ResetKey::derive(
            b"a test secret of thirty-two bytes!",
        )
        .expect("key"),
        outcomes: skybook::metrics::Outcomes::unobserved(),
    };
    let queue = EmailQueue::new(&app.db);
    // Under sustained booking, a relay that moved one batch per tick fell minutes behind.
    assert_eq!(delivery.relay(&queue).await.expect("relay"), DUE);
    // Several emails per job: the queue's own writes are per job, not per email.
    assert_eq!(email_jobs(&app).await, (DUE / EMAILS_PER_JOB) as i64);
    assert_eq!(
        delivery.relay(&queue).await.expect("relay"),
        0,
        "each email is queued once"
    );
}

/// How many jobs apalis's table holds for the email queue.
async fn email_jobs(app: &TestApp) -> i64 {
    use sea_orm::{ConnectionTrait, Statement};
    use skybook::config::DatabaseKind;
    use skybook::jobs::queue::EMAIL_QUEUE;
    let table = match app.db.kind {
        DatabaseKind::Sqlite => "Jobs",
        DatabaseKind::Postgres => "apalis.jobs",
        DatabaseKind::MySql => "jobs",
    };
    let backend = app.db.writer.get_database_backend();
    let row = app
        .db
        .writer
        .query_one(Statement::from_string(
            backend,
            format!("SELECT COUNT(*) FROM {table} WHERE job_type = '{EMAIL_QUEUE}'"),
        ))
        .await
        .expect("count jobs")
        .expect("one row");
    row.try_get_by_index(0).expect("a count")
}

#[tokio::test]
async fn a_job_sends_the_emails_it_still_holds_once_and_a_rerun_sends_none() {
    use skybook::jobs::delivery::{Delivery, Outcome};
    use skybook::jobs::queue::EmailJob;
    use skybook::services::notify::{mailer::Mailer, outbox};
    // No background relay or worker: this test moves the emails itself.
    let app = spawn_app_with(|s| s.faults.email_worker_off = true).await;
    let (_, _, booking) = booking(&app).await;
    let booking_id = i32::try_from(booking["id"].as_i64().expect("id")).expect("small id");
    let now = skybook::clock::now();
    for _ in 0..3 {
        let email = outbox::enqueue_insert(booking_id, outbox::CANCELLED, 8, now).expect("email");
        app.db
            .execute(WritePlan::new().write("email", email, Expect::Is(1)))
            .await
            .expect("enqueue");
    }
    let delivery = Delivery {
        db: app.db.clone(),
        tera: std::sync::Arc::new(skybook::views::templates::load().expect("templates")),
        mailer: Mailer::new("", app.data_dir()).expect("mailer"),
        from: "skybook@example.com".parse().expect("address"),
        public_url: app.address.clone(),
        retry_seconds: 1,
        reset_key: skybook::services::identity::ResetKey::derive(
            b"a test secret of thirty-two bytes!",
        )
        .expect("key"),
        outcomes: skybook::metrics::Outcomes::unobserved(),
    };
    let (claimed, lease) = outbox::claim_due(&app.db, now, 100).await.expect("claim");
    let mut ids: Vec<i32> = claimed.iter().map(|email| email.id).collect();
    assert_eq!(ids.len(), 3);
    // An email another job holds now (its lease moved on) is not this job's to send.
    let moved_on = ids[1];
    let taken = outbox::take(
        &app.db,
        &[moved_on],
        lease,
        now + chrono::Duration::seconds(1),
    )
    .await
    .expect("take");
    assert_eq!(taken.len(), 1, "taken by the other job");
    // And an id no outbox row has.
    ids.push(i32::MAX);
    let job = EmailJob {
        email_ids: ids.clone(),
        lease,
    };
    let outcomes = delivery.run(&job).await.expect("job runs");
    assert_eq!(
        outcomes,
        vec![Outcome::Sent, Outcome::Stale, Outcome::Sent, Outcome::Stale]
    );
    // The same job again (a redelivery): everything it held is sent already.
    let again = delivery.run(&job).await.expect("job runs");
    assert_eq!(again, vec![Outcome::Stale; 4]);
    let written = std::fs::read_dir(app.data_dir().join("outbox"))
        .expect("outbox directory")
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name().to_string_lossy().ends_with(".eml"))
        .count();
    assert_eq!(written, 2, "each email it held written once, no other");
}

fn message_id_of(data: &str) -> String {
    data.lines()
        .find(|l| l.to_ascii_lowercase().starts_with("message-id:"))
        .map(|l| l["message-id:".len()..].trim().to_string())
        .unwrap_or_else(|| panic!("no Message-ID:\n{data}"))
}

#[tokio::test]
async fn message_ids_are_unique_across_deployments_and_on_the_sender_s_domain() {
    // Two deployments, each with its own database: the same booking and email ids.
    let mut ids = Vec::new();
    for _ in 0..2 {
        let sink = SmtpSink::start().await;
        let app = spawn_app_with(smtp(sink.port)).await;
        let (_, token, booking) = booking(&app).await;
        assert_eq!(
            app.pay(&token, &booking, "k", "pm_card_ok").await.status(),
            201
        );
        eventually("the confirmation arrives", || !sink.messages().is_empty()).await;
        ids.push(message_id_of(&sink.messages()[0].data));
    }
    assert_ne!(
        ids[0], ids[1],
        "mail services drop a Message-ID they have seen"
    );
    for id in &ids {
        assert!(
            id.starts_with('<') && id.ends_with("@skybook.local>"),
            "{id}"
        );
    }
}
