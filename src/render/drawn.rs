//! The middle rows of a long Appendix 2, drawn by the service.
//!
//! Typst lays out a row of the table in ~8 M instructions and exports it in ~3 M more:
//! a region's 10,000 rows took 6 s on two cores. The rows are plain text in a ruled grid
//! of fixed columns, so the service sets them itself. Typst still lays out the form's
//! first and last rows (with the heading, the totals and the signature, see `parts`),
//! and once a frame: the table's header alone on a page, and every character of the
//! other rows on another page, so that the body font's subset has all their glyphs.
//! The rows in between are drawn here in that font under that header, page after page,
//! as the template sets them: the same columns, insets, rules, size, leading and
//! paragraph spacing (`<kvota-frame>` in templates/appendix2.typ); lines broken at
//! spaces and after a compound's hyphen; a word wider than its column narrowed, or
//! broken between letters when narrowing is not enough (`fit-piece` in
//! templates/layout.typ); a short row kept on one page; a long one broken across pages
//! between lines, never leaving one line of a paragraph alone on either side.
//!
//! What differs from Typst: no kerning, so a line of the same words is a few hundredths
//! of an em wider and may break one word earlier. A character the body font lacks (Typst
//! would take it from another font) leaves the whole form to Typst.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;

use lopdf::{Dictionary, Document, Object, ObjectId};
use serde::Deserialize;
use serde_json::Value;

/// Rows' geometry from the template, in points (`leading` in ems).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Geometry {
    header: f32,
    widths: Vec<f32>,
    left: f32,
    top: f32,
    bottom: f32,
    inset_x: f32,
    inset_y: f32,
    rule: f32,
    size: f32,
    leading: f32,
    spacing: f32,
    /// The footer: its text size, the bottom margin, the footer's descent into it (a
    /// share of it and a length), the right margin, and its note.
    caption: f32,
    right: f32,
    descent: (f32, f32),
    note: Option<String>,
}

/// The columns of Appendix 2.
const COLUMNS: usize = 9;

/// How far a long word may be narrowed to stay whole (`min-word-scale` in
/// templates/layout.typ).
const MIN_WORD_SCALE: f32 = 0.75;

/// Rows set in lines on every core at a time: few enough that their lines take little
/// memory, enough that starting the threads costs nothing much.
const BLOCK_ROWS: usize = 512;

/// Lengths closer than this (in points) are equal.
const EPS: f32 = 1e-3;

/// The characters besides the rows' own that the drawn pages use: the labels of a BIN
/// and an IIN, the no-break space and dash of «code name — N», digits, the footer's
/// «Страница N из M» and the «Документ» of its note.
const ALWAYS: &str = "БИН ИИН\u{00A0}—-0123456789 Страница из Документ";

/// Every character the rows' data may put into a cell, for the frame's glyph page.
pub(super) fn characters<'a>(rows: impl Iterator<Item = &'a Value>) -> BTreeSet<char> {
    /// One bit per code point: a set in a few hundred KiB, filled at the cost of a shift.
    struct Seen(Vec<u64>);
    impl Seen {
        fn add(&mut self, s: &str) {
            for c in s.chars().filter(|c| !c.is_control()) {
                let c = c as usize;
                self.0[c / 64] |= 1 << (c % 64);
            }
        }
        fn walk(&mut self, v: &Value) {
            match v {
                Value::String(s) => self.add(s),
                Value::Number(n) => self.add(&n.to_string()),
                Value::Array(a) => a.iter().for_each(|v| self.walk(v)),
                Value::Object(o) => o.values().for_each(|v| self.walk(v)),
                _ => {}
            }
        }
    }
    let mut seen = Seen(vec![0; (char::MAX as usize + 1).div_ceil(64)]);
    seen.add(ALWAYS);
    for row in rows {
        seen.walk(row);
    }
    let mut out = BTreeSet::new();
    for (k, &word) in seen.0.iter().enumerate() {
        let mut bits = word;
        while bits != 0 {
            let bit = bits.trailing_zeros() as usize;
            out.extend(char::from_u32((k * 64 + bit) as u32));
            bits &= bits - 1;
        }
    }
    out
}

