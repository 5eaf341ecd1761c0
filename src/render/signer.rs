//! The visible box of a party's signature (who signed, for whom, in what role, when),
//! set by Typst as a page of exactly the box's size: the signing code imports that page
//! as the appearance of the signature field, so the text uses the forms' own embedded
//! fonts and shows Kazakh letters.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use super::{PdfMeta, RenderError, Renderer, to_json};

pub const TEMPLATE: &str = "signer.typ";

/// Width of one box: two fit side by side in the text width of a portrait form (160 mm).
pub const WIDTH_MM: u32 = 78;

/// What a signer's box shows; serialised as the template's `/data.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignerBox {
    /// The signer's place among the parties' signatures of the document (1, 2, …).
    pub number: usize,
    /// The role in words («Руководитель работодателя»).
    pub role: String,
    pub signer: String,
    pub organisation: String,
    /// «БИН», or «ИИН» for an individual employer.
    pub identifier_label: String,
    pub identifier: String,
    /// Almaty time, as the seal's block prints it.
    pub signing_time: String,
    pub certificate_serial: String,
    pub width_mm: u32,
}

/// The role codes of `SigningService` in the words a printed document uses.
pub fn role_name(code: &str) -> String {
    match code {
        "EMPLOYER_HEAD" => "Руководитель работодателя",
        "EMPLOYER_SIGNATORY" => "Лицо с правом подписи работодателя",
        "EMPLOYER_INDIVIDUAL" => "Работодатель — физическое лицо",
        "REGIONAL_BODY_HEAD" => "Руководитель местного исполнительного органа",
        "REGIONAL_BODY_SIGNATORY" => "Лицо с правом подписи местного исполнительного органа",
        "MINISTRY_HEAD" => "Руководитель уполномоченного органа",
        "MINISTRY_SIGNATORY" => "Лицо с правом подписи уполномоченного органа",
        "SERVICE_SEAL" => "Электронная печать сервиса",
        other => return other.to_owned(),
    }
    .to_owned()
}

impl Renderer {
    /// The box as a one-page PDF whose page is the box.
    pub fn signer_box(
        &self,
        b: &SignerBox,
        created: DateTime<FixedOffset>,
    ) -> Result<Vec<u8>, RenderError> {
        let data = to_json(
            TEMPLATE,
            &serde_json::to_value(b).map_err(|e| RenderError::Data {
                template: TEMPLATE.into(),
                message: e.to_string(),
            })?,
        )?;
        let meta = PdfMeta {
            ident: format!("signer-box-{}", b.certificate_serial),
            created,
        };
        // Untagged, as a part of a form is: the page becomes a Form XObject of another
        // document, where a structure tree of its own would have no place.
        self.compile(TEMPLATE, data, Vec::new(), &meta, true)
            .map(|(pdf, _)| pdf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_is_a_signer_box() {
        let b: SignerBox = super::super::fields::read_sample("signer");
        assert_eq!(b.width_mm, WIDTH_MM);
        assert_eq!(b.role, role_name("EMPLOYER_HEAD"));
        // And back: the model writes every key the sample has, no more.
        let sample: serde_json::Value = super::super::fields::read_sample("signer");
        assert_eq!(serde_json::to_value(&b).unwrap(), sample);
    }
}
