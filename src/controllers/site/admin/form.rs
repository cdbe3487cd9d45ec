//! Helpers reading a posted admin form: text, numbers, times, and errors merged with the API's.

use std::collections::HashMap;

use crate::error::{AppError, FieldError};
use crate::services::pagination::PageRequest;

/// Form values by field name, as posted or as stored.
pub(super) type Values = HashMap<String, String>;

/// One page of a list: each row's id and cells, and the total across pages.
pub(super) type Rows = (Vec<(i32, Vec<String>)>, u64);

pub(super) fn text(values: &Values, name: &str) -> String {
    values
        .get(name)
        .map(|v| v.trim().to_string())
        .unwrap_or_default()
}

/// A whole number from a form field; a bad one is reported beside the field.
pub(super) fn number<T: std::str::FromStr + Default>(
    values: &Values,
    name: &str,
    errors: &mut Vec<FieldError>,
) -> T {
    match text(values, name).parse::<T>() {
        Ok(n) => n,
        Err(_) => {
            errors.push(FieldError::new(name, "must be a whole number"));
            T::default()
        }
    }
}

/// The form's own errors first, then the API's rules; one answer names every broken field.
pub(super) fn checked<T>(
    mut errors: Vec<FieldError>,
    converted: Result<T, AppError>,
) -> Result<T, AppError> {
    match converted {
        Ok(value) if errors.is_empty() => Ok(value),
        Ok(_) => Err(AppError::Validation(errors)),
        Err(AppError::Validation(more)) => {
            for e in more {
                if !errors.iter().any(|x| x.field == e.field) {
                    errors.push(e);
                }
            }
            Err(AppError::Validation(errors))
        }
        Err(other) => Err(other),
    }
}

/// `datetime-local` gives `2026-12-01T09:30`; the API takes RFC 3339. Times are UTC.
pub(super) fn timestamp(values: &Values, name: &str) -> String {
    let raw = text(values, name);
    match raw.len() {
        16 => format!("{raw}:00Z"),
        19 => format!("{raw}Z"),
        _ => raw,
    }
}

pub(super) fn form_time(t: chrono::NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M").to_string()
}

/// The first 100 rows (the largest page): the choices a select offers.
pub(super) fn all() -> PageRequest {
    PageRequest {
        page: 1,
        per_page: 100,
    }
}
