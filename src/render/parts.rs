//! A long table form in parts. Typst lays out a document on one thread and keeps all of
//! it in memory until it is exported: a region's Appendix 2 of 10,000 employers took
//! 13 s and 4.6 GiB in one piece. Here its rows are split into parts of [`PART_ROWS`],
//! each part is laid out and exported on its own (one part per core at a time, memory
//! bounded by the parts in flight), the parts' pages are joined into one PDF, and the
//! footers, numbered across the whole document, are laid over them.
//!
//! The first part carries the heading and the last the totals and the signature; the
//! table's header repeats on every page as in one piece. What differs: each part
//! starts on a new page, so the page before a part may end early (one in every ~27).

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use lopdf::{Dictionary, Document, Object, ObjectId, Stream};
use serde_json::{Map, Value, json};

use super::{PdfMeta, RenderError, Renderer, cells, drawn, to_json};

/// Rows per part: about 27 landscape pages of Appendix 2, small enough that two parts
/// in flight stay within a few hundred MiB, large enough that the pages left short at
/// the parts' ends are few.
pub(super) const PART_ROWS: usize = 70;

/// How a template that may be laid out in parts is laid out.
#[derive(Debug, Clone, Copy)]
pub(super) struct Parted {
    /// The data key of the table's rows.
    rows: &'static str,
    /// Landscape pages (for the footers' document).
    flipped: bool,
    /// The rows between the first and last [`EDGE_ROWS`] are drawn by the service (see
    /// `drawn`).
    drawn: bool,
}

/// Rows laid out by Typst at each end of a form whose middle rows are drawn: the first
/// with the heading, the last with the totals and the signature.
const EDGE_ROWS: usize = 10;

/// The templates that take a `part` in their data (see templates/appendix2.typ).
const PARTED: &[(&str, Parted)] = &[(
    "appendix2.typ",
    Parted {
        rows: "rows",
        flipped: true,
        drawn: true,
    },
)];

/// The layout in parts of `template`, when its data has more rows than one part.
pub(super) fn parted(template: &str, data: &Value) -> Option<Parted> {
    let (_, parted) = PARTED.iter().find(|(t, _)| *t == template)?;
    let rows = data.get(parted.rows)?.as_array()?;
    (rows.len() > PART_ROWS).then_some(*parted)
}

/// Lays out `data` in parts on every core, joins them and lays the footers over them.
pub(super) fn render(
    renderer: &Renderer,
    template: &str,
    parted: Parted,
    data: &Value,
    qr: &[u8],
    meta: &PdfMeta,
) -> Result<Vec<u8>, RenderError> {
    let rows = data[parted.rows].as_array().expect("checked by parted()");
    // Everything but the rows, once; each part adds its own rows.
    let rest: Map<String, Value> = data
        .as_object()
        .expect("an object, as it has rows")
        .iter()
        .filter(|(k, _)| k.as_str() != parted.rows)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let part_data = |rows: &[Value], first: bool, last: bool, frame: Option<Value>| {
        let mut part = rest.clone();
        part.insert(parted.rows.into(), Value::Array(rows.to_vec()));
        part.insert("part".into(), json!({"first": first, "last": last}));
        part.extend(frame.map(|f| ("frame".to_owned(), f)));
        let part = Value::Object(part);
        to_json(
            template,
            &cells::prepared(template, &part, renderer.shared.body_font()),
        )
    };

    let drawn = if parted.drawn {
        drawn_parts(
            renderer,
            template,
            rows,
            &Value::Object(rest.clone()),
            &part_data,
            qr,
            meta,
        )?
    } else {
        None
    };
    let parts = match drawn {
        Some(parts) => parts,
        None => {
            let chunks: Vec<&[Value]> = rows.chunks(PART_ROWS).collect();
            let count = chunks.len();
            on_every_core(count, |i| {
                let data = part_data(chunks[i], i == 0, i + 1 == count, None)?;
                let (pdf, pages) = renderer.compile(template, data, qr.to_vec(), meta, true)?;
                Ok((Part::Pdf(pdf), pages))
            })?
        }
    };

    // The parts' layout is of no use to the footers or any later document.
    comemo::evict(0);
    // The footers, numbered across the whole form, also in parts: Typst lays out those
    // of its own parts' pages; the drawn pages' are drawn with them (see `join`).
    let total: usize = parts.iter().map(|(_, n)| n).sum();
    let note = data.get("signature").cloned().unwrap_or(Value::Null);
    let mut jobs = Vec::new();
    let mut page = 0;
    for (part, pages) in &parts {
        if matches!(part, Part::Pdf(_)) {
            for from in (page..page + pages).step_by(FOOTER_PAGES) {
                jobs.push((from, FOOTER_PAGES.min(page + pages - from)));
            }
        }
        page += pages;
    }
    let footers = on_every_core(jobs.len(), |i| {
        let (from, pages) = jobs[i];
        let footers = json!({
            "from": from + 1,
            "pages": pages,
            "total": total,
            "flipped": parted.flipped,
            "signature": note,
        });
        let data = to_json("parts.typ", &footers)?;
        renderer.compile("parts.typ", data, Vec::new(), meta, true)
    })?;
    join(
        parts.into_iter().map(|(part, _)| part),
        footers.into_iter().map(|(pdf, _)| pdf),
        total,
    )
    .map_err(|e| RenderError::Pdf {
        template: template.into(),
        message: format!("joining the parts: {e}"),
    })
}

