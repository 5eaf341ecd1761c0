//! PAdES B-B/B-T signing and verification of PDFs (and detached CAdES CMS).
//!
//! - `keys`: keys, certificates, subjects; `dev`: a development PKI;
//! - `cms`: CMS SignedData, made and read back;
//! - `pades`: a signature as a PDF incremental update; `pdf_syntax`: the PDF syntax it
//!   writes and reads; `appearance`: a signature's visible box;
//! - `tsa`: RFC 3161 signature timestamps; `revocation`: CRLs from distribution points;
//! - `verify`: verification, returning a report with a typed verdict.
//!
//! Submodules refer to each other only through `super::`.

pub mod appearance;
pub mod cms;
pub mod dev;
pub mod keys;
pub mod ltv;
pub mod ocsp;
pub mod pades;
pub mod pdf_reader;
pub mod pdf_syntax;
pub mod revocation;
#[cfg(test)]
mod test_support;
pub mod tsa;
pub mod verify;

pub use cms::{CmsSignOptions, sign_detached, sign_detached_with};
pub use keys::{DevPki, Signer, SubjectSummary, make_dev_pki};
pub use pades::{PadesOptions, sign_pdf};
pub use verify::{
    Failure, Indication, SignatureReport, SubIndication, Trust, Verdict, verify_detached,
    verify_pdf,
};

/// Errors of the signing / verification module.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("openssl: {0}")]
    Openssl(#[from] openssl::error::ErrorStack),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("pdf: {0}")]
    Pdf(String),
    #[error("key/certificate: {0}")]
    Key(String),
    #[error("cms: {0}")]
    Cms(String),
    #[error("signature does not fit: needs {needed} bytes, {reserved} reserved")]
    ContentsTooSmall { needed: usize, reserved: usize },
    #[error("unsupported cross-reference form: {0}")]
    UnsupportedXref(String),
    #[error("encrypted PDFs are not supported")]
    Encrypted,
    #[error("a form field named {0:?} already exists")]
    FieldExists(String),
    #[error("invalid input: {0}")]
    Invalid(String),
}

impl From<lopdf::Error> for SignError {
    fn from(e: lopdf::Error) -> Self {
        SignError::Pdf(e.to_string())
    }
}

pub type Result<T> = std::result::Result<T, SignError>;

/// Where a plain `http://` URL points: the resolved address, the authority for the Host
/// header, and the path. `who` names the service in errors ("TSA", "CRL").
pub(crate) fn http_target<'a>(
    url: &'a str,
    who: &str,
) -> Result<(std::net::SocketAddr, &'a str, &'a str)> {
    use std::net::ToSocketAddrs;
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| SignError::Invalid(format!("{who} URL {url:?} must start with http://")))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let with_port = if authority.contains(':') {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    };
    let addr = with_port
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| SignError::Invalid(format!("{who} host {authority:?} does not resolve")))?;
    Ok((addr, authority, path))
}
