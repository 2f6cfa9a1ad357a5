//! The pages of reporting work: my tasks, report entry and review,
//! completeness, comparisons across periods, and the printed report; one
//! module a page, the lists of reports (to send, to review) and what the
//! pages share here.

mod analysis;
mod charts;
mod compare;
mod completeness;
mod dashboards;
mod export;
mod home;
mod output;
mod quality;
mod report;
pub(crate) mod requests;
mod review;

pub use analysis::analysis;
pub use compare::compare;
pub use completeness::completeness;
pub use dashboards::{
    dashboard, dashboard_view, dashboards, delete_dashboard, delete_favourite, save_dashboard, save_favourite,
};
pub use home::home;
pub use output::output;
pub use quality::{follow_up, quality};
pub use report::{act, print, report, upload};
pub use requests::{close as close_request, extend as extend_request, requests, send as send_request};
pub use review::{approve_selected, review};

use std::collections::{BTreeMap, HashMap};

use crate::params::Form;
use crate::params::{Path, Query};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use baocao_core::access::{Permission, Target};
use baocao_core::date::{format_vn, time_vn};
use baocao_core::form::{Column, Severity};
use baocao_core::regime::Regime;
use baocao_core::report::{Completeness, ReportView};
use baocao_core::text::format_number;
use baocao_core::workflow::{Action, Status};
use baocao_core::{Period, Registry, today_in_vietnam};
use baocao_store::compose::Counting;
use baocao_store::reports::ReportRequest;
use chrono::{Datelike, Days, NaiveDate};
use serde::Deserialize;

use crate::access::{Access, unit_on};
use crate::error::ApiError;
use crate::pages::{Chrome, error_page, page_result, render, unit_choices};
use crate::reports_api::{act_as, readable_completeness, shown_to};
use crate::state::AppState;

/// The marks of a composed figure, as the pages and their files show
/// them: `*` some share estimated, `†` some source the account may not see
/// left out, `‡` some number pulled from another system.
fn marks(estimated: bool, partial: bool, pulled: bool) -> &'static str {
    const SHOWN: [&str; 8] = ["", "*", "†", "* †", "‡", "* ‡", "† ‡", "* † ‡"];
    SHOWN[usize::from(estimated) | usize::from(partial) << 1 | usize::from(pulled) << 2]
}

#[derive(Deserialize)]
pub struct ListQuery {
    regime: Option<String>,
    period: Option<String>,
}

impl ListQuery {
    /// The query of a saved view: `regime` and `period` of its pairs.
    fn of(pairs: &[(String, String)]) -> ListQuery {
        let field = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        ListQuery { regime: field("regime"), period: field("period") }
    }
}

struct ListRow {
    unit: String,
    name: String,
    /// Where the report stands (for a chain, the level it waits at).
    status: String,
    status_class: &'static str,
    sent: String,
    on_time: &'static str,
}

/// The chosen regime and period of a list page, and what its picker offers.
struct Picker {
    regimes: Vec<(String, String)>,
    regime: String,
    periods: Vec<(String, String)>,
    period: String,
    period_label: String,
    deadline: String,
}

impl Picker {
    fn new(regimes: &[Regime], regime: &Regime, periods: &[Period], period: &Period) -> Picker {
        Picker {
            regimes: regimes.iter().map(|r| (r.code.clone(), r.name.clone())).collect(),
            regime: regime.code.clone(),
            periods: periods.iter().map(|p| (p.to_string(), p.label())).collect(),
            period: period.to_string(),
            period_label: period.label(),
            deadline: format_vn(regime.deadline(period)),
        }
    }
}

/// What the list of reports can be narrowed to: a status (or late) and
/// units found by name without diacritics, or by code.
#[derive(Deserialize)]
pub struct ListFilter {
    status: Option<String>,
    q: Option<String>,
}

