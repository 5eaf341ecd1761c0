//! The 20 regions (17 oblasts and 3 cities of republican significance) by their KATO
//! codes. A [`RegionCode`] is a code checked against the known regions: caller text
//! becomes one only through [`Regions::get`] or [`Regions::check`].

use std::fmt;

use serde::Serialize;

use super::Violations;

/// The KATO code of one of the 20 regions, e.g. `110000000` (Akmola).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct RegionCode(String);

impl RegionCode {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for RegionCode {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for RegionCode {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for RegionCode {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for RegionCode {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<String> for RegionCode {
    fn eq(&self, other: &String) -> bool {
        &self.0 == other
    }
}

impl From<RegionCode> for String {
    fn from(code: RegionCode) -> Self {
        code.0
    }
}

/// The known regions, in the order of the reference data (they change only by migration).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Regions(Vec<RegionCode>);

impl Regions {
    /// The regions with these KATO codes (as stored; duplicates are dropped).
    pub fn new(codes: impl IntoIterator<Item = String>) -> Self {
        let mut out: Vec<RegionCode> = Vec::new();
        for c in codes {
            let c = RegionCode(c.trim().to_owned());
            if !c.0.is_empty() && !out.contains(&c) {
                out.push(c);
            }
        }
        Self(out)
    }

    /// The region whose code is `code` (surrounding spaces ignored), if it is one.
    pub fn get(&self, code: &str) -> Option<RegionCode> {
        let code = code.trim();
        self.0.iter().find(|c| c.0 == code).cloned()
    }

    /// Whether `code` is exactly the code of one of the regions (no trimming: a stored or
    /// already checked value).
    pub fn contains(&self, code: &str) -> bool {
        self.0.iter().any(|c| c.0 == code)
    }

    /// Checks a region code given in `field`, recording a violation when it is not one of
    /// the regions.
    pub fn check(&self, v: &mut Violations, field: &str, code: &str) -> Option<RegionCode> {
        let found = self.get(code);
        if found.is_none() {
            v.add(
                field,
                format!(
                    "{:?} is not the KATO code of one of the {} regions",
                    code.trim(),
                    self.0.len()
                ),
            );
        }
        found
    }

    pub fn iter(&self) -> impl Iterator<Item = &RegionCode> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regions() -> Regions {
        Regions::new([
            "110000000".to_owned(),
            "750000000".to_owned(),
            "110000000".to_owned(),
        ])
    }

    #[test]
    fn a_known_code_is_found_with_spaces_trimmed() {
        let r = regions();
        assert_eq!(r.len(), 2, "duplicates dropped");
        let almaty = r.get(" 750000000 ").expect("Almaty city is a region");
        assert_eq!(almaty.as_str(), "750000000");
        assert_eq!(almaty, "750000000");
        assert!(r.contains("750000000"));
        assert!(!r.contains(" 750000000"), "contains takes an exact code");
    }

    #[test]
    fn an_unknown_code_is_a_violation_naming_the_field() {
        let r = regions();
        let mut v = Violations::new();
        assert_eq!(r.check(&mut v, "moves[2].to_region", "111111111"), None);
        assert_eq!(r.check(&mut v, "region_code", ""), None);
        let fields: Vec<_> = v.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["moves[2].to_region", "region_code"]);
        assert!(
            v.iter()
                .next()
                .unwrap()
                .description
                .contains("\"111111111\"")
        );
    }

    #[test]
    fn serialises_as_the_bare_code() {
        let code = regions().get("110000000").unwrap();
        assert_eq!(serde_json::to_string(&code).unwrap(), "\"110000000\"");
        assert_eq!(code.to_string(), "110000000");
    }
}
