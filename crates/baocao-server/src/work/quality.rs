//! «Chất lượng số liệu»: the values of a regime's period an approver works
//! through — outliers against each unit's own history, values missing,
//! rules broken, gaps in a series, follow-ups — and each unit's score.
//!
//! A unit's history is composed in the structure of the period's own last
//! day (`Db::restate_table`), so a commune made in 2025 is compared with
//! what its predecessors reported before, and by the same counting rule
//! as every other figure (reports sent or approved).

use super::export::{Exported, FormatQuery, answer, kept_query, query};
use super::*;
use baocao_core::Indicator;
use baocao_core::form::Rule as FormRule;
use baocao_core::indicator::Aggregation;
use baocao_core::quality::{self, Bounds};
use baocao_core::table::{Cell, Table, TableRow};
use baocao_core::text::format_figure;
use baocao_store::compose::Audience;
use baocao_store::follow_ups::{FollowUp, ValueKey};
use baocao_store::restated::{self, TableQuery};

/// Earlier periods a value is compared with.
const HISTORY: usize = 24;
/// The earlier periods in which gaps of a series are counted.
const GAP_WINDOW: usize = 12;

/// One unit's line: its report and what its values raise.
struct UnitLine {
    code: String,
    name: String,
    status: String,
    /// Some value of the unit counts for the period.
    reported: bool,
    score: Option<f64>,
    score_text: String,
    missing: usize,
    outliers: usize,
    broken: usize,
    gaps: usize,
    open_follow_ups: usize,
}

/// A value that raises a question, or is marked to be checked.
struct Finding {
    unit: String,
    unit_name: String,
    indicator: String,
    indicator_name: String,
    value: String,
    expected: String,
    z: String,
    what: Vec<String>,
    follow_up: Option<FollowUp>,
    /// The account may mark or resolve it.
    decides: bool,
}

/// What a dashboard shows of the page: its figures and the units that
/// score lowest.
#[derive(Template)]
#[template(path = "quality_part.html")]
pub(super) struct QualityPart<'a> {
    page: &'a QualityPage,
    units: &'a [UnitLine],
}

/// Units a dashboard's view lists, lowest scores first.
const PART_UNITS: usize = 10;

/// The query a favourite of this page keeps: the regime alone, so that it
/// always opens on the latest period.
pub(super) fn canonical_query(text: &str) -> Result<String, ApiError> {
    kept_query(text, &["regime"], "chất lượng số liệu")
}

#[derive(Template)]
#[template(path = "quality.html")]
pub(super) struct QualityPage {
    chrome: Chrome,
    picker: Picker,
    pub regime_name: String,
    units: Vec<UnitLine>,
    findings: Vec<Finding>,
    expected_values: usize,
    missing: usize,
    outliers: usize,
    broken: usize,
    open_follow_ups: usize,
    average: String,
    withheld: usize,
    export: String,
    method: String,
}

impl Exported for QualityPage {
    fn table(&self) -> Table {
        Table {
            title: "Chất lượng số liệu".into(),
            lines: vec![self.regime_name.clone(), self.picker.period_label.clone()],
            headings: [
                "Mã",
                "Đơn vị",
                "Trạng thái",
                "Điểm",
                "Thiếu",
                "Ngoại lai",
                "Vi phạm quy tắc",
                "Kỳ bị trống",
                "Cần xác minh",
            ]
            .map(String::from)
            .to_vec(),
            rows: self
                .units
                .iter()
                .map(|u| TableRow {
                    cells: vec![
                        Cell::text(&u.code),
                        Cell::text(&u.name),
                        Cell::text(&u.status),
                        Cell::figure(u.score, ""),
                        Cell::figure(Some(u.missing as f64), ""),
                        Cell::figure(Some(u.outliers as f64), ""),
                        Cell::figure(Some(u.broken as f64), ""),
                        Cell::figure(Some(u.gaps as f64), ""),
                        Cell::figure(Some(u.open_follow_ups as f64), ""),
                    ],
                    ..Default::default()
                })
                .collect(),
            notes: vec![self.method.clone()],
            file_name: format!("chat-luong-{}-{}", self.picker.regime, self.picker.period),
        }
    }
}

