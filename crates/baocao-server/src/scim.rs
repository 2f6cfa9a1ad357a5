//! SCIM 2.0 (RFC 7643/7644) over the reporting system's accounts, so that
//! identity providers and other shared systems can stay in step with them.
//!
//! Users are accounts (`id` is the account's number, `userName` its
//! username); Groups are the roles, each listing the accounts that hold a
//! grant of it today (read-only: grants carry units and dates that SCIM
//! cannot express, so they are given in baocao). Accounts are never deleted:
//! `active: false` closes one, `DELETE` closes it and withdraws it from
//! SCIM. Every call needs the permission to manage accounts over the whole
//! system (an API token). Conformance is checked with scim2-tester
//! (`e2e/scim/`).

use crate::params::{Path, Query};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use baocao_core::access::{Permission, Role, Target};
use baocao_core::today_in_vietnam;
use baocao_store::accounts::AccountSummary;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::access::Access;
use crate::body::Upload;
use crate::respond::{ScimError, scim, scim_error as error};
use crate::state::AppState;

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const LIST: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

type Answer = Result<Response, ScimError>;

async fn require(state: &AppState, access: &Access) -> Result<(), ScimError> {
    let registry = state.registry().await?;
    Ok(access.require(&registry, Permission::ManageAccounts, Target::System)?)
}

/// An account as a SCIM User. An account always has a display name; one
/// that is only its username is shown as no display name, which is what
/// removing it (PATCH `remove`, or PUT without it) leaves.
fn user(a: &AccountSummary) -> Value {
    let mut u = json!({
        "schemas": [USER],
        "id": a.id.to_string(),
        "userName": a.username,
        "active": a.active,
        "meta": { "resourceType": "User", "location": format!("/scim/v2/Users/{}", a.id) },
    });
    if a.display_name != a.username {
        u["displayName"] = json!(a.display_name);
    }
    if let Some(external) = &a.external_id {
        u["externalId"] = json!(external);
    }
    if a.username.contains('@') {
        u["emails"] = json!([{ "value": a.username, "type": "work", "primary": true }]);
    }
    u
}

/// The attributes of a resource asked for (`attributes`) or not
/// (`excludedAttributes`), RFC 7644 §3.4.2.5; `schemas`, `id` and `meta`
/// are always returned. Names may carry the schema URN.
fn project(mut resource: Value, attributes: Option<&str>, excluded: Option<&str>) -> Value {
    let names = |list: &str| -> Vec<String> {
        list.split(',')
            .map(|n| {
                let n = n.trim();
                let n = n.strip_prefix(USER).or_else(|| n.strip_prefix(GROUP)).map_or(n, |r| r.trim_start_matches(':'));
                n.split('.').next().unwrap_or(n).to_ascii_lowercase()
            })
            .filter(|n| !n.is_empty())
            .collect()
    };
    let Some(object) = resource.as_object_mut() else { return resource };
    let always = |k: &str| matches!(k, "schemas" | "id" | "meta");
    if let Some(wanted) = attributes.map(names).filter(|w| !w.is_empty()) {
        object.retain(|k, _| always(k) || wanted.contains(&k.to_ascii_lowercase()));
    } else if let Some(unwanted) = excluded.map(names) {
        object.retain(|k, _| always(k) || !unwanted.contains(&k.to_ascii_lowercase()));
    }
    resource
}

/// The resources that pass the query's filter, if it has one: the filter
/// sees each resource as it is answered.
fn filtered(resources: Vec<Value>, q: &ListQuery, known: &[&str]) -> Result<Vec<Value>, ScimError> {
    let invalid = |e: String| error(StatusCode::BAD_REQUEST, Some("invalidFilter"), e);
    let Some(text) = q.filter.as_deref().filter(|f| !f.trim().is_empty()) else { return Ok(resources) };
    let filter = crate::scim_filter::parse(text).map_err(invalid)?;
    for name in crate::scim_filter::attributes(&filter) {
        if !known.iter().any(|k| k.eq_ignore_ascii_case(&name)) {
            return Err(invalid(format!("filtering on «{name}» is not supported ({})", known.join(", "))));
        }
    }
    let mut kept = Vec::new();
    for resource in resources {
        if crate::scim_filter::matches(&filter, &resource).map_err(invalid)? {
            kept.push(resource);
        }
    }
    Ok(kept)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    filter: Option<String>,
    start_index: Option<usize>,
    count: Option<usize>,
    attributes: Option<String>,
    excluded_attributes: Option<String>,
}