/// The text of the frame's glyph page: every character once, between spaces.
pub(super) fn glyph_text(chars: &BTreeSet<char>) -> String {
    let mut s = String::with_capacity(chars.len() * 3);
    for c in chars.iter().filter(|c| **c != ' ') {
        s.push(*c);
        s.push(' ');
    }
    s
}

#[derive(Debug, Clone, Copy)]
struct Glyph {
    cid: u16,
    /// Advance, in ems.
    width: f32,
}

/// The frame the rows are drawn in: Typst's PDF of the header page and the glyph page.
pub(super) struct Frame {
    pub(super) doc: Document,
    /// The page with the table's header alone.
    pub(super) header: ObjectId,
    /// The body font, a Type0 font of Identity-H CIDs, as the glyph page uses it.
    pub(super) font: ObjectId,
    /// A one-component ICC colour space of the header page (Typst's black), by name.
    gray: Option<Vec<u8>>,
    glyphs: HashMap<char, Glyph>,
    space: Glyph,
    /// Cap height, in ems: the top of a line of text (Typst's `top-edge`).
    cap: f32,
    /// Page width and height.
    page: (f32, f32),
    geometry: Geometry,
}

/// The label of the template's geometry of the rows.
pub(super) const LABEL: &str = "kvota-frame";

/// The name under which the drawn pages use the body font.
pub(super) const FONT: &[u8] = FONT_NAME.as_bytes();
const FONT_NAME: &str = "KvotaBody";

impl Frame {
    /// The frame of Typst's `pdf` and the template's `geometry`, when its body font has
    /// every character of `chars`; `None` otherwise, or when the frame is not as drawn
    /// by this template (two pages, the second in one font).
    pub(super) fn new(pdf: &[u8], geometry: &Value, chars: &BTreeSet<char>) -> Option<Frame> {
        let geometry: Geometry = serde_json::from_value(geometry.clone()).ok()?;
        if geometry.widths.len() != COLUMNS {
            return None;
        }
        let doc = Document::load_mem(pdf).ok()?;
        let pages: Vec<ObjectId> = doc.get_pages().into_values().collect();
        let [header, glyph_page] = pages[..] else {
            return None;
        };
        let resources = |page: ObjectId| -> Option<&Dictionary> {
            deref(&doc, doc.get_dictionary(page).ok()?.get(b"Resources").ok()?)?
                .as_dict()
                .ok()
        };
        let fonts = deref(&doc, resources(glyph_page)?.get(b"Font").ok()?)?
            .as_dict()
            .ok()?;
        let mut fonts = fonts.iter();
        let (Some((_, Object::Reference(font))), None) = (fonts.next(), fonts.next()) else {
            return None;
        };
        let font = *font;
        let type0 = doc.get_dictionary(font).ok()?;
        let to_unicode = deref(&doc, type0.get(b"ToUnicode").ok()?)?
            .as_stream()
            .ok()?;
        let cmap = to_unicode
            .decompressed_content()
            .unwrap_or_else(|_| to_unicode.content.clone());
        let descendant = match deref(&doc, type0.get(b"DescendantFonts").ok()?)? {
            Object::Array(a) => deref(&doc, a.first()?)?.as_dict().ok()?,
            _ => return None,
        };
        let widths = cid_widths(&doc, descendant)?;
        let cap = deref(&doc, descendant.get(b"FontDescriptor").ok()?)?
            .as_dict()
            .ok()?
            .get(b"CapHeight")
            .ok()?
            .as_float()
            .ok()?
            / 1000.0;
        let mut glyphs = HashMap::new();
        for (cid, text) in to_unicode_map(&cmap) {
            let mut cs = text.chars();
            if let (Some(c), None) = (cs.next(), cs.next()) {
                let width = widths.get(&cid).copied().unwrap_or(widths.default) / 1000.0;
                glyphs.entry(c).or_insert(Glyph { cid, width });
            }
        }
        let space = *glyphs.get(&' ')?;
        glyphs.entry('\u{00A0}').or_insert(space);
        let note = geometry.note.as_deref().unwrap_or("");
        if !chars
            .iter()
            .chain(&note.chars().collect::<Vec<_>>())
            .all(|c| glyphs.contains_key(c))
        {
            return None;
        }
        let media = doc
            .get_dictionary(header)
            .ok()?
            .get(b"MediaBox")
            .ok()?
            .as_array()
            .ok()?
            .iter()
            .map(|o| o.as_float().ok())
            .collect::<Option<Vec<f32>>>()?;
        let [x0, y0, x1, y1] = media[..] else {
            return None;
        };
        let gray = deref(&doc, resources(header)?.get(b"ColorSpace").ok()?)
            .and_then(|o| o.as_dict().ok())
            .and_then(|spaces| {
                spaces.iter().find_map(|(name, space)| {
                    let space = deref(&doc, space)?.as_array().ok()?;
                    let icc = deref(&doc, space.get(1)?)?.as_stream().ok()?;
                    (space.first()?.as_name().ok()? == b"ICCBased"
                        && icc.dict.get(b"N").ok()?.as_i64().ok()? == 1)
                        .then(|| name.clone())
                })
            });
        Some(Frame {
            header,
            font,
            gray,
            glyphs,
            space,
            cap,
            page: (x1 - x0, y1 - y0),
            geometry,
            doc,
        })
    }

