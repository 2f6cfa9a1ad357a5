//! The reports API: one report per regime, unit and period; its workflow;
//! completeness of a period.

use std::collections::BTreeMap;

use crate::params::{JsonBody, Query};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::{Extension, Json};
use baocao_core::report::{Completeness, ReportView};
use baocao_core::workflow::Action;
use baocao_core::{Period, Registry};
use baocao_store::idempotency::Held;
use baocao_store::reports::ReportRequest;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use baocao_core::access::{Permission, Target};

use crate::access::{Access, unit_on};
use crate::body::Upload;
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Deserialize, IntoParams)]
pub struct ReportQuery {
    /// Regime (chế độ báo cáo) code.
    regime: String,
    /// Reporting unit code.
    unit: String,
    /// DHIS2 period string, e.g. 202508.
    period: String,
}

fn period(text: &str) -> Result<Period, ApiError> {
    text.parse().map_err(|e| ApiError::bad_request(format!("tham số `period`: {e}")))
}

/// A report with its computed columns, rule findings and history. The
/// answer carries an `ETag`; asked again `If-None-Match` it, an unchanged
/// report is answered 304 without a body (a phone on a weak connection
/// checks its copy for a few hundred bytes).
#[utoipa::path(get, path = "/api/v1/reports", params(ReportQuery),
    responses((status = 200, description = "the report (an empty draft when not started)"), (status = 304, description = "the report is the one the `If-None-Match` tag names"), (status = 409, description = "the unit does not report under this regime in that period")))]
pub async fn show(
    State(state): State<AppState>,
    access: Access,
    headers: HeaderMap,
    Query(q): Query<ReportQuery>,
) -> Result<axum::response::Response, ApiError> {
    let report = readable_report(&state, &access, &q).await?;
    Ok(crate::etag::answer(&headers, &report))
}

/// A report the account may read.
async fn readable_report(state: &AppState, access: &Access, q: &ReportQuery) -> Result<ReportView, ApiError> {
    let registry = state.registry().await?;
    let period = period(&q.period)?;
    let regime = state.db.regime(&q.regime).await?;
    access.require_report(&registry, Permission::ViewReports, &regime.form, &q.unit, &period)?;
    Ok(state.db.report(&registry, &q.regime, &q.unit, &period).await?)
}

/// Who must hold which permission for an action.
fn permission_for(action: &Action) -> Permission {
    if action.approves() { Permission::ApproveReports } else { Permission::EnterReports }
}

/// What to answer an action with.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Answer {
    /// The whole report as it now stands, computed columns and history included.
    Report,
    /// Only the status and the rules' findings: what a client submitting
    /// many reports needs, without recomputing each report.
    Outcome,
}

/// Applies `request` for `access`, after checking the account may.
pub(crate) async fn act_as(
    state: &AppState,
    access: &Access,
    mut request: ReportRequest,
    answer: Answer,
) -> Result<serde_json::Value, ApiError> {
    let registry = state.registry().await?;
    let regime = state.db.regime(&request.regime).await?;
    let permission = permission_for(&request.action);
    access.require_report(&registry, permission, &regime.form, &request.unit, &request.period)?;
    match request.action {
        Action::Approve | Action::Return { .. } if !regime.approval.is_empty() => {
            request.level = Some(deciding_level(state, access, &registry, &regime, &request).await?);
        }
        // Without a chain, whoever may approve (checked above) reopens.
        Action::Reopen { .. } => {
            let barred =
                regime.approval.last().filter(|_| !access.reopens(&registry, &regime, &request.unit, &request.period));
            if let Some(last) = barred {
                return Err(ApiError {
                    status: axum::http::StatusCode::FORBIDDEN,
                    message: format!("Chỉ cấp phê duyệt cuối ({}) mới mở lại được báo cáo đã duyệt.", last.name),
                });
            }
        }
        _ => {}
    }
    let action = request.action.name();
    let json = match answer {
        Answer::Report => serde_json::to_value(state.db.act_on_report(&registry, request).await?),
        Answer::Outcome => serde_json::to_value(state.db.apply_report_action(&registry, request).await?),
    }
    .expect("plain data serializes");
    crate::metrics::report_action(action);
    Ok(json)
}

/// The level of `regime`'s approval chain at which the report `request`
/// names waits, when `access` decides there; refused (403) otherwise,
/// naming who decides. A report that waits at no level (not sent, or
/// approved) is left to the workflow to refuse.
async fn deciding_level(
    state: &AppState,
    access: &Access,
    registry: &Registry,
    regime: &baocao_core::regime::Regime,
    request: &ReportRequest,
) -> Result<usize, ApiError> {
    let approved = state.db.report_approvals(registry, &regime.code, &request.unit, &request.period).await?;
    let Some(level) = regime.approval.get(approved) else { return Ok(approved + 1) };
    if access.decides(registry, regime, &request.unit, &request.period, approved) {
        return Ok(approved + 1);
    }
    Err(ApiError {
        status: axum::http::StatusCode::FORBIDDEN,
        message: format!(
            "Báo cáo đang chờ cấp {}/{} ({}) quyết định; tài khoản này không thuộc cấp đó.",
            approved + 1,
            regime.approval.len(),
            level.name
        ),
    })
}

