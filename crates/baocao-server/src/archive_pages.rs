//! Legacy consultation: the archive packages of dissolved units, loaded
//! with `baocao archive load`, read-only. Who may see a package is who may
//! see the unit's reports on its last day (system-wide viewers only, when
//! this instance's registry does not know the unit).

use crate::params::Path;
use askama::Template;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use baocao_core::Registry;
use baocao_core::access::{Permission, Target};
use baocao_store::archive::Package;

use crate::access::Access;
use crate::error::ApiError;
use crate::pages::{Chrome, page_result};
use crate::state::AppState;

fn field<'a>(p: &'a Package, name: &str) -> Option<&'a str> {
    p.info.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn may_see(access: &Access, registry: &Registry, p: &Package) -> bool {
    let last_day = field(p, "Unit-Valid-To").and_then(|d| baocao_core::parse_date(d).ok()).and_then(|d| d.pred_opt());
    match last_day.and_then(|day| registry.in_force(&p.unit_code, day).map(|u| (u, day))) {
        Some((unit, day)) => access.can(registry, Permission::ViewReports, Target::Unit { unit, day, form: None }),
        None => access.can(registry, Permission::ViewReports, Target::System),
    }
}

/// A package's file as listed: path, checksum, size.
type FileRow = (String, String, String);

#[derive(Template)]
#[template(path = "archive.html")]
struct ArchivePage {
    chrome: Chrome,
    packages: Vec<Package>,
    /// One package's files (path, checksum, size), when one is open.
    open: Option<(Package, Vec<FileRow>)>,
}

/// The loaded packages the user may see.
pub async fn list(State(state): State<AppState>, access: Access) -> Response {
    let page = async {
        let registry = state.registry().await?;
        let packages = state.db.packages().await?.into_iter().filter(|p| may_see(&access, &registry, p)).collect();
        Ok::<_, ApiError>(ArchivePage { chrome: Chrome::new(&state, &access), packages, open: None })
    };
    page_result(page.await)
}

async fn visible(state: &AppState, access: &Access, id: i64) -> Result<Package, ApiError> {
    let registry = state.registry().await?;
    let package = state.db.package(id).await?;
    if may_see(access, &registry, &package) {
        Ok(package)
    } else {
        Err(ApiError {
            status: axum::http::StatusCode::FORBIDDEN,
            message: "không có quyền xem gói lưu trữ này".into(),
        })
    }
}

/// One package: what bag-info says, and its files.
pub async fn package(State(state): State<AppState>, access: Access, Path(id): Path<i64>) -> Response {
    let page = async {
        let package = visible(&state, &access, id).await?;
        let files = state
            .db
            .package_files(id)
            .await?
            .into_iter()
            .map(|(path, sha, size)| (path, sha, baocao_core::text::format_number(size as f64, 0)))
            .collect();
        Ok::<_, ApiError>(ArchivePage {
            chrome: Chrome::new(&state, &access),
            packages: Vec::new(),
            open: Some((package, files)),
        })
    };
    page_result(page.await)
}

/// A file of a package, as it was in the bag. Documents are shown
/// sandboxed: a bag loaded from elsewhere cannot run script here.
pub async fn file(State(state): State<AppState>, access: Access, Path((id, path)): Path<(i64, String)>) -> Response {
    let result = async {
        visible(&state, &access, id).await?;
        Ok::<_, ApiError>(state.db.package_file(id, &path).await?)
    };
    match result.await {
        Ok(content) => {
            let kind = match path.rsplit('.').next() {
                Some("html") => "text/html; charset=utf-8",
                Some("csv") => "text/csv; charset=utf-8",
                Some("json" | "jsonl") => "application/json",
                Some("xlsx") => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                Some("pdf") => "application/pdf",
                _ => "application/octet-stream",
            };
            (
                [
                    (header::CONTENT_TYPE, kind),
                    (header::CONTENT_SECURITY_POLICY, "sandbox; default-src 'none'; style-src 'unsafe-inline'"),
                ],
                content,
            )
                .into_response()
        }
        Err(e) => crate::pages::error_page(e),
    }
}
