//! Detached CMS SignedData (CAdES-BES / B-B style) built by hand in DER.
//!
//! Why not `CmsContentInfo::sign`? OpenSSL's `CMS_sign` always adds a
//! signingTime attribute taken from the current clock. PAdES (ETSI EN 319 142-1,
//! baseline B-B) forbids the signing-time attribute in the CMS (the time goes
//! into the signature dictionary's /M), and a clock-dependent attribute makes
//! output non-deterministic. So the SignedData is assembled here (it is small)
//! and only the raw signature is computed by OpenSSL. The result is verified
//! with OpenSSL `CMS_verify` in the tests. [`sign_detached_openssl`] keeps the
//! OpenSSL path (with `CMS_CADES`) for comparison.
//!
//! Signed attributes: contentType (id-data), [signingTime], messageDigest
//! (SHA-256) and ESS signingCertificateV2 (SHA-256 cert hash + issuerSerial).

use chrono::{DateTime, Datelike, Utc};
use openssl::cms::{CMSOptions, CmsContentInfo};
use openssl::hash::{MessageDigest, hash};
use openssl::pkey::Id;
use openssl::stack::Stack;
use openssl::x509::X509;

use super::keys::Signer;
use super::{Result, SignError};

pub const OID_DATA: &str = "1.2.840.113549.1.7.1";
pub const OID_SIGNED_DATA: &str = "1.2.840.113549.1.7.2";
pub const OID_CONTENT_TYPE: &str = "1.2.840.113549.1.9.3";
pub const OID_MESSAGE_DIGEST: &str = "1.2.840.113549.1.9.4";
pub const OID_SIGNING_TIME: &str = "1.2.840.113549.1.9.5";
pub const OID_SIGNING_CERT_V2: &str = "1.2.840.113549.1.9.16.2.47";
pub const OID_SHA256: &str = "2.16.840.1.101.3.4.2.1";
pub const OID_RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";
pub const OID_ECDSA_SHA256: &str = "1.2.840.10045.4.3.2";

/// OpenSSL 3.0 `CMS_CADES` flag (not exposed by the `openssl` crate).
const CMS_CADES: u32 = 0x100000;

/// Options for [`sign_detached_with`].
#[derive(Debug, Clone, Default)]
pub struct CmsSignOptions {
    /// Add a signingTime signed attribute with this time. `None` = no
    /// signingTime (required for PAdES).
    pub signing_time: Option<DateTime<Utc>>,
}

/// Detached CAdES B-B style CMS over `data` with signingTime = `signing_time`, the
/// service clock's time of the signature (the same the PDF's /M and the stored document
/// carry). (Stand-alone CAdES B-B requires signing-time; for PDFs see `pades`.)
pub fn sign_detached(signer: &Signer, data: &[u8], signing_time: DateTime<Utc>) -> Result<Vec<u8>> {
    sign_detached_with(
        signer,
        data,
        &CmsSignOptions {
            signing_time: Some(signing_time),
        },
    )
}

/// Detached CMS SignedData over `data` (DER). Deterministic for RSA keys
/// (PKCS#1 v1.5) when `signing_time` is fixed or `None`.
pub fn sign_detached_with(signer: &Signer, data: &[u8], opts: &CmsSignOptions) -> Result<Vec<u8>> {
    let digest = hash(MessageDigest::sha256(), data)?;
    sign_digest(signer, &digest, opts)
}

