//! The region's part before the ministry (p. 7, 12, 14–17): the assessment of the labour
//! market, the need for labour immigrants, the quota by country of origin, and the
//! filing of Appendices 2–4, after which the region's year is frozen.

use chrono::{DateTime, Utc};

use super::bodies::issuing_body;
use super::commission::date_ru;
use super::issue::{self, Form};
use super::scope::{RegionYear, scope_region};
use super::{Context, Error, Reason, Result};
use crate::domain::Violations;
use crate::domain::commission::Outcome;
use crate::domain::filing::{
    self, Appendix2Totals, CategoryTotals, OccupationLine, OccupationLineInput,
};
use crate::domain::limits::{MAX_FIGURE, MAX_LONG_TEXT, MAX_ORIGIN_COUNTRIES};
use crate::domain::names::ApplicationName;
use crate::domain::signatories::kind;
use crate::domain::timeline::Step;
use crate::identity::Caller;
use crate::render::appendix1::VisibleSignature;
use crate::render::fields::{CategoryCounts, EmployerKind};
use crate::render::{appendix2, appendix3, appendix4};
use crate::store::audit::Actor;
use crate::store::bodies::{BodyRow, MINISTRY};
use crate::store::regional::{
    AssessmentRow, CountryRow, DecisionRow, FilingRow, ImmigrantNeedRow, ProposalLineRow,
};
use crate::store::{ApplicationRow, NewDocument, StoreError};

/// The region's assessment as a caller sent it (p. 7, 15).
#[derive(Debug, Clone, Default)]
pub struct AssessmentInput {
    /// The etag the caller read; empty: no check.
    pub etag: String,
    pub region_code: String,
    pub quota_year: u32,
    pub labour_demand: u32,
    pub planned_jobs_national_projects: u32,
    pub demand_text: String,
    pub forecast_unemployed: u32,
    pub forecast_released: u32,
    pub forecast_graduates: u32,
    pub forecast_text: String,
    pub local_coverage: u32,
    pub local_coverage_text: String,
    pub efficiency_text: String,
    pub immigrant_demand_text: String,
    pub immigrant_forecast_text: String,
    pub immigrant_efficiency_text: String,
    pub justification: String,
}

/// p. 7, 15: sets the region's assessment for the year; due before 10 October, a later
/// one is kept but flagged.
pub async fn set_assessment(
    ctx: &Context,
    caller: &Caller,
    actor: &Actor,
    a: &AssessmentInput,
) -> Result<AssessmentRow> {
    scope_region(caller, "assessment.region_code", a.region_code.trim())?;
    let mut v = Violations::new();
    let ry = ctx.region_year(&a.region_code, a.quota_year, &mut v);
    let mut row = check_assessment(&mut v, a);
    let ry = ry.filter(|_| v.is_empty()).ok_or(Error::Invalid(v))?;
    let now = ctx.now();
    row.region_code = ry.region.to_string();
    row.quota_year = ry.stored_year();
    row.late = ctx.late(now, ry.year, Step::RegionalAssessment);
    Ok(ctx
        .store
        .set_assessment(actor, &row, a.etag.trim(), now)
        .await?)
}

/// The texts and figures of an assessment, each named `assessment.{field}`.
fn check_assessment(v: &mut Violations, a: &AssessmentInput) -> AssessmentRow {
    let f = |n: &str| format!("assessment.{n}");
    let mut text = |n: &str, value: &str, what: &str| {
        v.text(&f(n), value, what, MAX_LONG_TEXT)
            .unwrap_or_default()
    };
    let mut row = AssessmentRow {
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
        *slot = v.count(&f(n), value, MAX_FIGURE);
    }
    row
}

/// The region's assessment for a year.
pub async fn get_assessment(
    ctx: &Context,
    caller: &Caller,
    region_code: &str,
    quota_year: u32,
) -> Result<AssessmentRow> {
    let region = region_code.trim();
    scope_region(caller, "region_code", region)?;
    ctx.store
        .get_assessment(region, i64::from(quota_year))
        .await?
        .ok_or_else(|| {
            StoreError::NotFound(format!(
                "the assessment of region {region} for {quota_year}"
            ))
            .into()
        })
}

