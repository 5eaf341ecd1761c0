//! `QuotaService`: the ministry forms, establishes, publishes and redistributes the quota
//! (p. 4, 5, 18–21).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;
use tonic::{Code, Request, Response, Status};

use super::error::{self, invalid, invalid_field};
use super::pb::{self, quota_service_server::QuotaService};
use super::{AppState, resource_id, timestamp};
use crate::domain::apportion::{self, Request as Ask};
use crate::domain::commission::Outcome;
use crate::domain::timeline::{self, PUBLICATION_WORKING_DAYS, Step};
use crate::domain::{QuotaYear, Violations, almaty, date_ru};
use crate::store::audit::Actor;
use crate::store::quota::{CellRow, MoveRow, NewVersion, Part, QuotaRow, QuotaState};

pub struct QuotaApi(pub AppState);

const CATEGORIES: [&str; 5] = ["1", "2", "3", "4", "seasonal"];
/// `Move.from_region` for an allocation from the ministry's reserve of a part (p. 21).
const RESERVE: &str = "reserve";

fn part_from_pb(v: i32) -> Option<Part> {
    match pb::QuotaPart::try_from(v).ok()? {
        pb::QuotaPart::Permits => Some(Part::Permits),
        pb::QuotaPart::Countries => Some(Part::Countries),
        pb::QuotaPart::Immigrants => Some(Part::Immigrants),
        pb::QuotaPart::Unspecified => None,
    }
}

fn part_to_pb(p: Part) -> pb::QuotaPart {
    match p {
        Part::Permits => pb::QuotaPart::Permits,
        Part::Countries => pb::QuotaPart::Countries,
        Part::Immigrants => pb::QuotaPart::Immigrants,
    }
}

fn part_index(p: Part) -> usize {
    Part::ALL.iter().position(|x| *x == p).expect("part")
}

fn part_ru(p: Part) -> &'static str {
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

fn cell_to_pb(c: &CellRow) -> pb::QuotaCell {
    pb::QuotaCell {
        region_code: c.region_code.clone(),
        part: part_to_pb(c.part) as i32,
        category: c.category.clone(),
        country_code: c.country_code.clone(),
        requested: c.requested,
        granted: c.granted,
    }
}

fn move_to_pb(m: &MoveRow) -> pb::Move {
    pb::Move {
        from_region: m.from_region.clone(),
        to_region: m.to_region.clone(),
        part: part_to_pb(m.part) as i32,
        category: m.category.clone(),
        country_code: m.country_code.clone(),
        count: m.count,
        basis: m.basis.clone(),
    }
}

fn ceiling(q: &QuotaRow, p: Part) -> u64 {
    apportion::ceiling(q.labour_force, q.millis[part_index(p)])
}

fn summaries(q: &QuotaRow, cells: &[CellRow]) -> Vec<pb::PartSummary> {
    Part::ALL
        .iter()
        .map(|&p| {
            let of_part = cells.iter().filter(|c| c.part == p);
            let requested = of_part
                .clone()
                .fold(0u64, |s, c| s.saturating_add(c.requested));
            let allocated = of_part.fold(0u64, |s, c| s.saturating_add(c.granted));
            let ceiling = ceiling(q, p);
            pb::PartSummary {
                part: part_to_pb(p) as i32,
                percent: apportion::format_percent(q.millis[part_index(p)]),
                ceiling,
                requested,
                allocated,
                reserve: ceiling.saturating_sub(allocated),
                scaled: requested > ceiling,
            }
        })
        .collect()
}

fn quota_to_pb(q: &QuotaRow) -> pb::Quota {
    use pb::quota::State as S;
    pb::Quota {
        name: format!("quotas/{}", q.id),
        quota_years: q.quota_years.iter().map(|y| *y as u32).collect(),
        state: match q.state {
            QuotaState::Draft => S::Draft,
            QuotaState::Established => S::Established,
            QuotaState::Published => S::Published,
        } as i32,
        labour_force: q.labour_force,
        parts: summaries(q, &q.cells),
        cells: q.cells.iter().map(cell_to_pb).collect(),
        create_time: Some(timestamp(q.create_time)),
        establish_time: q.establish_time.map(timestamp),
        publish_due_date: q
            .publish_due_date
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default(),
        version: q.versions.last().map_or(0, |v| v.version),
        method_ru: apportion::METHOD_RU.into(),
        order_number: q.order_number.clone(),
        order_date: ymd(q.order_date),
    }
}

