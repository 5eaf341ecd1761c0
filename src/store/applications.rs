//! Employers' applications and their demand lines.

use super::audit::Actor;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::AssertSqlSafe;
use sqlx::{AnyConnection, Row};

use super::documents::{self, NewDocument};
use super::{Result, Store, StoreError, is_unique_violation, parse_ts, ts};
use crate::domain::{ApplicationDraft, WorkerCategory};

pub use crate::domain::states::ApplicationState;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineRow {
    pub occupation_code: String,
    pub occupation_name: String,
    pub category: WorkerCategory,
    pub current_count: u32,
    pub requested_count: u32,
}

/// An application as stored; it was valid when it was accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationRow {
    pub id: String,
    pub seq: i64,
    pub quota_year: i64,
    pub region_code: String,
    pub employer_bin: String,
    pub employer_name: String,
    pub employer_address: String,
    pub justification: String,
    pub head_position: String,
    pub head_full_name: String,
    pub state: ApplicationState,
    pub revision: i64,
    pub etag: String,
    pub create_time: DateTime<Utc>,
    pub update_time: DateTime<Utc>,
    pub submit_time: Option<DateTime<Utc>>,
    pub document_id: Option<String>,
    pub lines: Vec<LineRow>,
}

/// Filters of `ListApplications`; `None` matches all.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub quota_year: Option<i64>,
    pub region_code: Option<String>,
    pub employer_bin: Option<String>,
    pub state: Option<ApplicationState>,
}

/// An opaque version tag that changes with every stored change (AIP-154).
fn etag(id: &str, revision: i64) -> String {
    let digest = Sha256::digest(format!("{id}/{revision}").as_bytes());
    hex::encode(&digest[..12])
}

fn duplicate(d: &ApplicationDraft) -> StoreError {
    StoreError::AlreadyExists(format!(
        "employer {} already has an application for {} in region {}; withdraw it first (p. 6: one application per region and year)",
        d.employer_bin,
        d.quota_year.get(),
        d.region_code
    ))
}

const COLUMNS: &str = "id, seq, quota_year, region_code, employer_bin, employer_name, \
    employer_address, justification, head_position, head_full_name, state, revision, etag, \
    create_time, update_time, submit_time, document_id";

