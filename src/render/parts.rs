//! A long table form in parts. Typst lays out a document on one thread and keeps all of
//! it in memory until it is exported: a region's Appendix 2 of 10,000 employers took
//! 13 s and 4.6 GiB in one piece. Here its rows are split into parts of [`PART_ROWS`],
//! each part is laid out and exported on its own (one part per core at a time, memory
//! bounded by the parts in flight), the parts' pages are joined into one PDF, and the
//! footers, numbered across the whole document, are laid over them.
//!
//! The first part carries the heading and the last the totals and the signature; the
//! table's header repeats on every page as in one piece. What differs: each part
//! starts on a new page, so the page before a part may end early (one in every ~35).

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use lopdf::{Dictionary, Document, Object, ObjectId, Stream};
use serde_json::{Map, Value, json};

use super::{PdfMeta, RenderError, Renderer, to_json};

/// Rows per part: about 35 landscape pages of Appendix 2, small enough that two parts
/// in flight stay within a few hundred MiB, large enough that the pages left short at
/// the parts' ends are few.
pub(super) const PART_ROWS: usize = 100;

/// How a template that may be laid out in parts is laid out.
#[derive(Debug, Clone, Copy)]
pub(super) struct Parted {
    /// The data key of the table's rows.
    rows: &'static str,
    /// Landscape pages (for the footers' document).
    flipped: bool,
}

