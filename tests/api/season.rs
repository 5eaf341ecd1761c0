//! A whole region's season through the real server (p. 6–17): ten employers file, the
//! Commission decides (one full, one partial, one rejected on each ground), notices go
//! out (one late), the region files Appendices 2–4, and every document verifies.

use kvota::api::pb;
use kvota::api::pb::WorkerCategory as C;
use tonic::Code;

use crate::helpers::*;

const AKMOLA: &str = "110000000";

/// Synthetic BINs with valid check digits (registration 04/2001, legal entities).
const BINS: [&str; 10] = [
    "040140001236",
    "150840003210",
    "191140005559",
    "010140000024",
    "010140000034",
    "010140000044",
    "010140000054",
    "010140000064",
    "010140000074",
    "010140000084",
];

fn employer_application(i: usize) -> pb::Application {
    let mut a = sample_application();
    a.employer = Some(pb::Employer {
        bin: BINS[i].into(),
        name: format!("ТОО «Құрылыс-{i}»"),
        legal_address: format!("г. Кокшетау, ул. Абая, {}", i + 1),
    });
    a.lines = vec![
        line("2142", "Инженер-строитель", C::Third, 2, 10),
        line("7212", "Электрогазосварщик", C::Fourth, 1, 6),
    ];
    a
}

pub(crate) fn members() -> Vec<pb::CommissionMember> {
    use pb::CommissionMemberKind as K;
    let m = |name: &str, pos: &str, org: &str, kind: K, role: &str| pb::CommissionMember {
        full_name: name.into(),
        position: pos.into(),
        organisation: org.into(),
        kind: kind as i32,
        role: role.into(),
    };
    vec![
        m(
            "Жұмабаев Ерлан",
            "заместитель акима",
            "Акимат Акмолинской области",
            K::LocalExecutiveBody,
            "Председатель",
        ),
        m(
            "Сәрсенова Әйгерім",
            "начальник отдела",
            "Департамент полиции Акмолинской области",
            K::InternalAffairs,
            "Член комиссии",
        ),
        m(
            "Қасымов Нұрлан",
            "руководитель",
            "Управление образования Акмолинской области",
            K::Education,
            "Член комиссии",
        ),
        m(
            "Ильина Ольга",
            "руководитель",
            "Управление предпринимательства Акмолинской области",
            K::Entrepreneurship,
            "Член комиссии",
        ),
        m(
            "Омаров Бауыржан",
            "руководитель",
            "Департамент Комитета труда по Акмолинской области",
            K::LabourTerritorialUnit,
            "Член комиссии",
        ),
        m(
            "Ғалымов Асқар",
            "директор",
            "Палата предпринимателей Акмолинской области",
            K::ChamberOfEntrepreneurs,
            "Член комиссии",
        ),
        m(
            "Петрова Анна",
            "главный специалист",
            "Управление занятости Акмолинской области",
            K::LocalExecutiveBody,
            "Секретарь",
        ),
    ]
}

fn assessment() -> pb::RegionalAssessment {
    pb::RegionalAssessment {
        region_code: AKMOLA.into(),
        quota_year: 2027,
        labour_demand: 5200,
        planned_jobs_national_projects: 1300,
        demand_text: "Строительство дорог по национальному проекту.".into(),
        forecast_unemployed: 8100,
        forecast_released: 900,
        forecast_graduates: 2100,
        forecast_text: "Выпускники колледжей — строители.".into(),
        local_coverage: 3100,
        local_coverage_text: "Обучение безработных сварщиков.".into(),
        efficiency_text: "Квота 2026 года использована на 87 %.".into(),
        immigrant_demand_text: "Спрос домохозяйств.".into(),
        immigrant_forecast_text: "Прогноз стабилен.".into(),
        immigrant_efficiency_text: "Использовано 92 %.".into(),
        justification: "Потребность обоснована дефицитом инженеров-строителей (пункт 7 Правил)."
            .into(),
        ..Default::default()
    }
}

fn decision(
    app: &pb::Application,
    outcome: pb::DecisionOutcome,
    approved: &[u32],
    grounds: &[pb::RejectionGround],
    on: &str,
) -> pb::RecordCommissionDecisionRequest {
    pb::RecordCommissionDecisionRequest {
        application: app.name.clone(),
        outcome: outcome as i32,
        approved_counts: approved.to_vec(),
        grounds: grounds.iter().map(|g| *g as i32).collect(),
        decided_on: on.into(),
        protocol_number: "7".into(),
        put_to_commission_on: String::new(),
    }
}

