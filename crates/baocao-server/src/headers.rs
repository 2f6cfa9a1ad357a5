//! What every answer tells the browser about itself: where its scripts,
//! styles and frames may come from, that it is not to be framed, sniffed
//! or cached, and how much of its address to pass on.
//!
//! Set once around the whole application, so no page or route can forget
//! them; an answer that needs its own (the sandbox of an archived
//! document, the caching of the stylesheet) sets it and keeps it.

use axum::Router;
use axum::http::{HeaderValue, header};
use tower_http::set_header::SetResponseHeaderLayer;

/// Scripts, styles and images from this site only; no plugin, no `<base>`,
/// forms posted here only, never inside another site's frame.
const POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// `router` with the headers on every answer.
pub fn around<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    let value = HeaderValue::from_static;
    router
        .layer(SetResponseHeaderLayer::if_not_present(header::CONTENT_SECURITY_POLICY, value(POLICY)))
        .layer(SetResponseHeaderLayer::overriding(header::X_FRAME_OPTIONS, value("DENY")))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, value("nosniff")))
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, value("same-origin")))
        // Pages and answers hold what an account may see: the browser keeps
        // no copy that Back would show after signing out.
        .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, value("no-store")))
}
