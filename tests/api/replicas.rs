//! Several replicas on one PostgreSQL database with documents in S3 (moto): concurrent
//! clients through both, one replica killed mid-burst, and afterwards every application
//! submitted exactly once, every document's bytes in the bucket under their SHA-256, and
//! one audit chain over the records both wrote.

use std::ffi::OsStr;
use std::process::Command;
use std::time::Duration;

use kvota::api::pb;
use kvota::api::pb::employer_application_service_client::EmployerApplicationServiceClient;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::helpers::*;
use crate::moto::Moto;
use crate::postgres::Postgres;

/// BINs with valid check digits, one per client and round.
fn bin(n: u32) -> String {
    numbered_bin("0201400", n)
}

fn replica(dir: &std::path::Path, db: &str, moto: &Moto) -> ServedBinary {
    let mut envs: Vec<(&str, std::ffi::OsString)> = vec![
        ("KVOTA_DATA_DIR", dir.into()),
        ("KVOTA_CLOCK", BEFORE_DEADLINE.into()),
        ("KVOTA_DATABASE_URL", db.into()),
        ("KVOTA_DOCUMENTS_URL", "s3://kvota/docs".into()),
    ];
    envs.extend(moto.envs().into_iter().map(|(k, v)| (k, v.into())));
    let envs: Vec<(&str, &OsStr)> = envs.iter().map(|(k, v)| (*k, v.as_os_str())).collect();
    ServedBinary::start(&envs)
}

