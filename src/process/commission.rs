//! The Commission (p. 8–11): its members, its decisions on the employers' applications,
//! the protocol of its meeting and the notice to each employer.

use chrono::NaiveDate;

use super::bodies::issuing_body;
use super::deadlines::almaty_day;
use super::issue::{self, Form};
use super::scope::{RegionYear, scope_region};
use super::{Context, Error, Reason, Result};
use crate::domain::commission::{CommissionDecision, DecisionInput, MemberKind};
use crate::domain::limits::{
    MAX_COMMISSION_MEMBERS, MAX_PERSON_TEXT, MAX_ROLE_TEXT, MAX_SHORT_TEXT,
};
use crate::domain::names::{ApplicationName, DocumentName};
use crate::domain::signatories::kind;
use crate::domain::timeline::{self, NOTICE_WORKING_DAYS, Step};
use crate::domain::{QuotaYear, RegionCode, Violations, commission};
use crate::identity::Caller;
use crate::render::appendix1::VisibleSignature;
use crate::render::fields::{EmployerKind, category_ru};
use crate::render::{notice, protocol};
use crate::store::audit::Actor;
use crate::store::bodies::BodyRow;
use crate::store::regional::{DecisionRow, MemberRow};
use crate::store::{ApplicationRow, ApplicationState, RegionRow};

/// A member of the Commission as a caller names them.
#[derive(Debug, Clone, Default)]
pub struct MemberInput {
    pub full_name: String,
    pub position: String,
    pub organisation: String,
    pub role: String,
    /// None when the caller named no body.
    pub kind: Option<MemberKind>,
}

/// The Commission of a region for a year (`SetCommissionMembers`).
#[derive(Debug, Clone, Default)]
pub struct MembersInput {
    /// The etag the caller read; empty: no check.
    pub etag: String,
    pub region_code: String,
    pub quota_year: u32,
    pub members: Vec<MemberInput>,
}

/// The Commission as stored.
#[derive(Debug, Clone)]
pub struct Members {
    pub region: RegionYear,
    pub members: Vec<MemberRow>,
    pub etag: String,
}

/// p. 9: sets the members of a region's Commission for a year; it must include the
/// representatives of the required bodies.
pub async fn set_members(
    ctx: &Context,
    caller: &Caller,
    actor: &Actor,
    input: MembersInput,
) -> Result<Members> {
    scope_region(caller, "region_code", input.region_code.trim())?;
    let mut v = Violations::new();
    let ry = ctx.region_year(&input.region_code, input.quota_year, &mut v);
    if input.members.is_empty() || input.members.len() > MAX_COMMISSION_MEMBERS {
        v.add(
            "members",
            format!("from 1 to {MAX_COMMISSION_MEMBERS} members are required"),
        );
        return Err(Error::Invalid(v));
    }
    let members: Vec<MemberRow> = input
        .members
        .iter()
        .enumerate()
        .filter_map(|(i, m)| check_member(&mut v, i, m))
        .collect();
    // p. 9: the Commission includes these bodies' representatives.
    let present: Vec<MemberKind> = members
        .iter()
        .filter_map(|m| MemberKind::from_code(&m.kind))
        .collect();
    let missing = commission::missing_bodies(&present);
    if !missing.is_empty() && v.is_empty() {
        v.add(
            "members",
            format!(
                "p. 9 of the Rules requires representatives of: {}",
                missing.join(", ")
            ),
        );
    }
    let ry = ry.filter(|_| v.is_empty()).ok_or(Error::Invalid(v))?;
    let etag = ctx
        .store
        .set_commission_members(
            actor,
            &ry.region,
            ry.stored_year(),
            &members,
            input.etag.trim(),
        )
        .await?;
    Ok(Members {
        region: ry,
        members,
        etag,
    })
}

/// Member `i`, checked; None (and the violations in `v`) if a field is bad.
fn check_member(v: &mut Violations, i: usize, m: &MemberInput) -> Option<MemberRow> {
    let f = |n: &str| format!("members[{i}].{n}");
    let full_name = v.text(&f("full_name"), &m.full_name, "full name", MAX_PERSON_TEXT);
    let job_title = v.text(&f("position"), &m.position, "position", MAX_PERSON_TEXT);
    let organisation = v.text(
        &f("organisation"),
        &m.organisation,
        "organisation",
        MAX_SHORT_TEXT,
    );
    let role = v.text(&f("role"), &m.role, "role", MAX_ROLE_TEXT);
    if m.kind.is_none() {
        v.add(
            f("kind"),
            "the body the member represents (p. 9) is required",
        );
    }
    Some(MemberRow {
        full_name: full_name?,
        job_title: job_title?,
        organisation: organisation?,
        kind: m.kind?.code().into(),
        role: role?,
    })
}

