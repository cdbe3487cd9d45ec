//! The database, the JWT secret and the email outbox are the owner's only (API.md §9): real
//! files made by the application's start and by its email worker.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use skybook::config::{DatabaseKind, Secret};

use crate::helpers::{backend, bookable_flight, spawn_app_with, status_and_json};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test]
async fn data_files_and_folders_have_no_group_or_other_bits() {
    let app = spawn_app_with(|s| {
        // A `data/` that does not exist yet, so the application creates it.
        let data = s.data_dir.join("data");
        if backend() == DatabaseKind::Sqlite {
            s.database_url = Secret::new(format!(
                "sqlite://{}?mode=rwc",
                data.join("skybook.db").display()
            ));
        }
        s.data_dir = data;
        // Generated on first start and kept in data/jwt.secret.
        s.jwt_secret = Secret::new("");
        s.email_retry_seconds = 1;
    })
    .await;
    let data = app.data_dir().join("data");
    assert_eq!(mode(&data), 0o700, "data/");
    assert_eq!(mode(&data.join("jwt.secret")), 0o600, "jwt.secret");
    if backend() == DatabaseKind::Sqlite {
        for file in ["skybook.db", "skybook.db-wal", "skybook.db-shm"] {
            assert_eq!(mode(&data.join(file)), 0o600, "{file}");
        }
    }

    // An email written to the outbox: a paid booking's confirmation.
    let catalog = app.catalog().await;
    let flight = bookable_flight(&app, &catalog, "SB700").await;
    let token = app.customer_token().await;
    let (status, booking) = status_and_json(app.book(&token, flight, &["2A"]).await).await;
    assert_eq!(status, 201, "{booking}");
    assert_eq!(
        app.pay(&token, &booking, "k1", "pm_card_ok").await.status(),
        201
    );
    let outbox = data.join("outbox");
    let mut emails = Vec::new();
    for _ in 0..100 {
        emails = std::fs::read_dir(&outbox)
            .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        emails.retain(|p| p.extension().is_some_and(|e| e == "eml"));
        if !emails.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(emails.len(), 1, "{emails:?}");
    assert_eq!(mode(&outbox), 0o700, "data/outbox/");
    assert_eq!(mode(&emails[0]), 0o600, "{}", emails[0].display());
}
