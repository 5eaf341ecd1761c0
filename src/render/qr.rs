//! The QR code of a document's verification address, as an SVG for the templates.
//!
//! The code is the `qrcode` crate's (byte mode, level M), with its mask chosen here: the
//! crate scores the eight masks of ISO/IEC 18004 (7.8.3) with a boxed closure per
//! module, which took ~10 % of the time of issuing an Appendix 1. The scores below are
//! the crate's, computed over a plain grid, so the chosen mask and the code are the
//! same (tested against the crate for many addresses).

use std::fmt::Write;

use qrcode::canvas::{Canvas, MaskPattern};
use qrcode::types::QrResult;
use qrcode::{Color, EcLevel};

const MASKS: [MaskPattern; 8] = [
    MaskPattern::Checkerboard,
    MaskPattern::HorizontalLines,
    MaskPattern::VerticalLines,
    MaskPattern::DiagonalLines,
    MaskPattern::LargeCheckerboard,
    MaskPattern::Fields,
    MaskPattern::Diamonds,
    MaskPattern::Meadow,
];

/// The code of `payload` as each of the eight masks leaves it (row by row), with its
/// width in modules.
fn masked(payload: &str) -> QrResult<(impl Iterator<Item = Vec<Color>>, usize)> {
    let bits = qrcode::bits::encode_auto(payload.as_bytes(), EcLevel::M)?;
    let version = bits.version();
    let data = bits.into_bytes();
    let (codewords, ec) = qrcode::ec::construct_codewords(&data, version, EcLevel::M)?;
    let mut canvas = Canvas::new(version, EcLevel::M);
    canvas.draw_all_functional_patterns();
    canvas.draw_data(&codewords, &ec);
    let codes = MASKS.into_iter().map(move |mask| {
        let mut c = canvas.clone();
        c.apply_mask(mask);
        c.into_colors()
    });
    Ok((codes, version.width() as usize))
}

/// The modules of the code of `payload`, row by row.
fn modules(payload: &str) -> QrResult<Vec<Color>> {
    let (codes, width) = masked(payload)?;
    let mut best: Option<(u32, Vec<Color>)> = None;
    for colors in codes {
        let score = penalty(&colors, width);
        // The first of equal scores, as the crate chooses.
        if best.as_ref().is_none_or(|(s, _)| score < *s) {
            best = Some((score, colors));
        }
    }
    Ok(best.expect("eight masks").1)
}

/// The penalty of a masked code (lower is better): runs of 5 or more modules of one
/// colour in a row or column, 2×2 blocks of one colour, finder-like patterns with 4
/// light modules on a side, and the imbalance of dark and light.
///
/// Each row and column is a word of bits (1 = dark), so each rule is a few shifts and a
/// population count per line rather than a step per module. Codes wider than a word
/// allows (version 26 and up, far longer addresses than ours) are scored over bytes.
fn penalty(m: &[Color], w: usize) -> u32 {
    if w + 2 * PAD > 128 {
        return penalty_bytes(m, w);
    }
    let mut rows = vec![0u128; w];
    let mut columns = vec![0u128; w];
    let mut dark_count = 0;
    for (i, _) in m.iter().enumerate().filter(|(_, c)| **c == Color::Dark) {
        let (y, x) = (i / w, i % w);
        rows[y] |= 1 << x;
        columns[x] |= 1 << y;
        dark_count += 1;
    }
    let all = (1u128 << w) - 1;
    let mut score = 0u32;
    for line in rows.iter().chain(&columns) {
        score += line_penalty_bits(*line, all);
    }
    // 2×2 blocks: a module that equals its right neighbour, the one below and that one's
    // right neighbour.
    let pairs = all >> 1; // the modules that have a right neighbour
    for (&upper, &lower) in rows.iter().zip(rows.iter().skip(1)) {
        let same = !(upper ^ lower) & !(upper ^ (upper >> 1)) & !(lower ^ (lower >> 1)) & pairs;
        score += 3 * same.count_ones();
    }
    let ratio = (dark_count * 200 / m.len()) as u32;
    score + ratio.abs_diff(100)
}

