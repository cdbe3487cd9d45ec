//! Concurrency: many truly concurrent requests, exact counts.
