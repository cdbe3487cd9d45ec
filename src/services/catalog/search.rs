//! Flight search: route, the departure's local date, free seats and price, in one indexed
//! query that also counts all matches (a window count); a separate count runs only for a page
//! past the last match.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, PoisonError, RwLock};

use chrono::NaiveDate;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query, SelectStatement};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, FromQueryResult, QueryResult, Statement, Value};

use super::flights::{details_select, free_seats, join_airports, FlightDetails, SENTINEL_NOW};
use crate::clock;
use crate::db::template::{backend_slot, Template};
use crate::db::Database;
use crate::error::AppError;
use crate::models::catalog::{airport, flight, IataCode};
use crate::services::pagination::{Page, PageRequest};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
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
            total: row.try_get_by_index(13)?,
        })
    }
}

const TOTAL: &str = "total";

#[tracing::instrument(skip(db))]
pub async fn search(db: &Database, query: &FlightSearch) -> Result<Page<FlightDetails>, AppError> {
    let backend = db.reader.get_database_backend();
    let now = clock::now();
    let rows = Row::find_by_statement(rows_statement(query, now, backend))
        .all(&db.reader)
        .await?;
    let total = match rows.first() {
        Some(row) => row.total,
        // No row to carry the count: past the last page (or nothing matched).
        None if query.page.page > 1 => {
            let count = count_select(&Filters::of(query), now);
            Count::find_by_statement(backend.build(&count))
                .one(&db.reader)
                .await?
                .map(|c| c.total)
                .unwrap_or(0)
        }
        None => 0,
    };
    Ok(Page {
        items: rows.into_iter().map(|row| row.flight).collect(),
        request: query.page,
        total: u64::try_from(total).unwrap_or(0),
    })
}

/// The arguments of one search, as its statements take them.
#[derive(Clone, Copy)]
struct Filters<'a> {
    from: Option<&'a str>,
    to: Option<&'a str>,
    date: Option<NaiveDate>,
    passengers: Option<i32>,
    min_price: Option<i64>,
    max_price: Option<i64>,
    sort: SearchSort,
    limit: u64,
    offset: u64,
}

impl<'a> Filters<'a> {
    fn of(query: &'a FlightSearch) -> Self {
        Self {
            from: query.from.as_ref().map(IataCode::as_str),
            to: query.to.as_ref().map(IataCode::as_str),
            date: query.date,
            passengers: query.passengers,
            min_price: query.min_price,
            max_price: query.max_price,
            sort: query.sort,
            limit: query.page.per_page,
            offset: query.page.offset(),
        }
    }

    /// Which filters are set, and the order: what the SQL text depends on.
    fn shape(&self) -> (u8, SearchSort) {
        let set = [
            self.from.is_some(),
            self.to.is_some(),
            self.date.is_some(),
            self.passengers.is_some(),
            self.min_price.is_some(),
            self.max_price.is_some(),
        ];
        let bits = set
            .iter()
            .enumerate()
            .fold(0, |bits, (i, on)| bits | (u8::from(*on) << i));
        (bits, self.sort)
    }

    /// The same shape with sentinels for arguments (values no search holds), and the
    /// sentinels in the order `arguments` gives the real values.
    fn sentinels(&self) -> (Filters<'static>, Vec<Value>) {
        let mark = Filters {
            from: self.from.map(|_| "\u{1}from"),
            to: self.to.map(|_| "\u{1}to"),
            date: self.date.map(|_| NaiveDate::MIN),
            passengers: self.passengers.map(|_| i32::MIN + 11),
            min_price: self.min_price.map(|_| i64::MIN + 13),
            max_price: self.max_price.map(|_| i64::MIN + 17),
            sort: self.sort,
            limit: u64::MAX - 19,
            offset: u64::MAX - 23,
        };
        let values = mark.arguments(SENTINEL_NOW);
        (mark, values)
    }

    fn arguments(&self, now: chrono::NaiveDateTime) -> Vec<Value> {
        let mut values = vec![Value::from(now)];
        values.extend(self.from.map(Value::from));
        values.extend(self.to.map(Value::from));
        values.extend(self.date.map(Value::from));
        values.extend(self.passengers.map(Value::from));
        values.extend(self.min_price.map(Value::from));
        values.extend(self.max_price.map(Value::from));
        values.push(Value::from(self.limit));
        values.push(Value::from(self.offset));
        values
    }
}

