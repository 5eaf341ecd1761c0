//! The ministry's quota: labour force, the formed quota and its cells, and the published
//! versions of its decision.

use super::audit::Actor;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{AnyConnection, Row};

use super::documents::{self, NewDocument};
use super::{Result, Store, StoreError, is_unique_violation, parse_ts, ts};

pub use crate::domain::states::{Part, QuotaState};

/// One figure of a distribution, and a move of p. 21: the domain's, stored as they are.
pub use crate::domain::quota::{Cell as CellRow, Move as MoveRow};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRow {
    pub version: u32,
    pub document_id: String,
    pub publish_time: DateTime<Utc>,
    pub late: bool,
    pub cells: Vec<CellRow>,
    pub moves: Vec<MoveRow>,
}

/// A version of the decision about to be published.
#[derive(Debug, Clone, Copy)]
pub struct NewVersion<'a> {
    /// The number it must get: one more than the latest.
    pub version: u32,
    pub cells: &'a [CellRow],
    pub moves: &'a [MoveRow],
    pub doc: &'a NewDocument,
    pub late: bool,
    pub now: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaRow {
    pub id: String,
    pub quota_years: Vec<i32>,
    pub state: QuotaState,
    pub labour_force: u64,
    /// Per cent × 1000 of the labour force: permits, countries, immigrants.
    pub millis: [u32; 3],
    pub create_time: DateTime<Utc>,
    pub establish_time: Option<DateTime<Utc>>,
    pub publish_due_date: Option<NaiveDate>,
    /// The service's own reference ("КВ-2027-…"), kept for the audit trail.
    pub number: String,
    /// The ministry's registration of the establishing order (p. 19): number and date;
    /// empty and `None` until the quota is established.
    pub order_number: String,
    pub order_date: Option<NaiveDate>,
    pub cells: Vec<CellRow>,
    pub versions: Vec<VersionRow>,
}

async fn fetch(conn: &mut sqlx::AnyConnection, id: &str) -> Result<QuotaRow> {
    let r = sqlx::query("SELECT * FROM quotas WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("quotas/{id}")))?;
    let years: String = r.try_get("quota_years")?;
    let state: String = r.try_get("state")?;
    let cells = sqlx::query(
        "SELECT region_code, part, category, country_code, requested, granted FROM quota_cells
         WHERE quota_id = $1 ORDER BY region_code, part, country_code, category",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|c| {
        Ok(CellRow {
            region_code: c.try_get("region_code")?,
            part: {
                let p: String = c.try_get("part")?;
                Part::parse(&p).ok_or_else(|| StoreError::Corrupt(format!("quota part {p:?}")))?
            },
            category: c.try_get("category")?,
            country_code: c.try_get("country_code")?,
            requested: c.try_get::<i64, _>("requested")? as u64,
            granted: c.try_get::<i64, _>("granted")? as u64,
        })
    })
    .collect::<Result<Vec<_>>>()?;
    let versions = sqlx::query(
        "SELECT version, document_id, publish_time, late, cells_json, moves_json FROM quota_versions
         WHERE quota_id = $1 ORDER BY version",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|v| {
        let json = |c: &str| -> Result<String> { Ok(v.try_get::<String, _>(c)?) };
        Ok(VersionRow {
            version: v.try_get::<i64, _>("version")? as u32,
            document_id: v.try_get("document_id")?,
            publish_time: parse_ts(v.try_get("publish_time")?)?,
            late: v.try_get::<i64, _>("late")? != 0,
            cells: serde_json::from_str(&json("cells_json")?)
                .map_err(|e| StoreError::Corrupt(format!("version cells: {e}")))?,
            moves: serde_json::from_str(&json("moves_json")?)
                .map_err(|e| StoreError::Corrupt(format!("version moves: {e}")))?,
        })
    })
    .collect::<Result<Vec<_>>>()?;
    Ok(QuotaRow {
        id: r.try_get("id")?,
        quota_years: years
            .split(',')
            .map(|y| {
                y.parse()
                    .map_err(|_| StoreError::Corrupt(format!("years {years:?}")))
            })
            .collect::<Result<_>>()?,
        state: QuotaState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("quota state {state:?}")))?,
        labour_force: r.try_get::<i64, _>("labour_force")? as u64,
        millis: [
            r.try_get::<i64, _>("permit_millis")? as u32,
            r.try_get::<i64, _>("country_millis")? as u32,
            r.try_get::<i64, _>("immigrant_millis")? as u32,
        ],
        create_time: parse_ts(r.try_get("create_time")?)?,
        establish_time: r
            .try_get::<Option<String>, _>("establish_time")?
            .as_deref()
            .map(parse_ts)
            .transpose()?,
        publish_due_date: r
            .try_get::<Option<String>, _>("publish_due_date")?
            .map(|d| {
                NaiveDate::parse_from_str(&d, "%Y-%m-%d")
                    .map_err(|e| StoreError::Corrupt(format!("date {d:?}: {e}")))
            })
            .transpose()?,
        number: r.try_get("number")?,
        order_number: r.try_get("order_number")?,
        order_date: Some(r.try_get::<String, _>("order_date")?)
            .filter(|d| !d.is_empty())
            .map(|d| {
                NaiveDate::parse_from_str(&d, "%Y-%m-%d")
                    .map_err(|e| StoreError::Corrupt(format!("order date {d:?}: {e}")))
            })
            .transpose()?,
        cells,
        versions,
    })
}

