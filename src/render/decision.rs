//! The model of the ministry's decision on the quota (p. 19–21): the order that
//! establishes the quota and distributes it among the regions, with the country part by
//! country and category (p. 20.1) and the redistributions of p. 21 in its annex.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::appendix1::VisibleSignature;
use super::fields::CategoryCounts;
use crate::domain::apportion;
use crate::domain::date_ru;
use crate::domain::quota::{
    CATEGORIES, Cell, Move, PartSummary, RESERVE, part_index, period_point,
};
use crate::domain::states::Part;

pub const TEMPLATE: &str = "decision.typ";

/// The filled decision; serialised as the template's `/data.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// The issuing body (the ministry's legal name).
    pub body: String,
    /// «ПРИКАЗ».
    pub kind_ru: String,
    /// The order's registration number (p. 19).
    pub number: String,
    /// The order's date as acts are cited: «"24" декабря 2026 года».
    pub date: String,
    /// Where the act is signed; the template prints «г. Астана» when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
    pub version: u32,
    pub version_date: String,
    pub title: String,
    pub legal_basis: String,
    pub labour_force: u64,
    pub labour_force_source: String,
    pub quota_years: Vec<i32>,
    pub parts: Vec<PartRow>,
    pub method_note: String,
    /// Points after the distribution and the method, numbered on.
    pub points: Vec<String>,
    pub regions: Vec<RegionRow>,
    pub reserve: Reserve,
    pub totals: Totals,
    pub country_rows: Vec<CountryRow>,
    pub country_totals: CountryTotals,
    pub redistributions: Vec<Redistribution>,
    pub signature: Signature,
    pub head_position: String,
    pub head_full_name: String,
}

/// One part of the quota in point 1: its per cent, persons, allocated and reserve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartRow {
    pub key: String,
    pub name_ru: String,
    /// Written the Russian way ("0,25").
    pub percent: String,
    /// The part's ceiling.
    pub persons: u64,
    pub allocated: u64,
    pub reserve: u64,
}

/// The permit columns of a row: each category and the total.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Permits {
    #[serde(rename = "1")]
    pub first: u64,
    #[serde(rename = "2")]
    pub second: u64,
    #[serde(rename = "3")]
    pub third: u64,
    #[serde(rename = "4")]
    pub fourth: u64,
    pub seasonal: u64,
    pub total: u64,
}

impl Permits {
    /// From the five category figures and the total.
    fn from_array(n: [u64; 6]) -> Self {
        let [first, second, third, fourth, seasonal, total] = n;
        Self {
            first,
            second,
            third,
            fourth,
            seasonal,
            total,
        }
    }
}

/// One region's row of the annex.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionRow {
    pub number: usize,
    pub name_ru: String,
    pub permits: Permits,
    pub countries: Vec<CountryCount>,
    pub countries_total: u64,
    pub immigrants: u64,
}

/// A country of origin and its persons in one region.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountryCount {
    pub code: String,
    pub name_ru: String,
    pub count: u64,
}

/// The ministry's reserve row: what each part's ceiling leaves undistributed. The
/// service keeps the permit reserve as one figure; a decision may split it by category.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reserve {
    pub permits: ReservePermits,
    pub countries_total: u64,
    pub immigrants: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReservePermits {
    #[serde(rename = "1", default, skip_serializing_if = "Option::is_none")]
    pub first: Option<u64>,
    #[serde(rename = "2", default, skip_serializing_if = "Option::is_none")]
    pub second: Option<u64>,
    #[serde(rename = "3", default, skip_serializing_if = "Option::is_none")]
    pub third: Option<u64>,
    #[serde(rename = "4", default, skip_serializing_if = "Option::is_none")]
    pub fourth: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seasonal: Option<u64>,
    pub total: u64,
}

/// The «Итого» row: the regions and the reserve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Totals {
    pub permits: Permits,
    pub countries_total: u64,
    pub immigrants: u64,
}

/// A row of the country part by country and category (p. 20.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountryRow {
    pub number: usize,
    pub region_ru: String,
    pub country_ru: String,
    pub counts: CategoryCounts,
    pub total: u64,
}

