//! `SigningService`: a party's own signature in two steps. The key never leaves the
//! signer's token (NCALayer signs a hash and returns a CMS), so Kvota prepares the bytes,
//! hands out their SHA-256, then checks and embeds the CMS it gets back.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::Duration;
use openssl::x509::X509;
use tonic::{Code, Request, Response, Status};

use super::error::{self, invalid_field};
use super::pb::{self, signing_service_server::SigningService};
use super::{AppState, resource_id, timestamp};
use crate::domain::{Bin, almaty};
use crate::sign::keys::{SubjectSummary, key_usage, kz_role};
use crate::sign::pades::{PadesOptions, PreparedPdf, prepare_pdf};
use crate::sign::{cms, verify};
use crate::store::DocumentRow;
use crate::store::documents::Blob;
use crate::store::signing::{PartySignatureRow, SessionRow};

pub struct Signing(pub AppState);

/// How long a prepared signature waits for the token's CMS.
pub const SESSION_MINUTES: i64 = 15;
/// Open sessions allowed per document.
pub const MAX_OPEN_SESSIONS: i64 = 10;

/// Key usage a signing certificate needs: digitalSignature and nonRepudiation.
const SIGNING_KEY_USAGE: u32 = 0x80 | 0x40;

/// Reads a DER or PEM (CMS, PKCS7 or certificate) blob as DER.
fn der_of(bytes: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(bytes).ok();
    match text.map(str::trim_start) {
        Some(t) if t.starts_with("-----BEGIN") => {
            let body: String = t
                .lines()
                .filter(|l| !l.starts_with("-----"))
                .collect::<Vec<_>>()
                .concat();
            STANDARD.decode(body.trim()).ok()
        }
        _ => Some(bytes.to_vec()),
    }
}

fn denied(field: &str, message: String, certificate: &str, expected: &str) -> Status {
    error::status_with(
        Code::PermissionDenied,
        "SIGNER_NOT_PARTY",
        message,
        HashMap::from([
            ("field".to_string(), field.to_string()),
            ("certificate".to_string(), certificate.to_string()),
            ("expected".to_string(), expected.to_string()),
        ]),
    )
}

