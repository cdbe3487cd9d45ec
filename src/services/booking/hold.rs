//! Creating a booking: its seats held, its passengers and total written, in one plan.

use std::collections::HashMap;

use chrono::{Duration, NaiveDateTime};
use sea_orm::sea_query::{Expr, Query, SelectStatement, SimpleExpr};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait,
};

use super::bookings::{BookingDetails, BookingForCreate, BookingPolicy, Caller, SeatRequest};
use super::seat_assignment::{choose, FreeSeat};
use super::seat_check::{check_seats, flight_and_seats};
use super::seat_guard;
use crate::clock;
use crate::db::plan::{Expect, PlanError, WritePlan};
use crate::db::session::Session;
use crate::db::Database;
use crate::error::AppError;
use crate::models::booking::booking::{self, BookingStatus};
use crate::models::booking::{booking_seat, reference};
use crate::models::catalog::flight_seat::{self, CLASS_BUSINESS};
use crate::models::catalog::{airplane, flight, SeatCode};
use crate::models::identity::user;
use crate::services::catalog::seats::is_free;

/// Attempts at a fresh random reference before giving up (a clash is one in ~10^8).
const REFERENCE_ATTEMPTS: usize = 5;

/// Seat -> cabin class.
type SeatClasses = HashMap<SeatCode, String>;

#[tracing::instrument(skip(session, new), fields(flight_id = new.flight_id, passengers = new.passengers.len()))]
pub async fn create(
    session: &mut Session<'_>,
    caller: Caller,
    policy: BookingPolicy,
    new: BookingForCreate,
) -> Result<BookingDetails, AppError> {
    let now = clock::now();
    let chosen: &[SeatCode] = match &new.seats {
        SeatRequest::Chosen(seats) => seats,
        SeatRequest::Assigned => &[],
    };
    // One read gives the flight and says which chosen seats exist and which are visibly taken:
    // in a rush for one seat, the losers answer without queueing for a write.
    // `session` may hold the connection the caller was read on; this read and the plan go on
    // it too.
    let db = session.database();
    let (flight, found) = flight_and_seats(session, new.flight_id, chosen)
        .await?
        .ok_or_else(no_flight)?;
    if flight.is_cancelled() {
        return Err(AppError::FlightCancelled);
    }
    if flight.departure_time <= now {
        return Err(AppError::FlightDeparted);
    }
    let sales_close = sales_close_of(&flight, policy);
    if sales_close <= now {
        return Err(AppError::SalesClosed);
    }
    // A hold never outlives the sales: once they close, it cannot be paid.
    let expires_at = sales_close.min(
        now + Duration::seconds(i64::try_from(policy.hold_ttl_seconds).unwrap_or(i64::MAX / 4_000)),
    );
    let hold = Hold {
        client: &new.client,
        caller,
        policy,
        flight: &flight,
        passengers: &new.passengers,
        now,
        expires_at,
    };
    if let SeatRequest::Chosen(seats) = &new.seats {
        let taken = check_seats(seats, &found, now)?;
        if policy.seat_guard && !taken.is_empty() {
            return Err(AppError::SeatUnavailable(taken));
        }
        // A seat's class belongs to the airplane's layout, so the read gives the prices.
        let classes: SeatClasses = found.into_iter().map(|s| (s.seat, s.class)).collect();
        return match hold.write(seats, &classes, session).await? {
            Held::Booked(details) => Ok(*details),
            Held::SeatsLost => Err(AppError::SeatUnavailable(
                unavailable(db, flight.id, seats).await?,
            )),
        };
    }
    // Assigned seats are chosen from a read and taken by the same plan; whenever a concurrent
    // booking took one first, they are chosen again. Every lost race means another booking
    // won, so this ends once the flight has no room left.
    let attempts = usize::try_from(flight.seats_total).unwrap_or(0) + 1;
    for _ in 0..attempts {
        let Some((seats, classes)) = assign(session, &flight, new.passengers.len(), now).await?
        else {
            break;
        };
        if let Held::Booked(details) = hold.write(&seats, &classes, session).await? {
            return Ok(*details);
        }
    }
    Err(AppError::SeatUnavailable(Vec::new()))
}

fn no_flight() -> AppError {
    AppError::field("flight_id", "no flight has this id")
}

