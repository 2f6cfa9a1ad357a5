//! SCIM 2.0 (RFC 7643/7644) over the reporting system's accounts, so that
//! identity providers and other shared systems can stay in step with them.
//!
//! Users are accounts (`id` is the account's number, `userName` its
//! username); Groups are the roles, each listing the accounts that hold a
//! grant of it today (read-only: grants carry units and dates that SCIM
//! cannot express, so they are given in baocao). Accounts are never deleted:
//! `DELETE` and `active: false` close them. Every call needs the permission
//! to manage accounts over the whole system (an API token).

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use baocao_core::access::{Permission, Role, Target};
use baocao_core::today_in_vietnam;
use baocao_store::accounts::AccountSummary;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::access::Access;
use crate::error::ApiError;
use crate::state::AppState;

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const LIST: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// A SCIM answer: `application/scim+json`.
fn scim(status: StatusCode, body: Value) -> Response {
    (status, [(header::CONTENT_TYPE, "application/scim+json")], body.to_string()).into_response()
}

/// A SCIM error (RFC 7644 §3.12).
pub struct ScimError {
    status: StatusCode,
    scim_type: Option<&'static str>,
    detail: String,
}

fn error(status: StatusCode, scim_type: Option<&'static str>, detail: impl Into<String>) -> ScimError {
    ScimError { status, scim_type, detail: detail.into() }
}

impl IntoResponse for ScimError {
    fn into_response(self) -> Response {
        let mut body = json!({ "schemas": [ERROR], "status": self.status.as_u16().to_string(), "detail": self.detail });
        if let Some(t) = self.scim_type {
            body["scimType"] = json!(t);
        }
        scim(self.status, body)
    }
}

impl From<ApiError> for ScimError {
    fn from(e: ApiError) -> Self {
        error(e.status, None, e.message)
    }
}

impl From<baocao_store::StoreError> for ScimError {
    fn from(e: baocao_store::StoreError) -> Self {
        match e {
            baocao_store::StoreError::Conflict(m) => error(StatusCode::CONFLICT, Some("uniqueness"), m),
            other => ApiError::from(other).into(),
        }
    }
}

type Answer = Result<Response, ScimError>;

async fn require(state: &AppState, access: &Access) -> Result<(), ScimError> {
    let registry = state.registry().await?;
    Ok(access.require(&registry, Permission::ManageAccounts, Target::System)?)
}

fn user(a: &AccountSummary) -> Value {
    let mut u = json!({
        "schemas": [USER],
        "id": a.id.to_string(),
        "userName": a.username,
        "displayName": a.display_name,
        "name": { "formatted": a.display_name },
        "active": a.active,
        "meta": { "resourceType": "User", "location": format!("/scim/v2/Users/{}", a.id) },
    });
    if a.username.contains('@') {
        u["emails"] = json!([{ "value": a.username, "type": "work", "primary": true }]);
    }
    u
}

