//! The plans followed up: tasks against their deadlines (what is late
//! first), and the plans' targets measured from the reports of a month.

use crate::params::Query;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use axum::response::{IntoResponse, Redirect};
use baocao_core::access::Permission;
use baocao_core::date::{format_vn, parse_date};
use baocao_core::tasks::{TaskStatus, Timeliness};
use baocao_core::text::{format_number, format_percent};
use baocao_core::{Period, today_in_vietnam};
use chrono::Datelike;
use serde::Deserialize;

use crate::access::Access;
use crate::error::ApiError;
use crate::pages::{Chrome, error_page, page_result};
use crate::params::Form;
use crate::state::AppState;

struct TaskRow {
    plan: String,
    number: String,
    title: String,
    lead: String,
    coordinating: String,
    deadline: String,
    product: String,
    status: &'static str,
    timeliness: &'static str,
    class: &'static str,
    evidence: String,
    /// The task's status code and completion day, for its update form.
    status_code: &'static str,
    done_on: String,
}

struct TargetRow {
    name: String,
    unit: String,
    /// «≥ 60,0%» or «≤ 5,0%».
    goal: String,
    /// In the period, or the year so far.
    measure: &'static str,
    value: String,
    reached: bool,
    /// 0–100, for the bar.
    share: u32,
    deadline: String,
}

#[derive(Template)]
#[template(path = "tasks.html")]
struct TasksPage {
    chrome: Chrome,
    day: String,
    late: usize,
    due_soon: usize,
    done: usize,
    total: usize,
    tasks: Vec<TaskRow>,
    period: String,
    period_label: String,
    targets: Vec<TargetRow>,
    /// Which reports the targets are measured from, in words.
    counting: &'static str,
    /// The account may record where a task stands.
    can_update: bool,
    statuses: [(&'static str, &'static str); 3],
    notice: Option<&'static str>,
}

#[derive(Deserialize)]
pub struct TasksQuery {
    period: Option<String>,
    done: Option<String>,
}

/// Late tasks first, then those due soon, then the rest by deadline.
fn rank(w: Timeliness) -> u8 {
    match w {
        Timeliness::Late => 0,
        Timeliness::DueSoon => 1,
        Timeliness::OnTrack => 2,
        Timeliness::DoneLate | Timeliness::DoneOnTime => 3,
    }
}

pub async fn tasks(State(state): State<AppState>, access: Access, Query(q): Query<TasksQuery>) -> Response {
    let page = async {
        let today = today_in_vietnam();
        // The last month whose reports are due by now, unless asked.
        let period: Period = match q.period.filter(|p| !p.trim().is_empty()) {
            Some(p) => p.parse().map_err(|e| ApiError::bad_request(format!("kỳ «{p}»: {e}")))?,
            None => {
                let last = today.with_day(1).and_then(|d| d.pred_opt()).unwrap_or(today);
                Period::Month { year: last.year(), month: last.month() }
            }
        };
        let mut tasks: Vec<_> = state.db.tasks().await?.into_iter().map(|t| (t.timeliness(today), t)).collect();
        tasks.sort_by_key(|(w, t)| (rank(*w), t.deadline));
        let count = |f: fn(Timeliness) -> bool| tasks.iter().filter(|(w, _)| f(*w)).count();
        let registry = state.registry().await?;
        let targets = state
            .db
            .target_progress(&registry, &period)
            .await?
            .into_iter()
            .map(|p| {
                let percent = p.target.of.is_some();
                let shown = |v: f64| if percent { format_percent(v, 1) } else { format_number(v, 0) };
                TargetRow {
                    unit: registry
                        .in_force(&p.target.unit, period.end())
                        .map_or(p.target.unit.clone(), |u| u.name.clone()),
                    goal: format!("{} {}", p.target.direction.sign(), shown(p.target.goal)),
                    measure: p.target.measure.vietnamese(),
                    value: p.value.map_or("chưa có số liệu".into(), shown),
                    reached: p.reached,
                    share: p.value.map_or(0, |v| (p.target.attainment(v) * 100.0).round() as u32),
                    deadline: format_vn(p.target.deadline),
                    name: p.target.name,
                }
            })
            .collect();
        Ok::<_, ApiError>(TasksPage {
            can_update: access.holds(Permission::ManageCatalog),
            statuses: TaskStatus::ALL.map(|s| (s.as_str(), s.vietnamese())),
            notice: q.done.is_some().then_some("Đã cập nhật tình trạng nhiệm vụ."),
            counting: baocao_store::compose::Counting::APPROVED.vietnamese(),
            chrome: Chrome::new(&state, &access),
            day: format_vn(today),
            late: count(|w| w == Timeliness::Late),
            due_soon: count(|w| w == Timeliness::DueSoon),
            done: count(|w| matches!(w, Timeliness::DoneLate | Timeliness::DoneOnTime)),
            total: tasks.len(),
            tasks: tasks
                .into_iter()
                .map(|(w, t)| TaskRow {
                    class: match w {
                        Timeliness::Late => "late",
                        Timeliness::DueSoon => "due-soon",
                        _ => "",
                    },
                    plan: t.plan,
                    number: t.number,
                    title: t.title,
                    lead: t.lead,
                    coordinating: t.coordinating,
                    deadline: format_vn(t.deadline),
                    product: t.product,
                    status: t.status.vietnamese(),
                    status_code: t.status.as_str(),
                    done_on: t.done_on.map(format_vn).unwrap_or_default(),
                    timeliness: w.vietnamese(),
                    evidence: t.evidence.unwrap_or_default(),
                })
                .collect(),
            period: period.to_string(),
            period_label: period.label(),
            targets,
        })
    };
    page_result(page.await)
}

#[derive(Deserialize)]
pub struct TaskUpdate {
    plan: String,
    number: String,
    status: String,
    #[serde(default)]
    done_on: String,
    #[serde(default)]
    evidence: String,
}

/// Records where a task stands from its row on «Kế hoạch»: its status, the
/// day it was done (dd/mm/yyyy, required once done) and its evidence.
pub async fn update(State(state): State<AppState>, access: Access, Form(u): Form<TaskUpdate>) -> Response {
    let updated = async {
        let status = TaskStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == u.status)
            .ok_or_else(|| ApiError::bad_request(format!("«{}» không phải là tình trạng nhiệm vụ.", u.status)))?;
        let done_on = match u.done_on.trim() {
            "" => None,
            day => Some(parse_date(day).map_err(|e| ApiError::bad_request(format!("ngày hoàn thành: {e}")))?),
        };
        let evidence = Some(u.evidence.trim()).filter(|e| !e.is_empty());
        state.db.update_task(access.username(), &u.plan, &u.number, status, done_on, evidence).await?;
        Ok::<_, ApiError>(())
    };
    match updated.await {
        Ok(()) => Redirect::to("/tasks?done=1").into_response(),
        Err(e) => error_page(e),
    }
}
