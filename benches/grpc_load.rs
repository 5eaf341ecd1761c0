//! End to end through gRPC on loopback: the service (real SQLite file, real rendering and
//! sealing) and a load generator using the project's own client, in one process.
//! `SubmitApplication` (Appendix 1 rendered, sealed with PAdES + CMS, stored) and
//! `DownloadDocument`, from 1, 8 and 64 concurrent clients: throughput and p50/p99.
//!
//! `cargo bench --bench grpc_load` (add `-- --json` for JSON lines). KVOTA_LOAD_SECONDS
//! sets the seconds per step (default 10); KVOTA_LOAD_CLIENTS the client counts ("1,8,64");
//! KVOTA_LOAD_DOWNLOADS=0 leaves the download steps out (to profile submitting alone).
//! KVOTA_LOAD_DATABASE_URL (e.g. `postgres://…`) and KVOTA_LOAD_DOCUMENTS_URL (`s3://…`)
//! choose the backends; KVOTA_LOAD_REPLICAS=2 serves from two services on that database,
//! the calls balanced over them. KVOTA_LOAD_TEMPLATES_DIR serves an operator's templates
//! (a template change measured under load). The CPU per operation is this process's: a PostgreSQL
//! server's own CPU is not in it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use kvota::api::pb;
use kvota::api::pb::document_service_client::DocumentServiceClient;
use kvota::api::pb::employer_application_service_client::EmployerApplicationServiceClient;
use serde_json::json;
use tonic::transport::Channel;

/// The allocator the service binary uses, so the figures are the service's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A BIN with a valid check digit, distinct for each `n`.
fn bin(n: u32) -> String {
    let mut n = n;
    loop {
        if let Some(b) = kvota::domain::Bin::complete(&format!("05{n:09}")) {
            return b.as_str().to_owned();
        }
        n += 500_000_000; // another prefix, never one another n reaches
    }
}

fn application(employer_bin: String) -> pb::Application {
    use pb::WorkerCategory as C;
    let line = |code: &str, name: &str, category: C, current, requested| pb::DemandLine {
        occupation_code: code.into(),
        occupation_name: name.into(),
        category: category as i32,
        current_count: current,
        requested_count: requested,
    };
    pb::Application {
        quota_year: 2027,
        region_code: "110000000".into(),
        employer: Some(pb::Employer {
            bin: employer_bin,
            name: "Товарищество с ограниченной ответственностью «Ақжол Құрылыс»".into(),
            legal_address: "Акмолинская область, г. Кокшетау, ул. Абая, д. 1".into(),
        }),
        lines: vec![
            line("1120", "Генеральный директор", C::First, 1, 1),
            line("2142", "Инженер-строитель", C::Third, 4, 10),
            line("7112", "Каменщик", C::Fourth, 0, 25),
        ],
        justification: "Строительство жилого комплекса; местных специалистов не хватает.".into(),
        head_position: "Директор".into(),
        head_full_name: "Сейтқали Әлихан Нұрланұлы".into(),
        ..Default::default()
    }
}

/// CPU time (user + system, all threads) this process has used: service and load
/// generator together. On a shared machine the CPU per operation varies far less than
/// the wall time.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses): utime and stime are the
    // 12th and 13th, in clock ticks (USER_HZ, 100 on Linux).
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<u64> = after
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    let ticks = fields.get(11).copied().unwrap_or(0) + fields.get(12).copied().unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

fn stats(mut t: Vec<Duration>, elapsed: Duration, cpu: Duration) -> serde_json::Value {
    t.sort();
    let p = |q: f64| t[((t.len() as f64 - 1.0) * q).round() as usize].as_secs_f64() * 1e3;
    json!({
        "ops": t.len(),
        "per_s": t.len() as f64 / elapsed.as_secs_f64(),
        "p50_ms": p(0.5), "p99_ms": p(0.99),
        "cpu_ms_per_op": cpu.as_secs_f64() * 1e3 / t.len().max(1) as f64,
    })
}

async fn submit_step(
    channel: &Channel,
    clients: usize,
    secs: u64,
    next: Arc<AtomicU32>,
) -> (serde_json::Value, Vec<String>) {
    let start = Instant::now();
    let cpu = cpu_time();
    let deadline = start + Duration::from_secs(secs);
    let mut tasks = vec![];
    for _ in 0..clients {
        let mut c = EmployerApplicationServiceClient::new(channel.clone());
        let next = next.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = vec![];
            let mut docs = vec![];
            while Instant::now() < deadline {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let created = c
                    .create_application(pb::CreateApplicationRequest {
                        application: Some(application(bin(n))),
                        request_id: String::new(),
                    })
                    .await
                    .unwrap()
                    .into_inner();
                let t = Instant::now();
                let submitted = c
                    .submit_application(pb::SubmitApplicationRequest {
                        name: created.name,
                        etag: created.etag,
                    })
                    .await
                    .unwrap()
                    .into_inner();
                lat.push(t.elapsed());
                docs.push(submitted.document);
            }
            (lat, docs)
        }));
    }
    let mut lat = vec![];
    let mut docs = vec![];
    for t in tasks {
        let (l, d) = t.await.unwrap();
        lat.extend(l);
        docs.extend(d);
    }
    (stats(lat, start.elapsed(), cpu_time() - cpu), docs)
}

