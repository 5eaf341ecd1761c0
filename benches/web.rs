//! The public pages under load (issue 13), in one process with the service: a season is
//! driven over gRPC (20 regions file, the quota is published and redistributed twice),
//! then an open-loop load generator asks for the decision page and the verification page
//! of the stored decision at a fixed rate on loopback, one connection per request, and
//! the latency of each is measured from its scheduled start (no coordinated omission).
//! Then uploads: the time to check a sealed PDF posted to its verification page.
//!
//! `cargo bench --bench web`. KVOTA_WEB_RATE sets the requests per second (default 200),
//! KVOTA_WEB_SECONDS the seconds per page (default 10), KVOTA_WEB_UPLOADS the uploads
//! timed (default 50).

#[allow(dead_code, unused_imports)]
#[path = "../tests/api/helpers.rs"]
mod helpers;
#[allow(dead_code)]
#[path = "../tests/api/http.rs"]
mod http;
#[allow(dead_code, unused_imports)]
#[path = "../tests/api/postgres.rs"]
mod postgres;
#[allow(dead_code, unused_imports, deprecated)]
#[path = "../tests/api/seed.rs"]
mod seed;

use std::time::{Duration, Instant};

use kvota::api::pb;

/// The allocator the service binary uses, so the figures are the service's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

/// GETs `path` at `rate` per second for `seconds`; prints p50, p99, max and the size.
async fn load(web: std::net::SocketAddr, label: &str, path: &str, rate: u64, seconds: u64) {
    let first = http::get(web, path).await;
    assert_eq!(first.status, 200, "{path}: {}", first.text());
    let interval = Duration::from_nanos(1_000_000_000 / rate);
    let start = Instant::now() + Duration::from_millis(50);
    let total = rate * seconds;
    let mut tasks = Vec::with_capacity(total as usize);
    for i in 0..total {
        let due = start + interval * i as u32;
        let path = path.to_owned();
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep_until(due.into()).await;
            let r = http::get(web, &path).await;
            assert_eq!(r.status, 200);
            due.elapsed()
        }));
    }
    let mut latencies = Vec::with_capacity(tasks.len());
    for t in tasks {
        latencies.push(t.await.expect("request task"));
    }
    let achieved = total as f64 / (Instant::now() - start).as_secs_f64();
    latencies.sort();
    println!(
        "{label:<34} {rate} req/s offered, {achieved:.0} served: p50 {}, p99 {}, max {}; page {} bytes",
        ms(percentile(&latencies, 0.50)),
        ms(percentile(&latencies, 0.99)),
        ms(*latencies.last().unwrap()),
        first.body.len()
    );
}

/// Posts `pdf` to `path` `n` times in turn; prints the median and p90 time per check.
async fn uploads(web: std::net::SocketAddr, label: &str, path: &str, pdf: &[u8], n: u64) {
    let mut times = Vec::new();
    for _ in 0..n {
        let t = Instant::now();
        let r = http::post_files(web, path, &[("pdf", "doc.pdf", pdf)]).await;
        times.push(t.elapsed());
        assert_eq!(r.status, 200, "{}", r.text());
        assert!(r.text().contains("TOTAL_PASSED"));
    }
    times.sort();
    println!(
        "{label:<34} {n} uploads of {} bytes: median {}, p90 {}",
        pdf.len(),
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.9))
    );
}

fn pages(pdf: &[u8]) -> usize {
    lopdf::Document::load_mem(pdf).map_or(0, |d| d.get_pages().len())
}

fn main() {
    kvota::startup::tune_allocator();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let rate = env_u64("KVOTA_WEB_RATE", 200).max(1);
        let seconds = env_u64("KVOTA_WEB_SECONDS", 10).max(1);
        let n = env_u64("KVOTA_WEB_UPLOADS", 50).max(1);
        let started = Instant::now();
        let (app, _q, _v1) = seed::three_versions().await;
        eprintln!("season driven in {:.1} s", started.elapsed().as_secs_f64());
        let web = app.web_addr();
        let latest = seed::latest_decision(&app).await;
        let url = seed::verification_url(&app, &latest.document).await;
        let code = url.rsplit('/').next().unwrap().to_owned();
        load(
            web,
            "decision page (v3)",
            "/decisions/2027/v/3?lang=ru",
            rate,
            seconds,
        )
        .await;
        load(
            web,
            "verification page (decision)",
            &format!("/v/{code}?lang=ru"),
            rate,
            seconds,
        )
        .await;
        load(web, "decisions list", "/decisions?lang=kk", rate, seconds).await;

        let decision = app
            .download(&latest.document, pb::DocumentFormat::Pdf)
            .await;
        uploads(
            web,
            &format!("upload: decision, {} pages", pages(&decision)),
            &format!("/v/{code}?lang=ru"),
            &decision,
            n,
        )
        .await;
        // An employer's Appendix 1 (the season's own, filed for Akmola).
        let docs = app
            .documents()
            .list_documents(pb::ListDocumentsRequest {
                subject: String::new(),
                page_size: 1,
                page_token: String::new(),
            })
            .await
            .unwrap()
            .into_inner()
            .documents;
        let first = &docs[0];
        let a1 = app.download(&first.name, pb::DocumentFormat::Pdf).await;
        let a1_path = first.verification_url.rsplit_once("/v/").unwrap().1;
        uploads(
            web,
            &format!("upload: {}, {} pages", first.kind, pages(&a1)),
            &format!("/v/{a1_path}?lang=ru"),
            &a1,
            n,
        )
        .await;
        app.stop().await;
    });
}
