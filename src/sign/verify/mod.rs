//! Verification of PAdES / PKCS#7 PDF signatures and of detached CMS.
//!
//! Each signature gets a [`SignatureReport`]: facts about its signer and a typed
//! [`Verdict`] (ETSI EN 319 102-1 indication and sub-indication) from the
//! [`Failure`]s found. Integrity (message digest + signature value) is checked separately
//! from trust (chain to one of the given trust anchors, purpose "any", checked at the
//! current time or the time a signature timestamp proves) and from revocation (the
//! configured CRL of the signer's issuer, when there is one).
//!
//! - [`locate`]: the signature dictionaries of a PDF and where its revisions end;
//! - [`byte_range`]: what a PDF signature signs, and whether it covers the document;
//! - [`cms`]: the CMS: signer, integrity, signature timestamp;
//! - [`trust`]: chain, revocation;
//! - [`report`]: the report and the verdict types.

mod byte_range;
mod cms;
mod locate;
mod report;
mod trust;

use chrono::{DateTime, Utc};
use openssl::x509::X509;

pub use report::{AdesLevel, Failure, Indication, SignatureReport, SubIndication, Verdict};
pub use trust::{Embedded, Trust};

/// `cert`'s issuer among `candidates` (its subject names the issuer and its key verifies
/// the certificate).
pub fn issuer_among<'a>(
    cert: &openssl::x509::X509Ref,
    candidates: impl IntoIterator<Item = &'a X509>,
) -> Option<&'a X509> {
    trust::issuer_of(cert, candidates)
}

/// A signature or document timestamp of a PDF, as found.
pub struct EmbeddedSignature {
    /// /SubFilter /ETSI.RFC3161: `cms` is a timestamp token over the byte range.
    pub document_timestamp: bool,
    pub cms: Vec<u8>,
}

/// The signatures and document timestamps of `pdf` whose byte ranges are sound.
pub fn embedded_signatures(pdf: &[u8]) -> Result<Vec<EmbeddedSignature>> {
    Ok(locate::signatures(pdf)?
        .iter()
        .filter_map(|f| {
            let parts = byte_range::signed_parts(pdf, f).ok()?;
            Some(EmbeddedSignature {
                document_timestamp: f.sub_filter == "ETSI.RFC3161",
                cms: parts.cms_der,
            })
        })
        .collect())
}

use super::Result;
use super::pdf_syntax::parse_pdf_date;
use locate::FoundSig;

/// Verify a detached CMS over `data`. Errors only if `cms_der` is not a CMS
/// at all; a wrong signature yields a failed verdict.
pub fn verify_detached(data: &[u8], cms_der: &[u8], trust: &[X509]) -> Result<SignatureReport> {
    verify_detached_with(data, cms_der, &Trust::anchors(trust))
}

/// [`verify_detached`] against anchors and CRLs.
pub fn verify_detached_with(data: &[u8], cms_der: &[u8], trust: &Trust) -> Result<SignatureReport> {
    let mut report = SignatureReport::default();
    cms::check(&mut report, &[data], cms_der, trust, None)?;
    Ok(report)
}

/// Verify every signature (dictionaries with /ByteRange and /Contents) in a PDF,
/// ordered by position in the file. Errors only if no signature can be located
/// at all because the file is unreadable; problems with individual signatures
/// are reported in their `SignatureReport`.
pub fn verify_pdf(pdf: &[u8], trust: &[X509]) -> Result<Vec<SignatureReport>> {
    verify_pdf_with(pdf, &Trust::anchors(trust))
}

