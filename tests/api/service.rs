//! The process: health, reflection, the binary's commands and its shutdown.

use std::process::Command;
use std::time::Duration;

use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_reflection::pb::v1::ServerReflectionRequest;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

use crate::helpers::*;

#[tokio::test]
async fn health_reports_each_service_serving() {
    let app = TestApp::spawn().await;
    let mut health = HealthClient::new(app.channel.clone());
    for service in [
        "",
        "kvota.v1.EmployerApplicationService",
        "kvota.v1.DocumentService",
        "kvota.v1.RegionService",
        "kvota.v1.CalendarService",
        "kvota.v1.RegionalService",
        "kvota.v1.CentralBodyService",
        "kvota.v1.QuotaService",
        "kvota.v1.SigningService",
    ] {
        let status = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner()
            .status;
        assert_eq!(status, ServingStatus::Serving as i32, "{service}");
    }
    app.stop().await;
}

#[tokio::test]
async fn reflection_lists_the_services() {
    let app = TestApp::spawn().await;
    let mut client = ServerReflectionClient::new(app.channel.clone());
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = client
        .server_reflection_info(tokio_stream::iter(vec![request]))
        .await
        .unwrap()
        .into_inner();
    let response = responses.message().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("unexpected reflection response");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    for expected in [
        "kvota.v1.EmployerApplicationService",
        "kvota.v1.DocumentService",
        "kvota.v1.RegionService",
        "grpc.health.v1.Health",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} in {names:?}"
        );
    }
    app.stop().await;
}

#[test]
fn certs_dev_makes_a_root_and_a_seal_with_a_bin() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kvota"))
        .args(["certs", "dev", "--dir"])
        .arg(dir.path())
        .env("KVOTA_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let cert = dir.path().join("seal.cert.pem");
    let subject = tool(
        "openssl",
        &[
            "x509",
            "-noout",
            "-subject",
            "-nameopt",
            "RFC2253",
            "-in",
            cert.to_str().unwrap(),
        ],
    );
    let subject = text(&subject);
    assert!(subject.contains("OU=BIN000140000012"), "{subject}");
    let verify = tool(
        "openssl",
        &[
            "verify",
            "-CAfile",
            dir.path().join("root.pem").to_str().unwrap(),
            cert.to_str().unwrap(),
        ],
    );
    assert!(verify.status.success(), "{}", text(&verify));
}

#[tokio::test]
async fn the_binary_serves_with_its_own_dev_certificates_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut served = ServedBinary::start(&[("KVOTA_DATA_DIR", dir.path().as_os_str())]);
    let mut health = HealthClient::new(served.channel().await);
    let status = health
        .check(HealthCheckRequest::default())
        .await
        .unwrap()
        .into_inner()
        .status;
    assert_eq!(status, ServingStatus::Serving as i32);
    assert!(dir.path().join("kvota.db").exists());
    assert!(dir.path().join("certs/root.pem").exists());

    let pid = served.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let mut waited = 0;
    let status = loop {
        if let Some(s) = served.child.try_wait().unwrap() {
            break s;
        }
        assert!(waited < 100, "the service did not stop on SIGTERM");
        waited += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let stderr = served.log();
    assert!(status.success(), "{stderr}");
    assert!(stderr.contains("development certificates"), "{stderr}");
}

