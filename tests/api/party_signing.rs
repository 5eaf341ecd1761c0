//! Signatures by the parties themselves, in two steps: Kvota prepares the bytes and
//! their SHA-256, the party's token signs the hash, Kvota checks and embeds the CMS.

use base64::Engine;
use kvota::api::pb;
use kvota::api::pb::signing_service_client::SigningServiceClient;
use kvota::sign::cms::{CmsSignOptions, sign_digest};
use kvota::sign::keys::{CertSubject, KeyAlg, Signer, generate_key, make_root_ca};
use openssl::asn1::Asn1Time;
use openssl::bn::BigNum;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::x509::extension::{BasicConstraints, ExtendedKeyUsage, KeyUsage};
use openssl::x509::{X509, X509NameBuilder};
use tonic::Code;

use crate::helpers::*;

const HEAD: &str = "1.2.398.3.3.4.1.2.1";
const SIGNATORY: &str = "1.2.398.3.3.4.1.2.2";
const EMPLOYER_BIN: &str = "040140001236";

/// A national-style CA for the parties' certificates.
struct NationalCa {
    key: PKey<Private>,
    cert: X509,
    pem: std::path::PathBuf,
}

fn national_ca(dir: &std::path::Path) -> NationalCa {
    let (key, cert) = make_root_ca(
        &CertSubject {
            common_name: "ҰЛТТЫҚ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ (TEST)".into(),
            country: Some("KZ".into()),
            ..Default::default()
        },
        KeyAlg::Rsa(2048),
    )
    .unwrap();
    let pem = dir.join("national-root.pem");
    std::fs::write(&pem, cert.to_pem().unwrap()).unwrap();
    NationalCa { key, cert, pem }
}

/// A party's signing certificate as Kazakhstan's PKI issues it: IIN in serialNumber, BIN
/// in OU, the role in the extended key usage.
fn party(ca: &NationalCa, bin: &str, role_oid: &str, alg: KeyAlg, non_repudiation: bool) -> Signer {
    party_named(ca, "СЕЙТҚАЛИ ӘЛИХАН", bin, role_oid, alg, non_repudiation)
}

/// [`party`] with the holder's name.
fn party_named(
    ca: &NationalCa,
    common_name: &str,
    bin: &str,
    role_oid: &str,
    alg: KeyAlg,
    non_repudiation: bool,
) -> Signer {
    let key = generate_key(alg).unwrap();
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_text("C", "KZ").unwrap();
    name.append_entry_by_text("CN", common_name).unwrap();
    name.append_entry_by_text("serialNumber", "IIN900101300007")
        .unwrap();
    name.append_entry_by_text("O", "ТОО «Ақжол Құрылыс»")
        .unwrap();
    name.append_entry_by_text("OU", &format!("BIN{bin}"))
        .unwrap();
    let name = name.build();
    let mut b = X509::builder().unwrap();
    b.set_version(2).unwrap();
    let serial = BigNum::from_u32(rand_serial())
        .unwrap()
        .to_asn1_integer()
        .unwrap();
    b.set_serial_number(&serial).unwrap();
    b.set_subject_name(&name).unwrap();
    b.set_issuer_name(ca.cert.subject_name()).unwrap();
    b.set_pubkey(&key).unwrap();
    b.set_not_before(&Asn1Time::from_str_x509("20200101000000Z").unwrap())
        .unwrap();
    b.set_not_after(&Asn1Time::from_str_x509("20451231000000Z").unwrap())
        .unwrap();
    b.append_extension(BasicConstraints::new().build().unwrap())
        .unwrap();
    let mut ku = KeyUsage::new();
    ku.critical().digital_signature();
    if non_repudiation {
        ku.non_repudiation();
    }
    b.append_extension(ku.build().unwrap()).unwrap();
    b.append_extension(
        ExtendedKeyUsage::new()
            .email_protection()
            .other(role_oid)
            .build()
            .unwrap(),
    )
    .unwrap();
    b.sign(&ca.key, MessageDigest::sha256()).unwrap();
    Signer::new(key, b.build(), vec![ca.cert.clone()]).unwrap()
}