    /// The pages of `rows`, each a content stream drawn after the header page's own: the
    /// rows' rules and text, the body font named [`FONT`]. The rows' cells are prepared
    /// and set in lines on every core, a block of rows at a time; the pages are then
    /// filled in order.
    pub(super) fn draw(&self, rows: &[Value]) -> Vec<Vec<u8>> {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let mut pages = Pages::new(self);
        for block in rows.chunks(BLOCK_ROWS) {
            let shares: Vec<&[Value]> = block.chunks(block.len().div_ceil(cores)).collect();
            let set = |share: &[Value]| -> Vec<(Vec<Cell>, bool)> {
                share
                    .iter()
                    .map(|row| {
                        let row = super::cells::appendix2_row(row, None);
                        let long = row.get("long").and_then(Value::as_bool).unwrap_or(false);
                        (self.row_cells(&row), long)
                    })
                    .collect()
            };
            let set_rows: Vec<Vec<(Vec<Cell>, bool)>> = std::thread::scope(|scope| {
                let others: Vec<_> = shares[1..]
                    .iter()
                    .map(|share| scope.spawn(|| set(share)))
                    .collect();
                std::iter::once(set(shares[0]))
                    .chain(
                        others
                            .into_iter()
                            .map(|h| h.join().expect("setting a share of rows")),
                    )
                    .collect()
            });
            for (cells, long) in set_rows.into_iter().flatten() {
                pages.row(cells, long);
            }
        }
        pages.finish()
    }

    /// A row's nine cells, laid out in lines.
    fn row_cells(&self, row: &Value) -> Vec<Cell> {
        let empty = Vec::new();
        let cells = row.get("cells").and_then(Value::as_array).unwrap_or(&empty);
        let prepared = |k: usize| cells.get(k).unwrap_or(&Value::Null);
        let plain = |v: Option<&Value>| -> Value {
            let text = match v {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
            };
            serde_json::json!({ "center": text })
        };
        (0..COLUMNS)
            .map(|column| {
                let width = self.geometry.widths[column] - 2.0 * self.geometry.inset_x;
                let plain_cell;
                let cell = match column {
                    0 => {
                        plain_cell = plain(row.get("number"));
                        &plain_cell
                    }
                    1 => prepared(0),
                    2 => {
                        plain_cell = plain(row.get("current_count"));
                        &plain_cell
                    }
                    3..=7 => prepared(column - 2),
                    _ => prepared(6),
                };
                self.cell(cell, width)
            })
            .collect()
    }

