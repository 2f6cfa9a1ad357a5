//! Who is asking: passwords (argon2), browser sessions and API tokens.
//!
//! A browser signs in with a password and gets a session cookie (HttpOnly,
//! SameSite=Lax, Secure when served over TLS), rotated at every sign-in and
//! ended after [`IDLE`] without activity or [`LIFETIME`] in all. Every
//! state-changing request of a session carries its CSRF token. Integrations
//! send `Authorization: Bearer TOKEN` with a scoped, revocable API token.
//! Only hashes of session and API tokens are stored.

use std::sync::Arc;

use baocao_core::access::{Grant, Permission};
use baocao_credentials::{hash_password, new_token, token_hash, verify_password};
use baocao_store::{Db, StoreError};
use chrono::{DateTime, Duration, Utc};

/// A session ends after this long without a request.
pub const IDLE: Duration = Duration::minutes(30);
/// A session ends this long after sign-in, active or not.
pub const LIFETIME: Duration = Duration::hours(12);
/// Failed sign-ins in a row before the account is locked.
pub const MAX_FAILURES: i32 = 5;
/// How long a locked account stays locked.
pub const LOCKOUT: Duration = Duration::minutes(15);
/// The session cookie.
pub const COOKIE: &str = "baocao_session";

/// [`hash_password`] on a thread for blocking work: argon2 spends tens of
/// milliseconds of CPU by design, which on the executor's threads would
/// hold up every other request they serve.
pub async fn hash_password_off(password: String) -> String {
    tokio::task::spawn_blocking(move || hash_password(&password)).await.expect("hashing does not panic")
}

/// [`verify_password`] on a thread for blocking work.
async fn verify_password_off(hash: String, password: String) -> bool {
    tokio::task::spawn_blocking(move || verify_password(&hash, &password)).await.unwrap_or(false)
}

/// How the request was authenticated.
#[derive(Clone, Debug)]
pub enum Credential {
    /// A browser session, with its CSRF token and the stored hash of its id.
    Session { csrf: String, token_hash: String },
    /// An API token, limited to its scopes.
    Token { scopes: Vec<Permission> },
}

/// The signed-in account of a request.
#[derive(Clone, Debug)]
pub struct Principal {
    pub account_id: i64,
    pub username: String,
    pub display_name: String,
    pub grants: Vec<Grant>,
    pub credential: Credential,
    /// The account signs in with a second factor.
    pub totp: bool,
}

impl Principal {
    /// The scopes an API token limits the account to, if any.
    pub fn limit(&self) -> Option<&[Permission]> {
        match &self.credential {
            Credential::Token { scopes } => Some(scopes),
            Credential::Session { .. } => None,
        }
    }

    pub fn csrf(&self) -> &str {
        match &self.credential {
            Credential::Session { csrf, .. } => csrf,
            Credential::Token { .. } => "",
        }
    }
}

async fn principal(db: &Db, account_id: i64, credential: Credential) -> Result<Option<Arc<Principal>>, StoreError> {
    let Some(account) = db.account_by_id(account_id).await? else { return Ok(None) };
    // A closed account, or one locked after failed sign-ins, acts through
    // none of its credentials until it is opened or the lock ends.
    if !account.active || account.locked_until.is_some_and(|until| until > Utc::now()) {
        return Ok(None);
    }
    let grants = db.grants_of(account.id).await?.into_iter().map(|g| g.grant).collect();
    Ok(Some(Arc::new(Principal {
        account_id: account.id,
        username: account.username,
        display_name: account.display_name,
        grants,
        credential,
        totp: account.totp,
    })))
}

/// The principal of a bearer token, if the token is valid.
pub async fn from_token(db: &Db, token: &str) -> Result<Option<Arc<Principal>>, StoreError> {
    let Some(found) = db.token(&token_hash(token)).await? else { return Ok(None) };
    principal(db, found.account_id, Credential::Token { scopes: found.scopes }).await
}

/// The principal of a session cookie, if the session is alive; an expired
/// session is ended on the way.
pub async fn from_session(db: &Db, token: &str, now: DateTime<Utc>) -> Result<Option<Arc<Principal>>, StoreError> {
    let hash = token_hash(token);
    let Some(session) = db.session(&hash).await? else { return Ok(None) };
    if now - session.last_seen > IDLE || now - session.created_at > LIFETIME {
        db.close_session(&hash, None).await?;
        return Ok(None);
    }
    // Writing on every request would make every page view a write; a
    // minute's precision is enough for an idle timeout of half an hour.
    if now - session.last_seen > Duration::minutes(1) {
        db.touch_session(&hash, now).await?;
    }
    principal(db, session.account_id, Credential::Session { csrf: session.csrf_token, token_hash: hash }).await
}

/// Why a sign-in failed, in the words shown to the user. An unknown name,
/// a wrong password and a locked or closed account get one and the same
/// answer: which of them it was would tell an attacker which names exist
/// and which accounts their guessing has locked.
#[derive(Debug)]
pub enum SignInError {
    Refused,
    /// The code of the second step is wrong or was used.
    WrongCode,
    /// The sign-in waited too long for its code (or never began).
    Expired,
    Store(StoreError),
}

impl From<StoreError> for SignInError {
    fn from(e: StoreError) -> Self {
        SignInError::Store(e)
    }
}

