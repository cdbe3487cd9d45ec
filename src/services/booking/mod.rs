//! Booking: seat holds that never double-sell, payments that never double-charge,
//! idempotency keys, and the sweeper that expires holds and reconciles payments. Each
//! transaction is one write plan (see `db::plan`), written once here.

pub mod bcbp;
pub mod boarding_passes;
pub mod bookings;
mod cancel;
pub mod checkin;
mod confirm;
pub mod flight_cancellation;
pub mod flight_report;
mod hold;
pub mod idempotency;
pub mod lookup;
mod pay;
pub mod payments;
pub mod provider;
mod refunds;
pub mod reports;
mod seat_assignment;
mod seat_check;
pub mod seat_guard;
pub mod sweeper;
