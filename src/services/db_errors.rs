//! Constraint violations mapped once, for every backend (see `db`).

pub use crate::db::{is_foreign_key_violation, is_unique_violation};