async fn write_cells(tx: &mut AnyConnection, id: &str, cells: &[CellRow]) -> Result<()> {
    sqlx::query("DELETE FROM quota_cells WHERE quota_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    for c in cells {
        sqlx::query(
            "INSERT INTO quota_cells (quota_id, region_code, part, category, country_code,
                 requested, granted) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id)
        .bind(&c.region_code)
        .bind(c.part.code())
        .bind(&c.category)
        .bind(&c.country_code)
        .bind(c.requested as i64)
        .bind(c.granted as i64)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

fn wrong_state(q: &QuotaRow, action: &str) -> StoreError {
    StoreError::FailedPrecondition(format!(
        "quotas/{} is {} and cannot be {action}",
        q.id,
        q.state.code()
    ))
}

impl Store {
    pub async fn set_labour_force(
        &self,
        actor: &Actor,
        year: i64,
        region: &str,
        persons: u64,
        source: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO labour_force (quota_year, region_code, persons, source, update_time)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (quota_year, region_code) DO UPDATE SET persons = excluded.persons,
                 source = excluded.source, update_time = excluded.update_time",
        )
        .bind(year)
        .bind(region)
        .bind(persons as i64)
        .bind(source)
        .bind(ts(now))
        .execute(&mut *tx)
        .await?;
        super::audit::record(
            &mut tx,
            actor,
            &format!("labour-force/{year}/{region}"),
            Some(region),
            None::<&()>,
            Some(&(persons, source)),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The labour force of each region that has a figure for the year.
    pub async fn labour_force(&self, year: i64) -> Result<Vec<(String, u64)>> {
        let rows =
            sqlx::query("SELECT region_code, persons FROM labour_force WHERE quota_year = $1")
                .bind(year)
                .fetch_all(self.pool())
                .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("region_code")?,
                    r.try_get::<i64, _>("persons")? as u64,
                ))
            })
            .collect()
    }

    pub async fn create_quota(&self, actor: &Actor, q: &QuotaRow) -> Result<QuotaRow> {
        let mut tx = self.write_tx().await?;
        let years: Vec<String> = q.quota_years.iter().map(|y| y.to_string()).collect();
        sqlx::query(
            "INSERT INTO quotas (id, seq, quota_years, first_year, state, labour_force, permit_millis,
                 country_millis, immigrant_millis, create_time, number)
             VALUES ($1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM quotas), $2, $3, 'DRAFT', $4, $5, $6, $7, $8, $9)",
        )
        .bind(&q.id)
        .bind(years.join(","))
        .bind(i64::from(q.quota_years[0]))
        .bind(q.labour_force as i64)
        .bind(i64::from(q.millis[0]))
        .bind(i64::from(q.millis[1]))
        .bind(i64::from(q.millis[2]))
        .bind(ts(q.create_time))
        .bind(&q.number)
        .execute(&mut *tx)
        .await?;
        write_cells(&mut tx, &q.id, &q.cells).await?;
        let row = fetch(&mut tx, &q.id).await?;
        super::audit::record(
            &mut tx,
            actor,
            &format!("quotas/{}", q.id),
            None,
            None::<&()>,
            Some(&row),
        )
        .await?;
        tx.commit().await?;
        Ok(row)
    }

    pub async fn get_quota(&self, id: &str) -> Result<QuotaRow> {
        let mut conn = self.pool().acquire().await?;
        fetch(&mut conn, id).await
    }

    /// Replaces a draft's cells after `check` accepts the new figures.
    pub async fn adjust_quota(
        &self,
        actor: &Actor,
        id: &str,
        check: impl FnOnce(&QuotaRow) -> std::result::Result<Vec<CellRow>, StoreError>,
    ) -> Result<QuotaRow> {
        let mut tx = self.write_tx().await?;
        let q = fetch(&mut tx, id).await?;
        if q.state != QuotaState::Draft {
            return Err(wrong_state(&q, "adjusted"));
        }
        let cells = check(&q)?;
        write_cells(&mut tx, id, &cells).await?;
        let row = fetch(&mut tx, id).await?;
        super::audit::record(
            &mut tx,
            actor,
            &format!("quotas/{id}"),
            None,
            Some(&q),
            Some(&row),
        )
        .await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Establishes a draft under the ministry's order `order` (number, date; p. 19).
    pub async fn establish_quota(
        &self,
        actor: &Actor,
        id: &str,
        order: (&str, NaiveDate),
        now: DateTime<Utc>,
        publish_due: NaiveDate,
    ) -> Result<QuotaRow> {
        let mut tx = self.write_tx().await?;
        let q = fetch(&mut tx, id).await?;
        if q.state != QuotaState::Draft {
            return Err(wrong_state(&q, "established"));
        }
        // One established quota per year: a multi-year quota may not overlap another.
        let others: Vec<String> = sqlx::query_scalar(
            "SELECT quota_years FROM quotas WHERE state <> 'DRAFT' AND id <> $1",
        )
        .bind(id)
        .fetch_all(&mut *tx)
        .await?;
        for years in others {
            if let Some(y) = years
                .split(',')
                .filter_map(|y| y.parse::<i32>().ok())
                .find(|y| q.quota_years.contains(y))
            {
                return Err(StoreError::AlreadyExists(format!(
                    "a quota for {y} is already established"
                )));
            }
        }
        let r = sqlx::query(
            "UPDATE quotas SET state = 'ESTABLISHED', establish_time = $1, publish_due_date = $2,
                 order_number = $3, order_date = $4 WHERE id = $5",
        )
        .bind(ts(now))
        .bind(publish_due.format("%Y-%m-%d").to_string())
        .bind(order.0)
        .bind(order.1.format("%Y-%m-%d").to_string())
        .bind(id)
        .execute(&mut *tx)
        .await;
        match r {
            Err(e) if is_unique_violation(&e) => {
                return Err(StoreError::AlreadyExists(format!(
                    "a quota for {} is already established",
                    q.quota_years[0]
                )));
            }
            other => other?,
        };
        let row = fetch(&mut tx, id).await?;
        super::audit::record(
            &mut tx,
            actor,
            &format!("quotas/{id}"),
            None,
            Some(&q),
            Some(&row),
        )
        .await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Publishes a new version: stores its sealed document and, for a redistribution, the
    /// new figures, all in one transaction. `expected_version` guards against a race.
    pub async fn publish_version(
        &self,
        actor: &Actor,
        id: &str,
        v: &NewVersion<'_>,
    ) -> Result<QuotaRow> {
        let NewVersion {
            version: expected_version,
            cells,
            moves,
            doc,
            late,
            now,
        } = *v;
        self.stage(&[doc]).await?;
        let mut tx = self.write_tx().await?;
        let q = fetch(&mut tx, id).await?;
        let current = q.versions.last().map_or(0, |v| v.version);
        if current + 1 != expected_version {
            return Err(StoreError::EtagMismatch(format!("quotas/{id}")));
        }
        if q.state == QuotaState::Draft {
            return Err(wrong_state(&q, "published"));
        }
        documents::insert(&mut tx, doc, self.blobs().in_database()).await?;
        write_cells(&mut tx, id, cells).await?;
        sqlx::query(
            "INSERT INTO quota_versions (quota_id, version, document_id, publish_time, late,
                 cells_json, moves_json) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id)
        .bind(i64::from(expected_version))
        .bind(&doc.id)
        .bind(ts(now))
        .bind(late as i64)
        .bind(serde_json::to_string(cells).expect("serialisable"))
        .bind(serde_json::to_string(moves).expect("serialisable"))
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE quotas SET state = 'PUBLISHED' WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let row = fetch(&mut tx, id).await?;
        super::audit::record(
            &mut tx,
            actor,
            &format!("quotas/{id}"),
            None,
            Some(&q),
            Some(&row),
        )
        .await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Quotas that are established or published, optionally those covering a year.
    pub async fn established_quotas(&self, year: Option<i32>) -> Result<Vec<QuotaRow>> {
        let mut conn = self.pool().acquire().await?;
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM quotas WHERE state <> 'DRAFT' ORDER BY first_year, seq",
        )
        .fetch_all(&mut *conn)
        .await?;
        let mut out = Vec::new();
        for id in ids {
            let q = fetch(&mut conn, &id).await?;
            if year.is_none_or(|y| q.quota_years.contains(&y)) {
                out.push(q);
            }
        }
        Ok(out)
    }
}