/// The data of a part for Typst: its rows, whether it is the first and the last, and a
/// frame to lay out instead of rows.
type PartData<'a> =
    dyn Fn(&[Value], bool, bool, Option<Value>) -> Result<Vec<u8>, RenderError> + Sync + 'a;

/// A part of the form: Typst's PDF, or pages drawn by the service in a frame.
enum Part {
    Pdf(Vec<u8>),
    Drawn(Box<drawn::Frame>, Vec<Vec<u8>>),
}

/// The form as Typst's first [`EDGE_ROWS`] rows, the rows between drawn by the service
/// (see `drawn`), and Typst's last rows, with each part's pages; `None` when the rows
/// are too few or the body font lacks a character of theirs.
fn drawn_parts(
    renderer: &Renderer,
    template: &str,
    rows: &[Value],
    // Everything but the rows (its characters may be in the footers).
    rest: &Value,
    part_data: &PartData,
    qr: &[u8],
    meta: &PdfMeta,
) -> Result<Option<Vec<(Part, usize)>>, RenderError> {
    if rows.len() <= PART_ROWS.max(2 * EDGE_ROWS) {
        return Ok(None);
    }
    let (first, after) = rows.split_at(EDGE_ROWS);
    let (middle, last) = after.split_at(after.len() - EDGE_ROWS);
    let chars = drawn::characters(middle.iter().chain([rest]));
    let glyphs = json!({ "glyphs": drawn::glyph_text(&chars) });
    // The frame and then the drawing on one core, the two ends on the other.
    let mut parts = on_every_core(3, |i| match i {
        0 => {
            let data = part_data(&[], false, false, Some(glyphs.clone()))?;
            let (pdf, _, geometry) = renderer.compile_queried(
                template,
                data,
                Vec::new(),
                meta,
                true,
                Some(drawn::LABEL),
            )?;
            let Some(frame) = geometry.and_then(|g| drawn::Frame::new(&pdf, &g, &chars)) else {
                return Ok(None);
            };
            let pages = frame.draw(middle);
            let count = pages.len();
            Ok(Some((Part::Drawn(Box::new(frame), pages), count)))
        }
        _ => {
            let (rows, first) = if i == 1 { (first, true) } else { (last, false) };
            let data = part_data(rows, first, !first, None)?;
            let (pdf, pages) = renderer.compile(template, data, qr.to_vec(), meta, true)?;
            Ok(Some((Part::Pdf(pdf), pages)))
        }
    })?;
    if parts.iter().any(Option::is_none) {
        return Ok(None);
    }
    // In the form's order: the first rows, the drawn, the last.
    parts.swap(0, 1);
    Ok(Some(parts.into_iter().flatten().collect()))
}

/// Footer pages per compilation.
const FOOTER_PAGES: usize = 200;

