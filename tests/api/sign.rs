//! The sign module without the service: sign, verify, tamper, determinism, double
//! signing, both cross-reference forms (samples in tests/data).

use std::path::Path;

pub fn sample(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(name),
    )
    .unwrap()
}

pub fn time(s: &str) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339(s).unwrap()
}

pub fn opts(field: &str) -> kvota::sign::PadesOptions {
    let mut o = kvota::sign::PadesOptions::new(field, time("2030-01-02T10:00:00+05:00"));
    o.reason = Some("Подписано электронной печатью".into());
    o.location = Some("Almaty, KZ".into());
    o
}

/// Flip one byte inside the data of the first FlateDecode stream (well inside
/// the signed range of the first revision).
pub fn tamper(pdf: &[u8]) -> Vec<u8> {
    let f = find(pdf, b"/FlateDecode").expect("a flate stream");
    let s = f + find(&pdf[f..], b"stream").unwrap() + b"stream".len();
    let pos = s + 20;
    let mut out = pdf.to_vec();
    out[pos] ^= 0x01;
    out
}

pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

use kvota::sign::cms::{self, CmsSignOptions};
use kvota::sign::keys::{self, CertSubject, KeyAlg, Signer};
use kvota::sign::pdf_syntax::{XrefForm, detect_xref};
use kvota::sign::{Failure, SignError, sign_pdf, verify_detached, verify_pdf};

const BIN: &str = "123456789012";

#[test]
fn xref_forms_detected() {
    assert_eq!(
        detect_xref(&sample("sample.pdf")).unwrap().0,
        XrefForm::Table
    );
    assert_eq!(
        detect_xref(&sample("sample-a2b.pdf")).unwrap().0,
        XrefForm::Table
    );
    assert_eq!(
        detect_xref(&sample("sample-xrefstream.pdf")).unwrap().0,
        XrefForm::Stream
    );
    assert!(matches!(
        detect_xref(b"%PDF-1.7\nnothing here"),
        Err(SignError::UnsupportedXref(_))
    ));
}

#[test]
fn sign_verify_all_samples() {
    let dir = tempfile::tempdir().unwrap();
    let pki = keys::make_dev_pki(dir.path(), BIN).unwrap();
    let trust = vec![pki.root_cert.clone()];
    for name in ["sample.pdf", "sample-a2b.pdf", "sample-xrefstream.pdf"] {
        let pdf = sample(name);
        let signed = sign_pdf(&pdf, &pki.seal, &opts("Signature1")).unwrap();
        assert_eq!(
            &signed[..pdf.len()],
            &pdf[..],
            "{name}: original bytes must be an untouched prefix"
        );
        assert_eq!(
            detect_xref(&signed).unwrap().0,
            detect_xref(&pdf).unwrap().0,
            "{name}: same xref form"
        );
        // deterministic (RSA + no CMS signingTime)
        assert_eq!(
            signed,
            sign_pdf(&pdf, &pki.seal, &opts("Signature1")).unwrap(),
            "{name}: deterministic"
        );
        // lopdf can read the result and sees the field
        let doc = lopdf::Document::load_mem(&signed).unwrap();
        let af = doc
            .catalog()
            .unwrap()
            .get(b"AcroForm")
            .unwrap()
            .as_dict()
            .unwrap();
        assert_eq!(af.get(b"SigFlags").unwrap().as_i64().unwrap(), 3);

        let reports = verify_pdf(&signed, &trust).unwrap();
        assert_eq!(reports.len(), 1, "{name}");
        let r = &reports[0];
        assert!(r.is_fully_valid(), "{name}: {r:?}");
        assert_eq!(r.signer_name, "KVOTA DEV SEAL");
        assert_eq!(r.bin.as_deref(), Some(BIN));
        assert_eq!(r.iin, None);
        assert_eq!(r.certificate_serial, pki.seal.serial_hex());
        assert_eq!(r.sub_filter, "ETSI.CAdES.detached");
        assert_eq!(
            r.signing_time.unwrap().to_rfc3339(),
            "2030-01-02T05:00:00+00:00"
        );

        // untrusted: integrity fine, trust not
        let other = keys::make_root_ca(
            &CertSubject {
                common_name: "Other CA".into(),
                ..Default::default()
            },
            KeyAlg::EcP256,
        )
        .unwrap()
        .1;
        let r = &verify_pdf(&signed, &[other]).unwrap()[0];
        assert!(
            r.integrity_ok && !r.chain_trusted && r.error().is_some(),
            "{r:?}"
        );

        // tampered: integrity false, not an Err
        let r = &verify_pdf(&tamper(&signed), &trust).unwrap()[0];
        assert!(!r.integrity_ok && !r.chain_trusted, "{name}: {r:?}");
        assert!(r.error().is_some());

        // appended bytes: still intact, but no longer whole-document
        let mut appended = signed.clone();
        appended.extend_from_slice(b"\n% trailing garbage\n");
        let r = &verify_pdf(&appended, &trust).unwrap()[0];
        assert!(r.integrity_ok && !r.whole_document_covered, "{r:?}");
    }
}

