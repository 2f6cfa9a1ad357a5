//! Server-rendered pages in Vietnamese.

use crate::params::{Path, Query};
use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use baocao_core::date::format_vn;
use baocao_core::{Lineage, UnitVersion};
use chrono::NaiveDate;
use serde::Deserialize;

use baocao_core::Registry;
use baocao_core::access::{Permission, Target};

use crate::access::Access;
use crate::api::{day_param, unit_detail};
use crate::error::ApiError;
pub(crate) use crate::respond::error_page;
use crate::state::AppState;

/// What every page shows around its content: the demo banner, the menu of
/// what the account may do, who is signed in, and the CSRF token for forms.
pub struct Chrome {
    pub demo: bool,
    pub user: Option<String>,
    pub csrf: String,
    pub nav: Vec<(&'static str, &'static str)>,
}

/// Where a menu entry's permission must be held for its page to open.
#[derive(Clone, Copy, PartialEq)]
enum Over {
    /// Over some unit: the page shows what the account may see there.
    Some,
    /// Over the whole system: the page is about everything (rosters, the
    /// audit log).
    Whole,
}

/// The menu: each entry shown only to accounts whose permission opens it.
const MENU: [(&str, &str, Permission, Over); 23] = [
    ("/", "Việc của tôi", Permission::ViewCatalog, Over::Some),
    ("/reports", "Báo cáo", Permission::ViewReports, Over::Some),
    ("/offline", "Nhập khi không có mạng", Permission::EnterReports, Over::Some),
    ("/review", "Phê duyệt", Permission::ApproveReports, Over::Some),
    ("/completeness", "Tiến độ", Permission::ViewReports, Over::Some),
    ("/quality", "Chất lượng", Permission::ViewReports, Over::Some),
    ("/requests", "Đề nghị báo cáo", Permission::ViewReports, Over::Some),
    ("/output", "Tổng hợp", Permission::ViewReports, Over::Some),
    ("/compare", "So sánh", Permission::ViewReports, Over::Some),
    ("/analysis", "Phân tích", Permission::ViewReports, Over::Some),
    ("/dashboards", "Bảng điều hành", Permission::ViewReports, Over::Some),
    ("/units", "Đơn vị hành chính", Permission::ViewCatalog, Over::Some),
    ("/indicators", "Chỉ tiêu", Permission::ViewCatalog, Over::Some),
    ("/forms", "Biểu mẫu", Permission::ViewCatalog, Over::Some),
    ("/regimes", "Chế độ báo cáo", Permission::ViewCatalog, Over::Some),
    ("/admin/accounts", "Tài khoản", Permission::ManageAccounts, Over::Some),
    ("/roster", "Danh sách cán bộ", Permission::ManageAccounts, Over::Whole),
    ("/tasks", "Kế hoạch", Permission::ViewReports, Over::Some),
    ("/archive", "Lưu trữ", Permission::ViewReports, Over::Some),
    ("/signatures/verify", "Kiểm tra chữ ký số", Permission::ViewCatalog, Over::Some),
    ("/admin/upstream", "Gửi lên cấp trên", Permission::ManageCatalog, Over::Whole),
    ("/admin/feeds", "Nguồn cấp số liệu", Permission::ManageCatalog, Over::Whole),
    ("/audit", "Nhật ký", Permission::ViewAudit, Over::Whole),
];

impl Chrome {
    pub fn new(state: &AppState, access: &Access) -> Self {
        let opens = |p: Permission, over: Over| match over {
            Over::Some => access.holds(p),
            Over::Whole => access.holds_everywhere(p),
        };
        let nav =
            MENU.iter().filter(|(_, _, p, over)| opens(*p, *over)).map(|(href, label, ..)| (*href, *label)).collect();
        Chrome {
            demo: state.settings.demo,
            user: Some(access.0.display_name.clone()),
            csrf: access.0.csrf().to_string(),
            nav,
        }
    }

    pub fn anonymous(state: &AppState) -> Self {
        Chrome { demo: state.settings.demo, user: None, csrf: String::new(), nav: Vec::new() }
    }
}

