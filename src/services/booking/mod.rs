//! Booking: seat holds that never double-sell, payments that never double-charge,
//! idempotency keys, and the sweeper that expires holds and reconciles payments.

pub mod bookings;
pub mod idempotency;
mod one_trip;
pub mod payments;
pub mod provider;
pub mod reports;
mod seat_assignment;
pub mod seat_guard;
pub mod sweeper;