#[test]
fn second_signature_and_field_name_clash() {
    let dir = tempfile::tempdir().unwrap();
    let pki = keys::make_dev_pki(dir.path(), BIN).unwrap();
    // a second signer with an EC key and an IIN, under the same root
    let (k, c) = keys::issue_cert(
        &pki.root_key,
        &pki.root_cert,
        &CertSubject {
            common_name: "ИВАНОВ ИВАН".into(),
            serial_number: Some("IIN900101300123".into()),
            country: Some("KZ".into()),
            ..Default::default()
        },
        KeyAlg::EcP256,
        false,
    )
    .unwrap();
    let person = Signer::new(k, c, vec![pki.root_cert.clone()]).unwrap();
    for name in ["sample.pdf", "sample-xrefstream.pdf"] {
        let once = sign_pdf(&sample(name), &pki.seal, &opts("Signature1")).unwrap();
        let err = sign_pdf(&once, &person, &opts("Signature1")).unwrap_err();
        assert!(matches!(err, SignError::FieldExists(_)), "{err}");
        let twice = sign_pdf(&once, &person, &opts("Signature2")).unwrap();
        assert_eq!(&twice[..once.len()], &once[..]);
        let rs = verify_pdf(&twice, std::slice::from_ref(&pki.root_cert)).unwrap();
        assert_eq!(rs.len(), 2);
        // Only the second signature's own revision follows the first: it counts as covered.
        assert!(rs[0].is_fully_valid(), "{:?}", rs[0]);
        assert!(rs[1].is_fully_valid(), "{:?}", rs[1]);
        assert_eq!(rs[1].signer_name, "ИВАНОВ ИВАН");
        assert_eq!(rs[1].iin.as_deref(), Some("900101300123"));
        assert_eq!(rs[1].bin, None);
        let doc = lopdf::Document::load_mem(&twice).unwrap();
        let af = doc
            .catalog()
            .unwrap()
            .get(b"AcroForm")
            .unwrap()
            .as_dict()
            .unwrap();
        assert_eq!(af.get(b"Fields").unwrap().as_array().unwrap().len(), 2);
    }
}

#[test]
fn contents_too_small() {
    let dir = tempfile::tempdir().unwrap();
    let pki = keys::make_dev_pki(dir.path(), BIN).unwrap();
    let mut o = opts("Signature1");
    o.contents_size = 1024;
    let err = sign_pdf(&sample("sample.pdf"), &pki.seal, &o).unwrap_err();
    assert!(matches!(err, SignError::ContentsTooSmall { .. }), "{err}");
}

