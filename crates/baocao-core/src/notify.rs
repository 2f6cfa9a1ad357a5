//! Notifications: what baocao tells an official, when, and in which words.
//!
//! A notice has a [`Topic`] (what it is about), words (a title and a
//! sentence or two, in Vietnamese), a link to the page it concerns, and a
//! key that says which event it stands for: the same event never gives an
//! account two notices however often the job that finds it runs. Each
//! official chooses, per topic, whether a notice goes to the in-app inbox,
//! by mail, both or neither ([`Preference`]).
//!
//! Deadlines are reminded on a calendar ([`reminder_on`]): some days
//! before (as each regime sets), on the day, and once a week while
//! overdue — not every day, so that an inbox is not buried under a
//! report that is known to be late.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::date::format_vn;

/// What a notice is about; preferences are set per topic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Topic {
    /// A report's deadline is near, today or passed.
    Deadline,
    /// A report one sent was returned, approved or reopened.
    Report,
    /// A request for an ad-hoc or thematic report arrived.
    Request,
    /// A task of a plan is due soon or late.
    Task,
    /// The daily digest for approvers: what is late, by unit.
    Digest,
    /// A scheduled cutover rehearsed or applied (for system administrators).
    Cutover,
}

impl Topic {
    pub const ALL: [Topic; 6] =
        [Topic::Deadline, Topic::Report, Topic::Request, Topic::Task, Topic::Digest, Topic::Cutover];

    pub fn as_str(self) -> &'static str {
        match self {
            Topic::Deadline => "deadline",
            Topic::Report => "report",
            Topic::Request => "request",
            Topic::Task => "task",
            Topic::Digest => "digest",
            Topic::Cutover => "cutover",
        }
    }

    pub fn vietnamese(self) -> &'static str {
        match self {
            Topic::Deadline => "Nhắc hạn gửi báo cáo",
            Topic::Report => "Báo cáo bị trả lại, được phê duyệt hoặc mở lại",
            Topic::Request => "Đề nghị báo cáo mới",
            Topic::Task => "Nhiệm vụ kế hoạch sắp đến hạn, quá hạn",
            Topic::Digest => "Tổng hợp hằng ngày cho lãnh đạo (báo cáo chậm)",
            Topic::Cutover => "Chuyển đổi theo lịch: diễn tập và thực hiện",
        }
    }
}

impl std::str::FromStr for Topic {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Topic::ALL.into_iter().find(|t| t.as_str() == s).ok_or_else(|| format!("không có loại thông báo «{s}»"))
    }
}

/// Where an official wants notices of one topic. Everything comes to the
/// inbox and by mail unless they say otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preference {
    pub in_app: bool,
    pub by_mail: bool,
}

impl Default for Preference {
    fn default() -> Self {
        Preference { in_app: true, by_mail: true }
    }
}

/// A notice for one account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    pub topic: Topic,
    pub title: String,
    pub body: String,
    /// A path of the site (`/reports/…`), never another site.
    pub link: String,
    /// The event it stands for: one notice per account and key.
    pub key: String,
}

/// Days before a deadline a regime reminds when it says nothing.
pub const DEFAULT_REMINDERS: [u32; 1] = [3];

/// How long after a deadline a late report is still reminded (weekly).
pub const OVERDUE_REMINDED_DAYS: i64 = 28;

/// Which reminder falls on a day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reminder {
    /// This many days before the deadline.
    Before(u32),
    /// On the deadline.
    Today,
    /// This many days after it (1, 8, 15, 22).
    Overdue(i64),
}

impl Reminder {
    /// Part of a notice's key: each reminder is given once.
    pub fn key(self) -> String {
        match self {
            Reminder::Before(n) => format!("before-{n}"),
            Reminder::Today => "today".into(),
            Reminder::Overdue(n) => format!("overdue-{n}"),
        }
    }

    /// "còn 3 ngày đến hạn", "hôm nay đến hạn", "đã quá hạn 8 ngày".
    pub fn phrase(self) -> String {
        match self {
            Reminder::Before(n) => format!("còn {n} ngày đến hạn"),
            Reminder::Today => "hôm nay đến hạn".into(),
            Reminder::Overdue(n) => format!("đã quá hạn {n} ngày"),
        }
    }
}

/// The reminder due on `today` for a deadline, if any: `before` days
/// ahead (as the regime says), on the day, and the day after it and
/// weekly from then for [`OVERDUE_REMINDED_DAYS`].
pub fn reminder_on(deadline: NaiveDate, today: NaiveDate, before: &[u32]) -> Option<Reminder> {
    let ahead = (deadline - today).num_days();
    match ahead {
        0 => Some(Reminder::Today),
        n if n > 0 => before.iter().copied().find(|d| i64::from(*d) == n).map(Reminder::Before),
        n => {
            let late = -n;
            (late <= OVERDUE_REMINDED_DAYS && (late - 1) % 7 == 0).then_some(Reminder::Overdue(late))
        }
    }
}

