//! Setup steps of the party-signature tests: a national-style CA and its parties'
//! certificates, the two signing steps as a client makes them, and documents brought to
//! the state a test starts from.

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
use tonic::Status;

use crate::helpers::*;

pub const HEAD: &str = "1.2.398.3.3.4.1.2.1";
pub const SIGNATORY: &str = "1.2.398.3.3.4.1.2.2";
pub const EMPLOYER_BIN: &str = "040140001236";

/// A national-style CA for the parties' certificates.
pub struct NationalCa {
    pub key: PKey<Private>,
    pub cert: X509,
    pub pem: std::path::PathBuf,
}

pub fn national_ca(dir: &std::path::Path) -> NationalCa {
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
pub fn party(
    ca: &NationalCa,
    bin: &str,
    role_oid: &str,
    alg: KeyAlg,
    non_repudiation: bool,
) -> Signer {
    party_named(ca, "СЕЙТҚАЛИ ӘЛИХАН", bin, role_oid, alg, non_repudiation)
}

/// [`party`] with the holder's name.
pub fn party_named(
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

/// A builder for `plain`'s certificate issued again by `ca` (same serial, subject, key
/// and validity), to which the caller adds the extensions.
fn reissue(ca: &NationalCa, plain: &Signer) -> openssl::x509::X509Builder {
    let mut b = X509::builder().unwrap();
    let old = plain.cert();
    b.set_version(2).unwrap();
    b.set_serial_number(old.serial_number()).unwrap();
    b.set_subject_name(old.subject_name()).unwrap();
    b.set_issuer_name(ca.cert.subject_name()).unwrap();
    b.set_pubkey(plain.key()).unwrap();
    b.set_not_before(old.not_before()).unwrap();
    b.set_not_after(old.not_after()).unwrap();
    b
}

/// Like [`party`], with a CRL distribution point, so independent validators can fetch
/// the CRL themselves.
pub fn party_with_cdp(ca: &NationalCa, bin: &str, role_oid: &str, cdp: &str) -> Signer {
    party_with_extension(
        ca,
        bin,
        role_oid,
        "crlDistributionPoints",
        &format!("URI:{cdp}"),
    )
}

/// Like [`party`], with an OCSP responder in its Authority Information Access.
pub fn party_with_ocsp(ca: &NationalCa, bin: &str, role_oid: &str, responder: &str) -> Signer {
    party_with_extension(
        ca,
        bin,
        role_oid,
        "authorityInfoAccess",
        &format!("OCSP;URI:{responder}"),
    )
}

/// Like [`party`], with one more extension written as openssl's configuration would.
#[allow(deprecated)] // X509Extension::new is the simple way to write these here
fn party_with_extension(
    ca: &NationalCa,
    bin: &str,
    role_oid: &str,
    name: &str,
    value: &str,
) -> Signer {
    let plain = party(ca, bin, role_oid, KeyAlg::Rsa(2048), true);
    let mut b = reissue(ca, &plain);
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
    let ext = openssl::x509::X509Extension::new(
        None,
        Some(&b.x509v3_context(Some(&ca.cert), None)),
        name,
        value,
    )
    .unwrap();
    b.append_extension(ext).unwrap();
    b.sign(&ca.key, MessageDigest::sha256()).unwrap();
    Signer::new(plain.key().to_owned(), b.build(), vec![ca.cert.clone()]).unwrap()
}

/// The national CA's OCSP responder (`openssl ocsp`) on `port`, answering from an index
/// in which `signer` is valid or revoked. Stops when dropped.
pub struct OcspResponder(std::process::Child);

impl Drop for OcspResponder {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A port free now, for a responder the test starts and stops.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn ocsp_responder(
    ca: &NationalCa,
    dir: &std::path::Path,
    port: u16,
    signer: &Signer,
    revoked: bool,
) -> OcspResponder {
    let key = dir.join("national.key");
    std::fs::write(&key, ca.key.private_key_to_pem_pkcs8().unwrap()).unwrap();
    let subject: String = signer
        .cert()
        .subject_name()
        .entries()
        .map(|e| {
            format!(
                "/{}={}",
                e.object().nid().short_name().unwrap_or("x"),
                e.data().to_string().unwrap()
            )
        })
        .collect();
    let (flag, when) = if revoked {
        ("R", "260101000000Z")
    } else {
        ("V", "")
    };
    let index = dir.join("ocsp-index.txt");
    std::fs::write(
        &index,
        format!(
            "{flag}\t451231000000Z\t{when}\t{}\tunknown\t{subject}\n",
            signer.serial_hex()
        ),
    )
    .unwrap();
    let child = std::process::Command::new("openssl")
        .args(["ocsp", "-index"])
        .arg(&index)
        .args(["-port", &port.to_string(), "-rsigner"])
        .arg(&ca.pem)
        .arg("-rkey")
        .arg(&key)
        .arg("-CA")
        .arg(&ca.pem)
        .arg("-ignore_err")
        .stdout(std::fs::File::create(dir.join("ocsp.log")).unwrap())
        .stderr(std::fs::File::create(dir.join("ocsp.err")).unwrap())
        .spawn()
        .expect("openssl ocsp starts");
    // Ready once it says it accepts (a probe connection that sends nothing would hold
    // the single-threaded responder).
    let started = std::time::Instant::now();
    while !std::fs::read_to_string(dir.join("ocsp.err"))
        .unwrap_or_default()
        .contains("waiting for OCSP client connections")
    {
        assert!(
            started.elapsed().as_secs() < 10,
            "the OCSP responder did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    OcspResponder(child)
}

/// Like [`party`] with the role's OID written into a certificate policy instead of the
/// extended key usage (which keeps emailProtection only): the bytes of the OID are in the
/// certificate, the role is not.
pub fn party_with_role_in_policy(ca: &NationalCa, bin: &str, role_oid: &str) -> Signer {
    let plain = party(ca, bin, role_oid, KeyAlg::Rsa(2048), true);
    let mut b = reissue(ca, &plain);
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

pub async fn app_with_national_ca() -> (TestApp, NationalCa) {
    let dir = tempfile::tempdir().unwrap();
    let pki = test_pki(&dir.path().join("pki"));
    let ca = national_ca(dir.path());
    let mut config = kvota::config::Config {
        transport: kvota::config::Transport::Development,
        listen: "127.0.0.1:0".into(),
        http_listen: "127.0.0.1:0".into(),
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

pub fn signing(app: &TestApp) -> SigningServiceClient<tonic::transport::Channel> {
    SigningServiceClient::new(app.channel.clone())
}

pub async fn prepare(app: &TestApp, document: &str) -> pb::SigningSession {
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
pub fn token_sign(signer: &Signer, session: &pb::SigningSession) -> Vec<u8> {
    let digest = base64::engine::general_purpose::STANDARD
        .decode(&session.sha256_base64)
        .unwrap();
    assert_eq!(hex::encode(&digest), session.sha256_hex);
    sign_digest(signer, &digest, &CmsSignOptions { signing_time: None }).unwrap()
}

/// A CRL of the national CA revoking `revoked`, made with the openssl CLI.
pub fn crl_revoking(
    ca: &NationalCa,
    dir: &std::path::Path,
    revoked: &[&Signer],
) -> std::path::PathBuf {
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

/// Serves the file at `path` (read at each request) to every HTTP request, like a CRL
/// distribution point.
pub fn serve(path: std::path::PathBuf) -> String {
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

/// A distribution point whose reply the test changes as it goes: (status line, body).
pub type Reply = std::sync::Arc<std::sync::Mutex<(&'static str, Vec<u8>)>>;

/// Serves whatever `reply` holds at each request, like a distribution point that fails
/// in the ways national CAs' points do (404, an empty or truncated list).
pub fn serve_reply(reply: Reply) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    answer(listener, reply);
    format!("http://{addr}/national.crl")
}

/// Like [`serve_reply`], on a given port (a responder a certificate already names).
pub fn serve_reply_at(port: u16, reply: Reply) {
    answer(
        std::net::TcpListener::bind(("127.0.0.1", port)).unwrap(),
        reply,
    );
}

/// Reads a whole HTTP request (head and a Content-Length body), so that closing the
/// connection after the answer does not reset it.
fn read_request(s: &mut std::net::TcpStream) {
    use std::io::Read;
    let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(5)));
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let Ok(n) = s.read(&mut buf) else { return };
        if n == 0 {
            return;
        }
        got.extend_from_slice(&buf[..n]);
        if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&got[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if got.len() >= end + 4 + length {
                return;
            }
        }
    }
}

/// Answers each request with what `reply` holds then; an empty status line means no
/// answer at all (the connection is held open, as a hung server does).
fn answer(listener: std::net::TcpListener, reply: Reply) {
    use std::io::Write;
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            read_request(&mut s);
            let (status, body) = reply.lock().unwrap().clone();
            if status.is_empty() {
                held.push(s);
                continue;
            }
            let _ = s.write_all(
                format!(
                    "HTTP/1.0 {status}\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                )
                .as_bytes(),
            );
            let _ = s.write_all(&body);
        }
    });
}

/// Prepares with the signer's certificate (so the signature gets its visible box), signs
/// as the token would and completes.
pub async fn sign_visibly(app: &TestApp, document: &str, signer: &Signer) -> pb::Document {
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
pub fn last_page_text(pdf: &std::path::Path) -> String {
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

/// Completes `session` with the CMS `signer`'s token makes over its hash.
pub async fn complete(
    app: &TestApp,
    session: &pb::SigningSession,
    signer: &Signer,
) -> Result<pb::Document, Status> {
    complete_with(app, &session.name, token_sign(signer, session)).await
}

/// Completes the session named `session` with these CMS bytes.
pub async fn complete_with(
    app: &TestApp,
    session: &str,
    cms: Vec<u8>,
) -> Result<pb::Document, Status> {
    signing(app)
        .complete_signature(pb::CompleteSignatureRequest {
            session: session.into(),
            cms,
            ..Default::default()
        })
        .await
        .map(tonic::Response::into_inner)
}

/// An app trusting the national CA, with Appendix 1 of a submitted application.
pub struct Appendix1 {
    pub app: TestApp,
    pub ca: NationalCa,
    /// The document's name.
    pub doc: String,
}

pub async fn submitted_appendix_1() -> Appendix1 {
    let (app, ca) = app_with_national_ca().await;
    let submitted = app
        .submit(&app.create(sample_application()).await)
        .await
        .unwrap();
    Appendix1 {
        app,
        ca,
        doc: submitted.document,
    }
}

/// Appendix 1 signed after the seal by the employer's head (RSA, a DER CMS) and then by
/// a signatory (ECDSA, a PEM CMS).
pub struct SignedByHeadAndSignatory {
    pub app: TestApp,
    pub ca: NationalCa,
    /// The session the head signed.
    pub head_session: pb::SigningSession,
    /// The document as the head's completion returned it.
    pub after_head: pb::Document,
    /// The document as the signatory's completion returned it.
    pub after_signatory: pb::Document,
    /// The PDF and the detached CMS as downloaded after both.
    pub pdf: Vec<u8>,
    pub cms: Vec<u8>,
}

pub async fn signed_by_head_and_signatory() -> SignedByHeadAndSignatory {
    let Appendix1 { app, ca, doc } = submitted_appendix_1().await;
    let head = party(&ca, EMPLOYER_BIN, HEAD, KeyAlg::Rsa(2048), true);
    let head_session = prepare(&app, &doc).await;
    let after_head = complete(&app, &head_session, &head).await.unwrap();
    let signatory = party(&ca, EMPLOYER_BIN, SIGNATORY, KeyAlg::EcP256, true);
    let session = prepare(&app, &doc).await;
    let pem = format!(
        "-----BEGIN CMS-----\n{}\n-----END CMS-----\n",
        base64::engine::general_purpose::STANDARD.encode(token_sign(&signatory, &session))
    );
    let after_signatory = complete_with(&app, &session.name, pem.into_bytes())
        .await
        .unwrap();
    let pdf = app.download(&doc, pb::DocumentFormat::Pdf).await;
    let cms = app.download(&doc, pb::DocumentFormat::Cms).await;
    SignedByHeadAndSignatory {
        app,
        ca,
        head_session,
        after_head,
        after_signatory,
        pdf,
        cms,
    }
}

/// Kvota's report on a PDF (and a detached CMS, if not empty).
pub async fn verify(app: &TestApp, pdf: Vec<u8>, cms: Vec<u8>) -> pb::VerificationReport {
    app.documents()
        .verify_document(pb::VerifyDocumentRequest { pdf, cms })
        .await
        .unwrap()
        .into_inner()
}

/// `pyhanko sign validate` of the file at `path`, trusting the seal's root and the
/// national CA.
pub fn pyhanko_validate(
    app: &TestApp,
    ca: &NationalCa,
    path: &std::path::Path,
) -> std::process::Output {
    tool(
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
    )
}

/// Appendix 1 signed by the head and a deputy whose certificates name a CRL distribution
/// point; then the CA revokes the head, and the service (restarted to fetch CRLs from
/// that point, at a time after the CRL's issue) checks the file.
pub struct RevokedAtDistributionPoint {
    pub app: TestApp,
    pub ca: NationalCa,
    /// The signed PDF, also written at `path`.
    pub pdf: Vec<u8>,
    pub path: std::path::PathBuf,
    /// Where the distribution point's CRL (PEM) is kept; the directory lives as long as
    /// this value.
    pub crl_dir: tempfile::TempDir,
    pub crl_path: std::path::PathBuf,
}

pub async fn revoked_at_distribution_point() -> RevokedAtDistributionPoint {
    let Appendix1 { app, ca, doc } = submitted_appendix_1().await;
    let crl_dir = tempfile::tempdir().unwrap();
    let crl_path = crl_dir.path().join("national.crl.pem");
    let url = serve(crl_path.clone());
    let head = party_with_cdp(&ca, EMPLOYER_BIN, HEAD, &url);
    let deputy = party_with_cdp(&ca, EMPLOYER_BIN, SIGNATORY, &url);
    for signer in [&head, &deputy] {
        let s = prepare(&app, &doc).await;
        complete(&app, &s, signer).await.unwrap();
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
    let path = app.path("revoked.pdf");
    std::fs::write(&path, &pdf).unwrap();
    RevokedAtDistributionPoint {
        app,
        ca,
        pdf,
        path,
        crl_dir,
        crl_path,
    }
}

/// Appendix 1 signed visibly (each signer's certificate given at preparation) by the
/// employer's head and then a signatory, with the PDF after each step.
pub struct SignedVisibly {
    pub app: TestApp,
    pub ca: NationalCa,
    pub doc: String,
    /// The PDF as sealed, after the head, after the signatory (also written at
    /// `two_path`).
    pub sealed: Vec<u8>,
    pub one: Vec<u8>,
    pub two: Vec<u8>,
    pub two_path: std::path::PathBuf,
    /// The document as the head's completion returned it.
    pub after_head: pb::Document,
}

pub async fn signed_visibly() -> SignedVisibly {
    let Appendix1 { app, ca, doc } = submitted_appendix_1().await;
    let sealed = app.download(&doc, pb::DocumentFormat::Pdf).await;
    let head = party_named(
        &ca,
        "СЕЙТҚАЛИ ӘЛИХАН",
        EMPLOYER_BIN,
        HEAD,
        KeyAlg::Rsa(2048),
        true,
    );
    let after_head = sign_visibly(&app, &doc, &head).await;
    let one = app.download(&doc, pb::DocumentFormat::Pdf).await;
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
    let two_path = app.path("two.pdf");
    std::fs::write(&two_path, &two).unwrap();
    SignedVisibly {
        app,
        ca,
        doc,
        sealed,
        one,
        two,
        two_path,
        after_head,
    }
}

/// Akmola's Commission for 2027 with the four members p. 9 requires besides the chair.
pub async fn akmola_commission(app: &TestApp) {
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
    app.regional()
        .set_commission_members(pb::SetCommissionMembersRequest {
            region_code: "110000000".into(),
            quota_year: 2027,
            members,
            ..Default::default()
        })
        .await
        .unwrap();
}

/// The Commission approves `submitted` in full on 15 September; the body's notice of it.
pub async fn approve_and_notify(app: &TestApp, submitted: &pb::Application) -> String {
    let mut r = app.regional();
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
    r.notify_employer(pb::NotifyEmployerRequest {
        application: submitted.name.clone(),
    })
    .await
    .unwrap()
    .into_inner()
    .document
}
