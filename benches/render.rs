//! Rendering and sealing as the service does it, in-process: Appendix 1 (one page) and
//! Appendix 2 with 100, 1,000 and 10,000 rows, render only and render + seal (PAdES + CMS);
//! median and p99 per document, and the peak memory (VmHWM) of a process doing one case.
//! Then signing alone (RSA-2048, RSA-3072, ECDSA P-256 seals per second).
//!
//! `cargo bench --bench render` prints a table; `-- --json` prints one JSON object per line
//! (what `bench/compare.py` reads); `-- --case a2-10000` runs one case in this process;
//! `-- --case a1 --renders 10` only renders 10 documents (for instruction counts).
//! KVOTA_BENCH_RUNS sets the runs per case (default 30; the 10,000-row case does a tenth).

use std::time::{Duration, Instant};

use kvota::render::{PdfMeta, Renderer};
use kvota::sign::keys::{CertSubject, KeyAlg, Signer, issue_cert, make_root_ca};
use kvota::sign::{self, PadesOptions};
use serde_json::{Value, json};

/// The allocator the service binary uses, so the figures are the service's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const CASES: [&str; 4] = ["a1", "a2-100", "a2-1000", "a2-10000"];

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1e3
}

fn time(runs: usize, mut f: impl FnMut()) -> (f64, f64) {
    let mut t: Vec<Duration> = (0..runs)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed()
        })
        .collect();
    t.sort();
    (percentile(&t, 0.5), percentile(&t, 0.99))
}

