//! `QuotaService`: the ministry forms, establishes, publishes and redistributes the quota
//! (p. 4, 5, 18–21). Each method decodes its request, calls one step of
//! [`crate::process::quota`] or [`crate::process::publication`], and encodes the result.

use chrono::NaiveDate;
use tonic::{Request, Response, Status};

use super::applications::{category_from_pb, category_to_pb};
use super::error::{invalid, invalid_field};
use super::pb::{self, quota_service_server::QuotaService};
use super::{AppState, timestamp};
use crate::domain::apportion;
use crate::domain::names::QuotaName;
use crate::domain::quota::{CellChange, PartSummary, ProposedMove};
use crate::domain::{Violations, WorkerCategory};
use crate::process::paging::PageRequest;
use crate::process::publication::{self, PublishedDecision};
use crate::process::quota::{self, LabourForce, Order, QuotaForm};
use crate::store::quota::{CellRow, MoveRow, Part, QuotaRow, QuotaState};

pub struct QuotaApi(pub AppState);

fn part_from_pb(v: i32) -> Option<Part> {
    match pb::QuotaPart::try_from(v).ok()? {
        pb::QuotaPart::Permits => Some(Part::Permits),
        pb::QuotaPart::Countries => Some(Part::Countries),
        pb::QuotaPart::Immigrants => Some(Part::Immigrants),
        pb::QuotaPart::Unspecified => None,
    }
}

fn part_to_pb(p: Part) -> pb::QuotaPart {
    match p {
        Part::Permits => pb::QuotaPart::Permits,
        Part::Countries => pb::QuotaPart::Countries,
        Part::Immigrants => pb::QuotaPart::Immigrants,
    }
}

fn quota_name(name: &str) -> Result<QuotaName, Status> {
    QuotaName::parse(name).map_err(|e| invalid_field("name", e.to_string()))
}

/// The worker category of a cell's stored code, as the enum beside the string.
fn category_code_to_pb(code: &str) -> i32 {
    WorkerCategory::from_code(code).map_or(0, |c| category_to_pb(c) as i32)
}

/// A request's category: the enum when set, else the deprecated string.
fn category_code_from_pb(category: i32, code: String) -> String {
    category_from_pb(category).map_or(code, |c| c.code().to_string())
}

/// Refuses a worker category this contract does not define (`{list}[i].worker_category`),
/// rather than quietly falling back to the deprecated string.
fn known_categories(list: &str, categories: impl Iterator<Item = i32>) -> Result<(), Status> {
    let mut v = Violations::new();
    for (i, c) in categories.enumerate() {
        if pb::WorkerCategory::try_from(c).is_err() {
            v.add(
                format!("{list}[{i}].worker_category"),
                format!("{c} is not a WorkerCategory value"),
            );
        }
    }
    if v.is_empty() {
        Ok(())
    } else {
        Err(invalid(v))
    }
}

#[allow(deprecated)] // `category` stays filled for older clients.
fn cell_to_pb(c: &CellRow) -> pb::QuotaCell {
    pb::QuotaCell {
        region_code: c.region_code.clone(),
        part: part_to_pb(c.part) as i32,
        worker_category: category_code_to_pb(&c.category),
        category: c.category.clone(),
        country_code: c.country_code.clone(),
        requested: c.requested,
        granted: c.granted,
    }
}

#[allow(deprecated)] // `category` is read when `worker_category` is not set.
fn change_from_pb(c: pb::CellChange) -> CellChange {
    CellChange {
        region_code: c.region_code,
        part: part_from_pb(c.part),
        category: category_code_from_pb(c.worker_category, c.category),
        country_code: c.country_code,
        granted: c.granted,
    }
}

#[allow(deprecated)] // `category` is read when `worker_category` is not set.
fn move_from_pb(m: pb::Move) -> ProposedMove {
    ProposedMove {
        from_region: m.from_region,
        to_region: m.to_region,
        part: part_from_pb(m.part),
        category: category_code_from_pb(m.worker_category, m.category),
        country_code: m.country_code,
        count: m.count,
        basis: m.basis,
    }
}