impl QualityPage {
    /// The part a dashboard shows.
    pub(super) fn part(&self) -> QualityPart<'_> {
        QualityPart { page: self, units: &self.units[..self.units.len().min(PART_UNITS)] }
    }

    pub(super) fn title_line(&self) -> String {
        format!("{} · {}", self.regime_name, self.picker.period_label)
    }
}

fn method() -> String {
    format!(
        "Điểm chất lượng = tỷ lệ số chỉ tiêu phải báo cáo đã có số liệu và không bị nghi vấn (ngoại lai hoặc vi phạm quy tắc). \
         Ngoại lai: điểm z hiệu chỉnh |0,6745 × (x − trung vị) / MAD| lớn hơn {} so với tối đa {HISTORY} kỳ trước của chính đơn vị \
         (cần ít nhất {} kỳ), theo cơ cấu đơn vị của ngày cuối kỳ; khoảng kỳ vọng = trung vị ± {} × MAD / 0,6745. \
         Kỳ bị trống: số kỳ không có số liệu trong {GAP_WINDOW} kỳ trước, kể từ kỳ đầu tiên có số liệu. \
         Tính theo báo cáo đã gửi và đã duyệt.",
        format_number(quality::OUTLIER_Z, 1),
        quality::LEAST_HISTORY,
        format_number(quality::OUTLIER_Z, 1),
    )
}

/// The quality of a regime's period, for the units the account sees.
pub async fn quality(
    State(state): State<AppState>,
    access: Access,
    Query(q): Query<ListQuery>,
    Query(f): Query<FormatQuery>,
) -> Response {
    answer(&state, &access, &f, build(&state, &access, &q)).await
}

