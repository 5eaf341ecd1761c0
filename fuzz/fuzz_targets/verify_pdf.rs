//! Uploaded PDFs (VerifyDocument): any bytes give a report or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|pdf: &[u8]| {
    if let Ok(reports) = kvota::sign::verify_pdf(pdf, &[]) {
        // Nothing is trusted here, so nothing may come out valid.
        assert!(reports.iter().all(|r| !r.chain_trusted));
    }
});
