//! PAdES B-B signing of PDFs as an incremental update.
//!
//! The original bytes are kept verbatim; appended are a signature dictionary
//! (/SubFilter /ETSI.CAdES.detached), a signature widget/field (invisible on the first
//! page, or with a visible appearance on the last page, see [`PadesOptions::appearance`]),
//! that page (or its /Annots array) with the widget added, the catalog (or its
//! AcroForm / Fields array) with the field added and /SigFlags 3, and a
//! cross-reference section of the same form as the original (classic table or
//! cross-reference stream) with /Prev pointing to the original one.
//!
//! The CMS carries no signingTime attribute (PAdES B-B: the time is in /M), so
//! for RSA keys the output is fully deterministic.
//!
//! The file format's own syntax (objects, strings, dates, cross-reference detection)
//! is in [`super::pdf_syntax`].

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset};
use lopdf::{Dictionary, Document, Object, ObjectId, StringFormat};
use openssl::hash::{Hasher, MessageDigest};

use super::appearance;
use super::cms::{self, CmsSignOptions};
use super::keys::Signer;
use super::pdf_reader;
use super::pdf_syntax::{
    XrefForm, decode_text_string, detect_xref, pdf_date, text_string, write_object,
};
use super::{Result, SignError};

/// Options for [`sign_pdf`].
#[derive(Debug, Clone)]
pub struct PadesOptions {
    /// Name (/T) of the new signature field; must not exist yet.
    pub field_name: String,
    pub reason: Option<String>,
    pub location: Option<String>,
    /// Goes into /M of the signature dictionary.
    pub signing_time: DateTime<FixedOffset>,
    /// Bytes reserved for the DER CMS (the hex placeholder is twice as long).
    pub contents_size: usize,
    /// A one-page PDF drawn as the signature's visible appearance on the document's
    /// last page; without it the signature is invisible (a zero /Rect on the first page).
    pub appearance: Option<Vec<u8>>,
    /// A document timestamp (/Type /DocTimeStamp, /SubFilter /ETSI.RFC3161: PAdES
    /// B-LTA) rather than a signature: /Contents takes an RFC 3161 token over the byte
    /// range, and the dictionary has no /M, /Reason or /Location.
    pub document_timestamp: bool,
}

impl PadesOptions {
    pub fn new(field_name: impl Into<String>, signing_time: DateTime<FixedOffset>) -> Self {
        PadesOptions {
            field_name: field_name.into(),
            reason: None,
            location: None,
            signing_time,
            contents_size: DEFAULT_CONTENTS_SIZE,
            appearance: None,
            document_timestamp: false,
        }
    }
}

pub const DEFAULT_CONTENTS_SIZE: usize = 16384;

const BYTE_RANGE_PLACEHOLDER: &str = "[0 0000000000 0000000000 0000000000]";

/// A PDF with a new, empty signature appended as an incremental update: what a signer
/// must sign is the SHA-256 of every byte except the `/Contents` placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedPdf {
    pub bytes: Vec<u8>,
    /// Offset of the `<` that opens the `/Contents` hex string.
    pub contents_start: usize,
    /// Offset just after its `>`.
    pub contents_end: usize,
    /// SHA-256 over the byte range (everything but the placeholder).
    pub digest: Vec<u8>,
}

impl PreparedPdf {
    /// The /ByteRange of the signature.
    pub fn byte_range(&self) -> [usize; 4] {
        [
            0,
            self.contents_start,
            self.contents_end,
            self.bytes.len() - self.contents_end,
        ]
    }

    /// The signed bytes: the file without the placeholder.
    pub fn signed_content(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.bytes.len());
        v.extend_from_slice(&self.bytes[..self.contents_start]);
        v.extend_from_slice(&self.bytes[self.contents_end..]);
        v
    }

    /// Writes a DER CMS made elsewhere (a party's token) into the placeholder.
    pub fn embed(mut self, cms_der: &[u8]) -> Result<Vec<u8>> {
        let reserved = (self.contents_end - self.contents_start - 2) / 2;
        if cms_der.len() > reserved {
            return Err(SignError::ContentsTooSmall {
                needed: cms_der.len(),
                reserved,
            });
        }
        let hex = hex::encode_upper(cms_der);
        let lt = self.contents_start;
        self.bytes[lt + 1..lt + 1 + hex.len()].copy_from_slice(hex.as_bytes());
        Ok(self.bytes)
    }
}

