//! «Bảng điều hành»: favourites (saved views of the analysis page) and
//! dashboards of several of them, shared with the holders of a role, the
//! accounts of a unit's tree, or both; a dashboard shared "on the home
//! page" opens there.
//!
//! Sharing a dashboard shares its questions, never its answers: each view
//! is composed for the account that opens it, within what that account
//! may see (`analysis::build`), so a commune's officer opening the
//! province's dashboard gets their own commune's figures and marks.

use super::analysis;
use super::export::{Exported, Format, FormatQuery};
use super::*;
use baocao_core::access::{Role, shared_with};
use baocao_core::table::Table;
use baocao_store::dashboards::{Dashboard, DashboardDraft, Favourite, Page, Which};

/// One view of a dashboard, composed for the account that opens it.
pub(super) struct ViewCard {
    pub(super) name: String,
    /// The view on its page.
    pub(super) link: String,
    /// Said above the view when it is not the one saved (another area).
    pub(super) note: Option<String>,
    /// What the view shows, or why it cannot be shown to this account.
    pub(super) shown: Result<Shown, String>,
}

/// A view as composed: its title, its chart (if its page draws one) and
/// its table's markup.
pub(super) struct Shown {
    pub(super) title_line: String,
    pub(super) chart: Option<String>,
    pub(super) table: String,
    /// The table is long: folded under its chart.
    pub(super) long: bool,
}

impl Shown {
    fn new(title_line: String, chart: Option<String>, table: &impl Template, long: bool) -> Result<Shown, String> {
        let table = table.render().map_err(|e| {
            tracing::error!(error = %e, "template failed");
            "Lỗi hiển thị bảng".to_string()
        })?;
        Ok(Shown { title_line, chart, table, long })
    }
}

/// Rows past which a view's table is folded under its chart.
const FOLDED_ROWS: usize = 12;

/// The views of `dashboard`, each composed for `access`; a view that
/// cannot be shown (an indicator removed) says why in its place, and the
/// others are shown.
pub(super) async fn cards(state: &AppState, access: &Access, dashboard: &Dashboard) -> Vec<ViewCard> {
    let mut cards = Vec::new();
    for item in &dashboard.items {
        cards.push(card(state, access, item).await);
    }
    cards
}

/// One view, composed for `access`.
async fn card(state: &AppState, access: &Access, item: &Favourite) -> ViewCard {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(&item.query).unwrap_or_default();
    let (note, shown) = match item.page {
        Page::Analysis => analysis_view(state, access, &pairs).await,
        Page::Quality => (None, quality_view(state, access, &pairs).await),
    };
    ViewCard { name: item.name.clone(), link: item.link(), note, shown }
}

/// A view of the quality page: its latest period (or the one kept) as the
/// account may see it, the units of lowest scores.
async fn quality_view(state: &AppState, access: &Access, pairs: &[(String, String)]) -> Result<Shown, String> {
    let page = super::quality::build(state, access, &ListQuery::of(pairs)).await.map_err(|e| e.message)?;
    Shown::new(page.title_line(), None, &page.part(), false)
}

/// A view of the analysis page. One of an area the account may not see is
/// shown for the account's own area, with a note saying so (the
/// province's dashboard shows a commune's leader their commune).
async fn analysis_view(
    state: &AppState,
    access: &Access,
    pairs: &[(String, String)],
) -> (Option<String>, Result<Shown, String>) {
    let (note, built) = analysis_page(state, access, pairs).await;
    let shown = built.map_err(|e| e.message).and_then(|page| {
        Shown::new(page.title_line.clone(), Some(page.chart.clone()), &page.pivot(), page.rows() > FOLDED_ROWS)
    });
    (note, shown)
}

