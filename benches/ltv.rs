//! Signatures that outlive their certificates (issue 14), measured:
//!
//! 1. extending a sealed Appendix 1 to B-LT and to B-LTA with warm caches (the CRL
//!    fetched, the TSA `openssl ts -reply` on loopback, whose own round trip is measured
//!    apart: B-LTA asks it twice, for the document timestamp and the detached seal's);
//! 2. verifying a document with 10 signatures (the seal and nine parties, each with a
//!    signature timestamp) at B-LTA, with the network's answers and offline (the DSS only);
//! 3. a regional body completing 300 notices in one CompleteSignatures over gRPC.
//!
//! `cargo bench --bench ltv`. KVOTA_BENCH_RUNS sets the runs per case (default 30).

#[allow(dead_code, unused_imports)]
#[path = "../tests/api/batch.rs"]
mod batch;
#[allow(dead_code, unused_imports)]
#[path = "../tests/api/helpers.rs"]
mod helpers;
#[allow(dead_code, unused_imports)]
#[path = "../tests/api/party_helpers.rs"]
mod party_helpers;
#[allow(dead_code, unused_imports)]
#[path = "../tests/api/postgres.rs"]
mod postgres;
#[allow(dead_code, unused_imports)]
#[path = "../tests/api/timestamp_helpers.rs"]
mod timestamp_helpers;

use std::time::{Duration, Instant};

use chrono::Utc;
use kvota::api::pb;
use kvota::render::Renderer;
use kvota::sealing::{Extension, Sealer};
use kvota::sign::keys::KeyAlg;
use kvota::sign::verify::{self, AdesLevel, Indication, Trust};
use kvota::sign::{cms, pades, tsa};

/// The allocator the service binary uses, so the figures are the service's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn runs() -> usize {
    std::env::var("KVOTA_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30)
}

