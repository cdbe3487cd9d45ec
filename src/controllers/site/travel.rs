//! Public pages: the search form, results, and a flight's page with its seat map, from which
//! a signed-in traveller holds seats.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::render::{page, see_other};
use super::session::{Posted, Visitor};
use crate::clock;
use crate::controllers::booking::{BookingBody, PassengerBody};
use crate::controllers::catalog::search::SearchParams;
use crate::controllers::extractors::ClientAddress;
use crate::error::{AppError, FieldError};
use crate::models::catalog::flight::CANCELLED;
use crate::services::booking::bookings::{self, Caller, MAX_PASSENGERS};
use crate::services::booking::flight_report;
use crate::services::catalog::search::FlightSearch;
use crate::services::catalog::{airplanes, airports, flights, search, seats};
use crate::services::pagination::PageRequest;
use crate::state::AppState;
use crate::views::site::travel::{
    cabin_sections, seat_rows, Airports, Days, EmptyResults, FlightPage, FlightSummary, HomePage,
    PassengerInput, ResultsPage, SearchForm, SORTS,
};
use crate::views::site::{field_errors, FieldErrors, Pager};

fn search_form(params: &SearchParams) -> SearchForm {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    SearchForm {
        from: text(&params.from),
        to: text(&params.to),
        date: text(&params.date),
        passengers: params.passengers.clone().unwrap_or_else(|| "1".into()),
        sort: text(&params.sort),
    }
}

fn today() -> String {
    clock::now().date().format("%Y-%m-%d").to_string()
}

#[get("/")]
pub async fn home(state: web::Data<AppState>, visitor: Visitor) -> Result<HttpResponse, AppError> {
    let airports = Airports::new(airports::directory(&state.db).await?);
    let view = HomePage {
        airports: airports.options,
        form: SearchForm {
            passengers: "1".into(),
            date: today(),
            ..Default::default()
        },
        errors: FieldErrors::new(),
        today: today(),
    };
    page(&state, &visitor, "home", StatusCode::OK, &view)
}

/// The website asks for a route and a date; the API's other checks apply as they are.
fn required_fields(params: &SearchParams) -> Vec<FieldError> {
    let blank = |v: &Option<String>| v.as_deref().is_none_or(|s| s.trim().is_empty());
    let mut errors = Vec::new();
    if blank(&params.from) {
        errors.push(FieldError::new("from", "choose where you fly from"));
    }
    if blank(&params.to) {
        errors.push(FieldError::new("to", "choose where you fly to"));
    }
    if blank(&params.date) {
        errors.push(FieldError::new("date", "choose a date"));
    }
    if !blank(&params.from) && params.from == params.to {
        errors.push(FieldError::new("to", "choose a different airport"));
    }
    errors
}

#[get("/flights")]
pub async fn results(
    state: web::Data<AppState>,
    visitor: Visitor,
    params: web::Query<SearchParams>,
) -> Result<HttpResponse, AppError> {
    let airports = Airports::new(airports::directory(&state.db).await?);
    let form = search_form(&params);
    let mut errors = required_fields(&params);
    let query = match FlightSearch::try_from(&*params) {
        Ok(query) => Some(query),
        Err(AppError::Validation(more)) => {
            errors.extend(more);
            None
        }
        Err(other) => return Err(other),
    };
    let query = match query {
        Some(query) if errors.is_empty() => query,
        _ => {
            let view = HomePage {
                airports: airports.options,
                form,
                errors: field_errors(&errors),
                today: today(),
            };
            return page(
                &state,
                &visitor,
                "home",
                StatusCode::UNPROCESSABLE_ENTITY,
                &view,
            );
        }
    };
    let found = search::search(&state.db, &query).await?;
    let empty = match found.total {
        0 => Some(why_empty(&state, &query).await?),
        _ => None,
    };
    let now = clock::now();
    let link = |date: &str, page: u64| {
        let mut pairs = vec![
            ("from", form.from.clone()),
            ("to", form.to.clone()),
            ("date", date.to_string()),
            ("passengers", form.passengers.clone()),
        ];
        if page > 1 {
            pairs.push(("page", page.to_string()));
        }
        if !form.sort.is_empty() {
            pairs.push(("sort", form.sort.clone()));
        }
        format!(
            "/flights?{}",
            serde_html_form::to_string(pairs).unwrap_or_default()
        )
    };
    let pager = Pager::new(
        found.request.page,
        found.request.per_page,
        found.total,
        |n| link(&form.date, n),
    );
    let days = query
        .date
        .map(|date| Days::around(date, now.date(), |d| link(&d.to_string(), 1)))
        .unwrap_or_default();
    let view = ResultsPage {
        days,
        empty,
        from_city: airports.city(&form.from.to_ascii_uppercase()),
        to_city: airports.city(&form.to.to_ascii_uppercase()),
        flights: found
            .items
            .iter()
            .map(|f| FlightSummary::new(f, &airports, now))
            .collect(),
        total: found.total,
        sorts: &SORTS,
        pager,
        airports: airports.options,
        form,
        errors: FieldErrors::new(),
        today: today(),
    };
    page(&state, &visitor, "results", StatusCode::OK, &view)
}

