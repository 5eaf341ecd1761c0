//! Signatures that outlive their certificates (PAdES B-LT, B-LTA): a test national CA
//! issues the seal, a timestamp authority and an employer's head whose certificate runs
//! out tomorrow; the CA's CRL is served over HTTP and its OCSP responder is `openssl
//! ocsp`. ExtendDocument embeds their answers and a document timestamp; then the network
//! goes, the head's certificate expires, and Kvota, pyHanko and pdfsig still find every
//! signature valid.

use kvota::api::pb;
use kvota::api::pb::signature_verification::{AdesLevel, Kind};
use kvota::sign::keys::Signer;
use openssl::asn1::Asn1Time;
use openssl::hash::MessageDigest;
use openssl::x509::extension::{BasicConstraints, ExtendedKeyUsage, KeyUsage};
use openssl::x509::{X509, X509NameBuilder};
use tonic::Code;

use crate::helpers::*;
use crate::party_helpers::{
    HEAD, NationalCa, OcspResponder, crl_revoking, free_port, national_ca, ocsp_responder, serve,
};
use crate::timestamp_helpers::{EMPLOYER_BIN, sign_as, spawn_tsa};

/// The employer's head, certified until `until`, its CA's OCSP responder in its AIA.
#[allow(deprecated)] // X509Extension::new is the simple way to write the AIA
fn expiring_head(ca: &NationalCa, until: &Asn1Time, ocsp: &str) -> Signer {
    let key = kvota::sign::keys::generate_key(kvota::sign::keys::KeyAlg::Rsa(2048)).unwrap();
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_text("C", "KZ").unwrap();
    name.append_entry_by_text("CN", "СЕЙТҚАЛИ ӘЛИХАН").unwrap();
    name.append_entry_by_text("OU", &format!("BIN{EMPLOYER_BIN}"))
        .unwrap();
    let name = name.build();
    let mut b = X509::builder().unwrap();
    b.set_version(2).unwrap();
    b.set_serial_number(
        &openssl::bn::BigNum::from_u32(4343)
            .unwrap()
            .to_asn1_integer()
            .unwrap(),
    )
    .unwrap();
    b.set_subject_name(&name).unwrap();
    b.set_issuer_name(ca.cert.subject_name()).unwrap();
    b.set_pubkey(&key).unwrap();
    b.set_not_before(&Asn1Time::from_str_x509("20200101000000Z").unwrap())
        .unwrap();
    b.set_not_after(until).unwrap();
    b.append_extension(BasicConstraints::new().build().unwrap())
        .unwrap();
    b.append_extension(
        KeyUsage::new()
            .critical()
            .digital_signature()
            .non_repudiation()
            .build()
            .unwrap(),
    )
    .unwrap();
    b.append_extension(
        ExtendedKeyUsage::new()
            .email_protection()
            .other(HEAD)
            .build()
            .unwrap(),
    )
    .unwrap();
    let aia = openssl::x509::X509Extension::new(
        None,
        Some(&b.x509v3_context(Some(&ca.cert), None)),
        "authorityInfoAccess",
        &format!("OCSP;URI:{ocsp}"),
    )
    .unwrap();
    b.append_extension(aia).unwrap();
    b.sign(&ca.key, MessageDigest::sha256()).unwrap();
    Signer::new(key, b.build(), vec![ca.cert.clone()]).unwrap()
}

/// An Appendix 1 sealed and signed by the head, both with signature timestamps, on a
/// service whose seal, TSA and head are the national CA's; its CRL and OCSP responder
/// are up until the test takes them down.
struct Signed {
    app: TestApp,
    ca: NationalCa,
    document: String,
    /// Removing it makes the CRL server answer with an empty body.
    crl: std::path::PathBuf,
    ocsp: Option<OcspResponder>,
    /// Eleven days on, after the head's certificate expired (RFC 3339).
    later: String,
    tsa_url: String,
}

