//! «So sánh»: an indicator of a unit across months, in the structure of
//! one day.

use super::export::{Exported, FormatQuery, answer, query};
use super::*;
use baocao_core::table::{Cell, Table, TableRow};

#[derive(Deserialize)]
pub struct CompareQuery {
    indicator: Option<String>,
    unit: Option<String>,
    /// The day whose structure to use.
    at: Option<String>,
    /// How many months back.
    months: Option<u32>,
    /// Count submitted reports too, not only approved ones.
    submitted: Option<String>,
}

struct ComparePoint {
    label: String,
    value: String,
    last_year: String,
    /// The figures themselves, for the workbook.
    figures: (Option<f64>, Option<f64>),
    /// Each column's marks ([`marks`]): this month's says too whether a
    /// source of either was left out, the asker not seeing it.
    marks: &'static str,
    last_year_marks: &'static str,
    /// Where this month's figure comes from (a page), when there is one.
    origin: Option<String>,
}

#[derive(Template)]
#[template(path = "compare.html")]
struct ComparePage {
    chrome: Chrome,
    indicators: Vec<(String, String)>,
    indicator: String,
    indicator_name: String,
    unit: String,
    unit_name: String,
    /// The units the account may compare, for the picker.
    unit_choices: Vec<(String, String)>,
    at: String,
    months: u32,
    points: Vec<ComparePoint>,
    chart: String,
    include_submitted: bool,
    /// Which reports the figures count, in words.
    counting: &'static str,
    /// The page's filters, for its workbook and print links.
    export: String,
    marks: &'static str,
}

/// What the marks of a comparison mean, on the page and in its table.
const MARKS: &str = "Mọi số liệu được tính theo cơ cấu đơn vị hành chính của ngày đã chọn: số liệu của đơn vị mới trước ngày \
thành lập được cộng từ các đơn vị tiền thân; số có phần ước tính được đánh dấu *; số không gồm phần của đơn vị ngoài phạm vi \
được xem của tài khoản được đánh dấu †; số có phần lấy tự động từ hệ thống khác (nguồn cấp số liệu) được đánh dấu ‡.";

impl Exported for ComparePage {
    fn chart(&self) -> Option<&str> {
        Some(&self.chart)
    }

    fn table(&self) -> Table {
        Table {
            title: "So sánh theo kỳ".into(),
            lines: vec![
                format!("{} ({})", self.indicator_name, self.indicator),
                format!("{} ({}) · theo cơ cấu ngày {}", self.unit_name, self.unit, self.at),
            ],
            headings: ["Tháng", "Giá trị", "Cùng kỳ năm trước"].map(String::from).to_vec(),
            rows: self
                .points
                .iter()
                .map(|p| TableRow {
                    cells: vec![
                        Cell::text(&p.label),
                        Cell::Number { value: p.figures.0, decimals: 0, marks: p.marks },
                        Cell::Number { value: p.figures.1, decimals: 0, marks: p.last_year_marks },
                    ],
                    ..Default::default()
                })
                .collect(),
            notes: vec![self.counting.into(), MARKS.into()],
            file_name: format!("so-sanh-{}-{}", self.indicator, self.unit),
        }
    }
}

/// An indicator of a unit across months, every value in the structure of
/// the chosen day: a new commune's months before it existed are composed
/// from its predecessors, estimates marked.
pub async fn compare(
    State(state): State<AppState>,
    access: Access,
    Query(q): Query<CompareQuery>,
    Query(f): Query<FormatQuery>,
) -> Response {
    let page = async {
        let registry = state.registry().await?;
        let indicators = state.db.indicators().await?;
        let indicator = q
            .indicator
            .filter(|i| !i.is_empty())
            .or_else(|| indicators.first().map(|i| i.code.clone()))
            .ok_or_else(|| ApiError::not_found("Chưa có chỉ tiêu nào."))?;
        let at = crate::api::day_param("at", q.at.as_deref())?;
        let unit_code = q
            .unit
            .filter(|u| !u.is_empty())
            .or_else(|| access.home_unit(state.settings.home_province.as_deref()))
            .ok_or_else(|| ApiError::bad_request("Chọn đơn vị (mã đơn vị)."))?;
        let unit = unit_on(&registry, &unit_code, at)?;
        access.require(&registry, Permission::ViewReports, Target::Unit { unit, day: at, form: None })?;
        let months = q.months.unwrap_or(12).clamp(2, 36);
        let today = today_in_vietnam();
        let mut periods: Vec<Period> =
            Period::ending_between(baocao_core::Periodicity::Monthly, today - chrono::Months::new(months + 1), today);
        periods.retain(|p| p.cutoff().1 <= today);
        let periods: Vec<Period> = periods.into_iter().rev().take(months as usize).rev().collect();
        // This year's months and last year's, in one composition (one
        // read of each month's numbers, shares computed once per epoch).
        let all: Vec<Period> = periods.iter().copied().chain(periods.iter().map(Period::year_before)).collect();
        let sees = |unit: &baocao_core::UnitVersion, day| access.sees(&registry, unit, day);
        let visible: Option<&baocao_store::compose::Visibility> = (!access.reads_everywhere()).then_some(&sees);
        let include_submitted = q.submitted.is_some();
        let counting = Counting::Official { include_submitted };
        let audience = baocao_store::compose::Audience { counting, visible };
        let asker = access.figure_asker();
        let key = format!("compare|{indicator}|{unit_code}|{all:?}|{at}|{include_submitted}|{asker}");
        let composed = state
            .figures(key, Vec::len, async {
                Ok(state.db.query_series(&registry, &indicator, &unit_code, &all, at, audience).await?)
            })
            .await?;
        let (now, before) = composed.split_at(periods.len());
        let mut points = Vec::new();
        let mut series = Vec::new();
        for ((period, now), before) in periods.iter().zip(now).zip(before) {
            let label = format!("{:02}/{}", period.start().month(), period.year());
            series.push((label.clone(), now.value, now.estimated));
            points.push(ComparePoint {
                label,
                value: now.value.map(|v| format_number(v, 0)).unwrap_or_default(),
                last_year: before.value.map(|v| format_number(v, 0)).unwrap_or_default(),
                figures: (now.value, before.value),
                marks: marks(now.estimated, now.withheld > 0 || before.withheld > 0, now.pulled),
                last_year_marks: marks(before.estimated, false, before.pulled),
                origin: now.value.map(|_| {
                    let counted = if include_submitted { "&include_submitted=true" } else { "" };
                    format!("/values/origin?indicator={indicator}&unit={unit_code}&period={period}&structure_at={at}{counted}")
                }),
            });
        }
        let indicator_name =
            indicators.iter().find(|i| i.code == indicator).map(|i| i.name.clone()).unwrap_or_default();
        let export = query(&[
            ("indicator", &indicator),
            ("unit", &unit_code),
            ("at", &format_vn(at)),
            ("months", &months.to_string()),
            ("submitted", if include_submitted { "1" } else { "" }),
        ]);
        Ok(ComparePage {
            chrome: Chrome::new(&state, &access),
            indicators: indicators.iter().map(|i| (i.code.clone(), i.name.clone())).collect(),
            indicator,
            indicator_name,
            export,
            marks: MARKS,
            unit_name: unit.name.clone(),
            unit_choices: unit_choices(&state, &registry, &access, Permission::ViewReports, at).await?,
            unit: unit_code,
            at: format_vn(at),
            months,
            chart: charts::line(&series),
            points,
            include_submitted,
            counting: counting.vietnamese(),
        })
    };
    answer(&state, &access, &f, page).await
}
