//! A request's reads and the write plan that follows them, on one connection.
//!
//! On PostgreSQL and MySQL every checkout of a pooled connection costs one more round trip
//! when it goes back: sqlx 0.8 pings each connection the pool takes back. A booking reads its
//! caller, then the flight and its seats, then writes; as three checkouts that was three
//! pings. A [`Session`] takes one connection at its first read and keeps it for the reads
//! after it and for its first plan; the plan gives it back to the pool, so nothing that
//! waits outside the database afterwards (a payment provider) holds it.
//!
//! While a session holds a connection, its task takes no other one from the pool: every read
//! in between goes through the session. (Many requests each holding one connection and
//! waiting for a second could take the whole pool and wait on each other.) Nothing slow but
//! the database may happen in between either: no network, no body to read, no hashing.
//!
//! On SQLite a session holds nothing: its reads go to the reader pool and its plans to the
//! writer, as without it.

use sea_orm::{ConnectionTrait, DbErr, QueryResult, Statement};
use sea_query_binder::SqlxValues;
use sqlx::pool::PoolConnection;

use super::plan::{PlanError, WritePlan, Written};
use super::{connection_error, query_error, Database};
use crate::config::DatabaseKind;

/// A pooled server connection a session holds.
pub(crate) enum Held {
    Postgres(PoolConnection<sqlx::Postgres>),
    MySql(PoolConnection<sqlx::MySql>),
}

/// Reads, then a write plan, on one connection (see the module's docs).
pub struct Session<'a> {
    db: &'a Database,
    held: Option<Held>,
}

impl Database {
    /// A session on this database; it takes a connection at its first read.
    pub fn session(&self) -> Session<'_> {
        Session {
            db: self,
            held: None,
        }
    }
}

impl<'a> Session<'a> {
    pub fn database(&self) -> &'a Database {
        self.db
    }

    /// Gives the held connection back to the pool, before work that reads without the
    /// session or waits on something else.
    pub fn release(&mut self) {
        self.held = None;
    }

    /// Every row `statement` gives.
    pub async fn query_all(&mut self, statement: Statement) -> Result<Vec<QueryResult>, DbErr> {
        if self.db.kind == DatabaseKind::Sqlite {
            return self.db.reader.query_all(statement).await;
        }
        let values = SqlxValues(statement.values.unwrap_or(sea_orm::Values(Vec::new())));
        // The same on either server; a macro, because sqlx's connections are concrete types.
        macro_rules! rows_on {
            ($conn:expr) => {
                sqlx::query_with(&statement.sql, values)
                    .fetch_all(&mut **$conn)
                    .await
                    .map_err(query_error)?
                    .into_iter()
                    .map(QueryResult::from)
                    .collect()
            };
        }
        let rows: Vec<QueryResult> = match self.held().await? {
            Held::Postgres(conn) => rows_on!(conn),
            Held::MySql(conn) => rows_on!(conn),
        };
        Ok(rows)
    }

    /// The first row `statement` gives, if any.
    pub async fn query_one(&mut self, statement: Statement) -> Result<Option<QueryResult>, DbErr> {
        Ok(self.query_all(statement).await?.into_iter().next())
    }

    /// Runs `plan` as [`Database::execute`] does, on the session's connection when it holds
    /// one, which then goes back to the pool.
    pub async fn execute(&mut self, plan: WritePlan) -> Result<Written, PlanError> {
        let held = self.held.take();
        self.db.execute_on(held, plan).await
    }

    /// The session's connection on a server, taken from the pool at its first use.
    async fn held(&mut self) -> Result<&mut Held, DbErr> {
        let held = match (self.held.take(), self.db.kind) {
            (Some(held), _) => held,
            (None, DatabaseKind::Postgres) => Held::Postgres(
                self.db
                    .writer
                    .get_postgres_connection_pool()
                    .acquire()
                    .await
                    .map_err(connection_error)?,
            ),
            (None, DatabaseKind::MySql) => Held::MySql(
                self.db
                    .writer
                    .get_mysql_connection_pool()
                    .acquire()
                    .await
                    .map_err(connection_error)?,
            ),
            (None, DatabaseKind::Sqlite) => {
                return Err(DbErr::Custom(
                    "an SQLite session holds no connection; its reads go to the readers".into(),
                ))
            }
        };
        Ok(self.held.insert(held))
    }
}