#[allow(deprecated)] // `category` stays filled for older clients.
fn move_to_pb(m: &MoveRow) -> pb::Move {
    pb::Move {
        from_region: m.from_region.clone(),
        to_region: m.to_region.clone(),
        part: part_to_pb(m.part) as i32,
        worker_category: category_code_to_pb(&m.category),
        category: m.category.clone(),
        country_code: m.country_code.clone(),
        count: m.count,
        basis: m.basis.clone(),
    }
}

fn summary_to_pb(s: &PartSummary) -> pb::PartSummary {
    pb::PartSummary {
        part: part_to_pb(s.part) as i32,
        percent: s.percent.clone(),
        ceiling: s.ceiling,
        requested: s.requested,
        allocated: s.allocated,
        reserve: s.reserve,
        scaled: s.scaled,
    }
}

fn quota_to_pb(q: &QuotaRow) -> pb::Quota {
    use pb::quota::State as S;
    pb::Quota {
        name: QuotaName::new(&q.id).to_string(),
        quota_years: q.quota_years.iter().map(|y| *y as u32).collect(),
        state: match q.state {
            QuotaState::Draft => S::Draft,
            QuotaState::Established => S::Established,
            QuotaState::Published => S::Published,
        } as i32,
        labour_force: q.labour_force,
        parts: q
            .shares()
            .summaries(&q.cells)
            .iter()
            .map(summary_to_pb)
            .collect(),
        cells: q.cells.iter().map(cell_to_pb).collect(),
        create_time: Some(timestamp(q.create_time)),
        establish_time: q.establish_time.map(timestamp),
        publish_due_date: ymd(q.publish_due_date),
        version: q.versions.last().map_or(0, |v| v.version),
        method_ru: apportion::METHOD_RU.into(),
        order_number: q.order_number.clone(),
        order_date: ymd(q.order_date),
    }
}

fn published_to_pb(d: &PublishedDecision) -> pb::PublishedDecision {
    pb::PublishedDecision {
        quota: d.quota.to_string(),
        quota_years: d.quota_years.iter().map(|y| *y as u32).collect(),
        version: d.version,
        document: d.document.to_string(),
        publish_time: Some(timestamp(d.publish_time)),
        late: d.late,
        publish_due_date: ymd(d.publish_due_date),
        cells: d.cells.iter().map(cell_to_pb).collect(),
        parts: d.parts.iter().map(summary_to_pb).collect(),
        moves: d.moves.iter().map(move_to_pb).collect(),
        order_number: d.order_number.clone(),
        order_date: ymd(d.order_date),
    }
}

