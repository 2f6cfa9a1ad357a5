//! The reporting API: indicators, periods, DHIS2 dataValueSets, values.

use crate::params::Query;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use baocao_core::restate::Composed;
use baocao_core::{Indicator, Period, Periodicity, parse_date};
use baocao_ingest::dhis2::{self, DataValueOut, DataValueSetOut};
use baocao_store::compose::{Audience, Counting};
use baocao_store::upstream::Registration;
use baocao_store::values::ImportSummary;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::day_param;
use crate::body::Upload;
use baocao_core::access::{Permission, Target};

use crate::access::{Access, unit_on};
use crate::error::ApiError;
use crate::state::AppState;

pub(crate) fn period_param(name: &str, value: &str) -> Result<Period, ApiError> {
    value.parse().map_err(|e| ApiError::bad_request(format!("tham số `{name}`: {e}")))
}

/// Every indicator (chỉ tiêu).
#[utoipa::path(get, path = "/api/v1/indicators", responses((status = 200, description = "indicators by code")))]
pub async fn indicators(State(state): State<AppState>) -> Result<Json<Vec<Indicator>>, ApiError> {
    Ok(Json(state.db.indicators().await?))
}

#[derive(Deserialize, IntoParams)]
pub struct PeriodsQuery {
    /// daily, monthly, quarterly, six_monthly, nine_months or yearly.
    periodicity: Option<String>,
    /// Periods ending on or after this day.
    from: String,
    /// Periods ending on or before this day.
    to: String,
}

#[derive(Serialize, ToSchema)]
pub struct PeriodInfo {
    /// DHIS2 period string, e.g. 202407.
    period: String,
    label: String,
    start: NaiveDate,
    end: NaiveDate,
    /// Data cut-off window of Decree 09/2019, both ends included.
    cutoff_from: NaiveDate,
    cutoff_to: NaiveDate,
}

/// Reporting periods with their data cut-off windows.
#[utoipa::path(get, path = "/api/v1/periods", params(PeriodsQuery), responses((status = 200, body = [PeriodInfo])))]
pub async fn periods(Query(q): Query<PeriodsQuery>) -> Result<Json<Vec<PeriodInfo>>, ApiError> {
    let periodicity: Periodicity = q
        .periodicity
        .as_deref()
        .unwrap_or("monthly")
        .parse()
        .map_err(|e: String| ApiError::bad_request(format!("tham số `periodicity`: {e}")))?;
    let (from, to) = (day_param("from", Some(&q.from))?, day_param("to", Some(&q.to))?);
    if (to - from).num_days() > 3660 {
        return Err(ApiError::bad_request("Mỗi lần chỉ lấy được tối đa mười năm kỳ báo cáo."));
    }
    Ok(Json(
        Period::ending_between(periodicity, from, to)
            .into_iter()
            .map(|p| {
                let (cutoff_from, cutoff_to) = p.cutoff();
                PeriodInfo {
                    period: p.to_string(),
                    label: p.label(),
                    start: p.start(),
                    end: p.end(),
                    cutoff_from,
                    cutoff_to,
                }
            })
            .collect(),
    ))
}

/// Imports a DHIS2 dataValueSet: JSON, or DHIS2's CSV layout with
/// `Content-Type: text/csv`. Identifiers are codes.
#[utoipa::path(post, path = "/api/v1/dataValueSets", request_body(content = String, description = "dataValueSet JSON or CSV"),
    responses((status = 200, description = "import summary (status SUCCESS, WARNING or ERROR, counts, conflicts)"),
              (status = 400, description = "not a dataValueSet")))]
