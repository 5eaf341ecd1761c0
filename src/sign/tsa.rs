//! RFC 3161 signature timestamps (PAdES B-T): a timestamp authority (TSA) signs the hash
//! of a signature's value at a time it vouches for, so a signature made while the
//! certificate was valid stays valid after the certificate expires.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use chrono::{DateTime, Utc};
use openssl::cms::{CMSOptions, CmsContentInfo};
use openssl::hash::{MessageDigest, hash};
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::{X509, X509PurposeId};

use super::cms::der;
use super::{Result, SignError};

/// id-aa-signatureTimeStampToken: the unsigned attribute that carries the token.
pub const OID_SIGNATURE_TIMESTAMP: &str = "1.2.840.113549.1.9.16.2.14";
const OID_SHA256: &str = "2.16.840.1.101.3.4.2.1";

/// A TimeStampReq (RFC 3161 §2.4.1) for a SHA-256 imprint, asking for the TSA's
/// certificate in the reply.
pub fn request(imprint: &[u8], nonce: u64) -> Vec<u8> {
    let alg = der::seq(&[&der::oid(OID_SHA256), &der::null()]);
    der::seq(&[
        &der::integer_small(1),
        &der::seq(&[&alg, &der::octet_string(imprint)]),
        &der::integer_from_bn_bytes(&nonce.to_be_bytes()),
        &der::tlv(0x01, &[0xFF]),
    ])
}

/// Asks the TSA at `url` (plain HTTP, as TSAs commonly serve) for a token over
/// `imprint`; returns the token (a CMS ContentInfo) as DER.
pub fn fetch_token(url: &str, imprint: &[u8]) -> Result<Vec<u8>> {
    let mut nonce = [0u8; 8];
    openssl::rand::rand_bytes(&mut nonce)?;
    let body = request(imprint, u64::from_be_bytes(nonce) >> 1);
    let reply = http(url, Some(("application/timestamp-query", &body)))?;
    token_from_response(&reply)
}

/// A plain HTTP/1.0 exchange (POST with a body, else GET); returns the body of a 200
/// reply. TSAs commonly serve plain HTTP: what they return is signed. (CRLs are fetched
/// by [`super::revocation`], with limits of their own.)
fn http(url: &str, post: Option<(&str, &[u8])>) -> Result<Vec<u8>> {
    let (addr, authority, path) = super::http_target(url, "TSA")?;
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10))?;
    stream.set_read_timeout(Some(Duration::from_secs(20)))?;
    match post {
        Some((content_type, body)) => {
            stream.write_all(
                format!(
                    "POST {path} HTTP/1.0\r\nHost: {authority}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                )
                .as_bytes(),
            )?;
            stream.write_all(body)?;
        }
        None => stream.write_all(
            format!("GET {path} HTTP/1.0\r\nHost: {authority}\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )?,
    }
    let mut reply = Vec::new();
    stream.take(64 << 20).read_to_end(&mut reply)?;
    let split = reply
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| SignError::Invalid(format!("{url} did not answer in HTTP")))?;
    let head = String::from_utf8_lossy(&reply[..split]);
    let status_ok = head
        .lines()
        .next()
        .is_some_and(|l| l.split_whitespace().nth(1) == Some("200"));
    if !status_ok {
        return Err(SignError::Invalid(format!(
            "{url} answered {}",
            head.lines().next().unwrap_or_default()
        )));
    }
    Ok(reply[split + 4..].to_vec())
}

/// The token of a TimeStampResp, if its status grants one (0 granted, 1 with mods).
pub fn token_from_response(resp: &[u8]) -> Result<Vec<u8>> {
    let bad = || SignError::Invalid("malformed TimeStampResp".into());
    let (tag, body, _) = der::read(resp).ok_or_else(bad)?;
    if tag != 0x30 {
        return Err(bad());
    }
    let (_, status_info, rest) = der::read(body).ok_or_else(bad)?;
    let (_, status, _) = der::read(status_info).ok_or_else(bad)?;
    if !matches!(status, [0] | [1]) {
        return Err(SignError::Invalid(format!(
            "TSA refused the request (status {status:?})"
        )));
    }
    let (_, _, after) = der::read(rest).ok_or_else(bad)?;
    Ok(rest[..rest.len() - after.len()].to_vec())
}

/// What a timestamp token proves about a signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenCheck {
    pub gen_time: DateTime<Utc>,
    /// The token's imprint is the SHA-256 of the signature value.
    pub imprint_ok: bool,
    /// The token's signature is intact and the TSA chains to a trust anchor.
    pub tsa_trusted: bool,
}

