//! The pages of reporting work: my tasks, report entry and review,
//! completeness, comparisons across periods, and the printed report.

use std::collections::{BTreeMap, HashMap};

use crate::params::Form;
use crate::params::{Path, Query};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use baocao_core::access::{Permission, Target};
use baocao_core::date::format_vn;
use baocao_core::form::{Column, Severity};
use baocao_core::regime::Regime;
use baocao_core::report::{Completeness, ReportView, column_key};
use baocao_core::text::{format_number, format_percent};
use baocao_core::workflow::{Action, Status};
use baocao_core::{Period, Registry, today_in_vietnam};
use baocao_store::reports::ReportRequest;
use baocao_store::values::Counting;
use chrono::{Datelike, Days, NaiveDate};
use serde::Deserialize;

use crate::access::{Access, unit_on};
use crate::error::ApiError;
use crate::pages::{Chrome, error_page, page_result, render};
use crate::reports_api::{act_as, readable_completeness, shown_to};
use crate::state::AppState;

/// The periods worth showing on `today`: those whose data cut-off window
/// has begun, newest first, back about three months.
fn recent_periods(regime: &Regime, today: NaiveDate) -> Vec<Period> {
    let mut periods: Vec<Period> = regime
        .periods(today - Days::new(100), today + Days::new(400))
        .into_iter()
        .filter(|p| p.cutoff().0 <= today)
        .collect();
    periods.reverse();
    periods.truncate(3);
    periods
}

use baocao_core::date::time_vn;

/// One line of a to-do list.
struct Task {
    kind: &'static str,
    regime: String,
    unit: String,
    unit_name: String,
    period: String,
    period_label: String,
    deadline: String,
    late: bool,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    chrome: Chrome,
    today: String,
    tasks: Vec<Task>,
}

/// Reports the account has to enter, send again, or approve, with deadlines.
pub async fn home(State(state): State<AppState>, access: Access) -> Response {
    page_result(
        async {
            let registry = state.registry().await?;
            let today = today_in_vietnam();
            let mut tasks = Vec::new();
            for regime in state.db.regimes().await? {
                for period in recent_periods(&regime, today) {
                    let completeness = state.db.completeness(&registry, &regime.code, &period).await?;
                    let deadline = regime.deadline(&period);
                    for u in &completeness.units {
                        let Some(unit) = registry.in_force(&u.code, period.end()) else { continue };
                        let target = Target::Unit { unit, day: period.end(), form: Some(&regime.form) };
                        let kind = match u.status {
                            None | Some(Status::Draft) if access.can(&registry, Permission::EnterReports, target) => {
                                "Cần nhập và gửi"
                            }
                            Some(Status::Returned) if access.can(&registry, Permission::EnterReports, target) => {
                                "Bị trả lại, cần sửa"
                            }
                            Some(Status::Submitted) if access.can(&registry, Permission::ApproveReports, target) => {
                                "Chờ phê duyệt"
                            }
                            _ => continue,
                        };
                        tasks.push(Task {
                            kind,
                            regime: regime.code.clone(),
                            unit: u.code.clone(),
                            unit_name: u.name.clone(),
                            period: period.to_string(),
                            period_label: period.label(),
                            deadline: format_vn(deadline),
                            late: today > deadline,
                        });
                    }
                }
            }
            Ok(HomePage { chrome: Chrome::new(&state, &access), today: format_vn(today), tasks })
        }
        .await,
    )
}

#[derive(Deserialize)]
pub struct ListQuery {
    regime: Option<String>,
    period: Option<String>,
}

struct ListRow {
    unit: String,
    name: String,
    status: &'static str,
    status_class: &'static str,
    sent: String,
    on_time: &'static str,
}

#[derive(Template)]
#[template(path = "reports.html")]
struct ReportsPage {
    chrome: Chrome,
    title: String,
    action: &'static str,
    regimes: Vec<(String, String)>,
    regime: String,
    periods: Vec<(String, String)>,
    period: String,
    period_label: String,
    deadline: String,
    rows: Vec<ListRow>,
}

