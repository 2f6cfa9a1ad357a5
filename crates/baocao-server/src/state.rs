use std::sync::Arc;

use baocao_core::Registry;
use baocao_store::{Db, StoreError};
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
    pub(crate) rules: Arc<Vec<crate::access::RouteRule>>,
}

impl AppState {
    pub fn new(db: Db, settings: Settings) -> Self {
        AppState { db, settings: Arc::new(settings), registry: Arc::default(), rules: Arc::default() }
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
