//! OCSP (RFC 6960): asks a certificate's responder whether it is revoked. The responder
//! is the one configured for the certificate's issuer, else the one its Authority
//! Information Access names, but only for a certificate whose issuer is a trust anchor:
//! an uploaded file cannot make the service call an address of its choosing. A response
//! is used only when its signature chains to the trust anchors, and is kept until its
//! nextUpdate (a response without one is not kept). A responder that is down, answers
//! "try later" or answers nonsense is an outage to report, not an error.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use chrono::{DateTime, NaiveDateTime, Utc};
use openssl::asn1::Asn1GeneralizedTimeRef;
use openssl::hash::MessageDigest;
use openssl::ocsp::{
    OcspCertId, OcspCertStatus, OcspFlag, OcspRequest, OcspResponse, OcspResponseStatus,
};
use openssl::stack::Stack;
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::verify::X509VerifyParam;
use openssl::x509::{X509, X509Ref};

use super::revocation::{FetchLimits, http_request};

/// At most this many responses are kept.
pub const MAX_CACHED: usize = 4096;

/// What a responder said of a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OcspOutcome {
    Good {
        responder: String,
        this_update: Option<DateTime<Utc>>,
    },
    Revoked {
        responder: String,
        at: Option<DateTime<Utc>>,
    },
    /// The responder does not know the certificate.
    Unknown { responder: String },
    /// No usable answer: down, "try later", a bad or unverifiable response.
    Unavailable { responder: String, problem: String },
}

impl OcspOutcome {
    pub fn responder(&self) -> &str {
        match self {
            Self::Good { responder, .. }
            | Self::Revoked { responder, .. }
            | Self::Unknown { responder }
            | Self::Unavailable { responder, .. } => responder,
        }
    }
}

/// A responder's verified answer: what it says, until when, and the response itself.
struct Answer {
    outcome: OcspOutcome,
    next_update: Option<DateTime<Utc>>,
    der: Vec<u8>,
}

#[derive(Clone)]
struct Cached {
    outcome: OcspOutcome,
    next_update: DateTime<Utc>,
    /// The whole OCSPResponse, as the responder signed it (for a document's DSS).
    der: Vec<u8>,
}

/// The OCSP client of a verifier: configured responders, and responses kept.
pub struct OcspClient {
    /// Responder URL by the issuer's common name; `*` for every issuer.
    configured: BTreeMap<String, String>,
    limits: FetchLimits,
    cache: Mutex<HashMap<Vec<u8>, Cached>>,
}

