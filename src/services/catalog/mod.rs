//! Catalog: cities, airports, airplanes and flights (with their seat inventory), and search.
//! Reads are public; the controllers let only admins write.

pub mod airplanes;
pub mod airports;
pub mod cities;
pub mod demo;
mod demo_data;
pub mod flights;
pub mod search;
pub mod seats;
