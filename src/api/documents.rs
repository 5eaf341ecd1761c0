//! `DocumentService`: metadata, download and verification of sealed documents.

use std::pin::Pin;

use crate::auth::{Caller, Role};
use sha2::{Digest, Sha256};
use tokio_stream::Stream;
use tonic::{Request, Response, Status};

use super::error::{self, invalid_field};
use super::pb::{self, document_service_server::DocumentService};
use super::{AppState, page_size, page_token, resource_id, timestamp};
use crate::sign::verify::{self, Failure, SignatureReport, SubIndication};
use crate::store::DocumentRow;
use crate::store::documents::Blob;
use crate::store::signing::PartySignatureRow;

pub struct Documents(pub AppState);

/// Size of a download chunk: well under gRPC's default 4 MiB message limit.
pub const CHUNK_BYTES: usize = 64 * 1024;

pub(crate) fn to_pb(d: DocumentRow, party: Vec<PartySignatureRow>) -> pb::Document {
    let signature = |kind: &str, position: u32| pb::SignatureInfo {
        kind: kind.into(),
        signer: d.signer.clone(),
        certificate_serial: d.certificate_serial.clone(),
        iin: d.signer_iin.clone().unwrap_or_default(),
        bin: d.signer_bin.clone().unwrap_or_default(),
        signing_time: Some(timestamp(d.signing_time)),
        role: "SERVICE_SEAL".into(),
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
        name: format!("documents/{}", d.id),
        kind: d.kind,
        title: d.title,
        subject: d.subject,
        sha256: d.sha256,
        size_bytes: d.size_bytes,
        create_time: Some(timestamp(d.create_time)),
        signatures,
        cms_sha256: d.cms_sha256,
    }
}

