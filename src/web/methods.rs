//! HTTP methods as API.md §2 states them: every `GET` route answers `HEAD`, and a known path
//! asked with a method it does not serve is 405 with `Allow`, not 404.
//!
//! Nothing lists the routes a second time. actix's method guards record, on the request, the
//! methods of every resource whose path matched; a resource that matches the path but none of
//! its routes answers 405 with those methods in `Allow`. [`fallback`], mounted last in each
//! scope, is such a resource for every path: it turns "no route matched" into that 405, with
//! an empty `Allow` when no resource knew the path. [`http_methods`] turns those answers into
//! the problem document (or, on the website, the error page): 405 with `HEAD` added wherever
//! `GET` is, or 404.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderValue, ALLOW};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{guard, web, Error, Resource};

use crate::error::AppError;

/// Mounted after every other service of a scope (or the app): the resource that answers
/// requests no route took.
pub fn fallback() -> Resource {
    // A route whose guard never passes, and which registers no method: every request goes to
    // the resource's default answer, 405 with the methods the other resources registered.
    web::resource("/{_unrouted:.*}").route(
        web::route()
            .guard(guard::fn_guard(|_| false))
            .to(|| async { Err::<&'static str, _>(AppError::NotFound) }),
    )
}

/// Outside the router: HEAD is routed as GET, and bare 405s become problems.
pub async fn http_methods(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    // The connection saw the HEAD and sends only the head of the answer: the status and the
    // headers of the GET, Content-Length included, without its body.
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    let response = next.call(req).await?.map_into_boxed_body();
    // Our own 405s and 404s carry an error already; actix's resource default does not.
    if response.status() != StatusCode::METHOD_NOT_ALLOWED || response.response().error().is_some()
    {
        return Ok(response);
    }
    let allow = allowed(response.headers().get_all(ALLOW));
    let error = if allow.is_empty() {
        AppError::NotFound
    } else {
        AppError::MethodNotAllowed {
            allow: allow.join(", "),
        }
    };
    let (request, _) = response.into_parts();
    Ok(ServiceResponse::from_err(error, request))
}

/// The methods in `Allow` lines, each once, in order, with HEAD after GET.
fn allowed<'a>(lines: impl Iterator<Item = &'a HeaderValue>) -> Vec<String> {
    let mut methods: Vec<String> = Vec::new();
    let listed = lines
        .filter_map(|line| line.to_str().ok())
        .flat_map(|line| line.split(','))
        .map(str::trim)
        .filter(|m| !m.is_empty());
    for method in listed {
        let extra = (method == "GET").then_some("HEAD");
        for m in std::iter::once(method).chain(extra) {
            if !methods.iter().any(|known| known == m) {
                methods.push(m.to_string());
            }
        }
    }
    methods
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_lists_each_method_once_with_head_beside_get() {
        let lines = [
            HeaderValue::from_static("GET, PATCH"),
            HeaderValue::from_static("DELETE, GET"),
        ];
        assert_eq!(allowed(lines.iter()), ["GET", "HEAD", "PATCH", "DELETE"]);
        assert_eq!(allowed([HeaderValue::from_static("POST")].iter()), ["POST"]);
        assert!(allowed([HeaderValue::from_static("")].iter()).is_empty());
    }
}