/// Sign `pdf` (PAdES B-B, ETSI.CAdES.detached) and return original bytes +
/// incremental update.
pub fn sign_pdf(pdf: &[u8], signer: &Signer, opts: &PadesOptions) -> Result<Vec<u8>> {
    let prepared = prepare_pdf(pdf, opts)?;
    let cms_der = cms::sign_digest(
        signer,
        &prepared.digest,
        &CmsSignOptions { signing_time: None },
    )?;
    prepared.embed(&cms_der)
}

/// Appends an empty signature field and dictionary to `pdf` (incremental update), ready
/// for a CMS over [`PreparedPdf::digest`].
pub fn prepare_pdf(pdf: &[u8], opts: &PadesOptions) -> Result<PreparedPdf> {
    if opts.field_name.is_empty() {
        return Err(SignError::Invalid("empty signature field name".into()));
    }
    if opts.contents_size < 1024 {
        return Err(SignError::Invalid("contents_size below 1024 bytes".into()));
    }
    // An invisible signature reads only the objects the update rewrites; a visible one
    // also reads the last page's content (to find the free space), so the whole file.
    let quick = match opts.appearance {
        None => pdf_reader::load_for_update(pdf),
        Some(_) => None,
    };
    let doc = match quick {
        Some(doc) => doc,
        None => Document::load_mem(pdf)?,
    };
    prepare_with(pdf, &doc, opts)
}

/// [`prepare_pdf`] after parsing the whole file, as it was before the quick reader: what
/// the tests compare it with.
#[cfg(test)]
pub(crate) fn prepare_pdf_parsing_all(pdf: &[u8], opts: &PadesOptions) -> Result<PreparedPdf> {
    prepare_with(pdf, &Document::load_mem(pdf)?, opts)
}