/// A unit's line in a list of reports.
fn list_row(u: &baocao_core::report::UnitCompleteness) -> ListRow {
    let (status, status_class) = status_of(u.status);
    ListRow {
        unit: u.code.clone(),
        name: u.name.clone(),
        status,
        status_class,
        sent: u.submitted_at.map(time_vn).unwrap_or_default(),
        on_time: match u.on_time {
            Some(true) => "Đúng hạn",
            Some(false) => "Trễ hạn",
            None => "",
        },
    }
}

fn status_of(status: Option<Status>) -> (&'static str, &'static str) {
    match status {
        None => ("Chưa nhập", "missing"),
        Some(s) => (s.vietnamese(), s.as_str()),
    }
}

/// The chosen regime and period, or the first regime and its latest period.
async fn choose(state: &AppState, q: &ListQuery) -> Result<(Vec<Regime>, Regime, Vec<Period>, Period), ApiError> {
    let regimes = state.db.regimes().await?;
    let regime = match q.regime.as_deref().filter(|r| !r.is_empty()) {
        Some(code) => regimes.iter().find(|r| r.code == code).cloned(),
        None => regimes.first().cloned(),
    }
    .ok_or_else(|| ApiError::not_found("Chưa có chế độ báo cáo nào."))?;
    let today = today_in_vietnam();
    let mut periods = regime.periods(today - Days::new(400), today + Days::new(400));
    periods.retain(|p| p.cutoff().0 <= today);
    periods.reverse();
    let period = match q.period.as_deref().filter(|p| !p.is_empty()) {
        Some(p) => p.parse().map_err(|e| ApiError::bad_request(format!("tham số `period`: {e}")))?,
        None => *periods.first().ok_or_else(|| ApiError::not_found("Chưa có kỳ báo cáo nào."))?,
    };
    Ok((regimes, regime, periods, period))
}

/// The units of a completeness list the account may see with `permission`.
fn visible<'c>(
    registry: &Registry,
    access: &Access,
    regime: &Regime,
    completeness: &'c Completeness,
    permission: Permission,
) -> Vec<&'c baocao_core::report::UnitCompleteness> {
    let day = completeness.period.end();
    completeness
        .units
        .iter()
        .filter(|u| {
            registry.in_force(&u.code, day).is_some_and(|unit| {
                access.can(registry, permission, Target::Unit { unit, day, form: Some(&regime.form) })
            })
        })
        .collect()
}

async fn list_page(state: &AppState, access: &Access, q: ListQuery, review: bool) -> Result<ReportsPage, ApiError> {
    let registry = state.registry().await?;
    let (regimes, regime, periods, period) = choose(state, &q).await?;
    let completeness = state.db.completeness(&registry, &regime.code, &period).await?;
    let permission = if review { Permission::ApproveReports } else { Permission::ViewReports };
    let rows = visible(&registry, access, &regime, &completeness, permission)
        .into_iter()
        .filter(|u| !review || u.status == Some(Status::Submitted))
        .map(list_row)
        .collect();
    Ok(ReportsPage {
        chrome: Chrome::new(state, access),
        title: if review { "Báo cáo chờ phê duyệt".into() } else { "Báo cáo của các đơn vị".into() },
        action: if review { "/review" } else { "/reports" },
        regimes: regimes.iter().map(|r| (r.code.clone(), r.name.clone())).collect(),
        regime: regime.code.clone(),
        periods: periods.iter().map(|p| (p.to_string(), p.label())).collect(),
        period: period.to_string(),
        period_label: period.label(),
        deadline: format_vn(regime.deadline(&period)),
        rows,
    })
}

/// Reports of a regime and period, for the units the account may see.
pub async fn reports(State(state): State<AppState>, access: Access, Query(q): Query<ListQuery>) -> Response {
    page_result(list_page(&state, &access, q, false).await)
}

