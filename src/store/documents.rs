//! Rendered and sealed documents with their signatures.

use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;
use sqlx::{AnyConnection, Row};

use super::audit::Actor;
use super::{Result, Store, StoreError, parse_ts, ts};

/// A document ready to be stored, in the same transaction as the change that made it.
#[derive(Debug, Clone)]
pub struct NewDocument {
    pub id: String,
    /// The public code its QR code carries (`/v/{code}`).
    pub public_code: String,
    pub kind: String,
    pub title: String,
    pub subject: String,
    pub pdf: Vec<u8>,
    pub cms: Vec<u8>,
    pub sha256: String,
    pub cms_sha256: String,
    pub signer: String,
    pub certificate_serial: String,
    pub signer_iin: Option<String>,
    pub signer_bin: Option<String>,
    pub signing_time: DateTime<Utc>,
    pub create_time: DateTime<Utc>,
}

/// A stored document's metadata (the bytes are read separately).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentRow {
    pub id: String,
    pub public_code: String,
    pub kind: String,
    pub title: String,
    pub subject: String,
    pub sha256: String,
    pub cms_sha256: String,
    pub size_bytes: u64,
    pub signer: String,
    pub certificate_serial: String,
    pub signer_iin: Option<String>,
    pub signer_bin: Option<String>,
    pub signing_time: DateTime<Utc>,
    pub create_time: DateTime<Utc>,
    pub seq: i64,
    /// '' (none), 'B-LT' or 'B-LTA': the level the document was extended to.
    pub extension_level: String,
    /// For B-LTA: when the certificate of its last document timestamp expires.
    pub archive_expire_time: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, COALESCE(public_code, '') AS public_code, kind, title, subject, sha256, cms_sha256, pdf_size AS size_bytes, \
                       signer, certificate_serial, signer_iin, signer_bin, signing_time, \
                       create_time, seq, extension_level, archive_expire_time";

fn from_row(r: &sqlx::any::AnyRow) -> Result<DocumentRow> {
    Ok(DocumentRow {
        id: r.try_get("id")?,
        public_code: r.try_get("public_code")?,
        kind: r.try_get("kind")?,
        title: r.try_get("title")?,
        subject: r.try_get("subject")?,
        sha256: r.try_get("sha256")?,
        cms_sha256: r.try_get("cms_sha256")?,
        size_bytes: r.try_get::<i64, _>("size_bytes")? as u64,
        signer: r.try_get("signer")?,
        certificate_serial: r.try_get("certificate_serial")?,
        signer_iin: r.try_get("signer_iin")?,
        signer_bin: r.try_get("signer_bin")?,
        signing_time: parse_ts(r.try_get("signing_time")?)?,
        create_time: parse_ts(r.try_get("create_time")?)?,
        seq: r.try_get("seq")?,
        extension_level: r.try_get("extension_level")?,
        archive_expire_time: r
            .try_get::<Option<String>, _>("archive_expire_time")?
            .as_deref()
            .map(parse_ts)
            .transpose()?,
    })
}

/// Which bytes of a document to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blob {
    Pdf,
    Cms,
}

/// Inserts a document's row; with an object store (`in_database` false) its bytes were
/// staged there already ([`Store::stage`]) and the row keeps them empty.
pub(crate) async fn insert(
    tx: &mut AnyConnection,
    d: &NewDocument,
    in_database: bool,
) -> Result<()> {
    let (pdf, cms): (&[u8], &[u8]) = if in_database {
        (&d.pdf, &d.cms)
    } else {
        (&[], &[])
    };
    sqlx::query(
        "INSERT INTO documents (id, public_code, kind, title, subject, pdf, cms, sha256, cms_sha256,
             signer, certificate_serial, signer_iin, signer_bin, signing_time, create_time,
             in_object_store, pdf_size, seq)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
             (SELECT COALESCE(MAX(seq), 0) + 1 FROM documents))",
    )
    .bind(&d.id)
    .bind(&d.public_code)
    .bind(&d.kind)
    .bind(&d.title)
    .bind(&d.subject)
    .bind(pdf)
    .bind(cms)
    .bind(&d.sha256)
    .bind(&d.cms_sha256)
    .bind(&d.signer)
    .bind(&d.certificate_serial)
    .bind(&d.signer_iin)
    .bind(&d.signer_bin)
    .bind(ts(d.signing_time))
    .bind(ts(d.create_time))
    .bind(i64::from(!in_database))
    .bind(d.pdf.len() as i64)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

