//! Reporting periods (kỳ báo cáo) and the data cut-off windows of
//! Decree 09/2019/NĐ-CP (thời gian chốt số liệu).
//!
//! Periods are written as DHIS2 writes them, so that data interchange needs
//! no translation: `20240715` (day), `202407` (month), `2024Q3` (quarter),
//! `2024S1` (six months), `2024` (year). Vietnamese regimes also have a
//! nine-month report (báo cáo 9 tháng, January to September), which DHIS2
//! lacks; baocao writes it `2024N9`.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, Days, Months, NaiveDate};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// How often a report is due (tần suất báo cáo).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Periodicity {
    Daily,
    Monthly,
    Quarterly,
    SixMonthly,
    NineMonths,
    Yearly,
}

impl FromStr for Periodicity {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_lowercase().replace('-', "_").as_str() {
            "daily" => Ok(Periodicity::Daily),
            "monthly" => Ok(Periodicity::Monthly),
            "quarterly" => Ok(Periodicity::Quarterly),
            "six_monthly" => Ok(Periodicity::SixMonthly),
            "nine_months" => Ok(Periodicity::NineMonths),
            "yearly" => Ok(Periodicity::Yearly),
            other => Err(format!(
                "không có kỳ hạn «{other}»: cần một trong daily, monthly, quarterly, six_monthly, nine_months, yearly"
            )),
        }
    }
}

impl Periodicity {
    /// The word [`Periodicity::from_str`] reads back.
    pub fn as_str(self) -> &'static str {
        match self {
            Periodicity::Daily => "daily",
            Periodicity::Monthly => "monthly",
            Periodicity::Quarterly => "quarterly",
            Periodicity::SixMonthly => "six_monthly",
            Periodicity::NineMonths => "nine_months",
            Periodicity::Yearly => "yearly",
        }
    }

    pub fn vietnamese(self) -> &'static str {
        match self {
            Periodicity::Daily => "ngày",
            Periodicity::Monthly => "tháng",
            Periodicity::Quarterly => "quý",
            Periodicity::SixMonthly => "6 tháng",
            Periodicity::NineMonths => "9 tháng",
            Periodicity::Yearly => "năm",
        }
    }
}

/// One reporting period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Period {
    Day(NaiveDate),
    Month { year: i32, month: u32 },
    Quarter { year: i32, quarter: u32 },
    SixMonths { year: i32, half: u32 },
    NineMonths { year: i32 },
    Year { year: i32 },
}

fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("a valid calendar day")
}

use crate::date::YEARS;

impl Period {
    pub fn periodicity(&self) -> Periodicity {
        match self {
            Period::Day(_) => Periodicity::Daily,
            Period::Month { .. } => Periodicity::Monthly,
            Period::Quarter { .. } => Periodicity::Quarterly,
            Period::SixMonths { .. } => Periodicity::SixMonthly,
            Period::NineMonths { .. } => Periodicity::NineMonths,
            Period::Year { .. } => Periodicity::Yearly,
        }
    }

    pub fn year(&self) -> i32 {
        match *self {
            Period::Day(d) => d.year(),
            Period::Month { year, .. }
            | Period::Quarter { year, .. }
            | Period::SixMonths { year, .. }
            | Period::NineMonths { year }
            | Period::Year { year } => year,
        }
    }

    /// First and last month (1–12) covered, for the periods made of months.
    fn months(&self) -> (u32, u32) {
        match *self {
            Period::Day(d) => (d.month(), d.month()),
            Period::Month { month, .. } => (month, month),
            Period::Quarter { quarter, .. } => (quarter * 3 - 2, quarter * 3),
            Period::SixMonths { half, .. } => (half * 6 - 5, half * 6),
            Period::NineMonths { .. } => (1, 9),
            Period::Year { .. } => (1, 12),
        }
    }

    /// The first calendar day of the period.
    pub fn start(&self) -> NaiveDate {
        match *self {
            Period::Day(d) => d,
            _ => ymd(self.year(), self.months().0, 1),
        }
    }

