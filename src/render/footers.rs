//! The page numbers of a form laid out in one piece, written by the service.
//!
//! «Страница N из M» needs the page count, which Typst knows only once the document is
//! laid out: a footer with a page counter (or any introspection) makes Typst lay every
//! document out a second time, to check the numbers the first pass showed. Under load
//! that second pass was ~13 % of the CPU of issuing an Appendix 1. Instead, the
//! templates' footer sets a placeholder, «Страница 0 из 0» (`page-numbers-placeholder`
//! in templates/layout.typ), which Typst lays out like any text, once. Here, with the
//! pages counted, each page's zeros become its number and the count, in the glyphs and
//! advances of the same font, the line's right edge where Typst put it (the footer sets
//! it flush right). A form of one page loses the line, as Typst's footer shows it only
//! from two pages on.
//!
//! Only a text run that is exactly the placeholder, and lies in the page's bottom
//! quarter, is taken for one: a template that numbers its pages itself (an operator's
//! copy of the older layout) is left alone. The digits are the font's own glyphs at
//! their advances, not shaped again: a template that sets tracking or number features
//! on its footer would see them differ from Typst's.

use typst::layout::{Abs, Em, Frame, FrameItem, Point, Transform};
use typst::model::Document as _;
use typst::text::{Glyph, TextItem};
use typst_layout::{Page, PagedDocument};

/// The footer's placeholder, as the templates set it.
pub(super) const PLACEHOLDER: &str = "Страница 0 из 0";

/// Where on a page a placeholder is taken for the footer's: in its bottom quarter, below
/// the body of any form (Typst sets a footer in the bottom margin, at ~70 % of its height).
const FOOTER_ZONE: f64 = 0.75;

/// The document with its pages numbered; as it was when no page has the placeholder.
/// The numbers are the page counter's, as the older footer showed them: each page's
/// logical number, and the last page's as the count. A form whose pages are numbered on
/// some pages only is an error (a footer the placeholder did not reach as set).
pub(super) fn number_pages(document: PagedDocument) -> Result<PagedDocument, String> {
    let Some(total) = document.pages().last().map(|p| p.number as usize) else {
        return Ok(document);
    };
    let mut numbered = 0;
    let mut pages = Vec::with_capacity(document.pages().len());
    for page in document.pages() {
        let floor = page.frame.height() * FOOTER_ZONE;
        let number = page.number as usize;
        let frame = numbered_frame(&page.frame, Transform::identity(), floor, number, total)?;
        numbered += usize::from(frame.is_some());
        pages.push(match frame {
            Some(frame) => Page {
                frame,
                ..page.clone()
            },
            None => page.clone(),
        });
    }
    if numbered == 0 {
        return Ok(document);
    }
    if numbered != pages.len() {
        return Err(format!(
            "the footer's placeholder {PLACEHOLDER:?} was found on {numbered} of {} pages",
            pages.len()
        ));
    }
    Ok(PagedDocument::new(
        pages.into_iter().collect(),
        document.info().clone(),
    ))
}

/// `frame` (at `ts` on the page) with its placeholders numbered, or `None` when it has
/// none. Only the frames on the way to a placeholder are copied.
fn numbered_frame(
    frame: &Frame,
    ts: Transform,
    floor: Abs,
    number: usize,
    total: usize,
) -> Result<Option<Frame>, String> {
    let mut changed: Vec<(usize, Option<(Point, FrameItem)>)> = Vec::new();
    for (i, (pos, item)) in frame.items().enumerate() {
        match item {
            FrameItem::Group(group) => {
                let inner = ts
                    .pre_concat(Transform::translate(pos.x, pos.y))
                    .pre_concat(group.transform);
                if let Some(inner) = numbered_frame(&group.frame, inner, floor, number, total)? {
                    let mut group = group.clone();
                    group.frame = inner;
                    changed.push((i, Some((*pos, FrameItem::Group(group)))));
                }
            }
            FrameItem::Text(text) if text.text == PLACEHOLDER && pos.transform(ts).y > floor => {
                let replacement = if total > 1 {
                    let numbered = numbered_text(text, &[number, total])?;
                    // Flush right: the right edge stays.
                    let shift = text.width() - numbered.width();
                    Some((*pos + Point::with_x(shift), FrameItem::Text(numbered)))
                } else {
                    None
                };
                changed.push((i, replacement));
            }
            _ => {}
        }
    }
    if changed.is_empty() {
        return Ok(None);
    }
    let mut changed = changed.into_iter().peekable();
    let mut items = Vec::with_capacity(frame.items().len());
    for (i, item) in frame.items().enumerate() {
        match changed.next_if(|(at, _)| *at == i) {
            Some((_, replacement)) => items.extend(replacement),
            None => items.push(item.clone()),
        }
    }
    let mut out = frame.clone();
    out.clear();
    out.push_multiple(items);
    Ok(Some(out))
}

/// The placeholder's run with its zeros, in order, replaced by `numbers`: the other
/// glyphs as Typst shaped them, each digit the font's glyph at its advance.
fn numbered_text(placeholder: &TextItem, numbers: &[usize]) -> Result<TextItem, String> {
    let mut numbers = numbers.iter().map(|n| n.to_string());
    let mut text = String::new();
    let mut glyphs = Vec::with_capacity(placeholder.glyphs.len() + 4);
    for glyph in &placeholder.glyphs {
        let piece = &placeholder.text[glyph.range()];
        if piece != "0" {
            let start = text.len() as u16;
            text.push_str(piece);
            glyphs.push(Glyph {
                range: start..text.len() as u16,
                ..glyph.clone()
            });
            continue;
        }
        let digits = numbers
            .next()
            .ok_or("the placeholder has more zeros than numbers")?;
        for c in digits.chars() {
            let id = placeholder
                .font
                .ttf()
                .glyph_index(c)
                .ok_or_else(|| format!("the footer's font has no glyph for {c:?}"))?
                .0;
            let start = text.len() as u16;
            text.push(c);
            glyphs.push(Glyph {
                id,
                x_advance: placeholder.font.x_advance(id).unwrap_or(Em::zero()),
                x_offset: Em::zero(),
                y_advance: Em::zero(),
                y_offset: Em::zero(),
                range: start..text.len() as u16,
                span: glyph.span,
            });
        }
    }
    if numbers.next().is_some() {
        return Err("the placeholder has fewer zeros than numbers".into());
    }
    Ok(TextItem {
        text: text.into(),
        glyphs,
        ..placeholder.clone()
    })
}
