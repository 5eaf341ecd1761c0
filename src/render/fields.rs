//! Fields several forms share: the category columns, the employer's kind and the
//! categories' names as the forms print them.

use serde::{Deserialize, Serialize};

use crate::domain::filing::CategoryTotals;
use crate::domain::{Bin, WorkerCategory};

/// Head counts in the five category columns (1st–4th category, seasonal), keyed as the
/// templates read them: `"1"` … `"4"`, `"seasonal"`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryCounts {
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

impl CategoryCounts {
    /// From the five figures in column order (1st–4th category, seasonal).
    pub fn from_array(n: [u64; 5]) -> Self {
        let [first, second, third, fourth, seasonal] = n;
        Self {
            first,
            second,
            third,
            fourth,
            seasonal,
        }
    }
}

impl From<&CategoryTotals> for CategoryCounts {
    fn from(t: &CategoryTotals) -> Self {
        Self {
            first: t.of(WorkerCategory::First),
            second: t.of(WorkerCategory::Second),
            third: t.of(WorkerCategory::Third),
            fourth: t.of(WorkerCategory::Fourth),
            seasonal: t.of(WorkerCategory::Seasonal),
        }
    }
}

/// Whether the employer's number is a BIN or an individual's IIN: the forms label it so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmployerKind {
    /// A legal entity, labelled БИН.
    LegalEntity,
    /// An individual entrepreneur, labelled ИИН.
    Individual,
}

impl EmployerKind {
    /// The kind of the employer with this number: an IIN's (an individual's) or a
    /// legal entity's; a number that does not parse is labelled as a BIN.
    pub fn of(bin: &str) -> Self {
        match Bin::parse(bin) {
            Ok(b) if b.looks_like_iin() => Self::Individual,
            _ => Self::LegalEntity,
        }
    }
}

/// A worker category as the protocol and the notice name it.
pub fn category_ru(c: WorkerCategory) -> &'static str {
    match c {
        WorkerCategory::First => "1-я категория",
        WorkerCategory::Second => "2-я категория",
        WorkerCategory::Third => "3-я категория",
        WorkerCategory::Fourth => "4-я категория",
        WorkerCategory::Seasonal => "сезонные работники",
    }
}

/// The sample data of `form` (`templates/sample/{form}.json`) read into its model: a key
/// the model does not know, or a key it needs and the sample lacks, fails the test.
#[cfg(test)]
pub(crate) fn read_sample<T: serde::de::DeserializeOwned>(form: &str) -> T {
    let path = format!(
        "{}/templates/sample/{form}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path} is not the model: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn category_counts_are_keyed_as_the_templates_read_them() {
        let mut t = CategoryTotals::default();
        t.add(WorkerCategory::Third, 4);
        t.add(WorkerCategory::Seasonal, 2);
        let json = serde_json::to_value(CategoryCounts::from(&t)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"1": 0, "2": 0, "3": 4, "4": 0, "seasonal": 2})
        );
    }

    #[test]
    fn an_iin_is_an_individual() {
        assert_eq!(EmployerKind::of("040140001236"), EmployerKind::LegalEntity);
        assert_eq!(EmployerKind::of("851231400120"), EmployerKind::Individual);
        assert_eq!(EmployerKind::of("not a number"), EmployerKind::LegalEntity);
        assert_eq!(
            serde_json::to_value(EmployerKind::Individual).unwrap(),
            "individual"
        );
    }
}
