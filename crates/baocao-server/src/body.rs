//! Request bodies, read within one limit.
//!
//! Every body baocao reads (files uploaded through the API or a page, JSON,
//! forms) is cut off at [`LIMIT`] before any of it is parsed: a larger one
//! is answered 413 in the asker's language. What a body unpacks to (a
//! workbook) is bounded again by the readers (`baocao_ingest::workbook`).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::StatusCode;
use axum::response::Response;

use crate::error::ApiError;

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

/// The file (field `file`: its name and bytes) and the other fields of a
/// multipart form (a page's upload), within [`LIMIT`].
pub async fn read_multipart(
    form: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<(Option<(String, Vec<u8>)>, HashMap<String, String>), ApiError> {
    let mut form = form.map_err(|e| {
        ApiError::bad_request(format!("Cần gửi tệp bằng biểu mẫu tải lên (multipart/form-data): {}", e.body_text()))
    })?;
    // A body cut off at the limit is said so, not taken for a missing file.
    let refused = |e: axum::extract::multipart::MultipartError| {
        let status = e.status();
        let message = if status == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            format!("Không đọc được tệp gửi lên ({})", e.body_text())
        };
        ApiError { status, message }
    };
    let mut file = None;
    let mut fields = HashMap::new();
    while let Some(field) = form.next_field().await.map_err(refused)? {
        match field.name().map(str::to_string) {
            Some(name) if name == "file" => {
                let file_name = field.file_name().unwrap_or("tep-tai-len").to_string();
                file = Some((file_name, field.bytes().await.map_err(refused)?.to_vec()));
            }
            Some(name) => {
                fields.insert(name, field.text().await.map_err(refused)?);
            }
            None => {}
        }
    }
    Ok((file, fields))
}
