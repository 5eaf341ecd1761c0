//! The dated steps of a quota year (DOMAIN.md's timeline) and when each becomes late.

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone};

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
    /// The last day on which the step is in time.
    pub last_day: NaiveDate,
    /// The first instant (UTC+5) at which it is late.
    pub late_from: DateTime<FixedOffset>,
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

/// "до D" (before D): late from the start of D. "не позднее D": late from the day after.
fn before(step: Step, d: NaiveDate) -> FixedDeadline {
    FixedDeadline {
        step,
        last_day: d.pred_opt().expect("a day before"),
        late_from: midnight(d),
    }
}

fn not_later_than(step: Step, d: NaiveDate) -> FixedDeadline {
    FixedDeadline {
        step,
        last_day: d,
        late_from: midnight(d.succ_opt().expect("a day after")),
    }
}

/// Every fixed-date step of quota year `y`, in order.
pub fn fixed_deadlines(year: QuotaYear) -> Vec<FixedDeadline> {
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

pub fn deadline(year: QuotaYear, step: Step) -> Option<FixedDeadline> {
    fixed_deadlines(year).into_iter().find(|d| d.step == step)
}

/// p. 11: working days within which the employer is informed of the decision.
pub const NOTICE_WORKING_DAYS: i64 = 5;
/// p. 19: working days within which the ministry publishes its decision.
pub const PUBLICATION_WORKING_DAYS: i64 = 3;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_2027_timeline_runs_in_autumn_2026() {
        let d = fixed_deadlines(QuotaYear::from_stored(2027));
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
        assert_eq!(f(Step::RegionalFiling).last_day, day(2026, 10, 31));
        assert_eq!(f(Step::MinistryDecision).last_day, day(2026, 12, 31));
    }
}
