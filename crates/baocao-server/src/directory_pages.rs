//! Pages for rosters and account plans: upload a roster with its error
//! report, review the accounts a day needs, carry the plan out.

use crate::params::Form;
use crate::params::Query;
use askama::Template;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use baocao_core::date::format_vn;
use baocao_core::directory::{DEFAULT_GRACE_DAYS, RULE, Step};
use baocao_core::today_in_vietnam;
use baocao_documents::plans::{address_rows, certificate_requests, step_rows};
use baocao_ingest::roster::{read_agencies_csv, read_agencies_xlsx, read_roster_csv, read_roster_xlsx};
use baocao_ingest::{IngestError, Location, Problems};
use baocao_store::account_plan::PlannedAddress;
use chrono::NaiveDate;
use serde::Deserialize;

use crate::access::Access;
use crate::api::day_param;
use crate::directory_api::{domain_of, require};
use crate::error::ApiError;
use crate::pages::{Chrome, error_page, page_result, render};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "roster.html")]
struct RosterPage {
    chrome: Chrome,
    day: String,
    agency: String,
    entries: Vec<(String, String, String, String, String, String, String)>,
    summary: Option<String>,
    problems: Vec<String>,
}

#[derive(Deserialize)]
pub struct RosterQuery {
    at: Option<String>,
    agency: Option<String>,
}

async fn roster_page(
    state: &AppState,
    access: &Access,
    day: NaiveDate,
    agency: Option<String>,
) -> Result<RosterPage, ApiError> {
    require(state, access).await?;
    let agency = agency.filter(|a| !a.trim().is_empty());
    let entries = state
        .db
        .roster_at(day, agency.as_deref())
        .await?
        .into_iter()
        .map(|e| {
            (
                e.agency_code,
                e.full_name,
                format_vn(e.birth_date),
                e.position,
                e.post,
                e.email.unwrap_or_default(),
                format_vn(e.since),
            )
        })
        .collect();
    Ok(RosterPage {
        chrome: Chrome::new(state, access),
        day: format_vn(day),
        agency: agency.unwrap_or_default(),
        entries,
        summary: None,
        problems: Vec::new(),
    })
}

/// The roster of a day (of one agency, when asked) as a workbook, with the
/// page's columns.
pub async fn roster_xlsx(State(state): State<AppState>, access: Access, Query(q): Query<RosterQuery>) -> Response {
    let result = async {
        let day = day_param("at", q.at.as_deref())?;
        let page = roster_page(&state, &access, day, q.agency).await?;
        let heading = match page.agency.as_str() {
            "" => "DANH SÁCH CÁN BỘ, CÔNG CHỨC".to_string(),
            agency => format!("DANH SÁCH CÁN BỘ, CÔNG CHỨC — CƠ QUAN {agency}"),
        };
        let rows = page
            .entries
            .into_iter()
            .map(|(agency, name, born, position, post, email, since)| {
                vec![agency, name, born, position, post, email, since]
            })
            .collect();
        let headers =
            ["Cơ quan", "Họ và tên", "Ngày sinh", "Chức vụ", "Vị trí công tác", "Thư điện tử công vụ", "Từ ngày"];
        let bytes = baocao_ingest::roster::write_plan("Danh sách", &heading, &headers, rows, day)
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        let name = format!("danh-sach-can-bo-{}", day.format("%Y%m%d"));
        Ok::<_, ApiError>(crate::respond::workbook(&name, bytes))
    };
    result.await.unwrap_or_else(error_page)
}

/// The roster of a day.
pub async fn roster(State(state): State<AppState>, access: Access, Query(q): Query<RosterQuery>) -> Response {
    let page = async { roster_page(&state, &access, day_param("at", q.at.as_deref())?, q.agency).await };
    page_result(page.await)
}

