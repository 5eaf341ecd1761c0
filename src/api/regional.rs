//! `RegionalService` and `CentralBodyService`: the regional body's year (p. 7–17). Each
//! handler decodes its request, calls one step of [`crate::process::commission`],
//! [`crate::process::filing`] or [`crate::process::proposals`] and encodes the result.

use chrono::NaiveDate;
use tonic::{Request, Response, Status};

use super::applications::{category_from_pb, category_to_pb};
use super::error::invalid_field;
use super::pb::{
    self, central_body_service_server::CentralBodyService, regional_service_server::RegionalService,
};
use super::{AppState, timestamp};
use crate::domain::commission::{DecisionInput, MemberKind, Outcome, RejectionGround};
use crate::domain::filing::OccupationLineInput;
use crate::domain::names::{ApplicationName, DocumentName, NameError, ProposalName};
use crate::process::commission::{self, MemberInput, MembersInput, NoticeIssued, ProtocolInput};
use crate::process::filing::{
    self, AssessmentInput, CountryInput, Filing, Need, NeedInput, OriginQuota, OriginQuotaInput,
};
use crate::process::paging::PageRequest;
use crate::process::proposals::{self, ProposalInput};
use crate::store::regional::{AssessmentRow, DecisionRow, ProposalLineRow, ProposalRow};

pub struct Regional(pub AppState);
pub struct CentralBodies(pub AppState);

/// p. 10 has three grounds; a longer list is refused without reading it all.
const MAX_GROUNDS_READ: usize = 4;

