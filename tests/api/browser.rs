//! The public pages in a real browser (issue 13): headless Chromium driven by
//! playwright-core opens the decision and the verification page in both languages,
//! switches the language, uploads a good and a tampered PDF through the form, and checks
//! that nothing leaves the origin, nothing logs an error and axe-core finds no WCAG 2.1
//! A/AA violation (tests/browser/pages.mjs). The screenshots stay under the target
//! directory's `tmp/browser/`.

use std::path::PathBuf;
use std::process::Command;

use kvota::api::pb;

use crate::helpers::*;
use crate::seed::{latest_decision, three_versions, verification_url};

/// The node_modules holding playwright-core and axe-core: as given, or installed (with
/// Chromium) by tests/browser/install.sh, which is quick when all is there.
fn node_modules() -> String {
    if let Ok(dir) = std::env::var("KVOTA_NODE_MODULES") {
        return dir;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/install.sh");
    let o = Command::new("bash")
        .arg(script)
        .output()
        .expect("runs install.sh");
    assert!(o.status.success(), "{}", text(&o));
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .last()
        .expect("install.sh prints the node_modules directory")
        .to_owned()
}

#[tokio::test]
async fn a_person_reads_the_decision_and_checks_a_document_in_a_real_browser() {
    let (app, _q, _v1) = three_versions().await;
    let web = app.web_addr();
    let latest = latest_decision(&app).await;
    let url = verification_url(&app, &latest.document).await;
    let code = url.rsplit('/').next().unwrap().to_owned();
    let pdf = app
        .download(&latest.document, pb::DocumentFormat::Pdf)
        .await;
    let mut tampered = pdf.clone();
    let at = tampered.len() / 2;
    tampered[at] ^= 0x01;
    let (good, bad) = (app.path("good.pdf"), app.path("tampered.pdf"));
    std::fs::write(&good, &pdf).unwrap();
    std::fs::write(&bad, &tampered).unwrap();
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser");
    let modules = node_modules();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/pages.mjs");
    let run = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(script)
            .env("KVOTA_WEB", format!("http://{web}"))
            .env("KVOTA_YEAR", "2027")
            .env("KVOTA_CODE", code)
            .env("KVOTA_GOOD_PDF", good)
            .env("KVOTA_TAMPERED_PDF", bad)
            .env("KVOTA_SHOTS", &shots)
            .env("KVOTA_NODE_MODULES", modules)
            .output()
            .expect("runs node")
    })
    .await
    .unwrap();
    assert!(
        run.status.success(),
        "browser checks failed:\n{}",
        text(&run)
    );
    app.stop().await;
}
