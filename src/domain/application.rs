//! The employer's application (Appendix 1, p. 6 of the Rules), parsed from its raw input.

use chrono::{DateTime, Utc};

use super::deadline::QuotaYear;
use super::ids::Bin;
use super::region::{RegionCode, Regions};
use super::violations::Violations;

/// Worker categories of the permit rules (Order No. 279), the columns 3–7 of Appendix 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WorkerCategory {
    /// 1-я категория: first heads and their deputies.
    First,
    /// 2-я категория: heads of structural units.
    Second,
    /// 3-я категория: specialists.
    Third,
    /// 4-я категория: skilled workers.
    Fourth,
    /// Сезонные иностранные работники (p. 3.6).
    Seasonal,
}

impl WorkerCategory {
    pub const ALL: [WorkerCategory; 5] = [
        Self::First,
        Self::Second,
        Self::Third,
        Self::Fourth,
        Self::Seasonal,
    ];

    /// The key stored in the database and passed to templates.
    pub fn code(self) -> &'static str {
        match self {
            Self::First => "1",
            Self::Second => "2",
            Self::Third => "3",
            Self::Fourth => "4",
            Self::Seasonal => "seasonal",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.code() == code)
    }
}

/// Bounds that keep one request, one row and one page reasonable.
pub const MAX_LINES: usize = 500;
pub const MAX_COUNT: u32 = 100_000;
pub const MAX_NAME_CHARS: usize = 500;
pub const MAX_ADDRESS_CHARS: usize = 500;
pub const MAX_OCCUPATION_NAME_CHARS: usize = 300;
pub const MAX_JUSTIFICATION_CHARS: usize = 20_000;
pub const MAX_HEAD_CHARS: usize = 300;

/// An occupation code of the national classifier НК РК 01-2017: 1 to 4 digits, or an
/// occupation group written as 4 digits, a hyphen and 1 digit (e.g. `4110-9`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OccupationCode(String);