/// [`prepare_pdf`] with the file's objects read.
fn prepare_with(pdf: &[u8], doc: &Document, opts: &PadesOptions) -> Result<PreparedPdf> {
    let tail = Tail::of(pdf, doc)?;
    let (form, root_id, first_new) = (tail.form, tail.root_id, tail.first_new);
    let sig_id: ObjectId = (first_new, 0);
    let widget_id: ObjectId = (first_new + 1, 0);
    let mut next_free = first_new + 2;

    let pages = doc.get_pages();
    // A visible signature goes on the last page, under the seal's block; an invisible
    // one on the first, as always.
    let page_id = *if opts.appearance.is_some() {
        pages.values().next_back()
    } else {
        pages.values().next()
    }
    .ok_or_else(|| SignError::Pdf("document has no pages".into()))?;

    let (rect, imported) = match &opts.appearance {
        Some(pdf) => {
            let imported = appearance::import_first_page(pdf, next_free)?;
            next_free = imported.next_free;
            let rect = place_box(doc, page_id, imported.width, imported.height)?;
            (rect, Some(imported))
        }
        None => ([0.0; 4], None),
    };

    let mut rewrites: BTreeMap<ObjectId, Object> = BTreeMap::new();

    // --- the page: add the widget to /Annots ---
    let mut page = doc.get_dictionary(page_id)?.clone();
    match page.get(b"Annots") {
        Ok(Object::Reference(r)) => {
            let r = *r;
            let mut arr = doc.get_object(r)?.as_array()?.clone();
            arr.push(Object::Reference(widget_id));
            rewrites.insert(r, Object::Array(arr));
        }
        Ok(Object::Array(a)) => {
            let mut a = a.clone();
            a.push(Object::Reference(widget_id));
            page.set("Annots", Object::Array(a));
            rewrites.insert(page_id, Object::Dictionary(page));
        }
        _ => {
            page.set("Annots", Object::Array(vec![Object::Reference(widget_id)]));
            rewrites.insert(page_id, Object::Dictionary(page));
        }
    }

    // --- catalog / AcroForm ---
    let mut catalog = doc.get_dictionary(root_id)?.clone();
    match catalog.get(b"AcroForm") {
        Ok(Object::Reference(r)) => {
            let r = *r;
            let mut af = doc.get_dictionary(r)?.clone();
            merge_acroform(doc, &mut af, widget_id, &opts.field_name, &mut rewrites)?;
            rewrites.insert(r, Object::Dictionary(af));
        }
        Ok(Object::Dictionary(d)) => {
            let mut af = d.clone();
            merge_acroform(doc, &mut af, widget_id, &opts.field_name, &mut rewrites)?;
            catalog.set("AcroForm", Object::Dictionary(af));
            rewrites.insert(root_id, Object::Dictionary(catalog));
        }
        _ => {
            let mut af = Dictionary::new();
            merge_acroform(doc, &mut af, widget_id, &opts.field_name, &mut rewrites)?;
            catalog.set("AcroForm", Object::Dictionary(af));
            rewrites.insert(root_id, Object::Dictionary(catalog));
        }
    }

    // --- widget (merged field + annotation) ---
    let mut widget = Dictionary::new();
    widget.set("Type", Object::Name(b"Annot".to_vec()));
    widget.set("Subtype", Object::Name(b"Widget".to_vec()));
    widget.set("FT", Object::Name(b"Sig".to_vec()));
    widget.set("T", text_string(&opts.field_name));
    widget.set("V", Object::Reference(sig_id));
    widget.set(
        "Rect",
        Object::Array(rect.iter().map(|&v| Object::Real(v)).collect()),
    );
    if let Some(imported) = &imported {
        let mut ap = Dictionary::new();
        ap.set("N", Object::Reference(imported.xobject));
        widget.set("AP", Object::Dictionary(ap));
    }
    widget.set("F", Object::Integer(132)); // Print | Locked
    widget.set("P", Object::Reference(page_id));

    // --- build the update ---
    let base = pdf.len();
    let mut upd: Vec<u8> = Vec::with_capacity(opts.contents_size * 2 + 4096);
    if !matches!(pdf.last(), Some(b'\n') | Some(b'\r')) {
        upd.push(b'\n');
    }
    let mut offsets: BTreeMap<ObjectId, usize> = BTreeMap::new();

    // signature dictionary, written by hand to know where ByteRange/Contents are
    offsets.insert(sig_id, base + upd.len());
    upd.extend_from_slice(format!("{} {} obj\n", sig_id.0, sig_id.1).as_bytes());
    if opts.document_timestamp {
        upd.extend_from_slice(
            b"<</Type /DocTimeStamp /Filter /Adobe.PPKLite /SubFilter /ETSI.RFC3161",
        );
    } else {
        upd.extend_from_slice(
            b"<</Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached",
        );
        upd.extend_from_slice(b" /M ");
        write_object(
            &mut upd,
            &Object::String(
                pdf_date(&opts.signing_time).into_bytes(),
                StringFormat::Literal,
            ),
        );
        if let Some(r) = &opts.reason {
            upd.extend_from_slice(b" /Reason ");
            write_object(&mut upd, &text_string(r));
        }
        if let Some(l) = &opts.location {
            upd.extend_from_slice(b" /Location ");
            write_object(&mut upd, &text_string(l));
        }
    }
    upd.extend_from_slice(b"\n/ByteRange ");
    let byte_range_pos = upd.len();
    upd.extend_from_slice(BYTE_RANGE_PLACEHOLDER.as_bytes());
    upd.extend_from_slice(b"\n/Contents ");
    let contents_pos = upd.len();
    upd.push(b'<');
    upd.resize(upd.len() + opts.contents_size * 2, b'0');
    upd.push(b'>');
    upd.extend_from_slice(b">>\nendobj\n");

    write_indirect(
        &mut upd,
        base,
        &mut offsets,
        widget_id,
        &Object::Dictionary(widget),
    );
    for (id, obj) in &rewrites {
        write_indirect(&mut upd, base, &mut offsets, *id, obj);
    }
    for (id, obj) in imported.iter().flat_map(|i| &i.objects) {
        write_indirect(&mut upd, base, &mut offsets, *id, obj);
    }

    // --- cross-reference section + trailer ---
    let trailer = tail.trailer(
        pdf,
        &[
            pdf_date(&opts.signing_time).as_bytes(),
            opts.field_name.as_bytes(),
        ],
    )?;
    write_xref(&mut upd, base, offsets, form, trailer, next_free)?;

    // --- ByteRange ---
    let mut out = Vec::with_capacity(pdf.len() + upd.len());
    out.extend_from_slice(pdf);
    out.extend_from_slice(&upd);
    let lt = base + contents_pos;
    let after_gt = lt + opts.contents_size * 2 + 2;
    let total = out.len();
    let br = format!("[0 {} {} {}]", lt, after_gt, total - after_gt);
    if br.len() > BYTE_RANGE_PLACEHOLDER.len() {
        return Err(SignError::Pdf(
            "file too large for the ByteRange placeholder".into(),
        ));
    }
    let br = format!("{br:<width$}", width = BYTE_RANGE_PLACEHOLDER.len());
    let brp = base + byte_range_pos;
    out[brp..brp + br.len()].copy_from_slice(br.as_bytes());

    // --- CMS over the two ranges ---
    let mut h = Hasher::new(MessageDigest::sha256())?;
    h.update(&out[..lt])?;
    h.update(&out[after_gt..])?;
    let digest = h.finish()?;
    Ok(PreparedPdf {
        bytes: out,
        contents_start: lt,
        contents_end: after_gt,
        digest: digest.to_vec(),
    })
}

