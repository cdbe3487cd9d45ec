//! sea-orm entities, the validated newtypes they are written from, and single-entity queries,
//! one module per bounded context.

pub mod booking;
pub mod catalog;
pub mod identity;
pub mod notify;
