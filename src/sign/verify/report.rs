//! The outcome of checking one signature: facts about the signer, and a verdict in the
//! terms of ETSI EN 319 102-1 (as EU DSS reports it): a main [`Indication`], a
//! [`SubIndication`] saying why, and the [`Failure`]s naming precisely what failed.
//!
//! Callers judge by these types; the messages are for people to read.

use chrono::{DateTime, Utc};

/// The main indication of a signature's validation (ETSI EN 319 102-1, 5.1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Indication {
    /// Every check passed.
    TotalPassed,
    /// The signature is proven invalid: the bytes, its format or its certificate's status.
    TotalFailed,
    /// What is known does not let the signature be judged either way.
    Indeterminate,
}

impl Indication {
    /// The name on the wire (`SignatureVerification.indication`).
    pub fn as_str(self) -> &'static str {
        match self {
            Indication::TotalPassed => "TOTAL_PASSED",
            Indication::TotalFailed => "TOTAL_FAILED",
            Indication::Indeterminate => "INDETERMINATE",
        }
    }
}

/// Why a signature did not pass (ETSI EN 319 102-1, table 5), as far as this verifier
/// tells them apart.
///
/// Declared in order of precedence: when several problems are found, the first of them
/// in this order decides the verdict (a broken file before broken bytes, those before
/// the certificate's status, that before its chain and its key usage).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SubIndication {
    /// The signature or the file around it is not in the expected format.
    FormatFailure,
    /// The signed bytes are not those the signature was made over.
    HashFailure,
    /// The digest matches but the signature value does not verify with the signer's key.
    SigCryptoFailure,
    /// The signer's certificate is revoked.
    Revoked,
    /// A certificate of the chain is outside its validity period at the time of the
    /// check, and no timestamp proves the signature existed while it was valid.
    OutOfBoundsNoPoe,
    /// The revocation list is not current (or missing): checking later may decide.
    TryLater,
    /// The chain could not be checked for another reason (a bad revocation list, an
    /// internal error).
    CertificateChainGeneralFailure,
    /// The signer's certificate does not chain to a trust anchor.
    NoCertificateChainFound,
    /// The signer's certificate does not allow signing (key usage).
    SigConstraintsFailure,
}

impl SubIndication {
    /// The name on the wire (`SignatureVerification.sub_indication`).
    pub fn as_str(self) -> &'static str {
        match self {
            SubIndication::FormatFailure => "FORMAT_FAILURE",
            SubIndication::HashFailure => "HASH_FAILURE",
            SubIndication::SigCryptoFailure => "SIG_CRYPTO_FAILURE",
            SubIndication::Revoked => "REVOKED",
            SubIndication::OutOfBoundsNoPoe => "OUT_OF_BOUNDS_NO_POE",
            SubIndication::TryLater => "TRY_LATER",
            SubIndication::CertificateChainGeneralFailure => "CERTIFICATE_CHAIN_GENERAL_FAILURE",
            SubIndication::NoCertificateChainFound => "NO_CERTIFICATE_CHAIN_FOUND",
            SubIndication::SigConstraintsFailure => "SIG_CONSTRAINTS_FAILURE",
        }
    }

    /// The main indication this sub-indication belongs to.
    ///
    /// EN 319 102-1 lists SIG_CONSTRAINTS_FAILURE under INDETERMINATE; the service has
    /// reported a signer without signing key usage as TOTAL_FAILED from the start, and
    /// keeps doing so.
    pub fn indication(self) -> Indication {
        match self {
            SubIndication::FormatFailure
            | SubIndication::HashFailure
            | SubIndication::SigCryptoFailure
            | SubIndication::Revoked
            | SubIndication::SigConstraintsFailure => Indication::TotalFailed,
            SubIndication::OutOfBoundsNoPoe
            | SubIndication::TryLater
            | SubIndication::CertificateChainGeneralFailure
            | SubIndication::NoCertificateChainFound => Indication::Indeterminate,
        }
    }
}

