//! Booking: bookings and their seats, payment attempts, idempotency keys, and the sandbox
//! payment provider's ledger.

// The context and its main entity share the name; `models::booking::booking` reads as intended.
#[allow(clippy::module_inception)]
pub mod booking;
pub mod booking_seat;
pub mod idempotency_key;
pub mod payment;
pub mod reference;
pub mod sandbox_charge;
