//! A party's own signature on an issued document, in two steps. The key never leaves the
//! signer's token (NCALayer signs a hash and returns a CMS), so Kvota prepares the bytes
//! and hands out their SHA-256 ([`prepare`]), then checks the CMS it gets back, embeds it
//! and seals the result again ([`complete`]). Who signs which document is the rule of
//! [`crate::domain::signatories`].

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Duration, Utc};
use openssl::x509::X509;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::documents::{SignedDocument, may_read, signed};
use super::{Context, Error, Reason, Result};
use crate::domain::almaty;
use crate::domain::limits::{MAX_BATCH_SIGNATURES, MAX_OPEN_SESSIONS, SESSION_MINUTES};
use crate::domain::names::{DocumentName, SigningSessionName};
use crate::domain::signatories::{self, Authority, Body, Holder, NotParty, Signatory, SignerRole};
use crate::identity::Caller;
use crate::render::signer::{self, SignerBox, role_name};
use crate::sign::cms;
use crate::sign::keys::{SubjectSummary, cert_serial_hex, key_usage, kz_role};
use crate::sign::pades::{PadesOptions, PreparedPdf, prepare_pdf};
use crate::sign::verify::{self, Failure, Indication, SignatureReport};
use crate::store::audit::Actor;
use crate::store::documents::Blob;
use crate::store::signing::{PartySignatureRow, SessionRow};
use crate::store::{DocumentRow, StoreError};

/// Key usage a signing certificate needs: digitalSignature and nonRepudiation.
const SIGNING_KEY_USAGE: u32 = 0x80 | 0x40;

/// A signature to prepare (PrepareSignature).
#[derive(Debug, Clone)]
pub struct Preparation {
    pub document: DocumentName,
    /// The signer's certificate (DER or PEM), or empty: with it the party is checked
    /// before anything is signed and the signature gets its visible box.
    pub signer_certificate: Vec<u8>,
}

/// A prepared signature: the hash the token signs, until `expire_time`.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub session: SigningSessionName,
    pub document: DocumentName,
    /// SHA-256 of the prepared bytes that the signature covers.
    pub digest: Vec<u8>,
    pub expire_time: DateTime<Utc>,
    pub byte_range: [usize; 4],
}

/// The token's answer to a prepared signature (CompleteSignature).
#[derive(Debug, Clone)]
pub struct Completion {
    pub session: SigningSessionName,
    /// A detached CMS over the prepared bytes, DER or PEM.
    pub cms: Vec<u8>,
    /// The service seals again after the party, so the order reads party, then seal.
    pub seal_after: bool,
}

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

fn certificate_sha256(cert: &X509) -> Result<String> {
    cert.to_der()
        .map(|d| hex::encode(Sha256::digest(d)))
        .map_err(|e| Error::internal("the signer's certificate", e))
}

fn check_key_usage(cert: &X509) -> Result<()> {
    match key_usage(cert) {
        Some(ku) if ku & SIGNING_KEY_USAGE == SIGNING_KEY_USAGE => Ok(()),
        _ => Err(Error::refused(
            Reason::KeyUsage,
            "the signer's certificate is not a signing certificate (digitalSignature and nonRepudiation are required)",
        )),
    }
}

fn not_party(e: NotParty) -> Error {
    Error::refused(Reason::SignerNotParty, e.message)
        .with("field", e.field)
        .with("certificate", e.certificate)
        .with("expected", e.expected)
}

/// The BIN a state body's signers carry: its profile's, else the configured one.
async fn body_bin(ctx: &Context, doc: &DocumentRow, body_id: &str) -> Result<String> {
    let stored = match ctx.store.get_body(body_id).await {
        Ok(b) => Some(b.bin).filter(|b| !b.is_empty()),
        Err(StoreError::NotFound(_)) => None,
        Err(e) => return Err(e.into()),
    };
    let configured = || {
        if body_id == crate::store::bodies::MINISTRY {
            ctx.parties.ministry_bin.clone()
        } else {
            ctx.parties.regional_body_bins.get(body_id).cloned()
        }
    };
    stored.or_else(configured).ok_or_else(|| {
        Error::refused(
            Reason::PartyNotRegistered,
            format!(
                "no BIN is known for the body that signs {} documents ({}): set it with BodyService.UpdateBody (or signing.ministry_bin / signing.regional_body_bins)",
                doc.kind, doc.subject
            ),
        )
    })
}

