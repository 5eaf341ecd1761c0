//! The model of Appendix 1 («Заявка работодателя на привлечение иностранной рабочей силы»),
//! built from an application and the seal that will sign it. The model is plain data: the
//! process step that submits an application fills it, the sealer renders and signs it.

use serde::{Deserialize, Serialize};

pub use super::fields::EmployerKind;
use crate::domain::WorkerCategory;

pub const TEMPLATE: &str = "appendix1.typ";

/// The stored document's title: «Заявка работодателя … на 2027 год».
pub fn document_title(quota_year: i64) -> String {
    format!("Заявка работодателя на привлечение иностранной рабочей силы на {quota_year} год")
}

/// The filled form; serialised as the template's `/data.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Appendix1 {
    pub quota_year: i64,
    /// The region's body the application is addressed to.
    pub addressee: String,
    pub region_name_ru: String,
    pub employer: Employer,
    pub rows: Vec<Row>,
    pub totals: Totals,
    pub justification: String,
    pub head_position: String,
    pub head_full_name: String,
    pub signature: VisibleSignature,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Employer {
    pub name: String,
    pub legal_address: String,
    pub bin: String,
    pub kind: EmployerKind,
}

/// One demand line: its category decides which of columns 3–7 holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Row {
    pub number: usize,
    pub current_count: u32,
    /// The category's code: "1"–"4" or "seasonal".
    pub category: String,
    pub occupation_code: String,
    pub occupation_name: String,
    pub requested_count: u32,
}

/// The «Итого» row: column 2 and each category column summed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Totals {
    pub current_count: u64,
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

/// The visible trace of the electronic seal at the foot of the form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VisibleSignature {
    pub signer: String,
    pub organisation: String,
    pub bin: String,
    pub certificate_serial: String,
    /// Already formatted: "25.11.2026 17:30:00 (UTC+5)".
    pub signing_time: String,
    pub document_id: String,
}

/// A line as the form needs it.
pub struct LineInput<'a> {
    pub occupation_code: &'a str,
    pub occupation_name: &'a str,
    pub category: WorkerCategory,
    pub current_count: u32,
    pub requested_count: u32,
}

impl Totals {
    /// Column 2 and the five category columns, summed elsewhere (Appendix 2's «Итого»).
    pub fn new(current_count: u64, by_category: super::fields::CategoryCounts) -> Self {
        let c = by_category;
        Self {
            current_count,
            first: c.first,
            second: c.second,
            third: c.third,
            fourth: c.fourth,
            seasonal: c.seasonal,
        }
    }

    pub fn from_rows(rows: &[Row]) -> Self {
        let mut t = Totals::default();
        for r in rows {
            t.current_count += u64::from(r.current_count);
            let n = u64::from(r.requested_count);
            match WorkerCategory::from_code(&r.category) {
                Some(WorkerCategory::First) => t.first += n,
                Some(WorkerCategory::Second) => t.second += n,
                Some(WorkerCategory::Third) => t.third += n,
                Some(WorkerCategory::Fourth) => t.fourth += n,
                Some(WorkerCategory::Seasonal) | None => t.seasonal += n,
            }
        }
        t
    }
}

pub fn rows<'a>(lines: impl IntoIterator<Item = LineInput<'a>>) -> Vec<Row> {
    lines
        .into_iter()
        .enumerate()
        .map(|(i, l)| Row {
            number: i + 1,
            current_count: l.current_count,
            category: l.category.code().to_owned(),
            occupation_code: l.occupation_code.to_owned(),
            occupation_name: l.occupation_name.to_owned(),
            requested_count: l.requested_count,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_data_is_the_model() {
        let sample = include_str!("../../templates/sample/appendix1.json");
        let model: Appendix1 = serde_json::from_str(sample).expect("the sample fits the model");
        assert_eq!(model.employer.kind, EmployerKind::LegalEntity);
        assert_eq!(model.totals, Totals::from_rows(&model.rows));
        // And back: the model writes every key the sample has, no more.
        let again: serde_json::Value = serde_json::to_value(&model).unwrap();
        let sample: serde_json::Value = serde_json::from_str(sample).unwrap();
        assert_eq!(again, sample);
    }

    #[test]
    fn totals_sum_each_column() {
        let r = rows([
            LineInput {
                occupation_code: "2142",
                occupation_name: "a",
                category: WorkerCategory::Third,
                current_count: 2,
                requested_count: 5,
            },
            LineInput {
                occupation_code: "7212",
                occupation_name: "b",
                category: WorkerCategory::Third,
                current_count: 1,
                requested_count: 7,
            },
            LineInput {
                occupation_code: "9312",
                occupation_name: "c",
                category: WorkerCategory::Seasonal,
                current_count: 0,
                requested_count: 4,
            },
        ]);
        let t = Totals::from_rows(&r);
        assert_eq!(
            (t.current_count, t.third, t.seasonal, t.first),
            (3, 12, 4, 0)
        );
        assert_eq!(r[2].number, 3);
    }
}
