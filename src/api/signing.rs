//! `SigningService`: a party's own signature in two steps. The key never leaves the
//! signer's token (NCALayer signs a hash and returns a CMS), so Kvota prepares the bytes,
//! hands out their SHA-256, then checks and embeds the CMS it gets back.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Duration, Utc};
use openssl::x509::X509;
use sha2::{Digest, Sha256};
use tonic::{Code, Request, Response, Status};

use super::error::{self, invalid_field};
use super::pb::{self, signing_service_server::SigningService};
use super::{AppState, resource_id, timestamp};
use crate::domain::{Bin, almaty};
use crate::render::signer::{self, SignerBox, role_name};
use crate::sign::keys::{SubjectSummary, cert_serial_hex, key_usage, kz_role};
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

/// What a party's visible box shows, from the certificate the session is prepared for.
fn signer_box(cert: &X509, role: &str, number: usize, now: DateTime<Utc>) -> SignerBox {
    let who = SubjectSummary::from_name(cert.subject_name());
    // An individual employer signs with an IIN and no BIN (Appendix 1).
    let (identifier_label, identifier) = if role == "EMPLOYER_INDIVIDUAL" {
        ("ИИН", who.iin())
    } else {
        ("БИН", who.bin())
    };
    SignerBox {
        number,
        role: role_name(role),
        signer: who.common_name.clone().unwrap_or_default(),
        organisation: who.organization.clone().unwrap_or_default(),
        identifier_label: identifier_label.into(),
        identifier: identifier.unwrap_or_default(),
        // As the seal's block prints its time (Sealer::visible_signature).
        signing_time: now
            .with_timezone(&almaty())
            .format("%d.%m.%Y %H:%M:%S (UTC+5)")
            .to_string(),
        certificate_serial: cert_serial_hex(cert),
        width_mm: signer::WIDTH_MM,
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
        let actor = super::actor(&self.0, &request);
        let caller = super::caller(&request);
        let r = request.into_inner();
        let id = resource_id("document", &r.document, "documents")?;
        let doc = self.0.store.get_document(id).await?;
        super::documents::may_read(&self.0, &caller, &doc).await?;
        // With the signer's certificate the party check runs before anything is signed,
        // and the signature gets its visible box (who, for whom, in what role, when);
        // without it the signature stays invisible, as the box could name no one.
        let signer = if r.signer_certificate.is_empty() {
            None
        } else {
            let cert = der_of(&r.signer_certificate)
                .and_then(|d| X509::from_der(&d).ok())
                .ok_or_else(|| {
                    invalid_field("signer_certificate", "not a DER or PEM X.509 certificate")
                })?;
            check_key_usage(&cert)?;
            let role = self.party_role(&doc, &cert).await?;
            Some((cert, role))
        };
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
        let earlier = self.0.store.party_signatures(id).await?;
        let position = 2 + earlier.len();
        let now = self.0.now();
        let mut options =
            PadesOptions::new(format!("Signature{position}"), now.with_timezone(&almaty()));
        options.reason = Some(format!("Подпись стороны ({})", doc.title));
        let signer_box = signer.as_ref().map(|(cert, role)| {
            let parties = earlier.iter().filter(|s| s.role != "SERVICE_SEAL").count();
            signer_box(cert, role, parties + 1, now)
        });
        let certificate_sha256 = signer
            .as_ref()
            .map(|(cert, _)| cert.to_der().map(|d| hex::encode(Sha256::digest(d))))
            .transpose()
            .map_err(|e| error::internal("the signer's certificate", e))?;
        let renderer = self.0.sealer.renderer().clone();
        let prepared = crate::sealing::on_core(move || -> anyhow::Result<PreparedPdf> {
            if let Some(b) = &signer_box {
                options.appearance = Some(renderer.signer_box(b, now.with_timezone(&almaty()))?);
            }
            Ok(prepare_pdf(&pdf, &options)?)
        })
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
            signer_certificate_sha256: certificate_sha256,
        };
        self.0.store.create_session(&actor, &session).await?;
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
        let actor = super::actor(&self.0, &request);
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
        // The prepared bytes show the box of the certificate given then: another signer's
        // CMS would sign a page naming someone else.
        if let Some(expected) = &session.signer_certificate_sha256 {
            let actual = cert
                .to_der()
                .map(|d| hex::encode(Sha256::digest(d)))
                .map_err(|e| error::internal("the signer's certificate", e))?;
            if &actual != expected {
                return Err(invalid_field(
                    "cms",
                    format!(
                        "the CMS is signed by a certificate (SHA-256 {actual}) other than the one {} was prepared for (SHA-256 {expected}), whose signer the prepared page names; prepare the signature again with this certificate",
                        r.session
                    ),
                ));
            }
        }
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
                    report.error().unwrap_or_default()
                ),
            ));
        }
        if !report.chain_trusted
            && report
                .failures
                .iter()
                .any(|f| matches!(f, verify::Failure::Revoked { .. }))
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
                    report.error().unwrap_or_default()
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
            .complete_signature(&actor, &session, &pdf, &seal_cms, &rows, &der, now)
            .await?;
        let doc = self.0.store.get_document(&session.document_id).await?;
        let party = self.0.store.party_signatures(&session.document_id).await?;
        Ok(Response::new(super::documents::to_pb(doc, party)))
    }
}
