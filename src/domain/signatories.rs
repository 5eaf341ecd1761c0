//! Who signs which document besides the service's seal: the party the form is from
//! (Appendix 1: the employer; Appendices 2–4, the protocol and the notice: the region's
//! body; the decision: the ministry), and in what role a certificate lets its holder
//! sign for it. Pure rules: the identifiers to compare come from the caller.

use std::fmt;

use super::Bin;

/// The kinds of issued documents, as stored and shown (`Document.kind`).
pub mod kind {
    pub const APPENDIX_1: &str = "APPENDIX_1";
    pub const APPENDIX_2: &str = "APPENDIX_2";
    pub const APPENDIX_3: &str = "APPENDIX_3";
    pub const APPENDIX_4: &str = "APPENDIX_4";
    pub const COMMISSION_PROTOCOL: &str = "COMMISSION_PROTOCOL";
    pub const EMPLOYER_NOTICE: &str = "EMPLOYER_NOTICE";
    pub const QUOTA_DECISION: &str = "QUOTA_DECISION";
}

/// The party that signs a document, by the document's kind and subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signatory {
    /// Appendix 1: the employer that filed the application.
    Employer { application_id: String },
    /// The employer's notice (p. 11): the body of the application's region.
    RegionalBodyOf { application_id: String },
    /// A region's filings (Appendices 2–4) and its commission's protocol.
    RegionalBody { region: String },
    /// The quota decision (p. 19).
    Ministry,
}

impl Signatory {
    /// Who signs a document of `kind` about `subject` (`applications/{id}` or
    /// `regions/{kato}/…`).
    pub fn of(kind: &str, subject: &str) -> Self {
        let application_id = || subject.trim_start_matches("applications/").to_owned();
        match kind {
            kind::APPENDIX_1 => Self::Employer {
                application_id: application_id(),
            },
            kind::EMPLOYER_NOTICE => Self::RegionalBodyOf {
                application_id: application_id(),
            },
            kind::QUOTA_DECISION => Self::Ministry,
            _ => Self::RegionalBody {
                region: subject
                    .strip_prefix("regions/")
                    .and_then(|r| r.split('/').next())
                    .unwrap_or_default()
                    .to_owned(),
            },
        }
    }
}

/// A state body that signs its documents, with the BIN its signers' certificates carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    RegionalBody,
    Ministry,
}

/// The holder's authority in Kazakhstan's PKI, from the certificate's extended key usage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authority {
    /// The organisation's head (1.2.398.3.3.4.1.2.1).
    Head,
    /// A person with the right of signature (1.2.398.3.3.4.1.2.2).
    Signatory,
    /// An individual (1.2.398.3.3.4.1.1).
    Individual,
}

impl Authority {
    /// From the PKI role names `sign::keys::kz_role` gives.
    pub fn parse(role: &str) -> Option<Self> {
        match role {
            "HEAD" => Some(Self::Head),
            "SIGNATORY" => Some(Self::Signatory),
            "INDIVIDUAL" => Some(Self::Individual),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Head => "HEAD",
            Self::Signatory => "SIGNATORY",
            Self::Individual => "INDIVIDUAL",
        }
    }
}

/// What a signer's certificate says about its holder.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Holder {
    pub iin: Option<String>,
    pub bin: Option<String>,
    pub authority: Option<Authority>,
}

/// The role in which a signature was made, as stored and shown (`SignatureInfo.role`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignerRole {
    EmployerHead,
    EmployerSignatory,
    /// An individual employer (an IIN, not a BIN).
    EmployerIndividual,
    RegionalBodyHead,
    RegionalBodySignatory,
    MinistryHead,
    MinistrySignatory,
    /// The service's own seal.
    ServiceSeal,
}

