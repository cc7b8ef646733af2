//! Pagination: every list endpoint takes `?page=&per_page=` (or `?cursor=`) and answers a [`Page`]
//! with totals. Page numbers reach the first [`COUNT_CAP`] items; `next_cursor` walks any list to
//! its end at the same cost per page (keyset pagination), and totals stop counting at
//! [`COUNT_CAP`] (`total_capped`), so no request scans a whole table.

use serde::{Deserialize, Serialize};
use validator::Validate;

pub const DEFAULT_PER_PAGE: u32 = 25;
pub const MAX_PER_PAGE: u32 = 100;
/// Totals are counted up to this many items; page numbers reach this far.
pub const COUNT_CAP: i64 = 10_000;

/// Query parameters of a paginated list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct PageQuery {
    /// 1-based page number (default 1).
    #[serde(default = "default_page", deserialize_with = "number")]
    #[validate(range(min = 1, max = 1_000_000))]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 1_000_000))]
    pub page: u32,
    /// Items per page, 1 to 100 (default 25).
    #[serde(default = "default_per_page", deserialize_with = "number")]
    #[validate(range(min = 1, max = 100))]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub per_page: u32,
    /// The `next_cursor` of the previous page: the page after it (`page` is then ignored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(length(min = 1, max = 200))]
    #[cfg_attr(feature = "openapi", param(min_length = 1, max_length = 200))]
    pub cursor: Option<String>,
}

/// A page number as a JSON number or as the text of a query string. List filters embed the page
/// query with `#[serde(flatten)]`, and serde hands a flattened field the query's text.
fn number<'de, D: serde::Deserializer<'de>>(de: D) -> Result<u32, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NumberOrText {
        Number(u32),
        Text(String),
    }
    match NumberOrText::deserialize(de) {
        Ok(NumberOrText::Number(n)) => Ok(n),
        Ok(NumberOrText::Text(t)) => {
            t.trim().parse().map_err(|_| serde::de::Error::custom(format!("expected a whole number from 0 to {}", u32::MAX)))
        }
        Err(_) => Err(serde::de::Error::custom(format!("expected a whole number from 0 to {}", u32::MAX))),
    }
}

pub(crate) fn default_page() -> u32 {
    1
}
pub(crate) fn default_per_page() -> u32 {
    DEFAULT_PER_PAGE
}

impl Default for PageQuery {
    fn default() -> Self {
        PageQuery { page: 1, per_page: DEFAULT_PER_PAGE, cursor: None }
    }
}

impl PageQuery {
    /// The parameters that are numbers.
    pub const NUMBERS: [&'static str; 2] = ["page", "per_page"];

    /// Page `page` of `per_page` items.
    pub fn numbered(page: u32, per_page: u32) -> Self {
        PageQuery { page, per_page, cursor: None }
    }
    pub fn offset(&self) -> i64 {
        i64::from(self.page.saturating_sub(1)) * i64::from(self.per_page)
    }
    pub fn limit(&self) -> i64 {
        i64::from(self.per_page)
    }
}

/// One page of a list, with the totals needed to draw a pager.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    pub items: Vec<T>,
    pub page: u32,
    pub per_page: u32,
    /// Number of items across all pages, counted up to 10,000 (see `total_capped`).
    pub total: i64,
    pub total_pages: u32,
    /// True when the list has more than `total` items (counting stopped there; follow `next_cursor`).
    #[serde(default)]
    pub total_capped: bool,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    pub fn new(items: Vec<T>, query: &PageQuery, total: i64) -> Self {
        let per = i64::from(query.per_page.max(1));
        let pages = (total.max(0) + per - 1) / per;
        Page {
            items,
            page: query.page,
            per_page: query.per_page,
            total,
            total_pages: u32::try_from(pages).unwrap_or(u32::MAX),
            total_capped: false,
            next_cursor: None,
        }
    }

    /// The same page with each item converted.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            page: self.page,
            per_page: self.per_page,
            total: self.total,
            total_pages: self.total_pages,
            total_capped: self.total_capped,
            next_cursor: self.next_cursor,
        }
    }

    /// The same page with each item converted, or the first conversion's error.
    pub fn try_map<U, E>(self, f: impl FnMut(T) -> Result<U, E>) -> Result<Page<U>, E> {
        let items = self.items.into_iter().map(f).collect::<Result<Vec<U>, E>>()?;
        Ok(Page {
            items,
            page: self.page,
            per_page: self.per_page,
            total: self.total,
            total_pages: self.total_pages,
            total_capped: self.total_capped,
            next_cursor: self.next_cursor,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_round_up() {
        let q = PageQuery::numbered(2, 10);
        assert_eq!(q.offset(), 10);
        assert_eq!(Page::<u8>::new(vec![], &q, 21).total_pages, 3);
        assert_eq!(Page::<u8>::new(vec![], &q, 0).total_pages, 0);
        assert_eq!(Page::<u8>::new(vec![], &q, 20).total_pages, 2);
    }
}
