//! The compatible additions to the contract (issue 12): enums beside their strings, page
//! tokens on the lists that grow, etags on the regional assessment, the Commission, the
//! need for labour immigrants and the quota by country of origin.

use kvota::api::pb;
use tonic::Code;

use crate::helpers::*;

const AKMOLA: &str = "110000000";

fn assessment(justification: &str, etag: &str) -> pb::SetRegionalAssessmentRequest {
    pb::SetRegionalAssessmentRequest {
        assessment: Some(pb::RegionalAssessment {
            region_code: AKMOLA.into(),
            quota_year: 2027,
            demand_text: "Спрос".into(),
            forecast_text: "Прогноз".into(),
            local_coverage_text: "Покрытие".into(),
            efficiency_text: "Эффективность".into(),
            immigrant_demand_text: "Спрос".into(),
            immigrant_forecast_text: "Прогноз".into(),
            immigrant_efficiency_text: "Эффективность".into(),
            justification: justification.into(),
            etag: etag.into(),
            ..Default::default()
        }),
    }
}

#[tokio::test]
async fn deadlines_carry_their_step_as_an_enum_equal_to_the_string() {
    let app = TestApp::spawn_at("2026-09-01T10:00:00+05:00").await;
    let deadlines = app
        .calendar()
        .get_deadlines(pb::GetDeadlinesRequest { quota_year: 2027 })
        .await
        .unwrap()
        .into_inner()
        .deadlines;
    assert_eq!(deadlines.len(), 8);
    for d in deadlines {
        let step = pb::DeadlineStep::try_from(d.deadline_step).unwrap();
        assert_eq!(step.as_str_name(), format!("DEADLINE_STEP_{}", d.step));
    }
}

