//! `DocumentService`: metadata, download and verification of sealed documents, over
//! [`crate::process::documents`].

use std::pin::Pin;

use chrono::{DateTime, Utc};

use tokio_stream::Stream;
use tonic::{Request, Response, Status};

use super::AppState;
use super::error::invalid_field;
use super::pb::{self, document_service_server::DocumentService, signature_verification as sv};
use super::timestamp;
use crate::domain::names::DocumentName;
use crate::domain::signatories::SignerRole;
use crate::process::documents::{
    self as process, CheckedSignature, ListQuery, SignatureKind, SignedDocument,
};
use crate::process::paging::PageRequest;
use crate::sealing::Extension;
use crate::sign::verify::{AdesLevel, Indication, SubIndication};
use crate::store::documents::Blob;

pub struct Documents(pub AppState);

/// Size of a download chunk: well under gRPC's default 4 MiB message limit.
pub const CHUNK_BYTES: usize = 64 * 1024;

pub(crate) fn to_pb(signed: SignedDocument) -> pb::Document {
    let SignedDocument {
        document: d,
        party,
        verification_url,
    } = signed;
    let signature = |kind: &str, position: u32| pb::SignatureInfo {
        kind: kind.into(),
        signer: d.signer.clone(),
        certificate_serial: d.certificate_serial.clone(),
        iin: d.signer_iin.clone().unwrap_or_default(),
        bin: d.signer_bin.clone().unwrap_or_default(),
        signing_time: Some(timestamp(d.signing_time)),
        role: SignerRole::ServiceSeal.code().into(),
        position,
    };
    // The seal comes first in the PDF, then the parties' signatures; the detached CMS
    // stands beside the file (position 0).
    let mut signatures = vec![signature("PADES", 1)];
    signatures.extend(party.into_iter().map(|p| pb::SignatureInfo {
        kind: "PADES".into(),
        signer: p.signer,
        certificate_serial: p.certificate_serial,
        iin: p.signer_iin.unwrap_or_default(),
        bin: p.signer_bin.unwrap_or_default(),
        signing_time: Some(timestamp(p.signing_time)),
        role: p.role,
        position: p.position,
    }));
    signatures.push(signature("CMS", 0));
    pb::Document {
        name: DocumentName::new(d.id).to_string(),
        kind: d.kind,
        title: d.title,
        subject: d.subject,
        sha256: d.sha256,
        size_bytes: d.size_bytes,
        create_time: Some(timestamp(d.create_time)),
        verification_url,
        signatures,
        cms_sha256: d.cms_sha256,
        extension_level: match d.extension_level.as_str() {
            "B-LT" => pb::ExtensionLevel::BLt,
            "B-LTA" => pb::ExtensionLevel::BLta,
            _ => pb::ExtensionLevel::Unspecified,
        } as i32,
        archive_expire_time: d.archive_expire_time.map(timestamp),
    }
}

fn kind_to_pb(kind: SignatureKind) -> sv::Kind {
    match kind {
        SignatureKind::Pades => sv::Kind::Pades,
        SignatureKind::Cms => sv::Kind::Cms,
        SignatureKind::DocumentTimestamp => sv::Kind::DocumentTimestamp,
    }
}

fn indication_to_pb(i: Indication) -> sv::Indication {
    match i {
        Indication::TotalPassed => sv::Indication::TotalPassed,
        Indication::TotalFailed => sv::Indication::TotalFailed,
        Indication::Indeterminate => sv::Indication::Indeterminate,
    }
}

fn sub_indication_to_pb(s: Option<SubIndication>) -> sv::SubIndication {
    use SubIndication as S;
    use sv::SubIndication as P;
    match s {
        None => P::Unspecified,
        Some(S::FormatFailure) => P::FormatFailure,
        Some(S::HashFailure) => P::HashFailure,
        Some(S::SigCryptoFailure) => P::SigCryptoFailure,
        Some(S::Revoked) => P::Revoked,
        Some(S::OutOfBoundsNoPoe) => P::OutOfBoundsNoPoe,
        Some(S::TryLater) => P::TryLater,
        Some(S::CertificateChainGeneralFailure) => P::CertificateChainGeneralFailure,
        Some(S::NoCertificateChainFound) => P::NoCertificateChainFound,
        Some(S::SigConstraintsFailure) => P::SigConstraintsFailure,
    }
}

fn ades_level_to_pb(level: AdesLevel) -> sv::AdesLevel {
    match level {
        AdesLevel::BB => sv::AdesLevel::BB,
        AdesLevel::BT => sv::AdesLevel::BT,
        AdesLevel::BLt => sv::AdesLevel::BLt,
        AdesLevel::BLta => sv::AdesLevel::BLta,
    }
}