/// `f(0..count)` on as many threads as there are cores, each taking the next index;
/// the results in order, or the first error (the remaining indices are then skipped).
fn on_every_core<T: Send>(
    count: usize,
    f: impl Fn(usize) -> Result<T, RenderError> + Sync,
) -> Result<Vec<T>, RenderError> {
    let next = AtomicUsize::new(0);
    let done: Vec<Mutex<Option<Result<T, RenderError>>>> =
        (0..count).map(|_| Mutex::new(None)).collect();
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(count);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            std::thread::Builder::new()
                .name("kvota-part".into())
                // Typst's layout recurses deeply: the main thread's stack size.
                .stack_size(8 << 20)
                .spawn_scoped(scope, || {
                    loop {
                        let i = next.fetch_add(1, Ordering::SeqCst);
                        if i >= count {
                            break;
                        }
                        let out = f(i);
                        let failed = out.is_err();
                        *done[i].lock().unwrap_or_else(|p| p.into_inner()) = Some(out);
                        if failed {
                            next.store(count, Ordering::SeqCst);
                        }
                    }
                })
                .expect("a thread for a part");
        }
    });
    let mut out = Vec::with_capacity(count);
    for slot in done {
        match slot.into_inner().unwrap_or_else(|p| p.into_inner()) {
            Some(Ok(v)) => out.push(v),
            Some(Err(e)) => return Err(e),
            // Skipped after an error, which an earlier or later slot holds.
            None => {}
        }
    }
    Ok(out)
}

/// The name under which a page's footer is drawn.
const FOOTER: &[u8] = b"KvotaFooter";

/// Joins the parts' pages under one page tree, with the first part's catalogue,
/// metadata and output intent, and draws page `i` of the footers over page `i` as a form
/// XObject. The output is written as it goes: one part and one footer document are in
/// memory at a time, never the whole form.
fn join(
    parts: impl Iterator<Item = Part>,
    footers: impl Iterator<Item = Vec<u8>>,
    pages: usize,
) -> Result<Vec<u8>, lopdf::Error> {
    let (parts, footers): (Vec<Part>, Vec<Vec<u8>>) = (parts.collect(), footers.collect());
    let size = parts
        .iter()
        .map(|p| match p {
            Part::Pdf(pdf) => pdf.len(),
            Part::Drawn(_, pages) => pages.iter().map(Vec::len).sum(),
        })
        .chain(footers.iter().map(Vec::len))
        .sum::<usize>();
    let mut out = Writer::new(size + size / 8);
    let root_pages = out.reserve();
    let open = out.reserve();
    let close = out.reserve();
    let mut footers = FooterPages::new(footers.into_iter());
    let mut kids = Vec::with_capacity(pages);
    let mut first = None;
    for (k, part) in parts.into_iter().enumerate() {
        let part = match part {
            Part::Pdf(pdf) => pdf,
            Part::Drawn(frame, drawn) => {
                let drawn = DrawnPages::new(&mut out, &frame, drawn)?;
                let resources = Object::Dictionary(drawn.resources);
                for content in drawn.contents {
                    let body = out.reserve();
                    out.write(body, &Object::Stream(content))?;
                    let footer = out.reserve();
                    let number = kids.len() + 1;
                    let footer_content = frame.footer(number, pages);
                    out.write(
                        footer,
                        &Object::Stream(Stream::new(Dictionary::new(), footer_content)),
                    )?;
                    let contents = std::iter::once(open)
                        .chain(drawn.header.iter().copied())
                        .chain([body, footer])
                        .map(Object::Reference)
                        .collect::<Vec<_>>();
                    let page = Dictionary::from_iter([
                        ("Type", Object::Name(b"Page".to_vec())),
                        ("Parent", Object::Reference(root_pages)),
                        ("MediaBox", drawn.media.clone()),
                        ("Resources", resources.clone()),
                        ("Contents", Object::Array(contents)),
                    ]);
                    let id = out.reserve();
                    out.write(id, &Object::Dictionary(page))?;
                    kids.push(id);
                }
                continue;
            }
        };
        let mut doc = Document::load_mem(&part)?;
        drop(part);
        let page_ids: Vec<ObjectId> = doc.get_pages().into_values().collect();
        let mut map = IdMap::default();
        for &page in &page_ids {
            kids.push(map.new_id(&mut out, page));
            let footer = footers.next(&mut out)?;
            // The page's resources, inlined, with the footer added.
            let mut resources = match doc.get_dictionary(page)?.get(b"Resources")? {
                Object::Reference(id) => doc.get_dictionary(*id)?.clone(),
                Object::Dictionary(d) => d.clone(),
                _ => Dictionary::new(),
            };
            let mut xobjects = match resources.get(b"XObject") {
                Ok(Object::Reference(id)) => doc.get_dictionary(*id)?.clone(),
                Ok(Object::Dictionary(d)) => d.clone(),
                _ => Dictionary::new(),
            };
            xobjects.set(FOOTER, output_ref(footer));
            resources.set("XObject", xobjects);
            let dict = doc.get_object_mut(page)?.as_dict_mut()?;
            dict.set("Parent", output_ref(root_pages));
            dict.set("Resources", resources);
            // The part's content goes inside q … Q, so that its graphics state does not
            // leak into the footer drawn after it.
            let mut contents = vec![output_ref(open)];
            match dict.get(b"Contents")? {
                Object::Array(a) => contents.extend(a.iter().cloned()),
                other => contents.push(other.clone()),
            }
            contents.push(output_ref(close));
            dict.set("Contents", contents);
        }
        let mut roots = page_ids.clone();
        if k == 0 {
            // The first part's catalogue, document information and metadata become the
            // whole form's.
            let catalog_id = doc.trailer.get(b"Root")?.as_reference()?;
            let mut catalog = doc.get_dictionary(catalog_id)?.clone();
            catalog.set("Pages", output_ref(root_pages));
            // Nothing in a part's structure or page labels describes the whole form.
            catalog.remove(b"StructTreeRoot");
            catalog.remove(b"PageLabels");
            if let Ok(meta) = catalog.get(b"Metadata").and_then(Object::as_reference) {
                set_xmp_pages(doc.get_object_mut(meta)?.as_stream_mut()?, pages);
            }
            *doc.get_object_mut(catalog_id)? = Object::Dictionary(catalog);
            roots.push(catalog_id);
            let info = doc.trailer.get(b"Info").and_then(Object::as_reference).ok();
            roots.extend(info);
            first = Some((
                map.new_id(&mut out, catalog_id),
                info.map(|i| map.new_id(&mut out, i)),
                doc.trailer.get(b"ID").ok().cloned(),
            ));
        }
        map.write_reachable(&mut out, &doc, &roots)?;
    }
    if kids.len() != pages || !footers.done() {
        return Err(lopdf::Error::PageNumberNotFound(kids.len() as u32));
    }
    out.write(
        open,
        &Object::Stream(Stream::new(Dictionary::new(), b"q\n".to_vec())),
    )?;
    out.write(
        close,
        &Object::Stream(Stream::new(
            Dictionary::new(),
            b"\nQ\nq /KvotaFooter Do Q\n".to_vec(),
        )),
    )?;
    let count = kids.len() as i64;
    let tree = Dictionary::from_iter([
        ("Type", Object::Name(b"Pages".to_vec())),
        ("Count", Object::Integer(count)),
        (
            "Kids",
            Object::Array(kids.into_iter().map(Object::Reference).collect()),
        ),
    ]);
    out.write(root_pages, &Object::Dictionary(tree))?;
    let (catalog, info, id) = first.expect("at least one part");
    out.finish(catalog, info, id)
}

