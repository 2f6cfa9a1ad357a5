//! Administration of accounts: accounts, their grants, passwords, state
//! and API tokens; the audit log is `audit`.

use crate::params::Form;
use crate::params::Query;
use askama::Template;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use baocao_core::access::{Grant, Permission, Role, Target};
use baocao_core::date::format_vn;
use baocao_core::{Registry, Validity, parse_date, today_in_vietnam};
use baocao_store::accounts::AccountSummary;
use serde::Deserialize;

use crate::access::{Access, unit_on};
use crate::auth::hash_password_off;
use crate::error::ApiError;
use crate::pages::{Chrome, error_page, page_result, render};
use crate::state::AppState;

/// May the account hand out `role` on `unit` (none: the whole system)?
fn may_grant(registry: &Registry, access: &Access, role: Role, unit: Option<&str>) -> Result<(), ApiError> {
    let today = today_in_vietnam();
    let target = match unit {
        None => Target::System,
        Some(code) => Target::Unit { unit: unit_on(registry, code, today)?, day: today, form: None },
    };
    access.may_give(registry, role, target)?;
    if role == Role::SystemAdmin {
        // Only a system-wide administrator makes another.
        access.require(registry, Permission::ManageAccounts, Target::System)?;
    }
    Ok(())
}

/// The accounts an administrator looks after: all of them for a system
/// administrator, else those with a grant inside the administrator's units.
async fn visible_accounts(state: &AppState, access: &Access) -> Result<Vec<AccountSummary>, ApiError> {
    let registry = state.registry().await?;
    let today = today_in_vietnam();
    let all = state.db.accounts().await?;
    if access.can(&registry, Permission::ManageAccounts, Target::System) {
        return Ok(all);
    }
    Ok(all
        .into_iter()
        .filter(|a| {
            a.grants.iter().any(|g| {
                g.grant
                    .unit
                    .as_deref()
                    .is_some_and(|u| access.can_on(&registry, Permission::ManageAccounts, u, today, None))
            })
        })
        .collect())
}

/// Accounts with their grants.
#[utoipa::path(get, path = "/api/v1/accounts", responses((status = 200, body = [AccountSummary])))]
pub async fn accounts_api(
    State(state): State<AppState>,
    access: Access,
) -> Result<Json<Vec<AccountSummary>>, ApiError> {
    Ok(Json(visible_accounts(&state, &access).await?))
}

struct GrantRow {
    id: i64,
    role: &'static str,
    unit: String,
    forms: String,
    from: String,
    to: String,
    current: bool,
}

struct AccountRow {
    username: String,
    display_name: String,
    active: bool,
    grants: Vec<GrantRow>,
}

#[derive(Template)]
#[template(path = "accounts.html")]
struct AccountsPage {
    chrome: Chrome,
    accounts: Vec<AccountRow>,
    roles: Vec<(&'static str, &'static str)>,
    /// What each role may do, as the table under the accounts shows it.
    matrix: Vec<(&'static str, Vec<&'static str>)>,
    notice: Option<String>,
    /// Why the account or grant sent was refused, said by its form.
    refused: Refused,
    account: NewAccount,
    grant: NewGrant,
    /// The account whose new password was refused (never the password).
    password_for: String,
    /// API tokens of the accounts shown.
    tokens: Vec<TokenRow>,
    /// What each token may be limited to: `(name, Vietnamese)`.
    scopes: Vec<(&'static str, &'static str)>,
    /// A token just made: `(its name, the token)`, shown this once.
    new_token: Option<(String, String)>,
    /// The list narrowed to accounts found by name or username (without
    /// diacritics), and to open (`open`) or closed (`closed`) ones.
    search: String,
    status: String,
    /// Accounts the asker sees before the filter.
    total: usize,
    /// The units a grant may be given on, for the picker.
    unit_choices: Vec<(String, String)>,
}

struct TokenRow {
    id: i64,
    username: String,
    name: String,
    scopes: String,
    created: String,
    revoked: String,
}

