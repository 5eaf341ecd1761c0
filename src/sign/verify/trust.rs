//! Trust in the signer's certificate: a chain to one of the trust anchors at the time
//! of the check (or the time a timestamp proves), and its revocation status in the
//! configured CRL of its issuer. A failed chain is told apart by OpenSSL's verification
//! error code (revoked, expired, CRL not current, no chain), never by its message.

use chrono::{DateTime, Utc};
use openssl::asn1::{Asn1Time, Asn1TimeRef};
use openssl::cms::CmsContentInfo;
use openssl::stack::Stack;
use openssl::x509::store::{X509Store, X509StoreBuilder};
use openssl::x509::verify::{X509VerifyFlags, X509VerifyParam};
use openssl::x509::{CrlStatus, X509, X509Crl, X509PurposeId, X509Ref, X509StoreContext};

use super::super::cms::CmsInfo;
use super::super::{Result, SignError};
use super::report::{Failure, SignatureReport};

/// What signatures are checked against: trust anchors and certificate revocation lists.
#[derive(Clone, Default)]
pub struct Trust {
    pub anchors: Vec<X509>,
    pub crls: Vec<std::sync::Arc<X509Crl>>,
    /// When to check certificates if no timestamp proves an earlier time; the current
    /// time when `None`.
    pub at: Option<DateTime<Utc>>,
    /// Distribution points that gave no list, with why: (URL, problem). A signer whose
    /// certificate names one of them and whose issuer has no list here cannot be checked
    /// for revocation now (TRY_LATER), which is not an error.
    pub unavailable: Vec<(String, String)>,
    /// Asked first, where a responder is configured or named by a certificate whose
    /// issuer is a trust anchor; the CRLs when it has no answer.
    pub ocsp: Option<std::sync::Arc<crate::sign::ocsp::OcspClient>>,
    /// The validation data the file being checked carries (its /DSS).
    pub embedded: Option<std::sync::Arc<Embedded>>,
}

/// Validation data carried by a document: certificates, CRLs and OCSP responses. Each is
/// used only when it verifies: a CRL by its issuer's key, an OCSP response by a chain to
/// the trust anchors.
#[derive(Default)]
pub struct Embedded {
    pub certs: Vec<X509>,
    crls: Vec<X509Crl>,
    ocsps: Vec<Vec<u8>>,
}

/// What a document's validation data says of a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmbeddedStatus {
    /// Not revoked, in words: which CRL or response says so.
    Good(String),
    Revoked {
        at: Option<DateTime<Utc>>,
        source: String,
    },
}

impl Embedded {
    pub fn new(data: &crate::sign::ltv::ValidationData) -> Self {
        Self {
            certs: data.certificates(),
            crls: data.crl_list(),
            ocsps: data.ocsps.clone(),
        }
    }

    /// The status of `cert` (issued by `issuer`) by an embedded OCSP response, else an
    /// embedded CRL of its issuer; `None` if neither speaks of it. Responses are judged
    /// with their chain at `at`.
    pub fn status(
        &self,
        cert: &X509Ref,
        issuer: &X509Ref,
        anchors: &[X509],
        at: DateTime<Utc>,
    ) -> Option<EmbeddedStatus> {
        use crate::sign::ocsp::{OcspOutcome, judge};
        for der in &self.ocsps {
            match judge(der, "the document", cert, issuer, anchors, Some(at)) {
                Ok((OcspOutcome::Good { this_update, .. }, _)) => {
                    return Some(EmbeddedStatus::Good(format!(
                        "the OCSP response{} embedded in the document",
                        this_update
                            .map(|t| format!(" of {}", t.to_rfc3339()))
                            .unwrap_or_default()
                    )));
                }
                Ok((OcspOutcome::Revoked { at, .. }, _)) => {
                    return Some(EmbeddedStatus::Revoked {
                        at,
                        source: "the OCSP response embedded in the document".into(),
                    });
                }
                _ => {}
            }
        }
        let issuer_name = cert.issuer_name().to_der().ok()?;
        let key = issuer.public_key().ok()?;
        let crl = self.crls.iter().find(|c| {
            c.issuer_name().to_der().ok().as_deref() == Some(issuer_name.as_slice())
                && c.verify(&key).unwrap_or(false)
        })?;
        let source = format!(
            "the CRL of {} issued {}, embedded in the document",
            crl.issuer_name()
                .entries_by_nid(openssl::nid::Nid::COMMONNAME)
                .next()
                .and_then(|e| e.data().to_string().ok())
                .unwrap_or_default(),
            crl.last_update()
        );
        Some(match crl.get_by_serial(cert.serial_number()) {
            CrlStatus::Revoked(entry) => EmbeddedStatus::Revoked {
                at: to_utc(entry.revocation_date()),
                source,
            },
            _ => EmbeddedStatus::Good(source),
        })
    }

