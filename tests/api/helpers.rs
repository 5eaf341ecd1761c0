//! Spawns the real service on a random port with its own SQLite file (or, with
//! `KVOTA_TEST_DB=postgres`, its own PostgreSQL database) and PKI, and connects real gRPC
//! clients to it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use kvota::api::pb;
use kvota::api::pb::body_service_client::BodyServiceClient;
use kvota::api::pb::calendar_service_client::CalendarServiceClient;
use kvota::api::pb::central_body_service_client::CentralBodyServiceClient;
use kvota::api::pb::document_service_client::DocumentServiceClient;
use kvota::api::pb::employer_application_service_client::EmployerApplicationServiceClient;
use kvota::api::pb::quota_service_client::QuotaServiceClient;
use kvota::api::pb::region_service_client::RegionServiceClient;
use kvota::api::pb::regional_service_client::RegionalServiceClient;
use kvota::clock::{Clock, ManualClock};
use kvota::config::Config;
use kvota::startup::Application;
use tonic::transport::Channel;
use tonic::{Code, Status};
use tonic_types::StatusExt;

/// A clock inside the filing window for quota year 2027.
pub const BEFORE_DEADLINE: &str = "2026-09-15T10:30:00+05:00";

pub struct TestApp {
    pub dir: tempfile::TempDir,
    pub root_pem: PathBuf,
    pub config: Config,
    pub channel: Channel,
    /// The public pages' address.
    pub web: Option<std::net::SocketAddr>,
    /// The service's clock when it was spawned at an instant: [`TestApp::set_clock`]
    /// moves it while the service runs.
    clock: Option<ManualClock>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

/// A test PKI: a root CA and a seal certificate issued by it, made fresh for each app.
pub fn test_pki(dir: &Path) -> kvota::sign::dev::DevSeal {
    kvota::sign::dev::ensure_dev_pki(dir, "990140000017").expect("test PKI")
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_at(BEFORE_DEADLINE).await
    }

    /// Spawns the service with its clock fixed at `clock`, the bodies' profiles set.
    pub async fn spawn_at(clock: &str) -> Self {
        let app = Self::spawn_unprofiled_at(clock).await;
        app.fill_body_profiles().await;
        app
    }

    /// A fresh service as the first start leaves it: the bodies' profiles have no heads.
    pub async fn spawn_unprofiled_at(clock: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let pki = test_pki(&dir.path().join("pki"));
        let mut config = Config {
            transport: kvota::config::Transport::Development,
            listen: "127.0.0.1:0".into(),
            http_listen: "127.0.0.1:0".into(),
            data_dir: dir.path().join("data"),
            clock: Some(clock.into()),
            ..Config::default()
        };
        config.signing.key_file = Some(pki.seal_key_pem.clone());
        config.signing.cert_file = Some(pki.seal_cert_pem.clone());
        config.signing.chain_file = Some(pki.chain_pem.clone());
        config.signing.trust_anchors = vec![pki.root_pem.clone()];
        // The service issues the test root's CRL, as it does the dev root's.
        config.signing.dev_root_key_file = Some(pki.root_pem.with_file_name("root.key.pem"));
        if crate::postgres::in_use() {
            config.database_url = Some(crate::postgres::fresh_database());
        }
        Self::spawn_with(dir, config, pki.root_pem).await
    }

