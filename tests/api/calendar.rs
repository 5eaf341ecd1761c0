//! The working-day calendar over gRPC: known days off, carry-overs, transfers, and
//! extending it for a future year.

use kvota::api::pb;

use crate::helpers::*;

async fn add(app: &TestApp, date: &str, days: i32) -> String {
    app.calendar()
        .add_working_days(pb::AddWorkingDaysRequest {
            date: date.into(),
            days,
        })
        .await
        .unwrap()
        .into_inner()
        .date
}

#[tokio::test]
async fn working_days_skip_new_year_christmas_and_nauryz() {
    let app = TestApp::spawn().await;
    // 1–2 January 2026 (Thu, Fri) off, weekend, 7 January off.
    assert_eq!(add(&app, "2025-12-31", 1).await, "2026-01-05");
    assert_eq!(add(&app, "2025-12-31", 2).await, "2026-01-06");
    assert_eq!(add(&app, "2025-12-31", 3).await, "2026-01-08");
    // Nauryz 2026: 21–22 March fall on the weekend, so 24 and 25 March are off too.
    assert_eq!(add(&app, "2026-03-20", 1).await, "2026-03-26");
    assert_eq!(add(&app, "2026-03-26", -1).await, "2026-03-20");
    // 2025's transfer: Friday 3 January off, Sunday 5 January worked.
    assert_eq!(add(&app, "2025-01-02", 1).await, "2025-01-05");
    app.stop().await;
}

#[tokio::test]
async fn known_days_off_of_2025_and_2026_are_listed() {
    let app = TestApp::spawn().await;
    let list = |year: i32| {
        let mut c = app.calendar();
        async move {
            c.list_non_working_days(pb::ListNonWorkingDaysRequest {
                year,
                include_weekends: false,
            })
            .await
            .unwrap()
            .into_inner()
            .days
        }
    };
    let d2025 = list(2025).await;
    let has = |days: &[pb::NonWorkingDay], date: &str| days.iter().any(|d| d.date == date);
    for date in [
        "2025-01-01",
        "2025-01-02",
        "2025-01-03",
        "2025-01-07",
        "2025-03-21",
        "2025-05-01",
        "2025-05-07",
        "2025-05-09",
        "2025-07-07",
        "2025-10-25",
        "2025-12-16",
    ] {
        assert!(has(&d2025, date) || date == "2025-10-25", "{date} in 2025");
    }
    assert!(
        has(&d2025, "2025-09-01"),
        "30 August 2025 (Saturday) carried over to 1 September"
    );
    let d2026 = list(2026).await;
    for date in [
        "2026-01-01",
        "2026-01-02",
        "2026-01-07",
        "2026-03-09",
        "2026-03-23",
        "2026-03-24",
        "2026-03-25",
        "2026-05-01",
        "2026-10-26",
        "2026-12-16",
    ] {
        assert!(has(&d2026, date), "{date} in 2026: {d2026:?}");
    }
    // 30 August is no longer a holiday from 2026.
    assert!(!has(&d2026, "2026-08-31"));
    let carried = d2026.iter().find(|d| d.date == "2026-03-24").unwrap();
    assert_eq!(carried.reason, "CARRIED_OVER");
    app.stop().await;
}

