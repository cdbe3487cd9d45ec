//! On SQLite, commits reach the disk in group flushes (`skybook::db::wal_sync`): an answer to
//! a write leaves only after one, and reads never wait for one. The servers are durable at
//! COMMIT and flush nothing.

use skybook::config::DatabaseKind;

use crate::helpers::{backend, spawn_app, unique_email, PASSWORD};

#[tokio::test]
async fn the_answer_to_a_write_leaves_after_a_flush_and_reads_wait_for_none() {
    let app = spawn_app().await;
    let before = app.db.durable_flushes();
    let response = app.sign_up(&unique_email("durable"), PASSWORD).await;
    assert_eq!(response.status(), 201);
    let after_write = app.db.durable_flushes();

    for _ in 0..5 {
        assert_eq!(
            app.get("/api/v1/flights?per_page=5", None).await.status(),
            200
        );
    }
    let after_reads = app.db.durable_flushes();

    if backend() == DatabaseKind::Sqlite {
        assert!(
            after_write > before,
            "the sign-up was answered before any flush ({before} -> {after_write})"
        );
        assert_eq!(after_reads, after_write, "reads flushed");
    } else {
        assert_eq!((before, after_write, after_reads), (0, 0, 0));
    }
}