/// The templates that take a `part` in their data (see templates/appendix2.typ).
const PARTED: &[(&str, Parted)] = &[(
    "appendix2.typ",
    Parted {
        rows: "rows",
        flipped: true,
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
    let chunks: Vec<&[Value]> = rows.chunks(PART_ROWS).collect();
    let count = chunks.len();
    // Everything but the rows, once; each part adds its own rows.
    let rest: Map<String, Value> = data
        .as_object()
        .expect("an object, as it has rows")
        .iter()
        .filter(|(k, _)| k.as_str() != parted.rows)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let part_data = |i: usize| {
        let mut part = rest.clone();
        part.insert(parted.rows.into(), Value::Array(chunks[i].to_vec()));
        part.insert(
            "part".into(),
            json!({"first": i == 0, "last": i + 1 == count}),
        );
        to_json(template, &Value::Object(part))
    };

    let parts = on_every_core(count, |i| {
        renderer.compile(template, part_data(i)?, qr.to_vec(), meta, true)
    })?;

    // The footers, numbered across the whole form, also in parts.
    let total: usize = parts.iter().map(|(_, n)| n).sum();
    let note = data.get("signature").cloned().unwrap_or(Value::Null);
    let footers = on_every_core(total.div_ceil(FOOTER_PAGES), |i| {
        let from = i * FOOTER_PAGES;
        let footers = json!({
            "from": from + 1,
            "pages": FOOTER_PAGES.min(total - from),
            "total": total,
            "flipped": parted.flipped,
            "signature": note,
        });
        let data = to_json("parts.typ", &footers)?;
        renderer.compile("parts.typ", data, Vec::new(), meta, true)
    })?;
    join(
        parts.into_iter().map(|(pdf, _)| pdf),
        footers.into_iter().map(|(pdf, _)| pdf),
        total,
    )
    .map_err(|e| RenderError::Pdf {
        template: template.into(),
        message: format!("joining the parts: {e}"),
    })
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

/// Joins the parts' pages into the first part's document (its catalogue, metadata and
/// output intent) and draws page `i` of the footers over page `i` as a form XObject.
fn join(
    parts: impl Iterator<Item = Vec<u8>>,
    footers: impl Iterator<Item = Vec<u8>>,
    pages: usize,
) -> Result<Vec<u8>, lopdf::Error> {
    let mut parts = parts;
    let first = parts.next().expect("at least one part");
    let mut base = Document::load_mem(&first)?;
    drop(first);
    let root_pages = base.catalog()?.get(b"Pages")?.as_reference()?;
    let mut kids: Vec<ObjectId> = base.get_pages().into_values().collect();
    for part in parts {
        let mut doc = Document::load_mem(&part)?;
        drop(part);
        let doc_pages = adopt(&mut base, &mut doc);
        for &page in &doc_pages {
            doc.get_object_mut(page)?
                .as_dict_mut()?
                .set("Parent", root_pages);
        }
        kids.extend(doc_pages);
        base.objects.append(&mut doc.objects);
    }
    if kids.len() != pages {
        return Err(lopdf::Error::PageNumberNotFound(kids.len() as u32));
    }

    // Each footer page becomes a form XObject with that page's resources.
    let mut forms = Vec::with_capacity(kids.len());
    for pdf in footers {
        let mut footers = Document::load_mem(&pdf)?;
        drop(pdf);
        for fp in adopt(&mut base, &mut footers) {
            let page = footers.get_dictionary(fp)?;
            let form = Dictionary::from_iter([
                ("Type", Object::Name(b"XObject".to_vec())),
                ("Subtype", Object::Name(b"Form".to_vec())),
                ("BBox", page.get(b"MediaBox")?.clone()),
                ("Resources", page.get(b"Resources")?.clone()),
            ]);
            let mut stream = Stream::new(form, footers.get_page_content_with_limit(fp, 1 << 24)?);
            stream.compress()?;
            forms.push(stream);
        }
        base.objects.append(&mut footers.objects);
    }
    if forms.len() != pages {
        return Err(lopdf::Error::PageNumberNotFound(forms.len() as u32));
    }
    // The part's content is wrapped in q … Q so that its graphics state does not leak
    // into the footer.
    let open = base.add_object(Stream::new(Dictionary::new(), b"q\n".to_vec()));
    let close = base.add_object(Stream::new(
        Dictionary::new(),
        b"\nQ\nq /KvotaFooter Do Q\n".to_vec(),
    ));
    for (&page, form) in kids.iter().zip(forms) {
        let form = base.add_object(form);
        let mut resources = match base.get_dictionary(page)?.get(b"Resources")? {
            Object::Reference(id) => base.get_dictionary(*id)?.clone(),
            Object::Dictionary(d) => d.clone(),
            _ => Dictionary::new(),
        };
        let mut xobjects = match resources.get(b"XObject") {
            Ok(Object::Reference(id)) => base.get_dictionary(*id)?.clone(),
            Ok(Object::Dictionary(d)) => d.clone(),
            _ => Dictionary::new(),
        };
        xobjects.set(FOOTER, form);
        resources.set("XObject", xobjects);
        let dict = base.get_object_mut(page)?.as_dict_mut()?;
        let mut contents = vec![Object::Reference(open)];
        match dict.get(b"Contents")? {
            Object::Array(a) => contents.extend(a.iter().cloned()),
            other => contents.push(other.clone()),
        }
        contents.push(Object::Reference(close));
        dict.set("Contents", contents);
        dict.set("Resources", resources);
    }

    let root = base.get_object_mut(root_pages)?.as_dict_mut()?;
    root.set("Count", kids.len() as i64);
    root.set(
        "Kids",
        kids.iter()
            .map(|&id| Object::Reference(id))
            .collect::<Vec<_>>(),
    );
    set_xmp_pages(&mut base, kids.len())?;
    base.prune_objects();
    let mut out = Vec::new();
    base.save_to(&mut out)?;
    Ok(out)
}

/// Renumbers `doc` after `base`'s objects; `doc`'s pages in order.
fn adopt(base: &mut Document, doc: &mut Document) -> Vec<ObjectId> {
    doc.renumber_objects_with(base.max_id + 1);
    base.max_id = doc.objects.keys().map(|k| k.0).max().unwrap_or(base.max_id);
    doc.get_pages().into_values().collect()
}

/// The XMP metadata's page count (`xmpTPg:NPages`) is the first part's; it becomes the
/// whole document's.
fn set_xmp_pages(doc: &mut Document, pages: usize) -> Result<(), lopdf::Error> {
    let Ok(id) = doc
        .catalog()?
        .get(b"Metadata")
        .and_then(Object::as_reference)
    else {
        return Ok(());
    };
    let stream = doc.get_object_mut(id)?.as_stream_mut()?;
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
    Ok(())
}