#[allow(deprecated)] // `kind`, `indication` and `sub_indication` stay filled for older clients.
fn verification_to_pb(s: CheckedSignature, checked: DateTime<Utc>) -> pb::SignatureVerification {
    let CheckedSignature { kind, report: r } = s;
    let (verdict, error) = (r.verdict(), r.error());
    pb::SignatureVerification {
        ades_level: ades_level_to_pb(r.ades_level()) as i32,
        best_signature_time: Some(timestamp(r.best_signature_time(checked))),
        signature_kind: kind_to_pb(kind) as i32,
        verdict_indication: indication_to_pb(verdict.indication) as i32,
        verdict_sub_indication: sub_indication_to_pb(verdict.sub_indication) as i32,
        kind: kind.as_str().into(),
        signer: r.signer_name,
        iin: r.iin.unwrap_or_default(),
        bin: r.bin.unwrap_or_default(),
        certificate_serial: r.certificate_serial,
        signing_time: r.signing_time.map(timestamp),
        integrity_ok: r.integrity_ok,
        chain_trusted: r.chain_trusted,
        whole_document_covered: r.whole_document_covered,
        sub_filter: r.sub_filter,
        error: error.unwrap_or_default(),
        indication: verdict.indication.as_str().into(),
        sub_indication: verdict
            .sub_indication
            .map_or("", SubIndication::as_str)
            .into(),
        role: r.role.unwrap_or_default(),
        key_usage_ok: r.key_usage_ok,
        revocation: r.revocation,
        valid_at_signing_time: r.valid_at_signing_time.unwrap_or(false),
        timestamp_time: r.timestamp_time.map(timestamp),
    }
}

/// A document's resource name, or INVALID_ARGUMENT naming `field`.
fn document_name(field: &str, name: &str) -> Result<DocumentName, Status> {
    DocumentName::parse(name).map_err(|e| invalid_field(field, e.to_string()))
}

fn blob_from_pb(format: i32) -> Result<Blob, Status> {
    match pb::DocumentFormat::try_from(format) {
        Ok(pb::DocumentFormat::Pdf) => Ok(Blob::Pdf),
        Ok(pb::DocumentFormat::Cms) => Ok(Blob::Cms),
        _ => Err(invalid_field(
            "format",
            "format must be DOCUMENT_FORMAT_PDF or DOCUMENT_FORMAT_CMS",
        )),
    }
}

type ChunkStream = Pin<Box<dyn Stream<Item = Result<pb::DocumentChunk, Status>> + Send>>;

#[tonic::async_trait]
impl DocumentService for Documents {
    #[tracing::instrument(skip_all, fields(name = %request.get_ref().name))]
    #[tracing::instrument(skip_all, fields(name = %request.get_ref().name))]
    async fn extend_document(
        &self,
        request: Request<pb::ExtendDocumentRequest>,
    ) -> Result<Response<pb::Document>, Status> {
        let caller = super::caller(&request);
        let actor = super::actor(&self.0, &request);
        let r = request.into_inner();
        let name = document_name("name", &r.name)?;
        let level = match pb::ExtensionLevel::try_from(r.level) {
            Ok(pb::ExtensionLevel::BLt) => Extension::Lt,
            Ok(pb::ExtensionLevel::BLta) => Extension::Lta,
            _ => {
                return Err(invalid_field(
                    "level",
                    "EXTENSION_LEVEL_B_LT or EXTENSION_LEVEL_B_LTA is required",
                ));
            }
        };
        let signed = process::extend(&self.0, &caller, &actor, &name, level).await?;
        Ok(Response::new(to_pb(signed)))
    }

    async fn get_document(
        &self,
        request: Request<pb::GetDocumentRequest>,
    ) -> Result<Response<pb::Document>, Status> {
        let caller = super::caller(&request);
        let name = document_name("name", &request.into_inner().name)?;
        let signed = process::get(&self.0, &caller, &name).await?;
        Ok(Response::new(to_pb(signed)))
    }

    #[tracing::instrument(skip_all, fields(subject = %request.get_ref().subject))]
    async fn list_documents(
        &self,
        request: Request<pb::ListDocumentsRequest>,
    ) -> Result<Response<pb::ListDocumentsResponse>, Status> {
        let caller = super::caller(&request);
        let req = request.into_inner();
        let query = ListQuery {
            subject: req.subject,
            page: PageRequest {
                size: req.page_size,
                token: req.page_token,
            },
        };
        let page = process::list(&self.0, &caller, &query).await?;
        Ok(Response::new(pb::ListDocumentsResponse {
            documents: page.items.into_iter().map(to_pb).collect(),
            next_page_token: page.next_page_token,
        }))
    }

    type DownloadDocumentStream = ChunkStream;

    #[tracing::instrument(skip_all, fields(name = %request.get_ref().name, format = request.get_ref().format))]
    async fn download_document(
        &self,
        request: Request<pb::DownloadDocumentRequest>,
    ) -> Result<Response<Self::DownloadDocumentStream>, Status> {
        let caller = super::caller(&request);
        let req = request.into_inner();
        let name = document_name("name", &req.name)?;
        let blob = blob_from_pb(req.format)?;
        let bytes = process::download(&self.0, &caller, &name, blob).await?;
        let chunks: Vec<Result<pb::DocumentChunk, Status>> = bytes
            .chunks(CHUNK_BYTES)
            .map(|c| Ok(pb::DocumentChunk { data: c.to_vec() }))
            .collect();
        Ok(Response::new(Box::pin(tokio_stream::iter(chunks))))
    }

    #[tracing::instrument(skip_all, fields(pdf_bytes = request.get_ref().pdf.len(), cms_bytes = request.get_ref().cms.len()))]
    async fn verify_document(
        &self,
        request: Request<pb::VerifyDocumentRequest>,
    ) -> Result<Response<pb::VerificationReport>, Status> {
        let req = request.into_inner();
        let v = process::verify(&self.0, req.pdf, req.cms).await?;
        Ok(Response::new(pb::VerificationReport {
            signatures: v
                .signatures
                .into_iter()
                .map(|s| verification_to_pb(s, v.checked))
                .collect(),
            valid: v.valid,
            sha256: v.sha256,
            document: v.document.map(|d| d.to_string()).unwrap_or_default(),
        }))
    }
}