/// The role in which the certificate's holder signs `doc`, or SIGNER_NOT_PARTY.
async fn signer_role(ctx: &Context, doc: &DocumentRow, cert: &X509) -> Result<SignerRole> {
    let who = SubjectSummary::from_name(cert.subject_name());
    let holder = Holder {
        iin: who.iin(),
        bin: who.bin(),
        authority: kz_role(cert).and_then(Authority::parse),
    };
    let (body, body_id) = match Signatory::of(&doc.kind, &doc.subject) {
        Signatory::Employer { application_id } => {
            let app = ctx.store.get_application(&application_id).await?;
            return signatories::employer_role(&app.employer_bin, &holder).map_err(not_party);
        }
        Signatory::Ministry => (Body::Ministry, crate::store::bodies::MINISTRY.to_owned()),
        Signatory::RegionalBodyOf { application_id } => {
            let app = ctx.store.get_application(&application_id).await?;
            (Body::RegionalBody, app.region_code)
        }
        Signatory::RegionalBody { region } => (Body::RegionalBody, region),
    };
    let bin = body_bin(ctx, doc, &body_id).await?;
    signatories::body_role(body, &bin, &holder).map_err(not_party)
}

/// What a party's visible box shows, from the certificate the session is prepared for.
fn signer_box(cert: &X509, role: SignerRole, number: usize, now: DateTime<Utc>) -> SignerBox {
    let who = SubjectSummary::from_name(cert.subject_name());
    // An individual employer signs with an IIN and no BIN (Appendix 1).
    let (identifier_label, identifier) = if role.signs_by_iin() {
        ("ИИН", who.iin())
    } else {
        ("БИН", who.bin())
    };
    SignerBox {
        number,
        role: role_name(role.code()),
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

/// The signer's certificate given with a preparation, checked: a signing certificate of
/// the party that signs `doc`.
async fn prepared_signer(
    ctx: &Context,
    doc: &DocumentRow,
    certificate: &[u8],
) -> Result<Option<(X509, SignerRole)>> {
    if certificate.is_empty() {
        return Ok(None);
    }
    let cert = der_of(certificate)
        .and_then(|d| X509::from_der(&d).ok())
        .ok_or_else(|| {
            Error::invalid_field("signer_certificate", "not a DER or PEM X.509 certificate")
        })?;
    check_key_usage(&cert)?;
    let role = signer_role(ctx, doc, &cert).await?;
    Ok(Some((cert, role)))
}

/// RESOURCE_EXHAUSTED when the document has its most open sessions (expired ones go).
async fn check_open_sessions(ctx: &Context, document_id: &str) -> Result<()> {
    let open = ctx.store.open_sessions(document_id, ctx.now()).await?;
    if open >= MAX_OPEN_SESSIONS {
        return Err(Error::refused(
            Reason::TooManySessions,
            format!(
                "{open} signing sessions of this document are open; complete one or wait {SESSION_MINUTES} minutes"
            ),
        ));
    }
    Ok(())
}

/// Prepares the document's next signature for a party the caller may read it as: the
/// bytes with an empty signature field (and the signer's visible box, when the
/// certificate is given) are kept for [`SESSION_MINUTES`].
pub async fn prepare(
    ctx: &Context,
    caller: &Caller,
    actor: &Actor,
    p: &Preparation,
) -> Result<Prepared> {
    let id = p.document.id();
    let doc = ctx.store.get_document(id).await?;
    may_read(ctx, caller, &doc).await?;
    let signer = prepared_signer(ctx, &doc, &p.signer_certificate).await?;
    check_open_sessions(ctx, id).await?;
    let pdf = ctx.store.document_bytes(id, Blob::Pdf).await?;
    let earlier = ctx.store.party_signatures(id).await?;
    let now = ctx.now();
    let mut options = PadesOptions::new(
        format!("Signature{}", 2 + earlier.len()),
        now.with_timezone(&almaty()),
    );
    options.reason = Some(format!("Подпись стороны ({})", doc.title));
    let parties = earlier
        .iter()
        .filter(|s| s.role != SignerRole::ServiceSeal.code())
        .count();
    let signer_box = signer
        .as_ref()
        .map(|(cert, role)| signer_box(cert, *role, parties + 1, now));
    let certificate_sha256 = signer
        .as_ref()
        .map(|(cert, _)| certificate_sha256(cert))
        .transpose()?;
    let renderer = ctx.sealer.renderer().clone();
    let prepared = crate::sealing::on_core(move || -> anyhow::Result<PreparedPdf> {
        if let Some(b) = &signer_box {
            options.appearance = Some(renderer.signer_box(b, now.with_timezone(&almaty()))?);
        }
        Ok(prepare_pdf(&pdf, &options)?)
    })
    .await
    .map_err(|e| Error::internal("preparing task", e))?
    .map_err(|e| Error::internal("preparing the signature", e))?;
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
    ctx.store.create_session(actor, &session).await?;
    Ok(Prepared {
        session: SigningSessionName::new(session.id),
        document: p.document.clone(),
        byte_range: prepared.byte_range(),
        digest: prepared.digest,
        expire_time: session.expire_time,
    })
}

/// The session, if it can still be completed at `now`.
async fn open_session(
    ctx: &Context,
    name: &SigningSessionName,
    now: DateTime<Utc>,
) -> Result<SessionRow> {
    let session = ctx.store.get_session(name.id()).await?;
    if session.complete_time.is_some() {
        return Err(StoreError::AlreadyExists(format!("{name} is already completed")).into());
    }
    if now >= session.expire_time {
        return Err(Error::refused(
            Reason::SessionExpired,
            format!(
                "{name} expired at {}: prepare the signature again",
                session.expire_time
            ),
        ));
    }
    Ok(session)
}

/// The CMS as DER and its signer's certificate; the certificate must be the one the
/// session was prepared for, if any: the prepared page names that signer.
fn read_cms(
    name: &SigningSessionName,
    session: &SessionRow,
    cms: &[u8],
) -> Result<(Vec<u8>, X509)> {
    let der = der_of(cms)
        .filter(|d| !d.is_empty())
        .ok_or_else(|| Error::invalid_field("cms", "a detached CMS in DER or PEM is required"))?;
    let info = cms::parse_cms(&der).map_err(|e| Error::invalid_field("cms", e.to_string()))?;
    let cert = info.signer_cert().cloned().ok_or_else(|| {
        Error::invalid_field("cms", "the CMS does not carry its signer's certificate")
    })?;
    if let Some(expected) = &session.signer_certificate_sha256 {
        let actual = certificate_sha256(&cert)?;
        if &actual != expected {
            return Err(Error::invalid_field(
                "cms",
                format!(
                    "the CMS is signed by a certificate (SHA-256 {actual}) other than the one {name} was prepared for (SHA-256 {expected}), whose signer the prepared page names; prepare the signature again with this certificate",
                ),
            ));
        }
    }
    Ok((der, cert))
}

/// The prepared bytes of the session.
fn prepared_pdf(session: &SessionRow) -> Result<PreparedPdf> {
    Ok(PreparedPdf {
        bytes: session.prepared_pdf.clone(),
        contents_start: session.contents_start,
        contents_end: session.contents_end,
        digest: hex::decode(&session.digest).map_err(|e| Error::internal("session digest", e))?,
    })
}

/// Checks the CMS over the prepared bytes: it signs them, and its certificate is not
/// revoked and chains to a trust anchor at `now`.
async fn check_cms(
    ctx: &Context,
    session: &SessionRow,
    prepared: &PreparedPdf,
    der: &[u8],
    now: DateTime<Utc>,
) -> Result<SignatureReport> {
    let content = prepared.signed_content();
    let sealer = ctx.sealer.clone();
    let cms_der = der.to_vec();
    let report = crate::sealing::on_core(move || {
        verify::verify_detached_with(&content, &cms_der, &sealer.trust_at(now))
    })
    .await
    .map_err(|e| Error::internal("verification task", e))?
    .map_err(|e| Error::invalid_field("cms", e.to_string()))?;
    if !report.integrity_ok {
        return Err(Error::refused(
            Reason::SignatureMismatch,
            format!(
                "the CMS does not sign this session's bytes (SHA-256 {}): {}",
                session.digest,
                report.error().unwrap_or_default()
            ),
        ));
    }
    if report.chain_trusted {
        return Ok(report);
    }
    let revoked = report
        .failures
        .iter()
        .any(|f| matches!(f, Failure::Revoked { .. }));
    Err(if revoked {
        Error::refused(
            Reason::CertificateRevoked,
            format!(
                "the signer's certificate is revoked ({})",
                report.revocation
            ),
        )
    } else {
        Error::refused(
            Reason::UntrustedCertificate,
            format!(
                "the signer's certificate does not chain to a trust anchor: {}",
                report.error().unwrap_or_default()
            ),
        )
    })
}

/// The verification report at acceptance, kept with the party's signature.
#[derive(Debug, Serialize)]
struct Acceptance<'a> {
    indication: &'static str,
    checked_at: String,
    signer: &'a str,
    iin: &'a Option<String>,
    bin: &'a Option<String>,
    role: &'a Option<String>,
    certificate_serial: &'a str,
    integrity_ok: bool,
    chain_trusted: bool,
    key_usage_ok: bool,
    valid_at_signing_time: Option<bool>,
    revocation: &'a str,
    timestamp_time: Option<String>,
}

fn party_row(
    cert: &X509,
    role: SignerRole,
    report: &SignatureReport,
    now: DateTime<Utc>,
) -> PartySignatureRow {
    let who = SubjectSummary::from_name(cert.subject_name());
    let acceptance = Acceptance {
        indication: Indication::TotalPassed.as_str(),
        checked_at: now.to_rfc3339(),
        signer: &report.signer_name,
        iin: &report.iin,
        bin: &report.bin,
        role: &report.role,
        certificate_serial: &report.certificate_serial,
        integrity_ok: report.integrity_ok,
        chain_trusted: report.chain_trusted,
        key_usage_ok: report.key_usage_ok,
        valid_at_signing_time: report.valid_at_signing_time,
        revocation: &report.revocation,
        timestamp_time: report.timestamp_time.map(|t| t.to_rfc3339()),
    };
    PartySignatureRow {
        position: 0,
        role: role.code().to_owned(),
        signer: who.common_name.clone().unwrap_or_default(),
        signer_iin: who.iin(),
        signer_bin: who.bin(),
        certificate_serial: report.certificate_serial.clone(),
        signing_time: now,
        report_json: serde_json::to_string(&acceptance).unwrap_or_default(),
    }
}

/// The seal's own entry when the service seals again after the party.
fn seal_row(doc: &DocumentRow, now: DateTime<Utc>) -> PartySignatureRow {
    PartySignatureRow {
        position: 0,
        role: SignerRole::ServiceSeal.code().to_owned(),
        signer: doc.signer.clone(),
        signer_iin: doc.signer_iin.clone(),
        signer_bin: doc.signer_bin.clone(),
        certificate_serial: doc.certificate_serial.clone(),
        signing_time: now,
        report_json: "{}".into(),
    }
}

/// The party's CMS with a signature timestamp, when a TSA is configured.
async fn timestamped(ctx: &Context, der: Vec<u8>) -> Result<Vec<u8>> {
    let sealer = ctx.sealer.clone();
    tokio::task::spawn_blocking(move || sealer.timestamp(der))
        .await
        .map_err(|e| Error::internal("timestamp task", e))?
        .map_err(|e| Error::refused(Reason::TsaUnavailable, format!("{e:#}")))
}

/// The final bytes (sealed again after the party if asked) and the detached seal CMS,
/// which always covers the final bytes.
async fn final_seal(
    ctx: &Context,
    pdf: Vec<u8>,
    seal_after: bool,
    party_count: usize,
    now: DateTime<Utc>,
) -> Result<(Vec<u8>, Vec<u8>)> {
    let sealer = ctx.sealer.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let pdf = if seal_after {
            sealer.reseal(&pdf, &format!("KvotaSeal{}", party_count + 3), now)?
        } else {
            pdf
        };
        let c = sealer.timestamp(cms::sign_detached(sealer.signer(), &pdf, now)?)?;
        Ok((pdf, c))
    })
    .await
    .map_err(|e| Error::internal("sealing task", e))?
    .map_err(|e| Error::internal("sealing after the party", e))
}

