//! Creating, reading and cancelling bookings.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{Duration, NaiveDateTime};
use sea_orm::sea_query::{Alias, Expr, JoinType, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, DbBackend,
    DbErr, EntityTrait, FromQueryResult, Iterable, PaginatorTrait, QueryFilter, QueryOrder,
    QueryResult, QuerySelect, Statement, TransactionTrait, Value,
};

use tracing::Instrument;

use super::one_trip::{BookingInOneTrip, NewBooking};
use super::provider::PaymentProvider;
use super::seat_assignment::{choose, FreeSeat};
use super::seat_guard;
use crate::clock;
use crate::config::DatabaseKind;
use crate::db::template::{PerBackend, Template};
use crate::db::Database;
use crate::error::AppError;
use crate::models::booking::booking::{self, CANCELLED, CONFIRMED, PENDING};
use crate::models::booking::{booking_seat, payment, reference};
use crate::models::catalog::flight_seat::{self, CLASS_BUSINESS};
use crate::models::catalog::{airplane, flight, SeatCode};
use crate::models::identity::user;
use crate::services::catalog::seats::{is_free, status_is_free};
use crate::services::db_errors::is_unique_violation;
use crate::services::notify::outbox;
use crate::services::pagination::{Page, PageRequest};

pub const MAX_PASSENGERS: usize = 9;
/// Attempts at a fresh random reference before giving up (a clash is one in ~10^8).
const REFERENCE_ATTEMPTS: usize = 5;

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
    /// Off only in the negative-control test.
    pub seat_guard: bool,
    /// For the emails a booking change enqueues.
    pub email_max_attempts: u32,
}

pub enum SeatRequest {
    /// One seat per passenger, in order.
    Chosen(Vec<SeatCode>),
    /// The system picks.
    Assigned,
}

