//! Signing in and out of the web application.

use askama::Template;
use axum::Form;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, Query, State};
use axum::http::Extensions;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde::Deserialize;

use crate::access::Access;
use crate::auth::{self, COOKIE, Credential};
use crate::pages::{Chrome, render};
use crate::state::{AppState, SIGN_INS_PER_MINUTE};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    chrome: Chrome,
    error: Option<String>,
    next: String,
    username: String,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// Only a path of this site: never `//host` or `https://…` (open redirect).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".to_string(),
    }
}

pub async fn page(State(state): State<AppState>, Query(q): Query<NextQuery>) -> Response {
    render(&LoginPage {
        chrome: Chrome::anonymous(&state),
        error: None,
        next: safe_next(q.next.as_deref()),
        username: String::new(),
    })
}

#[derive(Deserialize)]
pub struct SignInForm {
    username: String,
    password: String,
    next: Option<String>,
}

/// Behind a TLS-terminating proxy the request says so; cookies are then Secure.
fn secure(state: &AppState, headers: &HeaderMap) -> bool {
    state.settings.secure_cookies
        || headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()).is_some_and(|v| v == "https")
}

/// The client's address: the connection's, or behind a proxy the first of
/// `X-Forwarded-For`; unspecified when neither is known (in-process tests).
fn client_address(state: &AppState, headers: &HeaderMap, extensions: &Extensions) -> IpAddr {
    let forwarded = || {
        let first = headers.get("x-forwarded-for")?.to_str().ok()?.split(',').next()?;
        first.trim().parse().ok()
    };
    let connected = || extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    if state.settings.behind_proxy { forwarded().or_else(connected) } else { connected() }
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

pub async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    extensions: Extensions,
    jar: CookieJar,
    Form(form): Form<SignInForm>,
) -> Response {
    if state.sign_in_limiter.check_key(&client_address(&state, &headers, &extensions)).is_err() {
        let page = LoginPage {
            chrome: Chrome::anonymous(&state),
            error: Some(format!(
                "Quá nhiều lần đăng nhập từ địa chỉ này (tối đa {SIGN_INS_PER_MINUTE} lần mỗi phút). Vui lòng thử lại sau ít phút."
            )),
            next: safe_next(form.next.as_deref()),
            username: form.username,
        };
        return (StatusCode::TOO_MANY_REQUESTS, render(&page)).into_response();
    }
    let previous = jar.get(COOKIE).map(|c| c.value().to_string());
    match auth::sign_in(&state.db, &form.username, &form.password, previous.as_deref()).await {
        Ok(session) => {
            let cookie = Cookie::build((COOKIE, session.token))
                .path("/")
                .http_only(true)
                .same_site(SameSite::Lax)
                .secure(secure(&state, &headers))
                .build();
            (jar.add(cookie), Redirect::to(&safe_next(form.next.as_deref()))).into_response()
        }
        Err(e) => {
            let status = match e {
                auth::SignInError::Locked(_) => StatusCode::TOO_MANY_REQUESTS,
                auth::SignInError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
                auth::SignInError::Invalid => StatusCode::UNAUTHORIZED,
            };
            let page = LoginPage {
                chrome: Chrome::anonymous(&state),
                error: Some(e.message()),
                next: safe_next(form.next.as_deref()),
                username: form.username,
            };
            (status, render(&page)).into_response()
        }
    }
}

pub async fn sign_out(State(state): State<AppState>, access: Access, jar: CookieJar) -> Response {
    if let Credential::Session { token_hash, .. } = &access.0.credential
        && let Err(e) = state.db.close_session(token_hash, Some(access.username())).await
    {
        return crate::pages::error_page(e.into());
    }
    (jar.remove(Cookie::build(COOKIE).path("/")), Redirect::to("/login")).into_response()
}