/// Like [`sign_detached_with`] but takes the SHA-256 digest of the content.
pub fn sign_digest(signer: &Signer, sha256: &[u8], opts: &CmsSignOptions) -> Result<Vec<u8>> {
    if sha256.len() != 32 {
        return Err(SignError::Invalid("SHA-256 digest must be 32 bytes".into()));
    }
    let cert = signer.cert();
    let cert_der = cert.to_der()?;
    let issuer_der = cert.issuer_name().to_der()?;
    let serial_der = der::integer_from_bn_bytes(&cert.serial_number().to_bn()?.to_vec());

    // --- signed attributes (DER SET OF, sorted by encoding) ---
    let mut attrs: Vec<Vec<u8>> = Vec::new();
    attrs.push(der::attribute(OID_CONTENT_TYPE, &der::oid(OID_DATA)));
    if let Some(t) = opts.signing_time {
        attrs.push(der::attribute(OID_SIGNING_TIME, &der::time(&t)));
    }
    attrs.push(der::attribute(
        OID_MESSAGE_DIGEST,
        &der::octet_string(sha256),
    ));
    // SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2 }
    // ESSCertIDv2 ::= SEQUENCE { [hashAlgorithm DEFAULT sha256], certHash, issuerSerial }
    let cert_hash = hash(MessageDigest::sha256(), &cert_der)?;
    let issuer_serial = der::seq(&[
        &der::seq(&[&der::tlv(0xA4, &issuer_der)]), // GeneralNames { directoryName [4] }
        &serial_der,
    ]);
    let ess_cert_id = der::seq(&[&der::octet_string(&cert_hash), &issuer_serial]);
    let signing_cert_v2 = der::seq(&[&der::seq(&[&ess_cert_id])]);
    attrs.push(der::attribute(OID_SIGNING_CERT_V2, &signing_cert_v2));
    attrs.sort();
    let attrs_body: Vec<u8> = attrs.concat();
    let attrs_for_signature = der::tlv(0x31, &attrs_body); // SET OF, as signed
    let attrs_in_signer_info = der::tlv(0xA0, &attrs_body); // [0] IMPLICIT

    // --- signature over the DER SET of attributes ---
    let key = signer.key();
    let mut s = openssl::sign::Signer::new(MessageDigest::sha256(), key)?;
    s.update(&attrs_for_signature)?;
    let signature = s.sign_to_vec()?;
    let sig_alg = match key.id() {
        Id::RSA => der::seq(&[&der::oid(OID_RSA_ENCRYPTION), &der::null()]),
        Id::EC => der::seq(&[&der::oid(OID_ECDSA_SHA256)]),
        other => return Err(SignError::Key(format!("unsupported key type {other:?}"))),
    };
    let sha256_alg = der::seq(&[&der::oid(OID_SHA256)]);

    let signer_info = der::seq(&[
        &der::integer_small(1),
        &der::seq(&[&issuer_der, &serial_der]), // IssuerAndSerialNumber
        &sha256_alg,
        &attrs_in_signer_info,
        &sig_alg,
        &der::octet_string(&signature),
    ]);

    // certificates [0] IMPLICIT SET OF Certificate (DER: sorted)
    let mut certs: Vec<Vec<u8>> = vec![cert_der];
    for c in signer.chain() {
        certs.push(c.to_der()?);
    }
    certs.sort();
    certs.dedup();

    let signed_data = der::seq(&[
        &der::integer_small(1),
        &der::tlv(0x31, &sha256_alg),
        &der::seq(&[&der::oid(OID_DATA)]), // detached: no eContent
        &der::tlv(0xA0, &certs.concat()),
        &der::tlv(0x31, &signer_info),
    ]);
    Ok(der::seq(&[
        &der::oid(OID_SIGNED_DATA),
        &der::tlv(0xA0, &signed_data),
    ]))
}

/// The complete TLVs inside `content`, in order.
fn children(mut content: &[u8]) -> Option<Vec<&[u8]>> {
    let mut out = Vec::new();
    while !content.is_empty() {
        let (_, _, next) = der::read(content)?;
        out.push(&content[..content.len() - next.len()]);
        content = next;
    }
    Some(out)
}

/// Adds an unsigned attribute (e.g. a signature timestamp) to the first SignerInfo of a
/// CMS SignedData, re-encoding the enclosing structures. The signature stays valid: the
/// unsigned attributes are outside what was signed.
pub fn add_unsigned_attribute(cms_der: &[u8], oid: &str, value: &[u8]) -> Result<Vec<u8>> {
    let bad = || SignError::Cms("unexpected CMS structure".into());
    // Normalise BER (as some tokens produce) to DER first.
    let normal = CmsContentInfo::from_der(cms_der)?.to_der()?;
    let (_, ci, _) = der::read(&normal).ok_or_else(bad)?;
    let ci_parts = children(ci).ok_or_else(bad)?;
    let [ct_oid, explicit] = ci_parts.as_slice() else {
        return Err(bad());
    };
    let (_, inner, _) = der::read(explicit).ok_or_else(bad)?;
    let (_, sd, _) = der::read(inner).ok_or_else(bad)?;
    let mut sd_parts: Vec<Vec<u8>> = children(sd)
        .ok_or_else(bad)?
        .into_iter()
        .map(<[u8]>::to_vec)
        .collect();
    let last = sd_parts.last().ok_or_else(bad)?.clone();
    let (tag, sis, _) = der::read(&last).ok_or_else(bad)?;
    if tag != 0x31 {
        return Err(bad());
    }
    let mut si_list: Vec<Vec<u8>> = children(sis)
        .ok_or_else(bad)?
        .into_iter()
        .map(<[u8]>::to_vec)
        .collect();
    let first = si_list.first().ok_or_else(bad)?.clone();
    let (_, si, _) = der::read(&first).ok_or_else(bad)?;
    let mut si_parts: Vec<Vec<u8>> = children(si)
        .ok_or_else(bad)?
        .into_iter()
        .map(<[u8]>::to_vec)
        .collect();
    let attribute = der::attribute(oid, value);
    match si_parts.last().and_then(|p| der::read(p)) {
        Some((0xA1, existing, _)) => {
            let mut attrs = children(existing)
                .ok_or_else(bad)?
                .into_iter()
                .map(<[u8]>::to_vec)
                .collect::<Vec<_>>();
            attrs.push(attribute);
            attrs.sort();
            let n = si_parts.len();
            si_parts[n - 1] = der::tlv(0xA1, &attrs.concat());
        }
        _ => si_parts.push(der::tlv(0xA1, &attribute)),
    }
    si_list[0] = der::tlv(0x30, &si_parts.concat());
    let n = sd_parts.len();
    sd_parts[n - 1] = der::tlv(0x31, &si_list.concat());
    let signed_data = der::tlv(0x30, &sd_parts.concat());
    Ok(der::seq(&[ct_oid, &der::tlv(0xA0, &signed_data)]))
}