/// Submitted reports the account may approve.
pub async fn review(State(state): State<AppState>, access: Access, Query(q): Query<ListQuery>) -> Response {
    page_result(list_page(&state, &access, q, true).await)
}

/// A cell of the entry grid.
struct Cell {
    /// The input's name when entered here, else empty.
    input: String,
    /// Its element id, kept across htmx swaps so focus stays put.
    id: String,
    value: String,
}

struct GridRow {
    stt: String,
    label: String,
    unit_of_measure: String,
    heading: bool,
    indent: u8,
    cells: Vec<Cell>,
    messages: Vec<(bool, String)>,
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    chrome: Chrome,
    view: ReportView,
    url: String,
    status: &'static str,
    status_class: &'static str,
    deadline: String,
    columns: Vec<&'static str>,
    rows: Vec<GridRow>,
    editable: bool,
    can_approve: bool,
    any_estimated: bool,
    notice: Option<String>,
    error: Option<String>,
    general: Vec<(bool, String)>,
    signer: String,
    position: String,
    revisions: Vec<(String, String, String, String, String)>,
    legacy: Option<String>,
    can_reopen: bool,
    /// For an approved report: since when its figures are fixed.
    frozen_since: Option<String>,
}

fn shown(value: Option<f64>, column: Column) -> String {
    match (value, column) {
        (None, _) => String::new(),
        (Some(v), Column::PercentOfPlan | Column::PercentOfSamePeriod) => format_percent(v, 1),
        (Some(v), _) => format_number(v, if v.fract() == 0.0 { 0 } else { 2 }),
    }
}

/// The entry grid of a report; `entered` are the texts typed in a refused
/// attempt, shown again as typed.
fn grid(view: &ReportView, editable: bool, entered: &HashMap<String, String>) -> Vec<GridRow> {
    view.rows
        .iter()
        .map(|row| {
            let code = row.indicator.clone().unwrap_or_default();
            let cells = view
                .columns
                .iter()
                .map(|&column| {
                    let name = match column {
                        Column::ThisPeriod => format!("v:{code}"),
                        Column::YearPlan => format!("p:{code}"),
                        _ => String::new(),
                    };
                    let input = if editable && !row.heading && !row.computed && column.entered() {
                        name
                    } else {
                        String::new()
                    };
                    let value = entered
                        .get(&input)
                        .cloned()
                        .unwrap_or_else(|| shown(row.cells.get(column_key(column)).copied(), column));
                    Cell { id: input.replace(':', "-"), input, value }
                })
                .collect();
            let messages = view
                .findings
                .iter()
                .filter(|f| row.indicator.as_deref() == Some(f.indicator.as_str()))
                .map(|f| (f.severity == Severity::Error, f.message.clone()))
                .collect();
            GridRow {
                stt: row.stt.clone(),
                label: row.label.clone(),
                unit_of_measure: row.unit_of_measure.clone().unwrap_or_default(),
                heading: row.heading,
                indent: row.indent,
                cells,
                messages,
            }
        })
        .collect()
}

#[derive(Deserialize)]
pub struct ReportPath {
    regime: String,
    unit: String,
    period: String,
}

#[derive(Deserialize, Default)]
pub struct NoticeQuery {
    done: Option<String>,
}

