//! `SigningService`: a party's own signature in two steps, over
//! [`crate::process::signing`].

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use tonic::{Request, Response, Status};

use super::error::invalid_field;
use super::pb::{self, signing_service_server::SigningService};
use super::{AppState, timestamp};
use crate::domain::names::{DocumentName, SigningSessionName};
use crate::process::signing::{self as process, Completion, Preparation, Prepared};
use tonic_types::StatusExt;

pub struct Signing(pub AppState);

fn session_to_pb(p: &Prepared) -> pb::SigningSession {
    pb::SigningSession {
        name: p.session.to_string(),
        document: p.document.to_string(),
        sha256_hex: hex::encode(&p.digest),
        sha256_base64: STANDARD.encode(&p.digest),
        expire_time: Some(timestamp(p.expire_time)),
        byte_range: p.byte_range.iter().map(|&n| n as u64).collect(),
    }
}

/// One item's refusal, as the single call would have answered it.
fn item_error(e: crate::process::Error) -> pb::ItemError {
    let status = Status::from(e);
    pb::ItemError {
        code: status.code() as i32,
        reason: status
            .get_details_error_info()
            .map(|i| i.reason)
            .unwrap_or_default(),
        message: status.message().to_owned(),
    }
}

fn session_name(field: &str, name: &str) -> Result<SigningSessionName, Status> {
    SigningSessionName::parse(name).map_err(|e| invalid_field(field, e.to_string()))
}

#[tonic::async_trait]
impl SigningService for Signing {
    #[tracing::instrument(skip_all, fields(document = %request.get_ref().document))]
    async fn prepare_signature(
        &self,
        request: Request<pb::PrepareSignatureRequest>,
    ) -> Result<Response<pb::SigningSession>, Status> {
        let actor = super::actor(&self.0, &request);
        let caller = super::caller(&request);
        let r = request.into_inner();
        let preparation = Preparation {
            document: DocumentName::parse(&r.document)
                .map_err(|e| invalid_field("document", e.to_string()))?,
            signer_certificate: r.signer_certificate,
        };
        let p = process::prepare(&self.0, &caller, &actor, &preparation).await?;
        Ok(Response::new(session_to_pb(&p)))
    }

    #[tracing::instrument(skip_all, fields(documents = request.get_ref().documents.len()))]
    async fn prepare_signatures(
        &self,
        request: Request<pb::PrepareSignaturesRequest>,
    ) -> Result<Response<pb::PrepareSignaturesResponse>, Status> {
        let actor = super::actor(&self.0, &request);
        let caller = super::caller(&request);
        let r = request.into_inner();
        let documents = r
            .documents
            .iter()
            .enumerate()
            .map(|(i, d)| {
                DocumentName::parse(d)
                    .map_err(|e| invalid_field(&format!("documents[{i}]"), e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let results =
            process::prepare_batch(&self.0, &caller, &actor, &documents, &r.signer_certificate)
                .await?;
        let signatures = r
            .documents
            .into_iter()
            .zip(results)
            .map(|(document, result)| match result {
                Ok(p) => pb::PreparedSignature {
                    document,
                    session: Some(session_to_pb(&p)),
                    error: None,
                },
                Err(e) => pb::PreparedSignature {
                    document,
                    session: None,
                    error: Some(item_error(e)),
                },
            })
            .collect();
        Ok(Response::new(pb::PrepareSignaturesResponse { signatures }))
    }

    #[tracing::instrument(skip_all, fields(completions = request.get_ref().completions.len(), seal_after = request.get_ref().seal_after))]
    async fn complete_signatures(
        &self,
        request: Request<pb::CompleteSignaturesRequest>,
    ) -> Result<Response<pb::CompleteSignaturesResponse>, Status> {
        let actor = super::actor(&self.0, &request);
        let r = request.into_inner();
        let seal_after = r.seal_after;
        let completions = r
            .completions
            .into_iter()
            .enumerate()
            .map(|(i, c)| {
                Ok(Completion {
                    session: session_name(&format!("completions[{i}].session"), &c.session)?,
                    cms: c.cms,
                    seal_after,
                })
            })
            .collect::<Result<Vec<_>, Status>>()?;
        let results = process::complete_batch(&self.0, &actor, &completions).await?;
        let signatures = completions
            .iter()
            .zip(results)
            .map(|(c, result)| match result {
                Ok(signed) => pb::CompletedSignature {
                    session: c.session.to_string(),
                    document: Some(super::documents::to_pb(signed)),
                    error: None,
                },
                Err(e) => pb::CompletedSignature {
                    session: c.session.to_string(),
                    document: None,
                    error: Some(item_error(e)),
                },
            })
            .collect();
        Ok(Response::new(pb::CompleteSignaturesResponse { signatures }))
    }

    #[tracing::instrument(skip_all, fields(session = %request.get_ref().session, seal_after = request.get_ref().seal_after))]
    async fn complete_signature(
        &self,
        request: Request<pb::CompleteSignatureRequest>,
    ) -> Result<Response<pb::Document>, Status> {
        let actor = super::actor(&self.0, &request);
        let r = request.into_inner();
        let completion = Completion {
            session: session_name("session", &r.session)?,
            cms: r.cms,
            seal_after: r.seal_after,
        };
        let signed = process::complete(&self.0, &actor, &completion).await?;
        Ok(Response::new(super::documents::to_pb(signed)))
    }
}
