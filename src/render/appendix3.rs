//! The model of Appendix 3 («Заявка на привлечение трудовых иммигрантов»): the region's
//! need for labour immigrants (p. 14–16).

use serde::{Deserialize, Serialize};

pub use super::appendix1::VisibleSignature;

pub const TEMPLATE: &str = "appendix3.typ";

/// The filled form; serialised as the template's `/data.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Appendix3 {
    pub quota_year: i64,
    pub addressee: String,
    pub sender: String,
    /// Labour immigrants in the region now.
    pub current_count: u32,
    /// The need for the quota year.
    pub need: u32,
    pub justification: String,
    pub head_position: String,
    pub head_full_name: String,
    pub signature: VisibleSignature,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_is_a_model() {
        let m: Appendix3 = super::super::fields::read_sample("appendix3");
        assert_eq!((m.current_count, m.need), (1200, 1500));
    }
}
