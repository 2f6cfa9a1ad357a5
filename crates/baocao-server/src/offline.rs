//! Entry where the network is poor: the web application installed as a
//! Progressive Web App, and what a device takes along to enter reports
//! without a connection.
//!
//! The server keeps no state of its own for this. A device takes, while
//! online, the reports due for its account's units (`GET
//! /api/v1/reports/due`: each report with its form's rules, its indicators'
//! types, last year's figures and history); offline, `static/offline.js`
//! keeps what the officer enters in the browser's IndexedDB; back online it
//! sends each change through the ordinary report API, with the revision it
//! was made on (`base_revision`, refused 412 when the report moved
//! meanwhile) and an `Idempotency-Key` (never applied twice). The service
//! worker (`static/sw.js`) keeps the offline page and its scripts, and
//! answers a page the network cannot reach with that page.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use baocao_core::form::Rule;
use baocao_core::indicator::ValueType;
use baocao_core::report::ReportView;
use baocao_core::today_in_vietnam;
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::access::Access;
use crate::due::due_reports;
use crate::error::ApiError;
use crate::state::AppState;

/// The page that works without a connection. It holds nothing of any
/// account: what it shows comes from the device's own store and the API.
const SHELL: &str = include_str!("../static/offline.html");
const SCRIPT: &str = include_str!("../static/offline.js");
const REGISTER: &str = include_str!("../static/pwa.js");
const WORKER: &str = include_str!("../static/sw.js");
const ICON_192: &[u8] = include_bytes!("../static/icon-192.png");
const ICON_512: &[u8] = include_bytes!("../static/icon-512.png");

/// `GET /offline`: the offline entry page.
pub async fn shell() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], SHELL)
}

/// `GET /static/offline.js`.
pub async fn script() -> impl IntoResponse {
    crate::pages::script(SCRIPT)
}

/// `GET /static/pwa.js`: registers the service worker from every page.
pub async fn register() -> impl IntoResponse {
    crate::pages::script(REGISTER)
}

/// `GET /sw.js`, at the root so that its scope is the whole site. Checked
/// by the browser on every visit (`no-cache`); its cache's name changes
/// with what it keeps, so a new release replaces the old copies.
pub async fn service_worker() -> impl IntoResponse {
    // What it keeps is compiled in: named once, not on every check.
    static BODY: LazyLock<String> = LazyLock::new(|| {
        let mut hasher = Sha256::new();
        for part in [SHELL, SCRIPT, REGISTER, WORKER, crate::pages::STYLESHEET] {
            hasher.update(part.as_bytes());
        }
        let version = format!("{:x}", hasher.finalize());
        WORKER.replace("__VERSION__", &version[..16])
    });
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")], BODY.as_str())
}

/// `GET /manifest.webmanifest`: what a phone installs.
pub async fn manifest() -> impl IntoResponse {
    let body = serde_json::json!({
        "name": "Hệ thống thông tin báo cáo",
        "short_name": "Báo cáo",
        "lang": "vi",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#fafbfc",
        "theme_color": "#b3261e",
        "icons": [
            { "src": "/static/icon-192.png", "sizes": "192x192", "type": "image/png", "purpose": "any maskable" },
            { "src": "/static/icon-512.png", "sizes": "512x512", "type": "image/png", "purpose": "any maskable" }
        ],
        "shortcuts": [{ "name": "Nhập báo cáo khi không có mạng", "url": "/offline" }]
    });
    (
        [(header::CONTENT_TYPE, "application/manifest+json"), (header::CACHE_CONTROL, "public, max-age=86400")],
        body.to_string(),
    )
}

pub async fn icon_192() -> impl IntoResponse {
    icon(ICON_192)
}

pub async fn icon_512() -> impl IntoResponse {
    icon(ICON_512)
}

fn icon(bytes: &'static [u8]) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "image/png"), (header::CACHE_CONTROL, "public, max-age=86400")], bytes)
}

/// Who is signed in, for a page that has no server-made parts: the device
/// sends its kept changes only for this account, with this CSRF token.
#[derive(Serialize, ToSchema)]
pub struct SessionInfo {
    username: String,
    display_name: String,
    /// The session's CSRF token (`X-CSRF-Token` of its writes); none for
    /// an API token, which needs none.
    csrf: Option<String>,
}