/// The analysis page of a view for `access`: of the account's own area,
/// with a note saying so, when the view's area is not one it may see.
async fn analysis_page(
    state: &AppState,
    access: &Access,
    pairs: &[(String, String)],
) -> (Option<String>, Result<analysis::AnalysisPage, ApiError>) {
    let mut built = analysis::build(state, access, pairs).await;
    let mut note = None;
    let home = access.home_unit(state.settings.home_province.as_deref());
    if let (Err(ApiError { status: StatusCode::FORBIDDEN, .. }), Some(home)) = (&built, home) {
        let own: Vec<(String, String)> =
            pairs.iter().filter(|(k, _)| k != "unit").cloned().chain([("unit".to_string(), home)]).collect();
        if let Ok(page) = analysis::build(state, access, &own).await {
            note =
                Some(format!("Tài khoản không xem được địa bàn của mục này; bảng dưới đây là của {}.", page.unit_name));
            built = Ok(page);
        }
    }
    (note, built)
}

/// One view's table as its page exports it, composed for `access` as on
/// the dashboard (with the same note); a view that cannot be shown is a
/// table saying why.
async fn view_table(state: &AppState, access: &Access, item: &Favourite) -> Table {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(&item.query).unwrap_or_default();
    let (note, table) = match item.page {
        Page::Analysis => {
            let (note, built) = analysis_page(state, access, &pairs).await;
            (note, built.map(|page| page.table()))
        }
        Page::Quality => (None, super::quality::build(state, access, &ListQuery::of(&pairs)).await.map(|p| p.table())),
    };
    match table {
        Ok(mut table) => {
            table.lines.extend(note);
            table
        }
        Err(e) => Table { title: item.name.clone(), lines: vec![e.message], ..Default::default() },
    }
}

/// Whether `access` may open `dashboard`: its own, or shared with it.
fn opens(registry: &Registry, access: &Access, dashboard: &Dashboard) -> bool {
    dashboard.owner == access.username()
        || dashboard.shared()
            && shared_with(
                registry,
                &access.0.grants,
                dashboard.shared_role,
                dashboard.shared_unit.as_deref(),
                today_in_vietnam(),
            )
}

/// Dashboard `id` if `access` may open it. A dashboard not shared with the
/// account is not found, alike whether it exists: its name is not the
/// account's to know.
async fn opened(state: &AppState, access: &Access, registry: &Registry, id: i64) -> Result<Dashboard, ApiError> {
    state
        .db
        .dashboards(Which::One(id))
        .await?
        .into_iter()
        .find(|d| opens(registry, access, d))
        .ok_or_else(|| ApiError::not_found(format!("Không có bảng điều hành số {id}.")))
}

/// The dashboard the home page shows the account: the latest changed of
/// those marked for the home page that it may open (its own included).
pub(super) async fn home_dashboard(
    state: &AppState,
    access: &Access,
    registry: &Registry,
) -> Result<Option<Dashboard>, ApiError> {
    let marked = state.db.dashboards(Which::OnHome).await?;
    Ok(marked.into_iter().find(|d| opens(registry, access, d)))
}

/// Who a dashboard is shared with, in words.
fn sharing(registry: &Registry, d: &Dashboard) -> String {
    let unit = d.shared_unit.as_deref().map(|code| {
        let name = registry.history(code).last().map_or(code.to_string(), |u| u.name.clone());
        format!("{name} ({code})")
    });
    match (d.shared_role, unit) {
        (None, None) => "Chỉ người tạo".into(),
        (Some(role), None) => format!("Mọi {} trong hệ thống", role.vietnamese().to_lowercase()),
        (None, Some(unit)) => format!("Mọi tài khoản của {unit} và các đơn vị trực thuộc"),
        (Some(role), Some(unit)) => {
            format!("{} của {unit} và các đơn vị trực thuộc", role.vietnamese())
        }
    }
}

struct FavouriteRow {
    id: i64,
    name: String,
    link: String,
    /// On the dashboard being written.
    chosen: bool,
}

struct DashboardRow {
    id: i64,
    name: String,
    owner: String,
    sharing: String,
    on_home: bool,
    updated: String,
}

