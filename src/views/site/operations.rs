//! A flight's operations in the admin pages: its cancellation (confirm step and summary) and
//! its passenger list.

use serde::Serialize;

use super::admin::Choice;
use super::trips::Notice;
use super::{money, Pager};
use crate::services::booking::flight_report::{CancellationSummary, Totals};

/// `INR 2,000.00`, or one amount per currency joined by `+`; nothing is zero in `currency`.
pub fn totals(totals: &Totals, currency: &str) -> String {
    if totals.is_empty() {
        return money(0, currency);
    }
    totals
        .iter()
        .map(|(c, minor)| money(*minor, c))
        .collect::<Vec<_>>()
        .join(" + ")
}

/// `2026-12-01 09:30 UTC`: admins read UTC (see the admin forms).
pub fn utc(t: chrono::NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

#[derive(Serialize)]
pub struct CancellationView {
    pub reason: String,
    pub cancelled_at: String,
    pub bookings: u64,
    pub refunded: u64,
    pub refunded_total: String,
    pub refunds_pending: u64,
    pub pending_total: String,
}

impl CancellationView {
    pub fn new(summary: CancellationSummary, currency: &str) -> Self {
        Self {
            cancelled_at: summary.cancelled_at.map(utc).unwrap_or_default(),
            refunded_total: totals(&summary.refunded_total, currency),
            pending_total: totals(&summary.pending_total, currency),
            reason: summary.reason,
            bookings: summary.bookings,
            refunded: summary.refunded,
            refunds_pending: summary.refunds_pending,
        }
    }
}

/// The operations part of a flight's admin page.
#[derive(Serialize)]
pub struct FlightOperations {
    /// The confirm step's address; `None` once the flight is cancelled or has departed.
    pub cancel_url: Option<String>,
    pub passengers_url: String,
    pub cancellation: Option<CancellationView>,
}

/// The confirm step: what cancelling touches, before anything happens.
#[derive(Serialize)]
pub struct CancelFlightPage {
    pub section: &'static str,
    /// `AI101 TAA → TBB, departs 2026-12-01 09:30 UTC`
    pub flight: String,
    pub flight_url: String,
    pub action: String,
    /// False when the flight is cancelled already or has departed: no form then.
    pub can_cancel: bool,
    pub pending: u64,
    pub confirmed: u64,
    pub refunds: u64,
    pub refund_total: String,
    pub reason: String,
    pub reason_error: Option<String>,
    pub notice: Option<Notice>,
}

#[derive(Serialize)]
pub struct PassengerRow {
    pub id: i32,
    pub reference: String,
    pub owner_email: String,
    pub status: String,
    /// Seat code (value) and passenger name (label).
    pub seats: Vec<Choice>,
    /// Whether its travellers checked in: "yes", "no" or "n of m".
    pub checked_in: String,
}

#[derive(Serialize)]
pub struct PassengersPage {
    pub section: &'static str,
    pub flight: String,
    pub flight_url: String,
    pub rows: Vec<PassengerRow>,
    pub total: u64,
    pub pager: Pager,
}
