//! The website's stylesheet and script, embedded in the binary (no CDN).

use actix_web::http::header;
use actix_web::{get, web, HttpResponse};
use include_dir::{include_dir, Dir};

use crate::error::AppError;

static ASSETS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/static");

#[get("/static/{name}")]
pub async fn asset(name: web::Path<String>) -> Result<HttpResponse, AppError> {
    let file = ASSETS.get_file(name.as_str()).ok_or(AppError::NotFound)?;
    let content_type = match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        _ => "application/octet-stream",
    };
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(file.contents()))
}
