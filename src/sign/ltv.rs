//! Signatures that outlive their certificates (ETSI EN 319 142-1, PAdES B-LT and B-LTA).
//!
//! - B-LT: the validation data of every signature and timestamp in the file (the
//!   certificates of their chains and, for each certificate but the trust anchor, an OCSP
//!   response or a CRL) go into the document security store (`/DSS` of the catalog) in an
//!   incremental update: [`collect`] gathers them, [`add_dss`] writes them (no /VRI).
//! - B-LTA: a document timestamp over the whole file then proves that data existed;
//!   [`add_document_timestamp`] appends one (`/SubFilter /ETSI.RFC3161`). Renewed before
//!   the last timestamp's certificate expires, the chain of timestamps keeps the file
//!   verifiable for as long as it is renewed.
//!
//! [`read_dss`] gives the verifier what the file carries, to check as of the proven time
//! when the network has nothing.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use lopdf::{Dictionary, Document, Object, ObjectId, Stream};
use openssl::hash::{MessageDigest, hash};
use openssl::x509::{X509, X509Crl, X509Ref};

use super::cms::parse_cms;
use super::pades::{self, PadesOptions, Tail};
use super::pdf_syntax::write_object;
use super::verify::{self, Trust};
use super::{Result, SignError};

/// Certificates, CRLs and OCSP responses, each as DER.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidationData {
    pub certs: Vec<Vec<u8>>,
    pub crls: Vec<Vec<u8>>,
    pub ocsps: Vec<Vec<u8>>,
}

impl ValidationData {
    pub fn is_empty(&self) -> bool {
        self.certs.is_empty() && self.crls.is_empty() && self.ocsps.is_empty()
    }

    /// The certificates that parse.
    pub fn certificates(&self) -> Vec<X509> {
        self.certs
            .iter()
            .filter_map(|d| X509::from_der(d).ok())
            .collect()
    }

    /// The CRLs that parse.
    pub fn crl_list(&self) -> Vec<X509Crl> {
        self.crls
            .iter()
            .filter_map(|d| X509Crl::from_der(d).ok())
            .collect()
    }
}

/// The document security store of a file's last revision.
#[derive(Debug, Clone, Default)]
pub struct Dss {
    pub data: ValidationData,
    /// Where the /DSS dictionary object starts in the file (a document timestamp that
    /// covers this offset covers the store); `None` for a direct dictionary.
    pub offset: Option<usize>,
}

/// The /DSS of the file `pdf`, if it parses and has one.
pub fn dss_of(pdf: &[u8]) -> Option<Dss> {
    read_dss(&Document::load_mem(pdf).ok()?)
}

/// The /DSS of `doc`'s catalog, if it has one.
pub fn read_dss(doc: &Document) -> Option<Dss> {
    let root = doc.trailer.get(b"Root").ok()?.as_reference().ok()?;
    let catalog = doc.get_dictionary(root).ok()?;
    let entry = catalog.get(b"DSS").ok()?;
    let offset = entry
        .as_reference()
        .ok()
        .and_then(|id| match doc.reference_table.get(id.0) {
            Some(lopdf::xref::XrefEntry::Normal { offset, .. }) => Some(*offset as usize),
            _ => None,
        });
    let dss = doc.dereference(entry).ok()?.1.as_dict().ok()?;
    let list = |key: &[u8]| -> Vec<Vec<u8>> {
        let Ok(arr) = dss.get(key).and_then(|a| doc.dereference(a)) else {
            return Vec::new();
        };
        let Ok(arr) = arr.1.as_array() else {
            return Vec::new();
        };
        arr.iter()
            .filter_map(|o| {
                doc.dereference(o)
                    .ok()?
                    .1
                    .as_stream()
                    .ok()
                    .map(stream_bytes)
            })
            .collect()
    };
    Some(Dss {
        data: ValidationData {
            certs: list(b"Certs"),
            crls: list(b"CRLs"),
            ocsps: list(b"OCSPs"),
        },
        offset,
    })
}

