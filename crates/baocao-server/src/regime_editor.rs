//! The regime editor: a regime's definition (TOML, as `baocao regime save`
//! reads it) written in the browser and previewed as it is typed: the
//! problems the save would refuse it for, its approval chain in words, the
//! units it asks reports from in its latest open period and this year's
//! periods with their cut-off windows and deadlines. Saved under the same
//! checks as the command line.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use baocao_core::access::{Permission, Target};
use baocao_core::date::format_vn;
use baocao_core::regime::Regime;
use baocao_core::{Period, today_in_vietnam};
use chrono::{Datelike, Days};
use serde::Deserialize;

use crate::access::Access;
use crate::catalog::{approval_of, units_of};
use crate::error::ApiError;
use crate::pages::{Chrome, error_page, page_result, render};
use crate::params::{Form as Posted, Query};
use crate::state::AppState;

/// What a new regime starts from; `{under}` is the home province's line.
const NEW_REGIME: &str = r#"code = "BC_MOI"
name = "Báo cáo định kỳ mới"
form = "BM01"
# daily, monthly, quarterly, six_monthly, nine_months, yearly
periodicity = "monthly"
# Hạn gửi: số ngày sau khi hết thời gian chốt số liệu (ngày 14).
deadline_days_after_cutoff = 5
issued_by = "Văn phòng Ủy ban nhân dân tỉnh"

[units]
{under}kinds = ["xã", "phường", "đặc khu"]

# Phê duyệt nhiều cấp (bỏ dấu # để dùng):
# [[approval]]
# name = "Lãnh đạo UBND xã"
# [[approval]]
# name = "Văn phòng UBND tỉnh"
# unit = "mã tỉnh"
"#;

/// How many of the units a regime resolves to the preview names.
const NAMED: usize = 40;

#[derive(Template)]
#[template(path = "regime_editor.html")]
struct EditorPage {
    chrome: Chrome,
    definition: String,
    problems: Vec<String>,
    preview: Option<Preview>,
}

struct Preview {
    code: String,
    name: String,
    form: String,
    periodicity: &'static str,
    units: String,
    approval: String,
    /// The period the units are resolved for, and its deadline.
    period: String,
    deadline: String,
    count: usize,
    named: Vec<(String, String)>,
    /// This year's periods: label, cut-off window, deadline.
    periods: Vec<(String, String, String)>,
}

#[derive(Deserialize)]
pub struct EditorQuery {
    code: Option<String>,
}

#[derive(Deserialize)]
pub struct Definition {
    definition: String,
}

async fn require_manage(state: &AppState, access: &Access) -> Result<(), ApiError> {
    let registry = state.registry().await?;
    access.require(&registry, Permission::ManageCatalog, Target::System)
}

/// The editor, on a stored regime (`?code=`) or on a new one.
pub async fn editor(State(state): State<AppState>, access: Access, Query(q): Query<EditorQuery>) -> Response {
    page_result(
        async {
            require_manage(&state, &access).await?;
            let definition = match q.code.as_deref().filter(|c| !c.is_empty()) {
                Some(code) => {
                    let regime = state.db.regime(code).await?;
                    toml::to_string(&regime).map_err(|e| ApiError::bad_request(e.to_string()))?
                }
                None => {
                    let under = state.settings.home_province.as_deref().map(|p| format!("under = \"{p}\"\n"));
                    NEW_REGIME.replace("{under}", &under.unwrap_or_default())
                }
            };
            editor_page(&state, &access, definition).await
        }
        .await,
    )
}

/// The preview of a definition being typed (htmx).
pub async fn preview(State(state): State<AppState>, access: Access, Posted(d): Posted<Definition>) -> Response {
    page_result(
        async {
            require_manage(&state, &access).await?;
            editor_page(&state, &access, d.definition).await
        }
        .await,
    )
}

/// Saves the definition; refused with the problems shown beside it.
pub async fn save(State(state): State<AppState>, access: Access, Posted(d): Posted<Definition>) -> Response {
    let saved = async {
        require_manage(&state, &access).await?;
        let page = editor_page(&state, &access, d.definition.clone()).await?;
        if let Some(problem) = page.problems.first() {
            return Err(ApiError::bad_request(problem.clone()));
        }
        let regime: Regime = baocao_ingest::definitions::read_toml("chế độ báo cáo", &d.definition)?;
        state.db.save_regime(access.username(), &regime).await?;
        Ok::<_, ApiError>(regime.code)
    };
    match saved.await {
        Ok(code) => Redirect::to(&format!("/regimes?saved={code}")).into_response(),
        Err(e) if matches!(e.status, StatusCode::BAD_REQUEST | StatusCode::CONFLICT) => {
            match editor_page(&state, &access, d.definition).await {
                Ok(mut page) => {
                    if !page.problems.contains(&e.message) {
                        page.problems.insert(0, e.message);
                    }
                    (StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response()
                }
                Err(e) => error_page(e),
            }
        }
        Err(e) => error_page(e),
    }
}

/// The page for `definition`: every problem a save would meet, or the preview.
async fn editor_page(state: &AppState, access: &Access, definition: String) -> Result<EditorPage, ApiError> {
    let mut page = EditorPage { chrome: Chrome::new(state, access), definition, problems: Vec::new(), preview: None };
    let regime: Regime = match baocao_ingest::definitions::read_toml("chế độ báo cáo", &page.definition) {
        Ok(regime) => regime,
        Err(problems) => {
            page.problems = problems.0.iter().map(|p| p.to_string()).collect();
            return Ok(page);
        }
    };
    let registry = state.registry().await?;
    let today = today_in_vietnam();
    if regime.request.is_some() {
        page.problems.push("Đề nghị báo cáo đột xuất, chuyên đề được gửi và sửa ở trang «Đề nghị báo cáo».".into());
    }
    let forms = state.db.forms().await?;
    let form_name = forms.iter().rev().find(|f| f.code == regime.form).map(|f| f.name.clone());
    let known = |code: &str| registry.history(code).next().is_some();
    page.problems.extend(regime.check_references(form_name.is_some(), known));
    for code in regime.units.under.iter().chain(&regime.units.codes).filter(|c| !known(c)) {
        page.problems.push(format!("Đơn vị «{code}» (units): không có đơn vị này."));
    }
    // The latest period open for reports (or the first to come).
    let periods = regime.periods(today - Days::new(400), today + Days::new(400));
    let Some(period) = periods.iter().rev().find(|p| p.is_open(today)).or(periods.first()).copied() else {
        return Ok(page);
    };
    let units = regime.units_for(&registry, &period);
    if units.is_empty() {
        page.problems.push(format!("Không đơn vị nào thuộc diện báo cáo trong {}.", period.label().to_lowercase()));
    }
    let year = today.year();
    let this_year = |p: &&Period| p.end().year() == year;
    page.preview = Some(Preview {
        code: regime.code.clone(),
        name: regime.name.clone(),
        form: format!("{} — {}", regime.form, form_name.unwrap_or_default()),
        periodicity: regime.periodicity.vietnamese(),
        units: units_of(&regime),
        approval: approval_of(&regime),
        period: period.label(),
        deadline: format_vn(regime.deadline(&period)),
        count: units.len(),
        named: units.iter().take(NAMED).map(|u| (u.code.clone(), u.name.clone())).collect(),
        periods: periods
            .iter()
            .filter(this_year)
            .map(|p| {
                let (from, to) = p.cutoff();
                (p.label(), format!("{} – {}", format_vn(from), format_vn(to)), format_vn(regime.deadline(p)))
            })
            .collect(),
    });
    Ok(page)
}
