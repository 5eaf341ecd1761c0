//! Rendering of the Rules' forms: a Typst world over the built-in (or an operator's)
//! templates and embedded fonts, producing PDF/A-2b bytes.

pub mod appendix1;
pub mod appendix2;
pub mod appendix3;
pub mod appendix4;
mod cells;
pub mod decision;
mod drawn;
pub mod fields;
mod footers;
pub mod notice;
mod parts;
pub mod protocol;
mod qr;
pub mod signer;
mod world;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Datelike, FixedOffset, Timelike};
use typst::diag::{Severity, SourceDiagnostic};
use typst::foundations::{Datetime, Smart};
use typst_layout::PagedDocument;
use typst_pdf::{PdfOptions, PdfStandard, PdfStandards, Timestamp};

use world::{FormWorld, Shared};

/// The templates compiled into the binary; a file of the same name in the configured
/// templates directory replaces one without a rebuild.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("layout.typ", include_str!("../../templates/layout.typ")),
    (
        "appendix1.typ",
        include_str!("../../templates/appendix1.typ"),
    ),
    (
        "appendix2.typ",
        include_str!("../../templates/appendix2.typ"),
    ),
    (
        "appendix3.typ",
        include_str!("../../templates/appendix3.typ"),
    ),
    (
        "appendix4.typ",
        include_str!("../../templates/appendix4.typ"),
    ),
    ("protocol.typ", include_str!("../../templates/protocol.typ")),
    ("notice.typ", include_str!("../../templates/notice.typ")),
    ("decision.typ", include_str!("../../templates/decision.typ")),
    ("parts.typ", include_str!("../../templates/parts.typ")),
    ("signer.typ", include_str!("../../templates/signer.typ")),
];

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("template {template}: {message}")]
    Template { template: String, message: String },
    #[error("template {template}: PDF export failed: {message}")]
    Pdf { template: String, message: String },
    #[error("fonts: {0}")]
    Fonts(String),
    #[error("data for {template}: {message}")]
    Data { template: String, message: String },
}

/// What the PDF's metadata carries beside the page content.
#[derive(Debug, Clone)]
pub struct PdfMeta {
    /// A stable identifier of the document (its resource name), hashed into the PDF's ID.
    pub ident: String,
    /// The creation time written into the PDF and its XMP metadata.
    pub created: DateTime<FixedOffset>,
}

/// Renders forms. Cheap to clone; fonts and the standard library are loaded once.
#[derive(Clone)]
pub struct Renderer {
    shared: Arc<Shared>,
}

impl Renderer {
    /// Loads the embedded fonts (Libertinus Serif, New Computer Modern, DejaVu Sans Mono:
    /// all cover Kazakh Cyrillic) and any fonts in `fonts_dir`.
    pub fn new(
        templates_dir: Option<&Path>,
        fonts_dir: Option<&Path>,
    ) -> Result<Self, RenderError> {
        Ok(Self {
            shared: Arc::new(Shared::new(
                templates_dir.map(Path::to_path_buf),
                fonts_dir.map(Path::to_path_buf),
            )?),
        })
    }

    pub fn templates_dir(&self) -> Option<&PathBuf> {
        self.shared.templates_dir.as_ref()
    }

    /// Compiles `template` with `data` as `/data.json` and a QR code of `qr_payload` as
    /// `/qr.svg`, and exports PDF/A-2b. The same inputs give the same bytes. A long
    /// table form (Appendix 2 of more than a few hundred rows) is laid out in parts on
    /// every core and joined (see `parts`).
    pub fn render(
        &self,
        template: &str,
        data: &serde_json::Value,
        qr_payload: &str,
        meta: &PdfMeta,
    ) -> Result<Vec<u8>, RenderError> {
        let qr = qr::svg(qr_payload).map_err(|message| RenderError::Data {
            template: template.into(),
            message,
        })?;
        // A form in parts has each part's cells prepared as the part is laid out: all
        // of a long form's cells at once would be held for the whole rendering.
        if let Some(layout) = parts::parted(template, data) {
            return parts::render(self, template, layout, data, qr.as_bytes(), meta);
        }
        let data = cells::prepared(template, data, self.shared.body_font());
        let data = to_json(template, &data)?;
        self.compile(template, data, qr.into_bytes(), meta, false)
            .map(|(pdf, _)| pdf)
    }

