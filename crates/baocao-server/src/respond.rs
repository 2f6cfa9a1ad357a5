//! Answers that refuse or fail, in the asker's language, in one place: JSON
//! errors for the API, SCIM errors (RFC 7644 §3.12) under `/scim/`, and for
//! pages a mark that `problem::frame` renders inside the layout. It depends
//! on no other module of the server but `error`, so that the access guard,
//! the extractors and the handlers can all use it.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::{Value, json};

use crate::error::ApiError;

const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// The mark of a page's error, carried by the answer to [`frame`].
#[derive(Clone)]
pub(crate) struct Problem(pub(crate) String);

/// A page's error: rendered by [`frame`] inside the layout.
pub(crate) fn error_page(e: ApiError) -> Response {
    let mut response = e.status.into_response();
    response.extensions_mut().insert(Problem(e.message));
    response
}

/// A SCIM answer: `application/scim+json`.
pub(crate) fn scim(status: StatusCode, body: Value) -> Response {
    (status, [(header::CONTENT_TYPE, "application/scim+json")], body.to_string()).into_response()
}

/// A SCIM error (RFC 7644 §3.12).
pub struct ScimError {
    status: StatusCode,
    scim_type: Option<&'static str>,
    detail: String,
}

pub(crate) fn scim_error(status: StatusCode, scim_type: Option<&'static str>, detail: impl Into<String>) -> ScimError {
    ScimError { status, scim_type, detail: detail.into() }
}

impl IntoResponse for ScimError {
    fn into_response(self) -> Response {
        let mut body = json!({ "schemas": [ERROR], "status": self.status.as_u16().to_string(), "detail": self.detail });
        if let Some(t) = self.scim_type {
            body["scimType"] = json!(t);
        }
        scim(self.status, body)
    }
}

/// A refusal of the access layer (sign-in, permission, method) as a SCIM error.
fn scim_refusal(status: StatusCode, detail: &str) -> Response {
    scim_error(status, None, detail).into_response()
}

impl From<ApiError> for ScimError {
    fn from(e: ApiError) -> Self {
        scim_error(e.status, None, e.message)
    }
}

impl From<baocao_store::StoreError> for ScimError {
    fn from(e: baocao_store::StoreError) -> Self {
        match e {
            baocao_store::StoreError::Conflict(m) => scim_error(StatusCode::CONFLICT, Some("uniqueness"), m),
            baocao_store::StoreError::Unprocessable(m) => scim_error(StatusCode::BAD_REQUEST, Some("invalidValue"), m),
            other => ApiError::from(other).into(),
        }
    }
}

/// Machine interfaces answer refusals in JSON; pages redirect to sign-in.
pub(crate) fn is_api(path: &str) -> bool {
    path.starts_with("/api/") || path.starts_with("/scim/")
}

/// Refusal in the caller's language: JSON for the API, a page or a
/// redirect to sign-in for the browser.
pub(crate) fn refuse(path: &str, status: StatusCode, message: &str) -> Response {
    if path.starts_with("/scim/") {
        let mut response = scim_refusal(status, message);
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        }
        return response;
    }
    if is_api(path) {
        let mut response = ApiError { status, message: message.into() }.into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        }
        return response;
    }
    if status == StatusCode::UNAUTHORIZED {
        let next = serde_urlencoded::to_string([("next", path)]).unwrap_or_default();
        return Redirect::to(&format!("/login?{next}")).into_response();
    }
    error_page(ApiError { status, message: message.into() })
}

/// A workbook as a download: `name`.xlsx, the name kept to characters a
/// header carries safely.
pub(crate) fn workbook(name: &str, bytes: Vec<u8>) -> Response {
    let disposition = format!("attachment; filename=\"{}.xlsx\"", baocao_core::table::file_name(name));
    (
        [
            (header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response()
}
