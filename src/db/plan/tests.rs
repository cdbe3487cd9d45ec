//! Plans on a real database: SQLite always; PostgreSQL and MySQL when
//! `SKYBOOK_TEST_POSTGRES_URL` / `SKYBOOK_TEST_MYSQL_URL` name an empty database to use.

use sea_orm::sea_query::{Alias, Expr, Query};
use sea_orm::ConnectionTrait;

use super::*;
use crate::config::{Secret, Settings};

/// The databases to test on, each with an empty `plan_t`. Tests share the servers' databases
/// and run at once, so they run one at a time here.
async fn databases(
    dir: &tempfile::TempDir,
) -> (tokio::sync::MutexGuard<'static, ()>, Vec<Database>) {
    databases_of_pool_size(dir, Settings::defaults().unwrap().database_max_connections).await
}

async fn databases_of_pool_size(
    dir: &tempfile::TempDir,
    max_connections: u32,
) -> (tokio::sync::MutexGuard<'static, ()>, Vec<Database>) {
    static SERVERS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let turn = SERVERS.lock().await;
    let mut urls = vec![format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("plan.db").display()
    )];
    for var in ["SKYBOOK_TEST_POSTGRES_URL", "SKYBOOK_TEST_MYSQL_URL"] {
        if let Ok(url) = std::env::var(var) {
            urls.push(url);
        }
    }
    let mut dbs = Vec::new();
    for url in urls {
        let mut settings = Settings::defaults().unwrap();
        settings.database_kind = crate::config::database_kind(&url).unwrap();
        settings.database_url = Secret::new(url);
        settings.database_max_connections = max_connections;
        let db = Database::connect(&settings).await.unwrap();
        let backend = db.writer.get_database_backend();
        for sql in [
            "DROP TABLE IF EXISTS plan_t",
            "CREATE TABLE plan_t (id INTEGER PRIMARY KEY, v INTEGER NOT NULL UNIQUE, name VARCHAR(50))",
        ] {
            db.writer
                .execute(Statement::from_string(backend, sql))
                .await
                .unwrap();
        }
        dbs.push(db);
    }
    (turn, dbs)
}

fn t() -> Alias {
    Alias::new("plan_t")
}

fn insert(id: i32, v: i32, name: &str) -> InsertStatement {
    Query::insert()
        .into_table(t())
        .columns([Alias::new("id"), Alias::new("v"), Alias::new("name")])
        .values_panic([id.into(), v.into(), name.into()])
        .to_owned()
}

fn count_where_v_at_least(v: i32) -> SelectStatement {
    Query::select()
        .expr(Expr::col(Alias::new("id")).count())
        .from(t())
        .and_where(Expr::col(Alias::new("v")).gte(v))
        .to_owned()
}

fn all_rows() -> SelectStatement {
    Query::select()
        .columns([Alias::new("id"), Alias::new("v"), Alias::new("name")])
        .from(t())
        .order_by(Alias::new("id"), sea_orm::Order::Asc)
        .to_owned()
}

#[derive(Debug, PartialEq, sea_orm::FromQueryResult)]
struct Row {
    id: i32,
    v: i32,
    name: Option<String>,
}

async fn rows(db: &Database) -> Vec<Row> {
    let read = WritePlan::new().read("all", all_rows());
    db.execute(read).await.unwrap().all("all").unwrap()
}

#[tokio::test]
async fn a_kept_plan_gives_its_counts_and_reads_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let (_turn, dbs) = databases(&dir).await;
    for db in dbs {
        let bump = Query::update()
            .table(t())
            .value(Alias::new("v"), Expr::col(Alias::new("v")).add(10))
            .and_where(Expr::col(Alias::new("v")).gte(2))
            .to_owned();
        // Quotes and backslashes go through the servers' inlined text unchanged.
        let tricky = r#"O'Brien \ "x"; DROP TABLE plan_t; --"#;
        let plan = WritePlan::new()
            .write("first", insert(1, 1, tricky), Expect::Is(1))
            .write("second", insert(2, 2, "b"), Expect::Is(1))
            .write("bumped", bump, Expect::Is(1))
            .count("big", count_where_v_at_least(10), Expect::SameAs("bumped"))
            .read("all", all_rows())
            .read(
                "none",
                all_rows()
                    .and_where(Expr::col(Alias::new("v")).eq(99))
                    .to_owned(),
            );
        let written = db.execute(plan).await.unwrap();
        assert_eq!(written.count("bumped"), 1, "{:?}", db.kind);
        assert_eq!(written.count("big"), 1);
        let all: Vec<Row> = written.all("all").unwrap();
        assert_eq!(
            all,
            vec![
                Row {
                    id: 1,
                    v: 1,
                    name: Some(tricky.into())
                },
                Row {
                    id: 2,
                    v: 12,
                    name: Some("b".into())
                },
            ],
            "{:?}",
            db.kind
        );
        assert!(written.all::<Row>("none").unwrap().is_empty());
        assert_eq!(rows(&db).await.len(), 2);
    }
}

