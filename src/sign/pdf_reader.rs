//! The few objects an incremental update reads, without parsing the whole file.
//!
//! An invisible signature's update (the service's seal, on every document it issues)
//! needs the trailer, the catalog, the page tree, the first page's annotations and the
//! form's fields: a few dozen small dictionaries. Parsing every
//! object of a sealed form (fonts, structure elements, content streams) to reach them was
//! a tenth of issuing an Appendix 1. [`load_for_update`] reads the classic
//! cross-reference tables (following `/Prev`) and parses only the objects those keys
//! reach, into a [`Document`] that holds nothing else. A file it does not expect
//! (a cross-reference stream, a hybrid file, encryption, an object it cannot parse or a
//! stream where a dictionary should be) gives `None`, and the caller parses the whole
//! file as before; the updates written either way are the same (tested).

use std::collections::{BTreeMap, HashSet};

use lopdf::{Dictionary, Document, Object, ObjectId, StringFormat};

use super::pdf_syntax::{XrefForm, detect_xref};

/// Deepest nesting of arrays and dictionaries, and of the page tree, read here.
const DEPTH: usize = 64;

/// `pdf` with only what an invisible signature's update reads: the trailer (of the
/// newest section), the catalog, every node of the page tree, the first and last pages'
/// annotations, the interactive form and its fields, and what those refer to by the keys
/// the update reads. `max_id` is the highest object number in use. A visible signature
/// also reads the last page's content, which is not here.
pub fn load_for_update(pdf: &[u8]) -> Option<Document> {
    let (form, start) = detect_xref(pdf).ok()?;
    if form != XrefForm::Table {
        return None;
    }
    let (xref, trailer) = read_xref(pdf, start)?;
    if trailer.has(b"Encrypt") || trailer.has(b"XRefStm") {
        return None;
    }
    let mut loader = Loader {
        pdf,
        xref,
        doc: Document::new(),
    };
    loader.doc.max_id = loader
        .xref
        .iter()
        .filter_map(|(&n, e)| e.map(|_| n))
        .max()
        .unwrap_or(0);
    loader.doc.trailer = trailer;
    let root = loader.doc.trailer.get(b"Root").ok()?.as_reference().ok()?;
    let catalog = loader.dict(root)?;
    // The page tree, every node.
    let mut pages = Vec::new();
    if let Ok(Object::Reference(tree)) = catalog.get(b"Pages") {
        loader.page_tree(*tree, 0, &mut HashSet::new(), &mut pages)?;
    }
    // The pages an update may sign: the first (invisible) and the last (visible).
    for page in [pages.first(), pages.last()].into_iter().flatten() {
        let page = loader.dict(*page)?;
        if let Ok(annots) = page.get(b"Annots") {
            for annot in loader.array_of(annots)? {
                if let Object::Reference(id) = annot {
                    let annot = loader.dict(id)?;
                    loader.values(&annot, &[b"Rect", b"FT", b"T"])?;
                }
            }
        }
    }
    let form = match catalog.get(b"AcroForm") {
        Ok(Object::Reference(id)) => Some(loader.dict(*id)?),
        Ok(Object::Dictionary(d)) => Some(d.clone()),
        _ => None,
    };
    if let Some(form) = form {
        loader.values(&form, &[b"SigFlags"])?;
        if let Ok(fields) = form.get(b"Fields") {
            for field in loader.array_of(fields)? {
                if let Object::Reference(id) = field {
                    let field = loader.dict(id)?;
                    loader.values(&field, &[b"T"])?;
                }
            }
        }
    }
    Some(loader.doc)
}

/// Object number → (offset, generation), or `None` where the newest section frees it.
type Xref = BTreeMap<u32, Option<(usize, u16)>>;

struct Loader<'a> {
    pdf: &'a [u8],
    xref: Xref,
    doc: Document,
}