/// The statuses the list of reports filters by, as [`status_of`] names
/// them (code, words), and «late».
fn status_filters() -> Vec<(&'static str, &'static str)> {
    let states = [None, Some(Status::Draft), Some(Status::Submitted), Some(Status::Approved), Some(Status::Returned)];
    let mut filters: Vec<_> = states.into_iter().map(status_of).map(|(words, code)| (code, words)).collect();
    filters.extend([
        ("sent", "Đã gửi (kể cả đã duyệt)"),
        ("unsent", "Chưa gửi (kể cả nháp, bị trả lại)"),
        ("late", "Trễ hạn"),
    ]);
    filters
}

#[derive(Template)]
#[template(path = "reports.html")]
struct ReportsPage {
    chrome: Chrome,
    picker: Picker,
    rows: Vec<ListRow>,
    /// Reports the account sees before the filter.
    total: usize,
    statuses: Vec<(&'static str, &'static str)>,
    status: String,
    search: String,
}

/// A unit's line in a list of reports of a regime whose approval chain
/// has `levels`.
fn list_row(u: &baocao_core::report::UnitCompleteness, levels: &[String]) -> ListRow {
    let (status, status_class) = status_of(u.status);
    ListRow {
        unit: u.code.clone(),
        name: u.name.clone(),
        status: u.status.map_or(status.to_string(), |s| baocao_core::report::standing(s, u.approvals, levels)),
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

/// The chosen regime and period, or the first regime and its latest period;
/// the periods offered go back to the regime's first report.
async fn choose(state: &AppState, q: &ListQuery) -> Result<(Vec<Regime>, Regime, Vec<Period>, Period), ApiError> {
    let regimes = state.db.regimes().await?;
    let regime = match q.regime.as_deref().filter(|r| !r.is_empty()) {
        Some(code) => regimes.iter().find(|r| r.code == code).cloned(),
        None => regimes.first().cloned(),
    }
    .ok_or_else(|| ApiError::not_found("Chưa có chế độ báo cáo nào."))?;
    let today = today_in_vietnam();
    // Back about a year, or to the first report, whichever is earlier.
    let year_ago = today - Days::new(400);
    let first = state.db.first_report_period(&regime.code).await?.map(|p| p.start());
    let mut periods = regime.periods(first.map_or(year_ago, |f| f.min(year_ago)), today + Days::new(400));
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
        .filter(|u| access.can_on(registry, permission, &u.code, day, Some(&regime.form)))
        .collect()
}

/// Reports of a regime and period, for the units the account may see.
pub async fn reports(
    State(state): State<AppState>,
    access: Access,
    Query(q): Query<ListQuery>,
    Query(filter): Query<ListFilter>,
) -> Response {
    let page = async {
        let registry = state.registry().await?;
        let (regimes, regime, periods, period) = choose(&state, &q).await?;
        let completeness = state.db.completeness(&registry, &regime.code, &period).await?;
        let levels = regime.level_names();
        let status = filter.status.as_deref().filter(|s| !s.is_empty());
        let statuses = status_filters();
        if status.is_some_and(|s| !statuses.iter().any(|(code, _)| *code == s)) {
            return Err(ApiError::bad_request("tham số `status`: trạng thái không có trong danh sách lọc."));
        }
        let search = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
        let visible = visible(&registry, &access, &regime, &completeness, Permission::ViewReports);
        let total = visible.len();
        let rows = visible
            .into_iter()
            .filter(|u| match status {
                Some("late") => u.on_time == Some(false),
                Some("sent") => u.sent(),
                Some("unsent") => u.unsent(),
                Some(s) => status_of(u.status).1 == s,
                None => true,
            })
            .filter(|u| {
                search.is_none_or(|q| {
                    u.code.starts_with(q)
                        || baocao_core::text::matches_word_prefixes(&baocao_core::text::fold(&u.name), q)
                })
            })
            .map(|u| list_row(u, &levels))
            .collect();
        Ok(ReportsPage {
            chrome: Chrome::new(&state, &access),
            picker: Picker::new(&regimes, &regime, &periods, &period),
            rows,
            total,
            statuses,
            status: status.unwrap_or_default().to_string(),
            search: search.unwrap_or_default().to_string(),
        })
    };
    page_result(page.await)
}
