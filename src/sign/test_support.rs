//! Test helpers of the signature code: small PDFs, and certificate revocation lists made
//! with the `openssl ca` command, as a CA would issue them.

use lopdf::{Dictionary, Document, Object};
use openssl::pkey::{PKey, Private};
use openssl::x509::{X509, X509Crl};

/// A CRL of `ca` revoking `revoked` (revoked on 1 January 2026), issued now and valid
/// for `days` days.
pub fn crl(ca_key: &PKey<Private>, ca_cert: &X509, revoked: &[&X509], days: u32) -> X509Crl {
    let dir = tempfile::tempdir().unwrap();
    let path = |n: &str| dir.path().join(n).display().to_string();
    std::fs::write(path("ca.key"), ca_key.private_key_to_pem_pkcs8().unwrap()).unwrap();
    std::fs::write(path("ca.pem"), ca_cert.to_pem().unwrap()).unwrap();
    let mut index = String::new();
    for c in revoked {
        let serial = c.serial_number().to_bn().unwrap().to_hex_str().unwrap();
        index.push_str(&format!(
            "R\t451231000000Z\t260101000000Z\t{serial}\tunknown\t/CN=x\n"
        ));
    }
    std::fs::write(path("index.txt"), index).unwrap();
    std::fs::write(path("crlnumber"), "01\n").unwrap();
    std::fs::write(
        path("ca.cnf"),
        format!(
            "[ ca ]\ndefault_ca = c\n[ c ]\ndatabase = {}\ncrlnumber = {}\ndefault_md = sha256\ndefault_crl_days = {days}\n",
            path("index.txt"),
            path("crlnumber")
        ),
    )
    .unwrap();
    let o = std::process::Command::new("openssl")
        .args(["ca", "-gencrl", "-config", &path("ca.cnf")])
        .args(["-keyfile", &path("ca.key"), "-cert", &path("ca.pem")])
        .args(["-out", &path("crl.pem")])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    X509Crl::from_pem(&std::fs::read(path("crl.pem")).unwrap()).unwrap()
}

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

/// `pdf` saved again with a classic cross-reference table (as Typst and the service write
/// them) instead of a cross-reference stream.
pub fn classic(pdf: &[u8]) -> Vec<u8> {
    let mut doc = Document::load_mem(pdf).unwrap();
    doc.reference_table.cross_reference_type = lopdf::xref::XrefType::CrossReferenceTable;
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}