/// The page margins of the forms (templates/layout.typ, `page-setup`), in points:
/// (left, right, bottom) for portrait and for landscape pages.
const PORTRAIT_MARGINS: (f32, f32, f32) = (30.0 * MM, 20.0 * MM, 20.0 * MM);
const LANDSCAPE_MARGINS: (f32, f32, f32) = (20.0 * MM, 15.0 * MM, 18.0 * MM);
const MM: f32 = 72.0 / 25.4;
/// Space between two signature boxes.
const BOX_GAP: f32 = 3.0 * MM;

/// A box is shrunk to fit the free space down to this scale (the text stays legible when
/// zoomed: it is vector text), no further.
const MIN_SCALE: f32 = 0.4;

/// Where a visible signature box of `width` × `height` goes on `page_id`: the first one
/// at the left of the bottom margin, each next one to the right of the last while it
/// fits in the text width, otherwise in a new row above all of them, so the boxes read
/// in signing order. The forms end with the seal's block and leave the rest of the last
/// page free; a box taller than the space left below what the page draws is shrunk to
/// fit (to half its size at most).
fn place_box(doc: &Document, page_id: ObjectId, width: f32, height: f32) -> Result<[f32; 4]> {
    let media: Vec<f32> = page_media_box(doc, page_id)?;
    let [px0, py0, px1, py1] = media[..] else {
        return Err(SignError::Pdf(
            "the last page's MediaBox is not 4 numbers".into(),
        ));
    };
    let (left, right, bottom) = if px1 - px0 > py1 - py0 {
        LANDSCAPE_MARGINS
    } else {
        PORTRAIT_MARGINS
    };
    let boxes = visible_signatures(doc, page_id);
    let rect = match boxes.last() {
        None => [px0 + left, py0 + bottom],
        Some(last) if last[2] + BOX_GAP + width <= px1 - right => [last[2] + BOX_GAP, last[1]],
        Some(_) => {
            let top = boxes.iter().map(|r| r[3]).fold(py0 + bottom, f32::max);
            [px0 + left, top + BOX_GAP]
        }
    };
    let floor = appearance::content_floor(doc, page_id, py0 + bottom, py1)?;
    let room = floor - BOX_GAP - rect[1];
    let scale = if height > room {
        (room / height).max(MIN_SCALE)
    } else {
        1.0
    };
    Ok([
        rect[0],
        rect[1],
        rect[0] + width * scale,
        rect[1] + height * scale,
    ])
}

fn page_media_box(doc: &Document, page_id: ObjectId) -> Result<Vec<f32>> {
    let mut at = page_id;
    for _ in 0..64 {
        let dict = doc.get_dictionary(at)?;
        if let Ok(mb) = dict.get(b"MediaBox") {
            return Ok(doc
                .dereference(mb)?
                .1
                .as_array()?
                .iter()
                .map(|o| o.as_float())
                .collect::<std::result::Result<_, _>>()?);
        }
        at = dict.get(b"Parent").and_then(Object::as_reference)?;
    }
    Err(SignError::Pdf("the page tree is too deep".into()))
}