impl SignerRole {
    pub fn code(self) -> &'static str {
        match self {
            Self::EmployerHead => "EMPLOYER_HEAD",
            Self::EmployerSignatory => "EMPLOYER_SIGNATORY",
            Self::EmployerIndividual => "EMPLOYER_INDIVIDUAL",
            Self::RegionalBodyHead => "REGIONAL_BODY_HEAD",
            Self::RegionalBodySignatory => "REGIONAL_BODY_SIGNATORY",
            Self::MinistryHead => "MINISTRY_HEAD",
            Self::MinistrySignatory => "MINISTRY_SIGNATORY",
            Self::ServiceSeal => "SERVICE_SEAL",
        }
    }

    /// An individual employer signs with an IIN, everyone else for an organisation's BIN.
    pub fn signs_by_iin(self) -> bool {
        self == Self::EmployerIndividual
    }
}

impl fmt::Display for SignerRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Why a certificate does not sign for the party: which of its facts (`field`: iin, bin
/// or role), what the certificate says and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct NotParty {
    pub field: &'static str,
    pub message: String,
    pub certificate: String,
    pub expected: String,
}

impl NotParty {
    fn role(message: &str, authority: Option<Authority>) -> Self {
        Self {
            field: "role",
            message: message.to_owned(),
            certificate: authority.map_or("none", Authority::as_str).to_owned(),
            expected: "HEAD or SIGNATORY".to_owned(),
        }
    }
}

/// The role in which `holder` signs for the employer `employer_id` (Appendix 1): an
/// individual employer (an IIN) by the same IIN; an organisation (a BIN) by its head or
/// a person with the right of signature.
pub fn employer_role(employer_id: &str, holder: &Holder) -> Result<SignerRole, NotParty> {
    let individual = Bin::parse(employer_id).is_ok_and(|b| b.looks_like_iin());
    if individual {
        let iin = holder.iin.clone().unwrap_or_default();
        if iin != employer_id {
            return Err(NotParty {
                field: "iin",
                message: format!(
                    "the certificate's IIN {iin:?} is not the employer's IIN {employer_id}"
                ),
                certificate: iin,
                expected: employer_id.to_owned(),
            });
        }
        return Ok(SignerRole::EmployerIndividual);
    }
    let bin = holder.bin.clone().unwrap_or_default();
    if bin != employer_id {
        return Err(NotParty {
            field: "bin",
            message: format!(
                "the certificate's BIN {bin:?} is not the employer's BIN {employer_id}"
            ),
            certificate: bin,
            expected: employer_id.to_owned(),
        });
    }
    match holder.authority {
        Some(Authority::Head) => Ok(SignerRole::EmployerHead),
        Some(Authority::Signatory) => Ok(SignerRole::EmployerSignatory),
        other => Err(NotParty::role(
            "the certificate gives no head or signing-right role of the employer (extended key usage 1.2.398.3.3.4.1.2.1 or .2.2)",
            other,
        )),
    }
}

