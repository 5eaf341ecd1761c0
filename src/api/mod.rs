//! The gRPC services: decode requests, call the domain and the store, map errors. Only
//! this module knows the protobuf types.

pub mod applications;
pub mod audit;
pub mod bodies;
pub mod calendar;
pub mod documents;
pub mod error;
pub mod layer;
pub mod quota;
pub mod regional;
pub mod regions;
pub mod signing;

use chrono::{DateTime, Utc};
use tonic::Request;

use crate::identity::Caller;
use crate::store::audit::Actor;

/// The generated protobuf and gRPC code of `kvota.v1`.
pub mod pb {
    tonic::include_proto!("kvota.v1");

    /// For server reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("kvota_descriptor");
}

/// What every service shares: the process layer's context.
pub use crate::process::{Context as AppState, Parties};

/// The caller of a request, as the auth layer resolved it; PUBLIC when the layer did not
/// run (never in the service).
pub(crate) fn caller<T>(req: &Request<T>) -> Caller {
    req.extensions()
        .get::<layer::Call>()
        .map(|c| c.caller.clone())
        .unwrap_or_else(Caller::public)
}

/// Whom the audit records of this request name.
pub(crate) fn actor<T>(state: &AppState, req: &Request<T>) -> Actor {
    req.extensions()
        .get::<layer::Call>()
        .map(|c| c.actor.clone())
        .unwrap_or_else(|| Actor::system("unauthenticated call", state.clock))
}

pub(crate) fn timestamp(t: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: t.timestamp_subsec_nanos() as i32,
    }
}