/// A session's reads and its plan share one connection: with a pool of one, the plan could
/// not run on a second. The connection goes back once the plan ran.
#[tokio::test]
async fn a_session_reads_and_writes_on_one_connection_and_gives_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let (_turn, dbs) = databases_of_pool_size(&dir, 1).await;
    for db in dbs {
        let backend = db.reader.get_database_backend();
        let mut session = db.session();
        let before = session.query_all(backend.build(&all_rows())).await.unwrap();
        assert!(before.is_empty(), "{:?}", db.kind);
        assert!(session
            .query_one(backend.build(&all_rows()))
            .await
            .unwrap()
            .is_none());
        let plan = WritePlan::new()
            .write("row", insert(1, 1, "a"), Expect::Is(1))
            .read("all", all_rows());
        let written =
            tokio::time::timeout(std::time::Duration::from_secs(30), session.execute(plan))
                .await
                .expect("the plan waited for a second connection")
                .unwrap_or_else(|err| panic!("{:?}: {err}", db.kind));
        assert_eq!(written.all::<Row>("all").unwrap().len(), 1);
        // Back in the pool: a read without the session, then the session's next read.
        assert_eq!(rows(&db).await.len(), 1, "{:?}", db.kind);
        let row = session.query_one(backend.build(&all_rows())).await.unwrap();
        let row = Row::from_query_result(&row.expect("the row"), "").unwrap();
        assert_eq!(row.name.as_deref(), Some("a"));
        session.release();
        assert_eq!(rows(&db).await.len(), 1, "{:?}", db.kind);
    }
}

#[tokio::test]
async fn a_check_that_fails_is_named_and_nothing_stays() {
    let dir = tempfile::tempdir().unwrap();
    let (_turn, dbs) = databases(&dir).await;
    for db in dbs {
        let plan = WritePlan::new()
            .write("first", insert(1, 1, "a"), Expect::Is(1))
            .count("cap", count_where_v_at_least(0), Expect::Below(1))
            .write("later", insert(2, 2, "b"), Expect::Is(1));
        match db.execute(plan).await {
            Err(PlanError::Refused("cap")) => {}
            other => panic!("{:?}: {other:?}", db.kind),
        }
        assert!(rows(&db).await.is_empty(), "{:?}", db.kind);
    }
}

#[tokio::test]
async fn a_failed_statement_undoes_the_plan_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let (_turn, dbs) = databases(&dir).await;
    for db in dbs {
        db.execute(WritePlan::new().write("seed", insert(1, 1, "a"), Expect::Is(1)))
            .await
            .unwrap();
        let plan = WritePlan::new()
            .write("fresh", insert(2, 2, "b"), Expect::Is(1))
            .write("clash", insert(3, 1, "c"), Expect::Is(1));
        let failed = db.execute(plan).await.unwrap_err();
        assert!(failed.is_unique_violation(), "{:?}: {failed:?}", db.kind);
        assert_eq!(rows(&db).await.len(), 1, "{:?}", db.kind);
        // The connection is usable afterwards (no transaction left open on it).
        db.execute(WritePlan::new().write("after", insert(4, 4, "d"), Expect::Is(1)))
            .await
            .unwrap();
        assert_eq!(rows(&db).await.len(), 2, "{:?}", db.kind);
    }
}

async fn sqlite_in(dir: &tempfile::TempDir, sync: crate::config::SqliteSync) -> Database {
    let mut settings = Settings::defaults().unwrap();
    settings.database_url = Secret::new(format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("sync.db").display()
    ));
    settings.sqlite_sync = sync;
    let db = Database::connect(&settings).await.unwrap();
    let create =
        "CREATE TABLE plan_t (id INTEGER PRIMARY KEY, v INTEGER NOT NULL UNIQUE, name VARCHAR(50))";
    db.writer
        .execute(Statement::from_string(DbBackend::Sqlite, create))
        .await
        .unwrap();
    db
}

