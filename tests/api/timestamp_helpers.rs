//! Setup steps of the timestamp tests: certificates of a test national root, a timestamp
//! authority on loopback, and two signed documents, one timestamped and one not, checked
//! after the signer's certificate has expired.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};

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

use crate::helpers::*;

pub fn cert(
    ca: &(PKey<Private>, X509),
    cn: &str,
    ou: Option<&str>,
    until: &openssl::asn1::Asn1TimeRef,
    eku: ExtendedKeyUsage,
    ku: KeyUsage,
    serial: u32,
) -> (PKey<Private>, X509) {
    let key = generate_key(KeyAlg::Rsa(2048)).unwrap();
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_text("C", "KZ").unwrap();
    name.append_entry_by_text("CN", cn).unwrap();
    if let Some(ou) = ou {
        name.append_entry_by_text("OU", ou).unwrap();
    }
    let name = name.build();
    let mut b = X509::builder().unwrap();
    b.set_version(2).unwrap();
    b.set_serial_number(&BigNum::from_u32(serial).unwrap().to_asn1_integer().unwrap())
        .unwrap();
    b.set_subject_name(&name).unwrap();
    b.set_issuer_name(ca.1.subject_name()).unwrap();
    b.set_pubkey(&key).unwrap();
    b.set_not_before(&Asn1Time::from_str_x509("20200101000000Z").unwrap())
        .unwrap();
    b.set_not_after(until).unwrap();
    b.append_extension(BasicConstraints::new().build().unwrap())
        .unwrap();
    b.append_extension(ku.build().unwrap()).unwrap();
    b.append_extension(eku.build().unwrap()).unwrap();
    b.sign(&ca.0, MessageDigest::sha256()).unwrap();
    (key, b.build())
}

/// A timestamp authority on loopback answering with `openssl ts -reply`.
pub fn spawn_tsa(dir: &Path, ca: &(PKey<Private>, X509)) -> String {
    let mut eku = ExtendedKeyUsage::new();
    eku.critical().time_stamping();
    let mut ku = KeyUsage::new();
    ku.critical().digital_signature();
    let far = Asn1Time::from_str_x509("20451231000000Z").unwrap();
    let (key, tsa) = cert(ca, "KVOTA TEST TSA", None, &far, eku, ku, 77);
    let key_path = dir.join("tsa.key");
    let cert_path = dir.join("tsa.pem");
    std::fs::write(&key_path, key.private_key_to_pem_pkcs8().unwrap()).unwrap();
    std::fs::write(&cert_path, tsa.to_pem().unwrap()).unwrap();
    std::fs::write(dir.join("tsaserial"), "01\n").unwrap();
    let cnf = dir.join("ts.cnf");
    std::fs::write(
        &cnf,
        format!(
            "[ tsa ]\ndefault_tsa = tsa1\n[ tsa1 ]\nserial = {}\ncrypto_device = builtin\nsigner_digest = sha256\n\
             default_policy = 1.2.3.4.1\ndigests = sha256\naccuracy = secs:1\nordering = yes\ntsa_name = yes\n\
             ess_cert_id_chain = no\ness_cert_id_alg = sha256\n",
            dir.join("tsaserial").display()
        ),
    )
    .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let dir: PathBuf = dir.to_path_buf();
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let body = loop {
                let k = stream.read(&mut chunk).unwrap_or(0);
                if k == 0 {
                    break None;
                }
                buf.extend_from_slice(&chunk[..k]);
                if let Some(h) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&buf[..h]).to_lowercase();
                    let len: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    while buf.len() < h + 4 + len {
                        let k = stream.read(&mut chunk).unwrap_or(0);
                        if k == 0 {
                            break;
                        }
                        buf.extend_from_slice(&chunk[..k]);
                    }
                    break Some(buf[h + 4..].to_vec());
                }
            };
            let Some(body) = body else { continue };
            let q = dir.join(format!("q{n}.tsq"));
            let r = dir.join(format!("r{n}.tsr"));
            std::fs::write(&q, &body).unwrap();
            let out = std::process::Command::new("openssl")
                .args(["ts", "-reply", "-config"])
                .arg(&cnf)
                .arg("-queryfile")
                .arg(&q)
                .arg("-inkey")
                .arg(&key_path)
                .arg("-signer")
                .arg(&cert_path)
                .arg("-out")
                .arg(&r)
                .output()
                .unwrap();
            let reply = std::fs::read(&r)
                .unwrap_or_else(|_| panic!("openssl ts: {}", String::from_utf8_lossy(&out.stderr)));
            let _ = stream.write_all(
                format!("HTTP/1.0 200 OK\r\nContent-Type: application/timestamp-reply\r\nContent-Length: {}\r\n\r\n", reply.len())
                    .as_bytes(),
            );
            let _ = stream.write_all(&reply);
        }
    });
    format!("http://{addr}/tsa")
}

pub const EMPLOYER_BIN: &str = "040140001236";

pub async fn sign_as(app: &TestApp, document: &str, signer: &Signer) {
    let mut c = SigningServiceClient::new(app.channel.clone());
    let session = c
        .prepare_signature(pb::PrepareSignatureRequest {
            document: document.into(),
            signer_certificate: vec![],
        })
        .await
        .unwrap()
        .into_inner();
    let digest = base64::engine::general_purpose::STANDARD
        .decode(&session.sha256_base64)
        .unwrap();
    let cms = sign_digest(signer, &digest, &CmsSignOptions { signing_time: None }).unwrap();
    c.complete_signature(pb::CompleteSignatureRequest {
        session: session.name,
        cms,
        ..Default::default()
    })
    .await
    .unwrap();
}