#[tokio::test]
async fn a_stale_etag_is_refused_and_a_fresh_one_accepted() {
    let app = TestApp::spawn_at("2026-10-09T10:00:00+05:00").await;
    let mut r = app.regional();
    let first = r
        .set_regional_assessment(assessment("Обоснование 1", ""))
        .await
        .unwrap()
        .into_inner();
    assert!(!first.etag.is_empty());
    let read = r
        .get_regional_assessment(pb::GetRegionalAssessmentRequest {
            region_code: AKMOLA.into(),
            quota_year: 2027,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(read.etag, first.etag);
    let second = r
        .set_regional_assessment(assessment("Обоснование 2", &first.etag))
        .await
        .unwrap()
        .into_inner();
    assert_ne!(second.etag, first.etag);
    let err = r
        .set_regional_assessment(assessment("Обоснование 3", &first.etag))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Aborted);
    assert_eq!(reason(&err), "ETAG_MISMATCH");
    let kept = r
        .get_regional_assessment(pb::GetRegionalAssessmentRequest {
            region_code: AKMOLA.into(),
            quota_year: 2027,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(kept.justification, "Обоснование 2");
}

fn commission(etag: &str, chair: &str) -> pb::SetCommissionMembersRequest {
    let mut members = crate::season::members();
    members[0].full_name = chair.into();
    pb::SetCommissionMembersRequest {
        region_code: AKMOLA.into(),
        quota_year: 2027,
        members,
        etag: etag.into(),
    }
}

fn need(etag: &str, need: u32) -> pb::SetLabourImmigrantNeedRequest {
    pb::SetLabourImmigrantNeedRequest {
        region_code: AKMOLA.into(),
        quota_year: 2027,
        current_count: 1200,
        need,
        justification: "Спрос домохозяйств".into(),
        etag: etag.into(),
    }
}

/// Uzbekistan's row, its fourth category given by an occupation line alone (the service
/// fills in the count), so the etag covers what the service stored, not what was sent.
fn origin_quota(etag: &str, welders: u32) -> pb::SetOriginCountryQuotaRequest {
    pb::SetOriginCountryQuotaRequest {
        region_code: AKMOLA.into(),
        quota_year: 2027,
        rows: vec![pb::OriginCountryRow {
            country_code: "uz".into(),
            counts: Some(pb::CategoryCounts {
                seasonal: 10,
                ..Default::default()
            }),
            lines: vec![pb::OriginOccupationLine {
                occupation_code: "7212".into(),
                occupation_name: "Электрогазосварщик".into(),
                category: pb::WorkerCategory::Fourth as i32,
                count: welders,
            }],
            ..Default::default()
        }],
        etag: etag.into(),
    }
}

fn assert_etag_mismatch(err: &tonic::Status) {
    assert_eq!(err.code(), Code::Aborted, "{err:?}");
    assert_eq!(reason(err), "ETAG_MISMATCH");
}

#[tokio::test]
async fn the_commission_the_need_and_the_origin_quota_refuse_a_stale_etag() {
    let app = TestApp::spawn_at("2026-10-09T10:00:00+05:00").await;
    let mut r = app.regional();

    let first = r
        .set_commission_members(commission("", "Жұмабаев Ерлан"))
        .await;
    let first = first.unwrap().into_inner();
    assert!(!first.etag.is_empty());
    let second = r
        .set_commission_members(commission(&first.etag, "Ахметов Серік"))
        .await
        .unwrap()
        .into_inner();
    assert_ne!(second.etag, first.etag);
    let err = r
        .set_commission_members(commission(&first.etag, "Иванов Иван"))
        .await
        .unwrap_err();
    assert_etag_mismatch(&err);
    // The refused call changed nothing: the second etag is still current.
    r.set_commission_members(commission(&second.etag, "Иванов Иван"))
        .await
        .unwrap();

    let first = r.set_labour_immigrant_need(need("", 1450)).await;
    let first = first.unwrap().into_inner();
    assert!(!first.etag.is_empty());
    let second = r
        .set_labour_immigrant_need(need(&first.etag, 1500))
        .await
        .unwrap()
        .into_inner();
    assert_ne!(second.etag, first.etag);
    let err = r
        .set_labour_immigrant_need(need(&first.etag, 1600))
        .await
        .unwrap_err();
    assert_etag_mismatch(&err);
    r.set_labour_immigrant_need(need(&second.etag, 1600))
        .await
        .unwrap();

    let first = r.set_origin_country_quota(origin_quota("", 20)).await;
    let first = first.unwrap().into_inner();
    assert!(!first.etag.is_empty());
    let second = r
        .set_origin_country_quota(origin_quota(&first.etag, 25))
        .await
        .unwrap()
        .into_inner();
    assert_ne!(second.etag, first.etag);
    let err = r
        .set_origin_country_quota(origin_quota(&first.etag, 30))
        .await
        .unwrap_err();
    assert_etag_mismatch(&err);
    r.set_origin_country_quota(origin_quota(&second.etag, 30))
        .await
        .unwrap();
}

#[tokio::test]
async fn overdue_items_page_through_and_a_token_is_bound_to_its_year() {
    let app = TestApp::spawn_at("2027-02-01T10:00:00+05:00").await;
    let mut cal = app.calendar();
    let all = cal
        .list_overdue(pb::ListOverdueRequest {
            quota_year: 2027,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(all.items.len() > 3, "{}", all.items.len());
    assert!(all.next_page_token.is_empty());
    for i in &all.items {
        let step = pb::DeadlineStep::try_from(i.deadline_step).unwrap();
        assert_eq!(step.as_str_name(), format!("DEADLINE_STEP_{}", i.step));
    }
    let (mut paged, mut token, mut pages) = (Vec::new(), String::new(), 0);
    loop {
        let page = cal
            .list_overdue(pb::ListOverdueRequest {
                quota_year: 2027,
                page_size: 3,
                page_token: token,
            })
            .await
            .unwrap()
            .into_inner();
        assert!(page.items.len() <= 3);
        paged.extend(page.items);
        pages += 1;
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(paged, all.items);
    assert_eq!(pages, all.items.len().div_ceil(3));
    let first = cal
        .list_overdue(pb::ListOverdueRequest {
            quota_year: 2027,
            page_size: 3,
            page_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let err = cal
        .list_overdue(pb::ListOverdueRequest {
            quota_year: 2028,
            page_size: 3,
            page_token: first.next_page_token,
        })
        .await
        .unwrap_err();
    assert_invalid(&err, "page_token");
}