#[tokio::test]
async fn a_pkcs12_seal_from_configuration_signs_the_documents() {
    let dir = tempfile::tempdir().unwrap();
    let pki = test_pki(&dir.path().join("pki"));
    let mut chain = openssl::stack::Stack::new().unwrap();
    chain.push(pki.root_cert.clone()).unwrap();
    let p12 = openssl::pkcs12::Pkcs12::builder()
        .name("kvota seal")
        .pkey(pki.seal.key())
        .cert(pki.seal.cert())
        .ca(chain)
        .build2("s3cret")
        .unwrap()
        .to_der()
        .unwrap();
    let p12_path = dir.path().join("seal.p12");
    std::fs::write(&p12_path, p12).unwrap();
    let mut config = kvota::config::Config {
        transport: kvota::config::Transport::Development,
        listen: "127.0.0.1:0".into(),
        http_listen: "127.0.0.1:0".into(),
        data_dir: dir.path().join("data"),
        clock: Some(BEFORE_DEADLINE.into()),
        ..Default::default()
    };
    config.signing.pkcs12_file = Some(p12_path);
    config.signing.pkcs12_password = Some("s3cret".into());
    config.signing.trust_anchors = vec![pki.root_pem.clone()];
    let serial = pki.seal.serial_hex();
    let root = pki.root_pem.clone();
    let app = TestApp::spawn_with(dir, config, root).await;
    let created = app.create(sample_application()).await;
    let submitted = app.submit(&created).await.unwrap();
    let doc = app
        .documents()
        .get_document(kvota::api::pb::GetDocumentRequest {
            name: submitted.document,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(doc.signatures[0].certificate_serial, serial);
    // No development certificates were made when a seal is configured.
    assert!(!app.path("data/certs").exists());
    app.stop().await;
}

#[tokio::test]
async fn a_wrong_pkcs12_password_stops_the_start_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let pki = test_pki(&dir.path().join("pki"));
    let p12 = openssl::pkcs12::Pkcs12::builder()
        .name("kvota seal")
        .pkey(pki.seal.key())
        .cert(pki.seal.cert())
        .build2("right")
        .unwrap()
        .to_der()
        .unwrap();
    let p12_path = dir.path().join("seal.p12");
    std::fs::write(&p12_path, p12).unwrap();
    let mut config = kvota::config::Config {
        transport: kvota::config::Transport::Development,
        listen: "127.0.0.1:0".into(),
        http_listen: "127.0.0.1:0".into(),
        data_dir: dir.path().join("data"),
        ..Default::default()
    };
    config.signing.pkcs12_file = Some(p12_path);
    config.signing.pkcs12_password = Some("wrong".into());
    let err = match kvota::startup::Application::build(&config).await {
        Ok(_) => panic!("started with a wrong password"),
        Err(e) => format!("{e:#}"),
    };
    assert!(err.contains("PKCS#12"), "{err}");
}

/// Runs the binary in `cwd` with only `KVOTA_DATA_DIR` set among its settings.
fn kvota_in(
    cwd: &std::path::Path,
    data_dir: &std::path::Path,
    args: &[&str],
) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_kvota"))
        .args(args)
        .current_dir(cwd)
        .env_remove("KVOTA_CONFIG")
        .env_remove("KVOTA_DATABASE_URL")
        .env_remove("KVOTA_CLOCK")
        .env("KVOTA_DATA_DIR", data_dir)
        .output()
        .unwrap()
}

#[test]
fn the_ministry_is_registered_before_the_first_start_in_a_new_directory() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("var/kvota");
    let out = kvota_in(
        dir.path(),
        &data,
        &[
            "principals",
            "add",
            "--bin",
            "040140001236",
            "--role",
            "MINISTRY",
            "--note",
            "Министерство труда (приказ № 1)",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(data.join("kvota.db").exists());
    let out = kvota_in(dir.path(), &data, &["principals", "list"]);
    assert!(out.status.success(), "{}", text(&out));
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(
        listed
            .lines()
            .any(|l| l.contains("MINISTRY") && l.contains("BIN 040140001236")),
        "{listed}"
    );
    // The audit trail the command wrote holds.
    let out = kvota_in(dir.path(), &data, &["audit", "verify"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("intact: 1 records"), "{}", text(&out));
}

#[test]
fn audit_verify_and_backup_without_a_database_say_so_in_one_line_and_fail() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("nothing-here");
    for args in [&["audit", "verify"][..], &["backup", "x.db"][..]] {
        let out = kvota_in(dir.path(), &data, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", text(&out));
        let said = text(&out);
        assert_eq!(said.trim().lines().count(), 1, "{args:?}: {said}");
        assert!(
            said.contains(&format!(
                "no database at {}",
                data.join("kvota.db").display()
            )),
            "{args:?}: {said}"
        );
        // Neither leaves an empty database (or a copy) behind.
        assert!(!data.exists(), "{args:?}");
        assert!(!dir.path().join("x.db").exists(), "{args:?}");
    }
}