/// The filled form of a case: the sample Appendix 1, or Appendix 2 with `rows`
/// employers of four demand lines each.
pub fn model(case: &str) -> (&'static str, Value) {
    if case == "a1" {
        let v = serde_json::from_str(include_str!("../templates/sample/appendix1.json")).unwrap();
        return ("appendix1.typ", v);
    }
    let rows: usize = case.trim_start_matches("a2-").parse().unwrap();
    let mut v: Value =
        serde_json::from_str(include_str!("../templates/sample/appendix2.json")).unwrap();
    let sample = v["rows"][0].clone();
    let many: Vec<Value> = (0..rows)
        .map(|i| {
            // Every row its own (name, counts, justification), as in a real region's
            // list: identical rows would let Typst's memoisation replay their layout.
            let mut r = sample.clone();
            r["number"] = json!(i + 1);
            r["organisation"]["name"] = json!(format!("ТОО «Құрылыс-{}»", i + 1));
            r["current_count"] = json!(i % 37);
            for (j, line) in r["lines"].as_array_mut().unwrap().iter_mut().enumerate() {
                line["count"] = json!((i * 7 + j) % 29 + 1);
            }
            let why = r["justification"].as_str().unwrap().to_owned();
            r["justification"] = json!(format!(
                "Заявка работодателя № {} от {:02}.09.2026. {why}",
                i + 1,
                1 + i % 28
            ));
            r
        })
        .collect();
    v["rows"] = json!(many);
    ("appendix2.typ", v)
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

fn seal() -> Signer {
    let (ca_key, ca) = make_root_ca(
        &CertSubject {
            common_name: "Bench Root".into(),
            ..Default::default()
        },
        KeyAlg::Rsa(2048),
    )
    .unwrap();
    signer(&ca_key, &ca, KeyAlg::Rsa(2048))
}

fn signer(
    ca_key: &openssl::pkey::PKey<openssl::pkey::Private>,
    ca: &openssl::x509::X509,
    alg: KeyAlg,
) -> Signer {
    let (key, cert) = issue_cert(
        ca_key,
        ca,
        &CertSubject {
            common_name: "KVOTA BENCH SEAL".into(),
            org_unit: Some("BIN990140000017".into()),
            ..Default::default()
        },
        alg,
        false,
    )
    .unwrap();
    Signer::new(key, cert, vec![ca.clone()]).unwrap()
}

fn meta() -> PdfMeta {
    PdfMeta {
        ident: "documents/bench".into(),
        created: chrono::DateTime::parse_from_rfc3339("2026-09-15T10:30:00+05:00").unwrap(),
    }
}

/// The `n`th document of a case. Every document differs from the last as the service's
/// do within a season: another employer (Appendix 1) or region's list (every row of
/// Appendix 2), head, document identifier, signing time and QR code; the template and
/// the year stay. Typst reuses the layout of what did not change (the form's fixed
/// text), as it does in service.
fn varied(case: &str, data: &Value, n: usize) -> (Value, String) {
    let mut d = data.clone();
    d["head_full_name"] = json!(format!("Сейтқали Әлихан Нұрланұлы {n}"));
    d["signature"]["document_id"] = json!(format!("documents/bench-{n}"));
    d["signature"]["signing_time"] = json!(format!(
        "15.09.2026 10:{:02}:{:02} (UTC+5)",
        n / 60 % 60,
        n % 60
    ));
    if let Some(name) = d.pointer_mut("/employer/name") {
        *name = json!(format!("ТОО «Ақжол Құрылыс-{n}»"));
    }
    if let Some(rows) = d["rows"].as_array_mut().filter(|_| case != "a1") {
        for r in rows {
            let name = r["organisation"]["name"].as_str().unwrap().to_owned();
            r["organisation"]["name"] = json!(format!("{name}/{n}"));
        }
    }
    (d, format!("documents/bench-{n}"))
}

/// Renders `count` documents of a case after one warm-up, and nothing else: no keys, no
/// timing. Run under `valgrind --tool=callgrind` with two counts, the difference of the
/// instruction totals over the difference of the counts is the instructions per
/// document, repeatable on a busy machine (benches/compare.py --instructions).
fn render_only(case: &str, count: usize) {
    let renderer = Renderer::new(None, None).unwrap();
    let (template, data) = model(case);
    let meta = meta();
    for n in 0..=count {
        let (d, qr) = varied(case, &data, n);
        renderer.render(template, &d, &qr, &meta).unwrap();
    }
}

/// One case in this process: timings and this process's peak memory.
fn run_case(case: &str, runs: usize) -> Value {
    let runs = if case == "a2-10000" {
        runs.div_ceil(10).max(3)
    } else {
        runs
    };
    let renderer = Renderer::new(None, None).unwrap();
    let signer = seal();
    let (template, data) = model(case);
    let meta = meta();
    let pdf = renderer
        .render(template, &data, "documents/bench", &meta)
        .unwrap();
    let mut n = 0;
    let mut next = || {
        n += 1;
        varied(case, &data, n)
    };
    let (render_p50, render_p99) = time(runs, || {
        let (d, qr) = next();
        renderer.render(template, &d, &qr, &meta).unwrap();
    });
    let opts = PadesOptions::new("KvotaSeal", meta.created);
    let (sealed_p50, sealed_p99) = time(runs, || {
        let (d, qr) = next();
        let pdf = renderer.render(template, &d, &qr, &meta).unwrap();
        let sealed = sign::sign_pdf(&pdf, &signer, &opts).unwrap();
        sign::sign_detached(&signer, &sealed, chrono::Utc::now()).unwrap();
    });
    json!({
        "case": case, "runs": runs, "pdf_bytes": pdf.len(),
        "render_ms": {"p50": render_p50, "p99": render_p99},
        "render_seal_ms": {"p50": sealed_p50, "p99": sealed_p99},
        "peak_rss_mib": peak_rss_kib() as f64 / 1024.0,
    })
}

/// Seals per second with each key type, over a rendered Appendix 1.
fn signing(runs: usize) -> Vec<Value> {
    let renderer = Renderer::new(None, None).unwrap();
    let (template, data) = model("a1");
    let meta = meta();
    let pdf = renderer
        .render(template, &data, "documents/bench", &meta)
        .unwrap();
    let opts = PadesOptions::new("KvotaSeal", meta.created);
    let mut out = vec![];
    for (name, alg) in [
        ("RSA-2048", KeyAlg::Rsa(2048)),
        ("RSA-3072", KeyAlg::Rsa(3072)),
        ("ECDSA P-256", KeyAlg::EcP256),
    ] {
        let (ca_key, ca) = make_root_ca(
            &CertSubject {
                common_name: "Bench Root".into(),
                ..Default::default()
            },
            alg,
        )
        .unwrap();
        let s = signer(&ca_key, &ca, alg);
        let n = runs * 10;
        let t = Instant::now();
        for _ in 0..n {
            sign::sign_pdf(&pdf, &s, &opts).unwrap();
        }
        let pades = n as f64 / t.elapsed().as_secs_f64();
        let t = Instant::now();
        for _ in 0..n {
            sign::sign_detached(&s, &pdf, chrono::Utc::now()).unwrap();
        }
        let cms = n as f64 / t.elapsed().as_secs_f64();
        out.push(json!({"key": name, "pades_per_s": pades, "cms_per_s": cms}));
    }
    out
}

fn main() {
    kvota::startup::tune_allocator();
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let runs: usize = std::env::var("KVOTA_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    if let Some(i) = args.iter().position(|a| a == "--case") {
        if let Some(j) = args.iter().position(|a| a == "--renders") {
            render_only(&args[i + 1], args[j + 1].parse().unwrap());
        } else {
            println!("{}", run_case(&args[i + 1], runs));
        }
        return;
    }
    let as_json = args.iter().any(|a| a == "--json");
    // Each case in a fresh process of this binary, so its peak memory is its own.
    let exe = std::env::current_exe().unwrap();
    for case in CASES {
        let out = std::process::Command::new(&exe)
            .args(["--case", case])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        if as_json {
            println!("{}", json!({"kvota": v}));
        } else {
            println!(
                "{case:<9} render p50 {:>8.2} ms p99 {:>8.2} ms | render+seal p50 {:>8.2} ms p99 {:>8.2} ms | peak {:>6.1} MiB | {} bytes ({} runs)",
                v["render_ms"]["p50"].as_f64().unwrap(),
                v["render_ms"]["p99"].as_f64().unwrap(),
                v["render_seal_ms"]["p50"].as_f64().unwrap(),
                v["render_seal_ms"]["p99"].as_f64().unwrap(),
                v["peak_rss_mib"].as_f64().unwrap(),
                v["pdf_bytes"],
                v["runs"],
            );
        }
    }
    for s in signing(runs) {
        if as_json {
            println!("{}", json!({"signing": s}));
        } else {
            println!(
                "{:<12} PAdES seals {:>8.0}/s   detached CMS {:>8.0}/s",
                s["key"].as_str().unwrap(),
                s["pades_per_s"].as_f64().unwrap(),
                s["cms_per_s"].as_f64().unwrap()
            );
        }
    }
}
