//! The Typst world of one rendering: templates, the data file, the QR image and fonts.

use std::collections::HashMap;
use std::path::PathBuf;

use chrono::{DateTime, Datelike, FixedOffset};
use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime, Duration};
use typst::syntax::{DiagSpan, FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook, FontVariant};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World, WorldExt};

use super::{RenderError, TEMPLATES};

/// What every rendering shares: the standard library and the fonts.
pub(super) struct Shared {
    library: LazyHash<Library>,
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
    pub(super) templates_dir: Option<PathBuf>,
    /// The forms' body font, regular ([`BODY_FONT`]), if it is among the fonts.
    body: Option<Font>,
    /// Parsed templates by name, reused while their text is unchanged: parsing every
    /// template for every document cost more than laying out a one-page form.
    parsed: std::sync::Mutex<HashMap<String, Source>>,
}

/// The family the forms' text is set in (`set text(font: …)` in templates/layout.typ),
/// as the font book names it.
const BODY_FONT: &str = "libertinus serif";

impl Shared {
    /// The forms' body font, regular.
    pub(super) fn body_font(&self) -> Option<&Font> {
        self.body.as_ref()
    }

    pub(super) fn new(
        templates_dir: Option<PathBuf>,
        fonts_dir: Option<PathBuf>,
    ) -> Result<Self, RenderError> {
        let mut fonts: Vec<Font> = typst_assets::fonts()
            .flat_map(|data| Font::iter(Bytes::new(data)))
            .collect();
        if let Some(dir) = &fonts_dir {
            let entries = std::fs::read_dir(dir)
                .map_err(|e| RenderError::Fonts(format!("{}: {e}", dir.display())))?;
            let mut paths: Vec<PathBuf> =
                entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
            // A stable order keeps font selection, and so the output, deterministic.
            paths.sort();
            for path in paths {
                let ext = path
                    .extension()
                    .and_then(|e| e.to_str())
                    .unwrap_or_default();
                if matches!(
                    ext.to_ascii_lowercase().as_str(),
                    "ttf" | "otf" | "ttc" | "otc"
                ) {
                    let data = std::fs::read(&path)
                        .map_err(|e| RenderError::Fonts(format!("{}: {e}", path.display())))?;
                    fonts.extend(Font::iter(Bytes::new(data)));
                }
            }
        }
        if fonts.is_empty() {
            return Err(RenderError::Fonts("no fonts are available".into()));
        }
        let book = FontBook::from_fonts(&fonts);
        let body = book
            .select(BODY_FONT, FontVariant::default())
            .and_then(|i| fonts.get(i).cloned());
        Ok(Self {
            library: LazyHash::new(Library::default()),
            book: LazyHash::new(book),
            body,
            fonts,
            templates_dir,
            parsed: Default::default(),
        })
    }

    /// A template parsed, from the cache if its text has not changed.
    fn source(&self, name: &str, id: FileId) -> Option<Source> {
        let text = self.template(name)?;
        let mut parsed = self.parsed.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(source) = parsed.get(name)
            && source.id() == id
            && source.text() == text
        {
            return Some(source.clone());
        }
        let source = Source::new(id, text);
        parsed.insert(name.to_owned(), source.clone());
        Some(source)
    }

    /// A template's text: the operator's copy if there is one, else the built-in one.
    fn template(&self, name: &str) -> Option<String> {
        if let Some(dir) = &self.templates_dir
            && let Ok(text) = std::fs::read_to_string(dir.join(name))
        {
            return Some(text);
        }
        TEMPLATES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, text)| (*text).to_owned())
    }
}

pub(super) struct FormWorld<'a> {
    shared: &'a Shared,
    main: FileId,
    sources: HashMap<FileId, Source>,
    files: HashMap<FileId, Bytes>,
    today: DateTime<FixedOffset>,
}

fn file_id(path: &str) -> FileId {
    FileId::new(RootedPath::new(
        VirtualRoot::Project,
        VirtualPath::new(path).expect("static virtual path"),
    ))
}

impl<'a> FormWorld<'a> {
    pub(super) fn new(
        shared: &'a Shared,
        template: &str,
        data: Vec<u8>,
        qr_svg: Vec<u8>,
        today: DateTime<FixedOffset>,
    ) -> Result<Self, RenderError> {
        let mut sources = HashMap::new();
        // Every template is visible so one may import another (the shared layout).
        for (name, _) in TEMPLATES {
            let id = file_id(&format!("/{name}"));
            if let Some(source) = shared.source(name, id) {
                sources.insert(id, source);
            }
        }
        let main = file_id(&format!("/{template}"));
        if let std::collections::hash_map::Entry::Vacant(slot) = sources.entry(main) {
            let source = shared
                .source(template, main)
                .ok_or_else(|| RenderError::Template {
                    template: template.into(),
                    message: "no such template".into(),
                })?;
            slot.insert(source);
        }
        let mut files = HashMap::new();
        files.insert(file_id("/data.json"), Bytes::new(data));
        files.insert(file_id("/qr.svg"), Bytes::new(qr_svg));
        Ok(Self {
            shared,
            main,
            sources,
            files,
            today,
        })
    }

    /// "file.typ:12: " for a span, to point at the template line of an error.
    pub(super) fn locate(&self, span: DiagSpan) -> Option<String> {
        let id = span.id()?;
        let source = self.sources.get(&id)?;
        let range = self.range(span)?;
        let line = source.lines().byte_to_line(range.start)? + 1;
        Some(format!("{}:{line}: ", id.vpath().get_without_slash()))
    }
}

impl World for FormWorld<'_> {
    fn library(&self) -> &LazyHash<Library> {
        &self.shared.library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &self.shared.book
    }

    fn main(&self) -> FileId {
        self.main
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        self.sources
            .get(&id)
            .cloned()
            .ok_or_else(|| FileError::NotFound(id.vpath().get_with_slash().into()))
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if let Some(source) = self.sources.get(&id) {
            return Ok(Bytes::from_string(source.clone()));
        }
        self.files
            .get(&id)
            .cloned()
            .ok_or_else(|| FileError::NotFound(id.vpath().get_with_slash().into()))
    }

    fn font(&self, index: usize) -> Option<Font> {
        self.shared.fonts.get(index).cloned()
    }

    fn today(&self, offset: Option<Duration>) -> Option<Datetime> {
        let t = match offset {
            Some(o) => {
                let secs = i32::try_from(o.seconds() as i64).ok()?;
                self.today.with_timezone(&FixedOffset::east_opt(secs)?)
            }
            None => self.today,
        };
        Datetime::from_ymd(t.year(), t.month() as u8, t.day() as u8)
    }
}