/// [`verify_pdf`] against anchors and CRLs, and the validation data the file carries
/// (its /DSS). Document timestamps are checked latest first, each TSA's chain at the time
/// the next timestamp proves; a signature's own timestamp at the time of the first
/// document timestamp that covers it.
pub fn verify_pdf_with(pdf: &[u8], trust: &Trust) -> Result<Vec<SignatureReport>> {
    let (mut found, dss) = locate::signatures_and_dss(pdf)?;
    // In the order of the signed ranges' second parts: the order of signing.
    found.sort_by_key(|f| f.byte_range.get(2).copied().unwrap_or(0).max(0));
    let mut trust = trust.clone();
    if let Some(dss) = &dss {
        trust.embedded = Some(std::sync::Arc::new(Embedded::new(&dss.data)));
    }
    let mut reports: Vec<Option<(Option<usize>, SignatureReport)>> = vec![None; found.len()];
    // (where its signed bytes end, the time it proves) of each document timestamp that holds
    let mut archive: Vec<(usize, DateTime<Utc>)> = Vec::new();
    for (i, f) in found.iter().enumerate().rev() {
        if f.sub_filter != "ETSI.RFC3161" {
            continue;
        }
        let later = archive.last().map(|a| a.1);
        let (end, report) = verify_document_timestamp(pdf, f, &trust, later);
        if let (Some(end), Some(t), true) = (end, report.timestamp_time, report.chain_trusted) {
            archive.push((end, t));
        }
        reports[i] = Some((end, report));
    }
    // Earliest first.
    archive.reverse();
    for (i, f) in found.iter().enumerate() {
        if reports[i].is_some() {
            continue;
        }
        reports[i] = Some(verify_one(pdf, f, &trust, &archive, dss.as_ref()));
    }
    let mut reports: Vec<(Option<usize>, SignatureReport)> =
        reports.into_iter().flatten().collect();
    byte_range::mark_coverage(pdf, &mut reports);
    Ok(reports.into_iter().map(|(_, r)| r).collect())
}

/// The report on one signature dictionary and where its signed bytes end (`None` if its
/// byte range is unusable). `archive`: the document timestamps that hold, earliest first.
fn verify_one(
    pdf: &[u8],
    f: &FoundSig,
    trust: &Trust,
    archive: &[(usize, DateTime<Utc>)],
    dss: Option<&super::ltv::Dss>,
) -> (Option<usize>, SignatureReport) {
    let mut report = SignatureReport {
        sub_filter: f.sub_filter.clone(),
        signing_time: f.m.as_deref().and_then(parse_pdf_date),
        ..Default::default()
    };
    let parts = match byte_range::signed_parts(pdf, f) {
        Ok(parts) => parts,
        Err(failure) => {
            report.fail(failure);
            return (None, report);
        }
    };
    // The first document timestamp over this signature proves it, and its timestamp,
    // existed then.
    let covering = archive.iter().find(|(end, _)| *end > parts.end);
    if let Err(e) = cms::check(
        &mut report,
        &[parts.first, parts.second],
        &parts.cms_der,
        trust,
        covering.map(|c| c.1),
    ) {
        report.fail(Failure::CmsInvalid(e.to_string()));
    }
    // B-LTA: a document timestamp covers the validation data.
    if report.validation_data {
        let dss_at = dss.and_then(|d| d.offset).unwrap_or(usize::MAX);
        report.archive_time = archive
            .iter()
            .find(|(end, _)| *end > parts.end && *end > dss_at)
            .map(|a| a.1);
    }
    (Some(parts.end), report)
}

