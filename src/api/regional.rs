//! `RegionalService` and `CentralBodyService`: the regional body's year (p. 7–17).

use crate::auth::Caller;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;
use tonic::{Code, Request, Response, Status};

use super::error::{self, invalid, invalid_field};
use super::pb::{
    self, central_body_service_server::CentralBodyService, regional_service_server::RegionalService,
};
use super::{AppState, resource_id, timestamp};
use crate::domain::commission::{CommissionDecision, DecisionInput, Outcome, RejectionGround};
use crate::domain::timeline::{self, NOTICE_WORKING_DAYS, Step};
use crate::domain::{QuotaYear, Violations, WorkerCategory, almaty};
use crate::store::regional::{
    AssessmentRow, CountryRow, DecisionRow, ImmigrantNeedRow, MemberRow, ProposalLineRow,
    ProposalRow,
};
use crate::store::{ApplicationRow, ApplicationState, NewDocument};

pub struct Regional(pub AppState);
pub struct CentralBodies(pub AppState);

const MAX_TEXT: usize = 20_000;
const MAX_FIGURE: u32 = 10_000_000;

fn date_str(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn date_ru(d: NaiveDate) -> String {
    d.format("%d.%m.%Y").to_string()
}

/// Today in Almaty by the service clock.
fn today(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&almaty()).date_naive()
}

impl AppState {
    /// Checks a region code and a quota year given at the top level of a request.
    pub(crate) fn region_year(
        &self,
        region_code: &str,
        quota_year: u32,
        v: &mut Violations,
    ) -> Option<(String, QuotaYear)> {
        let region = region_code.trim();
        let region_ok = self.region_codes.iter().any(|c| c == region);
        if !region_ok {
            v.add(
                "region_code",
                format!("{region:?} is not the KATO code of one of the 20 regions"),
            );
        }
        let year = v.check("quota_year", QuotaYear::parse(quota_year, self.now()));
        match (region_ok, year) {
            (true, Some(y)) => Some((region.to_owned(), y)),
            _ => None,
        }
    }
}