/// The dashboard being written in the form: a new one, or one of the
/// account's own.
struct Editing {
    id: Option<i64>,
    name: String,
    shared_role: String,
    shared_unit: String,
    on_home: bool,
}

#[derive(Template)]
#[template(path = "dashboards.html")]
struct DashboardsPage {
    chrome: Chrome,
    favourites: Vec<FavouriteRow>,
    own: Vec<DashboardRow>,
    shared: Vec<DashboardRow>,
    editing: Editing,
    roles: Vec<(&'static str, &'static str)>,
    unit_choices: Vec<(String, String)>,
}

#[derive(Deserialize)]
pub struct EditQuery {
    #[serde(default)]
    edit: Option<i64>,
}

/// The account's favourites and dashboards, those shared with it, and the
/// form to write one (`?edit=ID`: one of its own).
pub async fn dashboards(State(state): State<AppState>, access: Access, Query(q): Query<EditQuery>) -> Response {
    page_result(
        async {
            let registry = state.registry().await?;
            let favourites = state.db.favourites(access.0.account_id).await?;
            let all = state.db.dashboards(Which::All).await?;
            let row = |d: &Dashboard| DashboardRow {
                id: d.id,
                name: d.name.clone(),
                owner: d.owner.clone(),
                sharing: sharing(&registry, d),
                on_home: d.on_home,
                updated: time_vn(d.updated_at),
            };
            let mine = |d: &&Dashboard| d.owner == access.username();
            let (editing, chosen) = match q.edit {
                None => (
                    Editing {
                        id: None,
                        name: String::new(),
                        shared_role: String::new(),
                        shared_unit: String::new(),
                        on_home: false,
                    },
                    favourites.iter().map(|f| f.id).collect::<Vec<_>>(),
                ),
                Some(id) => {
                    let d = all.iter().filter(mine).find(|d| d.id == id).ok_or_else(|| {
                        ApiError::not_found(format!("Không có bảng điều hành số {id} của tài khoản."))
                    })?;
                    let editing = Editing {
                        id: Some(d.id),
                        name: d.name.clone(),
                        shared_role: d.shared_role.map(Role::as_str).unwrap_or_default().to_string(),
                        shared_unit: d.shared_unit.clone().unwrap_or_default(),
                        on_home: d.on_home,
                    };
                    (editing, d.items.iter().map(|f| f.id).collect())
                }
            };
            Ok(DashboardsPage {
                chrome: Chrome::new(&state, &access),
                favourites: favourites
                    .into_iter()
                    .map(|f| FavouriteRow { id: f.id, link: f.link(), chosen: chosen.contains(&f.id), name: f.name })
                    .collect(),
                own: all.iter().filter(mine).map(row).collect(),
                shared: all.iter().filter(|d| !mine(d) && opens(&registry, &access, d)).map(row).collect(),
                editing,
                roles: Role::ALL.iter().map(|r| (r.as_str(), r.vietnamese())).collect(),
                unit_choices: unit_choices(&state, &registry, &access, Permission::ViewReports, today_in_vietnam())
                    .await?,
            })
        }
        .await,
    )
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    id: i64,
    name: String,
    owner: String,
    sharing: String,
    own: bool,
    cards: Vec<ViewCard>,
}

/// One dashboard, its views composed for the account that opens it; with
/// `?format=xlsx`, every view's table in one workbook, a sheet each, as
/// each view's page exports it; with `?format=print`, as one official
/// document, each view's table in turn. Charts are each view's page's.
pub async fn dashboard(
    State(state): State<AppState>,
    access: Access,
    Path(id): Path<i64>,
    Query(f): Query<FormatQuery>,
) -> Response {
    match f.format() {
        Ok(Format::Page) => {}
        Ok(Format::Xlsx) => return workbook(&state, &access, id).await.unwrap_or_else(error_page),
        Ok(Format::Print) => return printed(&state, &access, id).await.unwrap_or_else(error_page),
        Ok(Format::Svg) => {
            return error_page(ApiError::bad_request(
                "Bảng điều hành tải được dưới dạng bảng tính (format=xlsx) hoặc bản in (format=print); biểu đồ có ở trang của từng mục.",
            ));
        }
        Err(e) => return error_page(e),
    }
    page_result(
        async {
            let registry = state.registry().await?;
            let d = opened(&state, &access, &registry, id).await?;
            Ok(DashboardPage {
                chrome: Chrome::new(&state, &access),
                id: d.id,
                own: d.owner == access.username(),
                sharing: sharing(&registry, &d),
                cards: cards(&state, &access, &d).await,
                name: d.name,
                owner: d.owner,
            })
        }
        .await,
    )
}