async fn report_page(
    state: &AppState,
    access: &Access,
    path: &ReportPath,
    notice: Option<String>,
    error: Option<String>,
    entered: HashMap<String, String>,
) -> Result<ReportPage, ApiError> {
    let registry = state.registry().await?;
    let period: Period =
        path.period.parse().map_err(|e| ApiError::bad_request(format!("kỳ báo cáo «{}»: {e}", path.period)))?;
    let regime = state.db.regime(&path.regime).await?;
    let day = period.end();
    let unit = unit_on(&registry, &path.unit, day)?;
    let target = Target::Unit { unit, day, form: Some(&regime.form) };
    access.require(&registry, Permission::ViewReports, target)?;
    let mut view = state.db.report(&registry, &path.regime, &path.unit, &period).await?;
    if !entered.is_empty() {
        // A refused attempt: judge the values as typed, not as stored.
        view.findings = findings_of_entered(state, &regime, &period, &entered).await?;
    }
    // A dissolved unit's reports are legacy data: shown as they were, read-only.
    let legacy = match unit.validity.to {
        Some(end) if state.db.dissolution(&unit.code).await?.is_some() => Some(format!(
            "{} đã giải thể từ ngày {}: báo cáo là dữ liệu lưu trữ, chỉ xem, theo cơ cấu đơn vị của ngày {}.",
            unit.name,
            format_vn(end),
            format_vn(day)
        )),
        _ => None,
    };
    let editable =
        legacy.is_none() && view.status.editable() && access.can(&registry, Permission::EnterReports, target);
    let can_approve = legacy.is_none()
        && view.status == Status::Submitted
        && access.can(&registry, Permission::ApproveReports, target);
    let can_reopen = legacy.is_none()
        && view.status == Status::Approved
        && access.can(&registry, Permission::ApproveReports, target);
    // What was typed in a refused attempt is shown again as typed.
    let typed = |name: &str| entered.get(name).cloned();
    let (status, status_class) = status_of(Some(view.status));
    // While typing (values entered, nothing saved) every finding is listed
    // above the grid, the only part the check replaces; otherwise only
    // those that no row shows.
    let checking = !entered.is_empty() && error.is_none();
    let in_grid: Vec<&str> =
        if checking { Vec::new() } else { view.rows.iter().filter_map(|r| r.indicator.as_deref()).collect() };
    Ok(ReportPage {
        chrome: Chrome::new(state, access),
        legacy,
        url: format!("/reports/{}/{}/{}", path.regime, path.unit, path.period),
        status,
        status_class,
        deadline: format_vn(view.deadline),
        columns: view.columns.iter().map(|c| c.heading()).collect(),
        rows: grid(&view, editable, &entered),
        any_estimated: view.rows.iter().any(|r| r.same_period_estimated),
        editable,
        can_approve,
        notice,
        error,
        general: view
            .findings
            .iter()
            .filter(|f| !in_grid.contains(&f.indicator.as_str()))
            .map(|f| (f.severity == Severity::Error, f.message.clone()))
            .collect(),
        signer: typed("signer")
            .or_else(|| view.signature.as_ref().map(|s| s.signer.clone()))
            .unwrap_or_else(|| access.0.display_name.clone()),
        position: typed("position").or_else(|| view.signature.as_ref().map(|s| s.position.clone())).unwrap_or_default(),
        can_reopen,
        frozen_since: view.approved_at.filter(|_| view.status == Status::Approved).map(time_vn),
        revisions: view
            .revisions
            .iter()
            .rev()
            .map(|r| {
                let status = Status::parse(&r.status).map_or(r.status.clone(), |s| s.vietnamese().to_string());
                (
                    time_vn(r.at),
                    r.actor.clone(),
                    baocao_core::workflow::action_vietnamese(&r.action).to_string(),
                    status,
                    r.note.clone().unwrap_or_default(),
                )
            })
            .collect(),
        view,
    })
}

/// The rule findings for values typed into the grid (`v:CODE` fields).
async fn findings_of_entered(
    state: &AppState,
    regime: &Regime,
    period: &Period,
    entered: &HashMap<String, String>,
) -> Result<Vec<baocao_core::form::Finding>, ApiError> {
    let day = period.end();
    let versions = state.db.form_versions(&regime.form).await?;
    let Some(form) = versions.iter().find(|f| f.validity().contains(day)) else { return Ok(Vec::new()) };
    let indicators = state.db.indicators().await?.into_iter().map(|i| (i.code.clone(), i)).collect();
    let numbers: HashMap<String, f64> = entered
        .iter()
        .filter_map(|(k, v)| {
            let code = k.strip_prefix("v:")?;
            let number = baocao_core::text::parse_vn_number(v).parse::<f64>().ok()?;
            Some((code.to_string(), number))
        })
        .collect();
    Ok(form.validate(&numbers, &indicators))
}

