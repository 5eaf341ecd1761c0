//! A quota season driven over gRPC, shared by the tests of the quota, the web pages and
//! the browser, and by the web benchmark: every region files, the quota is formed,
//! adjusted, established, published and redistributed twice.

use kvota::api::pb;
use kvota::api::pb::QuotaPart as P;
use kvota::api::pb::quota_service_client::QuotaServiceClient;

use crate::helpers::*;

pub(crate) const AKMOLA: &str = "110000000";
pub(crate) const ASTANA: &str = "710000000";

pub(crate) fn quota(app: &TestApp) -> QuotaServiceClient<tonic::transport::Channel> {
    QuotaServiceClient::new(app.channel.clone())
}

pub(crate) async fn region_codes(app: &TestApp) -> Vec<String> {
    app.regions()
        .list_regions(pb::ListRegionsRequest {})
        .await
        .unwrap()
        .into_inner()
        .regions
        .into_iter()
        .map(|r| r.kato)
        .collect()
}

pub(crate) async fn set_labour_force(app: &TestApp, year: u32) {
    for code in region_codes(app).await {
        quota(app)
            .set_labour_force(pb::SetLabourForceRequest {
                quota_year: year,
                region_code: code,
                persons: 485_000,
                source: "Бюро национальной статистики, III квартал 2026 года".into(),
            })
            .await
            .unwrap();
    }
}

