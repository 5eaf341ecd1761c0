//! Verification of PAdES / PKCS#7 PDF signatures and of detached CMS.
//!
//! Integrity (message digest + signature value, ESS signing-certificate
//! binding) is checked separately from trust (chain to one of the given trust
//! anchors, purpose "any", checked at the current time) and from revocation (the
//! configured CRL of the signer's issuer, when there is one).

use chrono::{DateTime, Utc};
use lopdf::{Document, Object};
use openssl::cms::{CMSOptions, CmsContentInfo};
use openssl::x509::store::{X509Store, X509StoreBuilder};
use openssl::x509::verify::X509VerifyFlags;
use openssl::x509::{X509, X509Crl, X509PurposeId};

use super::cms;
use super::keys::{SubjectSummary, cert_serial_hex, key_usage, kz_role};
use super::pdf_syntax::parse_pdf_date;
use super::{Result, SignError};

/// Outcome for one signature.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignatureReport {
    /// Signer certificate CN (empty if unknown).
    pub signer_name: String,
    pub iin: Option<String>,
    pub bin: Option<String>,
    /// Uppercase hex.
    pub certificate_serial: String,
    /// CMS signingTime if present, else the signature dictionary's /M.
    pub signing_time: Option<DateTime<Utc>>,
    /// Digest and signature value are correct for the signed bytes.
    pub integrity_ok: bool,
    /// Integrity ok and the signer chains to one of the trust anchors.
    pub chain_trusted: bool,
    /// The signed byte range covers the whole file except this signature's /Contents.
    pub whole_document_covered: bool,
    /// e.g. "ETSI.CAdES.detached", "adbe.pkcs7.detached"; empty for detached CMS.
    pub sub_filter: String,
    /// Why a check failed (first problem found), if any.
    pub error: Option<String>,
    /// The signer's certificate allows signing (digitalSignature + nonRepudiation).
    pub key_usage_ok: bool,
    /// The signer's role in Kazakhstan's PKI, from its extended key usage.
    pub role: Option<String>,
    /// How revocation was checked, in words (which CRL, its age), or why it was not.
    pub revocation: String,
    /// The signer's certificate was valid at the claimed signing time.
    pub valid_at_signing_time: Option<bool>,
    /// The time a valid signature timestamp proves (PAdES B-T); the chain is checked then.
    pub timestamp_time: Option<DateTime<Utc>>,
}

/// What signatures are checked against: trust anchors and certificate revocation lists.
#[derive(Clone, Default)]
pub struct Trust {
    pub anchors: Vec<X509>,
    pub crls: Vec<std::sync::Arc<X509Crl>>,
    /// When to check certificates if no timestamp proves an earlier time; the current
    /// time when `None`.
    pub at: Option<DateTime<Utc>>,
}

impl Trust {
    pub fn anchors(anchors: &[X509]) -> Self {
        Self {
            anchors: anchors.to_vec(),
            ..Self::default()
        }
    }

    /// The configured CRL issued by `cert`'s issuer, if any.
    fn crl_for(&self, cert: &X509) -> Option<&X509Crl> {
        let issuer = cert.issuer_name().to_der().ok()?;
        self.crls
            .iter()
            .map(|c| &**c)
            .find(|c| c.issuer_name().to_der().ok().as_deref() == Some(issuer.as_slice()))
    }
}

impl SignatureReport {
    /// Integrity ok, trusted and covering the whole document.
    pub fn is_fully_valid(&self) -> bool {
        self.integrity_ok
            && self.chain_trusted
            && self.whole_document_covered
            && self.error.is_none()
    }
}

/// Verify a detached CMS over `data`. Errors only if `cms_der` is not a CMS
/// at all; a wrong signature yields `integrity_ok = false`.
pub fn verify_detached(data: &[u8], cms_der: &[u8], trust: &[X509]) -> Result<SignatureReport> {
    verify_detached_with(data, cms_der, &Trust::anchors(trust))
}

/// [`verify_detached`] against anchors and CRLs.
pub fn verify_detached_with(data: &[u8], cms_der: &[u8], trust: &Trust) -> Result<SignatureReport> {
    let mut report = SignatureReport::default();
    check_cms(&mut report, &[data], cms_der, trust)?;
    Ok(report)
}

