//! The states of the process's resources and the parts of a quota, with the codes they
//! are stored and shown under.

use serde::{Deserialize, Serialize};

/// An employer's application (p. 6): drafted, submitted to the region's body, or
/// withdrawn by the employer before the commission decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplicationState {
    Draft,
    Submitted,
    Withdrawn,
}

impl ApplicationState {
    pub const ALL: [ApplicationState; 3] = [Self::Draft, Self::Submitted, Self::Withdrawn];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "DRAFT",
            Self::Submitted => "SUBMITTED",
            Self::Withdrawn => "WITHDRAWN",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// The ministry's quota (pp. 14–21): formed, established by order (p. 19), published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotaState {
    Draft,
    Established,
    Published,
}

impl QuotaState {
    pub const ALL: [QuotaState; 3] = [Self::Draft, Self::Established, Self::Published];

    pub fn code(self) -> &'static str {
        match self {
            Self::Draft => "DRAFT",
            Self::Established => "ESTABLISHED",
            Self::Published => "PUBLISHED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.code() == s)
    }
}

/// The three parts of the quota (p. 16): permits to employers, the countries of origin,
/// labour immigrants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Part {
    Permits,
    Countries,
    Immigrants,
}

impl Part {
    pub const ALL: [Part; 3] = [Part::Permits, Part::Countries, Part::Immigrants];

    pub fn code(self) -> &'static str {
        match self {
            Self::Permits => "PERMITS",
            Self::Countries => "COUNTRIES",
            Self::Immigrants => "IMMIGRANTS",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.code() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_parse_back() {
        for s in ApplicationState::ALL {
            assert_eq!(ApplicationState::parse(s.as_str()), Some(s));
        }
        for s in QuotaState::ALL {
            assert_eq!(QuotaState::parse(s.code()), Some(s));
        }
        for p in Part::ALL {
            assert_eq!(Part::parse(p.code()), Some(p));
        }
        assert_eq!(Part::parse("permits"), None);
    }
}