/// The rectangles of the page's signature widgets that show something, in the order
/// of the page's annotations (the order they were added).
fn visible_signatures(doc: &Document, page_id: ObjectId) -> Vec<[f32; 4]> {
    let Ok(page) = doc.get_dictionary(page_id) else {
        return Vec::new();
    };
    let annots = match page.get(b"Annots").map(|a| doc.dereference(a)) {
        Ok(Ok((_, Object::Array(a)))) => a.clone(),
        _ => return Vec::new(),
    };
    annots
        .iter()
        .filter_map(|a| doc.dereference(a).ok()?.1.as_dict().ok().cloned())
        .filter(|w| {
            w.get(b"FT")
                .and_then(Object::as_name)
                .is_ok_and(|n| n == b"Sig")
        })
        .filter_map(|w| {
            let r: Vec<f32> = doc
                .dereference(w.get(b"Rect").ok()?)
                .ok()?
                .1
                .as_array()
                .ok()?
                .iter()
                .filter_map(|o| o.as_float().ok())
                .collect();
            let [a, b, c, d] = r[..] else { return None };
            let r = [a.min(c), b.min(d), a.max(c), b.max(d)];
            (r[2] - r[0] > 0.0 && r[3] - r[1] > 0.0).then_some(r)
        })
        .collect()
}

fn merge_acroform(
    doc: &Document,
    af: &mut Dictionary,
    widget_id: ObjectId,
    field_name: &str,
    rewrites: &mut BTreeMap<ObjectId, Object>,
) -> Result<()> {
    let check = |fields: &[Object]| -> Result<()> {
        for f in fields {
            let Ok((_, obj)) = doc.dereference(f) else {
                continue;
            };
            let Ok(d) = obj.as_dict() else { continue };
            let name = d.get(b"T").and_then(Object::as_str).map(decode_text_string);
            if name.is_ok_and(|n| n == field_name) {
                return Err(SignError::FieldExists(field_name.to_string()));
            }
        }
        Ok(())
    };
    match af.get(b"Fields") {
        Ok(Object::Reference(r)) => {
            let r = *r;
            let mut arr = doc.get_object(r)?.as_array()?.clone();
            check(&arr)?;
            arr.push(Object::Reference(widget_id));
            rewrites.insert(r, Object::Array(arr));
        }
        Ok(Object::Array(a)) => {
            check(a)?;
            let mut a = a.clone();
            a.push(Object::Reference(widget_id));
            af.set("Fields", Object::Array(a));
        }
        _ => af.set("Fields", Object::Array(vec![Object::Reference(widget_id)])),
    }
    let flags = af.get(b"SigFlags").and_then(Object::as_i64).unwrap_or(0);
    af.set("SigFlags", Object::Integer(flags | 3));
    Ok(())
}

/// What an incremental update needs to know of the file it extends.
pub(crate) struct Tail {
    pub form: XrefForm,
    pub prev_xref: usize,
    pub root_id: ObjectId,
    info_ref: Option<ObjectId>,
    first_id: Option<Vec<u8>>,
    /// The first object number free for new objects.
    pub first_new: u32,
}

impl Tail {
    pub fn of(pdf: &[u8], doc: &Document) -> Result<Self> {
        let (form, prev_xref) = detect_xref(pdf)?;
        if doc.trailer.get(b"Encrypt").is_ok() {
            return Err(SignError::Encrypted);
        }
        let root_id = doc
            .trailer
            .get(b"Root")
            .and_then(Object::as_reference)
            .map_err(|_| SignError::Pdf("trailer has no /Root reference".into()))?;
        let info_ref = doc
            .trailer
            .get(b"Info")
            .ok()
            .and_then(|o| o.as_reference().ok());
        let first_id = match doc.trailer.get(b"ID").and_then(Object::as_array) {
            Ok(a) if !a.is_empty() => a[0].as_str().ok().map(|s| s.to_vec()),
            _ => None,
        };
        let old_size = doc
            .trailer
            .get(b"Size")
            .and_then(Object::as_i64)
            .unwrap_or(0)
            .max(0) as u32;
        Ok(Self {
            form,
            prev_xref,
            root_id,
            info_ref,
            first_id,
            first_new: old_size.max(doc.max_id + 1),
        })
    }