pub(super) async fn build(state: &AppState, access: &Access, q: &ListQuery) -> Result<QualityPage, ApiError> {
    let registry = state.registry().await?;
    let (regimes, regime, periods, mut period) = choose(state, q).await?;
    // Unless asked, the latest period whose reports were due: the one
    // whose quality can be judged.
    if q.period.as_deref().is_none_or(str::is_empty) {
        let today = today_in_vietnam();
        if let Some(due) = periods.iter().find(|p| regime.deadline(p) < today) {
            period = *due;
        }
    }
    let completeness = readable_completeness(state, access, &regime.code, &period).await?;
    let day = period.end();
    let versions = state.db.form_versions(&regime.form).await?;
    let form = versions.iter().find(|f| f.validity().contains(day)).ok_or_else(|| {
        ApiError::not_found(format!("Biểu mẫu {} không có phiên bản hiệu lực ngày {}.", regime.form, format_vn(day)))
    })?;
    let indicators: HashMap<String, Indicator> =
        state.db.indicators().await?.into_iter().map(|i| (i.code.clone(), i)).collect();
    // What a unit enters: the form's indicators not computed by a formula.
    let entered: Vec<String> = form
        .indicators()
        .filter(|code| indicators.get(*code).is_some_and(|i| !matches!(i.aggregation, Aggregation::Formula(_))))
        .map(str::to_string)
        .collect();

    // The periods before, as many as the history needs, of the same length.
    let length = (period.end() - period.start()).num_days() + 1;
    let first = period.start() - Days::new(length as u64 * (HISTORY as u64 + 1));
    let mut before = regime.periods(first, period.start() - Days::new(1));
    before.retain(|p| p.end() < period.start());
    let before: Vec<Period> = before.into_iter().rev().take(HISTORY).rev().collect();
    let mut asked = before.clone();
    asked.push(period);

    let counting = Counting::Official { include_submitted: true };
    let sees = |unit: &baocao_core::UnitVersion, day| access.sees(&registry, unit, day);
    let visible: Option<&baocao_store::compose::Visibility> = (!access.reads_everywhere()).then_some(&sees);
    let table = TableQuery {
        indicators: entered.clone(),
        units: completeness.units.iter().map(|u| u.code.clone()).collect(),
        periods: asked,
        structure_at: day,
    };
    let mut cells: HashMap<(String, String, Period), f64> = HashMap::new();
    state
        .db
        .restate_table(&registry, &table, Audience { counting, visible }, |chunk: Vec<restated::Cell>| {
            cells.extend(chunk.into_iter().map(|c| ((c.unit, c.indicator, c.period), c.value)));
            std::future::ready(true)
        })
        .await?;
    let follow_ups = state.db.follow_ups(&regime.code, &period).await?;

    let levels = regime.level_names();
    let name_of = |code: &str| indicators.get(code).map_or(code.to_string(), |i| i.name.clone());
    let mut units = Vec::new();
    let mut findings = Vec::new();
    for u in &completeness.units {
        let value = |indicator: &str, p: &Period| cells.get(&(u.code.clone(), indicator.to_string(), *p)).copied();
        let current: HashMap<String, f64> =
            entered.iter().filter_map(|i| Some((i.clone(), value(i, &period)?))).collect();
        // Values count from a report sent or approved, or entered without
        // one (imported): the same rule as every figure.
        let reported = !current.is_empty();
        let broken_rules = if reported { form.validate(&current, &indicators) } else { Vec::new() };
        let decides = access.can_on(&registry, Permission::ApproveReports, &u.code, day, Some(&regime.form));
        let (mut missing, mut outliers, mut gaps, mut questioned) = (0, 0, 0, 0);
        for indicator in &entered {
            // The unit's earlier figures, oldest first, read once: its
            // history, and where the last of them have gaps.
            let series: Vec<Option<f64>> = before.iter().map(|p| value(indicator, p)).collect();
            let history: Vec<f64> = series.iter().flatten().copied().collect();
            let recent = &series[series.len().saturating_sub(GAP_WINDOW)..];
            gaps += quality::gaps(&recent.iter().map(Option::is_some).collect::<Vec<_>>());
            let follow_up = follow_ups.iter().find(|f| f.unit == u.code && &f.indicator == indicator).cloned();
            let mut what = Vec::new();
            let bounds = Bounds::from_history(&history);
            let shown = current.get(indicator).copied();
            match shown {
                None => {
                    missing += 1;
                    // Listed only for a unit that reported something: one
                    // that did not misses every value, said once on its line.
                    if reported && required(form, indicator) {
                        what.push("Thiếu số liệu (bắt buộc)".to_string());
                    } else if reported {
                        what.push("Thiếu số liệu".to_string());
                    }
                }
                Some(v) => {
                    if let Some(b) = bounds.filter(|b| b.outlier(v)) {
                        outliers += 1;
                        what.push(
                            if v > b.high {
                                "Ngoại lai: cao bất thường"
                            } else {
                                "Ngoại lai: thấp bất thường"
                            }
                            .into(),
                        );
                    }
                }
            }
            let rule_breaks: Vec<String> =
                broken_rules.iter().filter(|f| &f.indicator == indicator).map(|f| f.message.clone()).collect();
            if shown.is_some() && (!rule_breaks.is_empty() || !what.is_empty()) {
                questioned += 1;
            }
            what.extend(rule_breaks);
            if what.is_empty() && follow_up.is_none() {
                continue;
            }
            findings.push(Finding {
                unit: u.code.clone(),
                unit_name: u.name.clone(),
                indicator: indicator.clone(),
                indicator_name: name_of(indicator),
                value: shown.map(format_figure).unwrap_or_default(),
                expected: bounds
                    .map(|b| {
                        format!(
                            "{} ({} – {})",
                            format_figure(b.median),
                            format_figure(b.low.max(0.0)),
                            format_figure(b.high)
                        )
                    })
                    .unwrap_or_default(),
                z: match (bounds, shown) {
                    (Some(b), Some(v)) => format_number(b.z(v), 1),
                    _ => String::new(),
                },
                what,
                follow_up,
                decides,
            });
        }
        let broken = broken_rules.len();
        let score = quality::score(entered.len(), missing, questioned);
        units.push(UnitLine {
            code: u.code.clone(),
            name: u.name.clone(),
            status: u
                .status
                .map_or("Chưa nhập".to_string(), |s| baocao_core::report::standing(s, u.approvals, &levels)),
            reported,
            score_text: score.map(|s| format_number(s, 0)).unwrap_or_default(),
            score,
            missing,
            outliers,
            broken,
            gaps,
            open_follow_ups: follow_ups.iter().filter(|f| f.unit == u.code && f.resolved.is_none()).count(),
        });
    }
    // Worst first: the page is worked through from the top.
    units.sort_by(|a, b| a.score.unwrap_or(100.0).total_cmp(&b.score.unwrap_or(100.0)));
    let scores: Vec<f64> = units.iter().filter_map(|u| u.score).collect();
    let average = if scores.is_empty() {
        String::new()
    } else {
        format_number(scores.iter().sum::<f64>() / scores.len() as f64, 1)
    };
    Ok(QualityPage {
        chrome: Chrome::new(state, access),
        picker: Picker::new(&regimes, &regime, &periods, &period),
        regime_name: regime.name.clone(),
        expected_values: entered.len() * units.len(),
        missing: units.iter().map(|u| u.missing).sum(),
        outliers: units.iter().map(|u| u.outliers).sum(),
        broken: units.iter().map(|u| u.broken).sum(),
        open_follow_ups: units.iter().map(|u| u.open_follow_ups).sum(),
        withheld: completeness.withheld,
        export: query(&[("regime", &regime.code), ("period", &period.to_string())]),
        method: method(),
        average,
        units,
        findings,
    })
}

