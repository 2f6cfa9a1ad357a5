//! The directory through the REST API: agencies and rosters in, account
//! plans out.

use crate::params::{Path, Query};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use baocao_core::access::{Permission, Target};
use baocao_core::directory::{Agency, AgencyLineage, DEFAULT_GRACE_DAYS, RULE};
use baocao_ingest::Problems;
use baocao_ingest::roster::{read_agencies_csv, read_agencies_xlsx, read_roster_csv, read_roster_xlsx};
use baocao_store::directory::RosterSummary;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;

use crate::access::Access;
use crate::api::day_param;
use crate::body::Upload;
use crate::error::ApiError;
use crate::state::AppState;

/// Rosters and accounts are kept for the whole province.
pub(crate) async fn require(state: &AppState, access: &Access) -> Result<(), ApiError> {
    let registry = state.registry().await?;
    access.require(&registry, Permission::ManageAccounts, Target::System)
}

#[derive(Deserialize, IntoParams)]
pub struct RosterQuery {
    /// The day the list holds from (YYYY-MM-DD or dd/mm/yyyy).
    from: String,
}

/// Imports rosters: the body is CSV (`text/csv`) or a workbook; each agency
/// listed gets this list as its whole roster from `from`.
#[utoipa::path(post, path = "/api/v1/roster", params(RosterQuery),
    request_body(content = Vec<u8>, description = "CSV or XLSX, Vietnamese or English headers"),
    responses((status = 200, description = "what changed"), (status = 400, description = "every problem, by sheet, row and column; nothing loaded"), (status = 409, description = "unknown agency or a person listed twice")))]
pub async fn import(
    State(state): State<AppState>,
    access: Access,
    Query(q): Query<RosterQuery>,
    headers: HeaderMap,
    Upload(body): Upload,
) -> Result<Json<RosterSummary>, ApiError> {
    require(&state, &access).await?;
    let from = day_param("from", Some(&q.from))?;
    let listed = read_body(&headers, &body, read_roster_csv, read_roster_xlsx)?;
    Ok(Json(state.db.import_roster(access.username(), &listed, from).await?))
}

/// A request body that is a CSV text or a workbook (by its content type),
/// read with the matching reader; every problem named.
fn read_body<T>(
    headers: &HeaderMap,
    body: &[u8],
    csv: fn(&str, &str) -> Result<T, Problems>,
    xlsx: fn(&str, &[u8]) -> Result<T, Problems>,
) -> Result<T, ApiError> {
    let workbook = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("spreadsheetml") || v.contains("application/vnd.ms-excel"));
    if workbook {
        xlsx("request body", body)
    } else {
        let text = std::str::from_utf8(body)
            .map_err(|_| ApiError::bad_request("Nội dung gửi lên không phải văn bản UTF-8."))?;
        csv("request body", text)
    }
    .map_err(ApiError::from)
}

#[derive(Deserialize, IntoParams)]
pub struct AgenciesQuery {
    /// The day (YYYY-MM-DD or dd/mm/yyyy); today when absent.
    at: Option<String>,
}

/// Agencies in force on a day, with their successors or archive decision.
#[utoipa::path(get, path = "/api/v1/agencies", params(AgenciesQuery), responses((status = 200, description = "agencies by code")))]
pub async fn agencies(
    State(state): State<AppState>,
    Query(q): Query<AgenciesQuery>,
) -> Result<Json<Vec<Agency>>, ApiError> {
    let day = day_param("at", q.at.as_deref())?;
    Ok(Json(state.db.agencies_at(day).await?))
}

/// Every version of an agency, the agencies it took over from and those
/// that take over from it.
#[utoipa::path(get, path = "/api/v1/agencies/{code}", params(("code" = String, Path, description = "electronic identifier")),
    responses((status = 200, description = "versions, predecessors, successors"), (status = 404, description = "no such agency")))]
pub async fn agency(State(state): State<AppState>, Path(code): Path<String>) -> Result<Json<AgencyLineage>, ApiError> {
    Ok(Json(state.db.agency_lineage(&code).await?))
}