#[derive(Deserialize, IntoParams)]
pub struct ActQuery {
    /// `report` (default): the report after the action; `outcome`: only its
    /// status and the rules' findings.
    answer: Option<String>,
}

fn answer_param(text: Option<&str>) -> Result<Answer, ApiError> {
    match text {
        None | Some("report") => Ok(Answer::Report),
        Some("outcome") => Ok(Answer::Outcome),
        Some(other) => {
            Err(ApiError::bad_request(format!("Tham số `answer`: «{other}» không phải report hoặc outcome.")))
        }
    }
}

/// What to do with a report.
#[derive(Deserialize, ToSchema)]
pub struct ReportAction {
    regime: String,
    unit: String,
    period: String,
    /// save, submit, approve or return.
    action: String,
    /// Required to return a report.
    #[serde(default)]
    reason: Option<String>,
    /// This period's values by indicator code.
    #[serde(default)]
    values: BTreeMap<String, String>,
    /// Year plan values by indicator code.
    #[serde(default)]
    plan: BTreeMap<String, String>,
    /// Signer's name and position, recorded on submission.
    #[serde(default)]
    signer: Option<String>,
    #[serde(default)]
    position: Option<String>,
    /// The number of the report's last revision when the change was made
    /// (0 before its first action; `revisions[].seq` of the report read):
    /// the change is refused with 412 when the report has moved since
    /// (another officer's save, a return, an approval). Absent: applied to
    /// whatever the report stands at.
    #[serde(default)]
    base_revision: Option<i64>,
}

/// Saves a draft, submits, approves or returns a report, in one transaction.
#[utoipa::path(post, path = "/api/v1/reports", request_body = ReportAction, params(ActQuery),
    responses((status = 200, description = "the report after the action"), (status = 409, description = "refused: rule errors, a locked report, or a transition the workflow does not allow; the message says which, in Vietnamese")))]
pub async fn act(
    State(state): State<AppState>,
    access: Access,
    held: Option<Extension<Held>>,
    Query(q): Query<ActQuery>,
    JsonBody(body): JsonBody<ReportAction>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let answer = answer_param(q.answer.as_deref())?;
    let action =
        Action::parse(&body.action, body.reason).map_err(|e| ApiError::bad_request(format!("trường `action`: {e}")))?;
    let request = ReportRequest {
        regime: body.regime,
        unit: body.unit,
        period: period(&body.period)?,
        action,
        values: body.values,
        plan: body.plan,
        actor: access.username().to_string(),
        signature: body.signer.zip(body.position),
        at: None,
        level: None,
        idempotency: held.map(|Extension(held)| held),
        base_revision: body.base_revision,
    };
    Ok(Json(act_as(&state, &access, request, answer).await?))
}

#[derive(Deserialize, IntoParams)]
pub struct CompletenessQuery {
    regime: String,
    period: String,
}

/// Which units sent a period's report, on time or late, and which did not.
#[utoipa::path(get, path = "/api/v1/completeness", params(CompletenessQuery), responses((status = 200, description = "counts and the state of each unit")))]
pub async fn completeness(
    State(state): State<AppState>,
    access: Access,
    Query(q): Query<CompletenessQuery>,
) -> Result<Json<Completeness>, ApiError> {
    Ok(Json(readable_completeness(&state, &access, &q.regime, &period(&q.period)?).await?))
}

/// Completeness of a regime's period, for an account that may read the
/// reports of the regime's whole area.
pub(crate) async fn readable_completeness(
    state: &AppState,
    access: &Access,
    regime: &str,
    period: &Period,
) -> Result<Completeness, ApiError> {
    let registry = state.registry().await?;
    let definition = state.db.regime(regime).await?;
    let day = period.end();
    let target = match &definition.units.under {
        Some(code) => match registry.stand_ins(code, day).first() {
            Some(root) => Target::Unit { unit: unit_on(&registry, root, day)?, day, form: Some(&definition.form) },
            None => Target::System,
        },
        None => Target::System,
    };
    let full = state.db.completeness(&registry, regime, period).await?;
    if access.can(&registry, Permission::ViewReports, target) {
        return Ok(full);
    }
    let shown = shown_to(&registry, access, &definition.form, full);
    if shown.units.is_empty() {
        access.require(&registry, Permission::ViewReports, target)?;
    }
    Ok(shown)
}

/// The part of `full` (of a regime of form `form`) that `access` may read:
/// someone who sees part of a regime (a commune's officer) is told about
/// that part, and how many units were left out.
pub(crate) fn shown_to(registry: &Registry, access: &Access, form: &str, full: Completeness) -> Completeness {
    let day = full.period.end();
    let form = Some(form);
    full.within(|u| access.can_on(registry, Permission::ViewReports, &u.code, day, form))
}