/// Which form of the page was refused, and why.
#[derive(Default)]
enum Refused {
    #[default]
    Nothing,
    Account(String),
    Grant(String),
    Password(String),
    Token(String),
}

#[derive(Deserialize)]
pub struct NoticeQuery {
    /// What was just done: one of the page's own notices.
    done: Option<String>,
    /// To which account.
    who: Option<String>,
    /// Accounts found by name or username, without diacritics.
    q: Option<String>,
    /// `open` or `closed` accounts only.
    status: Option<String>,
}

impl NoticeQuery {
    /// The page's own notice for what was done; a link cannot make it say
    /// anything else (an account is named only by a valid username).
    fn notice(&self) -> Option<String> {
        let who = self.who.as_deref().filter(|w| valid_username(w)).unwrap_or_default();
        let text = match self.done.as_deref()? {
            "created" => "Đã tạo tài khoản",
            "invited" => "Đã tạo tài khoản và gửi thư kích hoạt (xem Hộp thư đi) cho",
            "activation" => "Đã gửi lại thư kích hoạt (xem Hộp thư đi) cho",
            "second_factor" => "Đã tắt xác thực hai bước của",
            "sso_only" => "Từ nay chỉ đăng nhập một lần (không dùng mật khẩu riêng):",
            "password_allowed" => "Cho phép lại đăng nhập bằng mật khẩu riêng:",
            "granted" => "Đã cấp quyền",
            "revoked" => "Đã thu hồi quyền",
            "password" => "Đã đặt mật khẩu mới cho",
            "closed" => "Đã khóa tài khoản",
            "opened" => "Đã mở lại tài khoản",
            "token-revoked" => "Đã thu hồi mã truy cập",
            _ => return None,
        };
        Some(if who.is_empty() { text.to_string() } else { format!("{text} {who}") })
    }
}

/// Letters without diacritics, digits and `. _ - @`: what a username is made of.
fn valid_username(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
}

pub async fn accounts(State(state): State<AppState>, access: Access, Query(q): Query<NoticeQuery>) -> Response {
    let status = q.status.clone().filter(|s| !s.is_empty());
    if status.as_deref().is_some_and(|s| s != "open" && s != "closed") {
        return error_page(ApiError::bad_request("tham số `status`: cần open (đang dùng) hoặc closed (đã khóa)."));
    }
    let page = AccountsPage {
        notice: q.notice(),
        search: q.q.as_deref().map(str::trim).unwrap_or_default().to_string(),
        status: status.unwrap_or_default(),
        ..blank_page(&state, &access)
    };
    page_result(fill(&state, &access, page).await)
}

/// The page as shown again after a refusal: the reason by the form, what
/// was typed kept (never the password), with the refusal's status.
async fn refused_page(state: &AppState, access: &Access, e: ApiError, page: AccountsPage) -> Response {
    match fill(state, access, page).await {
        Ok(page) => {
            let mut response = render(&page);
            *response.status_mut() = e.status;
            response
        }
        Err(other) => error_page(other),
    }
}

fn blank_page(state: &AppState, access: &Access) -> AccountsPage {
    AccountsPage {
        chrome: Chrome::new(state, access),
        accounts: Vec::new(),
        roles: Role::ALL.iter().map(|r| (r.as_str(), r.vietnamese())).collect(),
        matrix: Role::ALL
            .iter()
            .map(|r| (r.vietnamese(), r.permissions().iter().map(|p| p.vietnamese()).collect()))
            .collect(),
        notice: None,
        refused: Refused::Nothing,
        account: NewAccount::default(),
        grant: NewGrant::default(),
        password_for: String::new(),
        tokens: Vec::new(),
        scopes: Permission::ALL.iter().map(|p| (p.as_str(), p.vietnamese())).collect(),
        new_token: None,
        search: String::new(),
        status: String::new(),
        total: 0,
        unit_choices: Vec::new(),
    }
}

