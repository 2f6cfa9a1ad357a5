//! «Đề nghị báo cáo»: ad-hoc and thematic requests (đột xuất, chuyên đề)
//! sent to units with a deadline and a legal basis, then followed as a
//! regime's reports are: recipients find them among their tasks, the
//! lists and completeness pages take their code as a regime's.

use baocao_core::regime::{Request, RequestKind, UnitSelector};
use baocao_core::unit::UnitKind;
use baocao_core::{UnitVersion, date::parse_date};

use super::*;

struct RequestRow {
    code: String,
    kind: &'static str,
    name: String,
    form: String,
    period: String,
    period_label: String,
    deadline: String,
    /// The first deadline, once extended.
    extended_from: String,
    legal_basis: String,
    sent_on: String,
    state: &'static str,
    closed: bool,
    /// Recipients the account sees, and how many of them sent.
    sent: usize,
    total: usize,
    /// The account may extend or close it: it may send to every recipient.
    can_change: bool,
}

#[derive(Template)]
#[template(path = "requests.html")]
struct RequestsPage {
    chrome: Chrome,
    today: String,
    rows: Vec<RequestRow>,
    can_send: bool,
    kinds: Vec<(&'static str, &'static str)>,
    forms: Vec<(String, String)>,
    /// The units the account may send to, for the picker.
    unit_choices: Vec<(String, String)>,
    /// Areas whose communes, wards and special zones a request may go to.
    areas: Vec<(String, String)>,
    notice: Option<String>,
}

#[derive(Deserialize)]
pub struct Notice {
    sent: Option<String>,
    changed: Option<String>,
}

/// The kinds a request's area stands for: the communal level of today.
const COMMUNAL: [UnitKind; 3] = [UnitKind::Commune, UnitKind::Ward, UnitKind::SpecialZone];

/// Whether the account may send to (and so extend or close a request to)
/// every unit `regime` asks for `period`, and to its area.
fn sends_to(registry: &Registry, access: &Access, regime: &Regime, recipients: &[String], period: &Period) -> bool {
    let day = period.end();
    let area_ok = regime
        .units
        .under
        .as_deref()
        .is_none_or(|a| access.can_on(registry, Permission::ManageCatalog, a, today_in_vietnam(), None));
    area_ok
        && recipients
            .iter()
            .all(|code| access.can_on(registry, Permission::ManageCatalog, code, day, Some(&regime.form)))
}

/// A request as an account sees it: the recipients it may see and how
/// many of those sent, and whether it may extend or close it.
pub(crate) struct Listed {
    pub(crate) regime: Regime,
    pub(crate) request: Request,
    pub(crate) sent: usize,
    pub(crate) total: usize,
    pub(crate) can_change: bool,
}

/// Every request whose recipients the account sees some of, newest first;
/// only request `only`, when given (its completeness alone is read).
pub(crate) async fn listed(state: &AppState, access: &Access, only: Option<&str>) -> Result<Vec<Listed>, ApiError> {
    let registry = state.registry().await?;
    let mut regimes: Vec<Regime> = state
        .db
        .regimes()
        .await?
        .into_iter()
        .filter(|r| r.request.is_some() && only.is_none_or(|code| r.code == code))
        .collect();
    regimes.sort_by(|a, b| {
        let sent = |r: &Regime| r.request.as_ref().map(|q| q.sent_on);
        sent(b).cmp(&sent(a)).then_with(|| b.code.cmp(&a.code))
    });
    let mut out = Vec::new();
    for regime in regimes {
        let Some(request) = regime.request.clone() else { continue };
        let completeness = state.db.completeness(&registry, &regime.code, &request.period).await?;
        let seen = visible(&registry, access, &regime, &completeness, Permission::ViewReports);
        if seen.is_empty() {
            continue;
        }
        let recipients: Vec<String> = completeness.units.iter().map(|u| u.code.clone()).collect();
        out.push(Listed {
            sent: seen.iter().filter(|u| u.sent()).count(),
            total: seen.len(),
            can_change: access.holds(Permission::ManageCatalog)
                && sends_to(&registry, access, &regime, &recipients, &request.period),
            regime,
            request,
        });
    }
    Ok(out)
}