/// A filter of the forms `ATTR eq "VALUE"`, `ATTR co "VALUE"`, `ATTR sw
/// "VALUE"` or `active eq true|false`, on userName, displayName or active.
fn matches(filter: &str, a: &AccountSummary) -> Result<bool, String> {
    let mut parts = filter.trim().splitn(3, ' ');
    let (Some(attr), Some(op), Some(value)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(format!("«{filter}»: expected ATTRIBUTE OPERATOR VALUE"));
    };
    let text = value.trim().trim_matches('"');
    let field = match attr.to_ascii_lowercase().as_str() {
        "username" => a.username.to_lowercase(),
        "displayname" | "name.formatted" => a.display_name.to_lowercase(),
        "active" => a.active.to_string(),
        "id" => a.id.to_string(),
        other => return Err(format!("filtering on «{other}» is not supported (userName, displayName, active, id)")),
    };
    let text = text.to_lowercase();
    match op.to_ascii_lowercase().as_str() {
        "eq" => Ok(field == text),
        "co" => Ok(field.contains(&text)),
        "sw" => Ok(field.starts_with(&text)),
        other => Err(format!("operator «{other}» is not supported (eq, co, sw)")),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    filter: Option<String>,
    start_index: Option<usize>,
    count: Option<usize>,
}

fn list(resources: Vec<Value>, q: &ListQuery) -> Response {
    let total = resources.len();
    let start = q.start_index.unwrap_or(1).max(1);
    let count = q.count.unwrap_or(100).min(1000);
    let page: Vec<Value> = resources.into_iter().skip(start - 1).take(count).collect();
    scim(
        StatusCode::OK,
        json!({ "schemas": [LIST], "totalResults": total, "startIndex": start, "itemsPerPage": page.len(), "Resources": page }),
    )
}

pub async fn users(State(state): State<AppState>, access: Access, Query(q): Query<ListQuery>) -> Answer {
    require(&state, &access).await?;
    let mut found = Vec::new();
    for a in &state.db.accounts().await? {
        let keep = q.filter.as_deref().map_or(Ok(true), |f| matches(f, a));
        if keep.map_err(|e| error(StatusCode::BAD_REQUEST, Some("invalidFilter"), e))? {
            found.push(user(a));
        }
    }
    Ok(list(found, &q))
}

async fn account(state: &AppState, id: &str) -> Result<AccountSummary, ScimError> {
    let accounts = state.db.accounts().await?;
    accounts
        .into_iter()
        .find(|a| a.id.to_string() == id)
        .ok_or_else(|| error(StatusCode::NOT_FOUND, None, format!("no user {id}")))
}

pub async fn user_by_id(State(state): State<AppState>, access: Access, Path(id): Path<String>) -> Answer {
    require(&state, &access).await?;
    Ok(scim(StatusCode::OK, user(&account(&state, &id).await?)))
}

fn body_json(body: &Bytes) -> Result<Value, ScimError> {
    serde_json::from_slice(body).map_err(|e| error(StatusCode::BAD_REQUEST, Some("invalidSyntax"), e.to_string()))
}

pub async fn create_user(State(state): State<AppState>, access: Access, body: Bytes) -> Answer {
    require(&state, &access).await?;
    let body = body_json(&body)?;
    let Some(username) = body["userName"].as_str().map(str::trim).filter(|u| !u.is_empty()) else {
        return Err(error(StatusCode::BAD_REQUEST, Some("invalidValue"), "userName is required"));
    };
    let display = body["displayName"].as_str().or_else(|| body["name"]["formatted"].as_str()).unwrap_or(username);
    state.db.create_account(access.username(), username, display, None).await?;
    if body["active"] == json!(false) {
        state.db.set_active(access.username(), username, false).await?;
    }
    let accounts = state.db.accounts().await?;
    let created = accounts.iter().find(|a| a.username == username);
    let created = created.ok_or_else(|| error(StatusCode::INTERNAL_SERVER_ERROR, None, "created but not found"))?;
    Ok(scim(StatusCode::CREATED, user(created)))
}

/// Applies PATCH operations (RFC 7644 §3.5.2): `replace` (or `add`) of
/// `active` and `displayName`, with or without a path.
pub async fn patch_user(State(state): State<AppState>, access: Access, Path(id): Path<String>, body: Bytes) -> Answer {
    require(&state, &access).await?;
    let body = body_json(&body)?;
    if !body["schemas"].as_array().is_some_and(|s| s.iter().any(|x| x == PATCH_OP)) {
        return Err(error(StatusCode::BAD_REQUEST, Some("invalidSyntax"), format!("schemas must include {PATCH_OP}")));
    }
    let a = account(&state, &id).await?;
    let Some(ops) = body["Operations"].as_array() else {
        return Err(error(StatusCode::BAD_REQUEST, Some("invalidSyntax"), "Operations is required"));
    };
    for op in ops {
        let verb = op["op"].as_str().unwrap_or("").to_ascii_lowercase();
        if verb != "replace" && verb != "add" {
            let detail = format!("op «{verb}» is not supported (replace, add)");
            return Err(error(StatusCode::BAD_REQUEST, Some("invalidSyntax"), detail));
        }
        let changes: Vec<(String, Value)> = match op["path"].as_str() {
            Some(path) => vec![(path.to_string(), op["value"].clone())],
            None => op["value"]
                .as_object()
                .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default(),
        };
        for (path, value) in changes {
            match (path.to_ascii_lowercase().as_str(), &value) {
                ("active", Value::Bool(active)) => state.db.set_active(access.username(), &a.username, *active).await?,
                ("displayname" | "name.formatted", Value::String(name)) => {
                    state.db.rename_account(access.username(), &a.username, name).await?
                }
                _ => {
                    let detail = format!("«{path}» cannot be changed here (active, displayName)");
                    return Err(error(StatusCode::BAD_REQUEST, Some("invalidPath"), detail));
                }
            }
        }
    }
    Ok(scim(StatusCode::OK, user(&account(&state, &id).await?)))
}

/// Accounts are never deleted (the audit log names them): DELETE closes.
pub async fn delete_user(State(state): State<AppState>, access: Access, Path(id): Path<String>) -> Answer {
    require(&state, &access).await?;
    let a = account(&state, &id).await?;
    state.db.set_active(access.username(), &a.username, false).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn groups(State(state): State<AppState>, access: Access, Query(q): Query<ListQuery>) -> Answer {
    require(&state, &access).await?;
    let accounts = state.db.accounts().await?;
    let today = today_in_vietnam();
    let groups: Vec<Value> = Role::ALL
        .iter()
        .map(|role| {
            let members: Vec<Value> = accounts
                .iter()
                .filter(|a| a.active && a.grants.iter().any(|g| g.grant.role == *role && g.grant.validity.contains(today)))
                .map(|a| json!({ "value": a.id.to_string(), "display": a.display_name, "$ref": format!("/scim/v2/Users/{}", a.id) }))
                .collect();
            json!({
                "schemas": [GROUP],
                "id": role.as_str(),
                "displayName": role.vietnamese(),
                "members": members,
                "meta": { "resourceType": "Group", "location": format!("/scim/v2/Groups/{}", role.as_str()) },
            })
        })
        .filter(|g| q.filter.as_deref().is_none_or(|f| f.contains(g["id"].as_str().unwrap_or("")) || f.contains(g["displayName"].as_str().unwrap_or(""))))
        .collect();
    Ok(list(groups, &q))
}

pub async fn service_provider_config() -> Response {
    scim(
        StatusCode::OK,
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
            "patch": { "supported": true },
            "bulk": { "supported": false, "maxOperations": 0, "maxPayloadSize": 0 },
            "filter": { "supported": true, "maxResults": 1000 },
            "changePassword": { "supported": false },
            "sort": { "supported": false },
            "etag": { "supported": false },
            "authenticationSchemes": [{ "type": "oauthbearertoken", "name": "API token", "description": "Authorization: Bearer TOKEN (baocao tokens create)" }],
        }),
    )
}

pub async fn resource_types() -> Response {
    let types = json!([
        { "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"], "id": "User", "name": "User", "endpoint": "/Users", "schema": USER },
        { "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"], "id": "Group", "name": "Group", "endpoint": "/Groups", "schema": GROUP },
    ]);
    scim(
        StatusCode::OK,
        json!({ "schemas": [LIST], "totalResults": 2, "startIndex": 1, "itemsPerPage": 2, "Resources": types }),
    )
}

pub async fn schemas() -> Response {
    let schemas = json!([{ "id": USER, "name": "User" }, { "id": GROUP, "name": "Group" }]);
    scim(
        StatusCode::OK,
        json!({ "schemas": [LIST], "totalResults": 2, "startIndex": 1, "itemsPerPage": 2, "Resources": schemas }),
    )
}