/// The report as a workbook laid out like the printed form: a template
/// whose entered cells are open while the report can be edited.
#[utoipa::path(get, path = "/api/v1/reports/xlsx", params(ReportQuery),
    responses((status = 200, description = "XLSX workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))]
pub async fn download(
    State(state): State<AppState>,
    access: Access,
    Query(q): Query<ReportQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let view = readable_report(&state, &access, &q).await?;
    let bytes = baocao_ingest::xlsx::write_report(&view, state.settings.demo)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    Ok(crate::respond::workbook(&format!("{}-{}-{}", view.form, view.unit, view.period), bytes))
}

#[derive(Deserialize, IntoParams)]
pub struct UploadQuery {
    /// `save` (default) or `submit`.
    action: Option<String>,
    /// `report` (default) or `outcome`, as for `POST /api/v1/reports`.
    answer: Option<String>,
    /// Who signs (a submission is signed, here or by an earlier save).
    signer: Option<String>,
    /// The signer's position (Chủ tịch, Phó Chủ tịch …).
    position: Option<String>,
}

/// Reads a filled template (the body) and saves or submits its values.
#[utoipa::path(post, path = "/api/v1/reports/xlsx", params(UploadQuery), request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "the workbook (XLSX) downloaded from GET /api/v1/reports/xlsx and filled in; any content type"),
    responses((status = 200, description = "the report after the upload"), (status = 400, description = "problems, each naming its sheet and cell"), (status = 409, description = "refused by the rules or the workflow")))]
pub async fn upload(
    State(state): State<AppState>,
    access: Access,
    held: Option<Extension<Held>>,
    Query(q): Query<UploadQuery>,
    Upload(body): Upload,
) -> Result<Json<serde_json::Value>, ApiError> {
    let answer = answer_param(q.answer.as_deref())?;
    let action = match q.action.as_deref().unwrap_or("save") {
        "save" => Action::Save,
        "submit" => Action::Submit,
        other => {
            return Err(ApiError::bad_request(format!("Tham số `action`: «{other}» không phải save hoặc submit.")));
        }
    };
    let indicators = state.db.indicators().await?.into_iter().map(|i| (i.code.clone(), i)).collect();
    let upload = baocao_ingest::xlsx::read_report("uploaded workbook", &body, &indicators).map_err(ApiError::from)?;
    let request = ReportRequest {
        regime: upload.regime,
        unit: upload.unit,
        period: period(&upload.period)?,
        action,
        values: upload.values,
        plan: upload.plan,
        actor: access.username().to_string(),
        signature: q.signer.zip(q.position),
        at: None,
        level: None,
        idempotency: held.map(|Extension(held)| held),
        base_revision: None,
    };
    Ok(Json(act_as(&state, &access, request, answer).await?))
}

#[derive(Deserialize, IntoParams)]
pub struct OutputQuery {
    /// The output form's code.
    form: String,
    /// The area (a province, or any unit with units under it).
    unit: String,
    period: String,
    /// Count submitted reports too, not only approved ones.
    #[serde(default)]
    include_submitted: bool,
    /// `json` (default) or `xlsx`.
    format: Option<String>,
}

/// An output form (biểu đầu ra) for an area and a period, from the reports of its regime.
#[utoipa::path(get, path = "/api/v1/output", params(OutputQuery),
    responses((status = 200, description = "the consolidated form, as JSON or XLSX"), (status = 409, description = "not an output form, or unknown")))]
pub async fn output(
    State(state): State<AppState>,
    access: Access,
    Query(q): Query<OutputQuery>,
) -> Result<axum::response::Response, ApiError> {
    let view = readable_output(&state, &access, &q.form, &q.unit, &period(&q.period)?, q.include_submitted).await?;
    Ok(match q.format.as_deref() {
        None | Some("json") => Json(&*view).into_response(),
        Some("xlsx") => {
            let bytes = baocao_ingest::xlsx::write_consolidated(&view, state.settings.demo)
                .map_err(|e| ApiError::bad_request(e.to_string()))?;
            crate::respond::workbook(&format!("{}-{}-{}", view.form, view.unit, view.period), bytes)
        }
        Some(other) => {
            return Err(ApiError::bad_request(format!("Tham số `format`: «{other}» không phải json hoặc xlsx.")));
        }
    })
}

/// An output form over an area the account may read.
pub(crate) async fn readable_output(
    state: &AppState,
    access: &Access,
    form: &str,
    area: &str,
    period: &Period,
    include_submitted: bool,
) -> Result<std::sync::Arc<baocao_core::report::Consolidated>, ApiError> {
    let registry = state.registry().await?;
    access.require_report(&registry, Permission::ViewReports, form, area, period)?;
    // The same for whoever may read it: the whole area is theirs.
    let key = format!("output|{form}|{area}|{period}|{include_submitted}");
    let figures = |view: &baocao_core::report::Consolidated| view.rows.iter().map(|r| r.cells.len()).sum();
    state
        .figures(key, figures, async {
            Ok(state.db.consolidate(&registry, form, area, period, include_submitted).await?)
        })
        .await
}
