//! Identifiers of Kazakhstan's registers.

use std::fmt;

/// A BIN (business identification number) of a legal entity or an IIN (individual
/// identification number): both are 12 digits, the last a check digit.
///
/// The check digit: weights 1..=11 over the first 11 digits, sum mod 11; when that gives
/// 10, weights 3,4,…,11,1,2 and mod 11 again; 10 a second time means no such number is
/// issued.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Bin(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BinError {
    #[error("must be exactly 12 digits")]
    Format,
    #[error("check digit does not match (expected {expected})")]
    CheckDigit { expected: u32 },
    #[error("no number with these 11 digits is issued (check digit would be 10)")]
    NotIssued,
}

impl Bin {
    pub fn parse(s: &str) -> Result<Self, BinError> {
        let digits: Vec<u32> = s.chars().filter_map(|c| c.to_digit(10)).collect();
        if s.len() != 12 || digits.len() != 12 {
            return Err(BinError::Format);
        }
        let expected = check_digit(&digits[..11]).ok_or(BinError::NotIssued)?;
        if digits[11] != expected {
            return Err(BinError::CheckDigit { expected });
        }
        Ok(Self(s.to_owned()))
    }

    /// The number whose first 11 digits are `prefix`, with its check digit; `None` if
    /// `prefix` is not 11 digits or no number with them is issued. For test and
    /// benchmark data.
    pub fn complete(prefix: &str) -> Option<Self> {
        let digits: Vec<u32> = prefix.chars().filter_map(|c| c.to_digit(10)).collect();
        if prefix.len() != 11 || digits.len() != 11 {
            return None;
        }
        check_digit(&digits).map(|k| Self(format!("{prefix}{k}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 5th digit of a BIN is the kind of entity (4, 5, 6); of an IIN it is the
    /// century and sex (1..=6). A BIN's 3rd and 4th digits are a registration month, an
    /// IIN's a birth month, so this guess is only used to word the form.
    pub fn looks_like_iin(&self) -> bool {
        let b = self.0.as_bytes();
        let month = (b[2] - b'0') * 10 + (b[3] - b'0');
        let day = (b[4] - b'0') * 10 + (b[5] - b'0');
        (1..=12).contains(&month) && (1..=31).contains(&day) && (b'1'..=b'6').contains(&b[6])
    }
}

fn check_digit(d: &[u32]) -> Option<u32> {
    let pass = |weights: [u32; 11]| d.iter().zip(weights).map(|(a, w)| a * w).sum::<u32>() % 11;
    let first = pass([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    if first != 10 {
        return Some(first);
    }
    let second = pass([3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2]);
    (second != 10).then_some(second)
}

impl fmt::Display for Bin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complete_adds_the_check_digit_parse_expects() {
        let b = Bin::complete("04014000123").unwrap();
        assert_eq!(b.as_str(), "040140001236");
        assert_eq!(Bin::parse(b.as_str()).unwrap(), b);
        assert!(Bin::complete("0401400012").is_none());
        assert!(Bin::complete("0401400012x").is_none());
    }

    #[test]
    fn reference_numbers_parse() {
        // Synthetic numbers from reference/kazakhstan.json, first and second pass.
        for ok in [
            "900101300007",
            "851231400120",
            "000229600153",
            "880515300208",
            "061211600012",
        ] {
            assert!(Bin::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn wrong_check_digit_is_refused() {
        assert_eq!(
            Bin::parse("900101300008"),
            Err(BinError::CheckDigit { expected: 7 })
        );
    }

    #[test]
    fn wrong_shape_is_refused() {
        for bad in [
            "",
            "90010130000",
            "9001013000071",
            "88051530021X",
            " 00101300007",
        ] {
            assert_eq!(Bin::parse(bad), Err(BinError::Format), "{bad:?}");
        }
    }

    #[test]
    fn a_number_whose_check_digit_would_be_ten_twice_is_not_issued() {
        // Search the first such prefix rather than hard-code it.
        let prefix = (0u64..)
            .map(|n| format!("{n:011}"))
            .find(|p| {
                let d: Vec<u32> = p.chars().map(|c| c.to_digit(10).unwrap()).collect();
                check_digit(&d).is_none()
            })
            .unwrap();
        for last in 0..10 {
            assert_eq!(
                Bin::parse(&format!("{prefix}{last}")),
                Err(BinError::NotIssued)
            );
        }
    }
}
