//! Black-box tests: the real application on a random port, a fresh database per test, HTTP.

mod authorization;
mod bad_input;
mod catalog;
mod health;
mod helpers;
mod identity;
mod rate_limits;
mod search;
mod tokens;