impl Signing {
    /// The signer must be the filing party (Appendix 1: the employer, by BIN with a head
    /// or signing-right role, or the individual by IIN). Returns the signer's role.
    async fn party_role(&self, doc: &DocumentRow, cert: &X509) -> Result<String, Status> {
        let who = SubjectSummary::from_name(cert.subject_name());
        let role = kz_role(cert);
        if doc.kind == crate::sealing::KIND_APPENDIX_1 {
            let app_id = doc.subject.trim_start_matches("applications/");
            let app = self.0.store.get_application(app_id).await?;
            let individual = Bin::parse(&app.employer_bin).is_ok_and(|b| b.looks_like_iin());
            if individual {
                let iin = who.iin().unwrap_or_default();
                if iin != app.employer_bin {
                    return Err(denied(
                        "iin",
                        format!(
                            "the certificate's IIN {iin:?} is not the employer's IIN {}",
                            app.employer_bin
                        ),
                        &iin,
                        &app.employer_bin,
                    ));
                }
                return Ok("EMPLOYER_INDIVIDUAL".into());
            }
            let bin = who.bin().unwrap_or_default();
            if bin != app.employer_bin {
                return Err(denied(
                    "bin",
                    format!(
                        "the certificate's BIN {bin:?} is not the employer's BIN {}",
                        app.employer_bin
                    ),
                    &bin,
                    &app.employer_bin,
                ));
            }
            return match role {
                Some("HEAD") => Ok("EMPLOYER_HEAD".into()),
                Some("SIGNATORY") => Ok("EMPLOYER_SIGNATORY".into()),
                other => Err(denied(
                    "role",
                    "the certificate gives no head or signing-right role of the employer (extended key usage 1.2.398.3.3.4.1.2.1 or .2.2)".into(),
                    other.unwrap_or("none"),
                    "HEAD or SIGNATORY",
                )),
            };
        }
        // The state bodies' documents: the region's body (Appendices 2–4, protocols,
        // notices) or the ministry (the decision), by the BIN configured for it.
        let (party, body_id) = match doc.kind.as_str() {
            "QUOTA_DECISION" => ("MINISTRY", crate::store::bodies::MINISTRY.to_owned()),
            "EMPLOYER_NOTICE" => {
                let app_id = doc.subject.trim_start_matches("applications/");
                let app = self.0.store.get_application(app_id).await?;
                ("REGIONAL_BODY", app.region_code)
            }
            _ => {
                let region = doc
                    .subject
                    .strip_prefix("regions/")
                    .and_then(|r| r.split('/').next())
                    .unwrap_or_default();
                ("REGIONAL_BODY", region.to_owned())
            }
        };
        // The body's profile names its BIN; the configuration is the default.
        let stored = match self.0.store.get_body(&body_id).await {
            Ok(b) => Some(b.bin).filter(|b| !b.is_empty()),
            Err(crate::store::StoreError::NotFound(_)) => None,
            Err(e) => return Err(e.into()),
        };
        let expected = stored.or_else(|| {
            if body_id == crate::store::bodies::MINISTRY {
                self.0.parties.ministry_bin.clone()
            } else {
                self.0.parties.regional_body_bins.get(&body_id).cloned()
            }
        });
        let Some(expected) = expected else {
            return Err(error::status(
                Code::FailedPrecondition,
                "PARTY_NOT_REGISTERED",
                format!(
                    "no BIN is known for the body that signs {} documents ({}): set it with BodyService.UpdateBody (or signing.ministry_bin / signing.regional_body_bins)",
                    doc.kind, doc.subject
                ),
            ));
        };
        let bin = who.bin().unwrap_or_default();
        if bin != expected {
            return Err(denied(
                "bin",
                format!(
                    "the certificate's BIN {bin:?} is not the BIN {expected} of the signing body"
                ),
                &bin,
                &expected,
            ));
        }
        match role {
            Some("HEAD") => Ok(format!("{party}_HEAD")),
            Some("SIGNATORY") => Ok(format!("{party}_SIGNATORY")),
            other => Err(denied(
                "role",
                "the certificate gives no head or signing-right role (extended key usage 1.2.398.3.3.4.1.2.1 or .2.2)".into(),
                other.unwrap_or("none"),
                "HEAD or SIGNATORY",
            )),
        }
    }
}

fn check_key_usage(cert: &X509) -> Result<(), Status> {
    match key_usage(cert) {
        Some(ku) if ku & SIGNING_KEY_USAGE == SIGNING_KEY_USAGE => Ok(()),
        _ => Err(error::status_with(
            Code::InvalidArgument,
            "KEY_USAGE",
            "the signer's certificate is not a signing certificate (digitalSignature and nonRepudiation are required)",
            HashMap::new(),
        )),
    }
}