/// A booking about to be written.
struct Hold<'a> {
    client: &'a str,
    caller: Caller,
    policy: BookingPolicy,
    flight: &'a flight::Model,
    passengers: &'a [String],
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
}

enum Held {
    Booked(Box<BookingDetails>),
    /// A seat went to another booking since it was read.
    SeatsLost,
}

impl Hold<'_> {
    /// Writes the booking of `seats`; a reference that clashes is drawn again.
    async fn write(
        &self,
        seats: &[SeatCode],
        classes: &SeatClasses,
        session: &mut Session<'_>,
    ) -> Result<Held, AppError> {
        for _ in 0..REFERENCE_ATTEMPTS {
            let reference = reference::generate();
            let plan = self.plan(&reference, seats, classes)?;
            let refused = match session.execute(plan).await {
                Ok(written) => {
                    return Ok(Held::Booked(Box::new(BookingDetails {
                        booking: written.one("booking")?,
                        seats: written.all("seats")?,
                    })))
                }
                Err(refused) => refused,
            };
            match refused {
                err if err.is_unique_violation() => continue,
                PlanError::Refused("seats") => return Ok(Held::SeatsLost),
                PlanError::Refused("pending") => {
                    return Err(AppError::Conflict(format!(
                        "you already hold {} pending bookings; pay or cancel one first",
                        self.policy.max_pending_bookings
                    )))
                }
                PlanError::Refused("client_seats") => {
                    return Err(AppError::Conflict(format!(
                        "unpaid bookings from your network may hold at most {} seats of this \
                         flight; pay or cancel one first",
                        self.policy.max_held_seats_per_client
                    )))
                }
                PlanError::Refused("scheduled") => return Err(AppError::FlightCancelled),
                // The flight was deleted since it was read.
                PlanError::Refused("flight" | "summaries") => return Err(no_flight()),
                PlanError::Failed(err) if crate::db::is_foreign_key_violation(&err) => {
                    return Err(no_flight())
                }
                other => return Err(other.into()),
            }
        }
        Err(anyhow::anyhow!("no free booking reference after {REFERENCE_ATTEMPTS} attempts").into())
    }

    /// The booking's one transaction. Checks: the caller's pending bookings under the cap
    /// (counted behind the caller's row lock, so exact under concurrency), the seats held from
    /// the client's address on this flight under theirs (behind the flight's lock), every seat
    /// taken from the free ones, one passenger line per seat.
    fn plan(
        &self,
        reference: &str,
        seats: &[SeatCode],
        classes: &SeatClasses,
    ) -> Result<WritePlan, AppError> {
        let flight = self.flight;
        let seat_count = i64::try_from(seats.len()).unwrap_or(i64::MAX);
        let this_booking = || booking_id_by_reference(reference);
        let seat_names: Vec<String> = seats.iter().map(ToString::to_string).collect();
        let lines = passenger_lines(flight, seats, classes, self.passengers, this_booking)?;
        let pending = pending_of(self.caller.user_id, self.now)
            .select_only()
            .column_as(Expr::col(booking::Column::Id).count(), "pending")
            .into_query();
        let client_cap = i64::from(self.policy.max_held_seats_per_client);
        let taken = if self.policy.seat_guard {
            Expect::Is(seat_count)
        } else {
            Expect::Any
        };
        Ok(WritePlan::new()
            .lock("caller", lock_user(self.caller.user_id))
            .lock("flight", seat_guard::flight_row(flight.id))
            // Behind the flight's lock: a cancellation of the flight comes before or after.
            .count("scheduled", still_scheduled(flight.id), Expect::Is(1))
            .count(
                "pending",
                pending,
                Expect::Below(i64::from(self.policy.max_pending_bookings)),
            )
            .count(
                "client_seats",
                seats_held_from(self.client, flight.id, self.now),
                // Held so far plus these within the cap.
                Expect::Below(client_cap - seat_count + 1),
            )
            .write(
                "booking",
                booking::Entity::insert(self.new_booking(reference, seats, classes)?).into_query(),
                Expect::Is(1),
            )
            .write(
                "seats",
                seat_guard::take_statement(
                    flight.id,
                    SimpleExpr::SubQuery(None, Box::new(this_booking().into_sub_query_statement())),
                    &seat_names,
                    self.expires_at,
                    self.now,
                    self.policy.seat_guard,
                ),
                taken,
            )
            .write(
                "summaries",
                seat_guard::summaries_statement(flight.id),
                Expect::Is(1),
            )
            .write("passengers", lines, Expect::Is(seat_count))
            .read(
                "booking",
                booking::Entity::find().filter(booking::Column::Reference.eq(reference)),
            )
            .read(
                "seats",
                booking_seat::Entity::find()
                    .filter(booking_seat::Column::BookingId.in_subquery(this_booking()))
                    .order_by_asc(booking_seat::Column::Id),
            ))
    }

    fn new_booking(
        &self,
        reference: &str,
        seats: &[SeatCode],
        classes: &SeatClasses,
    ) -> Result<booking::ActiveModel, AppError> {
        Ok(booking::ActiveModel {
            reference: Set(reference.to_string()),
            user_id: Set(self.caller.user_id),
            flight_id: Set(self.flight.id),
            status: Set(BookingStatus::Pending.as_str().into()),
            total: Set(total_of(self.flight, seats, classes)?),
            currency: Set(self.flight.currency.clone()),
            client_key: Set(Some(self.client.to_string())),
            created_at: Set(self.now),
            expires_at: Set(self.expires_at),
            payment_lock_until: Set(None),
            updated_at: Set(self.now),
            ..Default::default()
        })
    }
}