    /// The last calendar day of the period.
    pub fn end(&self) -> NaiveDate {
        match *self {
            Period::Day(d) => d,
            _ => {
                let first_of_last = ymd(self.year(), self.months().1, 1);
                first_of_last + Months::new(1) - Days::new(1)
            }
        }
    }

    /// The data cut-off window of Decree 09/2019, inclusive at both ends:
    /// from the 15th of the month before the period to the 14th of its last
    /// month (yearly: 15 December of the year before to 14 December). A
    /// day's window is the day itself. The nine-month report follows the
    /// same rule (15 December of the year before to 14 September).
    pub fn cutoff(&self) -> (NaiveDate, NaiveDate) {
        match *self {
            Period::Day(d) => (d, d),
            _ => {
                let start = self.start() - Months::new(1) + Days::new(14);
                let end = ymd(self.year(), self.months().1, 14);
                (start, end)
            }
        }
    }

    /// Whether data for this period may be reported on `today`: its data
    /// cut-off window has begun (a day, once it has come).
    pub fn is_open(&self, today: NaiveDate) -> bool {
        self.cutoff().0 <= today
    }

    /// The same period one year earlier (cùng kỳ năm trước).
    pub fn year_before(&self) -> Period {
        match *self {
            Period::Day(d) => Period::Day(d.with_year(d.year() - 1).unwrap_or_else(|| ymd(d.year() - 1, 2, 28))),
            Period::Month { year, month } => Period::Month { year: year - 1, month },
            Period::Quarter { year, quarter } => Period::Quarter { year: year - 1, quarter },
            Period::SixMonths { year, half } => Period::SixMonths { year: year - 1, half },
            Period::NineMonths { year } => Period::NineMonths { year: year - 1 },
            Period::Year { year } => Period::Year { year: year - 1 },
        }
    }

    /// The periods of this one's periodicity from January to this one,
    /// which is the last (lũy kế từ đầu năm): the months of a month, the
    /// quarters of a quarter, the year alone of a year.
    pub fn year_to_date(&self) -> Vec<Period> {
        let january = NaiveDate::from_ymd_opt(self.year(), 1, 1).expect("the first of January");
        Period::ending_between(self.periodicity(), january, self.end())
    }

    /// The periods from `first` to `last`, both included: two periods of one
    /// periodicity, the first not after the last.
    pub fn range(first: Period, last: Period) -> Result<Vec<Period>, String> {
        if first.periodicity() != last.periodicity() {
            return Err(format!("kỳ đầu {first} và kỳ cuối {last} phải cùng loại kỳ (tháng, quý, năm…)"));
        }
        if last.end() < first.end() {
            return Err(format!("kỳ cuối {last} đứng trước kỳ đầu {first}"));
        }
        Ok(Period::ending_between(first.periodicity(), first.end(), last.end()))
    }

    /// Every period of a periodicity whose last day falls within `from..=to`.
    pub fn ending_between(periodicity: Periodicity, from: NaiveDate, to: NaiveDate) -> Vec<Period> {
        let mut out = Vec::new();
        if from > to {
            return out;
        }
        if periodicity == Periodicity::Daily {
            return from.iter_days().take_while(|d| *d <= to).map(Period::Day).collect();
        }
        for year in from.year()..=to.year() {
            let candidates: Vec<Period> = match periodicity {
                Periodicity::Monthly => (1..=12).map(|month| Period::Month { year, month }).collect(),
                Periodicity::Quarterly => (1..=4).map(|quarter| Period::Quarter { year, quarter }).collect(),
                Periodicity::SixMonthly => (1..=2).map(|half| Period::SixMonths { year, half }).collect(),
                Periodicity::NineMonths => vec![Period::NineMonths { year }],
                Periodicity::Yearly => vec![Period::Year { year }],
                Periodicity::Daily => unreachable!("handled above"),
            };
            out.extend(candidates.into_iter().filter(|p| (from..=to).contains(&p.end())));
        }
        out
    }

