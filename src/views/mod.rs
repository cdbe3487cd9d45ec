//! What the outside sees: JSON DTOs (and, for the website, template contexts), one module per
//! bounded context. Views convert from models and service results; they run no queries.

pub mod booking;
pub mod calendar;
pub mod catalog;
pub mod identity;
pub mod notify;
pub mod site;
pub mod templates;

use serde::Serialize;
use utoipa::ToSchema;

use crate::services::pagination::Page;

/// One page of a list.
#[derive(Serialize, ToSchema)]
pub struct PageView<T: ToSchema> {
    pub data: Vec<T>,
    pub page: u64,
    pub per_page: u64,
    pub total: u64,
}

impl<T: ToSchema> PageView<T> {
    pub fn from_page<M>(page: Page<M>, convert: impl Fn(M) -> T) -> Self {
        Self {
            data: page.items.into_iter().map(convert).collect(),
            page: page.request.page,
            per_page: page.request.per_page,
            total: page.total,
        }
    }
}

/// The problem document of every error (RFC 9457).
#[derive(Serialize, ToSchema)]
pub struct ProblemView {
    #[schema(example = "urn:skybook:problem:not_found")]
    pub r#type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable, machine-readable: `validation_failed`, `not_found`, `seat_unavailable`, ...
    pub code: String,
    /// With `validation_failed`: which field broke which rule.
    pub errors: Option<Vec<crate::error::FieldError>>,
}
