//! The regional body's year: assessment, Commission, decisions and notices, filings
//! (p. 7–17). Once a region has filed with the ministry its data for the year is frozen.

use super::audit::Actor;
use chrono::{DateTime, NaiveDate, Utc};
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, AssertSqlSafe, Row};

use super::documents::{self, NewDocument};
use super::{Result, Store, StoreError, parse_ts, ts};
use crate::domain::WorkerCategory;
use crate::domain::commission::{CommissionDecision, Outcome, RejectionGround};

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AssessmentRow {
    pub region_code: String,
    pub quota_year: i64,
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
    pub update_time: Option<DateTime<Utc>>,
    pub late: bool,
}

impl AssessmentRow {
    /// An opaque tag of the stored content (AIP-154): it changes when a figure, a text
    /// or the lateness does. The update time is left out, so the tag of a row as written
    /// is the tag of the row as read back.
    pub fn etag(&self) -> String {
        let content = AssessmentRow {
            update_time: None,
            ..self.clone()
        };
        let digest = Sha256::digest(format!("{content:?}").as_bytes());
        hex::encode(&digest[..12])
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRow {
    pub full_name: String,
    pub job_title: String,
    pub organisation: String,
    pub kind: String,
    pub role: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionRow {
    pub application_id: String,
    pub decision: CommissionDecision,
    pub late_to_commission: bool,
    pub notice_due_date: NaiveDate,
    pub record_time: DateTime<Utc>,
    pub notice_document_id: Option<String>,
    pub notice_time: Option<DateTime<Utc>>,
    pub notice_late: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImmigrantNeedRow {
    pub current_count: u32,
    pub need: u32,
    pub justification: String,
    /// p. 15: determined after its deadline (before 10 October).
    pub late: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountryRow {
    pub country_code: String,
    pub country_name_ru: String,
    /// 1st–4th category, seasonal.
    pub counts: [u32; 5],
    /// The breakdown by occupation (Appendix 4's «в разрезе профессий и
    /// специальностей»); empty for a region that files the counts alone.
    pub lines: Vec<ProposalLineRow>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilingRow {
    pub appendix2_id: String,
    pub appendix3_id: String,
    pub appendix4_id: String,
    pub filed_time: DateTime<Utc>,
    pub late: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProposalLineRow {
    pub occupation_code: String,
    pub occupation_name: String,
    pub category: WorkerCategory,
    pub count: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProposalRow {
    pub id: String,
    pub body: String,
    pub region_code: String,
    pub quota_year: i64,
    pub justification: String,
    pub agreed_by_region: bool,
    pub submit_time: DateTime<Utc>,
    pub agree_time: Option<DateTime<Utc>>,
    pub late: bool,
    pub lines: Vec<ProposalLineRow>,
}

fn date(s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|e| StoreError::Corrupt(format!("date {s:?}: {e}")))
}

/// FAILED_PRECONDITION if the region has filed with the ministry for the year.
pub(crate) async fn ensure_open(
    conn: &mut sqlx::AnyConnection,
    region: &str,
    year: i64,
) -> Result<()> {
    let filed: Option<String> = sqlx::query_scalar(
        "SELECT filed_time FROM regional_filings WHERE region_code = $1 AND quota_year = $2",
    )
    .bind(region)
    .bind(year)
    .fetch_optional(&mut *conn)
    .await?;
    match filed {
        Some(t) => Err(StoreError::FailedPrecondition(format!(
            "region {region} filed with the ministry for {year} at {t}: its data for that year is frozen"
        ))),
        None => Ok(()),
    }
}

async fn fetch_decision(
    conn: &mut sqlx::AnyConnection,
    application_id: &str,
) -> Result<Option<DecisionRow>> {
    let Some(r) = sqlx::query(
        "SELECT application_id, outcome, grounds, decided_on, protocol_number, late_to_commission,
                notice_due_date, record_time, notice_document_id, notice_time, notice_late,
                put_to_commission_on
         FROM commission_decisions WHERE application_id = $1",
    )
    .bind(application_id)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let approved: Vec<i64> = sqlx::query_scalar(
        "SELECT approved_count FROM decision_lines WHERE application_id = $1 ORDER BY position",
    )
    .bind(application_id)
    .fetch_all(&mut *conn)
    .await?;
    let outcome: String = r.try_get("outcome")?;
    let grounds: String = r.try_get("grounds")?;
    Ok(Some(DecisionRow {
        application_id: r.try_get("application_id")?,
        decision: CommissionDecision {
            outcome: Outcome::from_code(&outcome)
                .ok_or_else(|| StoreError::Corrupt(format!("outcome {outcome:?}")))?,
            approved_counts: approved.into_iter().map(|a| a as u32).collect(),
            grounds: grounds
                .split(',')
                .filter(|g| !g.is_empty())
                .map(|g| {
                    RejectionGround::from_code(g)
                        .ok_or_else(|| StoreError::Corrupt(format!("ground {g:?}")))
                })
                .collect::<Result<_>>()?,
            decided_on: date(r.try_get("decided_on")?)?,
            put_to_commission_on: r
                .try_get::<Option<String>, _>("put_to_commission_on")?
                .as_deref()
                .map(date)
                .transpose()?,
            protocol_number: r.try_get("protocol_number")?,
        },
        late_to_commission: r.try_get::<i64, _>("late_to_commission")? != 0,
        notice_due_date: date(r.try_get("notice_due_date")?)?,
        record_time: parse_ts(r.try_get("record_time")?)?,
        notice_document_id: r.try_get("notice_document_id")?,
        notice_time: r
            .try_get::<Option<String>, _>("notice_time")?
            .as_deref()
            .map(parse_ts)
            .transpose()?,
        notice_late: r.try_get::<Option<i64>, _>("notice_late")?.unwrap_or(0) != 0,
    }))
}

async fn fetch_proposal(conn: &mut sqlx::AnyConnection, id: &str) -> Result<ProposalRow> {
    let r = sqlx::query(
        "SELECT id, body, region_code, quota_year, justification, agreed_by_region, submit_time,
                agree_time, late FROM central_proposals WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("proposals/{id}")))?;
    let lines = sqlx::query(
        "SELECT occupation_code, occupation_name, category, count FROM proposal_lines
         WHERE proposal_id = $1 ORDER BY position",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|l| {
        let c: String = l.try_get("category")?;
        Ok(ProposalLineRow {
            occupation_code: l.try_get("occupation_code")?,
            occupation_name: l.try_get("occupation_name")?,
            category: WorkerCategory::from_code(&c)
                .ok_or_else(|| StoreError::Corrupt(format!("category {c:?}")))?,
            count: l.try_get::<i64, _>("count")? as u32,
        })
    })
    .collect::<Result<_>>()?;
    Ok(ProposalRow {
        id: r.try_get("id")?,
        body: r.try_get("body")?,
        region_code: r.try_get("region_code")?,
        quota_year: r.try_get("quota_year")?,
        justification: r.try_get("justification")?,
        agreed_by_region: r.try_get::<i64, _>("agreed_by_region")? != 0,
        submit_time: parse_ts(r.try_get("submit_time")?)?,
        agree_time: r
            .try_get::<Option<String>, _>("agree_time")?
            .as_deref()
            .map(parse_ts)
            .transpose()?,
        late: r.try_get::<i64, _>("late")? != 0,
        lines,
    })
}

/// A digest of everything a region's filing is built from (Appendices 2–4), so a change
/// made while the filing is rendered is caught when it is stored.
async fn filing_inputs(conn: &mut sqlx::AnyConnection, region: &str, year: i64) -> Result<String> {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    let texts = |rows: Vec<sqlx::any::AnyRow>, cols: usize| -> String {
        rows.iter()
            .map(|r| {
                (0..cols)
                    .map(|i| {
                        r.try_get::<String, _>(i)
                            .or_else(|_| r.try_get::<i64, _>(i).map(|n| n.to_string()))
                            .unwrap_or_default()
                    })
                    .collect::<Vec<_>>()
                    .join("\u{1f}")
            })
            .collect::<Vec<_>>()
            .join("\u{1e}")
    };
    let q = |sql: &'static str| sqlx::query(sql).bind(region).bind(year);
    let a = q(
        "SELECT justification FROM regional_assessments WHERE region_code = $1 AND quota_year = $2",
    )
    .fetch_all(&mut *conn)
    .await?;
    h.update(texts(a, 1));
    let n = q(
        "SELECT current_count, need, justification FROM labour_immigrant_needs
               WHERE region_code = $1 AND quota_year = $2",
    )
    .fetch_all(&mut *conn)
    .await?;
    h.update(texts(n, 3));
    let c = q(
        "SELECT country_code, first, second, third, fourth, seasonal FROM origin_country_quotas
               WHERE region_code = $1 AND quota_year = $2 ORDER BY position",
    )
    .fetch_all(&mut *conn)
    .await?;
    h.update(texts(c, 6));
    let l = q(
        "SELECT country_code, occupation_code, occupation_name, category, count
               FROM origin_country_lines WHERE region_code = $1 AND quota_year = $2
               ORDER BY country_code, position",
    )
    .fetch_all(&mut *conn)
    .await?;
    h.update(texts(l, 5));
    let d = q("SELECT a.id, a.state, a.revision, COALESCE(d.outcome, ''),
                      COALESCE((SELECT string_agg(CAST(approved_count AS TEXT), ',') FROM decision_lines l
                                WHERE l.application_id = a.id), '')
               FROM applications a LEFT JOIN commission_decisions d ON d.application_id = a.id
               WHERE a.region_code = $1 AND a.quota_year = $2 ORDER BY a.seq")
    .fetch_all(&mut *conn)
    .await?;
    h.update(texts(d, 5));
    Ok(hex::encode(h.finalize()))
}

/// Audits a change of an application's decision, filed under the application's region.
async fn audit_decision(
    conn: &mut super::WriteTx,
    actor: &Actor,
    application_id: &str,
    after: &impl std::fmt::Debug,
) -> Result<()> {
    let region: String = sqlx::query_scalar("SELECT region_code FROM applications WHERE id = $1")
        .bind(application_id)
        .fetch_one(&mut **conn)
        .await?;
    super::audit::record(
        conn,
        actor,
        &format!("applications/{application_id}/decision"),
        Some(&region),
        None::<&()>,
        Some(after),
    )
    .await
}

async fn insert_documents(
    tx: &mut AnyConnection,
    docs: &[&NewDocument],
    in_database: bool,
) -> Result<()> {
    for d in docs {
        documents::insert(tx, d, in_database).await?;
    }
    Ok(())
}

async fn read_assessment(
    conn: &mut AnyConnection,
    region: &str,
    year: i64,
) -> Result<Option<AssessmentRow>> {
    let Some(r) = sqlx::query(
        "SELECT * FROM regional_assessments WHERE region_code = $1 AND quota_year = $2",
    )
    .bind(region)
    .bind(year)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let n = |c: &str| r.try_get::<i64, _>(c).map(|v| v as u32);
    Ok(Some(AssessmentRow {
        region_code: r.try_get("region_code")?,
        quota_year: r.try_get("quota_year")?,
        labour_demand: n("labour_demand")?,
        planned_jobs_national_projects: n("planned_jobs_national_projects")?,
        demand_text: r.try_get("demand_text")?,
        forecast_unemployed: n("forecast_unemployed")?,
        forecast_released: n("forecast_released")?,
        forecast_graduates: n("forecast_graduates")?,
        forecast_text: r.try_get("forecast_text")?,
        local_coverage: n("local_coverage")?,
        local_coverage_text: r.try_get("local_coverage_text")?,
        efficiency_text: r.try_get("efficiency_text")?,
        immigrant_demand_text: r.try_get("immigrant_demand_text")?,
        immigrant_forecast_text: r.try_get("immigrant_forecast_text")?,
        immigrant_efficiency_text: r.try_get("immigrant_efficiency_text")?,
        justification: r.try_get("justification")?,
        update_time: Some(parse_ts(r.try_get("update_time")?)?),
        late: r.try_get::<i64, _>("late")? != 0,
    }))
}

/// An opaque tag (AIP-154) of a resource's stored content, bound to its name: it changes
/// when anything stored under the name does.
fn content_etag(name: &str, content: &impl std::fmt::Debug) -> String {
    let digest = Sha256::digest(format!("{name}\n{content:?}").as_bytes());
    hex::encode(&digest[..12])
}

/// Fails with `EtagMismatch` unless `expected` is empty (no check) or the tag of what is
/// stored under `name` (`None`: nothing is).
fn check_etag(name: &str, expected: &str, stored: Option<String>) -> Result<()> {
    if expected.is_empty() || stored.is_some_and(|s| s == expected) {
        return Ok(());
    }
    Err(StoreError::EtagMismatch(name.to_owned()))
}

fn members_name(region: &str, year: i64) -> String {
    format!("regions/{region}/commissions/{year}")
}

fn need_name(region: &str, year: i64) -> String {
    format!("regions/{region}/immigrant-needs/{year}")
}

fn origin_quota_name(region: &str, year: i64) -> String {
    format!("regions/{region}/origin-quotas/{year}")
}

async fn read_members(conn: &mut AnyConnection, region: &str, year: i64) -> Result<Vec<MemberRow>> {
    let rows = sqlx::query(
        "SELECT full_name, job_title, organisation, kind, role FROM commission_members
         WHERE region_code = $1 AND quota_year = $2 ORDER BY position",
    )
    .bind(region)
    .bind(year)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(MemberRow {
                full_name: r.try_get("full_name")?,
                job_title: r.try_get("job_title")?,
                organisation: r.try_get("organisation")?,
                kind: r.try_get("kind")?,
                role: r.try_get("role")?,
            })
        })
        .collect()
}

async fn read_immigrant_need(
    conn: &mut AnyConnection,
    region: &str,
    year: i64,
) -> Result<Option<ImmigrantNeedRow>> {
    sqlx::query(
        "SELECT current_count, need, justification, late FROM labour_immigrant_needs
         WHERE region_code = $1 AND quota_year = $2",
    )
    .bind(region)
    .bind(year)
    .fetch_optional(&mut *conn)
    .await?
    .map(|r| -> Result<_> {
        Ok(ImmigrantNeedRow {
            current_count: r.try_get::<i64, _>("current_count")? as u32,
            need: r.try_get::<i64, _>("need")? as u32,
            justification: r.try_get("justification")?,
            late: r.try_get::<i64, _>("late")? != 0,
        })
    })
    .transpose()
}

async fn read_origin_quota(
    conn: &mut AnyConnection,
    region: &str,
    year: i64,
) -> Result<Vec<CountryRow>> {
    let rows = sqlx::query(
        "SELECT q.country_code, c.name_ru, q.first, q.second, q.third, q.fourth, q.seasonal
         FROM origin_country_quotas q JOIN treaty_countries c ON c.code = q.country_code
         WHERE q.region_code = $1 AND q.quota_year = $2 ORDER BY q.position",
    )
    .bind(region)
    .bind(year)
    .fetch_all(&mut *conn)
    .await?;
    let lines = sqlx::query(
        "SELECT country_code, occupation_code, occupation_name, category, count
         FROM origin_country_lines WHERE region_code = $1 AND quota_year = $2
         ORDER BY country_code, position",
    )
    .bind(region)
    .bind(year)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|l| {
        let c: String = l.try_get("category")?;
        Ok((
            l.try_get::<String, _>("country_code")?,
            ProposalLineRow {
                occupation_code: l.try_get("occupation_code")?,
                occupation_name: l.try_get("occupation_name")?,
                category: WorkerCategory::from_code(&c)
                    .ok_or_else(|| StoreError::Corrupt(format!("category {c:?}")))?,
                count: l.try_get::<i64, _>("count")? as u32,
            },
        ))
    })
    .collect::<Result<Vec<_>>>()?;
    rows.iter()
        .map(|r| {
            let n = |c: &str| r.try_get::<i64, _>(c).map(|v| v as u32);
            let code: String = r.try_get("country_code")?;
            Ok(CountryRow {
                lines: lines
                    .iter()
                    .filter(|(c, _)| *c == code)
                    .map(|(_, l)| l.clone())
                    .collect(),
                country_code: code,
                country_name_ru: r.try_get("name_ru")?,
                counts: [
                    n("first")?,
                    n("second")?,
                    n("third")?,
                    n("fourth")?,
                    n("seasonal")?,
                ],
            })
        })
        .collect()
}

impl Store {
    /// Replaces a region's assessment for the year if `expected_etag` is that of the
    /// stored one (empty: no check; AIP-154).
    pub async fn set_assessment(
        &self,
        actor: &Actor,
        a: &AssessmentRow,
        expected_etag: &str,
        now: DateTime<Utc>,
    ) -> Result<AssessmentRow> {
        let mut tx = self.write_tx().await?;
        ensure_open(&mut tx, &a.region_code, a.quota_year).await?;
        if !expected_etag.is_empty() {
            let stored = read_assessment(&mut tx, &a.region_code, a.quota_year).await?;
            if stored.is_none_or(|s| s.etag() != expected_etag) {
                return Err(StoreError::EtagMismatch(format!(
                    "regions/{}/assessments/{}",
                    a.region_code, a.quota_year
                )));
            }
        }
        sqlx::query(
            "INSERT INTO regional_assessments (region_code, quota_year, labour_demand,
                 planned_jobs_national_projects, demand_text, forecast_unemployed, forecast_released,
                 forecast_graduates, forecast_text, local_coverage, local_coverage_text,
                 efficiency_text, immigrant_demand_text, immigrant_forecast_text,
                 immigrant_efficiency_text, justification, update_time, late)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
             ON CONFLICT (region_code, quota_year) DO UPDATE SET
                 labour_demand = excluded.labour_demand,
                 planned_jobs_national_projects = excluded.planned_jobs_national_projects,
                 demand_text = excluded.demand_text,
                 forecast_unemployed = excluded.forecast_unemployed,
                 forecast_released = excluded.forecast_released,
                 forecast_graduates = excluded.forecast_graduates,
                 forecast_text = excluded.forecast_text,
                 local_coverage = excluded.local_coverage,
                 local_coverage_text = excluded.local_coverage_text,
                 efficiency_text = excluded.efficiency_text,
                 immigrant_demand_text = excluded.immigrant_demand_text,
                 immigrant_forecast_text = excluded.immigrant_forecast_text,
                 immigrant_efficiency_text = excluded.immigrant_efficiency_text,
                 justification = excluded.justification,
                 update_time = excluded.update_time,
                 late = excluded.late",
        )
        .bind(&a.region_code)
        .bind(a.quota_year)
        .bind(a.labour_demand as i64)
        .bind(a.planned_jobs_national_projects as i64)
        .bind(&a.demand_text)
        .bind(a.forecast_unemployed as i64)
        .bind(a.forecast_released as i64)
        .bind(a.forecast_graduates as i64)
        .bind(&a.forecast_text)
        .bind(a.local_coverage as i64)
        .bind(&a.local_coverage_text)
        .bind(&a.efficiency_text)
        .bind(&a.immigrant_demand_text)
        .bind(&a.immigrant_forecast_text)
        .bind(&a.immigrant_efficiency_text)
        .bind(&a.justification)
        .bind(ts(now))
        .bind(a.late as i64)
        .execute(&mut *tx)
        .await?;
        super::audit::record(
            &mut tx,
            actor,
            &format!("regions/{}/assessments/{}", a.region_code, a.quota_year),
            Some(&a.region_code),
            None::<&()>,
            Some(a),
        )
        .await?;
        tx.commit().await?;
        Ok(AssessmentRow {
            update_time: Some(now),
            ..a.clone()
        })
    }

    pub async fn get_assessment(&self, region: &str, year: i64) -> Result<Option<AssessmentRow>> {
        let mut conn = self.pool().acquire().await?;
        read_assessment(&mut conn, region, year).await
    }

    /// Replaces the Commission's composition for the year if `expected_etag` is that of
    /// the stored one (empty: no check; AIP-154); returns the etag of the new one.
    pub async fn set_commission_members(
        &self,
        actor: &Actor,
        region: &str,
        year: i64,
        members: &[MemberRow],
        expected_etag: &str,
    ) -> Result<String> {
        let name = members_name(region, year);
        let mut tx = self.write_tx().await?;
        ensure_open(&mut tx, region, year).await?;
        if !expected_etag.is_empty() {
            let stored = read_members(&mut tx, region, year).await?;
            let stored = (!stored.is_empty()).then(|| content_etag(&name, &stored));
            check_etag(&name, expected_etag, stored)?;
        }
        sqlx::query("DELETE FROM commission_members WHERE region_code = $1 AND quota_year = $2")
            .bind(region)
            .bind(year)
            .execute(&mut *tx)
            .await?;
        for (i, m) in members.iter().enumerate() {
            sqlx::query(
                "INSERT INTO commission_members (region_code, quota_year, position, full_name,
                     job_title, organisation, kind, role) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(region)
            .bind(year)
            .bind(i as i64)
            .bind(&m.full_name)
            .bind(&m.job_title)
            .bind(&m.organisation)
            .bind(&m.kind)
            .bind(&m.role)
            .execute(&mut *tx)
            .await?;
        }
        super::audit::record(
            &mut tx,
            actor,
            &name,
            Some(region),
            None::<&()>,
            Some(members),
        )
        .await?;
        tx.commit().await?;
        Ok(content_etag(&name, &members))
    }

    pub async fn commission_members(&self, region: &str, year: i64) -> Result<Vec<MemberRow>> {
        let mut conn = self.pool().acquire().await?;
        read_members(&mut conn, region, year).await
    }

    /// Records the Commission's decision on a submitted application, once.
    pub async fn record_decision(
        &self,
        actor: &Actor,
        application_id: &str,
        d: &CommissionDecision,
        late_to_commission: bool,
        notice_due_date: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<DecisionRow> {
        let mut tx = self.write_tx().await?;
        let place = sqlx::query("SELECT region_code, quota_year FROM applications WHERE id = $1")
            .bind(application_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("applications/{application_id}")))?;
        ensure_open(
            &mut tx,
            place.try_get("region_code")?,
            place.try_get("quota_year")?,
        )
        .await?;
        if fetch_decision(&mut tx, application_id).await?.is_some() {
            return Err(StoreError::AlreadyExists(format!(
                "the Commission has already decided on applications/{application_id}"
            )));
        }
        let state: Option<String> =
            sqlx::query_scalar("SELECT state FROM applications WHERE id = $1")
                .bind(application_id)
                .fetch_optional(&mut *tx)
                .await?;
        match state.as_deref() {
            None => {
                return Err(StoreError::NotFound(format!(
                    "applications/{application_id}"
                )));
            }
            Some("SUBMITTED") => {}
            Some(other) => {
                return Err(StoreError::FailedPrecondition(format!(
                    "applications/{application_id} is {other}: only a submitted application goes to the Commission"
                )));
            }
        }
        let grounds: Vec<&str> = d.grounds.iter().map(|g| g.code()).collect();
        sqlx::query(
            "INSERT INTO commission_decisions (application_id, outcome, grounds, decided_on,
                 protocol_number, late_to_commission, notice_due_date, record_time,
                 put_to_commission_on)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(application_id)
        .bind(d.outcome.code())
        .bind(grounds.join(","))
        .bind(d.decided_on.format("%Y-%m-%d").to_string())
        .bind(&d.protocol_number)
        .bind(late_to_commission as i64)
        .bind(notice_due_date.format("%Y-%m-%d").to_string())
        .bind(ts(now))
        .bind(
            d.put_to_commission_on
                .map(|p| p.format("%Y-%m-%d").to_string()),
        )
        .execute(&mut *tx)
        .await?;
        for (i, a) in d.approved_counts.iter().enumerate() {
            sqlx::query(
                "INSERT INTO decision_lines (application_id, position, approved_count) VALUES ($1, $2, $3)",
            )
            .bind(application_id)
            .bind(i as i64)
            .bind(*a as i64)
            .execute(&mut *tx)
            .await?;
        }
        let row = fetch_decision(&mut tx, application_id)
            .await?
            .ok_or_else(|| StoreError::Corrupt("decision vanished".into()))?;
        audit_decision(&mut tx, actor, application_id, &row).await?;
        tx.commit().await?;
        Ok(row)
    }

    pub async fn get_decision(&self, application_id: &str) -> Result<Option<DecisionRow>> {
        let mut conn = self.pool().acquire().await?;
        fetch_decision(&mut conn, application_id).await
    }

    /// Decisions on the region's applications for the year, in application order.
    /// Submitted applications of a region and year that the Commission has not decided
    /// on (p. 12: the filing covers every application), oldest first.
    pub async fn undecided_applications(&self, region: &str, year: i64) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT a.id FROM applications a
             LEFT JOIN commission_decisions d ON d.application_id = a.id
             WHERE a.region_code = $1 AND a.quota_year = $2 AND a.state = 'SUBMITTED'
               AND d.application_id IS NULL
             ORDER BY a.submit_time, a.id",
        )
        .bind(region)
        .bind(year)
        .fetch_all(self.pool())
        .await?)
    }

    pub async fn region_decisions(&self, region: &str, year: i64) -> Result<Vec<DecisionRow>> {
        let mut conn = self.pool().acquire().await?;
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT d.application_id FROM commission_decisions d
             JOIN applications a ON a.id = d.application_id
             WHERE a.region_code = $1 AND a.quota_year = $2 AND a.state = 'SUBMITTED'
             ORDER BY a.seq",
        )
        .bind(region)
        .bind(year)
        .fetch_all(&mut *conn)
        .await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(d) = fetch_decision(&mut conn, &id).await? {
                out.push(d);
            }
        }
        Ok(out)
    }

    /// Stores the p. 11 notice and links it to the decision, once.
    pub async fn record_notice(
        &self,
        actor: &Actor,
        application_id: &str,
        doc: &NewDocument,
        late: bool,
        now: DateTime<Utc>,
    ) -> Result<DecisionRow> {
        self.stage(&[doc]).await?;
        let mut tx = self.write_tx().await?;
        let existing = fetch_decision(&mut tx, application_id)
            .await?
            .ok_or_else(|| {
                StoreError::FailedPrecondition(format!(
                    "the Commission has not decided on applications/{application_id} yet"
                ))
            })?;
        if let Some(doc) = existing.notice_document_id {
            return Err(StoreError::AlreadyExists(format!(
                "the employer was already notified: documents/{doc}"
            )));
        }
        insert_documents(&mut tx, &[doc], self.blobs().in_database()).await?;
        sqlx::query(
            "UPDATE commission_decisions SET notice_document_id = $1, notice_time = $2, notice_late = $3
             WHERE application_id = $4",
        )
        .bind(&doc.id)
        .bind(ts(now))
        .bind(late as i64)
        .bind(application_id)
        .execute(&mut *tx)
        .await?;
        let row = fetch_decision(&mut tx, application_id)
            .await?
            .ok_or_else(|| StoreError::Corrupt("decision vanished".into()))?;
        audit_decision(&mut tx, actor, application_id, &(&row, &doc.sha256)).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Stores a document on its own (e.g. a Commission protocol).
    pub async fn store_document(&self, actor: &Actor, doc: &NewDocument) -> Result<()> {
        self.stage(&[doc]).await?;
        let mut tx = self.write_tx().await?;
        insert_documents(&mut tx, &[doc], self.blobs().in_database()).await?;
        super::audit::record(
            &mut tx,
            actor,
            &format!("documents/{}", doc.id),
            None,
            None::<&()>,
            Some(&doc.sha256),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Replaces the region's need for labour immigrants if `expected_etag` is that of the
    /// stored one (empty: no check; AIP-154); returns the etag of the new one.
    pub async fn set_immigrant_need(
        &self,
        actor: &Actor,
        region: &str,
        year: i64,
        n: &ImmigrantNeedRow,
        expected_etag: &str,
        now: DateTime<Utc>,
    ) -> Result<String> {
        let name = need_name(region, year);
        let mut tx = self.write_tx().await?;
        ensure_open(&mut tx, region, year).await?;
        if !expected_etag.is_empty() {
            let stored = read_immigrant_need(&mut tx, region, year).await?;
            let stored = stored.map(|s| content_etag(&name, &s));
            check_etag(&name, expected_etag, stored)?;
        }
        sqlx::query(
            "INSERT INTO labour_immigrant_needs (region_code, quota_year, current_count,
                 need, justification, update_time, late) VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (region_code, quota_year) DO UPDATE SET
                 current_count = excluded.current_count, need = excluded.need,
                 justification = excluded.justification, update_time = excluded.update_time,
                 late = excluded.late",
        )
        .bind(region)
        .bind(year)
        .bind(n.current_count as i64)
        .bind(n.need as i64)
        .bind(&n.justification)
        .bind(ts(now))
        .bind(n.late as i64)
        .execute(&mut *tx)
        .await?;
        super::audit::record(&mut tx, actor, &name, Some(region), None::<&()>, Some(n)).await?;
        tx.commit().await?;
        Ok(content_etag(&name, n))
    }

    pub async fn immigrant_need(
        &self,
        region: &str,
        year: i64,
    ) -> Result<Option<ImmigrantNeedRow>> {
        let mut conn = self.pool().acquire().await?;
        read_immigrant_need(&mut conn, region, year).await
    }

    /// Countries with a ratified labour-migration treaty (p. 17): code and Russian name.
    pub async fn treaty_countries(&self) -> Result<Vec<(String, String)>> {
        let rows = sqlx::query("SELECT code, name_ru FROM treaty_countries ORDER BY code")
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("code")?, r.try_get("name_ru")?)))
            .collect()
    }

    /// Replaces the region's quota by country of origin if `expected_etag` is that of the
    /// stored one (empty: no check; AIP-154); returns the etag of the new one.
    pub async fn set_origin_quota(
        &self,
        actor: &Actor,
        region: &str,
        year: i64,
        rows: &[CountryRow],
        expected_etag: &str,
    ) -> Result<String> {
        let name = origin_quota_name(region, year);
        let mut tx = self.write_tx().await?;
        ensure_open(&mut tx, region, year).await?;
        if !expected_etag.is_empty() {
            let stored = read_origin_quota(&mut tx, region, year).await?;
            let stored = (!stored.is_empty()).then(|| content_etag(&name, &stored));
            check_etag(&name, expected_etag, stored)?;
        }
        for sql in [
            "DELETE FROM origin_country_lines WHERE region_code = $1 AND quota_year = $2",
            "DELETE FROM origin_country_quotas WHERE region_code = $1 AND quota_year = $2",
        ] {
            sqlx::query(sql)
                .bind(region)
                .bind(year)
                .execute(&mut *tx)
                .await?;
        }
        for (i, r) in rows.iter().enumerate() {
            sqlx::query(
                "INSERT INTO origin_country_quotas (region_code, quota_year, position, country_code,
                     first, second, third, fourth, seasonal) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(region)
            .bind(year)
            .bind(i as i64)
            .bind(&r.country_code)
            .bind(r.counts[0] as i64)
            .bind(r.counts[1] as i64)
            .bind(r.counts[2] as i64)
            .bind(r.counts[3] as i64)
            .bind(r.counts[4] as i64)
            .execute(&mut *tx)
            .await?;
            for (j, l) in r.lines.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO origin_country_lines (region_code, quota_year, country_code,
                         position, occupation_code, occupation_name, category, count)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(region)
                .bind(year)
                .bind(&r.country_code)
                .bind(j as i64)
                .bind(&l.occupation_code)
                .bind(&l.occupation_name)
                .bind(l.category.code())
                .bind(i64::from(l.count))
                .execute(&mut *tx)
                .await?;
            }
        }
        super::audit::record(&mut tx, actor, &name, Some(region), None::<&()>, Some(rows)).await?;
        tx.commit().await?;
        Ok(content_etag(&name, &rows))
    }

    pub async fn origin_quota(&self, region: &str, year: i64) -> Result<Vec<CountryRow>> {
        let mut conn = self.pool().acquire().await?;
        read_origin_quota(&mut conn, region, year).await
    }

    /// The digest of the region's filing inputs now; pass it to `file_with_ministry`.
    pub async fn filing_fingerprint(&self, region: &str, year: i64) -> Result<String> {
        let mut conn = self.pool().acquire().await?;
        filing_inputs(&mut conn, region, year).await
    }

    pub async fn filing(&self, region: &str, year: i64) -> Result<Option<FilingRow>> {
        sqlx::query(
            "SELECT appendix2_id, appendix3_id, appendix4_id, filed_time, late FROM regional_filings
             WHERE region_code = $1 AND quota_year = $2",
        )
        .bind(region)
        .bind(year)
        .fetch_optional(self.pool())
        .await?
        .map(|r| {
            Ok(FilingRow {
                appendix2_id: r.try_get("appendix2_id")?,
                appendix3_id: r.try_get("appendix3_id")?,
                appendix4_id: r.try_get("appendix4_id")?,
                filed_time: parse_ts(r.try_get("filed_time")?)?,
                late: r.try_get::<i64, _>("late")? != 0,
            })
        })
        .transpose()
    }

    /// Stores the three filed appendices and freezes the region's year, atomically.
    #[allow(clippy::too_many_arguments)] // the origin-country annex: one row of p. 20.1
    pub async fn file_with_ministry(
        &self,
        actor: &Actor,
        region: &str,
        year: i64,
        docs: [&NewDocument; 3],
        fingerprint: &str,
        late: bool,
        now: DateTime<Utc>,
    ) -> Result<FilingRow> {
        self.stage(&docs).await?;
        let mut tx = self.write_tx().await?;
        ensure_open(&mut tx, region, year).await?;
        if filing_inputs(&mut tx, region, year).await? != fingerprint {
            return Err(StoreError::EtagMismatch(format!(
                "the data of region {region} for {year} (changed while the filing was prepared)"
            )));
        }
        insert_documents(&mut tx, &docs, self.blobs().in_database()).await?;
        sqlx::query(
            "INSERT INTO regional_filings (region_code, quota_year, appendix2_id, appendix3_id,
                 appendix4_id, filed_time, late) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(region)
        .bind(year)
        .bind(&docs[0].id)
        .bind(&docs[1].id)
        .bind(&docs[2].id)
        .bind(ts(now))
        .bind(late as i64)
        .execute(&mut *tx)
        .await?;
        super::audit::record(
            &mut tx,
            actor,
            &format!("regions/{region}/filings/{year}"),
            Some(region),
            None::<&()>,
            Some(&(fingerprint, docs.map(|d| &d.sha256))),
        )
        .await?;
        tx.commit().await?;
        Ok(FilingRow {
            appendix2_id: docs[0].id.clone(),
            appendix3_id: docs[1].id.clone(),
            appendix4_id: docs[2].id.clone(),
            filed_time: now,
            late,
        })
    }

    pub async fn submit_proposal(&self, actor: &Actor, p: &ProposalRow) -> Result<ProposalRow> {
        // p. 13: a central body's proposal is accepted even after the region filed (the
        // ministry counts it when it forms the quota); after 1 November it is flagged late.
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO central_proposals (id, seq, body, region_code, quota_year, justification,
                 agreed_by_region, submit_time, agree_time, late)
             VALUES ($1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM central_proposals), $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&p.id)
        .bind(&p.body)
        .bind(&p.region_code)
        .bind(p.quota_year)
        .bind(&p.justification)
        .bind(p.agreed_by_region as i64)
        .bind(ts(p.submit_time))
        .bind(p.agree_time.map(ts))
        .bind(p.late as i64)
        .execute(&mut *tx)
        .await?;
        for (i, l) in p.lines.iter().enumerate() {
            sqlx::query(
                "INSERT INTO proposal_lines (proposal_id, position, occupation_code, occupation_name,
                     category, count) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&p.id)
            .bind(i as i64)
            .bind(&l.occupation_code)
            .bind(&l.occupation_name)
            .bind(l.category.code())
            .bind(l.count as i64)
            .execute(&mut *tx)
            .await?;
        }
        let row = fetch_proposal(&mut tx, &p.id).await?;
        super::audit::record(
            &mut tx,
            actor,
            &format!("proposals/{}", p.id),
            Some(&row.region_code),
            None::<&()>,
            Some(&row),
        )
        .await?;
        tx.commit().await?;
        Ok(row)
    }

    pub async fn agree_proposal(
        &self,
        actor: &Actor,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<ProposalRow> {
        let mut tx = self.write_tx().await?;
        let p = fetch_proposal(&mut tx, id).await?;
        if p.agreed_by_region {
            return Err(StoreError::FailedPrecondition(format!(
                "proposals/{id} is already agreed with the region"
            )));
        }
        sqlx::query(
            "UPDATE central_proposals SET agreed_by_region = 1, agree_time = $1 WHERE id = $2",
        )
        .bind(ts(now))
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let row = fetch_proposal(&mut tx, id).await?;
        super::audit::record(
            &mut tx,
            actor,
            &format!("proposals/{id}"),
            Some(&row.region_code),
            None::<&()>,
            Some(&row),
        )
        .await?;
        tx.commit().await?;
        Ok(row)
    }

    pub async fn get_proposal(&self, id: &str) -> Result<ProposalRow> {
        let mut conn = self.pool().acquire().await?;
        fetch_proposal(&mut conn, id).await
    }

    pub async fn list_proposals(
        &self,
        region: Option<&str>,
        year: Option<i64>,
    ) -> Result<Vec<ProposalRow>> {
        let mut conn = self.pool().acquire().await?;
        let ids: Vec<String> = sqlx::query_scalar(AssertSqlSafe(
            "SELECT id FROM central_proposals WHERE ($1 IS NULL OR region_code = $2)
               AND ($3 IS NULL OR quota_year = $4) ORDER BY seq"
                .to_string(),
        ))
        .bind(region)
        .bind(region)
        .bind(year)
        .bind(year)
        .fetch_all(&mut *conn)
        .await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.push(fetch_proposal(&mut conn, &id).await?);
        }
        Ok(out)
    }
}
