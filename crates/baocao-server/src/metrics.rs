//! `/metrics` in the Prometheus text format: requests by route and status,
//! their latencies, report actions, the database pool, the report
//! writer's queue and scheduled jobs' runs.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::state::AppState;

const LATENCY: &str = "http_request_duration_seconds";

/// The process's recorder, installed on first use (tests build many
/// routers in one process; there is one global recorder).
fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full(LATENCY.into()),
                &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0],
            )
            .expect("static buckets")
            .install_recorder()
            .expect("one metrics recorder per process")
    })
}

/// Counts and times every request under its route pattern (not its
/// concrete path, which would make one series per unit code).
pub async fn track(req: Request, next: Next) -> Response {
    handle();
    let route = req.extensions().get::<MatchedPath>().map_or("unmatched", |m| m.as_str()).to_string();
    let method = req.method().to_string();
    let start = Instant::now();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!(LATENCY, "method" => method, "route" => route).record(start.elapsed().as_secs_f64());
    response
}

/// A report action that went through, by action (`save`, `submit` …).
pub fn report_action(action: &'static str) {
    metrics::counter!("baocao_report_actions_total", "action" => action).increment(1);
}

/// A request whose handler panicked (answered 500 by `panics::catch`,
/// outside the per-route counts).
pub fn panicked() {
    metrics::counter!("baocao_panics_total").increment(1);
}

/// A scheduled job's run that ended, by job and outcome.
pub fn job_run(job: &str, succeeded: bool) {
    // A job may end before the first request installed the recorder.
    handle();
    let outcome = if succeeded { "succeeded" } else { "failed" };
    metrics::counter!("baocao_job_runs_total", "job" => job.to_string(), "outcome" => outcome).increment(1);
}

pub async fn render(State(state): State<AppState>) -> impl IntoResponse {
    let handle = handle();
    // Gauges read when asked: they say how things stand now.
    let (open, idle, max) = state.db.pool_state();
    metrics::gauge!("baocao_db_pool_connections", "state" => "idle").set(idle as f64);
    metrics::gauge!("baocao_db_pool_connections", "state" => "in_use").set(f64::from(open) - idle as f64);
    metrics::gauge!("baocao_db_pool_max_connections").set(f64::from(max));
    metrics::gauge!("baocao_report_queue_waiting").set(state.db.report_queue_len() as f64);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], handle.render())
}
