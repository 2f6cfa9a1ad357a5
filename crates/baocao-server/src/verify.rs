//! «Kiểm tra chữ ký số»: anyone signed in uploads a signed PDF (a report
//! from baocao or from elsewhere) and reads who signed it, when, and
//! whether each signature holds against the configured trust list. The
//! same answer as JSON at `POST /api/v1/signatures/verify`.
//!
//! The file is bounded by the body limit before it is read, and is read as
//! bytes only (`baocao_signing::pdf::verify_pdf`): nothing in it is parsed
//! as a PDF, so a hostile file costs one pass over its bytes.

use askama::Template;
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use baocao_core::date::moment_vn_seconds;
use baocao_signing::pdf::PdfSignature;
use serde::Serialize;
use utoipa::ToSchema;

use crate::access::Access;
use crate::body::Upload;
use crate::error::ApiError;
use crate::pages::{Chrome, page_result};
use crate::state::AppState;

/// A signature found in the file, as checked.
#[derive(Serialize, ToSchema)]
pub struct CheckedSignature {
    /// The signing certificate's common name.
    pub signer: Option<String>,
    /// The signing time the signature carries.
    pub signed_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The signature covers the file to its last byte (nothing was added
    /// after signing).
    pub covers_whole_file: bool,
    /// The signature holds: the signed bytes are unchanged and the
    /// certificate chains to the trust list.
    pub valid: bool,
    /// Why it does not hold, in Vietnamese.
    pub problem: Option<String>,
}

impl From<PdfSignature> for CheckedSignature {
    fn from(s: PdfSignature) -> Self {
        CheckedSignature {
            signer: s.signer,
            signed_at: s.signed_at,
            covers_whole_file: s.covers_whole_file,
            valid: s.problem.is_none(),
            problem: s.problem,
        }
    }
}

/// The signatures of `pdf`, checked against the trust list.
fn check(state: &AppState, pdf: &[u8]) -> Result<Vec<CheckedSignature>, ApiError> {
    let trust = state.trust.as_ref().ok_or_else(|| ApiError {
        status: axum::http::StatusCode::CONFLICT,
        message: "Chưa cấu hình danh sách chứng thư tin cậy (--trust-list): không kiểm tra được chữ ký.".into(),
    })?;
    if !pdf.starts_with(b"%PDF-") {
        return Err(ApiError::bad_request("Tệp gửi lên không phải tệp PDF (không bắt đầu bằng %PDF-)."));
    }
    Ok(baocao_signing::pdf::verify_pdf(pdf, trust).into_iter().map(CheckedSignature::from).collect())
}

/// Checks the signatures of the PDF sent as the request body.
#[utoipa::path(post, path = "/api/v1/signatures/verify", tag = "signatures",
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "the signed PDF (application/pdf or any content type)"),
    responses(
        (status = 200, description = "The signatures found, each checked (empty: none)", body = [CheckedSignature]),
        (status = 400, description = "Not a PDF"),
        (status = 409, description = "No trust list configured"),
        (status = 413, description = "Over the body limit"),
    ))]
pub async fn verify_api(State(state): State<AppState>, _access: Access, Upload(body): Upload) -> Response {
    match check(&state, &body) {
        Ok(found) => Json(found).into_response(),
        Err(e) => e.into_response(),
    }
}

#[derive(Template)]
#[template(path = "verify.html")]
struct VerifyPage {
    chrome: Chrome,
    trust_configured: bool,
    file: Option<String>,
    rows: Vec<Row>,
    problem: Option<String>,
}

struct Row {
    signer: String,
    at: String,
    valid: bool,
    verdict: String,
}

fn page(state: &AppState, access: &Access) -> VerifyPage {
    VerifyPage {
        chrome: Chrome::new(state, access),
        trust_configured: state.trust.is_some(),
        file: None,
        rows: Vec::new(),
        problem: None,
    }
}

pub async fn verify_page(State(state): State<AppState>, access: Access) -> Response {
    page_result(Ok::<_, ApiError>(page(&state, &access)))
}

pub async fn verify_upload(
    State(state): State<AppState>,
    access: Access,
    form: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let mut shown = page(&state, &access);
    let checked = async {
        let (file, _) = crate::body::read_multipart(form).await?;
        let (name, bytes) = file.ok_or_else(|| ApiError::bad_request("Chưa chọn tệp PDF để kiểm tra."))?;
        shown.file = Some(name);
        check(&state, &bytes)
    }
    .await;
    match checked {
        Ok(found) => {
            shown.rows = found.into_iter().map(row).collect();
            page_result(Ok::<_, ApiError>(shown))
        }
        Err(e) => {
            let status = e.status;
            shown.problem = Some(e.message);
            let mut response = page_result(Ok::<_, ApiError>(shown));
            *response.status_mut() = status;
            response
        }
    }
}

fn row(s: CheckedSignature) -> Row {
    let verdict = match (&s.problem, s.covers_whole_file) {
        (Some(problem), _) => format!("KHÔNG HỢP LỆ: {problem}"),
        (None, true) => "Hợp lệ: tệp không đổi từ khi ký, chứng thư do tổ chức trong danh sách tin cậy cấp.".into(),
        (None, false) => "Hợp lệ cho phiên bản đã ký; tệp đã được thêm nội dung sau khi ký.".into(),
    };
    Row {
        signer: s.signer.unwrap_or_else(|| "(không đọc được tên)".into()),
        at: s.signed_at.map_or_else(|| "—".into(), moment_vn_seconds),
        valid: s.problem.is_none(),
        verdict,
    }
}