/// A report's path on the site.
pub fn report_link(regime: &str, unit: &str, period: &str) -> String {
    format!("/reports/{}/{}/{}", segment(regime), segment(unit), segment(period))
}

/// Codes go into a path as they are, except what would end or change it.
fn segment(code: &str) -> String {
    code.chars()
        .map(|c| match c {
            '/' | '?' | '#' | '%' | ' ' => '_',
            c => c,
        })
        .collect()
}

/// What the workflow did to a report, as its sender is told.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReportEvent {
    pub regime: String,
    pub regime_name: String,
    pub unit: String,
    pub unit_name: String,
    pub period: String,
    pub period_label: String,
    /// return, approve, reopen.
    pub action: String,
    pub actor: String,
    pub reason: Option<String>,
    /// Who sent the report last: the one told.
    pub submitter: Option<String>,
}

impl ReportEvent {
    pub fn notice(&self, id: i64) -> Notice {
        let what = format!("{} — {} ({}), {}", self.regime_name, self.unit_name, self.unit, self.period_label);
        let (title, done) = match self.action.as_str() {
            "return" => ("Báo cáo bị trả lại", "đã trả lại báo cáo để sửa"),
            "reopen" => ("Báo cáo được mở lại để sửa", "đã mở lại báo cáo đã phê duyệt để sửa"),
            _ => ("Báo cáo đã được phê duyệt", "đã phê duyệt báo cáo"),
        };
        let reason = self.reason.as_deref().map(|r| format!(" Lý do: {r}")).unwrap_or_default();
        Notice {
            topic: Topic::Report,
            title: format!("{title}: {what}"),
            body: format!("«{}» {done} {what}.{reason}", self.actor),
            link: report_link(&self.regime, &self.unit, &self.period),
            key: format!("event-{id}"),
        }
    }
}

/// A report a unit has not sent, reminded.
pub fn deadline_notice(
    regime: (&str, &str),
    unit: (&str, &str),
    period: (&str, &str),
    deadline: NaiveDate,
    reminder: Reminder,
) -> Notice {
    let ((regime, regime_name), (code, name), (period, label)) = (regime, unit, period);
    Notice {
        topic: Topic::Deadline,
        title: format!("Báo cáo {regime_name} kỳ {label} của {name}: {}", reminder.phrase()),
        body: format!(
            "Báo cáo {regime_name} kỳ {label} của {name} ({code}) chưa được gửi; hạn gửi là ngày {}.",
            format_vn(deadline)
        ),
        link: report_link(regime, code, period),
        key: format!("deadline:{regime}:{code}:{period}:{}", reminder.key()),
    }
}

/// A request that asks a unit for a report.
pub fn request_notice(code: &str, name: &str, legal_basis: &str, deadline: NaiveDate) -> Notice {
    Notice {
        topic: Topic::Request,
        title: format!("Đề nghị báo cáo mới: {name}"),
        body: format!("Đề nghị báo cáo {code} «{name}» (căn cứ: {legal_basis}), hạn gửi ngày {}.", format_vn(deadline)),
        link: "/requests".into(),
        key: format!("request:{code}"),
    }
}

/// A task of a plan due soon or late.
pub fn task_notice(
    plan: &str,
    number: &str,
    title: &str,
    lead: &str,
    deadline: NaiveDate,
    reminder: Reminder,
) -> Notice {
    Notice {
        topic: Topic::Task,
        title: format!("Nhiệm vụ {number} ({plan}): {}", reminder.phrase()),
        body: format!("Nhiệm vụ «{title}» do {lead} chủ trì, thời hạn ngày {}, chưa hoàn thành.", format_vn(deadline)),
        link: "/tasks".into(),
        key: format!("task:{plan}:{number}:{}", reminder.key()),
    }
}

/// What a scheduled cutover's rehearsal (the day before) or application
/// (at 00:00 of its day) came to, for system administrators: `outcome`
/// says what it did or why it could not.
pub fn cutover_notice(
    key: &str,
    name: &str,
    effective: NaiveDate,
    applied: bool,
    outcome: &Result<String, String>,
) -> Notice {
    let (what, when) = if applied { ("Thực hiện", "") } else { ("Diễn tập", " (trước một ngày)") };
    let verdict = if outcome.is_ok() { "thành công" } else { "KHÔNG thành công" };
    let detail = match outcome {
        Ok(text) | Err(text) => text,
    };
    Notice {
        topic: Topic::Cutover,
        title: format!("{what} chuyển đổi «{name}»{when}: {verdict}"),
        body: format!("Đợt chuyển đổi {key}, hiệu lực từ 00:00 ngày {}.\n{detail}", format_vn(effective)),
        link: "/admin/jobs".into(),
        key: format!(
            "cutover:{key}:{}:{}",
            if applied { "apply" } else { "rehearse" },
            if outcome.is_ok() { "ok" } else { "failed" }
        ),
    }
}