/// The accounts the asker may see, with their grants.
async fn fill(state: &AppState, access: &Access, page: AccountsPage) -> Result<AccountsPage, ApiError> {
    let today = today_in_vietnam();
    let visible = visible_accounts(state, access).await?;
    let total = visible.len();
    let found = |a: &baocao_store::accounts::AccountSummary| {
        let q = page.search.as_str();
        q.is_empty()
            || a.username.starts_with(q)
            || baocao_core::text::matches_word_prefixes(&baocao_core::text::fold(&a.display_name), q)
    };
    let accounts = visible
        .into_iter()
        .filter(|a| match page.status.as_str() {
            "open" => a.active,
            "closed" => !a.active,
            _ => true,
        })
        .filter(found)
        .map(|a| AccountRow {
            username: a.username,
            display_name: a.display_name,
            active: a.active,
            grants: a
                .grants
                .into_iter()
                .map(|g| GrantRow {
                    id: g.id,
                    role: g.grant.role.vietnamese(),
                    unit: g.grant.unit.clone().unwrap_or_else(|| "toàn hệ thống".into()),
                    forms: g.grant.forms.join(", "),
                    from: g.grant.validity.from.map_or_else(|| "—".into(), format_vn),
                    to: g.grant.validity.last_day().map_or_else(String::new, format_vn),
                    current: g.grant.validity.contains(today),
                })
                .collect(),
        })
        .collect::<Vec<_>>();
    let shown: std::collections::HashSet<&str> = accounts.iter().map(|a| a.username.as_str()).collect();
    let tokens = state
        .db
        .tokens()
        .await?
        .into_iter()
        .filter(|t| shown.contains(t.username.as_str()))
        .map(|t| TokenRow {
            id: t.id,
            username: t.username,
            name: t.name,
            scopes: t.scopes.iter().map(|p| p.vietnamese()).collect::<Vec<_>>().join("; "),
            created: format_vn(baocao_core::date::day_in_vietnam(t.created_at)),
            revoked: t.revoked_at.map_or_else(String::new, |at| format_vn(baocao_core::date::day_in_vietnam(at))),
        })
        .collect();
    let registry = state.registry().await?;
    let unit_choices = crate::pages::unit_choices(state, &registry, access, Permission::ManageAccounts, today).await?;
    Ok(AccountsPage { accounts, tokens, total, unit_choices, ..page })
}

#[derive(Deserialize, Default)]
pub struct NewAccount {
    username: String,
    display_name: String,
    /// Where its mail goes; with no password, its activation link.
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

/// A password an administrator types, checked as a user's own would be.
fn acceptable(password: &str, context: &[&str]) -> Result<(), ApiError> {
    baocao_credentials::check_password(password, context)
        .map_err(|why| ApiError::bad_request(format!("{why} (field `password`)")))
}

/// Creates an account: with a password typed by the administrator, or
/// (password left empty) with an address that is mailed an activation
/// link to set it.
pub async fn create_account(State(state): State<AppState>, access: Access, Form(f): Form<NewAccount>) -> Response {
    let username = f.username.trim();
    let (display_name, email) = (f.display_name.trim(), f.email.trim());
    let result = async {
        if !valid_username(username) {
            return Err(ApiError::bad_request(
                "Tên đăng nhập chỉ gồm chữ cái không dấu, chữ số và các ký tự . _ - @ (field `username`).",
            ));
        }
        if f.password.is_empty() {
            if email.is_empty() {
                return Err(ApiError::bad_request(
                    "Cần mật khẩu ban đầu, hoặc địa chỉ thư để người dùng tự đặt mật khẩu qua thư kích hoạt (field `email`).",
                ));
            }
            state.db.invite_account(access.username(), username, display_name, email).await?;
            return Ok("invited");
        }
        acceptable(&f.password, &[username, display_name])?;
        let hash = hash_password_off(f.password.clone()).await;
        state.db.create_account(access.username(), username, display_name, Some(&hash)).await?;
        if !email.is_empty() {
            state.db.set_account_email(access.username(), username, email).await?;
        }
        Ok("created")
    }
    .await;
    match result {
        Ok(done) => Redirect::to(&format!("/admin/accounts?done={done}&who={username}")).into_response(),
        Err(e) => {
            let account = NewAccount { password: String::new(), ..f };
            let page =
                AccountsPage { refused: Refused::Account(e.message.clone()), account, ..blank_page(&state, &access) };
            refused_page(&state, &access, e, page).await
        }
    }
}

#[derive(Deserialize, Default)]
pub struct NewGrant {
    username: String,
    role: String,
    unit: Option<String>,
    forms: Option<String>,
    valid_from: Option<String>,
    valid_to: Option<String>,
}

fn optional_day(field: &str, text: Option<&str>) -> Result<Option<chrono::NaiveDate>, ApiError> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => parse_date(t).map(Some).map_err(|e| ApiError::bad_request(format!("trường `{field}`: {e}"))),
    }
}