fn ymd(d: Option<NaiveDate>) -> String {
    d.map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

#[tonic::async_trait]
impl QuotaService for QuotaApi {
    #[tracing::instrument(skip_all, fields(region = %request.get_ref().region_code, year = request.get_ref().quota_year))]
    async fn set_labour_force(
        &self,
        request: Request<pb::SetLabourForceRequest>,
    ) -> Result<Response<pb::LabourForce>, Status> {
        let actor = super::actor(&self.0, &request);
        let r = request.into_inner();
        let input = LabourForce {
            quota_year: r.quota_year,
            region_code: r.region_code,
            persons: r.persons,
            source: r.source,
        };
        let lf = quota::set_labour_force(&self.0, &actor, &input).await?;
        Ok(Response::new(pb::LabourForce {
            quota_year: lf.quota_year,
            region_code: lf.region_code,
            persons: lf.persons,
            source: lf.source,
        }))
    }

    /// Forms the quota for one coming year or for several (p. 5); see
    /// [`quota::form`] for how a quota of several years is read.
    #[tracing::instrument(skip_all, fields(years = ?request.get_ref().quota_years))]
    async fn form_quota(
        &self,
        request: Request<pb::FormQuotaRequest>,
    ) -> Result<Response<pb::Quota>, Status> {
        let actor = super::actor(&self.0, &request);
        let r = request.into_inner();
        let input = QuotaForm {
            quota_years: r.quota_years,
            permit_percent: r.permit_percent,
            country_percent: r.country_percent,
            immigrant_percent: r.immigrant_percent,
        };
        let q = quota::form(&self.0, &actor, &input).await?;
        Ok(Response::new(quota_to_pb(&q)))
    }

    #[tracing::instrument(skip_all, fields(quota = %request.get_ref().name))]
    async fn get_quota(
        &self,
        request: Request<pb::GetQuotaRequest>,
    ) -> Result<Response<pb::Quota>, Status> {
        let name = quota_name(&request.into_inner().name)?;
        let q = quota::get(&self.0, &name).await?;
        Ok(Response::new(quota_to_pb(&q)))
    }

    #[tracing::instrument(skip_all, fields(quota = %request.get_ref().name, changes = request.get_ref().changes.len()))]
    async fn adjust_distribution(
        &self,
        request: Request<pb::AdjustDistributionRequest>,
    ) -> Result<Response<pb::Quota>, Status> {
        let actor = super::actor(&self.0, &request);
        let r = request.into_inner();
        let name = quota_name(&r.name)?;
        known_categories("changes", r.changes.iter().map(|c| c.worker_category))?;
        let changes: Vec<CellChange> = r.changes.into_iter().map(change_from_pb).collect();
        let q = quota::adjust(&self.0, &actor, &name, &changes).await?;
        Ok(Response::new(quota_to_pb(&q)))
    }

    #[tracing::instrument(skip_all, fields(quota = %request.get_ref().name, order = %request.get_ref().order_number))]
    async fn establish_quota(
        &self,
        request: Request<pb::EstablishQuotaRequest>,
    ) -> Result<Response<pb::Quota>, Status> {
        let actor = super::actor(&self.0, &request);
        let r = request.into_inner();
        let name = quota_name(&r.name)?;
        let order = Order {
            number: r.order_number,
            date: r.order_date,
        };
        let q = quota::establish(&self.0, &actor, &name, &order).await?;
        Ok(Response::new(quota_to_pb(&q)))
    }

    #[tracing::instrument(skip_all, fields(quota = %request.get_ref().name))]
    async fn publish_decision(
        &self,
        request: Request<pb::PublishDecisionRequest>,
    ) -> Result<Response<pb::PublishedDecision>, Status> {
        let actor = super::actor(&self.0, &request);
        let name = quota_name(&request.into_inner().name)?;
        let d = publication::publish(&self.0, &actor, &name).await?;
        Ok(Response::new(published_to_pb(&d)))
    }

    #[tracing::instrument(skip_all, fields(quota = %request.get_ref().name, moves = request.get_ref().moves.len()))]
    async fn redistribute_quota(
        &self,
        request: Request<pb::RedistributeQuotaRequest>,
    ) -> Result<Response<pb::PublishedDecision>, Status> {
        let actor = super::actor(&self.0, &request);
        let r = request.into_inner();
        let name = quota_name(&r.name)?;
        known_categories("moves", r.moves.iter().map(|m| m.worker_category))?;
        let moves: Vec<ProposedMove> = r.moves.into_iter().map(move_from_pb).collect();
        let d = publication::redistribute(&self.0, &actor, &name, &moves).await?;
        Ok(Response::new(published_to_pb(&d)))
    }

    #[tracing::instrument(skip_all, fields(year = request.get_ref().quota_year, version = request.get_ref().version))]
    async fn get_published_decision(
        &self,
        request: Request<pb::GetPublishedDecisionRequest>,
    ) -> Result<Response<pb::PublishedDecision>, Status> {
        let r = request.into_inner();
        let d = publication::get_published(&self.0, r.quota_year, r.version).await?;
        Ok(Response::new(published_to_pb(&d)))
    }

    #[tracing::instrument(skip_all, fields(year = request.get_ref().quota_year))]
    async fn list_published_decisions(
        &self,
        request: Request<pb::ListPublishedDecisionsRequest>,
    ) -> Result<Response<pb::ListPublishedDecisionsResponse>, Status> {
        let r = request.into_inner();
        let year = (r.quota_year != 0).then_some(r.quota_year);
        let page = PageRequest {
            size: r.page_size,
            token: r.page_token,
        };
        let found = publication::list_published(&self.0, year, &page).await?;
        Ok(Response::new(pb::ListPublishedDecisionsResponse {
            decisions: found.items.iter().map(published_to_pb).collect(),
            next_page_token: found.next_page_token,
        }))
    }
}