    /// A prepared cell (see `cells`) set in lines `width` wide.
    fn cell(&self, cell: &Value, width: f32) -> Cell {
        let g = &self.geometry;
        let centred;
        let (center, paragraphs): (bool, Vec<&[Value]>) = match cell {
            Value::Object(o) => {
                centred = [o.get("center").cloned().unwrap_or(Value::Null)];
                (true, vec![&centred[..]])
            }
            Value::Array(ps) => (
                false,
                ps.iter()
                    .filter_map(|p| p.as_array().map(Vec::as_slice))
                    .collect(),
            ),
            _ => (false, Vec::new()),
        };
        let mut lines = Vec::new();
        for (k, paragraph) in paragraphs.iter().enumerate() {
            let set = self.lines(&self.units(paragraph, width), width);
            let of = set.len();
            for (index, line) in set.into_iter().enumerate() {
                let gap = match (k, index) {
                    (0, 0) => 0.0,
                    (_, 0) => g.spacing,
                    _ => g.leading * g.size,
                };
                lines.push(CellLine {
                    line,
                    gap,
                    index,
                    of,
                });
            }
        }
        Cell {
            center,
            width,
            lines,
            next: 0,
        }
    }

    fn glyph(&self, c: char) -> Option<Glyph> {
        self.glyphs.get(&c).copied()
    }

    /// A paragraph's segments as units a line may not break inside.
    fn units(&self, paragraph: &[Value], width: f32) -> Vec<Unit> {
        let size = self.geometry.size;
        let mut out = Vec::new();
        let mut unit: Option<Unit> = None;
        // What comes before the next unit: a space, and whether a line may start there.
        let (mut space, mut open) = (false, false);
        for segment in paragraph {
            match segment {
                Value::String(s) => {
                    let chars: Vec<char> = s.chars().filter(|c| !c.is_control()).collect();
                    for (i, &c) in chars.iter().enumerate() {
                        if c == ' ' {
                            out.extend(unit.take());
                            (space, open) = (true, true);
                            continue;
                        }
                        let Some(glyph) = self.glyph(c) else { continue };
                        let u = unit.get_or_insert_with(|| {
                            let u = Unit::new(space, open);
                            (space, open) = (false, false);
                            u
                        });
                        u.push(glyph, size);
                        // A line may end after the hyphen of a compound.
                        let compound = c == '-'
                            && i > 0
                            && chars[i - 1].is_alphabetic()
                            && chars.get(i + 1).is_none_or(|n| n.is_alphabetic());
                        if compound {
                            out.extend(unit.take());
                            open = true;
                        }
                    }
                }
                Value::Object(o) => {
                    out.extend(unit.take());
                    let piece = o.get("fit").and_then(Value::as_str).unwrap_or("");
                    let glyphs: Vec<Glyph> = piece.chars().filter_map(|c| self.glyph(c)).collect();
                    let natural: f32 = glyphs.iter().map(|g| g.width).sum::<f32>() * size;
                    if natural <= width + EPS || natural * MIN_WORD_SCALE <= width + EPS {
                        let mut u = Unit::new(space, open);
                        if natural > width + EPS {
                            u.scale = width / natural;
                        }
                        for g in glyphs {
                            u.push(g, size);
                        }
                        out.push(u);
                    } else {
                        // Letter by letter: a line may end between any two.
                        for (k, g) in glyphs.into_iter().enumerate() {
                            let mut u = Unit::new(k == 0 && space, k > 0 || open);
                            u.push(g, size);
                            out.push(u);
                        }
                    }
                    (space, open) = (false, piece.ends_with('-'));
                }
                _ => {}
            }
        }
        out.extend(unit);
        out
    }

    /// Units set in lines of at most `width` (a unit wider than that alone on its line),
    /// each line as full as it can be.
    fn lines(&self, units: &[Unit], width: f32) -> Vec<Line> {
        let space = self.space.width * self.geometry.size;
        let mut lines = Vec::new();
        let mut start = 0;
        let mut used = 0.0;
        for (k, u) in units.iter().enumerate() {
            let glue = if u.space { space } else { 0.0 };
            if k > start && u.open && used + glue + u.width > width + EPS {
                lines.push(self.line(&units[start..k]));
                start = k;
                used = 0.0;
            }
            used += if k > start { glue } else { 0.0 } + u.width;
        }
        if start < units.len() {
            lines.push(self.line(&units[start..]));
        }
        lines
    }

