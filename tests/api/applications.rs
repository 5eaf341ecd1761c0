//! Employer applications: the whole flow and every refusal of p. 6.

use kvota::api::pb;
use kvota::api::pb::WorkerCategory as C;
use tonic::Code;

use crate::helpers::*;

/// Almaty city's KATO code.
const ALMATY_CITY: &str = "750000000";

fn create_req(a: pb::Application, request_id: &str) -> pb::CreateApplicationRequest {
    pb::CreateApplicationRequest {
        application: Some(a),
        request_id: request_id.into(),
    }
}

#[tokio::test]
async fn a_draft_is_created_read_edited_submitted_and_sealed() {
    let app = TestApp::spawn().await;
    let created = app.create(sample_application()).await;
    assert!(created.name.starts_with("applications/"));
    assert_eq!(created.state, pb::application::State::Draft as i32);
    assert_eq!(created.lines.len(), 4);
    assert!(!created.etag.is_empty());
    assert!(created.document.is_empty());
    assert_eq!(
        created.employer.as_ref().unwrap().name,
        "ТОО «Ақжол Құрылыс»"
    );

    let got = app
        .applications()
        .get_application(pb::GetApplicationRequest {
            name: created.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got, created);

    let mut edited = created.clone();
    edited.lines[1].requested_count = 14;
    edited.justification.push_str(" Дополнено.");
    let updated = app
        .applications()
        .update_application(pb::UpdateApplicationRequest {
            application: Some(edited),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(updated.lines[1].requested_count, 14);
    assert_ne!(updated.etag, created.etag);

    let submitted = app.submit(&updated).await.expect("submitted");
    assert_eq!(submitted.state, pb::application::State::Submitted as i32);
    assert!(submitted.document.starts_with("documents/"));
    assert!(submitted.submit_time.is_some());

    let doc = app
        .documents()
        .get_document(pb::GetDocumentRequest {
            name: submitted.document.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(doc.kind, "APPENDIX_1");
    assert_eq!(doc.subject, submitted.name);
    assert_eq!(
        doc.title,
        "Заявка работодателя на привлечение иностранной рабочей силы на 2027 год"
    );
    assert_eq!(doc.signatures.len(), 2);
    assert_eq!(doc.signatures[0].bin, "990140000017");
    let pdf = app.download(&doc.name, pb::DocumentFormat::Pdf).await;
    assert_eq!(pdf.len() as u64, doc.size_bytes);
    assert_eq!(
        doc.sha256,
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&pdf))
    );

    // A submitted application is no longer a draft.
    let again = app.submit(&submitted).await.unwrap_err();
    assert_eq!(again.code(), Code::FailedPrecondition);
    let mut late_edit = submitted.clone();
    late_edit.justification = "другое".into();
    let err = app
        .applications()
        .update_application(pb::UpdateApplicationRequest {
            application: Some(late_edit),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);

    let listed = app
        .documents()
        .list_documents(pb::ListDocumentsRequest {
            subject: submitted.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.documents.len(), 1);
    assert_eq!(listed.documents[0].name, doc.name);
    app.stop().await;
}

#[tokio::test]
async fn every_bad_field_is_refused_with_its_path() {
    let app = TestApp::spawn().await;
    type Mutation = Box<dyn Fn(&mut pb::Application)>;
    let cases: Vec<(&str, Mutation)> = vec![
        (
            "application.employer.bin",
            Box::new(|a| a.employer.as_mut().unwrap().bin = "040140001237".into()),
        ),
        (
            "application.employer.bin",
            Box::new(|a| a.employer.as_mut().unwrap().bin = "90010130000".into()),
        ),
        (
            "application.employer.name",
            Box::new(|a| a.employer.as_mut().unwrap().name = " ".into()),
        ),
        (
            "application.employer.legal_address",
            Box::new(|a| a.employer.as_mut().unwrap().legal_address = "x".repeat(501)),
        ),
        (
            "application.region_code",
            Box::new(|a| a.region_code = "510000000".into()),
        ),
        (
            "application.region_code",
            Box::new(|a| a.region_code.clear()),
        ),
        ("application.quota_year", Box::new(|a| a.quota_year = 2026)),
        ("application.quota_year", Box::new(|a| a.quota_year = 2031)),
        ("application.lines", Box::new(|a| a.lines.clear())),
        (
            "application.lines",
            Box::new(|a| a.lines.iter_mut().for_each(|l| l.requested_count = 0)),
        ),
        (
            "application.lines[2].requested_count",
            Box::new(|a| a.lines[2].requested_count = 100_001),
        ),
        (
            "application.lines[0].current_count",
            Box::new(|a| a.lines[0].current_count = 100_001),
        ),
        (
            "application.lines[1].occupation_code",
            Box::new(|a| a.lines[1].occupation_code.clear()),
        ),
        (
            "application.lines[1].occupation_code",
            Box::new(|a| a.lines[1].occupation_code = "21420".into()),
        ),
        (
            "application.lines[3].occupation_name",
            Box::new(|a| a.lines[3].occupation_name.clear()),
        ),
        (
            "application.lines[0].category",
            Box::new(|a| a.lines[0].category = C::Unspecified as i32),
        ),
        (
            "application.lines[0].category",
            Box::new(|a| a.lines[0].category = 42),
        ),
        (
            "application.lines[1].occupation_code",
            Box::new(|a| a.lines[1] = a.lines[0].clone()),
        ),
        (
            "application.justification",
            Box::new(|a| a.justification = "\n ".into()),
        ),
        (
            "application.justification",
            Box::new(|a| a.justification = "я".repeat(20_001)),
        ),
        (
            "application.head_position",
            Box::new(|a| a.head_position.clear()),
        ),
        (
            "application.head_full_name",
            Box::new(|a| a.head_full_name = "a\u{0}b".into()),
        ),
        (
            "application.lines",
            Box::new(|a| a.lines = vec![a.lines[0].clone(); 501]),
        ),
    ];
    for (field, mutate) in cases {
        let mut a = sample_application();
        mutate(&mut a);
        let err = app
            .applications()
            .create_application(create_req(a, ""))
            .await
            .unwrap_err();
        assert_invalid(&err, field);
    }
    let err = app
        .applications()
        .create_application(pb::CreateApplicationRequest::default())
        .await
        .unwrap_err();
    assert_invalid(&err, "application");

    // Nothing was stored by any refusal.
    let all = app
        .applications()
        .list_applications(pb::ListApplicationsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(all.applications.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn an_individual_employer_files_with_an_iin() {
    let app = TestApp::spawn().await;
    let mut a = sample_application();
    a.employer = Some(pb::Employer {
        bin: "851231400120".into(),
        name: "Әбілова Гүлнұр Серікқызы".into(),
        legal_address: "г. Астана, ул. Сарыарқа, 5, кв. 7".into(),
    });
    a.region_code = "710000000".into();
    let created = app.create(a).await;
    let submitted = app.submit(&created).await.unwrap();
    assert!(!submitted.document.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn a_second_live_application_for_the_same_employer_region_and_year_already_exists() {
    let app = TestApp::spawn().await;
    let first = app.create(sample_application()).await;
    let err = app
        .applications()
        .create_application(create_req(sample_application(), ""))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::AlreadyExists, "{err:?}");
    assert_eq!(reason(&err), "ALREADY_EXISTS");

    // p. 6: an employer working in several regions files in each of them.
    let mut other_region = sample_application();
    other_region.region_code = "750000000".into();
    app.create(other_region).await;
    let mut other_year = sample_application();
    other_year.quota_year = 2028;
    let other_year = app.create(other_year).await;

    // Editing another draft into the taken slot is refused too, and changes nothing.
    let mut clash = other_year.clone();
    clash.quota_year = 2027;
    let err = app
        .applications()
        .update_application(pb::UpdateApplicationRequest {
            application: Some(clash),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::AlreadyExists);
    let unchanged = app
        .applications()
        .get_application(pb::GetApplicationRequest {
            name: other_year.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(unchanged, other_year);

    // Once withdrawn, the slot is free again.
    let withdrawn = app
        .applications()
        .withdraw_application(pb::WithdrawApplicationRequest {
            name: first.name.clone(),
            etag: first.etag.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(withdrawn.state, pb::application::State::Withdrawn as i32);
    app.create(sample_application()).await;
    let err = app
        .applications()
        .withdraw_application(pb::WithdrawApplicationRequest {
            name: withdrawn.name.clone(),
            etag: withdrawn.etag.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    app.stop().await;
}

#[tokio::test]
async fn a_repeated_request_id_returns_the_first_result() {
    let app = TestApp::spawn().await;
    let rid = "5f0c6f0e-8d7e-4f59-9a52-3b1c1e0e7a11";
    let first = app
        .applications()
        .create_application(create_req(sample_application(), rid))
        .await
        .unwrap()
        .into_inner();
    let second = app
        .applications()
        .create_application(create_req(sample_application(), rid))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first, second);
    let list = app
        .applications()
        .list_applications(pb::ListApplicationsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(list.applications.len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn a_stale_etag_is_aborted_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let created = app.create(sample_application()).await;
    let mut first_edit = created.clone();
    first_edit.head_position = "Генеральный директор".into();
    let updated = app
        .applications()
        .update_application(pb::UpdateApplicationRequest {
            application: Some(first_edit),
        })
        .await
        .unwrap()
        .into_inner();

    let mut stale = created.clone();
    stale.head_position = "Заместитель".into();
    let err = app
        .applications()
        .update_application(pb::UpdateApplicationRequest {
            application: Some(stale),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Aborted);
    let err = app.submit(&created).await.unwrap_err();
    assert_eq!(err.code(), Code::Aborted);

    let now = app
        .applications()
        .get_application(pb::GetApplicationRequest {
            name: created.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(now, updated);
    app.stop().await;
}

#[tokio::test]
async fn unknown_and_malformed_names_are_refused() {
    let app = TestApp::spawn().await;
    let err = app
        .applications()
        .get_application(pb::GetApplicationRequest {
            name: "applications/00000000-0000-0000-0000-000000000000".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    let err = app
        .applications()
        .get_application(pb::GetApplicationRequest {
            name: "apps/1".into(),
        })
        .await
        .unwrap_err();
    assert_invalid(&err, "name");
    let err = app
        .documents()
        .get_document(pb::GetDocumentRequest {
            name: "documents/nope".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    let err = app
        .documents()
        .download_document(pb::DownloadDocumentRequest {
            name: "documents/nope".into(),
            format: pb::DocumentFormat::Unspecified as i32,
        })
        .await
        .unwrap_err();
    assert_invalid(&err, "format");
    let err = app
        .applications()
        .submit_application(pb::SubmitApplicationRequest {
            name: "applications/missing".into(),
            etag: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    app.stop().await;
}

/// "До 1 октября" ends on 30 September; 30 September 2028 is a Saturday and 1 October a
/// Sunday, so the last day is Monday 2 October (Civil Code of the Republic of Kazakhstan,
/// art. 172) and applications for 2029 are refused only from 3 October.
#[tokio::test]
async fn an_application_submitted_on_monday_2_october_2028_is_in_time_for_2029() {
    let for_2029 = || pb::Application {
        quota_year: 2029,
        ..sample_application()
    };
    let app = TestApp::spawn_at("2028-10-02T23:59:59+05:00").await;
    let a = app.create(for_2029()).await;
    let submitted = app.submit(&a).await.expect("in time on the moved last day");
    assert_eq!(submitted.state, pb::application::State::Submitted as i32);

    // A second later the same employer's application for another region is late.
    app.set_clock("2028-10-03T00:00:00+05:00");
    let a = app
        .create(pb::Application {
            region_code: ALMATY_CITY.into(),
            ..for_2029()
        })
        .await;
    let err = app.submit(&a).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert_eq!(reason(&err), "SUBMISSION_DEADLINE_PASSED");
    let info = tonic_types::StatusExt::get_details_error_info(&err).unwrap();
    assert_eq!(info.metadata["deadline"], "2028-10-03T00:00:00+05:00");
    app.stop().await;
}

#[tokio::test]
async fn late_application_is_refused_after_1_october() {
    // The last second of 30 September in Almaty is still in time.
    let app = TestApp::spawn_at("2026-09-30T23:59:59+05:00").await;
    let a = app.create(sample_application()).await;
    let in_time = app.submit(&a).await.expect("in time");

    // One second later the same employer's application for another region is late.
    app.advance_clock(chrono::TimeDelta::seconds(1));
    let a = app
        .create(pb::Application {
            region_code: ALMATY_CITY.into(),
            ..sample_application()
        })
        .await;
    let err = app.submit(&a).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert_eq!(reason(&err), "SUBMISSION_DEADLINE_PASSED");
    assert!(
        err.message().contains("01.10.2026 00:00"),
        "{}",
        err.message()
    );
    let info = tonic_types::StatusExt::get_details_error_info(&err).unwrap();
    assert_eq!(info.metadata["deadline"], "2026-10-01T00:00:00+05:00");
    // The draft stays a draft, with no document.
    let still = app
        .applications()
        .get_application(pb::GetApplicationRequest {
            name: a.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(still, a);
    let docs = app
        .documents()
        .list_documents(pb::ListDocumentsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        docs.documents
            .iter()
            .map(|d| d.name.as_str())
            .collect::<Vec<_>>(),
        [in_time.document.as_str()],
        "only the application in time has a document"
    );
    assert!(docs.documents.iter().all(|d| d.subject != a.name));
    app.stop().await;
}

#[tokio::test]
async fn listing_filters_and_pages_through_applications() {
    let app = TestApp::spawn().await;
    let bins = [
        "900101300007",
        "851231400120",
        "000229600153",
        "880515300208",
        "061211600012",
    ];
    let mut names = Vec::new();
    for bin in bins {
        let mut a = sample_application();
        a.employer.as_mut().unwrap().bin = bin.into();
        names.push(app.create(a).await.name);
    }
    let mut other = sample_application();
    other.region_code = "790000000".into();
    app.create(other).await;

    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = app
            .applications()
            .list_applications(pb::ListApplicationsRequest {
                quota_year: 2027,
                region_code: "110000000".into(),
                page_size: 2,
                page_token: token.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert!(page.applications.len() <= 2);
        seen.extend(page.applications.into_iter().map(|a| a.name));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(seen, names);

    let by_bin = app
        .applications()
        .list_applications(pb::ListApplicationsRequest {
            employer_bin: "851231400120".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(by_bin.applications.len(), 1);
    let submitted = app
        .applications()
        .list_applications(pb::ListApplicationsRequest {
            state: pb::application::State::Submitted as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(submitted.applications.is_empty());

    let err = app
        .applications()
        .list_applications(pb::ListApplicationsRequest {
            quota_year: 2028,
            page_token: token_for_other_filter(&app).await,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_invalid(&err, "page_token");
    let err = app
        .applications()
        .list_applications(pb::ListApplicationsRequest {
            page_size: -1,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_invalid(&err, "page_size");
    let err = app
        .applications()
        .list_applications(pb::ListApplicationsRequest {
            employer_bin: "123".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_invalid(&err, "employer_bin");
    app.stop().await;
}

async fn token_for_other_filter(app: &TestApp) -> String {
    app.applications()
        .list_applications(pb::ListApplicationsRequest {
            page_size: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .next_page_token
}

#[tokio::test]
async fn concurrent_submits_and_edits_all_get_a_proper_answer() {
    let app = TestApp::spawn().await;
    let mut drafts = Vec::new();
    for bin in [
        "040140001236",
        "150840003210",
        "191140005559",
        "010140000024",
        "010140000034",
        "010140000044",
        "010140000054",
        "010140000064",
    ] {
        let mut a = sample_application();
        a.employer.as_mut().unwrap().bin = bin.into();
        drafts.push(app.create(a).await);
    }
    // Each draft is submitted and, at the same time, edited with the same etag: exactly
    // one of the two wins, the other is told why; nothing is an internal error.
    let mut tasks = Vec::new();
    for d in &drafts {
        let mut c = app.applications();
        let submit = pb::SubmitApplicationRequest {
            name: d.name.clone(),
            etag: d.etag.clone(),
        };
        tasks.push(tokio::spawn(async move {
            c.submit_application(submit).await.map(|_| ())
        }));
        let mut c = app.applications();
        let mut edited = d.clone();
        edited.justification.push_str(" (изменено)");
        tasks.push(tokio::spawn(async move {
            c.update_application(pb::UpdateApplicationRequest {
                application: Some(edited),
            })
            .await
            .map(|_| ())
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(()) => ok += 1,
            Err(e) => assert!(
                matches!(e.code(), Code::Aborted | Code::FailedPrecondition),
                "{e:?}"
            ),
        }
    }
    assert_eq!(ok, drafts.len(), "one of each pair wins");
    app.stop().await;
}

#[tokio::test]
async fn a_repeated_request_id_with_another_body_still_returns_the_first_result() {
    let app = TestApp::spawn().await;
    let rid = "9b2f0c1e-2f41-4d7a-8f0e-0a1b2c3d4e5f";
    let first = app
        .applications()
        .create_application(create_req(sample_application(), rid))
        .await
        .unwrap()
        .into_inner();
    let mut other = sample_application();
    other.region_code = "750000000".into();
    let again = app
        .applications()
        .create_application(create_req(other, rid))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again, first);
    app.stop().await;
}
