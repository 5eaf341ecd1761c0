//! Resource names (AIP-122): the one place that formats and parses `{collection}/{id}`.
//! A name that exists is well formed; [`NameError`] says why a string is not one.

use std::fmt;

/// Why a string is not a resource name of the expected collection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{given:?} is not a resource name of the form {collection}/{{id}}")]
pub struct NameError {
    pub given: String,
    pub collection: &'static str,
}

/// Ids are lowercase letters, digits and hyphens, 1 to 63 of them (AIP-122).
fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 63
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The id of `name` in `collection`, or why not.
pub fn parse_id<'a>(name: &'a str, collection: &'static str) -> Result<&'a str, NameError> {
    name.strip_prefix(collection)
        .and_then(|rest| rest.strip_prefix('/'))
        .filter(|id| valid_id(id))
        .ok_or_else(|| NameError {
            given: name.to_owned(),
            collection,
        })
}

macro_rules! resource_name {
    ($(#[$doc:meta])* $name:ident, $collection:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            pub const COLLECTION: &'static str = $collection;

            /// The name of the resource with this id (ids the service made are valid).
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            pub fn parse(name: &str) -> Result<Self, NameError> {
                parse_id(name, $collection).map(|id| Self(id.to_owned()))
            }

            pub fn id(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}/{}", $collection, self.0)
            }
        }
    };
}

resource_name!(
    /// `applications/{id}`: an employer's application (Appendix 1).
    ApplicationName,
    "applications"
);
resource_name!(
    /// `documents/{id}`: an issued, sealed document.
    DocumentName,
    "documents"
);
resource_name!(
    /// `quotas/{id}`: the ministry's quota for one or more years.
    QuotaName,
    "quotas"
);
resource_name!(
    /// `proposals/{id}`: a central body's proposal (p. 13).
    ProposalName,
    "proposals"
);
resource_name!(
    /// `bodies/{id}`: a state body's profile (the ministry or a region's body).
    BodyName,
    "bodies"
);
resource_name!(
    /// `signingSessions/{id}`: a party's signature in progress.
    SigningSessionName,
    "signingSessions"
);
resource_name!(
    /// `principals/{id}`: a registered state-body identity.
    PrincipalName,
    "principals"
);

/// `regions/{kato}`: one of the 20 regions, by its KATO code.
pub fn region_name(code: &str) -> String {
    format!("regions/{code}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_format_and_parse_back() {
        let n = ApplicationName::parse("applications/ab-1").unwrap();
        assert_eq!(n.id(), "ab-1");
        assert_eq!(n.to_string(), "applications/ab-1");
        assert_eq!(DocumentName::new("x9").to_string(), "documents/x9");
        assert_eq!(
            SigningSessionName::parse("signingSessions/s-1")
                .unwrap()
                .id(),
            "s-1"
        );
    }

    #[test]
    fn malformed_names_are_refused() {
        for bad in [
            "",
            "applications/",
            "documents/ab",
            "applications/AB",
            "applications/a/b",
            "applicationsx/ab",
        ] {
            assert!(ApplicationName::parse(bad).is_err(), "{bad}");
        }
        let e = QuotaName::parse("quotas/").unwrap_err();
        assert_eq!(
            e.to_string(),
            "\"quotas/\" is not a resource name of the form quotas/{id}"
        );
    }
}