/// The «Итого» of the country table, with the reserve of the country part.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountryTotals {
    #[serde(rename = "1")]
    pub first: u64,
    #[serde(rename = "2")]
    pub second: u64,
    #[serde(rename = "3")]
    pub third: u64,
    #[serde(rename = "4")]
    pub fourth: u64,
    pub seasonal: u64,
    pub total: u64,
    pub reserve: u64,
}

/// A move of p. 21, in words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Redistribution {
    pub number: usize,
    pub from_ru: String,
    pub to_ru: String,
    pub part_ru: String,
    pub category_ru: String,
    pub country_ru: String,
    pub count: u64,
    pub basis: String,
}

/// The visible trace of the service's seal at the foot of the decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signature {
    pub signer: String,
    pub organisation: String,
    pub bin: String,
    pub certificate_serial: String,
    /// Already formatted: "25.11.2026 17:30:00 (UTC+5)".
    pub signing_time: String,
    pub document_id: String,
}

impl From<VisibleSignature> for Signature {
    fn from(s: VisibleSignature) -> Self {
        Self {
            signer: s.signer,
            organisation: s.organisation,
            bin: s.bin,
            certificate_serial: s.certificate_serial,
            signing_time: s.signing_time,
            document_id: s.document_id,
        }
    }
}

/// A region as the decision names it.
#[derive(Debug, Clone, Copy)]
pub struct Region<'a> {
    pub kato: &'a str,
    pub name_ru: &'a str,
}

/// The minister whose order the decision is (the ministry's profile).
#[derive(Debug, Clone, Copy)]
pub struct Minister<'a> {
    pub body: &'a str,
    pub head_position: &'a str,
    pub head_full_name: &'a str,
}

/// Everything one version of the decision shows.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    pub minister: Minister<'a>,
    pub order_number: &'a str,
    pub order_date: Option<NaiveDate>,
    pub version: u32,
    /// The day this version is published.
    pub version_date: NaiveDate,
    pub quota_years: &'a [i32],
    pub labour_force: u64,
    /// The parts of `cells`, in [`Part::ALL`] order.
    pub parts: &'a [PartSummary],
    /// The 20 regions, in the order the annex lists them.
    pub regions: &'a [Region<'a>],
    /// Treaty countries (p. 17): code and Russian name.
    pub treaty: &'a [(String, String)],
    /// The distribution this version publishes.
    pub cells: &'a [Cell],
    /// Every move of p. 21 so far, this version's last.
    pub moves: &'a [Move],
}

/// The legal basis of the order (p. 19 and the Law's art. 11).
const LEGAL_BASIS: &str = "В соответствии с подпунктом 4) статьи 11 Закона Республики Казахстан «О миграции населения» и пунктом 19 Правил установления квоты на привлечение иностранной рабочей силы в Республику Казахстан и ее распределения между областями, городами республиканского значения, столицей, утвержденных приказом Заместителя Премьер-Министра – Министра труда и социальной защиты населения Республики Казахстан от 30 июня 2023 года № 274, ПРИКАЗЫВАЮ:";

const LABOUR_FORCE_SOURCE: &str = "по данным Бюро национальной статистики Агентства по стратегическому планированию и реформам Республики Казахстан";

/// p. 19: published within three working days.
const PUBLICATION_POINT: &str = "Настоящий приказ подлежит размещению на интернет-ресурсе уполномоченного органа в течение трех рабочих дней со дня распределения квоты (пункт 19 Правил).";

const NOT_SCALED_NOTE: &str = "Заявленная потребность не превышает установленную квоту и распределена в полном объеме; нераспределенная часть составляет резерв уполномоченного органа.";

const RESERVE_RU: &str = "Резерв уполномоченного органа";

pub fn part_ru(p: Part) -> &'static str {
    match p {
        Part::Permits => {
            "на выдачу разрешений работодателям на привлечение иностранной рабочей силы"
        }
        Part::Countries => "по странам исхода иностранной рабочей силы",
        Part::Immigrants => "на привлечение трудовых иммигрантов",
    }
}

