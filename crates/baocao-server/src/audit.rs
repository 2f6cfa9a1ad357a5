//! The audit log (nhật ký hệ thống): its page and its API, newest first,
//! filtered by account, action and object, 100 records at a time.

use askama::Template;
use axum::Json;
use axum::extract::State;
use axum::response::Response;
use baocao_core::access::{Permission, Target};
use baocao_core::audit::Record;
use baocao_store::audit::AuditFilter;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::access::Access;
use crate::error::ApiError;
use crate::pages::{Chrome, page_result};
use crate::params::Query;
use crate::state::AppState;

#[derive(Deserialize, IntoParams, Default)]
pub struct AuditQuery {
    /// Only this account.
    actor: Option<String>,
    /// Actions starting with this, e.g. `report.`.
    action: Option<String>,
    /// Objects containing this text.
    object: Option<String>,
    /// Records before this sequence number (the next page).
    before: Option<i64>,
}

fn filter(q: &AuditQuery) -> AuditFilter {
    let text = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    AuditFilter {
        actor: text(&q.actor),
        action: text(&q.action),
        object: text(&q.object),
        before_seq: q.before,
        limit: 100,
    }
}

/// Audit records, newest first, 100 at a time.
#[utoipa::path(get, path = "/api/v1/audit", params(AuditQuery), responses((status = 200, body = [Record])))]
pub async fn audit_api(
    State(state): State<AppState>,
    access: Access,
    Query(q): Query<AuditQuery>,
) -> Result<Json<Vec<Record>>, ApiError> {
    let registry = state.registry().await?;
    access.require(&registry, Permission::ViewAudit, Target::System)?;
    Ok(Json(state.db.audit_records(&filter(&q)).await?))
}

struct AuditRow {
    seq: i64,
    at: String,
    actor: String,
    action: String,
    object: String,
    before: String,
    after: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    chrome: Chrome,
    actor: String,
    action: String,
    object: String,
    rows: Vec<AuditRow>,
    next: Option<String>,
}

fn short(v: &Option<serde_json::Value>) -> String {
    let text = v.as_ref().map(|v| v.to_string()).unwrap_or_default();
    if text.chars().count() > 300 { format!("{}…", text.chars().take(300).collect::<String>()) } else { text }
}

pub async fn audit(State(state): State<AppState>, access: Access, Query(q): Query<AuditQuery>) -> Response {
    let page = async {
        let registry = state.registry().await?;
        access.require(&registry, Permission::ViewAudit, Target::System)?;
        let records = state.db.audit_records(&filter(&q)).await?;
        let next = (records.len() == 100).then(|| {
            let last = records.last().map_or(0, |r| r.seq);
            serde_urlencoded::to_string([
                ("actor", q.actor.clone().unwrap_or_default()),
                ("action", q.action.clone().unwrap_or_default()),
                ("object", q.object.clone().unwrap_or_default()),
                ("before", last.to_string()),
            ])
            .unwrap_or_default()
        });
        let rows = records
            .iter()
            .map(|r| AuditRow {
                seq: r.seq,
                at: chrono::DateTime::parse_from_rfc3339(&r.at)
                    .map(|t| baocao_core::date::moment_vn_seconds(t.to_utc()))
                    .unwrap_or_else(|_| r.at.clone()),
                actor: r.actor.clone(),
                action: r.action.clone(),
                object: r.object.clone(),
                before: short(&r.before),
                after: short(&r.after),
            })
            .collect();
        Ok::<_, ApiError>(AuditPage {
            chrome: Chrome::new(&state, &access),
            actor: q.actor.unwrap_or_default(),
            action: q.action.unwrap_or_default(),
            object: q.object.unwrap_or_default(),
            rows,
            next,
        })
    }
    .await;
    page_result(page)
}
