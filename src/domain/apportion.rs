//! Proportional apportionment of the foreign-labour quota (Rules p. 18–21).
//!
//! The quota is a ceiling — a percentage of the labour force — and it is shared out among
//! requests (from the 20 regions, per category, per country, …). When the requests fit
//! under the ceiling, each is granted in full and the unallocated part stays with the
//! ministry as a reserve. When they do not, every request is scaled down by the same
//! factor, and the fractions that scaling produces are settled by the largest-remainder
//! (Hamilton) method, so that every figure in the decision is a whole number of persons
//! and the figures add up to exactly the ceiling.
//!
//! The Rules fix the ceiling and the distribution but do not prescribe a rounding rule;
//! largest remainder is chosen because it is the only common method that keeps every
//! figure within one person of its exact proportional share, it can be explained in one
//! sentence in the published decision ([`METHOD_RU`]), and it can be recomputed by
//! anyone from the published requests.
//!
//! All arithmetic is on integers (`u128` intermediates): a published figure must not
//! depend on floating-point rounding, and any `u64` input is handled without overflow.

use std::fmt;

/// One request: a stable key (e.g. `"110000000/3"`, region code and category) that
/// breaks ties, and the requested number of persons.
///
/// Keys must be unique within one call to [`allocate`]: the key is what makes the result
/// independent of the order in which requests are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request<'a> {
    pub key: &'a str,
    pub count: u64,
}

/// The outcome of [`allocate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocation {
    /// Persons granted to each request, in the order of the input.
    pub granted: Vec<u64>,
    /// The part of the ceiling left unallocated, held by the ministry in reserve. Zero
    /// whenever the requests had to be scaled down.
    pub reserve: u64,
    /// Whether the requests exceeded the ceiling and were scaled down.
    pub scaled: bool,
}

/// The rule in words, for the published decision (p. 19: the ministry sets and
/// distributes the quota; the decision is published, so the method must be stated).
pub const METHOD_RU: &str = "Если заявленная потребность не превышает установленного размера квоты, \
заявки удовлетворяются в полном объёме, а нераспределённая часть квоты составляет резерв \
уполномоченного органа. Если заявленная потребность превышает установленный размер квоты, \
квота распределена пропорционально заявленной потребности методом наибольших остатков: \
каждой заявке выделяется целая часть её пропорциональной доли (размер квоты, умноженный на \
заявленную потребность и делённый на общую заявленную потребность), а оставшиеся единицы \
квоты выделяются по одной заявкам с наибольшими дробными остатками; при равенстве остатков \
преимущество имеет заявка с большей потребностью, затем заявка с меньшим кодом. \
Ни одной заявке не выделяется больше заявленного, а сумма выделенного равна размеру квоты.";