fn category_ru(c: &str) -> &'static str {
    match c {
        "1" => "1-я категория",
        "2" => "2-я категория",
        "3" => "3-я категория",
        "4" => "4-я категория",
        "seasonal" => "сезонные работники",
        _ => "",
    }
}

/// «2027 год», «2028, 2029 годы».
fn years_text(years: &[i32]) -> String {
    let years: Vec<String> = years.iter().map(|y| y.to_string()).collect();
    if years.len() == 1 {
        format!("{} год", years[0])
    } else {
        format!("{} годы", years.join(", "))
    }
}

/// The stored document's title: «Решение о квоте на 2027 год, редакция 2».
pub fn document_title(years: &[i32], version: u32) -> String {
    format!(
        "Решение о квоте на {}, редакция {version}",
        years_text(years)
    )
}

impl Decision {
    /// The decision's model for `input`, sealed by `signature`.
    pub fn new(input: &Input<'_>, signature: Signature) -> Self {
        let Input {
            minister,
            treaty,
            regions,
            parts: sums,
            ..
        } = *input;
        let region_name = |code: &str| {
            if code == RESERVE {
                return RESERVE_RU.to_string();
            }
            regions
                .iter()
                .find(|r| r.kato == code)
                .map(|r| r.name_ru.to_owned())
                .unwrap_or_default()
        };
        let country_name = |code: &str| {
            treaty
                .iter()
                .find(|(c, _)| c == code)
                .map_or_else(|| code.to_string(), |(_, n)| n.clone())
        };
        let (country_rows, country_totals) = country_table(input, &country_name);
        let (rows, totals) = region_table(input, &country_name);
        let reserve = |p: Part| sums[part_index(p)].reserve;
        let parts = Part::ALL
            .iter()
            .map(|&p| {
                let s = &sums[part_index(p)];
                PartRow {
                    key: p.code().into(),
                    name_ru: part_ru(p).into(),
                    percent: s.percent.clone(),
                    persons: s.ceiling,
                    allocated: s.allocated,
                    reserve: s.reserve,
                }
            })
            .collect();
        let scaled: Vec<&str> = Part::ALL
            .iter()
            .filter(|p| sums[part_index(**p)].scaled)
            .map(|p| part_ru(*p))
            .collect();
        let method_note = if scaled.is_empty() {
            NOT_SCALED_NOTE.to_string()
        } else {
            format!(
                "{} Применено к частям квоты: {}.",
                apportion::METHOD_RU,
                scaled.join("; ")
            )
        };
        let redistributions = input
            .moves
            .iter()
            .enumerate()
            .map(|(i, m)| Redistribution {
                number: i + 1,
                from_ru: region_name(&m.from_region),
                to_ru: region_name(&m.to_region),
                part_ru: part_ru(m.part).into(),
                category_ru: category_ru(&m.category).into(),
                country_ru: if m.country_code.is_empty() {
                    String::new()
                } else {
                    country_name(&m.country_code)
                },
                count: m.count,
                basis: m.basis.clone(),
            })
            .collect();
        Decision {
            body: minister.body.into(),
            kind_ru: "ПРИКАЗ".into(),
            number: input.order_number.into(),
            // Cited as acts are: «от «25» декабря 2026 года № 412» (p. 19); a
            // redistribution keeps the order's number and date and shows its own
            // version's date.
            date: input.order_date.map(date_ru::long).unwrap_or_default(),
            place: None,
            version: input.version,
            version_date: date_ru::long(input.version_date),
            title: format!(
                "Об установлении квоты на привлечение иностранной рабочей силы в Республику Казахстан на {} и ее распределении между областями, городами республиканского значения, столицей",
                years_text(input.quota_years)
            ),
            legal_basis: LEGAL_BASIS.into(),
            labour_force: input.labour_force,
            labour_force_source: LABOUR_FORCE_SOURCE.into(),
            quota_years: input.quota_years.to_vec(),
            parts,
            method_note,
            points: period_point(input.quota_years)
                .into_iter()
                .chain([PUBLICATION_POINT.to_string()])
                .collect(),
            regions: rows,
            reserve: Reserve {
                permits: ReservePermits {
                    first: None,
                    second: None,
                    third: None,
                    fourth: None,
                    seasonal: None,
                    total: reserve(Part::Permits),
                },
                countries_total: reserve(Part::Countries),
                immigrants: reserve(Part::Immigrants),
            },
            totals: Totals {
                permits: Permits {
                    total: totals.permits.total + reserve(Part::Permits),
                    ..totals.permits
                },
                countries_total: totals.countries_total + reserve(Part::Countries),
                immigrants: totals.immigrants + reserve(Part::Immigrants),
            },
            country_rows,
            country_totals: CountryTotals {
                reserve: reserve(Part::Countries),
                ..country_totals
            },
            redistributions,
            signature,
            head_position: minister.head_position.into(),
            head_full_name: minister.head_full_name.into(),
        }
    }
}

