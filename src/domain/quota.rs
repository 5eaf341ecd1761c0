//! The ministry's quota as figures (p. 4, 5, 16–21): its cells, the ceilings of its three
//! parts, the distribution within them, and the checks of a change, of the order that
//! establishes it and of a redistribution. No I/O: the process layer loads and stores.

use std::fmt;

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::apportion::{self, Request};
use super::calendar::Calendar;
use super::deadline::{QuotaYear, almaty};
use super::limits::{
    MAX_BASIS_TEXT, MAX_LINES, MAX_MOVES, MAX_ORDER_NUMBER, MAX_PERSONS, MAX_SHORT_TEXT,
    STATISTICS_YEARS,
};
use super::region::Regions;
use super::states::Part;
use super::timeline::{self, PUBLICATION_WORKING_DAYS, Step};
use super::violations::Violations;

/// The category keys of the permit and country parts (p. 3: the four categories and
/// seasonal workers), as cells, forms and templates name them.
pub const CATEGORIES: [&str; 5] = ["1", "2", "3", "4", "seasonal"];

/// `Move.from_region` for an allocation from the ministry's reserve of a part (p. 21).
pub const RESERVE: &str = "reserve";

/// One figure of a distribution: a region's share of a part, by category and country.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cell {
    pub region_code: String,
    pub part: Part,
    /// "1".."4", "seasonal", or "" for labour immigrants.
    pub category: String,
    /// ISO code for the country part, else "".
    pub country_code: String,
    pub requested: u64,
    pub granted: u64,
}

impl Cell {
    pub fn same_place(&self, other: &Cell) -> bool {
        self.region_code == other.region_code
            && self.part == other.part
            && self.category == other.category
            && self.country_code == other.country_code
    }
}

/// A move between regions, or from the ministry's reserve (p. 21), as published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Move {
    pub from_region: String,
    pub to_region: String,
    pub part: Part,
    pub category: String,
    pub country_code: String,
    pub count: u64,
    pub basis: String,
}

/// The place of a position in [`Part::ALL`] (and in the per-part arrays of a quota).
pub fn part_index(p: Part) -> usize {
    Part::ALL.iter().position(|x| *x == p).expect("part")
}

/// The local (Almaty) date of an instant: the Rules' dates are read in it.
pub fn local_date(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&almaty()).date_naive()
}

/// What the parts' ceilings are made of (p. 4, 19): the labour force and each part's
/// per cent of it, in thousandths of a per cent (permits, countries, immigrants).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shares {
    pub labour_force: u64,
    pub millis: [u32; 3],
}

/// A part of the quota at a glance: its ceiling, what was asked and what is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartSummary {
    pub part: Part,
    /// The per cent as the decision prints it ("0,25").
    pub percent: String,
    pub ceiling: u64,
    pub requested: u64,
    pub allocated: u64,
    /// What the ceiling leaves undistributed: the ministry's reserve (p. 21).
    pub reserve: u64,
    /// Whether the requests passed the ceiling and were scaled down (p. 18–20).
    pub scaled: bool,
}

impl Shares {
    /// The part's ceiling in whole persons, rounded down (p. 19).
    pub fn ceiling(&self, p: Part) -> u64 {
        apportion::ceiling(self.labour_force, self.millis[part_index(p)])
    }

    /// The three parts of `cells`, in [`Part::ALL`] order.
    pub fn summaries(&self, cells: &[Cell]) -> Vec<PartSummary> {
        Part::ALL
            .iter()
            .map(|&p| {
                let of_part = cells.iter().filter(|c| c.part == p);
                let requested = of_part
                    .clone()
                    .fold(0u64, |s, c| s.saturating_add(c.requested));
                let allocated = of_part.fold(0u64, |s, c| s.saturating_add(c.granted));
                let ceiling = self.ceiling(p);
                PartSummary {
                    part: p,
                    percent: apportion::format_percent(self.millis[part_index(p)]),
                    ceiling,
                    requested,
                    allocated,
                    reserve: ceiling.saturating_sub(allocated),
                    scaled: requested > ceiling,
                }
            })
            .collect()
    }