impl AppState {
    /// Whether `step` of `year` is late at `now`: past its last day, moved to the next
    /// working day when it is a day off (Civil Code art. 172). Before the Rules' own date
    /// nothing is late, so the calendar is read only after it.
    async fn late(&self, now: DateTime<Utc>, year: QuotaYear, step: Step) -> Result<bool, Status> {
        if timeline::nominal_deadline(year, step).is_none_or(|d| now < d.late_from) {
            return Ok(false);
        }
        let calendar = self.calendar();
        Ok(timeline::deadline(year, step, &calendar).is_some_and(|d| now >= d.late_from))
    }
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

fn decision_to_pb(d: DecisionRow) -> pb::CommissionDecision {
    pb::CommissionDecision {
        application: format!("applications/{}", d.application_id),
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
            .map(|n| format!("documents/{n}"))
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

fn assessment_to_pb(a: AssessmentRow) -> pb::RegionalAssessment {
    pb::RegionalAssessment {
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

fn category_ru(c: WorkerCategory) -> &'static str {
    match c {
        WorkerCategory::First => "1-я категория",
        WorkerCategory::Second => "2-я категория",
        WorkerCategory::Third => "3-я категория",
        WorkerCategory::Fourth => "4-я категория",
        WorkerCategory::Seasonal => "сезонные работники",
    }
}

fn member_kind_code(k: pb::CommissionMemberKind) -> Option<&'static str> {
    use pb::CommissionMemberKind as K;
    Some(match k {
        K::Unspecified => return None,
        K::LocalExecutiveBody => "LOCAL_EXECUTIVE_BODY",
        K::InternalAffairs => "INTERNAL_AFFAIRS",
        K::Education => "EDUCATION",
        K::Entrepreneurship => "ENTREPRENEURSHIP",
        K::LabourTerritorialUnit => "LABOUR_TERRITORIAL_UNIT",
        K::ChamberOfEntrepreneurs => "CHAMBER_OF_ENTREPRENEURS",
        K::TradeUnions => "TRADE_UNIONS",
    })
}

/// The bodies p. 9 requires in every Commission; the chamber of entrepreneurs and the
/// trade unions join "по согласованию" (by agreement), so they are optional.
const REQUIRED_KINDS: [(&str, &str); 4] = [
    ("INTERNAL_AFFAIRS", "territorial internal affairs body"),
    ("EDUCATION", "local executive body for education"),
    (
        "ENTREPRENEURSHIP",
        "local executive body for entrepreneurship",
    ),
    (
        "LABOUR_TERRITORIAL_UNIT",
        "territorial unit of the labour authority",
    ),
];

fn by_agreement(kind: &str) -> bool {
    matches!(kind, "CHAMBER_OF_ENTREPRENEURS" | "TRADE_UNIONS")
}

/// The occupation lines of row `i` of Appendix 4 (p. 17), checked as Appendix 1's are:
/// classifier code, name, category, a positive count, one line per occupation and
/// category. Only the valid lines are returned; the others are recorded in `v`.
/// One occupation line (code, name, category, count) as Appendix 1 has them, checked
/// with its fields named under `prefix`; None (and violations) if any is bad.
fn occupation_line(
    v: &mut Violations,
    prefix: &str,
    (code, name, category, count): (&str, &str, i32, u32),
) -> Option<ProposalLineRow> {
    let f = |n: &str| format!("{prefix}.{n}");
    let code = v.check(
        f("occupation_code"),
        crate::domain::OccupationCode::parse(code),
    );
    let name = v.text(&f("occupation_name"), name, "occupation name", 300);
    let category = super::applications::category_from_pb(category);
    if category.is_none() {
        v.add(f("category"), "worker category is required");
    }
    if count == 0 || count > 100_000 {
        v.add(f("count"), "count must be from 1 to 100000");
    }
    Some(ProposalLineRow {
        occupation_code: code?.as_str().to_owned(),
        occupation_name: name?,
        category: category?,
        count,
    })
}

fn origin_lines(
    v: &mut Violations,
    i: usize,
    lines: &[pb::OriginOccupationLine],
) -> Vec<ProposalLineRow> {
    let mut out: Vec<ProposalLineRow> = Vec::new();
    if lines.len() > 500 {
        v.add(format!("rows[{i}].lines"), "at most 500 lines per country");
        return out;
    }
    for (j, l) in lines.iter().enumerate() {
        let prefix = format!("rows[{i}].lines[{j}]");
        let line = occupation_line(
            v,
            &prefix,
            (&l.occupation_code, &l.occupation_name, l.category, l.count),
        );
        if let Some(line) = line {
            if out
                .iter()
                .any(|o| o.occupation_code == line.occupation_code && o.category == line.category)
            {
                v.add(
                    format!("{prefix}.occupation_code"),
                    "listed twice in the same category",
                );
                continue;
            }
            out.push(line);
        }
    }
    out
}

fn counts_to_pb(c: [u32; 5]) -> pb::CategoryCounts {
    pb::CategoryCounts {
        first: c[0],
        second: c[1],
        third: c[2],
        fourth: c[3],
        seasonal: c[4],
    }
}

impl Regional {
    fn sealer_json(&self, doc_name: &str, now: DateTime<Utc>) -> serde_json::Value {
        serde_json::to_value(self.0.sealer.visible_signature(doc_name, now)).expect("serialisable")
    }

    /// Renders and seals a form off the async runtime.
    async fn seal(
        &self,
        template: &'static str,
        build: impl FnOnce(&str) -> serde_json::Value,
        kind: &'static str,
        title: String,
        subject: String,
        now: DateTime<Utc>,
    ) -> Result<NewDocument, Status> {
        let id = uuid::Uuid::new_v4().to_string();
        let data = build(&format!("documents/{id}"));
        let sealer = self.0.sealer.clone();
        crate::sealing::on_core(move || {
            sealer.issue(&id, template, &data, kind, &title, &subject, now)
        })
        .await
        .map_err(|e| error::internal("sealing task", e))?
        .map_err(|e| error::internal(&format!("rendering and sealing {template}"), e))
    }

    async fn submitted_application(&self, name: &str) -> Result<ApplicationRow, Status> {
        let id = resource_id("application", name, "applications")?;
        let app = self.0.store.get_application(id).await?;
        if app.state != ApplicationState::Submitted {
            return Err(error::status(
                Code::FailedPrecondition,
                "WRONG_STATE",
                format!(
                    "{name} is {}: only a submitted application goes to the Commission",
                    app.state.as_str()
                ),
            ));
        }
        Ok(app)
    }
}

/// A regional body or commission acts for its own region only (the table has already
/// limited which roles reach the method).
fn scope_region(caller: &Caller, field: &str, region: &str) -> Result<(), Status> {
    if caller.role.is_regional() {
        Ok(caller.require_region(field, region)?)
    } else {
        Ok(())
    }
}

fn frozen_or(e: crate::store::StoreError) -> Status {
    e.into()
}

#[tonic::async_trait]
impl RegionalService for Regional {
    async fn set_regional_assessment(
        &self,
        request: Request<pb::SetRegionalAssessmentRequest>,
    ) -> Result<Response<pb::RegionalAssessment>, Status> {
        let actor = super::actor(&self.0, &request);
        let caller = super::caller(&request);
        let a = request
            .into_inner()
            .assessment
            .ok_or_else(|| invalid_field("assessment", "assessment is required"))?;
        scope_region(&caller, "assessment.region_code", a.region_code.trim())?;
        let mut v = Violations::new();
        let ry = self.0.region_year(&a.region_code, a.quota_year, &mut v);
        let mut v2 = Violations::new();
        let f = |n: &str| format!("assessment.{n}");
        let mut text = |n: &str, value: &str, what: &str| {
            v2.text(&f(n), value, what, MAX_TEXT).unwrap_or_default()
        };
        let row = AssessmentRow {
            demand_text: text("demand_text", &a.demand_text, "p. 7.1 demand for labour"),
            forecast_text: text("forecast_text", &a.forecast_text, "p. 7.2 forecast"),
            local_coverage_text: text(
                "local_coverage_text",
                &a.local_coverage_text,
                "p. 7.3 local coverage",
            ),
            efficiency_text: text(
                "efficiency_text",
                &a.efficiency_text,
                "p. 7.4 efficiency of foreign labour use",
            ),
            immigrant_demand_text: text(
                "immigrant_demand_text",
                &a.immigrant_demand_text,
                "p. 15.1 demand",
            ),
            immigrant_forecast_text: text(
                "immigrant_forecast_text",
                &a.immigrant_forecast_text,
                "p. 15.2 forecast",
            ),
            immigrant_efficiency_text: text(
                "immigrant_efficiency_text",
                &a.immigrant_efficiency_text,
                "p. 15.3 efficiency of labour immigrants",
            ),
            justification: text(
                "justification",
                &a.justification,
                "justification (Appendix 2, column 9)",
            ),
            ..AssessmentRow::default()
        };
        let mut row = row;
        for (n, value, slot) in [
            ("labour_demand", a.labour_demand, &mut row.labour_demand),
            (
                "planned_jobs_national_projects",
                a.planned_jobs_national_projects,
                &mut row.planned_jobs_national_projects,
            ),
            (
                "forecast_unemployed",
                a.forecast_unemployed,
                &mut row.forecast_unemployed,
            ),
            (
                "forecast_released",
                a.forecast_released,
                &mut row.forecast_released,
            ),
            (
                "forecast_graduates",
                a.forecast_graduates,
                &mut row.forecast_graduates,
            ),
            ("local_coverage", a.local_coverage, &mut row.local_coverage),
        ] {
            *slot = v2.count(&f(n), value, MAX_FIGURE);
        }
        for x in v2.into_vec() {
            v.add(x.field, x.description);
        }
        let (region, year) = ry.filter(|_| v.is_empty()).ok_or_else(|| invalid(v))?;
        let now = self.0.now();
        row.region_code = region;
        row.quota_year = i64::from(year.get());
        // p. 7, 15: due before 10 October; a later assessment is kept but flagged.
        row.late = self.0.late(now, year, Step::RegionalAssessment).await?;
        let stored = self
            .0
            .store
            .set_assessment(&actor, &row, now)
            .await
            .map_err(frozen_or)?;
        Ok(Response::new(assessment_to_pb(stored)))
    }

    async fn get_regional_assessment(
        &self,
        request: Request<pb::GetRegionalAssessmentRequest>,
    ) -> Result<Response<pb::RegionalAssessment>, Status> {
        let caller = super::caller(&request);
        let r = request.into_inner();
        scope_region(&caller, "region_code", r.region_code.trim())?;
        let a = self
            .0
            .store
            .get_assessment(r.region_code.trim(), i64::from(r.quota_year))
            .await?
            .ok_or_else(|| {
                error::status(
                    Code::NotFound,
                    "NOT_FOUND",
                    format!(
                        "no assessment of region {} for {}",
                        r.region_code, r.quota_year
                    ),
                )
            })?;
        Ok(Response::new(assessment_to_pb(a)))
    }

    async fn set_commission_members(
        &self,
        request: Request<pb::SetCommissionMembersRequest>,
    ) -> Result<Response<pb::CommissionMembers>, Status> {
        let actor = super::actor(&self.0, &request);
        let caller = super::caller(&request);
        let r = request.into_inner();
        scope_region(&caller, "region_code", r.region_code.trim())?;
        let mut v = Violations::new();
        let ry = self.0.region_year(&r.region_code, r.quota_year, &mut v);
        let mut members = Vec::new();
        if r.members.is_empty() || r.members.len() > 50 {
            v.add("members", "from 1 to 50 members are required");
            return Err(invalid(v));
        }
        for (i, m) in r.members.iter().enumerate() {
            let f = |n: &str| format!("members[{i}].{n}");
            let full_name = v.text(&f("full_name"), &m.full_name, "full name", 300);
            let job_title = v.text(&f("position"), &m.position, "position", 300);
            let organisation = v.text(&f("organisation"), &m.organisation, "organisation", 500);
            let role = v.text(&f("role"), &m.role, "role", 100);
            let kind = pb::CommissionMemberKind::try_from(m.kind)
                .ok()
                .and_then(member_kind_code);
            if kind.is_none() {
                v.add(
                    f("kind"),
                    "the body the member represents (p. 9) is required",
                );
            }
            if let (Some(full_name), Some(job_title), Some(organisation), Some(role), Some(kind)) =
                (full_name, job_title, organisation, role, kind)
            {
                members.push(MemberRow {
                    full_name,
                    job_title,
                    organisation,
                    kind: kind.into(),
                    role,
                });
            }
        }
        // p. 9: the Commission includes these bodies' representatives.
        if !r.members.is_empty() {
            let missing: Vec<&str> = REQUIRED_KINDS
                .iter()
                .filter(|(k, _)| !members.iter().any(|m| m.kind == *k))
                .map(|(_, what)| *what)
                .collect();
            if !missing.is_empty() && v.is_empty() {
                v.add(
                    "members",
                    format!(
                        "p. 9 of the Rules requires representatives of: {}",
                        missing.join(", ")
                    ),
                );
            }
        }
        let (region, year) = ry.filter(|_| v.is_empty()).ok_or_else(|| invalid(v))?;
        let y = i64::from(year.get());
        self.0
            .store
            .set_commission_members(&actor, &region, y, &members)
            .await?;
        Ok(Response::new(pb::CommissionMembers {
            region_code: region,
            quota_year: year.get() as u32,
            members: r.members,
        }))
    }

    async fn record_commission_decision(
        &self,
        request: Request<pb::RecordCommissionDecisionRequest>,
    ) -> Result<Response<pb::CommissionDecision>, Status> {
        let actor = super::actor(&self.0, &request);
        let caller = super::caller(&request);
        let r = request.into_inner();
        let app = self.submitted_application(&r.application).await?;
        scope_region(&caller, "application", &app.region_code)?;
        let requested: Vec<u32> = app.lines.iter().map(|l| l.requested_count).collect();
        let input = DecisionInput {
            outcome: outcome_from_pb(r.outcome),
            approved_counts: r.approved_counts.clone(),
            // p. 10 has three grounds; a longer list is refused without reading it all.
            grounds: r
                .grounds
                .iter()
                .take(4)
                .map(|g| ground_from_pb(*g))
                .collect(),
            decided_on: r.decided_on.clone(),
            put_to_commission_on: r.put_to_commission_on.clone(),
            protocol_number: r.protocol_number.clone(),
        };
        let decision = CommissionDecision::parse(&input, &requested).map_err(invalid)?;
        let now = self.0.now();
        if decision.decided_on > today(now) {
            return Err(invalid_field(
                "decided_on",
                "the decision date is in the future",
            ));
        }
        if let Some(submitted) = app.submit_time
            && decision.decided_on < today(submitted)
        {
            return Err(invalid_field(
                "decided_on",
                "the decision date is before the application was submitted",
            ));
        }
        if let (Some(put), Some(submitted)) = (decision.put_to_commission_on, app.submit_time)
            && put < today(submitted)
        {
            return Err(invalid_field(
                "put_to_commission_on",
                "the application was put to the Commission before it was submitted",
            ));
        }
        let members = self
            .0
            .store
            .commission_members(&app.region_code, app.quota_year)
            .await?;
        if members.is_empty() {
            return Err(error::status(
                Code::FailedPrecondition,
                "NO_COMMISSION",
                format!(
                    "region {} has no Commission for {}: set its members first (p. 9)",
                    app.region_code, app.quota_year
                ),
            ));
        }
        let year = QuotaYear::from_stored(app.quota_year);
        let calendar = self.0.calendar();
        // p. 8: the regional body puts applications to the Commission "не позднее 15
        // октября" (moved to the next working day when it is a day off: Civil Code
        // art. 172); judged by the day it did so, or by the decision date when that is not
        // given. A later one is flagged.
        let late_to_commission = timeline::deadline(year, Step::Commission, &calendar)
            .is_some_and(|d| decision.put_to_commission_or_decided_on() > d.last_day);
        // p. 11: the employer is informed within five working days of the decision.
        let notice_due = calendar.add_working_days(decision.decided_on, NOTICE_WORKING_DAYS);
        let row = self
            .0
            .store
            .record_decision(
                &actor,
                &app.id,
                &decision,
                late_to_commission,
                notice_due,
                now,
            )
            .await?;
        Ok(Response::new(decision_to_pb(row)))
    }

    async fn render_commission_protocol(
        &self,
        request: Request<pb::RenderCommissionProtocolRequest>,
    ) -> Result<Response<pb::DocumentRef>, Status> {
        let actor = super::actor(&self.0, &request);
        let caller = super::caller(&request);
        let r = request.into_inner();
        scope_region(&caller, "region_code", r.region_code.trim())?;
        let mut v = Violations::new();
        let region = r.region_code.trim();
        if !self.0.region_codes.iter().any(|c| c == region) {
            v.add(
                "region_code",
                format!("{region:?} is not the KATO code of one of the 20 regions"),
            );
        }
        if r.quota_year == 0 {
            v.add("quota_year", "quota year is required");
        }
        if !v.is_empty() {
            return Err(invalid(v));
        }
        let year = i64::from(r.quota_year);
        let protocol = r.protocol_number.trim().to_owned();
        let decisions: Vec<DecisionRow> = self
            .0
            .store
            .region_decisions(region, year)
            .await?
            .into_iter()
            .filter(|d| protocol.is_empty() || d.decision.protocol_number == protocol)
            .collect();
        if decisions.is_empty() {
            return Err(error::status(
                Code::FailedPrecondition,
                "NO_DECISIONS",
                format!(
                    "the Commission of region {region} has recorded no decisions for {year} under this protocol"
                ),
            ));
        }
        let body = super::bodies::issuing_body(&self.0, region).await?;
        let members = self.0.store.commission_members(region, year).await?;
        let region_row = self.0.store.get_region(region).await?;
        // p. 8's last day, for the footnote of decisions put to the Commission late.
        let calendar = self.0.calendar();
        let commission_last_day =
            timeline::deadline(QuotaYear::from_stored(year), Step::Commission, &calendar)
                .map(|d| date_ru(d.last_day))
                .unwrap_or_default();
        let mut rows = Vec::new();
        for (i, d) in decisions.iter().enumerate() {
            let app = self.0.store.get_application(&d.application_id).await?;
            rows.push(json!({
                "number": i + 1,
                "employer": {"name": app.employer_name, "bin": app.employer_bin},
                "outcome_ru": d.decision.outcome.text_ru(),
                "decided_on": date_ru(d.decision.decided_on),
                "late_submission": d.late_to_commission,
                // Empty when the day was not given: the footnote then says only what is known.
                "put_to_commission_on": d.decision.put_to_commission_on.map(date_ru).unwrap_or_default(),
                "commission_last_day": commission_last_day,
                "lines": app.lines.iter().zip(&d.decision.approved_counts).map(|(l, a)| json!({
                    "occupation_code": l.occupation_code,
                    "occupation_name": l.occupation_name,
                    "category_ru": category_ru(l.category),
                    "requested": l.requested_count,
                    "approved": a,
                })).collect::<Vec<_>>(),
                "grounds": d.decision.grounds.iter().map(|g| g.text_ru()).collect::<Vec<_>>(),
            }));
        }
        let number = if protocol.is_empty() {
            decisions[0].decision.protocol_number.clone()
        } else {
            protocol
        };
        let date = decisions
            .iter()
            .map(|d| d.decision.decided_on)
            .max()
            .expect("non-empty");
        let role = |r: &str| {
            members
                .iter()
                .find(|m| m.role.to_lowercase().starts_with(r))
                .map(|m| m.full_name.clone())
                .unwrap_or_default()
        };
        let (chair, secretary) = (role("председатель"), role("секретарь"));
        let now = self.0.now();
        let members_json: Vec<_> = members
            .iter()
            .map(|m| {
                json!({
                    "full_name": m.full_name, "position": m.job_title, "organisation": m.organisation,
                    "role": m.role, "by_agreement": by_agreement(&m.kind),
                })
            })
            .collect();
        let title = format!(
            "Протокол № {number} заседания Комиссии по формированию квоты {} на {year} год",
            region_row.name_genitive_ru
        );
        let doc = self
            .seal(
                "protocol.typ",
                |name| {
                    json!({
                        "quota_year": year,
                        "issuer": body.legal_name_ru,
                        "protocol_number": number,
                        "commission_title": format!(
                            "заседания Комиссии по формированию квоты на привлечение иностранной рабочей силы {}",
                            region_row.name_genitive_ru
                        ),
                        "place": format!("г. {}", region_row.admin_center_ru),
                        "date": date_ru(date),
                        "members": members_json,
                        "decisions": rows,
                        "chair": chair,
                        "secretary": secretary,
                        "signature": self.sealer_json(name, now),
                    })
                },
                "COMMISSION_PROTOCOL",
                title,
                format!("regions/{region}/quotaYears/{year}"),
                now,
            )
            .await?;
        self.0.store.store_document(&actor, &doc).await?;
        Ok(Response::new(pb::DocumentRef {
            document: format!("documents/{}", doc.id),
            late: false,
            due_date: String::new(),
        }))
    }

    async fn notify_employer(
        &self,
        request: Request<pb::NotifyEmployerRequest>,
    ) -> Result<Response<pb::DocumentRef>, Status> {
        let actor = super::actor(&self.0, &request);
        let caller = super::caller(&request);
        let r = request.into_inner();
        let id = resource_id("application", &r.application, "applications")?;
        let app = self.0.store.get_application(id).await?;
        scope_region(&caller, "application", &app.region_code)?;
        let d = self.0.store.get_decision(id).await?.ok_or_else(|| {
            error::status(
                Code::FailedPrecondition,
                "NOT_DECIDED",
                format!("the Commission has not decided on {} yet", r.application),
            )
        })?;
        if let Some(doc) = &d.notice_document_id {
            return Err(error::status(
                Code::AlreadyExists,
                "ALREADY_EXISTS",
                format!("the employer was already notified: documents/{doc}"),
            ));
        }
        let body = super::bodies::issuing_body(&self.0, &app.region_code).await?;
        let now = self.0.now();
        // p. 11: within five working days of the decision; a late notice is still issued.
        let late = today(now) > d.notice_due_date;
        let kind = match crate::domain::Bin::parse(&app.employer_bin) {
            Ok(b) if b.looks_like_iin() => "individual",
            _ => "legal_entity",
        };
        let lines: Vec<_> = app
            .lines
            .iter()
            .zip(&d.decision.approved_counts)
            .enumerate()
            .map(|(i, (l, a))| {
                json!({
                    "number": i + 1, "occupation_code": l.occupation_code,
                    "occupation_name": l.occupation_name, "category_ru": category_ru(l.category),
                    "requested": l.requested_count, "approved": a,
                })
            })
            .collect();
        let title = format!(
            "Уведомление о результатах рассмотрения заявки на привлечение иностранной рабочей силы на {} год",
            app.quota_year
        );
        let doc = self
            .seal(
                "notice.typ",
                |name| {
                    json!({
                        "quota_year": app.quota_year,
                        "sender": body.legal_name_ru,
                        "sender_address": body.address_ru,
                        "date": date_ru(today(now)),
                        "outgoing_number": format!("{}-{}", d.decision.protocol_number, &app.id[..8]),
                        "employer": {"name": app.employer_name, "legal_address": app.employer_address,
                                     "bin": app.employer_bin, "kind": kind},
                        "application_date": app.submit_time.map(|t| date_ru(today(t))).unwrap_or_default(),
                        "protocol_number": d.decision.protocol_number,
                        "decided_on": date_ru(d.decision.decided_on),
                        "outcome_ru": d.decision.outcome.text_ru(),
                        "lines": lines,
                        "grounds": d.decision.grounds.iter().map(|g| g.text_ru()).collect::<Vec<_>>(),
                        "head_position": body.head_position_ru,
                        "head_full_name": body.head_full_name,
                        "signature": self.sealer_json(name, now),
                    })
                },
                "EMPLOYER_NOTICE",
                title,
                format!("applications/{}", app.id),
                now,
            )
            .await?;
        let row = self
            .0
            .store
            .record_notice(&actor, &app.id, &doc, late, now)
            .await?;
        Ok(Response::new(pb::DocumentRef {
            document: format!("documents/{}", doc.id),
            late: row.notice_late,
            due_date: date_str(row.notice_due_date),
        }))
    }

    async fn set_labour_immigrant_need(
        &self,
        request: Request<pb::SetLabourImmigrantNeedRequest>,
    ) -> Result<Response<pb::LabourImmigrantNeed>, Status> {
        let actor = super::actor(&self.0, &request);
        let caller = super::caller(&request);
        let r = request.into_inner();
        scope_region(&caller, "region_code", r.region_code.trim())?;
        let mut v = Violations::new();
        let ry = self.0.region_year(&r.region_code, r.quota_year, &mut v);
        let current_count = v.count("current_count", r.current_count, MAX_FIGURE);
        let need = v.count("need", r.need, MAX_FIGURE);
        let justification = v.text(
            "justification",
            &r.justification,
            "justification of the need",
            MAX_TEXT,
        );
        let (region, year) = ry.filter(|_| v.is_empty()).ok_or_else(|| invalid(v))?;
        let now = self.0.now();
        let row = ImmigrantNeedRow {
            current_count,
            need,
            justification: justification.unwrap_or_default(),
            // p. 15: determined "до 10 октября", as the assessment of p. 7; a later one is
            // kept but flagged.
            late: self.0.late(now, year, Step::RegionalAssessment).await?,
        };
        self.0
            .store
            .set_immigrant_need(&actor, &region, i64::from(year.get()), &row, now)
            .await?;
        Ok(Response::new(pb::LabourImmigrantNeed {
            region_code: region,
            quota_year: year.get() as u32,
            current_count: row.current_count,
            need: row.need,
            justification: row.justification,
            late: row.late,
        }))
    }

    async fn set_origin_country_quota(
        &self,
        request: Request<pb::SetOriginCountryQuotaRequest>,
    ) -> Result<Response<pb::OriginCountryQuota>, Status> {
        let actor = super::actor(&self.0, &request);
        let caller = super::caller(&request);
        let r = request.into_inner();
        scope_region(&caller, "region_code", r.region_code.trim())?;
        let mut v = Violations::new();
        let ry = self.0.region_year(&r.region_code, r.quota_year, &mut v);
        let treaty = self.0.store.treaty_countries().await?;
        let mut rows: Vec<CountryRow> = Vec::new();
        if r.rows.is_empty() || r.rows.len() > 200 {
            v.add("rows", "from 1 to 200 countries are required");
            return Err(invalid(v));
        }
        for (i, row) in r.rows.iter().enumerate() {
            let code = row.country_code.trim().to_ascii_uppercase();
            let Some((_, name)) = treaty.iter().find(|(c, _)| *c == code) else {
                v.add(
                    format!("rows[{i}].country_code"),
                    format!(
                        "{code:?} is not a country with a ratified labour-migration treaty (p. 17); accepted: {}",
                        treaty.iter().map(|(c, _)| c.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                );
                continue;
            };
            if rows.iter().any(|r| r.country_code == code) {
                v.add(
                    format!("rows[{i}].country_code"),
                    format!("{code} is listed twice"),
                );
                continue;
            }
            let c = row.counts.unwrap_or_default();
            let mut counts = [c.first, c.second, c.third, c.fourth, c.seasonal];
            let lines = origin_lines(&mut v, i, &row.lines);
            for (k, (n, slot)) in ["first", "second", "third", "fourth", "seasonal"]
                .iter()
                .zip(counts.iter_mut())
                .enumerate()
            {
                let field = format!("rows[{i}].counts.{n}");
                *slot = v.count(&field, *slot, MAX_FIGURE);
                // Appendix 4: a category broken down by occupation counts its lines.
                let mine = lines
                    .iter()
                    .filter(|l| l.category == WorkerCategory::ALL[k]);
                if mine.clone().next().is_some() {
                    let sum = mine.fold(0u32, |s, l| s.saturating_add(l.count));
                    if sum > MAX_FIGURE {
                        v.add(
                            &field,
                            format!("the lines sum to {sum}, above {MAX_FIGURE}"),
                        );
                    } else if *slot != 0 && *slot != sum {
                        v.add(
                            field,
                            format!("{slot} is not the sum of the category's occupation lines ({sum}); leave it 0 or give the sum"),
                        );
                    }
                    *slot = sum;
                }
            }
            if counts.iter().all(|&n| n == 0) {
                v.add(
                    format!("rows[{i}].counts"),
                    "at least one count must be positive",
                );
            }
            rows.push(CountryRow {
                country_code: code,
                country_name_ru: name.clone(),
                counts,
                lines,
            });
        }
        let (region, year) = ry.filter(|_| v.is_empty()).ok_or_else(|| invalid(v))?;
        self.0
            .store
            .set_origin_quota(&actor, &region, i64::from(year.get()), &rows)
            .await?;
        Ok(Response::new(pb::OriginCountryQuota {
            region_code: region,
            quota_year: year.get() as u32,
            rows: rows
                .into_iter()
                .map(|r| pb::OriginCountryRow {
                    country_code: r.country_code,
                    country_name_ru: r.country_name_ru,
                    counts: Some(counts_to_pb(r.counts)),
                    lines: r
                        .lines
                        .into_iter()
                        .map(|l| pb::OriginOccupationLine {
                            occupation_code: l.occupation_code,
                            occupation_name: l.occupation_name,
                            category: super::applications::category_to_pb(l.category) as i32,
                            count: l.count,
                        })
                        .collect(),
                })
                .collect(),
        }))
    }

    async fn list_treaty_countries(
        &self,
        _: Request<pb::ListTreatyCountriesRequest>,
    ) -> Result<Response<pb::ListTreatyCountriesResponse>, Status> {
        let countries = self
            .0
            .store
            .treaty_countries()
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

    async fn file_with_ministry(
        &self,
        request: Request<pb::FileWithMinistryRequest>,
    ) -> Result<Response<pb::RegionalFiling>, Status> {
        let actor = super::actor(&self.0, &request);
        let caller = super::caller(&request);
        let r = request.into_inner();
        scope_region(&caller, "region_code", r.region_code.trim())?;
        let mut v = Violations::new();
        let (region, year) = self
            .0
            .region_year(&r.region_code, r.quota_year, &mut v)
            .ok_or_else(|| invalid(v))?;
        let y = i64::from(year.get());
        let missing = |what: &str| {
            error::status(
                Code::FailedPrecondition,
                "FILING_INCOMPLETE",
                format!("region {region} cannot file for {y}: {what}"),
            )
        };
        // Read first: the filing is refused if anything it is built from changes meanwhile.
        let fingerprint = self.0.store.filing_fingerprint(&region, y).await?;
        if let Some(f) = self.0.store.filing(&region, y).await? {
            return Err(error::status(
                Code::AlreadyExists,
                "ALREADY_EXISTS",
                format!(
                    "region {region} already filed for {y} (documents/{})",
                    f.appendix2_id
                ),
            ));
        }
        // p. 12: the filing reports the Commission's decision on every application; one
        // without a decision would silently drop out of Appendix 2, its employer never told.
        let undecided = self.0.store.undecided_applications(&region, y).await?;
        if !undecided.is_empty() {
            let names: Vec<String> = undecided
                .iter()
                .map(|id| format!("applications/{id}"))
                .collect();
            let mut details = tonic_types::ErrorDetails::new();
            details.set_error_info(
                "UNDECIDED_APPLICATIONS",
                error::ERROR_DOMAIN,
                std::collections::HashMap::from([("applications".to_string(), names.join(","))]),
            );
            for n in &names {
                details.add_precondition_failure_violation(
                    "UNDECIDED",
                    n.clone(),
                    "submitted, with no decision of the Commission (p. 8–10)",
                );
            }
            return Err(<Status as tonic_types::StatusExt>::with_error_details(
                Code::FailedPrecondition,
                format!(
                    "region {region} cannot file for {y}: the Commission has not decided on {} submitted application(s) (p. 12): {}",
                    names.len(),
                    names.join(", ")
                ),
                details,
            ));
        }
        self.0
            .store
            .get_assessment(&region, y)
            .await?
            .ok_or_else(|| missing("the assessment of p. 7 is not set"))?;
        let need = self
            .0
            .store
            .immigrant_need(&region, y)
            .await?
            .ok_or_else(|| {
                missing("the labour-immigrant need of p. 14–16 (Appendix 3) is not set")
            })?;
        let countries = self.0.store.origin_quota(&region, y).await?;
        let body = super::bodies::issuing_body(&self.0, &region).await?;
        let ministry = self
            .0
            .store
            .get_body(crate::store::bodies::MINISTRY)
            .await?;
        let now = self.0.now();
        let late = self.0.late(now, year, Step::RegionalFiling).await?;

        // Appendix 2: one row per organisation with its approved counts (p. 12).
        let mut rows = Vec::new();
        let mut totals = [0u64; 6];
        for d in self.0.store.region_decisions(&region, y).await? {
            if d.decision.outcome == Outcome::Rejected {
                continue;
            }
            let app = self.0.store.get_application(&d.application_id).await?;
            let mut per = [0u64; 5];
            let mut lines = Vec::new();
            for (l, &a) in app.lines.iter().zip(&d.decision.approved_counts) {
                if a == 0 {
                    continue;
                }
                let k = WorkerCategory::ALL
                    .iter()
                    .position(|c| *c == l.category)
                    .expect("category");
                per[k] += u64::from(a);
                lines.push(
                    json!({"category": l.category.code(), "occupation_code": l.occupation_code,
                                  "occupation_name": l.occupation_name, "count": a}),
                );
            }
            let current: u64 = app.lines.iter().map(|l| u64::from(l.current_count)).sum();
            totals[0] += current;
            for k in 0..5 {
                totals[k + 1] += per[k];
            }
            rows.push(json!({
                "number": rows.len() + 1,
                "organisation": {
                    "name": app.employer_name, "legal_address": app.employer_address, "bin": app.employer_bin,
                    "kind": if crate::domain::Bin::parse(&app.employer_bin).is_ok_and(|b| b.looks_like_iin()) {
                        "individual"
                    } else {
                        "legal_entity"
                    },
                },
                "current_count": current,
                "lines": lines,
                "totals": {"1": per[0], "2": per[1], "3": per[2], "4": per[3], "seasonal": per[4]},
                // p. 7 / column 9: each organisation's own justification, with the
                // Commission's decision on it.
                "justification": format!(
                    "{}\nРешение Комиссии: {} (протокол № {} от {}).",
                    app.justification.trim(),
                    d.decision.outcome.text_ru(),
                    d.decision.protocol_number,
                    date_ru(d.decision.decided_on),
                ),
            }));
        }
        let (head_position, head_full_name) = (&body.head_position_ru, &body.head_full_name);
        let subject = format!("regions/{region}/quotaYears/{y}");
        let addressee = &ministry.legal_name_ru;
        let sender = &body.legal_name_ru;
        let app2 = self
            .seal(
                "appendix2.typ",
                |name| {
                    json!({
                        "quota_year": y, "addressee": addressee, "sender": sender, "rows": rows,
                        "totals": {"current_count": totals[0], "1": totals[1], "2": totals[2], "3": totals[3],
                                   "4": totals[4], "seasonal": totals[5]},
                        "head_position": head_position, "head_full_name": head_full_name,
                        "signature": self.sealer_json(name, now),
                    })
                },
                "APPENDIX_2",
                format!("Заявка на привлечение иностранной рабочей силы на {y} год"),
                subject.clone(),
                now,
            )
            .await?;
        let app3 = self
            .seal(
                "appendix3.typ",
                |name| {
                    json!({
                        "quota_year": y, "addressee": addressee, "sender": sender,
                        "current_count": need.current_count, "need": need.need,
                        "justification": need.justification,
                        "head_position": head_position, "head_full_name": head_full_name,
                        "signature": self.sealer_json(name, now),
                    })
                },
                "APPENDIX_3",
                format!("Заявка на привлечение трудовых иммигрантов на {y} год"),
                subject.clone(),
                now,
            )
            .await?;
        let mut ctotals = [0u64; 6];
        let countries_json: Vec<_> = countries
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let total: u64 = c.counts.iter().map(|&n| u64::from(n)).sum();
                ctotals[0] += total;
                for k in 0..5 {
                    ctotals[k + 1] += u64::from(c.counts[k]);
                }
                json!({
                    "code": c.country_code, "name_ru": c.country_name_ru, "number": i + 1, "total": total,
                    "counts": {"1": c.counts[0], "2": c.counts[1], "3": c.counts[2], "4": c.counts[3], "seasonal": c.counts[4]},
                    "lines": c.lines.iter().map(|l| json!({
                        "category": l.category.code(), "occupation_code": l.occupation_code,
                        "occupation_name": l.occupation_name, "count": l.count,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        let app4 = self
            .seal(
                "appendix4.typ",
                |name| {
                    json!({
                        "quota_year": y, "addressee": addressee, "sender": sender,
                        "countries": countries_json,
                        "totals": {"total": ctotals[0], "1": ctotals[1], "2": ctotals[2], "3": ctotals[3],
                                   "4": ctotals[4], "seasonal": ctotals[5]},
                        "head_position": head_position, "head_full_name": head_full_name,
                        "signature": self.sealer_json(name, now),
                    })
                },
                "APPENDIX_4",
                format!("Заявка на привлечение иностранной рабочей силы по странам исхода на {y} год"),
                subject,
                now,
            )
            .await?;
        let filing = self
            .0
            .store
            .file_with_ministry(
                &actor,
                &region,
                y,
                [&app2, &app3, &app4],
                &fingerprint,
                late,
                now,
            )
            .await?;
        Ok(Response::new(pb::RegionalFiling {
            region_code: region,
            quota_year: y as u32,
            appendix2: format!("documents/{}", filing.appendix2_id),
            appendix3: format!("documents/{}", filing.appendix3_id),
            appendix4: format!("documents/{}", filing.appendix4_id),
            filed_time: Some(timestamp(filing.filed_time)),
            late: filing.late,
        }))
    }
}

fn proposal_to_pb(p: ProposalRow) -> pb::Proposal {
    pb::Proposal {
        name: format!("proposals/{}", p.id),
        body: p.body,
        region_code: p.region_code,
        quota_year: p.quota_year as u32,
        lines: p
            .lines
            .into_iter()
            .map(|l| pb::ProposalLine {
                occupation_code: l.occupation_code,
                occupation_name: l.occupation_name,
                category: super::applications::category_to_pb(l.category) as i32,
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
    async fn submit_proposal(
        &self,
        request: Request<pb::SubmitProposalRequest>,
    ) -> Result<Response<pb::Proposal>, Status> {
        let actor = super::actor(&self.0, &request);
        let caller = super::caller(&request);
        let r = request.into_inner();
        // p. 13: the proposal is counted once the region agrees, and only the region's body
        // (or the ministry) records that agreement, with AgreeProposal.
        if r.agreed_by_region && caller.role != crate::auth::Role::Developer {
            return Err(error::status_with(
                Code::PermissionDenied,
                "AGREEMENT_NOT_PERMITTED",
                "agreed_by_region: only the region's local executive body (or the ministry) records its agreement, with AgreeProposal (p. 13)",
                std::collections::HashMap::from([(
                    "field".to_string(),
                    "agreed_by_region".to_string(),
                )]),
            ));
        }
        let mut v = Violations::new();
        // The proposing body is the caller's organisation, from its certificate; only the
        // development transport, which has no certificate, names it in the request.
        let body = match caller.role {
            crate::auth::Role::Developer => v.text("body", &r.body, "the central body's name", 500),
            _ => Some(caller.organisation_label()),
        };
        let ry = self.0.region_year(&r.region_code, r.quota_year, &mut v);
        let justification = v.text("justification", &r.justification, "justification", MAX_TEXT);
        let mut lines = Vec::new();
        if r.lines.is_empty() || r.lines.len() > 500 {
            v.add("lines", "from 1 to 500 lines are required");
            return Err(invalid(v));
        }
        for (i, l) in r.lines.iter().enumerate() {
            let line = occupation_line(
                &mut v,
                &format!("lines[{i}]"),
                (&l.occupation_code, &l.occupation_name, l.category, l.count),
            );
            lines.extend(line);
        }
        let (region, year) = ry.filter(|_| v.is_empty()).ok_or_else(|| invalid(v))?;
        let now = self.0.now();
        let row = ProposalRow {
            id: uuid::Uuid::new_v4().to_string(),
            body: body.unwrap_or_default(),
            region_code: region,
            quota_year: i64::from(year.get()),
            justification: justification.unwrap_or_default(),
            agreed_by_region: r.agreed_by_region,
            submit_time: now,
            agree_time: r.agreed_by_region.then_some(now),
            // p. 13: proposals are due before 1 November.
            late: self.0.late(now, year, Step::CentralProposals).await?,
            lines,
        };
        Ok(Response::new(proposal_to_pb(
            self.0.store.submit_proposal(&actor, &row).await?,
        )))
    }

    async fn agree_proposal(
        &self,
        request: Request<pb::AgreeProposalRequest>,
    ) -> Result<Response<pb::Proposal>, Status> {
        let actor = super::actor(&self.0, &request);
        let caller = super::caller(&request);
        let name = request.into_inner().name;
        let id = resource_id("name", &name, "proposals")?;
        let proposal = self.0.store.get_proposal(id).await?;
        scope_region(&caller, "name", &proposal.region_code)?;
        Ok(Response::new(proposal_to_pb(
            self.0
                .store
                .agree_proposal(&actor, id, self.0.now())
                .await?,
        )))
    }

    async fn list_proposals(
        &self,
        request: Request<pb::ListProposalsRequest>,
    ) -> Result<Response<pb::ListProposalsResponse>, Status> {
        let caller = super::caller(&request);
        let r = request.into_inner();
        let mut region = Some(r.region_code.trim()).filter(|s| !s.is_empty());
        if caller.role.is_regional() {
            if let Some(asked) = region {
                scope_region(&caller, "region_code", asked)?;
            }
            region = caller.region.as_deref();
        }
        let year = (r.quota_year != 0).then_some(i64::from(r.quota_year));
        let proposals = self.0.store.list_proposals(region, year).await?;
        Ok(Response::new(pb::ListProposalsResponse {
            proposals: proposals.into_iter().map(proposal_to_pb).collect(),
        }))
    }
}
