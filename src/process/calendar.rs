//! Kazakhstan's working days (the calendar the ministry keeps: holidays, dated days off,
//! day transfers) and the quota timeline read against it: the deadlines of a year and
//! the steps that are overdue.

use std::ops::RangeInclusive;

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use super::paging::{self, Page, PageRequest};
use super::{Context, Error, Reason, Result};
use crate::domain::calendar::{
    Calendar, CalendarError, DatedDayOff, NonWorkingDay, Transfer, TransferKind,
};
use crate::domain::limits::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use crate::domain::timeline::{
    self, FixedDeadline, NOTICE_WORKING_DAYS, PUBLICATION_WORKING_DAYS, Step,
};
use crate::domain::{QuotaYear, Violations, almaty};
use crate::identity::Caller;
use crate::store::audit::Actor;
use crate::store::calendar::TransferRefused;
use crate::store::{ApplicationState, ListFilter, StoreError};

/// Years the calendar answers for: wide enough for any quota timeline, narrow enough to
/// keep a request cheap.
pub const YEARS: RangeInclusive<i32> = 2000..=2100;

/// The most working days a date may be moved by either way (ten years of them).
pub const MAX_WORKING_DAYS_SHIFT: u32 = 3660;

/// A new day transfer (Labour Code art. 85 p. 3), as asked.
#[derive(Debug, Clone, Default)]
pub struct TransferInput {
    /// YYYY-MM-DD.
    pub date: String,
    /// DAY_OFF or WORKING_DAY.
    pub kind: String,
    /// The transfer's legal basis.
    pub note_ru: String,
}

/// A new dated day off (a holiday by a one-off act), as asked.
#[derive(Debug, Clone, Default)]
pub struct DatedDayOffInput {
    /// YYYY-MM-DD.
    pub date: String,
    pub name_ru: String,
    pub shifts_if_weekend: bool,
}

/// One deadline of a quota year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deadline {
    /// A date of the Rules, moved to the next working day when it is a day off.
    Fixed(FixedDeadline),
    /// Due a number of working days after another step.
    Relative {
        step: Step,
        working_days: i64,
        /// The step it counts from, in words.
        after: &'static str,
    },
}

impl Deadline {
    pub fn step(&self) -> Step {
        match self {
            Self::Fixed(d) => d.step,
            Self::Relative { step, .. } => *step,
        }
    }
}

/// A step that is late, or was done late.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overdue {
    pub step: Step,
    /// The region's KATO code; "" for the ministry's steps.
    pub region_code: String,
    /// The resource the step is about (`regions/…/quotaYears/…`, `applications/…`, …).
    pub subject: String,
    pub due_date: NaiveDate,
    /// When it was done (late), or `None` while it is not done.
    pub done_time: Option<DateTime<Utc>>,
}

fn out_of_years(field: &str) -> Error {
    Error::invalid_field(
        field,
        format!(
            "the calendar covers the years {}–{}",
            YEARS.start(),
            YEARS.end()
        ),
    )
}

fn parse_date(field: &str, s: &str) -> Result<NaiveDate> {
    let d = NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| {
        Error::invalid_field(field, format!("{s:?} is not a date of the form YYYY-MM-DD"))
    })?;
    if !YEARS.contains(&d.year()) {
        return Err(out_of_years(field));
    }
    Ok(d)
}

fn quota_year(v: u32) -> Result<QuotaYear> {
    if !(2000..=2100).contains(&v) {
        return Err(Error::invalid_field(
            "quota_year",
            "quota year must be from 2000 to 2100",
        ));
    }
    Ok(QuotaYear::from_stored(i64::from(v)))
}

/// The working day `days` working days after (or, negative, before) `date`.
pub fn add_working_days(ctx: &Context, date: &str, days: i32) -> Result<NaiveDate> {
    let date = parse_date("date", date)?;
    if days.unsigned_abs() > MAX_WORKING_DAYS_SHIFT {
        return Err(Error::invalid_field(
            "days",
            format!("at most {MAX_WORKING_DAYS_SHIFT} working days either way"),
        ));
    }
    Ok(ctx.calendar().add_working_days(date, i64::from(days)))
}

