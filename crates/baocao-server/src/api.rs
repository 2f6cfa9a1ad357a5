//! The REST API, `/api/v1`. Dates are YYYY-MM-DD in answers and accepted as
//! YYYY-MM-DD or dd/mm/yyyy in queries; `at` defaults to today in Vietnam.

use crate::params::{Path, Query};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use baocao_core::{Lineage, MapEntry, UnitDetail, UnitVersion, parse_date, today_in_vietnam};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::ApiError;
use crate::state::AppState;

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