fn published_to_pb(q: &QuotaRow, version: u32) -> Option<pb::PublishedDecision> {
    let v = q.versions.iter().find(|v| v.version == version)?;
    Some(pb::PublishedDecision {
        quota: format!("quotas/{}", q.id),
        quota_years: q.quota_years.iter().map(|y| *y as u32).collect(),
        version: v.version,
        document: format!("documents/{}", v.document_id),
        publish_time: Some(timestamp(v.publish_time)),
        late: v.late,
        publish_due_date: q
            .publish_due_date
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default(),
        cells: v.cells.iter().map(cell_to_pb).collect(),
        parts: summaries(q, &v.cells),
        moves: v.moves.iter().map(move_to_pb).collect(),
        order_number: q.order_number.clone(),
        order_date: ymd(q.order_date),
    })
}

fn ymd(d: Option<NaiveDate>) -> String {
    d.map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

fn today(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&almaty()).date_naive()
}

/// Checks the category and country of a cell for its part.
fn check_place(
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
fn period_point(years: &[i32]) -> Option<String> {
    let (first, rest) = years.split_first()?;
    let last = rest.last()?;
    Some(format!(
        "Квота, установленная пунктом 1 настоящего приказа, и ее распределение согласно приложению к настоящему приказу сформированы на основании заявок местных исполнительных органов и предложений заинтересованных центральных государственных органов на {first} год и численности рабочей силы на {first} год и действуют в том же размере в каждом году периода с {first} по {last} год (пункты 5, 18 Правил)."
    ))
}

/// The ministry's registration of the order that establishes the quota (p. 19): the
/// decision is published as that order, cited by its date and number. Without them the
/// quota cannot be established yet (FAILED_PRECONDITION); a number without a date, a
/// date without a number, a malformed date, or a date in the future or before the quota
/// was formed is a bad argument.
fn order_registration(
    r: &pb::EstablishQuotaRequest,
    q: &QuotaRow,
    today: NaiveDate,
) -> Result<(String, NaiveDate), Status> {
    let (number, date) = (r.order_number.trim(), r.order_date.trim());
    if number.is_empty() && date.is_empty() {
        return Err(error::status(
            Code::FailedPrecondition,
            "ORDER_NOT_REGISTERED",
            format!(
                "quotas/{} is established by the ministry's order: give its registration number and date (order_number, order_date; p. 19)",
                q.id
            ),
        ));
    }
    let mut v = Violations::new();
    let number = v.text(
        "order_number",
        number,
        "the order's registration number",
        50,
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
        Ok(d) if d < self::today(q.create_time) => {
            v.add(
                "order_date",
                format!(
                    "{d} is before the quota was formed ({})",
                    self::today(q.create_time)
                ),
            );
            None
        }
        Ok(d) => Some(d),
    };
    match (number, date) {
        (Some(n), Some(d)) if v.is_empty() => Ok((n, d)),
        _ => Err(invalid(v)),
    }
}

impl QuotaApi {
    fn region_ok(&self, code: &str) -> bool {
        self.0.region_codes.iter().any(|c| c == code)
    }

    async fn quota(&self, name: &str) -> Result<QuotaRow, Status> {
        let id = resource_id("name", name, "quotas")?;
        Ok(self.0.store.get_quota(id).await?)
    }

    /// The requests of the first quota year: the regions' filings (Appendices 2, 3, 4)
    /// and the central bodies' proposals the regions agreed to (p. 13, 18).
    async fn requests(&self, year: i64) -> Result<Vec<CellRow>, Status> {
        let store = &self.0.store;
        let mut cells: BTreeMap<(String, Part, String, String), u64> = BTreeMap::new();
        for region in self.0.region_codes.iter() {
            let mut add = |part: Part, category: &str, country: &str, n: u64| {
                if n > 0 {
                    *cells
                        .entry((
                            region.clone(),
                            part,
                            category.to_owned(),
                            country.to_owned(),
                        ))
                        .or_default() += n;
                }
            };
            if store.filing(region, year).await?.is_some() {
                for d in store.region_decisions(region, year).await? {
                    if d.decision.outcome == Outcome::Rejected {
                        continue;
                    }
                    let app = store.get_application(&d.application_id).await?;
                    for (l, &a) in app.lines.iter().zip(&d.decision.approved_counts) {
                        add(Part::Permits, l.category.code(), "", u64::from(a));
                    }
                }
                for c in store.origin_quota(region, year).await? {
                    for (k, n) in CATEGORIES.iter().zip(c.counts) {
                        add(Part::Countries, k, &c.country_code, u64::from(n));
                    }
                }
                if let Some(n) = store.immigrant_need(region, year).await? {
                    add(Part::Immigrants, "", "", u64::from(n.need));
                }
            }
            for p in store.list_proposals(Some(region), Some(year)).await? {
                if p.agreed_by_region {
                    for l in &p.lines {
                        add(Part::Permits, l.category.code(), "", u64::from(l.count));
                    }
                }
            }
        }
        Ok(cells
            .into_iter()
            .map(
                |((region_code, part, category, country_code), requested)| CellRow {
                    region_code,
                    part,
                    category,
                    country_code,
                    requested,
                    granted: 0,
                },
            )
            .collect())
    }

    /// Renders, seals and stores version `version` of the decision.
    async fn publish(
        &self,
        q: &QuotaRow,
        cells: Vec<CellRow>,
        moves: Vec<MoveRow>,
        version: u32,
        actor: &Actor,
    ) -> Result<pb::PublishedDecision, Status> {
        // The decision ends with the minister's position and name (the ministry's profile).
        let minister = super::bodies::issuing_body(&self.0, crate::store::bodies::MINISTRY).await?;
        let now = self.0.now();
        // p. 19's three working days bind the first publication; p. 21 sets no deadline
        // for redistributions.
        let late = version == 1 && q.publish_due_date.is_some_and(|due| today(now) > due);
        let regions = self.0.store.list_regions().await?;
        let treaty = self.0.store.treaty_countries().await?;
        let sums = summaries(q, &cells);
        let mut earlier: Vec<MoveRow> = q.versions.iter().flat_map(|v| v.moves.clone()).collect();
        earlier.extend(moves.iter().cloned());
        let region_name = |code: &str| {
            if code == RESERVE {
                return "Резерв уполномоченного органа".to_string();
            }
            regions
                .iter()
                .find(|r| r.kato == code)
                .map(|r| r.name_ru.clone())
                .unwrap_or_default()
        };
        let country_name = |code: &str| {
            treaty
                .iter()
                .find(|(c, _)| c == code)
                .map_or_else(|| code.to_string(), |(_, n)| n.clone())
        };
        // p. 20.1: the country part by country of origin and by category of foreign and
        // seasonal workers, region by region.
        let mut country_totals = [0u64; 6];
        let mut country_rows = Vec::new();
        for r in &regions {
            let mut by_country: BTreeMap<&str, [u64; 5]> = BTreeMap::new();
            for c in cells
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
                    country_totals[k] += n;
                }
                country_totals[5] += total;
                country_rows.push(json!({
                    "number": country_rows.len() + 1, "region_ru": r.name_ru, "country_ru": country_name(code),
                    "counts": {"1": counts[0], "2": counts[1], "3": counts[2], "4": counts[3], "seasonal": counts[4]},
                    "total": total,
                }));
            }
        }
        let mut totals = [0u64; 6];
        let (mut countries_total, mut immigrants_total) = (0u64, 0u64);
        let rows: Vec<_> = regions
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let of = |p: Part| cells.iter().filter(move |c| c.region_code == r.kato && c.part == p);
                let mut permits = serde_json::Map::new();
                let mut total = 0;
                for (k, key) in CATEGORIES.iter().enumerate() {
                    let n: u64 = of(Part::Permits).filter(|c| c.category == *key).map(|c| c.granted).sum();
                    totals[k] += n;
                    total += n;
                    permits.insert((*key).into(), n.into());
                }
                totals[5] += total;
                permits.insert("total".into(), total.into());
                let mut by_country: BTreeMap<String, u64> = BTreeMap::new();
                for c in of(Part::Countries) {
                    *by_country.entry(c.country_code.clone()).or_default() += c.granted;
                }
                let countries: Vec<_> = by_country
                    .iter()
                    .filter(|(_, n)| **n > 0)
                    .map(|(code, n)| {
                        let name = treaty.iter().find(|(c, _)| c == code).map(|(_, n)| n.clone());
                        json!({"code": code, "name_ru": name.unwrap_or_else(|| code.clone()), "count": n})
                    })
                    .collect();
                let ct: u64 = by_country.values().sum();
                countries_total += ct;
                let imm: u64 = of(Part::Immigrants).map(|c| c.granted).sum();
                immigrants_total += imm;
                json!({
                    "number": i + 1, "name_ru": r.name_ru, "permits": permits,
                    "countries": countries, "countries_total": ct, "immigrants": imm,
                })
            })
            .collect();
        let reserve = |p: Part| sums[part_index(p)].reserve;
        let parts: Vec<_> = Part::ALL
            .iter()
            .map(|&p| {
                let s = &sums[part_index(p)];
                json!({"key": p.code(), "name_ru": part_ru(p), "percent": s.percent, "persons": s.ceiling,
                       "allocated": s.allocated, "reserve": s.reserve})
            })
            .collect();
        let scaled: Vec<&str> = Part::ALL
            .iter()
            .filter(|p| sums[part_index(**p)].scaled)
            .map(|p| part_ru(*p))
            .collect();
        let method_note = if scaled.is_empty() {
            "Заявленная потребность не превышает установленную квоту и распределена в полном объеме; нераспределенная часть составляет резерв уполномоченного органа.".to_string()
        } else {
            format!(
                "{} Применено к частям квоты: {}.",
                apportion::METHOD_RU,
                scaled.join("; ")
            )
        };
        let years: Vec<String> = q.quota_years.iter().map(|y| y.to_string()).collect();
        let years_text = if years.len() == 1 {
            format!("{} год", years[0])
        } else {
            format!("{} годы", years.join(", "))
        };
        let redistributions: Vec<_> = earlier
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let country_ru = if m.country_code.is_empty() {
                    String::new()
                } else {
                    country_name(&m.country_code)
                };
                json!({
                    "number": i + 1, "from_ru": region_name(&m.from_region), "to_ru": region_name(&m.to_region),
                    "part_ru": part_ru(m.part), "category_ru": category_ru(&m.category),
                    "country_ru": country_ru,
                    "count": m.count, "basis": m.basis,
                })
            })
            .collect();
        // Cited as acts are: «от «25» декабря 2026 года № 412» (p. 19); a redistribution keeps
        // the order's number and date and shows its own version's date.
        let order_date = q.order_date.map(date_ru::long).unwrap_or_default();
        let id = uuid::Uuid::new_v4().to_string();
        let name = format!("documents/{id}");
        let data = json!({
            "body": minister.legal_name_ru,
            "kind_ru": "ПРИКАЗ",
            "number": q.order_number,
            "date": order_date,
            "version": version,
            "version_date": date_ru::long(today(now)),
            "title": format!("Об установлении квоты на привлечение иностранной рабочей силы в Республику Казахстан на {years_text} и ее распределении между областями, городами республиканского значения, столицей"),
            "legal_basis": "В соответствии с подпунктом 4) статьи 11 Закона Республики Казахстан «О миграции населения» и пунктом 19 Правил установления квоты на привлечение иностранной рабочей силы в Республику Казахстан и ее распределения между областями, городами республиканского значения, столицей, утвержденных приказом Заместителя Премьер-Министра – Министра труда и социальной защиты населения Республики Казахстан от 30 июня 2023 года № 274, ПРИКАЗЫВАЮ:",
            "labour_force": q.labour_force,
            "labour_force_source": "по данным Бюро национальной статистики Агентства по стратегическому планированию и реформам Республики Казахстан",
            "quota_years": q.quota_years,
            "parts": parts,
            "method_note": method_note,
            "points": period_point(&q.quota_years).into_iter()
                .chain(["Настоящий приказ подлежит размещению на интернет-ресурсе уполномоченного органа в течение трех рабочих дней со дня распределения квоты (пункт 19 Правил).".to_string()])
                .collect::<Vec<_>>(),
            "regions": rows,
            "reserve": {"permits": {"total": reserve(Part::Permits)}, "countries_total": reserve(Part::Countries), "immigrants": reserve(Part::Immigrants)},
            "totals": {"permits": {"1": totals[0], "2": totals[1], "3": totals[2], "4": totals[3], "seasonal": totals[4],
                                   "total": totals[5] + reserve(Part::Permits)},
                       "countries_total": countries_total + reserve(Part::Countries),
                       "immigrants": immigrants_total + reserve(Part::Immigrants)},
            "country_rows": country_rows,
            "country_totals": {"1": country_totals[0], "2": country_totals[1], "3": country_totals[2],
                               "4": country_totals[3], "seasonal": country_totals[4], "total": country_totals[5],
                               "reserve": reserve(Part::Countries)},
            "redistributions": redistributions,
            "signature": serde_json::to_value(self.0.sealer.visible_signature(&name, now)).expect("serialisable"),
            "head_position": minister.head_position_ru,
            "head_full_name": minister.head_full_name,
        });
        let title = format!("Решение о квоте на {years_text}, редакция {version}");
        let sealer = self.0.sealer.clone();
        let subject = format!("quotas/{}", q.id);
        let doc = crate::sealing::on_core(move || {
            sealer.issue(
                &id,
                "decision.typ",
                &data,
                "QUOTA_DECISION",
                &title,
                &subject,
                now,
            )
        })
        .await
        .map_err(|e| error::internal("sealing task", e))?
        .map_err(|e| error::internal("rendering and sealing the decision", e))?;
        let stored = self
            .0
            .store
            .publish_version(
                actor,
                &q.id,
                &NewVersion {
                    version,
                    cells: &cells,
                    moves: &moves,
                    doc: &doc,
                    late,
                    now,
                },
            )
            .await?;
        Ok(published_to_pb(&stored, version).expect("just published"))
    }
}

