//! `CalendarService`: Kazakhstan's working days and the quota timeline's deadlines.

use chrono::{DateTime, NaiveDate, Utc};
use tonic::{Request, Response, Status};

use super::error::{self, invalid, invalid_field};
use super::pb::{self, calendar_service_server::CalendarService};
use super::{AppState, timestamp};
use crate::domain::calendar::{
    Calendar, CalendarError, DatedDayOff, Reason, Transfer, TransferKind,
};
use crate::domain::timeline::{self, NOTICE_WORKING_DAYS, PUBLICATION_WORKING_DAYS, Step};
use crate::domain::{QuotaYear, Violations, almaty};
use crate::store::calendar::TransferRefused;
use crate::store::{ApplicationState, ListFilter};

pub struct CalendarApi(pub AppState);

/// Years the calendar answers for: wide enough for any quota timeline, narrow enough to
/// keep a request cheap.
const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

fn parse_date(field: &str, s: &str) -> Result<NaiveDate, Status> {
    let d = NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| invalid_field(field, format!("{s:?} is not a date of the form YYYY-MM-DD")))?;
    if !YEARS.contains(&chrono::Datelike::year(&d)) {
        return Err(invalid_field(
            field,
            format!(
                "the calendar covers the years {}–{}",
                YEARS.start(),
                YEARS.end()
            ),
        ));
    }
    Ok(d)
}

