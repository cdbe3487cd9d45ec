//! Role changes keep at least one admin (409 `last_admin`), also under concurrent demotions.

use serde_json::{json, Value};

use crate::helpers::{
    assert_problem, backend, spawn_app, spawn_app_with, status_and_json, TestApp,
};

async fn my_id(app: &TestApp, token: &str) -> i64 {
    let (_, me) = status_and_json(app.get("/api/v1/me", Some(token)).await).await;
    me["id"].as_i64().expect("id")
}

async fn set_role(app: &TestApp, token: &str, id: i64, role: &str) -> reqwest::Response {
    app.send_json(
        "PUT",
        &format!("/api/v1/admin/users/{id}/role"),
        Some(token),
        &json!({"role": role}),
    )
    .await
}

async fn admins(app: &TestApp) -> u64 {
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    use skybook::models::identity::user;
    user::Entity::find()
        .filter(user::Column::Role.eq("admin"))
        .count(&app.db.writer)
        .await
        .expect("count")
}

#[tokio::test]
async fn the_last_admin_cannot_demote_itself_but_can_once_another_admin_exists() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let admin_id = my_id(&app, &admin).await;

    let problem = assert_problem(
        set_role(&app, &admin, admin_id, "customer").await,
        409,
        "last_admin",
    )
    .await;
    assert!(problem["detail"].as_str().is_some_and(|d| !d.is_empty()));
    assert_eq!(admins(&app).await, 1);
    // Setting the admin's role to admin again is no demotion.
    assert_eq!(
        set_role(&app, &admin, admin_id, "admin").await.status(),
        200
    );

    let customer = app.customer_token().await;
    let customer_id = my_id(&app, &customer).await;
    assert_eq!(
        set_role(&app, &admin, customer_id, "admin").await.status(),
        200
    );
    let (status, body): (_, Value) =
        status_and_json(set_role(&app, &admin, admin_id, "customer").await).await;
    assert_eq!(
        (status.as_u16(), body["role"].as_str()),
        (200, Some("customer")),
        "{body}"
    );
    assert_eq!(admins(&app).await, 1);
    // Now the promoted one is the last.
    assert_problem(
        set_role(&app, &customer, customer_id, "customer").await,
        409,
        "last_admin",
    )
    .await;
}

#[tokio::test]
async fn two_admins_demoting_each_other_at_once_leave_exactly_one_admin() {
    let app = spawn_app().await;
    for round in 0..6 {
        // Each round starts from exactly two admins.
        let a = app.admin_token().await;
        let b = app.admin_token().await;
        let (a_id, b_id) = (my_id(&app, &a).await, my_id(&app, &b).await);
        let leftover: Vec<i64> = other_admins(&app, &[a_id, b_id]).await;
        for id in leftover {
            assert_eq!(set_role(&app, &a, id, "customer").await.status(), 200);
        }
        assert_eq!(
            admins(&app).await,
            2,
            "round {round} starts with two admins"
        );

        let (one, two) = tokio::join!(
            set_role(&app, &a, b_id, "customer"),
            set_role(&app, &b, a_id, "customer"),
        );
        let mut statuses = [one.status().as_u16(), two.status().as_u16()];
        statuses.sort_unstable();
        // The loser is refused either because it lost its own admin right first (403) or
        // because its target had become the last admin (409): never both demoted.
        assert!(
            statuses == [200, 403] || statuses == [200, 409],
            "round {round}: {statuses:?}"
        );
        assert_eq!(admins(&app).await, 1, "round {round}");
    }
}

/// Two admins, each demoting itself at the same moment; the statuses, sorted, and the admins
/// left.
async fn race_self_demotions(app: &TestApp) -> ([u16; 2], u64) {
    let a = app.admin_token().await;
    let b = app.admin_token().await;
    let (a_id, b_id) = (my_id(app, &a).await, my_id(app, &b).await);
    for id in other_admins(app, &[a_id, b_id]).await {
        assert_eq!(set_role(app, &a, id, "customer").await.status(), 200);
    }
    assert_eq!(admins(app).await, 2, "the race starts with two admins");
    let (one, two) = tokio::join!(
        set_role(app, &a, a_id, "customer"),
        set_role(app, &b, b_id, "customer"),
    );
    let mut statuses = [one.status().as_u16(), two.status().as_u16()];
    statuses.sort_unstable();
    (statuses, admins(app).await)
}

#[tokio::test]
async fn without_the_admin_rows_lock_concurrent_demotions_can_leave_no_admin() {
    // The negative control of the test below: it can see the race it guards against. SQLite
    // runs every write transaction of the process on one connection, one after the other,
    // so there the race cannot happen even without the lock.
    if backend() == skybook::config::DatabaseKind::Sqlite {
        return;
    }
    let app = spawn_app_with(|s| {
        s.faults.unchecked = Some(skybook::services::identity::LAST_ADMIN_LOCK);
    })
    .await;
    let mut seen = false;
    for _ in 0..20 {
        let (statuses, left) = race_self_demotions(&app).await;
        if statuses == [200, 200] {
            assert_eq!(left, 0, "both demotions went through");
            seen = true;
            break;
        }
    }
    assert!(seen, "no round lost its last admin without the lock");
}

#[tokio::test]
async fn concurrent_self_demotions_of_the_two_last_admins_leave_exactly_one() {
    // Here neither request can lose its caller's rights before it runs: each demotes itself.
    let app = spawn_app().await;
    for round in 0..6 {
        let (statuses, left) = race_self_demotions(&app).await;
        assert_eq!(statuses, [200, 409], "round {round}");
        assert_eq!(left, 1, "round {round}");
    }
}

async fn other_admins(app: &TestApp, except: &[i64]) -> Vec<i64> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    use skybook::models::identity::user;
    user::Entity::find()
        .filter(user::Column::Role.eq("admin"))
        .all(&app.db.writer)
        .await
        .expect("admins")
        .into_iter()
        .map(|u| i64::from(u.id))
        .filter(|id| !except.contains(id))
        .collect()
}