/// p. 8–11: records the Commission's decision on a submitted application, with whether
/// it was put to the Commission late and the day its employer must be told by.
pub async fn record_decision(
    ctx: &Context,
    caller: &Caller,
    actor: &Actor,
    application: &ApplicationName,
    input: &DecisionInput,
) -> Result<DecisionRow> {
    let app = submitted_application(ctx, application).await?;
    scope_region(caller, "application", &app.region_code)?;
    let requested: Vec<u32> = app.lines.iter().map(|l| l.requested_count).collect();
    let decision = CommissionDecision::parse(input, &requested).map_err(Error::Invalid)?;
    let now = ctx.now();
    check_decision_dates(&decision, &app, almaty_day(now))?;
    let members = ctx
        .store
        .commission_members(&app.region_code, app.quota_year)
        .await?;
    if members.is_empty() {
        return Err(Error::refused(
            Reason::NoCommission,
            format!(
                "region {} has no Commission for {}: set its members first (p. 9)",
                app.region_code, app.quota_year
            ),
        ));
    }
    let year = QuotaYear::from_stored(app.quota_year);
    let calendar = ctx.calendar();
    // p. 8: the regional body puts applications to the Commission "не позднее 15
    // октября" (moved to the next working day when it is a day off: Civil Code
    // art. 172); judged by the day it did so, or by the decision date when that is not
    // given. A later one is flagged.
    let late_to_commission = timeline::deadline(year, Step::Commission, &calendar)
        .is_some_and(|d| decision.put_to_commission_or_decided_on() > d.last_day);
    // p. 11: the employer is informed within five working days of the decision.
    let notice_due = calendar.add_working_days(decision.decided_on, NOTICE_WORKING_DAYS);
    Ok(ctx
        .store
        .record_decision(
            actor,
            &app.id,
            &decision,
            late_to_commission,
            notice_due,
            now,
        )
        .await?)
}

/// The application, refused unless it is submitted: only a submitted application goes
/// to the Commission.
async fn submitted_application(ctx: &Context, name: &ApplicationName) -> Result<ApplicationRow> {
    let app = ctx.store.get_application(name.id()).await?;
    if app.state != ApplicationState::Submitted {
        return Err(Error::refused(
            Reason::WrongState,
            format!(
                "{name} is {}: only a submitted application goes to the Commission",
                app.state.as_str()
            ),
        ));
    }
    Ok(app)
}

/// A decision is taken on a past or present day, after the application was submitted,
/// and the application was put to the Commission after it was submitted.
fn check_decision_dates(
    decision: &CommissionDecision,
    app: &ApplicationRow,
    today: NaiveDate,
) -> Result<()> {
    if decision.decided_on > today {
        return Err(Error::invalid_field(
            "decided_on",
            "the decision date is in the future",
        ));
    }
    let Some(submitted) = app.submit_time.map(almaty_day) else {
        return Ok(());
    };
    if decision.decided_on < submitted {
        return Err(Error::invalid_field(
            "decided_on",
            "the decision date is before the application was submitted",
        ));
    }
    if decision
        .put_to_commission_on
        .is_some_and(|put| put < submitted)
    {
        return Err(Error::invalid_field(
            "put_to_commission_on",
            "the application was put to the Commission before it was submitted",
        ));
    }
    Ok(())
}

/// Which protocol to render (`RenderCommissionProtocol`).
#[derive(Debug, Clone, Default)]
pub struct ProtocolInput {
    pub region_code: String,
    pub quota_year: u32,
    /// Empty: every decision of the year, under the first decision's protocol number.
    pub protocol_number: String,
}

/// Renders, seals and stores the protocol of the Commission's decisions of a region and
/// year under one protocol number (p. 8–10).
pub async fn render_protocol(
    ctx: &Context,
    caller: &Caller,
    actor: &Actor,
    input: &ProtocolInput,
) -> Result<DocumentName> {
    scope_region(caller, "region_code", input.region_code.trim())?;
    let (region, year) = check_protocol_input(ctx, &input.region_code, input.quota_year)?;
    let region = region.as_str();
    let protocol = input.protocol_number.trim();
    let decided = decided_under(ctx, region, year, protocol).await?;
    let body = issuing_body(ctx, region).await?;
    let members = ctx.store.commission_members(region, year).await?;
    let region_row = ctx.store.get_region(region).await?;
    // p. 8's last day, for the footnote of decisions put to the Commission late.
    let commission_last_day = timeline::deadline(
        QuotaYear::from_stored(year),
        Step::Commission,
        &ctx.calendar(),
    )
    .map(|d| date_ru(d.last_day))
    .unwrap_or_default();
    let number = if protocol.is_empty() {
        decided[0].0.decision.protocol_number.clone()
    } else {
        protocol.to_owned()
    };
    let meeting = Meeting {
        year,
        number,
        body: &body,
        region: &region_row,
        members: &members,
        decided: &decided,
        commission_last_day,
    };
    let form = Form {
        template: protocol::TEMPLATE,
        kind: kind::COMMISSION_PROTOCOL,
        title: format!(
            "Протокол № {} заседания Комиссии по формированию квоты {} на {year} год",
            meeting.number, region_row.name_genitive_ru
        ),
        subject: format!("regions/{region}/quotaYears/{year}"),
    };
    let doc = issue::seal(ctx, form, ctx.now(), |s| meeting.protocol(s)).await?;
    ctx.store.store_document(actor, &doc).await?;
    Ok(DocumentName::new(doc.id))
}

