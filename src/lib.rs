//! Skybook: flight search, seat maps, bookings and payments in one binary.

pub mod clock;
pub mod config;
pub mod controllers;
pub mod db;
pub mod drain;
pub mod error;
pub mod jobs;
pub mod metrics;
pub mod models;
pub mod private_files;
pub mod services;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod views;
pub mod web;