/// The need for labour immigrants as a caller sent it (p. 14–16, Appendix 3).
#[derive(Debug, Clone, Default)]
pub struct NeedInput {
    /// The etag the caller read; empty: no check.
    pub etag: String,
    pub region_code: String,
    pub quota_year: u32,
    pub current_count: u32,
    pub need: u32,
    pub justification: String,
}

/// The need as stored.
#[derive(Debug, Clone)]
pub struct Need {
    pub region: RegionYear,
    pub need: ImmigrantNeedRow,
    pub etag: String,
}

/// p. 14–16: sets the region's need for labour immigrants.
pub async fn set_labour_immigrant_need(
    ctx: &Context,
    caller: &Caller,
    actor: &Actor,
    input: &NeedInput,
) -> Result<Need> {
    scope_region(caller, "region_code", input.region_code.trim())?;
    let mut v = Violations::new();
    let ry = ctx.region_year(&input.region_code, input.quota_year, &mut v);
    let current_count = v.count("current_count", input.current_count, MAX_FIGURE);
    let need = v.count("need", input.need, MAX_FIGURE);
    let justification = v.text(
        "justification",
        &input.justification,
        "justification of the need",
        MAX_LONG_TEXT,
    );
    let ry = ry.filter(|_| v.is_empty()).ok_or(Error::Invalid(v))?;
    let now = ctx.now();
    let row = ImmigrantNeedRow {
        current_count,
        need,
        justification: justification.unwrap_or_default(),
        // p. 15: determined "до 10 октября", as the assessment of p. 7; a later one is
        // kept but flagged.
        late: ctx.late(now, ry.year, Step::RegionalAssessment),
    };
    let etag = ctx
        .store
        .set_immigrant_need(
            actor,
            &ry.region,
            ry.stored_year(),
            &row,
            input.etag.trim(),
            now,
        )
        .await?;
    Ok(Need {
        region: ry,
        need: row,
        etag,
    })
}

/// One country of origin as a caller sent it (Appendix 4).
#[derive(Debug, Clone, Default)]
pub struct CountryInput {
    pub country_code: String,
    /// 1st–4th category, seasonal.
    pub counts: [u32; 5],
    pub lines: Vec<OccupationLineInput>,
}

/// The quota by country of origin as a caller sent it (p. 17, Appendix 4).
#[derive(Debug, Clone, Default)]
pub struct OriginQuotaInput {
    /// The etag the caller read; empty: no check.
    pub etag: String,
    pub region_code: String,
    pub quota_year: u32,
    pub rows: Vec<CountryInput>,
}

/// The quota by country of origin as stored.
#[derive(Debug, Clone)]
pub struct OriginQuota {
    pub region: RegionYear,
    pub rows: Vec<CountryRow>,
    pub etag: String,
}

/// p. 17: sets the region's need by country of origin; only countries with a ratified
/// labour-migration treaty may be named.
pub async fn set_origin_country_quota(
    ctx: &Context,
    caller: &Caller,
    actor: &Actor,
    input: &OriginQuotaInput,
) -> Result<OriginQuota> {
    scope_region(caller, "region_code", input.region_code.trim())?;
    let mut v = Violations::new();
    let ry = ctx.region_year(&input.region_code, input.quota_year, &mut v);
    let treaty = ctx.store.treaty_countries().await?;
    if input.rows.is_empty() || input.rows.len() > MAX_ORIGIN_COUNTRIES {
        v.add(
            "rows",
            format!("from 1 to {MAX_ORIGIN_COUNTRIES} countries are required"),
        );
        return Err(Error::Invalid(v));
    }
    let mut rows: Vec<CountryRow> = Vec::new();
    for (i, row) in input.rows.iter().enumerate() {
        if let Some(country) = check_country(&mut v, i, row, &treaty, &rows) {
            rows.push(country);
        }
    }
    let ry = ry.filter(|_| v.is_empty()).ok_or(Error::Invalid(v))?;
    let etag = ctx
        .store
        .set_origin_quota(
            actor,
            &ry.region,
            ry.stored_year(),
            &rows,
            input.etag.trim(),
        )
        .await?;
    Ok(OriginQuota {
        region: ry,
        rows,
        etag,
    })
}

