//! The ministry forms the quota (p. 4, 5, 18–19): it records the labour force, forms the
//! quota from the regions' filings and the central bodies' proposals, adjusts the draft
//! distribution, and establishes it by its registered order.

use super::{Context, Error, Reason, Result};
use crate::domain::QuotaState;
use crate::domain::names::QuotaName;
pub use crate::domain::quota::LabourForce;
use crate::domain::quota::{self, CellChange, OrderError, local_date};
use crate::store::StoreError;
use crate::store::audit::Actor;
use crate::store::quota::{CellRow, QuotaRow};

/// What the ministry forms a quota with: its years and each part's per cent (p. 4, 5);
/// the country part takes the permit part's per cent when none is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaForm {
    pub quota_years: Vec<u32>,
    pub permit_percent: String,
    pub country_percent: String,
    pub immigrant_percent: String,
}

/// The ministry's registration of its establishing order (p. 19), as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub number: String,
    /// YYYY-MM-DD.
    pub date: String,
}

/// Records a region's labour force for a year (p. 4); returns it as stored.
pub async fn set_labour_force(
    ctx: &Context,
    actor: &Actor,
    input: &LabourForce,
) -> Result<LabourForce> {
    let lf = LabourForce::parse(
        input.quota_year,
        &input.region_code,
        input.persons,
        &input.source,
        &ctx.regions,
    )
    .map_err(Error::Invalid)?;
    ctx.store
        .set_labour_force(
            actor,
            i64::from(lf.quota_year),
            &lf.region_code,
            lf.persons,
            &lf.source,
            ctx.now(),
        )
        .await?;
    Ok(lf)
}

/// Forms the quota for one coming year or for several (p. 5: «на предстоящий
/// (предстоящие) год (годы)»).
///
/// How a quota for several years is read: p. 12, 13 and 16 have the regions and central
/// bodies file once, before 1 November, their need «на предстоящий (предстоящие) год
/// (годы)», p. 18 forms the quota from those filings and p. 19 establishes it once,
/// before 1 January of its first year — when neither the filings nor the labour force
/// of later years exist yet. So a quota for several years covers a period: its years
/// must follow one another (2028, 2029 — not 2028, 2030), and it is formed from the
/// filings and proposals for its first year and the labour force of its first year.
/// The later years take the same figures: the same percentages, ceilings and
/// distribution among the regions apply in each year of the period, and the decision
/// says so ([`quota::period_point`]). A new need in a later year is met by
/// redistribution (p. 21) or by the quota of the years after the period.
pub async fn form(ctx: &Context, actor: &Actor, input: &QuotaForm) -> Result<QuotaRow> {
    let now = ctx.now();
    let form = quota::parse_form(
        &input.quota_years,
        &input.permit_percent,
        &input.country_percent,
        &input.immigrant_percent,
        now,
    )
    .map_err(Error::Invalid)?;
    let first = i64::from(form.years[0]);
    let lf = ctx.store.labour_force(first).await?;
    let missing: Vec<&str> = ctx
        .regions
        .iter()
        .filter(|c| !lf.iter().any(|(r, _)| *c == r))
        .map(|c| c.as_str())
        .collect();
    if !missing.is_empty() {
        return Err(Error::refused(
            Reason::LabourForceMissing,
            format!(
                "the labour force of {first} is not set for regions {}",
                missing.join(", ")
            ),
        ));
    }
    let labour_force: u64 = lf.iter().map(|(_, n)| n).sum();
    let mut q = QuotaRow {
        id: uuid::Uuid::new_v4().to_string(),
        quota_years: form.years.clone(),
        state: QuotaState::Draft,
        labour_force,
        millis: form.millis,
        create_time: now,
        establish_time: None,
        publish_due_date: None,
        number: String::new(),
        order_number: String::new(),
        order_date: None,
        cells: requests(ctx, first).await?,
        versions: Vec::new(),
    };
    q.number = format!("КВ-{}-{}", form.years[0], &q.id[..8]);
    // p. 18–20: each part within its ceiling; over-requests scaled by largest remainder.
    q.shares().distribute(&mut q.cells);
    Ok(ctx.store.create_quota(actor, &q).await?)
}

/// The requests of the first quota year: the regions' filings (Appendices 2, 3, 4) and
/// the central bodies' proposals the regions agreed to (p. 13, 18), of the 20 regions.
async fn requests(ctx: &Context, year: i64) -> Result<Vec<CellRow>> {
    let mut cells = ctx.store.quota_requests(year).await?;
    cells.retain(|c| ctx.regions.contains(&c.region_code));
    Ok(cells)
}

pub async fn get(ctx: &Context, name: &QuotaName) -> Result<QuotaRow> {
    Ok(ctx.store.get_quota(name.id()).await?)
}

/// Sets figures of a draft distribution by hand (p. 19); no part may pass its ceiling.
pub async fn adjust(
    ctx: &Context,
    actor: &Actor,
    name: &QuotaName,
    changes: &[CellChange],
) -> Result<QuotaRow> {
    let treaty = ctx.store.treaty_countries().await?;
    quota::check_changes(changes, &ctx.regions, &treaty).map_err(Error::Invalid)?;
    Ok(ctx
        .store
        .adjust_quota(actor, name.id(), |q| {
            quota::apply_changes(&q.shares(), &q.cells, changes)
                .map_err(|e| StoreError::FailedPrecondition(e.to_string()))
        })
        .await?)
}

/// Establishes a draft by the ministry's registered order (p. 19), before 1 January of
/// its first year; the decision is then due within three working days.
pub async fn establish(
    ctx: &Context,
    actor: &Actor,
    name: &QuotaName,
    order: &Order,
) -> Result<QuotaRow> {
    let q = get(ctx, name).await?;
    let now = ctx.now();
    let (order_number, order_date) = quota::order_registration(
        &order.number,
        &order.date,
        local_date(q.create_time),
        local_date(now),
    )
    .map_err(|e| match e {
        OrderError::NotRegistered => Error::refused(
            Reason::OrderNotRegistered,
            format!(
                "{name} is established by the ministry's order: give its registration number and date (order_number, order_date; p. 19)"
            ),
        ),
        OrderError::Invalid(v) => Error::Invalid(v),
    })?;
    let calendar = ctx.calendar();
    // p. 19: before 1 January of the first year.
    if let Some(late_from) = quota::establish_term_passed(q.quota_years[0], now, &calendar) {
        return Err(Error::refused(
            Reason::EstablishDeadlinePassed,
            format!(
                "a quota for {} must be established before 1 January {} (p. 19 of the Rules)",
                q.quota_years[0], q.quota_years[0]
            ),
        )
        .with("deadline", late_from.to_rfc3339()));
    }
    // p. 19: published within three working days of the distribution.
    let due = quota::publication_due(local_date(now), &calendar);
    Ok(ctx
        .store
        .establish_quota(actor, &q.id, (&order_number, order_date), now, due)
        .await?)
}
