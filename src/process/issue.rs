//! Issuing a document: a form's model rendered and sealed off the async runtime.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Context, Error, Result};
use crate::domain::names::DocumentName;
use crate::render::appendix1::VisibleSignature;
use crate::store::NewDocument;

/// What a document is, beside its content.
#[derive(Debug, Clone)]
pub struct Form {
    /// The template that lays it out (each model's `TEMPLATE`).
    pub template: &'static str,
    /// The document kind it is stored under, e.g. `APPENDIX_2`.
    pub kind: &'static str,
    pub title: String,
    /// The resource it is about, e.g. `regions/{kato}/quotaYears/{year}`.
    pub subject: String,
}

/// Renders the model that `build` makes (given the seal's visible block, which names the
/// new document) and seals it at `now`. Nothing is stored: the caller stores the document
/// with whatever it records.
pub async fn seal<M: Serialize>(
    ctx: &Context,
    form: Form,
    now: DateTime<Utc>,
    build: impl FnOnce(VisibleSignature) -> M,
) -> Result<NewDocument> {
    let id = uuid::Uuid::new_v4().to_string();
    let code = new_code()?;
    let name = DocumentName::new(id.clone());
    let model = build(ctx.sealer.visible_signature(&name.to_string(), now));
    let data = serde_json::to_value(&model)
        .map_err(|e| Error::internal("the form's model", format!("{}: {e}", form.template)))?;
    let sealer = ctx.sealer.clone();
    let Form {
        template,
        kind,
        title,
        subject,
    } = form;
    crate::sealing::on_core(move || {
        sealer.issue(&id, &code, template, &data, kind, &title, &subject, now)
    })
    .await
    .map_err(|e| Error::internal("sealing task", e))?
    .map_err(|e| Error::internal("rendering and sealing", format!("{template}: {e:#}")))
}

/// Bytes of randomness in a document's public code (80 bits: not to be guessed).
const CODE_BYTES: usize = 10;

/// A new public code: the short, unguessable identifier under which anyone verifies a
/// document (`{public_base_url}/v/{code}`, what its QR code opens), 20 hex digits.
pub fn new_code() -> Result<String> {
    let mut bytes = [0u8; CODE_BYTES];
    openssl::rand::rand_bytes(&mut bytes).map_err(|e| Error::internal("a document code", e))?;
    Ok(hex::encode(bytes))
}

/// Whether `code` has the form of a public code (it may still be unknown).
pub fn is_public_code(code: &str) -> bool {
    code.len() == 2 * CODE_BYTES
        && code
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_twenty_hex_digits_and_differ() {
        let (a, b) = (new_code().unwrap(), new_code().unwrap());
        assert!(is_public_code(&a) && is_public_code(&b));
        assert_ne!(a, b);
        assert!(!is_public_code("0123"));
        assert!(!is_public_code("0123456789ABCDEF0123"), "lower case only");
        assert!(!is_public_code("0123456789abcdef012g"));
    }
}
