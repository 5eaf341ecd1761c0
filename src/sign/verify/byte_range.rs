//! What a PDF signature signs: its /ByteRange, the hex string the range leaves out, and
//! whether the signed bytes reach the end of the file (or only later signatures follow).

use super::super::cms;
use super::locate::{FoundSig, revision_ends};
use super::report::{Failure, SignatureReport};

/// The two signed slices of the file and the DER CMS from the gap between them.
pub(super) struct SignedParts<'a> {
    pub first: &'a [u8],
    pub second: &'a [u8],
    pub cms_der: Vec<u8>,
    /// Where the signed bytes end.
    pub end: usize,
}

/// Checks the byte range of `f` against the file; the signed parts if it is sound.
pub(super) fn signed_parts<'a>(pdf: &'a [u8], f: &FoundSig) -> Result<SignedParts<'a>, Failure> {
    let br = &f.byte_range;
    if br.len() != 4 || br.iter().any(|&v| v < 0) {
        return Err(Failure::ByteRangeMalformed(br.clone()));
    }
    let out_of_bounds = || Failure::ByteRangeOutOfBounds {
        byte_range: br.clone(),
        file_len: pdf.len(),
    };
    let [a, b, c, d] =
        [br[0], br[1], br[2], br[3]].map(|v| usize::try_from(v).unwrap_or(usize::MAX));
    if a != 0 {
        return Err(Failure::ByteRangeNotFromStart);
    }
    let gap_start = a.checked_add(b).ok_or_else(out_of_bounds)?;
    let end = c.checked_add(d).ok_or_else(out_of_bounds)?;
    if gap_start >= c || end > pdf.len() {
        return Err(out_of_bounds());
    }
    let gap = &pdf[gap_start..c];
    if gap.len() < 2 || gap[0] != b'<' || gap[gap.len() - 1] != b'>' {
        return Err(Failure::ContentsNotHexString);
    }
    let hex_digits: Vec<u8> = gap[1..gap.len() - 1]
        .iter()
        .copied()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    if !hex_digits.len().is_multiple_of(2) {
        return Err(Failure::ContentsOddHexDigits);
    }
    let raw = hex::decode(&hex_digits).map_err(|_| Failure::ContentsNotHex)?;
    if f.contents.as_ref().is_some_and(|parsed| *parsed != raw) {
        return Err(Failure::ContentsMisplaced);
    }
    let len = cms::der_total_len(&raw).ok_or(Failure::ContentsNotDer)?;
    Ok(SignedParts {
        first: &pdf[..gap_start],
        second: &pdf[c..end],
        cms_der: raw[..len].to_vec(),
        end,
    })
}

/// Marks which signatures cover the document. An earlier signature need not reach the
/// end of the file, but everything after it must be later signatures' own revisions:
/// every revision that ends after it (each `%%EOF`) must end exactly where a later,
/// intact signature's signed range ends, and the last of them at the end of the file.
/// An unsigned revision in between, or bytes appended, fail it.
///
/// `reports` pairs each report with where its signed bytes end (`None` when its byte
/// range is unusable: it has failed already).
pub(super) fn mark_coverage(pdf: &[u8], reports: &mut [(Option<usize>, SignatureReport)]) {
    let signed_ends: Vec<usize> = reports
        .iter()
        .filter(|(_, r)| r.integrity_ok)
        .filter_map(|(end, _)| *end)
        .collect();
    let revision_ends = revision_ends(pdf);
    for (end, report) in reports.iter_mut() {
        let Some(end) = *end else { continue };
        if end == pdf.len() {
            report.whole_document_covered = true;
            continue;
        }
        if !report.integrity_ok {
            continue;
        }
        let later: Vec<usize> = revision_ends.iter().copied().filter(|e| *e > end).collect();
        let mut start = end;
        let mut sound = true;
        for &e in &later {
            sound &= signed_ends.contains(&e) || adds_only_validation_data(pdf, start, e);
            start = e;
        }
        report.whole_document_covered =
            !later.is_empty() && sound && later.last() == Some(&pdf.len());
        if !report.whole_document_covered {
            report.fail(Failure::ByteRangeNotWholeFile);
        }
    }
}

/// Whether the revision from `start` to `end` only adds validation data (PAdES B-LT): a
/// /DSS, the streams it lists, and the catalog changed in nothing but its /DSS.
pub(super) fn adds_only_validation_data(pdf: &[u8], start: usize, end: usize) -> bool {
    use lopdf::xref::XrefEntry;
    use lopdf::{Document, Object};
    let (Ok(before), Ok(after)) = (
        Document::load_mem(&pdf[..start]),
        Document::load_mem(&pdf[..end]),
    ) else {
        return false;
    };
    let root = |d: &Document| d.trailer.get(b"Root").and_then(Object::as_reference).ok();
    let (Some(root_id), Some(old_root)) = (root(&after), root(&before)) else {
        return false;
    };
    let catalog_without_dss = |d: &Document| {
        d.get_dictionary(root_id).ok().map(|c| {
            let mut c = c.clone();
            c.remove(b"DSS");
            c
        })
    };
    if root_id != old_root || catalog_without_dss(&after) != catalog_without_dss(&before) {
        return false;
    }
    let Some(dss_id) = after
        .get_dictionary(root_id)
        .ok()
        .and_then(|c| c.get(b"DSS").and_then(Object::as_reference).ok())
    else {
        return false;
    };
    let Ok(dss) = after.get_dictionary(dss_id) else {
        return false;
    };
    let allowed_keys: [&[u8]; 5] = [b"Type", b"VRI", b"Certs", b"CRLs", b"OCSPs"];
    if dss
        .iter()
        .any(|(k, _)| !allowed_keys.contains(&k.as_slice()))
    {
        return false;
    }
    let listed: Vec<(u32, u16)> = [&b"Certs"[..], b"CRLs", b"OCSPs"]
        .iter()
        .filter_map(|k| after.dereference(dss.get(k).ok()?).ok()?.1.as_array().ok())
        .flatten()
        .filter_map(|o| o.as_reference().ok())
        .collect();
    after.reference_table.entries.iter().all(|(&n, entry)| {
        let (offset, generation) = match *entry {
            XrefEntry::Normal { offset, generation } => (offset, generation),
            // Objects in object streams: only those the earlier revision had.
            XrefEntry::Compressed { .. } => return before.reference_table.get(n).is_some(),
            XrefEntry::Free | XrefEntry::UnusableFree => return true,
        };
        let offset = offset as usize;
        if offset < start || offset >= end {
            return true;
        }
        let id = (n, generation);
        if id == root_id || id == dss_id || listed.contains(&id) {
            return true;
        }
        // The revision's own cross-reference stream.
        after
            .get_object(id)
            .ok()
            .and_then(|o| o.as_stream().ok())
            .is_some_and(|s| s.dict.get(b"Type").and_then(Object::as_name).ok() == Some(b"XRef"))
    })
}
