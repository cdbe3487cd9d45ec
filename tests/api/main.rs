//! Black-box tests: the real application on a random port, a fresh database per test, HTTP.

mod admins;
mod authorization;
mod bad_input;
mod booking;
mod catalog;
mod concurrency;
mod durability;
mod email;
mod file_modes;
mod flight_operations;
mod health;
mod held_seat_cap;
mod helpers;
mod http_methods;
mod identity;
mod payments;
mod rate_limits;
mod revocation;
mod search;
mod site;
mod site_operations;
mod smtp_sink;
mod sweeper;
mod time_rules;
mod tokens;
