//! Setting a password from a one-time link: activating a new account
//! (`/activate`) and resetting a forgotten password (`/forgot`, then
//! `/reset`). These pages are open to anyone; what protects them is the
//! link's token (random, single-use, expiring, stored hashed), the same
//! answer to «forgot» whether or not the account exists, the sign-in rate
//! limit per address, and one reset mail per account every few minutes.

use askama::Template;
use axum::extract::State;
use axum::http::{Extensions, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use baocao_core::mail::Link;
use chrono::Utc;
use serde::Deserialize;

use crate::auth::hash_password_off;
use crate::pages::{Chrome, render};
use crate::params::{Form, Query};
use crate::session::{Gate, gate};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "set_password.html")]
struct SetPasswordPage {
    chrome: Chrome,
    /// «Kích hoạt tài khoản» or «Đặt lại mật khẩu».
    title: &'static str,
    action: &'static str,
    token: String,
    /// The account the link belongs to, when the link works.
    account: Option<(String, String)>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "forgot.html")]
struct ForgotPage {
    chrome: Chrome,
    sent: bool,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

#[derive(Deserialize)]
pub struct NewPassword {
    token: String,
    password: String,
    confirm: String,
}

#[derive(Deserialize)]
pub struct ForgotForm {
    who: String,
}

fn page_for(state: &AppState, link: Link, token: String) -> SetPasswordPage {
    SetPasswordPage {
        chrome: Chrome::anonymous(state),
        title: link.vietnamese(),
        action: link.path(),
        token,
        account: None,
        error: None,
    }
}

async fn show(state: &AppState, link: Link, token: Option<String>) -> Response {
    let token = token.unwrap_or_default();
    let mut page = page_for(state, link, token.clone());
    let status = match state.db.link_account(link, &token, Utc::now()).await {
        Ok(account) => {
            page.account = Some(account);
            StatusCode::OK
        }
        Err(e) => {
            page.error = Some(crate::error::ApiError::from(e).message);
            StatusCode::GONE
        }
    };
    (status, render(&page)).into_response()
}

async fn set(state: &AppState, headers: &HeaderMap, link: Link, form: NewPassword) -> Response {
    if crate::access::cross_site(state, headers) {
        return crate::respond::refuse(link.path(), StatusCode::FORBIDDEN, crate::access::CROSS_SITE);
    }
    let refuse = |page: SetPasswordPage, status: StatusCode, message: String| {
        (status, render(&SetPasswordPage { error: Some(message), ..page })).into_response()
    };
    let mut page = page_for(state, link, form.token.clone());
    let account = match state.db.link_account(link, &form.token, Utc::now()).await {
        Ok(account) => account,
        Err(e) => return refuse(page, StatusCode::GONE, crate::error::ApiError::from(e).message),
    };
    page.account = Some(account.clone());
    if form.password != form.confirm {
        return refuse(page, StatusCode::BAD_REQUEST, "Hai lần nhập mật khẩu không giống nhau.".into());
    }
    if let Err(why) = baocao_credentials::check_password(&form.password, &[&account.0, &account.1]) {
        return refuse(page, StatusCode::BAD_REQUEST, why);
    }
    let hash = hash_password_off(form.password).await;
    match state.db.redeem_link(link, &form.token, &hash, Utc::now()).await {
        Ok(_) => Redirect::to(&format!("/login?done={}", link.as_str())).into_response(),
        Err(e) => refuse(page, StatusCode::GONE, crate::error::ApiError::from(e).message),
    }
}

pub async fn activation_page(State(state): State<AppState>, Query(q): Query<TokenQuery>) -> Response {
    show(&state, Link::Activation, q.token).await
}

pub async fn activate(State(state): State<AppState>, headers: HeaderMap, Form(form): Form<NewPassword>) -> Response {
    set(&state, &headers, Link::Activation, form).await
}

pub async fn reset_page(State(state): State<AppState>, Query(q): Query<TokenQuery>) -> Response {
    show(&state, Link::Reset, q.token).await
}

pub async fn reset(State(state): State<AppState>, headers: HeaderMap, Form(form): Form<NewPassword>) -> Response {
    set(&state, &headers, Link::Reset, form).await
}

pub async fn forgot_page(State(state): State<AppState>) -> Response {
    render(&ForgotPage { chrome: Chrome::anonymous(&state), sent: false, error: None })
}

/// Mails a reset link if the account exists, is open and has an address;
/// the answer is the same in every case.
pub async fn forgot(
    State(state): State<AppState>,
    headers: HeaderMap,
    extensions: Extensions,
    Form(form): Form<ForgotForm>,
) -> Response {
    match gate(&state, &headers, &extensions, crate::state::RESETS, "/forgot", "yêu cầu").await {
        Err(Gate::Refused(refusal)) => return *refusal,
        Err(Gate::TooMany(error)) => {
            let page = ForgotPage { chrome: Chrome::anonymous(&state), sent: false, error: Some(error) };
            return (StatusCode::TOO_MANY_REQUESTS, render(&page)).into_response();
        }
        Ok(()) => {}
    }
    match state.db.request_reset(&form.who, Utc::now()).await {
        Ok(mailed) => tracing::info!(mailed, "password reset asked for"),
        Err(e) => return crate::pages::error_page(e.into()),
    }
    render(&ForgotPage { chrome: Chrome::anonymous(&state), sent: true, error: None })
}