async fn signed() -> Signed {
    let dir = tempfile::tempdir().unwrap();
    let ca = national_ca(dir.path());
    let tsa_dir = dir.path().join("tsa");
    std::fs::create_dir_all(&tsa_dir).unwrap();
    let tsa_url = spawn_tsa(&tsa_dir, &(ca.key.clone(), ca.cert.clone()));
    let crl_dir = dir.path().join("crl");
    std::fs::create_dir_all(&crl_dir).unwrap();
    let crl = crl_revoking(&ca, &crl_dir, &[]);
    let crl_url = serve(crl.clone());

    // The seal: the national CA's too, so one CRL speaks of the seal and the TSA.
    let seal = crate::party_helpers::party_named(
        &ca,
        "KVOTA TEST SEAL",
        "000140000012",
        HEAD,
        kvota::sign::keys::KeyAlg::Rsa(2048),
        true,
    );
    let seal_key = dir.path().join("seal.key.pem");
    let seal_cert = dir.path().join("seal.cert.pem");
    std::fs::write(&seal_key, seal.key().private_key_to_pem_pkcs8().unwrap()).unwrap();
    std::fs::write(&seal_cert, seal.cert().to_pem().unwrap()).unwrap();

    let now = chrono::Utc::now();
    let until = Asn1Time::from_unix((now + chrono::Duration::days(1)).timestamp()).unwrap();
    let port = free_port();
    let head = expiring_head(&ca, &until, &format!("http://127.0.0.1:{port}"));
    let ocsp_dir = dir.path().join("ocsp");
    std::fs::create_dir_all(&ocsp_dir).unwrap();
    let ocsp = ocsp_responder(&ca, &ocsp_dir, port, &head, false);

    let mut config = kvota::config::Config {
        transport: kvota::config::Transport::Development,
        listen: "127.0.0.1:0".into(),
        http_listen: "127.0.0.1:0".into(),
        data_dir: dir.path().join("data"),
        clock: Some(now.to_rfc3339()),
        ..Default::default()
    };
    config.signing.key_file = Some(seal_key);
    config.signing.cert_file = Some(seal_cert);
    config.signing.chain_file = Some(ca.pem.clone());
    config.signing.trust_anchors = vec![ca.pem.clone()];
    config.signing.tsa_url = Some(tsa_url.clone());
    config.signing.crl_urls = vec![crl_url];
    let root = ca.pem.clone();
    let app = TestApp::spawn_with(dir, config, root).await;
    let mut a = sample_application();
    a.quota_year = chrono::Datelike::year(&now) as u32 + 2;
    let document = app.submit(&app.create(a).await).await.unwrap().document;
    sign_as(&app, &document, &head).await;
    Signed {
        app,
        ca,
        document,
        crl,
        ocsp: Some(ocsp),
        later: (now + chrono::Duration::days(11)).to_rfc3339(),
        tsa_url,
    }
}

async fn extend(
    app: &TestApp,
    document: &str,
    level: pb::ExtensionLevel,
) -> Result<pb::Document, tonic::Status> {
    app.documents()
        .extend_document(pb::ExtendDocumentRequest {
            name: document.into(),
            level: level as i32,
        })
        .await
        .map(|r| r.into_inner())
}

impl Signed {
    /// Stops the OCSP responder and empties the CRL server, and moves the service to
    /// `later` on a configuration whose CRL point answers nothing.
    async fn network_gone(mut self) -> Self {
        self.ocsp.take();
        std::fs::remove_file(&self.crl).unwrap();
        let later = self.later.clone();
        self.app = self
            .app
            .restart_with(move |c| {
                c.clock = Some(later);
            })
            .await;
        self
    }

    async fn verify(&self) -> pb::VerificationReport {
        let pdf = self
            .app
            .download(&self.document, pb::DocumentFormat::Pdf)
            .await;
        crate::party_helpers::verify(&self.app, pdf, vec![]).await
    }

