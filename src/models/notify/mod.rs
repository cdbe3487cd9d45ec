//! Notify: the email outbox.

pub mod email;
