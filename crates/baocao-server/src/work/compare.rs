//! «So sánh»: an indicator of a unit across months, in the structure of
//! one day.

use super::*;

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
    /// Each column says itself whether it rests on an estimated share.
    estimated: bool,
    last_year_estimated: bool,
    /// Some source was left out: the asker may not see it.
    partial: bool,
}

#[derive(Template)]
#[template(path = "compare.html")]
struct ComparePage {
    chrome: Chrome,
    indicators: Vec<(String, String)>,
    indicator: String,
    unit: String,
    unit_name: String,
    at: String,
    months: u32,
    points: Vec<ComparePoint>,
    chart: String,
    include_submitted: bool,
    /// Which reports the figures count, in words.
    counting: &'static str,
}

/// An indicator of a unit across months, every value in the structure of
/// the chosen day: a new commune's months before it existed are composed
/// from its predecessors, estimates marked.
pub async fn compare(State(state): State<AppState>, access: Access, Query(q): Query<CompareQuery>) -> Response {
    page_result(
        async {
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
            let mut periods: Vec<Period> = Period::ending_between(
                baocao_core::Periodicity::Monthly,
                today - chrono::Months::new(months + 1),
                today,
            );
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
            let mut now = state.db.query_series(&registry, &indicator, &unit_code, &all, at, audience).await?;
            let before = now.split_off(periods.len());
            let mut points = Vec::new();
            let mut series = Vec::new();
            for ((period, now), before) in periods.iter().zip(now).zip(before) {
                let label = format!("{:02}/{}", period.start().month(), period.year());
                series.push((label.clone(), now.value, now.estimated));
                points.push(ComparePoint {
                    label,
                    value: now.value.map(|v| format_number(v, 0)).unwrap_or_default(),
                    last_year: before.value.map(|v| format_number(v, 0)).unwrap_or_default(),
                    estimated: now.estimated,
                    last_year_estimated: before.estimated,
                    partial: now.withheld > 0 || before.withheld > 0,
                });
            }
            Ok(ComparePage {
                chrome: Chrome::new(&state, &access),
                indicators: indicators.iter().map(|i| (i.code.clone(), i.name.clone())).collect(),
                indicator,
                unit_name: unit.name.clone(),
                unit: unit_code,
                at: format_vn(at),
                months,
                chart: charts::line(&series),
                points,
                include_submitted,
                counting: counting.vietnamese(),
            })
        }
        .await,
    )
}