    /// p. 18–20: grants each part's requests within its ceiling; over-requests are scaled
    /// by largest remainder ([`apportion::allocate`]).
    pub fn distribute(&self, cells: &mut [Cell]) {
        for p in Part::ALL {
            let idx: Vec<usize> = (0..cells.len()).filter(|&i| cells[i].part == p).collect();
            let keys: Vec<String> = idx
                .iter()
                .map(|&i| {
                    format!(
                        "{}/{}/{}",
                        cells[i].region_code, cells[i].country_code, cells[i].category
                    )
                })
                .collect();
            let asks: Vec<Request<'_>> = idx
                .iter()
                .zip(&keys)
                .map(|(&i, k)| Request {
                    key: k,
                    count: cells[i].requested,
                })
                .collect();
            let alloc = apportion::allocate(&asks, self.ceiling(p));
            for (&i, g) in idx.iter().zip(alloc.granted) {
                cells[i].granted = g;
            }
        }
    }
}

/// A region's labour force in a year as the statistics give it (p. 4: each part of the
/// quota is a per cent of it), checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabourForce {
    pub quota_year: u32,
    pub region_code: String,
    pub persons: u64,
    pub source: String,
}

impl LabourForce {
    /// Checks a labour force field by field: one of the 20 `regions` (the code trimmed),
    /// a year of statistics, a plausible head count and the source (trimmed).
    pub fn parse(
        quota_year: u32,
        region_code: &str,
        persons: u64,
        source: &str,
        regions: &Regions,
    ) -> Result<Self, Violations> {
        let mut v = Violations::new();
        let region = regions.check(&mut v, "region_code", region_code);
        if !STATISTICS_YEARS.contains(&quota_year) {
            v.add(
                "quota_year",
                format!(
                    "quota year must be from {} to {}",
                    STATISTICS_YEARS.start(),
                    STATISTICS_YEARS.end()
                ),
            );
        }
        if persons == 0 || persons > MAX_PERSONS {
            v.add(
                "persons",
                format!("the labour force must be from 1 to {MAX_PERSONS} persons"),
            );
        }
        let source = v.text("source", source, "the statistics source", MAX_SHORT_TEXT);
        match source {
            Some(source) if v.is_empty() => Ok(Self {
                quota_year,
                region_code: region.map(String::from).unwrap_or_default(),
                persons,
                source,
            }),
            _ => Err(v),
        }
    }
}

/// The figures a quota is formed from (p. 4, 5, 18), as parsed from the ministry's form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form {
    /// One to three years that follow one another, in order.
    pub years: Vec<i32>,
    /// Per cent × 1000 of the labour force: permits, countries, immigrants.
    pub millis: [u32; 3],
}

/// Parses the years and per cents of a quota to form (p. 5): one to three coming years
/// that follow one another, each part's per cent (the country part takes the permit
/// part's when none is given).
pub fn parse_form(
    years: &[u32],
    permit: &str,
    country: &str,
    immigrant: &str,
    now: DateTime<Utc>,
) -> Result<Form, Violations> {
    let mut v = Violations::new();
    let mut parsed = Vec::new();
    if years.is_empty() || years.len() > super::limits::MAX_QUOTA_YEARS {
        v.add(
            "quota_years",
            "one to three coming years are required (p. 5)",
        );
    }
    for (i, y) in years.iter().enumerate() {
        if let Some(y) = v.check(format!("quota_years[{i}]"), QuotaYear::parse(*y, now)) {
            if parsed.contains(&y.get()) {
                v.add(format!("quota_years[{i}]"), "listed twice");
            }
            parsed.push(y.get());
        }
    }
    parsed.sort();
    // p. 5: several years make one period (see `process::quota::form`).
    if let Some(w) = parsed.windows(2).find(|w| w[1] != w[0] + 1) {
        v.add(
            "quota_years",
            format!(
                "the years of one quota must follow one another (p. 5): {} is not followed by {}",
                w[0], w[1]
            ),
        );
    }
    let mut percent = |field: &str, s: &str| v.check(field, apportion::parse_percent(s));
    let permit = percent("permit_percent", permit);
    let country = if country.trim().is_empty() {
        permit
    } else {
        percent("country_percent", country)
    };
    let immigrant = percent("immigrant_percent", immigrant);
    match (permit, country, immigrant) {
        (Some(p), Some(c), Some(i)) if v.is_empty() => Ok(Form {
            years: parsed,
            millis: [p, c, i],
        }),
        _ => Err(v),
    }
}