impl SignInError {
    pub fn message(&self) -> String {
        match self {
            SignInError::Refused => format!(
                "Tên đăng nhập hoặc mật khẩu không đúng, hoặc tài khoản đang tạm khóa do đăng nhập sai \
                 {MAX_FAILURES} lần liên tiếp (thử lại sau {} phút).",
                LOCKOUT.num_minutes()
            ),
            SignInError::WrongCode => format!(
                "Mã xác thực không đúng hoặc đã dùng. Nhập mã đang hiện trong ứng dụng xác thực, hoặc một mã khôi phục; \
                 sai {MAX_FAILURES} lần liên tiếp thì tài khoản bị tạm khóa."
            ),
            SignInError::Expired => {
                format!("Đã quá {} phút kể từ khi nhập mật khẩu: hãy đăng nhập lại.", SECOND_FACTOR_WAIT.num_minutes())
            }
            SignInError::Store(_) => "Hệ thống tạm thời không truy cập được cơ sở dữ liệu.".into(),
        }
    }
}

/// A new session: the cookie token (given to the browser once) and its CSRF token.
pub struct NewSession {
    pub token: String,
}

/// What a right password leads to.
pub enum SignedIn {
    /// A session, for an account without a second factor.
    Session(NewSession),
    /// A sign-in waiting for its code: the token of the waiting sign-in,
    /// for a short-lived cookie of its own.
    SecondFactor { token: String },
}

/// How long a right password waits for its code.
pub const SECOND_FACTOR_WAIT: Duration = Duration::minutes(5);

/// Checks a password and opens a session, ending the one the browser came
/// with (`previous`, the token from its cookie) so that a session id planted
/// before sign-in is worthless after it.
pub async fn sign_in(db: &Db, username: &str, password: &str, previous: Option<&str>) -> Result<SignedIn, SignInError> {
    let now = Utc::now();
    let account = db.account(username.trim()).await?;
    // Every refusal costs the same: one hash (of nothing anyone types when
    // there is no account or no password) and one write.
    let hash = account.as_ref().and_then(|a| a.password_hash.clone()).unwrap_or_else(|| DUMMY_HASH.to_string());
    let matches = verify_password_off(hash, password.to_string()).await;
    let Some(account) = account else {
        db.record_unknown_sign_in().await?;
        return Err(SignInError::Refused);
    };
    let locked = account.locked_until.is_some_and(|u| u > now);
    let usable = account.active && account.password_sign_in && account.password_hash.is_some();
    if locked || !usable || !matches {
        db.record_failed_sign_in(&account, MAX_FAILURES, now + LOCKOUT).await?;
        return Err(SignInError::Refused);
    }
    Ok(signed_in(db, &account, previous).await?)
}

/// What follows a first factor that held (a password, the identity
/// provider's word): the second factor of an account that has one, else a
/// session.
pub async fn signed_in(
    db: &Db,
    account: &baocao_store::accounts::Account,
    previous: Option<&str>,
) -> Result<SignedIn, StoreError> {
    let token = new_token();
    if account.totp {
        db.begin_pending_sign_in(account.id, &token_hash(&token), Utc::now() + SECOND_FACTOR_WAIT).await?;
        return Ok(SignedIn::SecondFactor { token });
    }
    Ok(SignedIn::Session(open_session(db, account, previous).await?))
}

/// Opens a session for `account`, ending the one the browser came with.
pub async fn open_session(
    db: &Db,
    account: &baocao_store::accounts::Account,
    previous: Option<&str>,
) -> Result<NewSession, StoreError> {
    let token = new_token();
    let previous = previous.map(token_hash);
    db.open_session(account, &token_hash(&token), &new_token(), previous.as_deref()).await?;
    Ok(NewSession { token })
}

/// Checks the code of a sign-in waiting for it (`pending`, the token of its
/// cookie): a time-based code not used before, or an unused recovery code.
/// A wrong code counts as a failed sign-in (five lock the account).
pub async fn second_factor(
    db: &Db,
    pending: &str,
    code: &str,
    previous: Option<&str>,
) -> Result<NewSession, SignInError> {
    let now = Utc::now();
    let waiting = token_hash(pending);
    let Some(account_id) = db.pending_sign_in(&waiting, now).await? else { return Err(SignInError::Expired) };
    let Some(account) = db.account_by_id(account_id).await? else { return Err(SignInError::Expired) };
    if !account.active || account.locked_until.is_some_and(|u| u > now) {
        return Err(SignInError::Refused);
    }
    let (secret, _) = db.totp_secrets(account.id).await?;
    let step = secret.and_then(|s| baocao_credentials::totp_step(&s, code, now.timestamp().max(0) as u64));
    let accepted = match step {
        Some(step) => db.use_totp_step(account.id, step).await?,
        None => db.use_recovery_code(account.id, &baocao_credentials::recovery_code_hash(code)).await?,
    };
    if !accepted {
        db.record_failed_sign_in(&account, MAX_FAILURES, now + LOCKOUT).await?;
        return Err(SignInError::WrongCode);
    }
    db.end_pending_sign_in(&waiting).await?;
    Ok(open_session(db, &account, previous).await?)
}

/// A valid argon2 hash of nothing anyone types, for timing equality.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0V8CCR5ygsAfHgkwdC3fsmjWW6Vln5LxJcSM2zgAxIM";
