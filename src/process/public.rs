//! What anyone may read without an identity: an issued document looked up by the code
//! its QR code carries, with its signatures checked now, and the published decisions
//! (p. 19) with the regions' names. Nothing here changes state, and nothing of a
//! document that is not public (an employer's application, a notice) leaves here but its
//! kind, identifier, issue time, digest and the verdicts on its signatures.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::documents::{self, SignatureKind};
use super::issue::is_public_code;
use super::{Context, Error, Result};
use crate::domain::ApplicationState;
use crate::domain::names::DocumentName;
use crate::sign::verify::{AdesLevel, Verdict};
use crate::store::DocumentRow;
pub use crate::store::documents::Blob;

/// Why a document no longer stands on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Supersession {
    /// A later document of the same kind about the same subject (a new version of the
    /// decision, a re-issued filing), by its public code.
    LaterVersion { code: String, issued: DateTime<Utc> },
    /// The employer withdrew the application the document belongs to.
    Withdrawn,
}

/// One signature of a stored document, as a verification page shows it. For a document
/// that is not public only the kind, the role, the times and the verdict are filled.
#[derive(Debug, Clone)]
pub struct PublicSignature {
    pub kind: SignatureKind,
    /// `SERVICE_SEAL`, `REGIONAL_BODY_HEAD`, … (as `SignatureInfo.role`), if known.
    pub role: Option<String>,
    pub signer_name: String,
    pub organisation: String,
    pub bin: Option<String>,
    /// The IIN with all but its first 6 digits (the date of birth) masked.
    pub iin_masked: Option<String>,
    pub signing_time: Option<DateTime<Utc>>,
    pub timestamp_time: Option<DateTime<Utc>>,
    /// B-B, or B-T with a signature timestamp that holds.
    pub level: AdesLevel,
    pub verdict: Verdict,
    /// Why it did not pass, for people (English, from the verifier).
    pub reason: Option<String>,
}

/// An issued document as the public sees it.
#[derive(Debug, Clone)]
pub struct PublicDocument {
    pub code: String,
    pub name: DocumentName,
    /// `APPENDIX_1`, `QUOTA_DECISION`, …
    pub kind: String,
    /// The title; empty for a document that is not public.
    pub title: String,
    /// The published decision: its content, the PDF and the CMS are public.
    pub public: bool,
    pub issued: DateTime<Utc>,
    pub sha256: String,
    pub size_bytes: u64,
    pub signatures: Vec<PublicSignature>,
    /// At least one signature, and every one TOTAL_PASSED.
    pub valid: bool,
    pub superseded: Option<Supersession>,
    /// For a published decision: its first quota year and its version.
    pub decision: Option<(u32, u32)>,
    /// When the signatures were checked.
    pub checked: DateTime<Utc>,
}

/// The IIN with every digit after the sixth replaced by `*`.
pub fn mask_iin(iin: &str) -> String {
    iin.chars()
        .enumerate()
        .map(|(i, c)| if i < 6 { c } else { '*' })
        .collect()
}

/// Whether a document about `subject` is public: the ministry's decision is (p. 19).
pub fn is_public(subject: &str) -> bool {
    subject.starts_with("quotas/")
}

/// The document issued under `code`, its signatures checked at the service's time.
/// NOT_FOUND for a code that is malformed or was never issued.
pub async fn document(ctx: &Context, code: &str) -> Result<PublicDocument> {
    if !is_public_code(code) {
        return Err(Error::from(crate::store::StoreError::NotFound(format!(
            "no document has the code {code:?}"
        ))));
    }
    let doc = ctx.store.get_document_by_code(code).await?;
    let pdf = ctx.store.document_bytes(&doc.id, Blob::Pdf).await?;
    let cms = ctx.store.document_bytes(&doc.id, Blob::Cms).await?;
    let checked = ctx.now();
    let v = documents::verify(ctx, pdf, cms).await?;
    let party = ctx.store.party_signatures(&doc.id).await?;
    let public = is_public(&doc.subject);
    let role_of = |serial: &str| {
        if serial.eq_ignore_ascii_case(&doc.certificate_serial) {
            return Some("SERVICE_SEAL".to_owned());
        }
        party
            .iter()
            .find(|p| p.certificate_serial.eq_ignore_ascii_case(serial))
            .map(|p| p.role.clone())
    };
    let signatures = v
        .signatures
        .iter()
        .map(|s| {
            let r = &s.report;
            let mut sig = PublicSignature {
                kind: s.kind,
                role: role_of(&r.certificate_serial),
                signer_name: r.signer_name.clone(),
                organisation: r.organisation.clone(),
                bin: r.bin.clone(),
                iin_masked: r.iin.as_deref().map(mask_iin),
                signing_time: r.signing_time,
                timestamp_time: r.timestamp_time,
                level: r.ades_level(),
                verdict: r.verdict(),
                reason: r.error(),
            };
            if !public {
                sig.signer_name.clear();
                sig.organisation.clear();
                sig.bin = None;
                sig.iin_masked = None;
            }
            sig
        })
        .collect();
    let superseded = supersession(ctx, &doc).await?;
    let decision = if public {
        decision_of(ctx, &doc.id).await?
    } else {
        None
    };
    Ok(PublicDocument {
        code: code.to_owned(),
        name: DocumentName::new(&doc.id),
        kind: doc.kind.clone(),
        title: if public {
            doc.title.clone()
        } else {
            String::new()
        },
        public,
        issued: doc.create_time,
        sha256: doc.sha256.clone(),
        size_bytes: doc.size_bytes,
        signatures,
        valid: v.valid,
        superseded,
        decision,
        checked,
    })
}