/// p. 20.1: the country part by country of origin and by category of foreign and
/// seasonal workers, region by region; and its totals (without the reserve).
fn country_table(
    input: &Input<'_>,
    country_name: &dyn Fn(&str) -> String,
) -> (Vec<CountryRow>, CountryTotals) {
    let mut totals = [0u64; 6];
    let mut rows = Vec::new();
    for r in input.regions {
        let mut by_country: BTreeMap<&str, [u64; 5]> = BTreeMap::new();
        for c in input
            .cells
            .iter()
            .filter(|c| c.region_code == r.kato && c.part == Part::Countries)
        {
            if let Some(k) = CATEGORIES.iter().position(|k| *k == c.category) {
                by_country.entry(c.country_code.as_str()).or_default()[k] += c.granted;
            }
        }
        for (code, counts) in by_country {
            let total: u64 = counts.iter().sum();
            if total == 0 {
                continue;
            }
            for (k, n) in counts.iter().enumerate() {
                totals[k] += n;
            }
            totals[5] += total;
            rows.push(CountryRow {
                number: rows.len() + 1,
                region_ru: r.name_ru.into(),
                country_ru: country_name(code),
                counts: CategoryCounts::from_array(counts),
                total,
            });
        }
    }
    let [first, second, third, fourth, seasonal, total] = totals;
    let totals = CountryTotals {
        first,
        second,
        third,
        fourth,
        seasonal,
        total,
        reserve: 0,
    };
    (rows, totals)
}

