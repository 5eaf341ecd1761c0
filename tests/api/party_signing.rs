//! Signatures by the parties themselves, in two steps: Kvota prepares the bytes and
//! their SHA-256, the party's token signs the hash, Kvota checks and embeds the CMS.
//! The setup steps (certificates, documents in a given state) are in `party_helpers`.

use kvota::api::pb;
use kvota::sign::cms::{CmsSignOptions, sign_digest};
use kvota::sign::keys::{KeyAlg, Signer};
use tonic::Code;

use crate::helpers::*;
use crate::party_helpers::*;

// The employer's head and a signatory sign Appendix 1 after the seal.

#[tokio::test]
async fn the_employers_head_signs_appendix_1_after_the_seal() {
    let s = signed_by_head_and_signatory().await;
    assert_eq!(s.head_session.byte_range.len(), 4);
    let roles: Vec<_> = s
        .after_head
        .signatures
        .iter()
        .map(|s| (s.position, s.role.as_str()))
        .collect();
    assert_eq!(
        roles,
        [
            (1, "SERVICE_SEAL"),
            (2, "EMPLOYER_HEAD"),
            (0, "SERVICE_SEAL")
        ]
    );
    assert_eq!(s.after_head.signatures[1].bin, EMPLOYER_BIN);
    assert_eq!(s.after_head.signatures[1].iin, "900101300007");
    s.app.stop().await;
}

#[tokio::test]
async fn a_second_signatory_with_an_ecdsa_key_signs_next_sending_pem() {
    let s = signed_by_head_and_signatory().await;
    assert_eq!(s.after_signatory.signatures.len(), 4);
    assert_eq!(s.after_signatory.signatures[2].role, "EMPLOYER_SIGNATORY");
    assert_eq!(
        s.after_signatory.sha256,
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&s.pdf))
    );
    s.app.stop().await;
}

#[tokio::test]
async fn kvota_passes_every_signature_of_the_signed_appendix_1() {
    let s = signed_by_head_and_signatory().await;
    let report = verify(&s.app, s.pdf.clone(), s.cms.clone()).await;
    assert!(report.valid, "{report:#?}");
    assert_eq!(report.signatures.len(), 4);
    assert!(
        report
            .signatures
            .iter()
            .all(|s| s.indication == "TOTAL_PASSED"),
        "{report:#?}"
    );
    s.app.stop().await;
}

