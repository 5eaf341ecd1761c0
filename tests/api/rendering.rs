//! Rendering: deterministic PDF/A bytes, and templates an operator can replace.

use kvota::render::{PdfMeta, Renderer};

use crate::helpers::*;

fn sample_model() -> serde_json::Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/templates/sample/appendix1.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn meta() -> PdfMeta {
    PdfMeta {
        ident: "documents/determinism".into(),
        created: chrono::DateTime::parse_from_rfc3339("2026-09-15T10:30:00+05:00").unwrap(),
    }
}

#[test]
fn the_same_data_and_time_give_the_same_bytes() {
    let r = Renderer::new(None, None).unwrap();
    let a = r
        .render(
            "appendix1.typ",
            &sample_model(),
            "documents/determinism",
            &meta(),
        )
        .unwrap();
    let b = r
        .render(
            "appendix1.typ",
            &sample_model(),
            "documents/determinism",
            &meta(),
        )
        .unwrap();
    assert!(a.starts_with(b"%PDF-"));
    assert_eq!(a, b);
    // A fresh renderer (fonts loaded again) gives the same bytes too.
    let c = Renderer::new(None, None)
        .unwrap()
        .render(
            "appendix1.typ",
            &sample_model(),
            "documents/determinism",
            &meta(),
        )
        .unwrap();
    assert_eq!(a, c);
}

#[test]
fn a_template_error_names_the_template_and_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("appendix1.typ"),
        "#let x = 1\n#undefined-thing\n",
    )
    .unwrap();
    let r = Renderer::new(Some(dir.path()), None).unwrap();
    let err = r
        .render("appendix1.typ", &sample_model(), "x", &meta())
        .unwrap_err()
        .to_string();
    assert!(err.contains("appendix1.typ"), "{err}");
    assert!(err.contains(":2:"), "{err}");
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
