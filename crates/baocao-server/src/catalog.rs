//! Catalog pages: indicators and their groups, forms and their versions,
//! regimes and their periods.

use crate::params::{Path, Query};
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use baocao_core::date::format_vn;
use baocao_core::form::{Form, FormKind};
use baocao_core::text::{compare_vi, fold, matches_word_prefixes};
use baocao_core::{Period, today_in_vietnam};
use chrono::Datelike;
use serde::Deserialize;

use std::collections::HashMap;

use crate::params::Form as Posted;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use baocao_core::Indicator;
use baocao_core::access::{Permission, Target};

use crate::access::Access;
use crate::error::ApiError;
use crate::pages::{Chrome, error_page, page_result, render};
use crate::state::AppState;

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
    can_import: bool,
    summary: Option<String>,
    problems: Vec<String>,
}

#[derive(Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
}

/// Indicators by group (nhóm chỉ tiêu), in Vietnamese order, filtered by
/// words typed with or without diacritics; for whoever manages the catalog,
/// the form to import a list.
async fn indicators_page(state: &AppState, access: &Access, query: String) -> Result<IndicatorsPage, ApiError> {
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
            value_type: i.value_type.vietnamese(),
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
    Ok(IndicatorsPage {
        chrome: Chrome::new(state, access),
        query,
        groups,
        can_import: access.holds(Permission::ManageCatalog),
        summary: None,
        problems: Vec::new(),
    })
}

pub async fn indicators(State(state): State<AppState>, access: Access, Query(q): Query<SearchQuery>) -> Response {
    page_result(indicators_page(&state, &access, q.q.unwrap_or_default().trim().to_string()).await)
}

/// A list of indicators (CSV or XLSX, the columns of `indicators import`)
/// uploaded on «Chỉ tiêu»: added or updated all together, or, with any
/// problem, nothing, every problem named on the page by file, row and column.
pub async fn import_indicators(
    State(state): State<AppState>,
    access: Access,
    form: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let (file, _) = match crate::body::read_multipart(form).await {
        Ok(read) => read,
        Err(e) => return error_page(e),
    };
    let read = crate::directory_pages::read_file(
        file,
        "danh sách chỉ tiêu",
        baocao_ingest::indicators::read_csv,
        baocao_ingest::indicators::read_xlsx,
    );
    let imported = match read {
        Ok(list) => {
            state.db.import_indicators(access.username(), &list).await.map_err(crate::directory_pages::problem_lines)
        }
        Err(problems) => Err(problems),
    };
    let page = indicators_page(&state, &access, String::new()).await;
    match (page, imported) {
        (Err(e), _) => error_page(e),
        (Ok(page), Ok(n)) => render(&IndicatorsPage {
            summary: Some(format!(
                "Đã nạp danh sách chỉ tiêu: {} chỉ tiêu mới, {} chỉ tiêu cập nhật.",
                n.imported, n.updated
            )),
            ..page
        }),
        (Ok(page), Err(problems)) => {
            (StatusCode::UNPROCESSABLE_ENTITY, render(&IndicatorsPage { problems, ..page })).into_response()
        }
    }
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
        to: baocao_core::date::last_day(f.valid_to).map_or_else(|| "đang hiệu lực".into(), format_vn),
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
    can_design: bool,
}

