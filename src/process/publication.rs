//! The ministry's decision on the quota, published (p. 19) and republished on each
//! redistribution (p. 21), and read by anyone.

use chrono::{DateTime, NaiveDate, Utc};

use super::paging::{self, Page, PageRequest};
use super::{Context, Error, Reason, Result};
use crate::domain::QuotaState;
use crate::domain::limits::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use crate::domain::names::{DocumentName, QuotaName};
use crate::domain::quota::{self, PartSummary, ProposedMove, local_date};
use crate::domain::signatories::kind;
use crate::render::decision::{self, Decision, Input, Minister, Region};
use crate::store::audit::Actor;
use crate::store::quota::{CellRow, MoveRow, NewVersion, QuotaRow};

/// One published version of the decision, as readers get it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedDecision {
    pub quota: QuotaName,
    pub quota_years: Vec<i32>,
    pub version: u32,
    pub document: DocumentName,
    pub publish_time: DateTime<Utc>,
    /// p. 19: published after its three working days.
    pub late: bool,
    pub publish_due_date: Option<NaiveDate>,
    pub cells: Vec<CellRow>,
    /// The parts of this version's cells.
    pub parts: Vec<PartSummary>,
    /// The moves of this version (p. 21).
    pub moves: Vec<MoveRow>,
    pub order_number: String,
    pub order_date: Option<NaiveDate>,
}

impl PublishedDecision {
    /// Version `version` of `q`'s decision, if it is published.
    fn of(q: &QuotaRow, version: u32) -> Option<Self> {
        let v = q.versions.iter().find(|v| v.version == version)?;
        Some(Self {
            quota: QuotaName::new(&q.id),
            quota_years: q.quota_years.clone(),
            version: v.version,
            document: DocumentName::new(&v.document_id),
            publish_time: v.publish_time,
            late: v.late,
            publish_due_date: q.publish_due_date,
            cells: v.cells.clone(),
            parts: q.shares().summaries(&v.cells),
            moves: v.moves.clone(),
            order_number: q.order_number.clone(),
            order_date: q.order_date,
        })
    }
}

/// Publishes the decision on an established quota (p. 19), once.
pub async fn publish(ctx: &Context, actor: &Actor, name: &QuotaName) -> Result<PublishedDecision> {
    let q = ctx.store.get_quota(name.id()).await?;
    match q.state {
        QuotaState::Draft => {
            return Err(Error::refused(
                Reason::WrongState,
                format!("{name} is a draft: establish it first"),
            ));
        }
        QuotaState::Published => {
            return Err(Error::refused(
                Reason::AlreadyPublished,
                format!("the decision on {name} is already published"),
            ));
        }
        QuotaState::Established => {}
    }
    let cells = q.cells.clone();
    issue(ctx, actor, &q, cells, Vec::new(), 1).await
}

/// Redistributes a published quota (p. 21) and publishes the new version of the decision.
pub async fn redistribute(
    ctx: &Context,
    actor: &Actor,
    name: &QuotaName,
    moves: &[ProposedMove],
) -> Result<PublishedDecision> {
    let q = ctx.store.get_quota(name.id()).await?;
    if q.state != QuotaState::Published {
        return Err(Error::refused(
            Reason::WrongState,
            format!("{name} must be published before it is redistributed (p. 21)"),
        ));
    }
    let treaty = ctx.store.treaty_countries().await?;
    let r = quota::redistribute(&q.shares(), &q.cells, moves, &ctx.regions, &treaty)
        .map_err(Error::Invalid)?;
    let version = q.versions.last().map_or(1, |v| v.version + 1);
    issue(ctx, actor, &q, r.cells, r.moves, version).await
}

/// A published decision of `year`: version `version`, or the latest when 0.
pub async fn get_published(ctx: &Context, year: u32, version: u32) -> Result<PublishedDecision> {
    let not_found = || {
        Error::refused(
            Reason::NoPublishedDecision,
            format!("no published decision for {year} (version {version})"),
        )
    };
    let quotas = ctx
        .store
        .established_quotas(Some(i32::try_from(year).unwrap_or(0)))
        .await?;
    let q = quotas
        .iter()
        .rev()
        .find(|q| !q.versions.is_empty())
        .ok_or_else(not_found)?;
    let version = match version {
        0 => q.versions.last().map_or(0, |v| v.version),
        v => v,
    };
    PublishedDecision::of(q, version).ok_or_else(not_found)
}

