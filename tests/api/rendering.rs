//! Rendering through the service and the external checkers: templates an operator can
//! replace, and a long form laid out in parts. (Determinism and template errors are unit
//! tests in src/render.)

use kvota::render::{PdfMeta, Renderer};

use crate::helpers::*;

fn meta() -> PdfMeta {
    PdfMeta {
        ident: "documents/determinism".into(),
        created: chrono::DateTime::parse_from_rfc3339("2026-09-15T10:30:00+05:00").unwrap(),
    }
}

#[tokio::test]
async fn an_operator_template_replaces_the_built_in_one_without_a_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    let templates = dir.path().join("templates");
    std::fs::create_dir_all(&templates).unwrap();
    let builtin = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/templates/appendix1.typ"
    ))
    .unwrap();
    std::fs::write(
        templates.join("appendix1.typ"),
        format!("{builtin}\n#text[ИСПРАВЛЕНО ОПЕРАТОРОМ]\n"),
    )
    .unwrap();
    let pki = test_pki(&dir.path().join("pki"));
    let mut config = kvota::config::Config {
        transport: kvota::config::Transport::Development,
        listen: "127.0.0.1:0".into(),
        http_listen: "127.0.0.1:0".into(),
        data_dir: dir.path().join("data"),
        clock: Some(BEFORE_DEADLINE.into()),
        templates_dir: Some(templates),
        ..Default::default()
    };
    config.signing.key_file = Some(pki.seal_key_pem.clone());
    config.signing.cert_file = Some(pki.seal_cert_pem.clone());
    config.signing.trust_anchors = vec![pki.root_pem.clone()];
    let app = TestApp::spawn_with(dir, config, pki.root_pem).await;
    let created = app.create(sample_application()).await;
    let submitted = app.submit(&created).await.unwrap();
    let pdf = app
        .download(&submitted.document, kvota::api::pb::DocumentFormat::Pdf)
        .await;
    let path = app.path("override.pdf");
    std::fs::write(&path, pdf).unwrap();
    let o = tool("pdftotext", &[path.to_str().unwrap(), "-"]);
    assert!(text(&o).contains("ИСПРАВЛЕНО ОПЕРАТОРОМ"), "{}", text(&o));
    app.stop().await;
}

/// A region's Appendix 2 of `rows` employers, each row its own.
fn long_appendix2(rows: usize) -> serde_json::Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/templates/sample/appendix2.json"
    ))
    .unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let sample = v["rows"][0].clone();
    v["rows"] = (0..rows)
        .map(|i| {
            let mut r = sample.clone();
            r["number"] = (i + 1).into();
            r["organisation"]["name"] = format!("ТОО «Тест-{}»", i + 1).into();
            r["current_count"] = (i % 37).into();
            r
        })
        .collect();
    v
}

/// More rows than one part: laid out in parts on every core and joined, it reads as one
/// document — heading once, every row once and in order, totals and signature at the
/// end, pages numbered across the parts — and is valid, searchable and signable.
#[test]
fn a_long_appendix_2_is_laid_out_in_parts_and_reads_as_one_document() {
    let rows = 230; // four parts
    let data = long_appendix2(rows);
    let r = Renderer::new(None, None).unwrap();
    let pdf = r
        .render("appendix2.typ", &data, "documents/long", &meta())
        .unwrap();
    assert_eq!(
        pdf,
        r.render("appendix2.typ", &data, "documents/long", &meta())
            .unwrap(),
        "parts on two threads still give the same bytes"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let p = path.to_str().unwrap();

    let check = tool("qpdf", &["--check", p]);
    assert!(check.status.success(), "{}", text(&check));
    let info = text(&tool("pdfinfo", &[p]));
    let pages: usize = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(pages > 60, "{info}");
    let meta_xml = text(&tool("pdfinfo", &["-meta", p]));
    assert!(
        meta_xml.contains(&format!("<xmpTPg:NPages>{pages}</xmpTPg:NPages>")),
        "the XMP page count is the whole document's"
    );
    assert!(meta_xml.contains("<pdfaid:part>2</pdfaid:part>"));
    let fonts = text(&tool("pdffonts", &[p]));
    for line in fonts.lines().skip(2) {
        assert!(line.contains(" yes yes "), "every font embedded: {line}");
    }

    let all = text(&tool("pdftotext", &["-layout", p, "-"]));
    let texts: Vec<&str> = all
        .split('\u{c}')
        .filter(|t| !t.trim().is_empty())
        .collect();
    assert_eq!(texts.len(), pages, "every page has text");
    for (i, t) in texts.iter().enumerate() {
        assert!(
            t.contains(&format!("Страница {} из {pages}", i + 1)),
            "page {} is numbered across the parts:\n{t}",
            i + 1
        );
        assert!(t.contains("Документ documents/01JDR8N4Q2W6E9T3Y7U5I1O0PA"));
        // The table's header repeats on every page (the last may hold only the signature).
        if i + 1 < pages {
            assert!(t.contains("Обоснование потребности"), "page {}", i + 1);
        }
    }
    let once = |needle: &str| {
        let on: Vec<usize> = (0..pages).filter(|&i| texts[i].contains(needle)).collect();
        assert_eq!(on.len(), 1, "{needle:?} on pages {on:?}");
        on[0]
    };
    assert_eq!(once("Приложение 2"), 0);
    let last_row = once(&format!("ТОО «Тест-{rows}»"));
    let totals = once("Итого");
    assert!(
        totals == last_row || totals == last_row + 1,
        "totals after the last row"
    );
    assert_eq!(
        once("Документ подписан электронной цифровой подписью"),
        pages - 1
    );
    let mut last = 0;
    for n in 1..=rows {
        let name = format!("ТОО «Тест-{n}»");
        let at = all.find(&name).unwrap_or_else(|| panic!("{name} missing"));
        assert!(at > last, "{name} out of order");
        assert_eq!(all.matches(&name).count(), 1, "{name} once");
        last = at;
    }

    // The joined document takes a seal like any other, and pdfsig finds it intact.
    let pki = test_pki(&dir.path().join("pki"));
    let opts = kvota::sign::pades::PadesOptions::new("KvotaSeal", meta().created);
    let sealed = kvota::sign::pades::sign_pdf(&pdf, &pki.seal, &opts).unwrap();
    let sealed_path = dir.path().join("sealed.pdf");
    std::fs::write(&sealed_path, &sealed).unwrap();
    let sig = text(&tool("pdfsig", &[sealed_path.to_str().unwrap()]));
    assert!(sig.contains("Signature is Valid."), "{sig}");
}
