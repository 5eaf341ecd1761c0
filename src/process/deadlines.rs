//! Where a step of the Rules stands against its date.

use chrono::{DateTime, NaiveDate, Utc};

use super::Context;
use crate::domain::QuotaYear;
use crate::domain::almaty;
use crate::domain::timeline::{self, Step};

impl Context {
    /// Whether `step` of `year` is late at `now`: past its last day, moved to the next
    /// working day when it is a day off (Civil Code art. 172). Before the Rules' own date
    /// nothing is late, so the calendar is read only after it.
    pub fn late(&self, now: DateTime<Utc>, year: QuotaYear, step: Step) -> bool {
        if timeline::nominal_deadline(year, step).is_none_or(|d| now < d.late_from) {
            return false;
        }
        let calendar = self.calendar();
        timeline::deadline(year, step, &calendar).is_some_and(|d| now >= d.late_from)
    }
}

/// The day in Almaty at `t`: the day a document is dated and a deadline is judged by.
pub fn almaty_day(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&almaty()).date_naive()
}
