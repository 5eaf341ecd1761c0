//! The dated steps of a quota year (DOMAIN.md's timeline) and when each becomes late.
//!
//! # A last day that is not a working day
//!
//! The Rules give calendar dates ("до 1 октября", "не позднее 15 октября", "до 1 ноября",
//! "до 1 января") and no rule of their own for a date that falls on a day off. The general
//! rule of Kazakhstan's law on computing terms applies: the Civil Code of the Republic of
//! Kazakhstan (General Part) of 27 December 1994, art. 172 «Окончание срока в нерабочий
//! день»: "если последний день срока приходится на нерабочий день, днем окончания срока
//! считается ближайший следующий за ним рабочий день". What moves is the term's *last
//! day*: "до 1 ноября" ends on 31 October, so when 31 October is a Saturday (2026) the last
//! day is the next working day, Monday 2 November, although 1 November is after the date
//! the Rules name; "до 1 октября" likewise ends on 30 September, and only a day off on
//! 30 September moves it. The same reading applies to every party (employers, regional
//! bodies, central bodies, the ministry), so nobody is late for not acting on a day off.
//! Working days are those of [`Calendar`], with its holidays, carry-overs and transfers.

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone};

use super::calendar::Calendar;
use super::deadline::{QuotaYear, almaty};

/// One step of the quota process with a fixed date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// p. 6: employers file Appendix 1 «до 1 октября».
    EmployerApplications,
    /// p. 7, 15: the regional body generalises applications «до 10 октября».
    RegionalAssessment,
    /// p. 8: applications go to the Commission «не позднее 15 октября».
    Commission,
    /// p. 11: the employer is informed within five working days of the decision.
    EmployerNotice,
    /// p. 12, 16, 17: Appendices 2, 3, 4 go to the ministry «до 1 ноября».
    RegionalFiling,
    /// p. 13: central bodies' proposals «до 1 ноября».
    CentralProposals,
    /// p. 19: the ministry sets and distributes the quota «до 1 января».
    MinistryDecision,
    /// p. 19: the decision is published within three working days of the distribution.
    DecisionPublication,
}

impl Step {
    pub fn code(self) -> &'static str {
        match self {
            Self::EmployerApplications => "EMPLOYER_APPLICATIONS",
            Self::RegionalAssessment => "REGIONAL_ASSESSMENT",
            Self::Commission => "COMMISSION",
            Self::EmployerNotice => "EMPLOYER_NOTICE",
            Self::RegionalFiling => "REGIONAL_FILING",
            Self::CentralProposals => "CENTRAL_PROPOSALS",
            Self::MinistryDecision => "MINISTRY_DECISION",
            Self::DecisionPublication => "DECISION_PUBLICATION",
        }
    }

    pub fn actor(self) -> &'static str {
        match self {
            Self::EmployerApplications => "employer",
            Self::RegionalAssessment
            | Self::Commission
            | Self::EmployerNotice
            | Self::RegionalFiling => "regional body",
            Self::CentralProposals => "central body",
            Self::MinistryDecision | Self::DecisionPublication => "ministry",
        }
    }

    pub fn rule(self) -> &'static str {
        match self {
            Self::EmployerApplications => "p. 6",
            Self::RegionalAssessment => "p. 7, 15",
            Self::Commission => "p. 8",
            Self::EmployerNotice => "p. 11",
            Self::RegionalFiling => "p. 12, 16, 17",
            Self::CentralProposals => "p. 13",
            Self::MinistryDecision | Self::DecisionPublication => "p. 19",
        }
    }

    pub fn description_ru(self) -> &'static str {
        match self {
            Self::EmployerApplications => {
                "Работодатели представляют заявки (приложение 1) в местные исполнительные органы до 1 октября"
            }
            Self::RegionalAssessment => {
                "Местные исполнительные органы до 10 октября обобщают заявки работодателей и определяют потребность в трудовых иммигрантах"
            }
            Self::Commission => {
                "Местные исполнительные органы не позднее 15 октября выносят заявки на рассмотрение Комиссии"
            }
            Self::EmployerNotice => {
                "Местные исполнительные органы в течение пяти рабочих дней со дня решения Комиссии информируют работодателей"
            }
            Self::RegionalFiling => {
                "Местные исполнительные органы до 1 ноября представляют приложения 2, 3, 4 в уполномоченный орган"
            }
            Self::CentralProposals => {
                "Заинтересованные центральные государственные органы до 1 ноября вносят предложения"
            }
            Self::MinistryDecision => {
                "Уполномоченный орган до 1 января устанавливает квоту и распределяет ее"
            }
            Self::DecisionPublication => {
                "Решение размещается на интернет-ресурсе уполномоченного органа в течение трех рабочих дней"
            }
        }
    }
}

