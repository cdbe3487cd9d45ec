use std::sync::Arc;

use crate::config::Settings;
use crate::db::Database;
use crate::services::identity::TokenKeys;

/// What every request handler may use; cloned cheaply into each worker.
#[derive(Clone)]
pub struct AppState {
    pub db: Database,
    pub tokens: TokenKeys,
    pub settings: Arc<Settings>,
}