/// Checks a sealed PDF with pdfsig, pyHanko and, with its CMS, openssl; returns its text.
async fn verify_everywhere(app: &TestApp, document: &str) -> String {
    let pdf = app.download(document, pb::DocumentFormat::Pdf).await;
    let cms = app.download(document, pb::DocumentFormat::Cms).await;
    let id = document.trim_start_matches("documents/");
    let pdf_path = app.path(&format!("{id}.pdf"));
    let cms_path = app.path(&format!("{id}.p7s"));
    std::fs::write(&pdf_path, &pdf).unwrap();
    std::fs::write(&cms_path, &cms).unwrap();
    let (p, c, root) = (
        pdf_path.to_str().unwrap(),
        cms_path.to_str().unwrap(),
        app.root_pem.to_str().unwrap(),
    );
    let o = tool("pdfsig", &[p]);
    assert!(
        text(&o).contains("Signature Validation: Signature is Valid."),
        "{}",
        text(&o)
    );
    let o = tool(
        "pyhanko",
        &["sign", "validate", "--trust", root, "--trust-replace", p],
    );
    assert!(
        o.status.success() && text(&o).contains("INTACT:TRUSTED,UNTOUCHED"),
        "{}",
        text(&o)
    );
    let o = tool(
        "openssl",
        &[
            "cms",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            c,
            "-content",
            p,
            "-CAfile",
            root,
            "-purpose",
            "any",
            "-out",
            "/dev/null",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = tool("pdftotext", &["-raw", p, "-"]);
    String::from_utf8_lossy(&o.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn assert_has(text: &str, phrases: &[&str]) {
    for p in phrases {
        assert!(text.contains(p), "{p:?} missing from:\n{text}");
    }
}

/// 20 September 2026: ten employers file for 2027.
async fn ten_employers_file() -> (TestApp, Vec<pb::Application>) {
    let app = TestApp::spawn_at("2026-09-20T11:00:00+05:00").await;
    let mut apps = Vec::new();
    for i in 0..10 {
        let created = app.create(employer_application(i)).await;
        apps.push(app.submit(&created).await.unwrap());
    }
    (app, apps)
}

/// What the region sets on 9 October.
struct RegionalData {
    assessment: pb::RegionalAssessment,
    origin: pb::OriginCountryQuota,
}

/// 9 October: the assessment, the Commission, Appendices 3 and 4 data.
async fn regional_data_of_9_october(app: &TestApp) -> RegionalData {
    app.set_clock("2026-10-09T10:00:00+05:00");
    let assessment = app
        .regional()
        .set_regional_assessment(pb::SetRegionalAssessmentRequest {
            assessment: Some(assessment()),
        })
        .await
        .unwrap()
        .into_inner();
    app.regional()
        .set_commission_members(pb::SetCommissionMembersRequest {
            region_code: AKMOLA.into(),
            quota_year: 2027,
            members: members(),
            ..Default::default()
        })
        .await
        .unwrap();
    app.regional()
        .set_labour_immigrant_need(pb::SetLabourImmigrantNeedRequest {
            region_code: AKMOLA.into(),
            quota_year: 2027,
            current_count: 1200,
            need: 1450,
            justification: "Спрос домохозяйств на помощников по хозяйству (пункт 15 Правил)."
                .into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let origin = app
        .regional()
        .set_origin_country_quota(pb::SetOriginCountryQuotaRequest {
            region_code: AKMOLA.into(),
            quota_year: 2027,
            rows: vec![
                pb::OriginCountryRow {
                    country_code: "uz".into(),
                    counts: Some(pb::CategoryCounts {
                        third: 20,
                        fourth: 35,
                        seasonal: 10,
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                pb::OriginCountryRow {
                    country_code: "KG".into(),
                    counts: Some(pb::CategoryCounts {
                        second: 2,
                        fourth: 12,
                        ..Default::default()
                    }),
                    ..Default::default()
                },
            ],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    RegionalData { assessment, origin }
}

/// The Commission's decisions recorded on 16 October.
struct Decisions {
    full: pb::CommissionDecision,
    partial: pb::CommissionDecision,
    late_one: pb::CommissionDecision,
}

/// 16 October: the Commission's decisions of 14 October (one full, one partial, one
/// rejected on each ground, four more full), and one of 16 October (late, p. 8).
async fn decisions_of_16_october(app: &TestApp, apps: &[pb::Application]) -> Decisions {
    app.set_clock("2026-10-16T15:00:00+05:00");
    use pb::DecisionOutcome as O;
    use pb::RejectionGround as G;
    let decide = |req| {
        let mut c = app.regional();
        async move {
            c.record_commission_decision(req)
                .await
                .unwrap()
                .into_inner()
        }
    };
    let full = decide(decision(&apps[0], O::Approved, &[10, 6], &[], "2026-10-14")).await;
    let partial = decide(decision(
        &apps[1],
        O::PartiallyApproved,
        &[4, 6],
        &[G::LocalLabourAvailable],
        "2026-10-14",
    ))
    .await;
    decide(decision(
        &apps[2],
        O::Rejected,
        &[0, 0],
        &[G::LocalLabourAvailable],
        "2026-10-14",
    ))
    .await;
    decide(decision(
        &apps[3],
        O::Rejected,
        &[0, 0],
        &[G::PermitViolations],
        "2026-10-14",
    ))
    .await;
    decide(decision(
        &apps[4],
        O::Rejected,
        &[0, 0],
        &[G::LabourLawViolations],
        "2026-10-14",
    ))
    .await;
    for a in &apps[5..9] {
        decide(decision(a, O::Approved, &[10, 6], &[], "2026-10-14")).await;
    }
    let late_one = decide(decision(&apps[9], O::Approved, &[10, 6], &[], "2026-10-16")).await;
    Decisions {
        full,
        partial,
        late_one,
    }
}

/// 16 October: notices to the first nine employers.
async fn notices_of_16_october(app: &TestApp, apps: &[pb::Application]) -> Vec<pb::DocumentRef> {
    let mut c = app.regional();
    let mut notices = Vec::new();
    for a in &apps[..9] {
        let n = c
            .notify_employer(pb::NotifyEmployerRequest {
                application: a.name.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        notices.push(n);
    }
    notices
}

/// 27 October: the notice to the last employer (due 23 October).
async fn notice_of_27_october(app: &TestApp, apps: &[pb::Application]) -> pb::DocumentRef {
    app.set_clock("2026-10-27T09:00:00+05:00");
    app.regional()
        .notify_employer(pb::NotifyEmployerRequest {
            application: apps[9].name.clone(),
        })
        .await
        .unwrap()
        .into_inner()
}

/// The season up to 27 October: ten applications filed and decided, every notice out.
struct Season {
    app: TestApp,
    apps: Vec<pb::Application>,
    notices: Vec<pb::DocumentRef>,
}

async fn season_to_27_october() -> Season {
    let (app, apps) = ten_employers_file().await;
    regional_data_of_9_october(&app).await;
    decisions_of_16_october(&app, &apps).await;
    let mut notices = notices_of_16_october(&app, &apps).await;
    notices.push(notice_of_27_october(&app, &apps).await);
    Season { app, apps, notices }
}

/// Files Akmola's Appendices 2–4 (on 27 October, after the whole season).
async fn file(app: &TestApp) -> Result<pb::RegionalFiling, tonic::Status> {
    app.regional()
        .file_with_ministry(pb::FileWithMinistryRequest {
            region_code: AKMOLA.into(),
            quota_year: 2027,
        })
        .await
        .map(|r| r.into_inner())
}

#[tokio::test]
async fn by_9_october_the_region_sets_its_assessment_commission_and_appendix_data_in_time() {
    let (app, _) = ten_employers_file().await;
    let data = regional_data_of_9_october(&app).await;
    assert!(!data.assessment.late);
    assert_eq!(data.origin.rows[0].country_name_ru, "Республика Узбекистан");
    app.stop().await;
}

#[tokio::test]
async fn the_commission_decides_by_14_october_in_time_and_on_16_october_late() {
    let (app, apps) = ten_employers_file().await;
    regional_data_of_9_october(&app).await;
    let d = decisions_of_16_october(&app, &apps).await;
    assert!(!d.full.late_to_commission);
    // 14 Oct (Wed) + 5 working days: 15, 16, 19, 20, 21 October.
    assert_eq!(d.full.notice_due_date, "2026-10-21");
    assert!(d.late_one.late_to_commission);
    // 16 Oct (Fri) + 5 working days: 19–23 October.
    assert_eq!(d.late_one.notice_due_date, "2026-10-23");
    assert_eq!(d.partial.approved_counts, [4, 6]);

    // A second decision on an application is refused.
    let err = app
        .regional()
        .record_commission_decision(decision(
            &apps[0],
            pb::DecisionOutcome::Approved,
            &[10, 6],
            &[],
            "2026-10-14",
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::AlreadyExists);
    app.stop().await;
}

#[tokio::test]
async fn notices_go_out_once_and_the_late_one_is_issued_and_listed_overdue() {
    let (app, apps) = ten_employers_file().await;
    regional_data_of_9_october(&app).await;
    decisions_of_16_october(&app, &apps).await;

    // Notices for all but one, in time; a second notice is refused.
    for n in notices_of_16_october(&app, &apps).await {
        assert!(!n.late, "{n:?}");
    }
    let err = app
        .regional()
        .notify_employer(pb::NotifyEmployerRequest {
            application: apps[0].name.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::AlreadyExists);

    // 27 October: the last notice is late (due 23 October) but still issued.
    let late_notice = notice_of_27_october(&app, &apps).await;
    assert!(late_notice.late);
    assert_eq!(late_notice.due_date, "2026-10-23");

    let overdue = app
        .calendar()
        .list_overdue(pb::ListOverdueRequest {
            quota_year: 2027,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .items;
    let late_notice_item = overdue
        .iter()
        .find(|i| i.step == "EMPLOYER_NOTICE" && i.subject == apps[9].name)
        .expect("the late notice is listed");
    assert!(late_notice_item.done_time.is_some());
    assert!(
        overdue
            .iter()
            .any(|i| i.step == "COMMISSION" && i.subject == apps[9].name)
    );
    // Akmola assessed in time; the other 19 regions have not.
    let missing: Vec<_> = overdue
        .iter()
        .filter(|i| i.step == "REGIONAL_ASSESSMENT")
        .collect();
    assert_eq!(missing.len(), 19);
    assert!(missing.iter().all(|i| i.region_code != AKMOLA));
    app.stop().await;
}

#[tokio::test]
async fn the_employer_downloads_a_partial_approval_notice_that_verifies_and_reads_as_p_10_says() {
    let Season { app, apps, notices } = season_to_27_october().await;
    let partial_notice = &notices[1].document;
    let text = verify_everywhere(&app, partial_notice).await;
    assert_has(
        &text,
        &[
            "Уведомление о результатах рассмотрения заявки на привлечение иностранной рабочей силы на 2027 год",
            "одобрить частично",
            "наличие возможности удовлетворения потребности в рабочей силе за счет трудовых ресурсов",
            // The body's profile: sender, address, and its head's position and name.
            "Управление занятости и социальных программ Акмолинской области сообщает",
            "г. Кокшетау, ул. Абая, 89",
            "Руководитель управления",
            "Қасымов Әлібек Нұрланұлы",
            "Электронная печать:",
        ],
    );
    assert!(!text.contains("Руководитель Местный"), "{text}");
    let docs = app
        .documents()
        .list_documents(pb::ListDocumentsRequest {
            subject: apps[1].name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .documents;
    assert_eq!(
        docs.iter().map(|d| d.kind.as_str()).collect::<Vec<_>>(),
        ["APPENDIX_1", "EMPLOYER_NOTICE"]
    );
    app.stop().await;
}

#[tokio::test]
async fn the_commission_protocol_lists_the_members_and_every_decision_with_its_grounds() {
    let Season { app, .. } = season_to_27_october().await;
    let protocol = app
        .regional()
        .render_commission_protocol(pb::RenderCommissionProtocolRequest {
            region_code: AKMOLA.into(),
            quota_year: 2027,
            protocol_number: "7".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let text = verify_everywhere(&app, &protocol.document).await;
    assert_has(
        &text,
        &[
            "Управление занятости и социальных программ Акмолинской области ПРОТОКОЛ № 7",
            "Жұмабаев Ерлан",
            "(по согласованию)",
            "неустраненных нарушений трудового законодательства Республики Казахстан",
            "ТОО «Құрылыс-9»",
        ],
    );
    app.stop().await;
}

#[tokio::test]
async fn the_filing_seals_appendix_2_with_the_approved_employers_only() {
    let Season { app, .. } = season_to_27_october().await;
    let filing = file(&app).await.unwrap();
    assert!(!filing.late);
    let a2 = verify_everywhere(&app, &filing.appendix2).await;
    assert_has(
        &a2,
        &[
            "Приложение 2",
            "В Министерство труда и социальной защиты населения Республики Казахстан",
            "Заявка на привлечение иностранной рабочей силы на 2027 год",
            "ТОО «Құрылыс-0»",
            "Управление занятости и социальных программ Акмолинской области",
            "(полное наименование местного исполнительного органа)",
            "Руководитель управления",
            "Қасымов Әлібек Нұрланұлы",
            "Потребность в иностранной рабочей силе по категориям иностранных работников на 2027 год",
            "Организация (полное наименование, юридический адрес)",
            "Количество привлекаемой иностранной рабочей силы в текущем году (единиц)",
            "Обоснование потребности с учетом требований, предусмотренных пунктом 7 Правил",
            "1-я категория (в разрезе профессий и специальностей)",
            "4-я категория (в разрезе профессий и специальностей)",
            "Сезонные иностранные работники",
            // Column 9: the organisation's own justification and the decision on it.
            "по договору № 14-ҚҰ/2026",
            "Решение Комиссии: одобрить частично",
        ],
    );
    // Rejected employers are not in Appendix 2.
    assert!(!a2.contains("ТОО «Құрылыс-2»"), "{a2}");
    assert!(!a2.contains("Руководитель Местный"), "{a2}");
    app.stop().await;
}

#[tokio::test]
async fn the_filing_seals_appendices_3_and_4_with_the_regions_figures() {
    let Season { app, .. } = season_to_27_october().await;
    let filing = file(&app).await.unwrap();
    let a3 = verify_everywhere(&app, &filing.appendix3).await;
    assert_has(
        &a3,
        &[
            "Приложение 3",
            "Заявка на привлечение трудовых иммигрантов на 2027 год",
            "Количество привлекаемых трудовых иммигрантов в текущем году (единиц)",
            "Потребность в привлечении трудовых иммигрантов на 2027 год",
            "Обоснование потребности",
            "1 2 3 1200 1450",
            "Управление занятости и социальных программ Акмолинской области",
            "Қасымов Әлібек Нұрланұлы",
        ],
    );
    let a4 = verify_everywhere(&app, &filing.appendix4).await;
    assert_has(
        &a4,
        &[
            "Приложение 4",
            "Заявка на привлечение иностранной рабочей силы по странам исхода на 2027 год",
            "Республика Узбекистан",
            "Кыргызская Республика",
            "По категориям иностранных работников на 2027 год",
            "Количество привлекаемой иностранной рабочей силы",
            "Сезонные иностранные работники 1 2 3 4 5 6 7",
            "Қасымов Әлібек Нұрланұлы",
        ],
    );
    for text in [&a3, &a4] {
        assert!(!text.contains("Руководитель Местный"), "{text}");
    }
    app.stop().await;
}

#[tokio::test]
async fn after_the_filing_the_year_is_frozen_and_the_unfiled_regions_are_overdue_on_3_november() {
    let Season { app, apps, .. } = season_to_27_october().await;
    file(&app).await.unwrap();
    let err = file(&app).await.unwrap_err();
    assert_eq!(err.code(), Code::AlreadyExists);
    let err = app
        .regional()
        .set_regional_assessment(pb::SetRegionalAssessmentRequest {
            assessment: Some(assessment()),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    let err = app
        .applications()
        .withdraw_application(pb::WithdrawApplicationRequest {
            name: apps[5].name.clone(),
            etag: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");

    // 3 November: regions that have not filed are overdue ("до 1 ноября": 31 October 2026
    // is a Saturday, so the last day is Monday 2 November).
    app.set_clock("2026-11-03T09:00:00+05:00");
    let overdue = app
        .calendar()
        .list_overdue(pb::ListOverdueRequest {
            quota_year: 2027,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .items;
    let unfiled: Vec<_> = overdue
        .iter()
        .filter(|i| i.step == "REGIONAL_FILING")
        .collect();
    assert_eq!(unfiled.len(), 19);
    app.stop().await;
}

/// 12 October: one draft and one submitted application, the Commission not yet set.
async fn a_draft_and_a_submitted_application() -> (TestApp, pb::Application, pb::Application) {
    let app = TestApp::spawn_at("2026-09-20T11:00:00+05:00").await;
    let draft = app.create(employer_application(0)).await;
    let submitted = app
        .submit(&app.create(employer_application(1)).await)
        .await
        .unwrap();
    app.set_clock("2026-10-12T10:00:00+05:00");
    (app, draft, submitted)
}

async fn set_members(app: &TestApp) {
    app.regional()
        .set_commission_members(pb::SetCommissionMembersRequest {
            region_code: AKMOLA.into(),
            quota_year: 2027,
            members: members(),
            ..Default::default()
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn no_decision_is_taken_without_a_commission_of_the_members_p_9_requires() {
    let (app, _draft, submitted) = a_draft_and_a_submitted_application().await;
    let mut c = app.regional();
    use pb::DecisionOutcome as O;

    // No Commission yet.
    let err = c
        .record_commission_decision(decision(
            &submitted,
            O::Approved,
            &[10, 6],
            &[],
            "2026-10-12",
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert_eq!(reason(&err), "NO_COMMISSION");

    // p. 9: the internal-affairs, education, entrepreneurship and labour bodies are required.
    let mut partial_members = members();
    partial_members.retain(|m| m.kind != pb::CommissionMemberKind::Education as i32);
    let err = c
        .set_commission_members(pb::SetCommissionMembersRequest {
            region_code: AKMOLA.into(),
            quota_year: 2027,
            members: partial_members,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_invalid(&err, "members");
    let mut bad = members();
    bad[2].kind = 0;
    bad[3].full_name.clear();
    let err = c
        .set_commission_members(pb::SetCommissionMembersRequest {
            region_code: AKMOLA.into(),
            quota_year: 2027,
            members: bad,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_invalid(&err, "members[2].kind");
    assert_invalid(&err, "members[3].full_name");
    c.set_commission_members(pb::SetCommissionMembersRequest {
        region_code: AKMOLA.into(),
        quota_year: 2027,
        members: members(),
        ..Default::default()
    })
    .await
    .unwrap();
    app.stop().await;
}

#[tokio::test]
async fn the_commission_refuses_decisions_the_rules_do_not_allow() {
    let (app, draft, submitted) = a_draft_and_a_submitted_application().await;
    set_members(&app).await;
    let mut c = app.regional();
    use pb::DecisionOutcome as O;
    use pb::RejectionGround as G;

    let cases: Vec<(pb::RecordCommissionDecisionRequest, &str)> = vec![
        (
            decision(&submitted, O::Approved, &[11, 6], &[], "2026-10-12"),
            "approved_counts[0]",
        ),
        (
            decision(&submitted, O::Approved, &[10], &[], "2026-10-12"),
            "approved_counts",
        ),
        (
            decision(&submitted, O::Rejected, &[0, 0], &[], "2026-10-12"),
            "grounds",
        ),
        (
            decision(
                &submitted,
                O::PartiallyApproved,
                &[10, 6],
                &[G::PermitViolations],
                "2026-10-12",
            ),
            "approved_counts",
        ),
        (
            decision(
                &submitted,
                O::Approved,
                &[10, 6],
                &[G::PermitViolations],
                "2026-10-12",
            ),
            "grounds",
        ),
        (
            decision(&submitted, O::Unspecified, &[10, 6], &[], "2026-10-12"),
            "outcome",
        ),
        (
            decision(
                &submitted,
                O::Rejected,
                &[0, 0],
                &[G::Unspecified],
                "2026-10-12",
            ),
            "grounds[0]",
        ),
        (
            decision(&submitted, O::Approved, &[10, 6], &[], "12.10.2026"),
            "decided_on",
        ),
        (
            decision(&submitted, O::Approved, &[10, 6], &[], "2026-10-13"),
            "decided_on",
        ),
        (
            pb::RecordCommissionDecisionRequest {
                protocol_number: String::new(),
                ..decision(&submitted, O::Approved, &[10, 6], &[], "2026-10-12")
            },
            "protocol_number",
        ),
    ];
    for (req, field) in cases {
        let err = c.record_commission_decision(req).await.unwrap_err();
        assert_invalid(&err, field);
    }
    let err = c
        .record_commission_decision(decision(&draft, O::Approved, &[10, 6], &[], "2026-10-12"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    let err = c
        .notify_employer(pb::NotifyEmployerRequest {
            application: submitted.name.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    app.stop().await;
}

#[tokio::test]
async fn origin_countries_filing_and_assessment_refuse_what_the_rules_do_not_allow() {
    let (app, _draft, _submitted) = a_draft_and_a_submitted_application().await;
    set_members(&app).await;
    let mut c = app.regional();

    // p. 17: only treaty countries.
    let err = c
        .set_origin_country_quota(pb::SetOriginCountryQuotaRequest {
            region_code: AKMOLA.into(),
            quota_year: 2027,
            rows: vec![pb::OriginCountryRow {
                country_code: "CN".into(),
                counts: Some(pb::CategoryCounts {
                    third: 5,
                    ..Default::default()
                }),
                ..Default::default()
            }],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_invalid(&err, "rows[0].country_code");

    // Filing needs the assessment and the Appendix 3 figures.
    let err = c
        .file_with_ministry(pb::FileWithMinistryRequest {
            region_code: AKMOLA.into(),
            quota_year: 2027,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    let err = c
        .file_with_ministry(pb::FileWithMinistryRequest {
            region_code: "123".into(),
            quota_year: 2027,
        })
        .await
        .unwrap_err();
    assert_invalid(&err, "region_code");
    let mut a = assessment();
    a.justification.clear();
    a.labour_demand = 10_000_001;
    let err = c
        .set_regional_assessment(pb::SetRegionalAssessmentRequest {
            assessment: Some(a),
        })
        .await
        .unwrap_err();
    assert_invalid(&err, "assessment.justification");
    assert_invalid(&err, "assessment.labour_demand");
    app.stop().await;
}

#[tokio::test]
async fn a_late_assessment_and_a_central_proposal_are_flagged() {
    let app = TestApp::spawn_at("2026-10-12T10:00:00+05:00").await;
    let a = app
        .regional()
        .set_regional_assessment(pb::SetRegionalAssessmentRequest {
            assessment: Some(assessment()),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(a.late, "due before 10 October");

    let mut central = app.central();
    let proposal = central
        .submit_proposal(pb::SubmitProposalRequest {
            body: "Министерство сельского хозяйства Республики Казахстан".into(),
            region_code: AKMOLA.into(),
            quota_year: 2027,
            lines: vec![pb::ProposalLine {
                occupation_code: "6111".into(),
                occupation_name: "Агроном".into(),
                category: C::Third as i32,
                count: 15,
            }],
            justification: "Программа развития АПК.".into(),
            agreed_by_region: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!proposal.agreed_by_region && !proposal.late);
    let agreed = central
        .agree_proposal(pb::AgreeProposalRequest {
            name: proposal.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(agreed.agreed_by_region && agreed.agree_time.is_some());
    let err = central
        .agree_proposal(pb::AgreeProposalRequest {
            name: proposal.name.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    let err = central
        .submit_proposal(pb::SubmitProposalRequest {
            body: String::new(),
            region_code: AKMOLA.into(),
            quota_year: 2027,
            lines: vec![],
            justification: "x".into(),
            agreed_by_region: true,
        })
        .await
        .unwrap_err();
    assert_invalid(&err, "body");
    assert_invalid(&err, "lines");

    // The last day, 31 October 2026, is a Saturday: it moves to Monday 2 November.
    app.set_clock("2026-11-03T00:00:00+05:00");
    let late = app
        .central()
        .submit_proposal(pb::SubmitProposalRequest {
            body: "Министерство здравоохранения Республики Казахстан".into(),
            region_code: AKMOLA.into(),
            quota_year: 2027,
            lines: vec![pb::ProposalLine {
                occupation_code: "2211".into(),
                occupation_name: "Врач".into(),
                category: C::Third as i32,
                count: 3,
            }],
            justification: "Дефицит врачей.".into(),
            agreed_by_region: true,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(late.late);
    let list = app
        .central()
        .list_proposals(pb::ListProposalsRequest {
            region_code: AKMOLA.into(),
            quota_year: 2027,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(list.proposals.len(), 2);
    // One per page, oldest first; the token is bound to the region and the year.
    let page = |token: &str, region: &str| pb::ListProposalsRequest {
        region_code: region.into(),
        quota_year: 2027,
        page_size: 1,
        page_token: token.into(),
    };
    let first = app
        .central()
        .list_proposals(page("", AKMOLA))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.proposals.len(), 1);
    assert_eq!(first.proposals[0].name, proposal.name);
    let second = app
        .central()
        .list_proposals(page(&first.next_page_token, AKMOLA))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        second.proposals.iter().map(|p| &p.name).collect::<Vec<_>>(),
        [&late.name]
    );
    assert!(second.next_page_token.is_empty());
    let err = app
        .central()
        .list_proposals(page(&first.next_page_token, "710000000"))
        .await
        .unwrap_err();
    assert_invalid(&err, "page_token");
    app.stop().await;
}

#[tokio::test]
async fn filings_refuse_bad_figures_and_changes_after_the_freeze() {
    let app = TestApp::spawn_at("2026-10-12T10:00:00+05:00").await;
    let mut c = app.regional();
    let err = c
        .set_labour_immigrant_need(pb::SetLabourImmigrantNeedRequest {
            region_code: AKMOLA.into(),
            quota_year: 2027,
            current_count: 1,
            need: 10_000_001,
            justification: " ".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_invalid(&err, "need");
    assert_invalid(&err, "justification");
    let err = c
        .set_labour_immigrant_need(pb::SetLabourImmigrantNeedRequest {
            region_code: AKMOLA.into(),
            quota_year: 2026,
            current_count: 1,
            need: 2,
            justification: "x".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_invalid(&err, "quota_year");
    let row = |code: &str, third: u32| pb::OriginCountryRow {
        country_code: code.into(),
        counts: Some(pb::CategoryCounts {
            third,
            ..Default::default()
        }),
        ..Default::default()
    };
    for (rows, field) in [
        (vec![], "rows"),
        (vec![row("UZ", 5), row("uz", 3)], "rows[1].country_code"),
        (vec![row("UZ", 0)], "rows[0].counts"),
    ] {
        let err = c
            .set_origin_country_quota(pb::SetOriginCountryQuotaRequest {
                region_code: AKMOLA.into(),
                quota_year: 2027,
                rows,
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_invalid(&err, field);
    }
    let countries = c
        .list_treaty_countries(pb::ListTreatyCountriesRequest {})
        .await
        .unwrap()
        .into_inner()
        .countries;
    assert!(countries.iter().any(|c| c.code == "UZ"));
    assert!(!countries.iter().any(|c| c.code == "CN"));

    // No decisions yet: no protocol.
    let err = c
        .render_commission_protocol(pb::RenderCommissionProtocolRequest {
            region_code: AKMOLA.into(),
            quota_year: 2027,
            protocol_number: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    let err = c
        .notify_employer(pb::NotifyEmployerRequest {
            application: "not-a-name".into(),
        })
        .await
        .unwrap_err();
    assert_invalid(&err, "application");
    let err = app
        .central()
        .agree_proposal(pb::AgreeProposalRequest {
            name: "proposals/00000000-0000-0000-0000-000000000000".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);

    // File with the ministry; afterwards every change of the year is refused.
    c.set_regional_assessment(pb::SetRegionalAssessmentRequest {
        assessment: Some(assessment()),
    })
    .await
    .unwrap();
    c.set_labour_immigrant_need(pb::SetLabourImmigrantNeedRequest {
        region_code: AKMOLA.into(),
        quota_year: 2027,
        current_count: 10,
        need: 20,
        justification: "Спрос домохозяйств.".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    let filing = c
        .file_with_ministry(pb::FileWithMinistryRequest {
            region_code: AKMOLA.into(),
            quota_year: 2027,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!filing.late);
    let err = c
        .set_labour_immigrant_need(pb::SetLabourImmigrantNeedRequest {
            region_code: AKMOLA.into(),
            quota_year: 2027,
            current_count: 10,
            need: 99,
            justification: "Другое.".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    let err = c
        .set_origin_country_quota(pb::SetOriginCountryQuotaRequest {
            region_code: AKMOLA.into(),
            quota_year: 2027,
            rows: vec![row("UZ", 5)],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    let err = c
        .set_commission_members(pb::SetCommissionMembersRequest {
            region_code: AKMOLA.into(),
            quota_year: 2027,
            members: members(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    // The filed Appendix 3 keeps the figures it was filed with.
    let a3 = verify_everywhere(&app, &filing.appendix3).await;
    assert!(a3.contains("1 2 3 10 20"), "{a3}");
    app.stop().await;
}

#[tokio::test]
async fn a_filing_after_monday_2_november_2026_is_accepted_but_flagged_late() {
    let app = TestApp::spawn_at("2026-10-05T10:00:00+05:00").await;
    let mut c = app.regional();
    c.set_regional_assessment(pb::SetRegionalAssessmentRequest {
        assessment: Some(assessment()),
    })
    .await
    .unwrap();
    c.set_labour_immigrant_need(pb::SetLabourImmigrantNeedRequest {
        region_code: AKMOLA.into(),
        quota_year: 2027,
        current_count: 5,
        need: 7,
        justification: "Спрос домохозяйств.".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    app.set_clock("2026-11-03T00:00:00+05:00");
    let filing = app
        .regional()
        .file_with_ministry(pb::FileWithMinistryRequest {
            region_code: AKMOLA.into(),
            quota_year: 2027,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(filing.late);
    let overdue = app
        .calendar()
        .list_overdue(pb::ListOverdueRequest {
            quota_year: 2027,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .items;
    let akmola = overdue
        .iter()
        .find(|i| i.step == "REGIONAL_FILING" && i.region_code == AKMOLA)
        .expect("late filing listed");
    assert!(akmola.done_time.is_some());
    assert_eq!(akmola.due_date, "2026-11-02");
    app.stop().await;
}

#[tokio::test]
async fn a_decided_application_cannot_be_withdrawn_and_a_filed_region_takes_no_new_ones() {
    let app = TestApp::spawn_at("2026-09-20T11:00:00+05:00").await;
    let submitted = app
        .submit(&app.create(employer_application(0)).await)
        .await
        .unwrap();
    let late_draft = app.create(employer_application(1)).await;
    app.set_clock("2026-10-09T10:00:00+05:00");
    let mut c = app.regional();
    c.set_commission_members(pb::SetCommissionMembersRequest {
        region_code: AKMOLA.into(),
        quota_year: 2027,
        members: members(),
        ..Default::default()
    })
    .await
    .unwrap();
    c.record_commission_decision(decision(
        &submitted,
        pb::DecisionOutcome::Approved,
        &[10, 6],
        &[],
        "2026-10-09",
    ))
    .await
    .unwrap();
    let current = app
        .applications()
        .get_application(pb::GetApplicationRequest {
            name: submitted.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let err = app
        .applications()
        .withdraw_application(pb::WithdrawApplicationRequest {
            name: current.name.clone(),
            etag: current.etag.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(
        err.message().contains("Commission decided"),
        "{}",
        err.message()
    );

    c.set_regional_assessment(pb::SetRegionalAssessmentRequest {
        assessment: Some(assessment()),
    })
    .await
    .unwrap();
    c.set_labour_immigrant_need(pb::SetLabourImmigrantNeedRequest {
        region_code: AKMOLA.into(),
        quota_year: 2027,
        current_count: 1,
        need: 2,
        justification: "Спрос.".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    c.file_with_ministry(pb::FileWithMinistryRequest {
        region_code: AKMOLA.into(),
        quota_year: 2027,
    })
    .await
    .unwrap();
    // Frozen: no new application, no edit, no submission in that region and year.
    let mut fresh = employer_application(2);
    fresh.region_code = AKMOLA.into();
    let err = app
        .applications()
        .create_application(pb::CreateApplicationRequest {
            application: Some(fresh),
            request_id: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    let mut edited = late_draft.clone();
    edited.justification = "Другое".into();
    let err = app
        .applications()
        .update_application(pb::UpdateApplicationRequest {
            application: Some(edited),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    app.stop().await;
}

#[tokio::test]
async fn a_filing_with_undecided_applications_is_refused_and_proposals_still_come_after_it() {
    let app = TestApp::spawn_at("2026-09-20T11:00:00+05:00").await;
    let mut apps = Vec::new();
    for i in 0..2 {
        let a = app.create(employer_application(i)).await;
        apps.push(app.submit(&a).await.unwrap());
    }
    app.set_clock("2026-10-09T10:00:00+05:00");
    let mut c = app.regional();
    c.set_regional_assessment(pb::SetRegionalAssessmentRequest {
        assessment: Some(assessment()),
    })
    .await
    .unwrap();
    c.set_labour_immigrant_need(pb::SetLabourImmigrantNeedRequest {
        region_code: AKMOLA.into(),
        quota_year: 2027,
        current_count: 5,
        need: 7,
        justification: "Спрос домохозяйств.".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    app.set_clock("2026-10-16T10:00:00+05:00");
    let mut c = app.regional();
    c.set_commission_members(pb::SetCommissionMembersRequest {
        region_code: AKMOLA.into(),
        quota_year: 2027,
        members: members(),
        ..Default::default()
    })
    .await
    .unwrap();
    use pb::DecisionOutcome as O;
    c.record_commission_decision(decision(&apps[0], O::Approved, &[10, 6], &[], "2026-10-15"))
        .await
        .unwrap();
    let file = || pb::FileWithMinistryRequest {
        region_code: AKMOLA.into(),
        quota_year: 2027,
    };
    // p. 12: the second application has no decision; it must not drop out silently.
    let err = c.file_with_ministry(file()).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert_eq!(reason(&err), "UNDECIDED_APPLICATIONS");
    assert!(err.message().contains(&apps[1].name), "{err:?}");
    assert!(!err.message().contains(&apps[0].name), "{err:?}");
    let details = tonic_types::StatusExt::get_error_details(&err);
    let failure = details
        .precondition_failure()
        .expect("precondition failure");
    assert_eq!(failure.violations.len(), 1);
    assert_eq!(failure.violations[0].subject, apps[1].name);
    // Nothing was filed: the year is still open.
    c.record_commission_decision(decision(&apps[1], O::Approved, &[10, 6], &[], "2026-10-15"))
        .await
        .unwrap();
    let filing = c.file_with_ministry(file()).await.unwrap().into_inner();
    assert!(!filing.late);
    let a2 = verify_everywhere(&app, &filing.appendix2).await;
    // p. 7 / column 9: each organisation's own justification and the decision on it, not
    // the region's assessment repeated in every row.
    assert_has(
        &a2,
        &["по договору № 14-ҚҰ/2026", "Решение Комиссии: одобрить"],
    );
    assert!(
        !a2.contains("Потребность обоснована дефицитом инженеров-строителей"),
        "{a2}"
    );

    // p. 13: a central body's proposal is accepted until 1 November, after the filing too,
    // and the region agrees to it.
    let proposal = app
        .central()
        .submit_proposal(pb::SubmitProposalRequest {
            body: "Министерство сельского хозяйства Республики Казахстан".into(),
            region_code: AKMOLA.into(),
            quota_year: 2027,
            lines: vec![pb::ProposalLine {
                occupation_code: "6111".into(),
                occupation_name: "Агроном".into(),
                category: C::Third as i32,
                count: 15,
            }],
            justification: "Программа развития АПК.".into(),
            agreed_by_region: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!proposal.late);
    let agreed = app
        .central()
        .agree_proposal(pb::AgreeProposalRequest {
            name: proposal.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(agreed.agreed_by_region);
    app.stop().await;
}

/// "До 1 ноября" (p. 12, 13) ends on 31 October; in 2026 that is a Saturday and 1 November a
/// Sunday, so the last day moves to Monday 2 November (Civil Code of the Republic of
/// Kazakhstan, art. 172): a filing and a proposal that day are in time, and nobody is
/// overdue until 3 November.
#[tokio::test]
async fn a_filing_and_a_proposal_on_monday_2_november_2026_are_in_time() {
    let app = TestApp::spawn_at("2026-10-05T10:00:00+05:00").await;
    let mut c = app.regional();
    c.set_regional_assessment(pb::SetRegionalAssessmentRequest {
        assessment: Some(assessment()),
    })
    .await
    .unwrap();
    c.set_labour_immigrant_need(pb::SetLabourImmigrantNeedRequest {
        region_code: AKMOLA.into(),
        quota_year: 2027,
        current_count: 5,
        need: 7,
        justification: "Спрос домохозяйств.".into(),
        ..Default::default()
    })
    .await
    .unwrap();

    app.set_clock("2026-11-02T17:30:00+05:00");
    let overdue = |app: &TestApp| {
        let mut cal = app.calendar();
        async move {
            cal.list_overdue(pb::ListOverdueRequest {
                quota_year: 2027,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .items
        }
    };
    let before = overdue(&app).await;
    assert!(
        !before
            .iter()
            .any(|i| i.step == "REGIONAL_FILING" || i.step == "CENTRAL_PROPOSALS"),
        "{before:?}"
    );
    // The proposal first: a region's year is frozen once it has filed.
    let proposal = app
        .central()
        .submit_proposal(pb::SubmitProposalRequest {
            body: "Министерство энергетики Республики Казахстан".into(),
            region_code: AKMOLA.into(),
            quota_year: 2027,
            lines: vec![pb::ProposalLine {
                occupation_code: "7212".into(),
                occupation_name: "Электрогазосварщик".into(),
                category: C::Fourth as i32,
                count: 4,
            }],
            justification: "Ремонт ТЭЦ.".into(),
            agreed_by_region: true,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!proposal.late, "{proposal:?}");
    let filing = app
        .regional()
        .file_with_ministry(pb::FileWithMinistryRequest {
            region_code: AKMOLA.into(),
            quota_year: 2027,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!filing.late, "{filing:?}");

    // 3 November: the 19 regions that have not filed are overdue, due 2 November.
    app.set_clock("2026-11-03T00:00:00+05:00");
    let after = overdue(&app).await;
    let unfiled: Vec<_> = after
        .iter()
        .filter(|i| i.step == "REGIONAL_FILING")
        .collect();
    assert_eq!(unfiled.len(), 19);
    assert!(unfiled.iter().all(|i| i.region_code != AKMOLA));
    assert!(unfiled.iter().all(|i| i.due_date == "2026-11-02"));
    assert!(!after.iter().any(|i| i.step == "CENTRAL_PROPOSALS"));
    app.stop().await;
}

/// p. 15: the labour-immigrant need is determined "до 10 октября", as the assessment of
/// p. 7 is; one set later is kept, flagged late in the answer and in the database.
#[tokio::test]
async fn a_labour_immigrant_need_set_after_10_october_is_flagged_late() {
    let need = |n: u32| pb::SetLabourImmigrantNeedRequest {
        region_code: AKMOLA.into(),
        quota_year: 2027,
        current_count: 5,
        need: n,
        justification: "Спрос домохозяйств.".into(),
        ..Default::default()
    };
    let stored_late = |app: &TestApp| {
        let url = app.config.database_url();
        async move {
            sqlx::any::install_default_drivers();
            let pool = sqlx::AnyPool::connect(&url).await.unwrap();
            let late: i64 = sqlx::query_scalar(
                "SELECT late FROM labour_immigrant_needs WHERE region_code = $1 AND quota_year = 2027",
            )
            .bind(AKMOLA)
            .fetch_one(&pool)
            .await
            .unwrap();
            pool.close().await;
            late != 0
        }
    };
    // Friday 9 October 2026, the last day: in time.
    let app = TestApp::spawn_at("2026-10-09T23:30:00+05:00").await;
    let in_time = app
        .regional()
        .set_labour_immigrant_need(need(7))
        .await
        .unwrap()
        .into_inner();
    assert!(!in_time.late, "{in_time:?}");
    assert!(!stored_late(&app).await);

    // Saturday 10 October: late, but kept.
    app.set_clock("2026-10-10T00:00:00+05:00");
    let late = app
        .regional()
        .set_labour_immigrant_need(need(9))
        .await
        .unwrap()
        .into_inner();
    assert!(late.late, "{late:?}");
    assert_eq!(late.need, 9);
    assert!(stored_late(&app).await);
    // The regional assessment is judged by the same day.
    let a = app
        .regional()
        .set_regional_assessment(pb::SetRegionalAssessmentRequest {
            assessment: Some(assessment()),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(a.late);
    app.stop().await;
}

/// p. 8: the regional body puts applications to the Commission "не позднее 15 октября".
/// Lateness is judged by the day it did so when given, else by the decision date; the
/// protocol's footnote says only what is known.
#[tokio::test]
async fn lateness_to_the_commission_is_judged_by_the_day_the_application_was_put_to_it() {
    let app = TestApp::spawn_at("2026-09-20T11:00:00+05:00").await;
    let mut apps = Vec::new();
    for i in 0..3 {
        let created = app.create(employer_application(i)).await;
        apps.push(app.submit(&created).await.unwrap());
    }
    app.set_clock("2026-10-16T15:00:00+05:00");
    let mut c = app.regional();
    c.set_commission_members(pb::SetCommissionMembersRequest {
        region_code: AKMOLA.into(),
        quota_year: 2027,
        members: members(),
        ..Default::default()
    })
    .await
    .unwrap();
    use pb::DecisionOutcome as O;
    let put_on = |i: usize, put: &str| pb::RecordCommissionDecisionRequest {
        put_to_commission_on: put.into(),
        ..decision(&apps[i], O::Approved, &[10, 6], &[], "2026-10-16")
    };

    // Refused: put after the decision, or before the application was submitted.
    for put in ["2026-10-17", "2026-09-19", "16.10.2026"] {
        let err = c
            .record_commission_decision(put_on(0, put))
            .await
            .unwrap_err();
        assert_invalid(&err, "put_to_commission_on");
    }

    // Put on 14 October, decided on 16 October: in time.
    let in_time = c
        .record_commission_decision(put_on(0, "2026-10-14"))
        .await
        .unwrap()
        .into_inner();
    assert!(!in_time.late_to_commission, "{in_time:?}");
    assert_eq!(in_time.put_to_commission_on, "2026-10-14");
    // Not given: judged by the decision of 16 October, late.
    let unknown = c
        .record_commission_decision(put_on(1, ""))
        .await
        .unwrap()
        .into_inner();
    assert!(unknown.late_to_commission);
    assert_eq!(unknown.put_to_commission_on, "");
    // Put on 16 October: late.
    let known = c
        .record_commission_decision(put_on(2, "2026-10-16"))
        .await
        .unwrap()
        .into_inner();
    assert!(known.late_to_commission);

    let overdue = app
        .calendar()
        .list_overdue(pb::ListOverdueRequest {
            quota_year: 2027,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .items;
    let late_subjects: Vec<_> = overdue
        .iter()
        .filter(|i| i.step == "COMMISSION")
        .map(|i| i.subject.as_str())
        .collect();
    assert_eq!(
        late_subjects,
        [apps[1].name.as_str(), apps[2].name.as_str()]
    );

    let protocol = c
        .render_commission_protocol(pb::RenderCommissionProtocolRequest {
            region_code: AKMOLA.into(),
            quota_year: 2027,
            protocol_number: "7".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let text = verify_everywhere(&app, &protocol.document).await;
    assert_has(
        &text,
        &[
            "Заявка внесена на рассмотрение Комиссии после срока, установленного пунктом 8 Правил (не позднее 15.10.2026): № 3 — 16.10.2026.",
            "Дата внесения заявки на рассмотрение Комиссии не указана; решение Комиссии принято после срока, установленного пунктом 8 Правил (не позднее 15.10.2026): № 2 — 16.10.2026.",
        ],
    );
    // The old footnote claimed what was not known.
    assert!(!text.contains("после 15 октября"), "{text}");
    app.stop().await;
}

/// Words in the forms' tables are never hyphenated (a hyphen Typst inserts extracts as a
/// soft hyphen, U+00AD, and splits the word for search and copy-paste): proper names and
/// «Электрогазосварщик» in Appendix 1's narrow category column read whole.
#[tokio::test]
async fn the_forms_keep_names_and_occupations_whole_without_soft_hyphens() {
    const ULYTAU: &str = "620000000";
    let app = TestApp::spawn_at("2026-09-20T11:00:00+05:00").await;
    let mut a = employer_application(0);
    a.region_code = ULYTAU.into();
    a.employer = Some(pb::Employer {
        bin: BINS[0].into(),
        name: "ТОО «Ұлытау Қарағанды Құрылыс»".into(),
        legal_address: "область Ұлытау, г. Жезказган, ул. Алашахана, 12".into(),
    });
    let submitted = app.submit(&app.create(a).await).await.unwrap();
    let a1 = verify_everywhere(&app, &submitted.document).await;
    let whole = |text: &str| {
        assert!(!text.contains('\u{ad}'), "a soft hyphen in:\n{text}");
        assert!(!text.contains("Электрога-"), "{text}");
        assert!(
            !text.contains("Ұлы-") && !text.contains("Қараған-"),
            "{text}"
        );
    };
    whole(&a1);
    assert_has(
        &a1,
        &[
            "7212 Электрогазосварщик",
            "ТОО «Ұлытау Қарағанды Құрылыс»",
            "область Ұлытау, г. Жезказган",
        ],
    );

    app.set_clock("2026-10-14T15:00:00+05:00");
    let mut c = app.regional();
    c.set_commission_members(pb::SetCommissionMembersRequest {
        region_code: ULYTAU.into(),
        quota_year: 2027,
        members: members(),
        ..Default::default()
    })
    .await
    .unwrap();
    c.record_commission_decision(decision(
        &submitted,
        pb::DecisionOutcome::Approved,
        &[10, 6],
        &[],
        "2026-10-14",
    ))
    .await
    .unwrap();
    let notice = c
        .notify_employer(pb::NotifyEmployerRequest {
            application: submitted.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let text = verify_everywhere(&app, &notice.document).await;
    whole(&text);
    assert_has(&text, &["Электрогазосварщик", "Ұлытау"]);
    let protocol = c
        .render_commission_protocol(pb::RenderCommissionProtocolRequest {
            region_code: ULYTAU.into(),
            quota_year: 2027,
            protocol_number: "7".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let text = verify_everywhere(&app, &protocol.document).await;
    whole(&text);
    assert_has(
        &text,
        &["Электрогазосварщик", "ТОО «Ұлытау Қарағанды Құрылыс»"],
    );

    let mut assessment = assessment();
    assessment.region_code = ULYTAU.into();
    c.set_regional_assessment(pb::SetRegionalAssessmentRequest {
        assessment: Some(assessment),
    })
    .await
    .unwrap();
    c.set_labour_immigrant_need(pb::SetLabourImmigrantNeedRequest {
        region_code: ULYTAU.into(),
        quota_year: 2027,
        current_count: 5,
        need: 7,
        justification: "Спрос домохозяйств Жезказгана и Сатпаева.".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    let filing = c
        .file_with_ministry(pb::FileWithMinistryRequest {
            region_code: ULYTAU.into(),
            quota_year: 2027,
        })
        .await
        .unwrap()
        .into_inner();
    for doc in [&filing.appendix2, &filing.appendix3, &filing.appendix4] {
        let text = verify_everywhere(&app, doc).await;
        whole(&text);
        assert_has(&text, &["области Ұлытау"]);
    }
    app.stop().await;
}
