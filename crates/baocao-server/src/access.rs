//! Authorization, enforced in one place.
//!
//! Every route is added through [`Routes`] together with its [`Rule`], so a
//! route cannot exist without one. The [`guard`] middleware runs on every
//! matched route: it authenticates the request (API token or session),
//! checks the route's rule and, for a session, the CSRF token of any
//! state-changing request. Handlers that touch a unit then check it through
//! [`Access::require`], which asks [`baocao_core::access::allows`]: the only
//! place where a permission is decided.

use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::handler::Handler;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{MethodRouter, get, post};
use axum_extra::extract::CookieJar;
use baocao_core::access::{Permission, Target, allows};
use baocao_core::{Registry, today_in_vietnam};

use crate::auth::{self, COOKIE, Credential, Principal};
use crate::error::ApiError;
use crate::respond::refuse;
use crate::rules::{RouteRule, Rule, rule_of};
use crate::state::AppState;

/// Builds the router and its table of rules together.
pub struct Routes {
    router: Router<AppState>,
    rules: Vec<RouteRule>,
}

impl Default for Routes {
    fn default() -> Self {
        Routes { router: Router::new(), rules: Vec::new() }
    }
}

impl Routes {
    fn add(mut self, method: Method, path: &'static str, rule: Rule, route: MethodRouter<AppState>) -> Self {
        self.rules.push(RouteRule { method, path, rule });
        self.router = self.router.route(path, route);
        self
    }

    pub fn get<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, rule: Rule, handler: H) -> Self {
        self.add(Method::GET, path, rule, get(handler))
    }

    pub fn post<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, rule: Rule, handler: H) -> Self {
        self.add(Method::POST, path, rule, post(handler))
    }

    pub fn patch<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, rule: Rule, handler: H) -> Self {
        self.add(Method::PATCH, path, rule, axum::routing::patch(handler))
    }

    pub fn put<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, rule: Rule, handler: H) -> Self {
        self.add(Method::PUT, path, rule, axum::routing::put(handler))
    }

    pub fn delete<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, rule: Rule, handler: H) -> Self {
        self.add(Method::DELETE, path, rule, axum::routing::delete(handler))
    }

    pub fn finish(self) -> (Router<AppState>, Vec<RouteRule>) {
        (self.router, self.rules)
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ").map(str::trim)
}

/// The account behind a request, if any: an API token wins over a cookie.
pub(crate) async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Option<Arc<Principal>>, ApiError> {
    if let Some(token) = bearer(headers) {
        return Ok(state.token_principal(token).await?);
    }
    let jar = CookieJar::from_headers(headers);
    match jar.get(COOKIE) {
        Some(cookie) => Ok(auth::from_session(&state.db, cookie.value(), chrono::Utc::now()).await?),
        None => Ok(None),
    }
}

/// The CSRF token a state-changing request carries: the `X-CSRF-Token`
/// header (htmx and scripts) or the `_csrf` field of a plain form.
async fn csrf_of(req: Request) -> Result<(Option<String>, Request), ApiError> {
    if let Some(v) = req.headers().get("x-csrf-token").and_then(|v| v.to_str().ok()) {
        return Ok((Some(v.to_string()), req));
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Ok((None, req));
    }
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, 8 << 20)
        .await
        .map_err(|_| ApiError { status: StatusCode::PAYLOAD_TOO_LARGE, message: "the form is too large".into() })?;
    let token = form_urlencoded_field(&bytes, "_csrf");
    Ok((token, Request::from_parts(parts, axum::body::Body::from(bytes))))
}