/// Reads an uploaded roster and imports it; problems come back as a list
/// naming sheet, row and column, and nothing is loaded.
pub async fn upload(
    State(state): State<AppState>,
    access: Access,
    form: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    // Who may comes before what was sent.
    if let Err(e) = require(&state, &access).await {
        return error_page(e);
    }
    let (file, mut fields) = match crate::body::read_multipart(form).await {
        Ok(read) => read,
        Err(e) => return error_page(e),
    };
    let Some(from) = fields.remove("from").filter(|f| !f.trim().is_empty()) else {
        return error_page(ApiError::bad_request("Chọn ngày hiệu lực của danh sách (field `from`)."));
    };
    let day = match day_param("from", Some(&from)) {
        Ok(d) => d,
        Err(e) => return error_page(e),
    };
    let mut page = match roster_page(&state, &access, day, None).await {
        Ok(p) => p,
        Err(e) => return error_page(e),
    };
    let listed = match read_file(file, "danh sách", read_roster_csv, read_roster_xlsx) {
        Ok(listed) => listed,
        Err(problems) => {
            page.problems = problems;
            return (StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response();
        }
    };
    match state.db.import_roster(access.username(), &listed, day).await {
        Ok(s) => {
            let mut page = match roster_page(&state, &access, day, None).await {
                Ok(p) => p,
                Err(e) => return error_page(e),
            };
            page.summary = Some(format!(
                "Đã nạp {} người từ ngày {}: {} người mới, {} điều chuyển, {} thôi công tác tại cơ quan, {} không đổi.",
                listed.len(),
                format_vn(day),
                s.people_added,
                s.transfers,
                s.postings_ended.saturating_sub(s.transfers),
                s.unchanged
            ));
            render(&page)
        }
        Err(e) => {
            page.problems = e.to_string().lines().map(str::to_string).collect();
            (StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response()
        }
    }
}

/// A refusal of what an upload would have stored, as lines to show.
pub(crate) fn problem_lines(e: impl std::fmt::Display) -> Vec<String> {
    e.to_string().lines().map(|l| l.trim().to_string()).collect()
}

/// An uploaded CSV or workbook read with the matching reader, or the
/// problems as lines to show (`what` names the file asked for).
pub(crate) fn read_file<T>(
    file: Option<(String, Vec<u8>)>,
    what: &str,
    csv: fn(&str, &str) -> Result<T, Problems>,
    xlsx: fn(&str, &[u8]) -> Result<T, Problems>,
) -> Result<T, Vec<String>> {
    let Some((name, bytes)) = file else {
        return Err(vec![format!("Chưa chọn tệp {what}.")]);
    };
    let read = if name.to_ascii_lowercase().ends_with(".xlsx") {
        xlsx(&name, &bytes)
    } else {
        match String::from_utf8(bytes) {
            Ok(text) => csv(&name, &text),
            Err(_) => Err(Problems(vec![IngestError {
                location: Location { file: name.clone(), ..Default::default() },
                message: "không phải văn bản UTF-8; hãy lưu tệp CSV với bảng mã UTF-8 hoặc gửi tệp XLSX".into(),
            }])),
        }
    };
    read.map_err(|problems| problems.0.iter().map(|p| p.to_string()).collect())
}

#[derive(Template)]
#[template(path = "agencies.html")]
struct AgenciesPage {
    chrome: Chrome,
    day: String,
    /// Code, name, kind, unit, from, to, successors or archive decision.
    agencies: Vec<[String; 7]>,
    summary: Option<String>,
    problems: Vec<String>,
}

async fn agencies_page(state: &AppState, access: &Access, day: NaiveDate) -> Result<AgenciesPage, ApiError> {
    require(state, access).await?;
    let agencies = state
        .db
        .agencies_at(day)
        .await?
        .into_iter()
        .map(|a| {
            let fate = match (&a.successor_codes[..], &a.archive) {
                ([], Some(archive)) => format!("Lưu trữ: {archive}"),
                ([], None) => String::new(),
                (codes, _) => format!("Kế thừa: {}", codes.join(", ")),
            };
            let date = |d: Option<NaiveDate>| d.map(format_vn).unwrap_or_default();
            [a.code, a.name, a.kind, a.unit_code.unwrap_or_default(), date(a.valid_from), date(a.valid_to), fate]
        })
        .collect();
    Ok(AgenciesPage {
        chrome: Chrome::new(state, access),
        day: format_vn(day),
        agencies,
        summary: None,
        problems: Vec::new(),
    })
}

#[derive(Deserialize)]
pub struct AgenciesQuery {
    at: Option<String>,
}

/// The agencies of a day, with who takes over from those that end.
pub async fn agencies(State(state): State<AppState>, access: Access, Query(q): Query<AgenciesQuery>) -> Response {
    let page = async { agencies_page(&state, &access, day_param("at", q.at.as_deref())?).await };
    page_result(page.await)
}

/// Reads an uploaded agency list and imports it, all or nothing.
pub async fn upload_agencies(
    State(state): State<AppState>,
    access: Access,
    form: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    if let Err(e) = require(&state, &access).await {
        return error_page(e);
    }
    let (file, _) = match crate::body::read_multipart(form).await {
        Ok(read) => read,
        Err(e) => return error_page(e),
    };
    let mut page = match agencies_page(&state, &access, today_in_vietnam()).await {
        Ok(p) => p,
        Err(e) => return error_page(e),
    };
    let read = read_file(file, "danh sách cơ quan", read_agencies_csv, read_agencies_xlsx);
    let imported = match read {
        Ok(agencies) => state.db.import_agencies(access.username(), &agencies).await.map_err(problem_lines),
        Err(problems) => Err(problems),
    };
    match imported {
        Ok(n) => match agencies_page(&state, &access, today_in_vietnam()).await {
            Ok(mut page) => {
                page.summary = Some(format!("Đã nạp {n} phiên bản cơ quan."));
                render(&page)
            }
            Err(e) => error_page(e),
        },
        Err(problems) => {
            page.problems = problems;
            (StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response()
        }
    }
}

/// The workbook agencies fill in.
pub async fn template(State(state): State<AppState>, access: Access) -> Response {
    let result = async {
        require(&state, &access).await?;
        let agencies: Vec<(String, String)> =
            state.db.agencies_at(today_in_vietnam()).await?.into_iter().map(|a| (a.code, a.name)).collect();
        baocao_ingest::roster::write_roster_template(&agencies).map_err(|e| ApiError::bad_request(e.to_string()))
    }
    .await;
    match result {
        Ok(bytes) => crate::respond::workbook("mau-danh-sach-can-bo", bytes),
        Err(e) => error_page(e),
    }
}

#[derive(Template)]
#[template(path = "account_plan.html")]
struct PlanPage {
    chrome: Chrome,
    day: String,
    day_iso: String,
    domain: String,
    steps: Vec<(String, String, String)>,
    addresses: Vec<PlannedAddress>,
    duplicates: Vec<String>,
    rule: &'static str,
    notice: Option<String>,
}

#[derive(Deserialize)]
pub struct PlanQuery {
    at: Option<String>,
    domain: Option<String>,
    done: Option<usize>,
}

fn step_row(step: &Step) -> (String, String, String) {
    let unit = |u: &Option<String>| u.clone().unwrap_or_else(|| "toàn hệ thống".into());
    match step {
        Step::Create { username, display_name } => ("Tạo tài khoản".into(), username.clone(), display_name.clone()),
        Step::Grant { username, role, unit: u } => {
            ("Cấp quyền".into(), username.clone(), format!("{} · {}", role.vietnamese(), unit(u)))
        }
        Step::End { username, role, unit: u, .. } => {
            ("Thu hồi quyền".into(), username.clone(), format!("{} · {}", role.vietnamese(), unit(u)))
        }
        Step::ReadOnly { username, unit: u, until } => (
            "Chỉ xem dữ liệu cũ".into(),
            username.clone(),
            format!("{} đến hết ngày {}", unit(u), format_vn(until.pred_opt().unwrap_or(*until))),
        ),
        Step::Close { username } => ("Khóa tài khoản".into(), username.clone(), "hết thời hạn xem dữ liệu cũ".into()),
        Step::Open { username } => ("Mở lại tài khoản".into(), username.clone(), "danh sách cán bộ cần lại".into()),
        Step::Rename { username, display_name } => ("Đổi tên hiển thị".into(), username.clone(), display_name.clone()),
    }
}

#[derive(Deserialize)]
pub struct PlanFileQuery {
    system: String,
    at: Option<String>,
    domain: Option<String>,
}

/// A plan of the day as the workbook people hand on, the same file as the
/// command line writes: `email` (official addresses, for the mail system),
/// `baocao` (this system's accounts) or `signature` (the certificate
/// requests, Mẫu 01 for officials and Mẫu 02 for new agencies).
pub async fn plan_xlsx(State(state): State<AppState>, access: Access, Query(q): Query<PlanFileQuery>) -> Response {
    let file = async {
        require(&state, &access).await?;
        let day = day_param("at", q.at.as_deref())?;
        let domain = domain_of(&state, q.domain)?;
        let addresses = state.db.address_plan(day, &domain).await?.addresses;
        let (name, bytes) = match q.system.as_str() {
            "email" => ("ke-hoach-thu-cong-vu", address_rows(&addresses).workbook(day)?),
            "baocao" => {
                let steps = state.db.reporting_plan_from(&addresses, day, &domain, DEFAULT_GRACE_DAYS).await?;
                ("ke-hoach-tai-khoan", step_rows(&steps).workbook(day)?)
            }
            "signature" => ("de-nghi-chung-thu-so", certificate_requests(&state.db, day, &addresses).await?.0),
            other => {
                return Err(ApiError::bad_request(format!(
                    "tham số `system` «{other}»: cần email (thư công vụ), baocao (tài khoản) hoặc signature (chứng thư số)."
                )));
            }
        };
        Ok::<_, ApiError>(crate::respond::workbook(&format!("{name}-{}", day.format("%Y%m%d")), bytes))
    };
    file.await.unwrap_or_else(error_page)
}

/// The accounts a day needs, to review before carrying them out.
pub async fn plan(State(state): State<AppState>, access: Access, Query(q): Query<PlanQuery>) -> Response {
    let page = async {
        require(&state, &access).await?;
        let day = day_param("at", q.at.as_deref())?;
        let domain = domain_of(&state, q.domain)?;
        let addresses = state.db.address_plan(day, &domain).await?;
        let steps = state.db.reporting_plan_from(&addresses.addresses, day, &domain, DEFAULT_GRACE_DAYS).await?;
        Ok::<_, ApiError>(PlanPage {
            chrome: Chrome::new(&state, &access),
            day: format_vn(day),
            day_iso: day.to_string(),
            domain,
            steps: steps.iter().map(step_row).collect(),
            duplicates: addresses
                .duplicates
                .iter()
                .map(|d| {
                    format!(
                        "{} ({}), cơ quan {}",
                        d.name,
                        d.birth_date.map(format_vn).unwrap_or_default(),
                        d.agencies.join(", ")
                    )
                })
                .collect(),
            addresses: addresses.addresses,
            rule: RULE,
            notice: q.done.map(|n| format!("Đã thực hiện {n} thao tác.")),
        })
    };
    page_result(page.await)
}

#[derive(Deserialize)]
pub struct ApplyForm {
    at: String,
    domain: String,
}

/// Carries out the plan of a day (planned again now, so that what was
/// reviewed and what is done cannot drift apart by more than what changed
/// in between).
pub async fn apply(State(state): State<AppState>, access: Access, Form(f): Form<ApplyForm>) -> Response {
    let result = async {
        require(&state, &access).await?;
        let day = day_param("at", Some(&f.at))?;
        let steps = state.db.apply_reporting_plan(access.username(), day, &f.domain, DEFAULT_GRACE_DAYS).await?;
        Ok::<_, ApiError>((day, steps))
    }
    .await;
    match result {
        Ok((day, n)) => {
            let query =
                serde_urlencoded::to_string([("at", day.to_string()), ("domain", f.domain), ("done", n.to_string())])
                    .unwrap_or_default();
            Redirect::to(&format!("/accounts/plan?{query}")).into_response()
        }
        Err(e) => error_page(e),
    }
}
