//! Bookings as every part of the booking context sees them, and reading them. Creating one is
//! `hold`, cancelling one `cancel`.

use std::collections::HashMap;

use sea_orm::sea_query::{Expr, Query, SimpleExpr};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

pub use super::cancel::cancel;
use crate::db::session::Session;
use crate::db::Database;
use crate::error::AppError;
use crate::metrics::{BookingOutcome, Outcomes};
use crate::models::booking::{booking, booking_seat};
use crate::models::catalog::{flight, SeatCode};
use crate::services::pagination::{Page, PageRequest};

pub const MAX_PASSENGERS: usize = 9;

/// Who asks: bookings are visible to their owner and to admins.
#[derive(Debug, Clone, Copy)]
pub struct Caller {
    pub user_id: i32,
    pub is_admin: bool,
}

/// The rules that booking a flight follows, from the settings.
#[derive(Debug, Clone, Copy)]
pub struct BookingPolicy {
    pub hold_ttl_seconds: u64,
    pub max_pending_bookings: u32,
    /// Booking closes this long before departure, and no hold lasts past that.
    pub sales_close_minutes: u32,
    /// Seats the pending bookings made from one client address may hold on one flight.
    pub max_held_seats_per_client: u32,
    /// Off only in the negative-control test.
    pub seat_guard: bool,
    /// For the emails a booking change enqueues.
    pub email_max_attempts: u32,
    /// Where bookings made, lost to a taken seat, or cancelled are counted.
    pub outcomes: &'static Outcomes,
}

pub enum SeatRequest {
    /// One seat per passenger, in order.
    Chosen(Vec<SeatCode>),
    /// The system picks.
    Assigned,
}

pub struct BookingForCreate {
    /// The address the request came from, as rate limits key it (IPv6 by its /64).
    pub client: String,
    pub flight_id: i32,
    pub seats: SeatRequest,
    pub passengers: Vec<String>,
}

/// A booking with its seats, as every read shows it.
#[derive(Debug, Clone)]
pub struct BookingDetails {
    pub booking: booking::Model,
    pub seats: Vec<booking_seat::Model>,
}

/// Holds seats for a new booking (see `hold`), counting what became of the request.
/// `session` may hold the connection the caller was read on (see `db::session`).
pub async fn create(
    session: &mut Session<'_>,
    caller: Caller,
    policy: BookingPolicy,
    new: BookingForCreate,
) -> Result<BookingDetails, AppError> {
    let created = super::hold::create(session, caller, policy, new).await;
    match &created {
        Ok(_) => policy.outcomes.booking(BookingOutcome::Created),
        Err(AppError::SeatUnavailable(_)) => {
            policy.outcomes.booking(BookingOutcome::SeatUnavailable)
        }
        Err(_) => {}
    }
    created
}

/// The booking, if `caller` may see it (another user's booking does not exist for them).
pub async fn get(db: &Database, caller: Caller, id: i32) -> Result<BookingDetails, AppError> {
    let booking = find_visible(&db.reader, caller, id).await?;
    let seats = seats_of(&db.reader, booking.id).await?;
    Ok(BookingDetails { booking, seats })
}

pub async fn find_visible<C: ConnectionTrait>(
    conn: &C,
    caller: Caller,
    id: i32,
) -> Result<booking::Model, AppError> {
    let booking = booking::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)?;
    if booking.user_id != caller.user_id && !caller.is_admin {
        return Err(AppError::NotFound);
    }
    Ok(booking)
}

/// The caller's bookings, newest first; with `all`, everyone's (admins only).
pub async fn list(
    db: &Database,
    caller: Caller,
    all: bool,
    page: PageRequest,
) -> Result<Page<BookingDetails>, AppError> {
    if all && !caller.is_admin {
        return Err(AppError::Forbidden);
    }
    let mut query = booking::Entity::find();
    if !all {
        query = query.filter(booking::Column::UserId.eq(caller.user_id));
    }
    let total = query.clone().count(&db.reader).await?;
    let bookings = query
        .order_by_desc(booking::Column::Id)
        .offset(page.offset())
        .limit(page.per_page)
        .all(&db.reader)
        .await?;
    let ids: Vec<i32> = bookings.iter().map(|b| b.id).collect();
    let mut seats: HashMap<i32, Vec<booking_seat::Model>> = HashMap::new();
    for seat in booking_seat::Entity::find()
        .filter(booking_seat::Column::BookingId.is_in(ids))
        .order_by_asc(booking_seat::Column::Id)
        .all(&db.reader)
        .await?
    {
        seats.entry(seat.booking_id).or_default().push(seat);
    }
    let items = bookings
        .into_iter()
        .map(|booking| BookingDetails {
            seats: seats.remove(&booking.id).unwrap_or_default(),
            booking,
        })
        .collect();
    Ok(Page {
        items,
        request: page,
        total,
    })
}

/// The departure time of the booking's flight, for a condition in a statement on `bookings`
/// (a lookup of the flight by its id).
pub(super) fn departure_of_booking() -> Expr {
    let departure = Query::select()
        .column((flight::Entity, flight::Column::DepartureTime))
        .from(flight::Entity)
        .and_where(
            Expr::col((flight::Entity, flight::Column::Id))
                .equals((booking::Entity, booking::Column::FlightId)),
        )
        .to_owned();
    Expr::expr(SimpleExpr::SubQuery(
        None,
        Box::new(departure.into_sub_query_statement()),
    ))
}

pub(super) async fn seats_of<C: ConnectionTrait>(
    conn: &C,
    booking_id: i32,
) -> Result<Vec<booking_seat::Model>, AppError> {
    Ok(booking_seat::Entity::find()
        .filter(booking_seat::Column::BookingId.eq(booking_id))
        .order_by_asc(booking_seat::Column::Id)
        .all(conn)
        .await?)
}
