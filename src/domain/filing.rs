//! What a region files with the ministry (p. 12, 14–17) and what the central bodies
//! propose (p. 13): occupation lines as Appendix 1 has them, the countries of origin of
//! Appendix 4, and the category totals of Appendices 2 and 4.

use super::application::{MAX_COUNT, MAX_OCCUPATION_NAME_CHARS, OccupationCode, WorkerCategory};
use super::limits::{MAX_FIGURE, MAX_LINES};
use super::violations::Violations;

/// One occupation line as a caller sent it: a proposal's line (p. 13) or a line of a
/// country's breakdown in Appendix 4 (p. 17).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OccupationLineInput {
    pub occupation_code: String,
    pub occupation_name: String,
    /// None when the caller gave no category.
    pub category: Option<WorkerCategory>,
    pub count: u32,
}

/// A checked occupation line: classifier code, name, category and a positive count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OccupationLine {
    pub occupation_code: OccupationCode,
    pub occupation_name: String,
    pub category: WorkerCategory,
    pub count: u32,
}

impl OccupationLine {
    /// Checks one line as Appendix 1's are checked, its fields named under `prefix`;
    /// None (and the violations recorded in `v`) if any field is bad.
    pub fn check(v: &mut Violations, prefix: &str, input: &OccupationLineInput) -> Option<Self> {
        let f = |n: &str| format!("{prefix}.{n}");
        let code = v.check(
            f("occupation_code"),
            OccupationCode::parse(&input.occupation_code),
        );
        let name = v.text(
            &f("occupation_name"),
            &input.occupation_name,
            "occupation name",
            MAX_OCCUPATION_NAME_CHARS,
        );
        if input.category.is_none() {
            v.add(f("category"), "worker category is required");
        }
        if input.count == 0 || input.count > MAX_COUNT {
            v.add(f("count"), format!("count must be from 1 to {MAX_COUNT}"));
        }
        Some(Self {
            occupation_code: code?,
            occupation_name: name?,
            category: input.category?,
            count: input.count,
        })
    }
}

/// The occupation lines of row `i` of Appendix 4 (p. 17): each checked, at most
/// [`MAX_LINES`], one line per occupation and category. Only the valid lines are
/// returned; the others are recorded in `v`.
pub fn country_lines(
    v: &mut Violations,
    i: usize,
    lines: &[OccupationLineInput],
) -> Vec<OccupationLine> {
    let mut out: Vec<OccupationLine> = Vec::new();
    if lines.len() > MAX_LINES {
        v.add(
            format!("rows[{i}].lines"),
            format!("at most {MAX_LINES} lines per country"),
        );
        return out;
    }
    for (j, l) in lines.iter().enumerate() {
        let prefix = format!("rows[{i}].lines[{j}]");
        let Some(line) = OccupationLine::check(v, &prefix, l) else {
            continue;
        };
        if out
            .iter()
            .any(|o| o.occupation_code == line.occupation_code && o.category == line.category)
        {
            v.add(
                format!("{prefix}.occupation_code"),
                "listed twice in the same category",
            );
            continue;
        }
        out.push(line);
    }
    out
}

/// The field names of the category counts, in [`WorkerCategory::ALL`] order.
const COUNT_FIELDS: [&str; 5] = ["first", "second", "third", "fourth", "seasonal"];

/// The category counts of row `i` of Appendix 4, checked against its occupation lines: a
/// category broken down by occupation counts its lines (a given count must be 0 or their
/// sum), and at least one count is positive.
pub fn country_counts(
    v: &mut Violations,
    i: usize,
    given: [u32; 5],
    lines: &[OccupationLine],
) -> [u32; 5] {
    let mut counts = given;
    for (k, (n, slot)) in COUNT_FIELDS.iter().zip(counts.iter_mut()).enumerate() {
        let field = format!("rows[{i}].counts.{n}");
        *slot = v.count(&field, *slot, MAX_FIGURE);
        let mut mine = lines
            .iter()
            .filter(|l| l.category == WorkerCategory::ALL[k])
            .peekable();
        if mine.peek().is_none() {
            continue;
        }
        let sum = mine.fold(0u32, |s, l| s.saturating_add(l.count));
        if sum > MAX_FIGURE {
            v.add(
                &field,
                format!("the lines sum to {sum}, above {MAX_FIGURE}"),
            );
        } else if *slot != 0 && *slot != sum {
            v.add(
                field,
                format!(
                    "{slot} is not the sum of the category's occupation lines ({sum}); leave it 0 or give the sum"
                ),
            );
        }
        *slot = sum;
    }
    if counts.iter().all(|&n| n == 0) {
        v.add(
            format!("rows[{i}].counts"),
            "at least one count must be positive",
        );
    }
    counts
}

/// Head counts by worker category: columns 3–7 of Appendix 2, the category columns of
/// Appendix 4.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CategoryTotals([u64; 5]);

