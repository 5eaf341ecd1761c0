//! The model of Appendix 2 («Заявка на привлечение иностранной рабочей силы»): the
//! region's organisations with what the Commission approved for each (p. 12).

use serde::{Deserialize, Serialize};

pub use super::appendix1::{Totals, VisibleSignature};
pub use super::fields::{CategoryCounts, EmployerKind};

pub const TEMPLATE: &str = "appendix2.typ";

/// The filled form; serialised as the template's `/data.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Appendix2 {
    pub quota_year: i64,
    /// The ministry, in the dative: «В Министерство …».
    pub addressee: String,
    /// The region's body.
    pub sender: String,
    pub rows: Vec<Row>,
    pub totals: Totals,
    pub head_position: String,
    pub head_full_name: String,
    pub signature: VisibleSignature,
    /// Set only on a part of a long form laid out in parts (see `render::parts`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part: Option<Part>,
}

/// One organisation: its approved lines, their totals by category, its justification.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Row {
    pub number: usize,
    pub organisation: Organisation,
    /// Column 2: foreign workers it employs now.
    pub current_count: u64,
    pub lines: Vec<Line>,
    pub totals: CategoryCounts,
    /// Column 9: the organisation's justification and the Commission's decision on it.
    pub justification: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Organisation {
    pub name: String,
    pub legal_address: String,
    pub bin: String,
    pub kind: EmployerKind,
}

/// An approved occupation line; its category decides its column.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Line {
    /// "1" to "4" or "seasonal".
    pub category: String,
    pub occupation_code: String,
    pub occupation_name: String,
    pub count: u32,
}

/// Which part of the form this is: the first carries the heading, the last the totals
/// and the signature.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Part {
    pub first: bool,
    pub last: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_is_a_model() {
        let m: Appendix2 = super::super::fields::read_sample("appendix2");
        assert_eq!(m.rows.len(), 3);
        assert_eq!(m.rows[2].organisation.kind, EmployerKind::Individual);
        assert_eq!(m.totals.seasonal, 40);
        assert!(m.part.is_none());
    }
}
