//! The plans' task tables (bảng nhiệm vụ: task, lead unit, coordinating
//! units, deadline, expected product, status, evidence) and the targets of
//! a digital-transformation plan, tracked against reported indicators.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Where a task stands (tình trạng).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    NotStarted,
    InProgress,
    Done,
}

impl TaskStatus {
    pub const ALL: [TaskStatus; 3] = [TaskStatus::NotStarted, TaskStatus::InProgress, TaskStatus::Done];

    /// The status as stored and as forms name it (its serde name).
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::NotStarted => "not_started",
            TaskStatus::InProgress => "in_progress",
            TaskStatus::Done => "done",
        }
    }

    pub fn vietnamese(self) -> &'static str {
        match self {
            TaskStatus::NotStarted => "chưa thực hiện",
            TaskStatus::InProgress => "đang thực hiện",
            TaskStatus::Done => "đã hoàn thành",
        }
    }
}

impl std::str::FromStr for TaskStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match crate::text::fold(s).replace(['_', '-'], " ").trim() {
            "" | "not started" | "chua thuc hien" | "chua bat dau" => Ok(TaskStatus::NotStarted),
            "in progress" | "dang thuc hien" => Ok(TaskStatus::InProgress),
            "done" | "da hoan thanh" | "hoan thanh" => Ok(TaskStatus::Done),
            _ => Err(format!("«{s}» không phải là trạng thái (chưa thực hiện, đang thực hiện, đã hoàn thành)")),
        }
    }
}

/// A task of a plan (nhiệm vụ).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Task {
    /// The plan it belongs to (e.g. "Kế hoạch 123/KH-VP").
    pub plan: String,
    /// Its number in the plan's table (TT).
    pub number: String,
    pub title: String,
    /// Đơn vị chủ trì.
    pub lead: String,
    /// Đơn vị phối hợp.
    pub coordinating: String,
    /// Thời hạn hoàn thành.
    pub deadline: NaiveDate,
    /// Sản phẩm chính.
    pub product: String,
    pub status: TaskStatus,
    /// The day it was done.
    pub done_on: Option<NaiveDate>,
    /// Minh chứng: a document number, a link.
    pub evidence: Option<String>,
}

/// How a task stands against its deadline on a day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Timeliness {
    /// Not done, deadline passed.
    Late,
    /// Not done, deadline within `DUE_SOON_DAYS`.
    DueSoon,
    OnTrack,
    DoneOnTime,
    DoneLate,
}

/// Days before a deadline that a task counts as due soon.
pub const DUE_SOON_DAYS: i64 = 7;

impl Timeliness {
    pub fn vietnamese(self) -> &'static str {
        match self {
            Timeliness::Late => "quá hạn",
            Timeliness::DueSoon => "sắp đến hạn",
            Timeliness::OnTrack => "trong hạn",
            Timeliness::DoneOnTime => "hoàn thành đúng hạn",
            Timeliness::DoneLate => "hoàn thành trễ hạn",
        }
    }
}

impl Task {
    /// The deadline is the last day to finish: done on it is on time.
    pub fn timeliness(&self, today: NaiveDate) -> Timeliness {
        match (self.status, self.done_on) {
            (TaskStatus::Done, Some(d)) if d > self.deadline => Timeliness::DoneLate,
            (TaskStatus::Done, _) => Timeliness::DoneOnTime,
            _ if today > self.deadline => Timeliness::Late,
            _ if (self.deadline - today).num_days() <= DUE_SOON_DAYS => Timeliness::DueSoon,
            _ => Timeliness::OnTrack,
        }
    }
}

/// A target of a plan (chỉ tiêu của kế hoạch), measured from reported
/// indicators: the sum of `indicator` over the units under `unit`, as a
/// percentage of the sum of `of` when given (the share of dossiers fully
/// online = fully online ÷ received).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Target {
    pub code: String,
    pub plan: String,
    pub name: String,
    pub indicator: String,
    #[serde(default)]
    pub of: Option<String>,
    /// The unit whose subtree is measured (the province).
    pub unit: String,
    /// The value to reach (a percentage when `of` is given).
    pub goal: f64,
    /// Whether the goal is a floor (at least, the default) or a ceiling.
    #[serde(default)]
    pub direction: Direction,
    /// Over which months it is measured: the month's own figures (the
    /// default) or the year so far (lũy kế).
    #[serde(default)]
    pub measure: Measure,
    /// When it should be reached.
    pub deadline: NaiveDate,
}

/// Which side of its goal a target is reached on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Reached at the goal or above (a share of dossiers online).
    #[default]
    AtLeast,
    /// Reached at the goal or below (a share of dossiers late).
    AtMost,
}

impl Direction {
    /// The goal as people write it: «≥ 60» or «≤ 5».
    pub fn sign(self) -> &'static str {
        match self {
            Direction::AtLeast => "≥",
            Direction::AtMost => "≤",
        }
    }
}

