//! No answer to a request that may have written leaves before its writes are on disk: on
//! SQLite, commits are made durable in groups (`crate::db::wal_sync`), and this is where a
//! request joins one. Safe methods (GET, HEAD, OPTIONS) never write and are not held.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, Error};

use crate::error::AppError;
use crate::state::AppState;

pub async fn after_writes(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let state = if req.method().is_safe() {
        None
    } else {
        req.app_data::<web::Data<AppState>>().cloned()
    };
    let response = next.call(req).await?;
    if let Some(state) = state {
        if let Err(err) = state.db.make_durable().await {
            // Committed, but not known to be on disk: the client must not take it as done.
            return Err(AppError::Unexpected(
                anyhow::Error::new(err).context("could not make the writes durable"),
            )
            .into());
        }
    }
    Ok(response)
}