/// Detached CMS via OpenSSL `CMS_sign` with `CMS_CADES` (adds
/// signingCertificateV2). OpenSSL always adds signingTime from the current
/// clock here, so this is not suitable for strict PAdES nor deterministic.
pub fn sign_detached_openssl(signer: &Signer, data: &[u8]) -> Result<Vec<u8>> {
    let mut stack = Stack::<X509>::new()?;
    for c in signer.chain() {
        stack.push(c.clone())?;
    }
    let flags = CMSOptions::DETACHED | CMSOptions::BINARY | CMSOptions::from_bits_retain(CMS_CADES);
    let cms = CmsContentInfo::sign(
        Some(signer.cert()),
        Some(signer.key()),
        Some(&stack),
        Some(data),
        flags,
    )?;
    Ok(cms.to_der()?)
}

// ---------------------------------------------------------------------------
// Reading back (used by verify): certificates, signer identifier, signingTime
// ---------------------------------------------------------------------------

/// Facts pulled out of a (DER) CMS SignedData.
#[derive(Debug, Default)]
pub struct CmsInfo {
    pub certificates: Vec<X509>,
    /// Issuer name DER and serial (unsigned big-endian) of the first SignerInfo.
    pub signer_issuer_der: Vec<u8>,
    pub signer_serial: Vec<u8>,
    pub signing_time: Option<DateTime<Utc>>,
    pub signer_count: usize,
    /// The first SignerInfo's signature value (what a signature timestamp covers).
    pub signature_value: Vec<u8>,
    /// Its signature timestamp token (unsigned attribute), if any.
    pub timestamp_token: Option<Vec<u8>>,
    /// Its digest algorithm (the OID's content octets).
    pub digest_algorithm: Vec<u8>,
    /// Its messageDigest signed attribute, if it has signed attributes.
    pub message_digest: Option<Vec<u8>>,
}

impl CmsInfo {
    /// The certificate identified by the (first) SignerInfo.
    pub fn signer_cert(&self) -> Option<&X509> {
        self.certificates.iter().find(|c| {
            let serial_ok = c
                .serial_number()
                .to_bn()
                .map(|bn| bn.to_vec() == strip_leading_zeros(&self.signer_serial))
                .unwrap_or(false);
            let issuer_ok = c
                .issuer_name()
                .to_der()
                .map(|d| d == self.signer_issuer_der)
                .unwrap_or(false);
            serial_ok && issuer_ok
        })
    }
}

fn strip_leading_zeros(b: &[u8]) -> Vec<u8> {
    let n = b.iter().take_while(|&&x| x == 0).count();
    b[n..].to_vec()
}

/// Length of the leading DER/BER TLV of `buf` (definite lengths only),
/// used to cut the zero padding off a PDF /Contents value.
pub fn der_total_len(buf: &[u8]) -> Option<usize> {
    let (_, hdr, len) = der::header(buf)?;
    hdr.checked_add(len).filter(|&t| t <= buf.len())
}

/// Parse a CMS ContentInfo(SignedData). Accepts BER (re-encoded through
/// OpenSSL to DER first).
pub fn parse_cms(cms_der: &[u8]) -> Result<CmsInfo> {
    let ci = CmsContentInfo::from_der(cms_der)
        .map_err(|e| SignError::Cms(format!("cannot parse CMS: {e}")))?;
    let der_bytes = ci.to_der()?;
    parse_signed_data_der(&der_bytes)
        .ok_or_else(|| SignError::Cms("unexpected CMS structure".into()))
}