    /// `data` as `template` reads it at `/data.json`: for Appendix 2 with its cells
    /// prepared (see `cells`). Written by `kvota render --data-out`, so that the typst CLI
    /// can compile the same template with the same input.
    pub fn template_data(&self, template: &str, data: &serde_json::Value) -> serde_json::Value {
        cells::prepared(template, data, self.shared.body_font()).into_owned()
    }

    /// One compilation and export: the PDF and its number of pages. A `part` (of a form
    /// laid out in parts) has no structure tree, which joining would not keep.
    fn compile(
        &self,
        template: &str,
        data: Vec<u8>,
        qr: Vec<u8>,
        meta: &PdfMeta,
        part: bool,
    ) -> Result<(Vec<u8>, usize), RenderError> {
        self.compile_queried(template, data, qr, meta, part, None)
            .map(|(pdf, pages, _)| (pdf, pages))
    }

    /// [`Self::compile`], and the value of the `metadata` labelled `label` in the
    /// document, if asked for and there.
    fn compile_queried(
        &self,
        template: &str,
        data: Vec<u8>,
        qr: Vec<u8>,
        meta: &PdfMeta,
        part: bool,
        label: Option<&str>,
    ) -> Result<(Vec<u8>, usize, Option<serde_json::Value>), RenderError> {
        let world = FormWorld::new(&self.shared, template, data, qr, meta.created)?;
        let compiled = typst::compile::<PagedDocument>(&world).output;
        // Typst memoises every compilation; each document's data is new, so without
        // eviction the cache grows with every form the service renders. Entries unused
        // in the last few compilations go; after a long document (a region's Appendix 2
        // of thousands of rows holds gigabytes of layout) everything goes at once.
        let long = compiled
            .as_ref()
            .is_ok_and(|d| d.pages().len() > LONG_DOCUMENT_PAGES);
        // A part's layout goes after the next compilation: not at once, as the part
        // laid out on the other core meanwhile still uses its own.
        comemo::evict(if part {
            EVICT_AFTER_PART
        } else if long {
            0
        } else {
            EVICT_AFTER
        });
        let document = compiled.map_err(|errors| RenderError::Template {
            template: template.into(),
            message: describe(&world, &errors),
        })?;
        // A form in one piece: its footers' page numbers, now that the pages are counted.
        let document = if part {
            document
        } else {
            footers::number_pages(document).map_err(|message| RenderError::Template {
                template: template.into(),
                message: format!("numbering the pages: {message}"),
            })?
        };
        let queried = label.and_then(|label| {
            use typst::introspection::{Introspector as _, MetadataElem};
            let label = typst::foundations::Label::new(typst::utils::PicoStr::intern(label))?;
            let found = document.introspector().query_label(label).ok()?;
            serde_json::to_value(&found.to_packed::<MetadataElem>()?.value).ok()
        });
        let options = PdfOptions {
            ident: Smart::Custom(meta.ident.clone()),
            creator: Smart::Custom(Some("Kvota".into())),
            timestamp: Some(timestamp(meta.created)),
            standards: PdfStandards::new(&[PdfStandard::A_2b]).map_err(|e| RenderError::Pdf {
                template: template.into(),
                message: e.message().to_string(),
            })?,
            tagged: !part,
            ..PdfOptions::default()
        };
        let pdf = typst_pdf::pdf(&document, &options).map_err(|errors| RenderError::Pdf {
            template: template.into(),
            message: describe(&world, &errors),
        })?;
        Ok((pdf, document.pages().len(), queried))
    }
}

fn to_json(template: &str, data: &serde_json::Value) -> Result<Vec<u8>, RenderError> {
    serde_json::to_vec(data).map_err(|e| RenderError::Data {
        template: template.into(),
        message: e.to_string(),
    })
}