impl Store {
    pub async fn get_document(&self, id: &str) -> Result<DocumentRow> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM documents WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("documents/{id}")))?;
        from_row(&row)
    }

    /// Documents in the order they were made, optionally about one subject, after the
    /// given sequence number.
    pub async fn list_documents(
        &self,
        subject: Option<&str>,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<DocumentRow>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM documents
             WHERE seq > $1 AND ($2 IS NULL OR subject = $3)
             ORDER BY seq LIMIT $4"
        )))
        .bind(after_seq)
        .bind(subject)
        .bind(subject)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// A document's PDF or CMS, from its row or, for a row that names them, from the
    /// object store (checked against the row's SHA-256).
    pub async fn document_bytes(&self, id: &str, blob: Blob) -> Result<Vec<u8>> {
        let (column, hash, extension) = match blob {
            Blob::Pdf => ("pdf", "sha256", "pdf"),
            Blob::Cms => ("cms", "cms_sha256", "p7s"),
        };
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {column} AS bytes, {hash} AS hash, in_object_store FROM documents WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("documents/{id}")))?;
        if row.try_get::<i64, _>("in_object_store")? == 1 {
            let sha256: String = row.try_get("hash")?;
            return self.blobs().get(&sha256, extension).await;
        }
        Ok(row.try_get("bytes")?)
    }

    /// The document issued under public code `code`.
    pub async fn get_document_by_code(&self, code: &str) -> Result<DocumentRow> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM documents WHERE public_code = $1"
        )))
        .bind(code)
        .fetch_optional(self.pool())
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("no document has the code {code:?}")))?;
        from_row(&row)
    }

    /// The first document of `kind` about `subject` issued after sequence number `seq`:
    /// the one that supersedes it, if any.
    pub async fn later_document(
        &self,
        subject: &str,
        kind: &str,
        seq: i64,
    ) -> Result<Option<DocumentRow>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM documents WHERE subject = $1 AND kind = $2 AND seq > $3
             ORDER BY seq LIMIT 1"
        )))
        .bind(subject)
        .bind(kind)
        .bind(seq)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// The document whose PDF has this SHA-256, if the service issued one.
    pub async fn find_document_by_sha256(&self, sha256: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar::<_, String>("SELECT id FROM documents WHERE sha256 = $1 LIMIT 1")
                .bind(sha256)
                .fetch_optional(self.pool())
                .await?,
        )
    }

    /// Replaces a document's bytes by their extension (B-LT, B-LTA) and its detached seal,
    /// if the stored bytes are still `base_sha256` (ABORTED otherwise: a signature came
    /// in between), with an audit record.
    #[allow(clippy::too_many_arguments)]
    pub async fn extend_document(
        &self,
        actor: &Actor,
        id: &str,
        base_sha256: &str,
        pdf: &[u8],
        cms: &[u8],
        level: &str,
        archive_expire_time: Option<DateTime<Utc>>,
    ) -> Result<()> {
        use sha2::Digest;
        self.blobs().put(pdf, cms).await?;
        let in_database = self.blobs().in_database();
        let mut tx = self.write_tx().await?;
        let current: Option<String> =
            sqlx::query_scalar("SELECT sha256 FROM documents WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        match current {
            None => return Err(StoreError::NotFound(format!("documents/{id}"))),
            Some(c) if c != base_sha256 => {
                return Err(StoreError::EtagMismatch(format!("documents/{id}")));
            }
            Some(_) => {}
        }
        let sha256 = hex::encode(sha2::Sha256::digest(pdf));
        sqlx::query(
            "UPDATE documents SET pdf = $1, sha256 = $2, cms = $3, cms_sha256 = $4,
                 extension_level = $5, archive_expire_time = $6, in_object_store = $7,
                 pdf_size = $8 WHERE id = $9",
        )
        .bind(if in_database { pdf } else { &[] })
        .bind(&sha256)
        .bind(if in_database { cms } else { &[] })
        .bind(hex::encode(sha2::Sha256::digest(cms)))
        .bind(level)
        .bind(archive_expire_time.map(ts))
        .bind(i64::from(!in_database))
        .bind(pdf.len() as i64)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        super::audit::record(
            &mut tx,
            actor,
            &format!("documents/{id}"),
            None,
            None::<&()>,
            Some(&(level, &sha256)),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// B-LTA documents whose last document timestamp's certificate expires before
    /// `before`, soonest first.
    pub async fn documents_to_renew(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM documents WHERE archive_expire_time IS NOT NULL
                 AND archive_expire_time < $1 ORDER BY archive_expire_time LIMIT $2",
        )
        .bind(ts(before))
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?)
    }

    /// Documents of `kind` never extended (or signed again since), oldest first.
    pub async fn documents_not_extended(&self, kind: &str, limit: u32) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM documents WHERE kind = $1 AND extension_level = '' ORDER BY seq LIMIT $2",
        )
        .bind(kind)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?)
    }
}