/// Shares `ceiling` persons among `requests` (p. 18–21).
///
/// * If the requests sum to at most the ceiling, each is granted in full and the rest of
///   the ceiling is the ministry's reserve (`scaled == false`).
/// * Otherwise request *i* has the exact quota `count_i * ceiling / sum`; it receives the
///   whole part of that quota, and the `ceiling - Σ whole parts` persons left over go one
///   each to the requests with the largest remainders (`count_i * ceiling mod sum`,
///   compared as integers, which is the same as comparing the fractional parts because
///   they share the denominator `sum`). Ties go to the larger request, then to the
///   smaller key, so that the result does not depend on the order of the input. The
///   whole ceiling is granted: `reserve == 0`, `scaled == true`.
///
/// Every grant is the floor or the ceiling of its exact quota and never exceeds the
/// request; a request of zero gets zero. Raising one request, with the others and the
/// ceiling unchanged, never lowers its own grant.
///
/// Keys must be unique (checked in debug builds). Should duplicates slip through, the
/// position in the input breaks the remaining ties, so the result is still well defined
/// but may then depend on the order of the input.
pub fn allocate(requests: &[Request<'_>], ceiling: u64) -> Allocation {
    debug_assert!(
        keys_unique(requests),
        "apportion: request keys must be unique"
    );

    let total: u128 = requests.iter().map(|r| u128::from(r.count)).sum();
    let cap = u128::from(ceiling);

    if total <= cap {
        return Allocation {
            granted: requests.iter().map(|r| r.count).collect(),
            // total <= ceiling, so the difference fits in u64.
            reserve: ceiling - total as u64,
            scaled: false,
        };
    }

    // total > ceiling >= 0, so total > 0 and the divisions below are safe. Each product
    // count * ceiling is at most (2^64 - 1)^2 < 2^128, and each quotient is below
    // count, so it fits in u64.
    let mut granted = Vec::with_capacity(requests.len());
    let mut remainders = Vec::with_capacity(requests.len());
    let mut given: u128 = 0;
    for r in requests {
        let product = u128::from(r.count) * cap;
        let whole = product / total;
        given += whole;
        granted.push(whole as u64);
        remainders.push(product % total);
    }

    // The fractional parts add up to `left`, each is below one, so strictly more than
    // `left` requests have a non-zero remainder (when left > 0): only those compete, and
    // an exact quota is never rounded up.
    let left = (cap - given) as usize;
    let mut candidates: Vec<usize> = (0..requests.len()).filter(|&i| remainders[i] > 0).collect();
    candidates.sort_unstable_by(|&a, &b| {
        remainders[b]
            .cmp(&remainders[a])
            .then_with(|| requests[b].count.cmp(&requests[a].count))
            .then_with(|| requests[a].key.cmp(requests[b].key))
            .then_with(|| a.cmp(&b))
    });
    for &i in candidates.iter().take(left) {
        granted[i] += 1;
    }

    Allocation {
        granted,
        reserve: 0,
        scaled: true,
    }
}

fn keys_unique(requests: &[Request<'_>]) -> bool {
    let mut keys: Vec<&str> = requests.iter().map(|r| r.key).collect();
    keys.sort_unstable();
    keys.windows(2).all(|w| w[0] != w[1])
}

/// Thousandths of a percent in one per cent; a percentage of `p` % is held as
/// `p * 1000` so that three decimals are exact without floating point.
pub const MILLIS_PER_PERCENT: u32 = 1000;

/// 100 % in thousandths of a percent: the largest share a ceiling can be.
pub const MAX_PERCENT_MILLIS: u32 = 100 * MILLIS_PER_PERCENT;

/// The ceiling in persons: `floor(labour_force * percent_millis / 100_000)`, i.e. the
/// given percentage of the labour force (p. 18), rounded down because a fraction of a
/// person cannot be admitted and rounding up would exceed the percentage set.
///
/// `percent_millis` is the percentage times 1000 (0.25 % → 250), as returned by
/// [`parse_percent`]. Values above 100 % are not meant to occur; should one, the result
/// saturates at `u64::MAX` instead of overflowing.
pub fn ceiling(labour_force: u64, percent_millis: u32) -> u64 {
    let persons = u128::from(labour_force) * u128::from(percent_millis)
        / (100 * u128::from(MILLIS_PER_PERCENT));
    u64::try_from(persons).unwrap_or(u64::MAX)
}

/// Why a percentage was refused by [`parse_percent`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PercentError {
    /// Nothing but whitespace.
    Empty,
    /// Not a plain decimal number (digits, optionally one `.` or `,` and more digits).
    Malformed,
    /// More than three decimals: the share is kept in thousandths of a percent.
    TooPrecise,
    /// Zero, or above 100 %.
    OutOfRange,
}

impl fmt::Display for PercentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Empty => "percentage is required",
            Self::Malformed => "percentage must be a decimal number such as 0,25 or 2.9",
            Self::TooPrecise => "percentage may have at most three decimals",
            Self::OutOfRange => "percentage must be above 0 and at most 100",
        })
    }
}

impl std::error::Error for PercentError {}