pub async fn add_grant(State(state): State<AppState>, access: Access, Form(f): Form<NewGrant>) -> Response {
    let result = async {
        let role: Role = f.role.parse().map_err(|e: String| ApiError::bad_request(format!("trường `role`: {e}")))?;
        let unit = f.unit.as_deref().map(str::trim).filter(|u| !u.is_empty()).map(str::to_string);
        let registry = state.registry().await?;
        may_grant(&registry, &access, role, unit.as_deref())?;
        let forms = f
            .forms
            .as_deref()
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        let validity = Validity::new(
            optional_day("valid_from", f.valid_from.as_deref())?,
            optional_day("valid_to", f.valid_to.as_deref())?,
        );
        if validity.is_empty() {
            return Err(ApiError::bad_request(
                "Trường `valid_to`: ngày kết thúc phải sau ngày bắt đầu (`valid_from`).",
            ));
        }
        let grant = Grant { role, unit, forms, validity };
        state.db.add_grant(access.username(), f.username.trim(), &grant).await?;
        Ok::<_, ApiError>(())
    }
    .await;
    match result {
        Ok(()) => Redirect::to("/admin/accounts?done=granted").into_response(),
        Err(e) => {
            let page =
                AccountsPage { refused: Refused::Grant(e.message.clone()), grant: f, ..blank_page(&state, &access) };
            refused_page(&state, &access, e, page).await
        }
    }
}

#[derive(Deserialize)]
pub struct Revoke {
    grant: i64,
}

pub async fn revoke_grant(State(state): State<AppState>, access: Access, Form(f): Form<Revoke>) -> Response {
    let result = async {
        let registry = state.registry().await?;
        let accounts = state.db.accounts().await?;
        let grant = accounts
            .iter()
            .flat_map(|a| &a.grants)
            .find(|g| g.id == f.grant)
            .ok_or_else(|| ApiError::not_found(format!("Không có quyền được cấp số {}.", f.grant)))?;
        may_grant(&registry, &access, grant.grant.role, grant.grant.unit.as_deref())?;
        state.db.revoke_grant(access.username(), f.grant, today_in_vietnam()).await?;
        Ok::<_, ApiError>(())
    }
    .await;
    match result {
        Ok(()) => Redirect::to("/admin/accounts?done=revoked").into_response(),
        Err(e) => error_page(e),
    }
}