    async fn file(&self, name: &str) -> std::path::PathBuf {
        let pdf = self
            .app
            .download(&self.document, pb::DocumentFormat::Pdf)
            .await;
        let path = self.app.path(name);
        std::fs::write(&path, pdf).unwrap();
        path
    }

    /// `pyhanko sign adesverify` (EN 319 102-1 with the DSS and the document
    /// timestamps as evidence) at `self.later`, offline, trusting only the national CA.
    fn pyhanko_ades(&self, path: &std::path::Path) -> std::process::Output {
        tool(
            "pyhanko",
            &[
                "--verbose",
                "sign",
                "adesverify",
                "--trust",
                self.ca.pem.to_str().unwrap(),
                "--trust-replace",
                "--validation-time",
                &self.later,
                path.to_str().unwrap(),
            ],
        )
    }
}

#[tokio::test]
async fn an_archived_document_stays_valid_offline_after_the_signers_certificate_expired() {
    let s = signed().await;
    let before = s.verify().await;
    assert!(before.valid, "{before:#?}");
    assert!(
        before
            .signatures
            .iter()
            .all(|x| x.ades_level == AdesLevel::BT as i32),
        "{before:#?}"
    );
    let doc = extend(&s.app, &s.document, pb::ExtensionLevel::BLta)
        .await
        .unwrap();
    assert_eq!(doc.extension_level, pb::ExtensionLevel::BLta as i32);
    // The TSA's certificate runs until the end of 2045: the archive is renewed before.
    let expiry = doc.archive_expire_time.expect("an archive expiry");
    assert_eq!(
        chrono::DateTime::from_timestamp(expiry.seconds, 0)
            .unwrap()
            .to_rfc3339(),
        "2045-12-31T00:00:00+00:00"
    );
    // The detached seal covers the extended bytes.
    let pdf = s.app.download(&s.document, pb::DocumentFormat::Pdf).await;
    let cms = s.app.download(&s.document, pb::DocumentFormat::Cms).await;
    assert_eq!(doc.sha256, hex::encode(openssl::sha::sha256(&pdf)));
    let both = crate::party_helpers::verify(&s.app, pdf.clone(), cms).await;
    assert!(both.valid, "{both:#?}");
    // The public page shows the levels, and the document timestamp without one.
    let path = doc
        .verification_url
        .splitn(4, '/')
        .nth(3)
        .unwrap()
        .to_owned();
    let page = crate::http::get(s.app.web_addr(), &format!("/{path}?lang=ru"))
        .await
        .text();
    assert_eq!(page.matches("PAdES B-LTA").count(), 3, "{page}");
    assert!(page.contains("Метка времени документа"), "{page}");
    assert!(page.contains("CAdES B-T"), "{page}");
    // The DSS: the CA's and the signers' certificates, the CA's CRL, and the head's OCSP
    // response, which echoes the request's nonce (id-pkix-ocsp-nonce).
    let dss = kvota::sign::ltv::dss_of(&pdf).expect("a DSS");
    assert_eq!(dss.data.crls.len(), 1);
    assert_eq!(dss.data.ocsps.len(), 1);
    assert_eq!(
        dss.data.certs.len(),
        4,
        "the CA, the seal, the TSA, the head"
    );
    let nonce_oid = [
        0x06, 0x09, 0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x02,
    ];
    assert!(
        dss.data.ocsps[0]
            .windows(nonce_oid.len())
            .any(|w| w == nonce_oid)
    );

    let s = s.network_gone().await;
    let report = s.verify().await;
    assert!(report.valid, "{report:#?}");
    let kinds: Vec<i32> = report.signatures.iter().map(|x| x.signature_kind).collect();
    assert_eq!(
        kinds,
        [
            Kind::Pades as i32,
            Kind::Pades as i32,
            Kind::DocumentTimestamp as i32
        ],
        "{report:#?}"
    );
    for sig in &report.signatures[..2] {
        assert_eq!(sig.ades_level, AdesLevel::BLta as i32, "{sig:#?}");
        assert!(
            sig.revocation.contains("embedded in the document"),
            "{sig:#?}"
        );
        assert_eq!(sig.best_signature_time, sig.timestamp_time);
    }
    // The head's signature: its certificate expired yesterday, its OCSP response kept.
    assert!(
        report.signatures[1].revocation.contains("OCSP response"),
        "{:#?}",
        report.signatures[1]
    );
    assert_eq!(report.signatures[2].signer, "KVOTA TEST TSA");

    // pyHanko's AdES validation, offline at the later time, agrees.
    let path = s.file("archived.pdf").await;
    let o = s.pyhanko_ades(&path);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert_eq!(out.matches(":INTACT:TRUSTED").count(), 2, "{out}");
    assert!(out.contains("EXTENDED_WITH_LTA_UPDATES"), "{out}");
    assert!(
        !out.contains("No document timestamps after signature"),
        "{out}"
    );
    // pdfsig: each signature intact and valid.
    let o = tool("pdfsig", &[path.to_str().unwrap()]);
    let out = text(&o);
    assert!(
        out.matches("Signature Validation: Signature is Valid.")
            .count()
            >= 2,
        "{out}"
    );
    // One byte of the sealed content changed: both find the signatures broken.
    let mut changed = std::fs::read(&path).unwrap();
    let at = changed.len() / 5;
    changed[at] ^= 0x01;
    let bad = s.app.path("changed.pdf");
    std::fs::write(&bad, &changed).unwrap();
    let report = crate::party_helpers::verify(&s.app, changed, vec![]).await;
    assert!(!report.valid, "{report:#?}");
    assert_eq!(
        report.signatures[0].sub_indication, "HASH_FAILURE",
        "{report:#?}"
    );
    let o = s.pyhanko_ades(&bad);
    assert!(!o.status.success(), "{}", text(&o));
    s.app.stop().await;
}