/// What every drawn page shares, written once: the header page's resources (with the
/// body font under [`drawn::FONT`]) and content streams; and each page's drawn content
/// (its rows; its footer is drawn in `join`, once the form's pages are counted).
struct DrawnPages {
    resources: Dictionary,
    header: Vec<ObjectId>,
    media: Object,
    contents: Vec<Stream>,
}

impl DrawnPages {
    fn new(
        out: &mut Writer,
        frame: &drawn::Frame,
        drawn: Vec<Vec<u8>>,
    ) -> Result<Self, lopdf::Error> {
        let doc = &frame.doc;
        let page = doc.get_dictionary(frame.header)?;
        let dict = |o: &Object| -> Result<Dictionary, lopdf::Error> {
            Ok(match o {
                Object::Reference(id) => doc.get_dictionary(*id)?.clone(),
                Object::Dictionary(d) => d.clone(),
                _ => Dictionary::new(),
            })
        };
        let mut resources = dict(page.get(b"Resources")?)?;
        let mut fonts = resources.get(b"Font").map_or(Ok(Dictionary::new()), dict)?;
        fonts.set(drawn::FONT, Object::Reference(frame.font));
        resources.set("Font", fonts);
        let header = match page.get(b"Contents")? {
            Object::Array(a) => a.clone(),
            other => vec![other.clone()],
        };
        let mut map = IdMap::default();
        let mut found = Vec::new();
        let mut shared = [Object::Dictionary(resources), Object::Array(header)];
        for o in &mut shared {
            map.renumber(out, o, &mut found);
        }
        map.write_reachable(out, doc, &found)?;
        let [resources, header] = shared;
        let resources = resources.as_dict()?.clone();
        let header = header
            .as_array()?
            .iter()
            .map(Object::as_reference)
            .collect::<Result<Vec<_>, _>>()?;
        let media = page.get(b"MediaBox")?.clone();
        let contents = drawn
            .into_iter()
            .map(|content| {
                let dict = Dictionary::from_iter([
                    ("Length", Object::Integer(content.len() as i64)),
                    ("Filter", Object::Name(b"FlateDecode".to_vec())),
                ]);
                Stream::new(dict, content).with_compression(false)
            })
            .collect();
        Ok(DrawnPages {
            resources,
            header,
            media,
            contents,
        })
    }
}

