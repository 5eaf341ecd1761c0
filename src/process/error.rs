//! The one error type of the process layer. A refusal carries a [`Reason`] (the
//! ErrorInfo reason clients branch on); `api::error` turns each into a gRPC status with
//! its code, once, and the web face will turn them into pages.

use std::collections::BTreeMap;

use crate::domain::Violations;
use crate::identity::Denied;
use crate::store::StoreError;

/// Why a request was refused. The gRPC code of each is chosen in `api::error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    // A passed deadline of the Rules.
    /// p. 6: applications until 1 October (or the next working day).
    SubmissionDeadlinePassed,
    /// p. 19: the decision within its term.
    EstablishDeadlinePassed,
    // A wrong state of the process.
    WrongState,
    BodyProfileIncomplete,
    OrderNotRegistered,
    FilingIncomplete,
    LabourForceMissing,
    NotDecided,
    NoCommission,
    NoDecisions,
    UndecidedApplications,
    TransferOnHoliday,
    PartyNotRegistered,
    SessionExpired,
    // Who may act.
    AgreementNotPermitted,
    SignerNotParty,
    // Certificates and signatures.
    KeyUsage,
    CertificateRevoked,
    UntrustedCertificate,
    SignatureMismatch,
    // Capacity and dependencies.
    TooManySessions,
    TsaUnavailable,
    /// Revocation data for a certificate of the document cannot be had now (B-LT).
    ValidationDataUnavailable,
    /// B-LTA needs a timestamp authority and none is configured.
    NoTsaConfigured,
    // The quota and its decision (process::quota, process::publication).
    /// The decision on a quota is published once; later versions are redistributions
    /// (p. 21).
    AlreadyPublished,
    /// No published decision of the year (and version) asked for.
    NoPublishedDecision,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SubmissionDeadlinePassed => "SUBMISSION_DEADLINE_PASSED",
            Self::EstablishDeadlinePassed => "ESTABLISH_DEADLINE_PASSED",
            Self::WrongState => "WRONG_STATE",
            Self::BodyProfileIncomplete => "BODY_PROFILE_INCOMPLETE",
            Self::OrderNotRegistered => "ORDER_NOT_REGISTERED",
            Self::FilingIncomplete => "FILING_INCOMPLETE",
            Self::LabourForceMissing => "LABOUR_FORCE_MISSING",
            Self::NotDecided => "NOT_DECIDED",
            Self::NoCommission => "NO_COMMISSION",
            Self::NoDecisions => "NO_DECISIONS",
            Self::UndecidedApplications => "UNDECIDED_APPLICATIONS",
            Self::TransferOnHoliday => "TRANSFER_ON_HOLIDAY",
            Self::PartyNotRegistered => "PARTY_NOT_REGISTERED",
            Self::SessionExpired => "SESSION_EXPIRED",
            Self::AgreementNotPermitted => "AGREEMENT_NOT_PERMITTED",
            Self::SignerNotParty => "SIGNER_NOT_PARTY",
            Self::KeyUsage => "KEY_USAGE",
            Self::CertificateRevoked => "CERTIFICATE_REVOKED",
            Self::UntrustedCertificate => "UNTRUSTED_CERTIFICATE",
            Self::SignatureMismatch => "SIGNATURE_MISMATCH",
            Self::TooManySessions => "TOO_MANY_SESSIONS",
            Self::TsaUnavailable => "TSA_UNAVAILABLE",
            Self::ValidationDataUnavailable => "VALIDATION_DATA_UNAVAILABLE",
            Self::NoTsaConfigured => "NO_TSA_CONFIGURED",
            Self::AlreadyPublished => "ALREADY_EXISTS",
            Self::NoPublishedDecision => "NOT_FOUND",
        }
    }
}

/// One unmet precondition of a refusal (google.rpc.PreconditionFailure.Violation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmet {
    pub kind: String,
    pub subject: String,
    pub description: String,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input: every bad field, by its request path.
    #[error("{0}")]
    Invalid(Violations),
    /// A rule of the process refuses the request.
    #[error("{message}")]
    Refused {
        reason: Reason,
        message: String,
        /// ErrorInfo metadata, e.g. the deadline that passed.
        metadata: BTreeMap<String, String>,
        /// What must happen first, one entry a thing.
        unmet: Vec<Unmet>,
    },
    /// The caller may not act on this data.
    #[error(transparent)]
    Denied(#[from] Denied),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An unexpected failure: logged in full where it is mapped, reported without internals.
    #[error("{context} failed: {detail}")]
    Internal {
        context: &'static str,
        detail: String,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn refused(reason: Reason, message: impl Into<String>) -> Self {
        Self::Refused {
            reason,
            message: message.into(),
            metadata: BTreeMap::new(),
            unmet: Vec::new(),
        }
    }

    /// Adds ErrorInfo metadata to a refusal (no effect on other errors).
    pub fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        if let Self::Refused { metadata, .. } = &mut self {
            metadata.insert(key.to_owned(), value.into());
        }
        self
    }

    /// Adds an unmet precondition to a refusal (no effect on other errors).
    pub fn unmet(
        mut self,
        kind: &str,
        subject: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        if let Self::Refused { unmet, .. } = &mut self {
            unmet.push(Unmet {
                kind: kind.to_owned(),
                subject: subject.into(),
                description: description.into(),
            });
        }
        self
    }

    pub fn invalid_field(field: &str, description: impl Into<String>) -> Self {
        let mut v = Violations::new();
        v.add(field, description);
        Self::Invalid(v)
    }

    pub fn internal(context: &'static str, detail: impl std::fmt::Display) -> Self {
        Self::Internal {
            context,
            detail: detail.to_string(),
        }
    }

    /// Whether what was asked for does not exist (a stored row, a published decision).
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Store(StoreError::NotFound(_)))
            || self.reason() == Some(Reason::NoPublishedDecision)
    }

    /// The reason of a refusal, if it is one.
    pub fn reason(&self) -> Option<Reason> {
        match self {
            Self::Refused { reason, .. } => Some(*reason),
            _ => None,
        }
    }
}
