//! Pages of List methods (AIP-158): the size a caller asks for, bounded, and page tokens
//! that carry the last sequence number seen and a fingerprint of the filter, so a token
//! is refused if the filter changed between pages.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use super::{Error, Result};

/// Which page a caller asks for, as it asked.
#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    /// 0 for the default size.
    pub size: i32,
    /// "" for the first page.
    pub token: String,
}

/// One page of rows and the token of the next ("" after the last).
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_page_token: String,
}

/// The page size: 0 means `default`, larger values than `max` are capped; a negative
/// size is refused naming `field`.
pub fn size(field: &str, requested: i32, default: i64, max: i64) -> Result<i64> {
    match requested {
        n if n < 0 => Err(Error::invalid_field(
            field,
            "page_size must not be negative",
        )),
        0 => Ok(default),
        n => Ok(i64::from(n).min(max)),
    }
}

fn fingerprint(filter: &str) -> String {
    hex::encode(&Sha256::digest(filter.as_bytes())[..6])
}

/// The token of the page after the row with sequence number `last_seq`.
pub fn encode(last_seq: i64, filter: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{last_seq}:{}", fingerprint(filter)))
}

/// The sequence number a token continues after (0 for none), or INVALID_ARGUMENT naming
/// `field` for a token this service did not issue for the same filter.
pub fn decode(field: &str, token: &str, filter: &str) -> Result<i64> {
    if token.is_empty() {
        return Ok(0);
    }
    let bad = || {
        Error::invalid_field(
            field,
            "page_token is not one this service issued for the same filter",
        )
    };
    let raw = URL_SAFE_NO_PAD.decode(token).map_err(|_| bad())?;
    let raw = String::from_utf8(raw).map_err(|_| bad())?;
    let (seq, fp) = raw.split_once(':').ok_or_else(bad)?;
    if fp != fingerprint(filter) {
        return Err(bad());
    }
    seq.parse().map_err(|_| bad())
}

impl<T> Page<T> {
    /// The page of `rows`, read with one row more than `limit` to tell whether another
    /// page follows; `seq` gives a row's sequence number.
    pub fn cut(
        mut rows: Vec<T>,
        limit: i64,
        after: i64,
        filter: &str,
        seq: impl Fn(&T) -> i64,
    ) -> Self {
        let next_page_token = if rows.len() as i64 > limit {
            rows.truncate(limit as usize);
            encode(rows.last().map_or(after, seq), filter)
        } else {
            String::new()
        };
        Page {
            items: rows,
            next_page_token,
        }
    }
}

/// One page of a list read whole (computed, or short enough to read at once): the token
/// carries how many items came before the next page. The list must keep its order
/// between calls; items added since the last page show up on a later one or, if they sort
/// before the token's position, shift the rest by as many.
pub fn slice<T>(
    all: Vec<T>,
    page: &PageRequest,
    filter: &str,
    default: i64,
    max: i64,
) -> Result<Page<T>> {
    let limit = size("page_size", page.size, default, max)?;
    let after = decode("page_token", &page.token, filter)?;
    let skip = usize::try_from(after).unwrap_or(0);
    let mut items: Vec<T> = all
        .into_iter()
        .skip(skip)
        .take(limit as usize + 1)
        .collect();
    let next_page_token = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        encode(after + limit, filter)
    } else {
        String::new()
    };
    Ok(Page {
        items,
        next_page_token,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_tokens_are_bound_to_their_filter() {
        let t = encode(42, "year=2027");
        assert_eq!(decode("page_token", &t, "year=2027").unwrap(), 42);
        assert!(decode("page_token", &t, "year=2028").is_err());
        assert!(decode("page_token", "garbage!", "").is_err());
    }

    #[test]
    fn a_page_one_row_short_of_the_limit_plus_one_is_the_last() {
        let p = Page::cut(vec![1, 2, 3], 3, 0, "f", |n| *n);
        assert!(p.next_page_token.is_empty());
        let p = Page::cut(vec![1, 2, 3, 4], 3, 0, "f", |n| *n);
        assert_eq!(p.items, [1, 2, 3]);
        assert_eq!(decode("t", &p.next_page_token, "f").unwrap(), 3);
    }

    #[test]
    fn a_list_read_whole_is_sliced_by_position() {
        let first = PageRequest {
            size: 2,
            token: String::new(),
        };
        let p = slice(vec![1, 2, 3, 4, 5], &first, "f", 50, 500).unwrap();
        assert_eq!(p.items, [1, 2]);
        let next = PageRequest {
            size: 2,
            token: p.next_page_token,
        };
        let p = slice(vec![1, 2, 3, 4, 5], &next, "f", 50, 500).unwrap();
        assert_eq!(p.items, [3, 4]);
        let last = PageRequest {
            size: 2,
            token: p.next_page_token,
        };
        let p = slice(vec![1, 2, 3, 4, 5], &last, "f", 50, 500).unwrap();
        assert_eq!(p.items, [5]);
        assert!(p.next_page_token.is_empty());
        assert!(slice(vec![1], &last, "g", 50, 500).is_err());
    }

    #[test]
    fn sizes_default_and_cap() {
        assert_eq!(size("s", 0, 50, 500).unwrap(), 50);
        assert_eq!(size("s", 9999, 50, 500).unwrap(), 500);
        assert!(size("s", -1, 50, 500).is_err());
    }
}
