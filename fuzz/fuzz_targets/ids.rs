//! BIN/IIN, occupation codes and percentages: any text is parsed or refused, never a panic,
//! and what parses is exactly what was given.
#![no_main]

use kvota::domain::{Bin, OccupationCode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|s: &str| {
    if let Ok(b) = Bin::parse(s) {
        assert_eq!(b.as_str(), s);
        assert_eq!(s.len(), 12);
        let _ = b.looks_like_iin();
    }
    let _ = OccupationCode::parse(s);
    let _ = kvota::domain::apportion::parse_percent(s);
});