/// Checks the category and country of a cell for its part; `field` is the request path
/// of the cell.
pub fn check_place(
    v: &mut Violations,
    field: &str,
    part: Option<Part>,
    category: &str,
    country: &str,
    treaty: &[(String, String)],
) {
    match part {
        None => v.add(
            format!("{field}.part"),
            "PERMITS, COUNTRIES or IMMIGRANTS is required",
        ),
        Some(Part::Immigrants) => {
            if !category.is_empty() || !country.is_empty() {
                v.add(
                    format!("{field}.category"),
                    "labour immigrants have no category or country",
                );
            }
        }
        Some(p) => {
            if !CATEGORIES.contains(&category) {
                v.add(
                    format!("{field}.category"),
                    "category must be 1, 2, 3, 4 or seasonal",
                );
            }
            if p == Part::Countries && !treaty.iter().any(|(c, _)| c == country) {
                v.add(
                    format!("{field}.country_code"),
                    format!("{country:?} is not a country with a ratified labour-migration treaty (p. 17)"),
                );
            }
            if p == Part::Permits && !country.is_empty() {
                v.add(format!("{field}.country_code"), "permits have no country");
            }
        }
    }
}

/// For a quota of several years (p. 5), the point of the decision that says how the
/// figures of the later years are formed: those of the first year apply in each year.
pub fn period_point(years: &[i32]) -> Option<String> {
    let (first, rest) = years.split_first()?;
    let last = rest.last()?;
    Some(format!(
        "Квота, установленная пунктом 1 настоящего приказа, и ее распределение согласно приложению к настоящему приказу сформированы на основании заявок местных исполнительных органов и предложений заинтересованных центральных государственных органов на {first} год и численности рабочей силы на {first} год и действуют в том же размере в каждом году периода с {first} по {last} год (пункты 5, 18 Правил)."
    ))
}

/// Who issues the decision and signs it (p. 19: «уполномоченный орган»): the ministry,
/// by its head, whose position and name end the order. The id of its body profile.
pub const DECISION_ISSUER: &str = "ministry";

/// p. 19: the quota is established «в срок до 1 января» of its first year (31 December
/// moved to the next working day when it is a day off: Civil Code art. 172). The moment
/// from which it is late, when `now` is at or past it.
pub fn establish_term_passed(
    first_year: i32,
    now: DateTime<Utc>,
    calendar: &Calendar,
) -> Option<DateTime<FixedOffset>> {
    let year = QuotaYear::from_stored(i64::from(first_year));
    timeline::deadline(year, Step::MinistryDecision, calendar)
        .map(|d| d.late_from)
        .filter(|late_from| now >= *late_from)
}

/// p. 19: the decision is published within three working days of the distribution,
/// counted from the day the quota is established.
pub fn publication_due(established_on: NaiveDate, calendar: &Calendar) -> NaiveDate {
    calendar.add_working_days(established_on, PUBLICATION_WORKING_DAYS)
}

/// Whether version `version` of the decision, published on `published_on`, is late:
/// p. 19's three working days bind the first publication; p. 21 sets no term for the
/// redistributions.
pub fn publication_late(version: u32, due: Option<NaiveDate>, published_on: NaiveDate) -> bool {
    version == 1 && due.is_some_and(|due| published_on > due)
}

/// Why the order that establishes a quota cannot be taken (p. 19).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderError {
    /// Neither a number nor a date: the order is not registered yet.
    NotRegistered,
    /// A number without a date, a date without a number, a malformed date, or a date in
    /// the future or before the quota was formed.
    Invalid(Violations),
}

