//! Cross-cutting HTTP plumbing shared by the API and the website: request ids, client
//! addresses and rate limits, how malformed input becomes a problem document, and holding
//! answers to writes until they are durable.

pub mod client_ip;
pub mod compression;
pub mod csrf;
pub mod durable;
pub mod input;
pub mod request_id;
