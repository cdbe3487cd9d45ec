use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait, QuerySelect, Select};

use crate::error::{AppError, Validator};

pub const DEFAULT_PER_PAGE: u64 = 20;
pub const MAX_PER_PAGE: u64 = 100;

/// A checked page request: `page` from 1, `per_page` 1-100.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub page: u64,
    pub per_page: u64,
}

impl PageRequest {
    pub fn parse(page: Option<&str>, per_page: Option<&str>) -> Result<Self, AppError> {
        let mut v = Validator::new();
        let page = v.check(
            "page",
            parse_bounded(page, 1, 1, u64::from(u32::MAX), "page"),
        );
        let per_page = v.check(
            "per_page",
            parse_bounded(per_page, DEFAULT_PER_PAGE, 1, MAX_PER_PAGE, "per_page"),
        );
        v.finish()?;
        match (page, per_page) {
            (Some(page), Some(per_page)) => Ok(Self { page, per_page }),
            _ => Err(AppError::field("page", "invalid")),
        }
    }

    pub fn offset(&self) -> u64 {
        (self.page - 1) * self.per_page
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            page: 1,
            per_page: DEFAULT_PER_PAGE,
        }
    }
}

fn parse_bounded(
    raw: Option<&str>,
    default: u64,
    min: u64,
    max: u64,
    name: &str,
) -> Result<u64, String> {
    match raw.map(str::trim) {
        None | Some("") => Ok(default),
        Some(text) => match text.parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(format!("{name} must be a whole number from {min} to {max}")),
        },
    }
}

/// One page of results and the total across all pages.
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub request: PageRequest,
    pub total: u64,
}

/// Runs `query` (already filtered and ordered) for one page, with the total.
pub async fn fetch_page<E, C>(
    conn: &C,
    query: Select<E>,
    page: PageRequest,
) -> Result<Page<E::Model>, AppError>
where
    E: EntityTrait,
    E::Model: Sync,
    C: ConnectionTrait,
{
    let total = query.clone().count(conn).await?;
    let items = query
        .offset(page.offset())
        .limit(page.per_page)
        .all(conn)
        .await?;
    Ok(Page {
        items,
        request: page,
        total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_apply_when_absent() {
        assert_eq!(
            PageRequest::parse(None, None).unwrap(),
            PageRequest::default()
        );
    }

    #[test]
    fn out_of_range_values_are_refused() {
        for (page, per_page) in [
            ("0", "20"),
            ("1", "0"),
            ("1", "101"),
            ("-1", "5"),
            ("x", "5"),
            ("1", "1.5"),
        ] {
            assert!(
                PageRequest::parse(Some(page), Some(per_page)).is_err(),
                "page={page} per_page={per_page} should be refused"
            );
        }
        assert_eq!(
            PageRequest::parse(Some("3"), Some("100")).unwrap().offset(),
            200
        );
    }
}
