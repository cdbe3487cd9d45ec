//! Field schemas whose allowed values are lists the server takes from a crate (countries,
//! time zones, currencies): built from the same lists, so the document and the parser cannot
//! drift apart. Used with `#[schema(schema_with = ...)]`; the `_or_null` forms are for
//! optional fields of a `PATCH`, where `null` means "leave as is".

use utoipa::openapi::schema::{
    AnyOfBuilder, KnownFormat, Object, ObjectBuilder, Schema, SchemaFormat, Type,
};
use utoipa::openapi::Array;

fn string_enum(values: Vec<String>, example: &str, nullable: bool) -> Object {
    let schema_type = if nullable {
        utoipa::openapi::schema::SchemaType::from_iter([Type::String, Type::Null])
    } else {
        utoipa::openapi::schema::SchemaType::Type(Type::String)
    };
    let mut values: Vec<serde_json::Value> = values.into_iter().map(Into::into).collect();
    if nullable {
        values.push(serde_json::Value::Null);
    }
    ObjectBuilder::new()
        .schema_type(schema_type)
        .enum_values(Some(values))
        .examples([serde_json::Value::from(example)])
        .build()
}

fn country_codes() -> Vec<String> {
    isocountry::CountryCode::iter()
        .map(|c| c.alpha2().to_string())
        .collect()
}

/// An assigned ISO 3166-1 alpha-2 code (`CountryCode::parse` also takes lower case).
pub fn country_code() -> Object {
    string_enum(country_codes(), "IN", false)
}

pub fn country_code_or_null() -> Object {
    string_enum(country_codes(), "IN", true)
}

fn time_zones() -> Vec<String> {
    chrono_tz::TZ_VARIANTS
        .iter()
        .map(|tz| tz.name().to_string())
        .collect()
}

/// An IANA time zone name, as chrono-tz knows them.
pub fn timezone() -> Object {
    string_enum(time_zones(), "Asia/Kolkata", false)
}

pub fn timezone_or_null() -> Object {
    string_enum(time_zones(), "Asia/Kolkata", true)
}

/// ISO 4217 codes: every three-letter code iso_currency knows (it has no list without an
/// extra feature; 17,576 look-ups once, when the document is built).
fn currencies() -> Vec<String> {
    let letters = b'A'..=b'Z';
    let mut codes = Vec::new();
    for a in letters.clone() {
        for b in letters.clone() {
            for c in letters.clone() {
                let code = String::from_utf8(vec![a, b, c]).unwrap_or_default();
                if iso_currency::Currency::from_code(&code).is_some() {
                    codes.push(code);
                }
            }
        }
    }
    codes
}

pub fn currency() -> Object {
    string_enum(currencies(), "INR", false)
}

pub fn currency_or_null() -> Object {
    string_enum(currencies(), "INR", true)
}

/// Query values: the API reads an empty value as an absent one (what a blank form field
/// sends; API.md's search example has `min_price=&max_price=`), so each query schema is its
/// type or the empty string.
fn or_empty(schema: ObjectBuilder) -> Schema {
    let empty = ObjectBuilder::new()
        .schema_type(Type::String)
        .max_length(Some(0));
    Schema::AnyOf(AnyOfBuilder::new().item(schema).item(empty).build())
}

fn integer(minimum: i64, maximum: Option<i64>) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .minimum(Some(minimum))
        .maximum(maximum)
}

fn query_enum(values: &[&str]) -> Schema {
    or_empty(
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(values.iter().copied())),
    )
}

/// `page`: from 1 (`PageRequest::parse`).
pub fn query_page() -> Schema {
    or_empty(integer(1, Some(i64::from(u32::MAX))))
}

/// `per_page`: 1 to `MAX_PER_PAGE`.
pub fn query_per_page() -> Schema {
    let max = crate::services::pagination::MAX_PER_PAGE as i64;
    let default = crate::services::pagination::DEFAULT_PER_PAGE;
    or_empty(integer(1, Some(max)).default(Some(default.into())))
}

/// `passengers` of a search: 1-9, what one booking may hold.
pub fn query_passengers() -> Schema {
    or_empty(integer(1, Some(9)))
}

/// A price bound in minor units.
pub fn query_price() -> Schema {
    or_empty(integer(0, None))
}

pub fn query_bool() -> Schema {
    or_empty(ObjectBuilder::new().schema_type(Type::Boolean))
}

/// `sort` of a search (`SearchSort::parse`).
pub fn query_sort() -> Schema {
    query_enum(&["price", "-price", "departure_time", "-departure_time"])
}

/// `status` of the email outbox.
pub fn query_email_status() -> Schema {
    use crate::models::notify::email::{FAILED, PENDING, SENT};
    query_enum(&[PENDING, SENT, FAILED])
}

/// A departure date, YYYY-MM-DD.
pub fn query_date() -> Schema {
    or_empty(
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
            .examples([serde_json::Value::from("2099-12-01")]),
    )
}

/// `seats` of a booking: 1-9 distinct seat names, or absent (`null`) for assigned seats.
pub fn seat_list() -> Array {
    let seat = ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(SEAT_PATTERN))
        .examples([serde_json::Value::from("12C")])
        .build();
    utoipa::openapi::schema::ArrayBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
            Type::Array,
            Type::Null,
        ]))
        .items(seat)
        .min_items(Some(1))
        .max_items(Some(9))
        .unique_items(true)
        .build()
}

/// A row from 1 to 999 (leading zeros allowed) and a seat letter (either case), as `SeatCode::parse`.
pub const SEAT_PATTERN: &str = "^(0{0,2}[1-9]|0?[1-9][0-9]|[1-9][0-9]{2})[A-Za-z]$";