/// Every request whose recipients the account sees some of, with how
/// many of those sent; and, for whoever may send one, the form to send.
pub async fn requests(State(state): State<AppState>, access: Access, Query(q): Query<Notice>) -> Response {
    let page = async {
        let registry = state.registry().await?;
        let today = today_in_vietnam();
        let rows = listed(&state, &access, None)
            .await?
            .into_iter()
            .map(|l| RequestRow {
                code: l.regime.code.clone(),
                kind: l.request.kind.vietnamese(),
                name: l.regime.name.clone(),
                form: l.regime.form.clone(),
                period: l.request.period.to_string(),
                period_label: l.request.period.label(),
                deadline: format_vn(l.request.deadline),
                extended_from: l.request.extended_from.map(format_vn).unwrap_or_default(),
                legal_basis: l.request.legal_basis.clone(),
                sent_on: format_vn(l.request.sent_on),
                state: match l.request.closed_on {
                    Some(_) => "Đã kết thúc",
                    None if today > l.request.deadline => "Quá hạn",
                    None => "Đang mở",
                },
                closed: l.request.closed_on.is_some(),
                sent: l.sent,
                total: l.total,
                can_change: l.can_change,
            })
            .collect();
        let can_send = access.holds(Permission::ManageCatalog);
        let (forms, unit_choices, areas) =
            if can_send { offered(&state, &registry, &access, today).await? } else { Default::default() };
        Ok::<_, ApiError>(RequestsPage {
            chrome: Chrome::new(&state, &access),
            today: format_vn(today),
            rows,
            can_send,
            kinds: RequestKind::ALL.iter().map(|k| (k.as_str(), k.vietnamese())).collect(),
            forms,
            unit_choices,
            areas,
            notice: match (q.sent, q.changed) {
                (Some(code), _) => Some(format!("Đã gửi đề nghị báo cáo {code}.")),
                (None, Some(code)) => Some(format!("Đã cập nhật đề nghị báo cáo {code}.")),
                (None, None) => None,
            },
        })
    };
    page_result(page.await)
}

type Offered = (Vec<(String, String)>, Vec<(String, String)>, Vec<(String, String)>);

/// The forms, units and areas a request may be sent with, today.
async fn offered(
    state: &AppState,
    registry: &Registry,
    access: &Access,
    today: NaiveDate,
) -> Result<Offered, ApiError> {
    let mut forms: Vec<(String, String)> = Vec::new();
    for form in state.db.forms().await? {
        if form.validity().contains(today) && !forms.iter().any(|(code, _)| *code == form.code) {
            forms.push((form.code.clone(), form.name.clone()));
        }
    }
    let areas = registry
        .versions()
        .iter()
        .filter(|v| v.kind.is_province_level() && v.validity.contains(today))
        .filter(|v| access.can(registry, Permission::ManageCatalog, Target::Unit { unit: v, day: today, form: None }))
        .map(|v| (v.code.clone(), v.name.clone()))
        .collect();
    let units = unit_choices(state, registry, access, Permission::ManageCatalog, today).await?;
    Ok((forms, units, areas))
}

#[derive(Deserialize)]
pub struct SendForm {
    kind: String,
    name: String,
    form: String,
    period: String,
    deadline: String,
    legal_basis: String,
    /// Units, one a line or separated by commas: the code first, then
    /// anything (the picker writes «23317 Xã Ngọk Bay»).
    #[serde(default)]
    units: String,
    /// An area whose communes, wards and special zones all report.
    #[serde(default)]
    area: String,
}

/// The codes of a recipients' field: the first word of each item.
fn codes_of(units: &str) -> Vec<String> {
    let mut codes: Vec<String> = Vec::new();
    for item in units.split(['\n', ',', ';']) {
        if let Some(code) = item.split_whitespace().next()
            && !codes.iter().any(|c| c == code)
        {
            codes.push(code.to_string());
        }
    }
    codes
}

/// What a request is sent with, from the page or the API (its JSON body).
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct NewRequest {
    /// `ad_hoc` (đột xuất) or `thematic` (chuyên đề).
    pub(crate) kind: String,
    pub(crate) name: String,
    /// The form reported.
    pub(crate) form: String,
    /// The period or day asked for, as periods are written (202611, 11/2026, 04/12/2026…).
    pub(crate) period: String,
    /// dd/mm/yyyy or YYYY-MM-DD.
    pub(crate) deadline: String,
    /// The document the request rests on (căn cứ).
    pub(crate) legal_basis: String,
    /// Codes of the units and agencies asked.
    #[serde(default)]
    pub(crate) units: Vec<String>,
    /// A province: every commune, ward and special zone of it.
    #[serde(default)]
    pub(crate) area: Option<String>,
}