/// Light modules assumed on each side of a line, for the finder-pattern rule's "4 light
/// modules (or the edge)".
const PAD: usize = 4;

/// The run and finder-pattern penalties of one row or column: bit `j` of `line` is its
/// module `j` (1 = dark), `all` has a bit for each module.
fn line_penalty_bits(line: u128, all: u128) -> u32 {
    // Bit j: modules j..j+4 all of one colour. A run of n ≥ 5 has n - 4 such starts and
    // scores n - 2, that is 2 more per run: one per start whose left neighbour is none.
    let five = |x: u128| x & (x >> 1) & (x >> 2) & (x >> 3) & (x >> 4);
    let starts = five(line) | five(!line & all);
    let runs = starts & !(starts << 1);
    let mut score = starts.count_ones() + 2 * runs.count_ones();
    // Finder-like: dark, light, dark ×3, light, dark from module j, with modules j-4..j-1
    // or j+7..j+10 light. With PAD light modules added on both ends, module j is bit
    // j + PAD and the edge counts as light.
    let padded = line << PAD;
    let light = !padded;
    let finder = padded
        & (light >> 1)
        & (padded >> 2)
        & (padded >> 3)
        & (padded >> 4)
        & (light >> 5)
        & (padded >> 6)
        & (all << PAD);
    let light4 = light & (light >> 1) & (light >> 2) & (light >> 3);
    let beside = (light4 << 4) | (light4 >> 7);
    score += 40 * (finder & beside).count_ones();
    score
}

/// [`penalty`] read over bytes, the columns as rows of a transposed copy.
fn penalty_bytes(m: &[Color], w: usize) -> u32 {
    let rows: Vec<u8> = m.iter().map(|c| u8::from(*c == Color::Dark)).collect();
    let mut columns = vec![0u8; rows.len()];
    for (y, row) in rows.chunks_exact(w).enumerate() {
        for (x, &d) in row.iter().enumerate() {
            columns[x * w + y] = d;
        }
    }
    let mut score = 0u32;
    for grid in [&rows, &columns] {
        for line in grid.chunks_exact(w) {
            score += line_penalty(line);
        }
    }
    for (upper, lower) in rows.chunks_exact(w).zip(rows.chunks_exact(w).skip(1)) {
        for x in 0..w - 1 {
            let c = upper[x];
            if upper[x + 1] == c && lower[x] == c && lower[x + 1] == c {
                score += 3;
            }
        }
    }
    let dark_count: usize = rows.iter().map(|&d| usize::from(d)).sum();
    let ratio = (dark_count * 200 / m.len()) as u32;
    score + ratio.abs_diff(100)
}

/// The run and finder-pattern penalties of one row or column (1 = dark), in one pass:
/// the last seven modules kept as the bits of a byte.
fn line_penalty(line: &[u8]) -> u32 {
    /// Dark, light, dark ×3, light, dark, the first module in the highest bit.
    const FINDER: u8 = 0b101_1101;
    let w = line.len();
    let mut score = 0u32;
    let mut run = 0u32;
    let mut window = 0u8;
    for j in 0..w {
        let d = line[j];
        if j > 0 && d == line[j - 1] {
            run += 1;
        } else {
            if run >= 5 {
                score += run - 2;
            }
            run = 1;
        }
        window = (window << 1 | d) & 0x7f;
        // With 4 light modules (or the edge) on a side.
        if j >= 6 && window == FINDER {
            let first = j - 6;
            let light_before = line[first.saturating_sub(4)..first].iter().all(|&d| d == 0);
            let light_after = line[j + 1..(j + 5).min(w)].iter().all(|&d| d == 0);
            if light_before || light_after {
                score += 40;
            }
        }
    }
    if run >= 5 {
        score += run - 2;
    }
    score
}