/// Dashboard `id` if `access` may open it, and each view's name and table
/// composed for `access`; one saying so when it has no view.
async fn view_tables(
    state: &AppState,
    access: &Access,
    id: i64,
) -> Result<(Dashboard, Vec<(String, Table)>), ApiError> {
    let registry = state.registry().await?;
    let d = opened(state, access, &registry, id).await?;
    let mut tables = Vec::new();
    for item in &d.items {
        tables.push((item.name.clone(), view_table(state, access, item).await));
    }
    if tables.is_empty() {
        let none = vec!["Bảng điều hành chưa có mục nào.".to_string()];
        tables.push((d.name.clone(), Table { title: d.name.clone(), lines: none, ..Default::default() }));
    }
    Ok((d, tables))
}

/// The named tables as the writers take them.
fn named(tables: &[(String, Table)]) -> Vec<(&str, &Table)> {
    tables.iter().map(|(name, table)| (name.as_str(), table)).collect()
}

/// Dashboard `id` as a workbook: a sheet for each view, composed for
/// `access`.
async fn workbook(state: &AppState, access: &Access, id: i64) -> Result<Response, ApiError> {
    let (_, tables) = view_tables(state, access, id).await?;
    let bytes = baocao_ingest::xlsx::write_tables(&named(&tables), state.settings.demo)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    Ok(crate::respond::workbook(&format!("bang-dieu-hanh-{id}"), bytes))
}

/// Dashboard `id` printed as one official document under the letterhead
/// of the account's unit: each view's table in turn, composed for `access`.
async fn printed(state: &AppState, access: &Access, id: i64) -> Result<Response, ApiError> {
    let (d, tables) = view_tables(state, access, id).await?;
    let head = super::export::letterhead(state, access).await?;
    let title = format!("Bảng điều hành: {}", d.name);
    let html = baocao_documents::table::render_all(&title, &named(&tables), &head, state.settings.demo)?;
    Ok(axum::response::Html(html).into_response())
}

#[derive(Template)]
#[template(path = "dashboard_card.html")]
struct CardPart {
    c: ViewCard,
}

/// One view of a dashboard, composed for the account: what the home page
/// fetches for each view once it is shown. Not found alike when the
/// dashboard is not shared with the account and when it has no such view.
pub async fn dashboard_view(
    State(state): State<AppState>,
    access: Access,
    Path((id, n)): Path<(i64, usize)>,
) -> Response {
    page_result(
        async {
            let registry = state.registry().await?;
            let item = opened(&state, &access, &registry, id)
                .await?
                .items
                .into_iter()
                .nth(n)
                .ok_or_else(|| ApiError::not_found(format!("Không có mục {n} của bảng điều hành số {id}.")))?;
            Ok(CardPart { c: card(&state, &access, &item).await })
        }
        .await,
    )
}

#[derive(Deserialize)]
pub struct FavouriteForm {
    /// `analysis` (when absent) or `quality`.
    #[serde(default)]
    page: Option<String>,
    name: String,
    query: String,
}