/// Two Appendix 1 documents signed by the same employer's head, `stamped` while a TSA
/// was configured (the seal and the head's signature carry timestamps) and `bare` after
/// it was not; the service's clock is then ten days on, after the head's certificate
/// expired. The TSA stamps real time, so the dates follow it.
pub struct SignedThenExpired {
    pub app: TestApp,
    pub stamped: String,
    pub bare: String,
    /// The seal's root and the national root, for independent validators.
    pub root_pem: PathBuf,
    pub ca_pem: PathBuf,
    /// The time of the checks, RFC 3339.
    pub later: String,
}

pub async fn signed_then_expired() -> SignedThenExpired {
    let dir = tempfile::tempdir().unwrap();
    let pki = test_pki(&dir.path().join("pki"));
    let ca = make_root_ca(
        &CertSubject {
            common_name: "KZ TEST ROOT".into(),
            country: Some("KZ".into()),
            ..Default::default()
        },
        KeyAlg::Rsa(2048),
    )
    .unwrap();
    let ca_pem = dir.path().join("kz-root.pem");
    std::fs::write(&ca_pem, ca.1.to_pem().unwrap()).unwrap();
    let tsa_dir = dir.path().join("tsa");
    std::fs::create_dir_all(&tsa_dir).unwrap();
    let tsa_url = spawn_tsa(&tsa_dir, &ca);

    // The head's certificate runs out tomorrow, the signatures are made today, and
    // checked ten days later.
    let now = chrono::Utc::now();
    let until = Asn1Time::from_unix((now + chrono::Duration::days(1)).timestamp()).unwrap();
    let quota_year = chrono::Datelike::year(&now) as u32 + 2;
    let mut eku = ExtendedKeyUsage::new();
    eku.email_protection().other("1.2.398.3.3.4.1.2.1");
    let mut ku = KeyUsage::new();
    ku.critical().digital_signature().non_repudiation();
    let (key, head_cert) = cert(
        &ca,
        "СЕЙТҚАЛИ ӘЛИХАН",
        Some(&format!("BIN{EMPLOYER_BIN}")),
        &until,
        eku,
        ku,
        4242,
    );
    let head = Signer::new(key, head_cert, vec![ca.1.clone()]).unwrap();

    let mut config = kvota::config::Config {
        transport: kvota::config::Transport::Development,
        listen: "127.0.0.1:0".into(),
        http_listen: "127.0.0.1:0".into(),
        data_dir: dir.path().join("data"),
        clock: Some(now.to_rfc3339()),
        ..Default::default()
    };
    config.signing.key_file = Some(pki.seal_key_pem.clone());
    config.signing.cert_file = Some(pki.seal_cert_pem.clone());
    config.signing.trust_anchors = vec![pki.root_pem.clone(), ca_pem.clone()];
    config.signing.tsa_url = Some(tsa_url.clone());
    let app = TestApp::spawn_with(dir, config, pki.root_pem.clone()).await;

    // With the TSA: the seal and the head's signature are timestamped.
    let mut a = sample_application();
    a.quota_year = quota_year;
    let stamped = app.submit(&app.create(a).await).await.unwrap().document;
    sign_as(&app, &stamped, &head).await;

    // Without a TSA: the same head signs another application.
    let app = app.restart_with(|c| c.signing.tsa_url = None).await;
    let mut b = sample_application();
    b.quota_year = quota_year;
    b.region_code = "750000000".into();
    let bare = app.submit(&app.create(b).await).await.unwrap().document;
    sign_as(&app, &bare, &head).await;

    // Ten days on, the head's certificate has expired.
    let later = (now + chrono::Duration::days(10)).to_rfc3339();
    app.set_clock(&later);
    // Both roots are files in the app's directory, which lives as long as the app.
    SignedThenExpired {
        app,
        stamped,
        bare,
        root_pem: pki.root_pem,
        ca_pem,
        later,
    }
}

impl SignedThenExpired {
    /// Kvota's report on the document as downloaded.
    pub async fn verify(&self, doc: &str) -> pb::VerificationReport {
        let pdf = self.app.download(doc, pb::DocumentFormat::Pdf).await;
        self.app
            .documents()
            .verify_document(pb::VerifyDocumentRequest { pdf, cms: vec![] })
            .await
            .unwrap()
            .into_inner()
    }

    /// The document written to `name` in the app's directory.
    pub async fn file(&self, name: &str, doc: &str) -> PathBuf {
        let pdf = self.app.download(doc, pb::DocumentFormat::Pdf).await;
        let path = self.app.path(name);
        std::fs::write(&path, pdf).unwrap();
        path
    }

    /// `pyhanko sign validate` of `path`, at `at` if given.
    pub fn pyhanko(&self, path: &Path, at: Option<&str>) -> std::process::Output {
        let mut args = vec![
            "sign".to_string(),
            "validate".into(),
            "--trust".into(),
            self.root_pem.display().to_string(),
            "--trust".into(),
            self.ca_pem.display().to_string(),
            "--trust-replace".into(),
        ];
        if let Some(at) = at {
            args.extend(["--validation-time".to_string(), at.to_owned()]);
        }
        args.push(path.display().to_string());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        tool("pyhanko", &args)
    }
}