/// The annex's rows, one a region, and their sums (without the reserve).
fn region_table(
    input: &Input<'_>,
    country_name: &dyn Fn(&str) -> String,
) -> (Vec<RegionRow>, Totals) {
    let cells = input.cells;
    let mut totals = [0u64; 6];
    let (mut countries_total, mut immigrants_total) = (0u64, 0u64);
    let rows = input
        .regions
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let of = |p: Part| {
                cells
                    .iter()
                    .filter(move |c| c.region_code == r.kato && c.part == p)
            };
            let mut permits = [0u64; 6];
            for (k, key) in CATEGORIES.iter().enumerate() {
                let n: u64 = of(Part::Permits)
                    .filter(|c| c.category == *key)
                    .map(|c| c.granted)
                    .sum();
                totals[k] += n;
                permits[k] = n;
                permits[5] += n;
            }
            totals[5] += permits[5];
            let mut by_country: BTreeMap<String, u64> = BTreeMap::new();
            for c in of(Part::Countries) {
                *by_country.entry(c.country_code.clone()).or_default() += c.granted;
            }
            let countries = by_country
                .iter()
                .filter(|(_, n)| **n > 0)
                .map(|(code, n)| CountryCount {
                    code: code.clone(),
                    name_ru: country_name(code),
                    count: *n,
                })
                .collect();
            let ct: u64 = by_country.values().sum();
            countries_total += ct;
            let imm: u64 = of(Part::Immigrants).map(|c| c.granted).sum();
            immigrants_total += imm;
            RegionRow {
                number: i + 1,
                name_ru: r.name_ru.into(),
                permits: Permits::from_array(permits),
                countries,
                countries_total: ct,
                immigrants: imm,
            }
        })
        .collect();
    let totals = Totals {
        permits: Permits::from_array(totals),
        countries_total,
        immigrants: immigrants_total,
    };
    (rows, totals)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_is_a_decision() {
        let sample = include_str!("../../templates/sample/decision.json");
        let d: Decision = serde_json::from_str(sample).expect("the sample fits the model");
        assert_eq!(d.regions.len(), 20);
        assert_eq!(d.reserve.permits.first, Some(17));
        // And back: the model writes the keys the sample has.
        let again: serde_json::Value = serde_json::to_value(&d).unwrap();
        let sample: serde_json::Value = serde_json::from_str(sample).unwrap();
        assert_eq!(again, sample);
    }

    #[test]
    fn every_key_the_template_reads_is_a_field() {
        let template = include_str!("../../templates/decision.typ");
        let sample = include_str!("../../templates/sample/decision.json");
        let d: Decision = serde_json::from_str(sample).unwrap();
        let model = serde_json::to_value(&d).unwrap();
        let fields = model.as_object().unwrap();
        let read: Vec<&str> = template
            .split("get(\"")
            .skip(1)
            .filter_map(|rest| rest.split_once('"').map(|(key, _)| key))
            .collect();
        assert!(
            read.len() > 20,
            "the template reads its data with get(\"…\")"
        );
        for key in read {
            assert!(fields.contains_key(key), "decision.typ reads {key:?}");
        }
    }

    #[test]
    fn a_decision_shows_the_distribution_and_the_reserve() {
        let cells = vec![
            Cell {
                region_code: "110000000".into(),
                part: Part::Permits,
                category: "3".into(),
                country_code: String::new(),
                requested: 10,
                granted: 7,
            },
            Cell {
                region_code: "110000000".into(),
                part: Part::Countries,
                category: "4".into(),
                country_code: "UZ".into(),
                requested: 5,
                granted: 5,
            },
        ];
        let shares = crate::domain::quota::Shares {
            labour_force: 10_000,
            millis: [100, 100, 100],
        };
        let parts = shares.summaries(&cells);
        let moves = vec![Move {
            from_region: RESERVE.into(),
            to_region: "110000000".into(),
            part: Part::Countries,
            category: "4".into(),
            country_code: "UZ".into(),
            count: 1,
            basis: "письмо".into(),
        }];
        let day = NaiveDate::from_ymd_opt(2027, 2, 10).unwrap();
        let d = Decision::new(
            &Input {
                minister: Minister {
                    body: "Министерство",
                    head_position: "Министр",
                    head_full_name: "Н. Ахметжанов",
                },
                order_number: "412",
                order_date: Some(day),
                version: 2,
                version_date: day,
                quota_years: &[2027, 2028],
                labour_force: 10_000,
                parts: &parts,
                regions: &[Region {
                    kato: "110000000",
                    name_ru: "Акмолинская область",
                }],
                treaty: &[("UZ".into(), "Республика Узбекистан".into())],
                cells: &cells,
                moves: &moves,
            },
            Signature {
                signer: String::new(),
                organisation: String::new(),
                bin: String::new(),
                certificate_serial: String::new(),
                signing_time: String::new(),
                document_id: String::new(),
            },
        );
        assert_eq!(d.regions[0].permits.third, 7);
        assert_eq!(d.totals.permits.total, 10);
        assert_eq!(d.reserve.permits.total, 3);
        assert_eq!(d.country_rows[0].counts.fourth, 5);
        assert_eq!(d.country_totals.reserve, 5);
        assert_eq!(d.redistributions[0].from_ru, RESERVE_RU);
        assert_eq!(d.points.len(), 2, "the period's point and publication");
        assert!(d.title.ends_with("на 2027, 2028 годы и ее распределении между областями, городами республиканского значения, столицей"));
        assert_eq!(
            document_title(&[2027], 1),
            "Решение о квоте на 2027 год, редакция 1"
        );
    }
}
