//! Catalog pages: indicators and their groups, forms and their versions,
//! regimes and their periods.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use baocao_core::date::format_vn;
use baocao_core::form::{Form, FormKind};
use baocao_core::text::{compare_vi, fold, matches_word_prefixes};
use baocao_core::{Period, today_in_vietnam};
use chrono::Datelike;
use serde::Deserialize;

use crate::access::Access;
use crate::error::ApiError;
use crate::pages::{Chrome, error_page, render};
use crate::state::AppState;

fn page_result<T: Template>(page: Result<T, ApiError>) -> Response {
    match page {
        Ok(page) => render(&page),
        Err(e) => error_page(e),
    }
}

struct IndicatorRow {
    code: String,
    name: String,
    unit: String,
    value_type: &'static str,
    aggregation: String,
}

#[derive(Template)]
#[template(path = "indicators.html")]
struct IndicatorsPage {
    chrome: Chrome,
    query: String,
    groups: Vec<(String, Vec<IndicatorRow>)>,
}

#[derive(Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
}

/// Indicators by group (nhóm chỉ tiêu), in Vietnamese order, filtered by
/// words typed with or without diacritics.
pub async fn indicators(State(state): State<AppState>, access: Access, Query(q): Query<SearchQuery>) -> Response {
    page_result(
        async {
            let query = q.q.unwrap_or_default().trim().to_string();
            let mut list = state.db.indicators().await?;
            if !query.is_empty() {
                list.retain(|i| matches_word_prefixes(&fold(&format!("{} {}", i.name, i.code)), &query));
            }
            list.sort_by(|a, b| {
                compare_vi(a.group.as_deref().unwrap_or(""), b.group.as_deref().unwrap_or(""))
                    .then_with(|| compare_vi(&a.name, &b.name))
            });
            let mut groups: Vec<(String, Vec<IndicatorRow>)> = Vec::new();
            for i in list {
                let group = i.group.clone().unwrap_or_else(|| "Chưa phân nhóm".into());
                let row = IndicatorRow {
                    code: i.code,
                    name: i.name,
                    unit: i.unit,
                    value_type: i.value_type.as_str(),
                    aggregation: match i.aggregation.formula() {
                        Some(f) => format!("công thức: {f}"),
                        None => i.aggregation.word().to_string(),
                    },
                };
                match groups.last_mut() {
                    Some((g, rows)) if *g == group => rows.push(row),
                    _ => groups.push((group, vec![row])),
                }
            }
            Ok(IndicatorsPage { chrome: Chrome::new(&state, &access), query, groups })
        }
        .await,
    )
}

struct FormVersion {
    code: String,
    name: String,
    kind: &'static str,
    from: String,
    to: String,
    from_iso: String,
}

fn version(f: &Form) -> FormVersion {
    FormVersion {
        code: f.code.clone(),
        name: f.name.clone(),
        kind: match f.kind {
            FormKind::Input => "Biểu đầu vào",
            FormKind::Output => "Biểu đầu ra",
        },
        from: f.valid_from.map_or_else(|| "—".into(), format_vn),
        to: f.valid_to.and_then(|t| t.pred_opt()).map_or_else(|| "đang hiệu lực".into(), format_vn),
        from_iso: f.valid_from.map(|d| d.to_string()).unwrap_or_default(),
    }
}

#[derive(Template)]
#[template(path = "forms.html")]
struct FormsPage {
    chrome: Chrome,
    forms: Vec<FormVersion>,
}

/// Every form with its versions.
pub async fn forms(State(state): State<AppState>, access: Access) -> Response {
    page_result(
        async {
            let forms = state.db.forms().await?.iter().map(version).collect();
            Ok(FormsPage { chrome: Chrome::new(&state, &access), forms })
        }
        .await,
    )
}

struct PreviewRow {
    stt: String,
    label: String,
    code: String,
    heading: bool,
    indent: u8,
}