/// Imports agencies (CSV or a workbook), all or nothing: an agency whose
/// unit has ended for good must end too, with successors or an archive
/// decision.
#[utoipa::path(post, path = "/api/v1/agencies",
    request_body(content = Vec<u8>, description = "CSV or XLSX, Vietnamese or English headers"),
    responses((status = 200, description = "how many agency versions were stored"), (status = 400, description = "every problem, by row and column"), (status = 409, description = "agencies that do not hold together, every one named")))]
pub async fn import_agencies(
    State(state): State<AppState>,
    access: Access,
    headers: HeaderMap,
    Upload(body): Upload,
) -> Result<Json<Value>, ApiError> {
    require(&state, &access).await?;
    let agencies = read_body(&headers, &body, read_agencies_csv, read_agencies_xlsx)?;
    let imported = state.db.import_agencies(access.username(), &agencies).await?;
    Ok(Json(json!({ "imported": imported })))
}

#[derive(Deserialize, IntoParams)]
pub struct PlanQuery {
    /// `email` or `baocao`.
    system: String,
    /// The effective day; today when absent.
    at: Option<String>,
    /// The mail domain; the server's `--mail-domain` when absent.
    domain: Option<String>,
    /// Days a retired grant stays readable (default 90).
    grace_days: Option<u64>,
}

/// The mail domain asked for, or the server's `--mail-domain`.
pub(crate) fn domain_of(state: &AppState, asked: Option<String>) -> Result<String, ApiError> {
    asked.filter(|d| !d.trim().is_empty()).or_else(|| state.settings.mail_domain.clone()).ok_or_else(|| {
        ApiError::bad_request("Tham số `domain`: chưa cho tên miền thư điện tử và máy chủ cũng chưa cấu hình.")
    })
}

/// The accounts a system needs on a day, from the rosters: the same plan,
/// the same day, the same answer.
#[utoipa::path(get, path = "/api/v1/accounts/plan", params(PlanQuery), responses((status = 200, description = "email: addresses with the rule; baocao: steps")))]
pub async fn plan(
    State(state): State<AppState>,
    access: Access,
    Query(q): Query<PlanQuery>,
) -> Result<Json<Value>, ApiError> {
    require(&state, &access).await?;
    let day = day_param("at", q.at.as_deref())?;
    let domain = domain_of(&state, q.domain)?;
    Ok(Json(match q.system.as_str() {
        "email" => {
            let plan = state.db.address_plan(day, &domain).await?;
            json!({ "system": "email", "at": day, "rule": RULE, "accounts": plan.addresses, "duplicates": plan.duplicates, "refused": plan.refused })
        }
        "baocao" => {
            let steps = state.db.reporting_plan(day, &domain, q.grace_days.unwrap_or(DEFAULT_GRACE_DAYS)).await?;
            json!({ "system": "baocao", "at": day, "steps": steps })
        }
        other => {
            return Err(ApiError::bad_request(format!("Tham số `system`: «{other}» không phải email hoặc baocao.")));
        }
    }))
}

/// Carries out the `baocao` plan of a day.
#[utoipa::path(post, path = "/api/v1/accounts/apply", params(PlanQuery), responses((status = 200, description = "how many steps were carried out")))]
pub async fn apply(
    State(state): State<AppState>,
    access: Access,
    Query(q): Query<PlanQuery>,
) -> Result<Json<Value>, ApiError> {
    require(&state, &access).await?;
    if q.system != "baocao" {
        return Err(ApiError::bad_request("Tham số `system`: ở đây chỉ thực hiện kế hoạch tài khoản baocao."));
    }
    let day = day_param("at", q.at.as_deref())?;
    let domain = domain_of(&state, q.domain)?;
    let steps = state
        .db
        .apply_reporting_plan(access.username(), day, &domain, q.grace_days.unwrap_or(DEFAULT_GRACE_DAYS))
        .await?;
    Ok(Json(json!({ "at": day, "steps": steps })))
}
