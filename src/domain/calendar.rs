//! Kazakhstan's working-day calendar (производственный календарь): which dates are working
//! days (рабочие дни), for the Rules' deadlines counted in working days (p. 11, 19).
//!
//! Pure: the facts come in as values ([`Calendar::new`]) or from the copy embedded in the
//! crate ([`Calendar::reference`]); nothing here reads files or the database.
//!
//! # The rules
//!
//! A date is a day off (нерабочий день) or a working day by the first of these that applies
//! to it, in this order of precedence:
//!
//! 1. **Holiday** (праздничный день), a day off: a [`HolidayRule`] valid in that year falls on
//!    it, or a [`DatedDayOff`] names it. Public holidays are days off under the Law "On
//!    holidays in the Republic of Kazakhstan" No. 267-II of 13.12.2001, art. 5; 7 January
//!    (Orthodox Christmas) and the first day of Kurban ait are days off under the Labour Code,
//!    art. 84 p. 5, "независимо от применяемых режимов работы". A transfer cannot make a
//!    holiday a working day.
//! 2. **Transfer** (перенос выходного дня): the yearly transfers of days off that the
//!    Government may decree (Labour Code art. 85 p. 3). [`TransferKind::DayOff`] makes the
//!    date a day off; [`TransferKind::WorkingDay`] makes it a working day.
//! 3. **Carried over** (перенесённый выходной), a day off: when a holiday with
//!    `shifts_if_weekend` falls on a Saturday or Sunday, the weekly day off moves to the next
//!    working day after the holiday (Law "On holidays", art. 5: "при совпадении выходного и
//!    праздничного дней выходным днём является следующий после праздничного рабочий день").
//!    7 January and Kurban ait are not public holidays but days off of the Labour Code, and do
//!    not move (art. 84 p. 5).
//! 4. **Weekend** (выходной), a day off: Saturday and Sunday, the weekly days off of the
//!    five-day week.
//!
//! Everything else is a working day.
//!
//! # Carrying over
//!
//! The target of a carry-over is the first date after the holiday that is a Monday to Friday
//! and that nothing above claims: no holiday (of either kind), no transfer, no earlier
//! carry-over. So the moved day off skips further holidays and transferred days off and lands
//! on a real working day: 9 May 2022 (Monday, Victory Day) pushed the day off of 7 May 2022
//! (Saturday) to 10 May. Weekend holidays are handled in date order, so several in a row move
//! to consecutive working days: 21 and 22 March 2026 (Saturday, Sunday) made 24 and 25 March
//! days off, 23 March being a holiday itself. A Saturday or Sunday worked by transfer is never
//! a target: the transfer exchanged it for another day off and the exchange stands.
//!
//! What moves is the weekly day off, not the holiday, so a Saturday or Sunday with two
//! holidays on it moves one day off, and one that a transfer made a working day moves none
//! (the holiday on it stays a day off). A holiday that coincides with another holiday on a
//! weekday moves nothing. Carry-overs cross the new year: a holiday on Saturday 31 December
//! would move into January.
//!
//! # Transfers that clash
//!
//! Transfers are meant to make a weekday a day off or a Saturday or Sunday a working day, and
//! never to touch a holiday. A stored transfer that does otherwise is read by the precedence
//! above: on a holiday it has no effect; a `DayOff` on a weekend or a `WorkingDay` on a
//! weekday changes nothing but the reported reason. [`Calendar::new`] accepts such rows so a
//! stored calendar always loads; [`Calendar::validate_transfer`] refuses them where they are
//! entered. A `DayOff` transfer on a date a carry-over would otherwise take wins, and the
//! carry-over moves on to the next free working day.
//!
//! # Years without data
//!
//! A year for which no transfers are known gets the rules alone: weekends, holidays and
//! carry-overs. Kurban ait follows the lunar calendar and is dated year by year, so a year with
//! no [`DatedDayOff`] for it has no Kurban ait day off; [`Calendar::has_dated_days_off`] tells a
//! caller whether that year's dates are in. The database (migration `…_calendar.sql`) carries
//! the same facts and is where later years are added.
//!
//! # Reference data
//!
//! `calendar_reference.json`, next to this file, holds the facts as one object whose keys
//! mirror the tables of the migration (unknown top-level keys, such as `about` and
//! `legal_basis`, are ignored):
//!
//! ```json
//! {
//!   "holiday_rules": [{"month": 3, "day": 15, "name_ru": "…", "shifts_if_weekend": true,
//!                      "from_year": 2027}],
//!   "dated_days_off": [{"date": "2026-05-27", "name_ru": "…", "shifts_if_weekend": false}],
//!   "day_transfers": [{"date": "2025-01-03", "kind": "DAY_OFF", "note_ru": "…"}]
//! }
//! ```
//!
//! `from_year` and `to_year` are inclusive and may be left out (unbounded).

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

/// The facts embedded in the crate; the migration seeds the same ones into the database.
const REFERENCE_JSON: &str = include_str!("calendar_reference.json");

/// Years whose day-off bitmaps are cached; other years are computed on each call.
const CACHE_FIRST_YEAR: i32 = 2000;
const CACHE_YEARS: usize = 200;

/// A day off that recurs on the same month and day every year: a public holiday
/// (праздничный день) or 7 January.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HolidayRule {
    /// 1–12.
    pub month: u32,
    /// A day that exists in that month in every year, so never 29 February.
    pub day: u32,
    pub name_ru: String,
    /// Whether the day off moves to the next working day when the holiday falls on a
    /// Saturday or Sunday: true for the public holidays, false for 7 January (art. 84 p. 5).
    pub shifts_if_weekend: bool,
    /// First year in which the holiday is one (inclusive); `None` for always.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_year: Option<i32>,
    /// Last year in which the holiday is one (inclusive); `None` for still in force.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_year: Option<i32>,
}

impl HolidayRule {
    /// Whether the law made this a holiday in `year`: 30 August was one until 2025, 15 March
    /// is one from 2027.
    pub fn applies_in(&self, year: i32) -> bool {
        self.from_year.is_none_or(|from| from <= year) && self.to_year.is_none_or(|to| year <= to)
    }

    /// The holiday's date in `year`, if it is a holiday that year.
    pub fn date_in(&self, year: i32) -> Option<NaiveDate> {
        if self.applies_in(year) {
            NaiveDate::from_ymd_opt(year, self.month, self.day)
        } else {
            None
        }
    }

    fn falls_on(&self, date: NaiveDate) -> bool {
        self.month == date.month() && self.day == date.day() && self.applies_in(date.year())
    }
}