/// The ministry's registration of the order that establishes the quota (p. 19): the
/// decision is published as that order, cited by its date and number. `formed_on` is the
/// day the quota was formed, `today` the day it is established.
pub fn order_registration(
    number: &str,
    date: &str,
    formed_on: NaiveDate,
    today: NaiveDate,
) -> Result<(String, NaiveDate), OrderError> {
    let (number, date) = (number.trim(), date.trim());
    if number.is_empty() && date.is_empty() {
        return Err(OrderError::NotRegistered);
    }
    let mut v = Violations::new();
    let number = v.text(
        "order_number",
        number,
        "the order's registration number",
        MAX_ORDER_NUMBER,
    );
    let date = match NaiveDate::parse_from_str(date, "%Y-%m-%d") {
        _ if date.is_empty() => {
            v.add("order_date", "the order's date is required with its number");
            None
        }
        Err(_) => {
            v.add("order_date", format!("{date:?} is not a date YYYY-MM-DD"));
            None
        }
        Ok(d) if d > today => {
            v.add("order_date", format!("{d} is after today ({today})"));
            None
        }
        Ok(d) if d < formed_on => {
            v.add(
                "order_date",
                format!("{d} is before the quota was formed ({formed_on})"),
            );
            None
        }
        Ok(d) => Some(d),
    };
    match (number, date) {
        (Some(n), Some(d)) if v.is_empty() => Ok((n, d)),
        _ => Err(OrderError::Invalid(v)),
    }
}

/// A figure of a draft distribution the ministry sets by hand (p. 19).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellChange {
    pub region_code: String,
    /// `None` when the request named no part.
    pub part: Option<Part>,
    pub category: String,
    pub country_code: String,
    pub granted: u64,
}

/// Checks the changes of a draft's distribution field by field (`changes[i]…`):
/// `regions` are the KATO codes of the 20 regions, `treaty` the treaty countries.
pub fn check_changes(
    changes: &[CellChange],
    regions: &Regions,
    treaty: &[(String, String)],
) -> Result<(), Violations> {
    let mut v = Violations::new();
    if changes.is_empty() || changes.len() > MAX_LINES {
        v.add(
            "changes",
            format!("from 1 to {MAX_LINES} changes are required"),
        );
        return Err(v);
    }
    for (i, c) in changes.iter().enumerate() {
        let f = format!("changes[{i}]");
        if !regions.contains(&c.region_code) {
            v.add(
                format!("{f}.region_code"),
                "not the KATO code of one of the 20 regions",
            );
        }
        check_place(&mut v, &f, c.part, &c.category, &c.country_code, treaty);
        if c.granted > MAX_PERSONS {
            v.add(
                format!("{f}.granted"),
                format!("at most {MAX_PERSONS} persons"),
            );
        }
    }
    v.into_result(|| ())
}

/// A part whose figures would pass its ceiling (p. 19).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the {} part would total {total}, above its ceiling of {ceiling} ({percent} % of the labour force)",
    part.code()
)]
pub struct CeilingExceeded {
    pub part: Part,
    pub total: u64,
    pub ceiling: u64,
    pub percent: String,
}

/// The cells of a draft after `changes` (checked by [`check_changes`]): each figure
/// replaced or added; refused if a part would pass its ceiling (p. 19).
pub fn apply_changes(
    shares: &Shares,
    cells: &[Cell],
    changes: &[CellChange],
) -> Result<Vec<Cell>, CeilingExceeded> {
    let mut cells = cells.to_vec();
    for c in changes {
        let place = Cell {
            region_code: c.region_code.clone(),
            part: c.part.expect("checked"),
            category: c.category.clone(),
            country_code: c.country_code.clone(),
            requested: 0,
            granted: c.granted,
        };
        match cells.iter_mut().find(|x| x.same_place(&place)) {
            Some(x) => x.granted = c.granted,
            None => cells.push(place),
        }
    }
    // No total may pass its ceiling (p. 19).
    for s in shares.summaries(&cells) {
        if s.allocated > s.ceiling {
            return Err(CeilingExceeded {
                part: s.part,
                total: s.allocated,
                ceiling: s.ceiling,
                percent: s.percent,
            });
        }
    }
    Ok(cells)
}

/// A move the ministry asks for (p. 21), as the request gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProposedMove {
    /// A region's KATO code, or [`RESERVE`].
    pub from_region: String,
    pub to_region: String,
    pub part: Option<Part>,
    pub category: String,
    pub country_code: String,
    pub count: u64,
    pub basis: String,
}

/// A redistribution's new figures and the moves as they are published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redistribution {
    pub cells: Vec<Cell>,
    pub moves: Vec<Move>,
}

