//! The central state bodies' proposals to a region's quota and the region's agreement to
//! them (p. 13).

use super::filing::line_row;
use super::paging::{self, Page, PageRequest};
use super::scope::scope_region;
use super::{Context, Error, Reason, Result};
use crate::domain::Violations;
use crate::domain::filing::{OccupationLine, OccupationLineInput};
use crate::domain::limits::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use crate::domain::limits::{MAX_LINES, MAX_LONG_TEXT, MAX_SHORT_TEXT};
use crate::domain::names::ProposalName;
use crate::domain::timeline::Step;
use crate::identity::{Caller, Role};
use crate::store::audit::Actor;
use crate::store::regional::ProposalRow;

/// A proposal as a central body sent it.
#[derive(Debug, Clone, Default)]
pub struct ProposalInput {
    /// The proposing body's name: read only from the development transport, which has no
    /// certificate to name it.
    pub body: String,
    pub region_code: String,
    pub quota_year: u32,
    pub lines: Vec<OccupationLineInput>,
    pub justification: String,
    pub agreed_by_region: bool,
}

/// p. 13: records a central body's proposal to a region's quota; due before 1 November,
/// a later one is kept but flagged.
pub async fn submit(
    ctx: &Context,
    caller: &Caller,
    actor: &Actor,
    input: ProposalInput,
) -> Result<ProposalRow> {
    // p. 13: the proposal is counted once the region agrees, and only the region's body
    // (or the ministry) records that agreement, with AgreeProposal.
    if input.agreed_by_region && caller.role != Role::Developer {
        return Err(Error::refused(
            Reason::AgreementNotPermitted,
            "agreed_by_region: only the region's local executive body (or the ministry) records its agreement, with AgreeProposal (p. 13)",
        )
        .with("field", "agreed_by_region"));
    }
    let mut v = Violations::new();
    // The proposing body is the caller's organisation, from its certificate; only the
    // development transport, which has no certificate, names it in the request.
    let body = match caller.role {
        Role::Developer => v.text(
            "body",
            &input.body,
            "the central body's name",
            MAX_SHORT_TEXT,
        ),
        _ => Some(caller.organisation_label()),
    };
    let ry = ctx.region_year(&input.region_code, input.quota_year, &mut v);
    let justification = v.text(
        "justification",
        &input.justification,
        "justification",
        MAX_LONG_TEXT,
    );
    if input.lines.is_empty() || input.lines.len() > MAX_LINES {
        v.add("lines", format!("from 1 to {MAX_LINES} lines are required"));
        return Err(Error::Invalid(v));
    }
    let lines: Vec<OccupationLine> = input
        .lines
        .iter()
        .enumerate()
        .filter_map(|(i, l)| OccupationLine::check(&mut v, &format!("lines[{i}]"), l))
        .collect();
    let ry = ry.filter(|_| v.is_empty()).ok_or(Error::Invalid(v))?;
    let now = ctx.now();
    let row = ProposalRow {
        id: uuid::Uuid::new_v4().to_string(),
        body: body.unwrap_or_default(),
        quota_year: ry.stored_year(),
        justification: justification.unwrap_or_default(),
        agreed_by_region: input.agreed_by_region,
        submit_time: now,
        agree_time: input.agreed_by_region.then_some(now),
        // p. 13: proposals are due before 1 November.
        late: ctx.late(now, ry.year, Step::CentralProposals),
        lines: lines.into_iter().map(line_row).collect(),
        region_code: ry.region.into(),
    };
    Ok(ctx.store.submit_proposal(actor, &row).await?)
}

/// p. 13: the region's body (or the ministry) records the region's agreement to a
/// proposal.
pub async fn agree(
    ctx: &Context,
    caller: &Caller,
    actor: &Actor,
    name: &ProposalName,
) -> Result<ProposalRow> {
    let proposal = ctx.store.get_proposal(name.id()).await?;
    scope_region(caller, "name", &proposal.region_code)?;
    Ok(ctx
        .store
        .agree_proposal(actor, name.id(), ctx.now())
        .await?)
}

/// The proposals, of a region (empty: every region the caller may see) and a year (0:
/// every year), a page at a time. A regional caller sees its own region's only.
pub async fn list(
    ctx: &Context,
    caller: &Caller,
    region_code: &str,
    quota_year: u32,
    page: &PageRequest,
) -> Result<Page<ProposalRow>> {
    let mut region = Some(region_code.trim()).filter(|s| !s.is_empty());
    if caller.role.is_regional() {
        if let Some(asked) = region {
            scope_region(caller, "region_code", asked)?;
        }
        region = caller.region.as_deref();
    }
    let year = (quota_year != 0).then_some(i64::from(quota_year));
    // The token is bound to the filter as scoped, so it cannot widen what a caller sees.
    let filter = format!("proposals {region:?} {year:?}");
    let all = ctx.store.list_proposals(region, year).await?;
    paging::slice(all, page, &filter, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
}
