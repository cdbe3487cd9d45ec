//! Cross-cutting HTTP plumbing shared by the API and the website: request ids, client
//! addresses and rate limits, HTTP metrics, and how malformed input becomes a problem
//! document.

pub mod client_ip;
pub mod compression;
pub mod csrf;
pub mod give_up;
pub mod input;
pub mod methods;
pub mod metrics;
pub mod rate_limit;
pub mod request_id;
