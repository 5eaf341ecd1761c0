//! The 20 regions, seeded by the first migration.

use sqlx::AssertSqlSafe;
use sqlx::Row;

use super::{Result, Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionRow {
    pub kato: String,
    pub iso3166_2: String,
    pub name_ru: String,
    pub name_kk: String,
    pub name_en: String,
    pub kind: String,
    pub admin_center_ru: String,
    pub name_genitive_ru: String,
    pub body_name_ru: String,
}

const COLUMNS: &str = "kato, iso3166_2, name_ru, name_kk, name_en, kind, admin_center_ru, \
                       name_genitive_ru, body_name_ru";

fn from_row(r: &sqlx::any::AnyRow) -> Result<RegionRow> {
    Ok(RegionRow {
        kato: r.try_get("kato")?,
        iso3166_2: r.try_get("iso3166_2")?,
        name_ru: r.try_get("name_ru")?,
        name_kk: r.try_get("name_kk")?,
        name_en: r.try_get("name_en")?,
        kind: r.try_get("kind")?,
        admin_center_ru: r.try_get("admin_center_ru")?,
        name_genitive_ru: r.try_get("name_genitive_ru")?,
        body_name_ru: r.try_get("body_name_ru")?,
    })
}

impl Store {
    pub async fn list_regions(&self) -> Result<Vec<RegionRow>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM regions ORDER BY sort_order"
        )))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(from_row).collect()
    }

    pub async fn get_region(&self, kato: &str) -> Result<RegionRow> {
        sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM regions WHERE kato = $1"
        )))
        .bind(kato)
        .fetch_optional(self.pool())
        .await?
        .as_ref()
        .map(from_row)
        .transpose()?
        .ok_or_else(|| StoreError::NotFound(format!("regions/{kato}")))
    }
}