/// Runs `f` `n` times; prints and returns the median.
fn measure(label: &str, n: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..n)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    let p50 = times[times.len() / 2];
    println!(
        "{label:<62} p50 {:>8.2} ms   max {:>8.2} ms   ({n} runs)",
        p50.as_secs_f64() * 1e3,
        times[times.len() - 1].as_secs_f64() * 1e3
    );
    p50
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    kvota::startup::tune_allocator();
    let n = runs();
    let dir = tempfile::tempdir().unwrap();
    let ca = party_helpers::national_ca(dir.path());
    let tsa_dir = dir.path().join("tsa");
    std::fs::create_dir_all(&tsa_dir).unwrap();
    let tsa_url = timestamp_helpers::spawn_tsa(&tsa_dir, &(ca.key.clone(), ca.cert.clone()));
    let crl_dir = dir.path().join("crl");
    std::fs::create_dir_all(&crl_dir).unwrap();
    let crl_url = party_helpers::serve(party_helpers::crl_revoking(&ca, &crl_dir, &[]));
    let seal = party_helpers::party_named(
        &ca,
        "KVOTA TEST SEAL",
        "000140000012",
        party_helpers::HEAD,
        KeyAlg::Rsa(2048),
        true,
    );
    let sealer = Sealer::new(
        Renderer::new(None, None).unwrap(),
        seal,
        Trust::anchors(std::slice::from_ref(&ca.cert)),
    )
    .with_tsa(Some(tsa_url.clone()))
    .with_crl_urls(std::slice::from_ref(&crl_url));
    let data: serde_json::Value =
        serde_json::from_str(include_str!("../templates/sample/appendix1.json")).unwrap();
    let now = Utc::now();
    let issued = sealer
        .issue(
            "bench",
            "0123456789abcdef0123",
            "appendix1.typ",
            &data,
            "APPENDIX_1",
            "Заявление",
            "applications/bench",
            now,
        )
        .unwrap();
    let pdf = issued.pdf;
    println!("sealed Appendix 1 (B-T): {} bytes", pdf.len());

    // 1. Extension, warm: the CRL is fetched by the first.
    let lt = sealer.extend(&pdf, Extension::Lt, now).ok().unwrap();
    println!("extended to B-LT: {} bytes", lt.pdf.len());
    let t_lt = measure(
        "extend to B-LT (DSS + detached seal, warm caches)",
        n,
        || {
            sealer.extend(&pdf, Extension::Lt, now).ok().unwrap();
        },
    );
    let trust = sealer.trust_at(now);
    let t_dss = measure("  of which collect + DSS update alone", n, || {
        let c = kvota::sign::ltv::collect(&pdf, &trust).unwrap();
        kvota::sign::ltv::add_dss(&pdf, &c.data).unwrap().unwrap();
    });
    let digest = [7u8; 32];
    let t_tsa = measure("TSA round trip alone (openssl ts on loopback)", n, || {
        tsa::fetch_token(&tsa_url, &digest).unwrap();
    });
    let t_lta = measure(
        "extend to B-LTA (DSS, document timestamp, detached seal)",
        n,
        || {
            sealer.extend(&pdf, Extension::Lta, now).ok().unwrap();
        },
    );
    println!(
        "  B-LTA less its two TSA round trips: {:.2} ms (target 20 ms); B-LT: {:.2} ms; DSS alone {:.2} ms",
        ms(t_lta) - 2.0 * ms(t_tsa),
        ms(t_lt) - ms(t_tsa),
        ms(t_dss)
    );

    // 2. Ten signatures at B-LTA.
    let mut ten = pdf.clone();
    for k in 0..9 {
        let party = party_helpers::party_named(
            &ca,
            &format!("ПОДПИСАНТ {k}"),
            "040140001236",
            party_helpers::SIGNATORY,
            KeyAlg::Rsa(2048),
            true,
        );
        let prepared = pades::prepare_pdf(
            &ten,
            &pades::PadesOptions::new(format!("Signature{k}"), now.fixed_offset()),
        )
        .unwrap();
        let der = cms::sign_digest(
            &party,
            &prepared.digest,
            &cms::CmsSignOptions { signing_time: None },
        )
        .unwrap();
        let der = tsa::timestamp_cms(&der, &tsa_url).unwrap();
        ten = prepared.embed(&der).unwrap();
    }
    let ten = sealer.extend(&ten, Extension::Lta, now).ok().unwrap().pdf;
    let check = |reports: &[verify::SignatureReport]| {
        assert_eq!(reports.len(), 11);
        assert!(
            reports
                .iter()
                .all(|r| r.verdict().indication == Indication::TotalPassed),
            "{reports:#?}"
        );
        assert_eq!(
            reports
                .iter()
                .filter(|r| r.ades_level() == AdesLevel::BLta)
                .count(),
            10
        );
    };
    check(&verify::verify_pdf_with(&ten, &trust).unwrap());
    println!("10 signatures at B-LTA: {} bytes", ten.len());
    measure(
        "verify 10 signatures at B-LTA, CRLs at hand (target 300 ms)",
        n,
        || {
            check(&verify::verify_pdf_with(&ten, &trust).unwrap());
        },
    );
    let offline = Trust::anchors(std::slice::from_ref(&ca.cert));
    measure(
        "verify 10 signatures at B-LTA, offline (the DSS only)",
        n,
        || {
            check(&verify::verify_pdf_with(&ten, &offline).unwrap());
        },
    );

    // 3. 300 notices in one batch, over gRPC.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let (app, ca) = party_helpers::app_with_national_ca().await;
        let t = Instant::now();
        let documents = batch::notices(&app).await;
        println!(
            "300 employers filed, decided and notified in {:.1} s (setup)",
            t.elapsed().as_secs_f64()
        );
        let app = app
            .restart_with(|c| {
                c.signing
                    .regional_body_bins
                    .insert("110000000".into(), batch::BODY_BIN.into());
            })
            .await;
        let head = party_helpers::party(
            &ca,
            batch::BODY_BIN,
            party_helpers::HEAD,
            KeyAlg::Rsa(2048),
            true,
        );
        let t = Instant::now();
        let prepared = party_helpers::signing(&app)
            .prepare_signatures(pb::PrepareSignaturesRequest {
                documents,
                signer_certificate: head.cert().to_der().unwrap(),
            })
            .await
            .unwrap()
            .into_inner()
            .signatures;
        let prepare = t.elapsed();
        let completions: Vec<pb::SignatureCompletion> = prepared
            .iter()
            .map(|p| {
                let s = p.session.as_ref().unwrap();
                pb::SignatureCompletion {
                    session: s.name.clone(),
                    cms: party_helpers::token_sign(&head, s),
                }
            })
            .collect();
        let t = Instant::now();
        let done = party_helpers::signing(&app)
            .complete_signatures(pb::CompleteSignaturesRequest {
                completions,
                seal_after: false,
            })
            .await
            .unwrap()
            .into_inner()
            .signatures;
        let complete = t.elapsed();
        assert!(done.iter().all(|d| d.error.is_none()));
        println!(
            "{:<62} {:>8.2} s",
            "PrepareSignatures, 300 notices (one call)",
            prepare.as_secs_f64()
        );
        println!(
            "{:<62} {:>8.2} s   (target 10 s)",
            "CompleteSignatures, 300 notices (one call)",
            complete.as_secs_f64()
        );
        app.stop().await;
    });
}
