//! Signs approved reports with the organisation's key (ký số): a worker
//! `serve` starts with `--signing-key`, which takes the reports waiting for
//! their signature one at a time, signs their canonical content (a CMS
//! detached signature, `baocao-signing`) and keeps both; and the two
//! downloads anyone who may read the report uses to check it
//! (`openssl cms -verify -binary -inform DER -in bao-cao.p7s -content
//! bao-cao.json -CAfile …`).

use std::sync::Arc;
use std::time::Duration as StdDuration;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use baocao_core::Period;
use baocao_core::access::{Permission, Target};
use baocao_signing::SigningKey;
use baocao_store::Db;
use chrono::Utc;
use serde::Deserialize;

use crate::access::{Access, unit_on};
use crate::error::ApiError;
use crate::params::Path;
use crate::state::AppState;

/// How often an idle worker looks for reports to sign.
const POLL: StdDuration = StdDuration::from_secs(2);

/// Starts the worker on the runtime.
pub fn spawn(db: Db, key: Arc<SigningKey>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match sign_next(&db, &key).await {
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

/// Signs the oldest report waiting; whether there was one.
async fn sign_next(db: &Db, key: &SigningKey) -> Result<bool, String> {
    let Some(unsigned) = db.unsigned_report().await.map_err(|e| e.to_string())? else { return Ok(false) };
    let Some(content) = unsigned.content else {
        db.record_signature(unsigned.id, None, Utc::now()).await.map_err(|e| e.to_string())?;
        return Ok(true);
    };
    let bytes = content.canonical();
    let signature = key.sign_detached(&bytes).map_err(|e| e.to_string())?;
    let signer = key.subject();
    db.record_signature(unsigned.id, Some((&bytes, &signature, &signer)), Utc::now())
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(regime = %content.regime, unit = %content.unit, period = %content.period, "report signed");
    Ok(true)
}

#[derive(Deserialize)]
pub struct SignedPath {
    regime: String,
    unit: String,
    period: String,
}

/// The signed content (`signed.json`) or its signature (`signed.p7s`) of
/// a report's last approval, to whoever may read the report.
async fn signed_part(
    state: &AppState,
    access: &Access,
    path: &SignedPath,
    signature: bool,
) -> Result<Response, ApiError> {
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
    let (body, kind, extension) = if signature {
        (found.signature.ok_or_else(not_signed)?, "application/pkcs7-signature", "p7s")
    } else {
        (found.content.ok_or_else(not_signed)?.into_bytes(), "application/json", "json")
    };
    let disposition = format!("attachment; filename=\"{name}.{extension}\"");
    Ok(([(header::CONTENT_TYPE, kind.to_string()), (header::CONTENT_DISPOSITION, disposition)], body).into_response())
}

pub async fn content(State(state): State<AppState>, access: Access, Path(path): Path<SignedPath>) -> Response {
    signed_part(&state, &access, &path, false).await.unwrap_or_else(crate::pages::error_page)
}

pub async fn signature(State(state): State<AppState>, access: Access, Path(path): Path<SignedPath>) -> Response {
    signed_part(&state, &access, &path, true).await.unwrap_or_else(crate::pages::error_page)
}