    /// One line of units: runs of glyphs of one size, the spaces between words as the
    /// space glyph (so that the text reads back with its spaces).
    fn line(&self, units: &[Unit]) -> Line {
        let size = self.geometry.size;
        let mut runs: Vec<Run> = Vec::new();
        let mut x = 0.0;
        // Whether the last run ends where the next glyph goes.
        let mut joined = false;
        for (k, u) in units.iter().enumerate() {
            if k > 0 && u.space {
                match runs.last_mut() {
                    Some(r) if joined && r.scale == 1.0 => r.cids.push(self.space.cid),
                    _ => joined = false,
                }
                x += self.space.width * size;
            }
            match runs.last_mut() {
                Some(r) if joined && r.scale == u.scale => r.cids.extend(&u.cids),
                _ => runs.push(Run {
                    x,
                    scale: u.scale,
                    cids: u.cids.clone(),
                }),
            }
            joined = true;
            x += u.width;
        }
        let scale = runs.iter().map(|r| r.scale).fold(0.0, f32::max);
        Line {
            width: x,
            height: self.cap * size * if runs.is_empty() { 1.0 } else { scale },
            runs,
        }
    }
}

/// `o`, or the object it refers to.
fn deref<'a>(doc: &'a Document, o: &'a Object) -> Option<&'a Object> {
    match o {
        Object::Reference(id) => doc.get_object(*id).ok(),
        other => Some(other),
    }
}

/// A CID font's widths (/W and /DW), in thousandths of an em.
struct Widths {
    by_cid: HashMap<u16, f32>,
    default: f32,
}

impl Widths {
    fn get(&self, cid: &u16) -> Option<&f32> {
        self.by_cid.get(cid)
    }
}

fn cid_widths(doc: &Document, font: &Dictionary) -> Option<Widths> {
    let default = font
        .get(b"DW")
        .ok()
        .and_then(|o| o.as_float().ok())
        .unwrap_or(1000.0);
    let mut by_cid = HashMap::new();
    let w = match font.get(b"W") {
        Ok(o) => deref(doc, o)?.as_array().ok()?.clone(),
        Err(_) => Vec::new(),
    };
    let mut i = 0;
    let num = |o: &Object| o.as_float().ok();
    while i < w.len() {
        let first = w[i].as_i64().ok()?;
        match deref(doc, w.get(i + 1)?)? {
            Object::Array(list) => {
                for (k, v) in list.iter().enumerate() {
                    by_cid.insert(u16::try_from(first + k as i64).ok()?, num(v)?);
                }
                i += 2;
            }
            last => {
                let last = last.as_i64().ok()?;
                let width = num(w.get(i + 2)?)?;
                for cid in first..=last {
                    by_cid.insert(u16::try_from(cid).ok()?, width);
                }
                i += 3;
            }
        }
    }
    Some(Widths { by_cid, default })
}

