use std::sync::Arc;

use crate::config::Settings;
use crate::db::Database;
use crate::jobs::delivery::Delivery;
use crate::jobs::queue::EmailQueue;
use crate::metrics::Metrics;
use crate::services::booking::bookings::BookingPolicy;
use crate::services::booking::checkin::CheckinWindow;
use crate::services::booking::flight_cancellation::CancelPolicy;
use crate::services::booking::payments::PaymentPolicy;
use crate::services::booking::provider::PaymentProvider;
use crate::services::identity::TokenKeys;
use crate::views::booking::PaymentJson;
use crate::web::csrf::CsrfKey;

/// What every request handler may use; cloned cheaply into each worker.
#[derive(Clone)]
pub struct AppState {
    pub db: Database,
    pub tokens: TokenKeys,
    pub settings: Arc<Settings>,
    pub payments: Arc<dyn PaymentProvider>,
    pub delivery: Delivery,
    pub email_queue: EmailQueue,
    /// The website's pages and the emails, parsed once at start.
    pub templates: Arc<tera::Tera>,
    pub csrf: CsrfKey,
    /// This process's counters, for `/metrics`.
    pub metrics: Metrics,
}

impl AppState {
    pub fn booking_policy(&self) -> BookingPolicy {
        BookingPolicy {
            hold_ttl_seconds: self.settings.hold_ttl_seconds,
            max_pending_bookings: self.settings.max_pending_bookings,
            sales_close_minutes: self.settings.sales_close_minutes,
            max_held_seats_per_client: self.settings.max_held_seats_per_client,
            seat_guard: !self.settings.faults.disable_seat_guard,
            email_max_attempts: self.settings.email_max_attempts,
            outcomes: self.metrics.outcomes,
        }
    }

    pub fn cancel_policy(&self) -> CancelPolicy {
        CancelPolicy {
            email_max_attempts: self.settings.email_max_attempts,
            pause_before_refunds: self.settings.faults.pause_after_flight_cancel,
            outcomes: self.metrics.outcomes,
        }
    }

    pub fn checkin_window(&self) -> CheckinWindow {
        CheckinWindow {
            opens_hours: self.settings.checkin_opens_hours,
            closes_minutes: self.settings.checkin_closes_minutes,
        }
    }

    pub fn payment_policy(&self) -> PaymentPolicy {
        PaymentPolicy {
            lock_seconds: i64::try_from(self.settings.payment_lock_seconds)
                .unwrap_or(i64::MAX / 4_000),
            sales_close_minutes: self.settings.sales_close_minutes,
            pause_after_charge: self.settings.faults.pause_after_charge,
            email_max_attempts: self.settings.email_max_attempts,
            replies: &PaymentJson,
            outcomes: self.metrics.outcomes,
        }
    }
}
