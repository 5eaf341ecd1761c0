//! The state bodies as issuers of documents.

use super::{Context, Error, Reason, Result};
use crate::domain::names::BodyName;
use crate::store::bodies::BodyRow;

/// The profile of the body issuing a document, refused while its signatory line would
/// be blank: no official document goes out without the head's position and name.
pub async fn issuing_body(ctx: &Context, id: &str) -> Result<BodyRow> {
    let body = ctx.store.get_body(id).await?;
    if body.is_complete() {
        return Ok(body);
    }
    let name = BodyName::new(id);
    Err(Error::refused(
        Reason::BodyProfileIncomplete,
        format!(
            "{name} ({}) has no head's position or name: set head_position_ru and head_full_name with BodyService.UpdateBody before it issues documents",
            body.legal_name_ru
        ),
    )
    .with("body", name.to_string()))
}