/// The output PDF, written object by object, and the offsets for its xref table.
struct Writer {
    buf: Vec<u8>,
    offsets: Vec<Option<usize>>,
}

impl Writer {
    /// A writer for about `size` bytes.
    fn new(size: usize) -> Self {
        let mut buf = Vec::with_capacity(size);
        // The binary comment marks the file as binary, as PDF/A asks.
        buf.extend_from_slice(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n");
        Self {
            buf,
            offsets: vec![None],
        }
    }

    /// A new object number, its object to be written later.
    fn reserve(&mut self) -> ObjectId {
        self.offsets.push(None);
        ((self.offsets.len() - 1) as u32, 0)
    }

    fn write(&mut self, id: ObjectId, object: &Object) -> Result<(), lopdf::Error> {
        use std::io::Write as _;
        self.offsets[id.0 as usize] = Some(self.buf.len());
        writeln!(self.buf, "{} 0 obj", id.0)?;
        lopdf::Writer::write_object(&mut self.buf, object)?;
        self.buf.extend_from_slice(b"\nendobj\n");
        Ok(())
    }

    fn finish(
        mut self,
        catalog: ObjectId,
        info: Option<ObjectId>,
        id: Option<Object>,
    ) -> Result<Vec<u8>, lopdf::Error> {
        use std::io::Write as _;
        let xref = self.buf.len();
        write!(
            self.buf,
            "xref\n0 {}\n0000000000 65535 f\r\n",
            self.offsets.len()
        )?;
        for (n, offset) in self.offsets.iter().enumerate().skip(1) {
            let offset = offset.ok_or(lopdf::Error::ObjectNotFound((n as u32, 0)))?;
            write!(self.buf, "{offset:010} 00000 n\r\n")?;
        }
        let mut trailer = Dictionary::from_iter([
            ("Size", Object::Integer(self.offsets.len() as i64)),
            ("Root", Object::Reference(catalog)),
        ]);
        if let Some(info) = info {
            trailer.set("Info", Object::Reference(info));
        }
        if let Some(id) = id {
            trailer.set("ID", id);
        }
        self.buf.extend_from_slice(b"trailer\n");
        lopdf::Writer::write_object(&mut self.buf, &Object::Dictionary(trailer))?;
        write!(self.buf, "\nstartxref\n{xref}\n%%EOF\n")?;
        Ok(self.buf)
    }
}

/// A generation no input object has: marks a reference already in the output's
/// numbering inside an input object (the new page tree, the footer forms).
const OUTPUT_GENERATION: u16 = u16::MAX;

fn output_ref(id: ObjectId) -> Object {
    Object::Reference((id.0, OUTPUT_GENERATION))
}

/// One input document's object numbers in the output's numbering, and which of its
/// objects are written.
#[derive(Default)]
struct IdMap {
    ids: std::collections::HashMap<ObjectId, ObjectId>,
    written: std::collections::HashSet<ObjectId>,
}

impl IdMap {
    fn new_id(&mut self, out: &mut Writer, old: ObjectId) -> ObjectId {
        *self.ids.entry(old).or_insert_with(|| out.reserve())
    }

    /// Writes, renumbered, every object reachable from `roots` not written before.
    fn write_reachable(
        &mut self,
        out: &mut Writer,
        doc: &Document,
        roots: &[ObjectId],
    ) -> Result<(), lopdf::Error> {
        let mut queue: Vec<ObjectId> = roots
            .iter()
            .copied()
            .filter(|id| self.written.insert(*id))
            .collect();
        while let Some(old) = queue.pop() {
            let mut object = doc.get_object(old)?.clone();
            let mut found = Vec::new();
            self.renumber(out, &mut object, &mut found);
            for id in found {
                if self.written.insert(id) {
                    queue.push(id);
                }
            }
            let new = self.new_id(out, old);
            out.write(new, &object)?;
        }
        Ok(())
    }

