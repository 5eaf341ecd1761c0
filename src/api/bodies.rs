//! `BodyService`: the state bodies' profiles, which name the sender, the signatory's
//! position and name on every document a body issues, and the BIN of its signatories.

use tonic::{Code, Request, Response, Status};

use super::AppState;
use super::error::{self, invalid, invalid_field};
use super::pb::{self, body_service_server::BodyService};
use crate::domain::{Bin, Violations};
use crate::store::bodies::{BodyRow, MINISTRY};

pub struct Bodies(pub AppState);

/// Longest name, position or address accepted.
const MAX_BODY_TEXT: usize = 500;

/// The fields `UpdateBody` may change (AIP-134 field mask paths).
const EDITABLE: [&str; 6] = [
    "legal_name_ru",
    "legal_name_kk",
    "bin",
    "address_ru",
    "head_position_ru",
    "head_full_name",
];

fn to_pb(b: BodyRow) -> pb::Body {
    pb::Body {
        name: format!("bodies/{}", b.id),
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

/// The id of a body's resource name: "ministry" or a 9-digit KATO code.
fn body_id<'a>(field: &str, name: &'a str) -> Result<&'a str, Status> {
    name.strip_prefix("bodies/")
        .filter(|id| *id == MINISTRY || (id.len() == 9 && id.bytes().all(|b| b.is_ascii_digit())))
        .ok_or_else(|| {
            invalid_field(
                field,
                format!("{name:?} is not a body name: bodies/ministry or bodies/{{9-digit KATO}}"),
            )
        })
}

/// The profile of the body issuing a document (see [`crate::process::bodies::issuing_body`]).
pub(crate) async fn issuing_body(state: &AppState, id: &str) -> Result<BodyRow, Status> {
    Ok(crate::process::bodies::issuing_body(state, id).await?)
}

#[tonic::async_trait]
impl BodyService for Bodies {
    async fn get_body(
        &self,
        request: Request<pb::GetBodyRequest>,
    ) -> Result<Response<pb::Body>, Status> {
        let name = request.into_inner().name;
        let id = body_id("name", &name)?;
        Ok(Response::new(to_pb(self.0.store.get_body(id).await?)))
    }

    async fn list_bodies(
        &self,
        _: Request<pb::ListBodiesRequest>,
    ) -> Result<Response<pb::ListBodiesResponse>, Status> {
        let bodies = self.0.store.list_bodies().await?;
        Ok(Response::new(pb::ListBodiesResponse {
            bodies: bodies.into_iter().map(to_pb).collect(),
        }))
    }

    async fn update_body(
        &self,
        request: Request<pb::UpdateBodyRequest>,
    ) -> Result<Response<pb::Body>, Status> {
        let actor = super::actor(&self.0, &request);
        let caller = super::caller(&request);
        let r = request.into_inner();
        let body = r
            .body
            .ok_or_else(|| invalid_field("body", "the body to update is required"))?;
        let id = body_id("body.name", &body.name)?;
        // The ministry edits any profile; a regional body its own region's only.
        if id == MINISTRY {
            if caller.role.is_regional() {
                return Err(error::status(
                    Code::PermissionDenied,
                    "REGION_NOT_PERMITTED",
                    "only the ministry edits the ministry's profile (body.name)",
                ));
            }
        } else {
            caller.require_region("body.name", id)?;
        }
        let paths: Vec<String> = match &r.update_mask {
            Some(m) if !m.paths.is_empty() => m.paths.clone(),
            _ => EDITABLE.iter().map(|p| p.to_string()).collect(),
        };
        let mut v = Violations::new();
        for (i, p) in paths.iter().enumerate() {
            if !EDITABLE.contains(&p.as_str()) {
                v.add(
                    format!("update_mask.paths[{i}]"),
                    format!(
                        "{p:?} is not an editable field; editable: {}",
                        EDITABLE.join(", ")
                    ),
                );
            }
        }
        let mut row = self.0.store.get_body(id).await?;
        let masked = |f: &str| paths.iter().any(|p| p == f);
        let required = |v: &mut Violations, field: &str, value: &str, what: &str| {
            v.text(&format!("body.{field}"), value, what, MAX_BODY_TEXT)
                .unwrap_or_default()
        };
        if masked("legal_name_ru") {
            row.legal_name_ru = required(
                &mut v,
                "legal_name_ru",
                &body.legal_name_ru,
                "the legal name in Russian",
            );
        }
        if masked("legal_name_kk") {
            row.legal_name_kk = required(
                &mut v,
                "legal_name_kk",
                &body.legal_name_kk,
                "the legal name in Kazakh",
            );
        }
        // Optional fields: empty is allowed (an empty BIN means the configured default; an
        // empty head leaves the profile incomplete).
        let optional = |v: &mut Violations, field: &str, value: &str, what: &str| {
            if value.trim().is_empty() {
                String::new()
            } else {
                v.text(&format!("body.{field}"), value, what, MAX_BODY_TEXT)
                    .unwrap_or_default()
            }
        };
        if masked("address_ru") {
            row.address_ru = optional(&mut v, "address_ru", &body.address_ru, "the address");
        }
        if masked("head_position_ru") {
            row.head_position_ru = optional(
                &mut v,
                "head_position_ru",
                &body.head_position_ru,
                "the head's position",
            );
        }
        if masked("head_full_name") {
            row.head_full_name = optional(
                &mut v,
                "head_full_name",
                &body.head_full_name,
                "the head's name",
            );
        }
        if masked("bin") {
            let bin = body.bin.trim();
            row.bin = if bin.is_empty() {
                String::new()
            } else {
                v.check("body.bin", Bin::parse(bin))
                    .map(|b| b.as_str().to_owned())
                    .unwrap_or_default()
            };
        }
        if !v.is_empty() {
            return Err(invalid(v));
        }
        let stored = self
            .0
            .store
            .update_body(&actor, &row, body.etag.trim(), self.0.now())
            .await?;
        Ok(Response::new(to_pb(stored)))
    }
}
