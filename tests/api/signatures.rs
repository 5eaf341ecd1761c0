//! The sealed Appendix 1 checked by independent tools: poppler's pdfsig and pdftotext,
//! pyHanko, openssl cms, qpdf; and the service's own VerifyDocument.

use std::path::{Path, PathBuf};

use kvota::api::pb;

use crate::helpers::*;

struct Issued {
    app: TestApp,
    document: String,
    pdf: PathBuf,
    cms: PathBuf,
}

async fn issue() -> Issued {
    let app = TestApp::spawn().await;
    let created = app.create(sample_application()).await;
    let submitted = app.submit(&created).await.expect("submitted");
    let pdf_bytes = app
        .download(&submitted.document, pb::DocumentFormat::Pdf)
        .await;
    let cms_bytes = app
        .download(&submitted.document, pb::DocumentFormat::Cms)
        .await;
    let pdf = app.path("appendix1.pdf");
    let cms = app.path("appendix1.p7s");
    std::fs::write(&pdf, pdf_bytes).unwrap();
    std::fs::write(&cms, cms_bytes).unwrap();
    Issued {
        document: submitted.document,
        app,
        pdf,
        cms,
    }
}

/// A copy of `pdf` with one byte changed inside the signed range: the binary comment
/// on the header's second line, which leaves the file parseable.
fn tampered(pdf: &Path) -> PathBuf {
    let mut bytes = std::fs::read(pdf).unwrap();
    let at = bytes.iter().position(|&b| b == b'\n').unwrap() + 2;
    bytes[at] ^= 0x01;
    let out = pdf.with_file_name("tampered.pdf");
    std::fs::write(&out, bytes).unwrap();
    out
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// An NSS database trusting only the test root, for pdfsig.
fn nss_db(dir: &Path, root: &Path) -> String {
    let db = dir.join("nssdb");
    std::fs::create_dir_all(&db).unwrap();
    let db_arg = format!("sql:{}", db.display());
    let o = tool("certutil", &["-N", "--empty-password", "-d", &db_arg]);
    assert!(o.status.success(), "{}", text(&o));
    let o = tool(
        "certutil",
        &[
            "-A",
            "-d",
            &db_arg,
            "-n",
            "kvota-test-root",
            "-t",
            "CT,C,C",
            "-i",
            s(root),
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    db_arg
}

#[tokio::test]
async fn pdfsig_finds_a_valid_trusted_cades_signature_and_rejects_a_changed_byte() {
    let i = issue().await;
    let db = nss_db(i.app.dir.path(), &i.app.root_pem);
    let o = tool("pdfsig", &["-nssdir", &db, s(&i.pdf)]);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(out.contains("Signature Type: ETSI.CAdES.detached"), "{out}");
    assert!(
        out.contains("Signature Validation: Signature is Valid."),
        "{out}"
    );
    assert!(
        out.contains("Certificate Validation: Certificate is Trusted."),
        "{out}"
    );
    assert!(out.contains("Total document signed"), "{out}");

    let o = tool("pdfsig", &["-nssdir", &db, s(&tampered(&i.pdf))]);
    let out = text(&o);
    assert!(!out.contains("Signature is Valid."), "{out}");
    i.app.stop().await;
}

#[tokio::test]
async fn pyhanko_validates_the_seal_against_the_test_root_and_rejects_a_changed_byte() {
    let i = issue().await;
    let root = s(&i.app.root_pem);
    let o = tool(
        "pyhanko",
        &[
            "sign",
            "validate",
            "--trust",
            root,
            "--trust-replace",
            s(&i.pdf),
        ],
    );
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(out.contains("INTACT:TRUSTED,UNTOUCHED"), "{out}");

    let o = tool(
        "pyhanko",
        &[
            "sign",
            "validate",
            "--trust",
            root,
            "--trust-replace",
            s(&tampered(&i.pdf)),
        ],
    );
    assert!(!o.status.success(), "{}", text(&o));
    i.app.stop().await;
}

#[tokio::test]
async fn openssl_verifies_the_detached_cms_and_rejects_a_changed_byte() {
    let i = issue().await;
    let verify = |content: &Path| {
        tool(
            "openssl",
            &[
                "cms",
                "-verify",
                "-binary",
                "-inform",
                "DER",
                "-in",
                s(&i.cms),
                "-content",
                s(content),
                "-CAfile",
                s(&i.app.root_pem),
                "-purpose",
                "any",
                "-out",
                "/dev/null",
            ],
        )
    };
    let o = verify(&i.pdf);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("Verification successful"), "{}", text(&o));
    let o = verify(&tampered(&i.pdf));
    assert!(!o.status.success(), "{}", text(&o));

    // The CMS carries the ESS signing-certificate attribute CAdES requires.
    let o = tool(
        "openssl",
        &[
            "cms",
            "-cmsout",
            "-print",
            "-inform",
            "DER",
            "-in",
            s(&i.cms),
        ],
    );
    assert!(text(&o).contains("signingCertificateV2"), "{}", text(&o));
    i.app.stop().await;
}

#[tokio::test]
async fn the_detached_cms_and_the_audit_trail_carry_the_service_clock() {
    // issue() runs the service with its clock fixed at BEFORE_DEADLINE,
    // 2026-09-15 10:30:00 in Almaty, 05:30:00 UTC.
    let i = issue().await;
    let o = tool(
        "openssl",
        &[
            "cms",
            "-cmsout",
            "-print",
            "-inform",
            "DER",
            "-in",
            s(&i.cms),
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let printed = text(&o);
    let after = printed
        .split("signingTime")
        .nth(1)
        .unwrap_or_else(|| panic!("no signingTime in {printed}"));
    let time = after
        .lines()
        .find_map(|l| l.trim().strip_prefix("UTCTIME:"))
        .unwrap_or_else(|| panic!("no UTCTIME after signingTime in {printed}"));
    assert_eq!(time, "Sep 15 05:30:00 2026 GMT", "{printed}");

    // The stored document says the same time.
    let doc = i
        .app
        .documents()
        .get_document(pb::GetDocumentRequest {
            name: i.document.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let fixed = chrono::DateTime::parse_from_rfc3339(BEFORE_DEADLINE)
        .unwrap()
        .timestamp();
    let at = |t: &Option<_>| {
        t.as_ref()
            .map(|t: &prost_types::Timestamp| (t.seconds, t.nanos))
    };
    assert_eq!(at(&doc.signatures[0].signing_time), Some((fixed, 0)));

    let records = pb::audit_service_client::AuditServiceClient::new(i.app.channel.clone())
        .list_audit_records(pb::ListAuditRecordsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .records;
    assert!(records.len() >= 2, "{records:#?}");
    for r in &records {
        assert_eq!(at(&r.time), Some((fixed, 0)), "{r:#?}");
    }
    i.app.stop().await;
}

#[tokio::test]
async fn the_service_verifies_its_documents_and_reports_a_changed_byte() {
    let i = issue().await;
    let pdf = std::fs::read(&i.pdf).unwrap();
    let cms = std::fs::read(&i.cms).unwrap();
    let report = i
        .app
        .documents()
        .verify_document(pb::VerifyDocumentRequest {
            pdf: pdf.clone(),
            cms: cms.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(report.valid, "{report:?}");
    assert_eq!(report.document, i.document);
    assert_eq!(report.signatures.len(), 2);
    for sig in &report.signatures {
        assert!(sig.integrity_ok && sig.chain_trusted, "{sig:?}");
        assert_eq!(sig.bin, "990140000017");
        assert!(sig.signing_time.is_some());
    }
    assert!(report.signatures[0].whole_document_covered);
    assert_eq!(report.signatures[0].sub_filter, "ETSI.CAdES.detached");

    let bad = std::fs::read(tampered(&i.pdf)).unwrap();
    let report = i
        .app
        .documents()
        .verify_document(pb::VerifyDocumentRequest { pdf: bad, cms })
        .await
        .unwrap()
        .into_inner();
    assert!(!report.valid);
    assert!(report.document.is_empty());
    assert!(
        report.signatures.iter().all(|s| !s.integrity_ok),
        "{report:?}"
    );

    let err = i
        .app
        .documents()
        .verify_document(pb::VerifyDocumentRequest {
            pdf: b"not a pdf".to_vec(),
            cms: vec![],
        })
        .await
        .unwrap_err();
    assert_invalid(&err, "pdf");
    i.app.stop().await;
}

#[tokio::test]
async fn appendix_1_reads_as_the_rules_word_for_word_with_kazakh_letters() {
    let i = issue().await;
    let o = tool("pdftotext", &["-layout", s(&i.pdf), "-"]);
    assert!(o.status.success(), "{}", text(&o));
    // Layout extraction keeps table cells apart; compare with whitespace collapsed.
    let flat: String = String::from_utf8_lossy(&o.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let o = tool("pdftotext", &["-raw", s(&i.pdf), "-"]);
    let raw: String = String::from_utf8_lossy(&o.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for phrase in [
        "Приложение 1",
        "Форма",
        "Управление занятости и социальных программ Акмолинской области",
        "Заявка работодателя на привлечение иностранной рабочей силы на 2027 год",
        "ТОО «Ақжол Құрылыс»",
        "БИН 040140001236",
        "Обоснование для привлечения иностранных работников с указанием планируемых к реализации проектов в рамках заключенных договоров, контрактов работодателя на выполнение работ, оказание услуг, производство товаров:",
        "Әлібек, Ғалым, Нұрлан, Өмірзақ, Үміт, Һ, І",
        "Сейтқали Әлихан Нұрұлы",
        "Место печати (за исключением субъектов частного предпринимательства, если в соответствии с законодательством Республики Казахстан имеет печать)",
        "(наименование уполномоченного органа области, города республиканского значения, столицы)",
        "(должность руководителя организации, являющейся работодателем)",
        "Потребность в иностранной рабочей силе на 2027 год",
        "№ п/п Количество привлекаемой иностранной рабочей силы в текущем году (единиц)",
        "1-я категория (в разрезе профессий и специальностей) 2-я категория (в разрезе профессий и специальностей) 3-я категория (в разрезе профессий и специальностей) 4-я категория (в разрезе профессий и специальностей) Сезонные иностранные работники 1 2 3 4 5 6 7",
        "Документ подписан электронной цифровой подписью",
        "2142 Инженер",
        "Дорожный рабочий — 15",
    ] {
        assert!(
            flat.contains(phrase) || raw.contains(phrase),
            "{phrase:?} missing from the PDF text:\n{raw}"
        );
    }
    // The QR code at the foot opens the document's verification page.
    let prefix = i.app.path("page");
    let o = tool("pdftoppm", &["-r", "150", "-png", s(&i.pdf), s(&prefix)]);
    assert!(o.status.success(), "{}", text(&o));
    let pages: Vec<String> = std::fs::read_dir(i.app.dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "png"))
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let mut args = vec!["-q", "--raw"];
    args.extend(pages.iter().map(String::as_str));
    let o = tool("zbarimg", &args);
    let url = i
        .app
        .documents()
        .get_document(pb::GetDocumentRequest {
            name: i.document.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .verification_url;
    assert!(url.contains("/v/"), "{url}");
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), url);

    let o = tool("qpdf", &["--check", s(&i.pdf)]);
    assert!(o.status.success(), "{}", text(&o));

    // PDF/A-2b identification in the XMP metadata.
    let bytes = std::fs::read(&i.pdf).unwrap();
    let xmp = String::from_utf8_lossy(&bytes);
    assert!(
        xmp.contains("<pdfaid:part>2</pdfaid:part>"),
        "no PDF/A part in XMP"
    );
    assert!(xmp.contains("<pdfaid:conformance>B</pdfaid:conformance>"));
    i.app.stop().await;
}

/// The verdict of each signature comes as enums (issue 12) that say what the deprecated
/// strings say, for a good document and for one with a changed byte.
#[tokio::test]
#[allow(deprecated)]
async fn the_verdict_comes_as_enums_that_agree_with_the_strings() {
    use pb::signature_verification::{Indication, Kind, SubIndication};
    let i = issue().await;
    let pdf = std::fs::read(&i.pdf).unwrap();
    let cms = std::fs::read(&i.cms).unwrap();
    let verify = |pdf: Vec<u8>| {
        let mut documents = i.app.documents();
        let cms = cms.clone();
        async move {
            documents
                .verify_document(pb::VerifyDocumentRequest { pdf, cms })
                .await
                .unwrap()
                .into_inner()
        }
    };
    let agree = |s: &pb::SignatureVerification| {
        assert_eq!(s.signature_kind().as_str_name(), format!("KIND_{}", s.kind));
        assert_eq!(
            s.verdict_indication().as_str_name(),
            format!("INDICATION_{}", s.indication)
        );
        if s.sub_indication.is_empty() {
            assert_eq!(s.verdict_sub_indication(), SubIndication::Unspecified);
        } else {
            assert_eq!(
                s.verdict_sub_indication().as_str_name(),
                format!("SUB_INDICATION_{}", s.sub_indication)
            );
        }
    };

    let good = verify(pdf).await;
    assert_eq!(good.signatures.len(), 2, "{good:?}");
    assert!(
        good.signatures
            .iter()
            .any(|s| s.signature_kind() == Kind::Pades)
    );
    assert!(
        good.signatures
            .iter()
            .any(|s| s.signature_kind() == Kind::Cms)
    );
    for s in &good.signatures {
        agree(s);
        assert_eq!(s.verdict_indication(), Indication::TotalPassed, "{s:?}");
        assert_eq!(s.verdict_sub_indication(), SubIndication::Unspecified);
    }

    let bad = verify(std::fs::read(tampered(&i.pdf)).unwrap()).await;
    assert!(!bad.signatures.is_empty());
    for s in &bad.signatures {
        agree(s);
        assert_eq!(s.verdict_indication(), Indication::TotalFailed, "{s:?}");
        assert_ne!(s.verdict_sub_indication(), SubIndication::Unspecified);
    }
    i.app.stop().await;
}