/// A day off on one date only (дата, устанавливаемая ежегодно): the first day of Kurban ait,
/// whose date follows the lunar calendar and is set year by year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatedDayOff {
    pub date: NaiveDate,
    pub name_ru: String,
    /// False for Kurban ait (art. 84 p. 5: it never moves); true would treat the date like a
    /// public holiday, for a one-off holiday declared by law.
    pub shifts_if_weekend: bool,
}

/// The direction of a transfer of a day off (перенос выходного дня).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TransferKind {
    /// A weekday made a day off (`DAY_OFF`).
    DayOff,
    /// A Saturday or Sunday made a working day (`WORKING_DAY`).
    WorkingDay,
}

impl TransferKind {
    /// The code stored in `day_transfers.kind` and in the reference JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DayOff => "DAY_OFF",
            Self::WorkingDay => "WORKING_DAY",
        }
    }
}

impl fmt::Display for TransferKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TransferKind {
    type Err = CalendarError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "DAY_OFF" => Ok(Self::DayOff),
            "WORKING_DAY" => Ok(Self::WorkingDay),
            other => Err(CalendarError::UnknownTransferKind(other.to_owned())),
        }
    }
}

/// One date of the yearly transfers of days off (Labour Code art. 85 p. 3). A transfer comes
/// as a pair, a weekday off and a weekend day worked; each half is one `Transfer`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transfer {
    pub date: NaiveDate,
    pub kind: TransferKind,
    pub note_ru: String,
}

/// The facts of a calendar in the shape of the reference JSON and of the database tables.
/// A missing list reads as empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CalendarData {
    pub holiday_rules: Vec<HolidayRule>,
    pub dated_days_off: Vec<DatedDayOff>,
    pub day_transfers: Vec<Transfer>,
}

/// A date that is not a working day, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NonWorkingDay {
    pub date: NaiveDate,
    pub reason: Reason,
}

/// Why a date is not a working day; the variants follow the precedence in the module docs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Reason {
    /// A Saturday or Sunday (выходной день) with nothing else on it.
    Weekend,
    /// A holiday or dated day off, on a weekday or a weekend; several names are joined
    /// with "; ".
    Holiday { name_ru: String },
    /// The day off of a holiday that fell on the weekend date `from`.
    CarriedOver { from: NaiveDate, name_ru: String },
    /// A date made a day off by a transfer (a weekday, as transfers are meant to be).
    Transfer { note_ru: String },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error(
        "holiday rule {month:02}-{day:02}: no such day in every year (29 February belongs in the dated days off)"
    )]
    InvalidMonthDay { month: u32, day: u32 },
    #[error("holiday rule {month:02}-{day:02}: from_year {from_year} is after to_year {to_year}")]
    InvalidYearRange {
        month: u32,
        day: u32,
        from_year: i32,
        to_year: i32,
    },
    #[error("holiday rules for {month:02}-{day:02} overlap in the years they apply")]
    OverlappingRules { month: u32, day: u32 },
    #[error("{what}: the Russian name is empty")]
    MissingName { what: String },
    #[error("a dated day off on {date} is already recorded")]
    DuplicateDatedDay { date: NaiveDate },
    #[error("a day transfer on {date} is already recorded")]
    DuplicateTransfer { date: NaiveDate },
    #[error(
        "day transfer {date} ({kind}): a DAY_OFF must fall on a weekday and a WORKING_DAY on a Saturday or Sunday"
    )]
    TransferWrongWeekday { date: NaiveDate, kind: TransferKind },
    #[error(
        "day transfer {date} falls on the holiday \"{name_ru}\": transfers move weekly days off, not holidays"
    )]
    TransferOnHoliday { date: NaiveDate, name_ru: String },
    #[error("unknown day transfer kind {0:?}: expected DAY_OFF or WORKING_DAY")]
    UnknownTransferKind(String),
    #[error("calendar data is not valid JSON of the expected shape: {0}")]
    Json(String),
}

/// One bit per day of a year (ordinal 0..366), set for a day off.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct YearBits([u64; 6]);

impl YearBits {
    fn set(&mut self, ordinal0: u32) {
        self.0[(ordinal0 / 64) as usize] |= 1 << (ordinal0 % 64);
    }

    fn is_off(&self, ordinal0: u32) -> bool {
        self.0[(ordinal0 / 64) as usize] & (1 << (ordinal0 % 64)) != 0
    }
}

/// Kazakhstan's working-day calendar: weekends, holidays, carry-overs and transfers.
///
/// Built once and shared; each year's days off are computed on first use and cached, so
/// [`Calendar::is_working_day`] is a bit test and [`Calendar::add_working_days`] a walk of a
/// few hundred bit tests.
#[derive(Clone)]
pub struct Calendar {
    /// Sorted by month and day.
    rules: Vec<HolidayRule>,
    /// Sorted by date, dates unique.
    dated: Vec<DatedDayOff>,
    /// Sorted by date, dates unique.
    transfers: Vec<Transfer>,
    /// Days off of `CACHE_FIRST_YEAR + i`, filled on first use.
    cache: Box<[OnceLock<YearBits>]>,
}

impl fmt::Debug for Calendar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Calendar")
            .field("rules", &self.rules)
            .field("dated", &self.dated)
            .field("transfers", &self.transfers)
            .finish_non_exhaustive()
    }
}

impl Calendar {
    /// Checks the facts and builds the calendar.
    ///
    /// Rejects a rule on a day that does not exist every year (30 February, 31 April,
    /// 29 February), a rule whose years are reversed, two rules on one day whose years
    /// overlap, an empty name, and a dated day off or a transfer listed twice: facts with no
    /// single meaning. A transfer that clashes with a holiday or the day of the week is
    /// accepted and read by precedence (module docs); [`Calendar::validate_transfer`] refuses
    /// it at the point of entry.
    pub fn new(
        rules: Vec<HolidayRule>,
        dated: Vec<DatedDayOff>,
        transfers: Vec<Transfer>,
    ) -> Result<Self, CalendarError> {
        let mut rules = rules;
        let mut dated = dated;
        let mut transfers = transfers;

        for rule in &rules {
            let (month, day) = (rule.month, rule.day);
            // 2001 is not a leap year, so this also refuses 29 February.
            if NaiveDate::from_ymd_opt(2001, month, day).is_none() {
                return Err(CalendarError::InvalidMonthDay { month, day });
            }
            if let (Some(from_year), Some(to_year)) = (rule.from_year, rule.to_year)
                && from_year > to_year
            {
                return Err(CalendarError::InvalidYearRange {
                    month,
                    day,
                    from_year,
                    to_year,
                });
            }
            if rule.name_ru.trim().is_empty() {
                return Err(CalendarError::MissingName {
                    what: format!("holiday rule {month:02}-{day:02}"),
                });
            }
        }
        rules.sort_by_key(|r| (r.month, r.day, r.from_year));
        for pair in rules.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            if (a.month, a.day) == (b.month, b.day) && overlap(a, b) {
                return Err(CalendarError::OverlappingRules {
                    month: a.month,
                    day: a.day,
                });
            }
        }