fn form_urlencoded_field(body: &[u8], name: &str) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// True when a browser says the request comes from another site: its
/// `Sec-Fetch-Site`, or an `Origin` that is not this host. What changes
/// state (signing in included, which has no session to carry a CSRF token
/// yet) is refused then. Clients that are not browsers send neither.
pub(crate) fn cross_site(state: &AppState, headers: &HeaderMap) -> bool {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if matches!(text("sec-fetch-site"), Some("cross-site" | "same-site")) {
        return true;
    }
    let Some(origin) = text("origin") else { return headers.contains_key(header::ORIGIN) };
    let host = state.settings.behind_proxy.then(|| text("x-forwarded-host")).flatten().or_else(|| text("host"));
    let origin_host = url::Url::parse(origin).ok().and_then(|u| {
        let name = u.host_str()?.to_string();
        Some(u.port().map_or(name.clone(), |port| format!("{name}:{port}")))
    });
    match (origin_host, host) {
        (Some(origin), Some(host)) => !origin.eq_ignore_ascii_case(host),
        // `Origin: null` (a sandboxed frame, a data: page) or no Host.
        _ => true,
    }
}

pub(crate) const CROSS_SITE: &str = "Yêu cầu gửi từ trang web khác bị từ chối (cross-site request refused).";

/// The middleware on every route: authenticate, check the route's rule and
/// the CSRF token, and hand the principal to the handler.
pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(path) = req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_string()) else {
        return next.run(req).await;
    };
    let Some(rule) = rule_of(&state.rules, req.method(), &path) else {
        let allowed: Vec<&str> = state.rules.iter().filter(|r| r.path == path).map(|r| r.method.as_str()).collect();
        if !allowed.is_empty() {
            let message =
                format!("Phương thức {} không dùng được ở đây (chỉ dùng: {}).", req.method(), allowed.join(", "));
            let mut response = refuse(&path, StatusCode::METHOD_NOT_ALLOWED, &message);
            if let Ok(value) = header::HeaderValue::from_str(&allowed.join(", ")) {
                response.headers_mut().insert(header::ALLOW, value);
            }
            return response;
        }
        // Fail closed: a route reached without a rule is a programming error.
        tracing::error!(%path, method = %req.method(), "lỗi hệ thống: đường dẫn chưa có quy tắc truy cập");
        return refuse(&path, StatusCode::INTERNAL_SERVER_ERROR, "lỗi hệ thống: đường dẫn chưa có quy tắc truy cập");
    };
    if rule == Rule::Public {
        // Public routes never look at who asks: no session lookup for them.
        return next.run(req).await;
    }
    let p = match authenticate(&state, req.headers()).await {
        Ok(Some(p)) => p,
        Ok(None) => return refuse(req.uri().path(), StatusCode::UNAUTHORIZED, "Cần đăng nhập."),
        Err(e) => return refuse(&path, e.status, &e.message),
    };
    let refused = match rule {
        Rule::Public | Rule::SignedIn => None,
        Rule::Needs(permission) => (!holds(&p, permission)).then_some(permission),
        Rule::NeedsAny(permissions) => {
            permissions.first().copied().filter(|_| !permissions.iter().any(|&permission| holds(&p, permission)))
        }
    };
    // An account whose roles require a second factor and that has none
    // may do nothing through a session but enrol one (and sign out).
    if must_enrol(&state, &p) && !path.starts_with("/account/security") && path != "/logout" {
        // A page is sent to enrol; a part of a page htmx loads (the inbox
        // badge) is refused, not swapped for the enrolment page.
        if *req.method() == Method::GET && !req.headers().contains_key("hx-request") {
            return axum::response::IntoResponse::into_response(axum::response::Redirect::to("/account/security"));
        }
        return refuse(&path, StatusCode::FORBIDDEN, MUST_ENROL);
    }
    if let Some(permission) = refused {
        return refuse(&path, StatusCode::FORBIDDEN, &forbidden_message(permission));
    }
    let mut req = req;
    req.extensions_mut().insert(p.clone());
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if let (false, Credential::Session { csrf, .. }) = (safe, &p.credential) {
        if cross_site(&state, req.headers()) {
            return refuse(&path, StatusCode::FORBIDDEN, CROSS_SITE);
        }
        let (sent, rebuilt) = match csrf_of(req).await {
            Ok(x) => x,
            Err(e) => return refuse(&path, e.status, &e.message),
        };
        if sent.as_deref() != Some(csrf.as_str()) {
            return refuse(&path, StatusCode::FORBIDDEN, "Phiên làm việc không hợp lệ (thiếu mã CSRF); tải lại trang.");
        }
        req = rebuilt;
    }
    next.run(req).await
}