/// A report: the entry grid while it can be edited, else read-only; the
/// approval buttons for an approver.
pub async fn report(
    State(state): State<AppState>,
    access: Access,
    Path(path): Path<ReportPath>,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let notice = q.done.as_deref().map(|d| match d {
        "save" => "Đã lưu nháp.".to_string(),
        "submit" => "Đã gửi báo cáo.".to_string(),
        "approve" => "Đã phê duyệt báo cáo.".to_string(),
        "return" => "Đã trả lại báo cáo.".to_string(),
        "reopen" => "Đã mở lại báo cáo để sửa; báo cáo trở về nháp.".to_string(),
        other => other.to_string(),
    });
    page_result(report_page(&state, &access, &path, notice, None, HashMap::new()).await)
}

/// Saves, submits, approves or returns; a refusal shows the page again with
/// the values as typed and the reason.
pub async fn act(
    State(state): State<AppState>,
    access: Access,
    Path(path): Path<ReportPath>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let field = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_string());
    let entered: HashMap<String, String> = fields
        .iter()
        .filter(|(k, _)| k.starts_with("v:") || k.starts_with("p:") || k == "signer" || k == "position")
        .cloned()
        .collect();
    if field("action").as_deref() == Some("check") {
        // Inline validation while typing (htmx): the rules on the values as
        // typed; nothing is saved.
        return page_result(report_page(&state, &access, &path, None, None, entered).await);
    }
    let action = match Action::parse(&field("action").unwrap_or_default(), field("reason")) {
        Ok(action) => action,
        Err(e) => return error_page(ApiError::bad_request(e)),
    };
    let period: Period = match path.period.parse() {
        Ok(p) => p,
        Err(e) => return error_page(ApiError::bad_request(format!("kỳ báo cáo «{}»: {e}", path.period))),
    };
    let pick = |prefix: &str| -> BTreeMap<String, String> {
        entered
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix(prefix)?.to_string(), v.clone())))
            .filter(|(_, v)| !v.trim().is_empty())
            .collect()
    };
    // Who signs is kept with a draft as with a submission.
    let signature = match (&action, field("signer"), field("position")) {
        (Action::Save | Action::Submit, Some(s), Some(p)) if !s.is_empty() && !p.is_empty() => Some((s, p)),
        _ => None,
    };
    let name = action.name();
    let request = ReportRequest {
        regime: path.regime.clone(),
        unit: path.unit.clone(),
        period,
        action,
        values: pick("v:"),
        plan: pick("p:"),
        actor: access.username().to_string(),
        signature,
        at: None,
    };
    match act_as(&state, &access, request, crate::reports_api::Answer::Outcome).await {
        Ok(_) => {
            Redirect::to(&format!("/reports/{}/{}/{}?done={name}", path.regime, path.unit, path.period)).into_response()
        }
        Err(e) if e.status == StatusCode::CONFLICT || e.status == StatusCode::BAD_REQUEST => {
            match report_page(&state, &access, &path, None, Some(e.message), entered).await {
                Ok(page) => (StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response(),
                Err(e) => error_page(e),
            }
        }
        Err(e) => error_page(e),
    }
}

#[derive(Template)]
#[template(path = "print.html")]
struct PrintPage {
    view: ReportView,
    agency: String,
    place: String,
    day: String,
    month: String,
    year: String,
    columns: Vec<&'static str>,
    rows: Vec<GridRow>,
    signer: String,
    /// The title lines of the signature block.
    titles: Vec<String>,
    /// Made from the demo's data: marked so on the sheet.
    demo: bool,
}

/// The report laid out as an official document (Decree 30/2020 layout:
/// issuing agency and number on the left, national motto on the right,
/// place and date, title, body, signature block, recipients), for printing.
pub async fn print(State(state): State<AppState>, access: Access, Path(path): Path<ReportPath>) -> Response {
    page_result(
        async {
            let page = report_page(&state, &access, &path, None, None, HashMap::new()).await?;
            let registry = state.registry().await?;
            print_page(&registry, page.view, state.settings.demo)
        }
        .await,
    )
}

