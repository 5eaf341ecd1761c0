//! `BodyService`: the state bodies' profiles, which name the sender, the signatory's
//! position and name on every document a body issues, and the BIN of its signatories.
//! Each handler decodes its request, calls one step of [`crate::process::bodies`] and
//! encodes the result.

use tonic::{Request, Response, Status};

use super::AppState;
use super::error::invalid_field;
use super::pb::{self, body_service_server::BodyService};
use crate::domain::names::BodyName;
use crate::process::bodies::{self, BodyEdit};
use crate::store::bodies::BodyRow;

pub struct Bodies(pub AppState);

fn to_pb(b: BodyRow) -> pb::Body {
    pb::Body {
        name: BodyName::new(b.id.clone()).to_string(),
        etag: b.etag(),
        profile_complete: b.is_complete(),
        region_code: b.region_code.unwrap_or_default(),
        legal_name_ru: b.legal_name_ru,
        legal_name_kk: b.legal_name_kk,
        bin: b.bin,
        address_ru: b.address_ru,
        head_position_ru: b.head_position_ru,
        head_full_name: b.head_full_name,
    }
}

fn edit_from_pb(body: pb::Body, mask: Option<prost_types::FieldMask>) -> BodyEdit {
    BodyEdit {
        name: body.name,
        legal_name_ru: body.legal_name_ru,
        legal_name_kk: body.legal_name_kk,
        bin: body.bin,
        address_ru: body.address_ru,
        head_position_ru: body.head_position_ru,
        head_full_name: body.head_full_name,
        etag: body.etag,
        paths: mask.map(|m| m.paths).unwrap_or_default(),
    }
}

#[tonic::async_trait]
impl BodyService for Bodies {
    #[tracing::instrument(skip_all, fields(name = %request.get_ref().name))]
    async fn get_body(
        &self,
        request: Request<pb::GetBodyRequest>,
    ) -> Result<Response<pb::Body>, Status> {
        let name = request.into_inner().name;
        Ok(Response::new(to_pb(bodies::get(&self.0, &name).await?)))
    }

    #[tracing::instrument(skip_all)]
    async fn list_bodies(
        &self,
        _: Request<pb::ListBodiesRequest>,
    ) -> Result<Response<pb::ListBodiesResponse>, Status> {
        let found = bodies::list(&self.0).await?;
        Ok(Response::new(pb::ListBodiesResponse {
            bodies: found.into_iter().map(to_pb).collect(),
        }))
    }

    #[tracing::instrument(skip_all, fields(name = ?request.get_ref().body.as_ref().map(|b| &b.name)))]
    async fn update_body(
        &self,
        request: Request<pb::UpdateBodyRequest>,
    ) -> Result<Response<pb::Body>, Status> {
        let (actor, caller) = (super::actor(&self.0, &request), super::caller(&request));
        let r = request.into_inner();
        let body = r
            .body
            .ok_or_else(|| invalid_field("body", "the body to update is required"))?;
        let edit = edit_from_pb(body, r.update_mask);
        let stored = bodies::update(&self.0, &caller, &actor, &edit).await?;
        Ok(Response::new(to_pb(stored)))
    }
}
