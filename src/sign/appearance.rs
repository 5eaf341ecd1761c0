//! A page of another PDF as a Form XObject: the visible appearance of a signature field.
//!
//! The appearance is drawn elsewhere (the renderer sets a page of exactly the box's
//! size, with embedded fonts that cover Kazakh Cyrillic); here its content stream and
//! every object its resources need (fonts, font files, colour spaces, graphics states)
//! are copied with new object numbers, ready to be written into an incremental update.

use std::collections::BTreeMap;

use lopdf::{Dictionary, Document, Object, ObjectId, Stream};

use super::{Result, SignError};

/// A page turned into a Form XObject, its objects numbered from a given id.
#[derive(Debug, Clone)]
pub struct ImportedPage {
    /// The Form XObject.
    pub xobject: ObjectId,
    /// Every new object (the XObject first), in the order they were numbered.
    pub objects: Vec<(ObjectId, Object)>,
    /// The page's size in points (its MediaBox), the Form's /BBox.
    pub width: f32,
    pub height: f32,
    /// The first object number not used.
    pub next_free: u32,
}

/// Content larger than this is not an appearance but an attack on memory.
const MAX_CONTENT: usize = 4 << 20;

/// Imports the first page of `pdf` as a Form XObject numbered `first_id`; the objects
/// it refers to follow it.
pub fn import_first_page(pdf: &[u8], first_id: u32) -> Result<ImportedPage> {
    let doc = Document::load_mem(pdf)?;
    let page_id = *doc
        .get_pages()
        .values()
        .next()
        .ok_or_else(|| SignError::Pdf("the appearance has no page".into()))?;
    let media_box = inherited(&doc, page_id, b"MediaBox")?
        .ok_or_else(|| SignError::Pdf("the appearance page has no MediaBox".into()))?;
    let bbox: Vec<f32> = doc
        .dereference(&media_box)?
        .1
        .as_array()?
        .iter()
        .map(|o| o.as_float())
        .collect::<std::result::Result<_, _>>()?;
    let [x0, y0, x1, y1] = bbox[..] else {
        return Err(SignError::Pdf(
            "the appearance's MediaBox is not 4 numbers".into(),
        ));
    };
    let resources =
        inherited(&doc, page_id, b"Resources")?.unwrap_or(Object::Dictionary(Dictionary::new()));

    // The page's content, one stream or several, as one stream.
    let page = doc.get_dictionary(page_id)?;
    let parts: Vec<Object> = match page.get(b"Contents") {
        Ok(Object::Array(a)) => a.clone(),
        Ok(o) => vec![o.clone()],
        Err(_) => Vec::new(),
    };
    let mut content = Vec::new();
    for part in &parts {
        let stream = doc.dereference(part)?.1.as_stream()?;
        content.extend(stream.decompressed_content_with_limit(MAX_CONTENT)?);
        content.push(b'\n');
    }

    let mut copier = Copier {
        doc: &doc,
        map: BTreeMap::new(),
        objects: Vec::new(),
        next: first_id + 1,
    };
    let resources = copier.copy(&resources)?;
    let mut dict = Dictionary::new();
    dict.set("Type", Object::Name(b"XObject".to_vec()));
    dict.set("Subtype", Object::Name(b"Form".to_vec()));
    dict.set(
        "BBox",
        Object::Array(vec![x0.into(), y0.into(), x1.into(), y1.into()]),
    );
    dict.set("Resources", resources);
    // The page's transparency group (if any) keeps its blending the same in the form.
    if let Ok(group) = page.get(b"Group") {
        dict.set("Group", copier.copy(group)?);
    }
    let mut form = Stream::new(dict, content);
    form.compress()?;
    let xobject = (first_id, 0);
    let mut objects = vec![(xobject, Object::Stream(form))];
    objects.append(&mut copier.objects);
    Ok(ImportedPage {
        xobject,
        objects,
        width: x1 - x0,
        height: y1 - y0,
        next_free: copier.next,
    })
}

/// A page attribute, looked up on its ancestors when the page does not set it.
fn inherited(doc: &Document, page: ObjectId, key: &[u8]) -> Result<Option<Object>> {
    let mut at = page;
    for _ in 0..64 {
        let dict = doc.get_dictionary(at)?;
        if let Ok(v) = dict.get(key) {
            return Ok(Some(v.clone()));
        }
        match dict.get(b"Parent").and_then(Object::as_reference) {
            Ok(parent) => at = parent,
            Err(_) => return Ok(None),
        }
    }
    Err(SignError::Pdf("the page tree is too deep".into()))
}

