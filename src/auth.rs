//! Who may call what: the caller's identity and role, and the one table of RPC × role,
//! enforced for every call by [`crate::api::layer::AuthLayer`] before any handler runs.
//!
//! Identity comes from the client certificate of a mutual-TLS connection, read the way
//! Kazakhstan's PKI names people and organisations (IIN in the subject serialNumber, BIN in
//! OU). The principal registry binds identities to the state bodies' roles; any other
//! certificate holder acts as an EMPLOYER for its own BIN (or IIN). A caller without a
//! certificate is PUBLIC.

use std::collections::HashMap;

use std::sync::{Arc, Mutex};

use std::time::{Duration, Instant};

pub use crate::identity::{Caller, Role};
use crate::store::{Store, StoreError};

/// Why a call was refused before any handler ran; `api` maps each to its status.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The method is in no row of [`TABLE`].
    #[error("{0} is not a method of this service")]
    UnknownMethod(String),
    /// PUBLIC called a method that needs a client certificate.
    #[error("{0} needs a client certificate (mutual TLS)")]
    CertificateRequired(String),
    /// The caller's role is not in the method's row.
    #[error("{role} {who} may not call {method} (allowed: {allowed})")]
    RoleNotPermitted {
        role: Role,
        who: String,
        method: String,
        allowed: String,
    },
    /// The certificate names neither an IIN nor a BIN.
    #[error("the client certificate ({0}) names neither an IIN nor a BIN")]
    NoIdentity(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

use Role::*;

const ALL: &[Role] = &[
    Employer,
    RegionalBody,
    Commission,
    CentralBody,
    Ministry,
    Public,
];
const SIGNED_IN: &[Role] = &[Employer, RegionalBody, Commission, CentralBody, Ministry];
const OFFICIALS: &[Role] = &[RegionalBody, Commission, CentralBody, Ministry];

/// Every RPC of the service and the roles that may call it. Data scoping within an
/// allowed call (own BIN, own region) is checked where the data is loaded, with
/// [`Caller::may_access`], [`Caller::require_region`] and [`Caller::require_employer`].
pub const TABLE: &[(&str, &[Role])] = &[
    // Employers' applications (Appendix 1).
    (
        "kvota.v1.EmployerApplicationService/CreateApplication",
        &[Employer],
    ),
    (
        "kvota.v1.EmployerApplicationService/GetApplication",
        &[Employer, RegionalBody, Commission, Ministry],
    ),
    (
        "kvota.v1.EmployerApplicationService/ListApplications",
        &[Employer, RegionalBody, Commission, Ministry],
    ),
    (
        "kvota.v1.EmployerApplicationService/UpdateApplication",
        &[Employer],
    ),
    (
        "kvota.v1.EmployerApplicationService/SubmitApplication",
        &[Employer],
    ),
    (
        "kvota.v1.EmployerApplicationService/WithdrawApplication",
        &[Employer],
    ),
    // Documents: published ones are public; others belong to their parties.
    ("kvota.v1.DocumentService/GetDocument", ALL),
    ("kvota.v1.DocumentService/ListDocuments", SIGNED_IN),
    ("kvota.v1.DocumentService/DownloadDocument", ALL),
    ("kvota.v1.DocumentService/VerifyDocument", ALL),
    (
        "kvota.v1.DocumentService/ExtendDocument",
        &[RegionalBody, Ministry],
    ),
    // Reference data.
    ("kvota.v1.RegionService/ListRegions", ALL),
    ("kvota.v1.RegionService/GetRegion", ALL),
    // The state bodies' profiles: read by anyone, edited by the ministry (any) and a
    // regional body (its own region's, checked in the handler).
    ("kvota.v1.BodyService/GetBody", ALL),
    ("kvota.v1.BodyService/ListBodies", ALL),
    ("kvota.v1.BodyService/UpdateBody", &[RegionalBody, Ministry]),
    ("kvota.v1.CalendarService/AddWorkingDays", ALL),
    ("kvota.v1.CalendarService/ListNonWorkingDays", ALL),
    ("kvota.v1.CalendarService/GetDeadlines", ALL),
    ("kvota.v1.CalendarService/ListOverdue", OFFICIALS),
    ("kvota.v1.CalendarService/AddDayTransfer", &[Ministry]),
    ("kvota.v1.CalendarService/AddDatedDayOff", &[Ministry]),
    // The regional body's year (pp. 6–13).
    (
        "kvota.v1.RegionalService/SetRegionalAssessment",
        &[RegionalBody],
    ),
    ("kvota.v1.RegionalService/GetRegionalAssessment", OFFICIALS),
    (
        "kvota.v1.RegionalService/SetCommissionMembers",
        &[RegionalBody],
    ),
    (
        "kvota.v1.RegionalService/RecordCommissionDecision",
        &[Commission, RegionalBody],
    ),
    (
        "kvota.v1.RegionalService/RenderCommissionProtocol",
        &[Commission, RegionalBody],
    ),
    ("kvota.v1.RegionalService/NotifyEmployer", &[RegionalBody]),
    (
        "kvota.v1.RegionalService/SetLabourImmigrantNeed",
        &[RegionalBody],
    ),
    (
        "kvota.v1.RegionalService/SetOriginCountryQuota",
        &[RegionalBody],
    ),
    ("kvota.v1.RegionalService/ListTreatyCountries", ALL),
    ("kvota.v1.RegionalService/FileWithMinistry", &[RegionalBody]),
    ("kvota.v1.CentralBodyService/SubmitProposal", &[CentralBody]),
    // p. 13: the region's body records its agreement (the ministry may too).
    (
        "kvota.v1.CentralBodyService/AgreeProposal",
        &[RegionalBody, Ministry],
    ),
    (
        "kvota.v1.CentralBodyService/ListProposals",
        &[CentralBody, RegionalBody, Ministry],
    ),
    // The ministry's quota (pp. 14–21).
    ("kvota.v1.QuotaService/SetLabourForce", &[Ministry]),
    ("kvota.v1.QuotaService/FormQuota", &[Ministry]),
    ("kvota.v1.QuotaService/GetQuota", OFFICIALS),
    ("kvota.v1.QuotaService/AdjustDistribution", &[Ministry]),
    ("kvota.v1.QuotaService/EstablishQuota", &[Ministry]),
    ("kvota.v1.QuotaService/PublishDecision", &[Ministry]),
    ("kvota.v1.QuotaService/RedistributeQuota", &[Ministry]),
    ("kvota.v1.QuotaService/GetPublishedDecision", ALL),
    ("kvota.v1.QuotaService/ListPublishedDecisions", ALL),
    // Party signatures: any signed-in party, for documents it is party to.
    ("kvota.v1.SigningService/PrepareSignature", SIGNED_IN),
    ("kvota.v1.SigningService/CompleteSignature", SIGNED_IN),
    ("kvota.v1.SigningService/PrepareSignatures", SIGNED_IN),
    ("kvota.v1.SigningService/CompleteSignatures", SIGNED_IN),
    // The audit trail: the ministry, and each regional body for its region.
    (
        "kvota.v1.AuditService/ListAuditRecords",
        &[Ministry, RegionalBody],
    ),
];

/// Services open to everyone whatever the table says: health and reflection.
const OPEN_SERVICES: &[&str] = &[
    "grpc.health.v1.Health/",
    "grpc.reflection.v1.ServerReflection/",
    "grpc.reflection.v1alpha.ServerReflection/",
];

/// Decides a call: `Ok` if `caller` may call `path` ("/package.Service/Method").
/// Unknown methods are refused (a method missing from the table is a defect).
pub fn authorize(path: &str, caller: &Caller) -> Result<(), AuthError> {
    let method = path.trim_start_matches('/');
    if OPEN_SERVICES.iter().any(|s| method.starts_with(s)) {
        return Ok(());
    }
    let Some((_, roles)) = TABLE.iter().find(|(m, _)| *m == method) else {
        return Err(AuthError::UnknownMethod(method.to_owned()));
    };
    if caller.role == Developer || roles.contains(&caller.role) {
        return Ok(());
    }
    if caller.role == Public {
        return Err(AuthError::CertificateRequired(method.to_owned()));
    }
    let may: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
    Err(AuthError::RoleNotPermitted {
        role: caller.role,
        who: caller.identity(),
        method: method.to_owned(),
        allowed: may.join(", "),
    })
}

/// The peer's verified client certificate, put into the connection info by the TLS
/// acceptor (see [`crate::tls`]).
#[derive(Debug, Clone, Default)]
pub struct PeerIdentity {
    pub remote: Option<std::net::SocketAddr>,
    /// IIN, BIN and subject of a verified client certificate; None without one.
    pub certificate: Option<CertIdentity>,
    /// The development transport: every caller is a developer.
    pub development: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertIdentity {
    pub iin: Option<String>,
    pub bin: Option<String>,
    pub organisation: Option<String>,
    pub subject: String,
}

/// Resolves certificates to callers through the principal registry, caching lookups for
/// a short while (changes made with `kvota principals` apply within [`CACHE_TTL`]).
#[derive(Clone)]
pub struct Resolver {
    store: Store,
    cache: Arc<Mutex<HashMap<IdentityKey, (Instant, Caller)>>>,
}

/// (IIN, BIN) of a certificate.
type IdentityKey = (Option<String>, Option<String>);

pub const CACHE_TTL: Duration = Duration::from_secs(30);

impl Resolver {
    pub fn new(store: Store) -> Self {
        Resolver {
            store,
            cache: Arc::default(),
        }
    }

    pub async fn resolve(&self, peer: Option<&PeerIdentity>) -> Result<Caller, AuthError> {
        let Some(peer) = peer else {
            return Ok(Caller::public());
        };
        if peer.development {
            return Ok(Caller::developer());
        }
        let Some(cert) = &peer.certificate else {
            return Ok(Caller::public());
        };
        let key = (cert.iin.clone(), cert.bin.clone());
        if let Some((at, caller)) = self.cache.lock().unwrap().get(&key)
            && at.elapsed() < CACHE_TTL
        {
            return Ok(caller.clone());
        }
        let principal = self
            .store
            .find_principal(cert.iin.as_deref(), cert.bin.as_deref())
            .await?;
        let caller = match principal {
            Some(p) => Caller {
                role: p.role,
                iin: cert.iin.clone(),
                bin: cert.bin.clone(),
                region: p.region,
                organisation: cert.organisation.clone(),
                subject: cert.subject.clone(),
            },
            None if cert.bin.is_some() || cert.iin.is_some() => Caller {
                role: Employer,
                iin: cert.iin.clone(),
                bin: cert.bin.clone(),
                region: None,
                organisation: cert.organisation.clone(),
                subject: cert.subject.clone(),
            },
            None => {
                return Err(AuthError::NoIdentity(cert.subject.clone()));
            }
        };
        self.cache
            .lock()
            .unwrap()
            .insert(key, (Instant::now(), caller.clone()));
        Ok(caller)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_services_answer_everyone_and_an_unknown_method_no_one() {
        let public = Caller::public();
        authorize("/grpc.health.v1.Health/Check", &public).unwrap();
        authorize(
            "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
            &public,
        )
        .unwrap();
        for caller in [Caller::public(), Caller::developer()] {
            let e = authorize("/kvota.v1.QuotaService/DeleteQuota", &caller).unwrap_err();
            assert!(matches!(e, AuthError::UnknownMethod(_)), "{e:?}");
        }
    }

    #[test]
    fn the_development_transport_may_call_what_no_role_may() {
        let developer = Caller::developer();
        authorize("/kvota.v1.QuotaService/FormQuota", &developer).unwrap();
        authorize(
            "/kvota.v1.EmployerApplicationService/CreateApplication",
            &developer,
        )
        .unwrap();
        authorize("/kvota.v1.CentralBodyService/SubmitProposal", &developer).unwrap();
    }

    #[test]
    fn roles_parse_back() {
        for r in Role::REGISTRABLE {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("DEVELOPER"), None);
    }
}