/// Every published version, of quotas covering `year` or of all, a page at a time.
pub async fn list_published(
    ctx: &Context,
    year: Option<u32>,
    page: &PageRequest,
) -> Result<Page<PublishedDecision>> {
    let filter = format!("published {year:?}");
    let year = year.map(|y| i32::try_from(y).unwrap_or(0));
    let quotas = ctx.store.established_quotas(year).await?;
    let all = quotas
        .iter()
        .flat_map(|q| {
            q.versions
                .iter()
                .filter_map(|v| PublishedDecision::of(q, v.version))
        })
        .collect();
    paging::slice(all, page, &filter, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
}

/// Renders, seals and stores version `version` of the decision with `cells`, after
/// `moves` (none for the first).
async fn issue(
    ctx: &Context,
    actor: &Actor,
    q: &QuotaRow,
    cells: Vec<CellRow>,
    moves: Vec<MoveRow>,
    version: u32,
) -> Result<PublishedDecision> {
    let now = ctx.now();
    let late = quota::publication_late(version, q.publish_due_date, local_date(now));
    let id = uuid::Uuid::new_v4().to_string();
    let document = DocumentName::new(&id);
    let model = model(ctx, q, (&cells, &moves), version, &document, now).await?;
    let data =
        serde_json::to_value(&model).map_err(|e| Error::internal("the decision's model", e))?;
    let title = decision::document_title(&q.quota_years, version);
    let sealer = ctx.sealer.clone();
    let subject = QuotaName::new(&q.id).to_string();
    let code = super::issue::new_code()?;
    let doc = crate::sealing::on_core(move || {
        sealer.issue(
            &id,
            &code,
            decision::TEMPLATE,
            &data,
            kind::QUOTA_DECISION,
            &title,
            &subject,
            now,
        )
    })
    .await
    .map_err(|e| Error::internal("sealing task", e))?
    .map_err(|e| Error::internal("rendering and sealing the decision", e))?;
    let doc_id = doc.id.clone();
    let version_row = NewVersion {
        version,
        cells: &cells,
        moves: &moves,
        doc: &doc,
        late,
        now,
    };
    let stored = ctx
        .store
        .publish_version(actor, &q.id, &version_row)
        .await?;
    // p. 19: the decision is archived; brought to B-LTA (or B-LT) at once when the
    // validation data and the TSA are at hand, else by the archive job's next pass.
    if let Some(level) = ctx.sealer.publish_extension() {
        let row = ctx.store.get_document(&doc_id).await?;
        if let Err(e) = super::documents::extend_row(ctx, actor, &row, level).await {
            tracing::warn!(document = %doc_id, error = %e, "the decision is not extended yet; the archive job retries");
        }
    }
    PublishedDecision::of(&stored, version)
        .ok_or_else(|| Error::internal("publishing the decision", "the version vanished"))
}

/// The form model of version `version` of the decision, stored as `document` at `now`: the
/// distribution `cells`, every earlier move and this version's `moves`, the regions'
/// and countries' names, the minister who signs and the seal's visible trace.
async fn model(
    ctx: &Context,
    q: &QuotaRow,
    (cells, moves): (&[CellRow], &[MoveRow]),
    version: u32,
    document: &DocumentName,
    now: DateTime<Utc>,
) -> Result<Decision> {
    // p. 19: the decision is the ministry's order; it ends with its head's position and
    // name (the ministry's profile).
    let minister = super::bodies::issuing_body(ctx, quota::DECISION_ISSUER).await?;
    let regions = ctx.store.list_regions().await?;
    let treaty = ctx.store.treaty_countries().await?;
    let all_moves: Vec<MoveRow> = q
        .versions
        .iter()
        .flat_map(|v| v.moves.iter())
        .chain(moves)
        .cloned()
        .collect();
    let regions: Vec<Region<'_>> = regions
        .iter()
        .map(|r| Region {
            kato: &r.kato,
            name_ru: &r.name_ru,
        })
        .collect();
    let parts = q.shares().summaries(cells);
    let input = Input {
        minister: Minister {
            body: &minister.legal_name_ru,
            head_position: &minister.head_position_ru,
            head_full_name: &minister.head_full_name,
        },
        order_number: &q.order_number,
        order_date: q.order_date,
        version,
        version_date: local_date(now),
        quota_years: &q.quota_years,
        labour_force: q.labour_force,
        parts: &parts,
        regions: &regions,
        treaty: &treaty,
        cells,
        moves: &all_moves,
    };
    let seal = ctx.sealer.visible_signature(&document.to_string(), now);
    Ok(Decision::new(&input, seal.into()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_decision_is_issued_by_the_ministrys_profile() {
        assert_eq!(
            crate::domain::quota::DECISION_ISSUER,
            crate::store::bodies::MINISTRY
        );
    }
}