#[derive(Template)]
#[template(path = "form.html")]
struct FormPage {
    chrome: Chrome,
    form: FormVersion,
    versions: Vec<FormVersion>,
    columns: Vec<(&'static str, bool)>,
    rows: Vec<PreviewRow>,
    rules: Vec<String>,
    source: Option<String>,
}

#[derive(Deserialize)]
pub struct VersionQuery {
    /// The version starting on this day (YYYY-MM-DD); the latest when absent.
    from: Option<String>,
}

/// One form: a preview of its grid as a unit will fill it, its rules and versions.
pub async fn form(
    State(state): State<AppState>,
    access: Access,
    Path(code): Path<String>,
    Query(q): Query<VersionQuery>,
) -> Response {
    page_result(
        async {
            let versions = state.db.form_versions(&code).await?;
            let chosen = match q.from.as_deref().filter(|f| !f.is_empty()) {
                Some(from) => versions.iter().find(|v| v.valid_from.is_some_and(|d| d.to_string() == from)),
                None => versions.last(),
            }
            .ok_or_else(|| ApiError::not_found(format!("Không có biểu mẫu «{code}».")))?;
            let indicators = state.db.indicators().await?.into_iter().map(|i| (i.code.clone(), i)).collect();
            let rows = chosen
                .rows
                .iter()
                .map(|r| PreviewRow {
                    stt: r.stt.clone(),
                    label: match (&r.label, &r.indicator) {
                        (Some(l), _) => l.clone(),
                        (None, Some(c)) => chosen.label(c, &indicators).to_string(),
                        (None, None) => String::new(),
                    },
                    code: r.indicator.clone().unwrap_or_default(),
                    heading: r.heading,
                    indent: r.indent,
                })
                .collect();
            Ok(FormPage {
                chrome: Chrome::new(&state, &access),
                form: version(chosen),
                versions: versions.iter().map(version).collect(),
                columns: chosen.columns.iter().map(|c| (c.heading(), c.entered())).collect(),
                rows,
                rules: chosen.rules.iter().map(|r| serde_json::to_string(r).unwrap_or_default()).collect(),
                source: chosen.source.as_ref().map(|s| s.regime.clone()),
            })
        }
        .await,
    )
}

struct RegimeRow {
    code: String,
    name: String,
    form: String,
    periodicity: &'static str,
    units: String,
    deadline_days: u32,
}

struct PeriodRow {
    label: String,
    cutoff: String,
    deadline: String,
}

#[derive(Template)]
#[template(path = "regimes.html")]
struct RegimesPage {
    chrome: Chrome,
    regimes: Vec<RegimeRow>,
    year: i32,
    periods: Vec<(String, Vec<PeriodRow>)>,
}

/// Regimes, and this year's periods of each with their cut-off windows and
/// deadlines, so the rules of Decree 09/2019 can be checked by reading.
pub async fn regimes(State(state): State<AppState>, access: Access) -> Response {
    page_result(
        async {
            let today = today_in_vietnam();
            let year = today.year();
            let regimes = state.db.regimes().await?;
            let jan = chrono::NaiveDate::from_ymd_opt(year, 1, 1).expect("1 January");
            let dec = chrono::NaiveDate::from_ymd_opt(year, 12, 31).expect("31 December");
            let periods = regimes
                .iter()
                .map(|r| {
                    let rows = r
                        .periods(jan, dec)
                        .iter()
                        .map(|p: &Period| {
                            let (from, to) = p.cutoff();
                            PeriodRow {
                                label: p.label(),
                                cutoff: format!("{} – {}", format_vn(from), format_vn(to)),
                                deadline: format_vn(r.deadline(p)),
                            }
                        })
                        .collect();
                    (r.name.clone(), rows)
                })
                .collect();
            let regimes = regimes
                .iter()
                .map(|r| {
                    let mut units = Vec::new();
                    if let Some(u) = &r.units.under {
                        units.push(format!("trực thuộc {u}"));
                    }
                    if !r.units.kinds.is_empty() {
                        units.push(r.units.kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", "));
                    }
                    if !r.units.codes.is_empty() {
                        units.push(format!("các mã {}", r.units.codes.join(", ")));
                    }
                    RegimeRow {
                        code: r.code.clone(),
                        name: r.name.clone(),
                        form: r.form.clone(),
                        periodicity: r.periodicity.vietnamese(),
                        units: units.join("; "),
                        deadline_days: r.deadline_days_after_cutoff,
                    }
                })
                .collect();
            Ok(RegimesPage { chrome: Chrome::new(&state, &access), regimes, year, periods })
        }
        .await,
    )
}
