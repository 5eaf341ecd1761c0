//! Keeping archived documents verifiable (PAdES B-LTA): a pass that extends the published
//! decisions not yet extended (or signed again since), and adds a fresh document timestamp
//! to every B-LTA document whose last timestamp's certificate expires within the margin.
//! `kvota archive` runs one pass; `serve` runs one at start and then on a schedule.

use chrono::Duration;

use super::documents::extend_row;
use super::{Context, Result};
use crate::domain::signatories::kind;
use crate::sealing::Extension;
use crate::store::audit::Actor;

/// At most this many documents are handled in one pass; the next pass goes on.
pub const MAX_PER_PASS: u32 = 500;

/// What the archive pass does beside what the sealer is configured with (the level of
/// published decisions).
#[derive(Debug, Clone, Copy)]
pub struct ArchivePolicy {
    /// Renew a document timestamp whose certificate expires within this margin.
    pub margin: Duration,
}

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArchiveSummary {
    /// Published decisions extended.
    pub extended: Vec<String>,
    /// B-LTA documents given a fresh document timestamp.
    pub renewed: Vec<String>,
    /// Documents that could not be handled now, with why (retried next pass).
    pub failed: Vec<(String, String)>,
}

/// One pass of the archive job.
pub async fn archive_pass(ctx: &Context, policy: &ArchivePolicy) -> Result<ArchiveSummary> {
    let actor = Actor::system("kvota archive", ctx.clock);
    let mut summary = ArchiveSummary::default();
    if let Some(level) = ctx.sealer.publish_extension() {
        for id in ctx
            .store
            .documents_not_extended(kind::QUOTA_DECISION, MAX_PER_PASS)
            .await?
        {
            let doc = ctx.store.get_document(&id).await?;
            match extend_row(ctx, &actor, &doc, level).await {
                Ok(()) => summary.extended.push(id),
                Err(e) => summary.failed.push((id, e.to_string())),
            }
        }
    }
    let before = ctx.now() + policy.margin;
    for id in ctx.store.documents_to_renew(before, MAX_PER_PASS).await? {
        let doc = ctx.store.get_document(&id).await?;
        match extend_row(ctx, &actor, &doc, Extension::Lta).await {
            Ok(()) => summary.renewed.push(id),
            Err(e) => summary.failed.push((id, e.to_string())),
        }
    }
    for (id, why) in &summary.failed {
        tracing::warn!(document = %id, %why, "archive: not extended now, retried next pass");
    }
    if !summary.extended.is_empty() || !summary.renewed.is_empty() {
        tracing::info!(
            extended = summary.extended.len(),
            renewed = summary.renewed.len(),
            "archive pass"
        );
    }
    Ok(summary)
}
