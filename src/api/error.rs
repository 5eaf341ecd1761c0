//! Mapping of domain and store errors to gRPC statuses with google.rpc details:
//! BadRequest field violations naming the field path, and ErrorInfo with a reason.

use std::collections::HashMap;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::auth::AuthError;
use crate::domain::Violations;
use crate::identity::Denied;
use crate::process::{Error, Reason};
use crate::store::StoreError;

/// The ErrorInfo domain of every error this service returns.
pub const ERROR_DOMAIN: &str = "kvota.kz";

/// The ErrorInfo reasons of the errors every service shares (the process's refusals have
/// theirs in [`Reason`]; a denial's in [`crate::identity::DenialReason`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Common {
    InvalidField,
    Internal,
    NotFound,
    AlreadyExists,
    EtagMismatch,
    /// A store's wrong state that no step of the process names more precisely.
    WrongState,
    Busy,
    UnknownMethod,
    CertificateRequired,
    RoleNotPermitted,
    NoIdentity,
}

impl Common {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidField => "INVALID_FIELD",
            Self::Internal => "INTERNAL",
            Self::NotFound => "NOT_FOUND",
            Self::AlreadyExists => "ALREADY_EXISTS",
            Self::EtagMismatch => "ETAG_MISMATCH",
            Self::WrongState => "WRONG_STATE",
            Self::Busy => "BUSY",
            Self::UnknownMethod => "UNKNOWN_METHOD",
            Self::CertificateRequired => "CERTIFICATE_REQUIRED",
            Self::RoleNotPermitted => "ROLE_NOT_PERMITTED",
            Self::NoIdentity => "NO_IDENTITY",
        }
    }
}

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
    for v in violations.iter() {
        details.add_bad_request_violation(&v.field, &v.description);
    }
    details.set_error_info(Common::InvalidField.as_str(), ERROR_DOMAIN, HashMap::new());
    Status::with_error_details(Code::InvalidArgument, violations.to_string(), details)
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
        Common::Internal.as_str(),
        format!("{context} failed; see the service log"),
    )
}

impl From<StoreError> for Status {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => status(
                Code::NotFound,
                Common::NotFound.as_str(),
                format!("{what} not found"),
            ),
            StoreError::AlreadyExists(m) => {
                status(Code::AlreadyExists, Common::AlreadyExists.as_str(), m)
            }
            StoreError::EtagMismatch(_) => {
                status(Code::Aborted, Common::EtagMismatch.as_str(), e.to_string())
            }
            StoreError::FailedPrecondition(m) => {
                status(Code::FailedPrecondition, Common::WrongState.as_str(), m)
            }
            StoreError::Unavailable(m) => {
                tracing::warn!(error = %m, "storage unavailable");
                status(
                    Code::Unavailable,
                    Common::Busy.as_str(),
                    "the document store is unavailable; retry",
                )
            }
            StoreError::Busy => status(
                Code::Unavailable,
                Common::Busy.as_str(),
                "the database is busy; retry",
            ),
            other => internal("storage", other),
        }
    }
}

/// The gRPC code of each refusal: the one table of it.
pub fn code(reason: Reason) -> Code {
    use Reason::*;
    match reason {
        SubmissionDeadlinePassed
        | EstablishDeadlinePassed
        | WrongState
        | BodyProfileIncomplete
        | OrderNotRegistered
        | FilingIncomplete
        | LabourForceMissing
        | NotDecided
        | NoCommission
        | NoDecisions
        | UndecidedApplications
        | TransferOnHoliday
        | PartyNotRegistered
        | SessionExpired
        | NoTsaConfigured => Code::FailedPrecondition,
        AgreementNotPermitted | SignerNotParty => Code::PermissionDenied,
        KeyUsage | CertificateRevoked | UntrustedCertificate | SignatureMismatch => {
            Code::InvalidArgument
        }
        TooManySessions => Code::ResourceExhausted,
        TsaUnavailable | ValidationDataUnavailable => Code::Unavailable,
        // The quota and its decision.
        AlreadyPublished => Code::AlreadyExists,
        NoPublishedDecision => Code::NotFound,
    }
}

impl From<Error> for Status {
    fn from(e: Error) -> Self {
        match e {
            Error::Invalid(v) => invalid(v),
            Error::Refused {
                reason,
                message,
                metadata,
                unmet,
            } => {
                let mut details = ErrorDetails::new();
                details.set_error_info(
                    reason.as_str(),
                    ERROR_DOMAIN,
                    metadata.into_iter().collect::<HashMap<_, _>>(),
                );
                for u in &unmet {
                    details.add_precondition_failure_violation(&u.kind, &u.subject, &u.description);
                }
                Status::with_error_details(code(reason), message, details)
            }
            Error::Denied(d) => d.into(),
            Error::Store(s) => s.into(),
            Error::Internal { context, detail } => internal(context, detail),
        }
    }
}

impl From<Denied> for Status {
    fn from(d: Denied) -> Self {
        status(Code::PermissionDenied, d.reason.as_str(), d.message)
    }
}

impl From<AuthError> for Status {
    fn from(e: AuthError) -> Self {
        let message = e.to_string();
        match e {
            AuthError::UnknownMethod(_) => {
                status(Code::Unimplemented, Common::UnknownMethod.as_str(), message)
            }
            AuthError::CertificateRequired(_) => status(
                Code::Unauthenticated,
                Common::CertificateRequired.as_str(),
                message,
            ),
            AuthError::RoleNotPermitted { role, .. } => status_with(
                Code::PermissionDenied,
                Common::RoleNotPermitted.as_str(),
                message,
                HashMap::from([("role".to_string(), role.as_str().to_string())]),
            ),
            AuthError::NoIdentity(_) => {
                status(Code::Unauthenticated, Common::NoIdentity.as_str(), message)
            }
            AuthError::Store(s) => s.into(),
        }
    }
}
