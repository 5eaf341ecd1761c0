//! Finding the signatures of a PDF: its signature dictionaries (parsed, or scanned for in
//! the raw bytes when the file does not parse) and where each revision ends.

use lopdf::{Document, Object};

use super::super::{Result, SignError};

/// Every signature dictionary of `pdf` (with /ByteRange and /Contents), in no particular
/// order. Errors only if the file does not parse and no signature is visible in its bytes.
pub(super) fn signatures(pdf: &[u8]) -> Result<Vec<FoundSig>> {
    signatures_and_dss(pdf).map(|(found, _)| found)
}

/// [`signatures`], and the file's document security store if it has one (the file is
/// parsed once for both).
pub(super) fn signatures_and_dss(
    pdf: &[u8],
) -> Result<(Vec<FoundSig>, Option<super::super::ltv::Dss>)> {
    match Document::load_mem(pdf) {
        Ok(doc) => Ok((find_sig_dicts(&doc), super::super::ltv::read_dss(&doc))),
        Err(e) => {
            let raw = scan_raw(pdf);
            if raw.is_empty() {
                return Err(SignError::Pdf(format!("cannot parse PDF: {e}")));
            }
            Ok((raw, None))
        }
    }
}

/// Where each revision of the file ends: after each `%%EOF` and its end of line.
pub(super) fn revision_ends(pdf: &[u8]) -> Vec<usize> {
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
pub(super) struct FoundSig {
    pub byte_range: Vec<i64>,
    pub sub_filter: String,
    /// The signing time the dictionary claims (/M), as written.
    pub m: Option<String>,
    /// /Contents as parsed from the dictionary (if parsed with lopdf).
    pub contents: Option<Vec<u8>>,
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
