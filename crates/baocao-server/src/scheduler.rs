//! The scheduler inside `serve`: daily jobs (reminders and digests,
//! backups) and the dispatcher that turns events into notices.
//!
//! Jobs and their runs live in the database (`store::jobs`), so that any
//! number of `serve` processes on one database run each job once: every
//! process looks for due jobs each [`TICK`], one claims a job, and only
//! then runs it, extending its lease while it works. A run cut off by a
//! stopped process is run again by whichever process looks next after its
//! lease lapsed.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use baocao_core::schedule::Daily;
use chrono::Utc;

use crate::state::AppState;

/// How often the scheduler looks for due jobs and waiting events.
const TICK: Duration = Duration::from_secs(2);

/// What a job does: its outcome, in Vietnamese, for the jobs page.
pub type Work = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<String, String>> + Send>> + Send + Sync>;

/// A job the scheduler runs.
#[derive(Clone)]
pub struct Job {
    /// Its name in the database (`notifications`, `backup`).
    pub name: &'static str,
    pub at: Daily,
    pub work: Work,
}

/// The jobs' names as the jobs page shows them.
pub fn title(name: &str) -> &str {
    match name {
        NOTIFICATIONS => "Nhắc hạn báo cáo, nhiệm vụ và tổng hợp cho lãnh đạo",
        BACKUP => "Sao lưu cơ sở dữ liệu",
        CUTOVERS => "Chuyển đổi theo lịch (diễn tập trước một ngày, thực hiện lúc 00:00)",
        other => other,
    }
}

pub const NOTIFICATIONS: &str = "notifications";
pub const BACKUP: &str = "backup";
pub const CUTOVERS: &str = "cutovers";

/// The daily reminders and digests (`store::notifications`), at `at`.
pub fn notifications(state: AppState, at: Daily) -> Job {
    let work: Work = Arc::new(move || {
        let state = state.clone();
        Box::pin(async move {
            let registry = state.registry().await.map_err(|e| e.to_string())?;
            let told = state.db.remind(&registry, Utc::now()).await.map_err(|e| e.to_string())?;
            Ok(format!(
                "Đã nhắc: {} hạn báo cáo, {} nhiệm vụ; {} bản tổng hợp cho lãnh đạo.",
                told.deadlines, told.tasks, told.digests
            ))
        })
    });
    Job { name: NOTIFICATIONS, at, work }
}

/// This process, as the runs it takes record it: host and process number.
fn runner() -> String {
    let host = std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_string()).unwrap_or_default();
    format!("{}:{}", if host.is_empty() { "localhost" } else { &host }, std::process::id())
}

/// Registers `jobs` and starts the scheduler on the runtime.
pub async fn spawn(state: AppState, jobs: Vec<Job>) -> Result<tokio::task::JoinHandle<()>, baocao_store::StoreError> {
    let now = Utc::now();
    for job in &jobs {
        state.db.register_job(job.name, &job.at.vietnamese(), job.at.next_after(now)).await?;
    }
    let runner = runner();
    Ok(tokio::spawn(async move {
        loop {
            dispatch(&state).await;
            for job in &jobs {
                let now = Utc::now();
                match state.db.claim_job(job.name, &runner, now, job.at.next_after(now)).await {
                    Ok(Some(run)) => {
                        tokio::spawn(run_job(state.clone(), job.clone(), run));
                    }
                    Ok(None) => {}
                    Err(e) => tracing::warn!(job = job.name, error = %e, "cannot claim a job"),
                }
            }
            tokio::time::sleep(TICK).await;
        }
    }))
}

/// Turns waiting events into notices.
async fn dispatch(state: &AppState) {
    let told = match state.registry().await {
        Ok(registry) => state.db.dispatch_events(&registry, Utc::now()).await,
        Err(e) => Err(e),
    };
    match told {
        Ok(0) => {}
        Ok(n) => tracing::info!(notices = n, "events dispatched"),
        Err(e) => tracing::warn!(error = %e, "cannot dispatch events"),
    }
}

/// Runs a claimed job, keeping its lease while it works, and records how
/// it ended.
async fn run_job(state: AppState, job: Job, run: i64) {
    tracing::info!(job = job.name, run, "job started");
    let work = (job.work)();
    tokio::pin!(work);
    let lease = baocao_store::jobs::LEASE.to_std().unwrap_or(Duration::from_secs(120));
    let mut beat = tokio::time::interval(lease / 4);
    beat.tick().await;
    let outcome = loop {
        tokio::select! {
            outcome = &mut work => break outcome,
            _ = beat.tick() => {
                if let Err(e) = state.db.extend_job_lease(run, Utc::now()).await {
                    tracing::warn!(job = job.name, run, error = %e, "cannot extend a job's lease");
                }
            }
        }
    };
    let (succeeded, detail) = match outcome {
        Ok(detail) => (true, detail),
        Err(error) => (false, error),
    };
    tracing::info!(job = job.name, run, succeeded, detail, "job ended");
    crate::metrics::job_run(job.name, succeeded);
    if let Err(e) = state.db.finish_job(run, succeeded, &detail).await {
        tracing::error!(job = job.name, run, error = %e, "cannot record how a job ended");
    }
}