pub async fn import(
    State(state): State<AppState>,
    access: Access,
    headers: HeaderMap,
    Upload(body): Upload,
) -> Result<Json<ImportSummary>, ApiError> {
    let registry = state.registry().await?;
    // Bulk values bypass the reports' workflow: the catalog's function,
    // checked before the body is read. Held on the whole system, it takes
    // any unit; held on a subtree (a province sending to the national
    // instance), only that subtree's units, each value checked.
    let whole = bulk_writer(&registry, &access)?;
    let text = utf8(&body)?;
    let csv =
        headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("text/csv"));
    let raw = if csv { dhis2::read_csv("request body", text) } else { dhis2::read_json("request body", text) }
        .map_err(ApiError::from)?;
    let may = |key: &baocao_core::VersionKey, period: Period| whole || may_write(&registry, &access, key, period);
    Ok(Json(state.db.import_data_values_within(access.username(), "API dataValueSets", &registry, raw, &may).await?))
}

/// Whether the account writes bulk data on the whole system (`true`) or
/// on some subtrees only (`false`); refused when on none.
fn bulk_writer(registry: &baocao_core::Registry, access: &Access) -> Result<bool, ApiError> {
    if access.can(registry, Permission::ManageCatalog, Target::System) {
        return Ok(true);
    }
    access.require(registry, Permission::ManageCatalog, Target::Somewhere)?;
    Ok(false)
}

/// Whether an account writing bulk data on some subtrees may write the
/// figures of unit version `key` for `period`.
fn may_write(registry: &baocao_core::Registry, access: &Access, key: &baocao_core::VersionKey, period: Period) -> bool {
    registry.version(key).is_some_and(|unit| {
        access.can(registry, Permission::ManageCatalog, Target::Unit { unit, day: period.end(), form: None })
    })
}

fn utf8(body: &[u8]) -> Result<&str, ApiError> {
    std::str::from_utf8(body).map_err(|_| ApiError::bad_request("Nội dung gửi lên không phải văn bản UTF-8."))
}

/// Imports DHIS2 completeness registrations: a lower instance's word that
/// its report of a data set (a regime here), unit and period is complete,
/// or no longer (`completed: false`). Each is checked as a value is: the
/// regime known, the period valid, the unit in force on its last day and
/// within the sender's reach; one refused is a conflict, the others are
/// stored together.
#[utoipa::path(post, path = "/api/v1/completeDataSetRegistrations",
    request_body(content = String, description = "completeDataSetRegistrations JSON"),
    responses((status = 200, description = "import summary (status SUCCESS, WARNING or ERROR, counts, conflicts)"),
              (status = 400, description = "not a list of registrations")))]
pub async fn import_registrations(
    State(state): State<AppState>,
    access: Access,
    Upload(body): Upload,
) -> Result<Json<ImportSummary>, ApiError> {
    use baocao_core::datavalue::Conflict;
    let registry = state.registry().await?;
    let whole = bulk_writer(&registry, &access)?;
    let raw = dhis2::read_registrations("request body", utf8(&body)?).map_err(ApiError::from)?;
    let total = raw.len();
    let regimes: std::collections::HashSet<String> = state.db.regimes().await?.into_iter().map(|r| r.code).collect();
    let mut conflicts = Vec::new();
    let mut taken = Vec::new();
    for r in raw {
        let refuse = |object: &str, code: &str, value: String| Conflict {
            object: object.to_string(),
            value,
            error_code: code.to_string(),
            indexes: vec![r.index],
        };
        if !regimes.contains(&r.data_set) {
            conflicts.push(refuse(&r.data_set, "E7600", format!("không có chế độ báo cáo (dataSet) «{}»", r.data_set)));
            continue;
        }
        let Ok(period) = r.period.parse::<Period>() else {
            conflicts.push(refuse(&r.period, "E7611", format!("kỳ «{}» không hợp lệ", r.period)));
            continue;
        };
        let Some(unit) = registry.in_force(&r.org_unit, period.end()) else {
            let message = format!("đơn vị {} không có hiệu lực trong kỳ {}", r.org_unit, period.label());
            conflicts.push(refuse(&r.org_unit, "E7610", message));
            continue;
        };
        let key = unit.key();
        if !whole && !may_write(&registry, &access, &key, period) {
            let message = format!("tài khoản không được gửi số liệu của đơn vị {}", r.org_unit);
            conflicts.push(refuse(&r.org_unit, "E7617", message));
            continue;
        }
        let registration = Registration {
            data_set: r.data_set,
            period: period.to_string(),
            organisation_unit: r.org_unit,
            completed: r.completed,
            date: r.date,
        };
        taken.push((registration, key));
    }
    let (imported, updated) = state.db.store_registrations(access.username(), &taken).await?;
    let ignored = total - taken.len();
    let status = match (conflicts.is_empty(), taken.is_empty() && total > 0) {
        (true, _) => "SUCCESS",
        (false, false) => "WARNING",
        (false, true) => "ERROR",
    };
    Ok(Json(ImportSummary {
        status,
        description: format!("{imported} imported, {updated} updated, {ignored} ignored of {total} registrations"),
        import_count: baocao_store::values::ImportCount { imported, updated, ignored, deleted: 0 },
        conflicts,
    }))
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationsQuery {
    /// The data set (a regime's code).
    data_set: String,
    /// DHIS2 period string.
    period: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Registrations {
    complete_data_set_registrations: Vec<Registration>,
}

/// The completeness registrations received for a data set and period, of
/// the units the asker may see.
#[utoipa::path(get, path = "/api/v1/completeDataSetRegistrations", params(RegistrationsQuery),
    responses((status = 200, body = Registrations)))]
