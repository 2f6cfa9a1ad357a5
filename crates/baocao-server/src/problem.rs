//! Pages that could not be made, said inside the application's layout.
//!
//! A handler (or the access guard, or the fallback) answers a page's error
//! with [`error_page`], which only marks the answer; [`frame`], around every
//! route, renders the mark as a page with the menu of whoever asked. The
//! guard refuses before a handler knows the asker, so the asker is looked
//! up again here, and only for answers so marked.

use askama::Template;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::access::{Access, authenticate};
use crate::pages::{Chrome, render};
use crate::respond::{Problem, is_api};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    chrome: Chrome,
    status: u16,
    heading: &'static str,
    message: String,
}

fn heading(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "Không tìm thấy",
        StatusCode::FORBIDDEN => "Tài khoản không có quyền này",
        StatusCode::CONFLICT => "Không thực hiện được",
        s if s.is_client_error() => "Thông tin chưa hợp lệ",
        _ => "Hệ thống đang gặp sự cố",
    }
}

/// The middleware: a marked answer becomes the error page, in the layout.
/// Machine interfaces never mark their answers; for pages only the two
/// headers that say who asks are kept, not the whole request's.
pub async fn frame(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if is_api(req.uri().path()) {
        return next.run(req).await;
    }
    let mut headers = HeaderMap::new();
    for name in [header::AUTHORIZATION, header::COOKIE] {
        // HTTP/2 may split the cookies over several headers: keep them all.
        for value in req.headers().get_all(&name) {
            headers.append(name.clone(), value.clone());
        }
    }
    let response = next.run(req).await;
    let Some(Problem(message)) = response.extensions().get::<Problem>().cloned() else {
        return response;
    };
    let status = response.status();
    let chrome = match authenticate(&state, &headers).await {
        Ok(Some(principal)) => Chrome::new(&state, &Access(principal)),
        _ => Chrome::anonymous(&state),
    };
    let page = ErrorPage { chrome, status: status.as_u16(), heading: heading(status), message };
    let mut framed = render(&page);
    *framed.status_mut() = status;
    framed
}
