//! A long table's cells, prepared for its template. Typst evaluates a template in an
//! interpreter: splitting every cell's text into words, counting each word's clusters
//! and choosing a category's lines took ~40 % of the time of a region's Appendix 2. Here
//! the same is done once in Rust, and the template only sets what it is given.
//!
//! A prepared cell is a list of paragraphs; a paragraph is a list of segments: a string
//! (text set as it is) or `{"fit": piece, "em": bound}`, a piece of a long word that the
//! template, if it is wider than its column, narrows or lets break between letters
//! (`fit-piece` in templates/layout.typ). `bound` is at least the piece's width in ems
//! of the body font, from its glyphs' advances: a piece whose bound fits its column is
//! set as it is without Typst measuring it (measuring was a tenth of the layout). A cell
//! of a total alone is `{"center": text}`.

use std::borrow::Cow;

use serde_json::{Map, Value, json};
use ttf_parser::Face;
use typst::text::Font;
use unicode_segmentation::UnicodeSegmentation;

/// Words of fewer grapheme clusters fit the narrowest text column of the forms;
/// longer ones are measured (`long-word-clusters` in templates/layout.typ).
const LONG_WORD_CLUSTERS: usize = 10;

/// A category's column, in the order of the form (columns 4 to 8 of Appendix 2).
const CATEGORY_KEYS: [&str; 5] = ["1", "2", "3", "4", "seasonal"];

/// A justification longer than this (in bytes, as the template measured it), or more
/// lines than [`MANY_LINES`], makes a row that may break across pages; a shorter row is
/// kept on one page.
const LONG_JUSTIFICATION: usize = 250;
const MANY_LINES: usize = 4;

/// Room left in [`em_bound`] for what shaping adds to the sum of advances (kerning that
/// widens a pair is rare and small): a share of the width and a fixed part, in ems.
const EM_SLACK: (f64, f64) = (0.02, 0.1);

/// `data` as the template reads it: for Appendix 2, every row with its `cells` and
/// whether it may break (`long`). `font` is the body font the cells are set in; without
/// it the template measures every long word.
pub(super) fn prepared<'a>(template: &str, data: &'a Value, font: Option<&Font>) -> Cow<'a, Value> {
    if template != super::appendix2::TEMPLATE {
        return Cow::Borrowed(data);
    }
    let Some(rows) = data.get("rows").and_then(Value::as_array) else {
        return Cow::Borrowed(data);
    };
    let mut out: Map<String, Value> = data
        .as_object()
        .expect("an object, as it has rows")
        .iter()
        .filter(|(k, _)| k.as_str() != "rows")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let face = font.and_then(|f| Face::parse(f.data(), f.index()).ok());
    out.insert(
        "rows".into(),
        Value::Array(
            rows.iter()
                .map(|r| appendix2_row(r, face.as_ref()))
                .collect(),
        ),
    );
    Cow::Owned(Value::Object(out))
}

/// A value as the template's `txt` shows it: nothing for null, a string as it is, a
/// number in decimal.
fn txt(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

pub(super) fn appendix2_row(row: &Value, face: Option<&Face>) -> Value {
    let Some(fields) = row.as_object() else {
        return row.clone();
    };
    let org = row.get("organisation").unwrap_or(&Value::Null);
    let label = if org.get("kind").and_then(Value::as_str) == Some("individual") {
        "ИИН"
    } else {
        "БИН"
    };
    let bin = txt(org.get("bin"));
    let bin = (!bin.is_empty()).then(|| format!("{label}\u{00A0}{bin}"));
    let organisation = [txt(org.get("name")), txt(org.get("legal_address"))]
        .into_iter()
        .chain(bin)
        .filter(|s| !s.is_empty());

    let empty = Vec::new();
    let lines = row.get("lines").and_then(Value::as_array).unwrap_or(&empty);
    let totals = row.get("totals").unwrap_or(&Value::Null);
    let justification = txt(row.get("justification"));

    let cell = |paragraphs: &mut dyn Iterator<Item = String>| {
        Value::Array(paragraphs.map(|p| segments(&p, face)).collect())
    };
    let mut cells = vec![cell(&mut organisation.into_iter())];
    for key in CATEGORY_KEYS {
        let mine: Vec<String> = lines
            .iter()
            .filter(|l| txt(l.get("category")) == key)
            .map(|l| {
                occupation_label(
                    &txt(l.get("occupation_code")),
                    &txt(l.get("occupation_name")),
                    &txt(l.get("count")),
                )
            })
            .collect();
        cells.push(if mine.is_empty() {
            // No lines: the category's total alone, unless it is nought.
            let total = txt(totals.get(key));
            if total.is_empty() || total == "0" {
                json!([])
            } else {
                json!({ "center": total })
            }
        } else {
            cell(&mut mine.into_iter())
        });
    }
    cells.push(cell(
        &mut justification
            .split('\n')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_owned),
    ));

    let mut out = fields.clone();
    out.insert("cells".into(), Value::Array(cells));
    out.insert(
        "long".into(),
        Value::Bool(justification.len() > LONG_JUSTIFICATION || lines.len() > MANY_LINES),
    );
    Value::Object(out)
}

