//! The HTTP side of baocao.
//!
//! [`router`] builds the whole application: the REST API under `/api/v1`,
//! its OpenAPI document at `/api/openapi.json`, health probes, and the
//! server-rendered pages in Vietnamese.

mod api;
mod data_api;
mod error;
mod pages;
mod reports_api;
mod state;

use axum::Router;
use axum::routing::get;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

pub use api::ApiDoc;
pub use state::{AppState, Settings};

/// The whole application.
pub fn router(state: AppState) -> Router {
    let header = axum::http::HeaderName::from_static("x-request-id");
    Router::new()
        .route("/healthz", get(api::healthz))
        .route("/readyz", get(api::readyz))
        .route("/api/openapi.json", get(api::openapi))
        .route("/api/v1/units", get(api::units))
        .route("/api/v1/units/{code}", get(api::unit))
        .route("/api/v1/units/{code}/lineage", get(api::lineage))
        .route("/api/v1/units/{code}/map", get(api::map))
        .route("/api/v1/search", get(api::search))
        .route("/api/v1/indicators", get(data_api::indicators))
        .route("/api/v1/periods", get(data_api::periods))
        .route("/api/v1/dataValueSets", get(data_api::export).post(data_api::import))
        .route("/api/v1/values", get(data_api::value))
        .route("/api/v1/reports", get(reports_api::show).post(reports_api::act))
        .route("/api/v1/reports/xlsx", get(reports_api::download).post(reports_api::upload))
        .route("/api/v1/completeness", get(reports_api::completeness))
        .route("/api/v1/output", get(reports_api::output))
        .route("/", get(pages::home))
        .route("/units/{code}", get(pages::unit))
        .route("/static/app.css", get(pages::stylesheet))
        .layer(PropagateRequestIdLayer::new(header.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(header, MakeRequestUuid))
        .with_state(state)
}
