//! Quota years and the dated steps that bind them.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, TimeZone, Utc};

use super::calendar::Calendar;
use super::timeline::{self, Step};

/// Kazakhstan has kept one time zone, UTC+5, since 1 March 2024; the Rules' dates are
/// read in it.
pub const ALMATY_OFFSET_SECS: i32 = 5 * 3600;

pub fn almaty() -> FixedOffset {
    FixedOffset::east_opt(ALMATY_OFFSET_SECS).expect("valid offset")
}

/// How many years ahead a quota may be applied for. p. 5 allows a quota for "the coming
/// year (years)"; three keeps typing mistakes such as 2207 out.
pub const MAX_YEARS_AHEAD: i32 = 3;

/// A quota year that is still to come at the time of the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QuotaYear(i32);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuotaYearError {
    #[error("quota year is required")]
    Missing,
    #[error("quota year {year} is not a coming year: it must be from {min} to {max}")]
    OutOfRange { year: u32, min: i32, max: i32 },
}

impl QuotaYear {
    /// p. 5: the quota is set for the coming year or years, so the year must lie after
    /// the current year in Almaty.
    pub fn parse(year: u32, now: DateTime<Utc>) -> Result<Self, QuotaYearError> {
        if year == 0 {
            return Err(QuotaYearError::Missing);
        }
        let current = now.with_timezone(&almaty()).year();
        let (min, max) = (current + 1, current + MAX_YEARS_AHEAD);
        match i32::try_from(year) {
            Ok(y) if (min..=max).contains(&y) => Ok(Self(y)),
            _ => Err(QuotaYearError::OutOfRange { year, min, max }),
        }
    }

    /// A year already stored; it was checked when it was accepted.
    pub fn from_stored(year: i64) -> Self {
        Self(year as i32)
    }

    pub fn get(self) -> i32 {
        self.0
    }
}

/// p. 6: employers file Appendix 1 "до 1 октября" of the year before the quota year, so
/// the last day is 30 September, and the first late instant is the start of the next day
/// in Almaty. A 30 September that is a day off moves the last day to the next working day
/// (Civil Code art. 172; see [`super::timeline`]).
pub fn submission_deadline(year: QuotaYear, calendar: &Calendar) -> DateTime<FixedOffset> {
    timeline::deadline(year, Step::EmployerApplications, calendar)
        .expect("a fixed step")
        .late_from
}

/// The start of 1 October in Almaty: before it an application is in time whatever the
/// calendar says, so a submission need not read the calendar.
pub fn nominal_submission_deadline(year: QuotaYear) -> DateTime<FixedOffset> {
    let day = NaiveDate::from_ymd_opt(year.get() - 1, 10, 1).expect("valid date");
    almaty()
        .from_local_datetime(&day.and_hms_opt(0, 0, 0).expect("midnight"))
        .single()
        .expect("fixed offsets are unambiguous")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn quota_year_must_be_a_coming_year() {
        let now = at("2026-06-01T12:00:00+05:00");
        assert!(QuotaYear::parse(2027, now).is_ok());
        assert!(QuotaYear::parse(2029, now).is_ok());
        assert!(QuotaYear::parse(2026, now).is_err());
        assert!(QuotaYear::parse(2030, now).is_err());
        assert_eq!(QuotaYear::parse(0, now), Err(QuotaYearError::Missing));
    }

    #[test]
    fn new_year_in_almaty_comes_five_hours_before_utc() {
        // 31 Dec 2026 20:00 UTC is already 1 Jan 2027 in Almaty.
        let now = at("2026-12-31T20:00:00Z");
        assert!(QuotaYear::parse(2027, now).is_err());
        assert!(QuotaYear::parse(2028, now).is_ok());
    }

    #[test]
    fn submission_deadline_is_1_october_of_the_year_before_in_almaty() {
        let d = submission_deadline(QuotaYear(2027), &Calendar::reference());
        assert_eq!(d, nominal_submission_deadline(QuotaYear(2027)));
        assert_eq!(d.to_rfc3339(), "2026-10-01T00:00:00+05:00");
        assert_eq!(
            d.with_timezone(&Utc).to_rfc3339(),
            "2026-09-30T19:00:00+00:00"
        );
    }

    #[test]
    fn submission_deadline_of_30_september_2028_a_saturday_runs_to_monday_2_october() {
        let d = submission_deadline(QuotaYear(2029), &Calendar::reference());
        assert_eq!(d.to_rfc3339(), "2028-10-03T00:00:00+05:00");
        assert_eq!(
            nominal_submission_deadline(QuotaYear(2029)).to_rfc3339(),
            "2028-10-01T00:00:00+05:00"
        );
    }
}
