//! A plan's task table as the plans print it (TT, tên nhiệm vụ, đơn vị chủ
//! trì, đơn vị phối hợp, thời hạn hoàn thành, sản phẩm chính), with status
//! and evidence columns when the table is being followed up; CSV or the
//! first sheet of a workbook.

use baocao_core::tasks::{Task, TaskStatus};
use chrono::NaiveDate;

use crate::error::Problems;
use crate::table::{Table, first_sheet_as_csv};

const ALIASES: &[(&str, &str)] = &[
    ("tt", "number"),
    ("stt", "number"),
    ("tên nhiệm vụ", "title"),
    ("nhiệm vụ", "title"),
    ("đơn vị chủ trì", "lead"),
    ("chủ trì", "lead"),
    ("đơn vị phối hợp", "coordinating"),
    ("phối hợp", "coordinating"),
    ("thời hạn hoàn thành", "deadline"),
    ("thời hạn", "deadline"),
    ("sản phẩm chính", "product"),
    ("sản phẩm", "product"),
    ("tình trạng", "status"),
    ("trạng thái", "status"),
    ("ngày hoàn thành", "done_on"),
    ("minh chứng", "evidence"),
    ("kế hoạch", "plan"),
];

/// A deadline as the plans write it: a date, or "Trước ngày 25/6/2025"
/// (before that day: the day before is the last one).
pub fn deadline(text: &str) -> Result<NaiveDate, String> {
    let folded = baocao_core::text::fold(text);
    let before = folded.starts_with("truoc ngay") || folded.starts_with("truoc");
    let date = text.split_whitespace().last().unwrap_or_default();
    let day = baocao_core::parse_date(date)?;
    Ok(if before { day.pred_opt().unwrap_or(day) } else { day })
}

/// Reads a task table; `plan` names the plan when the table has no
/// `kế hoạch` column. All or nothing.
pub fn read_tasks_csv(file: &str, text: &str, plan: &str) -> Result<Vec<Task>, Problems> {
    let mut errors = Vec::new();
    let table = Table::read_aliased(file, text, &["number", "title", "lead", "deadline"], ALIASES, &mut errors);
    let mut out = Vec::new();
    for row in table.rows() {
        let number = row.required("number", &mut errors);
        let title = row.required("title", &mut errors);
        let lead = row.required("lead", &mut errors);
        let deadline = row.parsed("deadline", &mut errors, deadline);
        let status = row.parsed_optional("status", &mut errors, |s| s.parse::<TaskStatus>());
        let done_on = row.parsed_optional("done_on", &mut errors, |s| {
            if s.is_empty() { Ok(None) } else { baocao_core::parse_date(s).map(Some) }
        });
        let (Some(number), Some(title), Some(lead), Some(deadline), Some(status), Some(done_on)) =
            (number, title, lead, deadline, status, done_on)
        else {
            continue;
        };
        if status == TaskStatus::Done && done_on.is_none() {
            errors.push(row.problem("done_on", "nhiệm vụ đã hoàn thành cần có ngày hoàn thành"));
            continue;
        }
        let text = |c: &str| row.get(c).split_whitespace().collect::<Vec<_>>().join(" ");
        let plan = Some(text("plan")).filter(|p| !p.is_empty()).unwrap_or_else(|| plan.to_string());
        out.push(Task {
            plan,
            number,
            title: title.split_whitespace().collect::<Vec<_>>().join(" "),
            lead: lead.split_whitespace().collect::<Vec<_>>().join(" "),
            coordinating: text("coordinating"),
            deadline,
            product: text("product"),
            status,
            done_on,
            evidence: Some(text("evidence")).filter(|e| !e.is_empty()),
        });
    }
    Problems::or(errors, out)
}

pub fn read_tasks_xlsx(file: &str, bytes: &[u8], plan: &str) -> Result<Vec<Task>, Problems> {
    let (label, text) = first_sheet_as_csv(file, bytes)?;
    read_tasks_csv(&label, &text, plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plans_table_reads_with_its_own_headers_and_deadlines() {
        let text = "TT,Tên nhiệm vụ,Đơn vị chủ trì,Đơn vị phối hợp,Thời hạn hoàn thành,Sản phẩm chính,Tình trạng,Ngày hoàn thành\n\
            1,Thiết lập biểu đầu vào đầu ra cho xã mới,Trung tâm Phục vụ - Kiểm soát TTHC tỉnh,VNPT,Trước ngày 25/6/2025,Danh mục biểu mẫu,đã hoàn thành,24/06/2025\n\
            2,Rà soát tài khoản,Sở Nội vụ,,30/06/2025,,đang thực hiện,\n\
            3,Sao lưu dữ liệu,,,31/06/2025,,xong,\n";
        let err = read_tasks_csv("kh.csv", text, "KH 1").unwrap_err().to_string();
        for expected in ["kh.csv, dòng 4, cột `lead`", "dòng 4, cột `deadline`", "dòng 4, cột `status`"] {
            assert!(err.contains(expected), "{expected} in {err}");
        }
        let ok: String = text.lines().take(3).map(|l| format!("{l}\n")).collect();
        let tasks = read_tasks_csv("kh.csv", &ok, "KH 1").unwrap();
        assert_eq!(tasks[0].deadline, baocao_core::parse_date("24/06/2025").unwrap(), "before the 25th");
        assert_eq!((tasks[0].status, tasks[1].status), (TaskStatus::Done, TaskStatus::InProgress));
        assert_eq!(tasks[1].plan, "KH 1");
    }
}