/// 1 while the flight is scheduled (not cancelled).
fn still_scheduled(flight_id: i32) -> SelectStatement {
    Query::select()
        .expr(Expr::cust("COUNT(*)"))
        .from(flight::Entity)
        .and_where(flight::Column::Id.eq(flight_id))
        .and_where(flight::Column::Status.eq(flight::SCHEDULED))
        .to_owned()
}

/// When booking and paying the flight close.
fn sales_close_of(flight: &flight::Model, policy: BookingPolicy) -> NaiveDateTime {
    flight.departure_time - Duration::minutes(i64::from(policy.sales_close_minutes))
}

/// How many seats of the flight the unexpired pending bookings made from `client` hold.
fn seats_held_from(client: &str, flight_id: i32, now: NaiveDateTime) -> SelectStatement {
    Query::select()
        .expr(Expr::cust("COUNT(*)"))
        .from(booking_seat::Entity)
        .inner_join(
            booking::Entity,
            Expr::col((booking::Entity, booking::Column::Id))
                .equals((booking_seat::Entity, booking_seat::Column::BookingId)),
        )
        .and_where(Expr::col((booking::Entity, booking::Column::FlightId)).eq(flight_id))
        .and_where(Expr::col((booking::Entity, booking::Column::ClientKey)).eq(client))
        .and_where(
            Expr::col((booking::Entity, booking::Column::Status))
                .eq(BookingStatus::Pending.as_str()),
        )
        .and_where(Expr::col((booking::Entity, booking::Column::ExpiresAt)).gt(now))
        .to_owned()
}

/// The user's row lock: one user's bookings queue on it, so their pending cap is exact.
fn lock_user(user_id: i32) -> SelectStatement {
    Query::select()
        .column(user::Column::Id)
        .from(user::Entity)
        .and_where(user::Column::Id.eq(user_id))
        .to_owned()
}

/// The id of the booking with `reference` (unique), for statements written before it exists.
fn booking_id_by_reference(reference: &str) -> SelectStatement {
    Query::select()
        .column(booking::Column::Id)
        .from(booking::Entity)
        .and_where(booking::Column::Reference.eq(reference))
        .to_owned()
}

/// The caller's bookings that still hold seats unpaid (the cap counts them).
fn pending_of(user_id: i32, now: NaiveDateTime) -> sea_orm::Select<booking::Entity> {
    booking::Entity::find()
        .filter(booking::Column::UserId.eq(user_id))
        .filter(booking::Column::Status.eq(BookingStatus::Pending.as_str()))
        .filter(booking::Column::ExpiresAt.gt(now))
}

