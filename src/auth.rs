//! Who may call what: the caller's identity and role, and the one table of RPC × role,
//! enforced for every call by [`AuthLayer`] before any handler runs.
//!
//! Identity comes from the client certificate of a mutual-TLS connection, read the way
//! Kazakhstan's PKI names people and organisations (IIN in the subject serialNumber, BIN in
//! OU). The principal registry binds identities to the state bodies' roles; any other
//! certificate holder acts as an EMPLOYER for its own BIN (or IIN). A caller without a
//! certificate is PUBLIC.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tonic::Code;
use tonic::Status;

use crate::api::error::status_with;
use crate::store::Store;

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
/// by [`AuthLayer`].
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

    /// The caller of a request; PUBLIC when the layer did not run (never in the service).
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

    pub fn of<T>(req: &tonic::Request<T>) -> Caller {
        req.extensions()
            .get::<Caller>()
            .cloned()
            .unwrap_or_else(Caller::public)
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
    pub fn require_region(&self, field: &str, region: &str) -> Result<(), Status> {
        match self.role {
            Role::Ministry | Role::Developer => Ok(()),
            Role::RegionalBody | Role::Commission if self.region.as_deref() == Some(region) => {
                Ok(())
            }
            _ => Err(denied(
                "REGION_NOT_PERMITTED",
                format!(
                    "{} {} may not act for region {region} ({field})",
                    self.role,
                    self.identity()
                ),
            )),
        }
    }

    /// PERMISSION_DENIED unless the caller may act for employer `id` (BIN or IIN).
    pub fn require_employer(&self, field: &str, id: &str) -> Result<(), Status> {
        match self.role {
            Role::Developer => Ok(()),
            Role::Employer
                if self.bin.as_deref() == Some(id) || self.iin.as_deref() == Some(id) =>
            {
                Ok(())
            }
            _ => Err(denied(
                "EMPLOYER_NOT_PERMITTED",
                format!(
                    "{} {} may not act for employer {id} ({field})",
                    self.role,
                    self.identity()
                ),
            )),
        }
    }
}

pub fn denied(reason: &str, message: String) -> Status {
    status_with(Code::PermissionDenied, reason, message, HashMap::new())
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
pub fn authorize(path: &str, caller: &Caller) -> Result<(), Status> {
    let method = path.trim_start_matches('/');
    if OPEN_SERVICES.iter().any(|s| method.starts_with(s)) {
        return Ok(());
    }
    let Some((_, roles)) = TABLE.iter().find(|(m, _)| *m == method) else {
        return Err(status_with(
            Code::Unimplemented,
            "UNKNOWN_METHOD",
            format!("{method} is not a method of this service"),
            HashMap::new(),
        ));
    };
    if caller.role == Developer || roles.contains(&caller.role) {
        return Ok(());
    }
    if caller.role == Public {
        return Err(status_with(
            Code::Unauthenticated,
            "CERTIFICATE_REQUIRED",
            format!("{method} needs a client certificate (mutual TLS)"),
            HashMap::new(),
        ));
    }
    let may: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
    Err(status_with(
        Code::PermissionDenied,
        "ROLE_NOT_PERMITTED",
        format!(
            "{} {} may not call {method} (allowed: {})",
            caller.role,
            caller.identity(),
            may.join(", ")
        ),
        HashMap::from([("role".to_string(), caller.role.as_str().to_string())]),
    ))
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

    pub async fn resolve(&self, peer: Option<&PeerIdentity>) -> Result<Caller, Status> {
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
            .await
            .map_err(Status::from)?;
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
                return Err(status_with(
                    Code::Unauthenticated,
                    "NO_IDENTITY",
                    format!(
                        "the client certificate ({}) names neither an IIN nor a BIN",
                        cert.subject
                    ),
                    HashMap::new(),
                ));
            }
        };
        self.cache
            .lock()
            .unwrap()
            .insert(key, (Instant::now(), caller.clone()));
        Ok(caller)
    }
}

/// The tower layer that resolves the caller and applies [`TABLE`] to every call.
#[derive(Clone)]
pub struct AuthLayer {
    resolver: Resolver,
    clock: crate::clock::Clock,
}

impl AuthLayer {
    /// `clock` is the service clock, handed to the audit trail of every call.
    pub fn new(resolver: Resolver, clock: crate::clock::Clock) -> Self {
        AuthLayer { resolver, clock }
    }
}

impl<S> tower::Layer<S> for AuthLayer {
    type Service = AuthService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        AuthService {
            inner,
            resolver: self.resolver.clone(),
            clock: self.clock,
        }
    }
}

#[derive(Clone)]
pub struct AuthService<S> {
    inner: S,
    resolver: Resolver,
    clock: crate::clock::Clock,
}

type BoxFuture<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send>>;

impl<S, B> tower::Service<http::Request<B>> for AuthService<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<tonic::body::Body>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<B>) -> Self::Future {
        // The clone that was ready serves this call (tower's readiness contract).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let resolver = self.resolver.clone();
        let clock = self.clock;
        Box::pin(async move {
            let peer = req.extensions().get::<PeerIdentity>().cloned();
            let path = req.uri().path().to_owned();
            let decided = match resolver.resolve(peer.as_ref()).await {
                Ok(caller) => authorize(&path, &caller).map(|()| caller),
                Err(e) => Err(e),
            };
            match decided {
                Ok(caller) => {
                    tracing::debug!(method = %path, role = %caller.role, who = %caller.identity(), "call");
                    let context = crate::store::audit::AuditContext {
                        caller: caller.clone(),
                        method: path.trim_start_matches('/').to_owned(),
                        clock,
                    };
                    req.extensions_mut().insert(caller);
                    let response = crate::store::audit::CONTEXT
                        .scope(context, inner.call(req))
                        .await?;
                    Ok(oversized_as_invalid(response))
                }
                Err(status) => {
                    tracing::info!(method = %path, code = ?status.code(), reason = status.message(), "call refused");
                    Ok(status.into_http())
                }
            }
        })
    }
}

/// A request message over the size limit is refused by tonic's decoder with OUT_OF_RANGE
/// before any handler runs; callers get INVALID_ARGUMENT, like every other bound.
fn oversized_as_invalid(
    response: http::Response<tonic::body::Body>,
) -> http::Response<tonic::body::Body> {
    match Status::from_header_map(response.headers()) {
        Some(s)
            if s.code() == Code::OutOfRange
                && s.message()
                    .starts_with("Error, decoded message length too large") =>
        {
            crate::api::error::invalid_field("request", s.message().replace("Error, d", "D"))
                .into_http()
        }
        _ => response,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_method_of_the_service_is_in_the_table_once() {
        use prost::Message;
        let set =
            prost_types::FileDescriptorSet::decode(crate::api::pb::FILE_DESCRIPTOR_SET).unwrap();
        let mut methods = vec![];
        for file in &set.file {
            for s in &file.service {
                for m in &s.method {
                    methods.push(format!("{}.{}/{}", file.package(), s.name(), m.name()));
                }
            }
        }
        let mut in_table: Vec<String> = TABLE.iter().map(|(m, _)| m.to_string()).collect();
        methods.sort();
        in_table.sort();
        assert_eq!(methods, in_table);
    }

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
            assert_eq!(e.code(), Code::Unimplemented, "{e:?}");
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
