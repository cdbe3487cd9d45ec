//! The answers every `/api/v1` operation shares, declared once for the OpenAPI document
//! instead of on each handler (API.md §2: the document is exact).
//!
//! What an operation can answer follows from its shape: a JSON body can be malformed (400) or
//! too large (413, `web::input`), query values can be unreadable (400) or out of range (422), a
//! path id that does not parse or exist is 404, a secured operation is 401 without a valid token
//! and 403 for a non-admin when it is admin-only, the rate limiters can answer 429 anywhere, and
//! a saturated database pool 503 (`AppError::Unavailable`). Every error an operation declares,
//! here or on its handler, is `application/problem+json` with the problem schema.

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::{
    Content, HeaderBuilder, ObjectBuilder, Ref, RefOr, Response, ResponseBuilder, Type,
};
use utoipa::Modify;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// Applies the shared answers and the problem content type to every operation.
pub struct SharedResponses;

/// Every operation of the document, whatever its method.
pub(super) fn operations_mut(
    openapi: &mut utoipa::openapi::OpenApi,
) -> impl Iterator<Item = &mut utoipa::openapi::path::Operation> {
    openapi.paths.paths.values_mut().flat_map(|item| {
        [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
    })
}

impl Modify for SharedResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for operation in operations_mut(openapi) {
            declare_shared(operation);
            for (status, response) in operation.responses.responses.iter_mut() {
                if let RefOr::T(response) = response {
                    if status.starts_with('4') || status.starts_with('5') {
                        as_problem(response);
                    }
                    add_headers(status, response);
                }
            }
        }
    }
}

fn problem_content() -> Content {
    Content::new(Some(Ref::from_schema_name("ProblemView")))
}

/// The problem document replaces whatever body a handler's annotation named.
fn as_problem(response: &mut Response) {
    response.content.clear();
    response
        .content
        .insert(PROBLEM_JSON.to_string(), problem_content().into());
}

/// The headers the server always sends with these statuses (`AppError::error_response`).
fn add_headers(status: &str, response: &mut Response) {
    let (name, description, schema_type) = match status {
        "401" => ("WWW-Authenticate", "`Bearer`", Type::String),
        "405" => ("Allow", "the methods this path serves", Type::String),
        "429" | "503" => ("Retry-After", "seconds to wait", Type::Integer),
        _ => return,
    };
    response
        .headers
        .entry(name.to_string())
        .or_insert_with(|| header(description, schema_type).into());
}

fn header(description: &str, schema_type: Type) -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(Some(ObjectBuilder::new().schema_type(schema_type)))
        .description(Some(description))
        .build()
}

fn problem(description: &str) -> ResponseBuilder {
    ResponseBuilder::new()
        .description(description)
        .content(PROBLEM_JSON, problem_content())
}

/// Security requirements naming `scope` (`bearer = ["admin"]` has `admin`).
fn requires(operation: &Operation, scope: Option<&str>) -> bool {
    operation.security.iter().flatten().any(|requirement| {
        let value = serde_json::to_value(requirement).unwrap_or_default();
        value.as_object().is_some_and(|schemes| {
            schemes.values().any(|scopes| match scope {
                None => true,
                Some(scope) => scopes
                    .as_array()
                    .is_some_and(|s| s.iter().any(|v| v == scope)),
            })
        })
    })
}

fn has_parameter_in(operation: &Operation, place: ParameterIn) -> bool {
    operation.parameters.iter().flatten().any(|p| match p {
        RefOr::T(p) => p.parameter_in == place,
        RefOr::Ref(_) => false,
    })
}

fn declare_shared(operation: &mut Operation) {
    let has_body = operation.request_body.is_some();
    let has_query = has_parameter_in(operation, ParameterIn::Query);
    let has_header = has_parameter_in(operation, ParameterIn::Header);
    let has_path = has_parameter_in(operation, ParameterIn::Path);
    let secured = requires(operation, None);
    let admin_only = requires(operation, Some("admin"));
    let mut shared: Vec<(&str, Response)> = Vec::new();
    if has_body || has_query || has_header {
        shared.push((
            "400",
            problem(
                "malformed_request: a body that is not JSON, misses a required field, has a wrong \
                 type or an unknown field; an unreadable query string",
            )
            .build(),
        ));
    }
    if secured {
        shared.push((
            "401",
            problem("unauthorized: no valid bearer token").build(),
        ));
    }
    if admin_only {
        shared.push(("403", problem("forbidden: admins only").build()));
    }
    if has_path {
        shared.push((
            "404",
            problem("not_found: no such resource (or not yours)").build(),
        ));
    }
    if has_body {
        shared.push((
            "413",
            problem("payload_too_large: a JSON body over 64 KiB").build(),
        ));
    }
    if has_body || has_query {
        shared.push((
            "422",
            problem("validation_failed: `errors` names each field that breaks a rule").build(),
        ));
    }
    shared.push((
        "429",
        problem("rate_limited: this client's budget is spent").build(),
    ));
    shared.push((
        "503",
        problem("unavailable: the database is saturated; retry shortly").build(),
    ));
    for (status, response) in shared {
        operation
            .responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| response.into());
    }
}