/// The grid of a form as a unit will fill it: columns (heading, entered)
/// and rows.
fn preview(form: &Form, indicators: &HashMap<String, Indicator>) -> (Vec<(&'static str, bool)>, Vec<PreviewRow>) {
    let columns = form.columns.iter().map(|c| (c.heading(), c.entered())).collect();
    let rows = form
        .rows
        .iter()
        .map(|r| PreviewRow {
            stt: r.stt.clone(),
            label: match (&r.label, &r.indicator) {
                (Some(l), _) => l.clone(),
                (None, Some(c)) => form.label(c, indicators).to_string(),
                (None, None) => String::new(),
            },
            code: r.indicator.clone().unwrap_or_default(),
            heading: r.heading,
            indent: r.indent,
        })
        .collect();
    (columns, rows)
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
            let (columns, rows) = preview(chosen, &indicators);
            let registry = state.registry().await?;
            let can_design = access.can(&registry, Permission::ManageCatalog, Target::System);
            Ok(FormPage {
                chrome: Chrome::new(&state, &access),
                form: version(chosen),
                versions: versions.iter().map(version).collect(),
                columns,
                rows,
                can_design,
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
    /// Who approves, level by level, and whether the sender may.
    approval: String,
}

/// A regime's approval chain in words: «1. Lãnh đạo UBND xã (Phê duyệt
/// tại đơn vị báo cáo) → 2. …», and whether the sender may approve.
pub(crate) fn approval_of(regime: &baocao_core::regime::Regime) -> String {
    let chain = if regime.approval.is_empty() {
        "Một cấp: người có quyền phê duyệt của đơn vị".to_string()
    } else {
        let levels: Vec<String> = regime
            .approval
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let at = l.unit.as_deref().map_or("đơn vị báo cáo".to_string(), |u| format!("đơn vị {u}"));
                format!("{}. {} ({} tại {at})", i + 1, l.name, l.role.vietnamese())
            })
            .collect();
        levels.join(" → ")
    };
    let sender = if regime.self_approval {
        "người gửi được tự duyệt"
    } else {
        "người gửi không tự duyệt"
    };
    format!("{chain}; {sender}")
}

/// Which units a regime asks reports from, in words.
pub(crate) fn units_of(regime: &baocao_core::regime::Regime) -> String {
    let u = &regime.units;
    let mut units = Vec::new();
    if let Some(under) = &u.under {
        units.push(format!("trực thuộc {under}"));
    }
    if !u.kinds.is_empty() {
        units.push(u.kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", "));
    }
    if !u.codes.is_empty() {
        units.push(format!("các mã {}", u.codes.join(", ")));
    }
    if let Some(a) = &regime.agencies {
        let mut agencies = vec!["cơ quan".to_string()];
        if !a.kinds.is_empty() {
            agencies.push(format!("loại {}", a.kinds.join(", ")));
        }
        if let Some(under) = &a.under {
            agencies.push(format!("phục vụ địa bàn {under}"));
        }
        if !a.codes.is_empty() {
            agencies.push(format!("các mã {}", a.codes.join(", ")));
        }
        if a.about != baocao_core::regime::About::Own {
            agencies.push(format!("({})", a.about.vietnamese()));
        }
        units.push(agencies.join(" "));
    }
    units.join("; ")
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
    /// The account may write regimes (in the editor).
    can_manage: bool,
    notice: Option<String>,
    regimes: Vec<RegimeRow>,
    year: i32,
    periods: Vec<(String, Vec<PeriodRow>)>,
}

/// Regimes, and this year's periods of each with their cut-off windows and
/// deadlines, so the rules of Decree 09/2019 can be checked by reading.
#[derive(Deserialize)]
pub struct RegimesQuery {
    saved: Option<String>,
}

pub async fn regimes(State(state): State<AppState>, access: Access, Query(q): Query<RegimesQuery>) -> Response {
    page_result(
        async {
            let today = today_in_vietnam();
            let year = today.year();
            // Requests, which ask once, are listed on their own page.
            let mut regimes = state.db.regimes().await?;
            regimes.retain(|r| r.request.is_none());
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
                .map(|r| RegimeRow {
                    code: r.code.clone(),
                    name: r.name.clone(),
                    form: r.form.clone(),
                    periodicity: r.periodicity.vietnamese(),
                    units: units_of(r),
                    deadline_days: r.deadline_days_after_cutoff,
                    approval: approval_of(r),
                })
                .collect();
            let registry = state.registry().await?;
            Ok(RegimesPage {
                chrome: Chrome::new(&state, &access),
                can_manage: access.can(&registry, Permission::ManageCatalog, Target::System),
                notice: q.saved.map(|code| format!("Đã lưu chế độ báo cáo {code}.")),
                regimes,
                year,
                periods,
            })
        }
        .await,
    )
}

/// The version of form `code` starting on `from` (YYYY-MM-DD), or its latest.
async fn chosen_version(state: &AppState, code: &str, from: Option<&str>) -> Result<Form, ApiError> {
    let versions = state.db.form_versions(code).await?;
    match from.filter(|f| !f.is_empty()) {
        Some(from) => versions.into_iter().find(|v| v.valid_from.is_some_and(|d| d.to_string() == from)),
        None => versions.into_iter().last(),
    }
    .ok_or_else(|| ApiError::not_found(format!("Không có biểu mẫu «{code}».")))
}

/// A form version as a workbook, to review or to fill in as a definition.
pub async fn form_xlsx(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<VersionQuery>,
) -> Response {
    let result = async {
        let form = chosen_version(&state, &code, q.from.as_deref()).await?;
        let bytes = baocao_ingest::form_xlsx::write_form(&form).map_err(|e| ApiError::bad_request(e.to_string()))?;
        Ok::<_, ApiError>((form.code, bytes))
    }
    .await;
    match result {
        Ok((code, bytes)) => crate::respond::workbook(&code, bytes),
        Err(e) => error_page(e),
    }
}

