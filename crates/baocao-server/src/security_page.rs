//! «Bảo mật tài khoản»: an account enrols its second factor (RFC 6238 codes
//! from an authenticator app, offered as a QR code and a key), confirming
//! with a first code, and gets its recovery codes once. An account whose
//! roles require a second factor is sent here before anything else.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use baocao_credentials::{new_recovery_codes, new_totp_secret, recovery_code_hash, totp_step, totp_url};
use chrono::Utc;
use serde::Deserialize;

use crate::access::{Access, must_enrol};
use crate::error::ApiError;
use crate::pages::{Chrome, error_page, render};
use crate::params::Form;
use crate::state::AppState;

struct Offer {
    secret: String,
    /// The QR code of the `otpauth://` address, as inline SVG.
    qr: String,
}

#[derive(Template)]
#[template(path = "security.html")]
struct SecurityPage {
    chrome: Chrome,
    required: bool,
    error: Option<String>,
    enabled: bool,
    offer: Option<Offer>,
    /// Shown once, right after enrolment.
    recovery: Vec<String>,
}

/// A key baocao made itself could not be written out: a fault, not input.
fn internal(message: String) -> ApiError {
    ApiError { status: StatusCode::INTERNAL_SERVER_ERROR, message }
}

async fn page(state: &AppState, access: &Access, error: Option<String>) -> Result<SecurityPage, ApiError> {
    let p = &access.0;
    let mut page = SecurityPage {
        chrome: Chrome::new(state, access),
        required: must_enrol(state, p),
        error,
        enabled: p.totp,
        offer: None,
        recovery: Vec::new(),
    };
    if !p.totp
        && let Some(secret) = state.db.offer_totp(p.account_id, &new_totp_secret()).await?
    {
        let url = totp_url(&secret, &p.username)
            .ok_or_else(|| internal("không tạo được địa chỉ otpauth cho khóa xác thực".into()))?;
        let qr = qrcode::QrCode::new(url.as_bytes())
            .map_err(|e| internal(format!("không tạo được mã QR: {e}")))?
            .render::<qrcode::render::svg::Color>()
            .min_dimensions(200, 200)
            .build();
        // Inline in the page: the XML declaration has no place there.
        let qr = qr.split_once("?>").map_or(qr.as_str(), |(_, svg)| svg).to_string();
        page.offer = Some(Offer { secret, qr });
    }
    Ok(page)
}

pub async fn security(State(state): State<AppState>, access: Access) -> Response {
    match page(&state, &access, None).await {
        Ok(page) => render(&page),
        Err(e) => error_page(e),
    }
}

#[derive(Deserialize)]
pub struct CodeForm {
    code: String,
}

/// Confirms enrolment with a code from the offered key; answers with the
/// recovery codes, shown this once.
pub async fn enable_totp(State(state): State<AppState>, access: Access, Form(f): Form<CodeForm>) -> Response {
    let result = async {
        let p = &access.0;
        let (_, pending) = state.db.totp_secrets(p.account_id).await?;
        let now = Utc::now().timestamp().max(0) as u64;
        let Some(step) = pending.and_then(|secret| totp_step(&secret, &f.code, now)) else {
            return Ok(None);
        };
        let codes = new_recovery_codes();
        let hashes: Vec<String> = codes.iter().map(|c| recovery_code_hash(c)).collect();
        state.db.confirm_totp(p.account_id, &p.username, step, &hashes).await?;
        Ok::<_, ApiError>(Some(codes))
    };
    match result.await {
        Ok(Some(recovery)) => {
            let mut page = match page(&state, &access, None).await {
                Ok(page) => page,
                Err(e) => return error_page(e),
            };
            (page.enabled, page.required, page.offer, page.recovery) = (true, false, None, recovery);
            render(&page)
        }
        Ok(None) => {
            let error =
                "Mã xác thực không đúng: nhập mã 6 chữ số đang hiện trong ứng dụng (kiểm tra giờ của điện thoại).";
            match page(&state, &access, Some(error.into())).await {
                Ok(page) => (StatusCode::BAD_REQUEST, render(&page)).into_response(),
                Err(e) => error_page(e),
            }
        }
        Err(e) => error_page(e),
    }
}
