//! One report: entry, review and approval, its actions, and the printed
//! official document.

use super::*;

/// A cell of the entry grid.
struct Cell {
    /// Its column's heading: on a phone, where the grid is a list of
    /// fields per indicator, each field says which column it is.
    heading: &'static str,
    /// The input's name when entered here, else empty.
    input: String,
    /// Its element id, kept across htmx swaps so focus stays put.
    id: String,
    value: String,
    /// For this period's value pulled from another system: its name. The
    /// field is then read-only.
    pulled: Option<String>,
    /// The figure depends on an estimated share: marked *.
    estimated: bool,
    /// A figure other than this period's own made partly of numbers
    /// pulled from another system: marked ‡.
    composed_pulled: bool,
    /// Where this period's stored value came from (a page), when there is one.
    origin: Option<String>,
}

struct GridRow {
    stt: String,
    label: String,
    unit_of_measure: String,
    heading: bool,
    indent: u8,
    cells: Vec<Cell>,
    messages: Vec<(bool, String)>,
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    chrome: Chrome,
    view: ReportView,
    url: String,
    /// Where the report stands, in words (its status, and for a chain
    /// the level it waits at).
    status: String,
    status_class: &'static str,
    /// The regime's approval chain: each level's name and how it stands.
    chain: Vec<(String, &'static str)>,
    deadline: String,
    columns: Vec<&'static str>,
    rows: Vec<GridRow>,
    editable: bool,
    /// The account decides at the level the report waits at.
    can_decide: bool,
    /// Why, deciding there, it may still not approve (its own submission).
    approval_barred: Option<&'static str>,
    /// What the mark * means, when a figure shown bears it.
    estimated_note: Option<&'static str>,
    /// What the mark ‡ means, when a figure shown bears it.
    pulled_note: Option<&'static str>,
    notice: Option<String>,
    error: Option<String>,
    general: Vec<(bool, String)>,
    signer: String,
    position: String,
    revisions: Vec<(String, String, String, String, String)>,
    legacy: Option<String>,
    can_reopen: bool,
    /// For an approved report: since when its figures are fixed.
    frozen_since: Option<String>,
    /// For an approved report: its digital signature, in words, and
    /// whether it can be downloaded.
    digital_signature: Option<(String, bool)>,
    /// For a request's report: which request, on what basis, and whether
    /// it still takes figures.
    request: Option<String>,
    /// For an agency's report: the area it serves.
    serves: Option<String>,
    /// The area whose figures the report gives, when the regime says its
    /// figures are an area's rather than the agency's own.
    about: Option<String>,
}

/// The entry grid of a report; `entered` are the texts typed in a refused
/// attempt, shown again as typed.
fn grid(view: &ReportView, editable: bool, entered: &HashMap<String, String>) -> Vec<GridRow> {
    view.rows
        .iter()
        .map(|row| {
            let code = row.indicator.clone().unwrap_or_default();
            let cells = view
                .columns
                .iter()
                .map(|&column| {
                    let name = match column {
                        Column::ThisPeriod => format!("v:{code}"),
                        Column::YearPlan => format!("p:{code}"),
                        _ => String::new(),
                    };
                    let input = if editable && !row.heading && !row.computed && column.entered() {
                        name
                    } else {
                        String::new()
                    };
                    let value = entered.get(&input).cloned().unwrap_or_else(|| row.shown(column));
                    let this = column == Column::ThisPeriod;
                    let pulled = row.pulled_from.clone().filter(|_| this);
                    let origin = (this && !row.computed && row.cells.contains_key("this_period"))
                        .then(|| format!("/values/origin?indicator={code}&unit={}&period={}", view.unit, view.period));
                    let estimated = row.estimated(column);
                    let composed_pulled = !this && row.pulled(column);
                    Cell {
                        heading: column.heading(),
                        id: input.replace(':', "-"),
                        input,
                        value,
                        pulled,
                        estimated,
                        composed_pulled,
                        origin,
                    }
                })
                .collect();
            let messages = view
                .findings
                .iter()
                .filter(|f| row.indicator.as_deref() == Some(f.indicator.as_str()))
                .map(|f| (f.severity == Severity::Error, f.message.clone()))
                .collect();
            GridRow {
                stt: row.stt.clone(),
                label: row.label.clone(),
                unit_of_measure: row.unit_of_measure.clone().unwrap_or_default(),
                heading: row.heading,
                indent: row.indent,
                cells,
                messages,
            }
        })
        .collect()
}

/// Whether a kept signature holds, checked as the page is shown: against
/// its content and the configured trust list.
fn signature_check(state: &AppState, kept: &baocao_store::signatures::Signature) -> String {
    let Some(trust) = &state.trust else {
        return "Chưa cấu hình danh sách chứng thư tin cậy (--trust-list): chưa kiểm tra chữ ký.".into();
    };
    let (Some(content), Some(signature)) = (&kept.content, &kept.signature) else {
        return "Không có nội dung đã ký để kiểm tra.".into();
    };
    match baocao_signing::verify_detached(signature, content.as_bytes(), trust) {
        Ok(()) => "Chữ ký số hợp lệ: đúng nội dung, chứng thư do tổ chức trong danh sách tin cậy cấp.".into(),
        Err(e) => format!("CHỮ KÝ SỐ KHÔNG HỢP LỆ ({e})."),
    }
}

#[derive(Deserialize)]
pub struct ReportPath {
    regime: String,
    unit: String,
    period: String,
}

#[derive(Deserialize, Default)]
pub struct NoticeQuery {
    done: Option<String>,
}

async fn report_page(
    state: &AppState,
    access: &Access,
    path: &ReportPath,
    notice: Option<String>,
    error: Option<String>,
    entered: HashMap<String, String>,
) -> Result<ReportPage, ApiError> {
    let registry = state.registry().await?;
    let period: Period =
        path.period.parse().map_err(|e| ApiError::bad_request(format!("kỳ báo cáo «{}»: {e}", path.period)))?;
    let regime = state.db.regime(&path.regime).await?;
    let day = period.end();
    let unit = unit_on(&registry, &path.unit, day)?;
    let target = Target::Unit { unit, day, form: Some(&regime.form) };
    access.require(&registry, Permission::ViewReports, target)?;
    let mut view = state.db.report(&registry, &path.regime, &path.unit, &period).await?;
    if !entered.is_empty() {
        // A refused attempt: judge the values as typed, not as stored.
        view.findings = findings_of_entered(state, &regime, &period, &entered).await?;
    }
    // A dissolved unit's reports are legacy data: shown as they were, read-only.
    let legacy = match unit.validity.to {
        Some(end) if state.db.dissolution(&unit.code).await?.is_some() => Some(format!(
            "{} đã giải thể từ ngày {}: báo cáo là dữ liệu lưu trữ, chỉ xem, theo cơ cấu đơn vị của ngày {}.",
            unit.name,
            format_vn(end),
            format_vn(day)
        )),
        _ => None,
    };
    let closed = regime.request.as_ref().and_then(|r| r.closed_on);
    let editable = legacy.is_none()
        && closed.is_none()
        && view.status.editable()
        && access.can(&registry, Permission::EnterReports, target);
    let request = regime.request.as_ref().map(|r| {
        let mut line = format!(
            "Đề nghị báo cáo {} {}, căn cứ {}; hạn gửi {}",
            r.kind.vietnamese().to_lowercase(),
            regime.code,
            r.legal_basis,
            format_vn(r.deadline)
        );
        if let Some(first) = r.extended_from {
            line.push_str(&format!(" (gia hạn từ {})", format_vn(first)));
        }
        if let Some(day) = closed {
            line.push_str(&format!(". Đề nghị đã kết thúc ngày {}: không nhận thêm số liệu", format_vn(day)));
        }
        line + "."
    });
    let can_decide = legacy.is_none()
        && view.status == Status::Submitted
        && access.decides(&registry, &regime, &path.unit, &period, view.approvals);
    let approval_barred = if can_decide { view.approval_barred(access.username(), regime.self_approval) } else { None };
    let can_reopen =
        legacy.is_none() && view.status == Status::Approved && access.reopens(&registry, &regime, &path.unit, &period);
    let chain = view
        .levels
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let standing = match view.status {
                Status::Approved => "đã duyệt",
                Status::Submitted if i < view.approvals => "đã duyệt",
                Status::Submitted if i == view.approvals => "đang chờ",
                _ => "",
            };
            (name.clone(), standing)
        })
        .collect();
    // What was typed in a refused attempt is shown again as typed.
    let typed = |name: &str| entered.get(name).cloned();
    let status_class = status_of(Some(view.status)).1;
    // While typing (values entered, nothing saved) every finding is listed
    // above the grid, the only part the check replaces; otherwise only
    // those that no row shows.
    let checking = !entered.is_empty() && error.is_none();
    let in_grid: Vec<&str> =
        if checking { Vec::new() } else { view.rows.iter().filter_map(|r| r.indicator.as_deref()).collect() };
    let serves = unit
        .agency
        .as_ref()
        .and_then(|a| a.area.as_deref())
        .and_then(|area| registry.in_force(area, day))
        .map(|area| area.name.clone());
    let about = regime.about(&registry, unit, period.end()).map(|area| area.name.clone());
    // Only an approved report is signed; its last approval's signature.
    let digital_signature = match view.status {
        Status::Approved => {
            let kept = state.db.report_signature(&path.regime, &unit.code, &period.to_string()).await?;
            kept.map(|s| match (s.state.as_str(), &s.signer, s.signed_at) {
                ("signed", Some(signer), Some(at)) => {
                    let said = format!("Đã ký số bởi {signer} lúc {}, bản {}.", time_vn(at), s.revision);
                    (format!("{said} {}", signature_check(state, &s)), true)
                }
                _ => ("Đang chờ ký số (máy chủ chưa ký hoặc chưa có khóa ký).".to_string(), false),
            })
        }
        _ => None,
    };
    Ok(ReportPage {
        chrome: Chrome::new(state, access),
        serves,
        about,
        request,
        legacy,
        url: format!("/reports/{}/{}/{}", path.regime, path.unit, path.period),
        status: view.standing(),
        status_class,
        chain,
        deadline: format_vn(view.deadline),
        columns: view.columns.iter().map(|c| c.heading()).collect(),
        rows: grid(&view, editable, &entered),
        estimated_note: view.any_estimated().then_some(baocao_core::report::ESTIMATED_NOTE),
        pulled_note: view.any_composed_pulled().then_some(baocao_core::report::PULLED_NOTE),
        editable,
        can_decide,
        approval_barred,
        notice,
        error,
        general: view
            .findings
            .iter()
            .filter(|f| !in_grid.contains(&f.indicator.as_str()))
            .map(|f| (f.severity == Severity::Error, f.message.clone()))
            .collect(),
        signer: typed("signer")
            .or_else(|| view.signature.as_ref().map(|s| s.signer.clone()))
            .unwrap_or_else(|| access.0.display_name.clone()),
        position: typed("position").or_else(|| view.signature.as_ref().map(|s| s.position.clone())).unwrap_or_default(),
        can_reopen,
        frozen_since: view.approved_at.filter(|_| view.status == Status::Approved).map(time_vn),
        digital_signature,
        revisions: view
            .revisions
            .iter()
            .rev()
            .map(|r| {
                let status = Status::parse(&r.status).map_or(r.status.clone(), |s| s.vietnamese().to_string());
                let action = baocao_core::workflow::action_vietnamese(&r.action);
                let level = r.level.and_then(|l| Some((l, view.levels.get(usize::try_from(l).ok()?.checked_sub(1)?)?)));
                (
                    time_vn(r.at),
                    r.actor.clone(),
                    match level {
                        Some((l, name)) => format!("{action} (cấp {l}: {name})"),
                        None => action.to_string(),
                    },
                    status,
                    r.note.clone().unwrap_or_default(),
                )
            })
            .collect(),
        view,
    })
}