/// Deep copy of objects from one document into new object numbers.
struct Copier<'a> {
    doc: &'a Document,
    map: BTreeMap<ObjectId, ObjectId>,
    objects: Vec<(ObjectId, Object)>,
    next: u32,
}

impl Copier<'_> {
    fn copy(&mut self, obj: &Object) -> Result<Object> {
        Ok(match obj {
            Object::Reference(old) => Object::Reference(self.copy_indirect(*old)?),
            Object::Array(a) => {
                Object::Array(a.iter().map(|o| self.copy(o)).collect::<Result<Vec<_>>>()?)
            }
            Object::Dictionary(d) => Object::Dictionary(self.copy_dict(d)?),
            Object::Stream(s) => {
                // The writer sets /Length itself; an indirect one need not come along.
                let mut dict = s.dict.clone();
                dict.remove(b"Length");
                let mut copy = Stream::new(self.copy_dict(&dict)?, s.content.clone());
                copy.allows_compression = s.allows_compression;
                Object::Stream(copy)
            }
            other => other.clone(),
        })
    }

    fn copy_dict(&mut self, d: &Dictionary) -> Result<Dictionary> {
        let mut out = Dictionary::new();
        for (k, v) in d.iter() {
            // A way back into the page tree would drag the whole source document along.
            if k == b"Parent" || k == b"P" {
                continue;
            }
            out.set(k.clone(), self.copy(v)?);
        }
        Ok(out)
    }

    fn copy_indirect(&mut self, old: ObjectId) -> Result<ObjectId> {
        if let Some(new) = self.map.get(&old) {
            return Ok(*new);
        }
        let new = (self.next, 0);
        self.next += 1;
        self.map.insert(old, new);
        // Numbered before its children, so the order of the objects is stable.
        let at = self.objects.len();
        self.objects.push((new, Object::Null));
        let source = self.doc.get_object(old)?.clone();
        let copied = self.copy(&source)?;
        self.objects[at].1 = copied;
        Ok(new)
    }
}