/// Sends a request: checks every field (named in the message), that the
/// sender may send to every recipient, that someone receives it and that
/// it asks nothing another regime asks; answers its code.
pub(crate) async fn send_new(state: &AppState, access: &Access, f: NewRequest) -> Result<String, ApiError> {
    let registry = state.registry().await?;
    let today = today_in_vietnam();
    let kind = RequestKind::ALL
        .into_iter()
        .find(|k| k.as_str() == f.kind)
        .ok_or_else(|| ApiError::bad_request(format!("Loại đề nghị «{}» không có (ad_hoc hoặc thematic).", f.kind)))?;
    let name = f.name.trim();
    if name.is_empty() {
        return Err(ApiError::bad_request("Tên đề nghị báo cáo: chưa nhập."));
    }
    let period: Period =
        f.period.trim().parse().map_err(|e| ApiError::bad_request(format!("Kỳ báo cáo «{}»: {e}", f.period)))?;
    let deadline =
        parse_date(f.deadline.trim()).map_err(|e| ApiError::bad_request(format!("Hạn gửi «{}»: {e}", f.deadline)))?;
    let day = period.end();
    let area = f.area.map(|a| a.trim().to_string()).filter(|a| !a.is_empty());
    if f.units.is_empty() && area.is_none() {
        return Err(ApiError::bad_request("Đơn vị nhận: hãy chọn ít nhất một đơn vị hoặc một địa bàn."));
    }
    for code in &f.units {
        let unit = registry.in_force(code, day).ok_or_else(|| {
            ApiError::bad_request(format!(
                "Đơn vị nhận «{code}»: không có đơn vị này có hiệu lực ngày {}.",
                format_vn(day)
            ))
        })?;
        access.require(&registry, Permission::ManageCatalog, Target::Unit { unit, day, form: Some(&f.form) })?;
    }
    if let Some(code) = &area {
        let unit = registry
            .in_force(code, today)
            .ok_or_else(|| ApiError::bad_request(format!("Địa bàn «{code}»: không có đơn vị này.")))?;
        access.require(&registry, Permission::ManageCatalog, Target::Unit { unit, day: today, form: Some(&f.form) })?;
    }
    let regime = Regime {
        code: String::new(),
        name: name.to_string(),
        form: f.form.trim().to_string(),
        periodicity: period.periodicity(),
        deadline_days_after_cutoff: 0,
        units: UnitSelector {
            kinds: if area.is_some() { COMMUNAL.to_vec() } else { Vec::new() },
            under: area,
            codes: f.units,
        },
        issued_by: None,
        planning: false,
        approval: Vec::new(),
        self_approval: false,
        agencies: None,
        request: Some(Request {
            kind,
            period,
            deadline,
            legal_basis: f.legal_basis.trim().to_string(),
            sent_on: today,
            extended_from: None,
            closed_on: None,
        }),
        reminders: baocao_core::notify::DEFAULT_REMINDERS.to_vec(),
    };
    let recipients = regime.units_for(&registry, &period);
    if recipients.is_empty() {
        return Err(ApiError::bad_request(format!(
            "Đơn vị nhận: không đơn vị nào được chọn có hiệu lực trong {}.",
            period.label().to_lowercase()
        )));
    }
    clash(state, &registry, &regime, &recipients, &period).await?;
    Ok(state.db.send_request(access.username(), regime).await?)
}

/// Sends a request from the page's form.
pub async fn send(State(state): State<AppState>, access: Access, Form(f): Form<SendForm>) -> Response {
    let request = NewRequest {
        units: codes_of(&f.units),
        kind: f.kind,
        name: f.name,
        form: f.form,
        period: f.period,
        deadline: f.deadline,
        legal_basis: f.legal_basis,
        area: Some(f.area),
    };
    match send_new(&state, &access, request).await {
        Ok(code) => Redirect::to(&format!("/requests?sent={code}")).into_response(),
        Err(e) => error_page(e),
    }
}