/// The days off of `year`, with or without the ordinary weekends.
pub fn non_working_days(
    ctx: &Context,
    year: i32,
    include_weekends: bool,
) -> Result<Vec<NonWorkingDay>> {
    if !YEARS.contains(&year) {
        return Err(out_of_years("year"));
    }
    Ok(ctx.calendar().non_working_days(year, include_weekends))
}

/// The deadlines of a quota year in the order of the timeline: the fixed ones on their
/// working days (Civil Code art. 172), the notice after the Commission and the
/// publication after the ministry's decision.
pub fn deadlines(ctx: &Context, year: u32) -> Result<Vec<Deadline>> {
    let year = quota_year(year)?;
    let mut deadlines: Vec<Deadline> = timeline::fixed_deadlines(year, &ctx.calendar())
        .into_iter()
        .map(Deadline::Fixed)
        .collect();
    for (step, follows, after, working_days) in [
        (
            Step::EmployerNotice,
            Step::Commission,
            "the Commission's decision",
            NOTICE_WORKING_DAYS,
        ),
        (
            Step::DecisionPublication,
            Step::MinistryDecision,
            "the ministry's distribution of the quota",
            PUBLICATION_WORKING_DAYS,
        ),
    ] {
        let at = deadlines
            .iter()
            .position(|d| d.step() == follows)
            .map_or(deadlines.len(), |i| i + 1);
        deadlines.insert(
            at,
            Deadline::Relative {
                step,
                working_days,
                after,
            },
        );
    }
    Ok(deadlines)
}

/// What the overdue checks of one year work with.
struct Year {
    number: i64,
    now: DateTime<Utc>,
    /// Today in Almaty.
    today: NaiveDate,
    assessment: FixedDeadline,
    filing: FixedDeadline,
    commission: FixedDeadline,
    proposals: FixedDeadline,
    ministry: FixedDeadline,
}

impl Year {
    fn new(ctx: &Context, year: QuotaYear) -> Self {
        let calendar = ctx.calendar();
        // Civil Code art. 172: a last day on a day off moves to the next working day.
        let due = |s: Step| timeline::deadline(year, s, &calendar).expect("fixed step");
        let now = ctx.now();
        Self {
            number: i64::from(year.get()),
            now,
            today: now.with_timezone(&almaty()).date_naive(),
            assessment: due(Step::RegionalAssessment),
            filing: due(Step::RegionalFiling),
            commission: due(Step::Commission),
            proposals: due(Step::CentralProposals),
            ministry: due(Step::MinistryDecision),
        }
    }
}

fn item(
    step: Step,
    region: &str,
    subject: String,
    due_date: NaiveDate,
    done_time: Option<DateTime<Utc>>,
) -> Overdue {
    Overdue {
        step,
        region_code: region.to_owned(),
        subject,
        due_date,
        done_time,
    }
}

/// A region's late steps: its assessment (p. 7, 15), its filing (p. 12), each
/// application's passage to the Commission (p. 8) and each employer's notice (p. 11).
async fn region_overdue(
    ctx: &Context,
    y: &Year,
    region: &str,
    items: &mut Vec<Overdue>,
) -> Result<()> {
    let store = &ctx.store;
    let subject = format!("regions/{region}/quotaYears/{}", y.number);
    if y.now >= y.assessment.late_from {
        let done = match store.get_assessment(region, y.number).await? {
            None => Some(None),
            Some(a) if a.late => Some(a.update_time),
            Some(_) => None,
        };
        if let Some(done) = done {
            let due = y.assessment.last_day;
            items.push(item(
                Step::RegionalAssessment,
                region,
                subject.clone(),
                due,
                done,
            ));
        }
    }
    if y.now >= y.filing.late_from {
        let done = match store.filing(region, y.number).await? {
            None => Some(None),
            Some(f) if f.late => Some(Some(f.filed_time)),
            Some(_) => None,
        };
        if let Some(done) = done {
            let due = y.filing.last_day;
            items.push(item(
                Step::RegionalFiling,
                region,
                subject.clone(),
                due,
                done,
            ));
        }
    }
    for d in store.region_decisions(region, y.number).await? {
        let subject = format!("applications/{}", d.application_id);
        if d.late_to_commission {
            let due = y.commission.last_day;
            let done = Some(d.record_time);
            items.push(item(Step::Commission, region, subject.clone(), due, done));
        }
        // p. 11: the notice per employer.
        let done = match (d.notice_time, d.notice_late) {
            (Some(t), true) => Some(Some(t)),
            (None, _) if y.today > d.notice_due_date => Some(None),
            _ => None,
        };
        if let Some(done) = done {
            items.push(item(
                Step::EmployerNotice,
                region,
                subject,
                d.notice_due_date,
                done,
            ));
        }
    }
    Ok(())
}

