//! A handler that panics answers 500 with the request id, in the asker's
//! language, and the panic is logged with that id: nobody's request ends
//! in a dropped connection, and the operator can find what happened.

use std::panic::AssertUnwindSafe;

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use futures::FutureExt;

/// The middleware; inside the request-id layers, so that the id is known
/// and the answer carries it back.
pub async fn catch(req: Request, next: Next) -> Response {
    let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-").to_string();
    let path = req.uri().path().to_string();
    match AssertUnwindSafe(next.run(req)).catch_unwind().await {
        Ok(response) => response,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            tracing::error!(request_id = %id, %path, panic = %what, "a handler panicked");
            crate::metrics::panicked();
            let message = format!(
                "Lỗi hệ thống khi xử lý yêu cầu (mã yêu cầu {id}); báo mã này cho quản trị hệ thống. \
                 (internal error, request id {id})"
            );
            crate::respond::refuse(&path, StatusCode::INTERNAL_SERVER_ERROR, &message)
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::middleware::from_fn;
    use axum::routing::get;
    use tower::ServiceExt;

    #[tokio::test]
    async fn a_panic_is_answered_with_the_request_id() {
        async fn boom() -> &'static str {
            panic!("on purpose")
        }
        let app = Router::new().route("/api/v1/boom", get(boom)).layer(from_fn(super::catch));
        let req = axum::http::Request::get("/api/v1/boom").header("x-request-id", "abc-123").body(Body::empty());
        let res = app.oneshot(req.unwrap()).await.unwrap();
        assert_eq!(res.status(), 500);
        let body = axum::body::to_bytes(res.into_body(), 1 << 16).await.unwrap();
        let text = String::from_utf8(body.to_vec()).unwrap();
        assert!(text.contains("abc-123") && text.contains("Lỗi hệ thống"), "{text}");
    }
}