#[tonic::async_trait]
impl SigningService for Signing {
    async fn prepare_signature(
        &self,
        request: Request<pb::PrepareSignatureRequest>,
    ) -> Result<Response<pb::SigningSession>, Status> {
        let caller = crate::auth::Caller::of(&request);
        let r = request.into_inner();
        let id = resource_id("document", &r.document, "documents")?;
        let doc = self.0.store.get_document(id).await?;
        super::documents::may_read(&self.0, &caller, &doc).await?;
        if !r.signer_certificate.is_empty() {
            let cert = der_of(&r.signer_certificate)
                .and_then(|d| X509::from_der(&d).ok())
                .ok_or_else(|| {
                    invalid_field("signer_certificate", "not a DER or PEM X.509 certificate")
                })?;
            check_key_usage(&cert)?;
            self.party_role(&doc, &cert).await?;
        }
        // Expired sessions go; a document has only a few open ones at a time.
        let open = self.0.store.open_sessions(id, self.0.now()).await?;
        if open >= MAX_OPEN_SESSIONS {
            return Err(error::status(
                Code::ResourceExhausted,
                "TOO_MANY_SESSIONS",
                format!(
                    "{} signing sessions of this document are open; complete one or wait {SESSION_MINUTES} minutes",
                    open
                ),
            ));
        }
        let pdf = self.0.store.document_bytes(id, Blob::Pdf).await?;
        let position = 2 + self.0.store.party_signatures(id).await?.len();
        let now = self.0.now();
        let mut options =
            PadesOptions::new(format!("Signature{position}"), now.with_timezone(&almaty()));
        options.reason = Some(format!("Подпись стороны ({})", doc.title));
        let prepared = crate::sealing::on_core(move || prepare_pdf(&pdf, &options))
            .await
            .map_err(|e| error::internal("preparing task", e))?
            .map_err(|e| error::internal("preparing the signature", e))?;
        let session = SessionRow {
            id: uuid::Uuid::new_v4().to_string(),
            document_id: id.to_owned(),
            contents_start: prepared.contents_start,
            contents_end: prepared.contents_end,
            digest: hex::encode(&prepared.digest),
            base_sha256: doc.sha256.clone(),
            expire_time: now + Duration::minutes(SESSION_MINUTES),
            create_time: now,
            complete_time: None,
            prepared_pdf: prepared.bytes.clone(),
        };
        self.0.store.create_session(&session).await?;
        Ok(Response::new(pb::SigningSession {
            name: format!("signingSessions/{}", session.id),
            document: r.document,
            sha256_hex: session.digest.clone(),
            sha256_base64: STANDARD.encode(&prepared.digest),
            expire_time: Some(timestamp(session.expire_time)),
            byte_range: prepared.byte_range().iter().map(|&n| n as u64).collect(),
        }))
    }