#[tokio::test]
async fn b_lt_embeds_the_validation_data_and_a_renewal_adds_a_second_document_timestamp() {
    let s = signed().await;
    let doc = extend(&s.app, &s.document, pb::ExtensionLevel::BLt)
        .await
        .unwrap();
    assert_eq!(doc.extension_level, pb::ExtensionLevel::BLt as i32);
    assert!(doc.archive_expire_time.is_none());
    let report = s.verify().await;
    assert!(report.valid, "{report:#?}");
    assert_eq!(
        report.signatures.len(),
        2,
        "no document timestamp: {report:#?}"
    );
    assert!(
        report
            .signatures
            .iter()
            .all(|x| x.ades_level == AdesLevel::BLt as i32),
        "{report:#?}"
    );
    // Twice to B-LTA: two document timestamps, the first proven by the second.
    for _ in 0..2 {
        extend(&s.app, &s.document, pb::ExtensionLevel::BLta)
            .await
            .unwrap();
    }
    // B-LT asked of a B-LTA document keeps its level.
    let doc = extend(&s.app, &s.document, pb::ExtensionLevel::BLt)
        .await
        .unwrap();
    assert_eq!(doc.extension_level, pb::ExtensionLevel::BLta as i32);
    let s = s.network_gone().await;
    let report = s.verify().await;
    assert!(report.valid, "{report:#?}");
    let stamps = report
        .signatures
        .iter()
        .filter(|x| x.signature_kind == Kind::DocumentTimestamp as i32)
        .count();
    assert_eq!(stamps, 2, "{report:#?}");
    let path = s.file("renewed.pdf").await;
    let o = s.pyhanko_ades(&path);
    assert!(o.status.success(), "{}", text(&o));
    s.app.stop().await;
}