#[tokio::test]
async fn a_future_years_transfer_is_added_through_the_api() {
    let app = TestApp::spawn().await;
    assert_eq!(add(&app, "2027-01-04", 1).await, "2027-01-05");
    let change = app
        .calendar()
        .add_day_transfer(pb::AddDayTransferRequest {
            date: "2027-01-05".into(),
            kind: "DAY_OFF".into(),
            note_ru: "Постановление Правительства (тест)".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        change
            .days
            .iter()
            .any(|d| d.date == "2027-01-05" && d.reason == "TRANSFER")
    );
    assert_eq!(add(&app, "2027-01-04", 1).await, "2027-01-06");
    let err = app
        .calendar()
        .add_day_transfer(pb::AddDayTransferRequest {
            date: "2027-01-05".into(),
            kind: "DAY_OFF".into(),
            note_ru: "again".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::AlreadyExists);
    let err = app
        .calendar()
        .add_day_transfer(pb::AddDayTransferRequest {
            date: "2027-02-30".into(),
            kind: "HOLIDAY".into(),
            note_ru: String::new(),
        })
        .await
        .unwrap_err();
    assert_invalid(&err, "date");
    assert_invalid(&err, "kind");
    assert_invalid(&err, "note_ru");
    let err = app
        .calendar()
        .add_working_days(pb::AddWorkingDaysRequest {
            date: "tomorrow".into(),
            days: 1,
        })
        .await
        .unwrap_err();
    assert_invalid(&err, "date");
    app.stop().await;
}

#[tokio::test]
async fn the_deadlines_of_a_quota_year_follow_the_rules() {
    let app = TestApp::spawn().await;
    let d = app
        .calendar()
        .get_deadlines(pb::GetDeadlinesRequest { quota_year: 2027 })
        .await
        .unwrap()
        .into_inner()
        .deadlines;
    let due = |step: &str| d.iter().find(|x| x.step == step).unwrap().due_date.clone();
    assert_eq!(due("EMPLOYER_APPLICATIONS"), "2026-09-30");
    assert_eq!(due("REGIONAL_ASSESSMENT"), "2026-10-09");
    assert_eq!(due("COMMISSION"), "2026-10-15");
    // "до 1 ноября": 31 October 2026 is a Saturday, 1 November a Sunday; the last day
    // moves to Monday 2 November (Civil Code art. 172).
    assert_eq!(due("REGIONAL_FILING"), "2026-11-02");
    assert_eq!(due("CENTRAL_PROPOSALS"), "2026-11-02");
    assert_eq!(due("MINISTRY_DECISION"), "2026-12-31");
    let notice = d.iter().find(|x| x.step == "EMPLOYER_NOTICE").unwrap();
    assert!(notice.relative_to.contains("5 working days"));
    assert!(d.iter().any(|x| x.step == "DECISION_PUBLICATION"));
    app.stop().await;
}

#[tokio::test]
async fn a_transfer_that_clashes_with_the_weekday_or_a_holiday_is_refused_and_not_stored() {
    let app = TestApp::spawn().await;
    let transfer = |date: &str, kind: &str| {
        let mut c = app.calendar();
        let request = pb::AddDayTransferRequest {
            date: date.into(),
            kind: kind.into(),
            note_ru: "Постановление Правительства (тест)".into(),
        };
        async move { c.add_day_transfer(request).await }
    };
    let audited = || {
        let mut a = pb::audit_service_client::AuditServiceClient::new(app.channel.clone());
        async move {
            a.list_audit_records(pb::ListAuditRecordsRequest::default())
                .await
                .unwrap()
                .into_inner()
                .records
                .into_iter()
                .map(|r| r.resource)
                .filter(|r| r.starts_with("calendar/"))
                .collect::<Vec<_>>()
        }
    };
    let reason_on = |year: i32, date: &'static str| {
        let mut c = app.calendar();
        async move {
            c.list_non_working_days(pb::ListNonWorkingDaysRequest {
                year,
                include_weekends: true,
            })
            .await
            .unwrap()
            .into_inner()
            .days
            .into_iter()
            .find(|d| d.date == date)
            .map(|d| d.reason)
        }
    };

    // A day off on Saturday 9 January 2027: a transfer moves a weekday off.
    let err = transfer("2027-01-09", "DAY_OFF").await.unwrap_err();
    assert_invalid(&err, "date");
    assert!(err.message().contains("weekday"), "{err:?}");
    // A working day on a weekday.
    let err = transfer("2027-01-11", "WORKING_DAY").await.unwrap_err();
    assert_invalid(&err, "date");

    // Monday 1 May 2028 is a public holiday: a transfer does not move holidays.
    let err = transfer("2028-05-01", "DAY_OFF").await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::FailedPrecondition, "{err:?}");
    let info = tonic_types::StatusExt::get_details_error_info(&err).unwrap();
    assert_eq!(info.reason, "TRANSFER_ON_HOLIDAY");
    assert_eq!(info.metadata["field"], "date");
    assert_eq!(info.metadata["date"], "2028-05-01");
    assert_eq!(
        info.metadata["holiday"],
        "Праздник единства народа Казахстана"
    );
    // Saturday 1 May 2027 made a working day: the same.
    let err = transfer("2027-05-01", "WORKING_DAY").await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::FailedPrecondition, "{err:?}");

    // Nothing of it was stored.
    assert_eq!(audited().await, Vec::<String>::new());
    assert_eq!(
        reason_on(2027, "2027-01-09").await.as_deref(),
        Some("WEEKEND")
    );
    assert_eq!(reason_on(2027, "2027-01-11").await, None);
    assert_eq!(add(&app, "2027-01-08", 1).await, "2027-01-11");

    // A valid transfer still is: Friday 8 January 2027 off, Saturday 16 January worked.
    transfer("2027-01-08", "DAY_OFF").await.unwrap();
    transfer("2027-01-16", "WORKING_DAY").await.unwrap();
    assert_eq!(
        reason_on(2027, "2027-01-08").await.as_deref(),
        Some("TRANSFER")
    );
    assert_eq!(reason_on(2027, "2027-01-16").await, None);
    assert_eq!(add(&app, "2027-01-07", 1).await, "2027-01-11");
    assert_eq!(add(&app, "2027-01-15", 1).await, "2027-01-16");
    assert_eq!(
        audited().await,
        [
            "calendar/day-transfers/2027-01-08",
            "calendar/day-transfers/2027-01-16"
        ]
    );
    app.stop().await;
}

