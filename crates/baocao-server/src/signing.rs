//! Signs approved reports with the organisation's key (ký số): a worker
//! `serve` starts with `--signing-key`, which takes the reports waiting for
//! their signature one at a time, signs their canonical content (a CMS
//! detached signature, `baocao-signing`) and its printed PDF (a PAdES
//! signature inside), and keeps them; and the downloads anyone who may
//! read the report uses to check it: the PDF in any PDF reader or with
//! `pdfsig`, the JSON with `openssl cms -verify -binary -inform DER -in
//! bao-cao.p7s -content bao-cao.json -CAfile …`.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use baocao_core::access::{Permission, Target};
use baocao_core::workflow::Status;
use baocao_core::{Period, Registry};
use baocao_signing::SigningKey;
use baocao_store::Db;
use baocao_store::signatures::{Signed, SignedContent};
use chrono::Utc;
use serde::Deserialize;

use crate::access::{Access, unit_on};
use crate::error::ApiError;
use crate::params::Path;
use crate::state::AppState;

/// How often an idle worker looks for reports to sign.
const POLL: StdDuration = StdDuration::from_secs(2);

/// Starts the worker on the runtime. `demo` marks the printed PDFs as
/// made from the demo's data, as the printed page is.
pub fn spawn(db: Db, key: Arc<SigningKey>, demo: bool) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut registry = None;
        loop {
            match sign_next(&db, &key, demo, &mut registry).await {
                Ok(true) => {}
                Ok(false) => tokio::time::sleep(POLL).await,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot sign a report");
                    tokio::time::sleep(POLL).await;
                }
            }
        }
    })
}

/// The registry as last loaded, with its revision: loading it for each
/// report would cost more than signing.
type Cached = Option<(i64, Arc<Registry>)>;

/// Signs the oldest report waiting; whether there was one.
async fn sign_next(db: &Db, key: &Arc<SigningKey>, demo: bool, registry: &mut Cached) -> Result<bool, String> {
    let Some(unsigned) = db.unsigned_report().await.map_err(|e| e.to_string())? else { return Ok(false) };
    let Some(content) = unsigned.content else {
        db.record_signature(unsigned.id, None, Utc::now()).await.map_err(|e| e.to_string())?;
        return Ok(true);
    };
    let pdf = printed(db, &content, demo, registry).await?;
    let (signer, key, at) = (key.subject(), key.clone(), Utc::now());
    let reason = format!("Phê duyệt báo cáo {} kỳ {}", content.regime_name, content.period);
    let canonical = content.canonical();
    let bytes = canonical.clone();
    // Laying out and signing take CPU time: off the runtime's threads.
    let (signature, pdf) = tokio::task::spawn_blocking(move || {
        let signature = key.sign_detached(&bytes)?;
        let pdf = pdf.map(|pdf| baocao_signing::pdf::sign_pdf(&key, &pdf, &reason, at)).transpose()?;
        Ok::<_, baocao_signing::SigningError>((signature, pdf))
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| e.to_string())?;
    let signed = Signed { content: &canonical, signature: &signature, signer: &signer, pdf: pdf.as_deref() };
    db.record_signature(unsigned.id, Some(signed), at).await.map_err(|e| e.to_string())?;
    tracing::info!(regime = %content.regime, unit = %content.unit, period = %content.period, "report signed");
    Ok(true)
}

/// The approved report printed as a PDF ([`baocao_documents::report_pdf`]),
/// when the report still stands at the revision `content` signs; none when
/// it moved since (the JSON alone is then signed, as before PDFs were).
async fn printed(db: &Db, content: &SignedContent, demo: bool, cached: &mut Cached) -> Result<Option<Vec<u8>>, String> {
    let revision = db.registry_revision().await.map_err(|e| e.to_string())?;
    let registry = match cached {
        Some((at, registry)) if *at == revision => registry.clone(),
        _ => {
            let registry = Arc::new(db.load_registry().await.map_err(|e| e.to_string())?);
            *cached = Some((revision, registry.clone()));
            registry
        }
    };
    let period: Period = content.period.parse().map_err(|e: String| e)?;
    let view = db.report(&registry, &content.regime, &content.unit, &period).await.map_err(|e| e.to_string())?;
    let current = view.revisions.last().map(|r| r.seq) == Some(content.revision);
    if view.status != Status::Approved || !current {
        return Ok(None);
    }
    tokio::task::spawn_blocking(move || baocao_documents::report_pdf::render(view, demo))
        .await
        .map_err(|e| e.to_string())?
        .map(Some)
        .map_err(|e| e.to_string())
}

#[derive(Deserialize)]
pub struct SignedPath {
    regime: String,
    unit: String,
    period: String,
}

/// The three files of a signed report.
#[derive(Clone, Copy)]
enum Part {
    /// The canonical content (`signed.json`).
    Content,
    /// Its CMS signature (`signed.p7s`).
    Signature,
    /// The printed report with its signature inside (`signed.pdf`).
    Pdf,
}

/// A part of the signature of a report's last approval, to whoever may
/// read the report.
async fn signed_part(state: &AppState, access: &Access, path: &SignedPath, part: Part) -> Result<Response, ApiError> {
    let registry = state.registry().await?;
    let period: Period =
        path.period.parse().map_err(|e| ApiError::bad_request(format!("kỳ báo cáo «{}»: {e}", path.period)))?;
    let regime = state.db.regime(&path.regime).await?;
    let day = period.end();
    let unit = unit_on(&registry, &path.unit, day)?;
    access.require(&registry, Permission::ViewReports, Target::Unit { unit, day, form: Some(&regime.form) })?;
    let found = state.db.report_signature(&regime.code, &unit.code, &period.to_string()).await?;
    let not_signed = || ApiError::not_found("Báo cáo chưa được ký số (chưa phê duyệt, hoặc đang chờ ký).");
    let found = found.filter(|s| s.state == "signed").ok_or_else(not_signed)?;
    let name =
        baocao_core::table::file_name(&format!("{}-{}-{}-ban-{}", regime.code, unit.code, period, found.revision));
    let (body, kind, extension) = match part {
        Part::Signature => (found.signature.ok_or_else(not_signed)?, "application/pkcs7-signature", "p7s"),
        Part::Content => (found.content.ok_or_else(not_signed)?.into_bytes(), "application/json", "json"),
        Part::Pdf => {
            let pdf = state.db.report_signed_pdf(&regime.code, &unit.code, &period.to_string()).await?;
            let missing = || ApiError::not_found("Báo cáo này được ký trước khi có bản PDF ký số: chỉ có bản JSON.");
            (pdf.ok_or_else(missing)?, "application/pdf", "pdf")
        }
    };
    let disposition = format!("attachment; filename=\"{name}.{extension}\"");
    Ok(([(header::CONTENT_TYPE, kind.to_string()), (header::CONTENT_DISPOSITION, disposition)], body).into_response())
}

pub async fn content(State(state): State<AppState>, access: Access, Path(path): Path<SignedPath>) -> Response {
    signed_part(&state, &access, &path, Part::Content).await.unwrap_or_else(crate::pages::error_page)
}

pub async fn signature(State(state): State<AppState>, access: Access, Path(path): Path<SignedPath>) -> Response {
    signed_part(&state, &access, &path, Part::Signature).await.unwrap_or_else(crate::pages::error_page)
}

pub async fn pdf(State(state): State<AppState>, access: Access, Path(path): Path<SignedPath>) -> Response {
    signed_part(&state, &access, &path, Part::Pdf).await.unwrap_or_else(crate::pages::error_page)
}
