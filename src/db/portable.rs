//! Expressions that each backend writes its own way, for statements the services build.

use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::DbBackend;

/// A timestamp column as a read should carry it. SQLite keeps timestamps as text, which sqlx
/// parses by trying three formats in turn (each re-reading its format string: ~4 % of a
/// 20-result search's samples); as whole seconds since the epoch it decodes with no parsing
/// (stored times are whole seconds everywhere). The servers' own types decode directly.
pub fn timestamp_for_read(backend: DbBackend, column: impl Into<SimpleExpr>) -> SimpleExpr {
    let column = column.into();
    match backend {
        // `?` is where sea-query puts the expression on SQLite (`$1` is only PostgreSQL's).
        DbBackend::Sqlite => Expr::cust_with_expr("CAST(strftime('%s', ?) AS INTEGER)", column),
        DbBackend::Postgres | DbBackend::MySql => column,
    }
}
