//! The frame of every page (language switch, navigation, footer) and the small pieces
//! the pages share: times, numbers, verdict badges.

use chrono::{DateTime, NaiveDate, Utc};
use maud::{DOCTYPE, Markup, html};

use super::i18n::{Lang, Words};
use crate::domain::almaty;
use crate::sign::verify::{Indication, Verdict};

/// Where a page is, for the language switch and the links that keep the language.
#[derive(Debug, Clone)]
pub struct Here<'a> {
    pub lang: Lang,
    /// The path, without a query.
    pub path: &'a str,
}

impl Here<'_> {
    pub fn w(&self) -> &'static Words {
        self.lang.words()
    }

    /// `path` in this page's language.
    pub fn link(&self, path: &str) -> String {
        format!("{path}?lang={}", self.lang.code())
    }
}

/// A whole page: `title` in `<title>` and `<h1>`, `body` in `<main>`.
pub fn page(here: &Here, title: &str, body: Markup) -> Markup {
    let w = here.w();
    html! {
        (DOCTYPE)
        html lang=(here.lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — " (w.site) }
                link rel="stylesheet" href="/static/kvota.css";
                link rel="icon" href="/static/favicon.svg" type="image/svg+xml";
            }
            body {
                a.skip href="#main" { (w.skip) }
                header {
                    div.bar {
                        a.site href=(here.link("/")) { (w.site) }
                        nav aria-label=(w.language) {
                            ul.langs {
                                @for l in Lang::ALL {
                                    li {
                                        @if l == here.lang {
                                            span aria-current="true" lang=(l.code()) { (l.own_name()) }
                                        } @else {
                                            a href=(format!("{}?lang={}", here.path, l.code()))
                                                lang=(l.code()) hreflang=(l.code()) { (l.own_name()) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    nav.main aria-label=(w.site) {
                        ul {
                            li { a href=(here.link("/decisions")) { (w.nav_decisions) } }
                            li { a href=(here.link("/verify")) { (w.nav_verify) } }
                        }
                    }
                }
                main #main {
                    h1 { (title) }
                    (body)
                }
                footer { p { (w.ministry) } }
            }
        }
    }
}

/// An instant in Almaty time, as people there read it.
pub fn time(t: DateTime<Utc>) -> String {
    t.with_timezone(&almaty())
        .format("%d.%m.%Y %H:%M:%S (UTC+5)")
        .to_string()
}

pub fn date(d: NaiveDate) -> String {
    d.format("%d.%m.%Y").to_string()
}

/// A machine-readable `<time>` element.
pub fn time_el(t: DateTime<Utc>) -> Markup {
    html! { time datetime=(t.to_rfc3339()) { (time(t)) } }
}

/// A whole number with thin spaces between thousands, as Kazakh and Russian write it.
pub fn number(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 * 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{202F}');
        }
        out.push(c);
    }
    out
}

/// A verdict as a badge: the words, and the ETSI indication for those who read them.
pub fn verdict(w: &Words, v: Verdict) -> Markup {
    let (class, words) = match v.indication {
        Indication::TotalPassed => ("ok", w.holds),
        Indication::TotalFailed => ("bad", w.fails),
        Indication::Indeterminate => ("warn", w.undecided),
    };
    html! {
        span class=(format!("badge {class}")) { (words) }
        " "
        code.indication {
            (v.indication.as_str())
            @if let Some(s) = v.sub_indication { " / " (s.as_str()) }
        }
    }
}

/// A definition list row.
pub fn row(term: &str, value: Markup) -> Markup {
    html! { dt { (term) } dd { (value) } }
}

/// Text that may break anywhere (digests, identifiers).
pub fn mono(s: &str) -> Markup {
    html! { code.mono { (s) } }
}

/// The page for a path or code that does not exist.
pub fn not_found(here: &Here) -> Markup {
    let w = here.w();
    page(
        here,
        w.not_found_title,
        html! {
            p { (w.not_found) }
            p { a href=(here.link("/")) { (w.back_home) } }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped_with_thin_spaces() {
        assert_eq!(number(0), "0");
        assert_eq!(number(999), "999");
        assert_eq!(number(1_000), "1\u{202F}000");
        assert_eq!(number(29_100), "29\u{202F}100");
        assert_eq!(number(1_234_567), "1\u{202F}234\u{202F}567");
    }

    #[test]
    fn a_page_sets_its_language_and_escapes_what_it_shows() {
        let here = Here {
            lang: Lang::Ru,
            path: "/decisions",
        };
        let html = page(&here, "<script>", html! { p { "x" } }).into_string();
        assert!(
            html.starts_with("<!DOCTYPE html><html lang=\"ru\">"),
            "{html}"
        );
        assert!(html.contains("&lt;script&gt;"));
        assert!(!html.contains("<script"));
        assert!(
            html.contains("href=\"/decisions?lang=kk\""),
            "the switch keeps the path"
        );
    }
}
