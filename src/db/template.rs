//! SQL text built once per statement shape. sea-query builds a statement's SQL and its values
//! together, from an expression tree made for each request: for a 20-result search that was a
//! sixth of the server's CPU, and for a flight read most of what the request allocated (~15 KB
//! of tree). A template is built once with a sentinel value for each argument; a request then
//! only supplies its arguments, which go where the sentinels went.

use std::sync::OnceLock;

use sea_orm::{DbBackend, Statement, StatementBuilder, Value};

#[derive(Debug)]
pub struct Template {
    backend: DbBackend,
    sql: String,
    slots: Vec<Slot>,
}

#[derive(Debug)]
enum Slot {
    /// A value of the statement itself (a status name, a constant).
    Fixed(Value),
    /// The request's argument of this index.
    Arg(usize),
}

impl Template {
    /// `statement` must be built with `sentinels[i]` as its i-th argument, each a value that
    /// the statement itself never holds (so that its places can be told apart).
    pub fn new(backend: DbBackend, statement: &impl StatementBuilder, sentinels: &[Value]) -> Self {
        let built = statement.build(&backend);
        let slots: Vec<Slot> = built
            .values
            .map(|values| values.0)
            .unwrap_or_default()
            .into_iter()
            .map(|value| match sentinels.iter().position(|s| *s == value) {
                Some(index) => Slot::Arg(index),
                None => Slot::Fixed(value),
            })
            .collect();
        debug_assert!(
            (0..sentinels.len())
                .all(|i| slots.iter().any(|s| matches!(s, Slot::Arg(a) if *a == i))),
            "every sentinel must appear in the statement"
        );
        Self {
            backend,
            sql: built.sql,
            slots,
        }
    }

    /// The statement with `args` in the sentinels' places (same order as the sentinels).
    pub fn statement(&self, args: &[Value]) -> Statement {
        let values = self.slots.iter().map(|slot| match slot {
            Slot::Fixed(value) => value.clone(),
            Slot::Arg(index) => args[*index].clone(),
        });
        Statement::from_sql_and_values(self.backend, self.sql.clone(), values)
    }
}

/// Where each backend's template of one shape is kept (a process uses one backend; tests may
/// build for all three).
pub fn backend_slot(backend: DbBackend) -> usize {
    match backend {
        DbBackend::MySql => 0,
        DbBackend::Postgres => 1,
        DbBackend::Sqlite => 2,
    }
}

/// One statement shape's template for each backend, built on first use.
pub struct PerBackend([OnceLock<Template>; 3]);

impl PerBackend {
    pub const fn new() -> Self {
        Self([const { OnceLock::new() }; 3])
    }

    pub fn get(&self, backend: DbBackend, build: impl FnOnce() -> Template) -> &Template {
        self.0[backend_slot(backend)].get_or_init(build)
    }
}

impl Default for PerBackend {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::sea_query::{Alias, Expr, Query};

    use super::*;

    fn select(limit: i64, name: &str) -> sea_orm::sea_query::SelectStatement {
        Query::select()
            .column(Alias::new("id"))
            .from(Alias::new("t"))
            .and_where(Expr::col(Alias::new("status")).eq("held"))
            .and_where(Expr::col(Alias::new("name")).eq(name))
            .and_where(Expr::col(Alias::new("n")).lt(limit))
            .to_owned()
    }

    #[test]
    fn arguments_take_the_sentinels_places_and_fixed_values_stay() {
        for backend in [DbBackend::Sqlite, DbBackend::Postgres, DbBackend::MySql] {
            let template = Template::new(
                backend,
                &select(-987_654_321, "\u{1}name"),
                &[Value::from(-987_654_321_i64), Value::from("\u{1}name")],
            );
            let args = [Value::from(7_i64), Value::from("Ada")];
            assert_eq!(template.statement(&args), backend.build(&select(7, "Ada")));
        }
    }
}