fn parse_signed_data_der(buf: &[u8]) -> Option<CmsInfo> {
    let (tag, ci, _) = der::read(buf)?;
    if tag != 0x30 {
        return None;
    }
    let (tag, oid, rest) = der::read(ci)?;
    if tag != 0x06 || oid != der::oid_body(OID_SIGNED_DATA).as_slice() {
        return None;
    }
    let (tag, explicit, _) = der::read(rest)?;
    if tag != 0xA0 {
        return None;
    }
    let (tag, sd, _) = der::read(explicit)?;
    if tag != 0x30 {
        return None;
    }
    let mut info = CmsInfo::default();
    let mut rest = sd;
    // version, digestAlgorithms, encapContentInfo
    for _ in 0..3 {
        rest = der::read(rest)?.2;
    }
    while !rest.is_empty() {
        let (tag, body, next) = der::read(rest)?;
        match tag {
            0xA0 => {
                let mut certs = body;
                while !certs.is_empty() {
                    let (t, _, n) = der::read(certs)?;
                    let used = certs.len() - n.len();
                    if let (0x30, Ok(c)) = (t, X509::from_der(&certs[..used])) {
                        info.certificates.push(c);
                    }
                    certs = n;
                }
            }
            0xA1 => {} // crls
            0x31 => {
                let mut sis = body;
                while !sis.is_empty() {
                    let (_, si, n) = der::read(sis)?;
                    if info.signer_count == 0 {
                        parse_signer_info(si, &mut info)?;
                    }
                    info.signer_count += 1;
                    sis = n;
                }
            }
            _ => {}
        }
        rest = next;
    }
    Some(info)
}

fn parse_signer_info(si: &[u8], info: &mut CmsInfo) -> Option<()> {
    let (_, _, rest) = der::read(si)?; // version
    let (tag, sid, rest) = der::read(rest)?;
    if tag == 0x30 {
        // IssuerAndSerialNumber
        let (_, _, after_issuer) = der::read(sid)?;
        let issuer_len = sid.len() - after_issuer.len();
        info.signer_issuer_der = sid[..issuer_len].to_vec();
        let (_, serial, _) = der::read(after_issuer)?;
        info.signer_serial = serial.to_vec();
    }
    let (_, digest_alg, rest) = der::read(rest)?;
    if let Some((0x06, oid, _)) = der::read(digest_alg) {
        info.digest_algorithm = oid.to_vec();
    }
    let (tag, attrs, after_attrs) = der::read(rest)?;
    let rest = if tag == 0xA0 { after_attrs } else { rest };
    let (_, _, rest) = der::read(rest)?; // signatureAlgorithm
    let (_, signature, rest) = der::read(rest)?;
    info.signature_value = signature.to_vec();
    if let Some((0xA1, unsigned, _)) = der::read(rest) {
        let ts = der::oid_body(super::tsa::OID_SIGNATURE_TIMESTAMP);
        let mut a = unsigned;
        while !a.is_empty() {
            let (_, attr, n) = der::read(a)?;
            let (_, oid, vals) = der::read(attr)?;
            if oid == ts.as_slice() {
                let (_, set, _) = der::read(vals)?;
                let (_, _, after) = der::read(set)?;
                info.timestamp_token = Some(set[..set.len() - after.len()].to_vec());
            }
            a = n;
        }
    }
    if tag == 0xA0 {
        let mut a = attrs;
        let st = der::oid_body(OID_SIGNING_TIME);
        let md = der::oid_body(OID_MESSAGE_DIGEST);
        while !a.is_empty() {
            let (_, attr, n) = der::read(a)?;
            let (_, oid, vals) = der::read(attr)?;
            if oid == st.as_slice() {
                let (_, set, _) = der::read(vals)?;
                let (t, v, _) = der::read(set)?;
                info.signing_time = der::parse_time(t, v);
            } else if oid == md.as_slice() {
                let (_, set, _) = der::read(vals)?;
                if let Some((0x04, digest, _)) = der::read(set) {
                    info.message_digest = Some(digest.to_vec());
                }
            }
            a = n;
        }
    }
    Some(())
}

/// Minimal DER encoder/decoder.
pub(crate) mod der {
    use super::*;

    pub fn len_bytes(n: usize) -> Vec<u8> {
        if n < 0x80 {
            vec![n as u8]
        } else {
            let be = n.to_be_bytes();
            let skip = be.iter().take_while(|&&b| b == 0).count();
            let mut v = vec![0x80 | (be.len() - skip) as u8];
            v.extend_from_slice(&be[skip..]);
            v
        }
    }

    pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut v = vec![tag];
        v.extend(len_bytes(content.len()));
        v.extend_from_slice(content);
        v
    }

    pub fn seq(parts: &[&[u8]]) -> Vec<u8> {
        tlv(0x30, &parts.concat())
    }

    pub fn null() -> Vec<u8> {
        vec![0x05, 0x00]
    }

    pub fn octet_string(b: &[u8]) -> Vec<u8> {
        tlv(0x04, b)
    }

    pub fn integer_small(n: u8) -> Vec<u8> {
        integer_from_bn_bytes(&[n])
    }

    /// INTEGER from an unsigned big-endian magnitude.
    pub fn integer_from_bn_bytes(mag: &[u8]) -> Vec<u8> {
        let skip = mag.iter().take_while(|&&b| b == 0).count();
        let mag = &mag[skip..];
        let mut body = Vec::with_capacity(mag.len() + 1);
        if mag.is_empty() || mag[0] & 0x80 != 0 {
            body.push(0);
        }
        body.extend_from_slice(mag);
        tlv(0x02, &body)
    }

    pub fn oid_body(dotted: &str) -> Vec<u8> {
        let arcs: Vec<u64> = dotted
            .split('.')
            .map(|s| s.parse().expect("valid OID"))
            .collect();
        let mut out = Vec::new();
        let mut push = |mut v: u64| {
            let mut tmp = vec![(v & 0x7f) as u8];
            v >>= 7;
            while v > 0 {
                tmp.push(0x80 | (v & 0x7f) as u8);
                v >>= 7;
            }
            tmp.reverse();
            out.extend(tmp);
        };
        push(arcs[0] * 40 + arcs[1]);
        for &a in &arcs[2..] {
            push(a);
        }
        out
    }

    pub fn oid(dotted: &str) -> Vec<u8> {
        tlv(0x06, &oid_body(dotted))
    }

    /// Attribute ::= SEQUENCE { attrType OID, attrValues SET OF value }
    pub fn attribute(oid_str: &str, value: &[u8]) -> Vec<u8> {
        seq(&[&oid(oid_str), &tlv(0x31, value)])
    }

    /// UTCTime for 1950..2049, GeneralizedTime otherwise (RFC 5652 rule).
    pub fn time(t: &DateTime<Utc>) -> Vec<u8> {
        if (1950..2050).contains(&t.year()) {
            tlv(0x17, t.format("%y%m%d%H%M%SZ").to_string().as_bytes())
        } else {
            tlv(0x18, t.format("%Y%m%d%H%M%SZ").to_string().as_bytes())
        }
    }

    pub fn parse_time(tag: u8, v: &[u8]) -> Option<DateTime<Utc>> {
        let s = std::str::from_utf8(v).ok()?;
        let s = s.strip_suffix('Z')?;
        let full = match tag {
            0x17 => {
                let yy: i32 = s.get(..2)?.parse().ok()?;
                let century = if yy >= 50 { "19" } else { "20" };
                format!("{century}{s}")
            }
            0x18 => s.split('.').next()?.to_string(),
            _ => return None,
        };
        let full = if full.len() == 12 {
            format!("{full}00")
        } else {
            full
        };
        chrono::NaiveDateTime::parse_from_str(&full, "%Y%m%d%H%M%S")
            .ok()
            .map(|n| n.and_utc())
    }

    /// (tag, header length, content length) of the TLV at the start of buf.
    pub fn header(buf: &[u8]) -> Option<(u8, usize, usize)> {
        let tag = *buf.first()?;
        if tag & 0x1f == 0x1f {
            return None; // high tag numbers not needed here
        }
        let l0 = *buf.get(1)? as usize;
        if l0 < 0x80 {
            return Some((tag, 2, l0));
        }
        let n = l0 & 0x7f;
        if n == 0 || n > 8 {
            return None; // indefinite or absurd
        }
        let mut len = 0usize;
        for i in 0..n {
            len = len
                .checked_mul(256)?
                .checked_add(*buf.get(2 + i)? as usize)?;
        }
        Some((tag, 2 + n, len))
    }

    /// Read one TLV: (tag, content, rest).
    pub fn read(buf: &[u8]) -> Option<(u8, &[u8], &[u8])> {
        let (tag, hdr, len) = header(buf)?;
        let end = hdr.checked_add(len)?;
        if end > buf.len() {
            return None;
        }
        Some((tag, &buf[hdr..end], &buf[end..]))
    }
}