/// The rule findings for values typed into the grid (`v:CODE` fields).
async fn findings_of_entered(
    state: &AppState,
    regime: &Regime,
    period: &Period,
    entered: &HashMap<String, String>,
) -> Result<Vec<baocao_core::form::Finding>, ApiError> {
    let day = period.end();
    let versions = state.db.form_versions(&regime.form).await?;
    let Some(form) = versions.iter().find(|f| f.validity().contains(day)) else { return Ok(Vec::new()) };
    let indicators = state.db.indicators().await?.into_iter().map(|i| (i.code.clone(), i)).collect();
    let numbers: HashMap<String, f64> = entered
        .iter()
        .filter_map(|(k, v)| {
            let code = k.strip_prefix("v:")?;
            let number = baocao_core::text::parse_vn_number(v).parse::<f64>().ok()?;
            Some((code.to_string(), number))
        })
        .collect();
    Ok(form.validate(&numbers, &indicators))
}

/// A report: the entry grid while it can be edited, else read-only; the
/// approval buttons for an approver.
pub async fn report(
    State(state): State<AppState>,
    access: Access,
    Path(path): Path<ReportPath>,
    Query(q): Query<NoticeQuery>,
) -> Response {
    // Only the page's own notices: a link cannot make it say something else.
    let notice = q.done.as_deref().and_then(|d| match d {
        "save" => Some("Đã lưu nháp."),
        "submit" => Some("Đã gửi báo cáo."),
        "approve" => Some("Đã phê duyệt báo cáo."),
        "return" => Some("Đã trả lại báo cáo."),
        "reopen" => Some("Đã mở lại báo cáo để sửa; báo cáo trở về nháp."),
        "upload" => Some("Đã nạp số liệu từ tệp Excel và lưu nháp; kiểm tra lại rồi gửi báo cáo."),
        _ => None,
    });
    let notice = notice.map(str::to_string);
    page_result(report_page(&state, &access, &path, notice, None, HashMap::new()).await)
}

