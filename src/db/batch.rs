//! Several statements of one SQLite transaction in one trip to the writer connection.
//!
//! sqlx runs each SQLite connection on a thread of its own, and every statement is a round
//! trip to that thread: on the write lane, those trips are what bounds the booking rate (see
//! `write_lane`). A batch sends its statements as one SQL text, which the connection's thread
//! runs in order; sqlx reports the end of each statement with the rows it changed, so the
//! caller learns every write's count without a query of its own. A statement that fails stops
//! the rest with its error.
//!
//! It suits the common case of a transaction whose statements all run whatever the earlier
//! ones found: the caller's check judges the counts afterwards, and the batch is kept or
//! undone (batches run in groups, see `batch_group`). Queries whose rows the caller needs
//! (what the transaction wrote, read back) run after every counted statement.

use futures_util::TryStreamExt;
use sea_orm::{DbBackend, DbErr, QueryResult, RuntimeErr, Statement, Value, Values};
use sea_query_binder::SqlxValues;
use sqlx::sqlite::{SqliteQueryResult, SqliteRow};
use sqlx::{Either, SqliteConnection};

#[derive(Default)]
pub struct Batch {
    sql: String,
    values: Vec<Value>,
    /// What each counted statement answers, in order.
    counted: Vec<Counted>,
    /// The queries of [`Batch::rows`], sent after the counted statements.
    rows_sql: String,
    rows_values: Vec<Value>,
    rows_queries: usize,
}

#[derive(Clone, Copy)]
enum Counted {
    /// The rows the statement changed.
    Changes,
    /// The one integer of the one row the query returns.
    Value,
}

/// What a batch answered: one count per counted statement, in order, then the rows of each of
/// its [`Batch::rows`] queries, in order.
#[derive(Debug)]
pub struct Answers {
    pub counts: Vec<i64>,
    pub rows: Vec<Vec<QueryResult>>,
}

impl Batch {
    pub fn new() -> Self {
        Self::default()
    }

    /// A write (no `RETURNING`); its entry is the number of rows it changed.
    pub fn write(self, statement: Statement) -> Self {
        self.push(statement, Counted::Changes)
    }

    /// A query that returns exactly one row holding one integer (a count, an id); its entry is
    /// that integer.
    pub fn count(self, statement: Statement) -> Self {
        self.push(statement, Counted::Value)
    }

    /// A query whose rows the caller reads; it runs after every counted statement, whenever it
    /// was added, and its rows are the next entry of [`Answers::rows`].
    pub fn rows(mut self, statement: Statement) -> Self {
        debug_assert_eq!(statement.db_backend, DbBackend::Sqlite);
        self.rows_sql.push_str(&statement.sql);
        self.rows_sql.push_str(";\n");
        if let Some(values) = statement.values {
            self.rows_values.extend(values.0);
        }
        self.rows_queries += 1;
        self
    }

    /// `sql` (statements without arguments and without rows, such as a savepoint's) runs
    /// before the batch's own statements, in the same trip.
    pub fn after(mut self, sql: &str) -> Self {
        self.sql.insert_str(0, sql);
        self
    }

    fn push(mut self, statement: Statement, counted: Counted) -> Self {
        debug_assert_eq!(statement.db_backend, DbBackend::Sqlite);
        self.sql.push_str(&statement.sql);
        self.sql.push_str(";\n");
        if let Some(values) = statement.values {
            self.values.extend(values.0);
        }
        self.counted.push(counted);
        self
    }

    /// Runs the statements in order on `conn` (SQLite's writer, taken from its pool by the
    /// group runner, see `batch_group`): the counted ones as added, then the `rows` queries.
    pub async fn run(mut self, conn: &mut SqliteConnection) -> Result<Answers, DbErr> {
        self.sql.push_str(&self.rows_sql);
        self.values.append(&mut self.rows_values);
        let query = sqlx::query_with(&self.sql, SqlxValues(Values(self.values)));
        let mut results = sqlx::Executor::fetch_many(conn, query);
        // Each statement's end, with the rows it returned; the statements of `after` come
        // first.
        let mut ended: Vec<(SqliteQueryResult, Vec<SqliteRow>)> = Vec::new();
        let mut rows = Vec::new();
        while let Some(result) = results.try_next().await.map_err(query_err)? {
            match result {
                Either::Right(row) => rows.push(row),
                Either::Left(done) => ended.push((done, std::mem::take(&mut rows))),
            }
        }
        let own = self.counted.len() + self.rows_queries;
        let Some(first) = ended.len().checked_sub(own) else {
            return Err(DbErr::Custom(format!(
                "a batch of {own} statements answered {}",
                ended.len()
            )));
        };
        let mut ends = ended.into_iter().skip(first);
        let mut counts = Vec::with_capacity(self.counted.len());
        for (counted, (done, mut rows)) in self.counted.iter().zip(ends.by_ref()) {
            counts.push(match counted {
                Counted::Changes => i64::try_from(done.rows_affected()).unwrap_or(i64::MAX),
                Counted::Value => match (rows.pop(), rows.is_empty()) {
                    (Some(row), true) => QueryResult::from(row).try_get_by_index(0)?,
                    _ => {
                        return Err(DbErr::Custom(
                            "a counted query did not answer exactly one row".into(),
                        ))
                    }
                },
            });
        }
        let rows = ends
            .map(|(_, rows)| rows.into_iter().map(QueryResult::from).collect())
            .collect();
        Ok(Answers { counts, rows })
    }
}