#[tokio::test]
async fn extension_refuses_a_missing_level_a_missing_tsa_and_absent_validation_data() {
    let s = signed().await;
    let err = extend(&s.app, &s.document, pb::ExtensionLevel::Unspecified)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&err), ["level"]);
    let err = extend(&s.app, "documents/nope", pb::ExtensionLevel::BLt)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "{err:?}");

    // The CRL point and the responder are gone and nothing was fetched before: no
    // validation data, UNAVAILABLE, the document unchanged.
    let before = s.app.download(&s.document, pb::DocumentFormat::Pdf).await;
    let s = s.network_gone().await;
    let err = extend(&s.app, &s.document, pb::ExtensionLevel::BLt)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unavailable, "{err:?}");
    assert!(err.message().contains("no validation data"), "{err:?}");
    assert_eq!(reason(&err), "VALIDATION_DATA_UNAVAILABLE");
    assert_eq!(
        s.app.download(&s.document, pb::DocumentFormat::Pdf).await,
        before
    );

    // Without a TSA, B-LTA cannot be reached.
    let app = s.app.restart_with(|c| c.signing.tsa_url = None).await;
    let err = extend(&app, &s.document, pb::ExtensionLevel::BLta)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    let _ = s.tsa_url;
    app.stop().await;
}