/// What precisely failed in checking a signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    // The file and the signature dictionary.
    /// No signature could be read from the file at all (the message says why).
    #[error("{0}")]
    Unreadable(String),
    /// /ByteRange is not four non-negative integers.
    #[error("malformed /ByteRange {0:?}")]
    ByteRangeMalformed(Vec<i64>),
    #[error("/ByteRange does not start at offset 0")]
    ByteRangeNotFromStart,
    #[error("/ByteRange {byte_range:?} out of bounds for a file of {file_len} bytes")]
    ByteRangeOutOfBounds {
        byte_range: Vec<i64>,
        file_len: usize,
    },
    /// The bytes left out of the signed range are not one hex string `<…>`.
    #[error("the excluded range is not exactly a hex string")]
    ContentsNotHexString,
    #[error("odd number of hex digits in /Contents")]
    ContentsOddHexDigits,
    #[error("non-hex bytes in the excluded range")]
    ContentsNotHex,
    /// The dictionary's /Contents is not the string the byte range leaves out.
    #[error("/Contents is not located at the excluded byte range")]
    ContentsMisplaced,
    #[error("/Contents does not hold a DER object")]
    ContentsNotDer,
    /// The signed range ends before the file does, and what follows is not only later
    /// signatures' own revisions (an unsigned revision, or bytes appended).
    #[error(
        "the signed byte range does not cover the whole file: what follows it is not only later signatures' revisions"
    )]
    ByteRangeNotWholeFile,

    // The CMS.
    /// The signature value is not a CMS SignedData that can be read.
    #[error("{0}")]
    CmsInvalid(String),
    #[error("signer certificate not included in the CMS")]
    SignerCertificateMissing,
    #[error("expected one SignerInfo, found {0}")]
    SignerInfoCount(usize),
    /// The signed bytes do not have the digest the signature carries (or, without signed
    /// attributes, the signature over them does not verify).
    #[error("signature integrity check failed: {0}")]
    DigestMismatch(String),
    /// The digest matches, the signature value does not verify with the signer's key.
    #[error("signature integrity check failed: the signature value does not verify: {0}")]
    SignatureValueInvalid(String),

    // The signer's certificate.
    #[error("no trust anchors given")]
    NoTrustAnchors,
    /// Revoked by the configured CRL of its issuer, since `at` (when the CRL says).
    #[error("certificate chain not trusted: the signer's certificate is revoked{}", on(.at))]
    Revoked { at: Option<DateTime<Utc>> },
    /// A certificate of the chain expired before the time of the check.
    #[error("certificate chain not trusted: a certificate has expired{}", on(.not_after))]
    Expired { not_after: Option<DateTime<Utc>> },
    /// A certificate of the chain is not yet valid at the time of the check.
    #[error("certificate chain not trusted: a certificate is not yet valid{}", since(.not_before))]
    NotYetValid { not_before: Option<DateTime<Utc>> },
    /// The CRL of the signer's issuer is not current at the time of the check, or missing.
    #[error("certificate chain not trusted: {0}")]
    RevocationNotCurrent(String),
    /// The revocation source of the signer's certificate (its CRL distribution point,
    /// its OCSP responder) gave no usable answer (a 404, an empty or corrupt reply, "try
    /// later", a timeout) and nothing was kept from before: it cannot be checked now.
    #[error("revocation not checked: {url} gave no usable answer ({problem})")]
    RevocationUnavailable { url: String, problem: String },
    /// The CRL of the signer's issuer cannot be used (its signature, its issuer).
    #[error("certificate chain not trusted: {0}")]
    RevocationInvalid(String),
    /// No chain to a trust anchor (the reason from the chain's check).
    #[error("certificate chain not trusted: {0}")]
    Untrusted(String),
    /// The certificate does not allow digitalSignature and nonRepudiation.
    #[error(
        "the signer's certificate does not allow signing (digitalSignature and nonRepudiation)"
    )]
    KeyUsage,
    /// A check could not be carried out (an error of the cryptographic library).
    #[error("the signature could not be checked: {0}")]
    CheckFailed(String),

    // The signature timestamp: without a usable one the signature is judged at the
    // time of the check, so these do not change the verdict.
    #[error(
        "signature timestamp not usable (imprint ok: {imprint_ok}, TSA trusted: {tsa_trusted})"
    )]
    TimestampUnusable { imprint_ok: bool, tsa_trusted: bool },
    #[error("signature timestamp: {0}")]
    TimestampInvalid(String),
}

fn on(t: &Option<DateTime<Utc>>) -> String {
    t.map(|t| format!(" on {}", t.to_rfc3339()))
        .unwrap_or_default()
}

fn since(t: &Option<DateTime<Utc>>) -> String {
    t.map(|t| format!(" (valid from {})", t.to_rfc3339()))
        .unwrap_or_default()
}

