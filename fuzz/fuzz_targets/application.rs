//! Applications (Appendix 1, p. 6): any field values are accepted or refused with field
//! violations, never a panic; an accepted draft keeps its lines and counts.
#![no_main]

use chrono::{TimeZone, Utc};
use kvota::domain::application::{ApplicationInput, LineInput};
use kvota::domain::{ApplicationDraft, Regions, WorkerCategory};
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;

fn input(u: &mut Unstructured) -> Result<ApplicationInput> {
    let categories = [
        WorkerCategory::First,
        WorkerCategory::Second,
        WorkerCategory::Third,
        WorkerCategory::Fourth,
    ];
    let n = u.int_in_range(0..=30)?;
    let mut lines = Vec::with_capacity(n);
    for _ in 0..n {
        lines.push(LineInput {
            occupation_code: u.arbitrary()?,
            occupation_name: u.arbitrary()?,
            category: if u.arbitrary()? {
                Some(*u.choose(&categories)?)
            } else {
                None
            },
            current_count: u.arbitrary()?,
            requested_count: u.arbitrary()?,
        });
    }
    Ok(ApplicationInput {
        quota_year: u.arbitrary()?,
        region_code: u.arbitrary()?,
        employer_bin: u.arbitrary()?,
        employer_name: u.arbitrary()?,
        employer_legal_address: u.arbitrary()?,
        lines,
        justification: u.arbitrary()?,
        head_position: u.arbitrary()?,
        head_full_name: u.arbitrary()?,
    })
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(input) = input(&mut u) else { return };
    let now = Utc.with_ymd_and_hms(2026, 9, 15, 5, 30, 0).unwrap();
    let regions = Regions::new(["110000000".to_owned()]);
    match ApplicationDraft::parse(&input, "application", &regions, now) {
        Ok(draft) => {
            assert_eq!(draft.lines.len(), input.lines.len());
            assert_eq!(draft.region_code, "110000000");
        }
        Err(v) => assert!(!v.is_empty()),
    }
});