/// Reads a percentage such as `"0.25"`, `"0,25"` (the Russian decimal comma), `"2.9"` or
/// `"3"` into thousandths of a percent (250, 2900, 3000).
///
/// Surrounding whitespace is ignored. Signs, exponents, thousands separators and a bare
/// leading or trailing separator (`".5"`, `"3."`) are refused, so that what the ministry
/// typed is what is applied. At most three decimals (anything finer would round away
/// silently) and `0 < p <= 100` (a quota of nothing, or of more than the whole labour
/// force, is a typing mistake).
pub fn parse_percent(s: &str) -> Result<u32, PercentError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(PercentError::Empty);
    }
    let (int_part, frac_part) = match s.find(['.', ',']) {
        Some(at) => (&s[..at], Some(&s[at + 1..])),
        None => (s, None),
    };
    let all_digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(int_part) || frac_part.is_some_and(|f| !all_digits(f)) {
        return Err(PercentError::Malformed);
    }
    let frac = frac_part.unwrap_or("");
    if frac.len() > 3 {
        return Err(PercentError::TooPrecise);
    }

    // The integer part may be arbitrarily long; anything past 100 is out of range, so
    // stop accumulating as soon as it is.
    let mut whole: u32 = 0;
    for b in int_part.bytes() {
        whole = whole * 10 + u32::from(b - b'0');
        if whole > 100 {
            return Err(PercentError::OutOfRange);
        }
    }
    let mut millis = whole * MILLIS_PER_PERCENT;
    let mut scale = MILLIS_PER_PERCENT;
    for b in frac.bytes() {
        scale /= 10;
        millis += u32::from(b - b'0') * scale;
    }
    if millis == 0 || millis > MAX_PERCENT_MILLIS {
        return Err(PercentError::OutOfRange);
    }
    Ok(millis)
}