async fn download_step(
    channel: &Channel,
    clients: usize,
    secs: u64,
    docs: Arc<Vec<String>>,
) -> serde_json::Value {
    let start = Instant::now();
    let cpu = cpu_time();
    let deadline = start + Duration::from_secs(secs);
    let mut tasks = vec![];
    for k in 0..clients {
        let mut c = DocumentServiceClient::new(channel.clone());
        let docs = docs.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = vec![];
            let mut i = k;
            while Instant::now() < deadline {
                let t = Instant::now();
                let mut s = c
                    .download_document(pb::DownloadDocumentRequest {
                        name: docs[i % docs.len()].clone(),
                        format: pb::DocumentFormat::Pdf as i32,
                    })
                    .await
                    .unwrap()
                    .into_inner();
                let mut bytes = 0;
                while let Some(chunk) = s.message().await.unwrap() {
                    bytes += chunk.data.len();
                }
                assert!(bytes > 10_000);
                lat.push(t.elapsed());
                i += clients;
            }
            lat
        }));
    }
    let mut lat = vec![];
    for t in tasks {
        lat.extend(t.await.unwrap());
    }
    stats(lat, start.elapsed(), cpu_time() - cpu)
}

fn main() {
    kvota::startup::tune_allocator();
    let args: Vec<String> = std::env::args().collect();
    let as_json = args.iter().any(|a| a == "--json");
    let secs: u64 = std::env::var("KVOTA_LOAD_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let clients: Vec<usize> = std::env::var("KVOTA_LOAD_CLIENTS")
        .unwrap_or_else(|_| "1,8,64".into())
        .split(',')
        .map(|c| c.trim().parse().unwrap())
        .collect();
    let downloads = std::env::var("KVOTA_LOAD_DOWNLOADS").map_or(true, |v| v != "0");
    // RUST_LOG=info shows the service's own log (e.g. render + seal millis per document).
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .init();
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let config = kvota::config::Config {
            listen: "127.0.0.1:0".into(),
            http_listen: "127.0.0.1:0".into(),
            data_dir: dir.path().to_path_buf(),
            clock: Some("2026-09-15T10:30:00+05:00".into()),
            transport: kvota::config::Transport::Development,
            database_url: std::env::var("KVOTA_LOAD_DATABASE_URL").ok(),
            documents_url: std::env::var("KVOTA_LOAD_DOCUMENTS_URL").ok(),
            templates_dir: std::env::var_os("KVOTA_LOAD_TEMPLATES_DIR").map(Into::into),
            ..Default::default()
        };
        // Replicas on one database (PostgreSQL), the clients' calls spread over them.
        let replicas: usize = std::env::var("KVOTA_LOAD_REPLICAS")
            .map_or(1, |v| v.parse().expect("KVOTA_LOAD_REPLICAS is a number"));
        let mut endpoints = Vec::new();
        for _ in 0..replicas {
            let app = kvota::startup::Application::build(&config).await.unwrap();
            let addr = app.local_addr();
            tokio::spawn(app.run_until(std::future::pending()));
            endpoints.push(Channel::from_shared(format!("http://{addr}")).unwrap());
        }
        let channel = if replicas == 1 {
            endpoints.pop().unwrap().connect().await.unwrap()
        } else {
            Channel::balance_list(endpoints.into_iter())
        };
        let next = Arc::new(AtomicU32::new(1));
        // Warm-up: fonts, the database file, connections.
        let (_, mut all_docs) = submit_step(&channel, 2, 1, next.clone()).await;
        for &n in &clients {
            let (s, docs) = submit_step(&channel, n, secs, next.clone()).await;
            all_docs.extend(docs);
            let d = if downloads {
                download_step(&channel, n, secs, Arc::new(all_docs.clone())).await
            } else {
                json!({"ops": 0, "per_s": 0.0, "p50_ms": 0.0, "p99_ms": 0.0, "cpu_ms_per_op": 0.0})
            };
            if as_json {
                println!("{}", json!({"clients": n, "submit": s, "download": d}));
            } else {
                println!(
                    "{n:>3} clients  SubmitApplication {:>7.1}/s p50 {:>7.2} ms p99 {:>7.2} ms cpu {:>5.2} ms/op | DownloadDocument {:>7.1}/s p50 {:>6.2} ms p99 {:>6.2} ms",
                    s["per_s"].as_f64().unwrap(),
                    s["p50_ms"].as_f64().unwrap(),
                    s["p99_ms"].as_f64().unwrap(),
                    s["cpu_ms_per_op"].as_f64().unwrap(),
                    d["per_s"].as_f64().unwrap(),
                    d["p50_ms"].as_f64().unwrap(),
                    d["p99_ms"].as_f64().unwrap(),
                );
            }
        }
    });
}
