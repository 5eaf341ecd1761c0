//! Checks of the CMS SignedData itself: who signed, whether the signed bytes and the
//! signature value are intact, and what its signature timestamp proves. Trust in the
//! signer's certificate is [`super::trust`]'s.

use chrono::{DateTime, Utc};
use openssl::cms::{CMSOptions, CmsContentInfo};
use openssl::hash::{MessageDigest, hash};
use openssl::x509::X509;
use openssl::x509::store::X509StoreBuilder;

use super::super::cms::{CmsInfo, parse_cms};
use super::super::keys::{SubjectSummary, cert_serial_hex, key_usage, kz_role};
use super::super::ocsp::OcspOutcome;
use super::super::{Result, tsa};
use super::report::{Failure, SignatureReport};
use super::trust::{self, EmbeddedStatus, Trust};

/// Detached content, raw bytes (the PDF's signed ranges are already bytes).
pub(super) const FLAGS: CMSOptions = CMSOptions::BINARY.union(CMSOptions::DETACHED);

/// Fills signer facts, integrity, timestamp and trust into `report`. Errors only when
/// `cms_der` is not a CMS SignedData at all.
pub(super) fn check(
    report: &mut SignatureReport,
    parts: &[&[u8]],
    cms_der: &[u8],
    trust: &Trust,
    token_at: Option<DateTime<Utc>>,
) -> Result<()> {
    let info = parse_cms(cms_der)?;
    signer_facts(report, &info);
    let data: Vec<u8> = parts.concat();
    if let Err(e) = check_parsed(report, &info, &data, cms_der, trust, token_at) {
        report.fail(Failure::CheckFailed(e.to_string()));
    }
    Ok(())
}

fn signer_facts(report: &mut SignatureReport, info: &CmsInfo) {
    if let Some(t) = info.signing_time {
        report.signing_time = Some(t);
    }
    match info.signer_cert() {
        Some(cert) => {
            let s = SubjectSummary::from_name(cert.subject_name());
            report.signer_name = s.common_name.clone().unwrap_or_default();
            report.organisation = s.organization.clone().unwrap_or_default();
            report.iin = s.iin();
            report.bin = s.bin();
            report.certificate_serial = cert_serial_hex(cert);
            report.key_usage_ok = key_usage(cert).is_some_and(|ku| ku & 0xC0 == 0xC0);
            report.role = kz_role(cert).map(str::to_owned);
            if !report.key_usage_ok {
                report.fail(Failure::KeyUsage);
            }
        }
        None => report.fail(Failure::SignerCertificateMissing),
    }
    if info.signer_count != 1 {
        report.fail(Failure::SignerInfoCount(info.signer_count));
    }
}