/// Why a search found nothing: no flight that day at all, or none with enough free seats.
async fn why_empty(state: &AppState, query: &FlightSearch) -> Result<EmptyResults, AppError> {
    if query.passengers.is_none() {
        return Ok(EmptyResults::NoFlights);
    }
    let any_seats = FlightSearch {
        passengers: None,
        page: PageRequest {
            page: 1,
            per_page: 1,
        },
        ..query.clone()
    };
    Ok(match search::search(&state.db, &any_seats).await?.total {
        0 => EmptyResults::NoFlights,
        _ => EmptyResults::NotEnoughSeats,
    })
}

#[derive(Deserialize)]
pub struct FlightParams {
    pub passengers: Option<String>,
    /// Seats picked before signing in, `2A,2B`.
    pub seats: Option<String>,
}

/// What the traveller typed and picked, kept when the page is shown again.
#[derive(Deserialize, Default)]
pub struct HoldForm {
    #[serde(default)]
    pub passenger: Vec<String>,
    #[serde(default)]
    pub seat: Vec<String>,
}

/// How the flight page looks after a failed hold.
#[derive(Default)]
struct Outcome {
    errors: Vec<FieldError>,
    message: Option<String>,
    just_taken: Vec<String>,
}

async fn flight_page(
    state: &AppState,
    visitor: &Visitor,
    flight_id: i32,
    form: HoldForm,
    passenger_count: usize,
    outcome: Outcome,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let flight = flights::get(&state.db, flight_id).await?;
    let airplane = airplanes::get(&state.db, flight.airplane_id).await?;
    let seat_list = seats::seat_map(&state.db, flight.id).await?;
    let airports = Airports::new(airports::directory(&state.db).await?);
    let cancel_reason = match flight.status.as_str() {
        CANCELLED => flight_report::cancellation_of(&state.db, flight.id)
            .await?
            .map(|(reason, _)| reason),
        _ => None,
    };
    let now = clock::now();
    let errors = field_errors(&outcome.errors);
    let chosen: Vec<String> = form
        .seat
        .iter()
        .map(|s| s.trim().to_ascii_uppercase())
        .filter(|s| !outcome.just_taken.contains(s))
        .collect();
    let passengers = (0..passenger_count)
        .map(|index| PassengerInput {
            index,
            name: form.passenger.get(index).cloned().unwrap_or_default(),
            error: errors.get(&format!("passengers[{index}].name")).cloned(),
        })
        .collect();
    let seat_error = errors
        .iter()
        .find(|(field, _)| field.starts_with("seats"))
        .map(|(_, message)| message.clone());
    let message = outcome
        .message
        .or_else(|| errors.get("passengers").cloned());
    let rows = seat_rows(
        &flight,
        &airplane.seat_letters,
        seat_list,
        &chosen,
        &outcome.just_taken,
        now,
    );
    // Back to this page, these seats still picked, once signed in.
    let back = flight_url(flight_id, passenger_count, &chosen);
    let view = FlightPage {
        sections: cabin_sections(&flight, rows),
        columns: airplane.seat_letters.chars().map(String::from).collect(),
        flight: FlightSummary::new(&flight, &airports, now),
        passengers,
        passenger_count,
        message,
        seat_error,
        signin_url: with_next("/signin", &back),
        signup_url: with_next("/signup", &back),
        cancel_reason,
    };
    page(state, visitor, "flight", status, &view)
}

/// The flight page with the party size and the seats picked (`seats=2A,2B`).
fn flight_url(flight_id: i32, passengers: usize, seats: &[String]) -> String {
    let mut pairs = vec![("passengers", passengers.to_string())];
    if !seats.is_empty() {
        pairs.push(("seats", seats.join(",")));
    }
    format!(
        "/flights/{flight_id}?{}",
        serde_html_form::to_string(pairs).unwrap_or_default()
    )
}