/// Like [`party`], with a CRL distribution point, so independent validators can fetch
/// the CRL themselves.
#[allow(deprecated)] // X509Extension::new is the simple way to write a CDP here
fn party_with_cdp(ca: &NationalCa, bin: &str, role_oid: &str, cdp: &str) -> Signer {
    let plain = party(ca, bin, role_oid, KeyAlg::Rsa(2048), true);
    let mut b = X509::builder().unwrap();
    let old = plain.cert();
    b.set_version(2).unwrap();
    b.set_serial_number(old.serial_number()).unwrap();
    b.set_subject_name(old.subject_name()).unwrap();
    b.set_issuer_name(ca.cert.subject_name()).unwrap();
    b.set_pubkey(plain.key()).unwrap();
    b.set_not_before(old.not_before()).unwrap();
    b.set_not_after(old.not_after()).unwrap();
    for ext in [
        BasicConstraints::new().build().unwrap(),
        KeyUsage::new()
            .critical()
            .digital_signature()
            .non_repudiation()
            .build()
            .unwrap(),
        ExtendedKeyUsage::new()
            .email_protection()
            .other(role_oid)
            .build()
            .unwrap(),
    ] {
        b.append_extension(ext).unwrap();
    }
    let cdp = openssl::x509::X509Extension::new(
        None,
        Some(&b.x509v3_context(Some(&ca.cert), None)),
        "crlDistributionPoints",
        &format!("URI:{cdp}"),
    )
    .unwrap();
    b.append_extension(cdp).unwrap();
    b.sign(&ca.key, MessageDigest::sha256()).unwrap();
    Signer::new(plain.key().to_owned(), b.build(), vec![ca.cert.clone()]).unwrap()
}

/// Like [`party`] with the role's OID written into a certificate policy instead of the
/// extended key usage (which keeps emailProtection only): the bytes of the OID are in the
/// certificate, the role is not.
fn party_with_role_in_policy(ca: &NationalCa, bin: &str, role_oid: &str) -> Signer {
    let plain = party(ca, bin, role_oid, KeyAlg::Rsa(2048), true);
    let mut b = X509::builder().unwrap();
    let old = plain.cert();
    b.set_version(2).unwrap();
    b.set_serial_number(old.serial_number()).unwrap();
    b.set_subject_name(old.subject_name()).unwrap();
    b.set_issuer_name(ca.cert.subject_name()).unwrap();
    b.set_pubkey(plain.key()).unwrap();
    b.set_not_before(old.not_before()).unwrap();
    b.set_not_after(old.not_after()).unwrap();
    for ext in [
        BasicConstraints::new().build().unwrap(),
        KeyUsage::new()
            .critical()
            .digital_signature()
            .non_repudiation()
            .build()
            .unwrap(),
        ExtendedKeyUsage::new().email_protection().build().unwrap(),
    ] {
        b.append_extension(ext).unwrap();
    }
    // certificatePolicies ::= SEQUENCE OF SEQUENCE { policyIdentifier }, here one.
    let oid = openssl::asn1::Asn1Object::from_str(role_oid).unwrap();
    let body = oid.as_slice();
    let mut der = vec![0x30, body.len() as u8 + 4, 0x30, body.len() as u8 + 2, 0x06];
    der.push(body.len() as u8);
    der.extend_from_slice(body);
    let policy = openssl::x509::X509Extension::new_from_der(
        &openssl::asn1::Asn1Object::from_str("2.5.29.32").unwrap(),
        false,
        &openssl::asn1::Asn1OctetString::new_from_bytes(&der).unwrap(),
    )
    .unwrap();
    b.append_extension(policy).unwrap();
    b.sign(&ca.key, MessageDigest::sha256()).unwrap();
    Signer::new(plain.key().to_owned(), b.build(), vec![ca.cert.clone()]).unwrap()
}

fn rand_serial() -> u32 {
    let mut b = [0u8; 4];
    openssl::rand::rand_bytes(&mut b).unwrap();
    u32::from_be_bytes(b) >> 1
}

