//! One-time links to set a password: an activation link for a new account,
//! a reset link for a forgotten password. The link's token is random
//! (256 bits); only its SHA-256 is stored, and the message that carries it
//! is written to the outbox in the same transaction. A token works once,
//! before it expires, for an open account; a newer link of the same kind
//! replaces the older.

use std::collections::HashMap;

use baocao_core::mail::{Link, LinkParams, Params};
use baocao_credentials::{new_token, token_hash};
use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use sqlx::QueryBuilder;

use crate::accounts::username_taken;
use crate::audit::Change;
use crate::sql::{ROWS, push_list};
use crate::{Db, StoreError, WriteTx, append_audit, append_audits, with_conn, with_pool};

/// How long an activation link works: the cutover's accounts are mailed the
/// day before, and officials may be away for some days.
pub const ACTIVATION_VALID: Duration = Duration::days(14);
/// How long a reset link works.
pub const RESET_VALID: Duration = Duration::hours(1);
/// At most one reset mail per account this often, whoever asks.
pub const RESET_INTERVAL: Duration = Duration::minutes(5);

fn validity(link: Link) -> Duration {
    match link {
        Link::Activation => ACTIVATION_VALID,
        Link::Reset => RESET_VALID,
    }
}

/// The refusal of a link that does not work, whatever the reason (unknown,
/// used, expired, replaced, account closed): a guesser learns nothing.
fn unusable() -> StoreError {
    StoreError::Conflict(
        "Liên kết không dùng được: liên kết chỉ dùng một lần và có thời hạn. Hãy dùng «Quên mật khẩu» để nhận liên kết mới."
            .into(),
    )
}

impl Db {
    /// Sets where an account's mail goes.
    pub(crate) async fn set_email_in(tx: &mut WriteTx, account_id: i64, email: &str) -> Result<(), StoreError> {
        StoreError::check_text("địa chỉ thư (email)", email, false)?;
        if !email.contains('@') {
            return Err(StoreError::Unprocessable(format!("«{email}» không phải địa chỉ thư điện tử.")));
        }
        with_conn!(tx, |conn| {
            sqlx::query("UPDATE accounts SET email = $1 WHERE id = $2")
                .bind(email)
                .bind(account_id)
                .execute(&mut *conn)
                .await?;
        });
        Ok(())
    }

    /// Sets where an account's mail goes (audited).
    pub async fn set_account_email(&self, actor: &str, username: &str, email: &str) -> Result<(), StoreError> {
        self.change_account_mail(actor, username, Some(email), false).await
    }

    /// Records `email` as the account's address and mails it an activation
    /// link, in the caller's transaction.
    pub(crate) async fn invite_in(
        tx: &mut WriteTx,
        account_id: i64,
        email: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        Self::set_email_in(tx, account_id, email).await?;
        Self::mail_link_in(tx, account_id, Link::Activation, now).await
    }