fn print_page(registry: &Registry, view: ReportView, demo: bool) -> Result<PrintPage, ApiError> {
    let unit = unit_on(registry, &view.unit, view.period.end())?;
    let parent = unit.parent_code.as_deref().and_then(|p| registry.in_force(p, view.period.end()));
    let signed = view.signature.as_ref().map(|s| s.signed_at.date_naive()).unwrap_or_else(today_in_vietnam);
    // The place is the unit's name without its kind: "Xã Ngọk Bay" → "Ngọk Bay".
    let place = view.unit_name.split_once(' ').map_or(view.unit_name.clone(), |(_, rest)| rest.to_string());
    Ok(PrintPage {
        agency: format!("ỦY BAN NHÂN DÂN\n{}", view.unit_name.to_uppercase()),
        place: parent.map_or(place.clone(), |_| place),
        day: format!("{:02}", signed.day()),
        month: format!("{:02}", signed.month()),
        year: signed.year().to_string(),
        columns: view.columns.iter().map(|c| c.heading()).collect(),
        rows: grid(&view, false, &HashMap::new()),
        signer: view.signature.as_ref().map(|s| s.signer.clone()).unwrap_or_default(),
        // A commune's report is signed on behalf of its people's committee.
        titles: baocao_core::report::signature_titles(
            Some("Ủy ban nhân dân"),
            view.signature.as_ref().map_or("Chủ tịch", |s| s.position.as_str()),
        ),
        view,
        demo,
    })
}

/// A report as the printable official document (the page `/…/print`
/// shows), as a standalone HTML file: what archive packages keep.
/// `demo` marks it as made from the demo's data.
pub fn printable_report(registry: &Registry, view: ReportView, demo: bool) -> Result<String, ApiError> {
    let page = print_page(registry, view, demo)?;
    let html = page
        .render()
        .map_err(|e| ApiError { status: axum::http::StatusCode::INTERNAL_SERVER_ERROR, message: e.to_string() })?;
    Ok(crate::pages::standalone(&html))
}

struct Bar {
    label: String,
    on_time: usize,
    late: usize,
    missing: usize,
    expected: usize,
}

#[derive(Template)]
#[template(path = "completeness.html")]
struct CompletenessPage {
    chrome: Chrome,
    regimes: Vec<(String, String)>,
    regime: String,
    periods: Vec<(String, String)>,
    period: String,
    summary: Completeness,
    period_label: String,
    deadline: String,
    rows: Vec<ListRow>,
    chart: String,
}

/// Stacked bars of on-time, late and missing reports per period, as SVG.
fn chart(bars: &[Bar]) -> String {
    let (w, h, left, bottom) = (560.0_f64, 220.0_f64, 36.0_f64, 36.0_f64);
    let max = bars.iter().map(|b| b.expected).max().unwrap_or(1).max(1) as f64;
    let step = (w - left) / bars.len().max(1) as f64;
    let bar_w = step * 0.6;
    let scale = (h - bottom - 10.0) / max;
    let mut svg = format!(
        "<svg viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"Số báo cáo đúng hạn, trễ hạn và chưa gửi theo kỳ\" class=\"chart\">"
    );
    svg.push_str(&format!("<line x1=\"{left}\" y1=\"{y}\" x2=\"{w}\" y2=\"{y}\" stroke=\"#999\"/>", y = h - bottom));
    for (i, b) in bars.iter().enumerate() {
        let x = left + step * i as f64 + (step - bar_w) / 2.0;
        let mut y = h - bottom;
        for (count, color, what) in
            [(b.on_time, "#2e7d32", "đúng hạn"), (b.late, "#f9a825", "trễ hạn"), (b.missing, "#c62828", "chưa gửi")]
        {
            let height = count as f64 * scale;
            y -= height;
            svg.push_str(&format!(
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{bar_w:.1}\" height=\"{height:.1}\" fill=\"{color}\"><title>{}: {count} {what}</title></rect>",
                b.label
            ));
        }
        svg.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\">{}</text>",
            x + bar_w / 2.0,
            h - bottom + 16.0,
            b.label
        ));
    }
    svg.push_str(&format!("<text x=\"4\" y=\"14\" font-size=\"11\">{}</text></svg>", format_number(max, 0)));
    svg
}