#[tonic::async_trait]
impl QuotaService for QuotaApi {
    async fn set_labour_force(
        &self,
        request: Request<pb::SetLabourForceRequest>,
    ) -> Result<Response<pb::LabourForce>, Status> {
        let actor = super::actor(&self.0, &request);
        let r = request.into_inner();
        let mut v = Violations::new();
        if !self.region_ok(r.region_code.trim()) {
            v.add("region_code", "not the KATO code of one of the 20 regions");
        }
        if !(2000..=2100).contains(&r.quota_year) {
            v.add("quota_year", "quota year must be from 2000 to 2100");
        }
        if r.persons == 0 || r.persons > 100_000_000 {
            v.add(
                "persons",
                "the labour force must be from 1 to 100000000 persons",
            );
        }
        let source = v.text("source", &r.source, "the statistics source", 500);
        let source = source.filter(|_| v.is_empty()).ok_or_else(|| invalid(v))?;
        self.0
            .store
            .set_labour_force(
                &actor,
                i64::from(r.quota_year),
                r.region_code.trim(),
                r.persons,
                &source,
                self.0.now(),
            )
            .await?;
        Ok(Response::new(pb::LabourForce {
            quota_year: r.quota_year,
            region_code: r.region_code.trim().into(),
            persons: r.persons,
            source,
        }))
    }

