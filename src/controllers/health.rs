use actix_web::{get, web, HttpResponse};
use serde_json::json;

use crate::drain::Drain;
use crate::state::AppState;

#[get("/health/live")]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "live"}))
}

#[get("/health/ready")]
pub async fn ready(state: web::Data<AppState>, drain: web::Data<Drain>) -> HttpResponse {
    // A load balancer takes a stopping instance out of rotation before its listener closes.
    if drain.is_draining() {
        return HttpResponse::ServiceUnavailable().json(json!({"status": "draining"}));
    }
    if state.db.ping().await {
        HttpResponse::Ok().json(json!({"status": "ready"}))
    } else {
        HttpResponse::ServiceUnavailable()
            .json(json!({"status": "unavailable", "database": "down"}))
    }
}