/// Completes a prepared signature with the token's CMS: it must sign the prepared bytes
/// with a trusted signing certificate of the party that signs the document. The CMS is
/// timestamped and embedded, the detached seal renewed, and the document stored with
/// the party's signature (nothing is stored on a refusal).
pub async fn complete(ctx: &Context, actor: &Actor, c: &Completion) -> Result<SignedDocument> {
    let now = ctx.now();
    let session = open_session(ctx, &c.session, now).await?;
    let (der, cert) = read_cms(&c.session, &session, &c.cms)?;
    let prepared = prepared_pdf(&session)?;
    let report = check_cms(ctx, &session, &prepared, &der, now).await?;
    check_key_usage(&cert)?;
    let doc = ctx.store.get_document(&session.document_id).await?;
    let role = signer_role(ctx, &doc, &cert).await?;
    let der = timestamped(ctx, der).await?;
    let pdf = prepared
        .embed(&der)
        .map_err(|e| Error::invalid_field("cms", e.to_string()))?;
    let party_count = ctx.store.party_signatures(&doc.id).await?.len();
    let (pdf, seal_cms) = final_seal(ctx, pdf, c.seal_after, party_count, now).await?;
    let mut rows = vec![party_row(&cert, role, &report, now)];
    if c.seal_after {
        rows.push(seal_row(&doc, now));
    }
    ctx.store
        .complete_signature(actor, &session, &pdf, &seal_cms, &rows, &der, now)
        .await?;
    let doc = ctx.store.get_document(&session.document_id).await?;
    signed(ctx, doc).await
}