    /// Forms the quota for one coming year or for several (p. 5: «на предстоящий
    /// (предстоящие) год (годы)»).
    ///
    /// How a quota for several years is read: p. 12, 13 and 16 have the regions and central
    /// bodies file once, before 1 November, their need «на предстоящий (предстоящие) год
    /// (годы)», p. 18 forms the quota from those filings and p. 19 establishes it once,
    /// before 1 January of its first year — when neither the filings nor the labour force
    /// of later years exist yet. So a quota for several years covers a period: its years
    /// must follow one another (2028, 2029 — not 2028, 2030), and it is formed from the
    /// filings and proposals for its first year and the labour force of its first year.
    /// The later years take the same figures: the same percentages, ceilings and
    /// distribution among the regions apply in each year of the period, and the decision
    /// says so ([`period_point`]). A new need in a later year is met by redistribution
    /// (p. 21) or by the quota of the years after the period.
    async fn form_quota(
        &self,
        request: Request<pb::FormQuotaRequest>,
    ) -> Result<Response<pb::Quota>, Status> {
        let actor = super::actor(&self.0, &request);
        let r = request.into_inner();
        let mut v = Violations::new();
        let now = self.0.now();
        let mut years = Vec::new();
        if r.quota_years.is_empty() || r.quota_years.len() > 3 {
            v.add(
                "quota_years",
                "one to three coming years are required (p. 5)",
            );
        }
        for (i, y) in r.quota_years.iter().enumerate() {
            if let Some(y) = v.check(format!("quota_years[{i}]"), QuotaYear::parse(*y, now)) {
                if years.contains(&y.get()) {
                    v.add(format!("quota_years[{i}]"), "listed twice");
                }
                years.push(y.get());
            }
        }
        years.sort();
        // p. 5: several years make one period (see above).
        if let Some(w) = years.windows(2).find(|w| w[1] != w[0] + 1) {
            v.add(
                "quota_years",
                format!(
                    "the years of one quota must follow one another (p. 5): {} is not followed by {}",
                    w[0], w[1]
                ),
            );
        }
        let mut percent = |field: &str, s: &str| v.check(field, apportion::parse_percent(s));
        let permit = percent("permit_percent", &r.permit_percent);
        let country = if r.country_percent.trim().is_empty() {
            permit
        } else {
            percent("country_percent", &r.country_percent)
        };
        let immigrant = percent("immigrant_percent", &r.immigrant_percent);
        let (Some(permit), Some(country), Some(immigrant)) = (permit, country, immigrant) else {
            return Err(invalid(v));
        };
        if !v.is_empty() {
            return Err(invalid(v));
        }
        let first = i64::from(years[0]);
        let lf = self.0.store.labour_force(first).await?;
        let missing: Vec<&str> = self
            .0
            .region_codes
            .iter()
            .filter(|c| !lf.iter().any(|(r, _)| r == *c))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            return Err(error::status(
                Code::FailedPrecondition,
                "LABOUR_FORCE_MISSING",
                format!(
                    "the labour force of {first} is not set for regions {}",
                    missing.join(", ")
                ),
            ));
        }
        let labour_force: u64 = lf.iter().map(|(_, n)| n).sum();
        let mut cells = self.requests(first).await?;
        let mut q = QuotaRow {
            id: uuid::Uuid::new_v4().to_string(),
            quota_years: years.clone(),
            state: QuotaState::Draft,
            labour_force,
            millis: [permit, country, immigrant],
            create_time: now,
            establish_time: None,
            publish_due_date: None,
            number: String::new(),
            order_number: String::new(),
            order_date: None,
            cells: Vec::new(),
            versions: Vec::new(),
        };
        q.number = format!("КВ-{}-{}", years[0], &q.id[..8]);
        // p. 18–20: each part within its ceiling; over-requests scaled by largest remainder.
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
            let asks: Vec<Ask<'_>> = idx
                .iter()
                .zip(&keys)
                .map(|(&i, k)| Ask {
                    key: k,
                    count: cells[i].requested,
                })
                .collect();
            let alloc = apportion::allocate(&asks, ceiling(&q, p));
            for (&i, g) in idx.iter().zip(alloc.granted) {
                cells[i].granted = g;
            }
        }
        q.cells = cells;
        let stored = self.0.store.create_quota(&actor, &q).await?;
        Ok(Response::new(quota_to_pb(&stored)))
    }

    async fn get_quota(
        &self,
        request: Request<pb::GetQuotaRequest>,
    ) -> Result<Response<pb::Quota>, Status> {
        let q = self.quota(&request.into_inner().name).await?;
        Ok(Response::new(quota_to_pb(&q)))
    }

    async fn adjust_distribution(
        &self,
        request: Request<pb::AdjustDistributionRequest>,
    ) -> Result<Response<pb::Quota>, Status> {
        let actor = super::actor(&self.0, &request);
        let r = request.into_inner();
        let id = resource_id("name", &r.name, "quotas")?.to_owned();
        let treaty = self.0.store.treaty_countries().await?;
        let mut v = Violations::new();
        if r.changes.is_empty() || r.changes.len() > 500 {
            return Err(invalid_field(
                "changes",
                "from 1 to 500 changes are required",
            ));
        }
        for (i, c) in r.changes.iter().enumerate() {
            let f = format!("changes[{i}]");
            if !self.region_ok(&c.region_code) {
                v.add(
                    format!("{f}.region_code"),
                    "not the KATO code of one of the 20 regions",
                );
            }
            check_place(
                &mut v,
                &f,
                part_from_pb(c.part),
                &c.category,
                &c.country_code,
                &treaty,
            );
            if c.granted > 100_000_000 {
                v.add(format!("{f}.granted"), "at most 100000000 persons");
            }
        }
        if !v.is_empty() {
            return Err(invalid(v));
        }
        let changes = r.changes.clone();
        let q = self
            .0
            .store
            .adjust_quota(&actor, &id, |q| {
                let mut cells = q.cells.clone();
                for c in &changes {
                    let place = CellRow {
                        region_code: c.region_code.clone(),
                        part: part_from_pb(c.part).expect("checked"),
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
                for s in summaries(q, &cells) {
                    if s.allocated > s.ceiling {
                        return Err(crate::store::StoreError::FailedPrecondition(format!(
                            "the {} part would total {}, above its ceiling of {} ({} % of the labour force)",
                            pb::QuotaPart::try_from(s.part).map(|p| p.as_str_name()).unwrap_or("?"),
                            s.allocated,
                            s.ceiling,
                            s.percent
                        )));
                    }
                }
                Ok(cells)
            })
            .await?;
        Ok(Response::new(quota_to_pb(&q)))
    }

    async fn establish_quota(
        &self,
        request: Request<pb::EstablishQuotaRequest>,
    ) -> Result<Response<pb::Quota>, Status> {
        let actor = super::actor(&self.0, &request);
        let r = request.into_inner();
        let q = self.quota(&r.name).await?;
        let now = self.0.now();
        let (order_number, order_date) = order_registration(&r, &q, today(now))?;
        let year = QuotaYear::from_stored(i64::from(q.quota_years[0]));
        let calendar = self.0.calendar();
        // p. 19: the quota is set "в срок до 1 января" (31 December moved to the next
        // working day when it is a day off: Civil Code art. 172).
        if let Some(d) = timeline::deadline(year, Step::MinistryDecision, &calendar)
            && now >= d.late_from
        {
            return Err(error::status_with(
                Code::FailedPrecondition,
                "ESTABLISH_DEADLINE_PASSED",
                format!(
                    "a quota for {} must be established before 1 January {} (p. 19 of the Rules)",
                    q.quota_years[0], q.quota_years[0]
                ),
                std::collections::HashMap::from([(
                    "deadline".to_string(),
                    d.late_from.to_rfc3339(),
                )]),
            ));
        }
        // p. 19: published within three working days of the distribution.
        let due = calendar.add_working_days(today(now), PUBLICATION_WORKING_DAYS);
        let q = self
            .0
            .store
            .establish_quota(&actor, &q.id, (&order_number, order_date), now, due)
            .await?;
        Ok(Response::new(quota_to_pb(&q)))
    }

    async fn publish_decision(
        &self,
        request: Request<pb::PublishDecisionRequest>,
    ) -> Result<Response<pb::PublishedDecision>, Status> {
        let actor = super::actor(&self.0, &request);
        let q = self.quota(&request.into_inner().name).await?;
        match q.state {
            QuotaState::Draft => {
                return Err(error::status(
                    Code::FailedPrecondition,
                    "WRONG_STATE",
                    format!("quotas/{} is a draft: establish it first", q.id),
                ));
            }
            QuotaState::Published => {
                return Err(error::status(
                    Code::AlreadyExists,
                    "ALREADY_EXISTS",
                    format!("the decision on quotas/{} is already published", q.id),
                ));
            }
            QuotaState::Established => {}
        }
        let cells = q.cells.clone();
        Ok(Response::new(
            self.publish(&q, cells, Vec::new(), 1, &actor).await?,
        ))
    }

    async fn redistribute_quota(
        &self,
        request: Request<pb::RedistributeQuotaRequest>,
    ) -> Result<Response<pb::PublishedDecision>, Status> {
        let actor = super::actor(&self.0, &request);
        let r = request.into_inner();
        let q = self.quota(&r.name).await?;
        if q.state != QuotaState::Published {
            return Err(error::status(
                Code::FailedPrecondition,
                "WRONG_STATE",
                format!(
                    "quotas/{} must be published before it is redistributed (p. 21)",
                    q.id
                ),
            ));
        }
        let treaty = self.0.store.treaty_countries().await?;
        let mut v = Violations::new();
        if r.moves.is_empty() || r.moves.len() > 100 {
            return Err(invalid_field("moves", "from 1 to 100 moves are required"));
        }
        let mut cells = q.cells.clone();
        let mut moves = Vec::new();
        for (i, m) in r.moves.iter().enumerate() {
            let f = format!("moves[{i}]");
            let before = v.iter().count();
            let from_reserve = m.from_region == RESERVE;
            if !from_reserve && !self.region_ok(&m.from_region) {
                v.add(
                    format!("{f}.from_region"),
                    "not the KATO code of one of the 20 regions, nor \"reserve\" (the ministry's reserve)",
                );
            }
            if !self.region_ok(&m.to_region) || m.to_region == m.from_region {
                v.add(
                    format!("{f}.to_region"),
                    "another of the 20 regions is required",
                );
            }
            let part = part_from_pb(m.part);
            check_place(&mut v, &f, part, &m.category, &m.country_code, &treaty);
            if m.count == 0 {
                v.add(format!("{f}.count"), "the count must be positive");
            }
            let basis = v.text(
                &format!("{f}.basis"),
                &m.basis,
                "the proposal it rests on (p. 21)",
                2000,
            );
            if v.iter().count() > before {
                continue;
            }
            let part = part.expect("checked");
            let place = |region: &str| CellRow {
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
                let reserve = summaries(&q, &cells)[part_index(part)].reserve;
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
                None => cells.push(CellRow {
                    granted: m.count,
                    ..to
                }),
            }
            moves.push(MoveRow {
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
            return Err(invalid(v));
        }
        cells.sort_by(|a, b| {
            (&a.region_code, a.part, &a.country_code, &a.category).cmp(&(
                &b.region_code,
                b.part,
                &b.country_code,
                &b.category,
            ))
        });
        let version = q.versions.last().map_or(1, |v| v.version + 1);
        Ok(Response::new(
            self.publish(&q, cells, moves, version, &actor).await?,
        ))
    }

    async fn get_published_decision(
        &self,
        request: Request<pb::GetPublishedDecisionRequest>,
    ) -> Result<Response<pb::PublishedDecision>, Status> {
        let r = request.into_inner();
        let year = i32::try_from(r.quota_year).unwrap_or(0);
        let quotas = self.0.store.established_quotas(Some(year)).await?;
        let not_found = || {
            error::status(
                Code::NotFound,
                "NOT_FOUND",
                format!(
                    "no published decision for {} (version {})",
                    r.quota_year, r.version
                ),
            )
        };
        let q = quotas
            .iter()
            .rev()
            .find(|q| !q.versions.is_empty())
            .ok_or_else(not_found)?;
        let version = if r.version == 0 {
            q.versions.last().map(|v| v.version).unwrap_or(0)
        } else {
            r.version
        };
        Ok(Response::new(
            published_to_pb(q, version).ok_or_else(not_found)?,
        ))
    }

    async fn list_published_decisions(
        &self,
        request: Request<pb::ListPublishedDecisionsRequest>,
    ) -> Result<Response<pb::ListPublishedDecisionsResponse>, Status> {
        let r = request.into_inner();
        let year = (r.quota_year != 0).then(|| i32::try_from(r.quota_year).unwrap_or(0));
        let quotas = self.0.store.established_quotas(year).await?;
        let decisions = quotas
            .iter()
            .flat_map(|q| {
                q.versions
                    .iter()
                    .filter_map(|v| published_to_pb(q, v.version))
            })
            .collect();
        Ok(Response::new(pb::ListPublishedDecisionsResponse {
            decisions,
        }))
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
}
