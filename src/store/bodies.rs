//! The state bodies' profiles (migration `bodies`): the ministry and the 20 regions' local
//! executive bodies, seeded with their names; their heads are set over the API.

use super::audit::Actor;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::Row;

use super::{Result, Store, StoreError, ts};

/// The id of the ministry's profile (`bodies/ministry`).
pub const MINISTRY: &str = "ministry";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyRow {
    /// "ministry" or the region's KATO code.
    pub id: String,
    pub region_code: Option<String>,
    pub legal_name_ru: String,
    pub legal_name_kk: String,
    /// "" = the configured default BIN.
    pub bin: String,
    pub address_ru: String,
    pub head_position_ru: String,
    pub head_full_name: String,
    pub revision: i64,
}

impl BodyRow {
    /// An opaque version tag that changes with every stored change (AIP-154).
    pub fn etag(&self) -> String {
        let digest = Sha256::digest(format!("bodies/{}/{}", self.id, self.revision).as_bytes());
        hex::encode(&digest[..12])
    }

    /// Whether the body may issue a document: its signatory line would not be blank.
    pub fn is_complete(&self) -> bool {
        !self.head_position_ru.trim().is_empty() && !self.head_full_name.trim().is_empty()
    }
}

fn from_row(r: &sqlx::any::AnyRow) -> Result<BodyRow> {
    Ok(BodyRow {
        id: r.try_get("id")?,
        region_code: r.try_get("region_code")?,
        legal_name_ru: r.try_get("legal_name_ru")?,
        legal_name_kk: r.try_get("legal_name_kk")?,
        bin: r.try_get("bin")?,
        address_ru: r.try_get("address_ru")?,
        head_position_ru: r.try_get("head_position_ru")?,
        head_full_name: r.try_get("head_full_name")?,
        revision: r.try_get("revision")?,
    })
}

impl Store {
    pub async fn list_bodies(&self) -> Result<Vec<BodyRow>> {
        sqlx::query("SELECT * FROM bodies ORDER BY sort_order")
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(from_row)
            .collect()
    }

    /// A region's name and its body's legal name (what an Appendix 1 is addressed with),
    /// in one read; NOT_FOUND names whichever is missing.
    pub async fn region_and_body_names(&self, kato: &str) -> Result<(String, String)> {
        let row = sqlx::query(
            "SELECT r.name_ru AS region, b.legal_name_ru AS body
             FROM regions r JOIN bodies b ON b.id = r.kato WHERE r.kato = $1",
        )
        .bind(kato)
        .fetch_optional(self.pool())
        .await?;
        match row {
            Some(r) => Ok((r.try_get("region")?, r.try_get("body")?)),
            None => {
                let region = self.get_region(kato).await?;
                let body = self.get_body(kato).await?;
                Ok((region.name_ru, body.legal_name_ru))
            }
        }
    }

    /// A body by its id ("ministry" or a KATO code).
    pub async fn get_body(&self, id: &str) -> Result<BodyRow> {
        sqlx::query("SELECT * FROM bodies WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(from_row)
            .transpose()?
            .ok_or_else(|| StoreError::NotFound(format!("bodies/{id}")))
    }

    /// Replaces a body's editable fields if `expected_etag` is current, with an audit
    /// record, in one transaction.
    pub async fn update_body(
        &self,
        actor: &Actor,
        new: &BodyRow,
        expected_etag: &str,
        now: DateTime<Utc>,
    ) -> Result<BodyRow> {
        let mut tx = self.write_tx().await?;
        let old = sqlx::query("SELECT * FROM bodies WHERE id = $1")
            .bind(&new.id)
            .fetch_optional(&mut *tx)
            .await?
            .as_ref()
            .map(from_row)
            .transpose()?
            .ok_or_else(|| StoreError::NotFound(format!("bodies/{}", new.id)))?;
        if !expected_etag.is_empty() && expected_etag != old.etag() {
            return Err(StoreError::EtagMismatch(format!("bodies/{}", new.id)));
        }
        let row = BodyRow {
            id: old.id.clone(),
            region_code: old.region_code.clone(),
            revision: old.revision + 1,
            ..new.clone()
        };
        sqlx::query(
            "UPDATE bodies SET legal_name_ru = $1, legal_name_kk = $2, bin = $3, address_ru = $4,
                 head_position_ru = $5, head_full_name = $6, revision = $7, update_time = $8
             WHERE id = $9",
        )
        .bind(&row.legal_name_ru)
        .bind(&row.legal_name_kk)
        .bind(&row.bin)
        .bind(&row.address_ru)
        .bind(&row.head_position_ru)
        .bind(&row.head_full_name)
        .bind(row.revision)
        .bind(ts(now))
        .bind(&row.id)
        .execute(&mut *tx)
        .await?;
        super::audit::record(
            &mut tx,
            actor,
            &format!("bodies/{}", row.id),
            row.region_code.as_deref(),
            Some(&old),
            Some(&row),
        )
        .await?;
        tx.commit().await?;
        Ok(row)
    }
}
