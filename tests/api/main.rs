//! Black-box tests: the real application on a random port, a fresh database per test, HTTP.

mod admins;
mod authorization;
mod bad_input;
mod booking;
mod catalog;
mod concurrency;
mod durability;
mod email;
mod health;
mod helpers;
mod identity;
mod payments;
mod rate_limits;
mod revocation;
mod search;
mod site;
mod smtp_sink;
mod sweeper;
mod tokens;