/// Refuses a batch that is empty, larger than [`MAX_BATCH_SIGNATURES`] or names an item
/// twice (`field[i]`).
fn check_batch<'a>(field: &str, items: impl ExactSizeIterator<Item = &'a str>) -> Result<()> {
    let n = items.len();
    if n == 0 || n > MAX_BATCH_SIGNATURES {
        return Err(Error::invalid_field(
            field,
            format!("from 1 to {MAX_BATCH_SIGNATURES} items are required"),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for (i, item) in items.enumerate() {
        if !seen.insert(item) {
            return Err(Error::invalid_field(
                &format!("{field}[{i}]"),
                format!("{item} is named twice"),
            ));
        }
    }
    Ok(())
}

/// Prepares each of `documents` for the party of `signer_certificate`, as [`prepare`]
/// would one by one: the token then signs every digest with one PIN entry. Each
/// document's outcome stands on its own.
pub async fn prepare_batch(
    ctx: &Context,
    caller: &Caller,
    actor: &Actor,
    documents: &[DocumentName],
    signer_certificate: &[u8],
) -> Result<Vec<Result<Prepared>>> {
    let names: Vec<String> = documents.iter().map(ToString::to_string).collect();
    check_batch("documents", names.iter().map(String::as_str))?;
    let mut out = Vec::with_capacity(documents.len());
    for document in documents {
        let p = Preparation {
            document: document.clone(),
            signer_certificate: signer_certificate.to_vec(),
        };
        out.push(prepare(ctx, caller, actor, &p).await);
    }
    Ok(out)
}

/// Completes each prepared signature as [`complete`] would, each in its own
/// transaction: a refused one leaves its document as it was and the others stored.
pub async fn complete_batch(
    ctx: &Context,
    actor: &Actor,
    completions: &[Completion],
) -> Result<Vec<Result<SignedDocument>>> {
    let names: Vec<String> = completions.iter().map(|c| c.session.to_string()).collect();
    check_batch("completions", names.iter().map(String::as_str))?;
    let mut out = Vec::with_capacity(completions.len());
    for c in completions {
        out.push(complete(ctx, actor, c).await);
    }
    Ok(out)
}
