//! PDF syntax: what the signature code reads and writes of the file format itself.
//!
//! Finding the last cross-reference section and its form, serialising objects into an
//! incremental update (names, strings, reals, dictionaries), PDF text strings and dates.
//! Nothing here knows about signatures; [`super::pades`] writes the update with these and
//! [`super::verify`] reads dates back.

use chrono::{DateTime, FixedOffset, NaiveDateTime, Offset, Utc};
use lopdf::{Dictionary, Object, StringFormat};

use super::{Result, SignError};

/// Form of the cross-reference section that a PDF's last revision uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XrefForm {
    Table,
    Stream,
}

/// Find the last `startxref` and tell which cross-reference form it points to.
pub fn detect_xref(pdf: &[u8]) -> Result<(XrefForm, usize)> {
    let tail_start = pdf.len().saturating_sub(2048);
    let pos = find_last(&pdf[tail_start..], b"startxref")
        .map(|p| p + tail_start)
        .ok_or_else(|| {
            SignError::UnsupportedXref("no startxref near the end of the file".into())
        })?;
    let mut i = pos + b"startxref".len();
    while i < pdf.len() && pdf[i].is_ascii_whitespace() {
        i += 1;
    }
    let start = i;
    while i < pdf.len() && pdf[i].is_ascii_digit() {
        i += 1;
    }
    let off: usize = std::str::from_utf8(&pdf[start..i])
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| {
            SignError::UnsupportedXref("startxref is not followed by an offset".into())
        })?;
    if off >= pdf.len() {
        return Err(SignError::UnsupportedXref(format!(
            "startxref {off} is beyond the end of the file"
        )));
    }
    let mut j = off;
    while j < pdf.len() && pdf[j].is_ascii_whitespace() {
        j += 1;
    }
    let at = &pdf[j..];
    if at.starts_with(b"xref") {
        return Ok((XrefForm::Table, off));
    }
    // "N G obj" of a cross-reference stream
    let head = &at[..at.len().min(64)];
    let text = String::from_utf8_lossy(head);
    let mut parts = text.split_ascii_whitespace();
    let is_obj = matches!(
        (parts.next(), parts.next(), parts.next()),
        (Some(a), Some(b), Some(c)) if a.bytes().all(|x| x.is_ascii_digit())
            && b.bytes().all(|x| x.is_ascii_digit()) && c.starts_with("obj")
    );
    if is_obj {
        Ok((XrefForm::Stream, off))
    } else {
        Err(SignError::UnsupportedXref(format!(
            "startxref {off} points neither to an xref table nor to an object"
        )))
    }
}

fn find_last(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.len() > hay.len() {
        return None;
    }
    (0..=hay.len() - needle.len())
        .rev()
        .find(|&i| &hay[i..i + needle.len()] == needle)
}
/// PDF date string "D:YYYYMMDDHHmmSS+HH'mm'".
pub fn pdf_date(t: &DateTime<FixedOffset>) -> String {
    let secs = t.offset().fix().local_minus_utc();
    let sign = if secs < 0 { '-' } else { '+' };
    let a = secs.abs();
    format!(
        "D:{}{}{:02}'{:02}'",
        t.format("%Y%m%d%H%M%S"),
        sign,
        a / 3600,
        (a % 3600) / 60
    )
}

/// A PDF text string: PDFDocEncoding-compatible ASCII as is, otherwise
/// UTF-16BE with BOM.
pub fn text_string(s: &str) -> Object {
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        Object::String(s.as_bytes().to_vec(), StringFormat::Literal)
    } else {
        let mut v = vec![0xFE, 0xFF];
        for u in s.encode_utf16() {
            v.extend_from_slice(&u.to_be_bytes());
        }
        Object::String(v, StringFormat::Hexadecimal)
    }
}

/// Decode a PDF text string (UTF-16BE with BOM, UTF-8 with BOM, else bytes as Latin-1).
pub fn decode_text_string(b: &[u8]) -> String {
    if b.starts_with(&[0xFE, 0xFF]) {
        let units: Vec<u16> = b[2..]
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16_lossy(&units)
    } else if b.starts_with(&[0xEF, 0xBB, 0xBF]) {
        String::from_utf8_lossy(&b[3..]).into_owned()
    } else {
        b.iter().map(|&c| c as char).collect()
    }
}

// ---------------------------------------------------------------------------
// Minimal object serializer
// ---------------------------------------------------------------------------

