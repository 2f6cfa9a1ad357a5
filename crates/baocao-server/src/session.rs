//! Signing in and out of the web application.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde::Deserialize;

use crate::access::Access;
use crate::auth::{self, COOKIE, Credential};
use crate::pages::{Chrome, render};
use crate::state::AppState;

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

pub async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<SignInForm>,
) -> Response {
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
