//! The audit trail, read by the ministry whole and by a region's body for its region.

use super::paging::{self, Page, PageRequest};
use super::{Context, Error, Result};
use crate::domain::Violations;
use crate::domain::limits::{AUDIT_DEFAULT_PAGE_SIZE, AUDIT_MAX_PAGE_SIZE};
use crate::identity::Caller;
use crate::store::audit::AuditRecord;

/// Which records to list: one region's (its KATO code) or all ("").
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub region_code: String,
    pub page: PageRequest,
}

/// A page of audit records, oldest first. A regional body reads its own region's
/// records, whatever it asked for; naming another region is refused.
pub async fn list(ctx: &Context, caller: &Caller, q: &ListQuery) -> Result<Page<AuditRecord>> {
    let mut region = None;
    if !q.region_code.is_empty() {
        let mut v = Violations::new();
        region = ctx.regions.check(&mut v, "region_code", &q.region_code);
        if region.is_none() {
            return Err(Error::Invalid(v));
        }
    }
    let mut region: Option<String> = region.map(String::from);
    if caller.role.is_regional() {
        if let Some(r) = &region {
            caller.require_region("region_code", r)?;
        }
        region = Some(caller.region.clone().unwrap_or_default());
    }
    let limit = paging::size(
        "page_size",
        q.page.size,
        AUDIT_DEFAULT_PAGE_SIZE,
        AUDIT_MAX_PAGE_SIZE,
    )?;
    // The token is bound to the region as scoped, so it cannot widen what a caller sees.
    let filter = format!("region={}", region.as_deref().unwrap_or(""));
    let after = paging::decode("page_token", &q.page.token, &filter)?;
    // One more than the page tells whether another page follows.
    let rows = ctx
        .store
        .list_audit_records(region.as_deref(), after, limit + 1)
        .await?;
    Ok(Page::cut(rows, limit, after, &filter, |r| r.seq))
}
