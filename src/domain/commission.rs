//! The Commission's decisions on employers' applications (p. 8–11 of the Rules).

use chrono::NaiveDate;

use super::violations::Violations;

/// The Commission's outcome for one application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Одобрить: every line as requested.
    Approved,
    /// Одобрить частично: at least one line reduced (p. 10 "частично").
    PartiallyApproved,
    /// Отказать: nothing approved (p. 10 "полностью").
    Rejected,
}

impl Outcome {
    pub fn code(self) -> &'static str {
        match self {
            Self::Approved => "APPROVED",
            Self::PartiallyApproved => "PARTIALLY_APPROVED",
            Self::Rejected => "REJECTED",
        }
    }

    pub fn from_code(s: &str) -> Option<Self> {
        [Self::Approved, Self::PartiallyApproved, Self::Rejected]
            .into_iter()
            .find(|o| o.code() == s)
    }

    /// The decision in the words of a protocol.
    pub fn text_ru(self) -> &'static str {
        match self {
            Self::Approved => "одобрить",
            Self::PartiallyApproved => "одобрить частично",
            Self::Rejected => "отказать",
        }
    }
}

/// The only three grounds on which the Commission may reject an application fully or
/// partially (p. 10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RejectionGround {
    /// p. 10.1: the need can be met from the local labour force.
    LocalLabourAvailable,
    /// p. 10.2: unremedied violations of the permit rules.
    PermitViolations,
    /// p. 10.3: unremedied violations of labour law, incl. overdue wages.
    LabourLawViolations,
}

impl RejectionGround {
    pub const ALL: [Self; 3] = [
        Self::LocalLabourAvailable,
        Self::PermitViolations,
        Self::LabourLawViolations,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::LocalLabourAvailable => "LOCAL_LABOUR_AVAILABLE",
            Self::PermitViolations => "PERMIT_VIOLATIONS",
            Self::LabourLawViolations => "LABOUR_LAW_VIOLATIONS",
        }
    }

    pub fn from_code(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.code() == s)
    }

    /// The ground in the words of p. 10, for protocols and notices.
    pub fn text_ru(self) -> &'static str {
        match self {
            Self::LocalLabourAvailable => {
                "наличие возможности удовлетворения потребности в рабочей силе за счет трудовых ресурсов, \
                 в том числе путем профессиональной подготовки безработных граждан, независимых работников, \
                 а также высвобождаемых работников по профессиям и специальностям, по которым предполагается \
                 привлечение иностранных работников (подпункт 1) пункта 10 Правил)"
            }
            Self::PermitViolations => {
                "наличие у работодателей, предусматривающих привлечение иностранных работников, \
                 неустраненных нарушений порядка выдачи и (или) продления привлечения иностранной рабочей \
                 силы в предыдущем и текущем годах (подпункт 2) пункта 10 Правил)"
            }
            Self::LabourLawViolations => {
                "наличие у работодателей, предусматривающих привлечение иностранных работников, \
                 неустраненных нарушений трудового законодательства Республики Казахстан, в том числе \
                 просроченной задолженности по заработной плате и другим выплатам работникам в предыдущем \
                 и текущем годах (подпункт 3) пункта 10 Правил)"
            }
        }
    }
}

/// The body a member of the Commission represents (p. 9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MemberKind {
    /// The local executive body of the region (акимат).
    LocalExecutiveBody,
    /// The territorial internal affairs body.
    InternalAffairs,
    /// The local executive body for education.
    Education,
    /// The local executive body for entrepreneurship.
    Entrepreneurship,
    /// The territorial unit of the labour authority.
    LabourTerritorialUnit,
    /// The regional chamber of entrepreneurs, "по согласованию".
    ChamberOfEntrepreneurs,
    /// The trade unions, "по согласованию".
    TradeUnions,
}

impl MemberKind {
    pub const ALL: [Self; 7] = [
        Self::LocalExecutiveBody,
        Self::InternalAffairs,
        Self::Education,
        Self::Entrepreneurship,
        Self::LabourTerritorialUnit,
        Self::ChamberOfEntrepreneurs,
        Self::TradeUnions,
    ];