/// Every region files for 2027: one employer (48 permits asked), Appendix 3 and 4 data.
pub(crate) async fn twenty_regions_file() -> TestApp {
    let app = TestApp::spawn_at("2026-09-20T11:00:00+05:00").await;
    let codes = region_codes(&app).await;
    let mut apps = Vec::new();
    for code in &codes {
        let mut a = sample_application();
        a.region_code = code.clone();
        apps.push(app.submit(&app.create(a).await).await.unwrap());
    }
    app.set_clock("2026-10-09T10:00:00+05:00");
    let mut r = app.regional();
    use pb::CommissionMemberKind as K;
    let members: Vec<pb::CommissionMember> = [
        K::InternalAffairs,
        K::Education,
        K::Entrepreneurship,
        K::LabourTerritorialUnit,
    ]
    .into_iter()
    .map(|kind| pb::CommissionMember {
        full_name: "Член Комиссии".into(),
        position: "руководитель".into(),
        organisation: "Орган".into(),
        kind: kind as i32,
        role: "Член комиссии".into(),
    })
    .collect();
    for (i, code) in codes.iter().enumerate() {
        r.set_regional_assessment(pb::SetRegionalAssessmentRequest {
            assessment: Some(pb::RegionalAssessment {
                region_code: code.clone(),
                quota_year: 2027,
                demand_text: "Спрос".into(),
                forecast_text: "Прогноз".into(),
                local_coverage_text: "Покрытие".into(),
                efficiency_text: "Эффективность".into(),
                immigrant_demand_text: "Спрос".into(),
                immigrant_forecast_text: "Прогноз".into(),
                immigrant_efficiency_text: "Эффективность".into(),
                justification: "Обоснование по пункту 7 Правил".into(),
                ..Default::default()
            }),
        })
        .await
        .unwrap();
        r.set_commission_members(pb::SetCommissionMembersRequest {
            region_code: code.clone(),
            quota_year: 2027,
            members: members.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
        r.set_labour_immigrant_need(pb::SetLabourImmigrantNeedRequest {
            region_code: code.clone(),
            quota_year: 2027,
            current_count: 900,
            need: 1000 + 10 * i as u32,
            justification: "Спрос домохозяйств".into(),
            ..Default::default()
        })
        .await
        .unwrap();
        r.set_origin_country_quota(pb::SetOriginCountryQuotaRequest {
            region_code: code.clone(),
            quota_year: 2027,
            rows: vec![pb::OriginCountryRow {
                country_code: "UZ".into(),
                counts: Some(pb::CategoryCounts {
                    third: 5 + i as u32,
                    ..Default::default()
                }),
                ..Default::default()
            }],
            ..Default::default()
        })
        .await
        .unwrap();
    }
    app.set_clock("2026-10-14T15:00:00+05:00");
    let mut r = app.regional();
    for a in &apps {
        r.record_commission_decision(pb::RecordCommissionDecisionRequest {
            application: a.name.clone(),
            outcome: pb::DecisionOutcome::Approved as i32,
            approved_counts: a.lines.iter().map(|l| l.requested_count).collect(),
            grounds: vec![],
            decided_on: "2026-10-14".into(),
            protocol_number: "1".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    }
    // Central bodies: one agreed proposal counts, one not agreed does not.
    for agreed in [true, false] {
        app.central()
            .submit_proposal(pb::SubmitProposalRequest {
                body: "Министерство сельского хозяйства Республики Казахстан".into(),
                region_code: AKMOLA.into(),
                quota_year: 2027,
                lines: vec![pb::ProposalLine {
                    occupation_code: "6111".into(),
                    occupation_name: "Агроном".into(),
                    category: pb::WorkerCategory::Third as i32,
                    count: 15,
                }],
                justification: "Программа развития АПК".into(),
                agreed_by_region: agreed,
            })
            .await
            .unwrap();
    }
    for code in &codes {
        r.file_with_ministry(pb::FileWithMinistryRequest {
            region_code: code.clone(),
            quota_year: 2027,
        })
        .await
        .unwrap();
    }
    app
}

/// Establishing under the ministry's registered order (p. 19).
pub(crate) fn order(name: &str, number: &str, date: &str) -> pb::EstablishQuotaRequest {
    pb::EstablishQuotaRequest {
        name: name.into(),
        order_number: number.into(),
        order_date: date.into(),
    }
}

pub(crate) fn part(q: &[pb::PartSummary], p: P) -> &pb::PartSummary {
    q.iter().find(|s| s.part == p as i32).unwrap()
}

pub(crate) fn granted(cells: &[pb::QuotaCell], region: &str, p: P, category: &str) -> u64 {
    cells
        .iter()
        .filter(|c| c.region_code == region && c.part == p as i32 && c.category == category)
        .map(|c| c.granted)
        .sum()
}

pub(crate) async fn verify(app: &TestApp, document: &str) -> String {
    let pdf = app.download(document, pb::DocumentFormat::Pdf).await;
    let path = app.path(&format!(
        "{}.pdf",
        document.trim_start_matches("documents/")
    ));
    std::fs::write(&path, pdf).unwrap();
    let p = path.to_str().unwrap();
    let o = tool(
        "pyhanko",
        &[
            "sign",
            "validate",
            "--trust",
            app.root_pem.to_str().unwrap(),
            "--trust-replace",
            p,
        ],
    );
    // Untouched since the seal, or extended with validation data only (a published
    // decision is archived at once: its DSS is an LTA update to pyHanko).
    let out = text(&o);
    assert!(
        o.status.success()
            && (out.contains("INTACT:TRUSTED,UNTOUCHED")
                || out.contains("INTACT:TRUSTED,EXTENDED_WITH_LTA_UPDATES")),
        "{out}"
    );
    let o = tool("pdfsig", &[p]);
    assert!(text(&o).contains("Signature is Valid."), "{}", text(&o));
    let o = tool("pdftotext", &["-raw", p, "-"]);
    String::from_utf8_lossy(&o.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The quota the tests form: labour force 9 700 000; permits 0,005 %, countries 0,01 %
/// (with a decimal comma), immigrants 0,1 %.
pub(crate) fn form_2027() -> pb::FormQuotaRequest {
    pb::FormQuotaRequest {
        quota_years: vec![2027],
        permit_percent: "0.005".into(),
        country_percent: "0,01".into(),
        immigrant_percent: "0.1".into(),
    }
}

/// 1 December 2026: the filings are in, the labour force set, the quota formed (draft).
pub(crate) async fn formed() -> (TestApp, pb::Quota) {
    let app = twenty_regions_file().await;
    app.set_clock("2026-12-01T10:00:00+05:00");
    set_labour_force(&app, 2027).await;
    let q = quota(&app)
        .form_quota(form_2027())
        .await
        .unwrap()
        .into_inner();
    (app, q)
}

/// Akmola's 3rd-category permits, the cell the adjustments change.
pub(crate) fn akmola_third_permits(q: &pb::Quota) -> pb::QuotaCell {
    q.cells
        .iter()
        .find(|c| c.region_code == AKMOLA && c.part == P::Permits as i32 && c.category == "3")
        .unwrap()
        .clone()
}

/// A change of Akmola's 3rd-category permits to `granted`.
pub(crate) fn change(granted: u64) -> pb::CellChange {
    pb::CellChange {
        region_code: AKMOLA.into(),
        part: P::Permits as i32,
        category: "3".into(),
        country_code: String::new(),
        granted,
        ..Default::default()
    }
}

/// The draft adjusted: Akmola's 3rd-category permits reduced by 2, into the reserve.
pub(crate) async fn adjust(app: &TestApp, q: &pb::Quota) -> pb::Quota {
    let cell = akmola_third_permits(q);
    quota(app)
        .adjust_distribution(pb::AdjustDistributionRequest {
            name: q.name.clone(),
            changes: vec![change(cell.granted - 2)],
        })
        .await
        .unwrap()
        .into_inner()
}

/// 24 December (Thursday): established under order No. 412.
pub(crate) async fn establish(app: &TestApp, q: &pb::Quota) -> pb::Quota {
    app.set_clock("2026-12-24T16:00:00+05:00");
    quota(app)
        .establish_quota(order(&q.name, "412", "2026-12-24"))
        .await
        .unwrap()
        .into_inner()
}

/// 28 December: the decision published (version 1).
pub(crate) async fn publish(app: &TestApp, q: &pb::Quota) -> pb::PublishedDecision {
    app.set_clock("2026-12-28T09:00:00+05:00");
    quota(app)
        .publish_decision(pb::PublishDecisionRequest {
            name: q.name.clone(),
        })
        .await
        .unwrap()
        .into_inner()
}

/// A move of `count` from Akmola to Astana.
pub(crate) fn mv(part: P, category: &str, country: &str, count: u64) -> pb::Move {
    pb::Move {
        from_region: AKMOLA.into(),
        to_region: ASTANA.into(),
        part: part as i32,
        category: category.into(),
        country_code: country.into(),
        count,
        basis: "Предложение акимата города Астаны от 05.02.2027 № 12".into(),
        ..Default::default()
    }
}

/// 10 February 2027: two redistributions (versions 2 and 3).
pub(crate) async fn redistribute(
    app: &TestApp,
    q: &pb::Quota,
) -> (pb::PublishedDecision, pb::PublishedDecision) {
    app.set_clock("2027-02-10T10:00:00+05:00");
    let v2 = quota(app)
        .redistribute_quota(pb::RedistributeQuotaRequest {
            name: q.name.clone(),
            moves: vec![mv(P::Permits, "3", "", 3)],
        })
        .await
        .unwrap()
        .into_inner();
    let v3 = quota(app)
        .redistribute_quota(pb::RedistributeQuotaRequest {
            name: q.name.clone(),
            moves: vec![
                mv(P::Immigrants, "", "", 40),
                mv(P::Countries, "3", "UZ", 2),
            ],
        })
        .await
        .unwrap()
        .into_inner();
    (v2, v3)
}

/// The quota year up to its third version: formed, adjusted, established, published,
/// redistributed twice.
pub(crate) async fn three_versions() -> (TestApp, pb::Quota, pb::PublishedDecision) {
    let (app, q) = formed().await;
    adjust(&app, &q).await;
    establish(&app, &q).await;
    let v1 = publish(&app, &q).await;
    redistribute(&app, &q).await;
    (app, q, v1)
}

/// The latest published decision of 2027.
pub(crate) async fn latest_decision(app: &TestApp) -> pb::PublishedDecision {
    app.quota()
        .get_published_decision(pb::GetPublishedDecisionRequest {
            quota_year: 2027,
            version: 0,
        })
        .await
        .unwrap()
        .into_inner()
}

/// The page that verifies `document` (what its QR code opens).
pub(crate) async fn verification_url(app: &TestApp, document: &str) -> String {
    app.documents()
        .get_document(pb::GetDocumentRequest {
            name: document.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .verification_url
}