    /// The new trailer (without /Size): the same root and info, the file's first ID and
    /// a second one derived from the file and `salt`.
    pub fn trailer(&self, pdf: &[u8], salt: &[&[u8]]) -> Result<Dictionary> {
        let mut id_hasher = Hasher::new(MessageDigest::sha256())?;
        id_hasher.update(pdf)?;
        for s in salt {
            id_hasher.update(s)?;
        }
        let new_id = id_hasher.finish()?[..16].to_vec();
        let first_id = self.first_id.clone().unwrap_or_else(|| new_id.clone());
        let mut trailer = Dictionary::new();
        trailer.set("Root", Object::Reference(self.root_id));
        if let Some(info) = self.info_ref {
            trailer.set("Info", Object::Reference(info));
        }
        trailer.set(
            "ID",
            Object::Array(vec![
                Object::String(first_id, StringFormat::Hexadecimal),
                Object::String(new_id, StringFormat::Hexadecimal),
            ]),
        );
        trailer.set("Prev", Object::Integer(self.prev_xref as i64));
        Ok(trailer)
    }
}

/// Ends an incremental update in `upd` (whose first byte goes at offset `base` of the
/// file): a cross-reference section of `form` for the objects at `offsets`, the trailer
/// (`/Size` set here from `next_free`) and `startxref`.
pub(crate) fn write_xref(
    upd: &mut Vec<u8>,
    base: usize,
    mut offsets: BTreeMap<ObjectId, usize>,
    form: XrefForm,
    mut trailer: Dictionary,
    mut next_free: u32,
) -> Result<()> {
    match form {
        XrefForm::Table => {
            let xref_off = base + upd.len();
            trailer.set("Size", Object::Integer(i64::from(next_free)));
            upd.extend_from_slice(b"xref\n");
            for run in runs(&offsets) {
                upd.extend_from_slice(format!("{} {}\n", run[0].0.0, run.len()).as_bytes());
                for (id, off) in run {
                    upd.extend_from_slice(format!("{:010} {:05} n\r\n", off, id.1).as_bytes());
                }
            }
            upd.extend_from_slice(b"trailer\n");
            write_object(upd, &Object::Dictionary(trailer));
            upd.extend_from_slice(format!("\nstartxref\n{xref_off}\n%%EOF\n").as_bytes());
        }
        XrefForm::Stream => {
            let xs_id: ObjectId = (next_free, 0);
            next_free += 1;
            let xref_off = base + upd.len();
            offsets.insert(xs_id, xref_off);
            let mut index = Vec::new();
            let mut data = Vec::new();
            for run in runs(&offsets) {
                index.push(Object::Integer(i64::from(run[0].0.0)));
                index.push(Object::Integer(run.len() as i64));
                for (id, off) in run {
                    let off = u32::try_from(off)
                        .map_err(|_| SignError::Pdf("file too large for /W [1 4 2]".into()))?;
                    data.push(1u8);
                    data.extend_from_slice(&off.to_be_bytes());
                    data.extend_from_slice(&id.1.to_be_bytes());
                }
            }
            trailer.set("Type", Object::Name(b"XRef".to_vec()));
            trailer.set("Size", Object::Integer(i64::from(next_free)));
            trailer.set("Index", Object::Array(index));
            trailer.set("W", Object::Array(vec![1.into(), 4.into(), 2.into()]));
            trailer.set("Length", Object::Integer(data.len() as i64));
            upd.extend_from_slice(format!("{} {} obj\n", xs_id.0, xs_id.1).as_bytes());
            write_object(upd, &Object::Dictionary(trailer));
            upd.extend_from_slice(b"\nstream\n");
            upd.extend_from_slice(&data);
            upd.extend_from_slice(b"\nendstream\nendobj\n");
            upd.extend_from_slice(format!("startxref\n{xref_off}\n%%EOF\n").as_bytes());
        }
    }
    Ok(())
}

/// Consecutive runs of object numbers (for xref subsections).
fn runs(offsets: &BTreeMap<ObjectId, usize>) -> Vec<Vec<(ObjectId, usize)>> {
    let mut out: Vec<Vec<(ObjectId, usize)>> = Vec::new();
    for (&id, &off) in offsets {
        match out.last_mut() {
            Some(run) if run.last().map(|l| l.0.0 + 1) == Some(id.0) => run.push((id, off)),
            _ => out.push(vec![(id, off)]),
        }
    }
    out
}

