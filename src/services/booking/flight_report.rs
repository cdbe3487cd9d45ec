//! What an admin reads about one flight's travellers: what cancelling it would touch, what
//! its cancellation did (refunds made and still due), and its passenger list. Read-only.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDateTime;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::flight_cancellation::live_bookings;
use crate::clock;
use crate::db::Database;
use crate::error::AppError;
use crate::models::booking::booking::{self, BookingStatus, BY_AIRLINE};
use crate::models::booking::{booking_seat, payment};
use crate::models::catalog::flight;
use crate::models::identity::user;
use crate::services::pagination::{fetch_page, Page, PageRequest};

/// Amounts in minor units by currency: a flight's currency can change between bookings.
pub type Totals = BTreeMap<String, i64>;

/// What cancelling the flight now would touch; the same bookings `cancel_flight` takes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CancellationPreview {
    pub pending: u64,
    pub confirmed: u64,
    /// Charges of the confirmed bookings that would be refunded.
    pub refunds: u64,
    pub refund_total: Totals,
}

pub async fn cancellation_preview(
    db: &Database,
    flight_id: i32,
) -> Result<CancellationPreview, AppError> {
    let live = booking::Entity::find()
        .filter(booking::Column::Id.in_subquery(live_bookings(flight_id, clock::now())))
        .all(&db.reader)
        .await?;
    let confirmed: Vec<i32> = live
        .iter()
        .filter(|b| b.status == BookingStatus::Confirmed.as_str())
        .map(|b| b.id)
        .collect();
    let mut preview = CancellationPreview {
        confirmed: confirmed.len() as u64,
        pending: (live.len() - confirmed.len()) as u64,
        ..Default::default()
    };
    if confirmed.is_empty() {
        return Ok(preview);
    }
    let charges = payment::Entity::find()
        .filter(payment::Column::BookingId.is_in(confirmed))
        .filter(payment::Column::Status.eq(payment::SUCCEEDED))
        .filter(payment::Column::RefundRequestedAt.is_null())
        .all(&db.reader)
        .await?;
    for charge in charges {
        preview.refunds += 1;
        *preview.refund_total.entry(charge.currency).or_default() += charge.amount;
    }
    Ok(preview)
}

/// A cancelled flight's outcome, from the stored rows (the sweeper may still be refunding).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CancellationSummary {
    pub reason: String,
    pub cancelled_at: Option<NaiveDateTime>,
    /// The flight's bookings the airline cancelled.
    pub bookings: u64,
    pub refunded: u64,
    pub refunded_total: Totals,
    /// Refunds requested and not made yet: the sweeper retries them.
    pub refunds_pending: u64,
    pub pending_total: Totals,
}

/// `None` while the flight is scheduled.
pub async fn cancellation_summary(
    db: &Database,
    flight_id: i32,
) -> Result<Option<CancellationSummary>, AppError> {
    let flight = flight::Entity::find_by_id(flight_id)
        .one(&db.reader)
        .await?
        .ok_or(AppError::NotFound)?;
    if !flight.is_cancelled() {
        return Ok(None);
    }
    let cancelled: Vec<i32> = booking::Entity::find()
        .filter(booking::Column::FlightId.eq(flight_id))
        .filter(booking::Column::Status.eq(BookingStatus::Cancelled.as_str()))
        .filter(booking::Column::CancelledBy.eq(BY_AIRLINE))
        .all(&db.reader)
        .await?
        .into_iter()
        .map(|b| b.id)
        .collect();
    let mut summary = CancellationSummary {
        reason: flight.cancel_reason.unwrap_or_default(),
        cancelled_at: flight.cancelled_at,
        bookings: cancelled.len() as u64,
        ..Default::default()
    };
    if cancelled.is_empty() {
        return Ok(Some(summary));
    }
    let requested = payment::Entity::find()
        .filter(payment::Column::BookingId.is_in(cancelled))
        .filter(payment::Column::RefundRequestedAt.is_not_null())
        .all(&db.reader)
        .await?;
    for p in requested {
        let (count, totals) = match p.status.as_str() {
            payment::REFUNDED => (&mut summary.refunded, &mut summary.refunded_total),
            payment::SUCCEEDED => (&mut summary.refunds_pending, &mut summary.pending_total),
            _ => continue,
        };
        *count += 1;
        *totals.entry(p.currency).or_default() += p.amount;
    }
    Ok(Some(summary))
}

/// Why and when a flight was cancelled, `None` while it is scheduled: what its public page
/// and its travellers' booking pages say.
pub async fn cancellation_of(
    db: &Database,
    flight_id: i32,
) -> Result<Option<(String, Option<NaiveDateTime>)>, AppError> {
    let flight = flight::Entity::find_by_id(flight_id)
        .one(&db.reader)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(flight.is_cancelled().then(|| {
        (
            flight.cancel_reason.unwrap_or_default(),
            flight.cancelled_at,
        )
    }))
}

/// One booking on a flight's passenger list.
#[derive(Debug, Clone)]
pub struct PassengerBooking {
    pub booking: booking::Model,
    pub owner_email: String,
    pub seats: Vec<booking_seat::Model>,
}

/// Every booking of the flight, oldest first, with its owner and seats.
pub async fn passengers(
    db: &Database,
    flight_id: i32,
    page: PageRequest,
) -> Result<Page<PassengerBooking>, AppError> {
    let found = fetch_page(
        &db.reader,
        booking::Entity::find()
            .filter(booking::Column::FlightId.eq(flight_id))
            .order_by_asc(booking::Column::Id),
        page,
    )
    .await?;
    let owners: Vec<i32> = found.items.iter().map(|b| b.user_id).collect();
    let ids: Vec<i32> = found.items.iter().map(|b| b.id).collect();
    let emails: HashMap<i32, String> = user::Entity::find()
        .filter(user::Column::Id.is_in(owners))
        .all(&db.reader)
        .await?
        .into_iter()
        .map(|u| (u.id, u.email))
        .collect();
    let mut seats: HashMap<i32, Vec<booking_seat::Model>> = HashMap::new();
    for seat in booking_seat::Entity::find()
        .filter(booking_seat::Column::BookingId.is_in(ids))
        .order_by_asc(booking_seat::Column::Seat)
        .all(&db.reader)
        .await?
    {
        seats.entry(seat.booking_id).or_default().push(seat);
    }
    Ok(Page {
        items: found
            .items
            .into_iter()
            .map(|b| PassengerBooking {
                owner_email: emails.get(&b.user_id).cloned().unwrap_or_default(),
                seats: seats.remove(&b.id).unwrap_or_default(),
                booking: b,
            })
            .collect(),
        request: found.request,
        total: found.total,
    })
}
