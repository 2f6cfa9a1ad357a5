//! `Idempotency-Key` on write requests: a client that did not hear the
//! answer (the connection dropped, the server it reached was stopped) sends
//! the same request again with the same key, and it is carried out once.
//!
//! The middleware sits inside the access guard, so a key is the asking
//! account's own and nothing is kept for a request that was refused before
//! its work. It claims the key (`store::idempotency`), runs the handler,
//! and keeps the answer; a retry is answered with the kept answer and
//! `Idempotent-Replayed: true`. Report actions also mark their key in their
//! own write transaction ([`EXACT`]): for them, a retry after a crash is
//! exact either way. The header follows the IETF draft
//! (draft-ietf-httpapi-idempotency-key-header): 422 for a key reused with
//! another request, 409 while the first is still being carried out.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use baocao_store::idempotency::{Claim, Held, Kept, Keyed};
use sha2::{Digest, Sha256};

use crate::auth::Principal;
use crate::error::ApiError;
use crate::respond::refuse;
use crate::state::AppState;

/// The request header.
pub const HEADER: &str = "idempotency-key";

/// The header on an answer given again.
const REPLAYED: &str = "idempotent-replayed";

/// Routes whose write marks its key in its own transaction, so that a
/// retry after a crash is carried out exactly when the first did not
/// commit.
const EXACT: &[&str] = &["/api/v1/reports", "/api/v1/reports/xlsx"];

/// The largest answer read to be kept: a write route answers with a
/// summary, far below; past it the answer is refused as an error.
const ANSWER_LIMIT: usize = crate::body::LIMIT;

/// Headers of an answer that are not kept: they describe one transfer.
const NOT_KEPT: [HeaderName; 4] = [header::CONTENT_LENGTH, header::TRANSFER_ENCODING, header::SET_COOKIE, header::DATE];

/// A key as sent: 1 to 255 printable ASCII characters (a UUID, typically).
fn valid(key: &str) -> bool {
    (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic())
}

/// The request a key names: method, path with query, and body.
fn fingerprint(method: &Method, uri: &axum::http::Uri, body: &[u8]) -> String {
    let mut hash = Sha256::new();
    hash.update(method.as_str());
    hash.update([0]);
    hash.update(uri.path_and_query().map_or("", |p| p.as_str()));
    hash.update([0]);
    hash.update(body);
    format!("{:x}", hash.finalize())
}

pub async fn replay(State(state): State<AppState>, req: Request, next: Next) -> Response {
    // Reads are idempotent already; public forms (signing in) have nobody
    // to keep a key for.
    let reads = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let principal = req.extensions().get::<Arc<Principal>>().cloned();
    let (Some(sent), false, Some(principal)) = (req.headers().get(HEADER).cloned(), reads, principal) else {
        return next.run(req).await;
    };
    let path = req.uri().path().to_string();
    let route = req.extensions().get::<MatchedPath>().map_or(path.clone(), |m| m.as_str().to_string());
    let Some(key) = sent.to_str().ok().filter(|k| valid(k)).map(str::to_string) else {
        return refuse(
            &path,
            StatusCode::BAD_REQUEST,
            "Tiêu đề Idempotency-Key phải gồm 1–255 ký tự ASCII in được (ví dụ một UUID).",
        );
    };
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, crate::body::LIMIT).await else {
        return refuse(&path, StatusCode::PAYLOAD_TOO_LARGE, &crate::body::too_large());
    };
    let exact = EXACT.contains(&route.as_str());
    let fingerprint = fingerprint(&parts.method, &parts.uri, &bytes);
    let named = format!("{} {route}", parts.method);
    let keyed = Keyed { principal: &principal.username, key: &key, fingerprint: &fingerprint, route: &named, exact };
    let token = match state.db.claim_idempotency_key(&keyed, chrono::Utc::now()).await {
        Ok(Claim::Acquired(token)) => token,
        Ok(Claim::Answered(kept)) => return answer_again(kept),
        Ok(Claim::Mismatch) => {
            return refuse(
                &path,
                StatusCode::UNPROCESSABLE_ENTITY,
                "Khóa Idempotency-Key này đã dùng cho một yêu cầu khác; mỗi yêu cầu cần một khóa riêng.",
            );
        }
        Ok(Claim::InProgress) => {
            let mut response = refuse(
                &path,
                StatusCode::CONFLICT,
                "Yêu cầu cùng khóa Idempotency-Key đang được xử lý; hãy thử lại sau giây lát.",
            );
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            return response;
        }
        Ok(Claim::Unknown) => {
            return refuse(
                &path,
                StatusCode::CONFLICT,
                "Không rõ yêu cầu trước với khóa Idempotency-Key này đã được thực hiện hay chưa (máy chủ dừng \
                 giữa chừng hoặc gặp lỗi): hãy kiểm tra kết quả, rồi nếu cần gửi lại với khóa mới.",
            );
        }
        Err(e) => {
            let e = ApiError::from(e);
            return refuse(&path, e.status, &e.message);
        }
    };
    let held = Held { principal: principal.username.clone(), key, token };
    let mut req = Request::from_parts(parts, Body::from(bytes));
    req.extensions_mut().insert(held.clone());
    let response = next.run(req).await;
    keep(&state, &path, &held, exact, response).await
}

/// Keeps `response` for `held`'s key (a server error or a refusal for
/// load lets the key go instead), and hands it on.
async fn keep(state: &AppState, path: &str, held: &Held, exact: bool, response: Response) -> Response {
    let (parts, body) = response.into_parts();
    let status = parts.status;
    let bytes = axum::body::to_bytes(body, ANSWER_LIMIT).await;
    let kept = match (&bytes, status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS) {
        (Ok(bytes), false) => {
            let headers: Vec<(String, String)> = parts
                .headers
                .iter()
                .filter(|(name, _)| !NOT_KEPT.contains(name))
                .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_string())))
                .collect();
            let headers = serde_json::to_string(&headers).expect("plain data serializes");
            let kept = Kept { status: status.as_u16(), headers: Some(headers), body: bytes.to_vec() };
            state.db.keep_idempotent_answer(&held.principal, &held.key, &held.token, &kept).await
        }
        _ => state.db.release_idempotency_key(&held.principal, &held.key, &held.token, exact).await,
    };
    if let Err(e) = kept {
        // The work is done and answered; a retry then finds the key
        // pending, and after its lease, applied or unknown.
        tracing::warn!(error = %e, "could not keep the answer of an idempotent request");
    }
    match bytes {
        Ok(bytes) => Response::from_parts(parts, Body::from(bytes)),
        Err(_) => refuse(path, StatusCode::INTERNAL_SERVER_ERROR, "Câu trả lời quá lớn để gửi."),
    }
}

/// A kept answer, marked as given again.
fn answer_again(kept: Kept) -> Response {
    let mut response = Response::new(Body::from(kept.body));
    *response.status_mut() = StatusCode::from_u16(kept.status).unwrap_or(StatusCode::OK);
    let headers: Vec<(String, String)> =
        kept.headers.as_deref().and_then(|h| serde_json::from_str(h).ok()).unwrap_or_default();
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            response.headers_mut().append(name, value);
        }
    }
    if !response.headers().contains_key(header::CONTENT_TYPE) {
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    response.headers_mut().insert(REPLAYED, HeaderValue::from_static("true"));
    response
}