fn write_indirect(
    out: &mut Vec<u8>,
    base: usize,
    offsets: &mut BTreeMap<ObjectId, usize>,
    id: ObjectId,
    obj: &Object,
) {
    offsets.insert(id, base + out.len());
    out.extend_from_slice(format!("{} {} obj\n", id.0, id.1).as_bytes());
    write_object(out, obj);
    out.extend_from_slice(b"\nendobj\n");
}

#[cfg(test)]
mod tests {
    use super::super::test_support::pdf_of;
    use super::*;

    fn visible_rects(pdf: &[u8]) -> Vec<[f32; 4]> {
        let doc = Document::load_mem(pdf).unwrap();
        let last = *doc.get_pages().values().next_back().unwrap();
        visible_signatures(&doc, last)
    }

    /// Invisible and visible signatures, one after another on portrait and landscape
    /// files: each update read with the quick reader is the one a full parse writes, and
    /// a file with a cross-reference stream is parsed whole, as before.
    #[test]
    fn the_quick_reader_writes_the_updates_a_full_parse_writes() {
        let appearance = pdf_of(1, 78.0 * MM, 17.0 * MM);
        let t = DateTime::parse_from_rfc3339("2026-09-15T10:30:00+05:00").unwrap();
        let files = [pdf_of(1, 595.276, 841.89), pdf_of(3, 841.89, 595.276)];
        for mut pdf in files.iter().map(|f| super::super::test_support::classic(f)) {
            for n in 0..5 {
                let mut opts = PadesOptions::new(format!("Подпись {n}"), t);
                opts.reason = Some("Проверка".into());
                if n % 2 == 1 {
                    opts.appearance = Some(appearance.clone());
                }
                assert!(super::pdf_reader::load_for_update(&pdf).is_some(), "{n}");
                let quick = prepare_pdf(&pdf, &opts).unwrap();
                assert_eq!(quick, prepare_pdf_parsing_all(&pdf, &opts).unwrap(), "{n}");
                // The same name again is refused either way.
                assert!(matches!(
                    prepare_pdf(&quick.bytes, &opts),
                    Err(SignError::FieldExists(_))
                ));
                pdf = quick.bytes;
            }
        }
        let modern = pdf_of(2, 595.276, 841.89);
        assert!(super::pdf_reader::load_for_update(&modern).is_none());
        let opts = PadesOptions::new("Подпись", t);
        assert_eq!(
            prepare_pdf(&modern, &opts).unwrap(),
            prepare_pdf_parsing_all(&modern, &opts).unwrap()
        );
    }

    #[test]
    fn visible_boxes_go_on_the_last_page_side_by_side_then_in_a_row_above() {
        let box_w = 78.0 * MM;
        let box_h = 17.0 * MM;
        let appearance = pdf_of(1, box_w, box_h);
        let t = DateTime::parse_from_rfc3339("2026-09-15T10:30:00+05:00").unwrap();
        let mut pdf = pdf_of(2, 595.276, 841.89);
        for n in 0..3 {
            let mut opts = PadesOptions::new(format!("Signature{n}"), t);
            opts.appearance = Some(appearance.clone());
            let next = prepare_pdf(&pdf, &opts).unwrap().bytes;
            assert_eq!(&next[..pdf.len()], &pdf[..], "earlier bytes are kept");
            pdf = next;
        }
        let rects = visible_rects(&pdf);
        let close = |a: f32, b: f32| (a - b).abs() < 0.01;
        assert_eq!(rects.len(), 3, "{rects:?}");
        // The first at the bottom-left corner of the text area (left 30 mm, bottom 20 mm).
        assert!(close(rects[0][0], 30.0 * MM) && close(rects[0][1], 20.0 * MM));
        assert!(close(rects[0][2] - rects[0][0], box_w) && close(rects[0][3] - rects[0][1], box_h));
        // The second to its right, on the same line.
        assert!(close(rects[1][0], rects[0][2] + BOX_GAP) && close(rects[1][1], rects[0][1]));
        // The third does not fit beside them: a new row above.
        assert!(close(rects[2][0], rects[0][0]) && close(rects[2][1], rects[0][3] + BOX_GAP));
        // The first page holds none of them.
        let doc = Document::load_mem(&pdf).unwrap();
        let first = *doc.get_pages().values().next().unwrap();
        assert!(doc.get_dictionary(first).unwrap().get(b"Annots").is_err());
        // The appearance carries the page's content and its font, copied.
        let last = *doc.get_pages().values().next_back().unwrap();
        let annots = doc
            .get_dictionary(last)
            .unwrap()
            .get(b"Annots")
            .unwrap()
            .as_array()
            .unwrap();
        let widget = doc.dereference(&annots[0]).unwrap().1.as_dict().unwrap();
        let ap = widget.get(b"AP").unwrap().as_dict().unwrap();
        let form = doc
            .dereference(ap.get(b"N").unwrap())
            .unwrap()
            .1
            .as_stream()
            .unwrap();
        assert_eq!(form.decompressed_content().unwrap(), b"0 0 m 10 10 l S\n");
        let font = form
            .dict
            .get(b"Resources")
            .and_then(Object::as_dict)
            .and_then(|r| r.get(b"Font"))
            .and_then(Object::as_dict)
            .and_then(|f| f.get(b"F1"))
            .and_then(|f| doc.dereference(f))
            .unwrap()
            .1
            .as_dict()
            .unwrap();
        assert_eq!(
            font.get(b"BaseFont").unwrap().as_name().unwrap(),
            b"Helvetica"
        );
    }