    /// Whether every certificate of `leaf`'s chain (built from `pool`) but the trust
    /// anchor has validation data here.
    pub fn covers(
        &self,
        leaf: &X509Ref,
        pool: &[&X509],
        anchors: &[X509],
        at: DateTime<Utc>,
    ) -> bool {
        let mut cert = leaf.to_owned();
        for _ in 0..8 {
            let der = cert.to_der().ok();
            if anchors.iter().any(|a| a.to_der().ok() == der) {
                return true;
            }
            let Some(issuer) = issuer_of(&cert, pool.iter().copied()) else {
                return false;
            };
            if self.status(&cert, issuer, anchors, at).is_none() {
                return false;
            }
            if issuer.to_der().ok() == der {
                return false;
            }
            cert = issuer.clone();
        }
        false
    }
}

impl Trust {
    pub fn anchors(anchors: &[X509]) -> Self {
        Self {
            anchors: anchors.to_vec(),
            ..Self::default()
        }
    }

    /// The configured CRL issued by `cert`'s issuer, if any.
    pub fn crl_for_cert(&self, cert: &X509Ref) -> Option<&X509Crl> {
        self.crl_for(cert)
    }

    /// The configured CRL issued by `cert`'s issuer, if any.
    pub(super) fn crl_for(&self, cert: &X509Ref) -> Option<&X509Crl> {
        let issuer = cert.issuer_name().to_der().ok()?;
        self.crls
            .iter()
            .map(|c| &**c)
            .find(|c| c.issuer_name().to_der().ok().as_deref() == Some(issuer.as_slice()))
    }
}

/// The certificate among `candidates` that issued `cert` (its subject is `cert`'s issuer
/// and its key verifies `cert`'s signature).
pub(super) fn issuer_of<'a>(
    cert: &X509Ref,
    candidates: impl IntoIterator<Item = &'a X509>,
) -> Option<&'a X509> {
    let issuer = cert.issuer_name().to_der().ok()?;
    candidates.into_iter().find(|c| {
        c.subject_name().to_der().ok().as_deref() == Some(issuer.as_slice())
            && c.public_key()
                .is_ok_and(|k| cert.verify(&k).unwrap_or(false))
    })
}