/// Whether a rule of the form requires the indicator.
fn required(form: &baocao_core::form::Form, indicator: &str) -> bool {
    form.rules.iter().any(|r| matches!(r, FormRule::Required { indicator: i, .. } if i == indicator))
}

#[derive(Deserialize)]
pub struct FollowUpForm {
    regime: String,
    period: String,
    unit: String,
    indicator: String,
    /// `mark` or `resolve`.
    action: String,
    note: String,
}

/// Marks a value to be checked, or says what was found: by whoever may
/// approve the unit's report.
pub async fn follow_up(State(state): State<AppState>, access: Access, Form(f): Form<FollowUpForm>) -> Response {
    let done = async {
        let registry = state.registry().await?;
        let regime = state.db.regime(&f.regime).await?;
        let period: Period = f.period.parse().map_err(|e| ApiError::bad_request(format!("Trường `period`: {e}")))?;
        access.require_report(&registry, Permission::ApproveReports, &regime.form, &f.unit, &period)?;
        let versions = state.db.form_versions(&regime.form).await?;
        let form = versions.iter().find(|v| v.validity().contains(period.end()));
        if !form.is_some_and(|form| form.indicators().any(|i| i == f.indicator)) {
            return Err(ApiError::not_found(format!(
                "Chỉ tiêu «{}» không có trong biểu mẫu {} của kỳ {}.",
                f.indicator,
                regime.form,
                period.label()
            )));
        }
        let key =
            ValueKey { regime: regime.code.clone(), unit: f.unit.clone(), period, indicator: f.indicator.clone() };
        match f.action.as_str() {
            "mark" => state.db.mark_follow_up(access.username(), &key, &f.note).await?,
            "resolve" => state.db.resolve_follow_up(access.username(), &key, &f.note).await?,
            other => {
                return Err(ApiError::bad_request(format!("Trường `action`: «{other}» không phải mark hoặc resolve.")));
            }
        }
        Ok::<_, ApiError>(query(&[("regime", &regime.code), ("period", &period.to_string())]))
    };
    match done.await {
        Ok(back) => Redirect::to(&format!("/quality?{back}#findings")).into_response(),
        Err(e) => error_page(e),
    }
}