impl Loader<'_> {
    /// Object `id`, parsed once; `None` for a stream or what cannot be parsed. A free or
    /// missing object is `null`, as a reader takes it.
    fn object(&mut self, id: ObjectId) -> Option<Object> {
        if let Some(o) = self.doc.objects.get(&id) {
            return Some(o.clone());
        }
        let Some(Some((offset, generation))) = self.xref.get(&id.0).copied() else {
            return Some(Object::Null);
        };
        if generation != id.1 {
            return Some(Object::Null);
        }
        let object = indirect_object(self.pdf, offset, id)?;
        self.doc.objects.insert(id, object.clone());
        Some(object)
    }

    fn dict(&mut self, id: ObjectId) -> Option<Dictionary> {
        match self.object(id)? {
            Object::Dictionary(d) => Some(d),
            _ => None,
        }
    }

    /// The elements of an array given directly or by reference (loaded).
    fn array_of(&mut self, o: &Object) -> Option<Vec<Object>> {
        let o = match o {
            Object::Reference(id) => self.object(*id)?,
            o => o.clone(),
        };
        match o {
            Object::Array(a) => Some(a),
            _ => Some(Vec::new()),
        }
    }

    /// Loads the values of `keys` in `d` that are references.
    fn values(&mut self, d: &Dictionary, keys: &[&[u8]]) -> Option<()> {
        for key in keys {
            if let Ok(Object::Reference(id)) = d.get(key) {
                self.object(*id)?;
            }
        }
        Some(())
    }

    /// Loads the page tree node `id` and everything under it; the pages in order.
    fn page_tree(
        &mut self,
        id: ObjectId,
        depth: usize,
        seen: &mut HashSet<ObjectId>,
        pages: &mut Vec<ObjectId>,
    ) -> Option<()> {
        if depth > DEPTH || !seen.insert(id) {
            return None;
        }
        let node = self.dict(id)?;
        self.values(&node, &[b"Type", b"MediaBox"])?;
        match node.get(b"Type") {
            Ok(Object::Name(t)) if t == b"Page" => pages.push(id),
            Ok(Object::Name(t)) if t == b"Pages" => {
                let kids = match node.get(b"Kids") {
                    Ok(k) => self.array_of(k)?,
                    Err(_) => Vec::new(),
                };
                for kid in kids {
                    if let Object::Reference(kid) = kid {
                        self.page_tree(kid, depth + 1, seen, pages)?;
                    }
                }
            }
            // A node without a plain /Type: leave the file to the full parser.
            _ => return None,
        }
        Some(())
    }
}

/// The cross-reference table at `start` and the older ones its trailers name by
/// `/Prev`, merged (the newest entry of each object wins), with the newest trailer.
fn read_xref(pdf: &[u8], start: usize) -> Option<(Xref, Dictionary)> {
    let mut xref = Xref::new();
    let mut newest: Option<Dictionary> = None;
    let mut at = Some(start);
    let mut seen = HashSet::new();
    while let Some(offset) = at {
        if !seen.insert(offset) || seen.len() > 1024 {
            return None;
        }
        let mut p = Parser::at(pdf, offset);
        p.space();
        if !p.keyword(b"xref") {
            return None;
        }
        loop {
            p.space();
            if p.keyword(b"trailer") {
                break;
            }
            let first = p.unsigned()?;
            p.space();
            let count = p.unsigned()?;
            for n in first..first.checked_add(count)? {
                p.space();
                let offset = p.unsigned()?;
                p.space();
                let generation = u16::try_from(p.unsigned()?).ok()?;
                p.space();
                let kind = p.byte()?;
                let n = u32::try_from(n).ok()?;
                let entry = match kind {
                    b'n' => Some((usize::try_from(offset).ok()?, generation)),
                    b'f' => None,
                    _ => return None,
                };
                xref.entry(n).or_insert(entry);
            }
        }
        let Object::Dictionary(trailer) = p.object(0)? else {
            return None;
        };
        if trailer.has(b"XRefStm") {
            return None;
        }
        at = match trailer.get(b"Prev") {
            Ok(Object::Integer(prev)) => Some(usize::try_from(*prev).ok()?),
            Ok(_) => return None,
            Err(_) => None,
        };
        newest.get_or_insert(trailer);
    }
    // Object 0 heads the free list; it is never an object.
    xref.remove(&0);
    Some((xref, newest?))
}

/// The object `id` at `offset` ("N G obj … endobj"); `None` for a stream.
fn indirect_object(pdf: &[u8], offset: usize, id: ObjectId) -> Option<Object> {
    let mut p = Parser::at(pdf, offset);
    p.space();
    let n = p.unsigned()?;
    p.space();
    let g = p.unsigned()?;
    p.space();
    if (n, g) != (u64::from(id.0), u64::from(id.1)) || !p.keyword(b"obj") {
        return None;
    }
    let object = p.object(0)?;
    p.space();
    if p.keyword(b"stream") {
        return None;
    }
    Some(object)
}

/// A reader of PDF objects (ISO 32000-1, 7.3) from a position in the file.
struct Parser<'a> {
    b: &'a [u8],
    i: usize,
}

