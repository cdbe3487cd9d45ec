//! Catalog: cities, airports, airplanes, flights and each flight's seat inventory.

pub mod airplane;
pub mod airport;
pub mod city;
mod country_code;
pub mod flight;
mod flight_number;
pub mod flight_seat;
mod iata_code;
mod money;
mod seat_code;
mod seat_layout;

pub use country_code::CountryCode;
pub use flight_number::FlightNumber;
pub use iata_code::IataCode;
pub use money::{Currency, Money};
pub use seat_code::SeatCode;
pub use seat_layout::SeatLayout;
