//! Issued documents: read by their parties (metadata, the PDF, the detached CMS), and
//! verified by anyone, with a typed verdict per signature.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::Reason;
use super::paging::{self, Page, PageRequest};
use super::{Context, Error, Result};
use crate::domain::limits::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use crate::domain::names::DocumentName;
use crate::identity::{Caller, DenialReason, Denied, Role};
use crate::sealing::{ExtendError, Extension};
use crate::sign::verify::{self, Failure, Indication, SignatureReport};
use crate::store::DocumentRow;
use crate::store::audit::Actor;
use crate::store::documents::Blob;
use crate::store::signing::PartySignatureRow;

/// A document with the parties' signatures added to it since the seal.
#[derive(Debug, Clone)]
pub struct SignedDocument {
    pub document: DocumentRow,
    pub party: Vec<PartySignatureRow>,
    /// The public page that verifies it (what its QR code opens).
    pub verification_url: String,
}

/// Which documents to list: those about one subject, or all.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// `applications/{id}`, `regions/{kato}/quotaYears/{y}`, …; "" for every subject.
    pub subject: String,
    pub page: PageRequest,
}

/// How a checked signature is carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureKind {
    /// Embedded in the PDF.
    Pades,
    /// The detached CMS beside the file.
    Cms,
    /// A document timestamp in the PDF (PAdES B-LTA).
    DocumentTimestamp,
}

impl SignatureKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pades => "PADES",
            Self::Cms => "CMS",
            Self::DocumentTimestamp => "DOCUMENT_TIMESTAMP",
        }
    }
}

/// One checked signature.
#[derive(Debug, Clone)]
pub struct CheckedSignature {
    pub kind: SignatureKind,
    pub report: SignatureReport,
}

/// The verification of a file (and its detached CMS, if given).
#[derive(Debug, Clone)]
pub struct Verification {
    /// The embedded signatures in file order, then the detached CMS.
    pub signatures: Vec<CheckedSignature>,
    /// At least one signature, and every one TOTAL_PASSED.
    pub valid: bool,
    /// SHA-256 (hex) of the file.
    pub sha256: String,
    /// The issued document with exactly these bytes, if there is one.
    pub document: Option<DocumentName>,
    /// The time of the check (the service's clock).
    pub checked: DateTime<Utc>,
}

/// PERMISSION_DENIED unless the caller is party to the document: an application's
/// documents belong to its employer and its region's bodies; a region's filings to that
/// region's bodies and central bodies; published decisions to everyone.
pub async fn may_read(ctx: &Context, caller: &Caller, doc: &DocumentRow) -> Result<()> {
    let allowed = match caller.role {
        Role::Ministry | Role::Developer => true,
        _ if doc.subject.starts_with("quotas/") => true,
        _ => {
            if let Some(id) = doc.subject.strip_prefix("applications/") {
                let app = ctx.store.get_application(id).await?;
                caller.may_access(&app.employer_bin, &app.region_code)
            } else if let Some(rest) = doc.subject.strip_prefix("regions/") {
                let region = rest.split('/').next().unwrap_or_default();
                caller.role == Role::CentralBody
                    || (caller.role.is_regional() && caller.region.as_deref() == Some(region))
            } else {
                false
            }
        }
    };
    if allowed {
        return Ok(());
    }
    Err(Denied::new(
        DenialReason::NotParty,
        format!(
            "{} {} is not a party to {} ({})",
            caller.role,
            caller.identity(),
            DocumentName::new(&doc.id),
            doc.subject
        ),
    )
    .into())
}

/// The document with its party signatures, as stored now.
pub(super) async fn signed(ctx: &Context, document: DocumentRow) -> Result<SignedDocument> {
    let party = ctx.store.party_signatures(&document.id).await?;
    let verification_url = ctx.sealer.verification_url(&document.public_code);
    Ok(SignedDocument {
        document,
        party,
        verification_url,
    })
}

pub async fn get(ctx: &Context, caller: &Caller, name: &DocumentName) -> Result<SignedDocument> {
    let doc = ctx.store.get_document(name.id()).await?;
    may_read(ctx, caller, &doc).await?;
    signed(ctx, doc).await
}

