//! Days and validity intervals.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// Parses a day written either as ISO `YYYY-MM-DD` or as Vietnamese `dd/mm/yyyy`.
///
/// Both forms are accepted everywhere a person types a date, because officials
/// write `30/06/2025` while files and APIs carry `2025-06-30`.
pub fn parse_date(text: &str) -> Result<NaiveDate, String> {
    let text = text.trim();
    let parsed = if text.contains('/') {
        NaiveDate::parse_from_str(text, "%d/%m/%Y")
    } else {
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
    };
    let bad = || format!("ngày «{text}» không hợp lệ: viết dd/mm/yyyy hoặc YYYY-MM-DD");
    let day = parsed.map_err(|_| bad())?;
    // chrono reads years up to ±262142, and arithmetic on days near that
    // edge (a period's end, the next day) would leave its range.
    if !YEARS.contains(&day.year()) {
        return Err(format!("{}, năm từ {} đến {}", bad(), YEARS.start(), YEARS.end()));
    }
    Ok(day)
}

/// The years a day people type may fall in: far beyond any report, and
/// far inside the calendar arithmetic's range.
pub const YEARS: std::ops::RangeInclusive<i32> = 1900..=2999;

/// Formats a day the Vietnamese way, `dd/mm/yyyy`.
pub fn format_vn(date: NaiveDate) -> String {
    date.format("%d/%m/%Y").to_string()
}

/// The last day in force of something whose validity ends (exclusively) on
/// `end`: what people read ("đến hết ngày 30/06/2025"), where the API and
/// the database keep the exclusive end.
pub fn last_day(end: Option<NaiveDate>) -> Option<NaiveDate> {
    end.and_then(|t| t.pred_opt())
}

/// A half-open interval of days `[from, to)`.
///
/// `from = None` means "since before the registry's records begin" (the
/// baseline lists carry no start date); `to = None` means "still in force".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Validity {
    /// First day in force (YYYY-MM-DD); null: since before the records begin.
    #[serde(rename = "valid_from")]
    pub from: Option<NaiveDate>,
    /// First day no longer in force (exclusive); null while in force.
    #[serde(rename = "valid_to")]
    pub to: Option<NaiveDate>,
}

impl Validity {
    pub fn new(from: Option<NaiveDate>, to: Option<NaiveDate>) -> Self {
        Self { from, to }
    }

    /// The last day in force, `None` while in force ([`last_day`]).
    pub fn last_day(&self) -> Option<NaiveDate> {
        last_day(self.to)
    }

    pub fn contains(&self, day: NaiveDate) -> bool {
        self.from.is_none_or(|f| f <= day) && self.to.is_none_or(|t| day < t)
    }

    pub fn is_empty(&self) -> bool {
        matches!((self.from, self.to), (Some(f), Some(t)) if t <= f)
    }

    pub fn overlaps(&self, other: &Validity) -> bool {
        let starts_before_other_ends = match (self.from, other.to) {
            (Some(f), Some(t)) => f < t,
            _ => true,
        };
        let other_starts_before_self_ends = match (other.from, self.to) {
            (Some(f), Some(t)) => f < t,
            _ => true,
        };
        starts_before_other_ends && other_starts_before_self_ends
    }
}

/// Vietnam's time zone: UTC+7, no daylight saving. Deadlines, "today" and
/// every time people read are in it, whatever the server's own zone.
pub fn vietnam() -> chrono::FixedOffset {
    chrono::FixedOffset::east_opt(7 * 3600).expect("UTC+7 is a valid offset")
}

/// The day in Vietnam at `at`.
pub fn day_in_vietnam(at: chrono::DateTime<chrono::Utc>) -> NaiveDate {
    at.with_timezone(&vietnam()).date_naive()
}

/// Today in Vietnam.
pub fn today_in_vietnam() -> NaiveDate {
    day_in_vietnam(chrono::Utc::now())
}

/// A moment in Vietnam, day first, as lists and logs show it:
/// `30/11/2026 14:05`.
pub fn moment_vn(at: chrono::DateTime<chrono::Utc>) -> String {
    at.with_timezone(&vietnam()).format("%d/%m/%Y %H:%M").to_string()
}

/// [`moment_vn`] to the second: `30/11/2026 14:05:09`.
pub fn moment_vn_seconds(at: chrono::DateTime<chrono::Utc>) -> String {
    at.with_timezone(&vietnam()).format("%d/%m/%Y %H:%M:%S").to_string()
}

/// A moment as people read it in Vietnam: `14:05 30/11/2026`.
pub fn time_vn(at: chrono::DateTime<chrono::Utc>) -> String {
    at.with_timezone(&vietnam()).format("%H:%M %d/%m/%Y").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_moment_reads_in_vietnam_day_first() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-30T20:05:09Z").unwrap().to_utc();
        assert_eq!(moment_vn(at), "01/12/2026 03:05");
        assert_eq!(moment_vn_seconds(at), "01/12/2026 03:05:09");
    }

    fn d(s: &str) -> NaiveDate {
        parse_date(s).unwrap()
    }

    #[test]
    fn both_date_forms_parse_to_the_same_day() {
        assert_eq!(d("30/06/2025"), d("2025-06-30"));
        assert_eq!(format_vn(d("2025-07-01")), "01/07/2025");
    }

    #[test]
    fn bad_dates_are_named() {
        let err = parse_date("31/02/2025").unwrap_err();
        assert!(err.contains("31/02/2025"), "{err}");
        assert!(parse_date("2025-13-01").is_err());
        assert!(parse_date("yesterday").is_err());
        assert!(parse_date("+262142-12-31").is_err());
        assert!(parse_date("31/12/262142").is_err());
        assert!(parse_date("0001-01-01").is_err());
    }

    #[test]
    fn intervals_are_half_open() {
        let v = Validity::new(Some(d("2025-07-01")), None);
        assert!(!v.contains(d("2025-06-30")));
        assert!(v.contains(d("2025-07-01")));
        let old = Validity::new(None, Some(d("2025-07-01")));
        assert!(old.contains(d("2025-06-30")));
        assert!(!old.contains(d("2025-07-01")));
        assert!(!old.overlaps(&v));
        assert!(Validity::default().overlaps(&v));
    }
}
