//! Signing in and out of the web application.

use crate::params::Form;
use askama::Template;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use crate::params::Query;
use axum::extract::{ConnectInfo, State};
use axum::http::Extensions;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde::Deserialize;

use crate::access::Access;
use crate::auth::{self, COOKIE, Credential};
use crate::pages::{Chrome, render};
use crate::state::{AppState, CODES, Limiter, SIGN_INS, SIGN_INS_PER_MINUTE};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    chrome: Chrome,
    /// What was just done from a one-time link (activation, reset).
    notice: Option<&'static str>,
    error: Option<String>,
    next: String,
    username: String,
    /// The button of the province's identity provider, when there is one.
    sso: Option<String>,
}

impl LoginPage {
    fn new(state: &AppState, next: String) -> Self {
        LoginPage {
            chrome: Chrome::anonymous(state),
            notice: None,
            error: None,
            next,
            username: String::new(),
            sso: state.sso.as_ref().map(|s| s.label().to_string()),
        }
    }
}

/// The sign-in page again, saying why a sign-in did not go through.
pub(crate) fn refused(state: &AppState, status: StatusCode, error: String, next: String) -> Response {
    (status, render(&LoginPage { error: Some(error), ..LoginPage::new(state, next) })).into_response()
}

/// Why a public account form is refused before its work.
pub(crate) enum Gate {
    /// Posted from another site (or the count failed): answered as it is.
    Refused(Box<Response>),
    /// Past the address's rate: the message the form's page shows.
    TooMany(String),
}

/// What every public account form (sign-in, its code, «forgot») checks
/// first: that it was posted from this site (a form posted from another
/// would act for a visitor of the other site's choosing), and that the
/// client's address is within `limiter`'s rate. `what` names the attempts
/// in the message ("lần đăng nhập", "yêu cầu").
pub(crate) async fn gate(
    state: &AppState,
    headers: &HeaderMap,
    extensions: &Extensions,
    limiter: Limiter,
    path: &str,
    what: &str,
) -> Result<(), Gate> {
    if crate::access::cross_site(state, headers) {
        return Err(Gate::Refused(Box::new(crate::respond::refuse(
            path,
            StatusCode::FORBIDDEN,
            crate::access::CROSS_SITE,
        ))));
    }
    match state.within_rate(limiter, client_address(state, headers, extensions)).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(Gate::TooMany(too_many(what))),
        Err(e) => {
            let e = crate::error::ApiError::from(e);
            Err(Gate::Refused(Box::new(crate::respond::refuse(path, e.status, &e.message))))
        }
    }
}

/// The refusal of attempts past an address's rate.
pub(crate) fn too_many(what: &str) -> String {
    format!(
        "Quá nhiều {what} từ địa chỉ này (tối đa {SIGN_INS_PER_MINUTE} lần mỗi phút). Vui lòng thử lại sau ít phút."
    )
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
    done: Option<String>,
}

/// Where to go after signing in: only a path of this site, else the home
/// page. `next` is resolved as a browser would resolve it against a page of
/// this site (which ignores tabs and line breaks, and reads `\\` as `/`),
/// and kept only if it stays on that site; what is kept is the path and
/// query the browser would have reached.
pub(crate) fn safe_next(next: Option<&str>) -> String {
    const HERE: &str = "https://baocao.invalid/";
    let stays = |n: &str| {
        let base = url::Url::parse(HERE).ok()?;
        let resolved = base.join(n).ok()?;
        let same_site = resolved.origin() == base.origin() && resolved.username().is_empty();
        let path = match resolved.query() {
            Some(q) => format!("{}?{q}", resolved.path()),
            None => resolved.path().to_string(),
        };
        // `//` at the start of a path would read as another host.
        (same_site && n.starts_with('/') && !path.starts_with("//")).then_some(path)
    };
    next.and_then(stays).unwrap_or_else(|| "/".to_string())
}

pub async fn page(State(state): State<AppState>, Query(q): Query<NextQuery>) -> Response {
    let notice = match q.done.as_deref() {
        Some("activation") => Some("Tài khoản đã được kích hoạt: hãy đăng nhập bằng mật khẩu vừa đặt."),
        Some("reset") => Some("Mật khẩu đã được đặt lại: hãy đăng nhập bằng mật khẩu mới."),
        _ => None,
    };
    render(&LoginPage { notice, ..LoginPage::new(&state, safe_next(q.next.as_deref())) })
}

#[derive(Deserialize)]
pub struct SignInForm {
    username: String,
    password: String,
    next: Option<String>,
}

/// Behind a TLS-terminating proxy the request says so; cookies are then Secure.
pub(crate) fn secure(state: &AppState, headers: &HeaderMap) -> bool {
    state.settings.secure_cookies
        || headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()).is_some_and(|v| v == "https")
}