/// «code name — N» for one occupation line of a category cell.
fn occupation_label(code: &str, name: &str, count: &str) -> String {
    let label = if !code.is_empty() && !name.is_empty() {
        format!("{code} {name}")
    } else {
        format!("{code}{name}")
    };
    if count.is_empty() {
        label
    } else {
        format!("{label}\u{00A0}—\u{00A0}{count}")
    }
}

/// A paragraph as segments: runs of words set as they are, and each piece of a long
/// word (split after its hyphens, so that a line may end there) to be fitted.
fn segments(text: &str, face: Option<&Face>) -> Value {
    let mut out = Vec::new();
    let mut run = String::new();
    for (i, word) in text.split(' ').enumerate() {
        if i > 0 {
            run.push(' ');
        }
        if word.graphemes(true).count() < LONG_WORD_CLUSTERS {
            run.push_str(word);
            continue;
        }
        let mut pieces = word.split('-').peekable();
        while let Some(piece) = pieces.next() {
            let hyphen = if pieces.peek().is_some() { "-" } else { "" };
            if piece.graphemes(true).count() + hyphen.len() < LONG_WORD_CLUSTERS {
                run.push_str(piece);
                run.push_str(hyphen);
            } else {
                if !run.is_empty() {
                    out.push(Value::String(std::mem::take(&mut run)));
                }
                let piece = format!("{piece}{hyphen}");
                out.push(match face.and_then(|f| em_bound(f, &piece)) {
                    Some(em) => json!({ "fit": piece, "em": em }),
                    None => json!({ "fit": piece }),
                });
            }
        }
    }
    if !run.is_empty() {
        out.push(Value::String(run));
    }
    Value::Array(out)
}

/// At least the width of `piece` set in `face`, in ems: the sum of its glyphs' advances
/// and [`EM_SLACK`], rounded up to a thousandth. `None` when the font lacks one of its
/// characters (Typst then takes it from another font).
fn em_bound(face: &Face, piece: &str) -> Option<f64> {
    let mut units = 0u32;
    for c in piece.chars() {
        units += u32::from(face.glyph_hor_advance(face.glyph_index(c)?)?);
    }
    let em = f64::from(units) / f64::from(face.units_per_em());
    Some((1000.0 * (em * (1.0 + EM_SLACK.0) + EM_SLACK.1)).ceil() / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_words_are_marked_and_the_text_is_kept() {
        let s = "Заявка № 1: электрогазосварщики-монтажники и кран, т. е. 14-ҚҰ/2026";
        let segs = segments(s, None);
        let text: String = segs
            .as_array()
            .unwrap()
            .iter()
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other["fit"].as_str().unwrap().to_owned(),
            })
            .collect();
        assert_eq!(text, s);
        assert_eq!(
            segs,
            json!([
                "Заявка № 1: ",
                {"fit": "электрогазосварщики-"},
                {"fit": "монтажники"},
                " и кран, т. е. 14-ҚҰ/2026"
            ])
        );
    }

    #[test]
    fn a_row_gets_its_cells_in_the_forms_order() {
        let m: serde_json::Value =
            serde_json::from_str(include_str!("../../templates/sample/appendix2.json")).unwrap();
        let p = prepared("appendix2.typ", &m, None);
        let row = &p["rows"][0];
        let cells = row["cells"].as_array().unwrap();
        assert_eq!(cells.len(), 7);
        assert_eq!(row["long"], json!(true));
        // Column 2: name, address, «БИН 0401…»; category 2 has no lines and a nought.
        assert_eq!(cells[0].as_array().unwrap().len(), 3);
        assert_eq!(cells[0][2], json!([{"fit": "БИН\u{00A0}040140001236"}]));
        assert_eq!(cells[2], json!([]));
        assert_eq!(
            cells[3],
            json!([["2142 Инженер-", {"fit": "строитель\u{00A0}—\u{00A0}10"}]])
        );
        // Column 9: one paragraph per line of the justification.
        assert_eq!(cells[6].as_array().unwrap().len(), 2);
        // Other templates' data is passed as it is.
        assert!(matches!(
            prepared("appendix1.typ", &m, None),
            Cow::Borrowed(_)
        ));
    }
}