    /// p. 9: the bodies every Commission includes, as a refusal names them.
    pub const REQUIRED: [(Self, &'static str); 4] = [
        (Self::InternalAffairs, "territorial internal affairs body"),
        (Self::Education, "local executive body for education"),
        (
            Self::Entrepreneurship,
            "local executive body for entrepreneurship",
        ),
        (
            Self::LabourTerritorialUnit,
            "territorial unit of the labour authority",
        ),
    ];

    /// The code stored with the member.
    pub fn code(self) -> &'static str {
        match self {
            Self::LocalExecutiveBody => "LOCAL_EXECUTIVE_BODY",
            Self::InternalAffairs => "INTERNAL_AFFAIRS",
            Self::Education => "EDUCATION",
            Self::Entrepreneurship => "ENTREPRENEURSHIP",
            Self::LabourTerritorialUnit => "LABOUR_TERRITORIAL_UNIT",
            Self::ChamberOfEntrepreneurs => "CHAMBER_OF_ENTREPRENEURS",
            Self::TradeUnions => "TRADE_UNIONS",
        }
    }

    pub fn from_code(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == s)
    }

    /// p. 9: the chamber of entrepreneurs and the trade unions join the Commission "по
    /// согласованию" (by agreement), so the protocol says so and they are optional.
    pub fn by_agreement(self) -> bool {
        matches!(self, Self::ChamberOfEntrepreneurs | Self::TradeUnions)
    }
}

/// p. 9: the required bodies that none of `present` represents, described.
pub fn missing_bodies(present: &[MemberKind]) -> Vec<&'static str> {
    MemberKind::REQUIRED
        .iter()
        .filter(|(k, _)| !present.contains(k))
        .map(|(_, what)| *what)
        .collect()
}

/// The member holding a role of the Commission (its chair, its secretary): the first whose
/// role, as the protocol writes it, begins with `role` in any case.
pub fn holder_of<'a>(
    members: impl IntoIterator<Item = (&'a str, &'a str)>,
    role: &str,
) -> Option<&'a str> {
    members
        .into_iter()
        .find(|(r, _)| r.to_lowercase().starts_with(role))
        .map(|(_, name)| name)
}

/// What a caller sent for `RecordCommissionDecision`, checked against the requested
/// counts of the application's lines.
#[derive(Debug, Clone)]
pub struct DecisionInput {
    pub outcome: Option<Outcome>,
    pub approved_counts: Vec<u32>,
    pub grounds: Vec<Option<RejectionGround>>,
    pub decided_on: String,
    /// p. 8: when the application was put to the Commission; empty if not given.
    pub put_to_commission_on: String,
    pub protocol_number: String,
}

/// A valid decision of the Commission on one application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommissionDecision {
    pub outcome: Outcome,
    pub approved_counts: Vec<u32>,
    pub grounds: Vec<RejectionGround>,
    pub decided_on: NaiveDate,
    /// p. 8: the day the regional body put the application to the Commission, when given.
    pub put_to_commission_on: Option<NaiveDate>,
    pub protocol_number: String,
}

impl CommissionDecision {
    /// The day by which p. 8's deadline ("не позднее 15 октября") is judged: the day the
    /// application was put to the Commission, or, when that was not given, the decision
    /// date (an application is put to the Commission no later than it is decided on).
    pub fn put_to_commission_or_decided_on(&self) -> NaiveDate {
        self.put_to_commission_on.unwrap_or(self.decided_on)
    }