/// Verify every signature (dictionaries with /ByteRange and /Contents) in a PDF,
/// ordered by position in the file. Errors only if no signature can be located
/// at all because the file is unreadable; problems with individual signatures
/// are reported in their `SignatureReport`.
pub fn verify_pdf(pdf: &[u8], trust: &[X509]) -> Result<Vec<SignatureReport>> {
    verify_pdf_with(pdf, &Trust::anchors(trust))
}

/// [`verify_pdf`] against anchors and CRLs.
pub fn verify_pdf_with(pdf: &[u8], trust: &Trust) -> Result<Vec<SignatureReport>> {
    let found = match Document::load_mem(pdf) {
        Ok(doc) => find_sig_dicts(&doc),
        Err(e) => {
            let raw = scan_raw(pdf);
            if raw.is_empty() {
                return Err(SignError::Pdf(format!("cannot parse PDF: {e}")));
            }
            raw
        }
    };
    let mut reports: Vec<(usize, usize, SignatureReport)> = found
        .into_iter()
        .map(|f| {
            let start = f.byte_range.get(2).copied().unwrap_or(0).max(0) as usize;
            let covered_to = (f.byte_range.get(2).copied().unwrap_or(0)
                + f.byte_range.get(3).copied().unwrap_or(0))
            .max(0) as usize;
            (start, covered_to, verify_one(pdf, &f, trust))
        })
        .collect();
    reports.sort_by_key(|(k, _, _)| *k);
    // An earlier signature need not reach the end of the file, but everything after it
    // must be later signatures' own revisions: every revision that ends after it (each
    // `%%EOF`) must end exactly where a later, intact signature's signed range ends, and
    // the last of them at the end of the file. An unsigned revision in between fails.
    let signed_ends: Vec<usize> = reports
        .iter()
        .filter(|(_, _, r)| r.integrity_ok)
        .map(|(_, end, _)| *end)
        .collect();
    let revision_ends = revision_ends(pdf);
    for (_, end, report) in reports.iter_mut() {
        if report.whole_document_covered || !report.integrity_ok {
            continue;
        }
        let later: Vec<usize> = revision_ends.iter().copied().filter(|e| e > end).collect();
        report.whole_document_covered = !later.is_empty()
            && later.iter().all(|e| signed_ends.contains(e))
            && later.last() == Some(&pdf.len());
    }
    Ok(reports.into_iter().map(|(_, _, r)| r).collect())
}

/// Where each revision of the file ends: after each `%%EOF` and its end of line.
fn revision_ends(pdf: &[u8]) -> Vec<usize> {
    let mut ends = Vec::new();
    let mut i = 0;
    while let Some(p) = find(&pdf[i..], b"%%EOF").map(|p| p + i) {
        let mut e = p + 5;
        if pdf.get(e) == Some(&b'\r') {
            e += 1;
        }
        if pdf.get(e) == Some(&b'\n') {
            e += 1;
        }
        ends.push(e);
        i = p + 5;
    }
    ends
}

/// What we know about one signature dictionary before checking it.
#[derive(Debug, Default)]
struct FoundSig {
    byte_range: Vec<i64>,
    sub_filter: String,
    m: Option<String>,
    /// /Contents as parsed from the dictionary (if parsed with lopdf).
    contents: Option<Vec<u8>>,
}

fn find_sig_dicts(doc: &Document) -> Vec<FoundSig> {
    let mut out = Vec::new();
    for obj in doc.objects.values() {
        let Ok(d) = obj.as_dict() else { continue };
        let (Ok(br), Ok(contents)) = (d.get(b"ByteRange"), d.get(b"Contents")) else {
            continue;
        };
        let Ok(contents) = contents.as_str() else {
            continue;
        };
        let ty = d.get(b"Type").and_then(Object::as_name).unwrap_or(b"Sig");
        if ty != b"Sig" && ty != b"DocTimeStamp" {
            continue;
        }
        let byte_range = match doc.dereference(br) {
            Ok((_, Object::Array(a))) => a.iter().filter_map(|o| o.as_i64().ok()).collect(),
            _ => Vec::new(),
        };
        out.push(FoundSig {
            byte_range,
            sub_filter: d
                .get(b"SubFilter")
                .and_then(Object::as_name)
                .map(|n| String::from_utf8_lossy(n).into_owned())
                .unwrap_or_default(),
            m: d.get(b"M")
                .and_then(Object::as_str)
                .ok()
                .map(|s| String::from_utf8_lossy(s).into_owned()),
            contents: Some(contents.to_vec()),
        });
    }
    out
}