/// The region and the year of a protocol: any recorded year will do, as the decisions
/// were checked when they were recorded.
fn check_protocol_input(ctx: &Context, region: &str, quota_year: u32) -> Result<(RegionCode, i64)> {
    let mut v = Violations::new();
    let region = ctx.regions.check(&mut v, "region_code", region);
    if quota_year == 0 {
        v.add("quota_year", "quota year is required");
    }
    match region {
        Some(region) if v.is_empty() => Ok((region, i64::from(quota_year))),
        _ => Err(Error::Invalid(v)),
    }
}

/// The decisions of a region and year under `protocol` (empty: every one), each with its
/// application; refused when there are none.
async fn decided_under(
    ctx: &Context,
    region: &str,
    year: i64,
    protocol: &str,
) -> Result<Vec<(DecisionRow, ApplicationRow)>> {
    let decisions: Vec<DecisionRow> = ctx
        .store
        .region_decisions(region, year)
        .await?
        .into_iter()
        .filter(|d| protocol.is_empty() || d.decision.protocol_number == protocol)
        .collect();
    if decisions.is_empty() {
        return Err(Error::refused(
            Reason::NoDecisions,
            format!(
                "the Commission of region {region} has recorded no decisions for {year} under this protocol"
            ),
        ));
    }
    let mut decided = Vec::with_capacity(decisions.len());
    for d in decisions {
        let app = ctx.store.get_application(&d.application_id).await?;
        decided.push((d, app));
    }
    Ok(decided)
}

/// What a protocol records: one meeting's decisions, with the applications decided on.
struct Meeting<'a> {
    year: i64,
    number: String,
    body: &'a BodyRow,
    region: &'a RegionRow,
    members: &'a [MemberRow],
    decided: &'a [(DecisionRow, ApplicationRow)],
    commission_last_day: String,
}

impl Meeting<'_> {
    fn protocol(&self, signature: VisibleSignature) -> protocol::Protocol {
        // The meeting's day: its last decision's.
        let date = self
            .decided
            .iter()
            .map(|(d, _)| d.decision.decided_on)
            .max()
            .expect("a meeting has decisions");
        let holder = |role: &str| {
            commission::holder_of(
                self.members
                    .iter()
                    .map(|m| (m.role.as_str(), m.full_name.as_str())),
                role,
            )
            .unwrap_or_default()
            .to_owned()
        };
        protocol::Protocol {
            quota_year: self.year,
            issuer: self.body.legal_name_ru.clone(),
            protocol_number: self.number.clone(),
            commission_title: format!(
                "заседания Комиссии по формированию квоты на привлечение иностранной рабочей силы {}",
                self.region.name_genitive_ru
            ),
            place: format!("г. {}", self.region.admin_center_ru),
            date: date_ru(date),
            members: self.members.iter().map(protocol_member).collect(),
            decisions: self
                .decided
                .iter()
                .enumerate()
                .map(|(i, (d, app))| self.decision(i + 1, d, app))
                .collect(),
            chair: holder("председатель"),
            secretary: holder("секретарь"),
            signature,
        }
    }

    fn decision(&self, number: usize, d: &DecisionRow, app: &ApplicationRow) -> protocol::Decision {
        protocol::Decision {
            number,
            employer: protocol::Employer {
                name: app.employer_name.clone(),
                bin: app.employer_bin.clone(),
                kind: None,
            },
            outcome_ru: d.decision.outcome.text_ru().into(),
            decided_on: date_ru(d.decision.decided_on),
            late_submission: d.late_to_commission,
            put_to_commission_on: d
                .decision
                .put_to_commission_on
                .map(date_ru)
                .unwrap_or_default(),
            commission_last_day: self.commission_last_day.clone(),
            lines: app
                .lines
                .iter()
                .zip(&d.decision.approved_counts)
                .map(|(l, &approved)| protocol::Line {
                    occupation_code: l.occupation_code.clone(),
                    occupation_name: l.occupation_name.clone(),
                    category_ru: category_ru(l.category).into(),
                    requested: l.requested_count,
                    approved,
                })
                .collect(),
            grounds: grounds_ru(&d.decision),
        }
    }
}

