//! «Gửi lên cấp trên»: the upstream systems approved reports go to, and
//! each delivery — which report, whether it went, what the upstream said
//! (its import summary), why not, when it is tried next — with a refused
//! delivery sent again on an administrator's decision.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use baocao_core::access::{Permission, Target};
use baocao_core::date::moment_vn;

use crate::access::Access;
use crate::error::ApiError;
use crate::pages::{Chrome, page_result};
use crate::params::Path;
use crate::state::AppState;

/// How many of the latest deliveries the page lists.
const SHOWN: i64 = 200;

#[derive(Template)]
#[template(path = "upstream.html")]
struct UpstreamPage {
    chrome: Chrome,
    links: Vec<LinkRow>,
    rows: Vec<Row>,
}

struct LinkRow {
    code: String,
    name: String,
    url: String,
    regimes: String,
    /// Whether this process holds the link's secret.
    secret_set: bool,
    /// Where the secret is.
    secret_place: String,
}

struct Row {
    id: i64,
    link: String,
    report: String,
    report_href: String,
    state: &'static str,
    state_class: &'static str,
    attempts: i32,
    created: String,
    when: String,
    /// The upstream's counts, as it reported them.
    summary: String,
    error: String,
    resendable: bool,
}

/// The import summary's counts in Vietnamese, when it has them.
fn counts(summary: &str) -> String {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(summary) else { return String::new() };
    let v = v.get("response").filter(|r| r.get("importCount").is_some()).unwrap_or(&v);
    let Some(c) = v.get("importCount") else { return String::new() };
    let n = |k: &str| c.get(k).and_then(serde_json::Value::as_u64).unwrap_or(0);
    let conflicts = v.get("conflicts").and_then(serde_json::Value::as_array).map_or(0, Vec::len);
    let mut text = format!("nhận mới {}, cập nhật {}, bỏ qua {}", n("imported"), n("updated"), n("ignored"));
    if conflicts > 0 {
        text.push_str(&format!(", {conflicts} xung đột"));
    }
    text
}

async fn require(state: &AppState, access: &Access) -> Result<(), ApiError> {
    let registry = state.registry().await?;
    access.require(&registry, Permission::ManageCatalog, Target::System)
}

pub async fn upstream(State(state): State<AppState>, access: Access) -> Response {
    page_result(upstream_page(&state, &access).await)
}

async fn upstream_page(state: &AppState, access: &Access) -> Result<UpstreamPage, ApiError> {
    require(state, access).await?;
    let links = state
        .db
        .upstream_links()
        .await?
        .into_iter()
        .map(|l| LinkRow {
            regimes: l.regimes.iter().map(|r| format!("{} → {}", r.regime, r.data_set)).collect::<Vec<_>>().join(", "),
            secret_set: baocao_ingest::upstream::secret(&l).is_ok(),
            secret_place: l.secret_place(),
            code: l.code,
            name: l.name,
            url: l.url,
        })
        .collect();
    let mut rows = Vec::new();
    for e in state.db.deliveries(SHOWN).await? {
        let (label, class) = match e.state.as_str() {
            "pending" if e.attempts > 0 => ("chờ gửi lại", "submitted"),
            "pending" => ("chờ gửi", "draft"),
            "sending" => ("đang gửi", "submitted"),
            "sent" => ("đã gửi", "approved"),
            "refused" => ("bị từ chối", "returned"),
            _ => ("không gửi (đã mở lại)", "draft"),
        };
        let when = match (e.sent_at, e.state.as_str()) {
            (Some(at), _) => moment_vn(at),
            (None, "pending") => format!("gửi lúc {}", moment_vn(e.next_attempt_at)),
            _ => String::new(),
        };
        let period = e.period.parse::<baocao_core::Period>().map_or_else(|_| e.period.clone(), |p| p.label());
        rows.push(Row {
            id: e.id,
            link: e.link,
            report: format!("{} — {} ({}), {period}, bản {}", e.regime, e.unit_name, e.unit, e.revision),
            report_href: format!("/reports/{}/{}/{}", e.regime, e.unit, e.period),
            resendable: e.state == "refused",
            state: label,
            state_class: class,
            attempts: e.attempts,
            created: moment_vn(e.created_at),
            when,
            summary: e.summary.as_deref().map(counts).unwrap_or_default(),
            error: e.last_error.unwrap_or_default(),
        });
    }
    Ok(UpstreamPage { chrome: Chrome::new(state, access), links, rows })
}

pub async fn resend(State(state): State<AppState>, access: Access, Path(id): Path<i64>) -> Response {
    let done = async {
        require(&state, &access).await?;
        state.db.resend_delivery(access.username(), id).await?;
        Ok::<_, ApiError>(())
    };
    match done.await {
        Ok(()) => Redirect::to("/admin/upstream").into_response(),
        Err(e) => crate::pages::error_page(e),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_import_summary_is_told_in_vietnamese_bare_or_wrapped() {
        let bare = r#"{"status":"SUCCESS","importCount":{"imported":3,"updated":1,"ignored":0},"conflicts":[]}"#;
        assert_eq!(super::counts(bare), "nhận mới 3, cập nhật 1, bỏ qua 0");
        let wrapped = r#"{"response":{"importCount":{"ignored":2},"conflicts":[{},{}]}}"#;
        assert_eq!(super::counts(wrapped), "nhận mới 0, cập nhật 0, bỏ qua 2, 2 xung đột");
        assert_eq!(super::counts("<html>"), "");
    }
}