async fn load_lines(conn: &mut sqlx::AnyConnection, id: &str) -> Result<Vec<LineRow>> {
    let rows = sqlx::query(
        "SELECT occupation_code, occupation_name, category, current_count, requested_count
         FROM application_lines WHERE application_id = $1 ORDER BY position",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(line_from_row).collect()
}

fn line_from_row(r: &sqlx::any::AnyRow) -> Result<LineRow> {
    let category: String = r.try_get("category")?;
    Ok(LineRow {
        occupation_code: r.try_get("occupation_code")?,
        occupation_name: r.try_get("occupation_name")?,
        category: WorkerCategory::from_code(&category)
            .ok_or_else(|| StoreError::Corrupt(format!("category {category:?}")))?,
        current_count: r.try_get::<i64, _>("current_count")? as u32,
        requested_count: r.try_get::<i64, _>("requested_count")? as u32,
    })
}

/// An application and its lines in one query: a row per line, or one row whose line
/// columns are NULL for none. With the region's name and its body's legal name, too.
fn joined_query(names: bool) -> String {
    let columns: Vec<String> = COLUMNS
        .split(',')
        .map(|c| format!("a.{}", c.trim()))
        .collect();
    let (names_columns, names_joins) = if names {
        (
            ", r.name_ru AS region_name, b.legal_name_ru AS body_name",
            " LEFT JOIN regions r ON r.kato = a.region_code LEFT JOIN bodies b ON b.id = a.region_code",
        )
    } else {
        ("", "")
    };
    format!(
        "SELECT {}, l.occupation_code, l.occupation_name, l.category, l.current_count,
             l.requested_count{names_columns}
         FROM applications a LEFT JOIN application_lines l ON l.application_id = a.id{names_joins}
         WHERE a.id = $1 ORDER BY l.position",
        columns.join(", ")
    )
}

static JOINED: std::sync::LazyLock<[String; 2]> =
    std::sync::LazyLock::new(|| [joined_query(false), joined_query(true)]);

/// An application with its lines, in one round trip; with `names`, also its region's name
/// and its body's legal name (`None` when either is missing).
async fn fetch_joined(
    conn: &mut sqlx::AnyConnection,
    id: &str,
    names: bool,
) -> Result<(ApplicationRow, Option<(String, String)>)> {
    let rows = sqlx::query(AssertSqlSafe(JOINED[names as usize].as_str()))
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
    let first = rows
        .first()
        .ok_or_else(|| StoreError::NotFound(format!("applications/{id}")))?;
    let mut app = head_from_row(first)?;
    if first
        .try_get::<Option<String>, _>("occupation_code")?
        .is_some()
    {
        app.lines = rows.iter().map(line_from_row).collect::<Result<_>>()?;
    }
    let names = if names {
        match (
            first.try_get::<Option<String>, _>("region_name")?,
            first.try_get::<Option<String>, _>("body_name")?,
        ) {
            (Some(region), Some(body)) => Some((region, body)),
            _ => None,
        }
    } else {
        None
    };
    Ok((app, names))
}

fn head_from_row(r: &sqlx::any::AnyRow) -> Result<ApplicationRow> {
    Ok(ApplicationRow {
        id: r.try_get("id")?,
        seq: r.try_get("seq")?,
        quota_year: r.try_get("quota_year")?,
        region_code: r.try_get("region_code")?,
        employer_bin: r.try_get("employer_bin")?,
        employer_name: r.try_get("employer_name")?,
        employer_address: r.try_get("employer_address")?,
        justification: r.try_get("justification")?,
        head_position: r.try_get("head_position")?,
        head_full_name: r.try_get("head_full_name")?,
        state: {
            let s: String = r.try_get("state")?;
            ApplicationState::parse(&s)
                .ok_or_else(|| StoreError::Corrupt(format!("application state {s:?}")))?
        },
        revision: r.try_get("revision")?,
        etag: r.try_get("etag")?,
        create_time: parse_ts(r.try_get("create_time")?)?,
        update_time: parse_ts(r.try_get("update_time")?)?,
        submit_time: r
            .try_get::<Option<String>, _>("submit_time")?
            .as_deref()
            .map(parse_ts)
            .transpose()?,
        document_id: r.try_get("document_id")?,
        lines: Vec::new(),
    })
}

async fn fetch(conn: &mut sqlx::AnyConnection, id: &str) -> Result<ApplicationRow> {
    Ok(fetch_joined(conn, id, false).await?.0)
}

async fn write_lines(tx: &mut AnyConnection, id: &str, d: &ApplicationDraft) -> Result<()> {
    sqlx::query("DELETE FROM application_lines WHERE application_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    insert_lines(tx, id, d).await
}

/// A new application's lines, in one statement.
async fn insert_lines(tx: &mut AnyConnection, id: &str, d: &ApplicationDraft) -> Result<()> {
    if d.lines.is_empty() {
        return Ok(());
    }
    let values: Vec<String> = (0..d.lines.len())
        .map(|i| {
            let p = i * 7;
            format!(
                "(${}, ${}, ${}, ${}, ${}, ${}, ${})",
                p + 1,
                p + 2,
                p + 3,
                p + 4,
                p + 5,
                p + 6,
                p + 7
            )
        })
        .collect();
    let sql = format!(
        "INSERT INTO application_lines (application_id, position, occupation_code,
             occupation_name, category, current_count, requested_count)
         VALUES {}",
        values.join(", ")
    );
    let mut q = sqlx::query(AssertSqlSafe(sql));
    for (i, l) in d.lines.iter().enumerate() {
        q = q
            .bind(id)
            .bind(i as i64)
            .bind(l.occupation_code.as_str())
            .bind(&l.occupation_name)
            .bind(l.category.code())
            .bind(l.current_count as i64)
            .bind(l.requested_count as i64);
    }
    q.execute(&mut *tx).await?;
    Ok(())
}

/// A draft's line as stored.
fn line_row(l: &crate::domain::DemandLine) -> LineRow {
    LineRow {
        occupation_code: l.occupation_code.as_str().to_owned(),
        occupation_name: l.occupation_name.clone(),
        category: l.category,
        current_count: l.current_count,
        requested_count: l.requested_count,
    }
}

async fn fetch_for_change(
    tx: &mut AnyConnection,
    id: &str,
    expected_etag: &str,
    allowed: &[ApplicationState],
    action: &str,
) -> Result<ApplicationRow> {
    let app = fetch(tx, id).await?;
    check_change(&app, expected_etag, allowed, action)?;
    Ok(app)
}

/// That `app` is in a state `allowed` to be `action` and (unless `expected_etag` is
/// empty) has that etag.
fn check_change(
    app: &ApplicationRow,
    expected_etag: &str,
    allowed: &[ApplicationState],
    action: &str,
) -> Result<()> {
    let id = &app.id;
    if !allowed.contains(&app.state) {
        return Err(StoreError::FailedPrecondition(format!(
            "applications/{id} is {} and cannot be {action}",
            app.state.as_str()
        )));
    }
    if !expected_etag.is_empty() && expected_etag != app.etag {
        return Err(StoreError::EtagMismatch(format!("applications/{id}")));
    }
    Ok(())
}

impl Store {
    /// Stores a new draft. A `request_id` seen before returns the application the first
    /// request made (AIP-155).
    pub async fn create_application(
        &self,
        actor: &Actor,
        id: &str,
        d: &ApplicationDraft,
        request_id: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<ApplicationRow> {
        let mut tx = self.write_tx().await?;
        if let Some(rid) = request_id {
            let seen: Option<String> = sqlx::query_scalar(
                "SELECT application_id FROM request_ids WHERE request_id = $1 AND method = 'CreateApplication'",
            )
            .bind(rid)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(existing) = seen {
                return fetch(&mut tx, &existing).await;
            }
        }
        // A region that filed with the ministry takes no new applications for that year:
        // checked in the insert itself (one statement fewer on a busy path); when no row
        // is inserted, `ensure_open` says why.
        let revision = 1;
        let inserted = sqlx::query_scalar::<_, i64>(
            "INSERT INTO applications (id, seq, quota_year, region_code, employer_bin,
                 employer_name, employer_address, justification, head_position, head_full_name,
                 state, revision, etag, create_time, update_time)
             SELECT $1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM applications), $2, $3, $4, $5, $6,
                 $7, $8, $9, 'DRAFT', $10, $11, $12, $13
             WHERE NOT EXISTS (SELECT 1 FROM regional_filings
                               WHERE region_code = $14 AND quota_year = $15)
             RETURNING seq",
        )
        .bind(id)
        .bind(d.quota_year.get() as i64)
        .bind(d.region_code.as_str())
        .bind(d.employer_bin.as_str())
        .bind(&d.employer_name)
        .bind(&d.employer_legal_address)
        .bind(&d.justification)
        .bind(&d.head_position)
        .bind(&d.head_full_name)
        .bind(revision)
        .bind(etag(id, revision))
        .bind(ts(now))
        .bind(ts(now))
        .bind(d.region_code.as_str())
        .bind(d.quota_year.get() as i64)
        .fetch_optional(&mut *tx)
        .await;
        let seq = match inserted {
            Err(e) if is_unique_violation(&e) => return Err(duplicate(d)),
            Ok(None) => {
                super::regional::ensure_open(
                    &mut tx,
                    d.region_code.as_str(),
                    i64::from(d.quota_year.get()),
                )
                .await?;
                return Err(StoreError::Corrupt(format!(
                    "applications/{id} was not inserted, yet its region is open"
                )));
            }
            Ok(Some(seq)) => seq,
            Err(e) => return Err(e.into()),
        };
        insert_lines(&mut tx, id, d).await?;
        if let Some(rid) = request_id {
            sqlx::query(
                "INSERT INTO request_ids (request_id, method, application_id, create_time)
                 VALUES ($1, 'CreateApplication', $2, $3)",
            )
            .bind(rid)
            .bind(id)
            .bind(ts(now))
            .execute(&mut *tx)
            .await?;
        }
        // The row as stored, without reading it back (as after a submit).
        let stamp = parse_ts(&ts(now))?;
        let app = ApplicationRow {
            id: id.to_owned(),
            seq,
            quota_year: i64::from(d.quota_year.get()),
            region_code: d.region_code.as_str().to_owned(),
            employer_bin: d.employer_bin.as_str().to_owned(),
            employer_name: d.employer_name.clone(),
            employer_address: d.employer_legal_address.clone(),
            justification: d.justification.clone(),
            head_position: d.head_position.clone(),
            head_full_name: d.head_full_name.clone(),
            state: ApplicationState::Draft,
            revision,
            etag: etag(id, revision),
            create_time: stamp,
            update_time: stamp,
            submit_time: None,
            document_id: None,
            lines: d.lines.iter().map(line_row).collect(),
        };
        debug_assert_eq!(app, fetch(&mut tx, id).await?);
        super::audit::record(
            &mut tx,
            actor,
            &format!("applications/{id}"),
            Some(&app.region_code),
            None::<&()>,
            Some(&app),
        )
        .await?;
        tx.commit().await?;
        Ok(app)
    }

    pub async fn get_application(&self, id: &str) -> Result<ApplicationRow> {
        let mut conn = self.pool().acquire().await?;
        fetch(&mut conn, id).await
    }

    /// Applications in creation order after `after_seq`, at most `limit`.
    pub async fn list_applications(
        &self,
        f: &ListFilter,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<ApplicationRow>> {
        let mut conn = self.pool().acquire().await?;
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM applications
             WHERE seq > $1
               AND ($2 IS NULL OR quota_year = $3)
               AND ($4 IS NULL OR region_code = $5)
               AND ($6 IS NULL OR employer_bin = $7)
               AND ($8 IS NULL OR state = $9)
             ORDER BY seq LIMIT $10"
        )))
        .bind(after_seq)
        .bind(f.quota_year)
        .bind(f.quota_year)
        .bind(&f.region_code)
        .bind(&f.region_code)
        .bind(&f.employer_bin)
        .bind(&f.employer_bin)
        .bind(f.state.map(|s| s.as_str()))
        .bind(f.state.map(|s| s.as_str()))
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?;
        let mut apps = rows.iter().map(head_from_row).collect::<Result<Vec<_>>>()?;
        for app in &mut apps {
            app.lines = load_lines(&mut conn, &app.id).await?;
        }
        Ok(apps)
    }

    /// Replaces a draft's content, if the caller's etag is current.
    pub async fn update_application(
        &self,
        actor: &Actor,
        id: &str,
        expected_etag: &str,
        d: &ApplicationDraft,
        now: DateTime<Utc>,
    ) -> Result<ApplicationRow> {
        let mut tx = self.write_tx().await?;
        let app = fetch_for_change(
            &mut tx,
            id,
            expected_etag,
            &[ApplicationState::Draft],
            "edited",
        )
        .await?;
        super::regional::ensure_open(&mut tx, &app.region_code, app.quota_year).await?;
        super::regional::ensure_open(
            &mut tx,
            d.region_code.as_str(),
            i64::from(d.quota_year.get()),
        )
        .await?;
        let revision = app.revision + 1;
        let updated = sqlx::query(
            "UPDATE applications SET quota_year = $1, region_code = $2, employer_bin = $3,
                 employer_name = $4, employer_address = $5, justification = $6, head_position = $7,
                 head_full_name = $8, revision = $9, etag = $10, update_time = $11
             WHERE id = $12",
        )
        .bind(d.quota_year.get() as i64)
        .bind(d.region_code.as_str())
        .bind(d.employer_bin.as_str())
        .bind(&d.employer_name)
        .bind(&d.employer_legal_address)
        .bind(&d.justification)
        .bind(&d.head_position)
        .bind(&d.head_full_name)
        .bind(revision)
        .bind(etag(id, revision))
        .bind(ts(now))
        .bind(id)
        .execute(&mut *tx)
        .await;
        match updated {
            Err(e) if is_unique_violation(&e) => return Err(duplicate(d)),
            other => other?,
        };
        write_lines(&mut tx, id, d).await?;
        let before = app;
        let app = fetch(&mut tx, id).await?;
        super::audit::record(
            &mut tx,
            actor,
            &format!("applications/{id}"),
            Some(&app.region_code),
            Some(&before),
            Some(&app),
        )
        .await?;
        tx.commit().await?;
        Ok(app)
    }

    /// Marks a draft submitted and stores its sealed document, in one transaction.
    /// `before` is the application as `check_submittable` read it: the update applies
    /// only while its etag (and so all of it) is unchanged, it is still a draft and its
    /// region has not filed; otherwise nothing is stored and the error says which.
    pub async fn submit_application(
        &self,
        actor: &Actor,
        before: &ApplicationRow,
        document: &NewDocument,
        now: DateTime<Utc>,
    ) -> Result<ApplicationRow> {
        let id = before.id.as_str();
        self.stage(&[document]).await?;
        let mut tx = self.write_tx().await?;
        documents::insert(&mut tx, document, self.blobs().in_database()).await?;
        let revision = before.revision + 1;
        let updated = sqlx::query(
            "UPDATE applications SET state = 'SUBMITTED', revision = $1, etag = $2, update_time = $3,
                 submit_time = $4, document_id = $5
             WHERE id = $6 AND etag = $7 AND state = 'DRAFT'
               AND NOT EXISTS (SELECT 1 FROM regional_filings
                               WHERE region_code = $8 AND quota_year = $9)",
        )
        .bind(revision)
        .bind(etag(id, revision))
        .bind(ts(now))
        .bind(ts(now))
        .bind(&document.id)
        .bind(id)
        .bind(&before.etag)
        .bind(&before.region_code)
        .bind(before.quota_year)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() != 1 {
            // Why not: the current row says (state, etag), or the region's filing does.
            let now_row = fetch_for_change(
                &mut tx,
                id,
                &before.etag,
                &[ApplicationState::Draft],
                "submitted",
            )
            .await?;
            super::regional::ensure_open(&mut tx, &now_row.region_code, now_row.quota_year).await?;
            return Err(StoreError::EtagMismatch(format!("applications/{id}")));
        }
        // The row as stored, without reading it back: times as they round-trip through
        // their stored text.
        let stamp = parse_ts(&ts(now))?;
        let app = ApplicationRow {
            state: ApplicationState::Submitted,
            revision,
            etag: etag(id, revision),
            update_time: stamp,
            submit_time: Some(stamp),
            document_id: Some(document.id.clone()),
            ..before.clone()
        };
        debug_assert_eq!(app, fetch(&mut tx, id).await?);
        super::audit::record(
            &mut tx,
            actor,
            &format!("applications/{id}"),
            Some(&app.region_code),
            Some(before),
            Some(&(&app, &document.sha256)),
        )
        .await?;
        tx.commit().await?;
        Ok(app)
    }

    /// Checks, without changing anything, that a submit with this etag could proceed;
    /// rendering and sealing happen between this and `submit_application`. Returns the
    /// application, and the names its Appendix 1 is addressed with (its region's, and its
    /// body's legal name; `None` when either is missing, which
    /// [`Store::region_and_body_names`] then names), read in the same query.
    ///
    /// No transaction: should the application change between its two reads, its etag
    /// changed too, and `submit_application`, which compares the etag read here inside
    /// its write transaction, refuses.
    pub async fn check_submittable(
        &self,
        id: &str,
        expected_etag: &str,
    ) -> Result<(ApplicationRow, Option<(String, String)>)> {
        let mut conn = self.pool().acquire().await?;
        let (app, names) = fetch_joined(&mut conn, id, true).await?;
        check_change(&app, expected_etag, &[ApplicationState::Draft], "submitted")?;
        Ok((app, names))
    }

    /// Withdraws a draft or a submitted application; its slot for the employer, region and
    /// year is freed.
    pub async fn withdraw_application(
        &self,
        actor: &Actor,
        id: &str,
        expected_etag: &str,
        now: DateTime<Utc>,
    ) -> Result<ApplicationRow> {
        let mut tx = self.write_tx().await?;
        let app = fetch_for_change(
            &mut tx,
            id,
            expected_etag,
            &[ApplicationState::Draft, ApplicationState::Submitted],
            "withdrawn",
        )
        .await?;
        super::regional::ensure_open(&mut tx, &app.region_code, app.quota_year).await?;
        // After the Commission's decision the application is part of the region's
        // generalisation (p. 7–12): it can no longer be taken back.
        let decided: Option<String> = sqlx::query_scalar(
            "SELECT decided_on FROM commission_decisions WHERE application_id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(on) = decided {
            return Err(StoreError::FailedPrecondition(format!(
                "the Commission decided on applications/{id} on {on}: it can no longer be withdrawn"
            )));
        }
        let revision = app.revision + 1;
        sqlx::query(
            "UPDATE applications SET state = 'WITHDRAWN', revision = $1, etag = $2, update_time = $3
             WHERE id = $4",
        )
        .bind(revision)
        .bind(etag(id, revision))
        .bind(ts(now))
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let before = app;
        let app = fetch(&mut tx, id).await?;
        super::audit::record(
            &mut tx,
            actor,
            &format!("applications/{id}"),
            Some(&app.region_code),
            Some(&before),
            Some(&app),
        )
        .await?;
        tx.commit().await?;
        Ok(app)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An application as two queries read it (its row, then its lines).
    async fn fetch_apart(conn: &mut AnyConnection, id: &str) -> ApplicationRow {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM applications WHERE id = $1"
        )))
        .bind(id)
        .fetch_one(&mut *conn)
        .await
        .unwrap();
        let mut app = head_from_row(&row).unwrap();
        app.lines = load_lines(conn, id).await.unwrap();
        app
    }

    /// One query reads an application as its row and its lines' query read it: lines in
    /// their order (stored out of it), none, or one; and, asked for, the names its
    /// Appendix 1 is addressed with, `None` when its region's body is missing.
    #[tokio::test]
    async fn an_application_with_its_lines_and_names_is_read_in_one_query() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("a.db").display());
        let store = Store::open(&url).await.unwrap();
        let mut conn = store.pool().acquire().await.unwrap();
        let regions: Vec<String> = sqlx::query_scalar("SELECT kato FROM regions ORDER BY kato")
            .fetch_all(&mut *conn)
            .await
            .unwrap();
        for (n, (id, positions)) in [("many", &[2, 0, 1][..]), ("none", &[]), ("one", &[0])]
            .into_iter()
            .enumerate()
        {
            sqlx::query(
                "INSERT INTO applications VALUES ($1, $2, 2027, $3, '123456789012', 'ТОО «Ромашка»',
                     'г. Астана', 'Нужны', 'Директор', 'Иванов И. И.', 'DRAFT', 1, 'e', $4, $4,
                     NULL, NULL)",
            )
            .bind(id)
            .bind(n as i64)
            .bind(&regions[n])
            .bind("2026-12-04T10:00:00.000000Z")
            .execute(&mut *conn)
            .await
            .unwrap();
            for &p in positions {
                sqlx::query("INSERT INTO application_lines VALUES ($1, $2, $3, $4, $5, $6, $7)")
                    .bind(id)
                    .bind(p)
                    .bind(format!("2141.{p}"))
                    .bind(format!("Инженер {p}"))
                    .bind(["1", "2", "seasonal"][p as usize])
                    .bind(10 + p)
                    .bind(20 + p)
                    .execute(&mut *conn)
                    .await
                    .unwrap();
            }
        }
        sqlx::query("DELETE FROM bodies WHERE id = $1")
            .bind(&regions[2])
            .execute(&mut *conn)
            .await
            .unwrap();
        for (id, lines) in [("many", 3), ("none", 0), ("one", 1)] {
            let (app, none) = fetch_joined(&mut conn, id, false).await.unwrap();
            assert_eq!(app, fetch_apart(&mut conn, id).await);
            assert_eq!((app.lines.len(), none), (lines, None));
            let (with_names, names) = fetch_joined(&mut conn, id, true).await.unwrap();
            assert_eq!(with_names, app);
            if id == "one" {
                assert_eq!(names, None, "its body is missing");
            } else {
                let expected = store.region_and_body_names(&app.region_code).await.unwrap();
                assert_eq!(names, Some(expected));
            }
        }
        let lines = fetch_joined(&mut conn, "many", false)
            .await
            .unwrap()
            .0
            .lines;
        assert_eq!(lines[0].occupation_code, "2141.0");
        assert_eq!(lines[2].category, WorkerCategory::Seasonal);
        assert!(matches!(
            fetch_joined(&mut conn, "missing", true).await,
            Err(StoreError::NotFound(n)) if n == "applications/missing"
        ));
    }
}