fn stream_bytes(s: &Stream) -> Vec<u8> {
    s.decompressed_content()
        .unwrap_or_else(|_| s.content.clone())
}

/// Appends `add` to the file's /DSS (made if there is none) in an incremental update;
/// what the store already holds is not written twice. `None` when nothing is new.
pub fn add_dss(pdf: &[u8], add: &ValidationData) -> Result<Option<Vec<u8>>> {
    let doc = Document::load_mem(pdf)?;
    let tail = Tail::of(pdf, &doc)?;
    let mut catalog = doc.get_dictionary(tail.root_id)?.clone();
    let old = match catalog.get(b"DSS") {
        Ok(entry) => doc.dereference(entry)?.1.as_dict()?.clone(),
        Err(_) => Dictionary::new(),
    };
    let mut next_free = tail.first_new;
    let mut new_objects: Vec<(ObjectId, Object)> = Vec::new();
    let mut dss = Dictionary::new();
    dss.set("Type", Object::Name(b"DSS".to_vec()));
    if let Ok(vri) = old.get(b"VRI") {
        dss.set("VRI", vri.clone());
    }
    let mut added = 0;
    for (key, items) in [
        (&b"Certs"[..], &add.certs),
        (b"CRLs", &add.crls),
        (b"OCSPs", &add.ocsps),
    ] {
        let mut refs: Vec<Object> = match old.get(key).and_then(|a| doc.dereference(a)) {
            Ok((_, Object::Array(a))) => a.clone(),
            _ => Vec::new(),
        };
        let mut held: BTreeSet<Vec<u8>> = refs
            .iter()
            .filter_map(|o| {
                doc.dereference(o)
                    .ok()?
                    .1
                    .as_stream()
                    .ok()
                    .map(stream_bytes)
            })
            .collect();
        for item in items {
            if !held.insert(item.clone()) {
                continue;
            }
            let id = (next_free, 0);
            next_free += 1;
            new_objects.push((
                id,
                Object::Stream(Stream::new(Dictionary::new(), item.clone())),
            ));
            refs.push(Object::Reference(id));
            added += 1;
        }
        if !refs.is_empty() {
            dss.set(key, Object::Array(refs));
        }
    }
    if added == 0 {
        return Ok(None);
    }
    let dss_id = (next_free, 0);
    next_free += 1;
    catalog.set("DSS", Object::Reference(dss_id));
    new_objects.push((dss_id, Object::Dictionary(dss)));
    new_objects.push((tail.root_id, Object::Dictionary(catalog)));

    let base = pdf.len();
    let mut upd = Vec::new();
    if !matches!(pdf.last(), Some(b'\n') | Some(b'\r')) {
        upd.push(b'\n');
    }
    let mut offsets = std::collections::BTreeMap::new();
    for (id, obj) in &new_objects {
        offsets.insert(*id, base + upd.len());
        upd.extend_from_slice(format!("{} {} obj\n", id.0, id.1).as_bytes());
        write_object(&mut upd, obj);
        upd.extend_from_slice(b"\nendobj\n");
    }
    let digest = hash(MessageDigest::sha256(), &upd)?;
    let trailer = tail.trailer(pdf, &[b"DSS", &digest])?;
    pades::write_xref(&mut upd, base, offsets, tail.form, trailer, next_free)?;
    let mut out = Vec::with_capacity(base + upd.len());
    out.extend_from_slice(pdf);
    out.extend_from_slice(&upd);
    Ok(Some(out))
}

/// Bytes reserved for a document timestamp token (the TSA's certificates included).
const TIMESTAMP_CONTENTS_SIZE: usize = 12288;

/// Appends a document timestamp from the TSA at `url` over the whole file (PAdES B-LTA),
/// in a new invisible field `DocTimeStamp{n}`.
pub fn add_document_timestamp(pdf: &[u8], url: &str, now: DateTime<Utc>) -> Result<Vec<u8>> {
    let mut n = 1 + verify::embedded_signatures(pdf)?
        .iter()
        .filter(|s| s.document_timestamp)
        .count();
    let prepared = loop {
        let mut opts = PadesOptions::new(format!("DocTimeStamp{n}"), now.fixed_offset());
        opts.document_timestamp = true;
        opts.contents_size = TIMESTAMP_CONTENTS_SIZE;
        match pades::prepare_pdf(pdf, &opts) {
            Err(SignError::FieldExists(_)) if n < 1000 => n += 1,
            other => break other?,
        }
    };
    let token = super::tsa::fetch_token(url, &prepared.digest)?;
    prepared.embed(&token)
}