#[tokio::test]
async fn a_fresh_install_publishes_its_dev_roots_crl_and_its_documents_reach_b_lt() {
    use kvota::api::pb::document_service_client::DocumentServiceClient;
    use kvota::api::pb::employer_application_service_client::EmployerApplicationServiceClient;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    // On the system clock, as installed: the application is for the year after next.
    let mut served = ServedBinary::start(&[
        ("KVOTA_DATA_DIR", dir.path().as_os_str()),
        ("KVOTA_HTTP_LISTEN", std::ffi::OsStr::new(&listen)),
    ]);
    let mut application = sample_application();
    application.quota_year = chrono::Datelike::year(&chrono::Utc::now()) as u32 + 2;
    let channel = served.channel().await;
    let mut apps = EmployerApplicationServiceClient::new(channel.clone());
    let created = apps
        .create_application(pb::CreateApplicationRequest {
            application: Some(application),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let document = apps
        .submit_application(pb::SubmitApplicationRequest {
            name: created.name,
            etag: created.etag,
        })
        .await
        .unwrap()
        .into_inner()
        .document;

    // The dev root's CRL, where the seal's certificate says, verifies with the root.
    let root = dir.path().join("certs/root.pem");
    let crl = crate::http::get(listen.parse().unwrap(), "/pki/dev-root.crl").await;
    assert_eq!(crl.status, 200);
    assert_eq!(crl.header("content-type"), "application/pkix-crl");
    let crl_path = dir.path().join("dev-root.crl");
    std::fs::write(&crl_path, &crl.body).unwrap();
    let o = tool(
        "openssl",
        &[
            "crl",
            "-inform",
            "DER",
            "-noout",
            "-in",
            crl_path.to_str().unwrap(),
            "-CAfile",
            root.to_str().unwrap(),
        ],
    );
    assert!(text(&o).contains("verify OK"), "{}", text(&o));

    // ExtendDocument embeds it: B-LT data (the seal has no timestamp without a TSA, so
    // its level stays B-B, as EN 319 142-1 builds B-LT on B-T).
    let mut docs = DocumentServiceClient::new(channel);
    let doc = docs
        .extend_document(pb::ExtendDocumentRequest {
            name: document.clone(),
            level: pb::ExtensionLevel::BLt as i32,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(doc.extension_level, pb::ExtensionLevel::BLt as i32);
    let mut stream = docs
        .download_document(pb::DownloadDocumentRequest {
            name: document,
            format: pb::DocumentFormat::Pdf as i32,
        })
        .await
        .unwrap()
        .into_inner();
    let mut pdf = Vec::new();
    while let Some(chunk) = stream.message().await.unwrap() {
        pdf.extend_from_slice(&chunk.data);
    }
    let report = docs
        .verify_document(pb::VerifyDocumentRequest {
            pdf: pdf.clone(),
            cms: vec![],
        })
        .await
        .unwrap()
        .into_inner();
    assert!(report.valid, "{report:#?}");
    let seal = &report.signatures[0];
    assert!(
        seal.revocation.contains("CRL of Kvota Dev Root CA")
            && seal.revocation.contains("embedded in the document"),
        "{seal:#?}"
    );
    let path = dir.path().join("extended.pdf");
    std::fs::write(&path, &pdf).unwrap();
    // pyHanko fetches the CRL itself from the distribution point and requires it.
    let o = tool(
        "pyhanko",
        &[
            "sign",
            "validate",
            "--trust",
            root.to_str().unwrap(),
            "--trust-replace",
            "--force-revinfo",
            path.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("INTACT:TRUSTED"), "{}", text(&o));
    served.child.kill().unwrap();
    served.child.wait().unwrap();
    // With the service gone, the validation data in the file is enough.
    let o = tool(
        "pyhanko",
        &[
            "sign",
            "adesverify",
            "--trust",
            root.to_str().unwrap(),
            "--trust-replace",
            "--validation-time",
            &chrono::Utc::now().to_rfc3339(),
            path.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
}

/// `kvota archive` on `app`'s database and seal, with a margin of `margin_days`.
fn archive_cli(app: &TestApp, margin_days: u32) -> std::process::Output {
    let c = &app.config;
    let s = &c.signing;
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_kvota"));
    cmd.arg("archive")
        .env("KVOTA_DATA_DIR", &c.data_dir)
        .env("KVOTA_SIGNING_KEY_FILE", s.key_file.as_ref().unwrap())
        .env("KVOTA_SIGNING_CERT_FILE", s.cert_file.as_ref().unwrap())
        .env("KVOTA_SIGNING_CHAIN_FILE", s.chain_file.as_ref().unwrap())
        .env(
            "KVOTA_SIGNING_TRUST_ANCHORS",
            std::env::join_paths(&s.trust_anchors).unwrap(),
        )
        .env("KVOTA_SIGNING_TSA_URL", s.tsa_url.as_deref().unwrap_or(""))
        .env("KVOTA_SIGNING_CRL_URLS", s.crl_urls.join(","))
        .env("KVOTA_ARCHIVE_MARGIN_DAYS", margin_days.to_string())
        .env("KVOTA_CLOCK", c.clock.as_deref().unwrap());
    cmd.output().unwrap()
}

#[tokio::test]
async fn the_archive_job_renews_a_document_timestamp_whose_certificate_expires_within_its_margin() {
    let s = signed().await;
    extend(&s.app, &s.document, pb::ExtensionLevel::BLta)
        .await
        .unwrap();
    // The TSA's certificate runs until 2045: not within 180 days, nothing to do.
    let o = archive_cli(&s.app, 180);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("archive pass: 0 extended, 0 renewed, 0 not now"),
        "{}",
        text(&o)
    );
    // Within 20,000 days it is: a second document timestamp over the first.
    let o = archive_cli(&s.app, 20_000);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains(&format!("renewed {}", s.document)),
        "{}",
        text(&o)
    );
    let report = s.verify().await;
    assert!(report.valid, "{report:#?}");
    let stamps = report
        .signatures
        .iter()
        .filter(|x| x.signature_kind == Kind::DocumentTimestamp as i32)
        .count();
    assert_eq!(stamps, 2, "{report:#?}");
    // The renewal is in the audit trail, whose chain holds.
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_kvota"))
        .args(["audit", "verify"])
        .env("KVOTA_DATA_DIR", &s.app.config.data_dir)
        .output()
        .unwrap();
    assert!(text(&o).contains("audit chain intact"), "{}", text(&o));
    s.app.stop().await;
}