/// `attributes` and `excludedAttributes` of a query on one resource.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Projection {
    attributes: Option<String>,
    excluded_attributes: Option<String>,
}

fn list(resources: Vec<Value>, q: &ListQuery) -> Response {
    let total = resources.len();
    let start = q.start_index.unwrap_or(1).max(1);
    let count = q.count.unwrap_or(100).min(1000);
    let page: Vec<Value> = resources
        .into_iter()
        .skip(start - 1)
        .take(count)
        .map(|r| project(r, q.attributes.as_deref(), q.excluded_attributes.as_deref()))
        .collect();
    scim(
        StatusCode::OK,
        json!({ "schemas": [LIST], "totalResults": total, "startIndex": start, "itemsPerPage": page.len(), "Resources": page }),
    )
}

pub async fn users(State(state): State<AppState>, access: Access, Query(q): Query<ListQuery>) -> Answer {
    require(&state, &access).await?;
    list_users(&state, &q).await
}

/// `POST /Users/.search` (RFC 7644 §3.4.3): the query in the body.
pub async fn search_users(State(state): State<AppState>, access: Access, Upload(body): Upload) -> Answer {
    require(&state, &access).await?;
    let body = body_json(&body)?;
    let joined = |key: &str| match &body[key] {
        Value::Array(items) => Some(items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(",")),
        Value::String(text) => Some(text.clone()),
        _ => None,
    };
    let q = ListQuery {
        filter: body["filter"].as_str().map(str::to_string),
        start_index: body["startIndex"].as_u64().and_then(|n| usize::try_from(n).ok()),
        count: body["count"].as_u64().and_then(|n| usize::try_from(n).ok()),
        attributes: joined("attributes"),
        excluded_attributes: joined("excludedAttributes"),
    };
    list_users(&state, &q).await
}

async fn list_users(state: &AppState, q: &ListQuery) -> Answer {
    let users = state.db.accounts().await?.iter().filter(|a| !a.withdrawn).map(user).collect();
    Ok(list(filtered(users, q, &["id", "externalId", "meta", "userName", "displayName", "active", "emails"])?, q))
}

async fn account(state: &AppState, id: &str) -> Result<AccountSummary, ScimError> {
    let accounts = state.db.accounts().await?;
    accounts
        .into_iter()
        .find(|a| a.id.to_string() == id && !a.withdrawn)
        .ok_or_else(|| error(StatusCode::NOT_FOUND, None, format!("no user {id}")))
}

pub async fn user_by_id(
    State(state): State<AppState>,
    access: Access,
    Path(id): Path<String>,
    Query(p): Query<Projection>,
) -> Answer {
    require(&state, &access).await?;
    let u = user(&account(&state, &id).await?);
    Ok(scim(StatusCode::OK, project(u, p.attributes.as_deref(), p.excluded_attributes.as_deref())))
}

/// Replaces a user (RFC 7644 §3.5.1): `userName` cannot change; a missing
/// `displayName` or `externalId` is removed; `active` is kept when not given.
pub async fn replace_user(
    State(state): State<AppState>,
    access: Access,
    Path(id): Path<String>,
    Upload(body): Upload,
) -> Answer {
    require(&state, &access).await?;
    let body = body_json(&body)?;
    let a = account(&state, &id).await?;
    if let Some(name) = body["userName"].as_str()
        && !name.trim().eq_ignore_ascii_case(&a.username)
    {
        let detail = format!("userName is immutable: «{name}» is not «{}»", a.username);
        return Err(error(StatusCode::BAD_REQUEST, Some("mutability"), detail));
    }
    let display = body["displayName"].as_str().map(str::trim).filter(|d| !d.is_empty()).unwrap_or(&a.username);
    if display != a.display_name {
        state.db.rename_account(access.username(), &a.username, display).await?;
    }
    if let Some(active) = body["active"].as_bool()
        && active != a.active
    {
        state.db.set_active(access.username(), &a.username, active).await?;
    }
    let external = body["externalId"].as_str();
    if external != a.external_id.as_deref() {
        state.db.set_external_id(access.username(), &a.username, external).await?;
    }
    Ok(scim(StatusCode::OK, user(&account(&state, &id).await?)))
}

fn body_json(body: &Bytes) -> Result<Value, ScimError> {
    serde_json::from_slice(body).map_err(|e| error(StatusCode::BAD_REQUEST, Some("invalidSyntax"), e.to_string()))
}