/// The http(s) URLs of `cert`'s CRL distribution points.
pub(super) fn distribution_points(cert: &X509Ref) -> Vec<String> {
    let Some(points) = cert.crl_distribution_points() else {
        return Vec::new();
    };
    points
        .iter()
        .filter_map(|p| p.distpoint())
        .filter_map(|name| name.fullname())
        .flat_map(|names| {
            names
                .iter()
                .filter_map(|n| n.uri())
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect()
}

impl Trust {
    /// The distribution point of `cert` that gave no list, and why, if there is one.
    pub(super) fn unavailable_for(&self, cert: &X509Ref) -> Option<&(String, String)> {
        let points = distribution_points(cert);
        self.unavailable
            .iter()
            .find(|(url, _)| points.contains(url))
    }
}

/// How revocation is checked, in words: which CRL and its age at `at`, or why not.
pub(super) fn describe_revocation(crl: Option<&X509Crl>, at: Option<DateTime<Utc>>) -> String {
    match crl {
        Some(crl) => format!(
            "checked against the CRL of {} issued {} ({} h old at the check)",
            crl.issuer_name()
                .entries_by_nid(openssl::nid::Nid::COMMONNAME)
                .next()
                .and_then(|e| e.data().to_string().ok())
                .unwrap_or_default(),
            crl.last_update(),
            Asn1Time::from_unix(at.unwrap_or_else(Utc::now).timestamp())
                .ok()
                .and_then(|at| crl.last_update().diff(&at).ok())
                .map_or(0, |d| i64::from(d.days) * 24 + i64::from(d.secs) / 3600)
        ),
        None => "not checked: no CRL of the signer's issuer is configured".into(),
    }
}

/// Verifies the CMS with the signer's chain at `at`; on failure records why.
pub(super) fn check_chain(
    report: &mut SignatureReport,
    info: &CmsInfo,
    data: &[u8],
    cms_der: &[u8],
    anchors: &[X509],
    crl: Option<&X509Crl>,
    at: Option<DateTime<Utc>>,
) -> Result<()> {
    let store = trust_store(anchors, crl, at)?;
    let mut ci = CmsContentInfo::from_der(cms_der)?;
    match ci.verify(None, Some(&store), Some(data), None, super::cms::FLAGS) {
        Ok(()) => report.chain_trusted = true,
        Err(e) => {
            // The CMS verification keeps only the message of the chain's error: the
            // signer's chain is built once more to learn its code.
            let failure = match info.signer_cert() {
                Some(signer) => chain_failure(&store, signer, &info.certificates, crl)?,
                None => None,
            };
            report.fail(failure.unwrap_or_else(|| Failure::Untrusted(ssl_reasons(&e))));
        }
    }
    Ok(())
}

/// Why `signer` does not chain to the store's anchors, with `untrusted` as intermediate
/// candidates; `None` if it does.
fn chain_failure(
    store: &X509Store,
    signer: &X509Ref,
    untrusted: &[X509],
    crl: Option<&X509Crl>,
) -> Result<Option<Failure>> {
    let mut chain = Stack::new()?;
    for c in untrusted {
        chain.push(c.clone())?;
    }
    let mut ctx = X509StoreContext::new()?;
    ctx.init(store, signer, &chain, |ctx| {
        if ctx.verify_cert()? {
            return Ok(None);
        }
        let error = ctx.error();
        let current = ctx.current_cert();
        let detail = error.error_string().to_owned();
        use openssl_sys as c;
        Ok(Some(match error.as_raw() {
            c::X509_V_ERR_CERT_REVOKED => Failure::Revoked {
                at: current.zip(crl).and_then(|(cert, crl)| {
                    match crl.get_by_serial(cert.serial_number()) {
                        CrlStatus::Revoked(entry) => to_utc(entry.revocation_date()),
                        _ => None,
                    }
                }),
            },
            c::X509_V_ERR_CERT_HAS_EXPIRED => Failure::Expired {
                not_after: current.and_then(|c| to_utc(c.not_after())),
            },
            c::X509_V_ERR_CERT_NOT_YET_VALID => Failure::NotYetValid {
                not_before: current.and_then(|c| to_utc(c.not_before())),
            },
            c::X509_V_ERR_CRL_HAS_EXPIRED
            | c::X509_V_ERR_CRL_NOT_YET_VALID
            | c::X509_V_ERR_UNABLE_TO_GET_CRL => Failure::RevocationNotCurrent(detail),
            c::X509_V_ERR_CRL_SIGNATURE_FAILURE
            | c::X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE
            | c::X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER
            | c::X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD
            | c::X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD => Failure::RevocationInvalid(detail),
            _ => Failure::Untrusted(detail),
        }))
    })
    .map_err(SignError::from)
}

/// Whether `crl` was issued after `t`.
pub(super) fn issued_after(crl: &X509Crl, t: DateTime<Utc>) -> bool {
    to_utc(crl.last_update()).is_some_and(|issued| issued > t)
}

/// `Some(when)` if `crl` lists `cert` as revoked (`when` if it says).
pub(super) fn revoked_on(crl: &X509Crl, cert: &X509Ref) -> Option<Option<DateTime<Utc>>> {
    match crl.get_by_serial(cert.serial_number()) {
        CrlStatus::Revoked(entry) => Some(to_utc(entry.revocation_date())),
        _ => None,
    }
}

/// An ASN.1 time as UTC.
fn to_utc(t: &Asn1TimeRef) -> Option<DateTime<Utc>> {
    let epoch = Asn1Time::from_unix(0).ok()?;
    let d = epoch.diff(t).ok()?;
    DateTime::from_timestamp(i64::from(d.days) * 86_400 + i64::from(d.secs), 0)
}

/// Short form of an OpenSSL error stack: the reason strings only.
pub(super) fn ssl_reasons(e: &openssl::error::ErrorStack) -> String {
    let v: Vec<String> = e
        .errors()
        .iter()
        .map(|x| match x.data() {
            Some(d) => format!("{} ({d})", x.reason().unwrap_or("unknown")),
            None => x.reason().unwrap_or("unknown").to_string(),
        })
        .collect();
    if v.is_empty() {
        e.to_string()
    } else {
        v.join("; ")
    }
}

unsafe extern "C" {
    // In libcrypto (linked by openssl-sys) but not bound by it.
    fn X509_STORE_add_crl(
        store: *mut openssl_sys::X509_STORE,
        crl: *mut openssl_sys::X509_CRL,
    ) -> std::os::raw::c_int;
}

fn trust_store(
    anchors: &[X509],
    crl: Option<&X509Crl>,
    at: Option<DateTime<Utc>>,
) -> Result<X509Store> {
    let mut b = X509StoreBuilder::new()?;
    for c in anchors {
        b.add_cert(c.clone())?;
    }
    b.set_purpose(X509PurposeId::ANY)?;
    let mut param = X509VerifyParam::new()?;
    if crl.is_some() {
        // Only the signer's certificate is checked: its issuer's CRL is the one given.
        param.set_flags(X509VerifyFlags::CRL_CHECK)?;
    }
    if let Some(at) = at {
        param.set_time(at.timestamp() as _);
    }
    b.set_param(&param)?;
    let store = b.build();
    if let Some(crl) = crl {
        use foreign_types::ForeignTypeRef;
        // SAFETY: both pointers are valid for the call; X509_STORE_add_crl takes its own
        // reference to the CRL and the store is not shared yet.
        let ok = unsafe { X509_STORE_add_crl(store.as_ptr(), crl.as_ptr()) };
        if ok != 1 {
            return Err(SignError::Openssl(openssl::error::ErrorStack::get()));
        }
    }
    Ok(store)
}

/// Whether `cert` was within its validity period at `t`.
pub(super) fn valid_at(cert: &X509Ref, t: DateTime<Utc>) -> bool {
    let Ok(at) = Asn1Time::from_unix(t.timestamp()) else {
        return false;
    };
    cert.not_before() <= at && cert.not_after() >= at
}