/// May the asker set the password of `username`, or close or reopen it?
/// A system-wide administrator may for every account. Another may only for
/// an account it looks after whose every current grant it could have given
/// itself: never for an administrator above it, nor for one that also
/// works elsewhere, nor for an account with no grant (whose future grants
/// it cannot know).
async fn may_manage(state: &AppState, access: &Access, username: &str) -> Result<(), ApiError> {
    let registry = state.registry().await?;
    let accounts = state.db.accounts().await?;
    let account = accounts
        .iter()
        .find(|a| a.username == username)
        .ok_or_else(|| ApiError::not_found(format!("Không có tài khoản «{username}».")))?;
    if access.can(&registry, Permission::ManageAccounts, Target::System) {
        return Ok(());
    }
    let today = today_in_vietnam();
    let current: Vec<_> = account.grants.iter().filter(|g| g.grant.validity.contains(today)).collect();
    let within = !current.is_empty()
        && current.iter().all(|g| may_grant(&registry, access, g.grant.role, g.grant.unit.as_deref()).is_ok());
    if within {
        Ok(())
    } else {
        Err(ApiError {
            status: StatusCode::FORBIDDEN,
            message: format!(
                "Tài khoản «{username}» có quyền ngoài phạm vi bạn quản lý: chỉ quản trị hệ thống đặt mật khẩu, \
                 khóa hoặc mở lại được."
            ),
        })
    }
}

#[derive(Deserialize, Default)]
pub struct NewPassword {
    username: String,
    password: String,
}

/// An administrator sets an account's password (a forgotten one, or the
/// first of an account made from a roster); a locked account is opened.
pub async fn set_password(State(state): State<AppState>, access: Access, Form(f): Form<NewPassword>) -> Response {
    let username = f.username.trim();
    let result = async {
        may_manage(&state, &access, username).await?;
        acceptable(&f.password, &[username])?;
        let hash = hash_password_off(f.password.clone()).await;
        state.db.set_password(access.username(), username, &hash).await?;
        Ok::<_, ApiError>(())
    }
    .await;
    match result {
        Ok(()) => Redirect::to(&format!("/admin/accounts?done=password&who={username}")).into_response(),
        Err(e) => {
            let page = AccountsPage {
                refused: Refused::Password(e.message.clone()),
                password_for: username.to_string(),
                ..blank_page(&state, &access)
            };
            refused_page(&state, &access, e, page).await
        }
    }
}

#[derive(Deserialize)]
pub struct AccountState {
    username: String,
    /// `true` opens the account, `false` closes it.
    active: bool,
}

/// An administrator closes an account (it can no longer sign in, its
/// sessions and tokens stop working) or opens it again.
pub async fn set_state(State(state): State<AppState>, access: Access, Form(f): Form<AccountState>) -> Response {
    let username = f.username.trim();
    let result = async {
        if !f.active && username == access.username() {
            return Err(ApiError::bad_request("Không tự khóa tài khoản đang dùng."));
        }
        may_manage(&state, &access, username).await?;
        state.db.set_active(access.username(), username, f.active).await?;
        Ok::<_, ApiError>(())
    }
    .await;
    let done = if f.active { "opened" } else { "closed" };
    match result {
        Ok(()) => Redirect::to(&format!("/admin/accounts?done={done}&who={username}")).into_response(),
        Err(e) => error_page(e),
    }
}

#[derive(Deserialize)]
pub struct ActivationMail {
    username: String,
    /// A new address for the account, if it has none or a wrong one.
    #[serde(default)]
    email: String,
}

/// Mails an account a fresh activation link (its earlier one stops
/// working): for an official who lost the first mail or whose address
/// changed.
pub async fn send_activation(State(state): State<AppState>, access: Access, Form(f): Form<ActivationMail>) -> Response {
    let username = f.username.trim();
    let email = Some(f.email.trim()).filter(|e| !e.is_empty());
    let result = async {
        may_manage(&state, &access, username).await?;
        state.db.send_activation(access.username(), username, email).await?;
        Ok::<_, ApiError>(())
    }
    .await;
    match result {
        Ok(()) => Redirect::to(&format!("/admin/accounts?done=activation&who={username}")).into_response(),
        Err(e) => error_page(e),
    }
}

#[derive(Deserialize)]
pub struct SecondFactorReset {
    username: String,
}