/// The units in force on `day` that the account may act on with
/// `permission`, for a searchable picker (`unit_list.html`): each code
/// with a label holding the name and the name without diacritics, which
/// the browser matches as one types («ngok bay» finds Xã Ngọk Bay). On a
/// province's instance (`home_province`), the units within it and the
/// country's provinces only: a unit elsewhere is still taken by its code typed in,
/// and the page does not carry the whole country's 3,000-odd units (a
/// quarter of a megabyte, on a phone) to every view.
pub(crate) async fn unit_choices(
    state: &AppState,
    registry: &Registry,
    access: &Access,
    permission: Permission,
    day: NaiveDate,
) -> Result<Vec<(String, String)>, crate::error::ApiError> {
    // Every page of a composed figure offers the list, and a new structure
    // day each time would list and sort it again (a twentieth of a page's
    // work): kept per asker and structure, as the same for every day of
    // one epoch (`Registry::epoch`) and every grant as it stands today.
    let key = format!("choices|{permission:?}|{}|{}", registry.epoch(day), access.asker());
    let home = state.settings.home_province.as_deref();
    let choices = state
        .figures(key, Vec::len, async {
            let mut units: Vec<&baocao_core::UnitVersion> = registry
                .versions()
                .iter()
                .filter(|v| v.validity.contains(day))
                .filter(|v| home.is_none_or(|home| v.kind.is_province_level() || registry.within(v, home, day)))
                .filter(|v| access.can(registry, permission, Target::Unit { unit: v, day, form: None }))
                .collect();
            units.sort_by(|a, b| baocao_core::registry::unit_order(a, b));
            let named = |v: &baocao_core::UnitVersion| format!("{} · {}", v.name, baocao_core::text::fold(&v.name));
            Ok(units.into_iter().map(|v| (v.code.clone(), named(v))).collect::<Vec<_>>())
        })
        .await?;
    Ok(Vec::clone(&choices))
}

/// The application's stylesheet.
pub(crate) const STYLESHEET: &str = include_str!("../static/app.css");

/// A unit as a row of a page: dates already in dd/mm/yyyy.
struct UnitRow {
    code: String,
    name: String,
    kind: &'static str,
    level: u8,
    depth: usize,
    valid_from: String,
    valid_to: String,
    /// For an agency: its kind and the unit it serves, in words.
    agency: Option<String>,
}

fn rows(units: &[UnitVersion], base_level: u8) -> Vec<UnitRow> {
    units
        .iter()
        .map(|u| UnitRow {
            code: u.code.clone(),
            name: u.name.clone(),
            kind: u.kind.as_str(),
            level: u.level,
            depth: usize::from(u.level.saturating_sub(base_level)),
            valid_from: u.validity.from.map_or_else(|| "—".into(), format_vn),
            // People read the last day in force; the API's valid_to is exclusive.
            valid_to: u.validity.last_day().map_or_else(|| "đang hiệu lực".into(), format_vn),
            agency: u.agency.as_ref().map(|a| match &a.area {
                Some(area) => format!("{}, phục vụ đơn vị {area}", a.kind),
                None => a.kind.clone(),
            }),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "units.html")]
struct UnitsPage {
    chrome: Chrome,
    day: String,
    day_iso: String,
    under: String,
    query: String,
    heading: String,
    units: Vec<UnitRow>,
    count: usize,
}

#[derive(Deserialize)]
pub struct HomeQuery {
    at: Option<String>,
    under: Option<String>,
    q: Option<String>,
}

pub(crate) fn render(template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "Lỗi hiển thị trang").into_response()
        }
    }
}

/// A page, or the error page when it could not be made.
pub(crate) fn page_result<T: Template>(page: Result<T, ApiError>) -> Response {
    match page {
        Ok(page) => render(&page),
        Err(e) => error_page(e),
    }
}

/// Units in force on a chosen day (time travel), or search results.
pub async fn units(State(state): State<AppState>, access: Access, Query(q): Query<HomeQuery>) -> Response {
    page_result(units_page(&state, &access, q).await)
}

async fn units_page(state: &AppState, access: &Access, q: HomeQuery) -> Result<UnitsPage, ApiError> {
    let day = day_param("at", q.at.as_deref())?;
    let query = q.q.unwrap_or_default().trim().to_string();
    let under = q.under.or_else(|| state.settings.home_province.clone()).unwrap_or_default();
    let (heading, units) = if !query.is_empty() {
        (format!("Kết quả tìm «{query}»"), state.db.search_units(&query, Some(day), 200).await?)
    } else if under.is_empty() {
        ("Các tỉnh, thành phố".to_string(), state.db.units_at(day, None, Some(1)).await?)
    } else {
        let root = state.db.unit_history(&under).await?;
        let name = root.iter().find(|v| v.validity.contains(day)).map_or_else(|| under.clone(), |v| v.name.clone());
        (format!("Đơn vị trực thuộc {name}"), state.db.units_at(day, Some(&under), None).await?)
    };
    let base = units.iter().map(|u| u.level).min().unwrap_or(1);
    Ok(UnitsPage {
        chrome: Chrome::new(state, access),
        day: format_vn(day),
        day_iso: day.to_string(),
        under,
        query,
        heading,
        count: units.len(),
        units: rows(&units, base),
    })
}