#[tokio::test]
async fn grouped_plans_return_after_a_flush_and_quiet_ones_without() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_in(&dir, crate::config::SqliteSync::Grouped).await;
    let before = db.durable_flushes();
    db.execute(WritePlan::new().write("loud", insert(1, 1, "a"), Expect::Is(1)))
        .await
        .unwrap();
    let after_loud = db.durable_flushes();
    assert!(after_loud > before, "a plan returned before any flush");
    db.execute(
        WritePlan::new()
            .write("quiet", insert(2, 2, "b"), Expect::Is(1))
            .quiet(),
    )
    .await
    .unwrap();
    assert_eq!(
        db.durable_flushes(),
        after_loud,
        "a quiet plan waited for a flush"
    );
}

#[tokio::test]
async fn full_sync_flushes_every_commit_in_sqlite_and_nothing_in_groups() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_in(&dir, crate::config::SqliteSync::Full).await;
    db.execute(WritePlan::new().write("loud", insert(1, 1, "a"), Expect::Is(1)))
        .await
        .unwrap();
    assert_eq!(db.durable_flushes(), 0);
    let synchronous = db
        .writer
        .query_one(Statement::from_string(
            DbBackend::Sqlite,
            "PRAGMA synchronous",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap();
    assert_eq!(synchronous, 2, "FULL is 2");
}

#[tokio::test]
async fn a_request_that_found_the_database_unreachable_runs_no_more_plans() {
    let dir = tempfile::tempdir().unwrap();
    let (_turn, dbs) = databases(&dir).await;
    let plan = || WritePlan::new().write("row", insert(1, 1, "a"), Expect::Is(1));
    for db in dbs {
        let given_up = crate::db::give_up::scope(async {
            crate::db::give_up::note_unreachable();
            db.execute(plan()).await
        })
        .await;
        assert!(matches!(given_up, Err(PlanError::GaveUp)), "{given_up:?}");
        // Nothing of it ran: the same plan, in a request that met no refusal, writes its row.
        let written = crate::db::give_up::scope(db.execute(plan())).await;
        assert_eq!(written.unwrap().count("row"), 1, "{:?}", db.kind);
    }
}

fn row_of_id(id: i32) -> SelectStatement {
    Query::select()
        .column(Alias::new("id"))
        .from(t())
        .and_where(Expr::col(Alias::new("id")).eq(id))
        .to_owned()
}

#[tokio::test]
async fn a_lock_step_queues_behind_a_write_to_its_row_where_rows_have_locks() {
    use sea_orm::TransactionTrait;
    let dir = tempfile::tempdir().unwrap();
    let (_turn, dbs) = databases(&dir).await;
    for db in dbs.into_iter().filter(|db| db.kind != DatabaseKind::Sqlite) {
        db.execute(WritePlan::new().write("row", insert(1, 1, "a"), Expect::Is(1)))
            .await
            .unwrap();
        // Another transaction writes the row and keeps its lock.
        let other = db.writer.begin().await.unwrap();
        let backend = db.writer.get_database_backend();
        other
            .execute(Statement::from_string(
                backend,
                "UPDATE plan_t SET name = 'other' WHERE id = 1",
            ))
            .await
            .unwrap();
        // The plan's other step touches another row: only its lock can make it wait.
        let plan = WritePlan::new().lock("row", row_of_id(1)).write(
            "another",
            insert(2, 2, "b"),
            Expect::Is(1),
        );
        let waiting = tokio::spawn({
            let db = db.clone();
            async move { db.execute(plan).await }
        });
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        assert!(
            !waiting.is_finished(),
            "{:?}: the lock did not wait",
            db.kind
        );
        other.commit().await.unwrap();
        let written = tokio::time::timeout(std::time::Duration::from_secs(30), waiting)
            .await
            .expect("the plan still waits once the lock is free")
            .unwrap()
            .unwrap();
        assert_eq!(written.count("another"), 1, "{:?}", db.kind);

        // A lock on a row that is not there refuses the plan, and nothing of it stays.
        let missing = WritePlan::new().lock("row", row_of_id(99)).write(
            "third",
            insert(3, 3, "c"),
            Expect::Is(1),
        );
        let refused = db.execute(missing).await;
        assert!(
            matches!(refused, Err(PlanError::Refused("row"))),
            "{:?}: {refused:?}",
            db.kind
        );
        assert_eq!(rows(&db).await.len(), 2, "{:?}", db.kind);
    }
}
