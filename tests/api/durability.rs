//! Durability: a SIGKILL during a burst of writes loses no acknowledged write and leaves
//! no half-written document; a backup taken while serving restores.

use std::process::Command;
use std::time::Duration;

use kvota::api::pb;
use kvota::api::pb::employer_application_service_client::EmployerApplicationServiceClient;
use sqlx::Row;

use crate::helpers::*;

fn serve(dir: &std::path::Path) -> ServedBinary {
    ServedBinary::start(&[
        ("KVOTA_DATA_DIR", dir.as_os_str()),
        ("KVOTA_CLOCK", BEFORE_DEADLINE.as_ref()),
    ])
}

/// BINs with valid check digits, one per writer and round.
fn bin(n: u32) -> String {
    numbered_bin("0101400", n)
}

#[tokio::test]
async fn a_sigkill_during_a_burst_of_writes_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let mut served = serve(dir.path());
    let channel = served.channel().await;

    // Four clients create and submit applications as fast as they can.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(String, bool)>();
    let mut writers = Vec::new();
    for w in 0..4u32 {
        let tx = tx.clone();
        writers.push(tokio::spawn(create_and_submit(
            channel.clone(),
            1000,
            move |i| bin(w * 1000 + i),
            move |name, submitted| {
                let _ = tx.send((name, submitted));
            },
        )));
    }
    drop(tx);
    // Kill mid-burst, once a submission has been acknowledged: a fixed delay misses it on a
    // loaded machine.
    let mut acknowledged = Vec::new();
    let first_submitted = tokio::time::timeout(Duration::from_secs(120), async {
        while let Some(a) = rx.recv().await {
            let submitted = a.1;
            acknowledged.push(a);
            if submitted {
                return true;
            }
        }
        false
    })
    .await;
    assert!(
        matches!(first_submitted, Ok(true)),
        "no submission was acknowledged before the kill"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    served.child.kill().unwrap(); // SIGKILL
    served.child.wait().unwrap();
    for w in writers {
        let _ = w.await;
    }
    while let Some(a) = rx.recv().await {
        acknowledged.push(a);
    }
    assert!(
        acknowledged.iter().any(|(_, submitted)| *submitted),
        "some writes were acknowledged"
    );

    // Restarted on the same files, every acknowledged write is there.
    let mut served = serve(dir.path());
    let mut c = EmployerApplicationServiceClient::new(served.channel().await);
    for (name, submitted) in &acknowledged {
        let a = c
            .get_application(pb::GetApplicationRequest { name: name.clone() })
            .await
            .unwrap_or_else(|e| panic!("{name} was acknowledged but is lost: {e:?}"))
            .into_inner();
        if *submitted {
            assert_eq!(a.state, pb::application::State::Submitted as i32, "{name}");
            assert!(!a.document.is_empty());
        }
    }
    served.child.kill().unwrap();
    served.child.wait().unwrap();

    // The file is sound, and no document is half-written or orphaned.
    let url = format!("sqlite://{}", dir.path().join("kvota.db").display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let check: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(check, "ok");
    let rows = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM applications WHERE state = 'SUBMITTED' AND document_id IS NULL) AS missing,
                (SELECT COUNT(*) FROM documents d WHERE NOT EXISTS
                    (SELECT 1 FROM applications a WHERE a.document_id = d.id)) AS orphans,
                (SELECT COUNT(*) FROM documents WHERE length(pdf) = 0 OR length(cms) = 0) AS empty",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        (
            rows.get::<i64, _>("missing"),
            rows.get::<i64, _>("orphans"),
            rows.get::<i64, _>("empty")
        ),
        (0, 0, 0)
    );
}

#[tokio::test]
async fn a_backup_taken_while_serving_restores() {
    // `kvota backup` copies a SQLite file; PostgreSQL has pg_dump.
    crate::postgres::on_sqlite(backup_restores()).await;
}

async fn backup_restores() {
    let app = TestApp::spawn().await;
    let submitted = app
        .submit(&app.create(sample_application()).await)
        .await
        .unwrap();
    let copy = app.path("backup.db");
    let db = app.config.data_dir.join("kvota.db");
    let out = Command::new(env!("CARGO_BIN_EXE_kvota"))
        .arg("backup")
        .arg(&copy)
        .env("KVOTA_DATABASE_URL", format!("sqlite://{}", db.display()))
        .env("KVOTA_DATA_DIR", app.path("unused"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let again = Command::new(env!("CARGO_BIN_EXE_kvota"))
        .arg("backup")
        .arg(&copy)
        .env("KVOTA_DATABASE_URL", format!("sqlite://{}", db.display()))
        .output()
        .unwrap();
    assert!(
        !again.status.success(),
        "an existing file is not overwritten"
    );

    // A service on the copy has the application and its sealed document.
    let restored = app
        .restart_with(|c| c.database_url = Some(format!("sqlite://{}", copy.display())))
        .await;
    let got = restored
        .applications()
        .get_application(pb::GetApplicationRequest {
            name: submitted.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.document, submitted.document);
    let pdf = restored
        .download(&submitted.document, pb::DocumentFormat::Pdf)
        .await;
    assert!(pdf.starts_with(b"%PDF-"));
    restored.stop().await;
}

#[tokio::test]
async fn requests_over_a_limit_get_invalid_argument_and_the_service_carries_on() {
    let app = TestApp::spawn().await;
    let create = |a: pb::Application| pb::CreateApplicationRequest {
        application: Some(a),
        request_id: String::new(),
    };
    // A message over the 4 MiB request limit is refused before it is decoded.
    let mut big = sample_application();
    big.justification = "щ".repeat(3 * 1024 * 1024);
    let err = app
        .applications()
        .create_application(create(big))
        .await
        .unwrap_err();
    assert_invalid(&err, "request");
    assert!(err.message().contains("too large"), "{err:?}");
    // Within the message limit, the Rules' bounds: lines, text lengths, page size.
    let mut many = sample_application();
    many.lines = std::iter::repeat_n(many.lines[0].clone(), 501).collect();
    let err = app
        .applications()
        .create_application(create(many))
        .await
        .unwrap_err();
    assert_invalid(&err, "application.lines");
    let mut long = sample_application();
    long.justification = "a".repeat(20_001);
    let err = app
        .applications()
        .create_application(create(long))
        .await
        .unwrap_err();
    assert_invalid(&err, "application.justification");
    let err = app
        .applications()
        .list_applications(pb::ListApplicationsRequest {
            page_size: -1,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_invalid(&err, "page_size");
    // The service goes on serving.
    app.submit(&app.create(sample_application()).await)
        .await
        .unwrap();
    app.stop().await;
}