/// The client's address: the connection's, or behind a proxy the first of
/// `X-Forwarded-For`; unspecified when neither is known (in-process tests).
pub(crate) fn client_address(state: &AppState, headers: &HeaderMap, extensions: &Extensions) -> IpAddr {
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
    let next = safe_next(form.next.as_deref());
    match gate(&state, &headers, &extensions, SIGN_INS, "/login", "lần đăng nhập").await {
        Err(Gate::Refused(refusal)) => return *refusal,
        Err(Gate::TooMany(error)) => {
            let page = LoginPage { error: Some(error), username: form.username, ..LoginPage::new(&state, next) };
            return (StatusCode::TOO_MANY_REQUESTS, render(&page)).into_response();
        }
        Ok(()) => {}
    }
    let previous = jar.get(COOKIE).map(|c| c.value().to_string());
    match auth::sign_in(&state.db, &form.username, &form.password, previous.as_deref()).await {
        Ok(signed_in) => proceed(&state, &headers, jar, signed_in, next),
        Err(e) => {
            let status = match e {
                auth::SignInError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::UNAUTHORIZED,
            };
            let page = LoginPage { error: Some(e.message()), username: form.username, ..LoginPage::new(&state, next) };
            (status, render(&page)).into_response()
        }
    }
}

/// Where a first factor that held (a password, the identity provider's
/// word) leads: into the site at `next` with a session cookie, or to the
/// code page of an account with a second factor.
pub(crate) fn proceed(
    state: &AppState,
    headers: &HeaderMap,
    jar: CookieJar,
    signed_in: auth::SignedIn,
    next: String,
) -> Response {
    match signed_in {
        auth::SignedIn::Session(session) => {
            (jar.add(session_cookie(state, headers, session)), Redirect::to(&next)).into_response()
        }
        auth::SignedIn::SecondFactor { token } => {
            // Only the code page reads it; it works for a few minutes.
            let cookie = Cookie::build((PENDING, token))
                .path("/login")
                .http_only(true)
                .same_site(SameSite::Strict)
                .secure(secure(state, headers))
                .build();
            let to = format!(
                "/login/code?next={}",
                url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
            );
            (jar.add(cookie), Redirect::to(&to)).into_response()
        }
    }
}

/// The cookie of a sign-in waiting for its second factor.
const PENDING: &str = "baocao_pending";

fn session_cookie(state: &AppState, headers: &HeaderMap, session: auth::NewSession) -> Cookie<'static> {
    Cookie::build((COOKIE, session.token))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure(state, headers))
        .build()
}

#[derive(Template)]
#[template(path = "login_code.html")]
struct CodePage {
    chrome: Chrome,
    error: Option<String>,
    next: String,
}

pub async fn code_page(State(state): State<AppState>, Query(q): Query<NextQuery>) -> Response {
    render(&CodePage { chrome: Chrome::anonymous(&state), error: None, next: safe_next(q.next.as_deref()) })
}

#[derive(Deserialize)]
pub struct CodeForm {
    code: String,
    next: Option<String>,
}

/// The second step of signing in: the code from the authenticator app (or
/// a recovery code) for the sign-in whose password was right.
pub async fn check_code(
    State(state): State<AppState>,
    headers: HeaderMap,
    extensions: Extensions,
    jar: CookieJar,
    Form(form): Form<CodeForm>,
) -> Response {
    let next = safe_next(form.next.as_deref());
    let refuse = |status: StatusCode, error: String| {
        let page = CodePage { chrome: Chrome::anonymous(&state), error: Some(error), next: next.clone() };
        (status, render(&page)).into_response()
    };
    match gate(&state, &headers, &extensions, CODES, "/login/code", "lần đăng nhập").await {
        Err(Gate::Refused(refusal)) => return *refusal,
        Err(Gate::TooMany(error)) => return refuse(StatusCode::TOO_MANY_REQUESTS, error),
        Ok(()) => {}
    }
    let pending = jar.get(PENDING).map(|c| c.value().to_string()).unwrap_or_default();
    let previous = jar.get(COOKIE).map(|c| c.value().to_string());
    match auth::second_factor(&state.db, &pending, &form.code, previous.as_deref()).await {
        Ok(session) => {
            let jar = jar.remove(Cookie::build(PENDING).path("/login")).add(session_cookie(&state, &headers, session));
            (jar, Redirect::to(&next)).into_response()
        }
        Err(e @ auth::SignInError::Expired) => refused(&state, StatusCode::UNAUTHORIZED, e.message(), next),
        Err(e @ auth::SignInError::Store(_)) => refuse(StatusCode::SERVICE_UNAVAILABLE, e.message()),
        Err(e) => refuse(StatusCode::UNAUTHORIZED, e.message()),
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

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_only_leads_to_a_path_of_this_site() {
        assert_eq!(safe_next(Some("/reports?period=202508")), "/reports?period=202508");
        assert_eq!(safe_next(Some("/units/23317")), "/units/23317");
        for away in [
            "//evil.example",
            "https://evil.example/",
            "/\\evil.example",
            "\\\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            " //evil.example",
            "javascript:alert(1)",
            "http:evil.example",
            "",
        ] {
            assert_eq!(safe_next(Some(away)), "/", "{away:?}");
        }
        // Encoded slashes are a path of this site, not a host.
        assert_eq!(safe_next(Some("/%2F%2Fevil.example")), "/%2F%2Fevil.example");
        assert_eq!(safe_next(None), "/");
    }
}
