use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use baocao_core::RegistryError;
use baocao_store::StoreError;

/// An error answered as JSON `{"error": "..."}` with a fitting status.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError { status: StatusCode::BAD_REQUEST, message: message.into() }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError { status: StatusCode::NOT_FOUND, message: message.into() }
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError { status: StatusCode::FORBIDDEN, message: message.into() }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Registry(r) => r.into(),
            StoreError::Database(_) | StoreError::Migrate(_) | StoreError::Corrupt(_) | StoreError::Open(_) => {
                tracing::error!(error = %e, "storage failure");
                ApiError {
                    status: StatusCode::SERVICE_UNAVAILABLE,
                    message: "Cơ sở dữ liệu tạm thời không dùng được; thử lại sau ít phút.".into(),
                }
            }
            StoreError::NotFound(message) => ApiError::not_found(message),
            StoreError::Unprocessable(message) => ApiError { status: StatusCode::UNPROCESSABLE_ENTITY, message },
            StoreError::Stale(message) => ApiError { status: StatusCode::PRECONDITION_FAILED, message },
            other => ApiError { status: StatusCode::CONFLICT, message: other.to_string() },
        }
    }
}

impl From<baocao_documents::DocumentError> for ApiError {
    fn from(e: baocao_documents::DocumentError) -> Self {
        match e {
            baocao_documents::DocumentError::Store(e) => e.into(),
            other => {
                tracing::error!(error = %other, "document failed");
                ApiError {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    message: "Không lập được văn bản; thử lại sau hoặc báo quản trị hệ thống.".into(),
                }
            }
        }
    }
}

impl From<baocao_ingest::Problems> for ApiError {
    /// Every problem of a file, named; a file refused for its size is 413.
    fn from(p: baocao_ingest::Problems) -> Self {
        let status = if p.over_limit() { StatusCode::PAYLOAD_TOO_LARGE } else { StatusCode::BAD_REQUEST };
        ApiError { status, message: p.to_string() }
    }
}

impl From<RegistryError> for ApiError {
    fn from(e: RegistryError) -> Self {
        let status = match e {
            RegistryError::UnknownCode(_) | RegistryError::NotInForce { .. } => StatusCode::NOT_FOUND,
            _ => StatusCode::CONFLICT,
        };
        ApiError { status, message: e.to_string() }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(serde_json::json!({ "error": self.message }))).into_response()
    }
}
