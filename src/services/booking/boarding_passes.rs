//! Boarding passes of a checked-in booking: each seat's pass, its BCBP text included.

use chrono::{Duration, NaiveDateTime};
use sea_orm::EntityTrait;

use super::bcbp::{self, PassItems};
use super::bookings::{get, Caller};
use crate::clock;
use crate::db::Database;
use crate::error::AppError;
use crate::models::booking::booking::{self, CONFIRMED};
use crate::models::catalog::{airport, flight, SeatCode};

/// The boarding gate closes this long before departure (printed on the pass; the airline's
/// rule, not a setting: the contract names none).
pub const GATE_CLOSES_MINUTES: i64 = 20;

/// One passenger's pass.
#[derive(Debug, Clone)]
pub struct BoardingPass {
    pub seat: SeatCode,
    pub class: String,
    pub passenger: String,
    pub sequence: i32,
    /// The IATA BCBP barcode text.
    pub bcbp: String,
}

/// A checked-in booking's passes, with what the pass page prints around them.
#[derive(Debug, Clone)]
pub struct BoardingPasses {
    pub booking: booking::Model,
    pub flight: flight::Model,
    pub from: airport::Model,
    pub to: airport::Model,
    pub gate_closes_at: NaiveDateTime,
    pub passes: Vec<BoardingPass>,
}

/// The passes of a confirmed booking whose seats are all checked in (owner or admin; anyone
/// else: 404); any other booking is 409 `conflict`.
#[tracing::instrument(skip(db))]
pub async fn boarding_passes(
    db: &Database,
    caller: Caller,
    id: i32,
) -> Result<BoardingPasses, AppError> {
    let details = get(db, caller, id).await?;
    let status = details.booking.effective_status(clock::now()).to_string();
    let checked_in = !details.seats.is_empty()
        && details
            .seats
            .iter()
            .all(|seat| seat.checked_in_at.is_some());
    if status != CONFIRMED || !checked_in {
        return Err(AppError::Conflict(format!(
            "the booking is {status} and not checked in; boarding passes come with check-in"
        )));
    }
    let flight = flight::Entity::find_by_id(details.booking.flight_id)
        .one(&db.reader)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the booking's flight is missing"))?;
    let from = airport_of(db, flight.departure_airport_id).await?;
    let to = airport_of(db, flight.arrival_airport_id).await?;
    let mut passes = Vec::with_capacity(details.seats.len());
    for seat in details.seats {
        let code = SeatCode::parse(&seat.seat).map_err(|err| anyhow::anyhow!(err))?;
        let sequence = seat
            .checkin_sequence
            .ok_or_else(|| anyhow::anyhow!("a checked-in seat without its sequence number"))?;
        let bcbp = bcbp::encode(&PassItems {
            passenger: &seat.passenger_name,
            reference: &details.booking.reference,
            from: &from.code,
            to: &to.code,
            flight_number: &flight.flight_number,
            departure_local_date: flight.departure_local_date,
            class: &seat.class,
            seat: code,
            sequence: u32::try_from(sequence).unwrap_or(0),
        });
        passes.push(BoardingPass {
            seat: code,
            class: seat.class,
            passenger: seat.passenger_name,
            sequence,
            bcbp,
        });
    }
    Ok(BoardingPasses {
        gate_closes_at: flight.departure_time - Duration::minutes(GATE_CLOSES_MINUTES),
        booking: details.booking,
        flight,
        from,
        to,
        passes,
    })
}

async fn airport_of(db: &Database, id: i32) -> Result<airport::Model, AppError> {
    Ok(airport::Entity::find_by_id(id)
        .one(&db.reader)
        .await?
        .ok_or_else(|| anyhow::anyhow!("airport {id} of a flight is missing"))?)
}