#[derive(Template)]
#[template(path = "designer.html")]
struct DesignerPage {
    chrome: Chrome,
    definition: String,
    problems: Vec<String>,
    preview: Option<FormVersion>,
    columns: Vec<(&'static str, bool)>,
    rows: Vec<PreviewRow>,
}

/// What a new form starts from.
const NEW_FORM: &str = r#"code = "BM02"
name = "Tên biểu mẫu"
kind = "input"
valid_from = "2026-01-01"
columns = ["year_plan", "this_period", "cumulative", "same_period_last_year", "percent_of_plan", "percent_of_same_period"]

[[rows]]
stt = "I"
label = "Nhóm chỉ tiêu"
heading = true

[[rows]]
stt = "1"
indicator = "HS_TIEP_NHAN"
indent = 1
"#;

/// Parses and checks a definition; the page shows the problems or the preview.
async fn designer_page(state: &AppState, access: &Access, definition: String) -> Result<DesignerPage, ApiError> {
    let indicators: HashMap<String, Indicator> =
        state.db.indicators().await?.into_iter().map(|i| (i.code.clone(), i)).collect();
    let mut page = DesignerPage {
        chrome: Chrome::new(state, access),
        definition,
        problems: Vec::new(),
        preview: None,
        columns: Vec::new(),
        rows: Vec::new(),
    };
    match baocao_ingest::definitions::read_toml::<Form>("biểu mẫu", &page.definition) {
        Err(problems) => page.problems = problems.0.iter().map(|p| p.to_string()).collect(),
        Ok(form) => {
            page.problems = form.check(&indicators);
            let (columns, rows) = preview(&form, &indicators);
            (page.columns, page.rows, page.preview) = (columns, rows, Some(version(&form)));
        }
    }
    Ok(page)
}

async fn require_design(state: &AppState, access: &Access) -> Result<(), ApiError> {
    let registry = state.registry().await?;
    access.require(&registry, Permission::ManageCatalog, Target::System)
}

#[derive(Deserialize)]
pub struct DesignerQuery {
    code: Option<String>,
    from: Option<String>,
}

/// The form designer: a definition to edit, previewed as it is typed.
pub async fn designer(State(state): State<AppState>, access: Access, Query(q): Query<DesignerQuery>) -> Response {
    page_result(
        async {
            require_design(&state, &access).await?;
            let definition = match q.code.as_deref().filter(|c| !c.is_empty()) {
                Some(code) => {
                    let form = chosen_version(&state, code, q.from.as_deref()).await?;
                    toml::to_string(&form).map_err(|e| ApiError::bad_request(e.to_string()))?
                }
                None => NEW_FORM.to_string(),
            };
            designer_page(&state, &access, definition).await
        }
        .await,
    )
}

#[derive(Deserialize)]
pub struct Definition {
    definition: String,
}

/// The preview of a definition being typed (htmx).
pub async fn designer_preview(
    State(state): State<AppState>,
    access: Access,
    Posted(d): Posted<Definition>,
) -> Response {
    page_result(
        async {
            require_design(&state, &access).await?;
            designer_page(&state, &access, d.definition).await
        }
        .await,
    )
}

/// Saves a definition as a form version; refused with the problems shown.
pub async fn designer_save(State(state): State<AppState>, access: Access, Posted(d): Posted<Definition>) -> Response {
    let result = async {
        require_design(&state, &access).await?;
        let form: Form = baocao_ingest::definitions::read_toml("biểu mẫu", &d.definition).map_err(ApiError::from)?;
        state.db.save_form(access.username(), &form).await?;
        Ok::<_, ApiError>(form)
    }
    .await;
    match result {
        Ok(form) => Redirect::to(&format!(
            "/forms/{}?from={}",
            form.code,
            form.valid_from.map(|d| d.to_string()).unwrap_or_default()
        ))
        .into_response(),
        Err(e) if matches!(e.status, StatusCode::BAD_REQUEST | StatusCode::CONFLICT) => {
            match designer_page(&state, &access, d.definition).await {
                Ok(mut page) => {
                    page.problems.insert(0, e.message);
                    (StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response()
                }
                Err(e) => error_page(e),
            }
        }
        Err(e) => error_page(e),
    }
}
