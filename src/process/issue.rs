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
    crate::sealing::on_core(move || sealer.issue(&id, template, &data, kind, &title, &subject, now))
        .await
        .map_err(|e| Error::internal("sealing task", e))?
        .map_err(|e| Error::internal("rendering and sealing", format!("{template}: {e:#}")))
}