pub struct BookingForCreate {
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

#[tracing::instrument(skip(db, new), fields(flight_id = new.flight_id, passengers = new.passengers.len()))]
pub async fn create(
    db: &Database,
    caller: Caller,
    policy: BookingPolicy,
    new: BookingForCreate,
) -> Result<BookingDetails, AppError> {
    let now = clock::now();
    let chosen: Vec<String> = match &new.seats {
        SeatRequest::Chosen(seats) => seats.iter().map(ToString::to_string).collect(),
        SeatRequest::Assigned => Vec::new(),
    };
    // One read gives the flight and says which chosen seats exist and which are visibly
    // taken. Taken seats are refused here, without queueing for the writer: in a rush for one
    // seat, the losers answer at once. The conditional write below stays the guard for the
    // seats that look free.
    let (flight, found) = flight_and_seats(db, new.flight_id, &chosen)
        .await?
        .ok_or_else(|| AppError::field("flight_id", "no flight has this id"))?;
    if flight.departure_time <= now {
        return Err(AppError::FlightDeparted);
    }
    if let SeatRequest::Chosen(_) = &new.seats {
        let taken = check_seats(&chosen, &found, now)?;
        if policy.seat_guard && !taken.is_empty() {
            return Err(AppError::SeatUnavailable(taken));
        }
    }
    // A seat's class belongs to the airplane's layout, so the read above gives the chosen
    // seats' prices: the booking is written with its total, not patched afterwards.
    let chosen_classes: SeatClasses = found.into_iter().map(|s| (s.seat, s.class)).collect();
    let expires_at =
        now + Duration::seconds(i64::try_from(policy.hold_ttl_seconds).unwrap_or(i64::MAX / 4_000));
    // Only the transaction goes to the write lane: the checks above run where the request
    // does, so the losers of a rush for one seat are answered without reaching the lane.
    // On SQLite, chosen seats are booked in one trip to the writer when all goes as usual; its
    // statements are built here, off the lane.
    let one_trip = if db.kind == DatabaseKind::Sqlite && policy.seat_guard && !chosen.is_empty() {
        Some(BookingInOneTrip::new(NewBooking {
            user_id: caller.user_id,
            flight: &flight,
            seats: &chosen,
            classes: &chosen_classes,
            passengers: &new.passengers,
            total: total_of(&flight, &chosen, &chosen_classes)?,
            now,
            expires_at,
            max_pending: policy.max_pending_bookings,
        })?)
    } else {
        None
    };
    let hold = SeatHold {
        flight,
        chosen,
        chosen_classes,
        now,
        expires_at,
        one_trip,
    };
    let on_lane = db.clone();
    let held = async move { hold_seats(&on_lane, caller, policy, new, hold).await };
    db.write(held.in_current_span()).await
}

/// What the booking's transaction starts from: the flight as read, the chosen seats (none
/// for assigned seats) with their classes, and the hold's times.
struct SeatHold {
    flight: flight::Model,
    chosen: Vec<String>,
    chosen_classes: SeatClasses,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
    one_trip: Option<BookingInOneTrip>,
}

/// The booking's transaction: takes the seats and writes the booking (on the write lane).
async fn hold_seats(
    db: &Database,
    caller: Caller,
    policy: BookingPolicy,
    new: BookingForCreate,
    hold: SeatHold,
) -> Result<BookingDetails, AppError> {
    let SeatHold {
        flight,
        chosen,
        chosen_classes,
        now,
        expires_at,
        one_trip,
    } = hold;
    if let Some(one_trip) = one_trip {
        if let Some(details) = one_trip.run(db).await? {
            return Ok(details);
        }
    }
    // A chosen set of seats is tried once. Assigned seats are chosen again whenever a
    // concurrent booking took them first; every lost race means another booking won, so this
    // ends once the flight has no room left.
    let attempts = match new.seats {
        SeatRequest::Chosen(_) => 1,
        SeatRequest::Assigned => usize::try_from(flight.seats_total).unwrap_or(0) + 1,
    };
    for _ in 0..attempts {
        let txn = db.writer.begin().await?;
        // The user's row first: one user's bookings queue on it, so the pending cap below is
        // exact under concurrency. SQLite runs one write transaction at a time, so there the
        // lock would only cost a round trip through its one writer. Then the flight's (see
        // `seat_guard::lock_flight`).
        if txn.get_database_backend() != DbBackend::Sqlite {
            user::Entity::update_many()
                .col_expr(user::Column::Role, Expr::col(user::Column::Role).into())
                .filter(user::Column::Id.eq(caller.user_id))
                .exec(&txn)
                .await?;
        }
        if !seat_guard::lock_flight(&txn, flight.id).await? {
            return Err(AppError::field("flight_id", "no flight has this id"));
        }
        // The cap first, as the caller's own limit, before any seat is looked at.
        let pending = pending_of(caller.user_id, now).count(&txn).await?;
        if pending >= u64::from(policy.max_pending_bookings) {
            return Err(AppError::Conflict(format!(
                "you already hold {pending} pending bookings; pay or cancel one first"
            )));
        }
        let (seats, classes) = match &new.seats {
            SeatRequest::Chosen(_) => (chosen.clone(), chosen_classes.clone()),
            SeatRequest::Assigned => {
                match assign(&txn, &flight, new.passengers.len(), now).await? {
                    Some(assigned) => assigned,
                    None => return Err(AppError::SeatUnavailable(Vec::new())),
                }
            }
        };
        let total = total_of(&flight, &seats, &classes)?;
        let booking = insert_booking(&txn, caller.user_id, &flight, total, now, expires_at).await?;
        let taken = seat_guard::take(
            &txn,
            flight.id,
            booking.id,
            &seats,
            expires_at,
            now,
            policy.seat_guard,
        )
        .await?;
        if !taken {
            txn.rollback().await?;
            if let SeatRequest::Assigned = new.seats {
                // Someone took the chosen seats between our read and our write: choose again.
                continue;
            }
            return Err(AppError::SeatUnavailable(
                unavailable(&db.writer, flight.id, &seats).await?,
            ));
        }
        let details =
            insert_seats(&txn, booking, &flight, &seats, &classes, &new.passengers).await?;
        txn.commit().await?;
        return Ok(details);
    }
    Err(AppError::SeatUnavailable(Vec::new()))
}

/// A chosen seat as read before the booking: its status and the end of its hold.
struct SeatSeen {
    seat: String,
    class: String,
    status: String,
    held_until: Option<NaiveDateTime>,
}

/// The flight, with one row per chosen seat it has (the LEFT JOIN gives one row with no seat
/// when none matches).
struct FlightSeatRow {
    flight: flight::Model,
    seat: Option<SeatSeen>,
}

impl FromQueryResult for FlightSeatRow {
    fn from_query_result(row: &QueryResult, pre: &str) -> Result<Self, DbErr> {
        let seat: Option<String> = row.try_get(pre, "s_seat")?;
        Ok(Self {
            flight: flight::Model::from_query_result(row, pre)?,
            seat: match seat {
                Some(seat) => Some(SeatSeen {
                    seat,
                    class: row.try_get(pre, "s_class")?,
                    status: row.try_get(pre, "s_status")?,
                    held_until: row.try_get(pre, "s_held_until")?,
                }),
                None => None,
            },
        })
    }
}

/// The flight and the chosen seats among its seats, in one read.
async fn flight_and_seats(
    db: &Database,
    flight_id: i32,
    seats: &[String],
) -> Result<Option<(flight::Model, Vec<SeatSeen>)>, AppError> {
    let statement = flight_and_seats_statement(db.reader.get_database_backend(), flight_id, seats);
    let mut rows = FlightSeatRow::find_by_statement(statement)
        .all(&db.reader)
        .await?
        .into_iter();
    let Some(first) = rows.next() else {
        return Ok(None);
    };
    let flight = first.flight;
    let found = std::iter::once(first.seat)
        .chain(rows.map(|row| row.seat))
        .flatten()
        .collect();
    Ok(Some((flight, found)))
}

/// Bookings name at most this many seats; the SQL of each count is kept (see `Template`).
const TEMPLATED_SEATS: usize = 16;
const SENTINEL_FLIGHT: i32 = i32::MIN + 3;

fn flight_and_seats_select(
    flight_id: i32,
    seats: &[String],
) -> sea_orm::sea_query::SelectStatement {
    let s = Alias::new("s");
    let mut select = Query::select();
    select
        .columns(flight::Column::iter().map(|c| (flight::Entity, c)))
        .expr_as(
            Expr::col((s.clone(), flight_seat::Column::Seat)),
            Alias::new("s_seat"),
        )
        .expr_as(
            Expr::col((s.clone(), flight_seat::Column::Class)),
            Alias::new("s_class"),
        )
        .expr_as(
            Expr::col((s.clone(), flight_seat::Column::Status)),
            Alias::new("s_status"),
        )
        .expr_as(
            Expr::col((s.clone(), flight_seat::Column::HeldUntil)),
            Alias::new("s_held_until"),
        )
        .from(flight::Entity)
        .join_as(
            JoinType::LeftJoin,
            flight_seat::Entity,
            s.clone(),
            Condition::all()
                .add(
                    Expr::col((s.clone(), flight_seat::Column::FlightId))
                        .equals((flight::Entity, flight::Column::Id)),
                )
                .add(Expr::col((s, flight_seat::Column::Seat)).is_in(seats.iter().cloned())),
        )
        .and_where(Expr::col((flight::Entity, flight::Column::Id)).eq(flight_id));
    select
}

fn seat_sentinels(count: usize) -> Vec<String> {
    (0..count).map(|i| format!("\u{1}seat{i}")).collect()
}

fn flight_and_seats_statement(backend: DbBackend, flight_id: i32, seats: &[String]) -> Statement {
    // One per number of seats named.
    static TEMPLATES: [PerBackend; TEMPLATED_SEATS + 1] =
        [const { PerBackend::new() }; TEMPLATED_SEATS + 1];
    let Some(per_backend) = TEMPLATES.get(seats.len()) else {
        return backend.build(&flight_and_seats_select(flight_id, seats));
    };
    let template = per_backend.get(backend, || {
        let marks = seat_sentinels(seats.len());
        let mut sentinels = vec![Value::from(SENTINEL_FLIGHT)];
        sentinels.extend(marks.iter().map(|m| Value::from(m.as_str())));
        Template::new(
            backend,
            &flight_and_seats_select(SENTINEL_FLIGHT, &marks),
            &sentinels,
        )
    });
    let mut args = vec![Value::from(flight_id)];
    args.extend(seats.iter().map(|seat| Value::from(seat.as_str())));
    template.statement(&args)
}

/// Refuses seats the flight does not have (422); returns those of `chosen` that are not free,
/// in seat order.
fn check_seats(
    chosen: &[String],
    found: &[SeatSeen],
    now: NaiveDateTime,
) -> Result<Vec<String>, AppError> {
    let free: HashMap<&str, bool> = found
        .iter()
        .map(|s| {
            (
                s.seat.as_str(),
                status_is_free(&s.status, s.held_until, now),
            )
        })
        .collect();
    let unknown: Vec<&str> = chosen
        .iter()
        .map(String::as_str)
        .filter(|s| !free.contains_key(s))
        .collect();
    if !unknown.is_empty() {
        return Err(AppError::field(
            "seats",
            format!("no such seat on this flight: {}", unknown.join(", ")),
        ));
    }
    let mut taken: Vec<String> = chosen
        .iter()
        .filter(|s| free.get(s.as_str()) == Some(&false))
        .cloned()
        .collect();
    taken.sort_by_key(|s| SeatCode::parse(s).ok());
    Ok(taken)
}

async fn insert_booking(
    txn: &DatabaseTransaction,
    user_id: i32,
    flight: &flight::Model,
    total: i64,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> Result<booking::Model, AppError> {
    for _ in 0..REFERENCE_ATTEMPTS {
        let row = new_booking(
            reference::generate(),
            user_id,
            flight,
            total,
            now,
            expires_at,
        );
        let insert = booking::Entity::insert(row);
        // A failed statement aborts a PostgreSQL transaction, so a reference clash runs in a
        // savepoint there; SQLite and MySQL undo just the statement (two round trips fewer
        // through SQLite's one writer).
        let inserted = if txn.get_database_backend() == DbBackend::Postgres {
            let attempt = txn.begin().await?;
            let inserted = insert.exec_with_returning(&attempt).await;
            if inserted.is_ok() {
                attempt.commit().await?;
            } else {
                attempt.rollback().await?;
            }
            inserted
        } else {
            insert.exec_with_returning(txn).await
        };
        match inserted {
            Ok(booking) => return Ok(booking),
            Err(err) if is_unique_violation(&err) => continue,
            Err(err) => return Err(err.into()),
        }
    }
    Err(anyhow::anyhow!("no free booking reference after {REFERENCE_ATTEMPTS} attempts").into())
}

/// The caller's bookings that still hold seats unpaid (the cap counts them).
pub(super) fn pending_of(user_id: i32, now: NaiveDateTime) -> sea_orm::Select<booking::Entity> {
    booking::Entity::find()
        .filter(booking::Column::UserId.eq(user_id))
        .filter(booking::Column::Status.eq(PENDING))
        .filter(booking::Column::ExpiresAt.gt(now))
}

/// A new pending booking under `reference`.
pub(super) fn new_booking(
    reference: String,
    user_id: i32,
    flight: &flight::Model,
    total: i64,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> booking::ActiveModel {
    booking::ActiveModel {
        reference: Set(reference),
        user_id: Set(user_id),
        flight_id: Set(flight.id),
        status: Set(PENDING.into()),
        total: Set(total),
        currency: Set(flight.currency.clone()),
        created_at: Set(now),
        expires_at: Set(expires_at),
        payment_lock_until: Set(None),
        updated_at: Set(now),
        ..Default::default()
    }
}

/// Seat code -> cabin class.
pub(super) type SeatClasses = HashMap<String, String>;

/// Seats for `count` passengers from the flight's free seats, read inside the transaction,
/// with their classes.
async fn assign(
    txn: &DatabaseTransaction,
    flight: &flight::Model,
    count: usize,
    now: NaiveDateTime,
) -> Result<Option<(Vec<String>, SeatClasses)>, AppError> {
    let layout = airplane::Entity::find_by_id(flight.airplane_id)
        .one(txn)
        .await?
        .map(|a| a.seat_letters)
        .unwrap_or_default();
    let free_rows: Vec<flight_seat::Model> = flight_seat::Entity::find()
        .filter(flight_seat::Column::FlightId.eq(flight.id))
        .order_by_asc(flight_seat::Column::RowNumber)
        .order_by_asc(flight_seat::Column::Letter)
        .all(txn)
        .await?
        .into_iter()
        .filter(|seat| is_free(seat, now))
        .collect();
    let free: Vec<FreeSeat> = free_rows
        .iter()
        .map(|seat| FreeSeat::new(seat, price_of(flight, &seat.class)))
        .collect();
    let Some(seats) = choose(&free, count, &layout) else {
        return Ok(None);
    };
    let classes = free_rows
        .into_iter()
        .filter(|row| seats.contains(&row.seat))
        .map(|row| (row.seat, row.class))
        .collect();
    Ok(Some((seats, classes)))
}

/// What the seats cost together, at the flight's prices.
fn total_of(
    flight: &flight::Model,
    seats: &[String],
    classes: &SeatClasses,
) -> Result<i64, AppError> {
    seats.iter().try_fold(0i64, |total, seat| {
        let class = classes
            .get(seat)
            .ok_or_else(|| anyhow::anyhow!("seat {seat} has no class"))?;
        Ok(total + price_of(flight, class))
    })
}

fn price_of(flight: &flight::Model, class: &str) -> i64 {
    if class == CLASS_BUSINESS {
        flight.price_business
    } else {
        flight.price_economy
    }
}

/// One seat of a new booking: who sits there, in which class, at what price.
pub(super) struct SeatLine {
    pub seat: String,
    pub class: String,
    pub price: i64,
    pub passenger: String,
}

/// The booking's seats, one per passenger in order, priced by their classes.
pub(super) fn seat_lines(
    flight: &flight::Model,
    seats: &[String],
    classes: &SeatClasses,
    passengers: &[String],
) -> Result<Vec<SeatLine>, AppError> {
    seats
        .iter()
        .zip(passengers)
        .map(|(seat, passenger)| {
            let class = classes
                .get(seat)
                .cloned()
                .ok_or_else(|| anyhow::anyhow!("held seat {seat} has no class"))?;
            Ok(SeatLine {
                seat: seat.clone(),
                price: price_of(flight, &class),
                class,
                passenger: passenger.clone(),
            })
        })
        .collect()
}

async fn insert_seats(
    txn: &DatabaseTransaction,
    booking: booking::Model,
    flight: &flight::Model,
    seats: &[String],
    classes: &SeatClasses,
    passengers: &[String],
) -> Result<BookingDetails, AppError> {
    let rows = seat_lines(flight, seats, classes, passengers)?
        .into_iter()
        .map(|line| booking_seat::ActiveModel {
            booking_id: Set(booking.id),
            seat: Set(line.seat),
            price: Set(line.price),
            class: Set(line.class),
            passenger_name: Set(line.passenger),
            ..Default::default()
        });
    let insert = booking_seat::Entity::insert_many(rows);
    let seat_rows = if txn.support_returning() {
        let mut seat_rows = insert.exec_with_returning_many(txn).await?;
        seat_rows.sort_by_key(|seat| seat.id);
        seat_rows
    } else {
        insert.exec(txn).await?;
        seats_of(txn, booking.id).await?
    };
    Ok(BookingDetails {
        booking,
        seats: seat_rows,
    })
}

async fn seats_of<C: ConnectionTrait>(
    conn: &C,
    booking_id: i32,
) -> Result<Vec<booking_seat::Model>, AppError> {
    Ok(booking_seat::Entity::find()
        .filter(booking_seat::Column::BookingId.eq(booking_id))
        .order_by_asc(booking_seat::Column::Id)
        .all(conn)
        .await?)
}

/// Which of `seats` are not free right now (for the 409 answer).
async fn unavailable<C: ConnectionTrait>(
    conn: &C,
    flight_id: i32,
    seats: &[String],
) -> Result<Vec<String>, AppError> {
    let now = clock::now();
    let mut taken: Vec<String> = flight_seat::Entity::find()
        .filter(flight_seat::Column::FlightId.eq(flight_id))
        .filter(flight_seat::Column::Seat.is_in(seats.iter().cloned()))
        .all(conn)
        .await?
        .into_iter()
        .filter(|seat| !is_free(seat, now))
        .map(|seat| seat.seat)
        .collect();
    taken.sort_by_key(|s| SeatCode::parse(s).ok());
    Ok(taken)
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

/// Cancels a pending or confirmed booking and frees its seats; a confirmed booking's payment
/// is refunded through the provider after the commit (the sweeper retries a refund that a
/// crash or a provider error left undone).
#[tracing::instrument(skip(db, provider))]
pub async fn cancel(
    db: &Database,
    provider: Arc<dyn PaymentProvider>,
    policy: BookingPolicy,
    caller: Caller,
    id: i32,
) -> Result<BookingDetails, AppError> {
    let on_lane = db.clone();
    db.write(
        async move { cancel_here(&on_lane, provider.as_ref(), policy, caller, id).await }
            .in_current_span(),
    )
    .await
}

async fn cancel_here(
    db: &Database,
    provider: &dyn PaymentProvider,
    policy: BookingPolicy,
    caller: Caller,
    id: i32,
) -> Result<BookingDetails, AppError> {
    let now = clock::now();
    // Which flight, from a reader: it never changes, and the writer is kept for writes.
    let booking = find_visible(&db.reader, caller, id).await?;
    let txn = db.writer.begin().await?;
    let not_locked = Condition::any()
        .add(booking::Column::PaymentLockUntil.is_null())
        .add(booking::Column::PaymentLockUntil.lte(now));
    let cancel_from = |condition: Condition| {
        booking::Entity::update_many()
            .col_expr(booking::Column::Status, Expr::value(CANCELLED))
            .col_expr(booking::Column::UpdatedAt, Expr::value(now))
            .filter(booking::Column::Id.eq(id))
            .filter(not_locked.clone())
            .filter(condition)
    };
    seat_guard::queue_on_flight(&txn, booking.flight_id).await?;
    let was_confirmed = cancel_from(Condition::all().add(booking::Column::Status.eq(CONFIRMED)))
        .exec(&txn)
        .await?
        .rows_affected
        == 1;
    if !was_confirmed {
        let was_pending = cancel_from(
            Condition::all()
                .add(booking::Column::Status.eq(PENDING))
                .add(booking::Column::ExpiresAt.gt(now)),
        )
        .exec(&txn)
        .await?
        .rows_affected
            == 1;
        if !was_pending {
            txn.rollback().await?;
            let current = find_visible(&db.writer, caller, id).await?;
            if current.payment_locked(now) {
                return Err(AppError::Conflict(
                    "a payment for this booking is in progress".into(),
                ));
            }
            return Err(AppError::Conflict(format!(
                "the booking is {} and cannot be cancelled",
                current.effective_status(now)
            )));
        }
    }
    seat_guard::release(&txn, booking.flight_id, id).await?;
    outbox::enqueue(&txn, id, outbox::CANCELLED, policy.email_max_attempts, now).await?;
    if was_confirmed {
        payment::Entity::update_many()
            .col_expr(payment::Column::RefundRequestedAt, Expr::value(now))
            .filter(payment::Column::BookingId.eq(id))
            .filter(payment::Column::Status.eq(payment::SUCCEEDED))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    if was_confirmed {
        if let Err(err) = super::payments::refund_requested(db, provider, id).await {
            tracing::warn!(error = %err, booking_id = id, "refund deferred to the sweeper");
        }
    }
    get(db, caller, id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seat_check_s_templates_build_what_sea_query_builds() {
        for backend in [DbBackend::Sqlite, DbBackend::Postgres, DbBackend::MySql] {
            for count in 0..=TEMPLATED_SEATS + 1 {
                let seats: Vec<String> = (0..count).map(|i| format!("{}A", i + 1)).collect();
                assert_eq!(
                    flight_and_seats_statement(backend, 42, &seats),
                    backend.build(&flight_and_seats_select(42, &seats)),
                    "{backend:?}, {count} seats"
                );
            }
        }
    }
}
