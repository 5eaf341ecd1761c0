//! Test helpers of the signature code: small PDFs.

use lopdf::{Dictionary, Document, Object};

/// A PDF of `pages` pages of `w` × `h` points, each with a line and a font resource.
pub fn pdf_of(pages: usize, w: f32, h: f32) -> Vec<u8> {
    let mut doc = Document::with_version("1.7");
    let pages_id = doc.new_object_id();
    let mut font = Dictionary::new();
    font.set("Type", Object::Name(b"Font".to_vec()));
    font.set("Subtype", Object::Name(b"Type1".to_vec()));
    font.set("BaseFont", Object::Name(b"Helvetica".to_vec()));
    let font_id = doc.add_object(font);
    let mut kids = Vec::new();
    for _ in 0..pages {
        let content = doc.add_object(lopdf::Stream::new(
            Dictionary::new(),
            b"0 0 m 10 10 l S".to_vec(),
        ));
        let mut fonts = Dictionary::new();
        fonts.set("F1", Object::Reference(font_id));
        let mut resources = Dictionary::new();
        resources.set("Font", Object::Dictionary(fonts));
        let mut page = Dictionary::new();
        page.set("Type", Object::Name(b"Page".to_vec()));
        page.set("Parent", Object::Reference(pages_id));
        page.set("Contents", Object::Reference(content));
        page.set("Resources", Object::Dictionary(resources));
        kids.push(Object::Reference(doc.add_object(page)));
    }
    let mut tree = Dictionary::new();
    tree.set("Type", Object::Name(b"Pages".to_vec()));
    tree.set("Count", Object::Integer(pages as i64));
    tree.set("Kids", Object::Array(kids));
    tree.set(
        "MediaBox",
        Object::Array(vec![0.into(), 0.into(), w.into(), h.into()]),
    );
    doc.objects.insert(pages_id, Object::Dictionary(tree));
    let mut catalog = Dictionary::new();
    catalog.set("Type", Object::Name(b"Catalog".to_vec()));
    catalog.set("Pages", Object::Reference(pages_id));
    let root = doc.add_object(catalog);
    doc.trailer.set("Root", Object::Reference(root));
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}