fn protocol_member(m: &MemberRow) -> protocol::Member {
    protocol::Member {
        full_name: m.full_name.clone(),
        position: m.job_title.clone(),
        organisation: m.organisation.clone(),
        role: m.role.clone(),
        by_agreement: MemberKind::from_code(&m.kind).is_some_and(MemberKind::by_agreement),
    }
}

fn grounds_ru(d: &CommissionDecision) -> Vec<String> {
    d.grounds.iter().map(|g| g.text_ru().to_owned()).collect()
}

/// A notice issued to an employer.
#[derive(Debug, Clone)]
pub struct NoticeIssued {
    pub document: DocumentName,
    /// p. 11: issued after its due day.
    pub late: bool,
    pub due_date: NaiveDate,
}

/// p. 11: issues the notice of the Commission's decision to the employer; a late notice
/// is still issued, and flagged.
pub async fn notify_employer(
    ctx: &Context,
    caller: &Caller,
    actor: &Actor,
    application: &ApplicationName,
) -> Result<NoticeIssued> {
    let app = ctx.store.get_application(application.id()).await?;
    scope_region(caller, "application", &app.region_code)?;
    let d = ctx.store.get_decision(&app.id).await?.ok_or_else(|| {
        Error::refused(
            Reason::NotDecided,
            format!("the Commission has not decided on {application} yet"),
        )
    })?;
    if let Some(doc) = &d.notice_document_id {
        return Err(crate::store::StoreError::AlreadyExists(format!(
            "the employer was already notified: {}",
            DocumentName::new(doc.clone())
        ))
        .into());
    }
    let body = issuing_body(ctx, &app.region_code).await?;
    let now = ctx.now();
    // p. 11: within five working days of the decision.
    let late = almaty_day(now) > d.notice_due_date;
    let form = Form {
        template: notice::TEMPLATE,
        kind: kind::EMPLOYER_NOTICE,
        title: format!(
            "Уведомление о результатах рассмотрения заявки на привлечение иностранной рабочей силы на {} год",
            app.quota_year
        ),
        subject: ApplicationName::new(app.id.clone()).to_string(),
    };
    let doc = issue::seal(ctx, form, now, |s| {
        notice_model(&app, &d, &body, almaty_day(now), s)
    })
    .await?;
    let row = ctx
        .store
        .record_notice(actor, &app.id, &doc, late, now)
        .await?;
    Ok(NoticeIssued {
        document: DocumentName::new(doc.id),
        late: row.notice_late,
        due_date: row.notice_due_date,
    })
}

fn notice_model(
    app: &ApplicationRow,
    d: &DecisionRow,
    body: &BodyRow,
    today: NaiveDate,
    signature: VisibleSignature,
) -> notice::Notice {
    // The outgoing number: the protocol's, then the application's id's first characters.
    let short_id = app.id.get(..8).unwrap_or(&app.id);
    notice::Notice {
        quota_year: app.quota_year,
        sender: body.legal_name_ru.clone(),
        sender_address: body.address_ru.clone(),
        date: date_ru(today),
        outgoing_number: format!("{}-{short_id}", d.decision.protocol_number),
        employer: notice::Employer {
            name: app.employer_name.clone(),
            legal_address: app.employer_address.clone(),
            bin: app.employer_bin.clone(),
            kind: EmployerKind::of(&app.employer_bin),
        },
        application_date: app
            .submit_time
            .map(|t| date_ru(almaty_day(t)))
            .unwrap_or_default(),
        protocol_number: d.decision.protocol_number.clone(),
        decided_on: date_ru(d.decision.decided_on),
        outcome_ru: d.decision.outcome.text_ru().into(),
        lines: app
            .lines
            .iter()
            .zip(&d.decision.approved_counts)
            .enumerate()
            .map(|(i, (l, &approved))| notice::Line {
                number: i + 1,
                occupation_code: l.occupation_code.clone(),
                occupation_name: l.occupation_name.clone(),
                category_ru: category_ru(l.category).into(),
                requested: l.requested_count,
                approved,
            })
            .collect(),
        grounds: grounds_ru(&d.decision),
        head_position: body.head_position_ru.clone(),
        head_full_name: body.head_full_name.clone(),
        signature,
    }
}

/// A date as the forms print it: DD.MM.YYYY.
pub(crate) fn date_ru(d: NaiveDate) -> String {
    d.format("%d.%m.%Y").to_string()
}
