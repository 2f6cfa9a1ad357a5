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
//! second factor if it has one, else a session. The provider's metadata
//! and keys are read on first use, so `serve` starts while it is down.

use axum::extract::State;
use axum::http::{Extensions, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use baocao_credentials::token_hash;
use baocao_store::single_sign_on::PendingSso;
use chrono::{Duration, Utc};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use serde::Deserialize;

use crate::auth::{self, COOKIE};
use crate::params::Query;
use crate::session::{client_address, refused, safe_next, secure, too_many};
use crate::state::AppState;

/// How long a sign-in sent to the provider waits for its answer.
const WAIT: Duration = Duration::minutes(10);

/// The cookie that binds the provider's answer to the browser that asked.
const STATE_COOKIE: &str = "baocao_sso";

/// The province's identity provider, as `serve` is told of it.
#[derive(Clone, Debug)]
pub struct SsoSettings {
    /// The issuer, whose `/.well-known/openid-configuration` describes it.
    pub issuer: String,
    pub client_id: String,
    /// None for a public client (PKCE only).
    pub client_secret: Option<String>,
    /// The provider's name on the sign-in page's button.
    pub label: String,
}

/// The provider, its metadata read once when first needed.
pub struct Sso {
    settings: SsoSettings,
    issuer: IssuerUrl,
    http: openidconnect::reqwest::Client,
    metadata: tokio::sync::OnceCell<CoreProviderMetadata>,
}

impl std::fmt::Debug for Sso {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sso").field("issuer", &self.settings.issuer).finish()
    }
}

impl Sso {
    pub fn new(settings: SsoSettings) -> Result<Sso, String> {
        let issuer = IssuerUrl::new(settings.issuer.clone())
            .map_err(|e| format!("địa chỉ nhà cung cấp định danh «{}» không hợp lệ: {e}", settings.issuer))?;
        // The provider's endpoints answer directly: a redirect there is
        // refused, not followed (the library's advice against SSRF).
        let http = openidconnect::reqwest::ClientBuilder::new()
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| format!("không tạo được máy khách HTTP: {e}"))?;
        Ok(Sso { settings, issuer, http, metadata: tokio::sync::OnceCell::new() })
    }

    pub fn label(&self) -> &str {
        &self.settings.label
    }

    async fn client(&self, public_url: &str) -> Result<SsoClient, String> {
        let metadata = self
            .metadata
            .get_or_try_init(|| CoreProviderMetadata::discover_async(self.issuer.clone(), &self.http))
            .await
            .map_err(|e| format!("không đọc được cấu hình của nhà cung cấp định danh: {e}"))?;
        let redirect = RedirectUrl::new(format!("{}/login/sso/callback", public_url.trim_end_matches('/')))
            .map_err(|e| format!("địa chỉ trả về không hợp lệ: {e}"))?;
        Ok(CoreClient::from_provider_metadata(
            metadata.clone(),
            ClientId::new(self.settings.client_id.clone()),
            self.settings.client_secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(redirect))
    }
}

type SsoClient = CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

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
    if state.sign_in_limiter.check_key(&client_address(&state, &headers, &extensions)).is_err() {
        return refused(&state, StatusCode::TOO_MANY_REQUESTS, too_many("lần đăng nhập"), next);
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

/// Who the provider says signed in.
struct Identity {
    subject: String,
    /// Only an address the provider verified.
    email: Option<String>,
}

async fn identify(sso: &Sso, public_url: &str, code: String, pending: &PendingSso) -> Result<Identity, String> {
    let client = sso.client(public_url).await?;
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|e| format!("nhà cung cấp không có điểm đổi mã: {e}"))?
        .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier.clone()))
        .request_async(&sso.http)
        .await
        .map_err(|e| format!("đổi mã không được: {e}"))?;
    let id_token = tokens.id_token().ok_or("nhà cung cấp không trả về ID token")?;
    let claims = id_token
        .claims(&client.id_token_verifier(), &Nonce::new(pending.nonce.clone()))
        .map_err(|e| format!("ID token không hợp lệ: {e}"))?;
    let verified = |email: Option<&openidconnect::EndUserEmail>, verified: Option<bool>| match (email, verified) {
        (Some(email), Some(true)) => Some(email.as_str().to_string()),
        _ => None,
    };
    let mut email = verified(claims.email(), claims.email_verified());
    // Many providers put the address in the ID token; others (as the
    // standard prefers when an access token is issued) only in UserInfo,
    // whose subject must then be the ID token's.
    if email.is_none()
        && let Ok(request) = client.user_info(tokens.access_token().clone(), Some(claims.subject().clone()))
    {
        let info: openidconnect::core::CoreUserInfoClaims =
            request.request_async(&sso.http).await.map_err(|e| format!("không đọc được thông tin người dùng: {e}"))?;
        email = verified(info.email(), info.email_verified());
    }
    Ok(Identity { subject: claims.subject().as_str().to_string(), email })
}