    /// A fresh link of kind `link` for the account, mailed to its
    /// address; earlier unused links of that kind stop working.
    async fn mail_link_in(tx: &mut WriteTx, account_id: i64, link: Link, now: DateTime<Utc>) -> Result<(), StoreError> {
        let token = new_token();
        let expires_at = now + validity(link);
        let (username, display_name, email): (String, String, Option<String>) = with_conn!(tx, |conn| {
            sqlx::query(
                "UPDATE account_tokens SET used_at = $1 WHERE account_id = $2 AND purpose = $3 AND used_at IS NULL",
            )
            .bind(now)
            .bind(account_id)
            .bind(link.as_str())
            .execute(&mut *conn)
            .await?;
            sqlx::query(
                "INSERT INTO account_tokens (account_id, purpose, token_hash, created_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(account_id)
            .bind(link.as_str())
            .bind(token_hash(&token))
            .bind(now)
            .bind(expires_at)
            .execute(&mut *conn)
            .await?;
            sqlx::query_as("SELECT username, display_name, email FROM accounts WHERE id = $1")
                .bind(account_id)
                .fetch_one(&mut *conn)
                .await?
        });
        let email = email.ok_or_else(|| {
            StoreError::Conflict(format!("Tài khoản «{username}» chưa có địa chỉ thư để gửi liên kết."))
        })?;
        let params = Params::Link(LinkParams { display_name, username, token, expires_at });
        Self::enqueue_in(tx, link.template(), &email, Some(account_id), &params, now).await?;
        Ok(())
    }

    /// Creates the accounts `(username, display name)` of an account plan
    /// without passwords, audited; those named by an address are mailed
    /// their activation links. A few multi-row statements whatever the
    /// number: a cutover creates thousands at once.
    pub(crate) async fn create_planned_accounts_in(
        tx: &mut WriteTx,
        actor: &str,
        accounts: &[(&str, &str)],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        for (username, display_name) in accounts {
            StoreError::check_text("tên đăng nhập (username)", username, false)?;
            StoreError::check_text("họ và tên (display name)", display_name, false)?;
        }
        let link = Link::Activation;
        let expires_at = now + validity(link);
        with_conn!(tx, |conn| {
            let mut ids: HashMap<String, i64> = HashMap::with_capacity(accounts.len());
            for chunk in accounts.chunks(ROWS) {
                let mut select = QueryBuilder::new("SELECT username FROM accounts WHERE username IN ");
                push_list(&mut select, chunk.iter().map(|(username, _)| *username));
                let taken: Option<String> = select.build_query_scalar().fetch_optional(&mut *conn).await?;
                if let Some(username) = taken {
                    return Err(username_taken(&username));
                }
                let mut insert = QueryBuilder::new("INSERT INTO accounts (username, display_name, email, created_at) ");
                insert.push_values(chunk, |mut b, (username, display_name)| {
                    b.push_bind(*username)
                        .push_bind(*display_name)
                        .push_bind(username.contains('@').then_some(*username))
                        .push_bind(now);
                });
                insert.push(" RETURNING username, id");
                let rows: Vec<(String, i64)> = insert.build_query_as().fetch_all(&mut *conn).await?;
                ids.extend(rows);
            }
            // The plan's usernames are the officials' addresses: each such
            // account is mailed its activation link.
            let invited: Vec<(i64, &str, &str, String)> = accounts
                .iter()
                .filter(|(username, _)| username.contains('@'))
                .map(|(username, display_name)| (ids[*username], *username, *display_name, new_token()))
                .collect();
            for chunk in invited.chunks(ROWS) {
                let mut tokens = QueryBuilder::new(
                    "INSERT INTO account_tokens (account_id, purpose, token_hash, created_at, expires_at) ",
                );
                tokens.push_values(chunk, |mut b, (id, _, _, token)| {
                    b.push_bind(*id)
                        .push_bind(link.as_str())
                        .push_bind(token_hash(token))
                        .push_bind(now)
                        .push_bind(expires_at);
                });
                tokens.build().execute(&mut *conn).await?;
                let mut mail = QueryBuilder::new(
                    "INSERT INTO outbox (template, recipient, account_id, params, next_attempt_at, created_at) ",
                );
                mail.push_values(chunk, |mut b, (id, username, display_name, token)| {
                    let params = Params::Link(LinkParams {
                        display_name: display_name.to_string(),
                        username: username.to_string(),
                        token: token.clone(),
                        expires_at,
                    });
                    b.push_bind(link.template().as_str())
                        .push_bind(*username)
                        .push_bind(*id)
                        .push_bind(params.to_json())
                        .push_bind(now)
                        .push_bind(now);
                });
                mail.build().execute(&mut *conn).await?;
            }
            let changes: Vec<Change<'_>> = accounts
                .iter()
                .map(|(username, display_name)| Change {
                    at: now,
                    actor,
                    action: "account.create",
                    object: format!("account {username}"),
                    before: None,
                    after: Some(json!({ "display_name": display_name, "password": false })),
                })
                .collect();
            append_audits!(conn, &changes);
            Ok(())
        })
    }

    /// Creates an account without a password and mails `email` its
    /// activation link, in one transaction (an administrator's or a
    /// provisioning client's new account).
    pub async fn invite_account(
        &self,
        actor: &str,
        username: &str,
        display_name: &str,
        email: &str,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        let id = Self::create_account_in(&mut tx, actor, username, display_name, None).await?;
        Self::invite_in(&mut tx, id, email, Utc::now()).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Mails an activation link again (an administrator's action, audited),
    /// to the account's address or a new one.
    pub async fn send_activation(&self, actor: &str, username: &str, email: Option<&str>) -> Result<(), StoreError> {
        self.change_account_mail(actor, username, email, true).await
    }

    /// Sets an account's address, mails it an activation link, or both, in
    /// one audited transaction; an activation link only to an open account.
    async fn change_account_mail(
        &self,
        actor: &str,
        username: &str,
        email: Option<&str>,
        activation: bool,
    ) -> Result<(), StoreError> {
        let now = Utc::now();
        let mut tx = self.begin_write().await?;
        let id: i64 = with_conn!(tx, |conn| sqlx::query_scalar(
            "SELECT id FROM accounts WHERE username = $1 AND (active OR NOT $2)"
        )
        .bind(username)
        .bind(activation)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| crate::accounts::unknown_account(username))?);
        if let Some(email) = email {
            Self::set_email_in(&mut tx, id, email).await?;
        }
        if activation {
            Self::mail_link_in(&mut tx, id, Link::Activation, now).await?;
        }
        with_conn!(tx, |conn| {
            let change = Change {
                at: now,
                actor,
                action: if activation { "account.activation_mail" } else { "account.email" },
                object: format!("account {username}"),
                before: None,
                after: Some(json!({ "email": email })),
            };
            append_audit!(conn, &change);
        });
        tx.commit().await?;
        Ok(())
    }

    /// Mails a reset link to the open account whose username or address is
    /// `who`, unless one was mailed less than [`RESET_INTERVAL`] ago or the
    /// account signs in only through the identity provider (a password set
    /// from the link would not sign it in). The
    /// answer says whether a mail was written, for the log only: the page
    /// answers the same either way.
    pub async fn request_reset(&self, who: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let who = who.trim();
        if who.is_empty() || who.len() > 320 {
            return Ok(false);
        }
        let mut tx = self.begin_write().await?;
        let found: Option<(i64, Option<DateTime<Utc>>)> = with_conn!(tx, |conn| {
            sqlx::query_as(
            "SELECT a.id, (SELECT MAX(t.created_at) FROM account_tokens t WHERE t.account_id = a.id AND t.purpose = 'reset')
             FROM accounts a
             WHERE (a.username = $1 OR LOWER(a.email) = LOWER($1)) AND a.active AND a.email IS NOT NULL
               AND a.password_sign_in
             ORDER BY a.id LIMIT 1"
        )
        .bind(who)
        .fetch_optional(&mut *conn)
        .await?
        });
        let Some((id, last)) = found else { return Ok(false) };
        if last.is_some_and(|last| now - last < RESET_INTERVAL) {
            return Ok(false);
        }
        Self::mail_link_in(&mut tx, id, Link::Reset, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The account (username, display name) a working link of kind
    /// `link` belongs to, for the page that sets the password.
    pub async fn link_account(
        &self,
        link: Link,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<(String, String), StoreError> {
        let row: Option<(String, String)> = with_pool!(self, |pool| sqlx::query_as(
            "SELECT a.username, a.display_name FROM account_tokens t JOIN accounts a ON a.id = t.account_id
             WHERE t.token_hash = $1 AND t.purpose = $2 AND t.used_at IS NULL AND t.expires_at > $3 AND a.active"
        )
        .bind(token_hash(token))
        .bind(link.as_str())
        .bind(now)
        .fetch_optional(pool)
        .await?);
        row.ok_or_else(unusable)
    }

    /// Sets the password of the account a working link belongs to and uses
    /// the link up, in one transaction: the account's other links of that
    /// kind and its sessions end too. Returns the username.
    pub async fn redeem_link(
        &self,
        link: Link,
        token: &str,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<String, StoreError> {
        let mut tx = self.begin_write().await?;
        let username = with_conn!(tx, |conn| {
            // The conditional update is the check: of two requests with one
            // link, only one finds it unused.
            let account: Option<i64> = sqlx::query_scalar(
                "UPDATE account_tokens SET used_at = $3
                 WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3
                   AND account_id IN (SELECT id FROM accounts WHERE active)
                 RETURNING account_id",
            )
            .bind(token_hash(token))
            .bind(link.as_str())
            .bind(now)
            .fetch_optional(&mut *conn)
            .await?;
            let Some(account) = account else { return Err(unusable()) };
            sqlx::query(
                "UPDATE account_tokens SET used_at = $1 WHERE account_id = $2 AND purpose = $3 AND used_at IS NULL",
            )
            .bind(now)
            .bind(account)
            .bind(link.as_str())
            .execute(&mut *conn)
            .await?;
            let username: String = sqlx::query_scalar(
                "UPDATE accounts SET password_hash = $1, failed_sign_ins = 0, locked_until = NULL WHERE id = $2 RETURNING username",
            )
            .bind(password_hash)
            .bind(account)
            .fetch_one(&mut *conn)
            .await?;
            sqlx::query("DELETE FROM sessions WHERE account_id = $1").bind(account).execute(&mut *conn).await?;
            let change = Change {
                at: now,
                actor: &username,
                action: match link {
                    Link::Activation => "account.activate",
                    Link::Reset => "account.reset_password",
                },
                object: format!("account {username}"),
                before: None,
                after: None,
            };
            append_audit!(conn, &change);
            username
        });
        tx.commit().await?;
        Ok(username)
    }
}
