//! Flight search: route, the departure's local date, free seats and price, in one indexed
//! query that also counts all matches (a window count); a separate count runs only for a page
//! past the last match.

use chrono::NaiveDate;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query, SelectStatement};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, FromQueryResult, QueryResult};

use super::flights::{details_select, free_seats, join_airports, FlightDetails};
use crate::clock;
use crate::db::Database;
use crate::error::AppError;
use crate::models::catalog::{airport, flight, IataCode};
use crate::services::pagination::{Page, PageRequest};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SearchSort {
    PriceAscending,
    PriceDescending,
    #[default]
    DepartureAscending,
    DepartureDescending,
}

impl SearchSort {
    pub fn parse(input: &str) -> Result<Self, String> {
        match input {
            "price" => Ok(Self::PriceAscending),
            "-price" => Ok(Self::PriceDescending),
            "departure_time" => Ok(Self::DepartureAscending),
            "-departure_time" => Ok(Self::DepartureDescending),
            _ => Err("must be one of price, -price, departure_time, -departure_time".into()),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct FlightSearch {
    pub from: Option<IataCode>,
    pub to: Option<IataCode>,
    /// The departure's local date at the departure airport.
    pub date: Option<NaiveDate>,
    pub passengers: Option<i32>,
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    pub sort: SearchSort,
    pub page: PageRequest,
}

#[derive(FromQueryResult)]
struct Count {
    total: i64,
}

/// A page row: the flight and the number of matches across all pages.
struct Row {
    flight: FlightDetails,
    total: i64,
}

impl FromQueryResult for Row {
    fn from_query_result(row: &QueryResult, pre: &str) -> Result<Self, DbErr> {
        Ok(Self {
            flight: FlightDetails::from_query_result(row, pre)?,
            // Right after the flight's columns (see `statements`).
            total: row.try_get_by_index(12)?,
        })
    }
}

const TOTAL: &str = "total";

#[tracing::instrument(skip(db))]
pub async fn search(db: &Database, query: &FlightSearch) -> Result<Page<FlightDetails>, AppError> {
    let backend = db.reader.get_database_backend();
    let (rows, count) = statements(query, backend);
    let rows = Row::find_by_statement(backend.build(&rows))
        .all(&db.reader)
        .await?;
    let total = match rows.first() {
        Some(row) => row.total,
        // No row to carry the count: past the last page (or nothing matched).
        None if query.page.page > 1 => Count::find_by_statement(backend.build(&count))
            .one(&db.reader)
            .await?
            .map(|c| c.total)
            .unwrap_or(0),
        None => 0,
    };
    Ok(Page {
        items: rows.into_iter().map(|row| row.flight).collect(),
        request: query.page,
        total: u64::try_from(total).unwrap_or(0),
    })
}

/// The page of rows (each with the count of all matches) and the count alone, as statements
/// (public so tests can check their plans).
pub fn statements(query: &FlightSearch, backend: DbBackend) -> (SelectStatement, SelectStatement) {
    let mut rows = details_select(backend);
    // Counted over every match, before LIMIT: one query answers both the page and its total.
    rows.expr_as(Expr::cust("COUNT(*) OVER ()"), Alias::new(TOTAL));
    let mut count = Query::select();
    count
        .expr_as(
            Expr::col((flight::Entity, flight::Column::Id)).count(),
            Alias::new("total"),
        )
        .from(flight::Entity);
    join_airports(&mut count);

    let now = clock::now();
    for select in [&mut rows, &mut count] {
        if let Some(from) = &query.from {
            select
                .and_where(Expr::col((Alias::new("dep"), airport::Column::Code)).eq(from.as_str()));
        }
        if let Some(to) = &query.to {
            select.and_where(Expr::col((Alias::new("arr"), airport::Column::Code)).eq(to.as_str()));
        }
        if let Some(date) = query.date {
            select.and_where(
                Expr::col((flight::Entity, flight::Column::DepartureLocalDate)).eq(date),
            );
        }
        if let Some(passengers) = query.passengers {
            select.and_where(free_seats(now).gte(passengers));
        }
        if let Some(min) = query.min_price {
            select.and_where(Expr::col((flight::Entity, flight::Column::PriceEconomy)).gte(min));
        }
        if let Some(max) = query.max_price {
            select.and_where(Expr::col((flight::Entity, flight::Column::PriceEconomy)).lte(max));
        }
    }

    let (column, order) = match query.sort {
        SearchSort::PriceAscending => (flight::Column::PriceEconomy, Order::Asc),
        SearchSort::PriceDescending => (flight::Column::PriceEconomy, Order::Desc),
        SearchSort::DepartureAscending => (flight::Column::DepartureTime, Order::Asc),
        SearchSort::DepartureDescending => (flight::Column::DepartureTime, Order::Desc),
    };
    rows.order_by((flight::Entity, column), order.clone())
        // A stable tie-break keeps pages from overlapping.
        .order_by((flight::Entity, flight::Column::Id), order)
        .limit(query.page.per_page)
        .offset(query.page.offset());
    (rows, count)
}