/// p. 8: submitted applications the Commission has not decided on by 15 October.
async fn undecided_overdue(ctx: &Context, y: &Year, items: &mut Vec<Overdue>) -> Result<()> {
    if y.now < y.commission.late_from {
        return Ok(());
    }
    let filter = ListFilter {
        quota_year: Some(y.number),
        state: Some(ApplicationState::Submitted),
        ..ListFilter::default()
    };
    for app in ctx.store.list_applications(&filter, 0, i64::MAX).await? {
        if ctx.store.get_decision(&app.id).await?.is_none() {
            items.push(item(
                Step::Commission,
                &app.region_code,
                format!("applications/{}", app.id),
                y.commission.last_day,
                None,
            ));
        }
    }
    Ok(())
}

/// p. 13: central bodies' proposals made late.
async fn proposals_overdue(ctx: &Context, y: &Year, items: &mut Vec<Overdue>) -> Result<()> {
    for p in ctx.store.list_proposals(None, Some(y.number)).await? {
        if p.late {
            items.push(item(
                Step::CentralProposals,
                &p.region_code,
                format!("proposals/{}", p.id),
                y.proposals.last_day,
                Some(p.submit_time),
            ));
        }
    }
    Ok(())
}

/// p. 19: the quota set by 1 January and published within three working days.
async fn ministry_overdue(
    ctx: &Context,
    y: &Year,
    year: QuotaYear,
    items: &mut Vec<Overdue>,
) -> Result<()> {
    let quotas = ctx.store.established_quotas(Some(year.get())).await?;
    if y.now >= y.ministry.late_from && quotas.is_empty() {
        let subject = format!("quotaYears/{}", y.number);
        let due = y.ministry.last_day;
        items.push(item(Step::MinistryDecision, "", subject, due, None));
    }
    for q in &quotas {
        let Some(publish_due) = q.publish_due_date else {
            continue;
        };
        let done = match q.versions.first() {
            Some(v) if v.late => Some(Some(v.publish_time)),
            None if y.today > publish_due => Some(None),
            _ => None,
        };
        if let Some(done) = done {
            let subject = format!("quotas/{}", q.id);
            items.push(item(
                Step::DecisionPublication,
                "",
                subject,
                publish_due,
                done,
            ));
        }
    }
    Ok(())
}