        for d in &dated {
            if d.name_ru.trim().is_empty() {
                return Err(CalendarError::MissingName {
                    what: format!("dated day off {}", d.date),
                });
            }
        }
        dated.sort_by_key(|d| d.date);
        if let Some(pair) = dated.windows(2).find(|p| p[0].date == p[1].date) {
            return Err(CalendarError::DuplicateDatedDay { date: pair[0].date });
        }

        transfers.sort_by_key(|t| t.date);
        if let Some(pair) = transfers.windows(2).find(|p| p[0].date == p[1].date) {
            return Err(CalendarError::DuplicateTransfer { date: pair[0].date });
        }

        Ok(Self {
            rules,
            dated,
            transfers,
            cache: (0..CACHE_YEARS).map(|_| OnceLock::new()).collect(),
        })
    }

    /// Checks a transfer before it is recorded: it must name a date without a transfer, a
    /// weekday for [`TransferKind::DayOff`] or a Saturday or Sunday for
    /// [`TransferKind::WorkingDay`], and no holiday. Art. 85 p. 3 moves weekly days off, so
    /// anything else is a mistake in the input. [`Calendar::new`] does not refuse such rows
    /// (they have a defined meaning by precedence, and refusing them would make a stored
    /// calendar unreadable); this is the check for the point of entry.
    pub fn validate_transfer(&self, transfer: &Transfer) -> Result<(), CalendarError> {
        let date = transfer.date;
        if self.transfer_on(date).is_some() {
            return Err(CalendarError::DuplicateTransfer { date });
        }
        if is_weekend(date) != (transfer.kind == TransferKind::WorkingDay) {
            return Err(CalendarError::TransferWrongWeekday {
                date,
                kind: transfer.kind,
            });
        }
        if let Some(name_ru) = self.holiday_name(date) {
            return Err(CalendarError::TransferOnHoliday { date, name_ru });
        }
        Ok(())
    }

    /// Builds the calendar from [`CalendarData`], the shape of the JSON and the tables.
    pub fn from_data(data: CalendarData) -> Result<Self, CalendarError> {
        Self::new(data.holiday_rules, data.dated_days_off, data.day_transfers)
    }

    /// Parses facts in the shape of `calendar_reference.json` (see the module docs).
    pub fn from_json(json: &str) -> Result<Self, CalendarError> {
        let data: CalendarData =
            serde_json::from_str(json).map_err(|e| CalendarError::Json(e.to_string()))?;
        Self::from_data(data)
    }

    /// The calendar of the facts embedded in the crate (`calendar_reference.json`, the same
    /// facts the calendar migration seeds), for use without the database.
    pub fn reference() -> Self {
        // The embedded file is checked by this module's tests, so failing here is a bug.
        Self::from_json(REFERENCE_JSON).expect("embedded calendar_reference.json is valid")
    }

    pub fn rules(&self) -> &[HolidayRule] {
        &self.rules
    }

    pub fn dated_days_off(&self) -> &[DatedDayOff] {
        &self.dated
    }

    pub fn transfers(&self) -> &[Transfer] {
        &self.transfers
    }

    /// The facts back in the shape of the JSON and the tables.
    pub fn to_data(&self) -> CalendarData {
        CalendarData {
            holiday_rules: self.rules.clone(),
            dated_days_off: self.dated.clone(),
            day_transfers: self.transfers.clone(),
        }
    }

    /// Whether any dated day off (Kurban ait) is known in `year`. Without one the year's
    /// calendar lacks Kurban ait, whose date is set every year.
    pub fn has_dated_days_off(&self, year: i32) -> bool {
        self.dated.iter().any(|d| d.date.year() == year)
    }

    /// Whether `date` is a working day (рабочий день).
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        !self.year_bits(date.year()).is_off(date.ordinal0())
    }

    /// The days off of `year`, sorted by date, each with the reason of highest precedence.
    ///
    /// With `include_weekends` false, plain Saturdays and Sundays ([`Reason::Weekend`]) are
    /// left out; a holiday on a weekend stays, as [`Reason::Holiday`].
    pub fn non_working_days(&self, year: i32, include_weekends: bool) -> Vec<NonWorkingDay> {
        let mut days = self.compute_year(year);
        if !include_weekends {
            days.retain(|d| d.reason != Reason::Weekend);
        }
        days
    }

    /// `date` itself if it is a working day, else the first working day after it.
    ///
    /// # Panics
    ///
    /// If there is none before the end of chrono's date range.
    pub fn next_working_day_on_or_after(&self, date: NaiveDate) -> NaiveDate {
        self.checked_next_working_day_on_or_after(date)
            .expect("a working day before the end of the date range")
    }

    /// [`Calendar::next_working_day_on_or_after`], `None` past the end of chrono's range.
    pub fn checked_next_working_day_on_or_after(&self, date: NaiveDate) -> Option<NaiveDate> {
        let mut d = date;
        let mut year = d.year();
        let mut bits = self.year_bits(year);
        while bits.is_off(d.ordinal0()) {
            d = d.succ_opt()?;
            if d.year() != year {
                year = d.year();
                bits = self.year_bits(year);
            }
        }
        Some(d)
    }

    /// The date `days` working days after `date`: working days are counted strictly after
    /// `date`, so `date` itself never counts and need not be a working day. From Friday
    /// 4 April 2025, +1 is Monday 7 April; from Saturday 5 April, +1 is also 7 April. This is
    /// how "within N working days of" a step reads in the Rules (p. 11, 19): the day of the
    /// step is day zero.
    ///
    /// Negative `days` count backwards, strictly before `date`: from Monday 7 April 2025, −1 is
    /// Friday 4 April.
    ///
    /// `days == 0` gives `date` if it is a working day, else the next working day
    /// ([`Calendar::next_working_day_on_or_after`]): the first day on which work can be done.
    ///
    /// # Panics
    ///
    /// If the result lies outside chrono's date range; see
    /// [`Calendar::checked_add_working_days`].
    pub fn add_working_days(&self, date: NaiveDate, days: i64) -> NaiveDate {
        self.checked_add_working_days(date, days)
            .expect("working-day arithmetic stays within the date range")
    }

    /// [`Calendar::add_working_days`], `None` if the result lies outside chrono's range.
    pub fn checked_add_working_days(&self, date: NaiveDate, days: i64) -> Option<NaiveDate> {
        if days == 0 {
            return self.checked_next_working_day_on_or_after(date);
        }
        let mut left = days.unsigned_abs();
        // There are fewer working days than days in the whole range: give up at once rather
        // than walk to its end.
        let span = (NaiveDate::MAX - NaiveDate::MIN).num_days().unsigned_abs();
        if left > span {
            return None;
        }
        let forward = days > 0;
        let mut d = date;
        let mut year = d.year();
        let mut bits = self.year_bits(year);
        loop {
            d = if forward {
                d.succ_opt()?
            } else {
                d.pred_opt()?
            };
            if d.year() != year {
                year = d.year();
                bits = self.year_bits(year);
            }
            if !bits.is_off(d.ordinal0()) {
                left -= 1;
                if left == 0 {
                    return Some(d);
                }
            }
        }
    }

    /// The year's days off as a bitmap, cached for the usual years.
    fn year_bits(&self, year: i32) -> YearBits {
        let compute = || {
            let mut bits = YearBits::default();
            for day in self.compute_year(year) {
                bits.set(day.date.ordinal0());
            }
            bits
        };
        let slot = usize::try_from(year - CACHE_FIRST_YEAR)
            .ok()
            .and_then(|i| self.cache.get(i));
        match slot {
            Some(cell) => *cell.get_or_init(compute),
            None => compute(),
        }
    }

    /// Every day off of `year`, with its reason, by the precedence in the module docs.
    fn compute_year(&self, year: i32) -> Vec<NonWorkingDay> {
        let (Some(first), Some(last)) = (
            NaiveDate::from_ymd_opt(year, 1, 1),
            NaiveDate::from_ymd_opt(year, 12, 31),
        ) else {
            return Vec::new();
        };
        let carried = self.carry_overs(year);
        let mut out = Vec::with_capacity(128);
        for date in first.iter_days().take_while(|d| *d <= last) {
            let reason = if let Some(name) = self.holiday_name(date) {
                Reason::Holiday { name_ru: name }
            } else if let Some(t) = self.transfer_on(date) {
                match t.kind {
                    TransferKind::DayOff => Reason::Transfer {
                        note_ru: t.note_ru.clone(),
                    },
                    TransferKind::WorkingDay => continue,
                }
            } else if let Some((_, from)) = carried.iter().find(|(to, _)| *to == date) {
                Reason::CarriedOver {
                    from: *from,
                    name_ru: self.shifting_holiday_name(*from).unwrap_or_default(),
                }
            } else if is_weekend(date) {
                Reason::Weekend
            } else {
                continue;
            };
            out.push(NonWorkingDay { date, reason });
        }
        out
    }

    /// The carry-overs that land in `year`, as (target, weekend holiday) pairs.
    ///
    /// Holidays of the year before are walked too, so that one late in December can carry
    /// into January and the chain stays the same whichever year is asked for.
    fn carry_overs(&self, year: i32) -> Vec<(NaiveDate, NaiveDate)> {
        let mut origins: Vec<NaiveDate> = Vec::new();
        for y in [year - 1, year] {
            origins.extend(
                self.rules
                    .iter()
                    .filter(|r| r.shifts_if_weekend)
                    .filter_map(|r| r.date_in(y)),
            );
            origins.extend(
                self.dated
                    .iter()
                    .filter(|d| d.shifts_if_weekend && d.date.year() == y)
                    .map(|d| d.date),
            );
        }
        // A Saturday or Sunday worked by transfer is no weekly day off: nothing to move.
        origins.retain(|d| is_weekend(*d) && self.transfer_on(*d).is_none());
        origins.sort_unstable();
        // One weekly day off moves per weekend date, however many holidays share it.
        origins.dedup();

        let mut taken: Vec<(NaiveDate, NaiveDate)> = Vec::with_capacity(origins.len());
        for from in origins {
            let mut to = from;
            while let Some(next) = to.succ_opt() {
                to = next;
                if self.can_take_carry_over(to) && !taken.iter().any(|(t, _)| *t == to) {
                    taken.push((to, from));
                    break;
                }
            }
        }
        taken.retain(|(to, _)| to.year() == year);
        taken
    }

    /// A Monday to Friday that nothing of higher precedence claims: no holiday and no
    /// transfer of either kind (a `WorkingDay` transfer would otherwise win over the
    /// carry-over and swallow it).
    fn can_take_carry_over(&self, date: NaiveDate) -> bool {
        !is_weekend(date) && !self.is_holiday(date) && self.transfer_on(date).is_none()
    }

    fn is_holiday(&self, date: NaiveDate) -> bool {
        self.rules.iter().any(|r| r.falls_on(date)) || self.dated_on(date).is_some()
    }

    /// The names of the holidays on `date`, joined with "; ".
    fn holiday_name(&self, date: NaiveDate) -> Option<String> {
        let names: Vec<&str> = self
            .rules
            .iter()
            .filter(|r| r.falls_on(date))
            .map(|r| r.name_ru.as_str())
            .chain(self.dated_on(date).map(|d| d.name_ru.as_str()))
            .collect();
        (!names.is_empty()).then(|| names.join("; "))
    }

    /// The names of the holidays on `date` that move when on a weekend, joined with "; ".
    fn shifting_holiday_name(&self, date: NaiveDate) -> Option<String> {
        let names: Vec<&str> = self
            .rules
            .iter()
            .filter(|r| r.shifts_if_weekend && r.falls_on(date))
            .map(|r| r.name_ru.as_str())
            .chain(
                self.dated_on(date)
                    .filter(|d| d.shifts_if_weekend)
                    .map(|d| d.name_ru.as_str()),
            )
            .collect();
        (!names.is_empty()).then(|| names.join("; "))
    }

    fn dated_on(&self, date: NaiveDate) -> Option<&DatedDayOff> {
        self.dated
            .binary_search_by_key(&date, |d| d.date)
            .ok()
            .map(|i| &self.dated[i])
    }

    fn transfer_on(&self, date: NaiveDate) -> Option<&Transfer> {
        self.transfers
            .binary_search_by_key(&date, |t| t.date)
            .ok()
            .map(|i| &self.transfers[i])
    }
}

fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// Whether two rules' inclusive year ranges share a year.
fn overlap(a: &HolidayRule, b: &HolidayRule) -> bool {
    let start = a
        .from_year
        .unwrap_or(i32::MIN)
        .max(b.from_year.unwrap_or(i32::MIN));
    let end = a
        .to_year
        .unwrap_or(i32::MAX)
        .min(b.to_year.unwrap_or(i32::MAX));
    start <= end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
    }

    fn cal() -> Calendar {
        Calendar::reference()
    }

    fn rule(month: u32, day: u32, shifts: bool) -> HolidayRule {
        HolidayRule {
            month,
            day,
            name_ru: format!("Праздник {month:02}-{day:02}"),
            shifts_if_weekend: shifts,
            from_year: None,
            to_year: None,
        }
    }

    fn reason(c: &Calendar, date: NaiveDate) -> Option<Reason> {
        c.non_working_days(date.year(), true)
            .into_iter()
            .find(|n| n.date == date)
            .map(|n| n.reason)
    }

    fn off_weekdays(c: &Calendar, year: i32) -> Vec<NaiveDate> {
        c.non_working_days(year, false)
            .into_iter()
            .map(|n| n.date)
            .filter(|date| !is_weekend(*date))
            .collect()
    }

    #[test]
    fn reference_data_parses_and_matches_the_facts() {
        let c = cal();
        assert_eq!(c.rules().len(), 15);
        assert_eq!(c.dated_days_off().len(), 3);
        assert_eq!(c.transfers().len(), 4);
        assert!(c.has_dated_days_off(2026));
        assert!(!c.has_dated_days_off(2027));
    }

    #[test]
    fn weekdays_off_2025() {
        let expected = vec![
            d(2025, 1, 1),   // New Year, Wednesday
            d(2025, 1, 2),   // New Year, Thursday
            d(2025, 1, 3),   // transfer from Sunday 5 January
            d(2025, 1, 7),   // Orthodox Christmas, Tuesday
            d(2025, 3, 10),  // 8 March fell on a Saturday
            d(2025, 3, 21),  // Nauryz, Friday
            d(2025, 3, 24),  // Nauryz 22 March (Saturday) carried over
            d(2025, 3, 25),  // Nauryz 23 March (Sunday) carried over
            d(2025, 5, 1),   // Unity Day, Thursday
            d(2025, 5, 7),   // Defender of the Fatherland Day, Wednesday
            d(2025, 5, 9),   // Victory Day, Friday
            d(2025, 6, 6),   // Kurban ait, Friday
            d(2025, 7, 7),   // Capital Day 6 July (Sunday) carried over
            d(2025, 9, 1),   // Constitution Day 30 August (Saturday) carried over
            d(2025, 10, 27), // Republic Day 25 October (Saturday) carried over
            d(2025, 12, 16), // Independence Day, Tuesday
        ];
        assert_eq!(off_weekdays(&cal(), 2025), expected);
    }

    #[test]
    fn weekdays_off_2026() {
        let expected = vec![
            d(2026, 1, 1),   // New Year, Thursday
            d(2026, 1, 2),   // New Year, Friday
            d(2026, 1, 7),   // Orthodox Christmas, Wednesday
            d(2026, 3, 9),   // 8 March fell on a Sunday
            d(2026, 3, 23),  // Nauryz, Monday
            d(2026, 3, 24),  // Nauryz 21 March (Saturday) carried over
            d(2026, 3, 25),  // Nauryz 22 March (Sunday) carried over
            d(2026, 5, 1),   // Unity Day, Friday
            d(2026, 5, 7),   // Defender of the Fatherland Day, Thursday
            d(2026, 5, 11),  // Victory Day 9 May (Saturday) carried over
            d(2026, 5, 27),  // Kurban ait, Wednesday
            d(2026, 7, 6),   // Capital Day, Monday
            d(2026, 10, 26), // Republic Day 25 October (Sunday) carried over
            d(2026, 12, 16), // Independence Day, Wednesday
        ];
        assert_eq!(off_weekdays(&cal(), 2026), expected);
    }

    #[test]
    fn transfers_2025_and_2024() {
        let c = cal();
        assert!(!c.is_working_day(d(2025, 1, 3)));
        assert!(
            c.is_working_day(d(2025, 1, 5)),
            "Sunday 5 January 2025 was worked"
        );
        assert!(matches!(
            reason(&c, d(2025, 1, 3)),
            Some(Reason::Transfer { .. })
        ));
        assert_eq!(reason(&c, d(2025, 1, 5)), None);
        assert!(
            !c.is_working_day(d(2025, 1, 4)),
            "Saturday 4 January stays off"
        );

        assert!(
            c.is_working_day(d(2024, 5, 4)),
            "Saturday 4 May 2024 was worked"
        );
        assert!(!c.is_working_day(d(2024, 5, 8)));
    }

    #[test]
    fn specific_days_2025_and_2026() {
        let c = cal();
        for date in [
            d(2025, 1, 1),
            d(2026, 1, 1),
            d(2025, 1, 7),
            d(2026, 1, 7),
            d(2026, 3, 23),
            d(2026, 3, 24),
            d(2026, 3, 25),
            d(2025, 5, 1),
            d(2025, 5, 7),
            d(2025, 5, 9),
            d(2026, 5, 27),
            d(2025, 6, 6),
            d(2026, 7, 6),
            d(2025, 12, 16),
            d(2026, 12, 16),
        ] {
            assert!(!c.is_working_day(date), "{date} is a day off");
        }
        for date in [
            d(2025, 1, 6),
            d(2025, 1, 8),
            d(2026, 1, 5),
            d(2026, 1, 8),
            d(2026, 3, 26),
            d(2025, 3, 26),
            d(2025, 6, 5),
            d(2026, 5, 26),
            d(2026, 5, 28),
            d(2026, 8, 31), // 30 August 2026 is a Sunday and no longer a holiday
            d(2026, 3, 16),
        ] {
            assert!(c.is_working_day(date), "{date} is a working day");
        }
    }

    #[test]
    fn nauryz_2026_carries_two_days_past_the_third() {
        let c = cal();
        assert_eq!(
            reason(&c, d(2026, 3, 21)),
            Some(Reason::Holiday {
                name_ru: "Наурыз мейрамы".into()
            })
        );
        assert_eq!(
            reason(&c, d(2026, 3, 24)),
            Some(Reason::CarriedOver {
                from: d(2026, 3, 21),
                name_ru: "Наурыз мейрамы".into()
            })
        );
        assert_eq!(
            reason(&c, d(2026, 3, 25)),
            Some(Reason::CarriedOver {
                from: d(2026, 3, 22),
                name_ru: "Наурыз мейрамы".into()
            })
        );
    }

    #[test]
    fn constitution_day_moves_from_30_august_to_15_march() {
        let c = cal();
        assert!(matches!(
            reason(&c, d(2025, 8, 30)),
            Some(Reason::Holiday { .. })
        ));
        assert_eq!(reason(&c, d(2026, 8, 30)), Some(Reason::Weekend));
        assert!(c.is_working_day(d(2024, 3, 15)));
        assert!(c.is_working_day(d(2026, 3, 16)));
        assert!(!c.is_working_day(d(2027, 3, 15)), "Monday 15 March 2027");
        assert!(c.is_working_day(d(2027, 8, 30)), "Monday 30 August 2027");
    }

    #[test]
    fn christmas_and_kurban_ait_never_move() {
        let c = cal();
        // Kurban ait 2024 fell on Sunday 16 June: no day off on Monday 17 June.
        assert!(matches!(
            reason(&c, d(2024, 6, 16)),
            Some(Reason::Holiday { .. })
        ));
        assert!(c.is_working_day(d(2024, 6, 17)));
        // 7 January 2023 was a Saturday: Monday 9 January was worked.
        assert!(c.is_working_day(d(2023, 1, 9)));
        // Kurban ait 2027 is not in the data yet: the year has rules only.
        assert!(c.is_working_day(d(2027, 5, 17)));
    }

    #[test]
    fn carry_over_skips_a_holiday_it_lands_on() {
        // 7 May 2022 was a Saturday and 9 May a Monday holiday: the day off went to 10 May.
        let c = cal();
        assert!(!c.is_working_day(d(2022, 5, 9)));
        assert_eq!(
            reason(&c, d(2022, 5, 10)),
            Some(Reason::CarriedOver {
                from: d(2022, 5, 7),
                name_ru: "День защитника Отечества".into()
            })
        );
        assert!(c.is_working_day(d(2022, 5, 11)));
    }

    #[test]
    fn carry_over_skips_dated_days_off_and_transferred_days_off() {
        // 2 May 2026 (Saturday) as a shifting holiday; Monday 4 May Kurban ait (made up), and
        // Tuesday 5 May a transferred day off: the carry-over lands on Wednesday 6 May.
        let c = Calendar::new(
            vec![rule(5, 2, true)],
            vec![DatedDayOff {
                date: d(2026, 5, 4),
                name_ru: "Курбан айт".into(),
                shifts_if_weekend: false,
            }],
            vec![
                Transfer {
                    date: d(2026, 5, 5),
                    kind: TransferKind::DayOff,
                    note_ru: "перенос".into(),
                },
                Transfer {
                    date: d(2026, 5, 9),
                    kind: TransferKind::WorkingDay,
                    note_ru: "перенос".into(),
                },
            ],
        )
        .unwrap();
        assert!(matches!(
            reason(&c, d(2026, 5, 4)),
            Some(Reason::Holiday { .. })
        ));
        assert!(matches!(
            reason(&c, d(2026, 5, 5)),
            Some(Reason::Transfer { .. })
        ));
        assert!(matches!(
            reason(&c, d(2026, 5, 6)),
            Some(Reason::CarriedOver { .. })
        ));
        assert!(c.is_working_day(d(2026, 5, 7)));
        assert!(
            c.is_working_day(d(2026, 5, 9)),
            "transferred working Saturday"
        );
    }

    #[test]
    fn carry_over_never_lands_on_a_worked_weekend_day() {
        // A moving holiday on Sunday 10 May 2026, holidays that do not move on Monday 11 to
        // Friday 15 May, and Saturday 16 May worked by transfer: the carry-over passes the
        // worked Saturday and lands on Monday 18 May.
        let mut rules = vec![rule(5, 10, true)];
        rules.extend((11..=15).map(|day| rule(5, day, false)));
        let c = Calendar::new(
            rules,
            vec![],
            vec![Transfer {
                date: d(2026, 5, 16),
                kind: TransferKind::WorkingDay,
                note_ru: String::new(),
            }],
        )
        .unwrap();
        assert!(c.is_working_day(d(2026, 5, 16)));
        assert_eq!(
            reason(&c, d(2026, 5, 18)),
            Some(Reason::CarriedOver {
                from: d(2026, 5, 10),
                name_ru: "Праздник 05-10".into()
            })
        );
        assert_eq!(c.add_working_days(d(2026, 5, 8), 1), d(2026, 5, 16));
        assert_eq!(c.add_working_days(d(2026, 5, 8), 2), d(2026, 5, 19));
    }

    #[test]
    fn one_weekend_date_with_two_holidays_moves_one_day() {
        // Kurban ait (not moving) on Saturday 1 May 2027 with Unity Day: one carry-over.
        let mut data = cal().to_data();
        data.dated_days_off.push(DatedDayOff {
            date: d(2027, 5, 1),
            name_ru: "Курбан айт".into(),
            shifts_if_weekend: false,
        });
        let c = Calendar::from_data(data).unwrap();
        assert_eq!(
            reason(&c, d(2027, 5, 1)),
            Some(Reason::Holiday {
                name_ru: "Праздник единства народа Казахстана; Курбан айт".into()
            })
        );
        assert!(!c.is_working_day(d(2027, 5, 3)));
        assert!(c.is_working_day(d(2027, 5, 4)));
    }

    #[test]
    fn carry_over_crosses_new_year() {
        // With a holiday on 31 December: Saturday 31 December 2022 and Sunday 1 January 2023
        // move to Tuesday 3 and Wednesday 4 January (2 January is a holiday itself).
        let c = Calendar::new(
            vec![rule(12, 31, true), rule(1, 1, true), rule(1, 2, true)],
            vec![],
            vec![],
        )
        .unwrap();
        assert_eq!(
            reason(&c, d(2023, 1, 3)),
            Some(Reason::CarriedOver {
                from: d(2022, 12, 31),
                name_ru: "Праздник 12-31".into()
            })
        );
        assert_eq!(
            reason(&c, d(2023, 1, 4)),
            Some(Reason::CarriedOver {
                from: d(2023, 1, 1),
                name_ru: "Праздник 01-01".into()
            })
        );
        assert!(c.is_working_day(d(2023, 1, 5)));
        // 2022 keeps only its own carry-overs (1–2 January 2022 were a weekend).
        let carried_2022: Vec<NaiveDate> = c
            .non_working_days(2022, true)
            .into_iter()
            .filter(|n| matches!(n.reason, Reason::CarriedOver { .. }))
            .map(|n| n.date)
            .collect();
        assert_eq!(carried_2022, vec![d(2022, 1, 3), d(2022, 1, 4)]);
    }

    #[test]
    fn non_working_days_lists_weekends_on_request() {
        let c = cal();
        let all = c.non_working_days(2026, true);
        let without = c.non_working_days(2026, false);
        assert!(all.windows(2).all(|w| w[0].date < w[1].date), "sorted");
        assert_eq!(
            all.iter().filter(|n| n.reason == Reason::Weekend).count(),
            all.len() - without.len()
        );
        // 104 Saturdays and Sundays in 2026, 14 weekdays off.
        assert_eq!(all.iter().filter(|n| is_weekend(n.date)).count(), 104);
        assert_eq!(all.len(), 104 + 14);
        // A weekend holiday stays when weekends are left out.
        assert!(without.iter().any(|n| n.date == d(2026, 3, 21)));
        assert!(!without.iter().any(|n| n.date == d(2026, 3, 28)));
    }

    #[test]
    fn add_working_days_across_new_year() {
        let c = cal();
        // Monday 29 December 2025: 30, 31 December, then 1–4 January off, Monday 5 January.
        assert_eq!(c.add_working_days(d(2025, 12, 29), 1), d(2025, 12, 30));
        assert_eq!(c.add_working_days(d(2025, 12, 29), 3), d(2026, 1, 5));
        assert_eq!(c.add_working_days(d(2025, 12, 29), 4), d(2026, 1, 6));
        // 7 January is skipped.
        assert_eq!(c.add_working_days(d(2025, 12, 29), 5), d(2026, 1, 8));
        // 2024 → 2025: the worked Sunday 5 January 2025 is the first working day.
        assert_eq!(c.add_working_days(d(2024, 12, 31), 1), d(2025, 1, 5));
        assert_eq!(c.add_working_days(d(2024, 12, 31), 2), d(2025, 1, 6));
        assert_eq!(c.add_working_days(d(2024, 12, 31), 3), d(2025, 1, 8));
    }

    #[test]
    fn add_working_days_across_nauryz() {
        let c = cal();
        // Friday 20 March 2026: 21–25 March off.
        assert_eq!(c.add_working_days(d(2026, 3, 20), 1), d(2026, 3, 26));
        assert_eq!(c.add_working_days(d(2026, 3, 19), 2), d(2026, 3, 26));
        // Thursday 20 March 2025: 21–25 March off.
        assert_eq!(c.add_working_days(d(2025, 3, 20), 1), d(2025, 3, 26));
        assert_eq!(c.add_working_days(d(2026, 3, 26), -1), d(2026, 3, 20));
    }

    #[test]
    fn add_working_days_over_weekends_and_from_days_off() {
        let c = cal();
        // Friday 4 April 2025 +1 is Monday 7 April; from Saturday and Sunday as well.
        assert_eq!(c.add_working_days(d(2025, 4, 4), 1), d(2025, 4, 7));
        assert_eq!(c.add_working_days(d(2025, 4, 5), 1), d(2025, 4, 7));
        assert_eq!(c.add_working_days(d(2025, 4, 6), 1), d(2025, 4, 7));
        assert_eq!(c.add_working_days(d(2025, 4, 4), 5), d(2025, 4, 11));
        assert_eq!(c.add_working_days(d(2025, 4, 4), 6), d(2025, 4, 14));
    }

    #[test]
    fn add_zero_working_days() {
        let c = cal();
        assert_eq!(c.add_working_days(d(2025, 4, 4), 0), d(2025, 4, 4));
        assert_eq!(c.add_working_days(d(2025, 4, 5), 0), d(2025, 4, 7));
        assert_eq!(c.add_working_days(d(2026, 3, 21), 0), d(2026, 3, 26));
        assert_eq!(
            c.next_working_day_on_or_after(d(2025, 12, 31)),
            d(2025, 12, 31)
        );
        assert_eq!(c.next_working_day_on_or_after(d(2026, 1, 1)), d(2026, 1, 5));
    }

    #[test]
    fn add_negative_working_days() {
        let c = cal();
        assert_eq!(c.add_working_days(d(2025, 4, 7), -1), d(2025, 4, 4));
        assert_eq!(c.add_working_days(d(2025, 4, 6), -1), d(2025, 4, 4));
        // Back across New Year: Thursday 8 January 2026 −2 is Monday 5 January, −3 is
        // Wednesday 31 December 2025.
        assert_eq!(c.add_working_days(d(2026, 1, 8), -2), d(2026, 1, 5));
        assert_eq!(c.add_working_days(d(2026, 1, 8), -3), d(2025, 12, 31));
        // Back over the worked Sunday 5 January 2025.
        assert_eq!(c.add_working_days(d(2025, 1, 6), -1), d(2025, 1, 5));
        assert_eq!(c.add_working_days(d(2025, 1, 6), -2), d(2024, 12, 31));
    }

    #[test]
    fn add_working_days_round_trips_and_counts() {
        let c = cal();
        let start = d(2024, 11, 1);
        for n in 1..=600 {
            let end = c.add_working_days(start, n);
            assert!(c.is_working_day(end));
            let counted = start
                .iter_days()
                .skip(1)
                .take_while(|x| *x <= end)
                .filter(|x| c.is_working_day(*x))
                .count();
            assert_eq!(counted as i64, n);
            assert_eq!(c.add_working_days(end, -n), start, "start is a working day");
        }
    }

    #[test]
    fn out_of_range_is_none_not_a_hang() {
        let c = cal();
        assert_eq!(c.checked_add_working_days(d(2025, 1, 1), i64::MAX), None);
        assert_eq!(c.checked_add_working_days(d(2025, 1, 1), i64::MIN), None);
        assert_eq!(c.checked_add_working_days(NaiveDate::MAX, 1), None);
        assert!(c.is_working_day(d(3000, 6, 2)), "uncached years work");
    }

    #[test]
    fn rejects_impossible_rules() {
        for (m, day) in [(2, 30), (2, 29), (4, 31), (13, 1), (0, 1), (1, 0), (1, 32)] {
            assert_eq!(
                Calendar::new(vec![rule(m, day, true)], vec![], vec![]).unwrap_err(),
                CalendarError::InvalidMonthDay { month: m, day }
            );
        }
        let mut reversed = rule(8, 30, true);
        reversed.from_year = Some(2026);
        reversed.to_year = Some(2025);
        assert!(matches!(
            Calendar::new(vec![reversed], vec![], vec![]),
            Err(CalendarError::InvalidYearRange { .. })
        ));
        let mut nameless = rule(1, 1, true);
        nameless.name_ru = " ".into();
        assert!(matches!(
            Calendar::new(vec![nameless], vec![], vec![]),
            Err(CalendarError::MissingName { .. })
        ));
    }

    #[test]
    fn rejects_overlapping_rules_but_not_successive_ones() {
        let mut until = rule(8, 30, true);
        until.to_year = Some(2025);
        let mut since = rule(8, 30, false);
        since.from_year = Some(2026);
        assert!(Calendar::new(vec![until.clone(), since.clone()], vec![], vec![]).is_ok());
        since.from_year = Some(2025);
        assert_eq!(
            Calendar::new(vec![since, until], vec![], vec![]).unwrap_err(),
            CalendarError::OverlappingRules { month: 8, day: 30 }
        );
    }

    #[test]
    fn rejects_duplicate_dates() {
        let kurban = DatedDayOff {
            date: d(2025, 6, 6),
            name_ru: "Курбан айт".into(),
            shifts_if_weekend: false,
        };
        assert_eq!(
            Calendar::new(vec![], vec![kurban.clone(), kurban], vec![]).unwrap_err(),
            CalendarError::DuplicateDatedDay {
                date: d(2025, 6, 6)
            }
        );
        let t = Transfer {
            date: d(2025, 1, 3),
            kind: TransferKind::DayOff,
            note_ru: String::new(),
        };
        assert_eq!(
            Calendar::new(vec![], vec![], vec![t.clone(), t]).unwrap_err(),
            CalendarError::DuplicateTransfer {
                date: d(2025, 1, 3)
            }
        );
    }

    #[test]
    fn validate_transfer_refuses_clashes() {
        let c = cal();
        let t = |date, kind| Transfer {
            date,
            kind,
            note_ru: String::new(),
        };
        assert_eq!(
            c.validate_transfer(&t(d(2027, 1, 4), TransferKind::DayOff)),
            Ok(())
        );
        assert_eq!(
            c.validate_transfer(&t(d(2027, 1, 9), TransferKind::WorkingDay)),
            Ok(())
        );
        assert_eq!(
            c.validate_transfer(&t(d(2025, 1, 3), TransferKind::DayOff)),
            Err(CalendarError::DuplicateTransfer {
                date: d(2025, 1, 3)
            })
        );
        assert_eq!(
            c.validate_transfer(&t(d(2026, 5, 1), TransferKind::DayOff)),
            Err(CalendarError::TransferOnHoliday {
                date: d(2026, 5, 1),
                name_ru: "Праздник единства народа Казахстана".into()
            })
        );
        assert!(matches!(
            c.validate_transfer(&t(d(2026, 3, 21), TransferKind::WorkingDay)),
            Err(CalendarError::TransferOnHoliday { .. })
        ));
        for (date, kind) in [
            (d(2027, 1, 9), TransferKind::DayOff),
            (d(2027, 1, 11), TransferKind::WorkingDay),
        ] {
            assert_eq!(
                c.validate_transfer(&t(date, kind)),
                Err(CalendarError::TransferWrongWeekday { date, kind })
            );
        }
    }

    #[test]
    fn clashing_transfers_load_and_follow_precedence() {
        let t = |date, kind| Transfer {
            date,
            kind,
            note_ru: "перенос".into(),
        };
        let mut data = cal().to_data();
        data.day_transfers.extend([
            // A working day on a weekday holiday: the holiday wins.
            t(d(2026, 5, 7), TransferKind::WorkingDay),
            // A working day on a weekend holiday: the holiday stays off and, there being no
            // weekly day off on it, nothing carries over to Monday 11 May.
            t(d(2026, 5, 9), TransferKind::WorkingDay),
            // A day off on a Sunday: off, reported as the transfer.
            t(d(2026, 6, 7), TransferKind::DayOff),
            // A working day on a weekday: nothing changes.
            t(d(2026, 6, 8), TransferKind::WorkingDay),
        ]);
        let c = Calendar::from_data(data).unwrap();
        assert!(matches!(
            reason(&c, d(2026, 5, 7)),
            Some(Reason::Holiday { .. })
        ));
        assert!(matches!(
            reason(&c, d(2026, 5, 9)),
            Some(Reason::Holiday { .. })
        ));
        assert!(c.is_working_day(d(2026, 5, 11)));
        assert!(matches!(
            reason(&c, d(2026, 6, 7)),
            Some(Reason::Transfer { .. })
        ));
        assert!(c.is_working_day(d(2026, 6, 8)));
    }

    #[test]
    fn carry_over_passes_a_working_day_transfer_on_a_weekday() {
        // A WorkingDay transfer on Monday 11 May 2026 (a no-op) would swallow the day off of
        // Victory Day (Saturday 9 May) if the carry-over landed there: it goes to 12 May.
        let mut data = cal().to_data();
        data.day_transfers.push(Transfer {
            date: d(2026, 5, 11),
            kind: TransferKind::WorkingDay,
            note_ru: String::new(),
        });
        let c = Calendar::from_data(data).unwrap();
        assert!(c.is_working_day(d(2026, 5, 11)));
        assert!(matches!(
            reason(&c, d(2026, 5, 12)),
            Some(Reason::CarriedOver { .. })
        ));
    }

    #[test]
    fn json_shape() {
        assert!(matches!(
            Calendar::from_json(r#"{"holiday_rules": [{"month": 1, "day": 1}]}"#),
            Err(CalendarError::Json(_))
        ));
        let c = Calendar::from_json(
            r#"{"about": "x", "holiday_rules": [], "dated_days_off": [],
                "day_transfers": [{"date": "2025-01-05", "kind": "WORKING_DAY", "note_ru": ""}]}"#,
        )
        .unwrap();
        assert!(c.is_working_day(d(2025, 1, 5)));
        assert_eq!("DAY_OFF".parse::<TransferKind>(), Ok(TransferKind::DayOff));
        assert!("day_off".parse::<TransferKind>().is_err());
        let back = serde_json::to_string(&cal().to_data()).unwrap();
        assert_eq!(
            Calendar::from_json(&back).unwrap().to_data(),
            cal().to_data()
        );
    }
}