pub async fn registrations(
    State(state): State<AppState>,
    access: Access,
    Query(q): Query<RegistrationsQuery>,
) -> Result<Json<Registrations>, ApiError> {
    let period = period_param("period", &q.period)?;
    let registry = state.registry().await?;
    let day = period.end();
    let complete_data_set_registrations = state
        .db
        .registrations(&q.data_set, &period.to_string())
        .await?
        .into_iter()
        .filter(|r| {
            registry.in_force(&r.organisation_unit, day).is_some_and(|unit| {
                access.can(&registry, Permission::ViewReports, Target::Unit { unit, day, form: None })
            })
        })
        .collect();
    Ok(Json(Registrations { complete_data_set_registrations }))
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct ExportQuery {
    /// DHIS2 period string.
    period: String,
    /// Only this unit (code).
    org_unit: Option<String>,
    /// With `orgUnit`: also the units under it in that period.
    #[serde(default)]
    children: bool,
    /// Count the values of submitted reports too, not only approved ones
    /// (values imported directly always count; drafts never).
    #[serde(default)]
    include_submitted: bool,
    /// `json` (default) or `csv`.
    format: Option<String>,
}

/// Values of a period as a DHIS2 dataValueSet.
#[utoipa::path(get, path = "/api/v1/dataValueSets", params(ExportQuery), responses((status = 200, description = "dataValueSet JSON or CSV")))]
pub async fn export(
    State(state): State<AppState>,
    access: Access,
    Query(q): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    let period = period_param("period", &q.period)?;
    let registry = state.registry().await?;
    let day = period.end();
    let target = match q.org_unit.as_deref() {
        Some(code) => Target::Unit { unit: unit_on(&registry, code, day)?, day, form: None },
        None => Target::System,
    };
    access.require(&registry, Permission::ViewReports, target)?;
    let values: Vec<DataValueOut> = state
        .db
        .export_values(&registry, &period, q.org_unit.as_deref(), q.children, counting(q.include_submitted))
        .await?
        .into_iter()
        .map(|v| DataValueOut::new(v.indicator, v.period, v.unit_code, v.value, v.comment, v.stored_at))
        .collect();
    Ok(match q.format.as_deref() {
        Some("csv") => ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], dhis2::write_csv(&values)).into_response(),
        None | Some("json") => Json(DataValueSetOut { data_values: values }).into_response(),
        Some(other) => {
            return Err(ApiError::bad_request(format!("Tham số `format`: «{other}» không phải json hoặc csv.")));
        }
    })
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "snake_case")]
pub struct ValueQuery {
    pub(crate) indicator: String,
    /// Unit code; a province or district sums its units of the structure day.
    pub(crate) unit: String,
    pub(crate) period: String,
    /// Day whose structure to use; the period's last day when absent.
    structure_at: Option<String>,
    /// Count the values of submitted reports too, not only approved ones
    /// (values imported directly always count; drafts never).
    #[serde(default)]
    include_submitted: bool,
}

