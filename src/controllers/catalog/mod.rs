//! Catalog endpoints, one module per resource, and the list parameters they share.

pub mod airplanes;
pub mod airports;
pub mod cities;
pub mod flight_operations;
pub mod flights;
pub mod search;

use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::AppError;
use crate::services::pagination::PageRequest;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// From 1.
    #[param(schema_with = crate::controllers::docs_schemas::query_page)]
    pub page: Option<String>,
    /// 1-100, default 20.
    #[param(schema_with = crate::controllers::docs_schemas::query_per_page)]
    pub per_page: Option<String>,
}

impl ListParams {
    fn page(&self) -> Result<PageRequest, AppError> {
        PageRequest::parse(self.page.as_deref(), self.per_page.as_deref())
    }
}

/// Unwraps what a `Validator` has already checked.
fn checked<T>(value: Option<T>) -> Result<T, AppError> {
    value.ok_or_else(|| anyhow::anyhow!("a validated field went missing").into())
}
