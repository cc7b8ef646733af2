//! One way to page through a list, for every list: newest first by `(created_at, id)`.
//!
//! - Page numbers (`?page=`) reach the first [`COUNT_CAP`] items (OFFSET stays cheap there).
//! - `next_cursor` / `?cursor=` walks any list to its end with a keyset condition,
//!   `(created_at, id) < (cursor)`, served by an index on the list's filter columns followed by
//!   `(created_at, id)`: every page costs the same, however deep.
//! - Totals are counted up to [`COUNT_CAP`] (a probe at that offset decides whether to count at
//!   all), so no request scans a table of a million rows; `total_capped` says when it stopped.
//!
//! A list query uses [`keyset!`] on its filtered, boxed query and [`Paging::finish`] on the rows.

use chrono::NaiveDateTime;
use keel_shared::page::COUNT_CAP;
use keel_shared::{Page, PageQuery};

use crate::error::ApiError;

/// A position in a list: the last item of a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub at: NaiveDateTime,
    pub id: String,
}

impl Cursor {
    /// `<microseconds since 1970>.<id>`: opaque to clients, stable across processes.
    pub fn encode(&self) -> String {
        format!("{}.{}", self.at.and_utc().timestamp_micros(), self.id)
    }

    pub fn decode(text: &str) -> Result<Cursor, ApiError> {
        let bad = || ApiError::field("cursor", "is not a cursor this list gave out");
        let (micros, id) = text.split_once('.').ok_or_else(bad)?;
        let micros: i64 = micros.parse().map_err(|_| bad())?;
        if id.is_empty() || id.len() > 64 || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(bad());
        }
        let at = chrono::DateTime::from_timestamp_micros(micros).ok_or_else(bad)?.naive_utc();
        Ok(Cursor { at, id: id.to_string() })
    }
}

/// What a list query needs to know about the page asked for.
#[derive(Debug, Clone)]
pub struct Paging {
    pub query: PageQuery,
    /// Keyset start (from `cursor`); `None` for numbered pages.
    pub after: Option<Cursor>,
}

impl Paging {
    /// Checks the page request: a cursor must parse; a page number must stay within the
    /// counted part of the list.
    pub fn new(query: PageQuery) -> Result<Paging, ApiError> {
        let after = query.cursor.as_deref().map(Cursor::decode).transpose()?;
        if after.is_none() && query.offset() >= COUNT_CAP {
            return Err(ApiError::field(
                "page",
                format!("page numbers reach the first {COUNT_CAP} items; follow next_cursor to go further"),
            ));
        }
        Ok(Paging { query, after })
    }

    /// Rows to skip (numbered pages only).
    pub fn offset(&self) -> i64 {
        if self.after.is_some() {
            0
        } else {
            self.query.offset()
        }
    }

    /// Rows to load: one more than a page, to know whether another page follows.
    pub fn limit(&self) -> i64 {
        self.query.limit() + 1
    }

    /// For a list already narrowed to a few thousand items (a search's matches, read from its
    /// own index): the keys of the rows to load, in list order, and the exact total. The planners
    /// cannot see how few rows such a filter leaves and would walk the whole list in date order;
    /// sorting the few keys here costs what the matches cost.
    pub fn pick(&self, mut keys: Vec<Cursor>) -> (Vec<String>, (i64, bool)) {
        keys.sort_unstable_by(|a, b| (b.at, &b.id).cmp(&(a.at, &a.id)));
        let start = match &self.after {
            Some(c) => keys.partition_point(|k| (k.at, &k.id) >= (c.at, &c.id)),
            None => usize::try_from(self.offset()).unwrap_or(usize::MAX),
        };
        let ids = keys.iter().skip(start).take(self.limit() as usize).map(|k| k.id.clone()).collect();
        let total = keys.len() as i64;
        (ids, (total.min(COUNT_CAP), total > COUNT_CAP))
    }