#[tokio::test]
async fn two_replicas_on_one_postgresql_and_s3_keep_every_write_once_through_a_kill() {
    let pg = Postgres::start();
    let moto = Moto::start("kvota").await;
    let dir = tempfile::tempdir().unwrap();
    // The first start makes the dev PKI the second shares.
    let a = replica(dir.path(), &pg.url(), &moto);
    let mut b = replica(dir.path(), &pg.url(), &moto);
    let (ca, cb) = (a.channel().await, b.channel().await);

    // One request id sent through both replicas at once makes one application.
    let mut once = sample_application();
    once.employer.as_mut().unwrap().bin = bin(9000);
    let create = |channel: tonic::transport::Channel, a: pb::Application| async move {
        EmployerApplicationServiceClient::new(channel)
            .create_application(pb::CreateApplicationRequest {
                application: Some(a),
                request_id: "replicas-once".into(),
            })
            .await
            .map(|r| r.into_inner().name)
    };
    let (x, y) = tokio::join!(create(ca.clone(), once.clone()), create(cb.clone(), once));
    assert_eq!(x.unwrap(), y.unwrap(), "one request id, one application");

    // 16 clients, 8 through each replica, create and submit as fast as they can.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(String, bool, char)>();
    let mut clients = Vec::new();
    for w in 0..16u32 {
        let (channel, via) = if w % 2 == 0 {
            (ca.clone(), 'a')
        } else {
            (cb.clone(), 'b')
        };
        let tx = tx.clone();
        clients.push(tokio::spawn(create_and_submit(
            channel,
            8,
            move |i| bin(w * 100 + i),
            move |name, submitted| {
                let _ = tx.send((name, submitted, via));
            },
        )));
    }
    drop(tx);
    // Replica b is killed once it has acknowledged a submission.
    let mut acknowledged = Vec::new();
    let b_submitted = tokio::time::timeout(Duration::from_secs(300), async {
        while let Some(ack) = rx.recv().await {
            let through_b = ack.1 && ack.2 == 'b';
            acknowledged.push(ack);
            if through_b {
                return true;
            }
        }
        false
    })
    .await;
    assert!(
        matches!(b_submitted, Ok(true)),
        "replica b acknowledged no submission"
    );
    b.child.kill().unwrap(); // SIGKILL
    b.child.wait().unwrap();
    for c in clients {
        c.await.unwrap();
    }
    while let Some(ack) = rx.recv().await {
        acknowledged.push(ack);
    }
    let submitted: Vec<&String> = acknowledged.iter().filter(|a| a.1).map(|a| &a.0).collect();
    // Replica a carried on: its 8 clients finished every round.
    let through_a = acknowledged.iter().filter(|a| a.1 && a.2 == 'a').count();
    assert_eq!(through_a, 8 * 8, "replica a kept serving");
    assert!(acknowledged.iter().any(|a| a.1 && a.2 == 'b'));

    // Every acknowledged write is there, read through the surviving replica; a document
    // submitted through b downloads through a, its bytes hashing to its name in S3.
    let mut c = EmployerApplicationServiceClient::new(ca.clone());
    for (name, was_submitted, _) in &acknowledged {
        let got = c
            .get_application(pb::GetApplicationRequest { name: name.clone() })
            .await
            .unwrap_or_else(|e| panic!("{name} was acknowledged but is lost: {e:?}"))
            .into_inner();
        if *was_submitted {
            assert_eq!(
                got.state,
                pb::application::State::Submitted as i32,
                "{name}"
            );
            assert!(!got.document.is_empty(), "{name}");
        }
    }
    let (name, _, _) = acknowledged.iter().find(|a| a.1 && a.2 == 'b').unwrap();
    let doc = c
        .get_application(pb::GetApplicationRequest { name: name.clone() })
        .await
        .unwrap()
        .into_inner()
        .document;
    let pdf = download_from(ca.clone(), &doc, pb::DocumentFormat::Pdf).await;
    assert!(pdf.starts_with(b"%PDF-"));

    // In the database: each submitted application once, with its document; each
    // document's bytes in the bucket, not in the row, under their SHA-256.
    let pool = sqlx::PgPool::connect(&pg.url()).await.unwrap();
    let rows = sqlx::query(
        "SELECT a.id, d.sha256, d.cms_sha256, d.in_object_store, length(d.pdf) AS in_row,
                d.pdf_size
           FROM applications a JOIN documents d ON d.id = a.document_id
          WHERE a.state = 'SUBMITTED'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(
        rows.len() >= submitted.len(),
        "{} < {}",
        rows.len(),
        submitted.len()
    );
    for r in &rows {
        let (sha, cms_sha): (String, String) = (r.get("sha256"), r.get("cms_sha256"));
        assert_eq!(r.get::<i64, _>("in_object_store"), 1);
        assert_eq!(r.get::<i32, _>("in_row"), 0);
        let pdf = moto
            .get(&format!("docs/documents/{sha}.pdf"))
            .await
            .unwrap_or_else(|| panic!("no object for {sha}"));
        assert_eq!(hex::encode(Sha256::digest(&pdf)), sha);
        assert_eq!(pdf.len() as i64, r.get::<i64, _>("pdf_size"));
        let cms = moto
            .get(&format!("docs/documents/{cms_sha}.p7s"))
            .await
            .unwrap();
        assert_eq!(hex::encode(Sha256::digest(&cms)), cms_sha);
    }
    let twice: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT resource FROM audit_records
            WHERE method LIKE '%SubmitApplication' GROUP BY resource HAVING count(*) <> 1) AS t",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(twice, 0, "an application submitted twice");
    let submits: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_records WHERE method LIKE '%SubmitApplication'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(submits as usize, rows.len());
    let bins: i64 = sqlx::query_scalar("SELECT count(*) FROM applications WHERE employer_bin = $1")
        .bind(bin(9000))
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(bins, 1);

    // One gap-free chain over the records both replicas wrote.
    let o = Command::new(env!("CARGO_BIN_EXE_kvota"))
        .args(["audit", "verify"])
        .env("KVOTA_DATABASE_URL", pg.url())
        .env("KVOTA_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("audit chain intact"), "{}", text(&o));

    // Without its object store, a submission is refused as UNAVAILABLE (retry) and
    // nothing is stored: the application stays a draft.
    drop(moto);
    let mut app = sample_application();
    app.employer.as_mut().unwrap().bin = bin(9100);
    let draft = c
        .create_application(pb::CreateApplicationRequest {
            application: Some(app),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let refused = c
        .submit_application(pb::SubmitApplicationRequest {
            name: draft.name.clone(),
            etag: draft.etag,
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::Unavailable, "{refused:?}");
    let after = c
        .get_application(pb::GetApplicationRequest { name: draft.name })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(after.state, pb::application::State::Draft as i32);
    assert!(after.document.is_empty());
    drop(a);
}