/// Completeness and timeliness of a regime: a chart of recent periods and
/// the state of each unit in the chosen one.
pub async fn completeness(State(state): State<AppState>, access: Access, Query(q): Query<ListQuery>) -> Response {
    page_result(
        async {
            let registry = state.registry().await?;
            let (regimes, regime, periods, period) = choose(&state, &q).await?;
            let summary = readable_completeness(&state, &access, &regime.code, &period).await?;
            let mut bars = Vec::new();
            for p in periods.iter().take(6).rev() {
                let c = shown_to(
                    &registry,
                    &access,
                    &regime.form,
                    state.db.completeness(&registry, &regime.code, p).await?,
                );
                let label = match p {
                    Period::Month { year, month } => format!("{month:02}/{year}"),
                    other => other.to_string(),
                };
                bars.push(Bar { label, on_time: c.on_time, late: c.late, missing: c.missing, expected: c.expected });
            }
            let rows = visible(&registry, &access, &regime, &summary, Permission::ViewReports)
                .into_iter()
                .map(list_row)
                .collect();
            Ok(CompletenessPage {
                chrome: Chrome::new(&state, &access),
                regimes: regimes.iter().map(|r| (r.code.clone(), r.name.clone())).collect(),
                regime: regime.code.clone(),
                periods: periods.iter().map(|p| (p.to_string(), p.label())).collect(),
                period: period.to_string(),
                period_label: period.label(),
                deadline: format_vn(regime.deadline(&period)),
                chart: chart(&bars),
                rows,
                summary,
            })
        }
        .await,
    )
}

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

/// A line of values as SVG; estimated points hollow.
fn line_chart(values: &[(String, Option<f64>, bool)]) -> String {
    let (w, h, left, bottom) = (560.0_f64, 200.0_f64, 50.0_f64, 30.0_f64);
    let max = values.iter().filter_map(|v| v.1).fold(0.0_f64, f64::max).max(1.0);
    let step = (w - left - 10.0) / (values.len().max(2) - 1) as f64;
    let y_of = |v: f64| h - bottom - v / max * (h - bottom - 10.0);
    let mut svg = format!(
        "<svg viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"Giá trị chỉ tiêu theo kỳ\" class=\"chart\"><line x1=\"{left}\" y1=\"{y}\" x2=\"{w}\" y2=\"{y}\" stroke=\"#999\"/>",
        y = h - bottom
    );
    let points: Vec<String> = values
        .iter()
        .enumerate()
        .filter_map(|(i, (_, v, _))| Some(format!("{:.1},{:.1}", left + step * i as f64, y_of((*v)?))))
        .collect();
    svg.push_str(&format!(
        "<polyline fill=\"none\" stroke=\"#b3261e\" stroke-width=\"2\" points=\"{}\"/>",
        points.join(" ")
    ));
    for (i, (label, v, estimated)) in values.iter().enumerate() {
        let x = left + step * i as f64;
        if let Some(v) = v {
            let fill = if *estimated { "#fff" } else { "#b3261e" };
            svg.push_str(&format!(
                "<circle cx=\"{x:.1}\" cy=\"{:.1}\" r=\"4\" fill=\"{fill}\" stroke=\"#b3261e\"><title>{label}: {}{}</title></circle>",
                y_of(*v),
                format_number(*v, 0),
                if *estimated { " (ước tính)" } else { "" }
            ));
        }
        if i % 2 == 0 {
            svg.push_str(&format!(
                "<text x=\"{x:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\">{label}</text>",
                h - bottom + 14.0
            ));
        }
    }
    svg.push_str(&format!("<text x=\"2\" y=\"12\" font-size=\"10\">{}</text></svg>", format_number(max, 0)));
    svg
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
            let visible: Option<&baocao_store::values::Visibility> = (!access.reads_everywhere()).then_some(&sees);
            let include_submitted = q.submitted.is_some();
            let counting = Counting::Official { include_submitted };
            let audience = baocao_store::values::Audience { counting, visible };
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
                chart: line_chart(&series),
                points,
                include_submitted,
                counting: counting.vietnamese(),
            })
        }
        .await,
    )
}

