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
