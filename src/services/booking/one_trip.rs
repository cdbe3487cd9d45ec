//! SQLite's one-trip forms of two transactions (see `db::batch`): the booking's, and the
//! start of a payment attempt. Each is built where the request runs, before it queues for the
//! write lane, and goes to the writer as one batch, in a group with the other batches queued
//! there (see `db::batch_group`); its counts are checked as soon as it has run. Anything
//! unusual (a seat lost to a concurrent booking, a pending cap reached, a key already used, a
//! payment lock taken) undoes the batch, and the caller takes its step-by-step path, which
//! tells each case apart and answers it.

use chrono::NaiveDateTime;
use sea_orm::sea_query::{Expr, Query, SelectStatement, SimpleExpr};
use sea_orm::{
    ColumnTrait, DbBackend, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait,
};

use super::bookings::{new_booking, pending_of, seat_lines, BookingDetails, SeatClasses};
use super::idempotency::{self, IdempotencyKey};
use super::payments::{lock_for_payment, new_attempt, PaymentForCreate};
use super::seat_guard;
use crate::db::batch::{Answers, Batch};
use crate::db::Database;
use crate::error::AppError;
use crate::models::booking::{booking, booking_seat, idempotency_key, payment, reference};
use crate::models::catalog::flight;

/// A booking of chosen seats, as one batch.
pub(super) struct BookingInOneTrip {
    batch: Batch,
    seats: i64,
    max_pending: i64,
}

/// What a new booking starts from.
pub(super) struct NewBooking<'a> {
    pub user_id: i32,
    pub flight: &'a flight::Model,
    pub seats: &'a [String],
    pub classes: &'a SeatClasses,
    pub passengers: &'a [String],
    pub total: i64,
    pub now: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub max_pending: u32,
}

impl BookingInOneTrip {
    /// The statements of `bookings::hold_seats` for chosen seats, in its order: the flight's
    /// lock, the caller's pending bookings, the booking, its seats taken (available ones only)
    /// and the flight's summaries, the booking's seats; then the booking and its seats read
    /// back. The later statements find the booking by its reference, unknown to the caller
    /// until it is written.
    pub fn new(new: NewBooking<'_>) -> Result<Self, AppError> {
        let sqlite = DbBackend::Sqlite;
        let flight_id = new.flight.id;
        let reference = reference::generate();
        let this_booking = booking_by_reference(&reference);
        let as_value = || {
            SimpleExpr::SubQuery(
                None,
                Box::new(this_booking.clone().into_sub_query_statement()),
            )
        };
        let mut seat_rows = Query::insert();
        seat_rows.into_table(booking_seat::Entity).columns([
            booking_seat::Column::BookingId,
            booking_seat::Column::Seat,
            booking_seat::Column::Class,
            booking_seat::Column::Price,
            booking_seat::Column::PassengerName,
        ]);
        for line in seat_lines(new.flight, new.seats, new.classes, new.passengers)? {
            seat_rows
                .values([
                    as_value(),
                    line.seat.into(),
                    line.class.into(),
                    line.price.into(),
                    line.passenger.into(),
                ])
                .map_err(|err| anyhow::anyhow!("booking seat row: {err}"))?;
        }
        let seats = i64::try_from(new.seats.len()).unwrap_or(i64::MAX);
        let pending = pending_of(new.user_id, new.now)
            .select_only()
            .column_as(Expr::col(booking::Column::Id).count(), "pending");
        let batch = Batch::new()
            .write(seat_guard::lock_flight_statement(flight_id).build(sqlite))
            .count(pending.build(sqlite))
            .write(
                booking::Entity::insert(new_booking(
                    reference.clone(),
                    new.user_id,
                    new.flight,
                    new.total,
                    new.now,
                    new.expires_at,
                ))
                .build(sqlite),
            )
            .write(
                seat_guard::take_available_statement(
                    flight_id,
                    as_value(),
                    new.seats,
                    new.expires_at,
                )
                .build(sqlite),
            )
            .write(seat_guard::summaries_statement(sqlite, flight_id, -seats))
            .write(sqlite.build(&seat_rows))
            .rows(
                booking::Entity::find()
                    .filter(booking::Column::Reference.eq(reference.as_str()))
                    .build(sqlite),
            )
            .rows(
                booking_seat::Entity::find()
                    .filter(booking_seat::Column::BookingId.in_subquery(this_booking))
                    .order_by_asc(booking_seat::Column::Id)
                    .build(sqlite),
            );
        Ok(Self {
            batch,
            seats,
            max_pending: i64::from(new.max_pending),
        })
    }

