//! `AuditService`: the audit trail, for the ministry and, per region, for its body.

use tonic::{Request, Response, Status};

use super::pb::{self, audit_service_server::AuditService};
use super::{AppState, error, page_token};
use crate::store::audit::AuditRecord;

pub struct Audit(pub AppState);

fn to_pb(r: AuditRecord) -> pb::AuditRecord {
    pb::AuditRecord {
        seq: r.seq,
        time: Some(super::timestamp(r.time)),
        who: r.who,
        role: r.role,
        method: r.method,
        resource: r.resource,
        region_code: r.region.unwrap_or_default(),
        before_digest: r.before_digest,
        after_digest: r.after_digest,
        prev_hash: r.prev_hash,
        hash: r.hash,
    }
}

#[tonic::async_trait]
impl AuditService for Audit {
    async fn list_audit_records(
        &self,
        request: Request<pb::ListAuditRecordsRequest>,
    ) -> Result<Response<pb::ListAuditRecordsResponse>, Status> {
        let caller = super::caller(&request);
        let req = request.into_inner();
        let mut region = (!req.region_code.is_empty()).then_some(req.region_code.clone());
        if let Some(r) = &region
            && !self.0.region_codes.contains(r)
        {
            return Err(error::invalid_field(
                "region_code",
                format!("{r:?} is not the KATO code of one of the 20 regions"),
            ));
        }
        if caller.role.is_regional() {
            // A regional body reads its own region's records, whatever it asked for.
            let own = caller.region.clone().unwrap_or_default();
            if let Some(r) = &region {
                caller.require_region("region_code", r)?;
            }
            region = Some(own);
        }
        let size = match req.page_size {
            n if n < 0 => {
                return Err(error::invalid_field(
                    "page_size",
                    "page_size must not be negative",
                ));
            }
            0 => 100,
            n => i64::from(n).min(1000),
        };
        let filter = format!("region={}", region.as_deref().unwrap_or(""));
        let after = page_token::decode("page_token", &req.page_token, &filter)?;
        let mut rows = self
            .0
            .store
            .list_audit_records(region.as_deref(), after, size + 1)
            .await?;
        let next_page_token = if rows.len() as i64 > size {
            rows.truncate(size as usize);
            page_token::encode(rows.last().map(|r| r.seq).unwrap_or(after), &filter)
        } else {
            String::new()
        };
        Ok(Response::new(pb::ListAuditRecordsResponse {
            records: rows.into_iter().map(to_pb).collect(),
            next_page_token,
        }))
    }
}