fn query_err(err: sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(err))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::SqlErr;
    use sqlx::{Connection, Executor};

    fn sql(text: &str, values: Vec<Value>) -> Statement {
        Statement::from_sql_and_values(DbBackend::Sqlite, text, values)
    }

    #[tokio::test]
    async fn every_statement_reports_its_own_count_and_arguments_go_in_order() {
        let mut conn = SqliteConnection::connect("sqlite::memory:").await.unwrap();
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)")
            .await
            .unwrap();
        let counts = Batch::new()
            .write(sql(
                "INSERT INTO t (v) VALUES (?), (?), (?)",
                vec![1.into(), 2.into(), 3.into()],
            ))
            .write(sql("UPDATE t SET v = v + 10 WHERE v >= ?", vec![2.into()]))
            .write(sql("UPDATE t SET v = 0 WHERE v = ?", vec![99.into()]))
            .count(sql("SELECT SUM(v) FROM t WHERE v > ?", vec![0.into()]))
            .run(&mut conn)
            .await
            .unwrap()
            .counts;
        assert_eq!(counts, vec![3, 2, 0, 1 + 12 + 13]);
    }

    #[tokio::test]
    async fn queried_rows_come_after_every_count_and_see_the_batch_s_writes() {
        let mut conn = SqliteConnection::connect("sqlite::memory:").await.unwrap();
        conn.execute(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER NOT NULL);
             CREATE TABLE u (id INTEGER PRIMARY KEY, name TEXT NOT NULL)",
        )
        .await
        .unwrap();
        // A query added first still runs last, so it reads what the later writes wrote.
        let answers = Batch::new()
            .rows(sql(
                "SELECT id, v FROM t WHERE v > ? ORDER BY id",
                vec![1.into()],
            ))
            .write(sql(
                "INSERT INTO t (v) VALUES (?), (?)",
                vec![1.into(), 5.into()],
            ))
            .rows(sql("SELECT name FROM u WHERE id = ?", vec![7.into()]))
            .write(sql(
                "INSERT INTO u (id, name) VALUES (?, ?)",
                vec![7.into(), "x".into()],
            ))
            .count(sql("SELECT COUNT(*) FROM t", vec![]))
            .run(&mut conn)
            .await
            .unwrap();
        assert_eq!(answers.counts, vec![2, 1, 2]);
        assert_eq!(answers.rows.len(), 2);
        assert_eq!(answers.rows[0].len(), 1);
        let (id, v): (i64, i64) = (
            answers.rows[0][0].try_get_by_index(0).unwrap(),
            answers.rows[0][0].try_get_by_index(1).unwrap(),
        );
        assert_eq!((id, v), (2, 5));
        assert_eq!(answers.rows[1].len(), 1);
        let name: String = answers.rows[1][0].try_get("", "name").unwrap();
        assert_eq!(name, "x");
    }

    #[tokio::test]
    async fn statements_before_the_batch_s_own_are_not_counted() {
        let mut conn = SqliteConnection::connect("sqlite::memory:").await.unwrap();
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)")
            .await
            .unwrap();
        let answers = Batch::new()
            .write(sql(
                "INSERT INTO t (v) VALUES (?), (?)",
                vec![1.into(), 2.into()],
            ))
            .rows(sql("SELECT v FROM t WHERE v > ?", vec![5.into()]))
            .after("BEGIN;\nSAVEPOINT s;\n")
            .run(&mut conn)
            .await
            .unwrap();
        assert_eq!(answers.counts, vec![2]);
        assert_eq!(answers.rows.len(), 1);
        assert!(
            answers.rows[0].is_empty(),
            "a read with no rows still has its entry"
        );
    }

    #[tokio::test]
    async fn a_counted_query_without_its_row_is_an_error() {
        let mut conn = SqliteConnection::connect("sqlite::memory:").await.unwrap();
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)")
            .await
            .unwrap();
        let answered = Batch::new()
            .count(sql("SELECT v FROM t WHERE v = ?", vec![1.into()]))
            .run(&mut conn)
            .await;
        assert!(answered.is_err());
    }

    #[tokio::test]
    async fn a_failing_statement_stops_the_batch_with_its_error() {
        let mut conn = SqliteConnection::connect("sqlite::memory:").await.unwrap();
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER UNIQUE)")
            .await
            .unwrap();
        let failed = Batch::new()
            .write(sql("INSERT INTO t (v) VALUES (?)", vec![1.into()]))
            .write(sql("INSERT INTO t (v) VALUES (?)", vec![1.into()]))
            .write(sql("INSERT INTO t (v) VALUES (?)", vec![2.into()]))
            .run(&mut conn)
            .await;
        assert!(matches!(
            failed.unwrap_err().sql_err(),
            Some(SqlErr::UniqueConstraintViolation(_))
        ));
        // The statement after the failing one never ran.
        let rows = conn.fetch_all("SELECT v FROM t WHERE v = 2").await.unwrap();
        assert!(rows.is_empty());
    }
}