/// Fallback when the PDF does not parse (e.g. damaged xref): look for
/// `/ByteRange [a b c d]` in the raw bytes. Signature dictionaries cannot live
/// in compressed object streams, so they are always visible in the raw file.
/// At most this many signatures are looked at in an unreadable file, and each is looked
/// for within this many bytes around its /ByteRange: a crafted file cannot make the scan
/// quadratic.
const MAX_RAW_SIGNATURES: usize = 32;
const RAW_WINDOW: usize = 64 * 1024;

fn scan_raw(pdf: &[u8]) -> Vec<FoundSig> {
    let mut out = Vec::new();
    let key = b"/ByteRange";
    let mut i = 0;
    while let Some(p) = find(&pdf[i..], key).map(|p| p + i) {
        i = p + key.len();
        if out.len() >= MAX_RAW_SIGNATURES {
            break;
        }
        let rest = &pdf[i..pdf.len().min(i + 200)];
        let text = String::from_utf8_lossy(rest);
        let Some(open) = text.find('[') else { continue };
        let Some(close) = text.find(']') else {
            continue;
        };
        if close < open {
            continue;
        }
        let byte_range: Vec<i64> = text[open + 1..close]
            .split_ascii_whitespace()
            .filter_map(|t| t.parse().ok())
            .collect();
        // the enclosing object: from the last "obj" before to the next "endobj" after
        let lo = p.saturating_sub(RAW_WINDOW);
        let hi = pdf.len().min(p + RAW_WINDOW);
        let start = rfind(&pdf[lo..p], b" obj").map_or(lo, |s| lo + s);
        let end = find(&pdf[p..hi], b"endobj").map_or(hi, |e| p + e);
        let region = &pdf[start..end];
        let sub_filter = find(region, b"/SubFilter")
            .map(|s| {
                let r = &region[s + 10..];
                let r = &r[r.iter().position(|&c| c == b'/').unwrap_or(0)..];
                let n: Vec<u8> = r
                    .iter()
                    .skip(1)
                    .take_while(|c| !c.is_ascii_whitespace() && !b"/<>[]()".contains(c))
                    .copied()
                    .collect();
                String::from_utf8_lossy(&n).into_owned()
            })
            .unwrap_or_default();
        let m = find(region, b"/M").and_then(|s| {
            let r = &region[s + 2..];
            let o = r.iter().position(|&c| c == b'(')?;
            if r[..o].iter().any(|c| !c.is_ascii_whitespace()) {
                return None;
            }
            let c = r[o..].iter().position(|&c| c == b')')?;
            Some(String::from_utf8_lossy(&r[o + 1..o + c]).into_owned())
        });
        out.push(FoundSig {
            byte_range,
            sub_filter,
            m,
            contents: None,
        });
    }
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

fn verify_one(pdf: &[u8], f: &FoundSig, trust: &Trust) -> SignatureReport {
    let mut report = SignatureReport {
        sub_filter: f.sub_filter.clone(),
        signing_time: f.m.as_deref().and_then(parse_pdf_date),
        ..Default::default()
    };
    let (first, second, cms_der) = match check_byte_range(pdf, f) {
        Ok(v) => v,
        Err(e) => {
            report.error = Some(e);
            return report;
        }
    };
    let br = &f.byte_range;
    report.whole_document_covered = (br[2] + br[3]) as usize == pdf.len();
    if f.sub_filter == "ETSI.RFC3161" {
        report.error = Some("document time-stamps are not verified".into());
        return report;
    }
    if let Err(e) = check_cms(&mut report, &[first, second], &cms_der, trust) {
        report.error = Some(e.to_string());
    }
    report
}

/// Sanity checks; returns the two signed slices and the CMS DER.
/// The two signed slices of the file and the DER CMS from the gap between them.
type SignedParts<'a> = (&'a [u8], &'a [u8], Vec<u8>);

fn check_byte_range<'a>(
    pdf: &'a [u8],
    f: &FoundSig,
) -> std::result::Result<SignedParts<'a>, String> {
    let br = &f.byte_range;
    if br.len() != 4 || br.iter().any(|&v| v < 0) {
        return Err(format!("malformed /ByteRange {br:?}"));
    }
    let (a, b, c, d) = (
        br[0] as usize,
        br[1] as usize,
        br[2] as usize,
        br[3] as usize,
    );
    if a != 0 {
        return Err("/ByteRange does not start at offset 0".into());
    }
    let gap_start = a.checked_add(b).ok_or("ByteRange overflow")?;
    let end = c.checked_add(d).ok_or("ByteRange overflow")?;
    if gap_start >= c || end > pdf.len() {
        return Err(format!(
            "/ByteRange {br:?} out of bounds for a file of {} bytes",
            pdf.len()
        ));
    }
    let gap = &pdf[gap_start..c];
    if gap.len() < 2 || gap[0] != b'<' || gap[gap.len() - 1] != b'>' {
        return Err("the excluded range is not exactly a hex string".into());
    }
    let hex_digits: Vec<u8> = gap[1..gap.len() - 1]
        .iter()
        .copied()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    if !hex_digits.len().is_multiple_of(2) {
        return Err("odd number of hex digits in /Contents".into());
    }
    let raw =
        hex::decode(&hex_digits).map_err(|_| "non-hex bytes in the excluded range".to_string())?;
    if f.contents.as_ref().is_some_and(|parsed| *parsed != raw) {
        return Err("/Contents is not located at the excluded byte range".into());
    }
    let len = cms::der_total_len(&raw).ok_or("/Contents does not hold a DER object")?;
    Ok((&pdf[..gap_start], &pdf[c..end], raw[..len].to_vec()))
}

