//! The generic admin pages of a catalog entity: list with a create form, edit, update, delete.

use std::future::Future;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::form::{Rows, Values};
use super::PER_PAGE;
use crate::controllers::site::render::{page, see_other};
use crate::controllers::site::session::{Posted, Visitor};
use crate::error::AppError;
use crate::services::pagination::PageRequest;
use crate::state::AppState;
use crate::views::site::admin::{CatalogPage, EditPage, EntityForm, FormField, TableRow};
use crate::views::site::operations::FlightOperations;
use crate::views::site::trips::Notice;
use crate::views::site::{field_errors, FieldErrors, Pager};

/// One catalog entity as the admin pages handle it. Every entity gets the same four pages
/// through the generic handlers below; the entity supplies its fields and calls the same
/// services and the same validation as the API.
pub trait Section: 'static {
    const SECTION: &'static str;
    const TITLE: &'static str;
    fn columns() -> Vec<&'static str>;
    fn rows(state: &AppState, page: PageRequest) -> impl Future<Output = Result<Rows, AppError>>;
    fn fields(state: &AppState) -> impl Future<Output = Result<Vec<FormField>, AppError>>;
    fn create(state: &AppState, values: &Values) -> impl Future<Output = Result<(), AppError>>;
    fn load(state: &AppState, id: i32) -> impl Future<Output = Result<Values, AppError>>;
    fn update(
        state: &AppState,
        id: i32,
        values: &Values,
    ) -> impl Future<Output = Result<(), AppError>>;
    fn delete(state: &AppState, id: i32) -> impl Future<Output = Result<(), AppError>>;
    /// What an entry's page shows below its form: a flight's operations; nothing by default.
    fn operations(
        _state: &AppState,
        _id: i32,
    ) -> impl Future<Output = Result<Option<FlightOperations>, AppError>> {
        async { Ok(None) }
    }
}

#[derive(Deserialize)]
pub struct PageParams {
    pub page: Option<String>,
    /// After a redirect: what just happened.
    pub notice: Option<String>,
}

pub(super) fn list_url<S: Section>() -> String {
    format!("/admin/{}", S::SECTION)
}

async fn list_page<S: Section>(
    state: &AppState,
    visitor: &Visitor,
    page_number: Option<&str>,
    typed: Option<(&Values, FieldErrors)>,
    notice: Option<Notice>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let request = PageRequest::parse(page_number, Some(PER_PAGE))?;
    let (rows, total) = S::rows(state, request).await?;
    let base = list_url::<S>();
    let form = EntityForm {
        action: base.clone(),
        submit: "Create",
        fields: S::fields(state).await?,
        other_errors: Vec::new(),
    };
    let form = match typed {
        Some((values, errors)) => form.filled(|name| values.get(name).cloned(), &errors),
        None => form,
    };
    let view = CatalogPage {
        section: S::SECTION,
        title: S::TITLE,
        columns: S::columns(),
        rows: rows
            .into_iter()
            .map(|(id, cells)| TableRow {
                id,
                cells,
                edit_url: format!("{base}/{id}"),
                delete_url: format!("{base}/{id}/delete"),
            })
            .collect(),
        form,
        notice,
        pager: Pager::new(request.page, request.per_page, total, |n| {
            format!("{base}?page={n}")
        }),
    };
    page(state, visitor, "admin/catalog", status, &view)
}

pub async fn list<S: Section>(
    state: web::Data<AppState>,
    visitor: Visitor,
    params: web::Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    visitor.admin()?;
    let done = match params.notice.as_deref() {
        Some("created") => Some("Created."),
        Some("saved") => Some("Saved."),
        Some("deleted") => Some("Deleted."),
        _ => None,
    };
    let notice = done.map(|text| Notice {
        kind: "success",
        text: text.into(),
    });
    list_page::<S>(
        &state,
        &visitor,
        params.page.as_deref(),
        None,
        notice,
        StatusCode::OK,
    )
    .await
}

fn problem_notice(err: &AppError) -> Notice {
    Notice {
        kind: "error",
        text: err.detail(),
    }
}

pub async fn create<S: Section>(
    state: web::Data<AppState>,
    visitor: Visitor,
    Posted(values): Posted<Values>,
) -> Result<HttpResponse, AppError> {
    visitor.admin()?;
    match S::create(&state, &values).await {
        Ok(()) => Ok(see_other(&format!("{}?notice=created", list_url::<S>()))),
        Err(AppError::Validation(errors)) => {
            let errors = field_errors(&errors);
            list_page::<S>(
                &state,
                &visitor,
                None,
                Some((&values, errors)),
                Some(Notice {
                    kind: "error",
                    text: "Please correct the fields marked below.".into(),
                }),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(err @ AppError::Conflict(_)) => {
            list_page::<S>(
                &state,
                &visitor,
                None,
                Some((&values, FieldErrors::new())),
                Some(problem_notice(&err)),
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(other) => Err(other),
    }
}

async fn edit_page<S: Section>(
    state: &AppState,
    visitor: &Visitor,
    id: i32,
    values: &Values,
    errors: FieldErrors,
    notice: Option<Notice>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let base = list_url::<S>();
    let form = EntityForm {
        action: format!("{base}/{id}"),
        submit: "Save",
        fields: S::fields(state).await?,
        other_errors: Vec::new(),
    }
    .filled(|name| values.get(name).cloned(), &errors);
    let view = EditPage {
        section: S::SECTION,
        title: format!("{} #{id}", S::TITLE),
        form,
        back_url: base,
        notice,
        operations: S::operations(state, id).await?,
    };
    page(state, visitor, "admin/edit", status, &view)
}

pub async fn edit<S: Section>(
    state: web::Data<AppState>,
    visitor: Visitor,
    id: web::Path<i32>,
    params: web::Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    visitor.admin()?;
    let values = S::load(&state, *id).await?;
    // After a flight's cancellation (see `operations`); its summary is on the page.
    let notice = (params.notice.as_deref() == Some("cancelled")).then(|| Notice {
        kind: "success",
        text: "The flight is cancelled. Its travellers are told by email and refunded.".into(),
    });
    edit_page::<S>(
        &state,
        &visitor,
        *id,
        &values,
        FieldErrors::new(),
        notice,
        StatusCode::OK,
    )
    .await
}

pub async fn update<S: Section>(
    state: web::Data<AppState>,
    visitor: Visitor,
    id: web::Path<i32>,
    Posted(values): Posted<Values>,
) -> Result<HttpResponse, AppError> {
    visitor.admin()?;
    let (errors, notice, status) = match S::update(&state, *id, &values).await {
        Ok(()) => return Ok(see_other(&format!("{}?notice=saved", list_url::<S>()))),
        Err(AppError::Validation(errors)) => (
            field_errors(&errors),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(err @ AppError::Conflict(_)) => (
            FieldErrors::new(),
            Some(problem_notice(&err)),
            StatusCode::CONFLICT,
        ),
        Err(other) => return Err(other),
    };
    edit_page::<S>(&state, &visitor, *id, &values, errors, notice, status).await
}

pub async fn delete<S: Section>(
    state: web::Data<AppState>,
    visitor: Visitor,
    id: web::Path<i32>,
    Posted(_): Posted<Values>,
) -> Result<HttpResponse, AppError> {
    visitor.admin()?;
    match S::delete(&state, *id).await {
        Ok(()) => Ok(see_other(&format!("{}?notice=deleted", list_url::<S>()))),
        Err(err @ AppError::Conflict(_)) => {
            list_page::<S>(
                &state,
                &visitor,
                None,
                None,
                Some(problem_notice(&err)),
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(other) => Err(other),
    }
}