    async fn complete_signature(
        &self,
        request: Request<pb::CompleteSignatureRequest>,
    ) -> Result<Response<pb::Document>, Status> {
        let r = request.into_inner();
        let id = resource_id("session", &r.session, "signingSessions")?;
        let session = self.0.store.get_session(id).await?;
        let now = self.0.now();
        if session.complete_time.is_some() {
            return Err(error::status(
                Code::AlreadyExists,
                "ALREADY_EXISTS",
                format!("{} is already completed", r.session),
            ));
        }
        if now >= session.expire_time {
            return Err(error::status(
                Code::FailedPrecondition,
                "SESSION_EXPIRED",
                format!(
                    "{} expired at {}: prepare the signature again",
                    r.session, session.expire_time
                ),
            ));
        }
        let der = der_of(&r.cms)
            .filter(|d| !d.is_empty())
            .ok_or_else(|| invalid_field("cms", "a detached CMS in DER or PEM is required"))?;
        let info = cms::parse_cms(&der).map_err(|e| invalid_field("cms", e.to_string()))?;
        let cert = info.signer_cert().cloned().ok_or_else(|| {
            invalid_field("cms", "the CMS does not carry its signer's certificate")
        })?;
        let prepared = PreparedPdf {
            bytes: session.prepared_pdf.clone(),
            contents_start: session.contents_start,
            contents_end: session.contents_end,
            digest: hex::decode(&session.digest)
                .map_err(|e| error::internal("session digest", e))?,
        };
        let content = prepared.signed_content();
        let sealer = self.0.sealer.clone();
        let cms_der = der.clone();
        let report = crate::sealing::on_core(move || {
            verify::verify_detached_with(&content, &cms_der, &sealer.trust_at(now))
        })
        .await
        .map_err(|e| error::internal("verification task", e))?
        .map_err(|e| invalid_field("cms", e.to_string()))?;
        if !report.integrity_ok {
            return Err(error::status(
                Code::InvalidArgument,
                "SIGNATURE_MISMATCH",
                format!(
                    "the CMS does not sign this session's bytes (SHA-256 {}): {}",
                    session.digest,
                    report.error.clone().unwrap_or_default()
                ),
            ));
        }
        if !report.chain_trusted
            && report
                .error
                .as_deref()
                .is_some_and(|e| e.contains("revoked"))
        {
            return Err(error::status(
                Code::InvalidArgument,
                "CERTIFICATE_REVOKED",
                format!(
                    "the signer's certificate is revoked ({})",
                    report.revocation
                ),
            ));
        }
        if !report.chain_trusted {
            return Err(error::status(
                Code::InvalidArgument,
                "UNTRUSTED_CERTIFICATE",
                format!(
                    "the signer's certificate does not chain to a trust anchor: {}",
                    report.error.clone().unwrap_or_default()
                ),
            ));
        }
        check_key_usage(&cert)?;
        let doc = self.0.store.get_document(&session.document_id).await?;
        let role = self.party_role(&doc, &cert).await?;
        // The party's signature gets a signature timestamp too, when a TSA is configured.
        let sealer = self.0.sealer.clone();
        let der = tokio::task::spawn_blocking(move || sealer.timestamp(der))
            .await
            .map_err(|e| error::internal("timestamp task", e))?
            .map_err(|e| error::status(Code::Unavailable, "TSA_UNAVAILABLE", format!("{e:#}")))?;
        let pdf = prepared
            .embed(&der)
            .map_err(|e| invalid_field("cms", e.to_string()))?;
        // Optionally the service seals again (party, then seal); the detached seal CMS
        // always covers the document's final bytes.
        let sealer = self.0.sealer.clone();
        let seal_after = r.seal_after;
        let party_count = self
            .0
            .store
            .party_signatures(&session.document_id)
            .await?
            .len();
        let (pdf, seal_cms) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            let pdf = if seal_after {
                sealer.reseal(&pdf, &format!("KvotaSeal{}", party_count + 3), now)?
            } else {
                pdf
            };
            let c = sealer.timestamp(cms::sign_detached(sealer.signer(), &pdf, now)?)?;
            Ok((pdf, c))
        })
        .await
        .map_err(|e| error::internal("sealing task", e))?
        .map_err(|e| error::internal("sealing after the party", e))?;
        let who = SubjectSummary::from_name(cert.subject_name());
        let row = PartySignatureRow {
            position: 0,
            role,
            signer: who.common_name.clone().unwrap_or_default(),
            signer_iin: who.iin(),
            signer_bin: who.bin(),
            certificate_serial: report.certificate_serial.clone(),
            signing_time: now,
            // The verification report at acceptance, kept with the document.
            report_json: serde_json::json!({
                "indication": "TOTAL_PASSED",
                "checked_at": now.to_rfc3339(),
                "signer": report.signer_name,
                "iin": report.iin,
                "bin": report.bin,
                "role": report.role,
                "certificate_serial": report.certificate_serial,
                "integrity_ok": report.integrity_ok,
                "chain_trusted": report.chain_trusted,
                "key_usage_ok": report.key_usage_ok,
                "valid_at_signing_time": report.valid_at_signing_time,
                "revocation": report.revocation,
                "timestamp_time": report.timestamp_time.map(|t| t.to_rfc3339()),
            })
            .to_string(),
        };
        let mut rows = vec![row];
        if seal_after {
            let doc = self.0.store.get_document(&session.document_id).await?;
            rows.push(PartySignatureRow {
                position: 0,
                role: "SERVICE_SEAL".into(),
                signer: doc.signer.clone(),
                signer_iin: doc.signer_iin.clone(),
                signer_bin: doc.signer_bin.clone(),
                certificate_serial: doc.certificate_serial.clone(),
                signing_time: now,
                report_json: "{}".into(),
            });
        }
        self.0
            .store
            .complete_signature(&session, &pdf, &seal_cms, &rows, &der, now)
            .await?;
        let doc = self.0.store.get_document(&session.document_id).await?;
        let party = self.0.store.party_signatures(&session.document_id).await?;
        Ok(Response::new(super::documents::to_pb(doc, party)))
    }
}
