//! The HTTP side of baocao.
//!
//! [`router`] builds the whole application: the REST API under `/api/v1`,
//! its OpenAPI document at `/api/openapi.json`, health probes, metrics, and
//! the server-rendered pages in Vietnamese. Every route is declared with its
//! access rule ([`rules::Rule`]); [`access::guard`] enforces them.

pub mod access;
mod admin;
mod api;
mod archive_pages;
mod audit;
pub mod auth;
pub mod body;
mod catalog;
mod data_api;
mod directory_api;
mod directory_pages;
mod due;
mod error;
mod etag;
pub mod feeds;
mod feeds_page;
mod figures;
mod headers;
mod idempotency;
mod inbox;
mod jobs_page;
pub mod mail;
mod metrics;
mod offline;
pub mod oidc;
mod openapi;
mod origin;
mod outbox_page;
mod pages;
mod panics;
mod params;
mod password_links;
mod problem;
mod regime_editor;
mod reports_api;
mod requests_api;
mod respond;
pub mod rules;
pub mod scheduler;
mod scim;
pub mod scim_filter;
mod security_page;
mod session;
pub mod signing;
mod sso;
mod state;
mod tasks_page;
pub mod upstream;
mod upstream_page;
mod verify;
mod work;

use std::sync::Arc;

use axum::Router;
use axum::middleware::{from_fn, from_fn_with_state};
use baocao_core::access::Permission::{
    ApproveReports, EnterReports, ManageAccounts, ManageCatalog, ViewAudit, ViewCatalog, ViewReports,
};
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, NotForContentType, Predicate};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use access::Routes;
pub use openapi::ApiDoc;
use rules::RouteRule;
use rules::Rule::{Needs, NeedsAny, Public, SignedIn};
pub use state::{AppState, Settings};