/// What [`collect`] found: the data to embed, and what it could not find.
#[derive(Debug, Clone, Default)]
pub struct Collected {
    pub data: ValidationData,
    /// Certificates with no revocation data at hand, or no chain: B-LT is not reached.
    pub missing: Vec<String>,
}

/// The validation data of every signature and timestamp in `pdf`: each signer's and
/// TSA's chain to a trust anchor, and for every certificate of it but the anchor an OCSP
/// response (where a responder is known) or the CRL of its issuer (from `trust`). What
/// the file's DSS already holds counts. Blocking (OCSP): call it off the async runtime.
pub fn collect(pdf: &[u8], trust: &Trust) -> Result<Collected> {
    let doc = Document::load_mem(pdf)?;
    let held = read_dss(&doc).map(|d| d.data).unwrap_or_default();
    let mut pool: Vec<X509> = held.certificates();
    let held_crls = held.crl_list();
    let mut leaves: Vec<X509> = Vec::new();
    for sig in verify::embedded_signatures(pdf)? {
        let Ok(info) = parse_cms(&sig.cms) else {
            continue;
        };
        leaves.extend(info.signer_cert().cloned());
        pool.extend(info.certificates.iter().cloned());
        if let Some(token) = &info.timestamp_token
            && let Ok(t) = parse_cms(token)
        {
            leaves.extend(t.signer_cert().cloned());
            pool.extend(t.certificates.iter().cloned());
        }
    }
    let mut out = Collected::default();
    let mut certs = BTreeSet::new();
    let mut crls = BTreeSet::new();
    let mut ocsps = BTreeSet::new();
    let is_anchor = |c: &X509Ref| {
        let der = c.to_der().ok();
        trust.anchors.iter().any(|a| a.to_der().ok() == der)
    };
    let mut done = BTreeSet::new();
    for leaf in &leaves {
        let mut cert = leaf.clone();
        for _ in 0..8 {
            let der = cert.to_der()?;
            certs.insert(der.clone());
            if is_anchor(&cert) {
                break;
            }
            let Some(issuer) =
                verify::issuer_among(&cert, pool.iter().chain(&trust.anchors)).cloned()
            else {
                out.missing
                    .push(format!("{}: no chain to a trust anchor", name_of(&cert)));
                break;
            };
            if done.insert(der) {
                let mut found = false;
                if let Some(client) = &trust.ocsp
                    && let Some(resp) = client.good_response(&cert, &issuer, &trust.anchors)
                {
                    ocsps.insert(resp);
                    found = true;
                }
                if let Some(crl) = trust.crl_for_cert(&cert) {
                    crls.insert(crl.to_der()?);
                    found = true;
                }
                let issuer_der = cert.issuer_name().to_der()?;
                let held_crl = held_crls
                    .iter()
                    .any(|c| c.issuer_name().to_der().ok().as_deref() == Some(&issuer_der[..]));
                if !found && !held_crl && held.ocsps.is_empty() {
                    out.missing.push(format!(
                        "{}: no OCSP response or CRL of {} at hand",
                        name_of(&cert),
                        name_of(&issuer)
                    ));
                }
            }
            cert = issuer;
        }
    }
    out.data = ValidationData {
        certs: certs.into_iter().collect(),
        crls: crls.into_iter().collect(),
        ocsps: ocsps.into_iter().collect(),
    };
    Ok(out)
}

fn name_of(cert: &X509Ref) -> String {
    cert.subject_name()
        .entries_by_nid(openssl::nid::Nid::COMMONNAME)
        .next()
        .and_then(|e| e.data().to_string().ok())
        .unwrap_or_else(|| "a certificate".into())
}
