//! The REST API, `/api/v1`. Dates are YYYY-MM-DD in answers and accepted as
//! YYYY-MM-DD or dd/mm/yyyy in queries; `at` defaults to today in Vietnam.

use crate::params::{Path, Query};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use baocao_core::{
    Lineage, LineageEntry, MapEntry, ReorgInfo, UnitDetail, UnitKind, UnitVersion, Validity, parse_date,
    today_in_vietnam,
};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi};

use axum::http::Method;

use crate::access::{RouteRule, Rule};
use crate::error::ApiError;
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "baocao API", description = "Hệ thống thông tin báo cáo: registry of administrative units in time."),
    paths(
        healthz,
        readyz,
        units,
        unit,
        lineage,
        map,
        search,
        crate::data_api::indicators,
        crate::data_api::periods,
        crate::data_api::import,
        crate::data_api::export,
        crate::data_api::value,
        crate::reports_api::show,
        crate::reports_api::act,
        crate::reports_api::completeness,
        crate::reports_api::download,
        crate::reports_api::upload,
        crate::reports_api::output,
        crate::admin::accounts_api,
        crate::admin::audit_api,
        crate::directory_api::import,
        crate::directory_api::agencies,
        crate::directory_api::agency,
        crate::directory_api::import_agencies,
        crate::directory_api::plan,
        crate::directory_api::apply
    ),
    components(schemas(
        ErrorBody,
        UnitVersion,
        UnitKind,
        Validity,
        UnitDetail,
        Lineage,
        LineageEntry,
        MapEntry,
        ReorgInfo,
        crate::data_api::PeriodInfo,
        baocao_core::restate::Composed,
        baocao_core::restate::SourceValue,
        crate::reports_api::ReportAction,
        baocao_store::accounts::AccountSummary,
        baocao_store::accounts::StoredGrant,
        baocao_core::access::Grant,
        baocao_core::access::Role,
        baocao_core::access::Permission,
        baocao_core::audit::Record
    ))
)]
pub struct ApiDoc;

/// The OpenAPI document with each operation's access rule as
/// `x-baocao-access` and in its description, and the two ways to sign in.
pub fn document(rules: &[RouteRule]) -> utoipa::openapi::OpenApi {
    use utoipa::openapi::extensions::ExtensionsBuilder;
    use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
    let mut doc = ApiDoc::openapi();
    for (path, item) in doc.paths.paths.iter_mut() {
        for (method, operation) in [(Method::GET, &mut item.get), (Method::POST, &mut item.post)] {
            let Some(operation) = operation else { continue };
            let Some(rule) = rules.iter().find(|r| r.path == path && r.method == method) else { continue };
            let text = match rule.rule {
                Rule::Public => "public".to_string(),
                Rule::SignedIn => "any signed-in account".to_string(),
                Rule::Needs(p) => format!("permission `{}` over the units the request touches", p.as_str()),
                Rule::NeedsAny(ps) => format!(
                    "one of {} depending on the request",
                    ps.iter().map(|p| format!("`{}`", p.as_str())).collect::<Vec<_>>().join(", ")
                ),
            };
            let description = operation.description.take().unwrap_or_default();
            operation.description = Some(format!("{description}\n\nAccess: {text}.").trim().to_string());
            let extension = serde_json::to_value(rule.rule).expect("rules serialize");
            let extensions = ExtensionsBuilder::new().add("x-baocao-access", extension).build();
            match &mut operation.extensions {
                Some(existing) => existing.merge(extensions),
                None => operation.extensions = Some(extensions),
            }
            refusals(operation, rule.rule, method == Method::POST);
        }
    }
    let components = doc.components.get_or_insert_with(Default::default);
    components
        .add_security_scheme("token", SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()));
    components
        .add_security_scheme("session", SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(crate::auth::COOKIE))));
    doc
}

/// The body of every refusal of the API.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// What is wrong, for a person (Vietnamese, with the English term).
    pub error: String,
}

/// Every refusal an operation can answer, with its body, documented on
/// every operation: what the access guard, the extractors and the store
/// answer for any of them (a documented status is one a client can handle).
fn refusals(operation: &mut utoipa::openapi::path::Operation, rule: Rule, has_body: bool) {
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
    let mut statuses = vec![
        ("400", "a parameter or the body cannot be read"),
        ("404", "what the request names does not exist, or not on that day"),
        ("409", "the request conflicts with what is stored (a workflow step, a rule, a locked report)"),
        ("503", "the database cannot be read or written now"),
    ];
    if rule != Rule::Public {
        statuses.push(("401", "no valid session or API token"));
        statuses.push(("403", "the account may not do this, or not for these units"));
    }
    if has_body {
        statuses.push(("413", "the body is larger than the server takes (16 MiB), or unpacks to more"));
        statuses.push(("415", "the body is not of a content type the operation reads"));
        statuses.push(("422", "the body is well formed but cannot be taken as it is"));
    }
    for (status, description) in statuses {
        let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build();
        let response = ResponseBuilder::new().description(description).content("application/json", content).build();
        match operation.responses.responses.get_mut(status) {
            // A status the operation documents already keeps its words and gains the body.
            Some(RefOr::T(existing)) if existing.content.is_empty() => {
                existing.content = response.content;
            }
            Some(_) => {}
            None => {
                operation.responses.responses.insert(status.to_string(), RefOr::T(response));
            }
        }
    }
}