/// Serialize a (non-stream) object. Streams are written with their dictionary
/// and raw content (used only for completeness; the update never rewrites streams).
pub fn write_object(out: &mut Vec<u8>, obj: &Object) {
    match obj {
        Object::Null => out.extend_from_slice(b"null"),
        Object::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Object::Integer(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Object::Real(r) => out.extend_from_slice(format_real(*r).as_bytes()),
        Object::Name(n) => write_name(out, n),
        Object::String(s, StringFormat::Hexadecimal) => {
            out.push(b'<');
            out.extend_from_slice(hex::encode_upper(s).as_bytes());
            out.push(b'>');
        }
        Object::String(s, StringFormat::Literal) => write_literal(out, s),
        Object::Array(a) => {
            out.push(b'[');
            for (i, o) in a.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                write_object(out, o);
            }
            out.push(b']');
        }
        Object::Dictionary(d) => write_dict(out, d),
        Object::Stream(s) => {
            let mut d = s.dict.clone();
            d.set("Length", Object::Integer(s.content.len() as i64));
            write_dict(out, &d);
            out.extend_from_slice(b"\nstream\n");
            out.extend_from_slice(&s.content);
            out.extend_from_slice(b"\nendstream");
        }
        Object::Reference((n, g)) => out.extend_from_slice(format!("{n} {g} R").as_bytes()),
    }
}

fn write_dict(out: &mut Vec<u8>, d: &Dictionary) {
    out.extend_from_slice(b"<<");
    for (k, v) in d.iter() {
        write_name(out, k);
        out.push(b' ');
        write_object(out, v);
    }
    out.extend_from_slice(b">>");
}

fn format_real(r: f32) -> String {
    if !r.is_finite() {
        return "0".into();
    }
    // Display for f32 is the shortest round-trip form and never uses exponents.
    let s = format!("{r}");
    if s == "-0" { "0".into() } else { s }
}

fn write_name(out: &mut Vec<u8>, n: &[u8]) {
    out.push(b'/');
    for &c in n {
        let regular = (0x21..=0x7e).contains(&c)
            && !matches!(
                c,
                b'#' | b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
            );
        if regular {
            out.push(c);
        } else {
            out.extend_from_slice(format!("#{c:02X}").as_bytes());
        }
    }
}

fn write_literal(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'(');
    for &c in s {
        match c {
            b'(' | b')' | b'\\' => {
                out.push(b'\\');
                out.push(c);
            }
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\n' => out.extend_from_slice(b"\\n"),
            _ => out.push(c),
        }
    }
    out.push(b')');
}

/// Parse a PDF date "D:YYYYMMDDHHmmSSOHH'mm'" (later parts optional).
pub fn parse_pdf_date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    let s = s.strip_prefix("D:").unwrap_or(s);
    let digits: String = s.chars().take_while(|c| c.is_ascii_digit()).collect();
    if digits.len() < 4 {
        return None;
    }
    let mut full = digits.clone();
    // pad missing month/day with 01 and time with 0
    let defaults = "0101000000";
    if full.len() < 14 {
        full.push_str(&defaults[full.len() - 4..]);
    }
    let naive = NaiveDateTime::parse_from_str(&full[..14], "%Y%m%d%H%M%S").ok()?;
    let rest = &s[digits.len()..];
    let offset_secs = match rest.chars().next() {
        Some(sign @ ('+' | '-')) => {
            let nums: Vec<i64> = rest[1..]
                .split(|c: char| !c.is_ascii_digit())
                .filter(|p| !p.is_empty())
                .filter_map(|p| p.parse().ok())
                .collect();
            let secs =
                nums.first().copied().unwrap_or(0) * 3600 + nums.get(1).copied().unwrap_or(0) * 60;
            if sign == '-' { -secs } else { secs }
        }
        _ => 0,
    };
    Some(naive.and_utc() - chrono::Duration::seconds(offset_secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_strings_escape() {
        let mut v = Vec::new();
        write_object(&mut v, &Object::Name(b"A#B C/(x)".to_vec()));
        assert_eq!(v, b"/A#23B#20C#2F#28x#29");
        let mut v = Vec::new();
        write_object(
            &mut v,
            &Object::String(b"a(b)\\c\r".to_vec(), StringFormat::Literal),
        );
        assert_eq!(v, b"(a\\(b\\)\\\\c\\r)");
        assert_eq!(format_real(595.2756), "595.2756");
        assert_eq!(format_real(0.5), "0.5");
        assert_eq!(format_real(1e-7), "0.0000001");
    }

    #[test]
    fn pdf_date_format() {
        let t = DateTime::parse_from_rfc3339("2025-03-04T05:06:07+05:00").unwrap();
        assert_eq!(pdf_date(&t), "D:20250304050607+05'00'");
    }

    #[test]
    fn pdf_dates() {
        let t = parse_pdf_date("D:20300102100000+05'00'").unwrap();
        assert_eq!(t.to_rfc3339(), "2030-01-02T05:00:00+00:00");
        assert_eq!(
            parse_pdf_date("D:2030").unwrap().to_rfc3339(),
            "2030-01-01T00:00:00+00:00"
        );
        assert_eq!(
            parse_pdf_date("D:20300102100000Z").unwrap().to_rfc3339(),
            "2030-01-02T10:00:00+00:00"
        );
    }
}