/// One late report in a digest.
#[derive(Clone, Debug, PartialEq)]
pub struct Late {
    pub regime_name: String,
    pub period_label: String,
    pub unit: String,
    pub unit_name: String,
    pub deadline: NaiveDate,
}

/// The approvers' daily digest of `today`: the late reports, by unit, or
/// nothing when none is late.
pub fn digest(today: NaiveDate, late: &[Late]) -> Option<Notice> {
    if late.is_empty() {
        return None;
    }
    let mut lines: Vec<&Late> = late.iter().collect();
    lines.sort_by(|a, b| (&a.unit, &a.regime_name, a.deadline).cmp(&(&b.unit, &b.regime_name, b.deadline)));
    let units = {
        let mut u: Vec<&str> = lines.iter().map(|l| l.unit.as_str()).collect();
        u.dedup();
        u.len()
    };
    let body = lines
        .iter()
        .map(|l| {
            format!(
                "- {} ({}): {} kỳ {}, hạn {}",
                l.unit_name,
                l.unit,
                l.regime_name,
                l.period_label,
                format_vn(l.deadline)
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    Some(Notice {
        topic: Topic::Digest,
        title: format!("Ngày {}: {} báo cáo quá hạn của {units} đơn vị", format_vn(today), lines.len()),
        body,
        link: "/completeness".into(),
        key: format!("digest:{today}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn reminders_fall_before_on_and_weekly_after_the_deadline() {
        let deadline = day("2026-12-10");
        let on = |d: &str| reminder_on(deadline, day(d), &[5, 1]);
        assert_eq!(on("2026-12-05"), Some(Reminder::Before(5)));
        assert_eq!(on("2026-12-06"), None);
        assert_eq!(on("2026-12-09"), Some(Reminder::Before(1)));
        assert_eq!(on("2026-12-10"), Some(Reminder::Today));
        assert_eq!(on("2026-12-11"), Some(Reminder::Overdue(1)));
        assert_eq!(on("2026-12-12"), None);
        assert_eq!(on("2026-12-18"), Some(Reminder::Overdue(8)));
        assert_eq!(on("2027-01-01"), Some(Reminder::Overdue(22)));
        assert_eq!(on("2027-01-08"), None, "not reminded forever");
        assert_eq!(reminder_on(deadline, day("2026-12-07"), &[]), None);
    }

    #[test]
    fn each_reminder_has_its_own_key_and_links_stay_on_the_site() {
        let n = deadline_notice(
            ("BC01", "Báo cáo tháng"),
            ("26734", "Xã A"),
            ("202611", "Tháng 11/2026"),
            day("2026-12-10"),
            Reminder::Before(3),
        );
        assert_eq!(n.key, "deadline:BC01:26734:202611:before-3");
        assert_eq!(n.link, "/reports/BC01/26734/202611");
        assert!(n.body.contains("10/12/2026"), "{}", n.body);
        assert_eq!(report_link("a/../b", "x?y", "1"), "/reports/a_.._b/x_y/1");
    }

    #[test]
    fn a_digest_lists_late_reports_by_unit_and_is_silent_when_none_is_late() {
        assert_eq!(digest(day("2026-12-04"), &[]), None);
        let late = |unit: &str, regime: &str| Late {
            regime_name: regime.into(),
            period_label: "Tháng 11/2026".into(),
            unit: unit.into(),
            unit_name: format!("Xã {unit}"),
            deadline: day("2026-12-01"),
        };
        let n = digest(day("2026-12-04"), &[late("2", "B"), late("1", "A"), late("2", "A")]).unwrap();
        assert_eq!(n.title, "Ngày 04/12/2026: 3 báo cáo quá hạn của 2 đơn vị");
        let lines: Vec<&str> = n.body.lines().collect();
        assert!(lines[0].starts_with("- Xã 1 (1): A"), "{}", n.body);
        assert!(lines[2].starts_with("- Xã 2 (2): B"), "{}", n.body);
    }

    #[test]
    fn a_report_event_tells_who_did_what_and_why() {
        let e = ReportEvent {
            regime: "BC01".into(),
            regime_name: "Báo cáo tháng".into(),
            unit: "26734".into(),
            unit_name: "Xã A".into(),
            period: "202611".into(),
            period_label: "Tháng 11/2026".into(),
            action: "return".into(),
            actor: "lanhdao".into(),
            reason: Some("Thiếu số liệu dân số".into()),
            submitter: Some("canbo".into()),
        };
        let n = e.notice(7);
        assert_eq!(n.key, "event-7");
        assert!(n.title.starts_with("Báo cáo bị trả lại"), "{}", n.title);
        assert!(n.body.contains("Lý do: Thiếu số liệu dân số"), "{}", n.body);
        assert_eq!("digest".parse::<Topic>(), Ok(Topic::Digest));
    }
}