impl Failure {
    /// The sub-indication this failure leads to; `None` for a finding that does not
    /// change the verdict.
    pub fn sub_indication(&self) -> Option<SubIndication> {
        use Failure::*;
        Some(match self {
            Unreadable(_)
            | ByteRangeMalformed(_)
            | ByteRangeNotFromStart
            | ByteRangeOutOfBounds { .. }
            | ContentsNotHexString
            | ContentsOddHexDigits
            | ContentsNotHex
            | ContentsMisplaced
            | ContentsNotDer
            | ByteRangeNotWholeFile
            | CmsInvalid(_)
            | SignerCertificateMissing
            | SignerInfoCount(_) => SubIndication::FormatFailure,
            DigestMismatch(_) => SubIndication::HashFailure,
            SignatureValueInvalid(_) => SubIndication::SigCryptoFailure,
            Revoked { .. } => SubIndication::Revoked,
            Expired { .. } | NotYetValid { .. } => SubIndication::OutOfBoundsNoPoe,
            RevocationNotCurrent(_) | RevocationUnavailable { .. } => SubIndication::TryLater,
            RevocationInvalid(_) | CheckFailed(_) => SubIndication::CertificateChainGeneralFailure,
            NoTrustAnchors | Untrusted(_) => SubIndication::NoCertificateChainFound,
            KeyUsage => SubIndication::SigConstraintsFailure,
            TimestampUnusable { .. } | TimestampInvalid(_) => return None,
        })
    }
}

/// The baseline level a signature reaches (ETSI EN 319 142-1 for PAdES, 319 122-1 for
/// CAdES): B-B signed; B-T with a signature timestamp that holds; B-LT when the file's
/// /DSS also holds the validation data of the signer's and the TSA's chains; B-LTA when a
/// document timestamp that holds covers that data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AdesLevel {
    BB,
    BT,
    BLt,
    BLta,
}

impl AdesLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BB => "B-B",
            Self::BT => "B-T",
            Self::BLt => "B-LT",
            Self::BLta => "B-LTA",
        }
    }
}

/// The verdict on one signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub indication: Indication,
    /// `None` exactly when the indication is [`Indication::TotalPassed`].
    pub sub_indication: Option<SubIndication>,
}

/// Outcome for one signature.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignatureReport {
    /// Signer certificate CN (empty if unknown).
    pub signer_name: String,
    /// The signer certificate's organisation (O), empty if none.
    pub organisation: String,
    pub iin: Option<String>,
    pub bin: Option<String>,
    /// Uppercase hex.
    pub certificate_serial: String,
    /// CMS signingTime if present, else the signature dictionary's /M.
    pub signing_time: Option<DateTime<Utc>>,
    /// Digest and signature value are correct for the signed bytes.
    pub integrity_ok: bool,
    /// Integrity ok and the signer chains to one of the trust anchors.
    pub chain_trusted: bool,
    /// The signed byte range covers the whole file except this signature's /Contents, or
    /// only later signatures' revisions follow it. Always false for a detached CMS.
    pub whole_document_covered: bool,
    /// e.g. "ETSI.CAdES.detached", "adbe.pkcs7.detached"; empty for detached CMS.
    pub sub_filter: String,
    /// The signer's certificate allows signing (digitalSignature + nonRepudiation).
    pub key_usage_ok: bool,
    /// The signer's role in Kazakhstan's PKI, from its extended key usage.
    pub role: Option<String>,
    /// How revocation was checked, in words (which CRL, its age), or why it was not.
    pub revocation: String,
    /// The signer's certificate was valid at the claimed signing time.
    pub valid_at_signing_time: Option<bool>,
    /// The time a valid signature timestamp proves (PAdES B-T); the chain is checked then.
    pub timestamp_time: Option<DateTime<Utc>>,
    /// The file's /DSS holds revocation data for every certificate of the signer's chain
    /// and of its timestamp's TSA chain but the trust anchors (PAdES B-LT).
    pub validation_data: bool,
    /// The time of the first document timestamp that holds and covers that data (PAdES
    /// B-LTA).
    pub archive_time: Option<DateTime<Utc>>,
    /// Every problem found, in the order found.
    pub failures: Vec<Failure>,
}

impl SignatureReport {
    /// A report on a signature that could not be checked at all.
    pub fn failed(failure: Failure) -> Self {
        let mut r = Self::default();
        r.fail(failure);
        r
    }

    pub(super) fn fail(&mut self, failure: Failure) {
        self.failures.push(failure);
    }

    /// The failure that decides the verdict: the first of those with the gravest
    /// sub-indication.
    pub fn deciding_failure(&self) -> Option<&Failure> {
        self.failures
            .iter()
            .filter_map(|f| Some((f.sub_indication()?, f)))
            .min_by_key(|(s, _)| *s)
            .map(|(_, f)| f)
    }