    /// The booking, or `None` when it did not go cleanly (nothing was kept).
    pub async fn run(self, db: &Database) -> Result<Option<BookingDetails>, AppError> {
        let Self {
            batch,
            seats,
            max_pending,
        } = self;
        // A failed statement (a reference clash; the flight deleted since it was read, so the
        // booking's foreign key fails) leaves the step-by-step path to draw another reference,
        // or to answer as it would.
        let check = move |answers: Answers| {
            // The flight locked, the pending bookings, the booking, the seats taken, the
            // flight's summaries, the booking's seats.
            let clean = matches!(
                answers.counts.as_slice(),
                [1, pending, 1, taken, 1, written]
                    if *pending < max_pending && *taken == seats && *written == seats
            );
            // With the counts clean, the booking's read (by its unique reference) gave one
            // row; the rest are its seats.
            let (booking_row, seat_rows) = answers.rows.split_first().filter(|_| clean)?;
            let booking = booking::Model::from_query_result(booking_row, "").ok()?;
            let seats_read = seat_rows
                .iter()
                .map(|row| booking_seat::Model::from_query_result(row, ""))
                .collect::<Result<Vec<_>, _>>()
                .ok()?;
            (i64::try_from(seats_read.len()).ok() == Some(seats)).then_some(BookingDetails {
                booking,
                seats: seats_read,
            })
        };
        Ok(db.run_batch(batch, check).await?)
    }
}

fn booking_by_reference(reference: &str) -> SelectStatement {
    Query::select()
        .column(booking::Column::Id)
        .from(booking::Entity)
        .and_where(booking::Column::Reference.eq(reference))
        .to_owned()
}

/// The start of a payment attempt, as one batch.
pub(super) struct AttemptInOneTrip {
    batch: Batch,
}

/// What an attempt starts from.
pub(super) struct StartAttempt<'a> {
    pub user_id: i32,
    pub key: &'a IdempotencyKey,
    pub fingerprint: &'a str,
    pub booking: &'a booking::Model,
    pub request: &'a PaymentForCreate,
    pub lock_seen_clear: bool,
    pub now: NaiveDateTime,
    pub lock_until: NaiveDateTime,
}

/// How the one-trip start went.
pub(super) enum AttemptStart {
    /// Committed: the key claimed, the booking locked, the attempt recorded.
    Started {
        claim_id: i32,
        payment: payment::Model,
    },
    /// Something was unusual (the key claimed before, the booking's payment lock taken), or
    /// the database is not SQLite; nothing was kept.
    StepByStep,
}

impl AttemptInOneTrip {
    /// The statements of `payments::attempt` with the key's claim before them: the claim, the
    /// booking's payment lock, the attempt, the claim linked to it, the claim's id, and the
    /// hold lengthened when the lock outlasts it; then the attempt read back. The attempt's id
    /// is unknown until it is written: the link takes it from `last_insert_rowid()` (the
    /// statement before it is the attempt's insert) and the read finds it through the claim.
    pub fn new(start: StartAttempt<'_>) -> Self {
        let sqlite = DbBackend::Sqlite;
        let claim = || idempotency::claim_of(start.user_id, start.key);
        let claim_id = Query::select()
            .column(idempotency_key::Column::Id)
            .from(idempotency_key::Entity)
            .cond_where(claim())
            .to_owned();
        let linked_payment = Query::select()
            .column(idempotency_key::Column::PaymentId)
            .from(idempotency_key::Entity)
            .cond_where(claim())
            .to_owned();
        let mut batch = Batch::new()
            .write(
                idempotency::claim_insert(start.user_id, start.key, start.fingerprint, start.now)
                    .build(sqlite),
            )
            .write(
                lock_for_payment(
                    start.booking.id,
                    start.now,
                    start.lock_until,
                    start.lock_seen_clear,
                )
                .build(sqlite),
            )
            .write(
                payment::Entity::insert(new_attempt(start.booking, start.request, start.now))
                    .build(sqlite),
            )
            .write(
                idempotency::link_payment_statement(claim(), Expr::cust("last_insert_rowid()"))
                    .build(sqlite),
            )
            .count(sqlite.build(&claim_id))
            .rows(
                payment::Entity::find()
                    .filter(payment::Column::Id.in_subquery(linked_payment))
                    .build(sqlite),
            );
        // The seats stay held while the provider works (see `payments::attempt`).
        if start.lock_until > start.booking.expires_at {
            batch = batch.write(
                seat_guard::hold_until_statement(start.booking.id, start.lock_until).build(sqlite),
            );
        }
        Self { batch }
    }

    pub async fn run(self, db: &Database) -> Result<AttemptStart, AppError> {
        // A failed statement, most often the claim of a key already taken: the step-by-step
        // path tells which and answers (replay, 409, 422).
        let check = |answers: Answers| {
            // The claim, the lock, the attempt, the link, the claim's id (and the hold, any
            // count).
            let claim_id = match answers.counts.as_slice() {
                [1, 1, 1, 1, claim_id, ..] => i32::try_from(*claim_id).ok()?,
                _ => return None,
            };
            let [payment_row] = answers.rows.as_slice() else {
                return None;
            };
            let payment = payment::Model::from_query_result(payment_row, "").ok()?;
            Some(AttemptStart::Started { claim_id, payment })
        };
        let started = db.run_batch(self.batch, check).await?;
        Ok(started.unwrap_or(AttemptStart::StepByStep))
    }
}
