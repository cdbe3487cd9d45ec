//! Turning a page's view-model into HTML, and errors into error pages. The website and the
//! API share one error type; on website routes an error becomes a page with the same status
//! (or, for a signed-out visitor, a redirect to sign-in), on `/api` routes a problem document.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;
use tera::Context;

use super::session::Visitor;
use crate::error::AppError;
use crate::state::AppState;
use crate::views::site::{ErrorPage, MeView};

/// Renders `site/{template}.html.tera` with the page's view-model and the layout's values.
pub fn page(
    state: &AppState,
    visitor: &Visitor,
    template: &str,
    status: StatusCode,
    view: &impl Serialize,
) -> Result<HttpResponse, AppError> {
    let html = render_html(state, Some(visitor), template, view)?;
    Ok(html_response(status, html))
}

fn render_html(
    state: &AppState,
    visitor: Option<&Visitor>,
    template: &str,
    view: &impl Serialize,
) -> Result<String, AppError> {
    let mut context =
        Context::from_serialize(view).map_err(|e| anyhow::anyhow!("page {template}: {e}"))?;
    context.insert(
        "me",
        &visitor.and_then(|v| v.user.as_ref()).map(MeView::from),
    );
    context.insert(
        "csrf_token",
        &visitor.map(|v| v.csrf_token.as_str()).unwrap_or(""),
    );
    let name = format!("site/{template}.html.tera");
    Ok(state
        .templates
        .render(&name, &context)
        .map_err(|e| anyhow::anyhow!("rendering {name}: {e:?}"))?)
}

fn html_response(status: StatusCode, html: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        // Pages show one person's bookings: never cache them in shared caches.
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(html)
}

/// After a successful form post: the browser loads the next page with GET (no re-post on
/// reload).
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

/// Only local paths, so a crafted `next=` cannot send a visitor to another site. Browsers
/// drop tabs and newlines from URLs and read `\\` as `/`, so `/\t/evil` and `/\\evil` are
/// refused too.
pub fn local_path(next: Option<&str>) -> Option<&str> {
    next.filter(|n| {
        n.starts_with('/')
            && !n.starts_with("//")
            && !n.contains('\\')
            && !n.chars().any(|c| c.is_control() || c.is_whitespace())
    })
}

/// Paths for programs (problem documents, no session cookie), not for people.
pub fn is_api(path: &str) -> bool {
    path == "/api"
        || path.starts_with("/api/")
        || path.starts_with("/health/")
        || path == "/metrics"
}

/// Website routes: error pages instead of problem documents, and security headers.
pub async fn site_pages(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    if is_api(req.path()) {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    }
    let response = match next.call(req).await {
        Ok(response) => response.map_into_boxed_body(),
        // Raised outside a handler: see `middleware_errors_as_pages`.
        Err(err) => return Err(err),
    };
    let failed = response.response().error().is_some();
    let mut response = if failed {
        let status = response.status();
        let (request, failed_response) = response.into_parts();
        let app_error = failed_response
            .error()
            .and_then(|err| err.as_error::<AppError>());
        let mut replaced = error_response(&request, app_error, status);
        // A 405 page still says which methods the path serves.
        if let Some(allow) = failed_response.headers().get(header::ALLOW) {
            replaced.headers_mut().insert(header::ALLOW, allow.clone());
        }
        ServiceResponse::new(request, replaced)
    } else {
        response
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    Ok(response)
}

/// For a resource wrapped in a middleware that can refuse (the sign-in rate limit): its
/// refusal becomes a page too, keeping headers such as `Retry-After`. Used on resources only:
/// the request is cloned, and routing needs it unshared until the resource is matched.
pub async fn middleware_errors_as_pages(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let request = req.request().clone();
    // The rate limiter answers with a ready-made problem document (or, elsewhere, an error).
    let refusal = match next.call(req).await {
        Ok(response) => {
            let problem = response
                .headers()
                .get(header::CONTENT_TYPE)
                .is_some_and(|v| v.as_bytes() == b"application/problem+json");
            // A handler's own errors are left to `site_pages`, which knows their detail.
            if !problem || response.response().error().is_some() {
                return Ok(response.map_into_boxed_body());
            }
            response.into_parts().1.map_into_boxed_body()
        }
        Err(err) => err.error_response(),
    };
    let mut page = error_response(&request, None, refusal.status());
    if let Some(retry) = refusal.headers().get(header::RETRY_AFTER) {
        page.headers_mut()
            .insert(header::RETRY_AFTER, retry.clone());
    }
    Ok(ServiceResponse::new(request, page))
}

fn error_response(
    request: &HttpRequest,
    error: Option<&AppError>,
    status: StatusCode,
) -> HttpResponse {
    if let Some(AppError::Unauthorized) = error {
        // Back to where they were going, once signed in. A form post cannot be replayed by a
        // link: its page is the parent path (`/flights/7/hold` was posted from `/flights/7`).
        let target = if request.method() == actix_web::http::Method::GET {
            request
                .uri()
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/")
        } else {
            match request.path().rsplit_once('/') {
                Some((parent, _)) if !parent.is_empty() => parent,
                _ => "/",
            }
        };
        let query = serde_html_form::to_string([("next", target)]).unwrap_or_default();
        return see_other(&format!("/signin?{query}"));
    }
    let view = match error {
        Some(app_error) => ErrorPage {
            status: app_error.status_code().as_u16(),
            title: app_error.title().to_string(),
            detail: app_error.detail(),
            code: app_error.code().to_string(),
        },
        None => ErrorPage {
            status: status.as_u16(),
            title: status
                .canonical_reason()
                .unwrap_or("Something went wrong")
                .to_string(),
            detail: String::new(),
            code: String::new(),
        },
    };
    let status = StatusCode::from_u16(view.status).unwrap_or(status);
    let visitor = request.extensions().get::<Visitor>().cloned();
    match request.app_data::<web::Data<AppState>>() {
        Some(state) => match render_html(state, visitor.as_ref(), "error", &view) {
            Ok(html) => html_response(status, html),
            Err(err) => {
                tracing::error!(error = ?err, "the error page does not render");
                HttpResponse::build(status)
                    .content_type("text/plain; charset=utf-8")
                    .body(view.title)
            }
        },
        None => HttpResponse::build(status).body(view.title),
    }
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        for good in ["/", "/bookings", "/flights/3?passengers=2"] {
            assert_eq!(local_path(Some(good)), Some(good));
        }
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "evil",
            "",
        ] {
            assert_eq!(local_path(Some(bad)), None, "{bad:?}");
        }
        assert_eq!(local_path(None), None);
    }
}
