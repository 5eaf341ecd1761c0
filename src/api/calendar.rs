//! `CalendarService`: Kazakhstan's working days and the quota timeline's deadlines, over
//! [`crate::process::calendar`].

use chrono::{NaiveDate, Utc};
use tonic::{Request, Response, Status};

use super::pb::{self, calendar_service_server::CalendarService};
use super::{AppState, timestamp};
use crate::domain::calendar::{NonWorkingDay, Reason};
use crate::domain::timeline::Step;
use crate::process::calendar::{
    self as process, DatedDayOffInput, Deadline, Overdue, TransferInput,
};
use crate::process::paging::PageRequest;

pub struct CalendarApi(pub AppState);

fn ds(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn days_to_pb(days: Vec<NonWorkingDay>) -> Vec<pb::NonWorkingDay> {
    days.into_iter()
        .map(|d| {
            let (reason, name) = match d.reason {
                Reason::Weekend => ("WEEKEND", String::new()),
                Reason::Holiday { name_ru } => ("HOLIDAY", name_ru),
                Reason::CarriedOver { name_ru, .. } => ("CARRIED_OVER", name_ru),
                Reason::Transfer { note_ru } => ("TRANSFER", note_ru),
            };
            pb::NonWorkingDay {
                date: ds(d.date),
                reason: reason.into(),
                name_ru: name,
            }
        })
        .collect()
}

fn step_to_pb(step: Step) -> pb::DeadlineStep {
    use pb::DeadlineStep as S;
    match step {
        Step::EmployerApplications => S::EmployerApplications,
        Step::RegionalAssessment => S::RegionalAssessment,
        Step::Commission => S::Commission,
        Step::EmployerNotice => S::EmployerNotice,
        Step::RegionalFiling => S::RegionalFiling,
        Step::CentralProposals => S::CentralProposals,
        Step::MinistryDecision => S::MinistryDecision,
        Step::DecisionPublication => S::DecisionPublication,
    }
}

#[allow(deprecated)] // `step` stays filled for older clients.
fn deadline_to_pb(d: Deadline) -> pb::Deadline {
    let step = d.step();
    let mut out = pb::Deadline {
        step: step.code().into(),
        deadline_step: step_to_pb(step) as i32,
        actor: step.actor().into(),
        rule: step.rule().into(),
        description_ru: step.description_ru().into(),
        ..Default::default()
    };
    match d {
        Deadline::Fixed(f) => {
            out.due_time = Some(timestamp(f.late_from.with_timezone(&Utc)));
            out.due_date = ds(f.last_day);
            out.nominal_due_date = ds(f.nominal_last_day);
        }
        Deadline::Relative {
            working_days,
            after,
            ..
        } => out.relative_to = format!("{working_days} working days after {after}"),
    }
    out
}

#[allow(deprecated)] // `step` stays filled for older clients.
fn overdue_to_pb(o: Overdue) -> pb::OverdueItem {
    pb::OverdueItem {
        step: o.step.code().into(),
        deadline_step: step_to_pb(o.step) as i32,
        region_code: o.region_code,
        subject: o.subject,
        due_date: ds(o.due_date),
        done_time: o.done_time.map(timestamp),
        description_ru: o.step.description_ru().into(),
    }
}

#[tonic::async_trait]
impl CalendarService for CalendarApi {
    #[tracing::instrument(skip_all, fields(date = %request.get_ref().date, days = request.get_ref().days))]
    async fn add_working_days(
        &self,
        request: Request<pb::AddWorkingDaysRequest>,
    ) -> Result<Response<pb::AddWorkingDaysResponse>, Status> {
        let r = request.into_inner();
        let date = process::add_working_days(&self.0, &r.date, r.days)?;
        Ok(Response::new(pb::AddWorkingDaysResponse { date: ds(date) }))
    }

    #[tracing::instrument(skip_all, fields(year = request.get_ref().year))]
    async fn list_non_working_days(
        &self,
        request: Request<pb::ListNonWorkingDaysRequest>,
    ) -> Result<Response<pb::ListNonWorkingDaysResponse>, Status> {
        let r = request.into_inner();
        let days = process::non_working_days(&self.0, r.year, r.include_weekends)?;
        Ok(Response::new(pb::ListNonWorkingDaysResponse {
            days: days_to_pb(days),
        }))
    }

    #[tracing::instrument(skip_all, fields(year = request.get_ref().quota_year))]
    async fn get_deadlines(
        &self,
        request: Request<pb::GetDeadlinesRequest>,
    ) -> Result<Response<pb::GetDeadlinesResponse>, Status> {
        let r = request.into_inner();
        let deadlines = process::deadlines(&self.0, r.quota_year)?;
        Ok(Response::new(pb::GetDeadlinesResponse {
            quota_year: r.quota_year,
            deadlines: deadlines.into_iter().map(deadline_to_pb).collect(),
        }))
    }

    #[tracing::instrument(skip_all, fields(year = request.get_ref().quota_year))]
    async fn list_overdue(
        &self,
        request: Request<pb::ListOverdueRequest>,
    ) -> Result<Response<pb::ListOverdueResponse>, Status> {
        let caller = super::caller(&request);
        let r = request.into_inner();
        let page = PageRequest {
            size: r.page_size,
            token: r.page_token,
        };
        let found = process::overdue(&self.0, &caller, r.quota_year, &page).await?;
        Ok(Response::new(pb::ListOverdueResponse {
            items: found.items.into_iter().map(overdue_to_pb).collect(),
            next_page_token: found.next_page_token,
        }))
    }

    #[tracing::instrument(skip_all, fields(date = %request.get_ref().date, kind = %request.get_ref().kind))]
    async fn add_day_transfer(
        &self,
        request: Request<pb::AddDayTransferRequest>,
    ) -> Result<Response<pb::CalendarChange>, Status> {
        let actor = super::actor(&self.0, &request);
        let r = request.into_inner();
        let input = TransferInput {
            date: r.date,
            kind: r.kind,
            note_ru: r.note_ru,
        };
        let days = process::add_day_transfer(&self.0, &actor, &input).await?;
        Ok(Response::new(pb::CalendarChange {
            days: days_to_pb(days),
        }))
    }

    #[tracing::instrument(skip_all, fields(date = %request.get_ref().date))]
    async fn add_dated_day_off(
        &self,
        request: Request<pb::AddDatedDayOffRequest>,
    ) -> Result<Response<pb::CalendarChange>, Status> {
        let actor = super::actor(&self.0, &request);
        let r = request.into_inner();
        let input = DatedDayOffInput {
            date: r.date,
            name_ru: r.name_ru,
            shifts_if_weekend: r.shifts_if_weekend,
        };
        let days = process::add_dated_day_off(&self.0, &actor, &input).await?;
        Ok(Response::new(pb::CalendarChange {
            days: days_to_pb(days),
        }))
    }
}