pub async fn create_user(State(state): State<AppState>, access: Access, Upload(body): Upload) -> Answer {
    require(&state, &access).await?;
    let body = body_json(&body)?;
    let Some(username) = body["userName"].as_str().map(str::trim).filter(|u| !u.is_empty()) else {
        return Err(error(StatusCode::BAD_REQUEST, Some("invalidValue"), "userName is required"));
    };
    // Some identity providers send only the formatted name.
    let display = [&body["displayName"], &body["name"]["formatted"]]
        .into_iter()
        .filter_map(Value::as_str)
        .map(str::trim)
        .find(|d| !d.is_empty())
        .unwrap_or(username);
    // An official's address as username: the account is mailed its
    // activation link; otherwise it waits for an administrator.
    if username.contains('@') {
        state.db.invite_account(access.username(), username, display, username).await?;
    } else {
        state.db.create_account(access.username(), username, display, None).await?;
    }
    if let Some(external) = body["externalId"].as_str() {
        state.db.set_external_id(access.username(), username, Some(external)).await?;
    }
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
pub async fn patch_user(
    State(state): State<AppState>,
    access: Access,
    Path(id): Path<String>,
    Upload(body): Upload,
) -> Answer {
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
        if verb == "remove" {
            match op["path"].as_str().map(|p| p.trim().to_ascii_lowercase()).as_deref() {
                Some("displayname") | Some("urn:ietf:params:scim:schemas:core:2.0:user:displayname") => {
                    state.db.rename_account(access.username(), &a.username, &a.username).await?
                }
                Some("externalid") => state.db.set_external_id(access.username(), &a.username, None).await?,
                Some(path) => {
                    let detail = format!("«{path}» cannot be removed (displayName and externalId can)");
                    return Err(error(StatusCode::BAD_REQUEST, Some("mutability"), detail));
                }
                None => return Err(error(StatusCode::BAD_REQUEST, Some("noTarget"), "remove needs a path")),
            }
            continue;
        }
        if verb != "replace" && verb != "add" {
            let detail = format!("op «{verb}» is not supported (add, replace, remove)");
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
            let path = path.trim().to_ascii_lowercase();
            let path = path.strip_prefix("urn:ietf:params:scim:schemas:core:2.0:user:").unwrap_or(&path);
            match (path, &value) {
                ("active", Value::Bool(active)) => state.db.set_active(access.username(), &a.username, *active).await?,
                ("displayname", Value::String(name)) => {
                    state.db.rename_account(access.username(), &a.username, name).await?
                }
                ("externalid", Value::String(external)) => {
                    state.db.set_external_id(access.username(), &a.username, Some(external)).await?
                }
                _ => {
                    let detail = format!("«{path}» cannot be changed here (active, displayName, externalId)");
                    return Err(error(StatusCode::BAD_REQUEST, Some("invalidPath"), detail));
                }
            }
        }
    }
    Ok(scim(StatusCode::OK, user(&account(&state, &id).await?)))
}

/// Accounts are never deleted (the audit log and reports name them):
/// DELETE closes the account and withdraws it from SCIM, which then knows
/// it no more (RFC 7644 §3.6); `baocao users open` brings it back.
pub async fn delete_user(State(state): State<AppState>, access: Access, Path(id): Path<String>) -> Answer {
    require(&state, &access).await?;
    let a = account(&state, &id).await?;
    state.db.withdraw_account(access.username(), &a.username).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The roles as SCIM Groups, each with the accounts holding it today.
async fn all_groups(state: &AppState) -> Result<Vec<Value>, ScimError> {
    let accounts = state.db.accounts().await?;
    let today = today_in_vietnam();
    Ok(Role::ALL
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
        .collect())
}

pub async fn groups(State(state): State<AppState>, access: Access, Query(q): Query<ListQuery>) -> Answer {
    require(&state, &access).await?;
    Ok(list(filtered(all_groups(&state).await?, &q, &["id", "meta", "displayName", "members"])?, &q))
}

pub async fn group_by_id(
    State(state): State<AppState>,
    access: Access,
    Path(id): Path<String>,
    Query(p): Query<Projection>,
) -> Answer {
    require(&state, &access).await?;
    let group = all_groups(&state).await?.into_iter().find(|g| g["id"] == id.as_str());
    let group = group.ok_or_else(|| error(StatusCode::NOT_FOUND, None, format!("no group {id}")))?;
    Ok(scim(StatusCode::OK, project(group, p.attributes.as_deref(), p.excluded_attributes.as_deref())))
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
            "meta": { "resourceType": "ServiceProviderConfig", "location": "/scim/v2/ServiceProviderConfig" },
        }),
    )
}

