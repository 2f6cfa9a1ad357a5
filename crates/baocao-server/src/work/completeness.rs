//! «Tiến độ»: which units sent a period's report, on time or late.

use super::export::{Exported, FormatQuery, answer, query};
use super::*;
use baocao_core::table::{Cell, Table, TableRow};

#[derive(Template)]
#[template(path = "completeness.html")]
struct CompletenessPage {
    chrome: Chrome,
    picker: Picker,
    regime_name: String,
    summary: Completeness,
    rows: Vec<ListRow>,
    chart: String,
    /// The page's filters, for its workbook and print links.
    export: String,
    counting: &'static str,
}

impl Exported for CompletenessPage {
    fn chart(&self) -> Option<&str> {
        Some(&self.chart)
    }

    fn table(&self) -> Table {
        let s = &self.summary;
        let mut notes = vec![format!(
            "Phải gửi {}; đã gửi {}; đã duyệt {}; đúng hạn {}; trễ hạn {}; chưa gửi {}.",
            s.expected, s.submitted, s.approved, s.on_time, s.late, s.missing
        )];
        if s.withheld > 0 {
            notes.push(format!(
                "Chỉ tính các đơn vị tài khoản được xem; {} đơn vị khác của chế độ báo cáo không được tính.",
                s.withheld
            ));
        }
        notes.push(COUNTING.into());
        Table {
            title: "Tiến độ gửi báo cáo".into(),
            lines: vec![
                self.regime_name.clone(),
                format!("{} · hạn gửi {}", self.picker.period_label, self.picker.deadline),
            ],
            headings: ["Mã", "Đơn vị", "Trạng thái", "Thời điểm gửi", "Thời hạn"].map(String::from).to_vec(),
            rows: self
                .rows
                .iter()
                .map(|r| TableRow {
                    cells: vec![
                        Cell::text(&r.unit),
                        Cell::text(&r.name),
                        Cell::text(r.status.clone()),
                        Cell::text(&r.sent),
                        Cell::text(r.on_time),
                    ],
                    ..Default::default()
                })
                .collect(),
            notes,
            file_name: format!("tien-do-{}-{}", self.picker.regime, self.picker.period),
        }
    }
}

/// How completeness counts, as the page and its table say it.
const COUNTING: &str = "Đã gửi gồm báo cáo đã gửi và đã duyệt; báo cáo nháp hoặc bị trả lại tính là chưa gửi. \
Số liệu tổng hợp (biểu đầu ra, so sánh, xuất dữ liệu) chỉ tính báo cáo đã duyệt, trừ khi chọn tính cả báo cáo đã gửi.";

/// Completeness and timeliness of a regime: a chart of recent periods and
/// the state of each unit in the chosen one.
pub async fn completeness(
    State(state): State<AppState>,
    access: Access,
    Query(q): Query<ListQuery>,
    Query(f): Query<FormatQuery>,
) -> Response {
    let page = async {
        let registry = state.registry().await?;
        let (regimes, regime, periods, period) = choose(&state, &q).await?;
        let summary = readable_completeness(&state, &access, &regime.code, &period).await?;
        let mut bars = Vec::new();
        for p in periods.iter().take(6).rev() {
            // The chosen period is counted already, as the asker may see it.
            let other;
            let c = if *p == period {
                &summary
            } else {
                other = shown_to(
                    &registry,
                    &access,
                    &regime.form,
                    state.db.completeness(&registry, &regime.code, p).await?,
                );
                &other
            };
            let label = match p {
                Period::Month { year, month } => format!("{month:02}/{year}"),
                other => other.to_string(),
            };
            bars.push(charts::Bar {
                label,
                on_time: c.on_time,
                late: c.late,
                missing: c.missing,
                expected: c.expected,
            });
        }
        let levels = regime.level_names();
        let rows = visible(&registry, &access, &regime, &summary, Permission::ViewReports)
            .into_iter()
            .map(|u| list_row(u, &levels))
            .collect();
        Ok(CompletenessPage {
            chrome: Chrome::new(&state, &access),
            picker: Picker::new(&regimes, &regime, &periods, &period),
            regime_name: regime.name.clone(),
            counting: COUNTING,
            export: query(&[("regime", &regime.code), ("period", &period.to_string())]),
            chart: charts::bars(&bars),
            rows,
            summary,
        })
    };
    answer(&state, &access, &f, page).await
}