/// When a fixed-date step is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixedDeadline {
    pub step: Step,
    /// The last day as the Rules' calendar date gives it (31 October for "до 1 ноября").
    pub nominal_last_day: NaiveDate,
    /// The last day on which the step is in time: `nominal_last_day`, or the next working
    /// day when that is a day off (Civil Code art. 172; see the module's documentation).
    pub last_day: NaiveDate,
    /// The first instant (UTC+5) at which it is late: the start of the day after `last_day`.
    pub late_from: DateTime<FixedOffset>,
}

impl FixedDeadline {
    /// Whether the last day was moved off a day off.
    pub fn moved(&self) -> bool {
        self.last_day != self.nominal_last_day
    }

    /// Civil Code art. 172: a last day that is a day off moves to the next working day.
    fn on_working_day(self, calendar: &Calendar) -> Self {
        let Some(last_day) = calendar.checked_next_working_day_on_or_after(self.nominal_last_day)
        else {
            return self;
        };
        Self {
            last_day,
            late_from: day_after(last_day),
            ..self
        }
    }
}

fn midnight(d: NaiveDate) -> DateTime<FixedOffset> {
    almaty()
        .from_local_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight"))
        .single()
        .expect("fixed offset")
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

fn day_after(d: NaiveDate) -> DateTime<FixedOffset> {
    midnight(d.succ_opt().expect("a day after"))
}

/// "до D" (before D): the last day is the day before D. "не позднее D": D itself.
fn before(step: Step, d: NaiveDate) -> FixedDeadline {
    not_later_than(step, d.pred_opt().expect("a day before"))
}

fn not_later_than(step: Step, d: NaiveDate) -> FixedDeadline {
    FixedDeadline {
        step,
        nominal_last_day: d,
        last_day: d,
        late_from: day_after(d),
    }
}

/// Every fixed-date step of quota year `y`, in order, as the Rules' dates read before a
/// last day on a day off is moved. A step is never late before its nominal `late_from`,
/// so this answers "not late yet" without the calendar.
pub fn nominal_deadlines(year: QuotaYear) -> Vec<FixedDeadline> {
    let y = year.get();
    let prev = y - 1;
    vec![
        before(Step::EmployerApplications, day(prev, 10, 1)),
        before(Step::RegionalAssessment, day(prev, 10, 10)),
        not_later_than(Step::Commission, day(prev, 10, 15)),
        before(Step::RegionalFiling, day(prev, 11, 1)),
        before(Step::CentralProposals, day(prev, 11, 1)),
        before(Step::MinistryDecision, day(y, 1, 1)),
    ]
}

/// Every fixed-date step of quota year `y`, in order, with each last day that falls on a
/// day off moved to the next working day (Civil Code art. 172).
pub fn fixed_deadlines(year: QuotaYear, calendar: &Calendar) -> Vec<FixedDeadline> {
    nominal_deadlines(year)
        .into_iter()
        .map(|d| d.on_working_day(calendar))
        .collect()
}

/// A step's deadline before any move; see [`nominal_deadlines`].
pub fn nominal_deadline(year: QuotaYear, step: Step) -> Option<FixedDeadline> {
    nominal_deadlines(year).into_iter().find(|d| d.step == step)
}

/// A step's deadline, moved off a day off (Civil Code art. 172).
pub fn deadline(year: QuotaYear, step: Step, calendar: &Calendar) -> Option<FixedDeadline> {
    nominal_deadline(year, step).map(|d| d.on_working_day(calendar))
}

/// p. 11: working days within which the employer is informed of the decision.
pub const NOTICE_WORKING_DAYS: i64 = 5;
/// p. 19: working days within which the ministry publishes its decision.
pub const PUBLICATION_WORKING_DAYS: i64 = 3;

#[cfg(test)]
mod tests {
    use super::*;

    fn cal() -> Calendar {
        Calendar::reference()
    }

    #[test]
    fn the_2027_timeline_runs_in_autumn_2026() {
        let d = fixed_deadlines(QuotaYear::from_stored(2027), &cal());
        let f = |s: Step| d.iter().find(|x| x.step == s).unwrap().clone();
        assert_eq!(
            f(Step::EmployerApplications).late_from.to_rfc3339(),
            "2026-10-01T00:00:00+05:00"
        );
        assert_eq!(f(Step::EmployerApplications).last_day, day(2026, 9, 30));
        assert_eq!(f(Step::RegionalAssessment).last_day, day(2026, 10, 9));
        // "не позднее 15 октября": the 15th itself is in time.
        assert_eq!(f(Step::Commission).last_day, day(2026, 10, 15));
        assert_eq!(
            f(Step::Commission).late_from.to_rfc3339(),
            "2026-10-16T00:00:00+05:00"
        );
        // "до 1 ноября": 31 October 2026 is a Saturday; see the test below.
        assert_eq!(f(Step::RegionalFiling).nominal_last_day, day(2026, 10, 31));
        assert_eq!(f(Step::MinistryDecision).last_day, day(2026, 12, 31));
    }

    #[test]
    fn filing_due_by_1_november_2026_moves_from_saturday_31_october_to_monday_2_november() {
        let c = cal();
        assert!(!c.is_working_day(day(2026, 10, 31)), "a Saturday");
        assert!(!c.is_working_day(day(2026, 11, 1)), "a Sunday");
        assert!(c.is_working_day(day(2026, 11, 2)), "a Monday");
        for step in [Step::RegionalFiling, Step::CentralProposals] {
            let d = deadline(QuotaYear::from_stored(2027), step, &c).unwrap();
            assert_eq!(d.nominal_last_day, day(2026, 10, 31));
            assert_eq!(d.last_day, day(2026, 11, 2));
            assert!(d.moved());
            assert_eq!(d.late_from.to_rfc3339(), "2026-11-03T00:00:00+05:00");
        }
    }

    #[test]
    fn deadlines_on_working_days_in_2026_stay_where_the_rules_put_them() {
        let c = cal();
        let y = QuotaYear::from_stored(2027);
        for (step, last) in [
            // Wednesday 30 September 2026.
            (Step::EmployerApplications, day(2026, 9, 30)),
            // Friday 9 October 2026.
            (Step::RegionalAssessment, day(2026, 10, 9)),
            // Thursday 15 October 2026.
            (Step::Commission, day(2026, 10, 15)),
            // Thursday 31 December 2026.
            (Step::MinistryDecision, day(2026, 12, 31)),
        ] {
            let d = deadline(y, step, &c).unwrap();
            assert_eq!((d.last_day, d.moved()), (last, false), "{step:?}");
        }
    }

    #[test]
    fn applications_due_by_1_october_2028_move_from_saturday_30_september_to_monday_2_october() {
        let d = deadline(
            QuotaYear::from_stored(2029),
            Step::EmployerApplications,
            &cal(),
        )
        .unwrap();
        assert_eq!(d.nominal_last_day, day(2028, 9, 30));
        assert_eq!(d.last_day, day(2028, 10, 2));
        assert_eq!(d.late_from.to_rfc3339(), "2028-10-03T00:00:00+05:00");
    }

    #[test]
    fn commission_by_15_october_2028_moves_from_sunday_to_monday_16_october() {
        let d = deadline(QuotaYear::from_stored(2029), Step::Commission, &cal()).unwrap();
        assert_eq!(d.nominal_last_day, day(2028, 10, 15));
        assert_eq!(d.last_day, day(2028, 10, 16));
    }

    #[test]
    fn quota_due_by_1_january_2029_moves_past_the_new_year_holidays() {
        // Sunday 31 December 2028; 1 and 2 January are holidays, so Wednesday 3 January.
        let d = deadline(QuotaYear::from_stored(2029), Step::MinistryDecision, &cal()).unwrap();
        assert_eq!(d.nominal_last_day, day(2028, 12, 31));
        assert_eq!(d.last_day, day(2029, 1, 3));
    }

    #[test]
    fn a_step_is_never_late_before_its_nominal_deadline() {
        let c = cal();
        for year in 2026..=2040 {
            let y = QuotaYear::from_stored(year);
            for (n, m) in nominal_deadlines(y).iter().zip(fixed_deadlines(y, &c)) {
                assert!(m.late_from >= n.late_from && m.last_day >= n.last_day);
            }
        }
    }
}