    /// Spawns the service on `config`; a configured clock becomes a manual one, which
    /// starts at that instant and moves only by [`TestApp::set_clock`].
    pub async fn spawn_with(dir: tempfile::TempDir, config: Config, root_pem: PathBuf) -> Self {
        let manual = config
            .fixed_clock()
            .expect("a valid clock")
            .map(ManualClock::new);
        let clock = manual.map_or(Clock::System, Clock::Manual);
        let app = Application::build_with_clock(&config, clock)
            .await
            .expect("service builds");
        let addr = app.local_addr();
        let web = app.web_addr();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until(async {
            let _ = rx.await;
        }));
        let channel = Channel::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect()
            .await
            .expect("connects");
        Self {
            dir,
            root_pem,
            config,
            channel,
            web,
            clock: manual,
            shutdown: Some(tx),
            server: Some(server),
        }
    }

    /// The public pages' address (HTTP).
    pub fn web_addr(&self) -> std::net::SocketAddr {
        self.web.expect("the web pages are served")
    }

    pub fn quota(&self) -> QuotaServiceClient<Channel> {
        QuotaServiceClient::new(self.channel.clone())
    }

    pub fn applications(&self) -> EmployerApplicationServiceClient<Channel> {
        EmployerApplicationServiceClient::new(self.channel.clone())
    }

    pub fn documents(&self) -> DocumentServiceClient<Channel> {
        DocumentServiceClient::new(self.channel.clone())
            .max_decoding_message_size(64 * 1024 * 1024)
            .max_encoding_message_size(64 * 1024 * 1024)
    }

    pub fn regional(&self) -> RegionalServiceClient<Channel> {
        RegionalServiceClient::new(self.channel.clone())
    }

    pub fn calendar(&self) -> CalendarServiceClient<Channel> {
        CalendarServiceClient::new(self.channel.clone())
    }

    pub fn central(&self) -> CentralBodyServiceClient<Channel> {
        CentralBodyServiceClient::new(self.channel.clone())
    }

    pub fn regions(&self) -> RegionServiceClient<Channel> {
        RegionServiceClient::new(self.channel.clone())
    }

    pub fn bodies(&self) -> BodyServiceClient<Channel> {
        BodyServiceClient::new(self.channel.clone())
    }

    /// Sets every body's profile as the bodies do before a season: the region's
    /// employment department with its head, and the minister.
    pub async fn fill_body_profiles(&self) {
        let mut client = self.bodies();
        let bodies = client
            .list_bodies(pb::ListBodiesRequest {})
            .await
            .expect("ListBodies")
            .into_inner()
            .bodies;
        for b in bodies {
            let filled = if b.name == "bodies/ministry" {
                pb::Body {
                    head_position_ru:
                        "Министр труда и социальной защиты населения Республики Казахстан".into(),
                    head_full_name: "Ахметжанов Нұрлан Серікұлы".into(),
                    address_ru: "010000, г. Астана, ул. Мәңгілік Ел, 8".into(),
                    ..b
                }
            } else {
                pb::Body {
                    legal_name_ru: b.legal_name_ru.replace(
                        "Местный исполнительный орган ",
                        "Управление занятости и социальных программ ",
                    ),
                    head_position_ru: "Руководитель управления".into(),
                    head_full_name: "Қасымов Әлібек Нұрланұлы".into(),
                    address_ru: format!("{}, ул. Абая, 89", b.address_ru),
                    ..b
                }
            };
            client
                .update_body(pb::UpdateBodyRequest {
                    body: Some(filled),
                    update_mask: None,
                })
                .await
                .expect("UpdateBody");
        }
    }

    /// Moves the running service's clock to `clock` (RFC 3339), forwards or back: how a
    /// test lets time pass. The app must have been spawned at an instant.
    pub fn set_clock(&self, clock: &str) {
        let t = chrono::DateTime::parse_from_rfc3339(clock)
            .unwrap_or_else(|e| panic!("clock {clock:?}: {e}"))
            .to_utc();
        self.manual_clock().set(t);
    }

    /// Moves the running service's clock by `d`.
    pub fn advance_clock(&self, d: chrono::TimeDelta) {
        self.manual_clock().advance(d);
    }

    fn manual_clock(&self) -> ManualClock {
        self.clock
            .expect("the app runs on the system clock; spawn it at an instant to move its clock")
    }

    /// Stops this server and starts another on the same database and PKI with its clock
    /// at `clock`. To let time pass, [`TestApp::set_clock`] needs no restart; this stays
    /// for a test that means the restart.
    #[allow(dead_code)]
    pub async fn restart_at(self, clock: &str) -> Self {
        let clock = clock.to_owned();
        self.restart_with(move |c| c.clock = Some(clock)).await
    }

    /// Stops this server and starts another on the same database and PKI with its
    /// configuration changed by `change`.
    pub async fn restart_with(mut self, change: impl FnOnce(&mut Config)) -> Self {
        self.halt().await;
        let mut config = self.config.clone();
        // The next server goes on from the time this one had reached.
        if let Some(c) = self.clock {
            config.clock = Some(c.now().to_rfc3339());
        }
        change(&mut config);
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
        let root = self.root_pem.clone();
        Self::spawn_with(dir, config, root).await
    }

    async fn halt(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.server.take() {
            h.await.expect("server task").expect("server ran cleanly");
        }
    }

    /// Stops the server and waits for it.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.server.take() {
            h.await.expect("server task").expect("server ran cleanly");
        }
    }

    pub async fn create(&self, a: pb::Application) -> pb::Application {
        self.applications()
            .create_application(pb::CreateApplicationRequest {
                application: Some(a),
                request_id: String::new(),
            })
            .await
            .expect("created")
            .into_inner()
    }

    pub async fn submit(&self, a: &pb::Application) -> Result<pb::Application, Status> {
        self.applications()
            .submit_application(pb::SubmitApplicationRequest {
                name: a.name.clone(),
                etag: a.etag.clone(),
            })
            .await
            .map(|r| r.into_inner())
    }

    pub async fn download(&self, document: &str, format: pb::DocumentFormat) -> Vec<u8> {
        download_from(self.channel.clone(), document, format).await
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// A document's bytes, downloaded whole through `channel`.
pub async fn download_from(
    channel: Channel,
    document: &str,
    format: pb::DocumentFormat,
) -> Vec<u8> {
    let mut stream = DocumentServiceClient::new(channel)
        .download_document(pb::DownloadDocumentRequest {
            name: document.into(),
            format: format as i32,
        })
        .await
        .expect("download starts")
        .into_inner();
    let mut out = Vec::new();
    while let Some(chunk) = stream.message().await.expect("chunk") {
        out.extend_from_slice(&chunk.data);
    }
    out
}

/// A BIN with a valid check digit: a 7-digit `prefix`, then `n` (four digits), moved on by
/// 5,000 where the check digit cannot be made.
pub fn numbered_bin(prefix: &str, n: u32) -> String {
    match kvota::domain::Bin::complete(&format!("{prefix}{n:04}")) {
        Some(b) => b.as_str().to_owned(),
        None => numbered_bin(prefix, n + 5000),
    }
}

/// One client of a burst: creates and submits `rounds` applications through `channel`,
/// the employer of round `i` being `bin(i)`, as fast as it can. Each acknowledged step
/// goes to `ack` as (application name, submitted); the first refused call ends it.
pub async fn create_and_submit(
    channel: Channel,
    rounds: u32,
    bin: impl Fn(u32) -> String,
    ack: impl Fn(String, bool),
) {
    let mut c = EmployerApplicationServiceClient::new(channel);
    for i in 0..rounds {
        let mut a = sample_application();
        a.employer.as_mut().unwrap().bin = bin(i);
        let Ok(created) = c
            .create_application(pb::CreateApplicationRequest {
                application: Some(a),
                request_id: String::new(),
            })
            .await
        else {
            return;
        };
        let created = created.into_inner();
        ack(created.name.clone(), false);
        let Ok(_) = c
            .submit_application(pb::SubmitApplicationRequest {
                name: created.name.clone(),
                etag: created.etag,
            })
            .await
        else {
            return;
        };
        ack(created.name, true);
    }
}

pub fn line(
    code: &str,
    name: &str,
    category: pb::WorkerCategory,
    current: u32,
    requested: u32,
) -> pb::DemandLine {
    pb::DemandLine {
        occupation_code: code.into(),
        occupation_name: name.into(),
        category: category as i32,
        current_count: current,
        requested_count: requested,
    }
}

/// A complete application for 2027 in Akmola region, with Kazakh letters in it.
pub fn sample_application() -> pb::Application {
    use pb::WorkerCategory as C;
    pb::Application {
        quota_year: 2027,
        region_code: "110000000".into(),
        employer: Some(pb::Employer {
            bin: "040140001236".into(),
            name: "ТОО «Ақжол Құрылыс»".into(),
            legal_address: "Акмолинская область, г. Кокшетау, ул. Абая, 1".into(),
        }),
        lines: vec![
            line("1120", "Генеральный директор", C::First, 1, 1),
            line("2142", "Инженер-строитель", C::Third, 5, 12),
            line("7212", "Электрогазосварщик", C::Fourth, 8, 20),
            line("9312", "Дорожный рабочий", C::Seasonal, 0, 15),
        ],
        justification: "Строительство дороги «Көкшетау — Щучинск» по договору № 14-ҚҰ/2026; \
                        Әлібек, Ғалым, Нұрлан, Өмірзақ, Үміт, Һ, І обучаются для замены."
            .into(),
        head_position: "Директор".into(),
        head_full_name: "Сейтқали Әлихан Нұрұлы".into(),
        ..Default::default()
    }
}

/// The field paths of a status's BadRequest violations.
pub fn violated_fields(status: &Status) -> Vec<String> {
    status
        .get_details_bad_request()
        .map(|b| b.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default()
}

pub fn reason(status: &Status) -> String {
    status
        .get_details_error_info()
        .map(|e| e.reason)
        .unwrap_or_default()
}

pub fn assert_invalid(status: &Status, field: &str) {
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(
        violated_fields(status).iter().any(|f| f == field),
        "expected a violation of {field}, got {:?} ({})",
        violated_fields(status),
        status.message()
    );
    assert_eq!(reason(status), "INVALID_FIELD");
}

/// Runs an external verifier; a missing tool fails the test (CI installs them all).
pub fn tool(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} must be installed for this test: {e}"))
}

pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The `kvota` binary serving on a port the system chose; its address comes from its own
/// log line, so a test never talks to another test's server.
pub struct ServedBinary {
    pub child: std::process::Child,
    pub addr: String,
    log: std::sync::Arc<std::sync::Mutex<String>>,
}

impl ServedBinary {
    pub fn start(envs: &[(&str, &std::ffi::OsStr)]) -> Self {
        use std::io::BufRead;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_kvota"))
            .arg("serve")
            .env("KVOTA_LISTEN", "127.0.0.1:0")
            .env("KVOTA_HTTP_LISTEN", "127.0.0.1:0")
            .env("KVOTA_LOG_FORMAT", "json")
            .env("KVOTA_TRANSPORT", "development")
            .envs(envs.iter().map(|(k, v)| (*k, *v)))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let sink = log.clone();
        // Keeps draining stderr so the child never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line)
                    && v["fields"]["message"] == "kvota listening"
                    && let Some(addr) = v["fields"]["addr"].as_str()
                {
                    let _ = tx.send(addr.to_owned());
                }
                let mut sink = sink.lock().unwrap();
                sink.push_str(&line);
                sink.push('\n');
            }
        });
        let addr = match rx.recv_timeout(std::time::Duration::from_secs(60)) {
            Ok(addr) => addr,
            Err(_) => {
                let _ = child.kill();
                panic!("the service did not start: {}", log.lock().unwrap());
            }
        };
        Self { child, addr, log }
    }

    pub async fn channel(&self) -> Channel {
        Channel::from_shared(format!("http://{}", self.addr))
            .unwrap()
            .connect()
            .await
            .expect("connects")
    }

    /// What the service logged so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for ServedBinary {
    /// A test that ends (or fails) leaves no service running.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Empties a body's head's name (as a body that has not set its profile yet); returns
/// the profile as it was, for [`restore_head`].
pub async fn clear_head(app: &TestApp, name: &str) -> pb::Body {
    let mut client = app.bodies();
    let body = client
        .get_body(pb::GetBodyRequest { name: name.into() })
        .await
        .unwrap()
        .into_inner();
    let cleared = client
        .update_body(pb::UpdateBodyRequest {
            body: Some(pb::Body {
                head_full_name: String::new(),
                ..body.clone()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["head_full_name".into()],
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!cleared.profile_complete);
    pb::Body {
        etag: cleared.etag,
        ..body
    }
}

/// Sets a body's profile back to `body` (whose etag is current).
pub async fn restore_head(app: &TestApp, body: pb::Body) {
    app.bodies()
        .update_body(pb::UpdateBodyRequest {
            body: Some(body),
            update_mask: None,
        })
        .await
        .unwrap();
}