struct LinkRow {
    row: UnitRow,
    share: String,
    day_iso: String,
}

#[derive(Template)]
#[template(path = "unit.html")]
struct UnitPage {
    chrome: Chrome,
    day: String,
    unit: UnitRow,
    parent: Option<String>,
    versions: Vec<UnitRow>,
    predecessors: Vec<LinkRow>,
    successors: Vec<LinkRow>,
    /// Dissolved by a cutover: its data is legacy, read-only.
    legacy: Option<String>,
}

fn share(partial: bool, weight: Option<f64>) -> String {
    match (partial, weight) {
        (false, _) => "toàn bộ".into(),
        (true, Some(w)) => format!("một phần ({})", baocao_core::text::format_percent(w * 100.0, 1)),
        (true, None) => "một phần (chưa rõ tỷ lệ)".into(),
    }
}

fn links(entries: &[baocao_core::LineageEntry], day_of: fn(&UnitVersion) -> Option<NaiveDate>) -> Vec<LinkRow> {
    entries
        .iter()
        .map(|e| LinkRow {
            row: rows(std::slice::from_ref(&e.unit), e.unit.level).remove(0),
            share: share(e.partial, e.weight),
            day_iso: day_of(&e.unit).map(|d| d.to_string()).unwrap_or_default(),
        })
        .collect()
}

/// One unit: its versions and its lineage.
pub async fn unit(
    State(state): State<AppState>,
    access: Access,
    Path(code): Path<String>,
    Query(q): Query<HomeQuery>,
) -> Response {
    let page = async {
        let day = day_param("at", q.at.as_deref())?;
        let detail = unit_detail(&state, &code, day).await?;
        let lineage: Lineage = state.registry().await?.lineage(&code, day)?;
        let legacy = match (detail.unit.validity.to, state.db.dissolution(&detail.unit.code).await?) {
            (Some(end), Some((cutover, package))) => Some(format!(
                "Đơn vị này đã giải thể từ ngày {} (chuyển đổi «{cutover}»): dữ liệu báo cáo của đơn vị là dữ liệu lưu trữ, chỉ xem{}.",
                format_vn(end),
                package.map_or(String::new(), |p| format!("; gói lưu trữ: {p}"))
            )),
            _ => None,
        };
        Ok::<_, ApiError>(UnitPage {
            chrome: Chrome::new(&state, &access),
            legacy,
            day: format_vn(day),
            unit: rows(std::slice::from_ref(&detail.unit), detail.unit.level).remove(0),
            parent: detail.unit.parent_code.clone(),
            versions: rows(&detail.versions, detail.unit.level),
            // A predecessor is shown as of its last day, a successor as of its first.
            predecessors: links(&lineage.predecessors, |u| u.validity.last_day()),
            successors: links(&lineage.successors, |u| u.validity.from),
        })
    }
    .await;
    page_result(page)
}

/// Kept an hour: a new release's stylesheet reaches every browser within it.
fn css(sheet: &'static str) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")], sheet)
}

/// The application's stylesheet.
pub async fn stylesheet() -> impl IntoResponse {
    css(STYLESHEET)
}

/// The stylesheet of official documents (printed reports).
pub async fn document_stylesheet() -> impl IntoResponse {
    css(baocao_documents::STYLESHEET)
}

/// A script of the binary's own, cached for a day.
pub(crate) fn script(body: &'static str) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=86400")], body)
}

/// The unit picker of the pages that send to units (see its comment).
pub async fn picker() -> impl IntoResponse {
    script(include_str!("../static/picker.js"))
}

/// The PNG download of a chart (see its comment).
pub async fn chart_png() -> impl IntoResponse {
    script(include_str!("../static/chart-png.js"))
}

/// htmx 2 (BSD Zero Clause), served from the binary: no CDN, works offline.
pub async fn htmx() -> impl IntoResponse {
    script(include_str!("../static/htmx.min.js"))
}
