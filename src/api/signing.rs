//! `SigningService`: a party's own signature in two steps, over
//! [`crate::process::signing`].

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use tonic::{Request, Response, Status};

use super::error::invalid_field;
use super::pb::{self, signing_service_server::SigningService};
use super::{AppState, timestamp};
use crate::domain::names::{DocumentName, SigningSessionName};
use crate::process::signing::{self as process, Completion, Preparation};

pub struct Signing(pub AppState);

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
        Ok(Response::new(pb::SigningSession {
            name: p.session.to_string(),
            document: p.document.to_string(),
            sha256_hex: hex::encode(&p.digest),
            sha256_base64: STANDARD.encode(&p.digest),
            expire_time: Some(timestamp(p.expire_time)),
            byte_range: p.byte_range.iter().map(|&n| n as u64).collect(),
        }))
    }

    #[tracing::instrument(skip_all, fields(session = %request.get_ref().session, seal_after = request.get_ref().seal_after))]
    async fn complete_signature(
        &self,
        request: Request<pb::CompleteSignatureRequest>,
    ) -> Result<Response<pb::Document>, Status> {
        let actor = super::actor(&self.0, &request);
        let r = request.into_inner();
        let completion = Completion {
            session: SigningSessionName::parse(&r.session)
                .map_err(|e| invalid_field("session", e.to_string()))?,
            cms: r.cms,
            seal_after: r.seal_after,
        };
        let signed = process::complete(&self.0, &actor, &completion).await?;
        Ok(Response::new(super::documents::to_pb(signed)))
    }
}