impl OccupationCode {
    pub fn parse(s: &str) -> Result<Self, String> {
        let t = s.trim();
        if t.is_empty() {
            return Err("occupation code is required".into());
        }
        let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
        let ok = match t.split_once('-') {
            None => t.len() <= 4 && digits(t),
            Some((unit, group)) => {
                unit.len() == 4 && group.len() == 1 && digits(unit) && digits(group)
            }
        };
        if ok {
            Ok(Self(t.to_owned()))
        } else {
            Err(format!(
                "{t:?} is not a code of НК РК 01-2017: 1 to 4 digits, or 4 digits, '-' and 1 digit"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One row of Appendix 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemandLine {
    pub occupation_code: OccupationCode,
    pub occupation_name: String,
    pub category: WorkerCategory,
    /// Column 2: attracted in the current year.
    pub current_count: u32,
    /// The category's column: the need for the quota year.
    pub requested_count: u32,
}

/// The raw fields of an application, as a caller sent them.
#[derive(Debug, Clone, Default)]
pub struct ApplicationInput {
    pub quota_year: u32,
    pub region_code: String,
    pub employer_bin: String,
    pub employer_name: String,
    pub employer_legal_address: String,
    pub lines: Vec<LineInput>,
    pub justification: String,
    pub head_position: String,
    pub head_full_name: String,
}

#[derive(Debug, Clone, Default)]
pub struct LineInput {
    pub occupation_code: String,
    pub occupation_name: String,
    pub category: Option<WorkerCategory>,
    pub current_count: u32,
    pub requested_count: u32,
}

/// A complete, valid application: every field satisfies p. 6 and the service's bounds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationDraft {
    pub quota_year: QuotaYear,
    pub region_code: RegionCode,
    pub employer_bin: Bin,
    pub employer_name: String,
    pub employer_legal_address: String,
    pub lines: Vec<DemandLine>,
    pub justification: String,
    pub head_position: String,
    pub head_full_name: String,
}

impl ApplicationDraft {
    /// Parses an application. `prefix` is the field path of the application in the
    /// request (`application`), `regions` are the 20 regions, `now` is the service clock.
    pub fn parse(
        input: &ApplicationInput,
        prefix: &str,
        regions: &Regions,
        now: DateTime<Utc>,
    ) -> Result<Self, Violations> {
        let mut v = Violations::new();
        let f = |name: &str| format!("{prefix}.{name}");

        // p. 5: a quota is set for the coming year (years).
        let quota_year = v.check(f("quota_year"), QuotaYear::parse(input.quota_year, now));

        // p. 6: the application goes to the body of the region where the foreigners work.
        let region_code = if input.region_code.trim().is_empty() {
            v.add(f("region_code"), "region code (KATO) is required");
            None
        } else {
            regions.check(&mut v, &f("region_code"), &input.region_code)
        };

        let employer_bin = v.check(f("employer.bin"), Bin::parse(input.employer_bin.trim()));
        let employer_name = v.text(
            &f("employer.name"),
            &input.employer_name,
            "employer name",
            MAX_NAME_CHARS,
        );
        let employer_legal_address = v.text(
            &f("employer.legal_address"),
            &input.employer_legal_address,
            "legal address",
            MAX_ADDRESS_CHARS,
        );

        let mut lines = Vec::with_capacity(input.lines.len());
        if input.lines.is_empty() {
            v.add(f("lines"), "at least one demand line is required");
        } else if input.lines.len() > MAX_LINES {
            v.add(
                f("lines"),
                format!("at most {MAX_LINES} demand lines are accepted"),
            );
        } else {
            for (i, line) in input.lines.iter().enumerate() {
                let lf = |name: &str| format!("{prefix}.lines[{i}].{name}");
                let code = v.check(
                    lf("occupation_code"),
                    OccupationCode::parse(&line.occupation_code),
                );
                let name = v.text(
                    &lf("occupation_name"),
                    &line.occupation_name,
                    "occupation name",
                    MAX_OCCUPATION_NAME_CHARS,
                );
                let category = line.category;
                if category.is_none() {
                    v.add(lf("category"), "worker category is required");
                }
                for (field, count) in [
                    ("current_count", line.current_count),
                    ("requested_count", line.requested_count),
                ] {
                    if count > MAX_COUNT {
                        v.add(lf(field), format!("count must be from 0 to {MAX_COUNT}"));
                    }
                }
                if let (Some(code), Some(category)) = (&code, category)
                    && let Some(first) = lines.iter().position(|l: &DemandLine| {
                        l.occupation_code == *code && l.category == category
                    })
                {
                    v.add(
                        lf("occupation_code"),
                        format!(
                            "occupation {} in this category is already line {first}: merge the two",
                            code.as_str()
                        ),
                    );
                    continue;
                }
                if let (Some(occupation_code), Some(occupation_name), Some(category)) =
                    (code, name, category)
                {
                    lines.push(DemandLine {
                        occupation_code,
                        occupation_name,
                        category,
                        current_count: line.current_count.min(MAX_COUNT),
                        requested_count: line.requested_count.min(MAX_COUNT),
                    });
                }
            }
            if input.lines.iter().all(|l| l.requested_count == 0) {
                v.add(
                    f("lines"),
                    "the need for the quota year is zero on every line: at least one requested count must be positive",
                );
            }
        }

        // p. 6 and Appendix 1: the justification names the planned projects.
        let justification = v.text(
            &f("justification"),
            &input.justification,
            "justification",
            MAX_JUSTIFICATION_CHARS,
        );
        let head_position = v.text(
            &f("head_position"),
            &input.head_position,
            "head's position",
            MAX_HEAD_CHARS,
        );
        let head_full_name = v.text(
            &f("head_full_name"),
            &input.head_full_name,
            "head's full name",
            MAX_HEAD_CHARS,
        );

        match (
            quota_year,
            region_code,
            employer_bin,
            employer_name,
            employer_legal_address,
            justification,
            head_position,
            head_full_name,
        ) {
            (
                Some(quota_year),
                Some(region_code),
                Some(employer_bin),
                Some(employer_name),
                Some(employer_legal_address),
                Some(justification),
                Some(head_position),
                Some(head_full_name),
            ) if v.is_empty() => Ok(Self {
                quota_year,
                region_code,
                employer_bin,
                employer_name,
                employer_legal_address,
                lines,
                justification,
                head_position,
                head_full_name,
            }),
            _ => Err(v),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> ApplicationInput {
        ApplicationInput {
            quota_year: 2027,
            region_code: "110000000".into(),
            employer_bin: "900101300007".into(),
            employer_name: "ТОО «Ақжол Құрылыс»".into(),
            employer_legal_address: "г. Кокшетау, ул. Абая, 1".into(),
            lines: vec![LineInput {
                occupation_code: "2142".into(),
                occupation_name: "Инженер-строитель".into(),
                category: Some(WorkerCategory::Third),
                current_count: 3,
                requested_count: 5,
            }],
            justification: "Строительство школы по договору № 12.".into(),
            head_position: "Директор".into(),
            head_full_name: "Сейтқали Әлихан".into(),
        }
    }

    fn akmola() -> Regions {
        Regions::new(["110000000".to_owned()])
    }

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-06-01T00:00:00+05:00")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn fields(input: &ApplicationInput) -> Vec<String> {
        ApplicationDraft::parse(input, "application", &akmola(), now())
            .unwrap_err()
            .into_vec()
            .into_iter()
            .map(|v| v.field)
            .collect()
    }

    #[test]
    fn a_complete_application_parses() {
        let d = ApplicationDraft::parse(&sample(), "application", &akmola(), now()).unwrap();
        assert_eq!(d.lines.len(), 1);
        assert_eq!(d.quota_year.get(), 2027);
    }

    #[test]
    fn every_bad_field_is_named() {
        let mut a = sample();
        a.employer_bin = "900101300008".into();
        a.region_code = "999999999".into();
        a.lines[0].occupation_code = "21x".into();
        a.lines[0].category = None;
        a.lines[0].requested_count = 100_001;
        a.justification = "  ".into();
        assert_eq!(
            fields(&a),
            [
                "application.region_code",
                "application.employer.bin",
                "application.lines[0].occupation_code",
                "application.lines[0].category",
                "application.lines[0].requested_count",
                "application.justification",
            ]
        );
    }

    #[test]
    fn all_zero_need_is_refused() {
        let mut a = sample();
        a.lines[0].requested_count = 0;
        assert_eq!(fields(&a), ["application.lines"]);
    }

    #[test]
    fn no_lines_is_refused() {
        let mut a = sample();
        a.lines.clear();
        assert_eq!(fields(&a), ["application.lines"]);
    }

    #[test]
    fn duplicate_occupation_in_a_category_is_refused() {
        let mut a = sample();
        a.lines.push(a.lines[0].clone());
        assert_eq!(fields(&a), ["application.lines[1].occupation_code"]);
    }

    #[test]
    fn occupation_codes_follow_the_classifier() {
        for ok in ["1", "21", "214", "2142", "4110-9"] {
            assert!(OccupationCode::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "21425", "411-9", "4110-", "4110-99", "abcd"] {
            assert!(OccupationCode::parse(bad).is_err(), "{bad}");
        }
    }
}
