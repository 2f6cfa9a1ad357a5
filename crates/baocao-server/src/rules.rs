//! The access rule of each route: who may call it. The table is built with
//! the router (`access::Routes`) and enforced by `access::guard`.

use axum::http::Method;
use baocao_core::access::Permission;
use serde::Serialize;

/// Who may call a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "permission")]
pub enum Rule {
    /// Anyone, signed in or not (health probes, the sign-in page).
    Public,
    /// Any signed-in account.
    SignedIn,
    /// A signed-in account holding this permission somewhere; the handler
    /// then checks the units it touches.
    Needs(Permission),
    /// One of these, depending on what the request asks (an action on a
    /// report needs entry or approval); the handler checks which.
    NeedsAny(&'static [Permission]),
}

/// A route and its rule.
#[derive(Clone, Debug, Serialize)]
pub struct RouteRule {
    #[serde(serialize_with = "method_name")]
    pub method: Method,
    pub path: &'static str,
    pub rule: Rule,
}

fn method_name<S: serde::Serializer>(m: &Method, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(m.as_str())
}

/// The rule of a matched route; HEAD is answered like GET.
pub(crate) fn rule_of(rules: &[RouteRule], method: &Method, path: &str) -> Option<Rule> {
    let method = if method == Method::HEAD { &Method::GET } else { method };
    rules.iter().find(|r| r.path == path && r.method == *method).map(|r| r.rule)
}