/// Fill signer facts, integrity and trust into `report`.
fn check_cms(
    report: &mut SignatureReport,
    parts: &[&[u8]],
    cms_der: &[u8],
    trust: &Trust,
) -> Result<()> {
    let info = cms::parse_cms(cms_der)?;
    if let Some(t) = info.signing_time {
        report.signing_time = Some(t);
    }
    match info.signer_cert() {
        Some(cert) => {
            let s = SubjectSummary::from_name(cert.subject_name());
            report.signer_name = s.common_name.clone().unwrap_or_default();
            report.iin = s.iin();
            report.bin = s.bin();
            report.certificate_serial = cert_serial_hex(cert);
            report.key_usage_ok = key_usage(cert).is_some_and(|ku| ku & 0xC0 == 0xC0);
            report.role = kz_role(cert).map(str::to_owned);
        }
        None => {
            report
                .error
                .get_or_insert_with(|| "signer certificate not included in the CMS".into());
        }
    }
    if info.signer_count != 1 {
        report
            .error
            .get_or_insert_with(|| format!("expected one SignerInfo, found {}", info.signer_count));
    }

    let data: Vec<u8> = parts.concat();
    let flags = CMSOptions::BINARY | CMSOptions::DETACHED;

    // 1. integrity only
    let empty = X509StoreBuilder::new()?.build();
    let mut ci = CmsContentInfo::from_der(cms_der)?;
    match ci.verify(
        None,
        Some(&empty),
        Some(&data),
        None,
        flags | CMSOptions::NO_SIGNER_CERT_VERIFY,
    ) {
        Ok(()) => report.integrity_ok = true,
        Err(e) => {
            report.error.get_or_insert_with(|| {
                format!("signature integrity check failed: {}", ssl_reasons(&e))
            });
            return Ok(());
        }
    }

    // 2. trust
    if trust.anchors.is_empty() {
        report
            .error
            .get_or_insert_with(|| "no trust anchors given".into());
        return Ok(());
    }
    let signer = info.signer_cert().cloned();
    if let (Some(cert), Some(t)) = (&signer, report.signing_time) {
        report.valid_at_signing_time = Some(valid_at(cert, t));
    }
    // 3. revocation: the CRL of the signer's issuer, when one is configured.
    let crl = signer.as_ref().and_then(|c| trust.crl_for(c));
    report.revocation = match crl {
        Some(crl) => format!(
            "checked against the CRL of {} issued {} ({} h old at the check)",
            crl.issuer_name()
                .entries_by_nid(openssl::nid::Nid::COMMONNAME)
                .next()
                .and_then(|e| e.data().to_string().ok())
                .unwrap_or_default(),
            crl.last_update(),
            openssl::asn1::Asn1Time::from_unix(trust.at.unwrap_or_else(Utc::now).timestamp())
                .ok()
                .and_then(|at| crl.last_update().diff(&at).ok())
                .map_or(0, |d| i64::from(d.days) * 24 + i64::from(d.secs) / 3600)
        ),
        None => "not checked: no CRL of the signer's issuer is configured".into(),
    };
    // 4. a signature timestamp proves when the signature existed (PAdES B-T).
    if let Some(token) = &info.timestamp_token {
        match super::tsa::check_token(token, &info.signature_value, &trust.anchors) {
            Ok(t) if t.imprint_ok && t.tsa_trusted => report.timestamp_time = Some(t.gen_time),
            Ok(t) => {
                report.error.get_or_insert_with(|| {
                    format!(
                        "signature timestamp not usable (imprint ok: {}, TSA trusted: {})",
                        t.imprint_ok, t.tsa_trusted
                    )
                });
            }
            Err(e) => {
                report
                    .error
                    .get_or_insert_with(|| format!("signature timestamp: {e}"));
            }
        }
    }
    let at = report.timestamp_time.or(trust.at);
    let store = trust_store(&trust.anchors, crl, at)?;
    let mut ci = CmsContentInfo::from_der(cms_der)?;
    match ci.verify(None, Some(&store), Some(&data), None, flags) {
        Ok(()) => report.chain_trusted = true,
        Err(e) => {
            report.error.get_or_insert_with(|| {
                format!("certificate chain not trusted: {}", ssl_reasons(&e))
            });
        }
    }
    Ok(())
}

