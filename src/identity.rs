//! Who is calling: the caller's identity and role, as the authorisation layer resolved
//! them from the client certificate. A leaf: every layer may read it, it imports nothing of
//! the crate.

use std::fmt;

/// A caller's role. Names are the ones the principal registry and the audit trail use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// An employer (by BIN, or an individual entrepreneur by IIN): its own applications
    /// and documents only.
    Employer,
    /// A region's local executive body: its region only.
    RegionalBody,
    /// A region's interdepartmental commission: its region only.
    Commission,
    /// A central state body (its own proposals).
    CentralBody,
    /// The authorised ministry: everything.
    Ministry,
    /// No certificate: reference data, published decisions, verification.
    Public,
    /// Development transport only (loopback, no TLS): every call is allowed.
    Developer,
}

impl Role {
    pub const REGISTRABLE: [Role; 5] = [
        Role::Employer,
        Role::RegionalBody,
        Role::Commission,
        Role::CentralBody,
        Role::Ministry,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Employer => "EMPLOYER",
            Role::RegionalBody => "REGIONAL_BODY",
            Role::Commission => "COMMISSION",
            Role::CentralBody => "CENTRAL_BODY",
            Role::Ministry => "MINISTRY",
            Role::Public => "PUBLIC",
            Role::Developer => "DEVELOPER",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::REGISTRABLE
            .into_iter()
            .chain([Role::Public])
            .find(|r| r.as_str() == s)
    }

    /// Roles bound to one region.
    pub fn is_regional(self) -> bool {
        matches!(self, Role::RegionalBody | Role::Commission)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The identity and role of the caller of one request, put into the request's extensions
/// by the transport's auth layer (`api::layer::AuthLayer`), which this leaf does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub role: Role,
    /// The certificate's IIN (a person), if any.
    pub iin: Option<String>,
    /// The certificate's BIN (an organisation), if any.
    pub bin: Option<String>,
    /// KATO code of the region, for REGIONAL_BODY and COMMISSION.
    pub region: Option<String>,
    /// The certificate's organisation (O), if any.
    pub organisation: Option<String>,
    /// The certificate subject, for logs and the audit trail.
    pub subject: String,
}

impl Caller {
    pub fn public() -> Self {
        Caller {
            role: Role::Public,
            iin: None,
            bin: None,
            region: None,
            organisation: None,
            subject: String::new(),
        }
    }

    pub fn developer() -> Self {
        Caller {
            role: Role::Developer,
            subject: "development transport".into(),
            ..Caller::public()
        }
    }

    /// Who, for the audit trail: `ROLE BIN… IIN…` or the subject.
    pub fn identity(&self) -> String {
        let mut parts = vec![];
        if let Some(b) = &self.bin {
            parts.push(format!("BIN{b}"));
        }
        if let Some(i) = &self.iin {
            parts.push(format!("IIN{i}"));
        }
        if parts.is_empty() {
            parts.push(if self.subject.is_empty() {
                "anonymous".into()
            } else {
                self.subject.clone()
            });
        }
        parts.join(" ")
    }

    /// The caller's organisation as a document names it: "{O} (БИН …)", or the BIN
    /// alone when the certificate names no organisation.
    pub fn organisation_label(&self) -> String {
        match (self.organisation.as_deref(), self.bin.as_deref()) {
            (Some(o), Some(b)) => format!("{o} (БИН {b})"),
            (Some(o), None) => o.to_owned(),
            (None, Some(b)) => format!("БИН {b}"),
            (None, None) => self.identity(),
        }
    }

    /// May this caller see or act on data of employer `bin` filed in `region`?
    /// Employers see their own; regional roles their region; the ministry, central bodies
    /// (read-only by the table) and development callers everything.
    pub fn may_access(&self, employer_id: &str, region: &str) -> bool {
        match self.role {
            Role::Ministry | Role::Developer | Role::CentralBody => true,
            Role::Employer => {
                self.bin.as_deref() == Some(employer_id) || self.iin.as_deref() == Some(employer_id)
            }
            Role::RegionalBody | Role::Commission => self.region.as_deref() == Some(region),
            Role::Public => false,
        }
    }

    /// PERMISSION_DENIED unless the caller may act for `region` (field names the request
    /// field that carries it).
    pub fn require_region(&self, field: &str, region: &str) -> Result<(), Denied> {
        match self.role {
            Role::Ministry | Role::Developer => Ok(()),
            Role::RegionalBody | Role::Commission if self.region.as_deref() == Some(region) => {
                Ok(())
            }
            _ => Err(Denied::new(
                DenialReason::RegionNotPermitted,
                format!(
                    "{} {} may not act for region {region} ({field})",
                    self.role,
                    self.identity()
                ),
            )),
        }
    }

    /// PERMISSION_DENIED unless the caller may act for employer `id` (BIN or IIN).
    pub fn require_employer(&self, field: &str, id: &str) -> Result<(), Denied> {
        match self.role {
            Role::Developer => Ok(()),
            Role::Employer
                if self.bin.as_deref() == Some(id) || self.iin.as_deref() == Some(id) =>
            {
                Ok(())
            }
            _ => Err(Denied::new(
                DenialReason::EmployerNotPermitted,
                format!(
                    "{} {} may not act for employer {id} ({field})",
                    self.role,
                    self.identity()
                ),
            )),
        }
    }
}

/// Why a caller was refused (PERMISSION_DENIED); the ErrorInfo reason is [`DenialReason::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DenialReason {
    RegionNotPermitted,
    EmployerNotPermitted,
    NotParty,
    RoleNotPermitted,
}

impl DenialReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RegionNotPermitted => "REGION_NOT_PERMITTED",
            Self::EmployerNotPermitted => "EMPLOYER_NOT_PERMITTED",
            Self::NotParty => "NOT_PARTY",
            Self::RoleNotPermitted => "ROLE_NOT_PERMITTED",
        }
    }
}

/// A refusal of the caller: the reason and a message naming who and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Denied {
    pub reason: DenialReason,
    pub message: String,
}

impl Denied {
    pub fn new(reason: DenialReason, message: String) -> Self {
        Self { reason, message }
    }
}