/// Row `i`: a treaty country not listed before, its lines and counts checked.
fn check_country(
    v: &mut Violations,
    i: usize,
    row: &CountryInput,
    treaty: &[(String, String)],
    before: &[CountryRow],
) -> Option<CountryRow> {
    let code = row.country_code.trim().to_ascii_uppercase();
    let field = format!("rows[{i}].country_code");
    let Some((_, name)) = treaty.iter().find(|(c, _)| *c == code) else {
        let accepted: Vec<&str> = treaty.iter().map(|(c, _)| c.as_str()).collect();
        v.add(
            field,
            format!(
                "{code:?} is not a country with a ratified labour-migration treaty (p. 17); accepted: {}",
                accepted.join(", ")
            ),
        );
        return None;
    };
    if before.iter().any(|r| r.country_code == code) {
        v.add(field, format!("{code} is listed twice"));
        return None;
    }
    let lines = filing::country_lines(v, i, &row.lines);
    let counts = filing::country_counts(v, i, row.counts, &lines);
    Some(CountryRow {
        country_code: code,
        country_name_ru: name.clone(),
        counts,
        lines: lines.into_iter().map(line_row).collect(),
    })
}

/// A checked occupation line as the store keeps it.
pub(crate) fn line_row(l: OccupationLine) -> ProposalLineRow {
    ProposalLineRow {
        occupation_code: l.occupation_code.as_str().to_owned(),
        occupation_name: l.occupation_name,
        category: l.category,
        count: l.count,
    }
}

/// The countries with a ratified labour-migration treaty (p. 17): code and Russian name.
pub async fn treaty_countries(ctx: &Context) -> Result<Vec<(String, String)>> {
    Ok(ctx.store.treaty_countries().await?)
}

/// A region's filing with the ministry.
#[derive(Debug, Clone)]
pub struct Filing {
    pub region: RegionYear,
    pub filing: FilingRow,
}

/// p. 12, 14, 17: files Appendices 2–4 with the ministry, sealed, and freezes the
/// region's data for the year. Refused while an application awaits the Commission's
/// decision or the assessment or the need is not set; a filing after its day is flagged.
pub async fn file_with_ministry(
    ctx: &Context,
    caller: &Caller,
    actor: &Actor,
    region_code: &str,
    quota_year: u32,
) -> Result<Filing> {
    scope_region(caller, "region_code", region_code.trim())?;
    let mut v = Violations::new();
    let ry = ctx
        .region_year(region_code, quota_year, &mut v)
        .ok_or(Error::Invalid(v))?;
    let (region, y) = (ry.region.as_str(), ry.stored_year());
    // Read first: the filing is refused if anything it is built from changes meanwhile.
    let fingerprint = ctx.store.filing_fingerprint(region, y).await?;
    let need = ready_to_file(ctx, &ry).await?;
    let countries = ctx.store.origin_quota(region, y).await?;
    let body = issuing_body(ctx, region).await?;
    let ministry = ctx.store.get_body(MINISTRY).await?;
    let rows = appendix2_rows(ctx, &ry).await?;
    let now = ctx.now();
    let late = ctx.late(now, ry.year, Step::RegionalFiling);
    let letter = Letter {
        quota_year: y,
        addressee: ministry.legal_name_ru,
        body,
        subject: format!("regions/{region}/quotaYears/{y}"),
    };
    let app2 = letter
        .seal(ctx, now, Letter::APPENDIX_2, |s| letter.appendix2(rows, s))
        .await?;
    let app3 = letter
        .seal(ctx, now, Letter::APPENDIX_3, |s| letter.appendix3(&need, s))
        .await?;
    let app4 = letter
        .seal(ctx, now, Letter::APPENDIX_4, |s| {
            letter.appendix4(&countries, s)
        })
        .await?;
    let filing = ctx
        .store
        .file_with_ministry(
            actor,
            region,
            y,
            [&app2, &app3, &app4],
            &fingerprint,
            late,
            now,
        )
        .await?;
    Ok(Filing { region: ry, filing })
}