/// The CIDs of a ToUnicode CMap with the text of each (`bfchar` and `bfrange` entries
/// of hexadecimal strings).
fn to_unicode_map(cmap: &[u8]) -> Vec<(u16, String)> {
    let text = String::from_utf8_lossy(cmap);
    let mut out = Vec::new();
    let mut tokens = text.split_whitespace();
    let hex = |t: &str| -> Option<Vec<u8>> {
        let t = t.strip_prefix('<')?.strip_suffix('>')?;
        (0..t.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(t.get(i..i + 2)?, 16).ok())
            .collect()
    };
    let cid = |b: &[u8]| -> Option<u16> {
        match b {
            [hi, lo] => Some(u16::from_be_bytes([*hi, *lo])),
            [one] => Some(u16::from(*one)),
            _ => None,
        }
    };
    let utf16 = |b: &[u8]| -> Option<String> {
        let units: Vec<u16> = b
            .chunks(2)
            .map(|c| (c.len() == 2).then(|| u16::from_be_bytes([c[0], c[1]])))
            .collect::<Option<_>>()?;
        String::from_utf16(&units).ok()
    };
    while let Some(t) = tokens.next() {
        match t {
            "beginbfchar" => {
                while let Some(src) = tokens.next().filter(|t| *t != "endbfchar") {
                    let Some(dst) = tokens.next() else { break };
                    if let (Some(c), Some(s)) = (
                        hex(src).as_deref().and_then(cid),
                        hex(dst).as_deref().and_then(utf16),
                    ) {
                        out.push((c, s));
                    }
                }
            }
            "beginbfrange" => {
                while let Some(lo) = tokens.next().filter(|t| *t != "endbfrange") {
                    let (Some(hi), Some(dst)) = (tokens.next(), tokens.next()) else {
                        break;
                    };
                    let (Some(lo), Some(hi)) = (
                        hex(lo).as_deref().and_then(cid),
                        hex(hi).as_deref().and_then(cid),
                    ) else {
                        continue;
                    };
                    // A destination string: consecutive code points from it.
                    let Some(first) = hex(dst).as_deref().and_then(utf16) else {
                        continue;
                    };
                    let mut chars: Vec<char> = first.chars().collect();
                    for c in lo..=hi {
                        out.push((c, chars.iter().collect()));
                        if let Some(last) = chars.last_mut() {
                            *last = char::from_u32(u32::from(*last) + 1).unwrap_or(*last);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// Glyphs a line may not break between.
struct Unit {
    cids: Vec<u16>,
    /// Width in points, at `scale`.
    width: f32,
    /// The font size's share (a narrowed long word's is below 1).
    scale: f32,
    /// A space comes before it.
    space: bool,
    /// A line may start with it.
    open: bool,
}

impl Unit {
    fn new(space: bool, open: bool) -> Self {
        Unit {
            cids: Vec::new(),
            width: 0.0,
            scale: 1.0,
            space,
            open,
        }
    }

    fn push(&mut self, g: Glyph, size: f32) {
        self.cids.push(g.cid);
        self.width += g.width * size * self.scale;
    }
}

/// Glyphs of one size set one after the other from `x` (points from the line's start).
struct Run {
    x: f32,
    scale: f32,
    cids: Vec<u16>,
}

struct Line {
    width: f32,
    /// From the line's top (cap height) to its baseline.
    height: f32,
    runs: Vec<Run>,
}

struct CellLine {
    line: Line,
    /// Space above the line: none for a cell's first, the leading within a paragraph,
    /// the paragraph spacing before the next.
    gap: f32,
    /// Its place in its paragraph of `of` lines.
    index: usize,
    of: usize,
}

struct Cell {
    center: bool,
    /// The width of its text.
    width: f32,
    lines: Vec<CellLine>,
    /// The first line not drawn yet.
    next: usize,
}

impl Cell {
    /// The height of its lines from `next` on, the first without the space above it.
    fn height(&self, count: usize) -> f32 {
        self.lines[self.next..self.next + count]
            .iter()
            .enumerate()
            .map(|(k, l)| if k == 0 { 0.0 } else { l.gap } + l.line.height)
            .sum()
    }

    fn left(&self) -> usize {
        self.lines.len() - self.next
    }

    /// How many of the lines from `next` on fit `room`, with no paragraph leaving one
    /// line alone at the bottom of the page (orphan) or at the top of the next (widow).
    fn fitting(&self, room: f32) -> usize {
        let mut count = 0;
        let mut used = 0.0;
        for (k, l) in self.lines[self.next..].iter().enumerate() {
            let h = if k == 0 { 0.0 } else { l.gap } + l.line.height;
            if used + h > room + EPS {
                break;
            }
            used += h;
            count += 1;
        }
        if count == self.left() {
            return count;
        }
        let split = |count: usize| &self.lines[self.next + count];
        // The first line left over is the last of its paragraph: one more goes with it.
        if count > 0 && split(count).index + 1 == split(count).of && split(count).of > 1 {
            count -= 1;
        }
        // Only the first line of a paragraph would stay: it goes too.
        if count > 0 && split(count).index == 1 {
            count -= 1;
        }
        count
    }
}

/// The drawn pages, and the one being drawn.
struct Pages<'f> {
    frame: &'f Frame,
    done: Vec<Vec<u8>>,
    rules: String,
    text: String,
    /// The font size the text is set in now (within the page's text object).
    size: f32,
    /// Where the next row goes, from the top of the page.
    y: f32,
    /// Rows (or parts of rows) on this page.
    rows: usize,
    deflate: flate2::Compress,
}

impl<'f> Pages<'f> {
    fn new(frame: &'f Frame) -> Self {
        Pages {
            frame,
            done: Vec::new(),
            rules: String::new(),
            text: String::new(),
            size: 0.0,
            y: frame.body_top(),
            rows: 0,
            deflate: flate2::Compress::new(flate2::Compression::fast(), true),
        }
    }

    fn row(&mut self, mut cells: Vec<Cell>, long: bool) {
        let g = &self.frame.geometry;
        let bottom = self.frame.page.1 - g.bottom;
        loop {
            let whole =
                2.0 * g.inset_y + cells.iter().map(|c| c.height(c.left())).fold(0.0, f32::max);
            if self.y + whole <= bottom + EPS || (self.rows == 0 && !long) {
                self.fragment(&mut cells, None, whole);
                return;
            }
            if !long {
                self.new_page();
                continue;
            }
            let room = bottom - self.y - 2.0 * g.inset_y;
            let mut counts: Vec<usize> = cells.iter().map(|c| c.fitting(room)).collect();
            if counts.iter().all(|&n| n == 0) {
                if self.rows > 0 {
                    self.new_page();
                    continue;
                }
                // Not a line fits an empty page: one line of each cell, overflowing.
                counts = cells.iter().map(|c| c.left().min(1)).collect();
            }
            self.fragment(&mut cells, Some(&counts), bottom - self.y);
            self.new_page();
        }
    }

    /// Draws the cells' next lines (all, or `counts` of each) in a row `height` tall at
    /// `self.y`, and its rules.
    fn fragment(&mut self, cells: &mut [Cell], counts: Option<&[usize]>, height: f32) {
        let frame = self.frame;
        let g = &frame.geometry;
        let page_height = frame.page.1;
        let (top, bottom) = (self.y, self.y + height);
        let mut x = g.left;
        for (k, cell) in cells.iter_mut().enumerate() {
            let count = counts.map_or(cell.left(), |c| c[k]);
            let mut y = top + g.inset_y;
            for (i, l) in cell.lines[cell.next..cell.next + count].iter().enumerate() {
                if i > 0 {
                    y += l.gap;
                }
                y += l.line.height;
                let start = x
                    + g.inset_x
                    + if cell.center {
                        (cell.width - l.line.width) / 2.0
                    } else {
                        0.0
                    };
                for run in &l.line.runs {
                    let size = g.size * run.scale;
                    if size != self.size {
                        self.text.push('/');
                        self.text.push_str(FONT_NAME);
                        self.text.push(' ');
                        num(&mut self.text, size);
                        self.text.push_str(" Tf\n");
                        self.size = size;
                    }
                    self.text.push_str("1 0 0 1 ");
                    num(&mut self.text, start + run.x);
                    self.text.push(' ');
                    num(&mut self.text, page_height - y);
                    self.text.push_str(" Tm ");
                    hex(&mut self.text, &run.cids);
                    self.text.push_str(" Tj\n");
                }
            }
            cell.next += count;
            // The column's right rule.
            x += g.widths[k];
            self.line((x, page_height - top), (x, page_height - bottom));
        }
        let (upper, lower) = (page_height - top, page_height - bottom);
        self.line((g.left, upper), (g.left, lower));
        let (left, right) = (g.left - g.rule / 2.0, x + g.rule / 2.0);
        self.line((left, upper), (right, upper));
        self.line((left, lower), (right, lower));
        self.y = bottom;
        self.rows += 1;
    }

    /// A rule from `a` to `b`.
    fn line(&mut self, a: (f32, f32), b: (f32, f32)) {
        let r = &mut self.rules;
        num(r, a.0);
        r.push(' ');
        num(r, a.1);
        r.push_str(" m ");
        num(r, b.0);
        r.push(' ');
        num(r, b.1);
        r.push_str(" l S\n");
    }

    fn new_page(&mut self) {
        let frame = self.frame;
        // After the header's own content, in its own graphics state; the footer follows.
        let mut content = String::with_capacity(self.rules.len() + self.text.len() + 128);
        content.push_str("\nQ\nq\n");
        match &frame.gray {
            Some(name) => {
                let name = String::from_utf8_lossy(name);
                let _ = writeln!(content, "/{name} CS 0 SCN /{name} cs 0 scn");
            }
            None => content.push_str("0 G 0 g\n"),
        }
        num(&mut content, frame.geometry.rule);
        content.push_str(" w 0 J 4 M\n");
        content.push_str(&self.rules);
        content.push_str("BT\n");
        content.push_str(&self.text);
        content.push_str("ET\nQ\n");
        self.done.push(super::parts::deflate_with(
            &mut self.deflate,
            content.as_bytes(),
        ));
        self.rules.clear();
        self.text.clear();
        self.size = 0.0;
        self.y = frame.body_top();
        self.rows = 0;
    }

    fn finish(mut self) -> Vec<Vec<u8>> {
        if self.rows > 0 {
            self.new_page();
        }
        self.done
    }
}

impl Frame {
    /// The content stream of page `number`'s footer of `total` pages, as
    /// `footer-line` in templates/layout.typ sets it: the note on the left, «Страница N
    /// из M» on the right, on the baseline of a line at the top of the footer's area.
    pub(super) fn footer(&self, number: usize, total: usize) -> Vec<u8> {
        let g = &self.geometry;
        let (width, height) = self.page;
        let area = g.bottom - (g.descent.0 * g.bottom + g.descent.1);
        let baseline = area - self.cap * g.caption;
        let mut out = String::with_capacity(256);
        out.push_str("q\n");
        match &self.gray {
            Some(name) => {
                let name = String::from_utf8_lossy(name);
                let _ = writeln!(out, "/{name} cs 0 scn");
            }
            None => out.push_str("0 g\n"),
        }
        out.push_str("BT\n/");
        out.push_str(FONT_NAME);
        out.push(' ');
        num(&mut out, g.caption);
        out.push_str(" Tf\n");
        let mut text = |x: f32, s: &str| {
            let cids: Vec<u16> = s
                .chars()
                .filter_map(|c| self.glyph(c))
                .map(|g| g.cid)
                .collect();
            out.push_str("1 0 0 1 ");
            num(&mut out, x);
            out.push(' ');
            num(&mut out, baseline);
            out.push_str(" Tm ");
            hex(&mut out, &cids);
            out.push_str(" Tj\n");
        };
        if let Some(note) = &g.note {
            text(g.left, note);
        }
        if total > 1 {
            let page = format!("Страница {number} из {total}");
            let w: f32 = page
                .chars()
                .filter_map(|c| self.glyph(c))
                .map(|g| g.width)
                .sum::<f32>()
                * g.caption;
            text(width - g.right - w, &page);
        }
        let _ = height;
        out.push_str("ET\nQ\n");
        out.into_bytes()
    }

    /// The top of the first row on a page: under the header.
    fn body_top(&self) -> f32 {
        self.geometry.top + self.geometry.header
    }
}

/// Writes a length in points as the content stream has it: to a thousandth, without
/// trailing zeros.
fn num(out: &mut String, v: f32) {
    let thousandths = (f64::from(v) * 1000.0).round() as i64;
    if thousandths < 0 {
        out.push('-');
    }
    let t = thousandths.unsigned_abs();
    let _ = write!(out, "{}", t / 1000);
    let mut frac = t % 1000;
    if frac != 0 {
        out.push('.');
        let mut digits = 3;
        while frac.is_multiple_of(10) {
            frac /= 10;
            digits -= 1;
        }
        let _ = write!(out, "{frac:0digits$}");
    }
}

/// Writes CIDs as a hexadecimal string of two bytes each.
fn hex(out: &mut String, cids: &[u16]) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push('<');
    for cid in cids {
        for shift in [12, 8, 4, 0] {
            out.push(char::from(HEX[usize::from((cid >> shift) & 0xF)]));
        }
    }
    out.push('>');
}
