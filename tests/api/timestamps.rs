//! Signature timestamps (PAdES B-T) from a timestamp authority on loopback: a signature
//! whose certificate has since expired stays valid when a timestamp proves it was made
//! in time, and is indeterminate without one. The setup is `signed_then_expired`.

use kvota::api::pb::signature_verification::AdesLevel;

use crate::helpers::*;
use crate::timestamp_helpers::*;

#[tokio::test]
async fn a_timestamped_signature_outlives_its_certificate() {
    let s = signed_then_expired().await;
    let report = s.verify(&s.stamped).await;
    assert!(report.valid, "{report:#?}");
    assert!(
        report.signatures.iter().all(|s| s.timestamp_time.is_some()),
        "{report:#?}"
    );
    // B-T, proven at the timestamp's time.
    for sig in &report.signatures {
        assert_eq!(sig.ades_level, AdesLevel::BT as i32, "{sig:#?}");
        assert_eq!(sig.best_signature_time, sig.timestamp_time);
    }
    s.app.stop().await;
}

#[tokio::test]
async fn an_untimestamped_signature_of_an_expired_certificate_is_indeterminate() {
    let s = signed_then_expired().await;
    let report = s.verify(&s.bare).await;
    assert!(!report.valid);
    let party = &report.signatures[1];
    assert_eq!(
        (party.indication.as_str(), party.sub_indication.as_str()),
        ("INDETERMINATE", "OUT_OF_BOUNDS_NO_POE"),
        "{report:#?}"
    );
    assert!(party.timestamp_time.is_none());
    // B-B, proven only at the time of the check, when its certificate had expired.
    assert_eq!(party.ades_level, AdesLevel::BB as i32);
    let best = party.best_signature_time.expect("a best signature time");
    assert!(
        best.seconds > party.signing_time.unwrap().seconds,
        "{party:#?}"
    );
    s.app.stop().await;
}

#[tokio::test]
async fn pyhanko_reads_the_timestamps_as_intact_and_trusted_and_finds_the_same_expiry() {
    let s = signed_then_expired().await;
    // (Its basic validation does not use a timestamp as proof of existence, so for the
    // stamped file it still reports the expiry where Kvota, like an AdES validation,
    // passes on the timestamp's evidence.)
    let path = s.file("stamped.pdf", &s.stamped).await;
    let o = s.pyhanko(&path, None);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert_eq!(
        out.matches("TIMESTAMP_TOKEN<INTACT:TRUSTED>").count(),
        2,
        "{out}"
    );
    let bare_path = s.file("bare-later.pdf", &s.bare).await;
    let o = s.pyhanko(&bare_path, Some(&s.later));
    let out = text(&o);
    assert!(
        out.contains("expired") && out.contains("Validation failed"),
        "{out}"
    );
    assert!(!out.contains("TIMESTAMP_TOKEN"), "{out}");
    s.app.stop().await;
}

#[tokio::test]
async fn pyhankos_ades_validation_gives_kvotas_indications_for_every_signature() {
    let s = signed_then_expired().await;
    // EN 319 102-1, with the timestamps as proof of existence, at the later time: the
    // stamped party signature passes, the bare one is OUT_OF_BOUNDS_NO_POE.
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/tools/ades_validate.py");
    for (name, doc) in [("stamped.pdf", &s.stamped), ("bare-later.pdf", &s.bare)] {
        let file = s.file(name, doc).await;
        let o = tool(
            "python3",
            &[
                script,
                "--trust",
                s.root_pem.to_str().unwrap(),
                "--trust",
                s.ca_pem.to_str().unwrap(),
                "--validation-time",
                &s.later,
                file.to_str().unwrap(),
            ],
        );
        assert!(o.status.success(), "{}", text(&o));
        let ades: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let theirs: Vec<(String, String)> = ades["signatures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["indication"].as_str().unwrap().to_owned(),
                    s["sub_indication"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let ours: Vec<(String, String)> = s
            .verify(doc)
            .await
            .signatures
            .iter()
            .map(|s| (s.indication.clone(), s.sub_indication.clone()))
            .collect();
        assert_eq!(ours, theirs, "{}", text(&o));
    }
    s.app.stop().await;
}

#[tokio::test]
async fn pdfsig_finds_both_signatures_of_the_timestamped_file_valid() {
    let s = signed_then_expired().await;
    let path = s.file("stamped.pdf", &s.stamped).await;
    let o = tool("pdfsig", &[path.to_str().unwrap()]);
    assert_eq!(
        text(&o).matches("Signature is Valid.").count(),
        2,
        "{}",
        text(&o)
    );
    s.app.stop().await;
}
