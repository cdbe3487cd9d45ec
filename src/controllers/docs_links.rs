//! OpenAPI links: how the id a create returns feeds the operations on that resource, so a
//! client generator (or schemathesis' stateful phase) can walk create → read → change →
//! delete, and flight → booking → payment → check-in → cancel, without guessing.

use serde_json::json;
use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::RefOr;
use utoipa::Modify;

/// `(link name, to operation, where `id` comes from (empty: no `id`), request body)`.
type LinkSpec = (
    &'static str,
    &'static str,
    &'static str,
    fn() -> Option<serde_json::Value>,
);

const ID: &str = "$response.body#/id";

fn no_body() -> Option<serde_json::Value> {
    None
}

fn booking_of_flight() -> Option<serde_json::Value> {
    Some(json!({"flight_id": ID, "passengers": [{"name": "Asha Rao"}]}))
}

fn payment_of_booking() -> Option<serde_json::Value> {
    Some(json!({
        "amount": "$response.body#/total",
        "currency": "$response.body#/currency",
        "payment_method": "pm_card_ok",
    }))
}

/// Links out of each creating operation, by operation id.
fn links_from(operation_id: &str) -> &'static [LinkSpec] {
    match operation_id {
        "create_city" => &[
            ("GetCity", "get_city", ID, no_body),
            ("UpdateCity", "update_city", ID, no_body),
            ("DeleteCity", "delete_city", ID, no_body),
        ],
        "create_airport" => &[
            ("GetAirport", "get_airport", ID, no_body),
            ("UpdateAirport", "update_airport", ID, no_body),
            ("DeleteAirport", "delete_airport", ID, no_body),
        ],
        "create_airplane" => &[
            ("GetAirplane", "get_airplane", ID, no_body),
            ("UpdateAirplane", "update_airplane", ID, no_body),
            ("DeleteAirplane", "delete_airplane", ID, no_body),
        ],
        "create_flight" => &[
            ("GetFlight", "get_flight", ID, no_body),
            ("FlightSeats", "flight_seats", ID, no_body),
            ("UpdateFlight", "update_flight", ID, no_body),
            ("CancelFlight", "cancel", ID, no_body),
            ("DeleteFlight", "delete_flight", ID, no_body),
            ("BookFlight", "create_booking", "", booking_of_flight),
        ],
        "create_booking" => &[
            ("GetBooking", "get_booking", ID, no_body),
            ("PayBooking", "pay_booking", ID, payment_of_booking),
            ("ListPayments", "list_payments", ID, no_body),
            ("CheckIn", "check_in", ID, no_body),
            ("BoardingPasses", "boarding_passes", ID, no_body),
            ("CancelBooking", "cancel_booking", ID, no_body),
        ],
        "pay_booking" => &[
            (
                "ListPayments",
                "list_payments",
                "$response.body#/booking_id",
                no_body,
            ),
            ("CheckIn", "check_in", "$response.body#/booking_id", no_body),
            (
                "CancelBooking",
                "cancel_booking",
                "$response.body#/booking_id",
                no_body,
            ),
        ],
        _ => &[],
    }
}

pub struct Links;

impl Modify for Links {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            for operation in [&mut item.post].into_iter().flatten() {
                add_links(operation);
            }
        }
    }
}

fn add_links(operation: &mut Operation) {
    let Some(id) = operation.operation_id.clone() else {
        return;
    };
    let created = operation
        .responses
        .responses
        .iter_mut()
        .find(|(status, _)| status.starts_with('2'));
    let Some((_, RefOr::T(response))) = created else {
        return;
    };
    for (name, target, id_from, body) in links_from(&id) {
        let mut link = LinkBuilder::new()
            .operation_id(*target)
            .request_body(body());
        if !id_from.is_empty() {
            link = link.parameter("id", *id_from);
        }
        response.links.insert(name.to_string(), link.build().into());
    }
}
