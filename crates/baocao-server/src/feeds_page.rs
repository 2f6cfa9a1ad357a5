//! «Nguồn cấp số liệu»: the other systems whose figures are pulled, when
//! each is fetched next, and every run — how many records came, how many
//! values were stored, which records were refused and why — with a fetch
//! asked for at once on an administrator's decision.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use baocao_core::access::{Permission, Target};
use baocao_core::date::time_vn;
use baocao_core::feed::Refusal;
use baocao_core::text::format_figure;

use crate::access::Access;
use crate::error::ApiError;
use crate::pages::{Chrome, page_result};
use crate::params::Path;
use crate::state::AppState;

/// How many of the latest runs the page lists.
const SHOWN: i64 = 100;

#[derive(Template)]
#[template(path = "feeds.html")]
struct FeedsPage {
    chrome: Chrome,
    feeds: Vec<FeedRow>,
    runs: Vec<RunRow>,
}

struct FeedRow {
    code: String,
    name: String,
    url: String,
    every: String,
    indicators: String,
    next_run: String,
    last: String,
}

struct RunRow {
    id: i64,
    feed: String,
    at: String,
    failed: bool,
    records: String,
    stored: String,
    refused: String,
    message: String,
    refusals: Vec<Refusal>,
}

async fn require(state: &AppState, access: &Access) -> Result<(), ApiError> {
    let registry = state.registry().await?;
    access.require(&registry, Permission::ManageCatalog, Target::System)
}

fn count(n: i64) -> String {
    format_figure(n as f64)
}

pub async fn feeds(State(state): State<AppState>, access: Access) -> Response {
    page_result(feeds_page(&state, &access).await)
}

async fn feeds_page(state: &AppState, access: &Access) -> Result<FeedsPage, ApiError> {
    require(state, access).await?;
    let feeds = state
        .db
        .feeds()
        .await?
        .into_iter()
        .map(|f| FeedRow {
            every: format!("{} phút", f.feed.every_minutes),
            indicators: f.feed.indicators.iter().map(|(k, v)| format!("{k} → {v}")).collect::<Vec<_>>().join(", "),
            next_run: time_vn(f.next_run_at),
            last: f.last_run.map_or_else(
                || "chưa lấy lần nào".into(),
                |r| {
                    format!(
                        "{}: {}",
                        time_vn(r.finished_at),
                        if r.outcome == "failed" { "không lấy được" } else { "đã lấy" }
                    )
                },
            ),
            code: f.feed.code,
            name: f.feed.name,
            url: f.feed.url,
        })
        .collect();
    let runs = state
        .db
        .feed_runs(SHOWN)
        .await?
        .into_iter()
        .map(|r| RunRow {
            refusals: r.refusals(),
            id: r.id,
            at: time_vn(r.started_at),
            failed: r.outcome == "failed",
            records: count(r.records),
            stored: format!("{} (mới {})", count(r.stored), count(r.new_values)),
            refused: count(r.refused),
            message: r.message.unwrap_or_default(),
            feed: r.feed,
        })
        .collect();
    Ok(FeedsPage { chrome: Chrome::new(state, access), feeds, runs })
}

pub async fn run_now(State(state): State<AppState>, access: Access, Path(code): Path<String>) -> Response {
    let done = async {
        require(&state, &access).await?;
        state.db.feed_due_now(access.username(), &code).await?;
        Ok::<_, ApiError>(())
    };
    match done.await {
        Ok(()) => Redirect::to("/admin/feeds").into_response(),
        Err(e) => crate::pages::error_page(e),
    }
}
