//! Notify: booking emails through a durable outbox. A booking change writes its email into
//! the outbox in the same transaction (so none is lost after a commit and none is sent for a
//! rollback); the email worker sends due emails, retries failures with exponential backoff,
//! and keeps the ones it gave up on for an admin to retry. Rendering and sending them is the
//! email job's work (`jobs::delivery`), where the views are.

pub mod mailer;
pub mod outbox;
