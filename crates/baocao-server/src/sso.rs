//! Single sign-on with the province's identity provider (OpenID Connect,
//! authorization code flow with PKCE, through `openidconnect`).
//!
//! «Đăng nhập bằng …» on the sign-in page leads to `/login/sso`, which
//! keeps the PKCE verifier and the nonce (`store::single_sign_on`) under
//! the hash of a random `state`, puts the state in a cookie of this
//! browser, and sends the browser to the provider. The provider sends it
//! back to `/login/sso/callback` with a code: the state must be the
//! cookie's and still waiting (once only), the code is exchanged with the
//! verifier, and the ID token's signature, issuer, audience, expiry and
//! nonce are checked. Its subject (or, the first time, its verified
//! e-mail) names the account, which then goes on as after a password: a
//! second factor if it has one, else a session. The provider itself (its
//! metadata, the exchange, the token's checks) is `oidc.rs`'s.

use axum::extract::State;
use axum::http::{Extensions, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use baocao_credentials::token_hash;
use baocao_store::single_sign_on::PendingSso;
use chrono::{Duration, Utc};
use openidconnect::core::CoreAuthenticationFlow;
use openidconnect::{CsrfToken, Nonce, PkceCodeChallenge, Scope};
use serde::Deserialize;

use crate::auth::{self, COOKIE};
use crate::oidc::identify;
use crate::params::Query;
use crate::session::{client_address, refused, safe_next, secure, too_many};
use crate::state::{AppState, SIGN_INS};

/// How long a sign-in sent to the provider waits for its answer.
const WAIT: Duration = Duration::minutes(10);

/// The cookie that binds the provider's answer to the browser that asked.
const STATE_COOKIE: &str = "baocao_sso";

#[derive(Deserialize)]
pub struct StartQuery {
    next: Option<String>,
}

/// Sends the browser to the provider.
pub async fn start(
    State(state): State<AppState>,
    headers: HeaderMap,
    extensions: Extensions,
    jar: CookieJar,
    Query(q): Query<StartQuery>,
) -> Response {
    let next = safe_next(q.next.as_deref());
    let Some(sso) = state.sso.clone() else {
        return crate::respond::refuse("/login/sso", StatusCode::NOT_FOUND, "Chưa cấu hình đăng nhập một lần.");
    };
    // A link from another site (an intranet portal) may start a sign-in:
    // only the rate is checked, as for a password.
    match state.within_rate(SIGN_INS, client_address(&state, &headers, &extensions)).await {
        Ok(true) => {}
        Ok(false) => return refused(&state, StatusCode::TOO_MANY_REQUESTS, too_many("lần đăng nhập"), next),
        Err(e) => return crate::error::ApiError::from(e).into_response(),
    }
    let client = match sso.client(&state.settings.public_url).await {
        Ok(client) => client,
        Err(e) => {
            tracing::warn!(error = %e, "identity provider unavailable");
            return refused(&state, StatusCode::SERVICE_UNAVAILABLE, unavailable(), next);
        }
    };
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf, nonce) = client
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();
    let pending = PendingSso { verifier: verifier.secret().clone(), nonce: nonce.secret().clone(), next: next.clone() };
    let now = Utc::now();
    if let Err(e) = state.db.begin_sso(&token_hash(csrf.secret()), &pending, now, now + WAIT).await {
        return crate::pages::error_page(e.into());
    }
    // Sent back with the provider's redirect (a top-level GET): Lax.
    let cookie = Cookie::build((STATE_COOKIE, csrf.secret().clone()))
        .path("/login/sso")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure(&state, &headers))
        .build();
    (jar.add(cookie), Redirect::to(url.as_str())).into_response()
}

fn unavailable() -> String {
    "Không kết nối được nhà cung cấp định danh. Vui lòng thử lại sau hoặc đăng nhập bằng mật khẩu.".into()
}

#[derive(Deserialize)]
pub struct Answer {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// The provider's answer.
pub async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
    Query(answer): Query<Answer>,
) -> Response {
    let Some(sso) = state.sso.clone() else {
        return crate::respond::refuse(
            "/login/sso/callback",
            StatusCode::NOT_FOUND,
            "Chưa cấu hình đăng nhập một lần.",
        );
    };
    let cookie = jar.get(STATE_COOKIE).map(|c| c.value().to_string());
    let jar = jar.remove(Cookie::build(STATE_COOKIE).path("/login/sso"));
    let fail = |jar: CookieJar, status: StatusCode, error: String| {
        (jar, refused(&state, status, error, "/".into())).into_response()
    };
    if let Some(error) = answer.error {
        let why = answer.error_description.unwrap_or(error);
        return fail(jar, StatusCode::UNAUTHORIZED, format!("Nhà cung cấp định danh không cho đăng nhập: {why}"));
    }
    let expired = || "Lượt đăng nhập một lần không hợp lệ hoặc đã hết hạn: hãy đăng nhập lại.".to_string();
    let (Some(code), Some(sent), Some(kept)) = (answer.code, answer.state, cookie) else {
        return fail(jar, StatusCode::BAD_REQUEST, expired());
    };
    // The answer must come to the browser that asked (no sign-in planted
    // by someone else's link), and only once.
    if sent != kept {
        return fail(jar, StatusCode::BAD_REQUEST, expired());
    }
    let pending = match state.db.take_sso(&token_hash(&sent), Utc::now()).await {
        Ok(Some(pending)) => pending,
        Ok(None) => return fail(jar, StatusCode::BAD_REQUEST, expired()),
        Err(e) => return crate::pages::error_page(e.into()),
    };
    let identity = match identify(&sso, &state.settings.public_url, code, &pending).await {
        Ok(identity) => identity,
        Err(e) => {
            tracing::warn!(error = %e, "single sign-on refused");
            return fail(jar, StatusCode::UNAUTHORIZED, format!("Không xác nhận được đăng nhập một lần: {e}"));
        }
    };
    let account = match state.db.sso_account(&sso.settings.issuer, &identity.subject, identity.email.as_deref()).await {
        Ok(Some(account)) if account.active => account,
        Ok(_) => {
            let who = identity.email.unwrap_or(identity.subject);
            return fail(
                jar,
                StatusCode::FORBIDDEN,
                format!(
                    "«{who}» chưa có tài khoản đang dùng trên Hệ thống thông tin báo cáo (hoặc tài khoản đã khóa). Liên hệ người quản trị tài khoản."
                ),
            );
        }
        Err(e) => return crate::pages::error_page(e.into()),
    };
    let previous = jar.get(COOKIE).map(|c| c.value().to_string());
    match auth::signed_in(&state.db, &account, previous.as_deref()).await {
        Ok(signed_in) => {
            tracing::info!(account = %account.username, "signed in through the identity provider");
            crate::session::proceed(&state, &headers, jar, signed_in, pending.next)
        }
        Err(e) => crate::pages::error_page(e.into()),
    }
}