const RESOURCE_TYPE: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
const SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

fn resource_type_list() -> Vec<Value> {
    [("User", "/Users", USER, "Tài khoản của hệ thống báo cáo"), ("Group", "/Groups", GROUP, "Vai trò (chỉ đọc)")]
        .into_iter()
        .map(|(id, endpoint, schema, description)| {
            json!({ "schemas": [RESOURCE_TYPE], "id": id, "name": id, "endpoint": endpoint, "schema": schema,
                "description": description, "meta": { "resourceType": "ResourceType", "location": format!("/scim/v2/ResourceTypes/{id}") } })
        })
        .collect()
}

/// An attribute definition (RFC 7643 §7).
fn attribute(name: &str, kind: &str, required: bool, mutability: &str, description: &str) -> Value {
    json!({ "name": name, "type": kind, "multiValued": false, "required": required, "caseExact": false,
        "mutability": mutability, "returned": "default", "uniqueness": "none", "description": description })
}

/// What the service keeps, declared exactly: clients build their requests
/// from it, so nothing is declared that the service would drop.
fn schema_list() -> Vec<Value> {
    let mut user_name = attribute("userName", "string", true, "immutable", "Tên đăng nhập (thường là email công vụ)");
    user_name["uniqueness"] = json!("server");
    let mut emails = attribute("emails", "complex", false, "readOnly", "Email công vụ, suy ra từ tên đăng nhập");
    emails["multiValued"] = json!(true);
    emails["subAttributes"] = json!([
        attribute("value", "string", false, "readOnly", "Địa chỉ"),
        attribute("type", "string", false, "readOnly", "work"),
        attribute("primary", "boolean", false, "readOnly", "Địa chỉ chính"),
    ]);
    let user = json!([
        user_name,
        attribute("displayName", "string", false, "readWrite", "Họ tên hiển thị"),
        // Every account is open or closed: there is no account without it.
        attribute("active", "boolean", true, "readWrite", "Còn hoạt động; false là đã khóa"),
        emails,
    ]);
    let mut members = attribute("members", "complex", false, "readOnly", "Tài khoản có vai trò này hôm nay");
    members["multiValued"] = json!(true);
    let mut reference = attribute("$ref", "reference", false, "readOnly", "Đường dẫn tới tài khoản");
    reference["referenceTypes"] = json!(["User"]);
    members["subAttributes"] = json!([
        attribute("value", "string", false, "readOnly", "Mã tài khoản"),
        reference,
        attribute("display", "string", false, "readOnly", "Họ tên"),
    ]);
    let group = json!([attribute("displayName", "string", true, "readOnly", "Tên vai trò"), members]);
    [(USER, "User", "Tài khoản", user), (GROUP, "Group", "Vai trò", group)]
        .into_iter()
        .map(|(id, name, description, attributes)| {
            json!({ "schemas": [SCHEMA], "id": id, "name": name, "description": description, "attributes": attributes,
                "meta": { "resourceType": "Schema", "location": format!("/scim/v2/Schemas/{id}") } })
        })
        .collect()
}

fn all_of(resources: Vec<Value>) -> Response {
    let n = resources.len();
    scim(
        StatusCode::OK,
        json!({ "schemas": [LIST], "totalResults": n, "startIndex": 1, "itemsPerPage": n, "Resources": resources }),
    )
}

fn one_of(resources: Vec<Value>, id: &str, what: &str) -> Answer {
    let found = resources.into_iter().find(|r| r["id"] == id);
    found
        .map(|r| scim(StatusCode::OK, r))
        .ok_or_else(|| error(StatusCode::NOT_FOUND, None, format!("no {what} «{id}»")))
}

/// `POST /.search` over every resource type at once is not offered: search
/// `/Users/.search` (RFC 7644 §3.4.3 lets a service decline with 501).
pub async fn search_all(State(state): State<AppState>, access: Access) -> Answer {
    require(&state, &access).await?;
    let detail = "searching several resource types at once is not supported; use /Users/.search";
    Err(error(StatusCode::NOT_IMPLEMENTED, None, detail))
}

pub async fn resource_types() -> Response {
    all_of(resource_type_list())
}

pub async fn resource_type(Path(id): Path<String>) -> Answer {
    one_of(resource_type_list(), &id, "resource type")
}

pub async fn schemas() -> Response {
    all_of(schema_list())
}

pub async fn schema(Path(id): Path<String>) -> Answer {
    one_of(schema_list(), &id, "schema")
}