/// Documents in issue order, a page at a time; a page holds only those the caller may
/// read, so it may come out short.
pub async fn list(ctx: &Context, caller: &Caller, q: &ListQuery) -> Result<Page<SignedDocument>> {
    let limit = paging::size("page_size", q.page.size, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
    let subject = Some(q.subject.trim()).filter(|s| !s.is_empty());
    let fingerprint = format!("{subject:?}");
    let after = paging::decode("page_token", &q.page.token, &fingerprint)?;
    let rows = ctx.store.list_documents(subject, after, limit + 1).await?;
    let page = Page::cut(rows, limit, after, &fingerprint, |d| d.seq);
    let mut items = Vec::with_capacity(page.items.len());
    for d in page.items {
        if may_read(ctx, caller, &d).await.is_err() {
            continue;
        }
        items.push(signed(ctx, d).await?);
    }
    Ok(Page {
        items,
        next_page_token: page.next_page_token,
    })
}

/// PERMISSION_DENIED unless the caller may extend the document: the ministry, or the
/// regional body of its region (an application's or a region's documents).
async fn may_extend(ctx: &Context, caller: &Caller, doc: &DocumentRow) -> Result<()> {
    let region = if let Some(id) = doc.subject.strip_prefix("applications/") {
        Some(ctx.store.get_application(id).await?.region_code)
    } else {
        doc.subject
            .strip_prefix("regions/")
            .and_then(|rest| rest.split('/').next())
            .map(str::to_owned)
    };
    let allowed = match caller.role {
        Role::Ministry | Role::Developer => true,
        Role::RegionalBody => region.is_some() && caller.region == region,
        _ => false,
    };
    if allowed {
        return Ok(());
    }
    Err(Denied::new(
        DenialReason::NotParty,
        format!(
            "{} {} may not extend {} ({}): the ministry or the regional body of its region may",
            caller.role,
            caller.identity(),
            DocumentName::new(&doc.id),
            doc.subject
        ),
    )
    .into())
}

/// Extends a document's signatures to `level` (PAdES B-LT, B-LTA) and stores the new
/// bytes with a renewed detached seal. A B-LTA document asked for B-LT keeps its level.
pub async fn extend(
    ctx: &Context,
    caller: &Caller,
    actor: &Actor,
    name: &DocumentName,
    level: Extension,
) -> Result<SignedDocument> {
    let doc = ctx.store.get_document(name.id()).await?;
    may_extend(ctx, caller, &doc).await?;
    extend_row(ctx, actor, &doc, level).await?;
    signed(ctx, ctx.store.get_document(&doc.id).await?).await
}

/// Extends a stored document (no access check: the archive job and publication).
pub async fn extend_row(
    ctx: &Context,
    actor: &Actor,
    doc: &DocumentRow,
    level: Extension,
) -> Result<()> {
    let pdf = ctx.store.document_bytes(&doc.id, Blob::Pdf).await?;
    let sealer = ctx.sealer.clone();
    let now = ctx.now();
    let extended = tokio::task::spawn_blocking(move || sealer.extend(&pdf, level, now))
        .await
        .map_err(|e| Error::internal("extension task", e))?
        .map_err(|e| match e {
            ExtendError::Missing(_) => {
                Error::refused(Reason::ValidationDataUnavailable, e.to_string())
            }
            ExtendError::NoTsa => Error::refused(Reason::NoTsaConfigured, e.to_string()),
            ExtendError::Tsa { .. } => Error::refused(Reason::TsaUnavailable, e.to_string()),
            ExtendError::Other(e) => Error::internal("extending the document", format!("{e:#}")),
        })?;
    let (stored_level, expiry) = match (level, doc.extension_level.as_str()) {
        (Extension::Lt, "B-LTA") => ("B-LTA", doc.archive_expire_time),
        _ => (level.as_str(), extended.archive_expire_time),
    };
    ctx.store
        .extend_document(
            actor,
            &doc.id,
            &doc.sha256,
            &extended.pdf,
            &extended.cms,
            stored_level,
            expiry,
        )
        .await?;
    Ok(())
}

/// The bytes of a document the caller may read: the PDF or its detached CMS.
pub async fn download(
    ctx: &Context,
    caller: &Caller,
    name: &DocumentName,
    blob: Blob,
) -> Result<Vec<u8>> {
    may_read(ctx, caller, &ctx.store.get_document(name.id()).await?).await?;
    Ok(ctx.store.document_bytes(name.id(), blob).await?)
}

/// Checks every signature of `pdf` (and the detached `cms` over it, if not empty) at
/// the service's time, unless a timestamp proves an earlier one. Anyone may verify.
pub async fn verify(ctx: &Context, pdf: Vec<u8>, cms: Vec<u8>) -> Result<Verification> {
    if pdf.is_empty() {
        return Err(Error::invalid_field("pdf", "the PDF to verify is required"));
    }
    if !pdf.starts_with(b"%PDF-") {
        return Err(Error::invalid_field(
            "pdf",
            "these bytes are not a PDF (no %PDF- header)",
        ));
    }
    let sha256 = hex::encode(Sha256::digest(&pdf));
    let sealer = ctx.sealer.clone();
    let now = ctx.now();
    let signatures = crate::sealing::on_core(move || {
        let trust = &sealer.trust_at(now);
        let pades = |report: SignatureReport| CheckedSignature {
            kind: if report.sub_filter == "ETSI.RFC3161" {
                SignatureKind::DocumentTimestamp
            } else {
                SignatureKind::Pades
            },
            report,
        };
        let mut out: Vec<CheckedSignature> = match verify::verify_pdf_with(&pdf, trust) {
            Ok(reports) => reports.into_iter().map(pades).collect(),
            Err(e) => vec![pades(SignatureReport::failed(Failure::Unreadable(
                e.to_string(),
            )))],
        };
        if !cms.is_empty() {
            let report = verify::verify_detached_with(&pdf, &cms, trust)
                .unwrap_or_else(|e| SignatureReport::failed(Failure::CmsInvalid(e.to_string())));
            out.push(CheckedSignature {
                kind: SignatureKind::Cms,
                report,
            });
        }
        out
    })
    .await
    .map_err(|e| Error::internal("verification task", e))?;
    let valid = !signatures.is_empty()
        && signatures
            .iter()
            .all(|s| s.report.verdict().indication == Indication::TotalPassed);
    let document = ctx
        .store
        .find_document_by_sha256(&sha256)
        .await?
        .map(DocumentName::new);
    Ok(Verification {
        signatures,
        valid,
        sha256,
        document,
        checked: now,
    })
}