/// Turns an account's second factor off (a lost phone and lost recovery
/// codes); its sessions end, and it enrols again at its next sign-in when
/// its roles require it.
pub async fn disable_second_factor(
    State(state): State<AppState>,
    access: Access,
    Form(f): Form<SecondFactorReset>,
) -> Response {
    let username = f.username.trim();
    let result = async {
        may_manage(&state, &access, username).await?;
        state.db.disable_totp(access.username(), username).await?;
        Ok::<_, ApiError>(())
    }
    .await;
    match result {
        Ok(()) => Redirect::to(&format!("/admin/accounts?done=second_factor&who={username}")).into_response(),
        Err(e) => error_page(e),
    }
}

#[derive(Deserialize)]
pub struct PasswordSignIn {
    username: String,
    /// "true": the account may sign in with its own password; else only
    /// through the identity provider.
    allowed: String,
}

/// Turns an account's own password on or off for signing in (single
/// sign-on only when off; its sessions end).
pub async fn set_password_sign_in(
    State(state): State<AppState>,
    access: Access,
    Form(f): Form<PasswordSignIn>,
) -> Response {
    let username = f.username.trim();
    let allowed = f.allowed == "true";
    let result = async {
        may_manage(&state, &access, username).await?;
        state.db.set_password_sign_in(access.username(), username, allowed).await?;
        Ok::<_, ApiError>(())
    }
    .await;
    let done = if allowed { "password_allowed" } else { "sso_only" };
    match result {
        Ok(()) => Redirect::to(&format!("/admin/accounts?done={done}&who={username}")).into_response(),
        Err(e) => error_page(e),
    }
}

/// An API token for an integration, made for an account the asker may
/// manage and limited to the functions ticked (`scope`, repeated); the
/// token is shown on the answering page once and stored only as its hash.
pub async fn create_token(
    State(state): State<AppState>,
    access: Access,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let field = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_string());
    let username = field("username").unwrap_or_default();
    let name = field("name").unwrap_or_default();
    let made = async {
        may_manage(&state, &access, &username).await?;
        if name.is_empty() {
            return Err(ApiError::bad_request("Đặt tên cho mã truy cập (field `name`), để biết nó dùng cho việc gì."));
        }
        let scopes = fields
            .iter()
            .filter(|(k, _)| k == "scope")
            .map(|(_, v)| v.parse::<Permission>().map_err(|e| ApiError::bad_request(format!("trường `scope`: {e}"))))
            .collect::<Result<Vec<_>, _>>()?;
        if scopes.is_empty() {
            return Err(ApiError::bad_request("Chọn ít nhất một chức năng cho mã truy cập (field `scope`)."));
        }
        let token = baocao_credentials::new_token();
        let hash = baocao_credentials::token_hash(&token);
        state.db.create_token(access.username(), &username, &name, &hash, &scopes).await?;
        Ok::<_, ApiError>(token)
    }
    .await;
    match made {
        Ok(token) => {
            let page = AccountsPage {
                notice: Some(format!("Đã tạo mã truy cập «{name}» cho {username}.")),
                new_token: Some((name, token)),
                ..blank_page(&state, &access)
            };
            page_result(fill(&state, &access, page).await)
        }
        Err(e) => {
            let page = AccountsPage { refused: Refused::Token(e.message.clone()), ..blank_page(&state, &access) };
            refused_page(&state, &access, e, page).await
        }
    }
}

#[derive(Deserialize)]
pub struct RevokeToken {
    token: i64,
}

/// Revokes an API token of an account the asker may manage.
pub async fn revoke_token(State(state): State<AppState>, access: Access, Form(f): Form<RevokeToken>) -> Response {
    let result = async {
        let tokens = state.db.tokens().await?;
        let token = tokens
            .iter()
            .find(|t| t.id == f.token)
            .ok_or_else(|| ApiError::not_found(format!("Không có mã truy cập số {}.", f.token)))?;
        may_manage(&state, &access, &token.username).await?;
        state.db.revoke_token(access.username(), f.token).await?;
        Ok::<_, ApiError>(())
    }
    .await;
    match result {
        Ok(()) => Redirect::to("/admin/accounts?done=token-revoked").into_response(),
        Err(e) => error_page(e),
    }
}
