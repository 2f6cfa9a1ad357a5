//! The OpenAPI document of `/api/v1`: every operation of the API modules,
//! each with its access rule (`x-baocao-access`) and the refusals it can
//! answer. Above the API modules: none of them depends on it.

use axum::Json;
use axum::extract::State;
use axum::http::Method;
use utoipa::OpenApi;

use crate::rules::{RouteRule, Rule};
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "baocao API", description = "Hệ thống thông tin báo cáo: registry of administrative units in time."),
    paths(
        crate::api::healthz,
        crate::api::readyz,
        crate::api::units,
        crate::api::unit,
        crate::api::lineage,
        crate::api::map,
        crate::api::search,
        crate::data_api::indicators,
        crate::data_api::periods,
        crate::data_api::import,
        crate::data_api::export,
        crate::data_api::import_registrations,
        crate::data_api::registrations,
        crate::data_api::value,
        crate::data_api::table,
        crate::origin::origin_api,
        crate::verify::verify_api,
        crate::reports_api::show,
        crate::offline::due,
        crate::offline::session,
        crate::reports_api::act,
        crate::reports_api::completeness,
        crate::reports_api::download,
        crate::reports_api::upload,
        crate::reports_api::output,
        crate::requests_api::list,
        crate::requests_api::send,
        crate::requests_api::extend,
        crate::requests_api::close,
        crate::admin::accounts_api,
        crate::audit::audit_api,
        crate::directory_api::import,
        crate::directory_api::agencies,
        crate::directory_api::agency,
        crate::directory_api::import_agencies,
        crate::directory_api::plan,
        crate::directory_api::apply
    ),
    components(schemas(
        ErrorBody,
        crate::requests_api::RequestInfo,
        crate::work::requests::NewRequest,
        crate::requests_api::ExtendBody,
        baocao_core::UnitVersion,
        baocao_core::UnitKind,
        baocao_core::Validity,
        baocao_core::UnitDetail,
        baocao_core::Lineage,
        baocao_core::LineageEntry,
        baocao_core::MapEntry,
        baocao_core::ReorgInfo,
        crate::data_api::PeriodInfo,
        crate::data_api::Registrations,
        baocao_store::upstream::Registration,
        baocao_core::restate::Composed,
        baocao_core::restate::SourceValue,
        crate::origin::ValueOrigin,
        crate::origin::SourceOrigin,
        crate::verify::CheckedSignature,
        baocao_store::provenance::Provenance,
        crate::reports_api::ReportAction,
        crate::offline::SessionInfo,
        crate::offline::DueEntry,
        crate::offline::EntryIndicator,
        baocao_store::accounts::AccountSummary,
        baocao_store::accounts::StoredGrant,
        baocao_core::access::Grant,
        baocao_core::access::Role,
        baocao_core::access::Permission,
        baocao_core::audit::Record
    ))
)]
pub struct ApiDoc;

/// The OpenAPI document with each operation's access rule as
/// `x-baocao-access` and in its description, and the two ways to sign in.
pub fn document(rules: &[RouteRule]) -> utoipa::openapi::OpenApi {
    use utoipa::openapi::extensions::ExtensionsBuilder;
    use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
    let mut doc = ApiDoc::openapi();
    for (path, item) in doc.paths.paths.iter_mut() {
        for (method, operation) in [(Method::GET, &mut item.get), (Method::POST, &mut item.post)] {
            let Some(operation) = operation else { continue };
            let Some(rule) = rules.iter().find(|r| r.path == path && r.method == method) else { continue };
            let text = match rule.rule {
                Rule::Public => "public".to_string(),
                Rule::SignedIn => "any signed-in account".to_string(),
                Rule::Needs(p) => format!("permission `{}` over the units the request touches", p.as_str()),
                Rule::NeedsAny(ps) => format!(
                    "one of {} depending on the request",
                    ps.iter().map(|p| format!("`{}`", p.as_str())).collect::<Vec<_>>().join(", ")
                ),
            };
            let description = operation.description.take().unwrap_or_default();
            operation.description = Some(format!("{description}\n\nAccess: {text}.").trim().to_string());
            let extension = serde_json::to_value(rule.rule).expect("rules serialize");
            let extensions = ExtensionsBuilder::new().add("x-baocao-access", extension).build();
            match &mut operation.extensions {
                Some(existing) => existing.merge(extensions),
                None => operation.extensions = Some(extensions),
            }
            refusals(operation, rule.rule, method == Method::POST);
            if method == Method::POST && rule.rule != Rule::Public {
                operation.parameters.get_or_insert_with(Vec::new).push(idempotency_key());
            }
        }
    }
    let components = doc.components.get_or_insert_with(Default::default);
    components
        .add_security_scheme("token", SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()));
    components
        .add_security_scheme("session", SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(crate::auth::COOKIE))));
    doc
}

/// The optional `Idempotency-Key` header of every write (`idempotency.rs`).
fn idempotency_key() -> utoipa::openapi::path::Parameter {
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    use utoipa::openapi::{ObjectBuilder, Required, Type};
    let schema = ObjectBuilder::new().schema_type(Type::String).min_length(Some(1)).max_length(Some(255));
    ParameterBuilder::new()
        .name("Idempotency-Key")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "Sent again with the same key, the same request is carried out once: the retry gets the first \
             answer (`Idempotent-Replayed: true`); the key with another request is refused (422), and while \
             the first is under way a retry is answered 409. Printable ASCII; kept a day.",
        ))
        .schema(Some(schema))
        .build()
}

/// The body of every refusal of the API.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// What is wrong, for a person (Vietnamese, with the English term).
    pub error: String,
}

/// Every refusal an operation can answer, with its body, documented on
/// every operation: what the access guard, the extractors and the store
/// answer for any of them (a documented status is one a client can handle).
fn refusals(operation: &mut utoipa::openapi::path::Operation, rule: Rule, has_body: bool) {
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
    let mut statuses = vec![
        ("400", "a parameter or the body cannot be read"),
        ("404", "what the request names does not exist, or not on that day"),
        ("409", "the request conflicts with what is stored (a workflow step, a rule, a locked report)"),
        ("503", "the database cannot be read or written now"),
    ];
    if rule != Rule::Public {
        statuses.push(("401", "no valid session or API token"));
        statuses.push(("403", "the account may not do this, or not for these units"));
    }
    if has_body {
        statuses.push(("413", "the body is larger than the server takes (16 MiB), or unpacks to more"));
        statuses.push(("415", "the body is not of a content type the operation reads"));
        statuses.push(("422", "the body is well formed but cannot be taken as it is"));
    }
    for (status, description) in statuses {
        let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build();
        let response = ResponseBuilder::new().description(description).content("application/json", content).build();
        match operation.responses.responses.get_mut(status) {
            // A status the operation documents already keeps its words and gains the body.
            Some(RefOr::T(existing)) if existing.content.is_empty() => {
                existing.content = response.content;
            }
            Some(_) => {}
            None => {
                operation.responses.responses.insert(status.to_string(), RefOr::T(response));
            }
        }
    }
}

pub async fn openapi(State(state): State<AppState>) -> Json<utoipa::openapi::OpenApi> {
    Json(document(&state.rules))
}