/// The PDF (or its detached CMS) of a public document; NOT_FOUND for any other.
pub async fn public_bytes(ctx: &Context, code: &str, blob: Blob) -> Result<(DocumentRow, Vec<u8>)> {
    let not_found = || {
        Error::from(crate::store::StoreError::NotFound(format!(
            "no public document has the code {code:?}"
        )))
    };
    if !is_public_code(code) {
        return Err(not_found());
    }
    let doc = ctx.store.get_document_by_code(code).await?;
    if !is_public(&doc.subject) {
        return Err(not_found());
    }
    let bytes = ctx.store.document_bytes(&doc.id, blob).await?;
    Ok((doc, bytes))
}

/// The stored document `name` (by its identifier), for the decision pages' links.
pub async fn document_row(ctx: &Context, name: &DocumentName) -> Result<DocumentRow> {
    Ok(ctx.store.get_document(name.id()).await?)
}

/// Whether the document under `code` is superseded now: cheap beside a verification,
/// so a page whose verdicts are reused still says this as it stands.
pub async fn standing(ctx: &Context, code: &str) -> Result<Option<Supersession>> {
    let doc = ctx.store.get_document_by_code(code).await?;
    supersession(ctx, &doc).await
}

async fn supersession(ctx: &Context, doc: &DocumentRow) -> Result<Option<Supersession>> {
    if let Some(later) = ctx
        .store
        .later_document(&doc.subject, &doc.kind, doc.seq)
        .await?
    {
        return Ok(Some(Supersession::LaterVersion {
            code: later.public_code,
            issued: later.create_time,
        }));
    }
    if let Some(id) = doc.subject.strip_prefix("applications/") {
        let app = ctx.store.get_application(id).await?;
        if app.state == ApplicationState::Withdrawn {
            return Ok(Some(Supersession::Withdrawn));
        }
    }
    Ok(None)
}

/// The first quota year and the version of the decision published as document `id`.
async fn decision_of(ctx: &Context, id: &str) -> Result<Option<(u32, u32)>> {
    let quotas = ctx.store.established_quotas(None).await?;
    Ok(quotas.iter().find_map(|q| {
        let v = q.versions.iter().find(|v| v.document_id == id)?;
        let year = u32::try_from(*q.quota_years.first()?).ok()?;
        Some((year, v.version))
    }))
}

/// The regions' names by KATO code: (Russian, Kazakh).
pub async fn region_names(ctx: &Context) -> Result<BTreeMap<String, (String, String)>> {
    Ok(ctx
        .store
        .list_regions()
        .await?
        .into_iter()
        .map(|r| (r.kato, (r.name_ru, r.name_kk)))
        .collect())
}

/// The treaty countries' names (Russian) by ISO code.
pub async fn country_names(ctx: &Context) -> Result<BTreeMap<String, String>> {
    Ok(ctx.store.treaty_countries().await?.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_iin_shows_only_its_first_six_digits() {
        assert_eq!(mask_iin("900101300123"), "900101******");
        assert_eq!(mask_iin("9001"), "9001");
    }

    #[test]
    fn only_the_ministrys_decision_is_public() {
        assert!(is_public("quotas/abc"));
        assert!(!is_public("applications/abc"));
        assert!(!is_public("regions/110000000/quotaYears/2027"));
    }
}
