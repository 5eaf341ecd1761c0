//! The principal registry: which certificate identities act in which role.

use super::audit::Actor;
use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Result, Store, StoreError, is_unique_violation, ts};
use crate::auth::Role;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalRow {
    pub id: i64,
    pub iin: Option<String>,
    pub bin: Option<String>,
    pub role: Role,
    pub region: Option<String>,
    pub note: String,
}

fn from_row(r: &sqlx::any::AnyRow) -> Result<PrincipalRow> {
    let role: String = r.try_get("role")?;
    Ok(PrincipalRow {
        id: r.try_get("id")?,
        iin: r.try_get("iin")?,
        bin: r.try_get("bin")?,
        role: Role::parse(&role)
            .ok_or_else(|| StoreError::Corrupt(format!("principal role {role:?}")))?,
        region: r.try_get("region_code")?,
        note: r.try_get("note")?,
    })
}

impl Store {
    /// The registry entry for a certificate: a person's own entry (by IIN, at this BIN or
    /// any) first, else its organisation's (by BIN alone).
    pub async fn find_principal(
        &self,
        iin: Option<&str>,
        bin: Option<&str>,
    ) -> Result<Option<PrincipalRow>> {
        let row = sqlx::query(
            "SELECT * FROM principals
             WHERE (iin IS NOT NULL AND iin = $1 AND (bin IS NULL OR bin = $2))
                OR (iin IS NULL AND bin = $2)
             ORDER BY iin IS NULL, bin IS NULL
             LIMIT 1",
        )
        .bind(iin)
        .bind(bin)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(from_row).transpose()
    }

    pub async fn add_principal(
        &self,
        actor: &Actor,
        p: &PrincipalRow,
        now: DateTime<Utc>,
    ) -> Result<PrincipalRow> {
        let mut tx = self.write_tx().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO principals (iin, bin, role, region_code, note, create_time)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(&p.iin)
        .bind(&p.bin)
        .bind(p.role.as_str())
        .bind(&p.region)
        .bind(&p.note)
        .bind(ts(now))
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::AlreadyExists(format!(
                    "a principal with IIN {:?} and BIN {:?} is registered already",
                    p.iin, p.bin
                ))
            } else {
                e.into()
            }
        })?;
        let row = PrincipalRow { id, ..p.clone() };
        super::audit::record(
            &mut tx,
            actor,
            &format!("principals/{id}"),
            row.region.as_deref(),
            None::<&()>,
            Some(&row),
        )
        .await?;
        tx.commit().await?;
        Ok(row)
    }

    pub async fn list_principals(&self) -> Result<Vec<PrincipalRow>> {
        sqlx::query("SELECT * FROM principals ORDER BY id")
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(from_row)
            .collect()
    }

    pub async fn remove_principal(&self, actor: &Actor, id: i64) -> Result<PrincipalRow> {
        let mut tx = self.write_tx().await?;
        let row = sqlx::query("SELECT * FROM principals WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("principals/{id}")))?;
        let row = from_row(&row)?;
        sqlx::query("DELETE FROM principals WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        super::audit::record(
            &mut tx,
            actor,
            &format!("principals/{id}"),
            row.region.as_deref(),
            Some(&row),
            None::<&()>,
        )
        .await?;
        tx.commit().await?;
        Ok(row)
    }
}