/// What a filing needs before it is made: not filed yet, every submitted application
/// decided (p. 12), the assessment (p. 7) and the need (p. 14–16) set. The need, for
/// Appendix 3.
async fn ready_to_file(ctx: &Context, ry: &RegionYear) -> Result<ImmigrantNeedRow> {
    let (region, y) = (ry.region.as_str(), ry.stored_year());
    let missing = |what: &str| {
        Error::refused(
            Reason::FilingIncomplete,
            format!("region {region} cannot file for {y}: {what}"),
        )
    };
    if let Some(f) = ctx.store.filing(region, y).await? {
        return Err(StoreError::AlreadyExists(format!(
            "region {region} already filed for {y} (documents/{})",
            f.appendix2_id
        ))
        .into());
    }
    // p. 12: the filing reports the Commission's decision on every application; one
    // without a decision would silently drop out of Appendix 2, its employer never told.
    let undecided = ctx.store.undecided_applications(region, y).await?;
    if !undecided.is_empty() {
        let names: Vec<String> = undecided
            .into_iter()
            .map(|id| ApplicationName::new(id).to_string())
            .collect();
        let refusal = Error::refused(
            Reason::UndecidedApplications,
            format!(
                "region {region} cannot file for {y}: the Commission has not decided on {} submitted application(s) (p. 12): {}",
                names.len(),
                names.join(", ")
            ),
        )
        .with("applications", names.join(","));
        return Err(names.into_iter().fold(refusal, |e, n| {
            e.unmet(
                "UNDECIDED",
                n,
                "submitted, with no decision of the Commission (p. 8–10)",
            )
        }));
    }
    ctx.store
        .get_assessment(region, y)
        .await?
        .ok_or_else(|| missing("the assessment of p. 7 is not set"))?;
    ctx.store
        .immigrant_need(region, y)
        .await?
        .ok_or_else(|| missing("the labour-immigrant need of p. 14–16 (Appendix 3) is not set"))
}

/// An organisation reported in Appendix 2: the Commission's decision and the application.
type Decided = (DecisionRow, ApplicationRow);

/// p. 12: Appendix 2 reports every organisation the Commission approved fully or partly;
/// a rejected application has nothing in it.
async fn appendix2_rows(ctx: &Context, ry: &RegionYear) -> Result<Vec<Decided>> {
    let mut rows = Vec::new();
    for d in ctx
        .store
        .region_decisions(&ry.region, ry.stored_year())
        .await?
    {
        if d.decision.outcome == Outcome::Rejected {
            continue;
        }
        let app = ctx.store.get_application(&d.application_id).await?;
        rows.push((d, app));
    }
    Ok(rows)
}

/// What the three appendices share: the year, the addressee, the sender who signs and
/// the region's year they are about.
struct Letter {
    quota_year: i64,
    addressee: String,
    body: BodyRow,
    subject: String,
}