    /// The name people read: "Tháng 7/2024", "Quý III/2024", "6 tháng đầu năm 2024".
    pub fn label(&self) -> String {
        const ROMAN: [&str; 4] = ["I", "II", "III", "IV"];
        match *self {
            Period::Day(d) => format!("Ngày {}", crate::date::format_vn(d)),
            Period::Month { year, month } => format!("Tháng {month}/{year}"),
            Period::Quarter { year, quarter } => format!("Quý {}/{year}", ROMAN[(quarter - 1) as usize]),
            Period::SixMonths { year, half: 1 } => format!("6 tháng đầu năm {year}"),
            Period::SixMonths { year, .. } => format!("6 tháng cuối năm {year}"),
            Period::NineMonths { year } => format!("9 tháng năm {year}"),
            Period::Year { year } => format!("Năm {year}"),
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Period::Day(d) => write!(f, "{}", d.format("%Y%m%d")),
            Period::Month { year, month } => write!(f, "{year}{month:02}"),
            Period::Quarter { year, quarter } => write!(f, "{year}Q{quarter}"),
            Period::SixMonths { year, half } => write!(f, "{year}S{half}"),
            Period::NineMonths { year } => write!(f, "{year}N9"),
            Period::Year { year } => write!(f, "{year}"),
        }
    }
}

/// One parser for every period people or machines write: DHIS2's codes
/// (`202511`, `2025Q3`, `2025S1`, `2025N9`, `2025`, `20251130`) and the ways
/// officials write them (`11/2025`, `2025-11`, `Tháng 11/2025`, `Quý III/2025`,
/// `Quý 3/2025`, `6 tháng đầu năm 2025`, `9 tháng năm 2025`, `Năm 2025`,
/// `30/11/2025`), with or without diacritics. Every [`Period::label`] reads
/// back as its period.
impl FromStr for Period {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        let folded = crate::text::fold(text);
        written(&folded).or_else(|| dhis2(text)).filter(Period::is_valid).ok_or_else(|| {
            format!(
                "kỳ «{text}» không hợp lệ: viết tháng như 11/2025, Tháng 11/2025, 2025-11 hoặc 202511; \
                 quý như Quý 3/2025 hoặc 2025Q3; năm như 2025; 6 tháng như 2025S1; 9 tháng như 2025N9; \
                 ngày như 30/11/2025 hoặc 20251130"
            )
        })
    }
}

impl Period {
    fn is_valid(&self) -> bool {
        let year = match *self {
            Period::Day(d) => d.year(),
            Period::Month { year, month } => return YEARS.contains(&year) && (1..=12).contains(&month),
            Period::Quarter { year, quarter } => return YEARS.contains(&year) && (1..=4).contains(&quarter),
            Period::SixMonths { year, half } => return YEARS.contains(&year) && (1..=2).contains(&half),
            Period::NineMonths { year } | Period::Year { year } => year,
        };
        YEARS.contains(&year)
    }
}

/// A number of ASCII digits only (no sign, no spaces).
fn digits(text: &str) -> Option<u32> {
    (!text.is_empty() && text.len() <= 4 && text.bytes().all(|b| b.is_ascii_digit())).then(|| text.parse().ok())?
}

fn year(text: &str) -> Option<i32> {
    (text.len() == 4).then(|| digits(text))?.and_then(|y| i32::try_from(y).ok())
}

/// A quarter as a number or a Roman numeral.
fn quarter(text: &str) -> Option<u32> {
    match text {
        "i" => Some(1),
        "ii" => Some(2),
        "iii" => Some(3),
        "iv" => Some(4),
        _ => digits(text),
    }
}

/// `N/YYYY` or `N nam YYYY`, with `what` reading N.
fn of_year(text: &str, what: impl Fn(&str) -> Option<u32>) -> Option<(u32, i32)> {
    let (n, y) = text.split_once('/').or_else(|| text.split_once(" nam "))?;
    Some((what(n.trim())?, year(y.trim())?))
}

