//! Request bodies, read within one limit.
//!
//! Every body baocao reads (files uploaded through the API or a page, JSON,
//! forms) is cut off at [`LIMIT`] before any of it is parsed: a larger one
//! is answered 413 in the asker's language. What a body unpacks to (a
//! workbook) is bounded again by the readers (`baocao_ingest::workbook`).

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::Response;

/// The largest body accepted, in bytes.
pub const LIMIT: usize = 16 << 20;

/// The message for a body over [`LIMIT`].
pub fn too_large() -> String {
    format!("Tệp hoặc dữ liệu gửi lên vượt quá {} MB; hãy chia nhỏ (request body too large).", LIMIT >> 20)
}

/// A whole request body, at most [`LIMIT`] bytes.
pub struct Upload(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for Upload {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        let path = req.uri().path().to_string();
        Bytes::from_request(req, state).await.map(Upload).map_err(|rejection| {
            let status = rejection.status();
            let message = if status == StatusCode::PAYLOAD_TOO_LARGE {
                too_large()
            } else {
                format!("Không đọc được dữ liệu gửi lên ({})", rejection.body_text())
            };
            crate::respond::refuse(&path, status, &message)
        })
    }
}