#[derive(Deserialize)]
pub struct OutputQuery {
    form: Option<String>,
    unit: Option<String>,
    period: Option<String>,
    /// Count submitted reports too, not only approved ones.
    #[serde(default)]
    submitted: Option<String>,
}

struct OutputRow {
    stt: String,
    label: String,
    unit_of_measure: String,
    heading: bool,
    indent: u8,
    cells: Vec<String>,
    estimated: bool,
}

#[derive(Template)]
#[template(path = "output.html")]
struct OutputPage {
    chrome: Chrome,
    forms: Vec<(String, String)>,
    form: String,
    unit: String,
    periods: Vec<(String, String)>,
    period: String,
    include_submitted: bool,
    view: baocao_core::report::Consolidated,
    rows: Vec<OutputRow>,
    /// Which reports the figures count, in words.
    counting: &'static str,
}

/// An output form (biểu đầu ra): a province total or a breakdown by unit,
/// from the approved (or also submitted) reports of its regime.
pub async fn output(State(state): State<AppState>, access: Access, Query(q): Query<OutputQuery>) -> Response {
    page_result(
        async {
            let outputs: Vec<baocao_core::form::Form> =
                state.db.forms().await?.into_iter().filter(|f| f.source.is_some() && f.valid_to.is_none()).collect();
            let form = match q.form.as_deref().filter(|f| !f.is_empty()) {
                Some(code) => outputs.iter().find(|f| f.code == code),
                None => outputs.first(),
            }
            .ok_or_else(|| ApiError::not_found("Chưa có biểu đầu ra nào."))?;
            let regime_code = form.source.as_ref().map(|s| s.regime.clone()).unwrap_or_default();
            let list = ListQuery { regime: Some(regime_code), period: q.period.clone() };
            let (_, _, periods, period) = choose(&state, &list).await?;
            let unit = q
                .unit
                .filter(|u| !u.is_empty())
                .or_else(|| access.home_unit(state.settings.home_province.as_deref()))
                .ok_or_else(|| ApiError::bad_request("Chọn đơn vị (mã đơn vị)."))?;
            let include_submitted = q.submitted.is_some();
            let view =
                crate::reports_api::readable_output(&state, &access, &form.code, &unit, &period, include_submitted)
                    .await?;
            let rows = view
                .rows
                .iter()
                .map(|r| OutputRow {
                    stt: r.stt.clone(),
                    label: r.label.clone(),
                    unit_of_measure: r.unit_of_measure.clone().unwrap_or_default(),
                    heading: r.heading,
                    indent: r.indent,
                    cells: r
                        .cells
                        .iter()
                        .map(|c| c.map(|v| format_number(v, if v.fract() == 0.0 { 0 } else { 1 })).unwrap_or_default())
                        .collect(),
                    estimated: r.estimated,
                })
                .collect();
            Ok(OutputPage {
                chrome: Chrome::new(&state, &access),
                forms: outputs.iter().map(|f| (f.code.clone(), f.name.clone())).collect(),
                form: form.code.clone(),
                unit,
                periods: periods.iter().map(|p| (p.to_string(), p.label())).collect(),
                period: period.to_string(),
                include_submitted,
                rows,
                view,
                counting: Counting::Official { include_submitted }.vietnamese(),
            })
        }
        .await,
    )
}
