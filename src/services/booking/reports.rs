//! What admins look at: bookings filtered by status, flight or reference, and how full each
//! upcoming flight is.

use std::collections::HashMap;

use sea_orm::sea_query::{Alias, Expr, Func, Query, SimpleExpr};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
};

use crate::clock;
use crate::db::Database;
use crate::error::AppError;
use crate::models::booking::booking::{self, EXPIRED, PENDING};
use crate::models::catalog::flight;
use crate::models::catalog::flight_seat::{self, STATUS_BOOKED, STATUS_HELD};
use crate::services::pagination::{fetch_page, Page, PageRequest};

#[derive(Debug, Default, Clone)]
pub struct BookingFilter {
    /// The status as users see it: a pending booking whose hold ran out counts as expired.
    pub status: Option<String>,
    pub flight_id: Option<i32>,
    pub reference: Option<String>,
}

pub const STATUSES: [&str; 4] = ["pending", "confirmed", "cancelled", "expired"];

pub async fn bookings(
    db: &Database,
    filter: &BookingFilter,
    page: PageRequest,
) -> Result<Page<booking::Model>, AppError> {
    let now = clock::now();
    let hold_running = Condition::any()
        .add(booking::Column::ExpiresAt.gt(now))
        .add(booking::Column::PaymentLockUntil.gt(now));
    let mut query = booking::Entity::find();
    match filter.status.as_deref() {
        None => {}
        Some(PENDING) => {
            query = query
                .filter(booking::Column::Status.eq(PENDING))
                .filter(hold_running)
        }
        Some(EXPIRED) => {
            // Spelled out rather than `hold_running.not()`: a NULL lock would make that NULL.
            let lapsed = Condition::all()
                .add(booking::Column::Status.eq(PENDING))
                .add(booking::Column::ExpiresAt.lte(now))
                .add(
                    Condition::any()
                        .add(booking::Column::PaymentLockUntil.is_null())
                        .add(booking::Column::PaymentLockUntil.lte(now)),
                );
            query = query.filter(
                Condition::any()
                    .add(booking::Column::Status.eq(EXPIRED))
                    .add(lapsed),
            )
        }
        Some(other) => query = query.filter(booking::Column::Status.eq(other)),
    }
    if let Some(flight_id) = filter.flight_id {
        query = query.filter(booking::Column::FlightId.eq(flight_id));
    }
    if let Some(reference) = &filter.reference {
        query = query.filter(booking::Column::Reference.eq(reference.to_ascii_uppercase()));
    }
    fetch_page(&db.reader, query.order_by_desc(booking::Column::Id), page).await
}

/// Seats of one flight by state.
#[derive(Debug, Clone, Copy, Default, FromQueryResult)]
pub struct Occupancy {
    pub flight_id: i32,
    pub booked: i64,
    pub held: i64,
    pub seats: i64,
}

/// Flights departing from now on, soonest first, with their seat counts.
pub async fn occupancy(
    db: &Database,
    page: PageRequest,
) -> Result<(Page<flight::Model>, HashMap<i32, Occupancy>), AppError> {
    let now = clock::now();
    let flights = fetch_page(
        &db.reader,
        flight::Entity::find()
            .filter(flight::Column::DepartureTime.gt(now))
            .order_by_asc(flight::Column::DepartureTime)
            .order_by_asc(flight::Column::Id),
        page,
    )
    .await?;
    let ids: Vec<i32> = flights.items.iter().map(|f| f.id).collect();
    if ids.is_empty() {
        return Ok((flights, HashMap::new()));
    }
    // COUNT of a CASE, not SUM: every backend returns COUNT as a 64-bit integer.
    let count_where = |condition: Condition| {
        Func::count(Into::<SimpleExpr>::into(Expr::case(
            condition,
            Expr::val(1),
        )))
    };
    let status = || Expr::col(flight_seat::Column::Status);
    let select = Query::select()
        .column(flight_seat::Column::FlightId)
        .expr_as(
            count_where(Condition::all().add(status().eq(STATUS_BOOKED))),
            Alias::new("booked"),
        )
        .expr_as(
            count_where(
                Condition::all()
                    .add(status().eq(STATUS_HELD))
                    .add(Expr::col(flight_seat::Column::HeldUntil).gt(now)),
            ),
            Alias::new("held"),
        )
        .expr_as(Func::count(Expr::val(1)), Alias::new("seats"))
        .from(flight_seat::Entity)
        .and_where(flight_seat::Column::FlightId.is_in(ids))
        .group_by_col(flight_seat::Column::FlightId)
        .to_owned();
    let statement = db.reader.get_database_backend().build(&select);
    let counts = Occupancy::find_by_statement(statement)
        .all(&db.reader)
        .await?
        .into_iter()
        .map(|o| (o.flight_id, o))
        .collect();
    Ok((flights, counts))
}