pub(super) fn svg(payload: &str) -> Result<String, String> {
    let colors = modules(payload).map_err(|e| format!("QR code of {payload:?}: {e}"))?;
    let width = colors.len().isqrt();
    // One path, one subpath per run of dark modules in a row, in module units with the
    // standard quiet zone of 4 modules: a few hundred path commands instead of a
    // rectangle per module, which Typst's SVG reader and the PDF export would otherwise
    // each take one by one.
    const QUIET: usize = 4;
    let side = width + 2 * QUIET;
    let mut path = String::with_capacity(width * width);
    for (y, row) in colors.chunks(width).enumerate() {
        let mut x = 0;
        while x < width {
            if row[x] == Color::Dark {
                let start = x;
                while x < width && row[x] == Color::Dark {
                    x += 1;
                }
                let run = x - start;
                let _ = write!(path, "M{} {}h{run}v1h-{run}z", start + QUIET, y + QUIET);
            } else {
                x += 1;
            }
        }
    }
    Ok(format!(
        "<?xml version=\"1.0\" standalone=\"yes\"?>\
         <svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" viewBox=\"0 0 {side} {side}\" \
         shape-rendering=\"crispEdges\"><rect width=\"{side}\" height=\"{side}\" fill=\"#fff\"/>\
         <path fill=\"#000\" d=\"{path}\"/></svg>"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_codes_are_the_crates_for_many_addresses() {
        // Lengths across versions 1 to 6; every mask wins for some of them.
        let mut masks_won = std::collections::BTreeSet::new();
        for n in 0..400u32 {
            let payload = format!(
                "https://kvota.example.kz/verify/{}{}",
                n.wrapping_mul(2_654_435_761) % 1_000_000,
                "-ABCDEFGHJK".repeat((n % 9) as usize)
            );
            let ours = modules(&payload).unwrap();
            let theirs = qrcode::QrCode::with_error_correction_level(&payload, EcLevel::M)
                .unwrap()
                .to_colors();
            assert_eq!(ours, theirs, "{payload}");
            masks_won.insert(format_bits(&ours));
        }
        assert!(masks_won.len() >= 6, "{masks_won:?}");
    }

    /// The word-wide scores are the byte-wise ones: for the eight masks of codes of many
    /// lengths, and for random grids of every width up to the widest a word takes
    /// (noise, and sparse ones, which have long runs and finder-like patterns).
    #[test]
    fn word_wide_scores_are_the_bytewise_ones() {
        for n in 0..60u32 {
            let payload = format!("https://kvota.example.kz/v/{}", "7Q".repeat(n as usize));
            let (codes, w) = masked(&payload).unwrap();
            for colors in codes {
                assert_eq!(penalty(&colors, w), penalty_bytes(&colors, w), "{payload}");
            }
        }
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut finders = 0;
        for w in 2..=120 {
            for density in [2, 8] {
                let m: Vec<Color> = (0..w * w)
                    .map(|_| match next() % density {
                        0 => Color::Dark,
                        _ => Color::Light,
                    })
                    .collect();
                assert_eq!(
                    penalty(&m, w),
                    penalty_bytes(&m, w),
                    "width {w}, density {density}"
                );
                let dark: Vec<u8> = m.iter().map(|c| u8::from(*c == Color::Dark)).collect();
                finders += dark
                    .chunks_exact(w)
                    .flat_map(|row| row.windows(7))
                    .filter(|seven| *seven == [1, 0, 1, 1, 1, 0, 1])
                    .count();
            }
        }
        // The finder rule had patterns to find.
        assert!(finders > 1000, "{finders}");
    }

    /// The format information next to the top-left finder (it names the mask).
    fn format_bits(m: &[Color]) -> Vec<bool> {
        let w = m.len().isqrt();
        (0..9).map(|x| m[8 * w + x] == Color::Dark).collect()
    }

    #[test]
    fn a_code_is_an_svg_in_module_units() {
        let svg = svg("documents/abc").unwrap();
        assert!(svg.contains("<svg"));
        // Version 1 (21 modules) and the quiet zone: a 29-module square.
        assert!(svg.contains("viewBox=\"0 0 29 29\""), "{svg}");
        // The top-left finder pattern's first row: a run of 7 dark modules.
        assert!(svg.contains("M4 4h7v1h-7z"), "{svg}");
    }
}
