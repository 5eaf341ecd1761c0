//! Two-step signing sessions and the party signatures they add to documents.

use super::audit::Actor;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::Row;

use super::{Result, Store, StoreError, parse_ts, ts};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub id: String,
    pub document_id: String,
    pub prepared_pdf: Vec<u8>,
    pub contents_start: usize,
    pub contents_end: usize,
    pub digest: String,
    pub base_sha256: String,
    pub expire_time: DateTime<Utc>,
    pub create_time: DateTime<Utc>,
    pub complete_time: Option<DateTime<Utc>>,
    /// SHA-256 (hex) of the certificate the session was prepared for, when one was
    /// given: the prepared bytes show that signer's visible box.
    pub signer_certificate_sha256: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartySignatureRow {
    pub position: u32,
    pub role: String,
    pub signer: String,
    pub signer_iin: Option<String>,
    pub signer_bin: Option<String>,
    pub certificate_serial: String,
    pub signing_time: DateTime<Utc>,
    pub report_json: String,
}

impl Store {
    pub async fn create_session(&self, actor: &Actor, s: &SessionRow) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO signing_sessions (id, document_id, prepared_pdf, contents_start, contents_end,
                 digest, base_sha256, expire_time, create_time, signer_certificate_sha256)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&s.id)
        .bind(&s.document_id)
        .bind(&s.prepared_pdf)
        .bind(s.contents_start as i64)
        .bind(s.contents_end as i64)
        .bind(&s.digest)
        .bind(&s.base_sha256)
        .bind(ts(s.expire_time))
        .bind(ts(s.create_time))
        .bind(&s.signer_certificate_sha256)
        .execute(&mut *tx)
        .await?;
        super::audit::record(
            &mut tx,
            actor,
            &format!("signingSessions/{}", s.id),
            None,
            None::<&()>,
            Some(&(&s.document_id, &s.digest)),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Removes the document's expired, unfinished sessions and counts the open ones.
    pub async fn open_sessions(&self, document_id: &str, now: DateTime<Utc>) -> Result<i64> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "DELETE FROM signing_sessions WHERE document_id = $1 AND complete_time IS NULL AND expire_time <= $2",
        )
        .bind(document_id)
        .bind(ts(now))
        .execute(&mut *tx)
        .await?;
        let open: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM signing_sessions WHERE document_id = $1 AND complete_time IS NULL",
        )
        .bind(document_id)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(open)
    }

    pub async fn get_session(&self, id: &str) -> Result<SessionRow> {
        let r = sqlx::query("SELECT * FROM signing_sessions WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("signingSessions/{id}")))?;
        Ok(SessionRow {
            id: r.try_get("id")?,
            document_id: r.try_get("document_id")?,
            prepared_pdf: r.try_get("prepared_pdf")?,
            contents_start: r.try_get::<i64, _>("contents_start")? as usize,
            contents_end: r.try_get::<i64, _>("contents_end")? as usize,
            digest: r.try_get("digest")?,
            base_sha256: r.try_get("base_sha256")?,
            expire_time: parse_ts(r.try_get("expire_time")?)?,
            create_time: parse_ts(r.try_get("create_time")?)?,
            complete_time: r
                .try_get::<Option<String>, _>("complete_time")?
                .as_deref()
                .map(parse_ts)
                .transpose()?,
            signer_certificate_sha256: r.try_get("signer_certificate_sha256")?,
        })
    }

    /// Replaces a document's bytes with the party-signed ones (and the service's detached
    /// CMS over them) and records the signature, if nothing changed since the session.
    #[allow(clippy::too_many_arguments)] // one signature: session, document, CMS and signer
    pub async fn complete_signature(
        &self,
        actor: &Actor,
        session: &SessionRow,
        pdf: &[u8],
        cms: &[u8],
        sigs: &[PartySignatureRow],
        cms_der: &[u8],
        now: DateTime<Utc>,
    ) -> Result<u32> {
        self.blobs().put(pdf, cms).await?;
        let in_database = self.blobs().in_database();
        let mut tx = self.write_tx().await?;
        let done: Option<String> =
            sqlx::query_scalar("SELECT complete_time FROM signing_sessions WHERE id = $1")
                .bind(&session.id)
                .fetch_one(&mut *tx)
                .await?;
        if done.is_some() {
            return Err(StoreError::AlreadyExists(format!(
                "signingSessions/{} is already completed",
                session.id
            )));
        }
        let current: String = sqlx::query_scalar("SELECT sha256 FROM documents WHERE id = $1")
            .bind(&session.document_id)
            .fetch_one(&mut *tx)
            .await?;
        if current != session.base_sha256 {
            return Err(StoreError::EtagMismatch(format!(
                "documents/{}",
                session.document_id
            )));
        }
        sqlx::query(
            // A signature added after an extension has no validation data of its own: the
            // document is extended again (the archive job does so for decisions).
            "UPDATE documents SET pdf = $1, sha256 = $2, cms = $3, cms_sha256 = $4,
                 extension_level = '', archive_expire_time = NULL, in_object_store = $5,
                 pdf_size = $6 WHERE id = $7",
        )
        .bind(if in_database { pdf } else { &[] })
        .bind(hex::encode(Sha256::digest(pdf)))
        .bind(if in_database { cms } else { &[] })
        .bind(hex::encode(Sha256::digest(cms)))
        .bind(i64::from(!in_database))
        .bind(pdf.len() as i64)
        .bind(&session.document_id)
        .execute(&mut *tx)
        .await?;
        let first: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(position), 1) + 1 FROM document_signatures WHERE document_id = $1",
        )
        .bind(&session.document_id)
        .fetch_one(&mut *tx)
        .await?;
        // The party's signature, then (if the service sealed again) the new seal.
        for (i, sig) in sigs.iter().enumerate() {
            sqlx::query(
                "INSERT INTO document_signatures (document_id, position, role, signer, signer_iin,
                     signer_bin, certificate_serial, signing_time, cms, report_json)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(&session.document_id)
            .bind(first + i as i64)
            .bind(&sig.role)
            .bind(&sig.signer)
            .bind(&sig.signer_iin)
            .bind(&sig.signer_bin)
            .bind(&sig.certificate_serial)
            .bind(ts(sig.signing_time))
            .bind(if i == 0 { cms_der } else { &[][..] })
            .bind(&sig.report_json)
            .execute(&mut *tx)
            .await?;
        }
        let position = first;
        sqlx::query("UPDATE signing_sessions SET complete_time = $1 WHERE id = $2")
            .bind(ts(now))
            .bind(&session.id)
            .execute(&mut *tx)
            .await?;
        super::audit::record(
            &mut tx,
            actor,
            &format!("documents/{}", session.document_id),
            None,
            None::<&()>,
            Some(&(
                &session.id,
                hex::encode(<sha2::Sha256 as sha2::Digest>::digest(pdf)),
            )),
        )
        .await?;
        tx.commit().await?;
        Ok(position as u32)
    }

    /// The parties' signatures on a document, in order.
    pub async fn party_signatures(&self, document_id: &str) -> Result<Vec<PartySignatureRow>> {
        let rows = sqlx::query(
            "SELECT position, role, signer, signer_iin, signer_bin, certificate_serial, signing_time,
                    report_json
             FROM document_signatures WHERE document_id = $1 ORDER BY position",
        )
        .bind(document_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(PartySignatureRow {
                    position: r.try_get::<i64, _>("position")? as u32,
                    role: r.try_get("role")?,
                    signer: r.try_get("signer")?,
                    signer_iin: r.try_get("signer_iin")?,
                    signer_bin: r.try_get("signer_bin")?,
                    certificate_serial: r.try_get("certificate_serial")?,
                    signing_time: parse_ts(r.try_get("signing_time")?)?,
                    report_json: r.try_get("report_json")?,
                })
            })
            .collect()
    }
}