/// Keeps a view of the analysis or quality page as one of the account's
/// favourites.
pub async fn save_favourite(State(state): State<AppState>, access: Access, Form(f): Form<FavouriteForm>) -> Response {
    let saved = async {
        let (page, query) = match f.page.as_deref().unwrap_or("analysis") {
            "analysis" => (Page::Analysis, analysis::canonical_query(&f.query)?),
            "quality" => (Page::Quality, super::quality::canonical_query(&f.query)?),
            other => {
                return Err(ApiError::bad_request(format!(
                    "Trường `page`: «{other}» không phải analysis hoặc quality."
                )));
            }
        };
        state.db.save_favourite(access.0.account_id, page, &f.name, &query).await?;
        Ok::<_, ApiError>(())
    };
    match saved.await {
        Ok(()) => Redirect::to("/dashboards?saved=1").into_response(),
        Err(e) => error_page(e),
    }
}

/// Removes one of the account's favourites.
pub async fn delete_favourite(State(state): State<AppState>, access: Access, Path(id): Path<i64>) -> Response {
    match state.db.delete_favourite(access.0.account_id, id).await {
        Ok(true) => Redirect::to("/dashboards").into_response(),
        Ok(false) => error_page(ApiError::not_found(format!("Không có mục yêu thích số {id} của tài khoản."))),
        Err(e) => error_page(e.into()),
    }
}

/// The dashboard form: `id` (to change one), `name`, `item` (favourites,
/// repeated, in order), `shared_role`, `shared_unit`, `on_home`.
fn draft_of(pairs: &[(String, String)]) -> Result<DashboardDraft, ApiError> {
    let field = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty());
    let number = |name: &str, v: &str| {
        v.parse::<i64>().map_err(|_| ApiError::bad_request(format!("Trường `{name}`: «{v}» không phải một số.")))
    };
    let shared_role = field("shared_role")
        .map(|r| r.parse::<Role>().map_err(|e| ApiError::bad_request(format!("Trường `shared_role`: {e}"))))
        .transpose()?;
    Ok(DashboardDraft {
        id: field("id").map(|v| number("id", v)).transpose()?,
        name: field("name").unwrap_or_default().to_string(),
        shared_role,
        shared_unit: field("shared_unit").map(str::to_string),
        on_home: field("on_home").is_some(),
        items: pairs.iter().filter(|(k, _)| k == "item").map(|(_, v)| number("item", v)).collect::<Result<_, _>>()?,
    })
}

/// Creates or changes one of the account's dashboards. It may be shared
/// only within what the account sees: over a unit it reads, or, without a
/// unit, by an account that reads everywhere.
pub async fn save_dashboard(
    State(state): State<AppState>,
    access: Access,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let saved = async {
        let draft = draft_of(&pairs)?;
        let registry = state.registry().await?;
        let today = today_in_vietnam();
        match &draft.shared_unit {
            Some(code) => {
                let unit = unit_on(&registry, code, today)?;
                if !access.sees(&registry, unit, today) {
                    return Err(ApiError::forbidden(format!(
                        "Chỉ chia sẻ được với đơn vị trong phạm vi tài khoản được xem; «{code}» không thuộc phạm vi đó."
                    )));
                }
            }
            None if draft.shared_role.is_some() && !access.reads_everywhere() => {
                return Err(ApiError::forbidden(
                    "Chia sẻ với một vai trò trong toàn hệ thống cần quyền xem toàn hệ thống: hãy chọn cả đơn vị.",
                ));
            }
            None => {}
        }
        Ok::<_, ApiError>(state.db.save_dashboard(access.0.account_id, access.username(), &draft).await?)
    };
    match saved.await {
        Ok(id) => Redirect::to(&format!("/dashboards/{id}")).into_response(),
        Err(e) => error_page(e),
    }
}

/// Removes one of the account's dashboards.
pub async fn delete_dashboard(State(state): State<AppState>, access: Access, Path(id): Path<i64>) -> Response {
    match state.db.delete_dashboard(access.0.account_id, access.username(), id).await {
        Ok(true) => Redirect::to("/dashboards").into_response(),
        Ok(false) => error_page(ApiError::not_found(format!("Không có bảng điều hành số {id} của tài khoản."))),
        Err(e) => error_page(e.into()),
    }
}