/// Every route with its access rule. The application is exactly this list.
fn routes() -> Routes {
    Routes::default()
        .get("/healthz", Public, api::healthz)
        .get("/readyz", Public, api::readyz)
        .get("/metrics", Public, metrics::render)
        .get("/api/openapi.json", Public, openapi::openapi)
        .get("/api/v1/units", Needs(ViewCatalog), api::units)
        .get("/api/v1/units/{code}", Needs(ViewCatalog), api::unit)
        .get("/api/v1/units/{code}/lineage", Needs(ViewCatalog), api::lineage)
        .get("/api/v1/units/{code}/map", Needs(ViewCatalog), api::map)
        .get("/api/v1/search", Needs(ViewCatalog), api::search)
        .get("/api/v1/indicators", Needs(ViewCatalog), data_api::indicators)
        .get("/api/v1/periods", Needs(ViewCatalog), data_api::periods)
        .get("/api/v1/dataValueSets", Needs(ViewReports), data_api::export)
        .post("/api/v1/dataValueSets", Needs(ManageCatalog), data_api::import)
        .get("/api/v1/completeDataSetRegistrations", Needs(ViewReports), data_api::registrations)
        .post("/api/v1/completeDataSetRegistrations", Needs(ManageCatalog), data_api::import_registrations)
        .get("/api/v1/values", Needs(ViewReports), data_api::value)
        .get("/api/v1/values/table", Needs(ViewReports), data_api::table)
        .get("/api/v1/values/origin", Needs(ViewReports), origin::origin_api)
        .post("/api/v1/signatures/verify", SignedIn, verify::verify_api)
        .get("/api/v1/session", SignedIn, offline::session)
        .get("/api/v1/reports/due", Needs(ViewReports), offline::due)
        .get("/api/v1/reports", Needs(ViewReports), reports_api::show)
        .post("/api/v1/reports", NeedsAny(&[EnterReports, ApproveReports]), reports_api::act)
        .get("/api/v1/reports/xlsx", Needs(ViewReports), reports_api::download)
        .post("/api/v1/reports/xlsx", Needs(EnterReports), reports_api::upload)
        .get("/api/v1/completeness", Needs(ViewReports), reports_api::completeness)
        .get("/api/v1/output", Needs(ViewReports), reports_api::output)
        .get("/api/v1/requests", Needs(ViewReports), requests_api::list)
        .post("/api/v1/requests", Needs(ManageCatalog), requests_api::send)
        .post("/api/v1/requests/{code}/extend", Needs(ManageCatalog), requests_api::extend)
        .post("/api/v1/requests/{code}/close", Needs(ManageCatalog), requests_api::close)
        .get("/api/v1/accounts", Needs(ManageAccounts), admin::accounts_api)
        .get("/api/v1/audit", Needs(ViewAudit), audit::audit_api)
        .get("/api/v1/agencies", SignedIn, directory_api::agencies)
        .post("/api/v1/agencies", Needs(ManageAccounts), directory_api::import_agencies)
        .get("/api/v1/agencies/{code}", SignedIn, directory_api::agency)
        .post("/api/v1/roster", Needs(ManageAccounts), directory_api::import)
        .get("/api/v1/accounts/plan", Needs(ManageAccounts), directory_api::plan)
        .post("/api/v1/accounts/apply", Needs(ManageAccounts), directory_api::apply)
        .get("/scim/v2/ServiceProviderConfig", Public, scim::service_provider_config)
        .get("/scim/v2/ResourceTypes", Public, scim::resource_types)
        .get("/scim/v2/ResourceTypes/{id}", Public, scim::resource_type)
        .get("/scim/v2/Schemas", Public, scim::schemas)
        .get("/scim/v2/Schemas/{id}", Public, scim::schema)
        .post("/scim/v2/.search", Needs(ManageAccounts), scim::search_all)
        .get("/scim/v2/Users", Needs(ManageAccounts), scim::users)
        .post("/scim/v2/Users", Needs(ManageAccounts), scim::create_user)
        .post("/scim/v2/Users/.search", Needs(ManageAccounts), scim::search_users)
        .get("/scim/v2/Users/{id}", Needs(ManageAccounts), scim::user_by_id)
        .put("/scim/v2/Users/{id}", Needs(ManageAccounts), scim::replace_user)
        .patch("/scim/v2/Users/{id}", Needs(ManageAccounts), scim::patch_user)
        .delete("/scim/v2/Users/{id}", Needs(ManageAccounts), scim::delete_user)
        .get("/scim/v2/Groups", Needs(ManageAccounts), scim::groups)
        .get("/scim/v2/Groups/{id}", Needs(ManageAccounts), scim::group_by_id)
        .get("/static/app.css", Public, pages::stylesheet)
        .get(baocao_documents::STYLESHEET_PATH, Public, pages::document_stylesheet)
        .get("/static/htmx.min.js", Public, pages::htmx)
        .get("/static/picker.js", Public, pages::picker)
        .get("/static/chart-png.js", Public, pages::chart_png)
        .get("/static/offline.js", Public, offline::script)
        .get("/static/pwa.js", Public, offline::register)
        .get("/static/icon-192.png", Public, offline::icon_192)
        .get("/static/icon-512.png", Public, offline::icon_512)
        .get("/sw.js", Public, offline::service_worker)
        .get("/manifest.webmanifest", Public, offline::manifest)
        .get("/offline", Public, offline::shell)
        .get("/login", Public, session::page)
        .post("/login", Public, session::sign_in)
        .get("/forgot", Public, password_links::forgot_page)
        .post("/forgot", Public, password_links::forgot)
        .get("/activate", Public, password_links::activation_page)
        .post("/activate", Public, password_links::activate)
        .get("/reset", Public, password_links::reset_page)
        .post("/reset", Public, password_links::reset)
        .get("/login/sso", Public, sso::start)
        .get("/login/sso/callback", Public, sso::callback)
        .get("/login/code", Public, session::code_page)
        .post("/login/code", Public, session::check_code)
        .post("/logout", SignedIn, session::sign_out)
        .get("/account/security", SignedIn, security_page::security)
        .get("/inbox", SignedIn, inbox::inbox)
        .get("/inbox/badge", SignedIn, inbox::badge)
        .post("/inbox/read", SignedIn, inbox::read_all)
        .post("/inbox/preferences", SignedIn, inbox::preferences)
        .get("/inbox/{id}", SignedIn, inbox::open)
        .post("/account/security/totp", SignedIn, security_page::enable_totp)
        .get("/", SignedIn, work::home)
        .get("/units", Needs(ViewCatalog), pages::units)
        .get("/units/{code}", Needs(ViewCatalog), pages::unit)
        .get("/indicators", Needs(ViewCatalog), catalog::indicators)
        .post("/indicators", Needs(ManageCatalog), catalog::import_indicators)
        .get("/forms", Needs(ViewCatalog), catalog::forms)
        .get("/forms/designer", Needs(ManageCatalog), catalog::designer)
        .post("/forms/designer", Needs(ManageCatalog), catalog::designer_save)
        .post("/forms/designer/preview", Needs(ManageCatalog), catalog::designer_preview)
        .get("/forms/{code}", Needs(ViewCatalog), catalog::form)
        .get("/forms/{code}/xlsx", Needs(ViewCatalog), catalog::form_xlsx)
        .get("/regimes", Needs(ViewCatalog), catalog::regimes)
        .get("/regimes/editor", Needs(ManageCatalog), regime_editor::editor)
        .post("/regimes/editor", Needs(ManageCatalog), regime_editor::save)
        .post("/regimes/editor/preview", Needs(ManageCatalog), regime_editor::preview)
        .get("/reports", Needs(ViewReports), work::reports)
        .get("/values/origin", Needs(ViewReports), origin::origin_page)
        .get("/signatures/verify", SignedIn, verify::verify_page)
        .post("/signatures/verify", SignedIn, verify::verify_upload)
        .get("/reports/{regime}/{unit}/{period}", Needs(ViewReports), work::report)
        .post("/reports/{regime}/{unit}/{period}", NeedsAny(&[EnterReports, ApproveReports]), work::act)
        .get("/reports/{regime}/{unit}/{period}/print", Needs(ViewReports), work::print)
        .get("/reports/{regime}/{unit}/{period}/signed.json", Needs(ViewReports), signing::content)
        .get("/reports/{regime}/{unit}/{period}/signed.p7s", Needs(ViewReports), signing::signature)
        .get("/reports/{regime}/{unit}/{period}/signed.pdf", Needs(ViewReports), signing::pdf)
        .post("/reports/{regime}/{unit}/{period}/xlsx", Needs(EnterReports), work::upload)
        .get("/review", Needs(ApproveReports), work::review)
        .post("/review", Needs(ApproveReports), work::approve_selected)
        .get("/completeness", Needs(ViewReports), work::completeness)
        .get("/quality", Needs(ViewReports), work::quality)
        .post("/quality/follow-ups", Needs(ApproveReports), work::follow_up)
        .get("/requests", Needs(ViewReports), work::requests)
        .post("/requests", Needs(ManageCatalog), work::send_request)
        .post("/requests/{code}/extend", Needs(ManageCatalog), work::extend_request)
        .post("/requests/{code}/close", Needs(ManageCatalog), work::close_request)
        .get("/compare", Needs(ViewReports), work::compare)
        .get("/analysis", Needs(ViewReports), work::analysis)
        .post("/favourites", Needs(ViewReports), work::save_favourite)
        .post("/favourites/{id}/delete", Needs(ViewReports), work::delete_favourite)
        .get("/dashboards", Needs(ViewReports), work::dashboards)
        .post("/dashboards", Needs(ViewReports), work::save_dashboard)
        .get("/dashboards/{id}", Needs(ViewReports), work::dashboard)
        .get("/dashboards/{id}/views/{n}", Needs(ViewReports), work::dashboard_view)
        .post("/dashboards/{id}/delete", Needs(ViewReports), work::delete_dashboard)
        .get("/output", Needs(ViewReports), work::output)
        .get("/admin/accounts", Needs(ManageAccounts), admin::accounts)
        .post("/admin/accounts", Needs(ManageAccounts), admin::create_account)
        .post("/admin/accounts/password", Needs(ManageAccounts), admin::set_password)
        .post("/admin/accounts/state", Needs(ManageAccounts), admin::set_state)
        .post("/admin/accounts/activation", Needs(ManageAccounts), admin::send_activation)
        .post("/admin/accounts/second-factor", Needs(ManageAccounts), admin::disable_second_factor)
        .post("/admin/accounts/password-sign-in", Needs(ManageAccounts), admin::set_password_sign_in)
        .get("/admin/outbox", Needs(ManageAccounts), outbox_page::outbox)
        .post("/admin/outbox/{id}/resend", Needs(ManageAccounts), outbox_page::resend)
        .get("/admin/upstream", Needs(ManageCatalog), upstream_page::upstream)
        .post("/admin/upstream/{id}/resend", Needs(ManageCatalog), upstream_page::resend)
        .get("/admin/feeds", Needs(ManageCatalog), feeds_page::feeds)
        .post("/admin/feeds/{code}/run", Needs(ManageCatalog), feeds_page::run_now)
        .get("/admin/jobs", Needs(ManageAccounts), jobs_page::jobs)
        .post("/admin/jobs/{name}/run", Needs(ManageAccounts), jobs_page::run_now)
        .post("/admin/tokens", Needs(ManageAccounts), admin::create_token)
        .post("/admin/tokens/revoke", Needs(ManageAccounts), admin::revoke_token)
        .post("/admin/grants", Needs(ManageAccounts), admin::add_grant)
        .post("/admin/grants/revoke", Needs(ManageAccounts), admin::revoke_grant)
        .get("/audit", Needs(ViewAudit), audit::audit)
        .get("/tasks", Needs(ViewReports), tasks_page::tasks)
        .post("/tasks", Needs(ManageCatalog), tasks_page::update)
        .get("/archive", Needs(ViewReports), archive_pages::list)
        .get("/archive/{id}", Needs(ViewReports), archive_pages::package)
        .get("/archive/{id}/files/{*path}", Needs(ViewReports), archive_pages::file)
        .get("/agencies", Needs(ManageAccounts), directory_pages::agencies)
        .post("/agencies", Needs(ManageAccounts), directory_pages::upload_agencies)
        .get("/roster", Needs(ManageAccounts), directory_pages::roster)
        .post("/roster", Needs(ManageAccounts), directory_pages::upload)
        .get("/roster/template", Needs(ManageAccounts), directory_pages::template)
        .get("/roster/xlsx", Needs(ManageAccounts), directory_pages::roster_xlsx)
        .get("/accounts/plan", Needs(ManageAccounts), directory_pages::plan)
        .get("/accounts/plan/xlsx", Needs(ManageAccounts), directory_pages::plan_xlsx)
        .post("/accounts/apply", Needs(ManageAccounts), directory_pages::apply)
}

