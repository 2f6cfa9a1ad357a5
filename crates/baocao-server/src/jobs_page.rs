//! «Việc định kỳ»: the scheduled jobs, when each runs next, how its latest
//! runs went (and on which server), a button to run one now, and the
//! cutovers scheduled with what their rehearsal and application came to.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use baocao_core::date::moment_vn_seconds;

use crate::access::Access;
use crate::directory_api::require;
use crate::error::ApiError;
use crate::pages::{Chrome, error_page, page_result};
use crate::params::Path;
use crate::state::AppState;

/// How many of the latest runs the page lists.
const RUNS_SHOWN: i64 = 100;

#[derive(Template)]
#[template(path = "jobs.html")]
struct JobsPage {
    chrome: Chrome,
    jobs: Vec<JobRow>,
    runs: Vec<RunRow>,
    cutovers: Vec<CutoverRow>,
}

struct CutoverRow {
    key: String,
    name: String,
    effective: String,
    state: &'static str,
    state_class: &'static str,
    rehearsal: String,
    outcome: String,
}

struct JobRow {
    name: String,
    title: String,
    schedule: String,
    next: String,
}

struct RunRow {
    title: String,
    due: String,
    started: String,
    finished: String,
    outcome: &'static str,
    outcome_class: &'static str,
    detail: String,
    runner: String,
}

pub async fn jobs(State(state): State<AppState>, access: Access) -> Response {
    page_result(jobs_page(&state, &access).await)
}

async fn jobs_page(state: &AppState, access: &Access) -> Result<JobsPage, ApiError> {
    require(state, access).await?;
    let jobs = state
        .db
        .jobs()
        .await?
        .into_iter()
        .map(|j| JobRow {
            title: crate::scheduler::title(&j.name).to_string(),
            name: j.name,
            schedule: j.schedule,
            next: moment_vn_seconds(j.next_run_at),
        })
        .collect();
    let runs = state
        .db
        .job_runs(RUNS_SHOWN)
        .await?
        .into_iter()
        .map(|r| {
            let (outcome, outcome_class) = match r.outcome.as_str() {
                "running" => ("đang chạy", "submitted"),
                "succeeded" => ("xong", "approved"),
                "failed" => ("lỗi", "returned"),
                _ => ("bị ngắt, chạy lại", "late"),
            };
            RunRow {
                title: crate::scheduler::title(&r.job).to_string(),
                due: moment_vn_seconds(r.due_at),
                started: moment_vn_seconds(r.started_at),
                finished: r.finished_at.map(moment_vn_seconds).unwrap_or_default(),
                outcome,
                outcome_class,
                detail: r.detail.unwrap_or_default(),
                runner: r.runner,
            }
        })
        .collect();
    let cutovers = state
        .db
        .scheduled_cutovers()
        .await?
        .into_iter()
        .map(|c| {
            let (label, class) = match c.state.as_str() {
                "scheduled" => ("chờ đến lịch", "draft"),
                "applied" => ("đã thực hiện", "approved"),
                "failed" => ("chưa thực hiện được", "returned"),
                _ => ("đã hủy lịch", "missing"),
            };
            CutoverRow {
                key: c.key,
                name: c.name,
                effective: format!("00:00 ngày {}", baocao_core::date::format_vn(c.effective_date)),
                state: label,
                state_class: class,
                rehearsal: c.rehearsal.unwrap_or_default(),
                outcome: c.outcome.unwrap_or_default(),
            }
        })
        .collect();
    Ok(JobsPage { chrome: Chrome::new(state, access), jobs, runs, cutovers })
}

pub async fn run_now(State(state): State<AppState>, access: Access, Path(name): Path<String>) -> Response {
    let done = async {
        require(&state, &access).await?;
        state.db.run_job_now(access.username(), &name).await?;
        Ok::<_, ApiError>(())
    };
    match done.await {
        Ok(()) => Redirect::to("/admin/jobs").into_response(),
        Err(e) => error_page(e),
    }
}