/// The one rule for what counts, with submitted reports or not.
fn counting(include_submitted: bool) -> Counting {
    Counting::Official { include_submitted }
}

/// A value in the structure of a chosen day, composed across reorganizations.
#[utoipa::path(get, path = "/api/v1/values", params(ValueQuery), responses((status = 200, body = Composed), (status = 404, description = "unknown unit")))]
pub async fn value(
    State(state): State<AppState>,
    access: Access,
    Query(q): Query<ValueQuery>,
) -> Result<Json<Composed>, ApiError> {
    Ok(Json(composed(&state, &access, &q).await?.0))
}

/// The value `q` asks for, as [`value`] answers it, with its period.
pub(crate) async fn composed(
    state: &AppState,
    access: &Access,
    q: &ValueQuery,
) -> Result<(Composed, Period), ApiError> {
    let period = period_param("period", &q.period)?;
    let structure_at = match q.structure_at.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(s) => Some(parse_date(s).map_err(|e| ApiError::bad_request(format!("tham số `structure_at`: {e}")))?),
        None => None,
    };
    let registry = state.registry().await?;
    let day = structure_at.unwrap_or_else(|| period.end());
    access.require(
        &registry,
        Permission::ViewReports,
        Target::Unit { unit: unit_on(&registry, &q.unit, day)?, day, form: None },
    )?;
    // A value composed from units the asker may not see is made without
    // them, and says how many it left out.
    let sees = |unit: &baocao_core::UnitVersion, day| access.sees(&registry, unit, day);
    let visible: Option<&baocao_store::compose::Visibility> = (!access.reads_everywhere()).then_some(&sees);
    let audience = Audience { counting: counting(q.include_submitted), visible };
    let value = state.db.query_value(&registry, &q.indicator, &q.unit, &period, structure_at, audience).await?;
    Ok((value, period))
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "snake_case")]
pub struct TableParams {
    /// The day whose structure the figures are composed in.
    structure_at: String,
    /// One period; or `from` and `to`.
    period: Option<String>,
    /// The first period (with `to`, of the same periodicity).
    from: Option<String>,
    /// The last period.
    to: Option<String>,
    /// Only this unit (code, in force on the structure day); every unit of that day when absent.
    org_unit: Option<String>,
    /// With `org_unit`: the units under it on the structure day too.
    #[serde(default)]
    children: bool,
    /// Only units of this level on the structure day (1 the provinces; communes
    /// are 2 from 2025-07-01, 3 before).
    level: Option<u8>,
    /// Indicator codes separated by commas; every indicator when absent.
    indicators: Option<String>,
    /// Count the values of submitted reports too, not only approved ones.
    #[serde(default)]
    include_submitted: bool,
    /// `csv` (default) or `json`.
    format: Option<String>,
}

/// The most periods one table may ask: ten years of months.
const TABLE_PERIODS: usize = 120;

/// Figures of many units, indicators and periods in the structure of one
/// day, streamed as they are composed: CSV (default) or a JSON array of
/// rows `indicator, unit, unit_name, period, value, estimated, withheld, pulled`.
/// Figures composed from units the asker may not see leave them out and
/// say how many (`withheld`).
#[utoipa::path(get, path = "/api/v1/values/table", params(TableParams),
    responses((status = 200, description = "rows as CSV or a JSON array"), (status = 400, description = "bad parameters"),
              (status = 404, description = "unknown unit or indicator")))]