/// The ways officials write a period, on text already folded (lower case,
/// no diacritics, single spaces).
fn written(folded: &str) -> Option<Period> {
    let t = folded;
    if let Some(rest) = t.strip_prefix("ngay ") {
        return crate::date::parse_date(rest).ok().map(Period::Day);
    }
    if let Some(rest) = t.strip_prefix("thang ") {
        return of_year(rest, digits).map(|(month, year)| Period::Month { year, month });
    }
    if let Some(rest) = t.strip_prefix("quy ") {
        return of_year(rest, quarter).map(|(quarter, year)| Period::Quarter { year, quarter });
    }
    if let Some(rest) = t.strip_prefix("6 thang dau nam ") {
        return year(rest).map(|year| Period::SixMonths { year, half: 1 });
    }
    if let Some(rest) = t.strip_prefix("6 thang cuoi nam ") {
        return year(rest).map(|year| Period::SixMonths { year, half: 2 });
    }
    if let Some(rest) = t.strip_prefix("9 thang nam ") {
        return year(rest).map(|year| Period::NineMonths { year });
    }
    if let Some(rest) = t.strip_prefix("nam ") {
        return year(rest).map(|year| Period::Year { year });
    }
    match t.matches('/').count() {
        2 => return crate::date::parse_date(t).ok().map(Period::Day),
        1 => {
            return match t.strip_prefix('q') {
                Some(rest) => of_year(rest, quarter).map(|(quarter, year)| Period::Quarter { year, quarter }),
                None => of_year(t, digits).map(|(month, year)| Period::Month { year, month }),
            };
        }
        _ => {}
    }
    match t.split('-').collect::<Vec<_>>()[..] {
        [y, m] => Some(Period::Month { year: year(y)?, month: (m.len() == 2).then(|| digits(m))?? }),
        [_, _, _] => crate::date::parse_date(t).ok().map(Period::Day),
        _ => None,
    }
}

/// DHIS2's period codes.
fn dhis2(text: &str) -> Option<Period> {
    let year = year(text.get(..4)?)?;
    let rest = &text[4..];
    // Every form below is ASCII; slicing past here is then safe.
    if !rest.is_ascii() {
        return None;
    }
    Some(match rest.as_bytes() {
        [] => Period::Year { year },
        [b'Q', ..] => Period::Quarter { year, quarter: digits(&rest[1..])? },
        [b'S', ..] => Period::SixMonths { year, half: digits(&rest[1..])? },
        b"N9" => Period::NineMonths { year },
        [_, _] => Period::Month { year, month: digits(rest)? },
        [_, _, _, _] => Period::Day(NaiveDate::from_ymd_opt(year, digits(&rest[..2])?, digits(&rest[2..])?)?),
        _ => return None,
    })
}

impl Serialize for Period {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Period {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Period {
        s.parse().unwrap()
    }

    fn d(s: &str) -> NaiveDate {
        crate::date::parse_date(s).unwrap()
    }

    #[test]
    fn dhis2_period_strings_parse_and_print_back() {
        for s in ["202407", "2024Q3", "2024S1", "2024", "20240715", "2024N9", "202412", "2024Q4", "2024S2"] {
            assert_eq!(p(s).to_string(), s);
        }
        for bad in [
            "",
            "24",
            "202413",
            "2024Q5",
            "2024S3",
            "20240230",
            "2024W1",
            "abcd",
            "2024-7",
            "202407x",
            "9999",
            "20241ặ",
            "2024Qặ",
            "2024ặ1",
            "13/2025",
            "Quý 5/2025",
            "Tháng 0/2025",
            "2025-1",
            "1/2/3/4",
            "Tháng 11/25",
            "+1/2025",
            "Năm 20251",
        ] {
            let err = bad.parse::<Period>().unwrap_err();
            assert!(err.contains("không hợp lệ") && err.contains("11/2025"), "{bad}: {err}");
        }
    }

    #[test]
    fn periods_as_officials_write_them() {
        for (written, code) in [
            ("11/2025", "202511"),
            ("1/2026", "202601"),
            ("2025-11", "202511"),
            ("Tháng 11/2025", "202511"),
            ("tháng 11 năm 2025", "202511"),
            ("Thang 11/2025", "202511"),
            ("Quý 3/2025", "2025Q3"),
            ("Quý III/2025", "2025Q3"),
            ("Q3/2025", "2025Q3"),
            ("6 tháng đầu năm 2025", "2025S1"),
            ("6 thang cuoi nam 2025", "2025S2"),
            ("9 tháng năm 2025", "2025N9"),
            ("Năm 2025", "2025"),
            ("30/11/2025", "20251130"),
            ("2025-11-30", "20251130"),
            ("Ngày 30/11/2025", "20251130"),
        ] {
            assert_eq!(p(written).to_string(), code, "{written}");
        }
    }