/// The page's statement, from the template of its shape.
fn rows_statement(
    query: &FlightSearch,
    now: chrono::NaiveDateTime,
    backend: DbBackend,
) -> Statement {
    type Templates = RwLock<HashMap<(usize, u8, SearchSort), Arc<Template>>>;
    static TEMPLATES: OnceLock<Templates> = OnceLock::new();
    let filters = Filters::of(query);
    let (bits, sort) = filters.shape();
    let key = (backend_slot(backend), bits, sort);
    let templates = TEMPLATES.get_or_init(Default::default);
    let cached = templates
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&key)
        .cloned();
    let template = cached.unwrap_or_else(|| {
        let (mark, sentinels) = filters.sentinels();
        let built = Arc::new(Template::new(
            backend,
            &rows_select(&mark, SENTINEL_NOW, backend),
            &sentinels,
        ));
        templates
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key, built.clone());
        built
    });
    template.statement(&filters.arguments(now))
}

/// The page of rows (each with the count of all matches) and the count alone, as statements
/// (public so tests can check their plans).
pub fn statements(query: &FlightSearch, backend: DbBackend) -> (SelectStatement, SelectStatement) {
    let filters = Filters::of(query);
    let now = clock::now();
    (
        rows_select(&filters, now, backend),
        count_select(&filters, now),
    )
}

fn count_select(filters: &Filters<'_>, now: chrono::NaiveDateTime) -> SelectStatement {
    let mut count = Query::select();
    count
        .expr_as(
            Expr::col((flight::Entity, flight::Column::Id)).count(),
            Alias::new("total"),
        )
        .from(flight::Entity);
    join_airports(&mut count);
    filter(&mut count, filters, now);
    count
}

fn rows_select(
    filters: &Filters<'_>,
    now: chrono::NaiveDateTime,
    backend: DbBackend,
) -> SelectStatement {
    let mut rows = details_select(backend, now);
    // Counted over every match, before LIMIT: one query answers both the page and its total.
    rows.expr_as(Expr::cust("COUNT(*) OVER ()"), Alias::new(TOTAL));
    filter(&mut rows, filters, now);
    let (column, order) = match filters.sort {
        SearchSort::PriceAscending => (flight::Column::PriceEconomy, Order::Asc),
        SearchSort::PriceDescending => (flight::Column::PriceEconomy, Order::Desc),
        SearchSort::DepartureAscending => (flight::Column::DepartureTime, Order::Asc),
        SearchSort::DepartureDescending => (flight::Column::DepartureTime, Order::Desc),
    };
    rows.order_by((flight::Entity, column), order.clone())
        // A stable tie-break keeps pages from overlapping.
        .order_by((flight::Entity, flight::Column::Id), order)
        .limit(filters.limit)
        .offset(filters.offset);
    rows
}

fn filter(select: &mut SelectStatement, filters: &Filters<'_>, now: chrono::NaiveDateTime) {
    // A cancelled flight leaves the results. Written as SQL text, not as a value: the shape's
    // template places only the filters' values (see `rows_statement`).
    select.and_where(Expr::cust("flights.status = 'scheduled'"));
    if let Some(from) = filters.from {
        select.and_where(Expr::col((Alias::new("dep"), airport::Column::Code)).eq(from));
    }
    if let Some(to) = filters.to {
        select.and_where(Expr::col((Alias::new("arr"), airport::Column::Code)).eq(to));
    }
    if let Some(date) = filters.date {
        select.and_where(Expr::col((flight::Entity, flight::Column::DepartureLocalDate)).eq(date));
    }
    if let Some(passengers) = filters.passengers {
        select.and_where(free_seats(now).gte(passengers));
    }
    if let Some(min) = filters.min_price {
        select.and_where(Expr::col((flight::Entity, flight::Column::PriceEconomy)).gte(min));
    }
    if let Some(max) = filters.max_price {
        select.and_where(Expr::col((flight::Entity, flight::Column::PriceEconomy)).lte(max));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shape_s_template_builds_what_sea_query_builds() {
        let now = clock::now();
        let sorts = [
            SearchSort::PriceAscending,
            SearchSort::PriceDescending,
            SearchSort::DepartureAscending,
            SearchSort::DepartureDescending,
        ];
        for backend in [DbBackend::Sqlite, DbBackend::Postgres, DbBackend::MySql] {
            for bits in 0u8..64 {
                for sort in sorts {
                    let on = |i: u8| bits & (1 << i) != 0;
                    let filters = Filters {
                        from: on(0).then_some("DEL"),
                        to: on(1).then_some("BOM"),
                        date: on(2).then(|| NaiveDate::from_ymd_opt(2026, 12, 4).unwrap()),
                        passengers: on(3).then_some(2),
                        min_price: on(4).then_some(100),
                        max_price: on(5).then_some(900_000),
                        sort,
                        limit: 20,
                        offset: 40,
                    };
                    let (mark, sentinels) = filters.sentinels();
                    let template = Template::new(
                        backend,
                        &rows_select(&mark, SENTINEL_NOW, backend),
                        &sentinels,
                    );
                    assert_eq!(
                        template.statement(&filters.arguments(now)),
                        backend.build(&rows_select(&filters, now, backend)),
                        "{backend:?} shape {bits:#b} {sort:?}"
                    );
                }
            }
        }
    }
}
