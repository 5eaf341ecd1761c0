//! The gRPC services: decode requests, call the domain and the store, map errors. Only
//! this module knows the protobuf types.

pub mod applications;
pub mod audit;
pub mod bodies;
pub mod calendar;
pub mod documents;
pub mod error;
pub mod quota;
pub mod regional;
pub mod regions;
pub mod signing;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tonic::Status;

use crate::clock::Clock;
use crate::sealing::Sealer;
use crate::store::Store;

/// The generated protobuf and gRPC code of `kvota.v1`.
pub mod pb {
    tonic::include_proto!("kvota.v1");

    /// For server reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("kvota_descriptor");
}

/// What every service shares.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub sealer: Arc<Sealer>,
    pub clock: Clock,
    /// KATO codes of the 20 regions, loaded once at start (they change only by migration).
    pub region_codes: Arc<Vec<String>>,
    /// Who signs for the state bodies: the ministry's BIN and each region's body's BIN.
    pub parties: Arc<Parties>,
}

/// BINs of the state bodies whose signatories may sign their documents.
#[derive(Debug, Clone, Default)]
pub struct Parties {
    pub ministry_bin: Option<String>,
    pub regional_body_bins: std::collections::BTreeMap<String, String>,
}

impl AppState {
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}

pub(crate) fn timestamp(t: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: t.timestamp_subsec_nanos() as i32,
    }
}

/// The id of a resource name `{collection}/{id}` (AIP-122), or INVALID_ARGUMENT naming
/// the field.
pub(crate) fn resource_id<'a>(
    field: &str,
    name: &'a str,
    collection: &str,
) -> Result<&'a str, Status> {
    let id = name
        .strip_prefix(collection)
        .and_then(|rest| rest.strip_prefix('/'))
        .filter(|id| {
            !id.is_empty()
                && id.len() <= 63
                && id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        });
    id.ok_or_else(|| {
        error::invalid_field(
            field,
            format!("{name:?} is not a resource name of the form {collection}/{{id}}"),
        )
    })
}

/// Page size of List methods (AIP-158): 0 means the default, larger values are capped.
pub(crate) fn page_size(field: &str, requested: i32) -> Result<i64, Status> {
    const DEFAULT: i64 = 50;
    const MAX: i64 = 500;
    match requested {
        n if n < 0 => Err(error::invalid_field(
            field,
            "page_size must not be negative",
        )),
        0 => Ok(DEFAULT),
        n => Ok(i64::from(n).min(MAX)),
    }
}

/// Page tokens carry the last sequence number seen and a fingerprint of the filter, so a
/// token is refused if the filter changed between pages.
pub(crate) mod page_token {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use sha2::{Digest, Sha256};
    use tonic::Status;

    fn fingerprint(filter: &str) -> String {
        hex::encode(&Sha256::digest(filter.as_bytes())[..6])
    }

    pub fn encode(last_seq: i64, filter: &str) -> String {
        URL_SAFE_NO_PAD.encode(format!("{last_seq}:{}", fingerprint(filter)))
    }

    pub fn decode(field: &str, token: &str, filter: &str) -> Result<i64, Status> {
        if token.is_empty() {
            return Ok(0);
        }
        let bad = || {
            super::error::invalid_field(
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_names_are_checked() {
        assert_eq!(
            resource_id("name", "applications/ab-1", "applications").unwrap(),
            "ab-1"
        );
        for bad in [
            "",
            "applications/",
            "documents/ab",
            "applications/AB",
            "applications/a/b",
        ] {
            assert!(resource_id("name", bad, "applications").is_err(), "{bad}");
        }
    }

    #[test]
    fn page_tokens_are_bound_to_their_filter() {
        let t = page_token::encode(42, "year=2027");
        assert_eq!(
            page_token::decode("page_token", &t, "year=2027").unwrap(),
            42
        );
        assert!(page_token::decode("page_token", &t, "year=2028").is_err());
        assert!(page_token::decode("page_token", "garbage!", "").is_err());
    }
}