    /// Parses a decision on an application whose lines requested `requested`.
    pub fn parse(input: &DecisionInput, requested: &[u32]) -> Result<Self, Violations> {
        let mut v = Violations::new();
        let outcome = input.outcome;
        if outcome.is_none() {
            v.add(
                "outcome",
                "outcome is required: APPROVED, PARTIALLY_APPROVED or REJECTED",
            );
        }
        if input.approved_counts.len() != requested.len() {
            v.add(
                "approved_counts",
                format!(
                    "one approved count per line of the application is required: {} lines, {} counts",
                    requested.len(),
                    input.approved_counts.len()
                ),
            );
        } else {
            for (i, (&a, &r)) in input.approved_counts.iter().zip(requested).enumerate() {
                if a > r {
                    v.add(
                        format!("approved_counts[{i}]"),
                        format!("approved {a} is more than the {r} requested"),
                    );
                }
            }
        }
        let mut grounds = Vec::new();
        for (i, g) in input.grounds.iter().enumerate() {
            match g {
                Some(g) if grounds.contains(g) => {
                    v.add(format!("grounds[{i}]"), "this ground is already listed")
                }
                Some(g) => grounds.push(*g),
                None => v.add(
                    format!("grounds[{i}]"),
                    "only the three grounds of p. 10 of the Rules may be given",
                ),
            }
        }
        let decided_on = match NaiveDate::parse_from_str(input.decided_on.trim(), "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                v.add(
                    "decided_on",
                    "the date of the decision is required as YYYY-MM-DD",
                );
                None
            }
        };
        let put = input.put_to_commission_on.trim();
        let put_to_commission_on = if put.is_empty() {
            None
        } else {
            match NaiveDate::parse_from_str(put, "%Y-%m-%d") {
                Ok(p) if decided_on.is_some_and(|d| p > d) => {
                    v.add(
                        "put_to_commission_on",
                        "the application is put to the Commission before the Commission decides on it",
                    );
                    None
                }
                Ok(p) => Some(p),
                Err(_) => {
                    v.add(
                        "put_to_commission_on",
                        "the date the application was put to the Commission must be YYYY-MM-DD (or left empty)",
                    );
                    None
                }
            }
        };
        let protocol_number = input.protocol_number.trim();
        if protocol_number.is_empty() || protocol_number.chars().count() > 50 {
            v.add(
                "protocol_number",
                "the protocol number is required (at most 50 characters)",
            );
        }
        if let (Some(outcome), true) = (outcome, input.approved_counts.len() == requested.len()) {
            let all_full = input
                .approved_counts
                .iter()
                .zip(requested)
                .all(|(a, r)| a == r);
            let all_zero = input.approved_counts.iter().all(|&a| a == 0);
            match outcome {
                Outcome::Approved => {
                    if !all_full {
                        v.add(
                            "approved_counts",
                            "a full approval approves every line as requested",
                        );
                    }
                    if !input.grounds.is_empty() {
                        v.add("grounds", "a full approval has no grounds of rejection");
                    }
                }
                Outcome::PartiallyApproved => {
                    if all_full {
                        v.add(
                            "approved_counts",
                            "a partial approval reduces at least one line",
                        );
                    }
                    if all_zero {
                        v.add(
                            "approved_counts",
                            "nothing is approved: that is a rejection",
                        );
                    }
                }
                Outcome::Rejected => {
                    if !all_zero {
                        v.add("approved_counts", "a rejection approves nothing");
                    }
                }
            }
            // p. 10: a full or partial rejection names its grounds.
            if outcome != Outcome::Approved && input.grounds.is_empty() {
                v.add(
                    "grounds",
                    "grounds of p. 10 are required unless the application is fully approved",
                );
            }
        }
        match (outcome, decided_on) {
            (Some(outcome), Some(decided_on)) if v.is_empty() => Ok(Self {
                outcome,
                approved_counts: input.approved_counts.clone(),
                grounds,
                decided_on,
                put_to_commission_on,
                protocol_number: protocol_number.to_owned(),
            }),
            _ => Err(v),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(outcome: Outcome, approved: &[u32], grounds: &[RejectionGround]) -> DecisionInput {
        DecisionInput {
            outcome: Some(outcome),
            approved_counts: approved.to_vec(),
            grounds: grounds.iter().copied().map(Some).collect(),
            decided_on: "2026-10-12".into(),
            put_to_commission_on: String::new(),
            protocol_number: "3".into(),
        }
    }

    fn fields(r: Result<CommissionDecision, Violations>) -> Vec<String> {
        r.unwrap_err()
            .into_vec()
            .into_iter()
            .map(|v| v.field)
            .collect()
    }

    #[test]
    fn p9_requires_four_bodies_and_two_join_by_agreement() {
        for k in MemberKind::ALL {
            assert_eq!(MemberKind::from_code(k.code()), Some(k));
        }
        assert_eq!(missing_bodies(&[]).len(), 4);
        let all = MemberKind::REQUIRED.map(|(k, _)| k);
        assert!(missing_bodies(&all).is_empty());
        assert_eq!(
            missing_bodies(&[MemberKind::InternalAffairs, MemberKind::Education]),
            [
                "local executive body for entrepreneurship",
                "territorial unit of the labour authority"
            ]
        );
        assert!(MemberKind::TradeUnions.by_agreement());
        assert!(!MemberKind::Education.by_agreement());
    }

    #[test]
    fn the_chair_is_found_by_the_start_of_the_role() {
        let m = [("Член комиссии", "А"), ("Председатель Комиссии", "Б")];
        assert_eq!(holder_of(m, "председатель"), Some("Б"));
        assert_eq!(holder_of(m, "секретарь"), None);
    }

    #[test]
    fn full_partial_and_rejected_decisions_parse() {
        let req = [5, 10];
        assert!(CommissionDecision::parse(&input(Outcome::Approved, &[5, 10], &[]), &req).is_ok());
        let g = [RejectionGround::LocalLabourAvailable];
        assert!(
            CommissionDecision::parse(&input(Outcome::PartiallyApproved, &[5, 4], &g), &req)
                .is_ok()
        );
        assert!(CommissionDecision::parse(&input(Outcome::Rejected, &[0, 0], &g), &req).is_ok());
    }

    #[test]
    fn approved_may_not_exceed_requested() {
        let r = CommissionDecision::parse(&input(Outcome::Approved, &[6, 10], &[]), &[5, 10]);
        assert!(fields(r).contains(&"approved_counts[0]".to_string()));
    }

    #[test]
    fn a_rejection_needs_grounds_and_a_full_approval_has_none() {
        let r = CommissionDecision::parse(&input(Outcome::Rejected, &[0], &[]), &[5]);
        assert_eq!(fields(r), ["grounds"]);
        let r = CommissionDecision::parse(
            &input(
                Outcome::Approved,
                &[5],
                &[RejectionGround::PermitViolations],
            ),
            &[5],
        );
        assert_eq!(fields(r), ["grounds"]);
    }

    #[test]
    fn partial_means_at_least_one_line_reduced() {
        let g = [RejectionGround::LabourLawViolations];
        let r = CommissionDecision::parse(&input(Outcome::PartiallyApproved, &[5], &g), &[5]);
        assert_eq!(fields(r), ["approved_counts"]);
    }

    #[test]
    fn unknown_grounds_are_refused() {
        let mut i = input(Outcome::Rejected, &[0], &[]);
        i.grounds = vec![None];
        let r = CommissionDecision::parse(&i, &[5]);
        assert!(fields(r).contains(&"grounds[0]".to_string()));
    }

    #[test]
    fn the_day_put_to_the_commission_is_optional_and_not_after_the_decision() {
        let mut i = input(Outcome::Approved, &[5], &[]);
        let d = CommissionDecision::parse(&i, &[5]).unwrap();
        assert_eq!(d.put_to_commission_on, None);
        assert_eq!(d.put_to_commission_or_decided_on(), d.decided_on);
        i.put_to_commission_on = "2026-10-09".into();
        let d = CommissionDecision::parse(&i, &[5]).unwrap();
        assert_eq!(
            d.put_to_commission_or_decided_on(),
            NaiveDate::from_ymd_opt(2026, 10, 9).unwrap()
        );
        i.put_to_commission_on = "2026-10-13".into();
        let r = CommissionDecision::parse(&i, &[5]);
        assert_eq!(fields(r), ["put_to_commission_on"]);
        i.put_to_commission_on = "9 October".into();
        let r = CommissionDecision::parse(&i, &[5]);
        assert_eq!(fields(r), ["put_to_commission_on"]);
    }
}
