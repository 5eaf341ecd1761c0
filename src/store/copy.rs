//! Moving an installation from SQLite to PostgreSQL (`kvota copy`): every table copied row
//! for row in one PostgreSQL transaction, in the order the tables were made (parents
//! before the tables that refer to them), then verified: the same number of rows in every
//! table, the audit chain whole, and every document's bytes hashing to its SHA-256.

use sha2::{Digest, Sha256};
use sqlx::{AssertSqlSafe, Row};

use super::audit::{AuditRecord, GENESIS};
use super::{Result, Store, StoreError, parse_ts};

/// What was copied and verified.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopyReport {
    /// Each table with its rows, in copy order.
    pub tables: Vec<(String, i64)>,
    /// Audit records whose chain was verified in PostgreSQL.
    pub audit_records: i64,
    /// Documents whose PDF and CMS hash to their stored SHA-256 in PostgreSQL.
    pub documents: i64,
}

/// A table of the SQLite schema: its name and its columns with their declared types.
struct Table {
    name: String,
    columns: Vec<(String, String)>,
}

/// Tables whose rows a PostgreSQL migration seeds; a copy replaces them.
const TABLES_WITH_DATA: [&str; 3] = ["documents", "applications", "audit_records"];

/// Copies the SQLite database at `from` into the PostgreSQL database at `to` (migrated
/// first; refused if it already holds documents, applications or audit records).
pub async fn sqlite_to_postgres(from: &str, to: &str) -> Result<CopyReport> {
    if !super::is_postgres(to) || super::is_postgres(from) {
        return Err(StoreError::FailedPrecondition(
            "kvota copy moves a SQLite database (--from sqlite://…) to PostgreSQL (--to postgres://…)"
                .into(),
        ));
    }
    let source = Store::open(from).await?;
    Store::migrate(to).await?;
    let target = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect(to)
        .await?;
    for t in TABLES_WITH_DATA {
        let n: i64 = sqlx::query_scalar(AssertSqlSafe(format!("SELECT count(*) FROM {t}")))
            .fetch_one(&target)
            .await?;
        if n > 0 {
            return Err(StoreError::FailedPrecondition(format!(
                "the PostgreSQL database already holds {n} rows of {t}: copy into an empty one"
            )));
        }
    }
    let tables = tables(&source).await?;
    let mut tx = target.begin().await?;
    for t in tables.iter().rev() {
        sqlx::query(AssertSqlSafe(format!("DELETE FROM \"{}\"", t.name)))
            .execute(&mut *tx)
            .await?;
    }
    let mut report = CopyReport::default();
    for t in &tables {
        let names: Vec<String> = t.columns.iter().map(|(c, _)| format!("\"{c}\"")).collect();
        let select = format!("SELECT {} FROM \"{}\"", names.join(", "), t.name);
        let insert = format!(
            "INSERT INTO \"{}\" ({}) VALUES ({})",
            t.name,
            names.join(", "),
            (1..=names.len())
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let rows = sqlx::query(AssertSqlSafe(select))
            .fetch_all(source.pool())
            .await?;
        for row in &rows {
            let mut q = sqlx::query(AssertSqlSafe(insert.clone()));
            for (i, (_, ty)) in t.columns.iter().enumerate() {
                q = match ty.to_uppercase().as_str() {
                    "INTEGER" => q.bind(row.try_get::<Option<i64>, _>(i)?),
                    "BLOB" => q.bind(row.try_get::<Option<Vec<u8>>, _>(i)?),
                    _ => q.bind(row.try_get::<Option<String>, _>(i)?),
                };
            }
            q.execute(&mut *tx).await?;
        }
        report.tables.push((t.name.clone(), rows.len() as i64));
    }
    // Identity columns go on after the copied numbers.
    for (table, column) in [
        ("principals", "id"),
        ("holiday_rules", "id"),
        ("audit_records", "seq"),
    ] {
        sqlx::query(AssertSqlSafe(format!(
            "SELECT setval(pg_get_serial_sequence('{table}', '{column}'), \
                    COALESCE(max({column}), 0) + 1, false) FROM {table}"
        )))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    verify(&target, &report).await.map(|(audit, documents)| {
        report.audit_records = audit;
        report.documents = documents;
        report
    })
}

/// The SQLite schema's tables in the order they were made, with their columns.
async fn tables(source: &Store) -> Result<Vec<Table>> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table'
             AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%' ORDER BY rowid",
    )
    .fetch_all(source.pool())
    .await?;
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let columns = sqlx::query("SELECT name, type FROM pragma_table_info($1) ORDER BY cid")
            .bind(&name)
            .fetch_all(source.pool())
            .await?
            .iter()
            .map(|r| Ok((r.try_get("name")?, r.try_get("type")?)))
            .collect::<Result<Vec<(String, String)>>>()?;
        out.push(Table { name, columns });
    }
    Ok(out)
}

/// Row counts as copied, the audit chain, and the documents' hashes, read back from
/// PostgreSQL; (audit records, documents) checked.
async fn verify(target: &sqlx::PgPool, report: &CopyReport) -> Result<(i64, i64)> {
    for (table, copied) in &report.tables {
        let n: i64 = sqlx::query_scalar(AssertSqlSafe(format!("SELECT count(*) FROM \"{table}\"")))
            .fetch_one(target)
            .await?;
        if n != *copied {
            return Err(StoreError::Corrupt(format!(
                "{table}: {copied} rows copied, {n} in PostgreSQL"
            )));
        }
    }
    let mut prev = GENESIS.to_owned();
    let rows = sqlx::query("SELECT * FROM audit_records ORDER BY seq")
        .fetch_all(target)
        .await?;
    for (i, r) in rows.iter().enumerate() {
        let rec = AuditRecord {
            seq: r.try_get("seq")?,
            time: parse_ts(&r.try_get::<String, _>("time")?)?,
            who: r.try_get("who")?,
            role: r.try_get("role")?,
            method: r.try_get("method")?,
            resource: r.try_get("resource")?,
            region: r.try_get("region_code")?,
            before_digest: r.try_get("before_digest")?,
            after_digest: r.try_get("after_digest")?,
            prev_hash: r.try_get("prev_hash")?,
            hash: r.try_get("hash")?,
        };
        if rec.seq != i as i64 + 1 || rec.prev_hash != prev || rec.compute_hash() != rec.hash {
            return Err(StoreError::Corrupt(format!(
                "the audit chain breaks at record {} in PostgreSQL",
                rec.seq
            )));
        }
        prev = rec.hash;
    }
    // Bytes kept in an object store stay there: the rows are copied, the objects not.
    let docs = sqlx::query(
        "SELECT id, pdf, sha256, cms, cms_sha256 FROM documents WHERE in_object_store = 0",
    )
    .fetch_all(target)
    .await?;
    for d in &docs {
        let pdf: Vec<u8> = d.try_get("pdf")?;
        let cms: Vec<u8> = d.try_get("cms")?;
        if hex::encode(Sha256::digest(&pdf)) != d.try_get::<String, _>("sha256")?
            || hex::encode(Sha256::digest(&cms)) != d.try_get::<String, _>("cms_sha256")?
        {
            return Err(StoreError::Corrupt(format!(
                "documents/{}: its bytes do not hash to its SHA-256 in PostgreSQL",
                d.try_get::<String, _>("id")?
            )));
        }
    }
    Ok((rows.len() as i64, docs.len() as i64))
}