    /// Rewrites the references in `object`; `found` gets each input object referred to.
    fn renumber(&mut self, out: &mut Writer, object: &mut Object, found: &mut Vec<ObjectId>) {
        match object {
            Object::Reference(id) if id.1 == OUTPUT_GENERATION => id.1 = 0,
            Object::Reference(id) => {
                found.push(*id);
                *id = self.new_id(out, *id);
            }
            Object::Array(items) => {
                for item in items {
                    self.renumber(out, item, found);
                }
            }
            Object::Dictionary(dict) => {
                for (_, value) in dict.iter_mut() {
                    self.renumber(out, value, found);
                }
            }
            Object::Stream(stream) => {
                for (_, value) in stream.dict.iter_mut() {
                    self.renumber(out, value, found);
                }
            }
            _ => {}
        }
    }
}

/// The footer pages, taken one by one from the footers' documents as form XObjects
/// written to the output; one footer document is loaded at a time.
struct FooterPages<I: Iterator<Item = Vec<u8>>> {
    docs: I,
    current: Option<(Document, std::vec::IntoIter<ObjectId>, IdMap)>,
    exhausted: bool,
    /// One compressor for every footer: setting one up costs more than compressing a
    /// footer's few hundred bytes.
    deflate: flate2::Compress,
}

impl<I: Iterator<Item = Vec<u8>>> FooterPages<I> {
    fn new(docs: I) -> Self {
        Self {
            docs,
            current: None,
            exhausted: false,
            deflate: flate2::Compress::new(flate2::Compression::default(), true),
        }
    }

    /// The next footer page, written as a form XObject; its id in the output.
    fn next(&mut self, out: &mut Writer) -> Result<ObjectId, lopdf::Error> {
        loop {
            if let Some((doc, pages, map)) = &mut self.current
                && let Some(page) = pages.next()
            {
                let dict = doc.get_dictionary(page)?;
                let form = Dictionary::from_iter([
                    ("Type", Object::Name(b"XObject".to_vec())),
                    ("Subtype", Object::Name(b"Form".to_vec())),
                    ("BBox", dict.get(b"MediaBox")?.clone()),
                    ("Resources", dict.get(b"Resources")?.clone()),
                ]);
                let content = doc.get_page_content_with_limit(page, 1 << 24)?;
                let mut form = Object::Stream(deflated(&mut self.deflate, form, &content));
                let mut found = Vec::new();
                map.renumber(out, &mut form, &mut found);
                // The form's resources (fonts), each written once per footer document.
                map.write_reachable(out, doc, &found)?;
                let id = out.reserve();
                out.write(id, &form)?;
                return Ok(id);
            }
            let Some(pdf) = self.docs.next() else {
                self.exhausted = true;
                return Err(lopdf::Error::PageNumberNotFound(0));
            };
            let doc = Document::load_mem(&pdf)?;
            let pages: Vec<ObjectId> = doc.get_pages().into_values().collect();
            self.current = Some((doc, pages.into_iter(), IdMap::default()));
        }
    }

