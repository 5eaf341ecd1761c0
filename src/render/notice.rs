//! The model of the notice to the employer of the Commission's decision on its
//! application (p. 11).

use serde::{Deserialize, Serialize};

pub use super::appendix1::VisibleSignature;
pub use super::fields::EmployerKind;

pub const TEMPLATE: &str = "notice.typ";

/// The filled form; serialised as the template's `/data.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notice {
    pub quota_year: i64,
    /// The region's body and its address, for the letterhead.
    pub sender: String,
    pub sender_address: String,
    /// The day of the notice, DD.MM.YYYY.
    pub date: String,
    pub outgoing_number: String,
    pub employer: Employer,
    /// The day the application was submitted, DD.MM.YYYY.
    pub application_date: String,
    pub protocol_number: String,
    pub decided_on: String,
    pub outcome_ru: String,
    pub lines: Vec<Line>,
    /// The grounds of p. 10 in its words.
    pub grounds: Vec<String>,
    pub head_position: String,
    pub head_full_name: String,
    pub signature: VisibleSignature,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Employer {
    pub name: String,
    pub legal_address: String,
    pub bin: String,
    pub kind: EmployerKind,
}

/// A line of the application: what was requested and what the Commission approved.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Line {
    pub number: usize,
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
        let m: Notice = super::super::fields::read_sample("notice");
        assert_eq!(m.lines.len(), 4);
        assert_eq!(m.employer.kind, EmployerKind::LegalEntity);
    }
}