fn is_space(c: u8) -> bool {
    matches!(c, b'\0' | b'\t' | b'\n' | b'\x0c' | b'\r' | b' ')
}

fn is_delimiter(c: u8) -> bool {
    matches!(
        c,
        b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
    )
}

fn is_regular(c: u8) -> bool {
    !is_space(c) && !is_delimiter(c)
}

impl<'a> Parser<'a> {
    fn at(b: &'a [u8], i: usize) -> Self {
        Parser { b, i }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn byte(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.i += 1;
        Some(c)
    }

    /// Skips white space and comments.
    fn space(&mut self) {
        while let Some(c) = self.peek() {
            if is_space(c) {
                self.i += 1;
            } else if c == b'%' {
                while self.peek().is_some_and(|c| c != b'\n' && c != b'\r') {
                    self.i += 1;
                }
            } else {
                break;
            }
        }
    }

    /// The regular characters from here (a number, keyword or name's body).
    fn token(&mut self) -> &'a [u8] {
        let start = self.i;
        while self.peek().is_some_and(is_regular) {
            self.i += 1;
        }
        &self.b[start..self.i]
    }

    /// `word` as a whole token here (consumed), or nothing consumed.
    fn keyword(&mut self, word: &[u8]) -> bool {
        let start = self.i;
        if self.token() == word {
            true
        } else {
            self.i = start;
            false
        }
    }

    fn unsigned(&mut self) -> Option<u64> {
        let t = self.token();
        if t.is_empty() || !t.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(t).ok()?.parse().ok()
    }

    fn object(&mut self, depth: usize) -> Option<Object> {
        if depth > DEPTH {
            return None;
        }
        self.space();
        match self.peek()? {
            b'/' => {
                self.i += 1;
                Some(Object::Name(self.name()?))
            }
            b'(' => {
                self.i += 1;
                Some(Object::String(self.literal()?, StringFormat::Literal))
            }
            b'<' if self.b.get(self.i + 1) == Some(&b'<') => {
                self.i += 2;
                let mut d = Dictionary::new();
                loop {
                    self.space();
                    if self.b[self.i..].starts_with(b">>") {
                        self.i += 2;
                        return Some(Object::Dictionary(d));
                    }
                    if self.byte()? != b'/' {
                        return None;
                    }
                    let key = self.name()?;
                    let value = self.object(depth + 1)?;
                    d.set(key, value);
                }
            }
            b'<' => {
                self.i += 1;
                Some(Object::String(self.hex()?, StringFormat::Hexadecimal))
            }
            b'[' => {
                self.i += 1;
                let mut a = Vec::new();
                loop {
                    self.space();
                    if self.peek()? == b']' {
                        self.i += 1;
                        return Some(Object::Array(a));
                    }
                    a.push(self.object(depth + 1)?);
                }
            }
            c if c.is_ascii_digit() || matches!(c, b'+' | b'-' | b'.') => self.number(),
            _ => match self.token() {
                b"true" => Some(Object::Boolean(true)),
                b"false" => Some(Object::Boolean(false)),
                b"null" => Some(Object::Null),
                _ => None,
            },
        }
    }

    /// A number, or a reference "N G R" when two unsigned integers and R follow.
    fn number(&mut self) -> Option<Object> {
        let t = std::str::from_utf8(self.token()).ok()?;
        if t.bytes().all(|c| c.is_ascii_digit()) {
            let after = self.i;
            self.space();
            let generation = self.unsigned();
            self.space();
            if let Some(g) = generation.and_then(|g| u16::try_from(g).ok())
                && self.keyword(b"R")
            {
                return Some(Object::Reference((t.parse().ok()?, g)));
            }
            self.i = after;
        }
        if let Ok(i) = t.parse::<i64>() {
            return Some(Object::Integer(i));
        }
        // Reals: "-.5", "3.", "+1.25".
        let t = t.strip_prefix('+').unwrap_or(t);
        let real = if let Some(rest) = t.strip_prefix("-.") {
            format!("-0.{rest}")
        } else if t.starts_with('.') {
            format!("0{t}")
        } else {
            t.to_owned()
        };
        let real = real.strip_suffix('.').unwrap_or(&real);
        Some(Object::Real(real.parse::<f32>().ok()?))
    }