impl OcspClient {
    pub fn new(configured: BTreeMap<String, String>) -> Self {
        Self {
            configured,
            limits: FetchLimits {
                connect: std::time::Duration::from_secs(5),
                total: std::time::Duration::from_secs(10),
                max_bytes: 1 << 20,
            },
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The responder to ask about `cert`, issued by `issuer`: configured for the issuer,
    /// else named by the certificate when its issuer is one of `anchors`.
    pub fn responder(&self, cert: &X509Ref, issuer: &X509Ref, anchors: &[X509]) -> Option<String> {
        let issuer_cn = common_name(issuer);
        if let Some(url) = issuer_cn
            .as_deref()
            .and_then(|cn| self.configured.get(cn))
            .or_else(|| self.configured.get("*"))
        {
            return Some(url.clone());
        }
        let issuer_der = issuer.to_der().ok()?;
        let trusted = anchors
            .iter()
            .any(|a| a.to_der().ok().as_deref() == Some(issuer_der.as_slice()));
        if !trusted {
            return None;
        }
        let responders = cert.ocsp_responders().ok()?;
        responders
            .iter()
            .map(|r| r.to_string())
            .find(|u| u.starts_with("http://"))
    }

    /// Asks (or recalls) the status of `cert`; `None` when no responder is known.
    /// Blocking: call it off the async runtime.
    pub fn check(&self, cert: &X509Ref, issuer: &X509Ref, anchors: &[X509]) -> Option<OcspOutcome> {
        self.lookup(cert, issuer, anchors)
            .map(|(outcome, _)| outcome)
    }

    /// The verified OCSPResponse (DER) that says `cert` is good, asked or recalled, to
    /// embed as validation data; `None` without a responder or a good answer.
    pub fn good_response(
        &self,
        cert: &X509Ref,
        issuer: &X509Ref,
        anchors: &[X509],
    ) -> Option<Vec<u8>> {
        match self.lookup(cert, issuer, anchors)? {
            (OcspOutcome::Good { .. }, der) => der,
            _ => None,
        }
    }

    fn lookup(
        &self,
        cert: &X509Ref,
        issuer: &X509Ref,
        anchors: &[X509],
    ) -> Option<(OcspOutcome, Option<Vec<u8>>)> {
        let responder = self.responder(cert, issuer, anchors)?;
        let unavailable = |problem: String| OcspOutcome::Unavailable {
            responder: responder.clone(),
            problem,
        };
        // Kept by the issuer and the serial number, as a CertID names a certificate.
        let key = match (
            issuer.digest(MessageDigest::sha256()),
            cert.serial_number().to_bn(),
        ) {
            (Ok(issuer), Ok(serial)) => [issuer.as_ref(), &serial.to_vec()].concat(),
            _ => {
                return Some((
                    unavailable("the certificate cannot be named".to_owned()),
                    None,
                ));
            }
        };
        let now = Utc::now();
        if let Some(c) = self.lock().get(&key)
            && c.next_update > now
        {
            return Some((c.outcome.clone(), Some(c.der.clone())));
        }
        let Answer {
            outcome,
            next_update,
            der,
        } = match self.ask(&responder, cert, issuer, anchors) {
            Ok(answer) => answer,
            Err(problem) => {
                tracing::warn!(%responder, %problem, "OCSP responder gave no usable answer");
                return Some((unavailable(problem), None));
            }
        };
        if let Some(next_update) = next_update {
            let mut cache = self.lock();
            if cache.len() >= MAX_CACHED {
                cache.retain(|_, c| c.next_update > now);
                if cache.len() >= MAX_CACHED {
                    cache.clear();
                }
            }
            cache.insert(
                key,
                Cached {
                    outcome: outcome.clone(),
                    next_update,
                    der: der.clone(),
                },
            );
        }
        Some((outcome, Some(der)))
    }

    fn ask(
        &self,
        responder: &str,
        cert: &X509Ref,
        issuer: &X509Ref,
        anchors: &[X509],
    ) -> Result<Answer, String> {
        let id = || OcspCertId::from_cert(MessageDigest::sha1(), cert, issuer);
        let mut request = OcspRequest::new().map_err(|e| e.to_string())?;
        request
            .add_id(id().map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
        add_nonce(&mut request)?;
        let der = request.to_der().map_err(|e| e.to_string())?;
        let body = http_request(
            responder,
            &self.limits,
            Some(("application/ocsp-request", &der)),
        )
        .map_err(|e| e.to_string())?;
        let (outcome, next_update) = judge(&body, responder, cert, issuer, anchors, None)?;
        check_nonce(&request, &body)?;
        Ok(Answer {
            outcome,
            next_update,
            der: body,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Vec<u8>, Cached>> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Judges an OCSPResponse about `cert` (issued by `issuer`) from `responder`: its
/// signature must chain to `anchors` (at `at`, for a response kept in a document; then
/// it need not be current), and it must name the certificate.
pub fn judge(
    body: &[u8],
    responder: &str,
    cert: &X509Ref,
    issuer: &X509Ref,
    anchors: &[X509],
    at: Option<DateTime<Utc>>,
) -> Result<(OcspOutcome, Option<DateTime<Utc>>), String> {
    let response =
        OcspResponse::from_der(body).map_err(|_| "the reply is not an OCSP response".to_owned())?;
    let status = response.status();
    if status != OcspResponseStatus::SUCCESSFUL {
        let said = if status == OcspResponseStatus::TRY_LATER {
            "tryLater".to_owned()
        } else {
            format!("response status {}", status.as_raw())
        };
        return Err(format!("the responder answered {said}"));
    }
    let basic = response.basic().map_err(|e| e.to_string())?;
    let mut store = X509StoreBuilder::new().map_err(|e| e.to_string())?;
    for a in anchors {
        store.add_cert(a.clone()).map_err(|e| e.to_string())?;
    }
    if let Some(at) = at {
        let mut param = X509VerifyParam::new().map_err(|e| e.to_string())?;
        param.set_time(at.timestamp() as _);
        store.set_param(&param).map_err(|e| e.to_string())?;
    }
    let store = store.build();
    let mut certs = Stack::new().map_err(|e| e.to_string())?;
    certs.push(issuer.to_owned()).map_err(|e| e.to_string())?;
    basic
        .verify(&certs, &store, OcspFlag::empty())
        .map_err(|e| format!("the response's signature does not verify: {e}"))?;
    let id =
        OcspCertId::from_cert(MessageDigest::sha1(), cert, issuer).map_err(|e| e.to_string())?;
    let found = basic
        .find_status(&id)
        .ok_or_else(|| "the response does not name the certificate".to_owned())?;
    if at.is_none() {
        found
            .check_validity(300, None)
            .map_err(|_| "the response is not current".to_owned())?;
    }
    let responder = responder.to_owned();
    let next_update = found.next_update().and_then(to_utc);
    let outcome = if found.status == OcspCertStatus::GOOD {
        OcspOutcome::Good {
            responder,
            this_update: to_utc(found.this_update),
        }
    } else if found.status == OcspCertStatus::REVOKED {
        OcspOutcome::Revoked {
            responder,
            at: found.revocation_time.and_then(to_utc),
        }
    } else {
        OcspOutcome::Unknown { responder }
    };
    Ok((outcome, next_update))
}

unsafe extern "C" {
    // In libcrypto (linked by openssl-sys) but not bound by it.
    fn OCSP_request_add1_nonce(
        req: *mut openssl_sys::OCSP_REQUEST,
        val: *mut u8,
        len: std::os::raw::c_int,
    ) -> std::os::raw::c_int;
    fn OCSP_check_nonce(
        req: *mut openssl_sys::OCSP_REQUEST,
        bs: *mut openssl_sys::OCSP_BASICRESP,
    ) -> std::os::raw::c_int;
}

/// A random nonce in the request (RFC 8954): a responder that echoes it proves its
/// answer is fresh; one that answers from pre-produced responses leaves it out.
fn add_nonce(request: &mut OcspRequest) -> Result<(), String> {
    use foreign_types::ForeignType;
    // SAFETY: the request is valid for the call; a null value asks OpenSSL for 16
    // random bytes of its own.
    let ok = unsafe { OCSP_request_add1_nonce(request.as_ptr(), std::ptr::null_mut(), 16) };
    if ok == 1 {
        Ok(())
    } else {
        Err("the OCSP request's nonce could not be made".into())
    }
}

/// Refuses a response whose nonce differs from the request's (a replayed answer); a
/// response without one is accepted (the nonce is optional).
fn check_nonce(request: &OcspRequest, body: &[u8]) -> Result<(), String> {
    use foreign_types::ForeignType;
    let basic = OcspResponse::from_der(body)
        .and_then(|r| r.basic())
        .map_err(|e| e.to_string())?;
    // SAFETY: both are valid for the call; OCSP_check_nonce only reads them.
    let said = unsafe { OCSP_check_nonce(request.as_ptr(), basic.as_ptr()) };
    if said == 0 {
        return Err("the response's nonce is not the request's (a replayed answer?)".into());
    }
    Ok(())
}

fn common_name(cert: &X509Ref) -> Option<String> {
    cert.subject_name()
        .entries_by_nid(openssl::nid::Nid::COMMONNAME)
        .next()
        .and_then(|e| e.data().to_string().ok())
}

/// A GeneralizedTime as printed by OpenSSL ("Dec  3 10:40:00 2026 GMT"), as UTC.
fn to_utc(t: &Asn1GeneralizedTimeRef) -> Option<DateTime<Utc>> {
    let text = t.to_string();
    let text = text.trim().trim_end_matches(" GMT");
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    NaiveDateTime::parse_from_str(&text, "%b %d %H:%M:%S %Y")
        .or_else(|_| NaiveDateTime::parse_from_str(&text, "%b %d %H:%M:%S%.f %Y"))
        .ok()
        .map(|n| n.and_utc())
}
