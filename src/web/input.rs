//! Extractor configuration: malformed JSON, wrong types and unknown fields are 400
//! `malformed_request`, oversized bodies 413, unparsable path ids 404 — never a 500.

use actix_web::dev::Payload;
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;

use crate::error::AppError;

pub const MAX_JSON_BYTES: usize = 64 * 1024;

pub fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(MAX_JSON_BYTES)
        .error_handler(|err: JsonPayloadError, _req: &HttpRequest| {
            let app_error = match &err {
                JsonPayloadError::Overflow { .. }
                | JsonPayloadError::OverflowKnownLength { .. } => AppError::PayloadTooLarge,
                JsonPayloadError::ContentType => AppError::Malformed(
                    "the body must be JSON (Content-Type: application/json)".into(),
                ),
                JsonPayloadError::Deserialize(e) => {
                    AppError::Malformed(format!("invalid JSON body: {e}"))
                }
                other => AppError::Malformed(format!("unreadable body: {other}")),
            };
            app_error.into()
        })
}

/// A JSON request body read into `T`. Unlike `web::Json<T>` alone, only a JSON object is
/// taken: serde reads a struct from an array too (`["Delhi", "IN"]` as a city), which the
/// contract calls a wrong type (400). The `json_config` limits and errors apply as before.
pub struct JsonBody<T>(pub T);

impl<T> JsonBody<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for JsonBody<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: serde::de::DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let json = web::Json::<serde_json::Value>::from_request(req, payload);
        Box::pin(async move {
            let value = json.await?.into_inner();
            if !value.is_object() {
                return Err(AppError::Malformed("the body must be a JSON object".into()).into());
            }
            serde_json::from_value(value)
                .map(JsonBody)
                .map_err(|e| AppError::Malformed(format!("invalid JSON body: {e}")).into())
        })
    }
}

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default()
        .error_handler(|_err: PathError, _req: &HttpRequest| AppError::NotFound.into())
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err: QueryPayloadError, _req: &HttpRequest| {
        AppError::Malformed(format!("invalid query string: {err}")).into()
    })
}

/// Whole numbers in JSON bodies. `2.0` is the same JSON number as `2` (and an `integer` to
/// JSON Schema), so integer fields take either; `2.5`, a string or a value out of the field's
/// range is still a wrong type (400). Use with `#[serde(deserialize_with = ...)]`.
pub mod whole {
    use serde::de::Error;
    use serde::{Deserialize, Deserializer};

    /// Beyond 2^53 a float no longer holds every whole number exactly.
    const EXACT_FLOAT_LIMIT: f64 = 9_007_199_254_740_992.0;

    fn convert<T: TryFrom<i64>, E: Error>(number: serde_json::Number) -> Result<T, E> {
        let whole = number.as_i64().or_else(|| {
            number
                .as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < EXACT_FLOAT_LIMIT)
                .map(|f| f as i64)
        });
        whole.and_then(|n| T::try_from(n).ok()).ok_or_else(|| {
            E::custom(format!(
                "invalid value: {number}, expected a whole number in range"
            ))
        })
    }

    pub fn number<'de, D, T>(deserializer: D) -> Result<T, D::Error>
    where
        D: Deserializer<'de>,
        T: TryFrom<i64>,
    {
        convert(serde_json::Number::deserialize(deserializer)?)
    }

    /// For optional fields; pair with `#[serde(default)]`.
    pub fn optional<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
    where
        D: Deserializer<'de>,
        T: TryFrom<i64>,
    {
        Option::<serde_json::Number>::deserialize(deserializer)?
            .map(convert)
            .transpose()
    }

    #[cfg(test)]
    mod tests {
        #[derive(serde::Deserialize, Debug)]
        struct Body {
            #[serde(deserialize_with = "super::number")]
            n: i32,
            #[serde(default, deserialize_with = "super::optional")]
            o: Option<i64>,
        }

        fn parse(json: &str) -> Result<Body, serde_json::Error> {
            serde_json::from_str(json)
        }

        #[test]
        fn whole_floats_are_whole_numbers_and_the_rest_is_refused() {
            let body = parse(r#"{"n": -7.0, "o": 1000000000000.0}"#).unwrap();
            assert_eq!((body.n, body.o), (-7, Some(1_000_000_000_000)));
            assert_eq!(parse(r#"{"n": 3}"#).unwrap().o, None);
            assert_eq!(parse(r#"{"n": 3, "o": null}"#).unwrap().o, None);
            for bad in [
                r#"{"n": 2.5}"#,
                r#"{"n": "2"}"#,
                r#"{"n": 3000000000}"#,
                r#"{"n": 1e300}"#,
                r#"{"n": 1, "o": 0.5}"#,
            ] {
                assert!(parse(bad).is_err(), "{bad} should be refused");
            }
        }
    }
}