    /// Whether every footer page was used.
    fn done(&mut self) -> bool {
        let rest = self
            .current
            .as_mut()
            .is_some_and(|(_, pages, _)| pages.len() > 0);
        !rest && (self.exhausted || self.docs.next().is_none())
    }
}

/// A stream of `content` compressed with `deflate` (reset first).
fn deflated(deflate: &mut flate2::Compress, mut dict: Dictionary, content: &[u8]) -> Stream {
    dict.set("Filter", Object::Name(b"FlateDecode".to_vec()));
    Stream::new(dict, deflate_with(deflate, content)).with_compression(false)
}

/// `content` compressed with `deflate` (reset first).
pub(super) fn deflate_with(deflate: &mut flate2::Compress, content: &[u8]) -> Vec<u8> {
    deflate.reset();
    let mut out = Vec::with_capacity(content.len() / 2 + 64);
    loop {
        let done = deflate
            .compress_vec(
                &content[deflate.total_in() as usize..],
                &mut out,
                flate2::FlushCompress::Finish,
            )
            .expect("deflate into a growing vector");
        if done == flate2::Status::StreamEnd {
            return out;
        }
        out.reserve(out.capacity().max(64));
    }
}

/// The XMP metadata's page count (`xmpTPg:NPages`) becomes the whole form's.
fn set_xmp_pages(stream: &mut Stream, pages: usize) {
    let xmp = stream
        .decompressed_content()
        .unwrap_or_else(|_| stream.content.clone());
    let xmp = String::from_utf8_lossy(&xmp).into_owned();
    let (open, close) = ("<xmpTPg:NPages>", "</xmpTPg:NPages>");
    if let (Some(a), Some(b)) = (xmp.find(open), xmp.find(close)) {
        let xmp = format!("{}{open}{pages}{}", &xmp[..a], &xmp[b..]);
        // PDF/A keeps the metadata uncompressed, so that any tool can read it.
        stream.dict.remove(b"Filter");
        stream.dict.remove(b"DecodeParms");
        stream.set_content(xmp.into_bytes());
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::process::Command;

    use chrono::DateTime;

    use super::*;

    fn meta() -> PdfMeta {
        PdfMeta {
            ident: "documents/drawn".into(),
            created: DateTime::parse_from_rfc3339("2026-09-15T10:30:00+05:00").unwrap(),
        }
    }

    /// `rows` rows of the sample's kinds and more: long justifications that break across
    /// pages, words too long for their column (narrowed, or broken between letters),
    /// Kazakh names, categories with only a total, a row with no lines at all.
    fn rows(rows: usize) -> Value {
        let mut v: Value =
            serde_json::from_str(include_str!("../../templates/sample/appendix2.json")).unwrap();
        let samples = v["rows"].as_array().unwrap().clone();
        v["rows"] = (0..rows)
            .map(|i| {
                let mut r = samples[i % samples.len()].clone();
                r["number"] = (i + 1).into();
                r["organisation"]["name"] = format!("ТОО «Тест-{}»", i + 1).into();
                r["current_count"] = (i % 37).into();
                let justification = r["justification"].as_str().unwrap().to_owned();
                if i % 7 == 3 {
                    r["justification"] = [justification.as_str(); 4].join("\n").into();
                }
                if i % 5 == 1 {
                    r["organisation"]["legal_address"] =
                        "г. Астана, Қазақстанэнергоқұрылыс-Солтүстік көшесі, 7".into();
                    r["lines"][0]["occupation_name"] =
                        "Электрогазосварщикмонтажникверхолаз ЭЛЕКТРОГАЗОСВАРЩИК".into();
                }
                if i % 11 == 4 {
                    r["lines"] = json!([]);
                }
                r
            })
            .collect();
        v
    }

    /// Each page's text read back as drawn (`pdftotext -raw`), the table's header and the
    /// footer cut off: the characters of what is under the header, counted.
    fn body_characters(pdf: &[u8]) -> (usize, BTreeMap<char, usize>, String) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("form.pdf");
        std::fs::write(&path, pdf).unwrap();
        let out = Command::new("pdftotext")
            .args(["-raw", path.to_str().unwrap(), "-"])
            .output()
            .expect("pdftotext (poppler-utils)");
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        let pages: Vec<&str> = text
            .split('\u{c}')
            .filter(|p| !p.trim().is_empty())
            .collect();
        let mut chars = BTreeMap::new();
        let mut body = String::new();
        for page in &pages {
            let lines: Vec<&str> = page.lines().collect();
            // The last page may hold only the signature, without the table's header.
            let start = lines
                .iter()
                .position(|l| l.trim() == "1 2 3 4 5 6 7 8 9")
                .map_or(0, |k| k + 1);
            let end = lines
                .iter()
                .rposition(|l| l.starts_with("Документ documents/"))
                .expect("the footer on every page");
            for line in &lines[start..end] {
                body.push_str(line);
                body.push('\n');
                for c in line.chars().filter(|c| !c.is_whitespace()) {
                    *chars.entry(c).or_default() += 1;
                }
            }
        }
        (pages.len(), chars, body)
    }

    fn render(renderer: &Renderer, data: &Value, drawn: bool) -> Vec<u8> {
        let parted = Parted {
            rows: "rows",
            flipped: true,
            drawn,
        };
        let qr = super::super::qr::svg("documents/drawn").unwrap();
        super::render(
            renderer,
            "appendix2.typ",
            parted,
            data,
            qr.as_bytes(),
            &meta(),
        )
        .unwrap()
    }

    /// The rows the service draws read back as Typst's: the same characters under the
    /// header, every row once and in order, about as many pages; and the drawn pages
    /// name the body font's subset that the header's page has.
    #[test]
    fn drawn_rows_read_back_as_typst_sets_them() {
        let renderer = Renderer::new(None, None).unwrap();
        let data = rows(160);
        let drawn = render(&renderer, &data, true);
        let typst = render(&renderer, &data, false);
        assert!(
            drawn.windows(drawn::FONT.len()).any(|w| w == drawn::FONT),
            "the middle rows are drawn"
        );
        assert!(!typst.windows(drawn::FONT.len()).any(|w| w == drawn::FONT));
        let (drawn_pages, drawn_chars, drawn_text) = body_characters(&drawn);
        let (typst_pages, typst_chars, _) = body_characters(&typst);
        assert_eq!(drawn_chars, typst_chars);
        let (low, high) = (typst_pages * 95 / 100, typst_pages * 105 / 100);
        assert!(
            (low..=high).contains(&drawn_pages),
            "{drawn_pages} pages drawn, {typst_pages} by Typst"
        );
        let mut last = 0;
        for n in 1..=160 {
            let name = format!("ТОО «Тест-{n}»");
            let at = drawn_text
                .find(&name)
                .unwrap_or_else(|| panic!("{name} missing"));
            assert!(at >= last, "{name} out of order");
            assert_eq!(drawn_text.matches(&name).count(), 1, "{name} once");
            last = at;
        }
        // The footers of the drawn pages are where Typst sets them on its own pages.
        let footer = |page: usize| -> Vec<(String, [f64; 4])> {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("form.pdf");
            std::fs::write(&path, &drawn).unwrap();
            let page = page.to_string();
            let out = Command::new("pdftotext")
                .args([
                    "-bbox",
                    "-f",
                    &page,
                    "-l",
                    &page,
                    path.to_str().unwrap(),
                    "-",
                ])
                .output()
                .unwrap();
            let html = String::from_utf8(out.stdout).unwrap();
            let words = html.lines().filter_map(|l| {
                let l = l.trim().strip_prefix("<word ")?;
                let (attrs, word) = l.split_once('>')?;
                let word = word.strip_suffix("</word>")?.to_owned();
                let mut b = attrs
                    .split('"')
                    .skip(1)
                    .step_by(2)
                    .map(|v| v.parse().unwrap());
                let b = [0; 4].map(|_| b.next().unwrap());
                Some((word, b))
            });
            // The footer is in the bottom margin (18 mm of a 210 mm landscape page).
            words
                .into_iter()
                .filter(|(_, b)| b[1] > 595.0 - 51.0)
                .collect()
        };
        let (typst_footer, drawn_footer) = (footer(1), footer(drawn_pages / 2));
        assert_eq!(typst_footer.len(), drawn_footer.len(), "{drawn_footer:?}");
        let [note, page, .., of, total] = &typst_footer[..] else {
            panic!("{typst_footer:?}")
        };
        let [note2, page2, .., of2, total2] = &drawn_footer[..] else {
            panic!("{drawn_footer:?}")
        };
        assert_eq!(
            (&note.0, &page.0, &of.0, &total.0),
            (&note2.0, &page2.0, &of2.0, &total2.0)
        );
        let near = |a: f64, b: f64| (a - b).abs() < 0.05;
        for (a, b) in [(note, note2), (page, page2), (total, total2)] {
            assert!(near(a.1[1], b.1[1]) && near(a.1[3], b.1[3]), "{a:?} {b:?}");
        }
        assert!(
            near(note.1[0], note2.1[0]),
            "left-aligned: {note:?} {note2:?}"
        );
        assert!(
            near(total.1[2], total2.1[2]),
            "right-aligned: {total:?} {total2:?}"
        );

        // Long words stay whole when narrowed, and lose no letter when broken.
        assert!(drawn_text.contains("Қазақстанэнергоқұрылыс-"));
        let letters: String = drawn_text.split_whitespace().collect();
        assert!(letters.contains("Электрогазосварщикмонтажникверхолаз"));
    }

    /// A character the body font lacks leaves the whole form to Typst, which takes it
    /// from another font.
    #[test]
    fn a_character_the_body_font_lacks_leaves_the_rows_to_typst() {
        let renderer = Renderer::new(None, None).unwrap();
        let mut data = rows(90);
        data["rows"][40]["justification"] = "Объект ══ в работе.".into();
        let pdf = render(&renderer, &data, true);
        assert!(!pdf.windows(drawn::FONT.len()).any(|w| w == drawn::FONT));
        let (_, _, text) = body_characters(&pdf);
        assert!(text.contains("══"), "{text}");
    }
}