impl QuotaRow {
    /// The labour force and per cents the parts' ceilings are made of.
    pub fn shares(&self) -> crate::domain::quota::Shares {
        crate::domain::quota::Shares {
            labour_force: self.labour_force,
            millis: self.millis,
        }
    }
}

/// Everything a quota of `year` is formed from (p. 13, 18), summed by place:
/// the Commission's decisions on the applications of each region that filed (Appendix 2:
/// approved counts of the decisions that are not refusals), its countries of origin with
/// a treaty (Appendix 4) and its labour immigrants (Appendix 3), and the central bodies'
/// proposals the region agreed to, filed or not. Zero sums are left out.
const QUOTA_REQUESTS: &str = "
    WITH y (year) AS (SELECT $1)
    SELECT region_code, part, category, country_code, CAST(SUM(n) AS BIGINT) AS requested FROM (
        SELECT a.region_code AS region_code, 'PERMITS' AS part, l.category AS category,
               '' AS country_code, dl.approved_count AS n
          FROM applications a
          JOIN regional_filings f ON f.region_code = a.region_code AND f.quota_year = a.quota_year
          JOIN commission_decisions d ON d.application_id = a.id
          JOIN decision_lines dl ON dl.application_id = a.id
          JOIN application_lines l ON l.application_id = a.id AND l.position = dl.position
         WHERE a.quota_year = (SELECT year FROM y) AND a.state = 'SUBMITTED'
           AND d.outcome <> 'REJECTED'
        UNION ALL
        SELECT q.region_code, 'COUNTRIES', k.category, q.country_code,
               CASE k.category WHEN '1' THEN q.first WHEN '2' THEN q.second
                               WHEN '3' THEN q.third WHEN '4' THEN q.fourth
                               ELSE q.seasonal END
          FROM origin_country_quotas q
          JOIN regional_filings f ON f.region_code = q.region_code AND f.quota_year = q.quota_year
          JOIN treaty_countries c ON c.code = q.country_code
         CROSS JOIN (SELECT '1' AS category UNION ALL SELECT '2' UNION ALL SELECT '3'
                     UNION ALL SELECT '4' UNION ALL SELECT 'seasonal') k
         WHERE q.quota_year = (SELECT year FROM y)
        UNION ALL
        SELECT n.region_code, 'IMMIGRANTS', '', '', n.need
          FROM labour_immigrant_needs n
          JOIN regional_filings f ON f.region_code = n.region_code AND f.quota_year = n.quota_year
         WHERE n.quota_year = (SELECT year FROM y)
        UNION ALL
        SELECT p.region_code, 'PERMITS', pl.category, '', pl.count
          FROM central_proposals p
          JOIN proposal_lines pl ON pl.proposal_id = p.id
         WHERE p.quota_year = (SELECT year FROM y) AND p.agreed_by_region = 1
    ) AS sums
    GROUP BY region_code, part, category, country_code
    HAVING SUM(n) > 0";

impl Store {
    /// The requests a quota of `year` is formed from, one cell a place with nothing
    /// granted yet, in one query (one snapshot of the filings): ordered by region, part
    /// (as [`Part`] orders), category and country.
    pub async fn quota_requests(&self, year: i64) -> Result<Vec<CellRow>> {
        let rows = sqlx::query(QUOTA_REQUESTS)
            .bind(year)
            .fetch_all(self.pool())
            .await?;
        let mut cells = rows
            .iter()
            .map(|r| {
                let part: String = r.try_get("part")?;
                Ok(CellRow {
                    region_code: r.try_get("region_code")?,
                    part: Part::parse(&part)
                        .ok_or_else(|| StoreError::Corrupt(format!("quota part {part:?}")))?,
                    category: r.try_get("category")?,
                    country_code: r.try_get("country_code")?,
                    requested: u64::try_from(r.try_get::<i64, _>("requested")?)
                        .map_err(|e| StoreError::Corrupt(format!("requested count: {e}")))?,
                    granted: 0,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        cells.sort_by(|a, b| {
            (&a.region_code, a.part, &a.category, &a.country_code).cmp(&(
                &b.region_code,
                b.part,
                &b.category,
                &b.country_code,
            ))
        });
        Ok(cells)
    }
}