pub async fn openapi(State(state): State<AppState>) -> Json<utoipa::openapi::OpenApi> {
    Json(document(&state.rules))
}

/// Parses an optional date parameter, naming it when it is wrong.
pub(crate) fn day_param(name: &str, value: Option<&str>) -> Result<NaiveDate, ApiError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(today_in_vietnam()),
        Some(v) => parse_date(v).map_err(|e| ApiError::bad_request(format!("tham số `{name}`: {e}"))),
    }
}

/// The process is alive.
#[utoipa::path(get, path = "/healthz", responses((status = 200, description = "alive")))]
pub async fn healthz() -> &'static str {
    "ok"
}

/// The database answers.
/// Ready when the database answers and, after a write that did not commit
/// (a full disk, a read-only file), when a write commits again: a load
/// balancer then sends no one to a server that cannot save their work, and
/// takes it back by itself once the disk has room.
#[utoipa::path(get, path = "/readyz", responses((status = 200, description = "ready"), (status = 503, description = "the database cannot be read or written")))]
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    match state.db.ready().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            (StatusCode::SERVICE_UNAVAILABLE, "not ready: the database cannot be read or written")
        }
    }
}

#[derive(Deserialize, IntoParams)]
pub struct UnitsQuery {
    /// Day of the structure (YYYY-MM-DD or dd/mm/yyyy); today when absent.
    at: Option<String>,
    /// Only the subtree under this unit code.
    under: Option<String>,
    /// Only this level (1 province; 2 district before 2025-07-01, commune after; 3 commune before).
    level: Option<u8>,
}

/// Units in force on a day, each parent followed by its children, in Vietnamese alphabetical order.
#[utoipa::path(get, path = "/api/v1/units", params(UnitsQuery), responses((status = 200, body = [UnitVersion]), (status = 400, description = "bad parameter")))]
pub async fn units(
    State(state): State<AppState>,
    Query(q): Query<UnitsQuery>,
) -> Result<Json<Vec<UnitVersion>>, ApiError> {
    let day = day_param("at", q.at.as_deref())?;
    Ok(Json(state.db.units_at(day, q.under.as_deref().filter(|u| !u.is_empty()), q.level).await?))
}

#[derive(Deserialize, IntoParams)]
pub struct AtQuery {
    /// Day (YYYY-MM-DD or dd/mm/yyyy); today when absent.
    at: Option<String>,
}

/// One unit as in force on a day.
#[utoipa::path(get, path = "/api/v1/units/{code}", params(("code" = String, Path, description = "NSO code"), AtQuery),
    responses((status = 200, body = UnitDetail), (status = 404, description = "unknown code or not in force that day")))]
pub async fn unit(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<AtQuery>,
) -> Result<Json<UnitDetail>, ApiError> {
    let day = day_param("at", q.at.as_deref())?;
    Ok(Json(unit_detail(&state, &code, day).await?))
}

pub(crate) async fn unit_detail(state: &AppState, code: &str, day: NaiveDate) -> Result<UnitDetail, ApiError> {
    Ok(UnitDetail::at(code, state.db.unit_history(code).await?, day)?)
}

/// Direct predecessors and successors of the unit in force on a day.
#[utoipa::path(get, path = "/api/v1/units/{code}/lineage", params(("code" = String, Path, description = "NSO code"), AtQuery),
    responses((status = 200, body = Lineage), (status = 404, description = "unknown code or not in force that day")))]
pub async fn lineage(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<AtQuery>,
) -> Result<Json<Lineage>, ApiError> {
    let day = day_param("at", q.at.as_deref())?;
    Ok(Json(state.registry().await?.lineage(&code, day)?))
}

#[derive(Deserialize, IntoParams)]
pub struct MapQuery {
    /// The day whose structure the unit belongs to.
    from: String,
    /// The day whose structure to express it in.
    to: String,
}

/// Where a unit of one day lies in the structure of another day; weight is the share of the older unit, null when unknown.
#[utoipa::path(get, path = "/api/v1/units/{code}/map", params(("code" = String, Path, description = "NSO code"), MapQuery),
    responses((status = 200, body = [MapEntry]), (status = 404, description = "unknown code or not in force on `from`")))]
pub async fn map(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<MapQuery>,
) -> Result<Json<Vec<MapEntry>>, ApiError> {
    let from = day_param("from", Some(&q.from))?;
    let to = day_param("to", Some(&q.to))?;
    Ok(Json(state.registry().await?.map(&code, from, to)?))
}

#[derive(Deserialize, IntoParams)]
pub struct SearchQuery {
    /// Words to find, with or without diacritics; each must start a word of the name.
    q: String,
    /// Only units in force on this day; every version when absent.
    at: Option<String>,
    /// At most this many results (default 50, at most 500).
    limit: Option<usize>,
}

/// Finds units by name, ignoring case and diacritics.
#[utoipa::path(get, path = "/api/v1/search", params(SearchQuery), responses((status = 200, body = [UnitVersion])))]
pub async fn search(
    State(state): State<AppState>,
    Query(q): Query<SearchQuery>,
) -> Result<Json<Vec<UnitVersion>>, ApiError> {
    let at = match q.at.as_deref().filter(|a| !a.trim().is_empty()) {
        Some(a) => Some(day_param("at", Some(a))?),
        None => None,
    };
    let limit = q.limit.unwrap_or(50).min(500);
    Ok(Json(state.db.search_units(&q.q, at, limit).await?))
}
