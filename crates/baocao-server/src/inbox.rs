//! «Thông báo»: an official's inbox (reminders, returned and approved
//! reports, requests, tasks, digests), the badge that counts what is
//! unread, and the choice of which notices come to the inbox and by mail.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use baocao_core::notify::{Preference, Topic};
use chrono::Utc;

use crate::access::Access;
use crate::error::ApiError;
use crate::pages::{Chrome, error_page, page_result};
use crate::params::{Form, Path};
use crate::state::AppState;

/// How many of the latest notices the inbox lists.
const SHOWN: i64 = 200;

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage {
    chrome: Chrome,
    rows: Vec<Row>,
    unread: usize,
    preferences: Vec<(Topic, Preference)>,
    /// The account has an address for mail.
    has_email: bool,
    saved: bool,
}

struct Row {
    id: i64,
    topic: &'static str,
    title: String,
    body: String,
    at: String,
    read: bool,
}

#[derive(serde::Deserialize, Default)]
pub struct Saved {
    #[serde(default)]
    saved: Option<String>,
}

pub async fn inbox(
    State(state): State<AppState>,
    access: Access,
    crate::params::Query(q): crate::params::Query<Saved>,
) -> Response {
    page_result(inbox_page(&state, &access, q.saved.is_some()).await)
}

async fn inbox_page(state: &AppState, access: &Access, saved: bool) -> Result<InboxPage, ApiError> {
    let account = access.0.account_id;
    let rows: Vec<Row> = state
        .db
        .inbox(account, SHOWN)
        .await?
        .into_iter()
        .map(|n| Row {
            id: n.id,
            topic: n.topic.vietnamese(),
            title: n.title,
            body: n.body,
            at: baocao_core::date::moment_vn(n.created_at),
            read: n.read,
        })
        .collect();
    let has_email = state.db.account_email(account).await?.is_some();
    Ok(InboxPage {
        chrome: Chrome::new(state, access),
        unread: rows.iter().filter(|r| !r.read).count(),
        rows,
        preferences: state.db.preferences(account).await?,
        has_email,
        saved,
    })
}

/// The number of unread notices, for the menu (loaded by htmx), or
/// nothing when there are none.
pub async fn badge(State(state): State<AppState>, access: Access) -> Response {
    match state.db.unread(access.0.account_id).await {
        Ok(0) => ([(header::CACHE_CONTROL, "no-store")], Html(String::new())).into_response(),
        Ok(n) => (
            [(header::CACHE_CONTROL, "no-store")],
            Html(format!("<span class=\"count\" aria-label=\"{n} thông báo chưa đọc\">{n}</span>")),
        )
            .into_response(),
        Err(e) => error_page(e.into()),
    }
}

/// Opens a notice: marked read, then its page.
pub async fn open(State(state): State<AppState>, access: Access, Path(id): Path<i64>) -> Response {
    match state.db.mark_read(access.0.account_id, Some(id), Utc::now()).await {
        Ok(Some(link)) => Redirect::to(local(&link)).into_response(),
        Ok(None) => error_page(ApiError::not_found("Không có thông báo này.")),
        Err(e) => error_page(e.into()),
    }
}

/// A stored link, taken only as a path of this site: never a redirect
/// elsewhere, whatever was stored.
fn local(link: &str) -> &str {
    if link.starts_with('/') && !link.starts_with("//") && !link.contains('\\') { link } else { "/inbox" }
}

pub async fn read_all(State(state): State<AppState>, access: Access) -> Response {
    match state.db.mark_read(access.0.account_id, None, Utc::now()).await {
        Ok(_) => Redirect::to("/inbox").into_response(),
        Err(e) => error_page(e.into()),
    }
}

/// Saves the choices of the inbox page: a box per topic and channel,
/// `in_app.<topic>` and `by_mail.<topic>`, present when ticked.
pub async fn preferences(
    State(state): State<AppState>,
    access: Access,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let chosen: Vec<(Topic, Preference)> = Topic::ALL
        .iter()
        .map(|t| {
            let ticked = |channel: &str| form.contains_key(&format!("{channel}.{}", t.as_str()));
            (*t, Preference { in_app: ticked("in_app"), by_mail: ticked("by_mail") })
        })
        .collect();
    match state.db.set_preferences(access.0.account_id, &chosen).await {
        Ok(()) => Redirect::to("/inbox?saved=1#preferences").into_response(),
        Err(e) => error_page(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::local;

    #[test]
    fn a_notice_leads_only_to_a_page_of_this_site() {
        assert_eq!(local("/reports/BC01/1/202611"), "/reports/BC01/1/202611");
        for hostile in ["//evil.example/x", "https://evil.example", "/\\evil.example", "javascript:alert(1)"] {
            assert_eq!(local(hostile), "/inbox", "{hostile}");
        }
    }
}
