//! Requests for ad-hoc and thematic reports (đề nghị báo cáo đột xuất,
//! chuyên đề) through the REST API: the same checks and answers as the
//! page «Đề nghị báo cáo» (`work::requests`), which both call. A request's
//! reports and completeness are the reports API's, under its code.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::access::Access;
use crate::error::ApiError;
use crate::params::{JsonBody, Path};
use crate::state::AppState;
use crate::work::requests::{Listed, NewRequest, close_now, extend_to, listed, send_new};

/// A request as the asker sees it.
#[derive(Serialize, ToSchema)]
pub struct RequestInfo {
    /// DX-2026-001 (đột xuất) or CD-2026-001 (chuyên đề): the regime code
    /// its reports and completeness are asked under.
    code: String,
    /// `ad_hoc` or `thematic`.
    kind: &'static str,
    name: String,
    form: String,
    /// The one period asked for (DHIS2 period string).
    period: String,
    deadline: NaiveDate,
    /// The first deadline, once extended.
    extended_from: Option<NaiveDate>,
    legal_basis: String,
    sent_on: NaiveDate,
    closed_on: Option<NaiveDate>,
    /// Recipients the asker may see, and how many of them sent.
    recipients: usize,
    sent: usize,
}

impl From<Listed> for RequestInfo {
    fn from(l: Listed) -> Self {
        RequestInfo {
            code: l.regime.code,
            kind: l.request.kind.as_str(),
            name: l.regime.name,
            form: l.regime.form,
            period: l.request.period.to_string(),
            deadline: l.request.deadline,
            extended_from: l.request.extended_from,
            legal_basis: l.request.legal_basis,
            sent_on: l.request.sent_on,
            closed_on: l.request.closed_on,
            recipients: l.total,
            sent: l.sent,
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct ExtendBody {
    /// The new deadline, later than the current one.
    deadline: String,
}

/// The request `code` as the asker sees it now.
async fn shown(state: &AppState, access: &Access, code: &str) -> Result<RequestInfo, ApiError> {
    listed(state, access, Some(code))
        .await?
        .into_iter()
        .find(|l| l.regime.code == code)
        .map(RequestInfo::from)
        .ok_or_else(|| ApiError::not_found(format!("Không có đề nghị báo cáo «{code}».")))
}

/// Requests whose recipients the asker sees some of, newest first.
#[utoipa::path(get, path = "/api/v1/requests", responses((status = 200, description = "requests, newest first", body = [RequestInfo])))]
pub async fn list(State(state): State<AppState>, access: Access) -> Result<Json<Vec<RequestInfo>>, ApiError> {
    Ok(Json(listed(&state, &access, None).await?.into_iter().map(RequestInfo::from).collect()))
}

/// Sends a request to units the asker may send to.
#[utoipa::path(post, path = "/api/v1/requests", request_body = NewRequest,
    responses((status = 201, description = "the request as sent, with its code", body = RequestInfo),
        (status = 409, description = "another regime asks the same figures of a recipient, or the code was taken meanwhile")))]
pub async fn send(
    State(state): State<AppState>,
    access: Access,
    JsonBody(request): JsonBody<NewRequest>,
) -> Result<(StatusCode, Json<RequestInfo>), ApiError> {
    let code = send_new(&state, &access, request).await?;
    Ok((StatusCode::CREATED, Json(shown(&state, &access, &code).await?)))
}

/// Moves a request's deadline later (the first one is kept).
#[utoipa::path(post, path = "/api/v1/requests/{code}/extend", params(("code" = String, Path, description = "the request's code")),
    request_body = ExtendBody, responses((status = 200, description = "the request extended", body = RequestInfo)))]
pub async fn extend(
    State(state): State<AppState>,
    access: Access,
    Path(code): Path<String>,
    JsonBody(b): JsonBody<ExtendBody>,
) -> Result<Json<RequestInfo>, ApiError> {
    extend_to(&state, &access, &code, &b.deadline).await?;
    Ok(Json(shown(&state, &access, &code).await?))
}

/// Ends a request: it takes no more figures, though what was sent may
/// still be approved.
#[utoipa::path(post, path = "/api/v1/requests/{code}/close", params(("code" = String, Path, description = "the request's code")),
    responses((status = 200, description = "the request closed", body = RequestInfo)))]
pub async fn close(
    State(state): State<AppState>,
    access: Access,
    Path(code): Path<String>,
) -> Result<Json<RequestInfo>, ApiError> {
    close_now(&state, &access, &code).await?;
    Ok(Json(shown(&state, &access, &code).await?))
}
