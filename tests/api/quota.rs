//! A quota year through the real server (p. 4, 5, 18–21): 20 regions file, central
//! bodies propose, the ministry forms an over-requested quota, adjusts, establishes,
//! publishes (on time and once late), redistributes twice, and a reader fetches every
//! version.

use kvota::api::pb;
use kvota::api::pb::QuotaPart as P;
use tonic::Code;

use crate::helpers::*;
use crate::seed::*;

#[tokio::test]
async fn forming_needs_the_labour_force_and_refuses_bad_percentages_and_past_years() {
    let app = twenty_regions_file().await;
    app.set_clock("2026-12-01T10:00:00+05:00");
    let err = quota(&app)
        .form_quota(pb::FormQuotaRequest {
            quota_years: vec![2027],
            permit_percent: "0.005".into(),
            country_percent: String::new(),
            immigrant_percent: "0.1".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "no labour force yet");
    set_labour_force(&app, 2027).await;

    for (permit, immigrant, field) in [
        ("abc", "0.1", "permit_percent"),
        ("0.005", "0", "immigrant_percent"),
        ("0.0001", "1", "permit_percent"),
    ] {
        let err = quota(&app)
            .form_quota(pb::FormQuotaRequest {
                quota_years: vec![2027],
                permit_percent: permit.into(),
                country_percent: String::new(),
                immigrant_percent: immigrant.into(),
            })
            .await
            .unwrap_err();
        assert_invalid(&err, field);
    }
    let err = quota(&app)
        .form_quota(pb::FormQuotaRequest {
            quota_years: vec![2026],
            permit_percent: "1".into(),
            country_percent: String::new(),
            immigrant_percent: "1".into(),
        })
        .await
        .unwrap_err();
    assert_invalid(&err, "quota_years[0]");
    app.stop().await;
}

#[tokio::test]
async fn an_over_requested_quota_is_formed_within_its_ceilings_in_whole_shares() {
    // Labour force 9 700 000: permits 0,005 % = 485 against 20 × 48 + 15 = 975 asked;
    // countries 0,01 % = 970 against 290 asked; immigrants 0,1 % = 9 700 against 21 900.
    let (app, q) = formed().await;
    assert_eq!(q.labour_force, 9_700_000);
    let permits = part(&q.parts, P::Permits);
    assert_eq!(
        (
            permits.ceiling,
            permits.requested,
            permits.allocated,
            permits.reserve
        ),
        (485, 975, 485, 0)
    );
    assert!(permits.scaled);
    let countries = part(&q.parts, P::Countries);
    assert_eq!(
        (
            countries.ceiling,
            countries.requested,
            countries.allocated,
            countries.reserve
        ),
        (970, 290, 290, 680)
    );
    assert!(!countries.scaled);
    let immigrants = part(&q.parts, P::Immigrants);
    assert_eq!(
        (
            immigrants.ceiling,
            immigrants.requested,
            immigrants.allocated
        ),
        (9_700, 21_900, 9_700)
    );
    // Every figure whole, within its request, and within one person of its exact share.
    for c in &q.cells {
        assert!(c.granted <= c.requested, "{c:?}");
        let s = part(&q.parts, P::try_from(c.part).unwrap());
        let exact = c.requested as f64 * s.allocated as f64 / s.requested as f64;
        assert!((c.granted as f64 - exact).abs() < 1.0, "{c:?} vs {exact}");
    }
    let sum = |p: P| {
        q.cells
            .iter()
            .filter(|c| c.part == p as i32)
            .map(|c| c.granted)
            .sum::<u64>()
    };
    assert_eq!(
        (sum(P::Permits), sum(P::Countries), sum(P::Immigrants)),
        (485, 290, 9_700)
    );
    // The agreed proposal counts; the other one does not.
    let akmola_third: u64 = q
        .cells
        .iter()
        .filter(|c| c.region_code == AKMOLA && c.part == P::Permits as i32 && c.category == "3")
        .map(|c| c.requested)
        .sum();
    assert_eq!(akmola_third, 12 + 15);
    app.stop().await;
}

#[tokio::test]
async fn adjusting_the_draft_refuses_excess_and_feeds_the_reserve_and_a_draft_is_not_published() {
    let (app, q) = formed().await;
    // Above the ceiling is refused and changes nothing; a reduction feeds the reserve.
    let akmola_cell = akmola_third_permits(&q);
    let err = quota(&app)
        .adjust_distribution(pb::AdjustDistributionRequest {
            name: q.name.clone(),
            changes: vec![change(akmola_cell.granted + 1)],
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    let err = quota(&app)
        .adjust_distribution(pb::AdjustDistributionRequest {
            name: q.name.clone(),
            changes: vec![pb::CellChange {
                category: "5".into(),
                ..change(1)
            }],
        })
        .await
        .unwrap_err();
    assert_invalid(&err, "changes[0].category");
    let adjusted = adjust(&app, &q).await;
    assert_eq!(part(&adjusted.parts, P::Permits).reserve, 2);
    let err = quota(&app)
        .adjust_distribution(pb::AdjustDistributionRequest {
            name: q.name.clone(),
            changes: vec![change(u64::MAX / 2), change(u64::MAX / 2)],
        })
        .await
        .unwrap_err();
    assert_invalid(&err, "changes[0].granted");

    let err = quota(&app)
        .publish_decision(pb::PublishDecisionRequest {
            name: q.name.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Code::FailedPrecondition,
        "a draft is not published"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_established_quota_is_fixed_under_the_ministrys_order_and_due_in_3_working_days() {
    let (app, q) = formed().await;
    adjust(&app, &q).await;
    // 24 December (Thursday): established; due 3 working days later, 29 December.
    let established = establish(&app, &q).await;
    assert_eq!(established.publish_due_date, "2026-12-29");
    assert_eq!(
        (
            established.order_number.as_str(),
            established.order_date.as_str()
        ),
        ("412", "2026-12-24")
    );
    let err = quota(&app)
        .establish_quota(order(&q.name, "412", "2026-12-24"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    let err = quota(&app)
        .adjust_distribution(pb::AdjustDistributionRequest {
            name: q.name.clone(),
            changes: vec![change(1)],
        })
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Code::FailedPrecondition,
        "an established quota is fixed"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_decision_is_published_once_with_the_ministers_line_and_the_country_table() {
    let (app, q) = formed().await;
    adjust(&app, &q).await;
    establish(&app, &q).await;
    app.set_clock("2026-12-28T09:00:00+05:00");
    // No decision with a blank minister's line: the ministry's profile names its head.
    let minister = clear_head(&app, "bodies/ministry").await;
    let err = quota(&app)
        .publish_decision(pb::PublishDecisionRequest {
            name: q.name.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert_eq!(reason(&err), "BODY_PROFILE_INCOMPLETE");
    assert!(err.message().contains("bodies/ministry"), "{err:?}");
    restore_head(&app, minister).await;
    let v1 = publish(&app, &q).await;
    assert_eq!(v1.version, 1);
    assert!(!v1.late);
    let err = quota(&app)
        .publish_decision(pb::PublishDecisionRequest {
            name: q.name.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::AlreadyExists);
    // p. 19: the decision is archived at once: with the dev root's CRL and no TSA, its
    // seal's validation data is embedded (B-LT data; B-LTA with a TSA).
    let decision = app
        .documents()
        .get_document(pb::GetDocumentRequest {
            name: v1.document.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        decision.extension_level,
        pb::ExtensionLevel::BLt as i32,
        "{decision:#?}"
    );
    let text1 = verify(&app, &v1.document).await;
    for phrase in [
        "Об установлении квоты на привлечение иностранной рабочей силы в Республику Казахстан на 2027 год и ее распределении между областями, городами республиканского значения, столицей",
        "В соответствии с подпунктом 4) статьи 11 Закона Республики Казахстан «О миграции населения»",
        "Резерв уполномоченного органа",
        "область Ұлытау",
        "методом наибольших остатков",
        // The minister's line ends the decision; the sender is the ministry's profile.
        "Министр труда и социальной защиты населения Республики Казахстан Ахметжанов Нұрлан Серікұлы",
        "Электронная печать:",
        "от «24» декабря 2026 года № 412",
    ] {
        assert!(text1.contains(phrase), "{phrase:?} missing from:\n{text1}");
    }
    // p. 20.1: the country part by country and category, region by region.
    let uz = granted(&v1.cells, AKMOLA, P::Countries, "3");
    assert!(uz > 0);
    for phrase in [
        "Распределение квоты по странам исхода в разрезе категорий".to_string(),
        format!("Акмолинская область Республика Узбекистан 0 0 {uz} 0 0 {uz}"),
    ] {
        assert!(
            text1.contains(phrase.as_str()),
            "{phrase:?} missing from:\n{text1}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn each_redistribution_is_a_new_version_and_the_totals_never_change() {
    let (app, q) = formed().await;
    adjust(&app, &q).await;
    establish(&app, &q).await;
    let v1 = publish(&app, &q).await;
    // p. 21: redistributions in 2027, each a new version; totals never change.
    app.set_clock("2027-02-10T10:00:00+05:00");
    let too_many = quota(&app)
        .redistribute_quota(pb::RedistributeQuotaRequest {
            name: q.name.clone(),
            moves: vec![mv(P::Permits, "3", "", 10_000)],
        })
        .await
        .unwrap_err();
    assert_invalid(&too_many, "moves[0].count");
    let err = quota(&app)
        .redistribute_quota(pb::RedistributeQuotaRequest {
            name: q.name.clone(),
            moves: vec![pb::Move {
                basis: String::new(),
                ..mv(P::Permits, "3", "", 1)
            }],
        })
        .await
        .unwrap_err();
    assert_invalid(&err, "moves[0].basis");
    let (v2, v3) = redistribute(&app, &q).await;
    assert_eq!(v2.version, 2);
    assert_eq!(v3.version, 3);
    // p. 21 sets no deadline: redistributions are never late.
    assert!(!v2.late && !v3.late);
    for p in [P::Permits, P::Countries, P::Immigrants] {
        assert_eq!(part(&v3.parts, p).allocated, part(&v1.parts, p).allocated);
    }
    assert_eq!(
        granted(&v3.cells, ASTANA, P::Permits, "3"),
        granted(&v1.cells, ASTANA, P::Permits, "3") + 3
    );
    assert_eq!(
        granted(&v3.cells, AKMOLA, P::Immigrants, ""),
        granted(&v1.cells, AKMOLA, P::Immigrants, "") - 40
    );
    app.stop().await;
}

/// The category string a cell has always carried, for its enum.
fn category_str(c: pb::WorkerCategory) -> &'static str {
    match c {
        pb::WorkerCategory::Unspecified => "",
        pb::WorkerCategory::First => "1",
        pb::WorkerCategory::Second => "2",
        pb::WorkerCategory::Third => "3",
        pb::WorkerCategory::Fourth => "4",
        pb::WorkerCategory::Seasonal => "seasonal",
    }
}

#[tokio::test]
async fn cells_and_moves_carry_their_category_as_an_enum_that_wins_over_the_string() {
    let (app, q) = formed().await;
    // Every cell's enum equals its deprecated string.
    assert!(q.cells.iter().any(|c| c.worker_category != 0));
    for c in &q.cells {
        let category = pb::WorkerCategory::try_from(c.worker_category).unwrap();
        assert_eq!(category_str(category), c.category, "{c:?}");
    }
    // A change naming the 3rd category by enum and the 1st by string changes the 3rd.
    let third = akmola_third_permits(&q);
    let first_before = granted(&q.cells, AKMOLA, P::Permits, "1");
    let adjusted = quota(&app)
        .adjust_distribution(pb::AdjustDistributionRequest {
            name: q.name.clone(),
            changes: vec![pb::CellChange {
                category: "1".into(),
                worker_category: pb::WorkerCategory::Third as i32,
                ..change(third.granted - 2)
            }],
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        granted(&adjusted.cells, AKMOLA, P::Permits, "3"),
        third.granted - 2
    );
    assert_eq!(
        granted(&adjusted.cells, AKMOLA, P::Permits, "1"),
        first_before
    );
    // The string alone still works for older clients; an unknown enum value is refused.
    let err = quota(&app)
        .adjust_distribution(pb::AdjustDistributionRequest {
            name: q.name.clone(),
            changes: vec![pb::CellChange {
                category: String::new(),
                worker_category: 42,
                ..change(1)
            }],
        })
        .await
        .unwrap_err();
    assert_invalid(&err, "changes[0].worker_category");

    establish(&app, &q).await;
    let v1 = publish(&app, &q).await;
    app.set_clock("2027-02-10T10:00:00+05:00");
    let v2 = quota(&app)
        .redistribute_quota(pb::RedistributeQuotaRequest {
            name: q.name.clone(),
            moves: vec![pb::Move {
                worker_category: pb::WorkerCategory::Third as i32,
                ..mv(P::Permits, "1", "", 3)
            }],
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        granted(&v2.cells, ASTANA, P::Permits, "3"),
        granted(&v1.cells, ASTANA, P::Permits, "3") + 3
    );
    assert_eq!(
        granted(&v2.cells, ASTANA, P::Permits, "1"),
        granted(&v1.cells, ASTANA, P::Permits, "1")
    );
    let [m] = v2.moves.as_slice() else {
        panic!("one move: {:?}", v2.moves)
    };
    assert_eq!(m.worker_category, pb::WorkerCategory::Third as i32);
    assert_eq!(m.category, "3", "the string follows the enum");
    app.stop().await;
}

#[tokio::test]
async fn a_reader_fetches_every_version_as_it_was_published() {
    let (app, _q, v1) = three_versions().await;
    app.set_clock("2027-03-01T10:00:00+05:00");
    let list = quota(&app)
        .list_published_decisions(pb::ListPublishedDecisionsRequest {
            quota_year: 2027,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .decisions;
    assert_eq!(
        list.iter().map(|d| d.version).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    // Pages of two: versions 1–2, then 3 with no further token; a token is bound to
    // the year it was issued for.
    let page = |size: i32, token: &str, quota_year: u32| pb::ListPublishedDecisionsRequest {
        quota_year,
        page_size: size,
        page_token: token.into(),
    };
    let first = quota(&app)
        .list_published_decisions(page(2, "", 2027))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        first
            .decisions
            .iter()
            .map(|d| d.version)
            .collect::<Vec<_>>(),
        [1, 2]
    );
    assert!(!first.next_page_token.is_empty());
    let second = quota(&app)
        .list_published_decisions(page(2, &first.next_page_token, 2027))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        second
            .decisions
            .iter()
            .map(|d| d.version)
            .collect::<Vec<_>>(),
        [3]
    );
    assert!(second.next_page_token.is_empty());
    for (size, token, year) in [
        (2, first.next_page_token.as_str(), 0),
        (2, "bm90LWEtdG9rZW4", 2027),
    ] {
        let err = quota(&app)
            .list_published_decisions(page(size, token, year))
            .await
            .unwrap_err();
        assert_invalid(&err, "page_token");
    }
    let err = quota(&app)
        .list_published_decisions(page(-1, "", 2027))
        .await
        .unwrap_err();
    assert_invalid(&err, "page_size");
    for version in 1..=3 {
        let d = quota(&app)
            .get_published_decision(pb::GetPublishedDecisionRequest {
                quota_year: 2027,
                version,
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(d.version, version);
        let text = verify(&app, &d.document).await;
        assert_eq!(
            (d.order_number.as_str(), d.order_date.as_str()),
            ("412", "2026-12-24")
        );
        // Every version keeps the order's number and date.
        assert!(text.contains("от «24» декабря 2026 года № 412"), "{text}");
        if version == 3 {
            assert!(
                text.contains("Редакция № 3 от «10» февраля 2027 года"),
                "{text}"
            );
            assert!(
                text.contains("Перераспределение квоты (пункт 21 Правил)"),
                "{text}"
            );
        }
    }
    let v1_again = quota(&app)
        .get_published_decision(pb::GetPublishedDecisionRequest {
            quota_year: 2027,
            version: 1,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(v1_again.cells, v1.cells);
    let latest = quota(&app)
        .get_published_decision(pb::GetPublishedDecisionRequest {
            quota_year: 2027,
            version: 0,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(latest.version, 3);
    let err = quota(&app)
        .get_published_decision(pb::GetPublishedDecisionRequest {
            quota_year: 2031,
            version: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    app.stop().await;
}

#[tokio::test]
async fn the_ministry_allocates_from_its_reserve_within_the_established_quota_and_no_further() {
    let (app, q, _v1) = three_versions().await;
    let latest = quota(&app)
        .get_published_decision(pb::GetPublishedDecisionRequest {
            quota_year: 2027,
            version: 0,
        })
        .await
        .unwrap()
        .into_inner();
    // p. 21: the ministry allocates from its reserve of a part within the established
    // quota, and no further.
    app.set_clock("2027-03-02T10:00:00+05:00");
    let from_reserve = |count| pb::Move {
        from_region: "reserve".into(),
        to_region: AKMOLA.into(),
        part: P::Countries as i32,
        category: "4".into(),
        country_code: "TJ".into(),
        count,
        basis: "Предложение акимата Акмолинской области от 20.02.2027 № 7".into(),
        ..Default::default()
    };
    let left = part(&latest.parts, P::Countries).reserve;
    assert_eq!(left, 680);
    let err = quota(&app)
        .redistribute_quota(pb::RedistributeQuotaRequest {
            name: q.name.clone(),
            moves: vec![from_reserve(left + 1)],
        })
        .await
        .unwrap_err();
    assert_invalid(&err, "moves[0].count");
    let err = quota(&app)
        .redistribute_quota(pb::RedistributeQuotaRequest {
            name: q.name.clone(),
            moves: vec![from_reserve(left - 100), from_reserve(101)],
        })
        .await
        .unwrap_err();
    assert_invalid(&err, "moves[1].count");
    let v4 = quota(&app)
        .redistribute_quota(pb::RedistributeQuotaRequest {
            name: q.name.clone(),
            moves: vec![from_reserve(100)],
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(v4.version, 4);
    assert_eq!(v4.moves[0].from_region, "reserve");
    let countries = part(&v4.parts, P::Countries);
    assert_eq!(
        (countries.allocated, countries.reserve, countries.ceiling),
        (290 + 100, left - 100, 970)
    );
    assert_eq!(granted(&v4.cells, AKMOLA, P::Countries, "4"), 100);
    let text4 = verify(&app, &v4.document).await;
    assert!(text4.contains("Редакция № 4"), "{text4}");
    // The redistribution table names the country of each move.
    assert!(
        text4.contains(
            "Резерв уполномоченного органа Акмолинская область по странам исхода иностранной рабочей силы 4-я категория Республика Таджикистан 100"
        ),
        "{text4}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_late_publication_is_possible_and_establishing_after_1_january_is_refused() {
    let app = TestApp::spawn_at("2027-12-20T10:00:00+05:00").await;
    set_labour_force(&app, 2028).await;
    let form = |app: &TestApp| {
        let mut c = quota(app);
        async move {
            c.form_quota(pb::FormQuotaRequest {
                quota_years: vec![2028, 2029],
                permit_percent: "0.25".into(),
                country_percent: String::new(),
                immigrant_percent: "2.9".into(),
            })
            .await
            .unwrap()
            .into_inner()
        }
    };
    // p. 5: the years of one quota make a period; 2029's own labour force does not
    // change a quota formed from 2028's.
    quota(&app)
        .set_labour_force(pb::SetLabourForceRequest {
            quota_year: 2029,
            region_code: AKMOLA.into(),
            persons: 900_000,
            source: "Прогноз".into(),
        })
        .await
        .unwrap();
    let err = quota(&app)
        .form_quota(pb::FormQuotaRequest {
            quota_years: vec![2028, 2030],
            permit_percent: "0.25".into(),
            country_percent: String::new(),
            immigrant_percent: "2.9".into(),
        })
        .await
        .unwrap_err();
    assert_invalid(&err, "quota_years");
    let q = form(&app).await;
    assert_eq!(q.quota_years, [2028, 2029]);
    assert_eq!(q.labour_force, 9_700_000);
    // Nothing filed: all of each part is the ministry's reserve.
    assert_eq!(part(&q.parts, P::Permits).reserve, 24_250);
    assert_eq!(part(&q.parts, P::Immigrants).reserve, 281_300);
    let spare = form(&app).await;
    // Monday 20 December 2027: due 23 December.
    let established = quota(&app)
        .establish_quota(order(&q.name, "18", "2027-12-20"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(established.publish_due_date, "2027-12-23");
    let err = quota(&app)
        .establish_quota(order(&spare.name, "19", "2027-12-20"))
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Code::AlreadyExists,
        "one established quota per year"
    );

    app.set_clock("2027-12-28T10:00:00+05:00");
    let published = quota(&app)
        .publish_decision(pb::PublishDecisionRequest {
            name: q.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(published.late);
    let text = verify(&app, &published.document).await;
    assert!(text.contains("на 2028, 2029 годы"), "{text}");
    assert!(
        text.contains("на 2028 год и численности рабочей силы на 2028 год и действуют в том же размере в каждом году периода с 2028 по 2029 год (пункты 5, 18 Правил)"),
        "{text}"
    );
    let overdue = app
        .calendar()
        .list_overdue(pb::ListOverdueRequest {
            quota_year: 2028,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .items;
    let late = overdue
        .iter()
        .find(|i| i.step == "DECISION_PUBLICATION")
        .expect("late publication listed");
    assert_eq!(late.subject, q.name);
    assert_eq!(late.due_date, "2027-12-23");
    assert!(late.done_time.is_some());

    app.set_clock("2028-01-01T00:00:00+05:00");
    let err = quota(&app)
        .establish_quota(order(&spare.name, "19", "2027-12-31"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert_eq!(reason(&err), "ESTABLISH_DEADLINE_PASSED");
    let err = quota(&app)
        .redistribute_quota(pb::RedistributeQuotaRequest {
            name: spare.name.clone(),
            moves: vec![],
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    app.stop().await;
}

#[tokio::test]
async fn the_decision_is_cited_by_the_ministrys_order_number_and_date() {
    let app = TestApp::spawn_at("2027-12-20T10:00:00+05:00").await;
    set_labour_force(&app, 2028).await;
    let q = quota(&app)
        .form_quota(pb::FormQuotaRequest {
            quota_years: vec![2028],
            permit_percent: "0.25".into(),
            country_percent: String::new(),
            immigrant_percent: "2.9".into(),
        })
        .await
        .unwrap()
        .into_inner();
    // Without the order's registration the quota cannot be established (p. 19).
    let err = quota(&app)
        .establish_quota(order(&q.name, "", ""))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert_eq!(reason(&err), "ORDER_NOT_REGISTERED");
    for (number, date, field) in [
        ("412", "", "order_date"),
        ("", "2027-12-20", "order_number"),
        ("412", "20.12.2027", "order_date"),
        ("412", "2027-12-21", "order_date"),
        ("412", "2027-12-19", "order_date"),
    ] {
        let err = quota(&app)
            .establish_quota(order(&q.name, number, date))
            .await
            .unwrap_err();
        assert_invalid(&err, field);
    }
    let draft = quota(&app)
        .get_quota(pb::GetQuotaRequest {
            name: q.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(draft.state, pb::quota::State::Draft as i32);
    assert_eq!(draft.order_number, "");

    let established = quota(&app)
        .establish_quota(order(&q.name, " 07-2/418 ", "2027-12-20"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(established.order_number, "07-2/418");
    assert_eq!(established.order_date, "2027-12-20");
    let published = quota(&app)
        .publish_decision(pb::PublishDecisionRequest {
            name: q.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (
            published.order_number.as_str(),
            published.order_date.as_str()
        ),
        ("07-2/418", "2027-12-20")
    );
    let text = verify(&app, &published.document).await;
    assert!(
        text.contains("от «20» декабря 2027 года № 07-2/418"),
        "{text}"
    );
    assert!(
        !text.contains("КВ-2028"),
        "the internal number is not the act's: {text}"
    );
    app.stop().await;
}