fn date_str(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// A resource name, or INVALID_ARGUMENT naming `field`.
fn parse_name<N>(
    field: &str,
    name: &str,
    parse: impl FnOnce(&str) -> Result<N, NameError>,
) -> Result<N, Status> {
    parse(name).map_err(|e| invalid_field(field, e.to_string()))
}

fn outcome_from_pb(v: i32) -> Option<Outcome> {
    match pb::DecisionOutcome::try_from(v).ok()? {
        pb::DecisionOutcome::Approved => Some(Outcome::Approved),
        pb::DecisionOutcome::PartiallyApproved => Some(Outcome::PartiallyApproved),
        pb::DecisionOutcome::Rejected => Some(Outcome::Rejected),
        pb::DecisionOutcome::Unspecified => None,
    }
}

fn outcome_to_pb(o: Outcome) -> pb::DecisionOutcome {
    match o {
        Outcome::Approved => pb::DecisionOutcome::Approved,
        Outcome::PartiallyApproved => pb::DecisionOutcome::PartiallyApproved,
        Outcome::Rejected => pb::DecisionOutcome::Rejected,
    }
}

fn ground_from_pb(v: i32) -> Option<RejectionGround> {
    match pb::RejectionGround::try_from(v).ok()? {
        pb::RejectionGround::LocalLabourAvailable => Some(RejectionGround::LocalLabourAvailable),
        pb::RejectionGround::PermitViolations => Some(RejectionGround::PermitViolations),
        pb::RejectionGround::LabourLawViolations => Some(RejectionGround::LabourLawViolations),
        pb::RejectionGround::Unspecified => None,
    }
}

fn ground_to_pb(g: RejectionGround) -> pb::RejectionGround {
    match g {
        RejectionGround::LocalLabourAvailable => pb::RejectionGround::LocalLabourAvailable,
        RejectionGround::PermitViolations => pb::RejectionGround::PermitViolations,
        RejectionGround::LabourLawViolations => pb::RejectionGround::LabourLawViolations,
    }
}

fn member_kind_from_pb(v: i32) -> Option<MemberKind> {
    use pb::CommissionMemberKind as K;
    Some(match K::try_from(v).ok()? {
        K::Unspecified => return None,
        K::LocalExecutiveBody => MemberKind::LocalExecutiveBody,
        K::InternalAffairs => MemberKind::InternalAffairs,
        K::Education => MemberKind::Education,
        K::Entrepreneurship => MemberKind::Entrepreneurship,
        K::LabourTerritorialUnit => MemberKind::LabourTerritorialUnit,
        K::ChamberOfEntrepreneurs => MemberKind::ChamberOfEntrepreneurs,
        K::TradeUnions => MemberKind::TradeUnions,
    })
}

fn members_from_pb(r: &pb::SetCommissionMembersRequest) -> MembersInput {
    MembersInput {
        etag: r.etag.clone(),
        region_code: r.region_code.clone(),
        quota_year: r.quota_year,
        members: r
            .members
            .iter()
            .map(|m| MemberInput {
                full_name: m.full_name.clone(),
                position: m.position.clone(),
                organisation: m.organisation.clone(),
                role: m.role.clone(),
                kind: member_kind_from_pb(m.kind),
            })
            .collect(),
    }
}

fn decision_from_pb(r: &pb::RecordCommissionDecisionRequest) -> DecisionInput {
    DecisionInput {
        outcome: outcome_from_pb(r.outcome),
        approved_counts: r.approved_counts.clone(),
        grounds: r
            .grounds
            .iter()
            .take(MAX_GROUNDS_READ)
            .map(|g| ground_from_pb(*g))
            .collect(),
        decided_on: r.decided_on.clone(),
        put_to_commission_on: r.put_to_commission_on.clone(),
        protocol_number: r.protocol_number.clone(),
    }
}

fn decision_to_pb(d: DecisionRow) -> pb::CommissionDecision {
    pb::CommissionDecision {
        application: ApplicationName::new(d.application_id).to_string(),
        outcome: outcome_to_pb(d.decision.outcome) as i32,
        approved_counts: d.decision.approved_counts,
        grounds: d
            .decision
            .grounds
            .into_iter()
            .map(|g| ground_to_pb(g) as i32)
            .collect(),
        decided_on: date_str(d.decision.decided_on),
        protocol_number: d.decision.protocol_number,
        late_to_commission: d.late_to_commission,
        notice_due_date: date_str(d.notice_due_date),
        notice_document: d
            .notice_document_id
            .map(|n| DocumentName::new(n).to_string())
            .unwrap_or_default(),
        notice_time: d.notice_time.map(timestamp),
        notice_late: d.notice_late,
        put_to_commission_on: d
            .decision
            .put_to_commission_on
            .map(date_str)
            .unwrap_or_default(),
    }
}

fn assessment_from_pb(a: pb::RegionalAssessment) -> AssessmentInput {
    AssessmentInput {
        etag: a.etag,
        region_code: a.region_code,
        quota_year: a.quota_year,
        labour_demand: a.labour_demand,
        planned_jobs_national_projects: a.planned_jobs_national_projects,
        demand_text: a.demand_text,
        forecast_unemployed: a.forecast_unemployed,
        forecast_released: a.forecast_released,
        forecast_graduates: a.forecast_graduates,
        forecast_text: a.forecast_text,
        local_coverage: a.local_coverage,
        local_coverage_text: a.local_coverage_text,
        efficiency_text: a.efficiency_text,
        immigrant_demand_text: a.immigrant_demand_text,
        immigrant_forecast_text: a.immigrant_forecast_text,
        immigrant_efficiency_text: a.immigrant_efficiency_text,
        justification: a.justification,
    }
}

fn assessment_to_pb(a: AssessmentRow) -> pb::RegionalAssessment {
    pb::RegionalAssessment {
        etag: a.etag(),
        region_code: a.region_code,
        quota_year: a.quota_year as u32,
        labour_demand: a.labour_demand,
        planned_jobs_national_projects: a.planned_jobs_national_projects,
        demand_text: a.demand_text,
        forecast_unemployed: a.forecast_unemployed,
        forecast_released: a.forecast_released,
        forecast_graduates: a.forecast_graduates,
        forecast_text: a.forecast_text,
        local_coverage: a.local_coverage,
        local_coverage_text: a.local_coverage_text,
        efficiency_text: a.efficiency_text,
        immigrant_demand_text: a.immigrant_demand_text,
        immigrant_forecast_text: a.immigrant_forecast_text,
        immigrant_efficiency_text: a.immigrant_efficiency_text,
        justification: a.justification,
        update_time: a.update_time.map(timestamp),
        late: a.late,
    }
}

fn need_to_pb(n: Need) -> pb::LabourImmigrantNeed {
    pb::LabourImmigrantNeed {
        region_code: n.region.region.into(),
        quota_year: n.region.year.get() as u32,
        current_count: n.need.current_count,
        need: n.need.need,
        justification: n.need.justification,
        late: n.need.late,
        etag: n.etag,
    }
}

/// An occupation line of a proposal or of a country's breakdown, as the caller sent it.
fn line_from_pb(code: &str, name: &str, category: i32, count: u32) -> OccupationLineInput {
    OccupationLineInput {
        occupation_code: code.to_owned(),
        occupation_name: name.to_owned(),
        category: category_from_pb(category),
        count,
    }
}

fn origin_quota_from_pb(r: pb::SetOriginCountryQuotaRequest) -> OriginQuotaInput {
    OriginQuotaInput {
        etag: r.etag,
        region_code: r.region_code,
        quota_year: r.quota_year,
        rows: r
            .rows
            .into_iter()
            .map(|row| {
                let c = row.counts.unwrap_or_default();
                CountryInput {
                    country_code: row.country_code,
                    counts: [c.first, c.second, c.third, c.fourth, c.seasonal],
                    lines: row
                        .lines
                        .iter()
                        .map(|l| {
                            line_from_pb(
                                &l.occupation_code,
                                &l.occupation_name,
                                l.category,
                                l.count,
                            )
                        })
                        .collect(),
                }
            })
            .collect(),
    }
}

fn origin_quota_to_pb(q: OriginQuota) -> pb::OriginCountryQuota {
    let line = |l: ProposalLineRow| pb::OriginOccupationLine {
        occupation_code: l.occupation_code,
        occupation_name: l.occupation_name,
        category: category_to_pb(l.category) as i32,
        count: l.count,
    };
    pb::OriginCountryQuota {
        region_code: q.region.region.into(),
        quota_year: q.region.year.get() as u32,
        rows: q
            .rows
            .into_iter()
            .map(|r| {
                let [first, second, third, fourth, seasonal] = r.counts;
                pb::OriginCountryRow {
                    country_code: r.country_code,
                    country_name_ru: r.country_name_ru,
                    counts: Some(pb::CategoryCounts {
                        first,
                        second,
                        third,
                        fourth,
                        seasonal,
                    }),
                    lines: r.lines.into_iter().map(line).collect(),
                }
            })
            .collect(),
        etag: q.etag,
    }
}

fn filing_to_pb(f: Filing) -> pb::RegionalFiling {
    let document = |id: String| DocumentName::new(id).to_string();
    pb::RegionalFiling {
        region_code: f.region.region.into(),
        quota_year: f.region.year.get() as u32,
        appendix2: document(f.filing.appendix2_id),
        appendix3: document(f.filing.appendix3_id),
        appendix4: document(f.filing.appendix4_id),
        filed_time: Some(timestamp(f.filing.filed_time)),
        late: f.filing.late,
    }
}

fn notice_to_pb(n: NoticeIssued) -> pb::DocumentRef {
    pb::DocumentRef {
        document: n.document.to_string(),
        late: n.late,
        due_date: date_str(n.due_date),
    }
}

#[tonic::async_trait]
impl RegionalService for Regional {
    #[tracing::instrument(skip_all, fields(region = ?request.get_ref().assessment.as_ref().map(|a| &a.region_code), year = ?request.get_ref().assessment.as_ref().map(|a| a.quota_year)))]
    async fn set_regional_assessment(
        &self,
        request: Request<pb::SetRegionalAssessmentRequest>,
    ) -> Result<Response<pb::RegionalAssessment>, Status> {
        let (actor, caller) = (super::actor(&self.0, &request), super::caller(&request));
        let a = request
            .into_inner()
            .assessment
            .ok_or_else(|| invalid_field("assessment", "assessment is required"))?;
        let input = assessment_from_pb(a);
        let stored = filing::set_assessment(&self.0, &caller, &actor, &input).await?;
        Ok(Response::new(assessment_to_pb(stored)))
    }

    #[tracing::instrument(skip_all, fields(region = %request.get_ref().region_code, year = request.get_ref().quota_year))]
    async fn get_regional_assessment(
        &self,
        request: Request<pb::GetRegionalAssessmentRequest>,
    ) -> Result<Response<pb::RegionalAssessment>, Status> {
        let caller = super::caller(&request);
        let r = request.into_inner();
        let a = filing::get_assessment(&self.0, &caller, &r.region_code, r.quota_year).await?;
        Ok(Response::new(assessment_to_pb(a)))
    }

    #[tracing::instrument(skip_all, fields(region = %request.get_ref().region_code, year = request.get_ref().quota_year))]
    async fn set_commission_members(
        &self,
        request: Request<pb::SetCommissionMembersRequest>,
    ) -> Result<Response<pb::CommissionMembers>, Status> {
        let (actor, caller) = (super::actor(&self.0, &request), super::caller(&request));
        let r = request.into_inner();
        let set = commission::set_members(&self.0, &caller, &actor, members_from_pb(&r)).await?;
        // The members as the caller named them: the store keeps them trimmed.
        Ok(Response::new(pb::CommissionMembers {
            region_code: set.region.region.into(),
            quota_year: set.region.year.get() as u32,
            members: r.members,
            etag: set.etag,
        }))
    }

    #[tracing::instrument(skip_all, fields(application = %request.get_ref().application))]
    async fn record_commission_decision(
        &self,
        request: Request<pb::RecordCommissionDecisionRequest>,
    ) -> Result<Response<pb::CommissionDecision>, Status> {
        let (actor, caller) = (super::actor(&self.0, &request), super::caller(&request));
        let r = request.into_inner();
        let application = parse_name("application", &r.application, ApplicationName::parse)?;
        let input = decision_from_pb(&r);
        let row =
            commission::record_decision(&self.0, &caller, &actor, &application, &input).await?;
        Ok(Response::new(decision_to_pb(row)))
    }

    #[tracing::instrument(skip_all, fields(region = %request.get_ref().region_code, year = request.get_ref().quota_year))]
    async fn render_commission_protocol(
        &self,
        request: Request<pb::RenderCommissionProtocolRequest>,
    ) -> Result<Response<pb::DocumentRef>, Status> {
        let (actor, caller) = (super::actor(&self.0, &request), super::caller(&request));
        let r = request.into_inner();
        let input = ProtocolInput {
            region_code: r.region_code,
            quota_year: r.quota_year,
            protocol_number: r.protocol_number,
        };
        let document = commission::render_protocol(&self.0, &caller, &actor, &input).await?;
        Ok(Response::new(pb::DocumentRef {
            document: document.to_string(),
            late: false,
            due_date: String::new(),
        }))
    }

    #[tracing::instrument(skip_all, fields(application = %request.get_ref().application))]
    async fn notify_employer(
        &self,
        request: Request<pb::NotifyEmployerRequest>,
    ) -> Result<Response<pb::DocumentRef>, Status> {
        let (actor, caller) = (super::actor(&self.0, &request), super::caller(&request));
        let r = request.into_inner();
        let application = parse_name("application", &r.application, ApplicationName::parse)?;
        let notice = commission::notify_employer(&self.0, &caller, &actor, &application).await?;
        Ok(Response::new(notice_to_pb(notice)))
    }

    #[tracing::instrument(skip_all, fields(region = %request.get_ref().region_code, year = request.get_ref().quota_year))]
    async fn set_labour_immigrant_need(
        &self,
        request: Request<pb::SetLabourImmigrantNeedRequest>,
    ) -> Result<Response<pb::LabourImmigrantNeed>, Status> {
        let (actor, caller) = (super::actor(&self.0, &request), super::caller(&request));
        let r = request.into_inner();
        let input = NeedInput {
            etag: r.etag,
            region_code: r.region_code,
            quota_year: r.quota_year,
            current_count: r.current_count,
            need: r.need,
            justification: r.justification,
        };
        let need = filing::set_labour_immigrant_need(&self.0, &caller, &actor, &input).await?;
        Ok(Response::new(need_to_pb(need)))
    }

    #[tracing::instrument(skip_all, fields(region = %request.get_ref().region_code, year = request.get_ref().quota_year))]
    async fn set_origin_country_quota(
        &self,
        request: Request<pb::SetOriginCountryQuotaRequest>,
    ) -> Result<Response<pb::OriginCountryQuota>, Status> {
        let (actor, caller) = (super::actor(&self.0, &request), super::caller(&request));
        let input = origin_quota_from_pb(request.into_inner());
        let quota = filing::set_origin_country_quota(&self.0, &caller, &actor, &input).await?;
        Ok(Response::new(origin_quota_to_pb(quota)))
    }

    #[tracing::instrument(skip_all)]
    async fn list_treaty_countries(
        &self,
        _: Request<pb::ListTreatyCountriesRequest>,
    ) -> Result<Response<pb::ListTreatyCountriesResponse>, Status> {
        let countries = filing::treaty_countries(&self.0)
            .await?
            .into_iter()
            .map(|(code, name_ru)| pb::TreatyCountry {
                code,
                name_ru,
                treaty_ru: String::new(),
            })
            .collect();
        Ok(Response::new(pb::ListTreatyCountriesResponse { countries }))
    }

    #[tracing::instrument(skip_all, fields(region = %request.get_ref().region_code, year = request.get_ref().quota_year))]
    async fn file_with_ministry(
        &self,
        request: Request<pb::FileWithMinistryRequest>,
    ) -> Result<Response<pb::RegionalFiling>, Status> {
        let (actor, caller) = (super::actor(&self.0, &request), super::caller(&request));
        let r = request.into_inner();
        let filing =
            filing::file_with_ministry(&self.0, &caller, &actor, &r.region_code, r.quota_year)
                .await?;
        Ok(Response::new(filing_to_pb(filing)))
    }
}

fn proposal_from_pb(r: pb::SubmitProposalRequest) -> ProposalInput {
    ProposalInput {
        body: r.body,
        region_code: r.region_code,
        quota_year: r.quota_year,
        lines: r
            .lines
            .iter()
            .map(|l| line_from_pb(&l.occupation_code, &l.occupation_name, l.category, l.count))
            .collect(),
        justification: r.justification,
        agreed_by_region: r.agreed_by_region,
    }
}

fn proposal_to_pb(p: ProposalRow) -> pb::Proposal {
    pb::Proposal {
        name: ProposalName::new(p.id).to_string(),
        body: p.body,
        region_code: p.region_code,
        quota_year: p.quota_year as u32,
        lines: p
            .lines
            .into_iter()
            .map(|l| pb::ProposalLine {
                occupation_code: l.occupation_code,
                occupation_name: l.occupation_name,
                category: category_to_pb(l.category) as i32,
                count: l.count,
            })
            .collect(),
        justification: p.justification,
        agreed_by_region: p.agreed_by_region,
        submit_time: Some(timestamp(p.submit_time)),
        agree_time: p.agree_time.map(timestamp),
        late: p.late,
    }
}

#[tonic::async_trait]
impl CentralBodyService for CentralBodies {
    #[tracing::instrument(skip_all, fields(body = %request.get_ref().body, region = %request.get_ref().region_code, year = request.get_ref().quota_year))]
    async fn submit_proposal(
        &self,
        request: Request<pb::SubmitProposalRequest>,
    ) -> Result<Response<pb::Proposal>, Status> {
        let (actor, caller) = (super::actor(&self.0, &request), super::caller(&request));
        let input = proposal_from_pb(request.into_inner());
        let proposal = proposals::submit(&self.0, &caller, &actor, input).await?;
        Ok(Response::new(proposal_to_pb(proposal)))
    }

    #[tracing::instrument(skip_all, fields(name = %request.get_ref().name))]
    async fn agree_proposal(
        &self,
        request: Request<pb::AgreeProposalRequest>,
    ) -> Result<Response<pb::Proposal>, Status> {
        let (actor, caller) = (super::actor(&self.0, &request), super::caller(&request));
        let name = parse_name("name", &request.into_inner().name, ProposalName::parse)?;
        let proposal = proposals::agree(&self.0, &caller, &actor, &name).await?;
        Ok(Response::new(proposal_to_pb(proposal)))
    }

    #[tracing::instrument(skip_all, fields(region = %request.get_ref().region_code, year = request.get_ref().quota_year))]
    async fn list_proposals(
        &self,
        request: Request<pb::ListProposalsRequest>,
    ) -> Result<Response<pb::ListProposalsResponse>, Status> {
        let caller = super::caller(&request);
        let r = request.into_inner();
        let page = PageRequest {
            size: r.page_size,
            token: r.page_token,
        };
        let found = proposals::list(&self.0, &caller, &r.region_code, r.quota_year, &page).await?;
        Ok(Response::new(pb::ListProposalsResponse {
            proposals: found.items.into_iter().map(proposal_to_pb).collect(),
            next_page_token: found.next_page_token,
        }))
    }
}
