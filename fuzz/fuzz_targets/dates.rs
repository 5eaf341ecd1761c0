//! Dates: quota years against any clock, calendars from any JSON, and working-day
//! arithmetic from any date by any count: answers or refusals, never a panic.
#![no_main]

use chrono::{DateTime, Datelike, NaiveDate};
use kvota::domain::QuotaYear;
use kvota::domain::calendar::Calendar;
use libfuzzer_sys::arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let (Ok(year), Ok(secs), Ok(day), Ok(days), Ok(json)) = (
        u.arbitrary::<u32>(),
        u.arbitrary::<i64>(),
        u.arbitrary::<i32>(),
        u.arbitrary::<i64>(),
        u.arbitrary::<&str>(),
    ) else {
        return;
    };
    if let Some(now) = DateTime::from_timestamp(secs % 100_000_000_000, 0) {
        if let Ok(y) = QuotaYear::parse(year, now) {
            assert!(y.get() > now.year() - 1);
        }
    }
    static REFERENCE: std::sync::OnceLock<Calendar> = std::sync::OnceLock::new();
    let parsed = Calendar::from_json(json).ok();
    let calendar = parsed
        .as_ref()
        .unwrap_or_else(|| REFERENCE.get_or_init(Calendar::reference));
    if let Some(date) = NaiveDate::from_num_days_from_ce_opt(day) {
        let _ = calendar.is_working_day(date);
        if let Some(next) = calendar.checked_next_working_day_on_or_after(date) {
            assert!(next >= date);
            assert!(calendar.is_working_day(next));
        }
        let n = days % 3_000;
        if let Some(later) = calendar.checked_add_working_days(date, n) {
            if n > 0 {
                assert!(later > date);
            }
        }
        let _ = calendar.non_working_days(date.year(), true);
    }
});