/// Writes thousandths of a percent the Russian way, with a decimal comma and no trailing
/// zeros: 250 → `"0,25"`, 2900 → `"2,9"`, 3000 → `"3"`. The inverse of [`parse_percent`]
/// on its range, so a published figure reads back to the same value.
pub fn format_percent(millis: u32) -> String {
    let whole = millis / MILLIS_PER_PERCENT;
    let frac = millis % MILLIS_PER_PERCENT;
    if frac == 0 {
        return whole.to_string();
    }
    let digits = format!("{frac:03}");
    format!("{whole},{}", digits.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reqs<'a>(keys: &'a [String], counts: &[u64]) -> Vec<Request<'a>> {
        keys.iter()
            .zip(counts)
            .map(|(key, &count)| Request { key, count })
            .collect()
    }

    fn keys(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("k{i:03}")).collect()
    }

    fn run(counts: &[u64], ceiling: u64) -> Allocation {
        let k = keys(counts.len());
        allocate(&reqs(&k, counts), ceiling)
    }

    // ---- hand-computed examples -------------------------------------------------------

    #[test]
    fn five_three_two_into_seven() {
        // sum 10; quotas 3.5, 2.1, 1.4; floors 3, 2, 1 = 6; one left, largest remainder
        // is 0.5 (the 5).
        let a = run(&[5, 3, 2], 7);
        assert_eq!(a.granted, vec![4, 2, 1]);
        assert_eq!(a.reserve, 0);
        assert!(a.scaled);
    }

    #[test]
    fn category_totals_2026_into_ten_thousand() {
        // sum 18146. count * 10000 / 18146:
        //   726 -> 400 r 1600;  3402 -> 1874 r 14396;  5893 -> 3247 r 9938;
        //  3131 -> 1725 r 8150; 4994 -> 2752 r 2208.  Floors sum to 9998, two left:
        // remainders 14396 (3402) and 9938 (5893) are the largest.
        let a = run(&[726, 3402, 5893, 3131, 4994], 10_000);
        assert_eq!(a.granted, vec![400, 1875, 3248, 1725, 2752]);
        assert_eq!(a.granted.iter().sum::<u64>(), 10_000);
        assert_eq!(a.reserve, 0);
        assert!(a.scaled);
    }

    #[test]
    fn category_totals_2026_under_the_ceiling_leave_a_reserve() {
        let a = run(&[726, 3402, 5893, 3131, 4994], 20_000);
        assert_eq!(a.granted, vec![726, 3402, 5893, 3131, 4994]);
        assert_eq!(a.reserve, 20_000 - 18_146);
        assert!(!a.scaled);
    }

    #[test]
    fn exactly_the_ceiling_is_not_scaled() {
        let a = run(&[4, 6], 10);
        assert_eq!(a.granted, vec![4, 6]);
        assert_eq!(a.reserve, 0);
        assert!(!a.scaled);
    }

    #[test]
    fn equal_remainders_go_to_the_larger_request() {
        // sum 4, ceiling 2: quotas 0.5 and 1.5, both remainders 2/4.
        let a = run(&[1, 3], 2);
        assert_eq!(a.granted, vec![0, 2]);
    }

    #[test]
    fn equal_requests_go_by_key() {
        let a = allocate(
            &[
                Request { key: "c", count: 1 },
                Request { key: "a", count: 1 },
                Request { key: "b", count: 1 },
            ],
            2,
        );
        assert_eq!(a.granted, vec![0, 1, 1]);
    }

    #[test]
    fn zero_requests_get_zero() {
        let a = run(&[0, 10, 0, 10], 5);
        assert_eq!(a.granted[0], 0);
        assert_eq!(a.granted[2], 0);
        assert_eq!(a.granted.iter().sum::<u64>(), 5);
        let a = run(&[0, 0], 5);
        assert_eq!(a.granted, vec![0, 0]);
        assert_eq!(a.reserve, 5);
    }

    #[test]
    fn empty_input_is_all_reserve() {
        let a = allocate(&[], 123);
        assert!(a.granted.is_empty());
        assert_eq!(a.reserve, 123);
        assert!(!a.scaled);
    }

    #[test]
    fn zero_ceiling_grants_nothing() {
        let a = run(&[3, 0, 7], 0);
        assert_eq!(a.granted, vec![0, 0, 0]);
        assert_eq!(a.reserve, 0);
        assert!(a.scaled);
        let a = run(&[0, 0], 0);
        assert_eq!(a.granted, vec![0, 0]);
        assert!(!a.scaled);
    }

    #[test]
    fn exact_quotas_are_not_rounded() {
        // sum 20, ceiling 10: quotas 2, 3, 5 exactly.
        let a = run(&[4, 6, 10], 10);
        assert_eq!(a.granted, vec![2, 3, 5]);
    }

    #[test]
    fn huge_numbers_do_not_overflow() {
        let t = 1_000_000_000_000;
        let a = run(&[t, t, t - 1, 7], t);
        assert_eq!(a.granted.iter().sum::<u64>(), t);
        let m = u64::MAX;
        let a = run(&[m, m, m, 1], m);
        assert_eq!(
            a.granted.iter().map(|&g| u128::from(g)).sum::<u128>(),
            u128::from(m)
        );
        let a = run(&[m, m], m);
        assert_eq!(a.granted, vec![m / 2 + 1, m / 2]);
    }

    #[test]
    fn method_text_names_the_method() {
        assert!(METHOD_RU.contains("методом наибольших остатков"));
        assert!(METHOD_RU.contains("резерв"));
    }

    // ---- property tests with a small deterministic PRNG -------------------------------

    /// SplitMix64: tiny, deterministic, good enough to spread test cases.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }

        /// Uniform-ish in `0..=max` (modulo bias is irrelevant here).
        fn upto(&mut self, max: u64) -> u64 {
            if max == u64::MAX {
                self.next()
            } else {
                self.next() % (max + 1)
            }
        }
    }

    const CASES: usize = 4000;

    /// A random case: up to 20 requests (the 20 regions), magnitudes from tiny (many
    /// ties) to 10^12, ceilings below, around and above the total.
    fn random_case(rng: &mut Rng) -> (Vec<u64>, u64) {
        let n = rng.upto(20) as usize;
        let max = match rng.upto(3) {
            0 => 5,
            1 => 1_000,
            2 => 100_000,
            _ => 1_000_000_000_000,
        };
        let counts: Vec<u64> = (0..n)
            .map(|_| if rng.upto(9) == 0 { 0 } else { rng.upto(max) })
            .collect();
        let total: u64 = counts.iter().sum();
        let ceiling = match rng.upto(3) {
            0 => rng.upto(total),
            1 => total.saturating_sub(rng.upto(3)),
            2 => total + rng.upto(1000),
            _ => rng.upto(1_000_000_000_000),
        };
        (counts, ceiling)
    }

    #[test]
    fn prop_totals_are_exact() {
        let mut rng = Rng(1);
        for _ in 0..CASES {
            let (counts, ceiling) = random_case(&mut rng);
            let a = run(&counts, ceiling);
            let sum: u64 = a.granted.iter().sum();
            let requested: u64 = counts.iter().sum();
            assert_eq!(a.granted.len(), counts.len());
            assert_eq!(a.scaled, requested > ceiling, "{counts:?} / {ceiling}");
            if a.scaled {
                assert_eq!(sum, ceiling, "{counts:?} / {ceiling}");
                assert_eq!(a.reserve, 0);
            } else {
                assert_eq!(a.granted, counts);
                assert_eq!(sum + a.reserve, ceiling);
            }
        }
    }

    #[test]
    fn prop_never_exceeds_a_request() {
        let mut rng = Rng(2);
        for _ in 0..CASES {
            let (counts, ceiling) = random_case(&mut rng);
            let a = run(&counts, ceiling);
            for (g, c) in a.granted.iter().zip(&counts) {
                assert!(g <= c, "{counts:?} / {ceiling} -> {:?}", a.granted);
            }
        }
    }

    #[test]
    fn prop_monotone_in_own_request() {
        let mut rng = Rng(3);
        let mut checked = 0;
        while checked < CASES {
            let (mut counts, ceiling) = random_case(&mut rng);
            if counts.is_empty() {
                continue;
            }
            let i = rng.upto(counts.len() as u64 - 1) as usize;
            let before = run(&counts, ceiling).granted[i];
            let step = match rng.upto(2) {
                0 => 1,
                1 => 1 + rng.upto(10),
                _ => 1 + rng.upto(counts[i].max(1)),
            };
            counts[i] += step;
            let after = run(&counts, ceiling).granted[i];
            assert!(after >= before, "{counts:?} / {ceiling}: request {i}");
            checked += 1;
        }
    }

    #[test]
    fn prop_monotone_exhaustive_small() {
        // Every case with three requests 0..=6 and ceilings 0..=12, raising each request
        // by one: small numbers are where rounding paradoxes would show.
        for a in 0..=6u64 {
            for b in 0..=6u64 {
                for c in 0..=6u64 {
                    for ceiling in 0..=12u64 {
                        let base = run(&[a, b, c], ceiling).granted;
                        for i in 0..3 {
                            let mut counts = [a, b, c];
                            counts[i] += 1;
                            let raised = run(&counts, ceiling).granted;
                            assert!(raised[i] >= base[i], "{counts:?} / {ceiling}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn prop_order_independent() {
        let mut rng = Rng(4);
        for _ in 0..CASES {
            let (counts, ceiling) = random_case(&mut rng);
            let k = keys(counts.len());
            let mut requests = reqs(&k, &counts);
            let a = allocate(&requests, ceiling);
            // Fisher–Yates shuffle.
            for j in (1..requests.len()).rev() {
                let r = rng.upto(j as u64) as usize;
                requests.swap(j, r);
            }
            let b = allocate(&requests, ceiling);
            assert_eq!(a.reserve, b.reserve);
            assert_eq!(a.scaled, b.scaled);
            for (req, g) in requests.iter().zip(&b.granted) {
                let original = k.iter().position(|key| key == req.key).unwrap();
                assert_eq!(*g, a.granted[original], "{counts:?} / {ceiling}");
            }
        }
    }

    #[test]
    fn prop_within_one_of_exact_quota() {
        let mut rng = Rng(5);
        for _ in 0..CASES {
            let (counts, ceiling) = random_case(&mut rng);
            let a = run(&counts, ceiling);
            if !a.scaled {
                continue;
            }
            let total: u128 = counts.iter().map(|&c| u128::from(c)).sum();
            for (&g, &c) in a.granted.iter().zip(&counts) {
                // Exact quota is product / total: g must be its floor, or its ceiling when
                // it is not a whole number, i.e. |g - quota| < 1.
                let product = u128::from(c) * u128::from(ceiling);
                let floor = product / total;
                let g = u128::from(g);
                assert!(
                    g == floor || (product % total != 0 && g == floor + 1),
                    "{counts:?} / {ceiling}: {g} vs {product}/{total}"
                );
            }
        }
    }

    // ---- ceiling, parse_percent, format_percent ---------------------------------------

    #[test]
    fn ceiling_rounds_down() {
        assert_eq!(ceiling(9_250_300, 250), 23_125); // 23 125.75
        assert_eq!(ceiling(10_000_000, 2_900), 290_000);
        assert_eq!(ceiling(10_000_000, 3_000), 300_000);
        assert_eq!(ceiling(399, 250), 0); // 0.9975
        assert_eq!(ceiling(400, 250), 1);
        assert_eq!(ceiling(12_345, 100_000), 12_345);
        assert_eq!(ceiling(0, 250), 0);
        assert_eq!(ceiling(u64::MAX, 100_000), u64::MAX);
        assert_eq!(ceiling(u64::MAX, u32::MAX), u64::MAX);
    }

    #[test]
    fn parse_percent_accepts() {
        assert_eq!(parse_percent("0.25"), Ok(250));
        assert_eq!(parse_percent("0,25"), Ok(250));
        assert_eq!(parse_percent("2.9"), Ok(2_900));
        assert_eq!(parse_percent(" 3 "), Ok(3_000));
        assert_eq!(parse_percent("0.001"), Ok(1));
        assert_eq!(parse_percent("100"), Ok(100_000));
        assert_eq!(parse_percent("100.000"), Ok(100_000));
        assert_eq!(parse_percent("007.5"), Ok(7_500));
    }

    #[test]
    fn parse_percent_refuses() {
        assert_eq!(parse_percent(""), Err(PercentError::Empty));
        assert_eq!(parse_percent("   "), Err(PercentError::Empty));
        assert_eq!(parse_percent("abc"), Err(PercentError::Malformed));
        assert_eq!(parse_percent("-1"), Err(PercentError::Malformed));
        assert_eq!(parse_percent("+1"), Err(PercentError::Malformed));
        assert_eq!(parse_percent("1.2.3"), Err(PercentError::Malformed));
        assert_eq!(parse_percent("1,2.3"), Err(PercentError::Malformed));
        assert_eq!(parse_percent(".5"), Err(PercentError::Malformed));
        assert_eq!(parse_percent("3."), Err(PercentError::Malformed));
        assert_eq!(parse_percent("1e2"), Err(PercentError::Malformed));
        assert_eq!(parse_percent("2 %"), Err(PercentError::Malformed));
        assert_eq!(parse_percent("0"), Err(PercentError::OutOfRange));
        assert_eq!(parse_percent("0.000"), Err(PercentError::OutOfRange));
        assert_eq!(parse_percent("100.5"), Err(PercentError::OutOfRange));
        assert_eq!(parse_percent("100.001"), Err(PercentError::OutOfRange));
        assert_eq!(
            parse_percent("99999999999999999999"),
            Err(PercentError::OutOfRange)
        );
        assert_eq!(parse_percent("0.0001"), Err(PercentError::TooPrecise));
    }

    #[test]
    fn format_percent_russian_style() {
        assert_eq!(format_percent(250), "0,25");
        assert_eq!(format_percent(2_900), "2,9");
        assert_eq!(format_percent(3_000), "3");
        assert_eq!(format_percent(1), "0,001");
        assert_eq!(format_percent(10_050), "10,05");
        assert_eq!(format_percent(100_000), "100");
    }

    #[test]
    fn format_then_parse_round_trips() {
        for millis in 1..=MAX_PERCENT_MILLIS {
            assert_eq!(parse_percent(&format_percent(millis)), Ok(millis));
        }
    }
}