/// The access rules of every route, for documentation and tests.
pub fn access_rules() -> Vec<RouteRule> {
    routes().finish().1
}

/// Any path no route knows, answered in the asker's language (SCIM, JSON
/// or a page).
async fn not_found(uri: axum::http::Uri) -> axum::response::Response {
    respond::refuse(uri.path(), axum::http::StatusCode::NOT_FOUND, "Không tìm thấy trang này.")
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    let (routes, rules) = routes().finish();
    let state = AppState { rules: Arc::new(rules), ..state };
    let header = axum::http::HeaderName::from_static("x-request-id");
    let app = routes
        .fallback(not_found)
        .layer(axum::extract::DefaultBodyLimit::max(body::LIMIT))
        // Inside the guard: a key is the account's own, and kept only for
        // a request allowed to do its work.
        .route_layer(from_fn_with_state(state.clone(), idempotency::replay))
        .route_layer(from_fn_with_state(state.clone(), access::guard))
        .route_layer(from_fn(metrics::track))
        // Outside the guard and the fallback: their refusals are framed too.
        .layer(from_fn_with_state(state.clone(), problem::frame))
        .layer(from_fn(panics::catch));
    // Around everything above: refusals and errors carry them too.
    headers::around(app)
        // Scripts, styles and JSON go compressed (a phone on a weak
        // connection); pages do not: a page holds the session's CSRF token
        // beside text an attacker may choose, which compression would let
        // them guess by the answer's size (BREACH).
        .layer(CompressionLayer::new().compress_when(DefaultPredicate::new().and(NotForContentType::new("text/html"))))
        .layer(PropagateRequestIdLayer::new(header.clone()))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &axum::http::Request<_>| {
                    let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
                })
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(SetRequestIdLayer::new(header, MakeRequestUuid))
        .with_state(state)
}
