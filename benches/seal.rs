//! How long rendering and sealing one document takes: Appendix 1 rendered to PDF/A-2b,
//! the PAdES seal embedded, the detached CMS made, and the result verified.
//! `cargo bench --bench seal` prints min / median / mean per step.

use std::time::{Duration, Instant};

use kvota::render::{PdfMeta, Renderer};
use kvota::sign::{self, PadesOptions};

/// The allocator the service binary uses, so the figures are the service's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn measure(name: &str, runs: usize, mut f: impl FnMut()) {
    f(); // warm-up: fonts, caches
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    let mean = times.iter().sum::<Duration>() / runs as u32;
    println!(
        "{name:<44} min {:>8.2} ms  median {:>8.2} ms  mean {:>8.2} ms  ({runs} runs)",
        times[0].as_secs_f64() * 1e3,
        times[runs / 2].as_secs_f64() * 1e3,
        mean.as_secs_f64() * 1e3,
    );
}

fn model(rows: usize) -> serde_json::Value {
    let text = include_str!("../templates/sample/appendix1.json");
    let mut v: serde_json::Value = serde_json::from_str(text).unwrap();
    if rows > 0 {
        let template = v["rows"][1].clone();
        let many: Vec<serde_json::Value> = (0..rows)
            .map(|i| {
                let mut r = template.clone();
                r["number"] = (i + 1).into();
                r["occupation_code"] = format!("{:04}", 2000 + i).into();
                r
            })
            .collect();
        v["rows"] = many.into();
    }
    v
}

fn main() {
    kvota::startup::tune_allocator();
    let runs: usize = std::env::var("KVOTA_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let meta = PdfMeta {
        ident: "documents/bench".into(),
        created: chrono::DateTime::parse_from_rfc3339("2026-09-15T10:30:00+05:00").unwrap(),
    };
    let t = Instant::now();
    let renderer = Renderer::new(None, None).unwrap();
    println!(
        "renderer start-up (fonts, library)            {:>8.2} ms",
        t.elapsed().as_secs_f64() * 1e3
    );

    let dir = tempfile::tempdir().unwrap();
    let pki = sign::dev::ensure_dev_pki(dir.path(), "990140000017").unwrap();
    let trust = vec![pki.root_cert.clone()];

    let small = model(0);
    let large = model(200);
    let pdf = renderer
        .render("appendix1.typ", &small, "documents/bench", &meta)
        .unwrap();
    let large_pdf = renderer
        .render("appendix1.typ", &large, "documents/bench", &meta)
        .unwrap();
    println!(
        "Appendix 1: {} bytes (4 rows), {} bytes (200 rows)",
        pdf.len(),
        large_pdf.len()
    );

    measure("render Appendix 1, 4 rows", runs, || {
        renderer
            .render("appendix1.typ", &small, "documents/bench", &meta)
            .unwrap();
    });
    measure("render Appendix 1, 200 rows", runs.div_ceil(4), || {
        renderer
            .render("appendix1.typ", &large, "documents/bench", &meta)
            .unwrap();
    });
    let opts = PadesOptions::new("KvotaSeal", meta.created);
    measure("PAdES seal (RSA-2048, incremental update)", runs, || {
        sign::sign_pdf(&pdf, &pki.seal, &opts).unwrap();
    });
    let sealed = sign::sign_pdf(&pdf, &pki.seal, &opts).unwrap();
    measure("detached CMS over the sealed PDF", runs, || {
        sign::sign_detached(&pki.seal, &sealed, chrono::Utc::now()).unwrap();
    });
    measure("render + seal + CMS (one document)", runs, || {
        let pdf = renderer
            .render("appendix1.typ", &small, "documents/bench", &meta)
            .unwrap();
        let sealed = sign::sign_pdf(&pdf, &pki.seal, &opts).unwrap();
        sign::sign_detached(&pki.seal, &sealed, chrono::Utc::now()).unwrap();
    });
    measure("verify embedded PAdES signature", runs, || {
        let r = sign::verify_pdf(&sealed, &trust).unwrap();
        assert!(r[0].integrity_ok && r[0].chain_trusted);
    });
}
