//! The province's OpenID Connect provider as a client sees it (through
//! `openidconnect`): its metadata and keys, read on first use so that
//! `serve` starts while it is down; the code exchanged with the PKCE
//! verifier and the ID token checked (signature, issuer, audience, expiry,
//! nonce); the verified address from the token or UserInfo. The pages of
//! the sign-in are `sso.rs`'s.

use baocao_store::single_sign_on::PendingSso;
use openidconnect::core::{CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeVerifier, RedirectUrl,
    TokenResponse,
};

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
    pub(crate) settings: SsoSettings,
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

    pub(crate) async fn client(&self, public_url: &str) -> Result<SsoClient, String> {
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

pub(crate) type SsoClient = CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

/// Who the provider says signed in.
pub(crate) struct Identity {
    pub(crate) subject: String,
    /// Only an address the provider verified.
    pub(crate) email: Option<String>,
}

pub(crate) async fn identify(
    sso: &Sso,
    public_url: &str,
    code: String,
    pending: &PendingSso,
) -> Result<Identity, String> {
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
