//! My bookings and one booking's page.

use chrono::NaiveDateTime;
use serde::Serialize;

use super::travel::FlightSummary;
use super::{money, Pager};
use crate::clock;
use crate::models::booking::booking::{self, PENDING};
use crate::services::booking::bookings::BookingDetails;
use crate::services::booking::provider;

#[derive(Serialize)]
pub struct BookingRow {
    pub id: i32,
    pub reference: String,
    pub status: String,
    pub total: String,
    pub seats: String,
    pub flight: Option<FlightSummary>,
}

#[derive(Serialize)]
pub struct BookingsPage {
    pub bookings: Vec<BookingRow>,
    pub pager: Pager,
}

#[derive(Serialize)]
pub struct SeatLine {
    pub seat: String,
    pub class: String,
    pub passenger: String,
    pub price: String,
}

#[derive(Serialize)]
pub struct PaymentMethod {
    pub value: &'static str,
    pub label: &'static str,
}

/// The sandbox provider's test cards, by what they do.
pub const PAYMENT_METHODS: [PaymentMethod; 3] = [
    PaymentMethod {
        value: provider::METHOD_OK,
        label: "Test card that is approved",
    },
    PaymentMethod {
        value: provider::METHOD_DECLINED,
        label: "Test card that is declined",
    },
    PaymentMethod {
        value: provider::METHOD_ERROR,
        label: "Test card whose bank fails",
    },
];

/// A notice (after a redirect) or a problem shown on the booking page.
#[derive(Serialize)]
pub struct Notice {
    /// `success` or `error`, for styling and the ARIA role.
    pub kind: &'static str,
    pub text: String,
}

#[derive(Serialize)]
pub struct BookingPage {
    pub id: i32,
    pub reference: String,
    pub status: String,
    pub flight: FlightSummary,
    pub seats: Vec<SeatLine>,
    pub total: String,
    pub expires_at: String,
    pub seconds_left: i64,
    /// `9 min 58 s`, the countdown's text before the script takes over.
    pub time_left: String,
    pub payable: bool,
    /// Only the traveller pays; an admin looking at someone's booking does not.
    pub is_owner: bool,
    pub cancellable: bool,
    /// The owner may check in now (set by the page's controller, which knows the window).
    pub can_check_in: bool,
    /// Confirmed and every seat checked in: the boarding passes are ready.
    pub checked_in: bool,
    pub payment_methods: &'static [PaymentMethod],
    /// One key per rendered form: a double-click or a resubmitted form pays once.
    pub idempotency_key: String,
    pub notice: Option<Notice>,
    /// "Cancelled by the airline: <reason>", for a booking the airline cancelled.
    pub airline_note: Option<String>,
}

impl BookingPage {
    pub fn new(
        details: BookingDetails,
        flight: FlightSummary,
        notice: Option<Notice>,
        viewer_id: Option<i32>,
        now: NaiveDateTime,
    ) -> Self {
        let booking = details.booking;
        let status = booking.effective_status(now).to_string();
        let pending = status == PENDING;
        let seconds_left = (booking.expires_at - now).num_seconds().max(0);
        let checked_in = status == booking::CONFIRMED
            && !details.seats.is_empty()
            && details.seats.iter().all(|s| s.checked_in_at.is_some());
        Self {
            id: booking.id,
            reference: booking.reference.clone(),
            payable: pending,
            is_owner: viewer_id == Some(booking.user_id),
            cancellable: (pending || status == booking::CONFIRMED) && !flight.departed,
            can_check_in: false,
            checked_in,
            flight,
            seats: details
                .seats
                .into_iter()
                .map(|s| SeatLine {
                    price: money(s.price, &booking.currency),
                    seat: s.seat,
                    class: s.class,
                    passenger: s.passenger_name,
                })
                .collect(),
            total: money(booking.total, &booking.currency),
            expires_at: clock::to_utc(booking.expires_at).to_rfc3339(),
            seconds_left,
            time_left: format!("{} min {} s", seconds_left / 60, seconds_left % 60),
            status,
            payment_methods: &PAYMENT_METHODS,
            idempotency_key: uuid::Uuid::new_v4().to_string(),
            notice,
            airline_note: None,
        }
    }
}

/// "Manage my booking": the form, or the booking found (its fields at the top level, as the
/// booking page has them, so both share the trip summary's template).
#[derive(Serialize, Default)]
pub struct ManagePage {
    pub found: bool,
    pub not_found: bool,
    /// What was typed, shown again after a miss.
    pub reference: String,
    pub last_name: String,
    #[serde(flatten)]
    pub booking: Option<BookingPage>,
}