/// The role in which `holder` signs for a state body whose BIN is `body_bin`: its head
/// or a person with the right of signature, by the body's BIN.
pub fn body_role(body: Body, body_bin: &str, holder: &Holder) -> Result<SignerRole, NotParty> {
    let bin = holder.bin.clone().unwrap_or_default();
    if bin != body_bin {
        return Err(NotParty {
            field: "bin",
            message: format!(
                "the certificate's BIN {bin:?} is not the BIN {body_bin} of the signing body"
            ),
            certificate: bin,
            expected: body_bin.to_owned(),
        });
    }
    match (body, holder.authority) {
        (Body::RegionalBody, Some(Authority::Head)) => Ok(SignerRole::RegionalBodyHead),
        (Body::RegionalBody, Some(Authority::Signatory)) => Ok(SignerRole::RegionalBodySignatory),
        (Body::Ministry, Some(Authority::Head)) => Ok(SignerRole::MinistryHead),
        (Body::Ministry, Some(Authority::Signatory)) => Ok(SignerRole::MinistrySignatory),
        (_, other) => Err(NotParty::role(
            "the certificate gives no head or signing-right role (extended key usage 1.2.398.3.3.4.1.2.1 or .2.2)",
            other,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPLOYER_BIN: &str = "040140001236";

    fn holder(bin: &str, authority: Option<Authority>) -> Holder {
        Holder {
            iin: Some("900101300007".into()),
            bin: Some(bin.into()),
            authority,
        }
    }

    #[test]
    fn each_kind_of_document_has_its_signatory() {
        assert_eq!(
            Signatory::of(kind::APPENDIX_1, "applications/ab-1"),
            Signatory::Employer {
                application_id: "ab-1".into()
            }
        );
        assert_eq!(
            Signatory::of(kind::EMPLOYER_NOTICE, "applications/ab-1"),
            Signatory::RegionalBodyOf {
                application_id: "ab-1".into()
            }
        );
        assert_eq!(
            Signatory::of(kind::QUOTA_DECISION, "quotas/q-1"),
            Signatory::Ministry
        );
        for k in [
            kind::APPENDIX_2,
            kind::APPENDIX_3,
            kind::APPENDIX_4,
            kind::COMMISSION_PROTOCOL,
        ] {
            assert_eq!(
                Signatory::of(k, "regions/750000000/quotaYears/2027"),
                Signatory::RegionalBody {
                    region: "750000000".into()
                }
            );
        }
    }

    #[test]
    fn the_employers_head_or_signatory_signs_for_its_bin() {
        let head = holder(EMPLOYER_BIN, Some(Authority::Head));
        assert_eq!(
            employer_role(EMPLOYER_BIN, &head),
            Ok(SignerRole::EmployerHead)
        );
        let signatory = holder(EMPLOYER_BIN, Some(Authority::Signatory));
        assert_eq!(
            employer_role(EMPLOYER_BIN, &signatory),
            Ok(SignerRole::EmployerSignatory)
        );
    }

    #[test]
    fn another_organisation_or_no_signing_role_is_not_the_employer() {
        let stranger = holder("150840003210", Some(Authority::Head));
        let e = employer_role(EMPLOYER_BIN, &stranger).unwrap_err();
        assert_eq!(
            (e.field, e.certificate.as_str(), e.expected.as_str()),
            ("bin", "150840003210", EMPLOYER_BIN)
        );
        let clerk = holder(EMPLOYER_BIN, None);
        let e = employer_role(EMPLOYER_BIN, &clerk).unwrap_err();
        assert_eq!((e.field, e.certificate.as_str()), ("role", "none"));
    }

    #[test]
    fn an_individual_employer_signs_by_iin() {
        let iin = Bin::complete("90010130000").unwrap().to_string();
        let me = Holder {
            iin: Some(iin.clone()),
            bin: None,
            authority: Some(Authority::Individual),
        };
        let role = employer_role(&iin, &me).unwrap();
        assert_eq!(role, SignerRole::EmployerIndividual);
        assert!(role.signs_by_iin());
        let other = Holder {
            iin: Some("850505400123".into()),
            ..me
        };
        let e = employer_role(&iin, &other).unwrap_err();
        assert_eq!((e.field, e.expected.as_str()), ("iin", iin.as_str()));
    }

    #[test]
    fn a_body_signs_by_its_own_bin_in_its_role() {
        let bin = "100140005678";
        assert_eq!(
            body_role(Body::Ministry, bin, &holder(bin, Some(Authority::Head))),
            Ok(SignerRole::MinistryHead)
        );
        assert_eq!(
            body_role(
                Body::RegionalBody,
                bin,
                &holder(bin, Some(Authority::Signatory))
            ),
            Ok(SignerRole::RegionalBodySignatory)
        );
        let e = body_role(
            Body::RegionalBody,
            bin,
            &holder(EMPLOYER_BIN, Some(Authority::Head)),
        )
        .unwrap_err();
        assert_eq!(e.field, "bin");
        let e = body_role(
            Body::Ministry,
            bin,
            &holder(bin, Some(Authority::Individual)),
        )
        .unwrap_err();
        assert_eq!((e.field, e.certificate.as_str()), ("role", "INDIVIDUAL"));
    }
}