    #[test]
    fn every_label_reads_back_as_its_period() {
        for code in ["202511", "2025Q3", "2025Q4", "2025S1", "2025S2", "2025N9", "2025", "20251130"] {
            assert_eq!(p(&p(code).label()), p(code), "{code}");
        }
    }

    #[test]
    fn calendar_ranges() {
        assert_eq!((p("202402").start(), p("202402").end()), (d("2024-02-01"), d("2024-02-29")));
        assert_eq!((p("2024Q3").start(), p("2024Q3").end()), (d("2024-07-01"), d("2024-09-30")));
        assert_eq!((p("2024S2").start(), p("2024S2").end()), (d("2024-07-01"), d("2024-12-31")));
        assert_eq!((p("2024N9").start(), p("2024N9").end()), (d("2024-01-01"), d("2024-09-30")));
        assert_eq!((p("2024").start(), p("2024").end()), (d("2024-01-01"), d("2024-12-31")));
    }

    #[test]
    fn decree_09_cutoff_windows() {
        // Monthly: 15th of the previous month to the 14th of the month.
        assert_eq!(p("202407").cutoff(), (d("2024-06-15"), d("2024-07-14")));
        assert_eq!(p("202401").cutoff(), (d("2023-12-15"), d("2024-01-14")));
        // Quarterly: 15th of the month before the quarter to the 14th of its last month.
        assert_eq!(p("2024Q1").cutoff(), (d("2023-12-15"), d("2024-03-14")));
        assert_eq!(p("2024Q3").cutoff(), (d("2024-06-15"), d("2024-09-14")));
        // Six-monthly: to the 14th of the sixth month.
        assert_eq!(p("2024S1").cutoff(), (d("2023-12-15"), d("2024-06-14")));
        assert_eq!(p("2024S2").cutoff(), (d("2024-06-15"), d("2024-12-14")));
        // Yearly: 15 December of the previous year to 14 December.
        assert_eq!(p("2024").cutoff(), (d("2023-12-15"), d("2024-12-14")));
        assert_eq!(p("2024N9").cutoff(), (d("2023-12-15"), d("2024-09-14")));
    }

    #[test]
    fn same_period_last_year_and_cumulative_months() {
        assert_eq!(p("202507").year_before(), p("202407"));
        assert_eq!(p("20240229").year_before(), p("20230228"));
        let names =
            |period: &str| -> Vec<String> { p(period).year_to_date().iter().map(ToString::to_string).collect() };
        assert_eq!(names("202503"), ["202501", "202502", "202503"]);
        assert_eq!(names("202507").len(), 7);
        assert_eq!(names("2025Q3"), ["2025Q1", "2025Q2", "2025Q3"]);
        assert_eq!(names("2025S2"), ["2025S1", "2025S2"]);
        assert_eq!(names("2025"), ["2025"]);
    }

    #[test]
    fn periods_ending_in_a_range() {
        let months = Period::ending_between(Periodicity::Monthly, d("2025-05-15"), d("2025-08-31"));
        let names: Vec<String> = months.iter().map(ToString::to_string).collect();
        assert_eq!(names, ["202505", "202506", "202507", "202508"]);
        let quarters = Period::ending_between(Periodicity::Quarterly, d("2025-01-01"), d("2025-12-31"));
        assert_eq!(quarters.len(), 4);
        assert!(Period::ending_between(Periodicity::Yearly, d("2025-01-01"), d("2025-12-30")).is_empty());
    }

    #[test]
    fn labels_in_vietnamese() {
        assert_eq!(p("202407").label(), "Tháng 7/2024");
        assert_eq!(p("2024Q3").label(), "Quý III/2024");
        assert_eq!(p("2024S1").label(), "6 tháng đầu năm 2024");
        assert_eq!(p("2024N9").label(), "9 tháng năm 2024");
        assert_eq!(p("20240715").label(), "Ngày 15/07/2024");
    }
}