/// The lowest point of what is drawn on a page above `above` (its bottom margin: the
/// footer lies below it), or the page's top when nothing is; the free strip a
/// signature box may take runs from the margin up to it. Paths, text (its baseline
/// less a descent to a size above) and XObjects (their boxes) count; clipping and
/// shadings do not, as they draw nothing by themselves in the forms.
pub fn content_floor(doc: &Document, page_id: ObjectId, above: f32, top: f32) -> Result<f32> {
    let content = doc.get_page_content_with_limit(page_id, MAX_CONTENT)?;
    let ops = lopdf::content::Content::decode(&content)?.operations;
    let xobjects = inherited(doc, page_id, b"Resources")?
        .and_then(|r| doc.dereference(&r).ok()?.1.as_dict().ok().cloned())
        .and_then(|r| {
            doc.dereference(r.get(b"XObject").ok()?)
                .ok()?
                .1
                .as_dict()
                .ok()
                .cloned()
        })
        .unwrap_or_default();
    let mut floor = top;
    let mut mark = |ys: &[f32]| {
        let (lo, hi) = ys
            .iter()
            .fold((f32::MAX, f32::MIN), |(lo, hi), &y| (lo.min(y), hi.max(y)));
        if hi > above {
            floor = floor.min(lo.max(above));
        }
    };
    let mut ctm = IDENTITY;
    let mut stack = Vec::new();
    let mut path: Vec<(f32, f32)> = Vec::new();
    let (mut tm, mut tlm) = (IDENTITY, IDENTITY);
    let (mut size, mut leading) = (0.0f32, 0.0f32);
    for op in &ops {
        let n: Vec<f32> = op
            .operands
            .iter()
            .map(|o| o.as_float().unwrap_or(0.0))
            .collect();
        let arg = |i: usize| n.get(i).copied().unwrap_or(0.0);
        match op.operator.as_str() {
            "q" => stack.push(ctm),
            "Q" => ctm = stack.pop().unwrap_or(IDENTITY),
            "cm" if n.len() == 6 => {
                ctm = mul(&[arg(0), arg(1), arg(2), arg(3), arg(4), arg(5)], &ctm)
            }
            "m" | "l" => path.push((arg(0), arg(1))),
            "c" => path.extend([(arg(0), arg(1)), (arg(2), arg(3)), (arg(4), arg(5))]),
            "v" | "y" => path.extend([(arg(0), arg(1)), (arg(2), arg(3))]),
            "re" => {
                let (x, y, w, h) = (arg(0), arg(1), arg(2), arg(3));
                path.extend([(x, y), (x + w, y), (x, y + h), (x + w, y + h)]);
            }
            "S" | "s" | "f" | "F" | "f*" | "B" | "B*" | "b" | "b*" => {
                let ys: Vec<f32> = path.iter().map(|&(x, y)| apply(&ctm, x, y).1).collect();
                mark(&ys);
                path.clear();
            }
            "n" => path.clear(),
            "BT" => (tm, tlm) = (IDENTITY, IDENTITY),
            "Tm" if n.len() == 6 => {
                tm = [arg(0), arg(1), arg(2), arg(3), arg(4), arg(5)];
                tlm = tm;
            }
            "Td" | "TD" => {
                if op.operator == "TD" {
                    leading = -arg(1);
                }
                tlm = mul(&[1.0, 0.0, 0.0, 1.0, arg(0), arg(1)], &tlm);
                tm = tlm;
            }
            "T*" => {
                tlm = mul(&[1.0, 0.0, 0.0, 1.0, 0.0, -leading], &tlm);
                tm = tlm;
            }
            "TL" => leading = arg(0),
            "Tf" => size = arg(1),
            "Tj" | "TJ" | "'" | "\"" => {
                if op.operator != "Tj" && op.operator != "TJ" {
                    tlm = mul(&[1.0, 0.0, 0.0, 1.0, 0.0, -leading], &tlm);
                    tm = tlm;
                }
                let m = mul(&tm, &ctm);
                mark(&[apply(&m, 0.0, -0.25 * size).1, apply(&m, 0.0, size).1]);
            }
            "Do" => {
                let name = op.operands.first().and_then(|o| o.as_name().ok());
                let xobject = name
                    .and_then(|n| xobjects.get(n).ok())
                    .and_then(|x| doc.dereference(x).ok())
                    .and_then(|(_, x)| x.as_stream().ok());
                let Some(x) = xobject else { continue };
                let numbers = |key: &[u8]| -> Option<Vec<f32>> {
                    x.dict
                        .get(key)
                        .ok()?
                        .as_array()
                        .ok()?
                        .iter()
                        .map(|o| o.as_float().ok())
                        .collect()
                };
                let (bbox, matrix) = match (numbers(b"BBox"), numbers(b"Matrix")) {
                    (Some(b), m) if b.len() == 4 => {
                        let m = m
                            .filter(|m| m.len() == 6)
                            .map_or(IDENTITY, |m| [m[0], m[1], m[2], m[3], m[4], m[5]]);
                        ([b[0], b[1], b[2], b[3]], m)
                    }
                    // An image fills the unit square.
                    _ => ([0.0, 0.0, 1.0, 1.0], IDENTITY),
                };
                let m = mul(&matrix, &ctm);
                let [x0, y0, x1, y1] = bbox;
                mark(&[
                    apply(&m, x0, y0).1,
                    apply(&m, x1, y0).1,
                    apply(&m, x0, y1).1,
                    apply(&m, x1, y1).1,
                ]);
            }
            _ => {}
        }
    }
    Ok(floor)
}

type Matrix = [f32; 6];
const IDENTITY: Matrix = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0];

/// `a` then `b` (PDF's row-vector convention: a point is transformed by `a × b`).
fn mul(a: &Matrix, b: &Matrix) -> Matrix {
    [
        a[0] * b[0] + a[1] * b[2],
        a[0] * b[1] + a[1] * b[3],
        a[2] * b[0] + a[3] * b[2],
        a[2] * b[1] + a[3] * b[3],
        a[4] * b[0] + a[5] * b[2] + b[4],
        a[4] * b[1] + a[5] * b[3] + b[5],
    ]
}

fn apply(m: &Matrix, x: f32, y: f32) -> (f32, f32) {
    (m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5])
}