    #[test]
    fn on_a_full_last_page_the_box_stays_below_the_seals_block() {
        let renderer = crate::render::Renderer::new(None, None).unwrap();
        let created = DateTime::parse_from_rfc3339("2026-09-15T10:30:00+05:00").unwrap();
        let meta = crate::render::PdfMeta {
            ident: "documents/x".into(),
            created,
        };
        // The sample Appendix 3 fills its page down to the seal's block.
        let data: serde_json::Value =
            serde_json::from_str(include_str!("../../templates/sample/appendix3.json")).unwrap();
        let pdf = renderer
            .render("appendix3.typ", &data, "documents/x", &meta)
            .unwrap();
        let b = crate::render::signer::SignerBox {
            number: 1,
            role: "Руководитель местного исполнительного органа".into(),
            signer: "ҚАСЫМОВ ӘЛІБЕК".into(),
            organisation: "ГУ «Управление занятости и социальных программ Акмолинской области»"
                .into(),
            identifier_label: "БИН".into(),
            identifier: "990140000483".into(),
            signing_time: "15.09.2026 10:30:00 (UTC+5)".into(),
            certificate_serial: "3A5F19C2".into(),
            width_mm: crate::render::signer::WIDTH_MM,
        };
        let mut opts = PadesOptions::new("Signature2", created);
        opts.appearance = Some(renderer.signer_box(&b, created).unwrap());
        let prepared = prepare_pdf(&pdf, &opts).unwrap().bytes;
        let doc = Document::load_mem(&prepared).unwrap();
        let last = *doc.get_pages().values().next_back().unwrap();
        let floor = appearance::content_floor(&doc, last, 20.0 * MM, 841.89).unwrap();
        let rects = visible_signatures(&doc, last);
        assert_eq!(rects.len(), 1);
        let r = rects[0];
        assert!((r[1] - 20.0 * MM).abs() < 0.01, "{r:?}");
        assert!(
            r[3] <= floor - BOX_GAP + 0.01,
            "{r:?} reaches above {floor}"
        );
        // The seal's block ends low on this page: what it drew is found, not the margin.
        assert!(floor > 30.0 * MM && floor < 120.0 * MM, "{floor}");
    }

    #[test]
    fn a_landscape_page_takes_three_boxes_in_a_row_within_its_margins() {
        let appearance = pdf_of(1, 78.0 * MM, 17.0 * MM);
        let t = DateTime::parse_from_rfc3339("2026-09-15T10:30:00+05:00").unwrap();
        let mut pdf = pdf_of(1, 841.89, 595.276);
        for n in 0..4 {
            let mut opts = PadesOptions::new(format!("Signature{n}"), t);
            opts.appearance = Some(appearance.clone());
            pdf = prepare_pdf(&pdf, &opts).unwrap().bytes;
        }
        let rects = visible_rects(&pdf);
        let bottoms: Vec<f32> = rects.iter().map(|r| (r[1] / MM).round()).collect();
        assert_eq!(bottoms, [18.0, 18.0, 18.0, 38.0], "{rects:?}");
        assert!((rects[0][0] - 20.0 * MM).abs() < 0.01);
        assert!(rects.iter().all(|r| r[2] <= 841.89 - 15.0 * MM));
    }
}