async fn app_with_national_ca() -> (TestApp, NationalCa) {
    let dir = tempfile::tempdir().unwrap();
    let pki = test_pki(&dir.path().join("pki"));
    let ca = national_ca(dir.path());
    let mut config = kvota::config::Config {
        transport: kvota::config::Transport::Development,
        listen: "127.0.0.1:0".into(),
        data_dir: dir.path().join("data"),
        clock: Some(BEFORE_DEADLINE.into()),
        ..Default::default()
    };
    config.signing.key_file = Some(pki.seal_key_pem.clone());
    config.signing.cert_file = Some(pki.seal_cert_pem.clone());
    config.signing.trust_anchors = vec![pki.root_pem.clone(), ca.pem.clone()];
    let app = TestApp::spawn_with(dir, config, pki.root_pem).await;
    app.fill_body_profiles().await;
    (app, ca)
}

fn signing(app: &TestApp) -> SigningServiceClient<tonic::transport::Channel> {
    SigningServiceClient::new(app.channel.clone())
}

async fn prepare(app: &TestApp, document: &str) -> pb::SigningSession {
    signing(app)
        .prepare_signature(pb::PrepareSignatureRequest {
            document: document.into(),
            signer_certificate: vec![],
        })
        .await
        .unwrap()
        .into_inner()
}

/// What NCALayer does: a detached CMS over the given hash.
fn token_sign(signer: &Signer, session: &pb::SigningSession) -> Vec<u8> {
    let digest = base64::engine::general_purpose::STANDARD
        .decode(&session.sha256_base64)
        .unwrap();
    assert_eq!(hex::encode(&digest), session.sha256_hex);
    sign_digest(signer, &digest, &CmsSignOptions { signing_time: None }).unwrap()
}

