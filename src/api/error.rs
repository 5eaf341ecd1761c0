//! Mapping of domain and store errors to gRPC statuses with google.rpc details:
//! BadRequest field violations naming the field path, and ErrorInfo with a reason.

use std::collections::HashMap;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::domain::Violations;
use crate::store::StoreError;

/// The ErrorInfo domain of every error this service returns.
pub const ERROR_DOMAIN: &str = "kvota.kz";

pub fn status(code: Code, reason: &str, message: impl Into<String>) -> Status {
    status_with(code, reason, message, HashMap::new())
}

pub fn status_with(
    code: Code,
    reason: &str,
    message: impl Into<String>,
    metadata: HashMap<String, String>,
) -> Status {
    let mut details = ErrorDetails::new();
    details.set_error_info(reason, ERROR_DOMAIN, metadata);
    Status::with_error_details(code, message, details)
}

/// INVALID_ARGUMENT listing every bad field.
pub fn invalid(violations: Violations) -> Status {
    let mut details = ErrorDetails::new();
    let mut summary = Vec::new();
    for v in violations.iter() {
        details.add_bad_request_violation(&v.field, &v.description);
        summary.push(format!("{}: {}", v.field, v.description));
    }
    details.set_error_info("INVALID_FIELD", ERROR_DOMAIN, HashMap::new());
    Status::with_error_details(Code::InvalidArgument, summary.join("; "), details)
}

/// INVALID_ARGUMENT for one field.
pub fn invalid_field(field: &str, description: impl Into<String>) -> Status {
    let mut v = Violations::new();
    v.add(field, description);
    invalid(v)
}

/// An unexpected failure: logged in full, reported without internals.
pub fn internal(context: &str, err: impl std::fmt::Display) -> Status {
    tracing::error!(context, error = %err, "internal error");
    status(
        Code::Internal,
        "INTERNAL",
        format!("{context} failed; see the service log"),
    )
}

impl From<StoreError> for Status {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => {
                status(Code::NotFound, "NOT_FOUND", format!("{what} not found"))
            }
            StoreError::AlreadyExists(m) => status(Code::AlreadyExists, "ALREADY_EXISTS", m),
            StoreError::EtagMismatch(_) => status(Code::Aborted, "ETAG_MISMATCH", e.to_string()),
            StoreError::FailedPrecondition(m) => status(Code::FailedPrecondition, "WRONG_STATE", m),
            StoreError::Busy => status(Code::Unavailable, "BUSY", "the database is busy; retry"),
            // SQLITE_BUSY after the busy timeout: a retry will do.
            StoreError::Db(sqlx::Error::Database(d)) if d.code().as_deref() == Some("5") => {
                status(Code::Unavailable, "BUSY", "the database is busy; retry")
            }
            other => internal("storage", other),
        }
    }
}