pub(crate) const MUST_ENROL: &str =
    "Vai trò của tài khoản này cần xác thực hai bước: hãy bật xác thực hai bước trước (Tài khoản của tôi → Bảo mật).";

/// Whether a session's account must enrol a second factor before anything
/// else: it has none and holds a role the installation's policy names.
pub(crate) fn must_enrol(state: &AppState, p: &Principal) -> bool {
    matches!(p.credential, Credential::Session { .. })
        && !p.totp
        && baocao_core::access::requires_second_factor(
            &p.grants,
            &state.settings.second_factor_roles,
            today_in_vietnam(),
        )
}

/// True when the account holds `permission` over anything at all.
fn holds(p: &Principal, permission: Permission) -> bool {
    baocao_core::access::holds(&p.grants, p.limit(), permission, today_in_vietnam())
}

pub fn forbidden_message(permission: Permission) -> String {
    format!("Tài khoản không có quyền {} (forbidden: {})", permission.vietnamese(), permission.as_str())
}

/// The signed-in account, for handlers of guarded routes.
#[derive(Clone)]
pub struct Access(pub Arc<Principal>);

impl<S: Send + Sync> FromRequestParts<S> for Access {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<Arc<Principal>>()
            .cloned()
            .map(Access)
            .ok_or_else(|| ApiError { status: StatusCode::UNAUTHORIZED, message: "Cần đăng nhập.".into() })
    }
}

impl Access {
    /// Whether the account holds `permission` anywhere (to offer a function).
    pub fn holds(&self, permission: Permission) -> bool {
        holds(&self.0, permission)
    }

    pub fn can(&self, registry: &Registry, permission: Permission, target: Target<'_>) -> bool {
        allows(registry, &self.0.grants, self.0.limit(), permission, target, today_in_vietnam())
    }

    /// Whether the account may do `permission` on the unit `code` as it was
    /// on `day` (for `form`, when given); never on a code not in force then.
    pub fn can_on(
        &self,
        registry: &Registry,
        permission: Permission,
        code: &str,
        day: chrono::NaiveDate,
        form: Option<&str>,
    ) -> bool {
        registry
            .in_force(code, day)
            .is_some_and(|unit| self.can(registry, permission, Target::Unit { unit, day, form }))
    }

    /// Refuses with 403 unless the account may do `permission` on `target`.
    pub fn require(&self, registry: &Registry, permission: Permission, target: Target<'_>) -> Result<(), ApiError> {
        if self.can(registry, permission, target) {
            Ok(())
        } else {
            Err(ApiError { status: StatusCode::FORBIDDEN, message: forbidden_message(permission) })
        }
    }

    /// Whether the account decides on the report of unit `code` for
    /// `period` under `regime` once `approvals` levels approved it: at the
    /// level it waits at when the regime has an approval chain (none once
    /// the last approved), else as anyone who may approve the unit's reports.
    pub fn decides(
        &self,
        registry: &Registry,
        regime: &baocao_core::regime::Regime,
        code: &str,
        period: &baocao_core::Period,
        approvals: usize,
    ) -> bool {
        match regime.approval.get(approvals) {
            Some(level) => self.decides_at(registry, level, code, period, &regime.form),
            None if regime.approval.is_empty() => {
                self.can_on(registry, Permission::ApproveReports, code, period.end(), Some(&regime.form))
            }
            None => false,
        }
    }

    /// Whether the account may reopen an approved report: who decides at
    /// the chain's last level (the approval it undoes), else any approver.
    pub fn reopens(
        &self,
        registry: &Registry,
        regime: &baocao_core::regime::Regime,
        code: &str,
        period: &baocao_core::Period,
    ) -> bool {
        self.decides(registry, regime, code, period, regime.levels() - 1)
    }

    fn decides_at(
        &self,
        registry: &Registry,
        level: &baocao_core::regime::ApprovalLevel,
        code: &str,
        period: &baocao_core::Period,
        form: &str,
    ) -> bool {
        let day = period.end();
        registry.in_force(code, day).is_some_and(|unit| {
            baocao_core::access::decides_at(
                registry,
                &self.0.grants,
                self.0.limit(),
                level.role,
                level.unit.as_deref().unwrap_or(&unit.code),
                day,
                form,
                today_in_vietnam(),
            )
        })
    }

