use std::collections::HashMap;
use std::sync::Arc;

use baocao_core::Registry;
use baocao_store::{Db, StoreError};

use crate::auth::Principal;
use tokio::sync::RwLock;

/// Settings of a running server.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    /// Show the demo banner.
    pub demo: bool,
    /// The province whose units the home page opens on, if any.
    pub home_province: Option<String>,
    /// Mark session cookies Secure even when the request did not come
    /// through a TLS proxy that says so (`X-Forwarded-Proto: https`).
    pub secure_cookies: bool,
    /// A reverse proxy is in front: the client's address is the first of
    /// `X-Forwarded-For`, not the connection's (which is the proxy's).
    pub behind_proxy: bool,
    /// The province's official mail domain: account plans' default.
    pub mail_domain: Option<String>,
    /// The site's address as officials reach it (links in mail).
    pub public_url: String,
    /// Roles whose holders must sign in with a second factor (they enrol
    /// one before anything else).
    pub second_factor_roles: Vec<baocao_core::access::Role>,
    /// The SMTP server mail goes through (without its password), when one
    /// is set; otherwise mail waits in the outbox.
    pub mail_server: Option<String>,
}

/// The registry as loaded at a stored revision.
type CachedRegistry = Option<(i64, Arc<Registry>)>;

/// Shared by every request.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub settings: Arc<Settings>,
    pub(crate) registry: Arc<RwLock<CachedRegistry>>,
    /// Every route's access rule, filled in by [`crate::router`].
    pub(crate) rules: Arc<Vec<crate::rules::RouteRule>>,
    /// The principals of API tokens by token hash, with the access revision
    /// they were read at: scripts send many requests with one token.
    pub(crate) tokens: Arc<std::sync::Mutex<TokenCache>>,
    /// The province's identity provider, when single sign-on is set up.
    pub(crate) sso: Option<Arc<crate::oidc::Sso>>,
    /// The certification authorities signed reports are checked against.
    pub(crate) trust: Option<Arc<baocao_signing::TrustList>>,
    /// Composed figures, kept while the data they are made of is unchanged.
    pub(crate) figures: Arc<crate::figures::Figures>,
}

/// Principals by token hash, with the access revision they were read at.
type TokenCache = HashMap<String, (i64, Arc<Principal>)>;

/// More distinct tokens than a province issues; the cache starts over past it.
const TOKENS_KEPT: usize = 10_000;

/// Attempts of one kind from one client address, at most
/// [`SIGN_INS_PER_MINUTE`] a minute whatever the accounts tried (the
/// per-account lockout is the other half), counted in the database so that
/// every process behind a load balancer counts the same.
#[derive(Clone, Copy)]
pub(crate) struct Limiter(&'static str);

/// Sign-in attempts (a password, or a start of single sign-on).
pub(crate) const SIGN_INS: Limiter = Limiter("sign-in");
/// Requests for a reset link.
pub(crate) const RESETS: Limiter = Limiter("reset");
/// Second-factor codes (on top of the lock after five wrong ones in a row).
pub(crate) const CODES: Limiter = Limiter("code");

pub(crate) const SIGN_INS_PER_MINUTE: u32 = 10;

impl AppState {
    pub fn new(db: Db, settings: Settings) -> Self {
        AppState {
            db,
            settings: Arc::new(settings),
            registry: Arc::default(),
            rules: Arc::default(),
            tokens: Arc::default(),
            sso: None,
            trust: None,
            figures: Arc::default(),
        }
    }

    /// What `compose` answers to the question `key`, from memory when the
    /// data has not changed since it was composed ([`crate::figures`]);
    /// `count` says how many figures an answer holds.
    pub(crate) async fn figures<T, F>(
        &self,
        key: String,
        count: impl Fn(&T) -> usize,
        compose: F,
    ) -> Result<Arc<T>, crate::error::ApiError>
    where
        T: std::any::Any + Send + Sync,
        F: Future<Output = Result<T, crate::error::ApiError>>,
    {
        let revisions = self.db.figure_revisions().await?;
        if let Some(kept) = self.figures.get::<T>(revisions, &key) {
            return Ok(kept);
        }
        let answer = Arc::new(compose.await?);
        self.figures.put(revisions, key, answer.clone(), count(&answer));
        Ok(answer)
    }

    /// Counts an attempt of `limiter`'s kind from `client`: true when it is
    /// within the rate.
    pub(crate) async fn within_rate(&self, limiter: Limiter, client: std::net::IpAddr) -> Result<bool, StoreError> {
        self.db.within_rate(limiter.0, &client.to_string(), SIGN_INS_PER_MINUTE, chrono::Utc::now()).await
    }

    /// Checks signed reports against `trust` (the report page says whether
    /// each signature holds).
    pub fn with_trust_list(self, trust: baocao_signing::TrustList) -> Self {
        AppState { trust: Some(Arc::new(trust)), ..self }
    }

    /// Signs officials in through `sso` too.
    pub fn with_sso(self, sso: crate::oidc::Sso) -> Self {
        AppState { sso: Some(Arc::new(sso)), ..self }
    }

    /// The principal of a bearer token, if the token is valid: read again
    /// whenever an account, grant or token has changed since (a revoked
    /// token or a closed account is refused at once).
    pub(crate) async fn token_principal(&self, token: &str) -> Result<Option<Arc<Principal>>, StoreError> {
        let hash = baocao_credentials::token_hash(token);
        let revision = self.db.cache_revision("access").await?;
        if let Some((seen, principal)) = self.tokens.lock().expect("token cache").get(&hash)
            && *seen == revision
        {
            return Ok(Some(principal.clone()));
        }
        let found = crate::auth::from_token(&self.db, token).await?;
        if let Some(principal) = &found {
            let mut tokens = self.tokens.lock().expect("token cache");
            if tokens.len() >= TOKENS_KEPT {
                tokens.clear();
            }
            tokens.insert(hash, (revision, principal.clone()));
        }
        Ok(found)
    }

    /// The registry in memory for lineage walks and mapping, reloaded only
    /// when the stored revision has moved (another process may apply a
    /// reorganization while the server runs).
    pub async fn registry(&self) -> Result<Arc<Registry>, StoreError> {
        let revision = self.db.registry_revision().await?;
        if let Some((cached, registry)) = self.registry.read().await.as_ref()
            && *cached == revision
        {
            return Ok(registry.clone());
        }
        let mut slot = self.registry.write().await;
        let registry = Arc::new(self.db.load_registry().await?);
        *slot = Some((revision, registry.clone()));
        Ok(registry)
    }
}