/// Over which periods a target is measured.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// The period's own figures.
    #[default]
    Period,
    /// From January to the period (lũy kế từ đầu năm), as the forms'
    /// «lũy kế» column says: a flow summed, a stock at the period's end
    /// ([`crate::Aggregation::year_to_date`]); then the share of the two
    /// when `of` is given. An indicator with no year to date (an average,
    /// a rate) cannot be measured so: the share of two flows can.
    YearToDate,
}

impl Measure {
    pub fn vietnamese(self) -> &'static str {
        match self {
            Measure::Period => "trong kỳ",
            Measure::YearToDate => "lũy kế từ đầu năm",
        }
    }
}

/// A target measured in one period.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Progress {
    pub target: Target,
    pub period: String,
    /// None when nothing was reported.
    pub value: Option<f64>,
    pub reached: bool,
}

impl Target {
    /// Whether `value` reaches the goal.
    pub fn reached(&self, value: f64) -> bool {
        match self.direction {
            Direction::AtLeast => value >= self.goal,
            Direction::AtMost => value <= self.goal,
        }
    }

    /// How far along the value is, 0–1: the share of the goal for a floor;
    /// for a ceiling, whole when under it, else the goal's share of it.
    pub fn attainment(&self, value: f64) -> f64 {
        let share = match self.direction {
            Direction::AtLeast if self.goal > 0.0 => value / self.goal,
            Direction::AtLeast => 1.0,
            Direction::AtMost if value <= self.goal => 1.0,
            Direction::AtMost => self.goal / value,
        };
        share.clamp(0.0, 1.0)
    }

    /// The measure from the two sums (numerator, denominator).
    pub fn measure(&self, sum: f64, of: Option<f64>) -> Option<f64> {
        match (&self.of, of) {
            (None, _) => Some(sum),
            (Some(_), Some(d)) if d > 0.0 => Some(sum * 100.0 / d),
            (Some(_), _) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(deadline: &str, status: TaskStatus, done: Option<&str>) -> Task {
        Task {
            plan: "KH 1".into(),
            number: "1".into(),
            title: "Thiết lập biểu đầu vào, đầu ra".into(),
            lead: "Trung tâm Phục vụ hành chính công".into(),
            coordinating: String::new(),
            deadline: crate::parse_date(deadline).unwrap(),
            product: String::new(),
            status,
            done_on: done.map(|d| crate::parse_date(d).unwrap()),
            evidence: None,
        }
    }

    #[test]
    fn a_target_is_reached_on_the_side_of_its_goal() {
        let mut t = Target {
            code: "T".into(),
            plan: "KH".into(),
            name: "Tỷ lệ".into(),
            indicator: "A".into(),
            of: Some("B".into()),
            unit: "51".into(),
            goal: 60.0,
            direction: Direction::AtLeast,
            measure: Measure::Period,
            deadline: crate::parse_date("2025-12-31").unwrap(),
        };
        assert!(t.reached(60.0) && !t.reached(59.9));
        assert_eq!(t.attainment(30.0), 0.5);
        assert_eq!(t.attainment(90.0), 1.0);
        t.direction = Direction::AtMost;
        t.goal = 5.0;
        assert!(t.reached(5.0) && t.reached(1.0) && !t.reached(5.1));
        assert_eq!(t.attainment(4.0), 1.0);
        assert_eq!(t.attainment(10.0), 0.5);
        // Written without them, a target is a floor on the period's figures.
        let plain: Target = serde_json::from_value(serde_json::json!({
            "code": "T", "plan": "KH", "name": "N", "indicator": "A", "unit": "51", "goal": 1.0, "deadline": "2025-12-31"
        }))
        .unwrap();
        assert_eq!((plain.direction, plain.measure), (Direction::AtLeast, Measure::Period));
    }

    #[test]
    fn a_task_is_late_after_its_deadline_and_done_on_it_is_on_time() {
        let today = crate::parse_date("2025-06-26").unwrap();
        assert_eq!(task("2025-06-25", TaskStatus::InProgress, None).timeliness(today), Timeliness::Late);
        assert_eq!(task("2025-06-30", TaskStatus::NotStarted, None).timeliness(today), Timeliness::DueSoon);
        assert_eq!(task("2025-07-30", TaskStatus::NotStarted, None).timeliness(today), Timeliness::OnTrack);
        assert_eq!(task("2025-06-25", TaskStatus::Done, Some("2025-06-25")).timeliness(today), Timeliness::DoneOnTime);
        assert_eq!(task("2025-06-25", TaskStatus::Done, Some("2025-06-26")).timeliness(today), Timeliness::DoneLate);
        assert_eq!("Đang thực hiện".parse::<TaskStatus>(), Ok(TaskStatus::InProgress));
        assert!("xong rồi".parse::<TaskStatus>().is_err());
    }
}