/// Compilations a memoised result may go unused before it is evicted.
const EVICT_AFTER: usize = 4;

/// The same for a part of a form laid out in parts: parts have little in common.
const EVICT_AFTER_PART: usize = 1;

/// Pages beyond which a document's memoised layout is dropped right after it is made.
const LONG_DOCUMENT_PAGES: usize = 20;

fn timestamp(t: DateTime<FixedOffset>) -> Timestamp {
    let dt = Datetime::from_ymd_hms(
        t.year(),
        t.month() as u8,
        t.day() as u8,
        t.hour() as u8,
        t.minute() as u8,
        t.second() as u8,
    )
    .expect("a chrono time is a valid Typst datetime");
    Timestamp::new_local(dt, t.offset().local_minus_utc() / 60).expect("offset within a day")
}

/// A QR code as a standalone SVG, sized by the template.
/// Turns Typst's diagnostics into one message naming file, line and hint.
fn describe(world: &FormWorld, errors: &[SourceDiagnostic]) -> String {
    errors
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| {
            let at = world.locate(d.span).unwrap_or_default();
            let hints: String = d
                .hints
                .iter()
                .map(|h| format!(" (hint: {})", h.v))
                .collect();
            format!("{at}{}{hints}", d.message)
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every sample JSON beside the templates reads into its form's model, so a new
    /// template's sample without a model (or a model renamed away) fails here.
    #[test]
    fn every_sample_has_its_model() {
        use fields::read_sample;
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/templates/sample");
        let mut forms: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| {
                let name = e.unwrap().file_name().into_string().unwrap();
                name.strip_suffix(".json").map(str::to_owned)
            })
            .collect();
        forms.sort();
        for form in &forms {
            match form.as_str() {
                "appendix1" => drop(read_sample::<appendix1::Appendix1>(form)),
                "appendix2" => drop(read_sample::<appendix2::Appendix2>(form)),
                "appendix3" => drop(read_sample::<appendix3::Appendix3>(form)),
                "appendix4" => drop(read_sample::<appendix4::Appendix4>(form)),
                "decision" => drop(read_sample::<decision::Decision>(form)),
                "notice" => drop(read_sample::<notice::Notice>(form)),
                "protocol" => drop(read_sample::<protocol::Protocol>(form)),
                "signer" => drop(read_sample::<signer::SignerBox>(form)),
                other => panic!("templates/sample/{other}.json has no model in render/"),
            }
        }
        assert_eq!(forms.len(), 8, "{forms:?}");
    }

    fn sample_model() -> serde_json::Value {
        serde_json::from_str(include_str!("../../templates/sample/appendix1.json")).unwrap()
    }

    fn meta() -> PdfMeta {
        PdfMeta {
            ident: "documents/determinism".into(),
            created: DateTime::parse_from_rfc3339("2026-09-15T10:30:00+05:00").unwrap(),
        }
    }

    /// A long word whose width the service bounds is set without Typst measuring it, and
    /// the form comes out the same as when every long word is measured: the bounds hold.
    /// Bounds made too small change the form, so the template does use them.
    #[test]
    fn long_words_bounded_in_the_service_are_set_as_measured() {
        let r = Renderer::new(None, None).unwrap();
        let mut m: serde_json::Value =
            serde_json::from_str(include_str!("../../templates/sample/appendix2.json")).unwrap();
        let mut row = m["rows"][0].clone();
        row["organisation"]["name"] = "ТОО «Қазақстанэнергоқұрылыс-Солтүстік»".into();
        row["justification"] = ("Электрогазосварщики-монтажники для объекта \
             «Теплоэлектроцентраль-3»; Сверхвысоковольтныеподстанции, \
             WWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW и ══════════════.")
            .into();
        row["lines"][0]["occupation_name"] = "Электрогазосварщик-монтажник".into();
        m["rows"].as_array_mut().unwrap().push(row);
        let qr = qr::svg("documents/bounds").unwrap().into_bytes();
        let pdf = |data: &serde_json::Value| {
            let data = to_json(appendix2::TEMPLATE, data).unwrap();
            r.compile(appendix2::TEMPLATE, data, qr.clone(), &meta(), false)
                .unwrap()
                .0
        };
        let font = r.shared.body_font();
        assert!(font.is_some(), "the body font is among the fonts");
        let bounded = cells::prepared(appendix2::TEMPLATE, &m, font).into_owned();
        let measured = cells::prepared(appendix2::TEMPLATE, &m, None).into_owned();
        let text = bounded.to_string();
        assert!(text.contains(r#""em":"#), "{text}");
        // A piece in a script the body font lacks is left to Typst.
        assert!(text.contains(r#"{"fit":"══════════════."}"#), "{text}");
        assert_eq!(pdf(&bounded), pdf(&measured));
        let understated: serde_json::Value =
            serde_json::from_str(&text.replace(r#""em":"#, r#""em":0.0,"was":"#)).unwrap();
        assert_ne!(pdf(&understated), pdf(&measured));
    }

    /// A form's template handing its footer's note over: the older footer, numbered by
    /// Typst's page counter (and laid out twice).
    fn with_counted_footer(form: &str) -> String {
        form.replacen(
            "#show: page-setup.with(\n",
            "#show: page-setup.with(\n  footer-note: document-note(sig),\n",
            1,
        )
    }

    /// The page numbers the service writes into a form Typst laid out once are, byte for
    /// byte, those Typst's page counter gives when it lays the form out twice: every
    /// sample form (of one page and of several) and an Appendix 2 of 30 rows (ten pages
    /// and more), rendered with the built-in templates and with copies whose forms hand
    /// their footer's note over (the older footer: a state and the page counter).
    #[test]
    fn the_page_numbers_written_by_the_service_are_typsts() {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in TEMPLATES {
            if text.contains("#let sig") {
                let counted = with_counted_footer(text);
                assert_ne!(&counted, text, "{name}");
                std::fs::write(dir.path().join(name), counted).unwrap();
            }
        }
        let ours = Renderer::new(None, None).unwrap();
        let counted = Renderer::new(Some(dir.path()), None).unwrap();
        let sample = |form: &str| -> serde_json::Value {
            let path = format!(
                "{}/templates/sample/{form}.json",
                env!("CARGO_MANIFEST_DIR")
            );
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
        };
        let mut long = sample("appendix2");
        let rows = long["rows"].as_array().unwrap().clone();
        long["rows"] = rows.iter().cycle().take(30).cloned().collect();
        let mut cases: Vec<(String, serde_json::Value)> = [
            "appendix1",
            "appendix2",
            "appendix3",
            "appendix4",
            "decision",
            "notice",
            "protocol",
        ]
        .iter()
        .map(|form| (format!("{form}.typ"), sample(form)))
        .collect();
        cases.push(("appendix2.typ".into(), long));
        let mut page_counts = Vec::new();
        for (template, data) in &cases {
            let a = ours
                .render(template, data, "documents/numbers", &meta())
                .unwrap();
            let b = counted
                .render(template, data, "documents/numbers", &meta())
                .unwrap();
            let pages = lopdf::Document::load_mem(&a).unwrap().get_pages().len();
            assert!(a == b, "{template} ({pages} pages) differs");
            page_counts.push(pages);
        }
        assert!(page_counts.contains(&1), "{page_counts:?}");
        assert!(page_counts.iter().any(|&n| n >= 10), "{page_counts:?}");
    }

    /// A footer set higher (a bottom margin of 40 mm) is numbered too, as the counted
    /// footer numbers it; a placeholder on only some pages is an error, not a form with
    /// zeros.
    #[test]
    fn a_higher_footer_is_numbered_and_a_partial_one_is_refused() {
        let high = tempfile::tempdir().unwrap();
        let counted = tempfile::tempdir().unwrap();
        let form = TEMPLATES
            .iter()
            .find(|(n, _)| *n == "appendix1.typ")
            .unwrap()
            .1;
        let margin = "#show: page-setup.with(\n  margin: (left: 30mm, right: 20mm, top: 20mm, bottom: 40mm),\n";
        let high_form = form.replacen("#show: page-setup.with(\n", margin, 1);
        std::fs::write(high.path().join("appendix1.typ"), &high_form).unwrap();
        let counted_form = with_counted_footer(&high_form);
        std::fs::write(counted.path().join("appendix1.typ"), counted_form).unwrap();
        let render = |dir: &Path| {
            Renderer::new(Some(dir), None).unwrap().render(
                "appendix1.typ",
                &sample_model(),
                "documents/high",
                &meta(),
            )
        };
        let ours = render(high.path()).unwrap();
        assert!(ours == render(counted.path()).unwrap());
        // The placeholder on the first page only.
        let partial = tempfile::tempdir().unwrap();
        let partial_form = form.replacen(
            "#show: page-setup.with(\n",
            "#show: page-setup.with(\n  footer: false,\n",
            1,
        ) + "\n#place(bottom + right, dy: 12mm, text(size: 8pt, page-numbers-placeholder))\n";
        std::fs::write(partial.path().join("appendix1.typ"), partial_form).unwrap();
        let err = render(partial.path()).unwrap_err().to_string();
        assert!(err.contains("found on 1 of 2 pages"), "{err}");
    }

    /// The forms' streams are deflated at level 1, by the krilla vendored with that one
    /// change (vendor/krilla/VENDORED.md): each zlib header names the fastest level, and
    /// each stream inflates whole. Without the patch the headers name level 6.
    #[test]
    fn the_streams_are_deflated_at_the_fastest_level() {
        use std::io::Read;
        let r = Renderer::new(None, None).unwrap();
        let pdf = r
            .render(
                "appendix1.typ",
                &sample_model(),
                "documents/deflate",
                &meta(),
            )
            .unwrap();
        let doc = lopdf::Document::load_mem(&pdf).unwrap();
        let mut deflated = 0;
        for (id, object) in &doc.objects {
            let Ok(stream) = object.as_stream() else {
                continue;
            };
            if stream.dict.get(b"Filter").and_then(|f| f.as_name()).ok() != Some(b"FlateDecode") {
                continue;
            }
            // CMF 0x78 (deflate, 32 KiB window); FLG 0x01: FLEVEL 0, the fastest.
            assert_eq!(stream.content[..2], [0x78, 0x01], "object {id:?}");
            let mut inflated = Vec::new();
            flate2::read::ZlibDecoder::new(&stream.content[..])
                .read_to_end(&mut inflated)
                .unwrap();
            assert!(!inflated.is_empty(), "object {id:?}");
            deflated += 1;
        }
        // Page contents, the two faces' programs and their maps, the colour profile.
        assert!(deflated >= 7, "{deflated} deflated streams");
    }

    #[test]
    fn the_same_data_and_time_give_the_same_bytes() {
        let r = Renderer::new(None, None).unwrap();
        let a = r
            .render(
                "appendix1.typ",
                &sample_model(),
                "documents/determinism",
                &meta(),
            )
            .unwrap();
        let b = r
            .render(
                "appendix1.typ",
                &sample_model(),
                "documents/determinism",
                &meta(),
            )
            .unwrap();
        assert!(a.starts_with(b"%PDF-"));
        assert_eq!(a, b);
        // A fresh renderer (fonts loaded again) gives the same bytes too.
        let c = Renderer::new(None, None)
            .unwrap()
            .render(
                "appendix1.typ",
                &sample_model(),
                "documents/determinism",
                &meta(),
            )
            .unwrap();
        assert_eq!(a, c);
    }

    #[test]
    fn a_template_error_names_the_template_and_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("appendix1.typ"),
            "#let x = 1\n#undefined-thing\n",
        )
        .unwrap();
        let r = Renderer::new(Some(dir.path()), None).unwrap();
        let err = r
            .render("appendix1.typ", &sample_model(), "x", &meta())
            .unwrap_err()
            .to_string();
        assert!(err.contains("appendix1.typ"), "{err}");
        assert!(err.contains(":2:"), "{err}");
    }
}