#[tokio::test]
async fn pdfsig_pyhanko_and_openssl_find_the_signed_appendix_1_valid() {
    let s = signed_by_head_and_signatory().await;
    // The independent tools agree: three embedded signatures, all intact.
    let path = s.app.path("signed.pdf");
    std::fs::write(&path, &s.pdf).unwrap();
    let p = path.to_str().unwrap();
    let o = tool("pdfsig", &[p]);
    let out = text(&o);
    assert_eq!(
        out.matches("Signature Validation: Signature is Valid.")
            .count(),
        3,
        "{out}"
    );
    // pyHanko validates every signature: the earlier ones see only signature updates
    // after them, the last is untouched.
    let o = pyhanko_validate(&s.app, &s.ca, &path);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(
        out.contains("KvotaSeal:") && out.contains("INTACT:TRUSTED"),
        "{out}"
    );
    assert!(
        out.contains("Signature2:") && out.contains("Signature3:"),
        "{out}"
    );
    assert!(out.contains("INTACT:TRUSTED,UNTOUCHED"), "{out}");
    assert!(!out.contains("INVALID"), "{out}");
    let cms_path = s.app.path("signed.p7s");
    std::fs::write(&cms_path, &s.cms).unwrap();
    let o = tool(
        "openssl",
        &[
            "cms",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            cms_path.to_str().unwrap(),
            "-content",
            p,
            "-CAfile",
            s.app.root_pem.to_str().unwrap(),
            "-purpose",
            "any",
            "-out",
            "/dev/null",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    s.app.stop().await;
}

/// The byte ranges `/Contents <…>` of every signature of `pdf`.
fn contents_ranges(pdf: &[u8]) -> Vec<(usize, usize)> {
    let mut v = Vec::new();
    let mut i = 0;
    while let Some(p) = pdf[i..]
        .windows(11)
        .position(|w| w == b"/Contents <")
        .map(|p| p + i)
    {
        let end = pdf[p..]
            .iter()
            .position(|&b| b == b'>')
            .map_or(pdf.len(), |e| p + e);
        v.push((p, end));
        i = end;
    }
    v
}

#[tokio::test]
async fn a_byte_changed_anywhere_outside_the_signatures_contents_fails_kvotas_report() {
    let s = signed_by_head_and_signatory().await;
    let pdf = &s.pdf;
    let contents = contents_ranges(pdf);
    for at in [
        12,
        pdf.len() / 5,
        pdf.len() / 3,
        pdf.len() / 2,
        pdf.len() * 4 / 5,
        pdf.len() - 8,
    ] {
        if contents.iter().any(|&(a, b)| (a..=b).contains(&at)) {
            continue;
        }
        let mut bad = pdf.clone();
        bad[at] ^= 0x20;
        let report = verify(&s.app, bad, vec![]).await;
        assert!(
            !report.valid,
            "a change at byte {at} went unnoticed: {report:#?}"
        );
    }
    s.app.stop().await;
}

#[tokio::test]
async fn a_byte_changed_in_the_signed_range_is_a_hash_failure_to_kvota_and_pdfsig() {
    let s = signed_by_head_and_signatory().await;
    let mut bad = s.pdf.clone();
    let at = bad.iter().position(|&b| b == b'\n').unwrap() + 2;
    bad[at] ^= 1;
    let report = verify(&s.app, bad.clone(), vec![]).await;
    assert!(!report.valid);
    assert!(
        report
            .signatures
            .iter()
            .all(|s| s.indication == "TOTAL_FAILED" && s.sub_indication == "HASH_FAILURE"),
        "{report:#?}"
    );
    let bad_path = s.app.path("bad.pdf");
    std::fs::write(&bad_path, &bad).unwrap();
    let out = text(&tool("pdfsig", &[bad_path.to_str().unwrap()]));
    assert!(!out.contains("Signature is Valid."), "{out}");
    s.app.stop().await;
}

// Refusals of a completion: each leaves the document as it was.

/// Completes a fresh session of Appendix 1 with `signer`'s CMS, expecting a refusal;
/// the document's bytes are unchanged after it.
async fn refused(a: &Appendix1, signer: &Signer) -> tonic::Status {
    let before = a.app.download(&a.doc, pb::DocumentFormat::Pdf).await;
    let session = prepare(&a.app, &a.doc).await;
    let err = complete(&a.app, &session, signer).await.unwrap_err();
    assert_eq!(
        a.app.download(&a.doc, pb::DocumentFormat::Pdf).await,
        before
    );
    err
}

#[tokio::test]
async fn the_head_of_another_organisation_is_not_the_filing_party() {
    let a = submitted_appendix_1().await;
    let stranger = party(&a.ca, "150840003210", HEAD, KeyAlg::Rsa(2048), true);
    let err = refused(&a, &stranger).await;
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    let info = tonic_types::StatusExt::get_details_error_info(&err).unwrap();
    assert_eq!(info.reason, "SIGNER_NOT_PARTY");
    assert_eq!(info.metadata["field"], "bin");
    assert_eq!(info.metadata["certificate"], "150840003210");
    // Known early when the certificate comes with the preparation.
    let err = signing(&a.app)
        .prepare_signature(pb::PrepareSignatureRequest {
            document: a.doc.clone(),
            signer_certificate: stranger.cert().to_pem().unwrap(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    a.app.stop().await;
}

#[tokio::test]
async fn the_employers_own_employee_without_a_signing_role_is_refused() {
    let a = submitted_appendix_1().await;
    let clerk = party(
        &a.ca,
        EMPLOYER_BIN,
        "1.2.398.3.3.4.1.2.5",
        KeyAlg::Rsa(2048),
        true,
    );
    let err = refused(&a, &clerk).await;
    assert_eq!(err.code(), Code::PermissionDenied);
    a.app.stop().await;
}

#[tokio::test]
async fn a_cms_over_other_bytes_is_a_signature_mismatch() {
    let a = submitted_appendix_1().await;
    let before = a.app.download(&a.doc, pb::DocumentFormat::Pdf).await;
    let head = party(&a.ca, EMPLOYER_BIN, HEAD, KeyAlg::Rsa(2048), true);
    let session = prepare(&a.app, &a.doc).await;
    let other = sign_digest(&head, &[7u8; 32], &CmsSignOptions { signing_time: None }).unwrap();
    let err = complete_with(&a.app, &session.name, other)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(reason(&err), "SIGNATURE_MISMATCH");
    assert_eq!(
        a.app.download(&a.doc, pb::DocumentFormat::Pdf).await,
        before
    );
    a.app.stop().await;
}

#[tokio::test]
async fn a_certificate_without_non_repudiation_is_not_a_signing_certificate() {
    let a = submitted_appendix_1().await;
    let no_nr = party(&a.ca, EMPLOYER_BIN, HEAD, KeyAlg::Rsa(2048), false);
    let err = refused(&a, &no_nr).await;
    assert_eq!(reason(&err), "KEY_USAGE");
    a.app.stop().await;
}

#[tokio::test]
async fn a_certificate_of_a_ca_the_service_does_not_trust_is_refused() {
    let a = submitted_appendix_1().await;
    let rogue_dir = tempfile::tempdir().unwrap();
    let rogue = party(
        &national_ca(rogue_dir.path()),
        EMPLOYER_BIN,
        HEAD,
        KeyAlg::Rsa(2048),
        true,
    );
    let err = refused(&a, &rogue).await;
    assert_eq!(reason(&err), "UNTRUSTED_CERTIFICATE");
    a.app.stop().await;
}

#[tokio::test]
async fn bytes_that_are_no_cms_are_refused_naming_the_cms_field() {
    let a = submitted_appendix_1().await;
    let before = a.app.download(&a.doc, pb::DocumentFormat::Pdf).await;
    let session = prepare(&a.app, &a.doc).await;
    let err = complete_with(&a.app, &session.name, b"garbage".to_vec())
        .await
        .unwrap_err();
    assert_invalid(&err, "cms");
    assert_eq!(
        a.app.download(&a.doc, pb::DocumentFormat::Pdf).await,
        before
    );
    a.app.stop().await;
}

// The life of a session.

#[tokio::test]
async fn a_session_completed_after_refusals_cannot_be_used_twice() {
    let a = submitted_appendix_1().await;
    let session = prepare(&a.app, &a.doc).await;
    let stranger = party(&a.ca, "150840003210", HEAD, KeyAlg::Rsa(2048), true);
    complete(&a.app, &session, &stranger).await.unwrap_err();
    // The right signer completes the session a refusal left open; once only.
    let head = party(&a.ca, EMPLOYER_BIN, HEAD, KeyAlg::Rsa(2048), true);
    complete(&a.app, &session, &head).await.unwrap();
    let err = complete(&a.app, &session, &head).await.unwrap_err();
    assert_eq!(err.code(), Code::AlreadyExists);
    a.app.stop().await;
}

#[tokio::test]
async fn a_session_prepared_before_another_signature_no_longer_matches_the_document() {
    let a = submitted_appendix_1().await;
    let head = party(&a.ca, EMPLOYER_BIN, HEAD, KeyAlg::Rsa(2048), true);
    let stale = prepare(&a.app, &a.doc).await;
    let fresh = prepare(&a.app, &a.doc).await;
    complete(&a.app, &fresh, &head).await.unwrap();
    let err = complete(&a.app, &stale, &head).await.unwrap_err();
    assert_eq!(err.code(), Code::Aborted);
    a.app.stop().await;
}

#[tokio::test]
async fn a_session_expires_after_15_minutes() {
    let a = submitted_appendix_1().await;
    let head = party(&a.ca, EMPLOYER_BIN, HEAD, KeyAlg::Rsa(2048), true);
    let late = prepare(&a.app, &a.doc).await;
    a.app.set_clock("2026-09-15T10:46:00+05:00");
    let err = complete(&a.app, &late, &head).await.unwrap_err();
    assert_eq!(reason(&err), "SESSION_EXPIRED");
    a.app.stop().await;
}

// A CRL fetched from the certificates' distribution point.

#[tokio::test]
async fn kvota_reports_the_head_revoked_by_the_crl_of_its_distribution_point() {
    let r = revoked_at_distribution_point().await;
    let report = verify(&r.app, r.pdf.clone(), vec![]).await;
    let (head_sig, deputy_sig) = (&report.signatures[1], &report.signatures[2]);
    assert_eq!(head_sig.sub_indication, "REVOKED", "{report:#?}");
    assert!(
        head_sig.revocation.contains("h old at the check"),
        "{}",
        head_sig.revocation
    );
    assert_eq!(deputy_sig.indication, "TOTAL_PASSED", "{report:#?}");
    r.app.stop().await;
}

/// A distribution point that fails (404, an empty reply, a truncated list) leaves the
/// parties' signatures INDETERMINATE / TRY_LATER, saying why, and is never an error;
/// once it serves its list again they pass.
#[tokio::test]
async fn an_outage_of_the_distribution_point_is_try_later_not_an_error() {
    let Appendix1 { app, ca, doc } = submitted_appendix_1().await;
    let reply: Reply = std::sync::Arc::new(std::sync::Mutex::new(("404 Not Found", vec![])));
    let url = serve_reply(reply.clone());
    let head = party_with_cdp(&ca, EMPLOYER_BIN, HEAD, &url);
    let s = prepare(&app, &doc).await;
    complete(&app, &s, &head).await.unwrap();
    let crl_dir = tempfile::tempdir().unwrap();
    let good = std::fs::read(crl_revoking(&ca, crl_dir.path(), &[])).unwrap();
    let after_issue = (chrono::Utc::now() + chrono::Duration::hours(5)).to_rfc3339();
    let app = app
        .restart_with(|c| {
            c.signing.crl_urls = vec![url.clone()];
            c.clock = Some(after_issue);
        })
        .await;
    let pdf = app.download(&doc, pb::DocumentFormat::Pdf).await;
    let truncated = good[..good.len() / 2].to_vec();
    for (status, body, says) in [
        ("404 Not Found", vec![], "404"),
        ("200 OK", vec![], "empty reply"),
        ("200 OK", truncated, "readable CRL"),
    ] {
        *reply.lock().unwrap() = (status, body);
        let report = verify(&app, pdf.clone(), vec![]).await;
        let (seal, party) = (&report.signatures[0], &report.signatures[1]);
        assert_eq!(seal.indication, "TOTAL_PASSED", "{says}: {report:#?}");
        assert_eq!(
            (party.indication.as_str(), party.sub_indication.as_str()),
            ("INDETERMINATE", "TRY_LATER"),
            "{says}: {report:#?}"
        );
        assert!(party.revocation.contains(&url), "{}", party.revocation);
        assert!(party.revocation.contains(says), "{}", party.revocation);
        assert!(!report.valid);
    }
    *reply.lock().unwrap() = ("200 OK", good.clone());
    let report = verify(&app, pdf.clone(), vec![]).await;
    assert!(report.valid, "{report:#?}");
    assert!(
        report.signatures[1]
            .revocation
            .contains("h old at the check")
    );
    // The point fails again, with a 404 or a corrupt list: the good list is kept.
    for (status, body) in [("404 Not Found", vec![]), ("200 OK", good[..40].to_vec())] {
        *reply.lock().unwrap() = (status, body);
        let report = verify(&app, pdf.clone(), vec![]).await;
        assert!(report.valid, "{status}: {report:#?}");
    }
    // Past the kept list's nextUpdate (30 days), with the point still serving only that
    // list: it is not current, TRY_LATER, not an error.
    *reply.lock().unwrap() = ("200 OK", good);
    app.advance_clock(chrono::Duration::days(31));
    let report = verify(&app, pdf, vec![]).await;
    let party = &report.signatures[1];
    assert_eq!(
        (party.indication.as_str(), party.sub_indication.as_str()),
        ("INDETERMINATE", "TRY_LATER"),
        "{report:#?}"
    );
    app.stop().await;
}

/// OCSP, from the responder the certificate names: good, then revoked (the responder's
/// index changed), then the responder down: TRY_LATER, never an error.
#[tokio::test]
async fn the_responder_named_by_the_certificate_decides_and_its_outage_is_try_later() {
    let Appendix1 { app, ca, doc } = submitted_appendix_1().await;
    let port = free_port();
    let responder = format!("http://127.0.0.1:{port}");
    let head = party_with_ocsp(&ca, EMPLOYER_BIN, HEAD, &responder);
    let s = prepare(&app, &doc).await;
    complete(&app, &s, &head).await.unwrap();
    let pdf = app.download(&doc, pb::DocumentFormat::Pdf).await;
    let dir = tempfile::tempdir().unwrap();

    let running = ocsp_responder(&ca, dir.path(), port, &head, false);
    let report = verify(&app, pdf.clone(), vec![]).await;
    let party = &report.signatures[1];
    assert_eq!(
        party.indication,
        "TOTAL_PASSED",
        "{}\n{}",
        party.revocation,
        std::fs::read_to_string(dir.path().join("ocsp.err")).unwrap_or_default()
    );
    assert!(
        party.revocation.starts_with("checked by OCSP at"),
        "{}",
        party.revocation
    );
    assert!(party.revocation.contains(&responder));
    drop(running);

    let running = ocsp_responder(&ca, dir.path(), port, &head, true);
    let report = verify(&app, pdf.clone(), vec![]).await;
    let party = &report.signatures[1];
    assert_eq!(
        (party.indication.as_str(), party.sub_indication.as_str()),
        ("TOTAL_FAILED", "REVOKED"),
        "{report:#?}"
    );
    assert!(party.revocation.contains("OCSP"), "{}", party.revocation);
    drop(running);

    // Nobody answers: the signature cannot be judged now, and that is said.
    let report = verify(&app, pdf.clone(), vec![]).await;
    let (seal, party) = (&report.signatures[0], &report.signatures[1]);
    assert_eq!(seal.indication, "TOTAL_PASSED", "{report:#?}");
    assert_eq!(
        (party.indication.as_str(), party.sub_indication.as_str()),
        ("INDETERMINATE", "TRY_LATER"),
        "{report:#?}"
    );
    assert!(
        party.revocation.contains(&responder),
        "{}",
        party.revocation
    );

    // A responder that answers "try later" (an OCSPResponse of status tryLater, 3).
    let try_later: Reply = std::sync::Arc::new(std::sync::Mutex::new((
        "200 OK",
        vec![0x30, 0x03, 0x0a, 0x01, 0x03],
    )));
    serve_reply_at(port, try_later.clone());
    let report = verify(&app, pdf.clone(), vec![]).await;
    let party = &report.signatures[1];
    assert_eq!(party.sub_indication, "TRY_LATER", "{report:#?}");
    assert!(
        party.revocation.contains("tryLater"),
        "{}",
        party.revocation
    );

    // A responder that takes the request and never answers: given up on at the
    // client's deadline, TRY_LATER again.
    *try_later.lock().unwrap() = ("", vec![]);
    let report = verify(&app, pdf, vec![]).await;
    let party = &report.signatures[1];
    assert_eq!(party.sub_indication, "TRY_LATER", "{report:#?}");
    assert!(
        party.revocation.contains("no answer within"),
        "{}",
        party.revocation
    );
    app.stop().await;
}

#[tokio::test]
async fn pyhanko_fetches_the_same_crl_and_agrees_on_revocation() {
    let r = revoked_at_distribution_point().await;
    // The head's signature fails on revocation, the deputy's and the seal pass.
    let o = pyhanko_validate(&r.app, &r.ca, &r.path);
    let out = text(&o);
    assert!(out.contains("revoked"), "{out}");
    assert!(out.contains("Validation failed"), "{out}");
    let line = |field: &str| {
        out.lines()
            .find(|l| l.starts_with(field))
            .unwrap_or_default()
            .to_owned()
    };
    assert!(line("KvotaSeal:").contains("INTACT:TRUSTED"), "{out}");
    assert!(line("Signature2:").contains("INTACT:REVOKED"), "{out}");
    assert!(line("Signature3:").contains("INTACT:TRUSTED"), "{out}");
    r.app.stop().await;
}

#[tokio::test]
async fn pdfsig_with_the_crl_in_its_database_agrees_on_revocation() {
    let r = revoked_at_distribution_point().await;
    // The head's certificate is revoked, the seal's and the deputy's are trusted; every
    // signature is intact.
    let nss = r.crl_dir.path().join("nssdb");
    std::fs::create_dir_all(&nss).unwrap();
    let db = format!("sql:{}", nss.display());
    let crl_der = r.crl_dir.path().join("national.crl.der");
    for args in [
        vec!["certutil", "-N", "--empty-password", "-d", &db],
        vec![
            "certutil",
            "-A",
            "-d",
            &db,
            "-n",
            "root",
            "-t",
            "CT,C,C",
            "-i",
            r.app.root_pem.to_str().unwrap(),
        ],
        vec![
            "certutil",
            "-A",
            "-d",
            &db,
            "-n",
            "nca",
            "-t",
            "CT,C,C",
            "-i",
            r.ca.pem.to_str().unwrap(),
        ],
        vec![
            "openssl",
            "crl",
            "-in",
            r.crl_path.to_str().unwrap(),
            "-outform",
            "DER",
            "-out",
            crl_der.to_str().unwrap(),
        ],
        vec![
            "crlutil",
            "-I",
            "-d",
            &db,
            "-t",
            "1",
            "-i",
            crl_der.to_str().unwrap(),
        ],
    ] {
        let o = tool(args[0], &args[1..]);
        assert!(o.status.success(), "{args:?}: {}", text(&o));
    }
    let o = tool("pdfsig", &["-nssdir", &db, r.path.to_str().unwrap()]);
    let out = text(&o);
    let validations: Vec<&str> = out
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- Certificate Validation: "))
        .collect();
    assert_eq!(
        validations,
        [
            "Certificate is Trusted.",
            "Certificate has been Revoked.",
            "Certificate is Trusted."
        ],
        "{out}"
    );
    assert_eq!(out.matches("Signature is Valid.").count(), 3, "{out}");
    r.app.stop().await;
}

#[tokio::test]
async fn a_role_oid_outside_the_extended_key_usage_gives_no_role() {
    let (app, ca) = app_with_national_ca().await;
    let submitted = app
        .submit(&app.create(sample_application()).await)
        .await
        .unwrap();
    let doc = submitted.document.clone();
    let before = app.download(&doc, pb::DocumentFormat::Pdf).await;

    let impostor = party_with_role_in_policy(&ca, EMPLOYER_BIN, HEAD);
    let der = impostor.cert().to_der().unwrap();
    // HEAD's OID, DER-encoded (06 09 2A 83 0E 03 03 04 01 02 01), is in the certificate.
    let needle = [
        0x06, 0x09, 0x2A, 0x83, 0x0E, 0x03, 0x03, 0x04, 0x01, 0x02, 0x01,
    ];
    assert!(der.windows(needle.len()).any(|w| w == needle));

    // Refused when the certificate comes with the preparation…
    let err = signing(&app)
        .prepare_signature(pb::PrepareSignatureRequest {
            document: doc.clone(),
            signer_certificate: impostor.cert().to_pem().unwrap(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    let info = tonic_types::StatusExt::get_details_error_info(&err).unwrap();
    assert_eq!(info.reason, "SIGNER_NOT_PARTY");
    assert_eq!(info.metadata["field"], "role");
    assert_eq!(info.metadata["certificate"], "none");

    // …and when its CMS comes back.
    let session = prepare(&app, &doc).await;
    let err = signing(&app)
        .complete_signature(pb::CompleteSignatureRequest {
            session: session.name.clone(),
            cms: token_sign(&impostor, &session),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    let info = tonic_types::StatusExt::get_details_error_info(&err).unwrap();
    assert_eq!(info.reason, "SIGNER_NOT_PARTY");
    assert_eq!(info.metadata["field"], "role");
    assert_eq!(app.download(&doc, pb::DocumentFormat::Pdf).await, before);

    // The same person with the role in the extended key usage signs.
    let head = party(&ca, EMPLOYER_BIN, HEAD, KeyAlg::Rsa(2048), true);
    let signed = signing(&app)
        .complete_signature(pb::CompleteSignatureRequest {
            session: session.name.clone(),
            cms: token_sign(&head, &session),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(signed.signatures[1].role, "EMPLOYER_HEAD");
    app.stop().await;
}

#[tokio::test]
async fn a_revoked_signer_is_refused_and_reported_revoked() {
    let (app, ca) = app_with_national_ca().await;
    let submitted = app
        .submit(&app.create(sample_application()).await)
        .await
        .unwrap();
    let doc = submitted.document.clone();
    let head = party(&ca, EMPLOYER_BIN, HEAD, KeyAlg::Rsa(2048), true);
    let deputy = party(&ca, EMPLOYER_BIN, SIGNATORY, KeyAlg::Rsa(2048), true);
    // The head signs while the certificate is good.
    let s = prepare(&app, &doc).await;
    signing(&app)
        .complete_signature(pb::CompleteSignatureRequest {
            session: s.name.clone(),
            cms: token_sign(&head, &s),
            ..Default::default()
        })
        .await
        .unwrap();

    // Then the national CA revokes the head's certificate; the service loads its CRL.
    let crl_dir = tempfile::tempdir().unwrap();
    let crl = crl_revoking(&ca, crl_dir.path(), &[&head]);
    // A CRL is valid from its issue (real time) on: the service's clock follows it.
    let after_issue = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    let app = app
        .restart_with(|c| {
            c.signing.crl_files = vec![crl];
            c.clock = Some(after_issue);
        })
        .await;

    let pdf = app.download(&doc, pb::DocumentFormat::Pdf).await;
    let report = app
        .documents()
        .verify_document(pb::VerifyDocumentRequest { pdf, cms: vec![] })
        .await
        .unwrap()
        .into_inner();
    assert!(!report.valid);
    let party_sig = &report.signatures[1];
    assert_eq!(
        (
            party_sig.indication.as_str(),
            party_sig.sub_indication.as_str()
        ),
        ("TOTAL_FAILED", "REVOKED"),
        "{report:#?}"
    );
    assert!(party_sig.revocation.contains("CRL"), "{party_sig:?}");
    assert_eq!(party_sig.role, "HEAD");
    // The seal's issuer has no CRL configured: said so, and it still passes.
    assert_eq!(report.signatures[0].indication, "TOTAL_PASSED");
    assert!(report.signatures[0].revocation.starts_with("not checked"));

    // A revoked certificate cannot add a signature; a good one can, and says it was checked.
    let s = prepare(&app, &doc).await;
    let err = signing(&app)
        .complete_signature(pb::CompleteSignatureRequest {
            session: s.name.clone(),
            cms: token_sign(&head, &s),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(reason(&err), "CERTIFICATE_REVOKED", "{err:?}");
    signing(&app)
        .complete_signature(pb::CompleteSignatureRequest {
            session: s.name.clone(),
            cms: token_sign(&deputy, &s),
            ..Default::default()
        })
        .await
        .unwrap();
    app.stop().await;
}

#[tokio::test]
async fn the_regional_body_signs_its_notice_with_the_bin_configured_for_it() {
    const BODY_BIN: &str = "010140000024";
    let (app, ca) = app_with_national_ca().await;
    let submitted = app
        .submit(&app.create(sample_application()).await)
        .await
        .unwrap();
    akmola_commission(&app).await;
    let notice = approve_and_notify(&app, &submitted).await;
    let body_head = party(&ca, BODY_BIN, HEAD, KeyAlg::Rsa(2048), true);

    // No BIN configured for Akmola's body yet: refused, nothing signed.
    let s = prepare(&app, &notice).await;
    let err = signing(&app)
        .complete_signature(pb::CompleteSignatureRequest {
            session: s.name.clone(),
            cms: token_sign(&body_head, &s),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(reason(&err), "PARTY_NOT_REGISTERED");

    let app = app
        .restart_with(|c| {
            c.signing
                .regional_body_bins
                .insert("110000000".into(), BODY_BIN.into());
        })
        .await;
    // The employer is not the body.
    let employer = party(&ca, EMPLOYER_BIN, HEAD, KeyAlg::Rsa(2048), true);
    let s = prepare(&app, &notice).await;
    let err = signing(&app)
        .complete_signature(pb::CompleteSignatureRequest {
            session: s.name.clone(),
            cms: token_sign(&employer, &s),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let signed = signing(&app)
        .complete_signature(pb::CompleteSignatureRequest {
            session: s.name.clone(),
            cms: token_sign(&body_head, &s),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(signed.signatures[1].role, "REGIONAL_BODY_HEAD");
    assert_eq!(signed.signatures[1].bin, BODY_BIN);
    app.stop().await;
}

#[tokio::test]
async fn the_service_can_seal_again_after_the_party_so_the_order_reads_party_then_seal() {
    let (app, ca) = app_with_national_ca().await;
    let submitted = app
        .submit(&app.create(sample_application()).await)
        .await
        .unwrap();
    let head = party(&ca, EMPLOYER_BIN, HEAD, KeyAlg::Rsa(2048), true);
    let s = prepare(&app, &submitted.document).await;
    let signed = signing(&app)
        .complete_signature(pb::CompleteSignatureRequest {
            session: s.name.clone(),
            cms: token_sign(&head, &s),
            seal_after: true,
        })
        .await
        .unwrap()
        .into_inner();
    let order: Vec<_> = signed
        .signatures
        .iter()
        .map(|s| (s.position, s.role.as_str()))
        .collect();
    assert_eq!(
        order,
        [
            (1, "SERVICE_SEAL"),
            (2, "EMPLOYER_HEAD"),
            (3, "SERVICE_SEAL"),
            (0, "SERVICE_SEAL")
        ]
    );
    let pdf = app
        .download(&submitted.document, pb::DocumentFormat::Pdf)
        .await;
    let cms = app
        .download(&submitted.document, pb::DocumentFormat::Cms)
        .await;
    let report = app
        .documents()
        .verify_document(pb::VerifyDocumentRequest {
            pdf: pdf.clone(),
            cms,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(report.valid, "{report:#?}");
    assert_eq!(report.signatures.len(), 4);
    let path = app.path("resealed.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = text(&tool("pdfsig", &[path.to_str().unwrap()]));
    assert_eq!(out.matches("Signature is Valid.").count(), 3, "{out}");
    app.stop().await;
}

// Each party's signature shows a visible box on the last page.

#[tokio::test]
async fn the_sealed_document_shows_no_party_box() {
    let v = signed_visibly().await;
    let path = v.app.path("sealed.pdf");
    std::fs::write(&path, &v.sealed).unwrap();
    let page = last_page_text(&path);
    assert!(!page.contains("СЕЙТҚАЛИ ӘЛИХАН"), "{page}");
    assert!(!page.contains("Руководитель работодателя"), "{page}");
    v.app.stop().await;
}

#[tokio::test]
async fn the_heads_box_names_them_the_organisation_the_role_and_the_almaty_time() {
    let v = signed_visibly().await;
    assert_eq!(v.after_head.signatures[1].role, "EMPLOYER_HEAD");
    assert_eq!(
        &v.one[..v.sealed.len()],
        &v.sealed[..],
        "the sealed bytes stay as they were"
    );
    let path = v.app.path("one.pdf");
    std::fs::write(&path, &v.one).unwrap();
    let page = last_page_text(&path);
    let compact: String = page.split_whitespace().collect::<Vec<_>>().join(" ");
    for expected in [
        "Подписано ЭЦП · 1 · Руководитель работодателя",
        "Подписант: СЕЙТҚАЛИ ӘЛИХАН",
        "ТОО «Ақжол Құрылыс», БИН 040140001236",
        "Дата и время: 15.09.2026 10:30:00 (UTC+5)",
    ] {
        assert!(compact.contains(expected), "{expected:?} not in:\n{page}");
    }
    v.app.stop().await;
}

#[tokio::test]
async fn a_signatory_signing_next_gets_the_second_box_in_signing_order() {
    let v = signed_visibly().await;
    assert_eq!(
        &v.two[..v.one.len()],
        &v.one[..],
        "the first signer's bytes stay as they were"
    );
    let page = last_page_text(&v.two_path);
    let compact: String = page.split_whitespace().collect::<Vec<_>>().join(" ");
    let first = compact
        .find("Подписано ЭЦП · 1 · Руководитель работодателя")
        .unwrap_or_else(|| panic!("the head's box is gone:\n{page}"));
    let second = compact
        .find("Подписано ЭЦП · 2 · Лицо с правом подписи работодателя")
        .unwrap_or_else(|| panic!("no box of the signatory:\n{page}"));
    assert!(first < second, "{page}");
    let names = page
        .lines()
        .find(|l| l.contains("ОМАРОВА ГҮЛНАР"))
        .unwrap_or_else(|| panic!("{page}"));
    let (head_at, signatory_at) = (
        names
            .find("СЕЙТҚАЛИ ӘЛИХАН")
            .unwrap_or_else(|| panic!("{names}")),
        names.find("ОМАРОВА ГҮЛНАР").unwrap(),
    );
    assert!(head_at < signatory_at, "{names}");
    assert_eq!(compact.matches("БИН 040140001236").count(), 2, "{page}");
    v.app.stop().await;
}

#[tokio::test]
async fn every_signature_with_visible_boxes_still_verifies_by_every_tool() {
    let v = signed_visibly().await;
    let p = v.two_path.to_str().unwrap();
    let out = text(&tool("pdfsig", &[p]));
    assert_eq!(
        out.matches("Signature Validation: Signature is Valid.")
            .count(),
        3,
        "{out}"
    );
    let o = tool("qpdf", &["--check", p]);
    assert!(o.status.success(), "{}", text(&o));
    let o = pyhanko_validate(&v.app, &v.ca, &v.two_path);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert_eq!(out.matches(":INTACT:TRUSTED").count(), 3, "{out}");
    assert!(out.contains("INTACT:TRUSTED,UNTOUCHED"), "{out}");
    assert!(!out.contains("INVALID"), "{out}");
    let cms = v.app.download(&v.doc, pb::DocumentFormat::Cms).await;
    let report = verify(&v.app, v.two.clone(), cms).await;
    assert!(report.valid, "{report:#?}");
    v.app.stop().await;
}

#[tokio::test]
async fn a_session_prepared_for_one_certificate_is_not_completed_by_another() {
    let (app, ca) = app_with_national_ca().await;
    let submitted = app
        .submit(&app.create(sample_application()).await)
        .await
        .unwrap();
    let doc = submitted.document.clone();
    let head = party(&ca, EMPLOYER_BIN, HEAD, KeyAlg::Rsa(2048), true);
    let other = party_named(
        &ca,
        "ОМАРОВА ГҮЛНАР",
        EMPLOYER_BIN,
        SIGNATORY,
        KeyAlg::Rsa(2048),
        true,
    );
    let session = signing(&app)
        .prepare_signature(pb::PrepareSignatureRequest {
            document: doc.clone(),
            signer_certificate: head.cert().to_pem().unwrap(),
        })
        .await
        .unwrap()
        .into_inner();
    // The prepared page names the head; the signatory's CMS over it is refused.
    let err = signing(&app)
        .complete_signature(pb::CompleteSignatureRequest {
            session: session.name.clone(),
            cms: token_sign(&other, &session),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_invalid(&err, "cms");
    assert!(err.message().contains("prepared for"), "{err:?}");
    // The head completes it.
    signing(&app)
        .complete_signature(pb::CompleteSignatureRequest {
            session: session.name.clone(),
            cms: token_sign(&head, &session),
            ..Default::default()
        })
        .await
        .unwrap();

    // Without a certificate at preparation no box can name the signer: the signature
    // stays invisible.
    let s = prepare(&app, &doc).await;
    signing(&app)
        .complete_signature(pb::CompleteSignatureRequest {
            session: s.name.clone(),
            cms: token_sign(&other, &s),
            ..Default::default()
        })
        .await
        .unwrap();
    let pdf = app.download(&doc, pb::DocumentFormat::Pdf).await;
    let path = app.path("signed.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let page = last_page_text(&path);
    assert!(page.contains("СЕЙТҚАЛИ ӘЛИХАН"), "{page}");
    assert!(!page.contains("ОМАРОВА ГҮЛНАР"), "{page}");
    app.stop().await;
}

/// Batch signing (issue 14): the employer's head signs its applications in three regions
/// with one PIN entry. One CMS signs the wrong digest: that document alone is refused
/// and stays as it was; the others carry the head's signature.
#[tokio::test]
async fn a_party_signs_a_batch_and_one_bad_signature_is_refused_alone() {
    let (app, ca) = app_with_national_ca().await;
    let mut documents = Vec::new();
    for region in ["110000000", "710000000", "750000000"] {
        let mut a = sample_application();
        a.region_code = region.into();
        documents.push(app.submit(&app.create(a).await).await.unwrap().document);
    }
    let head = party(&ca, EMPLOYER_BIN, HEAD, KeyAlg::Rsa(2048), true);
    let stranger = party(&ca, "990140000017", HEAD, KeyAlg::Rsa(2048), true);

    // A batch naming a document twice, or none, is refused whole.
    let mut twice = documents.clone();
    twice.push(documents[0].clone());
    for docs in [twice, vec![]] {
        let err = signing(&app)
            .prepare_signatures(pb::PrepareSignaturesRequest {
                documents: docs,
                signer_certificate: head.cert().to_der().unwrap(),
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument);
    }
    let err = signing(&app)
        .prepare_signatures(pb::PrepareSignaturesRequest {
            documents: vec![documents[0].clone(), "applications/x".into()],
            signer_certificate: head.cert().to_der().unwrap(),
        })
        .await
        .unwrap_err();
    assert_invalid(&err, "documents[1]");
    for completions in [
        vec![],
        vec![pb::SignatureCompletion {
            session: "documents/x".into(),
            cms: vec![1],
        }],
    ] {
        let err = signing(&app)
            .complete_signatures(pb::CompleteSignaturesRequest {
                completions,
                seal_after: false,
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    }
    // Another organisation's head is refused item by item.
    let refused = signing(&app)
        .prepare_signatures(pb::PrepareSignaturesRequest {
            documents: documents.clone(),
            signer_certificate: stranger.cert().to_der().unwrap(),
        })
        .await
        .unwrap()
        .into_inner()
        .signatures;
    assert!(refused.iter().all(|s| {
        s.session.is_none()
            && s.error
                .as_ref()
                .is_some_and(|e| e.code == Code::PermissionDenied as i32)
    }));

    let prepared = signing(&app)
        .prepare_signatures(pb::PrepareSignaturesRequest {
            documents: documents.clone(),
            signer_certificate: head.cert().to_der().unwrap(),
        })
        .await
        .unwrap()
        .into_inner()
        .signatures;
    assert_eq!(prepared.len(), 3);
    let sessions: Vec<pb::SigningSession> = prepared
        .iter()
        .zip(&documents)
        .map(|(p, d)| {
            assert_eq!(&p.document, d);
            assert!(p.error.is_none(), "{p:?}");
            p.session.clone().unwrap()
        })
        .collect();
    // The second CMS signs the first document's digest.
    let completions: Vec<pb::SignatureCompletion> = sessions
        .iter()
        .enumerate()
        .map(|(i, s)| pb::SignatureCompletion {
            session: s.name.clone(),
            cms: token_sign(&head, if i == 1 { &sessions[0] } else { s }),
        })
        .collect();
    let completed = signing(&app)
        .complete_signatures(pb::CompleteSignaturesRequest {
            completions,
            seal_after: false,
        })
        .await
        .unwrap()
        .into_inner()
        .signatures;
    assert_eq!(completed.len(), 3);
    for (i, c) in completed.iter().enumerate() {
        assert_eq!(c.session, sessions[i].name);
        if i == 1 {
            let e = c.error.as_ref().expect("the bad one is refused");
            assert_eq!(e.code, Code::InvalidArgument as i32, "{e:?}");
            assert!(c.document.is_none());
        } else {
            let doc = c.document.as_ref().expect("signed");
            assert!(
                doc.signatures.iter().any(|s| s.role == "EMPLOYER_HEAD"),
                "{doc:?}"
            );
        }
    }
    // Stored as answered: the refused document has no party signature, the others
    // verify with theirs.
    for (i, d) in documents.iter().enumerate() {
        let pdf = app.download(d, pb::DocumentFormat::Pdf).await;
        let report = verify(&app, pdf, vec![]).await;
        let signatures = if i == 1 { 1 } else { 2 };
        assert_eq!(report.signatures.len(), signatures, "{d}: {report:#?}");
        assert!(report.valid, "{d}: {report:#?}");
    }
    app.stop().await;
}