impl CategoryTotals {
    fn index(c: WorkerCategory) -> usize {
        WorkerCategory::ALL
            .iter()
            .position(|x| *x == c)
            .expect("every category is in ALL")
    }

    /// Counts given in [`WorkerCategory::ALL`] order.
    pub fn from_counts(counts: [u32; 5]) -> Self {
        Self(counts.map(u64::from))
    }

    pub fn add(&mut self, category: WorkerCategory, n: u64) {
        self.0[Self::index(category)] += n;
    }

    pub fn add_all(&mut self, other: &Self) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a += b;
        }
    }

    pub fn of(&self, category: WorkerCategory) -> u64 {
        self.0[Self::index(category)]
    }

    /// Every category together.
    pub fn sum(&self) -> u64 {
        self.0.iter().sum()
    }
}

/// The «Итого» row of Appendix 2 (p. 12): column 2 (foreign workers employed now) and
/// the approved counts by category, over the organisations reported.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Appendix2Totals {
    pub current_count: u64,
    pub approved: CategoryTotals,
}

impl Appendix2Totals {
    /// Adds one organisation's row.
    pub fn add_row(&mut self, current_count: u64, approved: &CategoryTotals) {
        self.current_count += current_count;
        self.approved.add_all(approved);
    }
}

/// What the Commission approved for one organisation, by category (Appendix 2's row,
/// p. 12): each line's approved count under its line's category.
pub fn approved_by_category(
    lines: impl IntoIterator<Item = (WorkerCategory, u32)>,
) -> CategoryTotals {
    let mut t = CategoryTotals::default();
    for (c, n) in lines {
        t.add(c, u64::from(n));
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(code: &str, category: WorkerCategory, count: u32) -> OccupationLineInput {
        OccupationLineInput {
            occupation_code: code.into(),
            occupation_name: "Инженер".into(),
            category: Some(category),
            count,
        }
    }

    fn fields(v: Violations) -> Vec<String> {
        v.into_vec().into_iter().map(|v| v.field).collect()
    }

    #[test]
    fn a_line_names_each_bad_field_under_its_prefix() {
        let mut v = Violations::new();
        let bad = OccupationLineInput {
            occupation_code: "12345".into(),
            occupation_name: " ".into(),
            category: None,
            count: 0,
        };
        assert!(OccupationLine::check(&mut v, "lines[2]", &bad).is_none());
        assert_eq!(
            fields(v),
            [
                "lines[2].occupation_code",
                "lines[2].occupation_name",
                "lines[2].category",
                "lines[2].count"
            ]
        );
        let mut v = Violations::new();
        let ok = OccupationLine::check(&mut v, "x", &input("2142", WorkerCategory::Third, 4));
        assert_eq!(ok.unwrap().occupation_code.as_str(), "2142");
        assert!(v.is_empty());
    }

    #[test]
    fn a_country_lists_an_occupation_once_per_category() {
        let mut v = Violations::new();
        let lines = country_lines(
            &mut v,
            1,
            &[
                input("2142", WorkerCategory::Third, 4),
                input("2142", WorkerCategory::Fourth, 4),
                input("2142", WorkerCategory::Third, 1),
            ],
        );
        assert_eq!(lines.len(), 2);
        assert_eq!(fields(v), ["rows[1].lines[2].occupation_code"]);
    }

    #[test]
    fn a_category_broken_down_by_occupation_counts_its_lines() {
        let mut v = Violations::new();
        let lines = country_lines(
            &mut v,
            0,
            &[
                input("2142", WorkerCategory::Third, 4),
                input("7212", WorkerCategory::Third, 6),
            ],
        );
        // 0 means "the sum"; a figure of a category without lines stays.
        assert_eq!(
            country_counts(&mut v, 0, [0, 0, 0, 3, 0], &lines),
            [0, 0, 10, 3, 0]
        );
        assert!(v.is_empty());
        country_counts(&mut v, 0, [0, 0, 9, 0, 0], &lines);
        assert_eq!(fields(v), ["rows[0].counts.third"]);
        let mut v = Violations::new();
        country_counts(&mut v, 4, [0; 5], &[]);
        assert_eq!(fields(v), ["rows[4].counts"]);
    }

    #[test]
    fn appendix_2_totals_sum_the_rows() {
        let a = approved_by_category([
            (WorkerCategory::Third, 10),
            (WorkerCategory::Fourth, 6),
            (WorkerCategory::Third, 2),
        ]);
        assert_eq!((a.of(WorkerCategory::Third), a.sum()), (12, 18));
        let mut t = Appendix2Totals::default();
        t.add_row(3, &a);
        t.add_row(1, &CategoryTotals::from_counts([1, 0, 0, 0, 5]));
        assert_eq!(t.current_count, 4);
        assert_eq!(t.approved.of(WorkerCategory::Seasonal), 5);
        assert_eq!(t.approved.sum(), 24);
    }
}