/// Checks a token against the signature value it should cover, its TSA trusted now.
pub fn check_token(token: &[u8], signature_value: &[u8], anchors: &[X509]) -> Result<TokenCheck> {
    let expected = hash(MessageDigest::sha256(), signature_value)?;
    check_token_over(token, &expected, anchors, None)
}

/// Checks a token against the SHA-256 `imprint` it should carry, its TSA's chain at
/// `at` (now when `None`): a later timestamp proves the chain was valid then.
pub fn check_token_over(
    token: &[u8],
    expected: &[u8],
    anchors: &[X509],
    at: Option<DateTime<Utc>>,
) -> Result<TokenCheck> {
    let mut b = X509StoreBuilder::new()?;
    for c in anchors {
        b.add_cert(c.clone())?;
    }
    if let Some(at) = at {
        let mut param = openssl::x509::verify::X509VerifyParam::new()?;
        param.set_time(at.timestamp() as _);
        b.set_param(&param)?;
    }
    b.set_purpose(X509PurposeId::ANY)?;
    let store = b.build();
    let mut content = Vec::new();
    let mut ci = CmsContentInfo::from_der(token)?;
    let tsa_trusted = ci
        .verify(
            None,
            Some(&store),
            None,
            Some(&mut content),
            CMSOptions::BINARY,
        )
        .is_ok();
    if !tsa_trusted {
        content.clear();
        let empty = X509StoreBuilder::new()?.build();
        let mut ci = CmsContentInfo::from_der(token)?;
        ci.verify(
            None,
            Some(&empty),
            None,
            Some(&mut content),
            CMSOptions::BINARY | CMSOptions::NO_SIGNER_CERT_VERIFY,
        )
        .map_err(|e| SignError::Cms(format!("timestamp token does not verify: {e}")))?;
    }
    let bad = || SignError::Cms("malformed TSTInfo".into());
    let (_, tst, _) = der::read(&content).ok_or_else(bad)?;
    let (_, _, rest) = der::read(tst).ok_or_else(bad)?; // version
    let (_, _, rest) = der::read(rest).ok_or_else(bad)?; // policy
    let (_, imprint, rest) = der::read(rest).ok_or_else(bad)?;
    let (_, _, hashed) = der::read(imprint).ok_or_else(bad)?; // hashAlgorithm
    let (_, hashed, _) = der::read(hashed).ok_or_else(bad)?;
    let (_, _, rest) = der::read(rest).ok_or_else(bad)?; // serialNumber
    let (t, v, _) = der::read(rest).ok_or_else(bad)?;
    let gen_time = der::parse_time(t, v).ok_or_else(bad)?;
    Ok(TokenCheck {
        gen_time,
        imprint_ok: hashed == expected,
        tsa_trusted,
    })
}

/// Adds a signature timestamp from the TSA at `url` to the (first) SignerInfo of a CMS.
pub fn timestamp_cms(cms_der: &[u8], url: &str) -> Result<Vec<u8>> {
    let info = super::cms::parse_cms(cms_der)?;
    let imprint = hash(MessageDigest::sha256(), &info.signature_value)?;
    let token = fetch_token(url, &imprint)?;
    super::cms::add_unsigned_attribute(cms_der, OID_SIGNATURE_TIMESTAMP, &token)
}