/// Saves, submits, approves or returns; a refusal shows the page again with
/// the values as typed and the reason.
pub async fn act(
    State(state): State<AppState>,
    access: Access,
    Path(path): Path<ReportPath>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let field = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_string());
    let entered: HashMap<String, String> = fields
        .iter()
        .filter(|(k, _)| k.starts_with("v:") || k.starts_with("p:") || k == "signer" || k == "position")
        .cloned()
        .collect();
    if field("action").as_deref() == Some("check") {
        // Inline validation while typing (htmx): the rules on the values as
        // typed; nothing is saved.
        return page_result(report_page(&state, &access, &path, None, None, entered).await);
    }
    let action = match Action::parse(&field("action").unwrap_or_default(), field("reason")) {
        Ok(action) => action,
        Err(e) => return error_page(ApiError::bad_request(e)),
    };
    let period: Period = match path.period.parse() {
        Ok(p) => p,
        Err(e) => return error_page(ApiError::bad_request(format!("kỳ báo cáo «{}»: {e}", path.period))),
    };
    let pick = |prefix: &str| -> BTreeMap<String, String> {
        entered
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix(prefix)?.to_string(), v.clone())))
            .filter(|(_, v)| !v.trim().is_empty())
            .collect()
    };
    // Who signs is kept with a draft as with a submission.
    let signature = match (&action, field("signer"), field("position")) {
        (Action::Save | Action::Submit, Some(s), Some(p)) if !s.is_empty() && !p.is_empty() => Some((s, p)),
        _ => None,
    };
    let name = action.name();
    let request = ReportRequest {
        regime: path.regime.clone(),
        unit: path.unit.clone(),
        period,
        action,
        values: pick("v:"),
        plan: pick("p:"),
        actor: access.username().to_string(),
        signature,
        at: None,
        level: None,
        idempotency: None,
        base_revision: None,
    };
    match act_as(&state, &access, request, crate::reports_api::Answer::Outcome).await {
        Ok(_) => {
            Redirect::to(&format!("/reports/{}/{}/{}?done={name}", path.regime, path.unit, path.period)).into_response()
        }
        Err(e) if e.status == StatusCode::CONFLICT || e.status == StatusCode::BAD_REQUEST => {
            match report_page(&state, &access, &path, None, Some(e.message), entered).await {
                Ok(page) => (StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response(),
                Err(e) => error_page(e),
            }
        }
        Err(e) => error_page(e),
    }
}