/// Refuses a request for figures another regime or request already asks
/// of one of its recipients for the same period: a unit has one figure an
/// indicator and period, and a report approved under the other must not
/// change through this one.
async fn clash(
    state: &AppState,
    registry: &Registry,
    regime: &Regime,
    recipients: &[UnitVersion],
    period: &Period,
) -> Result<(), ApiError> {
    let forms = state.db.forms().await?;
    let day = period.end();
    let indicators_of = |code: &str| -> Vec<String> {
        forms
            .iter()
            .filter(|f| f.code == code && f.validity().contains(day))
            .flat_map(|f| f.indicators().map(str::to_string))
            .collect()
    };
    let asked = indicators_of(&regime.form);
    if asked.is_empty() {
        return Err(ApiError::bad_request(format!(
            "Biểu mẫu «{}»: không có phiên bản nào có hiệu lực ngày {}.",
            regime.form,
            format_vn(day)
        )));
    }
    for other in state.db.regimes().await? {
        if other.asks(period).is_err() || !indicators_of(&other.form).iter().any(|i| asked.contains(i)) {
            continue;
        }
        if let Some(unit) = recipients.iter().find(|u| other.covers(registry, u, period)) {
            return Err(ApiError {
                status: StatusCode::CONFLICT,
                message: format!(
                    "{} ({}) đã báo cáo số liệu {} của biểu {} theo «{}» ({}): hãy dùng số liệu đó, hoặc hỏi một kỳ, một biểu khác.",
                    unit.name,
                    unit.code,
                    period.label().to_lowercase(),
                    other.form,
                    other.name,
                    other.code
                ),
            });
        }
    }
    Ok(())
}

#[derive(Deserialize)]
pub struct ExtendForm {
    deadline: String,
}

/// The request `code`, refused unless the account may send to every one
/// of its recipients (as whoever sent it could).
async fn changeable(state: &AppState, access: &Access, code: &str) -> Result<(), ApiError> {
    let registry = state.registry().await?;
    let regime = state.db.regime(code).await?;
    let Some(request) = &regime.request else {
        return Err(ApiError::not_found(format!("«{code}» không phải là đề nghị báo cáo.")));
    };
    let recipients: Vec<String> = regime.units_for(&registry, &request.period).into_iter().map(|u| u.code).collect();
    if sends_to(&registry, access, &regime, &recipients, &request.period) {
        Ok(())
    } else {
        Err(ApiError {
            status: StatusCode::FORBIDDEN,
            message: "Chỉ người có quyền gửi đề nghị tới mọi đơn vị nhận mới gia hạn hoặc kết thúc được đề nghị này."
                .into(),
        })
    }
}

/// Moves request `code`'s deadline to `deadline` (later only).
pub(crate) async fn extend_to(
    state: &AppState,
    access: &Access,
    code: &str,
    deadline: &str,
) -> Result<Regime, ApiError> {
    changeable(state, access, code).await?;
    let deadline =
        parse_date(deadline.trim()).map_err(|e| ApiError::bad_request(format!("Hạn mới «{deadline}»: {e}")))?;
    Ok(state.db.change_request(access.username(), code, "request.extend", |r| r.extend(deadline)).await?)
}

/// Ends request `code`: it takes no more figures.
pub(crate) async fn close_now(state: &AppState, access: &Access, code: &str) -> Result<Regime, ApiError> {
    changeable(state, access, code).await?;
    let today = today_in_vietnam();
    Ok(state.db.change_request(access.username(), code, "request.close", |r| r.close(today)).await?)
}

/// The page's answer to a change: back to the list, or the refusal.
fn changed(code: &str, result: Result<Regime, ApiError>) -> Response {
    match result {
        Ok(_) => Redirect::to(&format!("/requests?changed={code}")).into_response(),
        Err(e) => error_page(e),
    }
}

/// Moves a request's deadline later.
pub async fn extend(
    State(state): State<AppState>,
    access: Access,
    Path(code): Path<String>,
    Form(f): Form<ExtendForm>,
) -> Response {
    changed(&code, extend_to(&state, &access, &code, &f.deadline).await)
}

/// Ends a request: it takes no more figures.
pub async fn close(State(state): State<AppState>, access: Access, Path(code): Path<String>) -> Response {
    changed(&code, close_now(&state, &access, &code).await)
}

#[cfg(test)]
mod tests {
    #[test]
    fn recipients_are_the_first_word_of_each_item() {
        assert_eq!(super::codes_of("23317 Xã Ngọk Bay\n23318, 23317 lại;  \n"), ["23317", "23318"]);
        assert!(super::codes_of(" \n ,").is_empty());
    }
}