    /// The page from the rows loaded with [`Paging::limit`], given the capped count
    /// (see [`count_capped!`]) and how to read an item's position.
    pub fn finish<T>(self, mut rows: Vec<T>, total: (i64, bool), key: impl Fn(&T) -> Cursor) -> Page<T> {
        let more = rows.len() as i64 > self.query.limit();
        rows.truncate(self.query.limit() as usize);
        let next = if more { rows.last().map(|r| key(r).encode()) } else { None };
        let mut page = Page::new(rows, &self.query, total.0);
        page.total_capped = total.1;
        page.next_cursor = next;
        page
    }
}

/// Orders a boxed query newest first by `($at, $id)`, starts it after the cursor or at the page's
/// offset, and limits it to a page and one.
#[macro_export]
macro_rules! keyset {
    ($query:expr, $at:expr, $id:expr, $paging:expr) => {{
        let paging: &$crate::db::paging::Paging = $paging;
        let mut q = $query.order(($at.desc(), $id.desc()));
        if let Some(c) = &paging.after {
            // `(at, id) < (cursor)`, written so that both databases range-scan the list's
            // (…, created_at, id) index: `at <= c.at` bounds the scan, the OR settles ties.
            q = q.filter($at.le(c.at)).filter($at.lt(c.at).or($id.lt(c.id.clone())));
        }
        q.offset(paging.offset()).limit(paging.limit())
    }};
}

/// `(total, capped)` of a filtered list: exact up to `COUNT_CAP` items; beyond, `(COUNT_CAP, true)`
/// without counting (a probe at that offset, on the list's index, decides).
#[macro_export]
macro_rules! count_capped {
    ($conn:expr, $query:expr, $at:expr, $id:expr) => {{
        let beyond: Option<String> = $query
            .order(($at.desc(), $id.desc()))
            .offset(keel_shared::page::COUNT_CAP)
            .limit(1)
            .select($id)
            .first::<String>($conn)
            .optional()?;
        if beyond.is_some() {
            (keel_shared::page::COUNT_CAP, true)
        } else {
            ($query.count().get_result::<i64>($conn)?, false)
        }
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picking_from_keys_walks_the_same_order_as_the_keyset_query() {
        let at = |s: i64| chrono::DateTime::from_timestamp(s, 0).unwrap().naive_utc();
        // Seven keys, two sharing a time (the id settles the order), newest first: g f e d c b a.
        let keys = || {
            ["a", "b", "c", "d", "e", "f", "g"]
                .iter()
                .enumerate()
                .map(|(i, id)| Cursor { at: at(i.min(5) as i64), id: id.to_string() })
                .collect::<Vec<_>>()
        };
        let mut walked = Vec::new();
        let mut cursor = None;
        loop {
            let paging = Paging::new(PageQuery { cursor: cursor.take(), ..PageQuery::numbered(1, 3) }).unwrap();
            let (ids, total) = paging.pick(keys());
            assert_eq!(total, (7, false));
            let rows: Vec<Cursor> = ids.iter().map(|id| keys().into_iter().find(|k| &k.id == id).unwrap()).collect();
            let page = paging.finish(rows, total, Clone::clone);
            walked.extend(page.items.iter().map(|k| k.id.clone()));
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(walked, ["g", "f", "e", "d", "c", "b", "a"]);
        let (ids, _) = Paging::new(PageQuery::numbered(3, 3)).unwrap().pick(keys());
        assert_eq!(ids, ["a"]);
    }

    #[test]
    fn cursors_round_trip_and_refuse_what_they_did_not_make() {
        let c = Cursor { at: chrono::DateTime::from_timestamp_micros(1_764_000_000_123_456).unwrap().naive_utc(), id: "01a2-ff".into() };
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        for bad in ["", "x", "12", "12.", "abc.def", "1.a'b", "99999999999999999999.x"] {
            assert!(Cursor::decode(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn page_numbers_stop_where_counting_stops() {
        assert!(Paging::new(PageQuery::numbered(400, 25)).is_ok());
        assert!(Paging::new(PageQuery::numbered(401, 25)).is_err());
        let deep = PageQuery { cursor: Some("1.abc".into()), ..PageQuery::numbered(9999, 25) };
        assert_eq!(Paging::new(deep).unwrap().offset(), 0);
    }
}