/// p. 21: moves figures between regions, or from the ministry's reserve of a part,
/// within the quota established: no figure goes below zero and no part past its
/// ceiling. Every bad move is reported (`moves[i]…`); the moves apply in order.
pub fn redistribute(
    shares: &Shares,
    cells: &[Cell],
    moves: &[ProposedMove],
    regions: &Regions,
    treaty: &[(String, String)],
) -> Result<Redistribution, Violations> {
    let mut v = Violations::new();
    if moves.is_empty() || moves.len() > MAX_MOVES {
        v.add("moves", format!("from 1 to {MAX_MOVES} moves are required"));
        return Err(v);
    }
    let region_ok = |code: &str| regions.contains(code);
    let mut cells = cells.to_vec();
    let mut done = Vec::new();
    for (i, m) in moves.iter().enumerate() {
        let f = format!("moves[{i}]");
        let before = v.iter().count();
        let from_reserve = m.from_region == RESERVE;
        if !from_reserve && !region_ok(&m.from_region) {
            v.add(
                format!("{f}.from_region"),
                "not the KATO code of one of the 20 regions, nor \"reserve\" (the ministry's reserve)",
            );
        }
        if !region_ok(&m.to_region) || m.to_region == m.from_region {
            v.add(
                format!("{f}.to_region"),
                "another of the 20 regions is required",
            );
        }
        check_place(&mut v, &f, m.part, &m.category, &m.country_code, treaty);
        if m.count == 0 {
            v.add(format!("{f}.count"), "the count must be positive");
        }
        let basis = v.text(
            &format!("{f}.basis"),
            &m.basis,
            "the proposal it rests on (p. 21)",
            MAX_BASIS_TEXT,
        );
        if v.iter().count() > before {
            continue;
        }
        let part = m.part.expect("checked");
        let place = |region: &str| Cell {
            region_code: region.into(),
            part,
            category: m.category.clone(),
            country_code: m.country_code.clone(),
            requested: 0,
            granted: 0,
        };
        let from = place(&m.from_region);
        if from_reserve {
            // p. 21: "в пределах установленной квоты": the reserve is what the part's
            // ceiling leaves undistributed, so an allocation from it keeps the part
            // within the quota established (p. 19).
            let reserve = shares.summaries(&cells)[part_index(part)].reserve;
            if reserve < m.count {
                v.add(
                    format!("{f}.count"),
                    format!(
                        "the ministry's reserve of the {} part has only {reserve} left within the established quota (p. 21)",
                        part.code()
                    ),
                );
                continue;
            }
        } else {
            let available = cells
                .iter()
                .find(|c| c.same_place(&from))
                .map_or(0, |c| c.granted);
            // p. 21: within the set quota; no figure goes below zero.
            if available < m.count {
                v.add(
                    format!("{f}.count"),
                    format!("region {} has only {available} to move", m.from_region),
                );
                continue;
            }
            cells
                .iter_mut()
                .find(|c| c.same_place(&from))
                .expect("exists")
                .granted -= m.count;
        }
        let to = place(&m.to_region);
        match cells.iter_mut().find(|c| c.same_place(&to)) {
            Some(c) => c.granted += m.count,
            None => cells.push(Cell {
                granted: m.count,
                ..to
            }),
        }
        done.push(Move {
            from_region: m.from_region.clone(),
            to_region: m.to_region.clone(),
            part,
            category: m.category.clone(),
            country_code: m.country_code.clone(),
            count: m.count,
            basis: basis.unwrap_or_default(),
        });
    }
    if !v.is_empty() {
        return Err(v);
    }
    cells.sort_by(|a, b| {
        (&a.region_code, a.part, &a.country_code, &a.category).cmp(&(
            &b.region_code,
            b.part,
            &b.country_code,
            &b.category,
        ))
    });
    Ok(Redistribution { cells, moves: done })
}