    pub fn username(&self) -> &str {
        &self.0.username
    }

    /// Refuses with 403 unless the account may give `role` over `target`
    /// ([`baocao_core::access::may_give`]): never more than it holds.
    pub fn may_give(
        &self,
        registry: &Registry,
        role: baocao_core::access::Role,
        target: Target<'_>,
    ) -> Result<(), ApiError> {
        let today = today_in_vietnam();
        baocao_core::access::may_give(registry, &self.0.grants, self.0.limit(), role, target, today).map_err(
            |missing| ApiError {
                status: StatusCode::FORBIDDEN,
                message: format!(
                    "Không thể cấp vai trò «{}»: tài khoản không có quyền {} ở phạm vi này (forbidden: {})",
                    role.vietnamese(),
                    missing.vietnamese(),
                    missing.as_str()
                ),
            },
        )
    }

    /// Whether the account reads reports everywhere (a grant without a
    /// unit): then nothing composed for it needs to leave anything out.
    pub fn reads_everywhere(&self) -> bool {
        self.holds_everywhere(Permission::ViewReports)
    }

    /// Who asks, as far as a composed figure depends on it (the key of a
    /// kept answer, [`crate::figures`]): whoever reads everywhere sees every
    /// source; anyone else what their grants, and a token's scopes, allow
    /// today.
    pub(crate) fn figure_asker(&self) -> String {
        if self.reads_everywhere() {
            return "*".into();
        }
        self.asker()
    }

    /// The account, its token's limits and today: the key of what is kept
    /// for this asker alone (grants are read as they stand today).
    pub(crate) fn asker(&self) -> String {
        format!("{}:{:?}:{}", self.0.account_id, self.0.limit(), today_in_vietnam())
    }

    /// Whether the account holds `permission` over the whole system (not
    /// only over some units), today.
    pub fn holds_everywhere(&self, permission: Permission) -> bool {
        self.holds(permission) && baocao_core::access::reach(&self.0.grants, permission, today_in_vietnam()).is_none()
    }

    /// The unit a page shows when none is asked for: the home province for
    /// whoever reads everywhere (or within it), else the first unit the
    /// account reads (a commune's officer sees their commune).
    pub fn home_unit(&self, home_province: Option<&str>) -> Option<String> {
        match baocao_core::access::reach(&self.0.grants, Permission::ViewReports, today_in_vietnam()) {
            None => home_province.map(str::to_string),
            Some(roots) if home_province.is_some_and(|home| roots.iter().any(|r| r == home)) => {
                home_province.map(str::to_string)
            }
            Some(roots) => roots.into_iter().next(),
        }
    }

    /// Whether the account may read the reports of `unit` as it stood on
    /// `day`: what a composed value may be made of for it.
    pub fn sees(&self, registry: &Registry, unit: &baocao_core::UnitVersion, day: chrono::NaiveDate) -> bool {
        self.can(registry, Permission::ViewReports, Target::Unit { unit, day, form: None })
    }

    /// Refuses unless the account may do `permission` on the report of
    /// unit `code` for `period` under regime `regime` (a form code).
    pub fn require_report(
        &self,
        registry: &Registry,
        permission: Permission,
        form: &str,
        code: &str,
        period: &baocao_core::Period,
    ) -> Result<(), ApiError> {
        let day = period.end();
        let unit = unit_on(registry, code, day)?;
        self.require(registry, permission, Target::Unit { unit, day, form: Some(form) })
    }
}

/// The unit `code` in force on `day`: 404 when unknown or not in force.
pub fn unit_on<'r>(
    registry: &'r Registry,
    code: &str,
    day: chrono::NaiveDate,
) -> Result<&'r baocao_core::UnitVersion, ApiError> {
    registry.in_force(code, day).ok_or_else(|| {
        ApiError::not_found(format!("Đơn vị {code} không có hiệu lực vào ngày {}.", baocao_core::date::format_vn(day)))
    })
}
