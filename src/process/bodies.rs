//! The state bodies' profiles: who sends and signs every document a body issues.

use super::{Context, Error, Reason, Result};
use crate::domain::limits::MAX_SHORT_TEXT;
use crate::domain::names::BodyName;
use crate::domain::{Bin, Violations};
use crate::identity::{Caller, DenialReason, Denied};
use crate::store::audit::Actor;
use crate::store::bodies::{BodyRow, MINISTRY};

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

/// The profile of a body: `name` is `bodies/ministry` or `bodies/{9-digit KATO}`.
pub async fn get(ctx: &Context, name: &str) -> Result<BodyRow> {
    let id = body_id("name", name)?;
    Ok(ctx.store.get_body(id).await?)
}

/// The ministry's and the 20 regional bodies' profiles.
pub async fn list(ctx: &Context) -> Result<Vec<BodyRow>> {
    Ok(ctx.store.list_bodies().await?)
}

/// The fields `UpdateBody` may change (AIP-134 field mask paths).
pub const EDITABLE: [&str; 6] = [
    "legal_name_ru",
    "legal_name_kk",
    "bin",
    "address_ru",
    "head_position_ru",
    "head_full_name",
];

/// A body's profile as a caller sent it to `UpdateBody`, with the fields it changes.
#[derive(Debug, Clone, Default)]
pub struct BodyEdit {
    /// `bodies/ministry` or `bodies/{9-digit KATO}`.
    pub name: String,
    pub legal_name_ru: String,
    pub legal_name_kk: String,
    pub bin: String,
    pub address_ru: String,
    pub head_position_ru: String,
    pub head_full_name: String,
    /// The etag the caller read; empty: no check.
    pub etag: String,
    /// The field mask's paths; empty: every editable field.
    pub paths: Vec<String>,
}

/// Changes a body's profile: the ministry edits any, a regional body its own region's
/// only. The names are required; the address, the head and the BIN may be blank (an
/// empty BIN means the configured default; a blank head leaves the profile incomplete).
pub async fn update(
    ctx: &Context,
    caller: &Caller,
    actor: &Actor,
    edit: &BodyEdit,
) -> Result<BodyRow> {
    let id = body_id("body.name", &edit.name)?;
    if id == MINISTRY {
        if caller.role.is_regional() {
            return Err(Denied::new(
                DenialReason::RegionNotPermitted,
                "only the ministry edits the ministry's profile (body.name)".into(),
            )
            .into());
        }
    } else {
        caller.require_region("body.name", id)?;
    }
    let paths: Vec<&str> = if edit.paths.is_empty() {
        EDITABLE.to_vec()
    } else {
        edit.paths.iter().map(String::as_str).collect()
    };
    let mut v = Violations::new();
    for (i, p) in paths.iter().enumerate() {
        if !EDITABLE.contains(p) {
            v.add(
                format!("update_mask.paths[{i}]"),
                format!(
                    "{p:?} is not an editable field; editable: {}",
                    EDITABLE.join(", ")
                ),
            );
        }
    }
    let mut row = ctx.store.get_body(id).await?;
    apply_edit(&mut v, &mut row, edit, |f| paths.contains(&f));
    if !v.is_empty() {
        return Err(Error::Invalid(v));
    }
    Ok(ctx
        .store
        .update_body(actor, &row, edit.etag.trim(), ctx.now())
        .await?)
}

/// Writes the masked fields of `edit` into `row`, each checked and named `body.{field}`.
fn apply_edit(
    v: &mut Violations,
    row: &mut BodyRow,
    edit: &BodyEdit,
    masked: impl Fn(&str) -> bool,
) {
    let required = |v: &mut Violations, field: &str, value: &str, what: &str| {
        v.text(&format!("body.{field}"), value, what, MAX_SHORT_TEXT)
            .unwrap_or_default()
    };
    let optional = |v: &mut Violations, field: &str, value: &str, what: &str| {
        if value.trim().is_empty() {
            String::new()
        } else {
            required(v, field, value, what)
        }
    };
    if masked("legal_name_ru") {
        row.legal_name_ru = required(
            v,
            "legal_name_ru",
            &edit.legal_name_ru,
            "the legal name in Russian",
        );
    }
    if masked("legal_name_kk") {
        row.legal_name_kk = required(
            v,
            "legal_name_kk",
            &edit.legal_name_kk,
            "the legal name in Kazakh",
        );
    }
    if masked("address_ru") {
        row.address_ru = optional(v, "address_ru", &edit.address_ru, "the address");
    }
    if masked("head_position_ru") {
        row.head_position_ru = optional(
            v,
            "head_position_ru",
            &edit.head_position_ru,
            "the head's position",
        );
    }
    if masked("head_full_name") {
        row.head_full_name = optional(v, "head_full_name", &edit.head_full_name, "the head's name");
    }
    if masked("bin") {
        let bin = edit.bin.trim();
        row.bin = if bin.is_empty() {
            String::new()
        } else {
            v.check("body.bin", Bin::parse(bin))
                .map(|b| b.as_str().to_owned())
                .unwrap_or_default()
        };
    }
}

/// The id of a body's resource name: "ministry" or a 9-digit KATO code.
fn body_id<'a>(field: &str, name: &'a str) -> Result<&'a str> {
    name.strip_prefix("bodies/")
        .filter(|id| *id == MINISTRY || (id.len() == 9 && id.bytes().all(|b| b.is_ascii_digit())))
        .ok_or_else(|| {
            Error::invalid_field(
                field,
                format!("{name:?} is not a body name: bodies/ministry or bodies/{{9-digit KATO}}"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_is_the_ministry_or_a_region() {
        assert_eq!(body_id("name", "bodies/ministry").unwrap(), "ministry");
        assert_eq!(body_id("name", "bodies/710000000").unwrap(), "710000000");
        for bad in ["bodies/", "bodies/71000000", "bodies/minister", "ministry"] {
            assert!(body_id("name", bad).is_err(), "{bad}");
        }
    }
}