fn check_parsed(
    report: &mut SignatureReport,
    info: &CmsInfo,
    data: &[u8],
    cms_der: &[u8],
    trust: &Trust,
    token_at: Option<DateTime<Utc>>,
) -> Result<()> {
    // 1. integrity only
    let empty = X509StoreBuilder::new()?.build();
    let mut ci = CmsContentInfo::from_der(cms_der)?;
    if let Err(e) = ci.verify(
        None,
        Some(&empty),
        Some(data),
        None,
        FLAGS | CMSOptions::NO_SIGNER_CERT_VERIFY,
    ) {
        let reasons = trust::ssl_reasons(&e);
        report.fail(match digest_matches(info, data) {
            Some(true) => Failure::SignatureValueInvalid(reasons),
            _ => Failure::DigestMismatch(reasons),
        });
        return Ok(());
    }
    report.integrity_ok = true;

    // 2. trust
    if trust.anchors.is_empty() {
        report.fail(Failure::NoTrustAnchors);
        return Ok(());
    }
    let signer = info.signer_cert();
    if let (Some(cert), Some(t)) = (signer, report.signing_time) {
        report.valid_at_signing_time = Some(trust::valid_at(cert, t));
    }
    // 3. a signature timestamp proves when the signature existed (PAdES B-T); its TSA's
    // chain is checked at the time a document timestamp over it proves, else now.
    let mut tsa_cert = None;
    if let Some(token) = &info.timestamp_token {
        let expected = hash(MessageDigest::sha256(), &info.signature_value)?;
        match tsa::check_token_over(token, &expected, &trust.anchors, token_at.or(trust.at)) {
            Ok(t) if t.imprint_ok && t.tsa_trusted => {
                report.timestamp_time = Some(t.gen_time);
                tsa_cert = parse_cms(token).ok();
            }
            Ok(t) => report.fail(Failure::TimestampUnusable {
                imprint_ok: t.imprint_ok,
                tsa_trusted: t.tsa_trusted,
            }),
            Err(e) => report.fail(Failure::TimestampInvalid(e.to_string())),
        }
    }
    let proven = report
        .timestamp_time
        .or(trust.at)
        .unwrap_or_else(chrono::Utc::now);
    // 4. revocation: the validation data the document carries, else the CRL of the
    // signer's issuer when one is configured, OCSP first where a responder is known.
    let embedded = trust.embedded.as_deref();
    let pool: Vec<&X509> = info
        .certificates
        .iter()
        .chain(tsa_cert.iter().flat_map(|t| t.certificates.iter()))
        .chain(embedded.into_iter().flat_map(|e| e.certs.iter()))
        .chain(&trust.anchors)
        .collect();
    if let Some(e) = embedded {
        let signer_covered = signer.is_some_and(|c| e.covers(c, &pool, &trust.anchors, proven));
        let tsa_covered = match &tsa_cert {
            Some(t) => t
                .signer_cert()
                .is_some_and(|c| e.covers(c, &pool, &trust.anchors, proven)),
            None => true,
        };
        report.validation_data = signer_covered && tsa_covered;
    }
    let kept = match (signer, embedded) {
        (Some(cert), Some(e)) => trust::issuer_of(cert, pool.iter().copied())
            .and_then(|issuer| e.status(cert, issuer, &trust.anchors, proven)),
        _ => None,
    };
    let mut crl = signer.and_then(|c| trust.crl_for(c));
    report.revocation = trust::describe_revocation(crl, trust.at);
    // OCSP first, where a responder is known; its answer stands in for the CRL's.
    let ocsp = match (signer, &trust.ocsp) {
        _ if kept.is_some() => None,
        (Some(cert), Some(client)) => {
            trust::issuer_of(cert, info.certificates.iter().chain(&trust.anchors))
                .and_then(|issuer| client.check(cert, issuer, &trust.anchors))
        }
        _ => None,
    };
    let checked_embedded = kept.is_some();
    match kept {
        Some(EmbeddedStatus::Good(source)) => {
            report.revocation = format!("checked against {source}: good");
            crl = None;
        }
        Some(EmbeddedStatus::Revoked { at, source }) => {
            crl = None;
            // Revoked after the time the signature is proven to have existed: it
            // stands (EN 319 102-1, 5.6.2.4).
            match (at, report.timestamp_time) {
                (Some(r), Some(t)) if r > t => {
                    report.revocation = format!(
                        "checked against {source}: revoked on {}, after the signature's timestamp",
                        r.to_rfc3339()
                    );
                }
                _ => {
                    report.revocation = format!("checked against {source}: revoked");
                    report.fail(Failure::Revoked { at });
                }
            }
        }
        None => {}
    }
    let mut ocsp_unavailable = None;
    match ocsp {
        Some(OcspOutcome::Good {
            responder,
            this_update,
        }) => {
            report.revocation = format!(
                "checked by OCSP at {responder}: good{}",
                this_update
                    .map(|t| format!(" (response of {})", t.to_rfc3339()))
                    .unwrap_or_default()
            );
            crl = None;
        }
        Some(OcspOutcome::Revoked { responder, at }) => {
            report.revocation = format!("checked by OCSP at {responder}: revoked");
            report.fail(Failure::Revoked { at });
            crl = None;
        }
        Some(OcspOutcome::Unknown { responder }) if crl.is_none() => {
            ocsp_unavailable = Some((
                responder,
                "the responder does not know the certificate".to_owned(),
            ));
        }
        Some(OcspOutcome::Unavailable { responder, problem }) if crl.is_none() => {
            ocsp_unavailable = Some((responder, problem));
        }
        // No answer, but a CRL: the CRL decides.
        Some(_) | None => {}
    }
    if let Some((responder, problem)) = ocsp_unavailable {
        report.revocation = format!(
            "not checked: OCSP at {responder} gave no answer ({problem}) and no CRL is at hand"
        );
        report.fail(Failure::RevocationUnavailable {
            url: responder,
            problem,
        });
    } else if crl.is_none()
        && !checked_embedded
        && !report.revocation.starts_with("checked by OCSP")
        && let Some((url, problem)) = signer.and_then(|c| trust.unavailable_for(c))
    {
        report.revocation = format!("not checked: the CRL at {url} could not be had ({problem})");
        report.fail(Failure::RevocationUnavailable {
            url: url.clone(),
            problem: problem.clone(),
        });
    }
    let at = report.timestamp_time.or(trust.at);
    // A CRL issued after the time a timestamp proves speaks of that time too (a
    // revocation it lists is dated), but the chain's check at that time would take it
    // for not yet valid: it is read here, and the chain checked without it.
    if let (Some(list), Some(t), Some(cert)) = (crl, report.timestamp_time, signer)
        && trust::issued_after(list, t)
        && let Some(issuer) = trust::issuer_of(cert, pool.iter().copied())
        && issuer
            .public_key()
            .is_ok_and(|k| list.verify(&k).unwrap_or(false))
    {
        crl = None;
        if let Some(revoked) = trust::revoked_on(list, cert) {
            match revoked {
                Some(r) if r > t => {
                    report.revocation = format!(
                        "{}: revoked on {}, after the signature's timestamp",
                        report.revocation,
                        r.to_rfc3339()
                    );
                }
                at => report.fail(Failure::Revoked { at }),
            }
        }
    }
    trust::check_chain(report, info, data, cms_der, &trust.anchors, crl, at)
}

/// Whether the signed bytes have the digest the SignerInfo's messageDigest attribute
/// carries; `None` without that attribute or for a digest algorithm not known here.
fn digest_matches(info: &CmsInfo, data: &[u8]) -> Option<bool> {
    let expected = info.message_digest.as_ref()?;
    let md = digest_by_oid(&info.digest_algorithm)?;
    Some(hash(md, data).ok()?.as_ref() == expected.as_slice())
}

fn digest_by_oid(oid: &[u8]) -> Option<MessageDigest> {
    use super::super::cms::der::oid_body;
    [
        ("2.16.840.1.101.3.4.2.1", MessageDigest::sha256()),
        ("2.16.840.1.101.3.4.2.2", MessageDigest::sha384()),
        ("2.16.840.1.101.3.4.2.3", MessageDigest::sha512()),
        ("2.16.840.1.101.3.4.2.4", MessageDigest::sha224()),
        ("1.3.14.3.2.26", MessageDigest::sha1()),
    ]
    .into_iter()
    .find(|(dotted, _)| oid_body(dotted) == oid)
    .map(|(_, md)| md)
}