    /// The verdict, from the failures found.
    pub fn verdict(&self) -> Verdict {
        let sub = match self.deciding_failure().and_then(Failure::sub_indication) {
            Some(s) => Some(s),
            // Every check that leaves these false records why; should one not, the
            // flags still decide.
            None if !self.integrity_ok => Some(SubIndication::HashFailure),
            None if !self.chain_trusted => Some(SubIndication::NoCertificateChainFound),
            None => None,
        };
        Verdict {
            indication: sub.map_or(Indication::TotalPassed, SubIndication::indication),
            sub_indication: sub,
        }
    }

    /// Why the signature failed, for people: the deciding failure's message, else that
    /// of the first finding (an unusable timestamp).
    pub fn error(&self) -> Option<String> {
        self.deciding_failure()
            .or(self.failures.first())
            .map(ToString::to_string)
    }

    /// The level reached: B-T when a signature timestamp holds, B-LT when the file
    /// carries the validation data too, B-LTA when a document timestamp covers that.
    pub fn ades_level(&self) -> AdesLevel {
        match (self.timestamp_time, self.validation_data, self.archive_time) {
            (None, _, _) => AdesLevel::BB,
            (Some(_), false, _) => AdesLevel::BT,
            (Some(_), true, None) => AdesLevel::BLt,
            (Some(_), true, Some(_)) => AdesLevel::BLta,
        }
    }

    /// The earliest time the signature is proven to have existed: its timestamp's, else
    /// `checked`, the time of the check (EN 319 102-1, 5.6.2.1).
    pub fn best_signature_time(&self, checked: DateTime<Utc>) -> DateTime<Utc> {
        self.timestamp_time.map_or(checked, |t| t.min(checked))
    }

    /// Integrity ok, trusted, covering the whole document, and nothing else found.
    pub fn is_fully_valid(&self) -> bool {
        self.integrity_ok
            && self.chain_trusted
            && self.whole_document_covered
            && self.failures.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict_of(failures: Vec<Failure>) -> (Indication, Option<SubIndication>) {
        let r = SignatureReport {
            integrity_ok: true,
            chain_trusted: true,
            failures,
            ..Default::default()
        };
        let v = r.verdict();
        (v.indication, v.sub_indication)
    }

    #[test]
    fn wire_names_are_those_of_the_standard() {
        assert_eq!(Indication::TotalPassed.as_str(), "TOTAL_PASSED");
        assert_eq!(Indication::TotalFailed.as_str(), "TOTAL_FAILED");
        assert_eq!(Indication::Indeterminate.as_str(), "INDETERMINATE");
        assert_eq!(SubIndication::HashFailure.as_str(), "HASH_FAILURE");
        assert_eq!(
            SubIndication::OutOfBoundsNoPoe.as_str(),
            "OUT_OF_BOUNDS_NO_POE"
        );
        assert_eq!(
            SubIndication::NoCertificateChainFound.as_str(),
            "NO_CERTIFICATE_CHAIN_FOUND"
        );
    }

    #[test]
    fn no_failure_passes_and_a_timestamp_finding_alone_does_not_change_that() {
        assert_eq!(verdict_of(vec![]), (Indication::TotalPassed, None));
        let r = SignatureReport {
            integrity_ok: true,
            chain_trusted: true,
            failures: vec![Failure::TimestampInvalid("x".into())],
            ..Default::default()
        };
        assert_eq!(r.verdict().indication, Indication::TotalPassed);
        assert_eq!(r.error().as_deref(), Some("signature timestamp: x"));
        assert!(!r.is_fully_valid());
    }

    #[test]
    fn the_gravest_failure_decides_whatever_the_order_found() {
        // A timestamp problem found first no longer hides the revocation found after it.
        let revoked = vec![
            Failure::TimestampUnusable {
                imprint_ok: false,
                tsa_trusted: true,
            },
            Failure::Revoked { at: None },
        ];
        assert_eq!(
            verdict_of(revoked),
            (Indication::TotalFailed, Some(SubIndication::Revoked))
        );
        assert_eq!(
            verdict_of(vec![Failure::KeyUsage, Failure::ByteRangeNotWholeFile]),
            (Indication::TotalFailed, Some(SubIndication::FormatFailure))
        );
        assert_eq!(
            verdict_of(vec![Failure::Expired { not_after: None }]),
            (
                Indication::Indeterminate,
                Some(SubIndication::OutOfBoundsNoPoe)
            )
        );
    }

    #[test]
    fn unchecked_flags_without_a_failure_do_not_pass() {
        let r = SignatureReport::default();
        assert_eq!(r.verdict().sub_indication, Some(SubIndication::HashFailure));
        assert!(r.error().is_none());
    }
}