#[tokio::test]
async fn the_employers_head_signs_appendix_1_after_the_seal_and_every_verifier_agrees() {
    let (app, ca) = app_with_national_ca().await;
    let submitted = app
        .submit(&app.create(sample_application()).await)
        .await
        .unwrap();
    let doc = submitted.document.clone();

    let head = party(&ca, EMPLOYER_BIN, HEAD, KeyAlg::Rsa(2048), true);
    let session = prepare(&app, &doc).await;
    assert_eq!(session.byte_range.len(), 4);
    let signed = signing(&app)
        .complete_signature(pb::CompleteSignatureRequest {
            session: session.name.clone(),
            cms: token_sign(&head, &session),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let roles: Vec<_> = signed
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
    assert_eq!(signed.signatures[1].bin, EMPLOYER_BIN);
    assert_eq!(signed.signatures[1].iin, "900101300007");

    // A second signatory with an ECDSA key sends PEM.
    let signatory = party(&ca, EMPLOYER_BIN, SIGNATORY, KeyAlg::EcP256, true);
    let session2 = prepare(&app, &doc).await;
    let der = token_sign(&signatory, &session2);
    let pem = format!(
        "-----BEGIN CMS-----\n{}\n-----END CMS-----\n",
        base64::engine::general_purpose::STANDARD.encode(&der)
    );
    let signed = signing(&app)
        .complete_signature(pb::CompleteSignatureRequest {
            session: session2.name.clone(),
            cms: pem.into_bytes(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(signed.signatures.len(), 4);
    assert_eq!(signed.signatures[2].role, "EMPLOYER_SIGNATORY");

    let pdf = app.download(&doc, pb::DocumentFormat::Pdf).await;
    let cms = app.download(&doc, pb::DocumentFormat::Cms).await;
    assert_eq!(
        signed.sha256,
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&pdf))
    );
    let report = app
        .documents()
        .verify_document(pb::VerifyDocumentRequest {
            pdf: pdf.clone(),
            cms: cms.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(report.valid, "{report:#?}");
    assert_eq!(report.signatures.len(), 4);
    assert!(
        report
            .signatures
            .iter()
            .all(|s| s.indication == "TOTAL_PASSED"),
        "{report:#?}"
    );

    // The independent tools agree: three embedded signatures, all intact.
    let path = app.path("signed.pdf");
    std::fs::write(&path, &pdf).unwrap();
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
    let o = tool(
        "pyhanko",
        &[
            "sign",
            "validate",
            "--trust",
            app.root_pem.to_str().unwrap(),
            "--trust",
            ca.pem.to_str().unwrap(),
            "--trust-replace",
            p,
        ],
    );
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
    let cms_path = app.path("signed.p7s");
    std::fs::write(&cms_path, &cms).unwrap();
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
            app.root_pem.to_str().unwrap(),
            "-purpose",
            "any",
            "-out",
            "/dev/null",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));

    // A byte changed anywhere outside the signatures' /Contents fails Kvota's report.
    let contents: Vec<(usize, usize)> = {
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
    };
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
        let report = app
            .documents()
            .verify_document(pb::VerifyDocumentRequest {
                pdf: bad,
                cms: vec![],
            })
            .await
            .unwrap()
            .into_inner();
        assert!(
            !report.valid,
            "a change at byte {at} went unnoticed: {report:#?}"
        );
    }

    // One byte changed anywhere in the signed range fails Kvota's report and pdfsig.
    let mut bad = pdf.clone();
    let at = bad.iter().position(|&b| b == b'\n').unwrap() + 2;
    bad[at] ^= 1;
    let report = app
        .documents()
        .verify_document(pb::VerifyDocumentRequest {
            pdf: bad.clone(),
            cms: vec![],
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!report.valid);
    assert!(
        report
            .signatures
            .iter()
            .all(|s| s.indication == "TOTAL_FAILED" && s.sub_indication == "HASH_FAILURE"),
        "{report:#?}"
    );
    let bad_path = app.path("bad.pdf");
    std::fs::write(&bad_path, &bad).unwrap();
    let out = text(&tool("pdfsig", &[bad_path.to_str().unwrap()]));
    assert!(!out.contains("Signature is Valid."), "{out}");
    app.stop().await;
}

#[tokio::test]
async fn a_signer_who_is_not_the_filing_party_or_signs_other_bytes_is_refused() {
    let (app, ca) = app_with_national_ca().await;
    let submitted = app
        .submit(&app.create(sample_application()).await)
        .await
        .unwrap();
    let doc = submitted.document.clone();
    let before = app.download(&doc, pb::DocumentFormat::Pdf).await;

    // Another organisation's head.
    let stranger = party(&ca, "150840003210", HEAD, KeyAlg::Rsa(2048), true);
    let session = prepare(&app, &doc).await;
    let err = signing(&app)
        .complete_signature(pb::CompleteSignatureRequest {
            session: session.name.clone(),
            cms: token_sign(&stranger, &session),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    let info = tonic_types::StatusExt::get_details_error_info(&err).unwrap();
    assert_eq!(info.reason, "SIGNER_NOT_PARTY");
    assert_eq!(info.metadata["field"], "bin");
    assert_eq!(info.metadata["certificate"], "150840003210");
    // Known early when the certificate comes with the preparation.
    let err = signing(&app)
        .prepare_signature(pb::PrepareSignatureRequest {
            document: doc.clone(),
            signer_certificate: stranger.cert().to_pem().unwrap(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);

    // The employer's own employee without a signing role.
    let clerk = party(
        &ca,
        EMPLOYER_BIN,
        "1.2.398.3.3.4.1.2.5",
        KeyAlg::Rsa(2048),
        true,
    );
    let err = signing(&app)
        .complete_signature(pb::CompleteSignatureRequest {
            session: session.name.clone(),
            cms: token_sign(&clerk, &session),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);

    // A CMS over other bytes.
    let head = party(&ca, EMPLOYER_BIN, HEAD, KeyAlg::Rsa(2048), true);
    let other = sign_digest(&head, &[7u8; 32], &CmsSignOptions { signing_time: None }).unwrap();
    let err = signing(&app)
        .complete_signature(pb::CompleteSignatureRequest {
            session: session.name.clone(),
            cms: other,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(reason(&err), "SIGNATURE_MISMATCH");

    // Not a signing certificate.
    let no_nr = party(&ca, EMPLOYER_BIN, HEAD, KeyAlg::Rsa(2048), false);
    let err = signing(&app)
        .complete_signature(pb::CompleteSignatureRequest {
            session: session.name.clone(),
            cms: token_sign(&no_nr, &session),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(reason(&err), "KEY_USAGE");

    // A CA the service does not trust.
    let rogue_dir = tempfile::tempdir().unwrap();
    let rogue = party(
        &national_ca(rogue_dir.path()),
        EMPLOYER_BIN,
        HEAD,
        KeyAlg::Rsa(2048),
        true,
    );
    let err = signing(&app)
        .complete_signature(pb::CompleteSignatureRequest {
            session: session.name.clone(),
            cms: token_sign(&rogue, &session),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(reason(&err), "UNTRUSTED_CERTIFICATE");
    let err = signing(&app)
        .complete_signature(pb::CompleteSignatureRequest {
            session: session.name.clone(),
            cms: b"garbage".to_vec(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_invalid(&err, "cms");

    // Nothing was stored by any refusal.
    assert_eq!(app.download(&doc, pb::DocumentFormat::Pdf).await, before);

    // The right signer completes; the session cannot be used twice.
    signing(&app)
        .complete_signature(pb::CompleteSignatureRequest {
            session: session.name.clone(),
            cms: token_sign(&head, &session),
            ..Default::default()
        })
        .await
        .unwrap();
    let err = signing(&app)
        .complete_signature(pb::CompleteSignatureRequest {
            session: session.name.clone(),
            cms: token_sign(&head, &session),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::AlreadyExists);

    // A session prepared before that signature no longer matches the document.
    let stale = prepare(&app, &doc).await;
    let fresh = prepare(&app, &doc).await;
    signing(&app)
        .complete_signature(pb::CompleteSignatureRequest {
            session: fresh.name.clone(),
            cms: token_sign(&head, &fresh),
            ..Default::default()
        })
        .await
        .unwrap();
    let err = signing(&app)
        .complete_signature(pb::CompleteSignatureRequest {
            session: stale.name.clone(),
            cms: token_sign(&head, &stale),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Aborted);

    // 15 minutes later a session has expired.
    let late = prepare(&app, &doc).await;
    app.set_clock("2026-09-15T10:46:00+05:00");
    let err = signing(&app)
        .complete_signature(pb::CompleteSignatureRequest {
            session: late.name.clone(),
            cms: token_sign(&head, &late),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(reason(&err), "SESSION_EXPIRED");
    app.stop().await;
}

/// A CRL of the national CA revoking `revoked`, made with the openssl CLI.
fn crl_revoking(ca: &NationalCa, dir: &std::path::Path, revoked: &[&Signer]) -> std::path::PathBuf {
    let key = dir.join("national.key");
    std::fs::write(&key, ca.key.private_key_to_pem_pkcs8().unwrap()).unwrap();
    let mut index = String::new();
    for s in revoked {
        let subject = s.cert().subject_name().entries().map(|e| {
            format!(
                "/{}={}",
                e.object().nid().short_name().unwrap_or("x"),
                e.data().to_string().unwrap()
            )
        });
        index.push_str(&format!(
            "R\t451231000000Z\t260101000000Z\t{}\tunknown\t{}\n",
            s.serial_hex(),
            subject.collect::<String>()
        ));
    }
    std::fs::write(dir.join("index.txt"), index).unwrap();
    std::fs::write(dir.join("crlnumber"), "01\n").unwrap();
    let cnf = dir.join("ca.cnf");
    std::fs::write(
        &cnf,
        format!(
            "[ ca ]\ndefault_ca = CA_default\n[ CA_default ]\ndatabase = {}\ncrlnumber = {}\ndefault_md = sha256\ndefault_crl_days = 30\n",
            dir.join("index.txt").display(),
            dir.join("crlnumber").display()
        ),
    )
    .unwrap();
    let crl = dir.join("national.crl.pem");
    let o = tool(
        "openssl",
        &[
            "ca",
            "-gencrl",
            "-config",
            cnf.to_str().unwrap(),
            "-keyfile",
            key.to_str().unwrap(),
            "-cert",
            ca.pem.to_str().unwrap(),
            "-out",
            crl.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    crl
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
    let mut r = app.regional();
    use pb::CommissionMemberKind as K;
    let members = [
        K::InternalAffairs,
        K::Education,
        K::Entrepreneurship,
        K::LabourTerritorialUnit,
    ]
    .into_iter()
    .map(|kind| pb::CommissionMember {
        full_name: "Член".into(),
        position: "руководитель".into(),
        organisation: "Орган".into(),
        kind: kind as i32,
        role: "Член комиссии".into(),
    })
    .collect();
    r.set_commission_members(pb::SetCommissionMembersRequest {
        region_code: "110000000".into(),
        quota_year: 2027,
        members,
    })
    .await
    .unwrap();
    r.record_commission_decision(pb::RecordCommissionDecisionRequest {
        application: submitted.name.clone(),
        outcome: pb::DecisionOutcome::Approved as i32,
        approved_counts: submitted.lines.iter().map(|l| l.requested_count).collect(),
        grounds: vec![],
        decided_on: "2026-09-15".into(),
        protocol_number: "1".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    let notice = r
        .notify_employer(pb::NotifyEmployerRequest {
            application: submitted.name.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .document;
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

/// Serves the file at `path` (read at each request) to every HTTP request, like a CRL
/// distribution point.
fn serve(path: std::path::PathBuf) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 2048];
            let _ = s.read(&mut buf);
            let bytes = std::fs::read(&path).unwrap_or_default();
            let _ = s.write_all(
                format!("HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n", bytes.len()).as_bytes(),
            );
            let _ = s.write_all(&bytes);
        }
    });
    format!("http://{addr}/national.crl")
}

#[tokio::test]
async fn a_crl_from_a_distribution_point_is_fetched_and_pyhanko_agrees_on_revocation() {
    let (app, ca) = app_with_national_ca().await;
    let submitted = app
        .submit(&app.create(sample_application()).await)
        .await
        .unwrap();
    let doc = submitted.document.clone();
    let crl_dir = tempfile::tempdir().unwrap();
    let crl_path = crl_dir.path().join("national.crl.pem");
    let url = serve(crl_path.clone());
    let head = party_with_cdp(&ca, EMPLOYER_BIN, HEAD, &url);
    let deputy = party_with_cdp(&ca, EMPLOYER_BIN, SIGNATORY, &url);
    for signer in [&head, &deputy] {
        let s = prepare(&app, &doc).await;
        signing(&app)
            .complete_signature(pb::CompleteSignatureRequest {
                session: s.name.clone(),
                cms: token_sign(signer, &s),
                ..Default::default()
            })
            .await
            .unwrap();
    }
    // The CA revokes the head; its distribution point now serves that CRL.
    let made = crl_revoking(&ca, crl_dir.path(), &[&head]);
    std::fs::rename(made, &crl_path).unwrap();
    let after_issue = (chrono::Utc::now() + chrono::Duration::hours(5)).to_rfc3339();
    let app = app
        .restart_with(|c| {
            c.signing.crl_urls = vec![url];
            c.clock = Some(after_issue);
        })
        .await;
    let pdf = app.download(&doc, pb::DocumentFormat::Pdf).await;
    let report = app
        .documents()
        .verify_document(pb::VerifyDocumentRequest {
            pdf: pdf.clone(),
            cms: vec![],
        })
        .await
        .unwrap()
        .into_inner();
    let (head_sig, deputy_sig) = (&report.signatures[1], &report.signatures[2]);
    assert_eq!(head_sig.sub_indication, "REVOKED", "{report:#?}");
    assert!(
        head_sig.revocation.contains("h old at the check"),
        "{}",
        head_sig.revocation
    );
    assert_eq!(deputy_sig.indication, "TOTAL_PASSED", "{report:#?}");

    // pyHanko fetches the same CRL from the certificates' distribution point and agrees:
    // the head's signature fails on revocation, the deputy's and the seal pass.
    let path = app.path("revoked.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let o = tool(
        "pyhanko",
        &[
            "sign",
            "validate",
            "--trust",
            app.root_pem.to_str().unwrap(),
            "--trust",
            ca.pem.to_str().unwrap(),
            "--trust-replace",
            path.to_str().unwrap(),
        ],
    );
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

    // pdfsig (NSS) agrees once the same CRL is in its database: the head's certificate
    // is revoked, the seal's and the deputy's are trusted; every signature is intact.
    let nss = crl_dir.path().join("nssdb");
    std::fs::create_dir_all(&nss).unwrap();
    let db = format!("sql:{}", nss.display());
    let crl_der = crl_dir.path().join("national.crl.der");
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
            app.root_pem.to_str().unwrap(),
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
            ca.pem.to_str().unwrap(),
        ],
        vec![
            "openssl",
            "crl",
            "-in",
            crl_path.to_str().unwrap(),
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
    let o = tool("pdfsig", &["-nssdir", &db, path.to_str().unwrap()]);
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

/// Prepares with the signer's certificate (so the signature gets its visible box), signs
/// as the token would and completes.
async fn sign_visibly(app: &TestApp, document: &str, signer: &Signer) -> pb::Document {
    let session = signing(app)
        .prepare_signature(pb::PrepareSignatureRequest {
            document: document.into(),
            signer_certificate: signer.cert().to_der().unwrap(),
        })
        .await
        .unwrap()
        .into_inner();
    signing(app)
        .complete_signature(pb::CompleteSignatureRequest {
            session: session.name.clone(),
            cms: token_sign(signer, &session),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
}

/// The text of the PDF's last page as laid out (`pdftotext -layout`).
fn last_page_text(pdf: &std::path::Path) -> String {
    let info = text(&tool("pdfinfo", &[pdf.to_str().unwrap()]));
    let pages = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .map(|n| n.trim().to_owned())
        .unwrap();
    let o = tool(
        "pdftotext",
        &[
            "-layout",
            "-f",
            &pages,
            "-l",
            &pages,
            pdf.to_str().unwrap(),
            "-",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    String::from_utf8(o.stdout).unwrap()
}

#[tokio::test]
async fn each_party_signature_shows_its_signer_organisation_role_and_time_on_the_last_page() {
    let (app, ca) = app_with_national_ca().await;
    let submitted = app
        .submit(&app.create(sample_application()).await)
        .await
        .unwrap();
    let doc = submitted.document.clone();
    let sealed = app.download(&doc, pb::DocumentFormat::Pdf).await;
    let path = app.path("sealed.pdf");
    std::fs::write(&path, &sealed).unwrap();
    let page = last_page_text(&path);
    assert!(!page.contains("СЕЙТҚАЛИ ӘЛИХАН"), "{page}");
    assert!(!page.contains("Руководитель работодателя"), "{page}");

    // The head signs: the box names them, the organisation with its BIN, the role and
    // the Almaty time of the signature.
    let head = party_named(
        &ca,
        "СЕЙТҚАЛИ ӘЛИХАН",
        EMPLOYER_BIN,
        HEAD,
        KeyAlg::Rsa(2048),
        true,
    );
    let signed = sign_visibly(&app, &doc, &head).await;
    assert_eq!(signed.signatures[1].role, "EMPLOYER_HEAD");
    let one = app.download(&doc, pb::DocumentFormat::Pdf).await;
    assert_eq!(
        &one[..sealed.len()],
        &sealed[..],
        "the sealed bytes stay as they were"
    );
    let path = app.path("one.pdf");
    std::fs::write(&path, &one).unwrap();
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

    // A signatory of the employer signs next: both boxes, in signing order.
    let signatory = party_named(
        &ca,
        "ОМАРОВА ГҮЛНАР",
        EMPLOYER_BIN,
        SIGNATORY,
        KeyAlg::EcP256,
        true,
    );
    sign_visibly(&app, &doc, &signatory).await;
    let two = app.download(&doc, pb::DocumentFormat::Pdf).await;
    assert_eq!(
        &two[..one.len()],
        &one[..],
        "the first signer's bytes stay as they were"
    );
    let path = app.path("two.pdf");
    std::fs::write(&path, &two).unwrap();
    let page = last_page_text(&path);
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

    // Every signature still verifies, by every tool.
    let p = path.to_str().unwrap();
    let out = text(&tool("pdfsig", &[p]));
    assert_eq!(
        out.matches("Signature Validation: Signature is Valid.")
            .count(),
        3,
        "{out}"
    );
    let o = tool("qpdf", &["--check", p]);
    assert!(o.status.success(), "{}", text(&o));
    let o = tool(
        "pyhanko",
        &[
            "sign",
            "validate",
            "--trust",
            app.root_pem.to_str().unwrap(),
            "--trust",
            ca.pem.to_str().unwrap(),
            "--trust-replace",
            p,
        ],
    );
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert_eq!(out.matches(":INTACT:TRUSTED").count(), 3, "{out}");
    assert!(out.contains("INTACT:TRUSTED,UNTOUCHED"), "{out}");
    assert!(!out.contains("INVALID"), "{out}");
    let cms = app.download(&doc, pb::DocumentFormat::Cms).await;
    let report = app
        .documents()
        .verify_document(pb::VerifyDocumentRequest { pdf: two, cms })
        .await
        .unwrap()
        .into_inner();
    assert!(report.valid, "{report:#?}");
    app.stop().await;
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