impl fmt::Display for OrderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotRegistered => f.write_str("the order is not registered"),
            Self::Invalid(v) => v.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::WorkerCategory;

    #[test]
    fn category_keys_are_the_domains_codes() {
        assert!(WorkerCategory::ALL.iter().map(|c| c.code()).eq(CATEGORIES));
    }

    fn cell(region: &str, part: Part, category: &str, requested: u64, granted: u64) -> Cell {
        Cell {
            region_code: region.into(),
            part,
            category: category.into(),
            country_code: if part == Part::Countries { "UZ" } else { "" }.into(),
            requested,
            granted,
        }
    }

    /// 10 000 persons, 0,25 % each for permits and countries, 1 % for immigrants: 25,
    /// 25 and 100 persons.
    const SHARES: Shares = Shares {
        labour_force: 10_000,
        millis: [250, 250, 1_000],
    };

    fn regions() -> Regions {
        Regions::new(["110000000".to_owned(), "710000000".to_owned()])
    }

    fn treaty() -> Vec<(String, String)> {
        vec![("UZ".into(), "Республика Узбекистан".into())]
    }

    #[test]
    fn over_requested_parts_are_scaled_to_their_ceiling() {
        let mut cells = vec![
            cell("110000000", Part::Permits, "3", 30, 0),
            cell("710000000", Part::Permits, "3", 20, 0),
            cell("110000000", Part::Countries, "3", 10, 0),
            cell("110000000", Part::Immigrants, "", 150, 0),
        ];
        SHARES.distribute(&mut cells);
        let granted: Vec<u64> = cells.iter().map(|c| c.granted).collect();
        assert_eq!(granted, [15, 10, 10, 100]);
        let s = SHARES.summaries(&cells);
        assert_eq!(s[0].percent, "0,25");
        assert_eq!((s[0].ceiling, s[0].requested, s[0].allocated), (25, 50, 25));
        assert!(s[0].scaled);
        assert_eq!((s[1].reserve, s[1].scaled), (15, false));
        assert_eq!(s[2].allocated, 100);
    }

    #[test]
    fn a_labour_force_is_checked_field_by_field() {
        let lf = LabourForce::parse(2027, " 110000000 ", 420_000, " БНС ", &regions()).unwrap();
        assert_eq!(
            (lf.region_code.as_str(), lf.source.as_str()),
            ("110000000", "БНС")
        );
        let v = LabourForce::parse(1999, "999", 0, " ", &regions()).unwrap_err();
        let fields: Vec<&str> = v.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["region_code", "quota_year", "persons", "source"]);
    }

    #[test]
    fn a_form_needs_consecutive_coming_years_and_valid_percents() {
        let now = "2026-12-01T10:00:00Z".parse().unwrap();
        let f = parse_form(&[2028, 2027], "0.25", "", "2,9", now).unwrap();
        assert_eq!(f.years, [2027, 2028]);
        assert_eq!(f.millis, [250, 250, 2_900]);
        let fields = |r: Result<Form, Violations>| -> Vec<String> {
            r.unwrap_err().iter().map(|v| v.field.clone()).collect()
        };
        assert_eq!(
            fields(parse_form(&[2027, 2029], "1", "", "1", now)),
            ["quota_years"]
        );
        assert_eq!(
            fields(parse_form(&[2027, 2027], "1", "x", "0", now)),
            [
                "quota_years[1]",
                "quota_years",
                "country_percent",
                "immigrant_percent"
            ]
        );
        assert_eq!(fields(parse_form(&[], "1", "", "1", now)), ["quota_years"]);
    }

    #[test]
    fn the_order_needs_its_number_and_a_date_between_forming_and_today() {
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let (formed, today) = (day("2027-12-18"), day("2027-12-20"));
        assert_eq!(
            order_registration("", " ", formed, today),
            Err(OrderError::NotRegistered)
        );
        assert_eq!(
            order_registration(" 07-2/418 ", "2027-12-19", formed, today),
            Ok(("07-2/418".into(), day("2027-12-19")))
        );
        for (number, date, field) in [
            ("412", "", "order_date"),
            ("", "2027-12-20", "order_number"),
            ("412", "20.12.2027", "order_date"),
            ("412", "2027-12-21", "order_date"),
            ("412", "2027-12-17", "order_date"),
        ] {
            let Err(OrderError::Invalid(v)) = order_registration(number, date, formed, today)
            else {
                panic!("{number:?} {date:?} accepted");
            };
            assert_eq!(v.iter().next().unwrap().field, field);
        }
    }

    #[test]
    fn places_are_checked_for_their_part() {
        let mut v = Violations::new();
        check_place(&mut v, "c", None, "", "", &treaty());
        check_place(&mut v, "c", Some(Part::Immigrants), "3", "", &treaty());
        check_place(&mut v, "c", Some(Part::Permits), "5", "UZ", &treaty());
        check_place(&mut v, "c", Some(Part::Countries), "3", "KG", &treaty());
        check_place(
            &mut v,
            "c",
            Some(Part::Countries),
            "seasonal",
            "UZ",
            &treaty(),
        );
        let fields: Vec<&str> = v.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "c.part",
                "c.category",
                "c.category",
                "c.country_code",
                "c.country_code"
            ]
        );
    }

    #[test]
    fn a_change_above_the_ceiling_is_refused() {
        let cells = vec![cell("110000000", Part::Permits, "3", 30, 20)];
        let change = |granted| CellChange {
            region_code: "710000000".into(),
            part: Some(Part::Permits),
            category: "3".into(),
            country_code: String::new(),
            granted,
        };
        assert!(check_changes(&[change(5)], &regions(), &treaty()).is_ok());
        assert!(check_changes(&[], &regions(), &treaty()).is_err());
        assert!(check_changes(&[change(MAX_PERSONS + 1)], &regions(), &treaty()).is_err());
        let after = apply_changes(&SHARES, &cells, &[change(5)]).unwrap();
        assert_eq!(after.len(), 2);
        let e = apply_changes(&SHARES, &cells, &[change(6)]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the PERMITS part would total 26, above its ceiling of 25 (0,25 % of the labour force)"
        );
    }

    #[test]
    fn redistribution_moves_within_the_quota() {
        let cells = vec![
            cell("110000000", Part::Permits, "3", 30, 20),
            cell("110000000", Part::Countries, "3", 10, 10),
        ];
        let mv = |from: &str, part, count| ProposedMove {
            from_region: from.into(),
            to_region: "710000000".into(),
            part: Some(part),
            category: "3".into(),
            country_code: if part == Part::Countries { "UZ" } else { "" }.into(),
            count,
            basis: "письмо".into(),
        };
        let r = redistribute(
            &SHARES,
            &cells,
            &[
                mv("110000000", Part::Permits, 5),
                mv(RESERVE, Part::Countries, 15),
            ],
            &regions(),
            &treaty(),
        )
        .unwrap();
        assert_eq!(r.moves.len(), 2);
        let s = SHARES.summaries(&r.cells);
        assert_eq!((s[0].allocated, s[1].allocated, s[1].reserve), (20, 25, 0));
        let err = redistribute(
            &SHARES,
            &cells,
            &[
                mv("110000000", Part::Permits, 21),
                mv(RESERVE, Part::Countries, 16),
                mv("710000000", Part::Permits, 1),
            ],
            &regions(),
            &treaty(),
        )
        .unwrap_err();
        let fields: Vec<&str> = err.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            fields,
            ["moves[0].count", "moves[1].count", "moves[2].to_region"]
        );
    }

    #[test]
    fn a_quota_for_2027_is_late_from_1_january_2027() {
        let calendar = Calendar::reference();
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        assert_eq!(
            establish_term_passed(2027, at("2026-12-31T18:59:59Z"), &calendar),
            None
        );
        let late = establish_term_passed(2027, at("2026-12-31T19:00:00Z"), &calendar)
            .expect("late at midnight in Astana");
        assert_eq!(late.to_rfc3339(), "2027-01-01T00:00:00+05:00");
    }

    #[test]
    fn only_the_first_publication_has_a_term() {
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        // Friday 25 December 2026: three working days run to Wednesday 30 December.
        let due = publication_due(day("2026-12-25"), &Calendar::reference());
        assert_eq!(due, day("2026-12-30"));
        assert!(!publication_late(1, Some(due), due));
        assert!(publication_late(1, Some(due), day("2026-12-31")));
        assert!(!publication_late(2, Some(due), day("2027-02-01")));
        assert!(!publication_late(1, None, day("2027-02-01")));
    }

    #[test]
    fn a_period_of_years_has_its_point() {
        assert_eq!(period_point(&[2027]), None);
        assert!(
            period_point(&[2028, 2029])
                .unwrap()
                .contains("в каждом году периода с 2028 по 2029 год")
        );
    }
}
