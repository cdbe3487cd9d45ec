//! The rules and the transaction boundaries, one module per bounded context. Services take
//! validated input and return domain results or `AppError`; they know nothing of HTTP.

pub mod booking;
pub mod catalog;
mod db_errors;
pub mod identity;
pub mod notify;
pub mod pagination;
