//! The model of Appendix 4 («… по странам исхода»): the region's need by country of
//! origin, by category and by occupation (p. 17).

use serde::{Deserialize, Serialize};

pub use super::appendix1::VisibleSignature;
pub use super::appendix2::Line;
pub use super::fields::CategoryCounts;

pub const TEMPLATE: &str = "appendix4.typ";

/// The filled form; serialised as the template's `/data.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Appendix4 {
    pub quota_year: i64,
    pub addressee: String,
    pub sender: String,
    pub countries: Vec<Country>,
    pub totals: Totals,
    pub head_position: String,
    pub head_full_name: String,
    pub signature: VisibleSignature,
}

/// One country of origin (a treaty country, p. 17).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Country {
    /// ISO 3166-1 alpha-2.
    pub code: String,
    pub name_ru: String,
    pub number: usize,
    /// Every category together.
    pub total: u64,
    pub counts: CategoryCounts,
    /// The breakdown by occupation; empty for a country filed with its counts alone.
    #[serde(default)]
    pub lines: Vec<Line>,
}

/// The «Итого» row: all countries, in total and by category.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Totals {
    pub total: u64,
    #[serde(rename = "1")]
    pub first: u64,
    #[serde(rename = "2")]
    pub second: u64,
    #[serde(rename = "3")]
    pub third: u64,
    #[serde(rename = "4")]
    pub fourth: u64,
    pub seasonal: u64,
}

impl Totals {
    pub fn new(by_category: CategoryCounts) -> Self {
        let c = by_category;
        Self {
            total: c.first + c.second + c.third + c.fourth + c.seasonal,
            first: c.first,
            second: c.second,
            third: c.third,
            fourth: c.fourth,
            seasonal: c.seasonal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_is_a_model() {
        let m: Appendix4 = super::super::fields::read_sample("appendix4");
        assert_eq!(m.countries.len(), 3);
        // A country without a breakdown has no lines.
        assert!(m.countries[1].lines.is_empty());
        assert_eq!(m.totals.total, 195);
    }
}
