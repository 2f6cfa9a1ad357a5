//! When scheduled jobs run: daily at a time of day in Vietnam (UTC+7 all
//! year, no daylight saving). A run missed while no server ran is run once
//! when one starts, not once per missed day.

use chrono::{DateTime, NaiveTime, TimeZone, Utc};

use crate::date::vietnam;

/// When a job runs: every day at this time, Vietnam time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Daily(pub NaiveTime);

impl Daily {
    /// The first run strictly after `after`.
    pub fn next_after(self, after: DateTime<Utc>) -> DateTime<Utc> {
        let local = after.with_timezone(&vietnam());
        let today = vietnam()
            .from_local_datetime(&local.date_naive().and_time(self.0))
            .single()
            .expect("a fixed offset has one moment per local time");
        let next = if today > local { today } else { today + chrono::Duration::days(1) };
        next.with_timezone(&Utc)
    }

    /// "hằng ngày lúc 07:00".
    pub fn vietnamese(self) -> String {
        format!("hằng ngày lúc {}", self.0.format("%H:%M"))
    }
}

/// A time of day as officials write it: `07:00`, `7:30`.
pub fn parse_time(text: &str) -> Result<NaiveTime, String> {
    NaiveTime::parse_from_str(text.trim(), "%H:%M").map_err(|_| format!("giờ «{text}» không hợp lệ (viết như 07:00)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn a_daily_job_runs_next_at_its_time_in_vietnam() {
        let seven = Daily(parse_time("07:00").unwrap());
        // 23:30 UTC on the 3rd is 06:30 on the 4th in Vietnam: today, 07:00.
        assert_eq!(seven.next_after(at("2026-12-03T23:30:00Z")), at("2026-12-04T00:00:00Z"));
        // Exactly at its time: the next day's.
        assert_eq!(seven.next_after(at("2026-12-04T00:00:00Z")), at("2026-12-05T00:00:00Z"));
        let midnight = Daily(parse_time("0:00").unwrap());
        assert_eq!(midnight.next_after(at("2027-06-30T12:00:00Z")), at("2027-06-30T17:00:00Z"));
        assert_eq!(midnight.vietnamese(), "hằng ngày lúc 00:00");
        assert!(parse_time("25:00").is_err());
    }
}
