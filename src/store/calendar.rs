//! The working-day calendar's facts: holiday rules, dated days off and the ministry's
//! day transfers, seeded by migration and extendable through the API.

use super::audit::Actor;
use chrono::NaiveDate;
use sqlx::{AnyConnection, Row};

use super::{Result, Store, StoreError, is_unique_violation};
use crate::domain::calendar::{
    Calendar, CalendarError, DatedDayOff, HolidayRule, Transfer, TransferKind,
};

fn date(s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|e| StoreError::Corrupt(format!("date {s:?}: {e}")))
}

/// The calendar as `conn` sees the database (inside a transaction: as that transaction
/// does).
async fn load_calendar(conn: &mut AnyConnection) -> Result<Calendar> {
    let rules = sqlx::query(
        "SELECT month, day, name_ru, shifts_if_weekend, from_year, to_year FROM holiday_rules",
    )
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        Ok(HolidayRule {
            month: r.try_get::<i64, _>("month")? as u32,
            day: r.try_get::<i64, _>("day")? as u32,
            name_ru: r.try_get("name_ru")?,
            shifts_if_weekend: r.try_get::<i64, _>("shifts_if_weekend")? != 0,
            from_year: r.try_get::<Option<i64>, _>("from_year")?.map(|y| y as i32),
            to_year: r.try_get::<Option<i64>, _>("to_year")?.map(|y| y as i32),
        })
    })
    .collect::<Result<Vec<_>>>()?;
    let dated = sqlx::query("SELECT date, name_ru, shifts_if_weekend FROM dated_days_off")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok(DatedDayOff {
                date: date(r.try_get("date")?)?,
                name_ru: r.try_get("name_ru")?,
                shifts_if_weekend: r.try_get::<i64, _>("shifts_if_weekend")? != 0,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let transfers = sqlx::query("SELECT date, kind, note_ru FROM day_transfers")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            let kind: String = r.try_get("kind")?;
            Ok(Transfer {
                date: date(r.try_get("date")?)?,
                kind: match kind.as_str() {
                    "DAY_OFF" => TransferKind::DayOff,
                    "WORKING_DAY" => TransferKind::WorkingDay,
                    other => {
                        return Err(StoreError::Corrupt(format!("transfer kind {other:?}")));
                    }
                },
                note_ru: r.try_get("note_ru")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Calendar::new(rules, dated, transfers)
        .map_err(|e| StoreError::Corrupt(format!("calendar: {e}")))
}

/// Why a day transfer was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum TransferRefused {
    /// The transfer clashes with the calendar (weekday, holiday, another transfer).
    #[error(transparent)]
    Calendar(#[from] CalendarError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for TransferRefused {
    fn from(e: sqlx::Error) -> Self {
        Self::Store(e.into())
    }
}

impl Store {
    /// The calendar as the database knows it now.
    pub async fn load_calendar(&self) -> Result<Calendar> {
        let mut conn = self.pool().acquire().await?;
        load_calendar(&mut conn).await
    }

    /// Records a day transfer after checking it against the calendar read in the same
    /// write transaction ([`Calendar::validate_transfer`]), so no transfer or day off
    /// recorded meanwhile can slip between the check and the insert.
    pub async fn add_day_transfer(
        &self,
        actor: &Actor,
        t: &Transfer,
    ) -> std::result::Result<(), TransferRefused> {
        let kind = match t.kind {
            TransferKind::DayOff => "DAY_OFF",
            TransferKind::WorkingDay => "WORKING_DAY",
        };
        let mut tx = self.write_tx().await?;
        load_calendar(&mut tx).await?.validate_transfer(t)?;
        let r = sqlx::query("INSERT INTO day_transfers (date, kind, note_ru) VALUES ($1, $2, $3)")
            .bind(t.date.format("%Y-%m-%d").to_string())
            .bind(kind)
            .bind(&t.note_ru)
            .execute(&mut *tx)
            .await;
        match r {
            Err(e) if is_unique_violation(&e) => {
                return Err(StoreError::AlreadyExists(format!(
                    "a transfer on {} is already recorded",
                    t.date
                ))
                .into());
            }
            other => other?,
        };
        super::audit::record(
            &mut tx,
            actor,
            &format!("calendar/day-transfers/{}", t.date),
            None,
            None::<&()>,
            Some(&(kind, &t.note_ru)),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn add_dated_day_off(&self, actor: &Actor, d: &DatedDayOff) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let r = sqlx::query(
            "INSERT INTO dated_days_off (date, name_ru, shifts_if_weekend) VALUES ($1, $2, $3)",
        )
        .bind(d.date.format("%Y-%m-%d").to_string())
        .bind(&d.name_ru)
        .bind(d.shifts_if_weekend as i64)
        .execute(&mut *tx)
        .await;
        match r {
            Err(e) if is_unique_violation(&e) => {
                return Err(StoreError::AlreadyExists(format!(
                    "a day off on {} is already recorded",
                    d.date
                )));
            }
            other => other?,
        };
        super::audit::record(
            &mut tx,
            actor,
            &format!("calendar/dated-days-off/{}", d.date),
            None,
            None::<&()>,
            Some(&(&d.name_ru, d.shifts_if_weekend)),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