fn with_next(page: &str, next: &str) -> String {
    format!(
        "{page}?{}",
        serde_html_form::to_string([("next", next)]).unwrap_or_default()
    )
}

/// Seats named in a link (`2A,2B`), at most one per passenger.
fn seats_of(list: Option<&str>, passengers: usize) -> Vec<String> {
    list.unwrap_or_default()
        .split(',')
        .map(|s| s.trim().to_ascii_uppercase())
        .filter(|s| !s.is_empty() && s.len() <= 4)
        .take(passengers)
        .collect()
}

fn passenger_count(raw: Option<&str>) -> usize {
    raw.and_then(|p| p.trim().parse::<usize>().ok())
        .filter(|n| (1..=MAX_PASSENGERS).contains(n))
        .unwrap_or(1)
}

#[get("/flights/{id}")]
pub async fn show_flight(
    state: web::Data<AppState>,
    visitor: Visitor,
    id: web::Path<i32>,
    params: web::Query<FlightParams>,
) -> Result<HttpResponse, AppError> {
    let count = passenger_count(params.passengers.as_deref());
    let form = HoldForm {
        seat: seats_of(params.seats.as_deref(), count),
        ..Default::default()
    };
    flight_page(
        &state,
        &visitor,
        *id,
        form,
        count,
        Outcome::default(),
        StatusCode::OK,
    )
    .await
}

/// A signed-out visitor's "sign in to book": to the sign-in page, which sends them back to
/// this flight with the seats they picked (a GET form of the seat map, so no script needed).
#[get("/flights/{id}/signin")]
pub async fn sign_in_to_book(id: web::Path<i32>, req: HttpRequest) -> HttpResponse {
    #[derive(Deserialize, Default)]
    struct Picked {
        passengers: Option<String>,
        #[serde(default)]
        seat: Vec<String>,
    }
    // Checkboxes repeat their name (`seat=2A&seat=2B`), which serde_html_form reads as a list.
    let picked: Picked = serde_html_form::from_str(req.query_string()).unwrap_or_default();
    let count = passenger_count(picked.passengers.as_deref());
    let seats = seats_of(Some(&picked.seat.join(",")), count);
    see_other(&with_next("/signin", &flight_url(*id, count, &seats)))
}

#[post("/flights/{id}/hold")]
pub async fn hold(
    state: web::Data<AppState>,
    visitor: Visitor,
    id: web::Path<i32>,
    client: ClientAddress,
    Posted(form): Posted<HoldForm>,
) -> Result<HttpResponse, AppError> {
    let user = visitor.signed_in()?;
    let count = form.passenger.len().clamp(1, MAX_PASSENGERS);
    let chosen: Vec<String> = form
        .seat
        .iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let body = BookingBody {
        flight_id: *id,
        // No seat picked: the traveller lets Skybook choose.
        seats: (!chosen.is_empty()).then_some(chosen),
        passengers: form
            .passenger
            .iter()
            .map(|name| PassengerBody { name: name.clone() })
            .collect(),
    };
    let result = match body.parse(client) {
        Ok(new) => {
            bookings::create(
                &mut state.db.session(),
                Caller::from(user),
                state.booking_policy(),
                new,
            )
            .await
        }
        Err(err) => Err(err),
    };
    let (outcome, status) = match result {
        Ok(booking) => return Ok(see_other(&format!("/bookings/{}", booking.booking.id))),
        Err(AppError::Validation(errors)) => (
            Outcome {
                errors,
                ..Default::default()
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(AppError::SeatUnavailable(seats)) => {
            let message = if seats.is_empty() {
                "Not enough seats are free on this flight any more.".to_string()
            } else {
                format!(
                    "Sorry, seat {} was just taken by someone else. Please pick another seat.",
                    crate::error::seat_list(&seats)
                )
            };
            (
                Outcome {
                    message: Some(message),
                    just_taken: seats.iter().map(ToString::to_string).collect(),
                    ..Default::default()
                },
                StatusCode::CONFLICT,
            )
        }
        Err(
            err @ (AppError::Conflict(_)
            | AppError::FlightDeparted
            | AppError::SalesClosed
            | AppError::FlightCancelled),
        ) => {
            let status = actix_web::ResponseError::status_code(&err);
            (
                Outcome {
                    message: Some(err.detail()),
                    ..Default::default()
                },
                status,
            )
        }
        Err(other) => return Err(other),
    };
    flight_page(&state, &visitor, *id, form, count, outcome, status).await
}