fn ds(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn days_to_pb(calendar: &Calendar, year: i32, include_weekends: bool) -> Vec<pb::NonWorkingDay> {
    calendar
        .non_working_days(year, include_weekends)
        .into_iter()
        .map(|d| {
            let (reason, name) = match &d.reason {
                Reason::Weekend => ("WEEKEND", String::new()),
                Reason::Holiday { name_ru } => ("HOLIDAY", name_ru.clone()),
                Reason::CarriedOver { name_ru, .. } => ("CARRIED_OVER", name_ru.clone()),
                Reason::Transfer { note_ru } => ("TRANSFER", note_ru.clone()),
            };
            pb::NonWorkingDay {
                date: ds(d.date),
                reason: reason.into(),
                name_ru: name,
            }
        })
        .collect()
}

/// The status of a refused day transfer. A transfer moves a weekly day off (Labour Code
/// art. 85 p. 3): a DAY_OFF on a Saturday or Sunday or a WORKING_DAY on a weekday is a
/// wrong argument whatever is stored; a date that a recorded transfer or a holiday (a
/// rule or a dated day off in the database) already takes clashes with stored data.
fn transfer_refused(e: TransferRefused) -> Status {
    let e = match e {
        TransferRefused::Store(e) => return e.into(),
        TransferRefused::Calendar(e) => e,
    };
    match &e {
        CalendarError::DuplicateTransfer { .. } => {
            error::status(tonic::Code::AlreadyExists, "ALREADY_EXISTS", e.to_string())
        }
        CalendarError::TransferOnHoliday { date, name_ru } => error::status_with(
            tonic::Code::FailedPrecondition,
            "TRANSFER_ON_HOLIDAY",
            e.to_string(),
            std::collections::HashMap::from([
                ("field".to_string(), "date".to_string()),
                ("date".to_string(), ds(*date)),
                ("holiday".to_string(), name_ru.clone()),
            ]),
        ),
        _ => invalid_field("date", e.to_string()),
    }
}

fn quota_year(v: u32) -> Result<QuotaYear, Status> {
    if !(2000..=2100).contains(&v) {
        return Err(invalid_field(
            "quota_year",
            "quota year must be from 2000 to 2100",
        ));
    }
    Ok(QuotaYear::from_stored(i64::from(v)))
}

fn overdue(
    step: Step,
    region: &str,
    subject: String,
    due: NaiveDate,
    done: Option<DateTime<Utc>>,
) -> pb::OverdueItem {
    pb::OverdueItem {
        step: step.code().into(),
        region_code: region.into(),
        subject,
        due_date: ds(due),
        done_time: done.map(timestamp),
        description_ru: step.description_ru().into(),
    }
}

#[tonic::async_trait]
impl CalendarService for CalendarApi {
    async fn add_working_days(
        &self,
        request: Request<pb::AddWorkingDaysRequest>,
    ) -> Result<Response<pb::AddWorkingDaysResponse>, Status> {
        let r = request.into_inner();
        let date = parse_date("date", &r.date)?;
        if r.days.unsigned_abs() > 3660 {
            return Err(invalid_field(
                "days",
                "at most 3660 working days either way",
            ));
        }
        let calendar = self.0.calendar();
        Ok(Response::new(pb::AddWorkingDaysResponse {
            date: ds(calendar.add_working_days(date, i64::from(r.days))),
        }))
    }

    async fn list_non_working_days(
        &self,
        request: Request<pb::ListNonWorkingDaysRequest>,
    ) -> Result<Response<pb::ListNonWorkingDaysResponse>, Status> {
        let r = request.into_inner();
        if !YEARS.contains(&r.year) {
            return Err(invalid_field(
                "year",
                format!(
                    "the calendar covers the years {}–{}",
                    YEARS.start(),
                    YEARS.end()
                ),
            ));
        }
        let calendar = self.0.calendar();
        Ok(Response::new(pb::ListNonWorkingDaysResponse {
            days: days_to_pb(&calendar, r.year, r.include_weekends),
        }))
    }

    async fn get_deadlines(
        &self,
        request: Request<pb::GetDeadlinesRequest>,
    ) -> Result<Response<pb::GetDeadlinesResponse>, Status> {
        let r = request.into_inner();
        let year = quota_year(r.quota_year)?;
        // Civil Code art. 172: a last day on a day off moves to the next working day.
        let calendar = self.0.calendar();
        let mut deadlines: Vec<pb::Deadline> = timeline::fixed_deadlines(year, &calendar)
            .into_iter()
            .map(|d| pb::Deadline {
                step: d.step.code().into(),
                actor: d.step.actor().into(),
                rule: d.step.rule().into(),
                description_ru: d.step.description_ru().into(),
                due_time: Some(timestamp(d.late_from.with_timezone(&Utc))),
                due_date: ds(d.last_day),
                relative_to: String::new(),
                nominal_due_date: ds(d.nominal_last_day),
            })
            .collect();
        for (step, after, days) in [
            (
                Step::EmployerNotice,
                "the Commission's decision",
                NOTICE_WORKING_DAYS,
            ),
            (
                Step::DecisionPublication,
                "the ministry's distribution of the quota",
                PUBLICATION_WORKING_DAYS,
            ),
        ] {
            let at = deadlines
                .iter()
                .position(|d| {
                    d.step
                        == if step == Step::EmployerNotice {
                            "COMMISSION"
                        } else {
                            "MINISTRY_DECISION"
                        }
                })
                .map_or(deadlines.len(), |i| i + 1);
            deadlines.insert(
                at,
                pb::Deadline {
                    step: step.code().into(),
                    actor: step.actor().into(),
                    rule: step.rule().into(),
                    description_ru: step.description_ru().into(),
                    due_time: None,
                    due_date: String::new(),
                    relative_to: format!("{days} working days after {after}"),
                    nominal_due_date: String::new(),
                },
            );
        }
        Ok(Response::new(pb::GetDeadlinesResponse {
            quota_year: r.quota_year,
            deadlines,
        }))
    }

    async fn list_overdue(
        &self,
        request: Request<pb::ListOverdueRequest>,
    ) -> Result<Response<pb::ListOverdueResponse>, Status> {
        let caller = super::caller(&request);
        let r = request.into_inner();
        let year = quota_year(r.quota_year)?;
        let y = i64::from(year.get());
        let now = self.0.now();
        let today = now.with_timezone(&almaty()).date_naive();
        // A regional body or commission sees its own region's overdue steps only.
        let mine = |region: &&String| {
            !caller.role.is_regional() || caller.region.as_deref() == Some(region.as_str())
        };
        let store = &self.0.store;
        let mut items = Vec::new();
        // Civil Code art. 172: a last day on a day off moves to the next working day.
        let calendar = self.0.calendar();
        let due = |s: Step| timeline::deadline(year, s, &calendar).expect("fixed step");

        let assessment = due(Step::RegionalAssessment);
        let filing = due(Step::RegionalFiling);
        let commission = due(Step::Commission);
        for region in self.0.region_codes.iter().filter(mine) {
            let subject = format!("regions/{region}/quotaYears/{y}");
            if now >= assessment.late_from {
                match store.get_assessment(region, y).await? {
                    None => items.push(overdue(
                        Step::RegionalAssessment,
                        region,
                        subject.clone(),
                        assessment.last_day,
                        None,
                    )),
                    Some(a) if a.late => items.push(overdue(
                        Step::RegionalAssessment,
                        region,
                        subject.clone(),
                        assessment.last_day,
                        a.update_time,
                    )),
                    Some(_) => {}
                }
            }
            if now >= filing.late_from {
                match store.filing(region, y).await? {
                    None => items.push(overdue(
                        Step::RegionalFiling,
                        region,
                        subject.clone(),
                        filing.last_day,
                        None,
                    )),
                    Some(f) if f.late => items.push(overdue(
                        Step::RegionalFiling,
                        region,
                        subject.clone(),
                        filing.last_day,
                        Some(f.filed_time),
                    )),
                    Some(_) => {}
                }
            }
            for d in store.region_decisions(region, y).await? {
                let subject = format!("applications/{}", d.application_id);
                if d.late_to_commission {
                    items.push(overdue(
                        Step::Commission,
                        region,
                        subject.clone(),
                        commission.last_day,
                        Some(d.record_time),
                    ));
                }
                // p. 11: the notice per employer.
                match (d.notice_time, d.notice_late) {
                    (Some(t), true) => items.push(overdue(
                        Step::EmployerNotice,
                        region,
                        subject,
                        d.notice_due_date,
                        Some(t),
                    )),
                    (None, _) if today > d.notice_due_date => items.push(overdue(
                        Step::EmployerNotice,
                        region,
                        subject,
                        d.notice_due_date,
                        None,
                    )),
                    _ => {}
                }
            }
        }
        // p. 8: submitted applications the Commission has not decided on by 15 October.
        if now >= commission.late_from {
            let filter = ListFilter {
                quota_year: Some(y),
                state: Some(ApplicationState::Submitted),
                ..ListFilter::default()
            };
            for app in store.list_applications(&filter, 0, i64::MAX).await? {
                if store.get_decision(&app.id).await?.is_none() {
                    items.push(overdue(
                        Step::Commission,
                        &app.region_code,
                        format!("applications/{}", app.id),
                        commission.last_day,
                        None,
                    ));
                }
            }
        }
        for p in store.list_proposals(None, Some(y)).await? {
            if p.late {
                items.push(overdue(
                    Step::CentralProposals,
                    &p.region_code,
                    format!("proposals/{}", p.id),
                    due(Step::CentralProposals).last_day,
                    Some(p.submit_time),
                ));
            }
        }
        // p. 19: the quota set by 1 January and published within three working days.
        let quotas = store.established_quotas(Some(year.get())).await?;
        let ministry = due(Step::MinistryDecision);
        if now >= ministry.late_from && quotas.is_empty() {
            items.push(overdue(
                Step::MinistryDecision,
                "",
                format!("quotaYears/{y}"),
                ministry.last_day,
                None,
            ));
        }
        for q in &quotas {
            let Some(publish_due) = q.publish_due_date else {
                continue;
            };
            let subject = format!("quotas/{}", q.id);
            match q.versions.first() {
                Some(v) if v.late => items.push(overdue(
                    Step::DecisionPublication,
                    "",
                    subject,
                    publish_due,
                    Some(v.publish_time),
                )),
                None if today > publish_due => items.push(overdue(
                    Step::DecisionPublication,
                    "",
                    subject,
                    publish_due,
                    None,
                )),
                _ => {}
            }
        }
        if caller.role.is_regional() {
            items.retain(|i| caller.region.as_deref() == Some(i.region_code.as_str()));
        }
        Ok(Response::new(pb::ListOverdueResponse { items }))
    }

    async fn add_day_transfer(
        &self,
        request: Request<pb::AddDayTransferRequest>,
    ) -> Result<Response<pb::CalendarChange>, Status> {
        let actor = super::actor(&self.0, &request);
        let r = request.into_inner();
        let mut v = Violations::new();
        let date = parse_date("date", &r.date);
        let kind = match r.kind.trim() {
            "DAY_OFF" => Some(TransferKind::DayOff),
            "WORKING_DAY" => Some(TransferKind::WorkingDay),
            _ => {
                v.add("kind", "kind must be DAY_OFF or WORKING_DAY");
                None
            }
        };
        let note = v.text("note_ru", &r.note_ru, "the transfer's legal basis", 500);
        let date = match date {
            Ok(d) => Some(d),
            Err(_) => {
                v.add(
                    "date",
                    format!("{:?} is not a date of the form YYYY-MM-DD", r.date),
                );
                None
            }
        };
        let (Some(date), Some(kind), Some(note_ru)) = (date, kind, note) else {
            return Err(invalid(v));
        };
        if !v.is_empty() {
            return Err(invalid(v));
        }
        let transfer = Transfer {
            date,
            kind,
            note_ru,
        };
        // The store checks the transfer against the calendar in the write's own
        // transaction (weekday, holiday, another transfer on the date).
        self.0
            .store
            .add_day_transfer(&actor, &transfer)
            .await
            .map_err(transfer_refused)?;
        let calendar = self.0.reload_calendar().await?;
        Ok(Response::new(pb::CalendarChange {
            days: days_to_pb(&calendar, chrono::Datelike::year(&date), false),
        }))
    }

    async fn add_dated_day_off(
        &self,
        request: Request<pb::AddDatedDayOffRequest>,
    ) -> Result<Response<pb::CalendarChange>, Status> {
        let actor = super::actor(&self.0, &request);
        let r = request.into_inner();
        let date = parse_date("date", &r.date)?;
        let mut v = Violations::new();
        let name_ru = v.text("name_ru", &r.name_ru, "the day's name", 300);
        let name_ru = name_ru.ok_or_else(|| invalid(v))?;
        let day = DatedDayOff {
            date,
            name_ru,
            shifts_if_weekend: r.shifts_if_weekend,
        };
        let mut data = self.0.calendar().to_data();
        if data.dated_days_off.iter().any(|d| d.date == date) {
            return Err(error::status(
                tonic::Code::AlreadyExists,
                "ALREADY_EXISTS",
                format!("a day off on {date} is already recorded"),
            ));
        }
        data.dated_days_off.push(day.clone());
        Calendar::from_data(data).map_err(|e| invalid_field("date", e.to_string()))?;
        self.0.store.add_dated_day_off(&actor, &day).await?;
        let calendar = self.0.reload_calendar().await?;
        Ok(Response::new(pb::CalendarChange {
            days: days_to_pb(&calendar, chrono::Datelike::year(&date), false),
        }))
    }
}