/// The steps of a quota year that are late or were done late, as of now, a page at a
/// time. A regional body or commission sees its own region's only.
pub async fn overdue(
    ctx: &Context,
    caller: &Caller,
    year: u32,
    page: &PageRequest,
) -> Result<Page<Overdue>> {
    let year = quota_year(year)?;
    let y = Year::new(ctx, year);
    let mine =
        |region: &str| !caller.role.is_regional() || caller.region.as_deref() == Some(region);
    let mut items = Vec::new();
    for region in ctx.regions.iter().filter(|r| mine(r)) {
        region_overdue(ctx, &y, region, &mut items).await?;
    }
    undecided_overdue(ctx, &y, &mut items).await?;
    proposals_overdue(ctx, &y, &mut items).await?;
    ministry_overdue(ctx, &y, year, &mut items).await?;
    items.retain(|i| mine(&i.region_code));
    // Bound to the caller's scope too, so a token cannot widen what a caller sees.
    let regional = caller.role.is_regional().then_some(&caller.region);
    let filter = format!("overdue {year:?} {regional:?}");
    paging::slice(items, page, &filter, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
}

/// The refusal of a day transfer. A transfer moves a weekly day off (Labour Code art. 85
/// p. 3): a DAY_OFF on a Saturday or Sunday or a WORKING_DAY on a weekday is a wrong
/// argument whatever is stored; a date that a recorded transfer or a holiday (a rule or
/// a dated day off in the database) already takes clashes with stored data.
fn transfer_refused(e: TransferRefused) -> Error {
    let e = match e {
        TransferRefused::Store(e) => return e.into(),
        TransferRefused::Calendar(e) => e,
    };
    match &e {
        CalendarError::DuplicateTransfer { .. } => StoreError::AlreadyExists(e.to_string()).into(),
        CalendarError::TransferOnHoliday { date, name_ru } => {
            Error::refused(Reason::TransferOnHoliday, e.to_string())
                .with("field", "date")
                .with("date", date.format("%Y-%m-%d").to_string())
                .with("holiday", name_ru.clone())
        }
        _ => Error::invalid_field("date", e.to_string()),
    }
}

/// The transfer's fields, every bad one named.
fn parse_transfer(input: &TransferInput) -> Result<Transfer> {
    let mut v = Violations::new();
    let date = parse_date("date", &input.date);
    let kind = match input.kind.trim() {
        "DAY_OFF" => Some(TransferKind::DayOff),
        "WORKING_DAY" => Some(TransferKind::WorkingDay),
        _ => {
            v.add("kind", "kind must be DAY_OFF or WORKING_DAY");
            None
        }
    };
    let note = v.text("note_ru", &input.note_ru, "the transfer's legal basis", 500);
    let date = match date {
        Ok(d) => Some(d),
        Err(_) => {
            v.add(
                "date",
                format!("{:?} is not a date of the form YYYY-MM-DD", input.date),
            );
            None
        }
    };
    match (date, kind, note) {
        (Some(date), Some(kind), Some(note_ru)) if v.is_empty() => Ok(Transfer {
            date,
            kind,
            note_ru,
        }),
        _ => Err(Error::Invalid(v)),
    }
}

/// Records a day transfer and returns the non-working days of its year as they now
/// stand. The store checks it against the calendar in the write's own transaction
/// (weekday, holiday, another transfer on the date).
pub async fn add_day_transfer(
    ctx: &Context,
    actor: &Actor,
    input: &TransferInput,
) -> Result<Vec<NonWorkingDay>> {
    let transfer = parse_transfer(input)?;
    ctx.store
        .add_day_transfer(actor, &transfer)
        .await
        .map_err(transfer_refused)?;
    let calendar = ctx.reload_calendar().await?;
    Ok(calendar.non_working_days(transfer.date.year(), false))
}

/// Records a dated day off and returns the non-working days of its year as they now
/// stand. The calendar with the day added must still hold together.
pub async fn add_dated_day_off(
    ctx: &Context,
    actor: &Actor,
    input: &DatedDayOffInput,
) -> Result<Vec<NonWorkingDay>> {
    let date = parse_date("date", &input.date)?;
    let mut v = Violations::new();
    let name_ru = v
        .text("name_ru", &input.name_ru, "the day's name", 300)
        .ok_or_else(|| Error::Invalid(v))?;
    let day = DatedDayOff {
        date,
        name_ru,
        shifts_if_weekend: input.shifts_if_weekend,
    };
    let mut data = ctx.calendar().to_data();
    if data.dated_days_off.iter().any(|d| d.date == date) {
        return Err(
            StoreError::AlreadyExists(format!("a day off on {date} is already recorded")).into(),
        );
    }
    data.dated_days_off.push(day.clone());
    Calendar::from_data(data).map_err(|e| Error::invalid_field("date", e.to_string()))?;
    ctx.store.add_dated_day_off(actor, &day).await?;
    let calendar = ctx.reload_calendar().await?;
    Ok(calendar.non_working_days(date.year(), false))
}