/// One appendix: its template, its document kind and its title before the year.
type Appendix = (&'static str, &'static str, &'static str);

impl Letter {
    const APPENDIX_2: Appendix = (
        appendix2::TEMPLATE,
        kind::APPENDIX_2,
        "Заявка на привлечение иностранной рабочей силы",
    );
    const APPENDIX_3: Appendix = (
        appendix3::TEMPLATE,
        kind::APPENDIX_3,
        "Заявка на привлечение трудовых иммигрантов",
    );
    const APPENDIX_4: Appendix = (
        appendix4::TEMPLATE,
        kind::APPENDIX_4,
        "Заявка на привлечение иностранной рабочей силы по странам исхода",
    );

    /// Renders and seals one appendix of the filing (stored with the filing).
    async fn seal<M: serde::Serialize>(
        &self,
        ctx: &Context,
        now: DateTime<Utc>,
        (template, kind, title): Appendix,
        build: impl FnOnce(VisibleSignature) -> M,
    ) -> Result<NewDocument> {
        let form = Form {
            template,
            kind,
            title: format!("{title} на {} год", self.quota_year),
            subject: self.subject.clone(),
        };
        issue::seal(ctx, form, now, build).await
    }

    fn appendix2(
        &self,
        decided: Vec<Decided>,
        signature: VisibleSignature,
    ) -> appendix2::Appendix2 {
        let mut totals = Appendix2Totals::default();
        let rows = decided
            .iter()
            .enumerate()
            .map(|(i, (d, app))| {
                let row = appendix2_row(i + 1, d, app);
                totals.add_row(row.current_count, &approved_of(d, app));
                row
            })
            .collect();
        appendix2::Appendix2 {
            quota_year: self.quota_year,
            addressee: self.addressee.clone(),
            sender: self.body.legal_name_ru.clone(),
            rows,
            totals: appendix2::Totals::new(
                totals.current_count,
                CategoryCounts::from(&totals.approved),
            ),
            head_position: self.body.head_position_ru.clone(),
            head_full_name: self.body.head_full_name.clone(),
            signature,
            part: None,
        }
    }

    fn appendix3(
        &self,
        need: &ImmigrantNeedRow,
        signature: VisibleSignature,
    ) -> appendix3::Appendix3 {
        appendix3::Appendix3 {
            quota_year: self.quota_year,
            addressee: self.addressee.clone(),
            sender: self.body.legal_name_ru.clone(),
            current_count: need.current_count,
            need: need.need,
            justification: need.justification.clone(),
            head_position: self.body.head_position_ru.clone(),
            head_full_name: self.body.head_full_name.clone(),
            signature,
        }
    }

    fn appendix4(
        &self,
        countries: &[CountryRow],
        signature: VisibleSignature,
    ) -> appendix4::Appendix4 {
        let mut totals = CategoryTotals::default();
        let countries = countries
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let counts = CategoryTotals::from_counts(c.counts);
                totals.add_all(&counts);
                appendix4::Country {
                    code: c.country_code.clone(),
                    name_ru: c.country_name_ru.clone(),
                    number: i + 1,
                    total: counts.sum(),
                    counts: CategoryCounts::from(&counts),
                    lines: c.lines.iter().map(form_line).collect(),
                }
            })
            .collect();
        appendix4::Appendix4 {
            quota_year: self.quota_year,
            addressee: self.addressee.clone(),
            sender: self.body.legal_name_ru.clone(),
            countries,
            totals: appendix4::Totals::new(CategoryCounts::from(&totals)),
            head_position: self.body.head_position_ru.clone(),
            head_full_name: self.body.head_full_name.clone(),
            signature,
        }
    }
}

/// What the Commission approved for the organisation, by category.
fn approved_of(d: &DecisionRow, app: &ApplicationRow) -> CategoryTotals {
    filing::approved_by_category(
        app.lines
            .iter()
            .zip(&d.decision.approved_counts)
            .map(|(l, &a)| (l.category, a)),
    )
}

/// One organisation's row of Appendix 2: its approved lines (a line approved at 0 is left
/// out) and, in column 9, its own justification with the Commission's decision on it.
fn appendix2_row(number: usize, d: &DecisionRow, app: &ApplicationRow) -> appendix2::Row {
    let lines = app
        .lines
        .iter()
        .zip(&d.decision.approved_counts)
        .filter(|(_, a)| **a != 0)
        .map(|(l, &count)| appendix2::Line {
            category: l.category.code().into(),
            occupation_code: l.occupation_code.clone(),
            occupation_name: l.occupation_name.clone(),
            count,
        })
        .collect();
    appendix2::Row {
        number,
        organisation: appendix2::Organisation {
            name: app.employer_name.clone(),
            legal_address: app.employer_address.clone(),
            bin: app.employer_bin.clone(),
            kind: EmployerKind::of(&app.employer_bin),
        },
        current_count: app.lines.iter().map(|l| u64::from(l.current_count)).sum(),
        lines,
        totals: CategoryCounts::from(&approved_of(d, app)),
        // p. 7 / column 9: each organisation's own justification, with the
        // Commission's decision on it.
        justification: format!(
            "{}\nРешение Комиссии: {} (протокол № {} от {}).",
            app.justification.trim(),
            d.decision.outcome.text_ru(),
            d.decision.protocol_number,
            date_ru(d.decision.decided_on),
        ),
    }
}

/// A stored occupation line as the forms print it.
fn form_line(l: &ProposalLineRow) -> appendix2::Line {
    appendix2::Line {
        category: l.category.code().into(),
        occupation_code: l.occupation_code.clone(),
        occupation_name: l.occupation_name.clone(),
        count: l.count,
    }
}
