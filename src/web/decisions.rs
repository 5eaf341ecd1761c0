//! The published decisions (p. 19, 21): the list by year, each version's figures as
//! tables, and the same figures and the sealed files to download.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Serialize;

use super::pages::{self, Here, number, page, time_el};
use super::{Page, WebError, WebState};
use crate::domain::quota::{CATEGORIES, RESERVE};
use crate::process::paging::PageRequest;
use crate::process::public::{self, Blob};
use crate::process::publication::{self, PublishedDecision};

/// Every published version, all years (the list is short: a few versions a year).
async fn all_versions(s: &WebState) -> Result<Vec<PublishedDecision>, WebError> {
    let mut out = Vec::new();
    let mut token = String::new();
    loop {
        let page = PageRequest {
            size: 500,
            token: token.clone(),
        };
        let found = publication::list_published(&s.ctx, None, &page).await?;
        out.extend(found.items);
        if found.next_page_token.is_empty() {
            return Ok(out);
        }
        token = found.next_page_token;
    }
}

fn years(d: &PublishedDecision) -> String {
    d.quota_years
        .iter()
        .map(i32::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn first_year(d: &PublishedDecision) -> u32 {
    d.quota_years
        .first()
        .and_then(|y| u32::try_from(*y).ok())
        .unwrap_or(0)
}

fn version_path(d: &PublishedDecision) -> String {
    format!("/decisions/{}/v/{}", first_year(d), d.version)
}

/// Whether it was published on time (p. 19; redistributions have no deadline).
fn timeliness(here: &Here, d: &PublishedDecision) -> Markup {
    let w = here.w();
    html! {
        @if d.late {
            span.badge.bad { (w.late) }
        } @else {
            span.badge.ok { (w.on_time) }
        }
        @if let (1, Some(due)) = (d.version, d.publish_due_date) {
            " (" (w.due) ": " (pages::date(due)) ")"
        }
    }
}

/// `/` and `/decisions`: the decisions by year, newest first, with their versions.
pub async fn list(State(s): State<WebState>, p: Page) -> Result<Response, WebError> {
    let here = p.here();
    let w = here.w();
    let mut by_quota: BTreeMap<(u32, String), Vec<PublishedDecision>> = BTreeMap::new();
    for d in all_versions(&s).await? {
        by_quota
            .entry((first_year(&d), d.quota.to_string()))
            .or_default()
            .push(d);
    }
    let body = html! {
        p { (w.decisions_intro) }
        @if by_quota.is_empty() {
            p { (w.no_decisions) }
        }
        @for versions in by_quota.values().rev() {
            @let latest = versions.last().expect("a quota listed has a version");
            section aria-labelledby=(format!("y{}", first_year(latest))) {
                h2 id=(format!("y{}", first_year(latest))) {
                    a href=(here.link(&format!("/decisions/{}", first_year(latest)))) {
                        (w.decision_title) " — " (years(latest))
                    }
                }
                @if !latest.order_number.is_empty() {
                    p { (w.order) " " @if let Some(d) = latest.order_date { (pages::date(d)) " " } (w.order_of) " " (latest.order_number) }
                }
                table {
                    caption { (w.version) }
                    thead { tr { th scope="col" { (w.version) } th scope="col" { (w.published) } th scope="col" { "" } } }
                    tbody {
                        @for d in versions.iter().rev() {
                            tr {
                                th scope="row" {
                                    a href=(here.link(&version_path(d))) {
                                        (w.version) " " (d.version) ", "
                                        @if d.version == 1 { (w.first_version) } @else { (w.redistribution) }
                                    }
                                }
                                td { (time_el(d.publish_time)) }
                                td { (timeliness(&here, d)) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(s.html(page(&here, w.decisions_title, body)))
}

/// `/decisions/{year}`: the latest version.
pub async fn latest(
    State(s): State<WebState>,
    Path(year): Path<String>,
    p: Page,
) -> Result<Response, WebError> {
    decision_page(&s, &p, &year, "0").await
}

/// `/decisions/{year}/v/{n}`.
pub async fn version(
    State(s): State<WebState>,
    Path((year, version)): Path<(String, String)>,
    p: Page,
) -> Result<Response, WebError> {
    decision_page(&s, &p, &year, &version).await
}

fn parse_year_version(year: &str, version: &str) -> Result<(u32, u32), WebError> {
    let year: u32 = year.parse().map_err(|_| WebError::NotFound)?;
    let version: u32 = version.parse().map_err(|_| WebError::NotFound)?;
    Ok((year, version))
}

async fn decision_page(
    s: &WebState,
    p: &Page,
    year: &str,
    version: &str,
) -> Result<Response, WebError> {
    let (year, version) = parse_year_version(year, version)?;
    let d = publication::get_published(&s.ctx, year, version).await?;
    let doc = public::document_row(&s.ctx, &d.document).await?;
    let regions = public::region_names(&s.ctx).await?;
    let countries = public::country_names(&s.ctx).await?;
    let siblings = publication::list_published(
        &s.ctx,
        Some(year),
        &PageRequest {
            size: 500,
            token: String::new(),
        },
    )
    .await?
    .items;
    let here = p.here();
    let w = here.w();
    let region = |code: &str| -> String {
        if code == RESERVE {
            return w.from_reserve.to_owned();
        }
        regions.get(code).map_or_else(
            || code.to_owned(),
            |(ru, kk)| match here.lang {
                super::i18n::Lang::Kk => kk.clone(),
                super::i18n::Lang::Ru => ru.clone(),
            },
        )
    };
    let country = |code: &str| -> String {
        countries
            .get(code)
            .map_or_else(|| code.to_owned(), |n| format!("{n} ({code})"))
    };
    let base = version_path(&d);
    let title = format!("{} — {}", w.decision_title, years(&d));
    let body = html! {
        dl.facts {
            (pages::row(w.version, html! {
                (d.version) ", "
                @if d.version == 1 { (w.first_version) } @else { (w.redistribution) }
            }))
            @if !d.order_number.is_empty() {
                (pages::row(w.order, html! {
                    @if let Some(date) = d.order_date { (pages::date(date)) " " }
                    (w.order_of) " " (d.order_number)
                }))
            }
            (pages::row(w.published, html! { (time_el(d.publish_time)) " " (timeliness(&here, &d)) }))
        }
        nav aria-label=(w.other_versions) {
            h2 { (w.other_versions) }
            ul.versions {
                @for v in &siblings {
                    li {
                        @if v.version == d.version {
                            span aria-current="page" { (w.version) " " (v.version) }
                        } @else {
                            a href=(here.link(&version_path(v))) { (w.version) " " (v.version) }
                        }
                    }
                }
            }
        }
        section aria-labelledby="downloads" {
            h2 #downloads { (w.downloads) }
            ul.downloads {
                li { a href=(format!("{base}/decision.pdf")) download { (w.download_pdf) } }
                li { a href=(format!("{base}/decision.pdf.p7s")) download { (w.download_cms) } }
                li { a href=(format!("{base}/figures.csv")) download { (w.download_csv) } }
                li { a href=(format!("{base}/figures.json")) download { (w.download_json) } }
                li { a href=(here.link(&format!("/v/{}", doc.public_code))) { (w.verify_link) } }
            }
        }
        section aria-labelledby="parts" {
            h2 #parts { (w.parts) }
            div.scroll {
                table {
                    thead { tr {
                        th scope="col" { (w.part) } th.num scope="col" { (w.percent) }
                        th.num scope="col" { (w.ceiling) } th.num scope="col" { (w.requested) }
                        th.num scope="col" { (w.allocated) } th.num scope="col" { (w.reserve) }
                    } }
                    tbody {
                        @for part in &d.parts {
                            tr {
                                th scope="row" { (w.part(part.part.code())) }
                                td.num { (part.percent) " %" }
                                td.num { (number(part.ceiling)) }
                                td.num { (number(part.requested)) }
                                td.num { (number(part.allocated)) }
                                td.num { (number(part.reserve)) }
                            }
                        }
                    }
                }
            }
        }
        (category_table(&here, &d, "PERMITS", "permits", &region, &|_| String::new()))
        (category_table(&here, &d, "COUNTRIES", "countries", &region, &country))
        (immigrants_table(&here, &d, &region))
        @if !d.moves.is_empty() {
            section aria-labelledby="moves" {
                h2 #moves { (w.moves) }
                div.scroll {
                    table {
                        thead { tr {
                            th scope="col" { (w.move_from) } th scope="col" { (w.move_to) }
                            th scope="col" { (w.part) } th scope="col" { (w.category) }
                            th scope="col" { (w.country) } th.num scope="col" { (w.count) }
                            th scope="col" { (w.basis) }
                        } }
                        tbody {
                            @for m in &d.moves {
                                tr {
                                    td { (region(&m.from_region)) }
                                    td { (region(&m.to_region)) }
                                    td { (w.part(m.part.code())) }
                                    td { (w.category(&m.category)) }
                                    td { @if m.country_code.is_empty() { (w.dash) } @else { (country(&m.country_code)) } }
                                    td.num { (number(m.count)) }
                                    td { (m.basis) }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(s.html(page(&here, &title, body)))
}

/// A part with categories (permits; countries, by country too) as one table: a row per
/// region (and country), a column per category, totals last.
fn category_table(
    here: &Here,
    d: &PublishedDecision,
    part: &str,
    id: &str,
    region: &dyn Fn(&str) -> String,
    country: &dyn Fn(&str) -> String,
) -> Markup {
    let w = here.w();
    let mut rows: BTreeMap<(String, String), [u64; 5]> = BTreeMap::new();
    for c in d.cells.iter().filter(|c| c.part.code() == part) {
        let Some(i) = CATEGORIES.iter().position(|k| *k == c.category) else {
            continue;
        };
        rows.entry((c.region_code.clone(), c.country_code.clone()))
            .or_default()[i] += c.granted;
    }
    let by_country = part == "COUNTRIES";
    let mut totals = [0u64; 5];
    for r in rows.values() {
        for (t, v) in totals.iter_mut().zip(r) {
            *t += v;
        }
    }
    html! {
        section aria-labelledby=(id) {
            h2 id=(id) { (w.part(part)) }
            div.scroll {
                table {
                    thead { tr {
                        th scope="col" { (w.region) }
                        @if by_country { th scope="col" { (w.country) } }
                        @for k in CATEGORIES { th.num scope="col" { (w.category(k)) } }
                        th.num scope="col" { (w.total) }
                    } }
                    tbody {
                        @for ((r, c), v) in &rows {
                            tr {
                                th scope="row" { (region(r)) }
                                @if by_country { td { (country(c)) } }
                                @for n in v { td.num { (number(*n)) } }
                                td.num { (number(v.iter().sum())) }
                            }
                        }
                    }
                    tfoot { tr {
                        th scope="row" colspan=(if by_country { 2 } else { 1 }) { (w.total) }
                        @for n in totals { td.num { (number(n)) } }
                        td.num { (number(totals.iter().sum())) }
                    } }
                }
            }
        }
    }
}

fn immigrants_table(here: &Here, d: &PublishedDecision, region: &dyn Fn(&str) -> String) -> Markup {
    let w = here.w();
    let mut rows: BTreeMap<String, u64> = BTreeMap::new();
    for c in d.cells.iter().filter(|c| c.part.code() == "IMMIGRANTS") {
        *rows.entry(c.region_code.clone()).or_default() += c.granted;
    }
    html! {
        section aria-labelledby="immigrants" {
            h2 #immigrants { (w.part("IMMIGRANTS")) }
            div.scroll {
                table {
                    thead { tr { th scope="col" { (w.region) } th.num scope="col" { (w.granted) } } }
                    tbody {
                        @for (r, n) in &rows {
                            tr { th scope="row" { (region(r)) } td.num { (number(*n)) } }
                        }
                    }
                    tfoot { tr { th scope="row" { (w.total) } td.num { (number(rows.values().sum())) } } }
                }
            }
        }
    }
}

/// The open data of one version: what the decision's tables show, one object per cell.
#[derive(Serialize)]
struct Figures<'a> {
    quota_years: &'a [i32],
    version: u32,
    order_number: &'a str,
    order_date: Option<String>,
    publish_time: String,
    late: bool,
    document_sha256: &'a str,
    parts: Vec<PartFigures<'a>>,
    cells: Vec<CellFigures<'a>>,
    moves: Vec<MoveFigures<'a>>,
}

#[derive(Serialize)]
struct PartFigures<'a> {
    part: &'static str,
    percent: &'a str,
    ceiling: u64,
    requested: u64,
    allocated: u64,
    reserve: u64,
}

#[derive(Serialize)]
struct CellFigures<'a> {
    region_code: &'a str,
    region_name_ru: &'a str,
    region_name_kk: &'a str,
    part: &'static str,
    category: &'a str,
    country_code: &'a str,
    requested: u64,
    granted: u64,
}

#[derive(Serialize)]
struct MoveFigures<'a> {
    from_region: &'a str,
    to_region: &'a str,
    part: &'static str,
    category: &'a str,
    country_code: &'a str,
    count: u64,
    basis: &'a str,
}

/// What a download is: the sealed PDF, its detached CMS, or the figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Download {
    Pdf,
    Cms,
    Csv,
    Json,
}

impl Download {
    fn parse(file: &str) -> Option<Self> {
        Some(match file {
            "decision.pdf" => Self::Pdf,
            "decision.pdf.p7s" => Self::Cms,
            "figures.csv" => Self::Csv,
            "figures.json" => Self::Json,
            _ => return None,
        })
    }
}

/// `/decisions/{year}/v/{n}/{file}`: `decision.pdf`, `decision.pdf.p7s`, `figures.csv`,
/// `figures.json`.
pub async fn download(
    State(s): State<WebState>,
    Path((year, version, file)): Path<(String, String, String)>,
) -> Result<Response, WebError> {
    let (year, version) = parse_year_version(&year, &version)?;
    let what = Download::parse(&file).ok_or(WebError::NotFound)?;
    if version == 0 {
        return Err(WebError::NotFound);
    }
    let d = publication::get_published(&s.ctx, year, version).await?;
    let stem = format!("kvota-decision-{year}-v{version}");
    let attachment = |name: String| format!("attachment; filename=\"{name}\"");
    let response = match what {
        Download::Pdf | Download::Cms => {
            let doc = public::document_row(&s.ctx, &d.document).await?;
            let blob = if what == Download::Pdf {
                Blob::Pdf
            } else {
                Blob::Cms
            };
            let (_, bytes) = public::public_bytes(&s.ctx, &doc.public_code, blob).await?;
            let (mime, name) = if what == Download::Pdf {
                ("application/pdf", format!("{stem}.pdf"))
            } else {
                ("application/pkcs7-signature", format!("{stem}.pdf.p7s"))
            };
            (
                [
                    (header::CONTENT_TYPE, mime.to_owned()),
                    (header::CONTENT_DISPOSITION, attachment(name)),
                ],
                bytes,
            )
                .into_response()
        }
        Download::Csv | Download::Json => {
            let doc = public::document_row(&s.ctx, &d.document).await?;
            let regions = public::region_names(&s.ctx).await?;
            let figures = figures(&d, &doc.sha256, &regions);
            if what == Download::Json {
                let body = serde_json::to_vec_pretty(&figures)
                    .map_err(|e| WebError::Internal(e.to_string()))?;
                (
                    [
                        (header::CONTENT_TYPE, "application/json".to_owned()),
                        (
                            header::CONTENT_DISPOSITION,
                            attachment(format!("{stem}.json")),
                        ),
                    ],
                    body,
                )
                    .into_response()
            } else {
                (
                    [
                        (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                        (
                            header::CONTENT_DISPOSITION,
                            attachment(format!("{stem}.csv")),
                        ),
                    ],
                    csv(&figures.cells),
                )
                    .into_response()
            }
        }
    };
    Ok(response)
}

fn figures<'a>(
    d: &'a PublishedDecision,
    sha256: &'a str,
    regions: &'a BTreeMap<String, (String, String)>,
) -> Figures<'a> {
    let names = |code: &str| -> (&'a str, &'a str) {
        regions
            .get(code)
            .map_or(("", ""), |(ru, kk)| (ru.as_str(), kk.as_str()))
    };
    Figures {
        quota_years: &d.quota_years,
        version: d.version,
        order_number: &d.order_number,
        order_date: d.order_date.map(|d| d.to_string()),
        publish_time: d.publish_time.to_rfc3339(),
        late: d.late,
        document_sha256: sha256,
        parts: d
            .parts
            .iter()
            .map(|p| PartFigures {
                part: p.part.code(),
                percent: &p.percent,
                ceiling: p.ceiling,
                requested: p.requested,
                allocated: p.allocated,
                reserve: p.reserve,
            })
            .collect(),
        cells: d
            .cells
            .iter()
            .map(|c| {
                let (ru, kk) = names(&c.region_code);
                CellFigures {
                    region_code: &c.region_code,
                    region_name_ru: ru,
                    region_name_kk: kk,
                    part: c.part.code(),
                    category: &c.category,
                    country_code: &c.country_code,
                    requested: c.requested,
                    granted: c.granted,
                }
            })
            .collect(),
        moves: d
            .moves
            .iter()
            .map(|m| MoveFigures {
                from_region: &m.from_region,
                to_region: &m.to_region,
                part: m.part.code(),
                category: &m.category,
                country_code: &m.country_code,
                count: m.count,
                basis: &m.basis,
            })
            .collect(),
    }
}

/// RFC 4180 CSV of the cells, with a header row.
fn csv(cells: &[CellFigures]) -> String {
    fn field(s: &str) -> String {
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_owned()
        }
    }
    let mut out = String::from(
        "region_code,region_name_ru,region_name_kk,part,category,country_code,requested,granted\r\n",
    );
    for c in cells {
        out.push_str(
            &[
                field(c.region_code),
                field(c.region_name_ru),
                field(c.region_name_kk),
                c.part.to_owned(),
                field(c.category),
                field(c.country_code),
                c.requested.to_string(),
                c.granted.to_string(),
            ]
            .join(","),
        );
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_what_needs_quoting() {
        let cell = CellFigures {
            region_code: "110000000",
            region_name_ru: "Акмолинская область, \"север\"",
            region_name_kk: "Ақмола облысы",
            part: "PERMITS",
            category: "3",
            country_code: "",
            requested: 12,
            granted: 10,
        };
        let text = csv(&[cell]);
        let lines: Vec<_> = text.split("\r\n").collect();
        assert_eq!(lines[0].split(',').count(), 8);
        assert_eq!(
            lines[1],
            "110000000,\"Акмолинская область, \"\"север\"\"\",Ақмола облысы,PERMITS,3,,12,10"
        );
    }

    #[test]
    fn only_the_four_files_are_downloads() {
        assert_eq!(Download::parse("decision.pdf"), Some(Download::Pdf));
        assert_eq!(Download::parse("decision.pdf.p7s"), Some(Download::Cms));
        assert_eq!(Download::parse("figures.csv"), Some(Download::Csv));
        assert_eq!(Download::parse("figures.json"), Some(Download::Json));
        assert_eq!(Download::parse("../kvota.db"), None);
    }
}