/// The account signed in.
#[utoipa::path(get, path = "/api/v1/session", responses((status = 200, body = SessionInfo), (status = 401, description = "not signed in")))]
pub async fn session(access: Access) -> Json<SessionInfo> {
    let csrf = access.0.csrf();
    Json(SessionInfo {
        username: access.0.username.clone(),
        display_name: access.0.display_name.clone(),
        csrf: (!csrf.is_empty()).then(|| csrf.to_string()),
    })
}

/// An indicator of a form as entry checks it.
#[derive(Serialize, ToSchema)]
pub struct EntryIndicator {
    /// As the form labels it.
    label: String,
    #[schema(value_type = String)]
    value_type: ValueType,
    /// What a value must be, in Vietnamese (the refusal's words).
    expected: &'static str,
    /// Computed by a formula: never entered.
    computed: bool,
}

/// A report due for the account, with what its entry needs offline.
#[derive(Serialize, ToSchema)]
pub struct DueEntry {
    /// `enter` (not begun or a draft), `mend` (returned) or `decide`
    /// (waiting at the account's level of the approval chain).
    duty: &'static str,
    regime: String,
    regime_name: String,
    unit: String,
    unit_name: String,
    period: String,
    period_label: String,
    deadline: chrono::NaiveDate,
    /// For entry: the report as it stands (last year's figures, history;
    /// the largest `revisions[].seq`, 0 when none, is what a change made on
    /// it gives as `base_revision`).
    #[schema(value_type = Option<Object>)]
    report: Option<ReportView>,
    /// For entry: the form's rules, as the server checks them.
    #[schema(value_type = Vec<Object>)]
    rules: Vec<Rule>,
    /// For entry: the form's indicators by code.
    indicators: BTreeMap<String, EntryIndicator>,
}

/// How many reports one answer gives with what their entry needs: an
/// officer's units have a few; an account that may enter for a whole
/// province (an administrator) would otherwise make the server build
/// hundreds of reports for a device that enters none of them.
const TAKEN_ALONG: usize = 50;

/// The reports the account has to enter, mend or decide on now; the first
/// [`TAKEN_ALONG`] to enter come with everything their entry needs without
/// a connection, the others are listed only.
#[utoipa::path(get, path = "/api/v1/reports/due", responses((status = 200, body = Vec<DueEntry>)))]
pub async fn due(State(state): State<AppState>, access: Access) -> Result<Json<Vec<DueEntry>>, ApiError> {
    let registry = state.registry().await?;
    let today = today_in_vietnam();
    let indicators: std::collections::HashMap<_, _> =
        state.db.indicators().await?.into_iter().map(|i| (i.code.clone(), i)).collect();
    let mut out = Vec::new();
    let mut taken = 0;
    for d in due_reports(&state, &access, &registry, today).await? {
        let mut entry = DueEntry {
            duty: d.duty.code(),
            regime: d.regime.code.clone(),
            regime_name: d.regime.name.clone(),
            unit: d.unit.clone(),
            unit_name: d.unit_name,
            period: d.period.to_string(),
            period_label: d.period.label(),
            deadline: d.deadline,
            report: None,
            rules: Vec::new(),
            indicators: BTreeMap::new(),
        };
        if d.duty.enters() && taken < TAKEN_ALONG {
            taken += 1;
            let report = state.db.report(&registry, &d.regime.code, &d.unit, &d.period).await?;
            // The version the report was built with, from the catalog kept
            // in memory (not every version read and parsed again).
            let (_, form) = state.db.form_at(&d.regime.form, d.period.end()).await?;
            entry.indicators = form
                .indicators()
                .filter_map(|code| {
                    let indicator = indicators.get(code)?;
                    Some((
                        code.to_string(),
                        EntryIndicator {
                            label: form.label(code, &indicators).to_string(),
                            value_type: indicator.value_type,
                            expected: indicator.value_type.expected(),
                            computed: indicator.aggregation.formula().is_some(),
                        },
                    ))
                })
                .collect();
            entry.rules = form.rules;
            entry.report = Some(report);
        }
        out.push(entry);
    }
    Ok(Json(out))
}
