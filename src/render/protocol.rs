//! The model of the protocol of a meeting of the Commission (p. 8–10): its members and
//! its decisions on the employers' applications.

use serde::{Deserialize, Serialize};

pub use super::appendix1::VisibleSignature;
pub use super::fields::EmployerKind;

pub const TEMPLATE: &str = "protocol.typ";

/// The filled form; serialised as the template's `/data.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Protocol {
    pub quota_year: i64,
    /// The region's body, for the letterhead.
    pub issuer: String,
    pub protocol_number: String,
    pub commission_title: String,
    pub place: String,
    /// The day of the meeting (its last decision), DD.MM.YYYY.
    pub date: String,
    pub members: Vec<Member>,
    pub decisions: Vec<Decision>,
    pub chair: String,
    pub secretary: String,
    pub signature: VisibleSignature,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Member {
    pub full_name: String,
    pub position: String,
    pub organisation: String,
    pub role: String,
    /// p. 9: a body that joins «по согласованию».
    pub by_agreement: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    pub number: usize,
    pub employer: Employer,
    pub outcome_ru: String,
    pub decided_on: String,
    /// p. 8: put to the Commission after its last day.
    pub late_submission: bool,
    /// Empty when the day was not given: the footnote then says only what is known.
    pub put_to_commission_on: String,
    /// p. 8's last day, for the footnote of decisions put to the Commission late.
    pub commission_last_day: String,
    pub lines: Vec<Line>,
    /// The grounds of p. 10 in its words.
    pub grounds: Vec<String>,
}

/// The employer as the protocol names it. Without a `kind` the template labels the
/// number «БИН/ИИН».
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Employer {
    pub name: String,
    pub bin: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<EmployerKind>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Line {
    pub occupation_code: String,
    pub occupation_name: String,
    pub category_ru: String,
    pub requested: u32,
    pub approved: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_is_a_model() {
        let m: Protocol = super::super::fields::read_sample("protocol");
        assert_eq!(m.members.len(), 9);
        assert_eq!(m.decisions.len(), 4);
        assert_eq!(m.decisions[3].employer.kind, Some(EmployerKind::Individual));
    }
}
