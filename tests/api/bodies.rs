//! The state bodies' profiles (BodyService): seeded at the first start, edited with an
//! etag and a field mask, audited, and printed as the sender and signatory of every
//! document a body issues; a body without a head issues nothing.

use kvota::api::pb;
use kvota::api::pb::audit_service_client::AuditServiceClient;
use tonic::Code;

use crate::helpers::*;

const AKMOLA: &str = "110000000";

#[tokio::test]
async fn the_21_bodies_exist_from_the_first_start_without_heads() {
    let app = TestApp::spawn_unprofiled_at(BEFORE_DEADLINE).await;
    let bodies = app
        .bodies()
        .list_bodies(pb::ListBodiesRequest {})
        .await
        .unwrap()
        .into_inner()
        .bodies;
    assert_eq!(bodies.len(), 21);
    assert_eq!(bodies[0].name, "bodies/ministry");
    assert_eq!(
        bodies[0].legal_name_ru,
        "Министерство труда и социальной защиты населения Республики Казахстан"
    );
    assert!(bodies[0].region_code.is_empty());
    let akmola = bodies
        .iter()
        .find(|b| b.name == format!("bodies/{AKMOLA}"))
        .expect("Akmola's body");
    assert_eq!(akmola.region_code, AKMOLA);
    assert_eq!(
        akmola.legal_name_ru,
        "Местный исполнительный орган Акмолинской области"
    );
    assert_eq!(
        akmola.legal_name_kk,
        "Ақмола облысының жергілікті атқарушы органы"
    );
    for b in &bodies {
        assert!(b.head_position_ru.is_empty() && b.head_full_name.is_empty());
        assert!(!b.profile_complete, "{}", b.name);
        assert!(!b.etag.is_empty());
    }
    let one = app
        .bodies()
        .get_body(pb::GetBodyRequest {
            name: format!("bodies/{AKMOLA}"),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(&one, akmola);
    for bad in [
        "bodies/",
        "bodies/11000000",
        "regions/110000000",
        "bodies/Ministry",
    ] {
        let err = app
            .bodies()
            .get_body(pb::GetBodyRequest { name: bad.into() })
            .await
            .unwrap_err();
        assert_invalid(&err, "name");
    }
    let err = app
        .bodies()
        .get_body(pb::GetBodyRequest {
            name: "bodies/999999999".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    app.stop().await;
}

#[tokio::test]
async fn update_body_checks_the_etag_the_bin_and_the_names_and_is_audited() {
    let app = TestApp::spawn_unprofiled_at(BEFORE_DEADLINE).await;
    let mut c = app.bodies();
    let name = format!("bodies/{AKMOLA}");
    let before = c
        .get_body(pb::GetBodyRequest { name: name.clone() })
        .await
        .unwrap()
        .into_inner();
    let update = |body: pb::Body, paths: &[&str]| pb::UpdateBodyRequest {
        body: Some(body),
        update_mask: Some(prost_types::FieldMask {
            paths: paths.iter().map(|p| p.to_string()).collect(),
        }),
    };
    let filled = pb::Body {
        legal_name_ru: "Управление занятости и социальных программ Акмолинской области".into(),
        bin: "040140001236".into(),
        head_position_ru: "Руководитель управления".into(),
        head_full_name: "Қасымов Әлібек Нұрланұлы".into(),
        ..before.clone()
    };

    // A stale etag: ABORTED.
    let err = c
        .update_body(update(
            pb::Body {
                etag: "0123456789abcdef01234567".into(),
                ..filled.clone()
            },
            &[],
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Aborted, "{err:?}");
    // A BIN with a wrong check digit, an empty legal name, a field that is not editable.
    let err = c
        .update_body(update(
            pb::Body {
                bin: "040140001237".into(),
                ..filled.clone()
            },
            &["bin"],
        ))
        .await
        .unwrap_err();
    assert_invalid(&err, "body.bin");
    let err = c
        .update_body(update(
            pb::Body {
                legal_name_ru: "  ".into(),
                ..filled.clone()
            },
            &["legal_name_ru", "head_full_name"],
        ))
        .await
        .unwrap_err();
    assert_invalid(&err, "body.legal_name_ru");
    let err = c
        .update_body(update(filled.clone(), &["region_code"]))
        .await
        .unwrap_err();
    assert_invalid(&err, "update_mask.paths[0]");
    // Nothing of the refused updates was stored.
    let unchanged = c
        .get_body(pb::GetBodyRequest { name: name.clone() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(unchanged, before);

    // The mask limits the change: the head only.
    let headed = c
        .update_body(update(
            filled.clone(),
            &["head_position_ru", "head_full_name"],
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(headed.head_full_name, "Қасымов Әлібек Нұрланұлы");
    assert_eq!(headed.legal_name_ru, before.legal_name_ru);
    assert!(headed.bin.is_empty());
    assert!(headed.profile_complete);
    assert_ne!(headed.etag, before.etag);
    // The old etag is now stale.
    let err = c
        .update_body(update(filled.clone(), &["bin"]))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Aborted);
    let all = c
        .update_body(update(
            pb::Body {
                etag: headed.etag.clone(),
                ..filled.clone()
            },
            &[],
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(all.bin, "040140001236");
    assert_eq!(all.legal_name_ru, filled.legal_name_ru);

    // Each change is in the audit trail, under the body's region.
    let records = AuditServiceClient::new(app.channel.clone())
        .list_audit_records(pb::ListAuditRecordsRequest {
            region_code: AKMOLA.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .records;
    let ours: Vec<_> = records.iter().filter(|r| r.resource == name).collect();
    assert_eq!(ours.len(), 2, "{records:?}");
    assert!(
        ours.iter()
            .all(|r| r.method == "kvota.v1.BodyService/UpdateBody")
    );
    app.stop().await;
}

/// An Akmola employer's application, submitted, and a full approval by the Commission.
async fn decided_application(app: TestApp) -> (TestApp, pb::Application) {
    let a = app.create(sample_application()).await;
    let a = app.submit(&a).await.unwrap();
    app.set_clock("2026-10-14T10:00:00+05:00");
    app.regional()
        .set_commission_members(pb::SetCommissionMembersRequest {
            region_code: AKMOLA.into(),
            quota_year: 2027,
            members: crate::season::members(),
            ..Default::default()
        })
        .await
        .unwrap();
    app.regional()
        .record_commission_decision(pb::RecordCommissionDecisionRequest {
            application: a.name.clone(),
            outcome: pb::DecisionOutcome::Approved as i32,
            approved_counts: a.lines.iter().map(|l| l.requested_count).collect(),
            grounds: vec![],
            decided_on: "2026-10-14".into(),
            protocol_number: "3".into(),
            put_to_commission_on: String::new(),
        })
        .await
        .unwrap();
    (app, a)
}

#[tokio::test]
async fn a_body_without_a_head_issues_no_notice_and_with_one_signs_it_by_name() {
    let app = TestApp::spawn_unprofiled_at(BEFORE_DEADLINE).await;
    let (app, a) = decided_application(app).await;
    let notify = || pb::NotifyEmployerRequest {
        application: a.name.clone(),
    };
    let err = app.regional().notify_employer(notify()).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert_eq!(reason(&err), "BODY_PROFILE_INCOMPLETE");
    assert!(
        err.message().contains(&format!("bodies/{AKMOLA}")),
        "{err:?}"
    );
    let err = app
        .regional()
        .render_commission_protocol(pb::RenderCommissionProtocolRequest {
            region_code: AKMOLA.into(),
            quota_year: 2027,
            protocol_number: "3".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(reason(&err), "BODY_PROFILE_INCOMPLETE", "{err:?}");

    app.fill_body_profiles().await;
    let notice = app
        .regional()
        .notify_employer(notify())
        .await
        .unwrap()
        .into_inner();
    let pdf = app
        .download(&notice.document, pb::DocumentFormat::Pdf)
        .await;
    let path = app.path("notice.pdf");
    std::fs::write(&path, pdf).unwrap();
    let o = tool("pdftotext", &["-raw", path.to_str().unwrap(), "-"]);
    let text = String::from_utf8_lossy(&o.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for phrase in [
        "Управление занятости и социальных программ Акмолинской области",
        "г. Кокшетау, ул. Абая, 89",
        "Управление занятости и социальных программ Акмолинской области сообщает",
        "Руководитель управления",
        "Қасымов Әлібек Нұрланұлы",
        "Электронная печать:",
    ] {
        assert!(text.contains(phrase), "{phrase:?} missing from:\n{text}");
    }
    assert!(!text.contains("Руководитель Местный"), "{text}");
    assert!(!text.contains("Местный исполнительный орган ("), "{text}");
    app.stop().await;
}
