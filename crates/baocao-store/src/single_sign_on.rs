//! Single sign-on (OpenID Connect): sign-ins waiting for the provider's
//! answer, and the account a provider's subject signs into.
//!
//! An account is linked to the provider's subject the first time that
//! subject signs in with a verified e-mail that is the account's address
//! (or its username, when the account plan made it from the address);
//! from then on only the subject counts, so a later change of address at
//! the provider cannot move the sign-in to another account.

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::accounts::Account;
use crate::audit::Change;
use crate::{Db, StoreError, append_audit, with_conn, with_pool};

/// A sign-in sent to the provider, as its answer needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingSso {
    /// The PKCE verifier of the code challenge sent.
    pub verifier: String,
    /// The nonce the ID token must carry.
    pub nonce: String,
    /// Where to go once signed in (a path of this site).
    pub next: String,
}

impl Db {
    /// Keeps a sign-in sent to the provider until `expires_at`, found by the
    /// hash of its `state`; those that expired are dropped.
    pub async fn begin_sso(
        &self,
        state_hash: &str,
        pending: &PendingSso,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        with_conn!(&mut tx, |conn| {
            sqlx::query("DELETE FROM sso_pending WHERE expires_at <= $1").bind(now).execute(&mut *conn).await?;
            sqlx::query(
                "INSERT INTO sso_pending (state_hash, verifier, nonce, next, expires_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(state_hash)
            .bind(&pending.verifier)
            .bind(&pending.nonce)
            .bind(&pending.next)
            .bind(expires_at)
            .execute(&mut *conn)
            .await?;
        });
        tx.commit().await?;
        Ok(())
    }

    /// Takes the sign-in of `state_hash` if it has not expired: once only.
    pub async fn take_sso(&self, state_hash: &str, now: DateTime<Utc>) -> Result<Option<PendingSso>, StoreError> {
        let mut tx = self.begin_write().await?;
        let row: Option<(String, String, String)> = with_conn!(&mut tx, |conn| sqlx::query_as(
            "DELETE FROM sso_pending WHERE state_hash = $1 AND expires_at > $2 RETURNING verifier, nonce, next"
        )
        .bind(state_hash)
        .bind(now)
        .fetch_optional(&mut *conn)
        .await?);
        tx.commit().await?;
        Ok(row.map(|(verifier, nonce, next)| PendingSso { verifier, nonce, next }))
    }

    /// The account the provider's `subject` signs into: the one linked to
    /// it, or else the one whose address (or username) is the provider's
    /// verified `email`, which is then linked (audited). None when there
    /// is no such account, or more than one.
    pub async fn sso_account(
        &self,
        issuer: &str,
        subject: &str,
        email: Option<&str>,
    ) -> Result<Option<Account>, StoreError> {
        // A subject is unique at its provider only.
        let key = format!("{issuer}#{subject}");
        let linked: Option<i64> =
            with_pool!(self, |pool| sqlx::query_scalar("SELECT id FROM accounts WHERE sso_subject = $1")
                .bind(&key)
                .fetch_optional(pool)
                .await?);
        if let Some(id) = linked {
            return self.account_by_id(id).await;
        }
        let Some(email) = email.map(str::trim).filter(|e| !e.is_empty()) else { return Ok(None) };
        let mut tx = self.begin_write().await?;
        let found = with_conn!(&mut tx, |conn| {
            let ids: Vec<(i64, String)> = sqlx::query_as(
                "SELECT id, username FROM accounts
                 WHERE sso_subject IS NULL AND (LOWER(email) = LOWER($1) OR LOWER(username) = LOWER($1))",
            )
            .bind(email)
            .fetch_all(&mut *conn)
            .await?;
            match ids.as_slice() {
                [(id, username)] => {
                    sqlx::query("UPDATE accounts SET sso_subject = $1 WHERE id = $2 AND sso_subject IS NULL")
                        .bind(&key)
                        .bind(id)
                        .execute(&mut *conn)
                        .await?;
                    let change = Change {
                        at: Utc::now(),
                        actor: username,
                        action: "account.link_sso",
                        object: format!("account {username}"),
                        before: None,
                        after: Some(json!({ "issuer": issuer, "subject": subject, "email": email })),
                    };
                    append_audit!(conn, &change);
                    Some(*id)
                }
                _ => None,
            }
        });
        tx.commit().await?;
        match found {
            Some(id) => self.account_by_id(id).await,
            None => Ok(None),
        }
    }

    /// Lets an account sign in with its own password, or only through the
    /// provider (audited); turning it off ends the account's sessions.
    pub async fn set_password_sign_in(&self, actor: &str, username: &str, allowed: bool) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        with_conn!(&mut tx, |conn| {
            let id: Option<i64> =
                sqlx::query_scalar("UPDATE accounts SET password_sign_in = $1 WHERE username = $2 RETURNING id")
                    .bind(allowed)
                    .bind(username)
                    .fetch_optional(&mut *conn)
                    .await?;
            let Some(id) = id else { return Err(crate::accounts::unknown_account(username)) };
            if !allowed {
                sqlx::query("DELETE FROM sessions WHERE account_id = $1").bind(id).execute(&mut *conn).await?;
            }
            let change = Change {
                at: Utc::now(),
                actor,
                action: "account.password_sign_in",
                object: format!("account {username}"),
                before: None,
                after: Some(json!({ "allowed": allowed })),
            };
            append_audit!(conn, &change);
        });
        tx.commit().await?;
        Ok(())
    }
}
