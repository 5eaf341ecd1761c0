//! Dates as Russian official documents write them.

use chrono::{Datelike, NaiveDate};

const MONTHS_GENITIVE: [&str; 12] = [
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
];

/// The long form of acts and their registration: «25» декабря 2026 года (the day in
/// guillemets, two digits, the month in the genitive).
pub fn long(d: NaiveDate) -> String {
    format!(
        "«{:02}» {} {} года",
        d.day(),
        MONTHS_GENITIVE[d.month0() as usize],
        d.year()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_form_has_the_day_in_guillemets_and_the_month_in_the_genitive() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(long(d(2026, 12, 25)), "«25» декабря 2026 года");
        assert_eq!(long(d(2027, 3, 1)), "«01» марта 2027 года");
        assert_eq!(long(d(2027, 5, 9)), "«09» мая 2027 года");
    }
}