/// A filled workbook of this report, uploaded from its page (filled where
/// the network is poor, sent when it is back): its values saved as a draft
/// for the officer to check and submit. A workbook of another report, or
/// one with problems, is refused on the page, naming sheet, cell and row;
/// nothing is saved.
pub async fn upload(
    State(state): State<AppState>,
    access: Access,
    Path(path): Path<ReportPath>,
    form: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let page_url = format!("/reports/{}/{}/{}", path.regime, path.unit, path.period);
    // Who may comes before what was sent: the upload is the page's, taken
    // only where the page offers it.
    let page = match report_page(&state, &access, &path, None, None, HashMap::new()).await {
        Ok(page) => page,
        Err(e) => return error_page(e),
    };
    if !page.editable {
        let (status, message) = if page.legacy.is_none() && page.view.status.editable() {
            (StatusCode::FORBIDDEN, "Tài khoản không được nhập số liệu cho báo cáo này.")
        } else {
            (StatusCode::CONFLICT, "Báo cáo đã gửi, đã duyệt hoặc là dữ liệu lưu trữ: không nạp số liệu được.")
        };
        return error_page(ApiError { status, message: message.into() });
    }
    let period = page.view.period;
    // A request that is not the page's upload form is refused as such; a
    // file too large, like a file with problems, is said on the page.
    let file = match crate::body::read_multipart(form).await {
        Ok((file, _)) => Ok(file),
        Err(e) if e.status == StatusCode::PAYLOAD_TOO_LARGE => Err(e),
        Err(e) => return error_page(e),
    };
    let saved = async {
        let (name, bytes) = file?.ok_or_else(|| ApiError::bad_request("Chọn tệp Excel của báo cáo (field `file`)."))?;
        let indicators = state.db.indicators().await?.into_iter().map(|i| (i.code.clone(), i)).collect();
        let filled = baocao_ingest::xlsx::read_report(&name, &bytes, &indicators)?;
        let same_period = filled.period.parse::<Period>().is_ok_and(|p| p == period);
        if filled.regime != path.regime || filled.unit != path.unit || !same_period {
            return Err(ApiError::bad_request(format!(
                "Tệp «{name}» là báo cáo theo chế độ {} của đơn vị {} kỳ {}, không phải báo cáo đang mở; không lưu gì.",
                filled.regime, filled.unit, filled.period
            )));
        }
        let request = ReportRequest {
            regime: path.regime.clone(),
            unit: path.unit.clone(),
            period,
            action: Action::Save,
            values: filled.values,
            plan: filled.plan,
            actor: access.username().to_string(),
            signature: None,
            at: None,
            level: None,
            idempotency: None,
            base_revision: None,
        };
        act_as(&state, &access, request, crate::reports_api::Answer::Outcome).await?;
        Ok::<_, ApiError>(())
    }
    .await;
    match saved {
        // The upload is sent by htmx: it follows the redirect as a page load.
        Ok(()) => ([("HX-Redirect", format!("{page_url}?done=upload"))], StatusCode::NO_CONTENT).into_response(),
        Err(e) if e.status == StatusCode::FORBIDDEN || e.status == StatusCode::NOT_FOUND => error_page(e),
        Err(e) => {
            let status =
                if e.status == StatusCode::PAYLOAD_TOO_LARGE { e.status } else { StatusCode::UNPROCESSABLE_ENTITY };
            // Nothing was saved: the page already made still shows the report.
            let page = ReportPage { error: Some(e.message), ..page };
            let mut response = render(&page);
            *response.status_mut() = status;
            response
        }
    }
}

/// The report laid out as an official document (Decree 30/2020), for
/// printing: the page the documents' crate makes, under the same access
/// checks as the report itself.
pub async fn print(State(state): State<AppState>, access: Access, Path(path): Path<ReportPath>) -> Response {
    let document = async {
        let page = report_page(&state, &access, &path, None, None, HashMap::new()).await?;
        Ok::<_, ApiError>(baocao_documents::report::render(page.view, state.settings.demo)?)
    }
    .await;
    match document {
        Ok(html) => axum::response::Html(html).into_response(),
        Err(e) => error_page(e),
    }
}