pub async fn table(
    State(state): State<AppState>,
    access: Access,
    Query(q): Query<TableParams>,
) -> Result<Response, ApiError> {
    use baocao_documents::restated::{self, Chunk};
    let json = match q.format.as_deref() {
        None | Some("csv") => false,
        Some("json") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!("Tham số `format`: «{other}» không phải csv hoặc json.")));
        }
    };
    let day = day_param("structure_at", Some(&q.structure_at))?;
    let periods = match (q.period.as_deref(), q.from.as_deref(), q.to.as_deref()) {
        (Some(p), None, None) => vec![period_param("period", p)?],
        (None, Some(first), Some(last)) => {
            Period::range(period_param("from", first)?, period_param("to", last)?).map_err(ApiError::bad_request)?
        }
        _ => return Err(ApiError::bad_request("Cho một kỳ (`period`), hoặc kỳ đầu và kỳ cuối (`from`, `to`).")),
    };
    if periods.len() > TABLE_PERIODS {
        return Err(ApiError::bad_request(format!("Mỗi lần chỉ lấy được tối đa {TABLE_PERIODS} kỳ.")));
    }
    let registry = state.registry().await?;
    let target = match q.org_unit.as_deref() {
        Some(code) => Target::Unit { unit: unit_on(&registry, code, day)?, day, form: None },
        None => Target::System,
    };
    access.require(&registry, Permission::ViewReports, target)?;
    let known = state.db.indicators().await?;
    let indicators: Vec<String> = match q.indicators.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(list) => list.split(',').map(|s| s.trim().to_string()).collect(),
        None => known.iter().map(|i| i.code.clone()).collect(),
    };
    if let Some(unknown) = indicators.iter().find(|c| !known.iter().any(|i| &i.code == *c)) {
        return Err(ApiError::not_found(format!("Không có chỉ tiêu «{unknown}».")));
    }
    let mut units = registry
        .units_of_area(q.org_unit.as_deref(), q.children, day)
        .map_err(|e| ApiError::not_found(e.to_string()))?;
    units.retain(|u| q.level.is_none_or(|level| u.level == level));
    let query = baocao_store::restated::TableQuery {
        indicators,
        units: units.iter().map(|u| u.code.clone()).collect(),
        periods,
        structure_at: day,
    };
    let counting = counting(q.include_submitted);
    // Composed in a task of its own that hands each period's rows over as
    // the client takes them: a channel of a few chunks keeps memory flat.
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<String, std::io::Error>>(4);
    tokio::spawn(async move {
        let sees = |unit: &baocao_core::UnitVersion, day| access.sees(&registry, unit, day);
        let visible: Option<&baocao_store::compose::Visibility> = (!access.reads_everywhere()).then_some(&sees);
        let mut chunk = Chunk::First;
        let composed = state
            .db
            .restate_table(&registry, &query, Audience { counting, visible }, |cells| {
                let text = if json {
                    restated::json_chunk(&cells, &registry, day, chunk)
                } else {
                    restated::csv_chunk(&cells, &registry, day, chunk)
                };
                chunk = Chunk::Next;
                let tx = tx.clone();
                async move { tx.send(Ok(text)).await.is_ok() }
            })
            .await;
        let last = match composed {
            Ok(()) if json => Ok(restated::JSON_END.to_string()),
            Ok(()) => return,
            // The status is sent: cut the body short, so that the client
            // sees a broken transfer rather than a short file.
            Err(e) => {
                tracing::warn!(error = %e, "a table of values stopped midway");
                Err(std::io::Error::other(e.to_string()))
            }
        };
        let _ = tx.send(last).await;
    });
    let body = axum::body::Body::from_stream(futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    }));
    let content_type = if json { "application/json" } else { "text/csv; charset=utf-8" };
    Ok(([(header::CONTENT_TYPE, content_type)], body).into_response())
}