/// The booking's seats, one per passenger in order, priced by their classes.
fn passenger_lines(
    flight: &flight::Model,
    seats: &[SeatCode],
    classes: &SeatClasses,
    passengers: &[String],
    booking: impl Fn() -> SelectStatement,
) -> Result<sea_orm::sea_query::InsertStatement, AppError> {
    let mut insert = Query::insert();
    insert.into_table(booking_seat::Entity).columns([
        booking_seat::Column::BookingId,
        booking_seat::Column::Seat,
        booking_seat::Column::Class,
        booking_seat::Column::Price,
        booking_seat::Column::PassengerName,
    ]);
    for (seat, passenger) in seats.iter().zip(passengers) {
        let class = class_of(classes, seat)?;
        insert
            .values([
                SimpleExpr::SubQuery(None, Box::new(booking().into_sub_query_statement())),
                seat.to_string().into(),
                class.into(),
                price_of(flight, class).into(),
                passenger.clone().into(),
            ])
            .map_err(|err| anyhow::anyhow!("booking seat row: {err}"))?;
    }
    Ok(insert.to_owned())
}

fn class_of<'a>(classes: &'a SeatClasses, seat: &SeatCode) -> Result<&'a str, AppError> {
    classes
        .get(seat)
        .map(String::as_str)
        .ok_or_else(|| anyhow::anyhow!("seat {seat} has no class").into())
}

/// What the seats cost together, at the flight's prices.
fn total_of(
    flight: &flight::Model,
    seats: &[SeatCode],
    classes: &SeatClasses,
) -> Result<i64, AppError> {
    seats.iter().try_fold(0i64, |total, seat| {
        Ok(total + price_of(flight, class_of(classes, seat)?))
    })
}

fn price_of(flight: &flight::Model, class: &str) -> i64 {
    if class == CLASS_BUSINESS {
        flight.price_business
    } else {
        flight.price_economy
    }
}

/// Seats for `count` passengers chosen from the flight's free seats as read now, with their
/// classes; `None` when too few are free.
async fn assign(
    session: &mut Session<'_>,
    flight: &flight::Model,
    count: usize,
    now: NaiveDateTime,
) -> Result<Option<(Vec<SeatCode>, SeatClasses)>, AppError> {
    // On the session: it may hold the connection its plan will use.
    let backend = session.database().reader.get_database_backend();
    let layout = match session
        .query_one(airplane::Entity::find_by_id(flight.airplane_id).build(backend))
        .await?
    {
        Some(row) => airplane::Model::from_query_result(&row, "")?.seat_letters,
        None => String::new(),
    };
    let seat_rows = flight_seat::Entity::find()
        .filter(flight_seat::Column::FlightId.eq(flight.id))
        .order_by_asc(flight_seat::Column::RowNumber)
        .order_by_asc(flight_seat::Column::Letter)
        .build(backend);
    let mut free_rows = Vec::new();
    for row in session.query_all(seat_rows).await? {
        let seat = flight_seat::Model::from_query_result(&row, "")?;
        if is_free(&seat, now) {
            free_rows.push(seat);
        }
    }
    let free: Vec<FreeSeat> = free_rows
        .iter()
        .map(|seat| FreeSeat::new(seat, price_of(flight, &seat.class)))
        .collect();
    let Some(chosen) = choose(&free, count, &layout) else {
        return Ok(None);
    };
    let mut seats = Vec::with_capacity(chosen.len());
    let mut classes = SeatClasses::new();
    for name in &chosen {
        let seat = SeatCode::parse(name).map_err(|err| anyhow::anyhow!(err))?;
        let class = free_rows
            .iter()
            .find(|row| &row.seat == name)
            .map(|row| row.class.clone())
            .ok_or_else(|| anyhow::anyhow!("chosen seat {name} is not on the flight"))?;
        seats.push(seat);
        classes.insert(seat, class);
    }
    Ok(Some((seats, classes)))
}

/// Which of `seats` are not free right now (for the 409 answer), in seat order.
async fn unavailable(
    db: &Database,
    flight_id: i32,
    seats: &[SeatCode],
) -> Result<Vec<SeatCode>, AppError> {
    let now = clock::now();
    let mut taken = Vec::new();
    for seat in flight_seat::Entity::find()
        .filter(flight_seat::Column::FlightId.eq(flight_id))
        .filter(flight_seat::Column::Seat.is_in(seats.iter().map(ToString::to_string)))
        .all(&db.reader)
        .await?
    {
        if !is_free(&seat, now) {
            taken.push(SeatCode::parse(&seat.seat).map_err(|err| anyhow::anyhow!(err))?);
        }
    }
    taken.sort();
    Ok(taken)
}
