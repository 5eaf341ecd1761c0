//! Appendix 4 (p. 17): the country-of-origin figures broken down by occupation, as the
//! form's "(в разрезе профессий и специальностей)" columns ask, through the real server.

use kvota::api::pb;
use kvota::api::pb::WorkerCategory as C;

use crate::helpers::*;

const AKMOLA: &str = "110000000";

fn occupation(code: &str, name: &str, category: C, count: u32) -> pb::OriginOccupationLine {
    pb::OriginOccupationLine {
        occupation_code: code.into(),
        occupation_name: name.into(),
        category: category as i32,
        count,
    }
}

fn uzbekistan(
    counts: pb::CategoryCounts,
    lines: Vec<pb::OriginOccupationLine>,
) -> pb::OriginCountryRow {
    pb::OriginCountryRow {
        country_code: "UZ".into(),
        counts: Some(counts),
        lines,
        ..Default::default()
    }
}

#[tokio::test]
async fn appendix_4_lists_the_occupations_of_each_category() {
    let app = TestApp::spawn_at("2026-10-09T10:00:00+05:00").await;
    let mut r = app.regional();
    r.set_regional_assessment(pb::SetRegionalAssessmentRequest {
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
            justification: "Обоснование по пункту 7 Правил".into(),
            ..Default::default()
        }),
    })
    .await
    .unwrap();
    r.set_labour_immigrant_need(pb::SetLabourImmigrantNeedRequest {
        region_code: AKMOLA.into(),
        quota_year: 2027,
        current_count: 900,
        need: 1000,
        justification: "Спрос домохозяйств".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    let lines = vec![
        occupation("2142", "Инженер-строитель", C::Third, 40),
        occupation("7212", "Электрогазосварщик", C::Fourth, 35),
        occupation("7112", "Каменщик", C::Fourth, 25),
    ];
    let set = |rows: Vec<pb::OriginCountryRow>| {
        let mut r = app.regional();
        async move {
            r.set_origin_country_quota(pb::SetOriginCountryQuotaRequest {
                region_code: AKMOLA.into(),
                quota_year: 2027,
                rows,
                ..Default::default()
            })
            .await
        }
    };

    // A category's count, when given with its lines, must be their sum.
    let err = set(vec![uzbekistan(
        pb::CategoryCounts {
            third: 5,
            ..Default::default()
        },
        lines.clone(),
    )])
    .await
    .unwrap_err();
    assert_invalid(&err, "rows[0].counts.third");
    let mut twice = lines.clone();
    twice.push(occupation("7212", "Электрогазосварщик", C::Fourth, 1));
    let err = set(vec![uzbekistan(Default::default(), twice)])
        .await
        .unwrap_err();
    assert_invalid(&err, "rows[0].lines[3].occupation_code");
    let err = set(vec![uzbekistan(
        Default::default(),
        vec![occupation("21x", "Инженер", C::Third, 0)],
    )])
    .await
    .unwrap_err();
    assert_invalid(&err, "rows[0].lines[0].occupation_code");
    assert_invalid(&err, "rows[0].lines[0].count");

    // Third derived from its line, fourth given and equal to its lines, seasonal without
    // lines kept as given; Kyrgyzstan has no breakdown at all.
    let stored = set(vec![
        uzbekistan(
            pb::CategoryCounts {
                fourth: 60,
                seasonal: 15,
                ..Default::default()
            },
            lines.clone(),
        ),
        pb::OriginCountryRow {
            country_code: "KG".into(),
            counts: Some(pb::CategoryCounts {
                second: 2,
                ..Default::default()
            }),
            ..Default::default()
        },
    ])
    .await
    .unwrap()
    .into_inner();
    let uz = &stored.rows[0];
    let c = uz.counts.unwrap();
    assert_eq!((c.third, c.fourth, c.seasonal), (40, 60, 15));
    assert_eq!(uz.lines, lines);
    assert!(stored.rows[1].lines.is_empty());

    let filing = r
        .file_with_ministry(pb::FileWithMinistryRequest {
            region_code: AKMOLA.into(),
            quota_year: 2027,
        })
        .await
        .unwrap()
        .into_inner();
    let pdf = app
        .download(&filing.appendix4, pb::DocumentFormat::Pdf)
        .await;
    let path = app.path("appendix4.pdf");
    std::fs::write(&path, pdf).unwrap();
    let o = tool("pdftotext", &["-raw", path.to_str().unwrap(), "-"]);
    let a4 = String::from_utf8_lossy(&o.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    // Narrow category cells break and hyphenate the names: compare without line breaks
    // and soft hyphens.
    let joined: String = a4
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{ad}')
        .collect();
    for phrase in [
        "3-я категория (в разрезе профессий и специальностей)",
        "2142 Инженер-строитель — 40",
        "7212 Электрогазосварщик — 35",
        "7112 Каменщик — 25",
        "Страна исхода: Кыргызская Республика (KG)",
    ] {
        let phrase: String = phrase.chars().filter(|c| !c.is_whitespace()).collect();
        assert!(joined.contains(&phrase), "{phrase:?} missing from:\n{a4}");
    }
    // Uzbekistan: 115 in all, the seasonal 15 given without lines.
    assert!(
        a4.contains("Страна исхода: Республика Узбекистан (UZ) 1 115"),
        "{a4}"
    );
    assert!(a4.contains("Итого 117 0 2 40 60 15"), "{a4}");
    app.stop().await;
}