    /// A name's body after its `/`, with `#xx` escapes decoded.
    fn name(&mut self) -> Option<Vec<u8>> {
        let t = self.token();
        let mut out = Vec::with_capacity(t.len());
        let mut i = 0;
        while i < t.len() {
            if t[i] == b'#' && i + 2 < t.len() {
                let hex = std::str::from_utf8(&t[i + 1..i + 3]).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            } else {
                out.push(t[i]);
                i += 1;
            }
        }
        Some(out)
    }

    /// A literal string's bytes after its `(`, escapes decoded.
    fn literal(&mut self) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        let mut depth = 0usize;
        loop {
            let c = self.byte()?;
            match c {
                b'(' => {
                    depth += 1;
                    out.push(c);
                }
                b')' if depth == 0 => return Some(out),
                b')' => {
                    depth -= 1;
                    out.push(c);
                }
                b'\\' => {
                    let e = self.byte()?;
                    match e {
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'b' => out.push(b'\x08'),
                        b'f' => out.push(b'\x0c'),
                        b'0'..=b'7' => {
                            let mut v = u32::from(e - b'0');
                            for _ in 0..2 {
                                match self.peek() {
                                    Some(d @ b'0'..=b'7') => {
                                        v = v * 8 + u32::from(d - b'0');
                                        self.i += 1;
                                    }
                                    _ => break,
                                }
                            }
                            out.push(v as u8);
                        }
                        // A backslash at the end of a line continues the string.
                        b'\r' => {
                            if self.peek() == Some(b'\n') {
                                self.i += 1;
                            }
                        }
                        b'\n' => {}
                        other => out.push(other),
                    }
                }
                c => out.push(c),
            }
        }
    }

    /// A hexadecimal string's bytes after its `<` (white space ignored, an odd last
    /// digit followed by 0).
    fn hex(&mut self) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        let mut high: Option<u8> = None;
        loop {
            let c = self.byte()?;
            let v = match c {
                b'>' => {
                    if let Some(h) = high {
                        out.push(h << 4);
                    }
                    return Some(out);
                }
                c if is_space(c) => continue,
                c => (c as char).to_digit(16)? as u8,
            };
            match high.take() {
                Some(h) => out.push(h << 4 | v),
                None => high = Some(v),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Option<Object> {
        Parser::at(s.as_bytes(), 0).object(0)
    }

    #[test]
    fn objects_read_as_the_full_parser_reads_them() {
        let cases = [
            "<</Type /Page /Parent 3 0 R /MediaBox [0 0 595.2756 841.8898] /Rotate -90>>",
            "[1 2 R 3 0 R 4 5 6 R]",
            "<</T (a\\(b\\)c\\\\ \\101\\n\\0537 (nested))/V <FEFF004B0041>/N /A#20B>>",
            "<</A true /B false /C null /D -.5 /E 3. /F +7 /G [ ] /H << >> /I <4>>>",
            "[/Name%comment\n 12 0 R]",
        ];
        for case in cases {
            let ours = parse(case).unwrap_or_else(|| panic!("{case}"));
            // The full parser, on a one-object file of the same text.
            let pdf = format!(
                "%PDF-1.7\n1 0 obj\n{case}\nendobj\nxref\n0 2\n0000000000 65535 f \n0000000009 00000 n \ntrailer\n<</Size 2 /Root 1 0 R>>\nstartxref\n{}\n%%EOF\n",
                9 + "1 0 obj\n".len() + case.len() + "\nendobj\n".len()
            );
            let theirs = Document::load_mem(pdf.as_bytes()).unwrap();
            assert_eq!(
                format!("{ours:?}"),
                format!("{:?}", theirs.get_object((1, 0)).unwrap()),
                "{case}"
            );
        }
    }

    #[test]
    fn what_it_does_not_expect_is_left_to_the_full_parser() {
        for bad in [
            "<</A >>",
            "[1 2",
            "(unterminated",
            "<</A 1 0 Q>>",
            "<zz>",
            "@",
        ] {
            assert!(parse(bad).is_none(), "{bad}: {:?}", parse(bad));
        }
        // A stream where a dictionary should be.
        let pdf = b"1 0 obj\n<</Length 1>>\nstream\nx\nendstream\nendobj\n";
        assert!(indirect_object(pdf, 0, (1, 0)).is_none());
        // A cross-reference stream.
        let pdf = super::super::test_support::pdf_of(1, 9.0, 9.0);
        assert!(load_for_update(&pdf).is_none());
        assert!(load_for_update(&super::super::test_support::classic(&pdf)).is_some());
    }
}