/// Civil Code of the Republic of Kazakhstan, art. 172: a last day that is a day off moves
/// to the next working day. For quota year 2027 only "до 1 ноября" moves (31 October 2026
/// is a Saturday); for 2029 "до 1 октября", "не позднее 15 октября" and "до 1 января" move.
#[tokio::test]
async fn deadlines_on_a_day_off_move_to_the_next_working_day() {
    let app = TestApp::spawn().await;
    let deadlines = |year: u32| {
        let mut c = app.calendar();
        async move {
            c.get_deadlines(pb::GetDeadlinesRequest { quota_year: year })
                .await
                .unwrap()
                .into_inner()
                .deadlines
        }
    };
    let d2027 = deadlines(2027).await;
    let get = |d: &[pb::Deadline], step: &str| d.iter().find(|x| x.step == step).unwrap().clone();
    let filing = get(&d2027, "REGIONAL_FILING");
    assert_eq!(filing.nominal_due_date, "2026-10-31");
    assert_eq!(filing.due_date, "2026-11-02");
    let late_from = filing.due_time.unwrap();
    // 3 November 2026 00:00 in Almaty.
    assert_eq!(late_from.seconds, 1_793_646_000);
    let applications = get(&d2027, "EMPLOYER_APPLICATIONS");
    assert_eq!(
        (
            applications.nominal_due_date.as_str(),
            applications.due_date.as_str()
        ),
        ("2026-09-30", "2026-09-30")
    );
    assert_eq!(get(&d2027, "EMPLOYER_NOTICE").nominal_due_date, "");

    let d2029 = deadlines(2029).await;
    for (step, nominal, moved) in [
        // Saturday 30 September 2028.
        ("EMPLOYER_APPLICATIONS", "2028-09-30", "2028-10-02"),
        // Sunday 15 October 2028.
        ("COMMISSION", "2028-10-15", "2028-10-16"),
        // Sunday 31 December 2028; 1 and 2 January are holidays.
        ("MINISTRY_DECISION", "2028-12-31", "2029-01-03"),
    ] {
        let d = get(&d2029, step);
        assert_eq!(
            (d.nominal_due_date.as_str(), d.due_date.as_str()),
            (nominal, moved)
        );
    }
    app.stop().await;
}