fn report_to_pb(kind: &str, r: SignatureReport) -> pb::SignatureVerification {
    let (verdict, error) = (r.verdict(), r.error());
    pb::SignatureVerification {
        kind: kind.into(),
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

/// PERMISSION_DENIED unless the caller is party to the document: an application's
/// documents belong to its employer and its region's bodies; a region's filings to that
/// region's bodies and central bodies; published decisions to everyone.
pub(crate) async fn may_read(
    state: &AppState,
    caller: &Caller,
    doc: &crate::store::DocumentRow,
) -> Result<(), Status> {
    let allowed = match caller.role {
        Role::Ministry | Role::Developer => true,
        _ if doc.subject.starts_with("quotas/") => true,
        _ => {
            if let Some(id) = doc.subject.strip_prefix("applications/") {
                let app = state.store.get_application(id).await?;
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
        Ok(())
    } else {
        Err(Status::from(crate::identity::Denied::new(
            crate::identity::DenialReason::NotParty,
            format!(
                "{} {} is not a party to documents/{} ({})",
                caller.role,
                caller.identity(),
                doc.id,
                doc.subject
            ),
        )))
    }
}

type ChunkStream = Pin<Box<dyn Stream<Item = Result<pb::DocumentChunk, Status>> + Send>>;

#[tonic::async_trait]
impl DocumentService for Documents {
    async fn get_document(
        &self,
        request: Request<pb::GetDocumentRequest>,
    ) -> Result<Response<pb::Document>, Status> {
        let caller = super::caller(&request);
        let name = request.into_inner().name;
        let id = resource_id("name", &name, "documents")?;
        let doc = self.0.store.get_document(id).await?;
        may_read(&self.0, &caller, &doc).await?;
        let party = self.0.store.party_signatures(id).await?;
        Ok(Response::new(to_pb(doc, party)))
    }

    async fn list_documents(
        &self,
        request: Request<pb::ListDocumentsRequest>,
    ) -> Result<Response<pb::ListDocumentsResponse>, Status> {
        let caller = super::caller(&request);
        let req = request.into_inner();
        let limit = page_size("page_size", req.page_size)?;
        let subject = Some(req.subject.trim()).filter(|s| !s.is_empty());
        let fingerprint = format!("{subject:?}");
        let after = page_token::decode("page_token", &req.page_token, &fingerprint)?;
        let mut docs = self
            .0
            .store
            .list_documents(subject, after, limit + 1)
            .await?;
        let next_page_token = if docs.len() as i64 > limit {
            docs.truncate(limit as usize);
            page_token::encode(docs.last().map_or(after, |d| d.seq), &fingerprint)
        } else {
            String::new()
        };
        let mut documents = Vec::with_capacity(docs.len());
        for d in docs {
            // A page holds only what the caller may read (it may come out short).
            if may_read(&self.0, &caller, &d).await.is_err() {
                continue;
            }
            let party = self.0.store.party_signatures(&d.id).await?;
            documents.push(to_pb(d, party));
        }
        Ok(Response::new(pb::ListDocumentsResponse {
            documents,
            next_page_token,
        }))
    }

    type DownloadDocumentStream = ChunkStream;

    async fn download_document(
        &self,
        request: Request<pb::DownloadDocumentRequest>,
    ) -> Result<Response<Self::DownloadDocumentStream>, Status> {
        let caller = super::caller(&request);
        let req = request.into_inner();
        let id = resource_id("name", &req.name, "documents")?;
        let blob = match pb::DocumentFormat::try_from(req.format) {
            Ok(pb::DocumentFormat::Pdf) => Blob::Pdf,
            Ok(pb::DocumentFormat::Cms) => Blob::Cms,
            _ => {
                return Err(invalid_field(
                    "format",
                    "format must be DOCUMENT_FORMAT_PDF or DOCUMENT_FORMAT_CMS",
                ));
            }
        };
        may_read(&self.0, &caller, &self.0.store.get_document(id).await?).await?;
        let bytes = self.0.store.document_bytes(id, blob).await?;
        let chunks: Vec<Result<pb::DocumentChunk, Status>> = bytes
            .chunks(CHUNK_BYTES)
            .map(|c| Ok(pb::DocumentChunk { data: c.to_vec() }))
            .collect();
        Ok(Response::new(Box::pin(tokio_stream::iter(chunks))))
    }

    async fn verify_document(
        &self,
        request: Request<pb::VerifyDocumentRequest>,
    ) -> Result<Response<pb::VerificationReport>, Status> {
        let req = request.into_inner();
        if req.pdf.is_empty() {
            return Err(invalid_field("pdf", "the PDF to verify is required"));
        }
        if !req.pdf.starts_with(b"%PDF-") {
            return Err(invalid_field(
                "pdf",
                "these bytes are not a PDF (no %PDF- header)",
            ));
        }
        let sha256 = hex::encode(Sha256::digest(&req.pdf));
        let sealer = self.0.sealer.clone();
        let now = self.0.now();
        let (pdf, cms) = (req.pdf, req.cms);
        let signatures = crate::sealing::on_core(move || {
            // Certificates are checked at the service's time unless a timestamp proves an
            // earlier one.
            let trust = &sealer.trust_at(now);
            let mut out: Vec<pb::SignatureVerification> = match verify::verify_pdf_with(&pdf, trust)
            {
                Ok(reports) => reports
                    .into_iter()
                    .map(|r| report_to_pb("PADES", r))
                    .collect(),
                Err(e) => vec![report_to_pb(
                    "PADES",
                    SignatureReport::failed(Failure::Unreadable(e.to_string())),
                )],
            };
            if !cms.is_empty() {
                out.push(match verify::verify_detached_with(&pdf, &cms, trust) {
                    Ok(r) => report_to_pb("CMS", r),
                    Err(e) => report_to_pb(
                        "CMS",
                        SignatureReport::failed(Failure::CmsInvalid(e.to_string())),
                    ),
                });
            }
            out
        })
        .await
        .map_err(|e| error::internal("verification task", e))?;
        let valid =
            !signatures.is_empty() && signatures.iter().all(|s| s.indication == "TOTAL_PASSED");
        let document = self
            .0
            .store
            .find_document_by_sha256(&sha256)
            .await?
            .map(|id| format!("documents/{id}"))
            .unwrap_or_default();
        Ok(Response::new(pb::VerificationReport {
            signatures,
            valid,
            sha256,
            document,
        }))
    }
}
