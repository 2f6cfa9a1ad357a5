//! «Hộp thư đi»: the mail baocao sends, as administrators need to see it —
//! to whom, what kind, whether it went, why not — and a message that may
//! not have arrived sent again on their decision. What a message says (a
//! one-time link) is never shown, except in the demo, which has no mail
//! server and shows its unsent mail so a visitor can follow the links.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use baocao_core::date::moment_vn;
use baocao_core::mail::render;

use crate::access::Access;
use crate::directory_api::require;
use crate::error::ApiError;
use crate::pages::{Chrome, page_result};
use crate::params::Path;
use crate::state::AppState;

/// How many of the latest messages the page lists.
const SHOWN: i64 = 200;

#[derive(Template)]
#[template(path = "outbox.html")]
struct OutboxPage {
    chrome: Chrome,
    /// The SMTP server, or none: mail then waits here.
    server: Option<String>,
    rows: Vec<Row>,
}

struct Row {
    id: i64,
    kind: &'static str,
    recipient: String,
    state: &'static str,
    state_class: &'static str,
    attempts: i32,
    created: String,
    /// When it was sent, or when it is tried next.
    when: String,
    error: String,
    resendable: bool,
    /// In the demo only: the text of a message not yet sent.
    text: Option<String>,
}

pub async fn outbox(State(state): State<AppState>, access: Access) -> axum::response::Response {
    page_result(outbox_page(&state, &access).await)
}

async fn outbox_page(state: &AppState, access: &Access) -> Result<OutboxPage, ApiError> {
    require(state, access).await?;
    let mut rows = Vec::new();
    for e in state.db.outbox(SHOWN).await? {
        let (label, class) = match e.state.as_str() {
            "pending" if e.attempts > 0 => ("chờ gửi lại", "submitted"),
            "pending" => ("chờ gửi", "draft"),
            "sending" => ("đang gửi", "submitted"),
            "sent" => ("đã gửi", "approved"),
            "failed" => ("gửi không được", "returned"),
            _ => ("không rõ đã đến chưa", "returned"),
        };
        let when = match (e.sent_at, e.state.as_str()) {
            (Some(at), _) => moment_vn(at),
            (None, "pending") => format!("gửi lúc {}", moment_vn(e.next_attempt_at)),
            _ => String::new(),
        };
        let text = if state.settings.demo && state.settings.mail_server.is_none() && e.state != "sent" {
            state
                .db
                .unsent_mail(e.id)
                .await?
                .map(|(template, _, params)| render(template, &params, &state.settings.public_url).text)
        } else {
            None
        };
        let kind = e.template.parse::<baocao_core::mail::Template>().map(|t| t.vietnamese()).unwrap_or("thư");
        rows.push(Row {
            id: e.id,
            kind,
            recipient: e.recipient,
            resendable: matches!(e.state.as_str(), "failed" | "uncertain"),
            state: label,
            state_class: class,
            attempts: e.attempts,
            created: moment_vn(e.created_at),
            when,
            error: e.last_error.unwrap_or_default(),
            text,
        });
    }
    Ok(OutboxPage { chrome: Chrome::new(state, access), server: state.settings.mail_server.clone(), rows })
}

pub async fn resend(State(state): State<AppState>, access: Access, Path(id): Path<i64>) -> Response {
    let done = async {
        require(&state, &access).await?;
        state.db.resend_mail(access.username(), id).await?;
        Ok::<_, ApiError>(())
    };
    match done.await {
        Ok(()) => Redirect::to("/admin/outbox").into_response(),
        Err(e) => crate::pages::error_page(e),
    }
}