/// A document timestamp: its token must carry the SHA-256 of the signed bytes and its
/// TSA chain to an anchor at `later` (the time a later timestamp proves), else now.
fn verify_document_timestamp(
    pdf: &[u8],
    f: &FoundSig,
    trust: &Trust,
    later: Option<DateTime<Utc>>,
) -> (Option<usize>, SignatureReport) {
    let mut report = SignatureReport {
        sub_filter: f.sub_filter.clone(),
        key_usage_ok: true,
        ..Default::default()
    };
    let parts = match byte_range::signed_parts(pdf, f) {
        Ok(parts) => parts,
        Err(failure) => {
            report.fail(failure);
            return (None, report);
        }
    };
    if let Ok(info) = super::cms::parse_cms(&parts.cms_der)
        && let Some(cert) = info.signer_cert()
    {
        let s = super::keys::SubjectSummary::from_name(cert.subject_name());
        report.signer_name = s.common_name.unwrap_or_default();
        report.organisation = s.organization.unwrap_or_default();
        report.certificate_serial = super::keys::cert_serial_hex(cert);
    }
    let digest = match openssl::hash::Hasher::new(openssl::hash::MessageDigest::sha256()).and_then(
        |mut h| {
            h.update(parts.first)?;
            h.update(parts.second)?;
            h.finish()
        },
    ) {
        Ok(d) => d,
        Err(e) => {
            report.fail(Failure::CheckFailed(e.to_string()));
            return (Some(parts.end), report);
        }
    };
    if trust.anchors.is_empty() {
        report.fail(Failure::NoTrustAnchors);
    }
    let at = later.or(trust.at);
    match super::tsa::check_token_over(&parts.cms_der, &digest, &trust.anchors, at) {
        Ok(t) => {
            report.signing_time = Some(t.gen_time);
            report.integrity_ok = t.imprint_ok;
            report.chain_trusted = t.imprint_ok && t.tsa_trusted;
            if t.imprint_ok {
                report.timestamp_time = Some(t.gen_time);
            } else {
                report.fail(Failure::DigestMismatch(
                    "the document timestamp's imprint is not the digest of the signed bytes".into(),
                ));
            }
            if !t.tsa_trusted {
                report.fail(Failure::Untrusted(format!(
                    "the document timestamp's TSA does not chain to a trust anchor at {}",
                    at.unwrap_or_else(Utc::now).to_rfc3339()
                )));
            }
            report.revocation = "a document timestamp: its TSA's chain is checked at the time the next timestamp proves, else now".into();
        }
        Err(e) => report.fail(Failure::CmsInvalid(e.to_string())),
    }
    (Some(parts.end), report)
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, TimeZone, Utc};
    use openssl::pkey::{PKey, Private};

    use super::super::keys::{self, CertSubject, KeyAlg, Signer};
    use super::super::pades::{PadesOptions, sign_pdf};
    use super::super::test_support::{crl, pdf_of};
    use super::*;

    /// A root CA and a signer it certifies (EC keys: quick to make).
    struct Pki {
        root_key: PKey<Private>,
        root: X509,
        signer: Signer,
    }

    fn pki() -> Pki {
        let (root_key, root) = keys::make_root_ca(
            &CertSubject {
                common_name: "Test Root".into(),
                ..Default::default()
            },
            KeyAlg::EcP256,
        )
        .unwrap();
        let (key, cert) = keys::issue_cert(
            &root_key,
            &root,
            &CertSubject {
                common_name: "TEST SIGNER".into(),
                serial_number: Some("IIN900101300123".into()),
                ..Default::default()
            },
            KeyAlg::EcP256,
            false,
        )
        .unwrap();
        let signer = Signer::new(key, cert, vec![root.clone()]).unwrap();
        Pki {
            root_key,
            root,
            signer,
        }
    }

    fn trusting(p: &Pki) -> Trust {
        Trust::anchors(std::slice::from_ref(&p.root))
    }

    fn signed_pdf(signer: &Signer) -> Vec<u8> {
        let t = DateTime::parse_from_rfc3339("2030-01-02T10:00:00+05:00").unwrap();
        sign_pdf(
            &pdf_of(1, 595.0, 842.0),
            signer,
            &PadesOptions::new("Sig1", t),
        )
        .unwrap()
    }

    fn verdict(r: &SignatureReport) -> (Indication, Option<SubIndication>) {
        let v = r.verdict();
        (v.indication, v.sub_indication)
    }

    fn only(pdf: &[u8], trust: &Trust) -> SignatureReport {
        let mut rs = verify_pdf_with(pdf, trust).unwrap();
        assert_eq!(rs.len(), 1);
        rs.remove(0)
    }

    fn at(trust: &Trust, t: DateTime<Utc>) -> Trust {
        Trust {
            at: Some(t),
            ..trust.clone()
        }
    }

    #[test]
    fn an_intact_trusted_signature_passes() {
        let p = pki();
        let r = only(&signed_pdf(&p.signer), &trusting(&p));
        assert_eq!(verdict(&r), (Indication::TotalPassed, None), "{r:?}");
        assert!(r.is_fully_valid() && r.error().is_none());
    }

    #[test]
    fn a_changed_signed_byte_is_a_hash_failure() {
        let p = pki();
        let mut pdf = signed_pdf(&p.signer);
        // A byte of the original page content, inside the signed range.
        let at = pdf.windows(7).position(|w| w == b"10 10 l").unwrap();
        pdf[at] = b'2';
        let r = only(&pdf, &trusting(&p));
        assert_eq!(
            verdict(&r),
            (Indication::TotalFailed, Some(SubIndication::HashFailure))
        );
        assert!(
            matches!(r.failures[..], [Failure::DigestMismatch(_)]),
            "{r:?}"
        );
        assert!(!r.integrity_ok && !r.chain_trusted);
    }

    #[test]
    fn a_broken_signature_value_is_a_crypto_failure() {
        let p = pki();
        let data = b"the signed bytes";
        let t = Utc.with_ymd_and_hms(2030, 1, 2, 5, 0, 0).unwrap();
        let mut der = super::super::cms::sign_detached(&p.signer, data, t).unwrap();
        let value = super::super::cms::parse_cms(&der).unwrap().signature_value;
        let start = der.windows(value.len()).position(|w| w == value).unwrap();
        der[start + value.len() / 2] ^= 0x01;
        let r = verify_detached(data, &der, std::slice::from_ref(&p.root)).unwrap();
        assert_eq!(
            verdict(&r),
            (
                Indication::TotalFailed,
                Some(SubIndication::SigCryptoFailure)
            ),
            "{r:?}"
        );
        assert!(matches!(
            r.failures[..],
            [Failure::SignatureValueInvalid(_)]
        ));
    }

    #[test]
    fn a_byte_range_beyond_the_file_is_a_format_failure() {
        let p = pki();
        let pdf = signed_pdf(&p.signer);
        let r = only(&pdf[..pdf.len() - 10], &trusting(&p));
        assert_eq!(
            verdict(&r),
            (Indication::TotalFailed, Some(SubIndication::FormatFailure))
        );
        assert!(
            matches!(&r.failures[..], [Failure::ByteRangeOutOfBounds { file_len, .. }] if *file_len == pdf.len() - 10),
            "{r:?}"
        );
    }

    #[test]
    fn bytes_appended_after_the_signature_are_a_format_failure() {
        let p = pki();
        let mut pdf = signed_pdf(&p.signer);
        pdf.extend_from_slice(b"\n% appended\n");
        let r = only(&pdf, &trusting(&p));
        assert!(r.integrity_ok && r.chain_trusted && !r.whole_document_covered);
        assert_eq!(
            verdict(&r),
            (Indication::TotalFailed, Some(SubIndication::FormatFailure))
        );
        assert_eq!(r.failures, [Failure::ByteRangeNotWholeFile]);
    }

    #[test]
    fn an_unknown_root_is_indeterminate_without_a_chain() {
        let p = pki();
        let other = pki();
        let r = only(&signed_pdf(&p.signer), &Trust::anchors(&[other.root]));
        assert!(r.integrity_ok && !r.chain_trusted);
        assert_eq!(
            verdict(&r),
            (
                Indication::Indeterminate,
                Some(SubIndication::NoCertificateChainFound)
            )
        );
        assert!(matches!(r.failures[..], [Failure::Untrusted(_)]), "{r:?}");
        // No anchors at all: the same verdict, for its own reason.
        let r = only(&signed_pdf(&p.signer), &Trust::default());
        assert_eq!(r.failures, [Failure::NoTrustAnchors]);
        assert_eq!(
            r.verdict().sub_indication,
            Some(SubIndication::NoCertificateChainFound)
        );
    }

    #[test]
    fn a_certificate_revoked_by_its_issuers_crl_fails() {
        let p = pki();
        let pdf = signed_pdf(&p.signer);
        let list = crl(&p.root_key, &p.root, &[&p.signer.cert().to_owned()], 30);
        let trust = Trust {
            anchors: vec![p.root.clone()],
            crls: vec![std::sync::Arc::new(list)],
            at: Some(Utc::now() + chrono::Duration::hours(1)),
            ..Trust::default()
        };
        let r = only(&pdf, &trust);
        assert_eq!(
            verdict(&r),
            (Indication::TotalFailed, Some(SubIndication::Revoked)),
            "{r:?}"
        );
        let revoked_on = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(
            r.failures,
            [Failure::Revoked {
                at: Some(revoked_on)
            }]
        );
        assert!(
            r.revocation
                .starts_with("checked against the CRL of Test Root")
        );

        // A list that does not name the signer lets it pass; one past its nextUpdate
        // decides nothing: try later.
        let clean = crl(&p.root_key, &p.root, &[], 1);
        let trust = Trust {
            crls: vec![std::sync::Arc::new(clean)],
            ..trust
        };
        assert_eq!(
            verdict(&only(&pdf, &trust)),
            (Indication::TotalPassed, None)
        );
        let r = only(&pdf, &at(&trust, Utc::now() + chrono::Duration::days(3)));
        assert_eq!(
            verdict(&r),
            (Indication::Indeterminate, Some(SubIndication::TryLater)),
            "{r:?}"
        );
        assert!(matches!(r.failures[..], [Failure::RevocationNotCurrent(_)]));
    }

    #[test]
    fn outside_the_certificates_validity_is_out_of_bounds_without_proof_of_existence() {
        let p = pki();
        let pdf = signed_pdf(&p.signer);
        let trust = trusting(&p);
        let r = only(
            &pdf,
            &at(&trust, Utc.with_ymd_and_hms(2046, 6, 1, 0, 0, 0).unwrap()),
        );
        assert_eq!(
            verdict(&r),
            (
                Indication::Indeterminate,
                Some(SubIndication::OutOfBoundsNoPoe)
            ),
            "{r:?}"
        );
        let not_after = Utc.with_ymd_and_hms(2045, 12, 31, 23, 59, 59).unwrap();
        assert_eq!(
            r.failures,
            [Failure::Expired {
                not_after: Some(not_after)
            }]
        );
        let r = only(
            &pdf,
            &at(&trust, Utc.with_ymd_and_hms(2019, 6, 1, 0, 0, 0).unwrap()),
        );
        assert!(
            matches!(r.failures[..], [Failure::NotYetValid { .. }]),
            "{r:?}"
        );
        assert_eq!(
            r.verdict().sub_indication,
            Some(SubIndication::OutOfBoundsNoPoe)
        );
    }

    #[test]
    fn a_certificate_without_signing_key_usage_fails_its_constraints() {
        let p = pki();
        // The root itself signs: its key usage is keyCertSign and cRLSign only.
        let root_signer = Signer::new(p.root_key, p.root.clone(), vec![]).unwrap();
        let r = only(&signed_pdf(&root_signer), &Trust::anchors(&[p.root]));
        assert!(r.integrity_ok && r.chain_trusted && !r.key_usage_ok);
        assert_eq!(r.failures, [Failure::KeyUsage]);
        assert_eq!(
            verdict(&r),
            (
                Indication::TotalFailed,
                Some(SubIndication::SigConstraintsFailure)
            )
        );
    }

    #[test]
    fn a_detached_signature_that_is_not_a_cms_is_an_error() {
        assert!(verify_detached(b"data", b"not a cms", &[]).is_err());
    }
}