#[test]
fn detached_cms() {
    let dir = tempfile::tempdir().unwrap();
    let pki = keys::make_dev_pki(dir.path(), BIN).unwrap();
    let trust = vec![pki.root_cert.clone()];
    let data = b"hello world".repeat(100);

    let at = chrono::DateTime::parse_from_rfc3339("2026-09-15T05:30:00Z")
        .unwrap()
        .to_utc();
    let der = cms::sign_detached(&pki.seal, &data, at).unwrap();
    let r = verify_detached(&data, &der, &trust).unwrap();
    assert!(
        r.integrity_ok && r.chain_trusted && r.error().is_none(),
        "{r:?}"
    );
    assert_eq!(r.signing_time, Some(at));
    assert_eq!(r.bin.as_deref(), Some(BIN));

    // fixed time -> deterministic
    let t = chrono::DateTime::parse_from_rfc3339("2031-05-06T07:08:09Z")
        .unwrap()
        .to_utc();
    let o = CmsSignOptions {
        signing_time: Some(t),
    };
    let a = cms::sign_detached_with(&pki.seal, &data, &o).unwrap();
    assert_eq!(a, cms::sign_detached_with(&pki.seal, &data, &o).unwrap());
    assert_eq!(
        verify_detached(&data, &a, &trust).unwrap().signing_time,
        Some(t)
    );

    // OpenSSL CMS_sign path (CMS_CADES): has signingCertificateV2
    let o = cms::sign_detached_openssl(&pki.seal, &data).unwrap();
    let ess_v2 = [
        0x06, 0x0B, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x09, 0x10, 0x02, 0x2F,
    ];
    assert!(
        find(&o, &ess_v2).is_some(),
        "openssl CMS_CADES adds signingCertificateV2"
    );
    assert!(find(&a, &ess_v2).is_some());
    assert!(verify_detached(&data, &o, &trust).unwrap().chain_trusted);

    let mut bad = data.clone();
    bad[3] ^= 1;
    let r = verify_detached(&bad, &der, &trust).unwrap();
    assert!(!r.integrity_ok && !r.chain_trusted && r.error().is_some());
    assert!(verify_detached(&data, b"not a cms", &trust).is_err());
}

#[test]
fn unparseable_pdf_falls_back_to_raw_scan() {
    let dir = tempfile::tempdir().unwrap();
    let pki = keys::make_dev_pki(dir.path(), BIN).unwrap();
    let signed = sign_pdf(&sample("sample.pdf"), &pki.seal, &opts("Signature1")).unwrap();
    let mut broken = signed.clone();
    broken[1] = b'X'; // "%PDF" -> "%XDF": lopdf refuses the file
    assert!(lopdf::Document::load_mem(&broken).is_err());
    let rs = verify_pdf(&broken, std::slice::from_ref(&pki.root_cert)).unwrap();
    assert_eq!(rs.len(), 1);
    assert!(
        !rs[0].integrity_ok && rs[0].whole_document_covered,
        "{:?}",
        rs[0]
    );
    assert_eq!(rs[0].sub_filter, "ETSI.CAdES.detached");
    assert_eq!(rs[0].signer_name, "KVOTA DEV SEAL");
    // truncated: ByteRange out of bounds is reported, not an Err
    let rs = verify_pdf(
        &signed[..signed.len() - 10],
        std::slice::from_ref(&pki.root_cert),
    )
    .unwrap();
    assert!(!rs[0].integrity_ok);
    assert!(
        matches!(rs[0].failures[..], [Failure::ByteRangeOutOfBounds { .. }]),
        "{:?}",
        rs[0]
    );
    assert!(rs[0].error().unwrap().contains("out of bounds"));
    // unsigned PDF: no reports
    assert!(verify_pdf(&sample("sample.pdf"), &[]).unwrap().is_empty());
    assert!(verify_pdf(b"garbage", &[]).is_err());
}

#[test]
fn an_unsigned_revision_between_two_signatures_uncovers_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let pki = keys::make_dev_pki(dir.path(), BIN).unwrap();
    let once = sign_pdf(&sample("sample.pdf"), &pki.seal, &opts("Signature1")).unwrap();
    // A revision nobody signed (here: an empty signature field's update) ...
    let unsigned = kvota::sign::pades::prepare_pdf(&once, &opts("Unsigned"))
        .unwrap()
        .bytes;
    // ... then a proper signature on top of it.
    let twice = sign_pdf(&unsigned, &pki.seal, &opts("Signature2")).unwrap();
    let rs = verify_pdf(&twice, std::slice::from_ref(&pki.root_cert)).unwrap();
    assert_eq!(rs.len(), 3);
    assert!(
        rs[0].integrity_ok && !rs[0].whole_document_covered,
        "{:?}",
        rs[0]
    );
    assert!(!rs[1].integrity_ok);
    assert!(rs[2].is_fully_valid(), "{:?}", rs[2]);
}