/// Short form of an OpenSSL error stack: the reason strings only.
fn ssl_reasons(e: &openssl::error::ErrorStack) -> String {
    let v: Vec<String> = e
        .errors()
        .iter()
        .map(|x| match x.data() {
            Some(d) => format!("{} ({d})", x.reason().unwrap_or("unknown")),
            None => x.reason().unwrap_or("unknown").to_string(),
        })
        .collect();
    if v.is_empty() {
        e.to_string()
    } else {
        v.join("; ")
    }
}

unsafe extern "C" {
    // In libcrypto (linked by openssl-sys) but not bound by it.
    fn X509_STORE_add_crl(
        store: *mut openssl_sys::X509_STORE,
        crl: *mut openssl_sys::X509_CRL,
    ) -> std::os::raw::c_int;
}

fn trust_store(
    trust: &[X509],
    crl: Option<&X509Crl>,
    at: Option<DateTime<Utc>>,
) -> Result<X509Store> {
    let mut b = X509StoreBuilder::new()?;
    for c in trust {
        b.add_cert(c.clone())?;
    }
    b.set_purpose(X509PurposeId::ANY)?;
    let mut param = openssl::x509::verify::X509VerifyParam::new()?;
    if crl.is_some() {
        // Only the signer's certificate is checked: its issuer's CRL is the one given.
        param.set_flags(X509VerifyFlags::CRL_CHECK)?;
    }
    if let Some(at) = at {
        param.set_time(at.timestamp() as _);
    }
    b.set_param(&param)?;
    let store = b.build();
    if let Some(crl) = crl {
        use foreign_types::ForeignTypeRef;
        // SAFETY: both pointers are valid for the call; X509_STORE_add_crl takes its own
        // reference to the CRL and the store is not shared yet.
        let ok = unsafe { X509_STORE_add_crl(store.as_ptr(), crl.as_ptr()) };
        if ok != 1 {
            return Err(SignError::Openssl(openssl::error::ErrorStack::get()));
        }
    }
    Ok(store)
}

/// Whether `cert` was within its validity period at `t`.
fn valid_at(cert: &X509, t: DateTime<Utc>) -> bool {
    let Ok(at) = openssl::asn1::Asn1Time::from_unix(t.timestamp()) else {
        return false;
    };
    cert.not_before() <= at && cert.not_after() >= at
}
