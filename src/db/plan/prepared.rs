//! PostgreSQL runs a plan's statements prepared: each statement is parsed and planned once
//! per connection (`PREPARE`), and a plan's message carries `EXECUTE name(values)` for each.
//!
//! A plan goes as one text-protocol message (several statements, no parameters), so sqlx's
//! own statement cache does not apply, and with the values written into the text the server
//! parsed and planned every statement of every plan. That was most of its work on these
//! flows: pgbench with the flow's statements ran 1.38 times as many flows prepared as in
//! simple mode (docs/bench-findings.md, round 12). The values still travel as literals in
//! the `EXECUTE`, escaped by sea-query's PostgreSQL builder, into parameters whose types
//! `PREPARE` names from the values' own.
//!
//! Which statements a connection has prepared is learnt from the server: a message that
//! names one it does not know fails with `26000` before anything of it is kept, and the plan
//! prepares what is missing and runs again (once per connection and statement).

use std::hash::{Hash, Hasher};

use sea_orm::sea_query::{PostgresQueryBuilder, QueryBuilder, Value, Values};
use sea_orm::{DbErr, RuntimeErr};

/// A statement of a plan as PostgreSQL's message carries it.
pub(super) struct PgStatement {
    name: String,
    /// The statement with `$n` placeholders and its parameters' types.
    prepare: String,
    /// `EXECUTE name(values)`.
    pub execute: String,
}

impl PgStatement {
    /// `sql` with `$n` placeholders for `values`.
    pub fn new(sql: &str, values: &Values) -> Self {
        let types: Vec<&str> = values.0.iter().map(pg_type).collect();
        let mut hasher = std::hash::DefaultHasher::new();
        (sql, &types).hash(&mut hasher);
        let name = format!("skybook_{:016x}", hasher.finish());
        let prepare = if types.is_empty() {
            format!("PREPARE {name} AS {sql}")
        } else {
            format!("PREPARE {name} ({}) AS {sql}", types.join(", "))
        };
        let execute = if values.0.is_empty() {
            format!("EXECUTE {name}")
        } else {
            let literals: Vec<String> = values
                .0
                .iter()
                .map(|value| PostgresQueryBuilder.value_to_string(value))
                .collect();
            format!("EXECUTE {name}({})", literals.join(", "))
        };
        PgStatement {
            name,
            prepare,
            execute,
        }
    }
}

/// Whether the message named a statement this connection has not prepared (`26000`,
/// invalid_sql_statement_name).
pub(super) fn is_missing(err: &DbErr) -> bool {
    matches!(
        err,
        DbErr::Query(RuntimeErr::SqlxError(sqlx::Error::Database(db)))
            if db.code().as_deref() == Some("26000")
    )
}

/// Prepares, on this connection, those of `statements` it has not prepared yet.
pub(super) async fn prepare_missing(
    conn: &mut sqlx::PgConnection,
    statements: &[PgStatement],
) -> Result<(), sqlx::Error> {
    let names: Vec<&str> = statements.iter().map(|s| s.name.as_str()).collect();
    let prepared: Vec<String> =
        sqlx::query_scalar("SELECT name FROM pg_prepared_statements WHERE name = ANY($1)")
            .bind(&names)
            .fetch_all(&mut *conn)
            .await?;
    let mut text = String::new();
    for statement in statements {
        if !prepared.contains(&statement.name) && !text.contains(&statement.name) {
            text.push_str(&statement.prepare);
            text.push_str(";\n");
        }
    }
    if !text.is_empty() {
        sqlx::Executor::execute(&mut *conn, text.as_str()).await?;
    }
    Ok(())
}

/// The PostgreSQL type a value is bound as (what sqlx would send for it); `unknown` leaves it
/// to the server to infer.
fn pg_type(value: &Value) -> &'static str {
    match value {
        Value::Bool(_) => "boolean",
        Value::TinyInt(_) | Value::SmallInt(_) | Value::TinyUnsigned(_) => "smallint",
        Value::Int(_) | Value::SmallUnsigned(_) => "integer",
        Value::BigInt(_) | Value::Unsigned(_) => "bigint",
        Value::Float(_) => "real",
        Value::Double(_) => "double precision",
        Value::String(_) | Value::Char(_) => "text",
        Value::Bytes(_) => "bytea",
        Value::Json(_) => "jsonb",
        Value::ChronoDate(_) => "date",
        Value::ChronoTime(_) => "time",
        Value::ChronoDateTime(_) => "timestamp",
        Value::ChronoDateTimeUtc(_)
        | Value::ChronoDateTimeLocal(_)
        | Value::ChronoDateTimeWithTimeZone(_) => "timestamptz",
        Value::Uuid(_) => "uuid",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_statement_is_named_by_its_text_and_types_and_executed_with_its_values() {
        let values = Values(vec![7i32.into(), "it's".into(), Value::Int(None)]);
        let statement = PgStatement::new("UPDATE t SET a = $2, b = $3 WHERE id = $1", &values);
        assert!(statement.prepare.starts_with(&format!(
            "PREPARE {} (integer, text, integer) AS UPDATE t",
            statement.name
        )));
        assert_eq!(
            statement.execute,
            format!("EXECUTE {}(7, E'it\\'s', NULL)", statement.name)
        );
        let same = PgStatement::new("UPDATE t SET a = $2, b = $3 WHERE id = $1", &values);
        assert_eq!(same.name, statement.name);
        let other_types = Values(vec![7i64.into(), "x".into(), Value::Int(None)]);
        let other = PgStatement::new("UPDATE t SET a = $2, b = $3 WHERE id = $1", &other_types);
        assert_ne!(other.name, statement.name);
    }
}
