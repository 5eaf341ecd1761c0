//! `AuditService`: the audit trail, for the ministry and, per region, for its body, over
//! [`crate::process::audit`].

use tonic::{Request, Response, Status};

use super::AppState;
use super::pb::{self, audit_service_server::AuditService};
use crate::process::audit::{self as process, ListQuery};
use crate::process::paging::PageRequest;
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
    #[tracing::instrument(skip_all, fields(region = %request.get_ref().region_code))]
    async fn list_audit_records(
        &self,
        request: Request<pb::ListAuditRecordsRequest>,
    ) -> Result<Response<pb::ListAuditRecordsResponse>, Status> {
        let caller = super::caller(&request);
        let req = request.into_inner();
        let query = ListQuery {
            region_code: req.region_code,
            page: PageRequest {
                size: req.page_size,
                token: req.page_token,
            },
        };
        let page = process::list(&self.0, &caller, &query).await?;
        Ok(Response::new(pb::ListAuditRecordsResponse {
            records: page.items.into_iter().map(to_pb).collect(),
            next_page_token: page.next_page_token,
        }))
    }
}
