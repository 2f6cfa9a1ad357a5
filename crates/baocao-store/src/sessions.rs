//! Browser sessions and API tokens of accounts.
//!
//! Session and API tokens arrive here only as their SHA-256 hashes (made by
//! `baocao-credentials`): nothing stored lets anyone sign in. Signing in and
//! out, creating and revoking a token are audited in the same transaction.

use baocao_core::access::Permission;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use crate::accounts::{Account, unknown_account};
use crate::audit::Change;
use crate::{Db, StoreError, append_audit, with_conn, with_pool};

/// A session as found by its token.
#[derive(Clone, Debug)]
pub struct Session {
    pub account_id: i64,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
}

/// An API token as found by its hash.
#[derive(Clone, Debug)]
pub struct Token {
    pub id: i64,
    pub account_id: i64,
    pub scopes: Vec<Permission>,
}

/// An API token as listed (never the token itself).
#[derive(Clone, Debug, Serialize)]
pub struct TokenSummary {
    pub id: i64,
    pub username: String,
    pub name: String,
    pub scopes: Vec<Permission>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl Db {
    /// Opens a session (after a successful sign-in): failures are reset and
    /// the account's other sessions with `replaces` (the token the browser
    /// came with, if any) are ended so a planted session id is useless.
    pub async fn open_session(
        &self,
        account: &Account,
        token_hash: &str,
        csrf_token: &str,
        replaces: Option<&str>,
    ) -> Result<(), StoreError> {
        let now = Utc::now();
        let mut tx = self.begin_write().await?;
        with_conn!(tx, |conn| {
            if let Some(old) = replaces {
                sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(old).execute(&mut *conn).await?;
            }
            sqlx::query("UPDATE accounts SET failed_sign_ins = 0, locked_until = NULL WHERE id = $1")
                .bind(account.id)
                .execute(&mut *conn)
                .await?;
            sqlx::query(
                "INSERT INTO sessions (token_hash, account_id, csrf_token, created_at, last_seen) VALUES ($1, $2, $3, $4, $4)",
            )
            .bind(token_hash)
            .bind(account.id)
            .bind(csrf_token)
            .bind(now)
            .execute(&mut *conn)
            .await?;
            let change = Change {
                at: now,
                actor: &account.username,
                action: "session.sign_in",
                object: format!("account {}", account.username),
                before: None,
                after: None,
            };
            append_audit!(conn, &change);
        });
        tx.commit().await?;
        Ok(())
    }

    pub async fn session(&self, token_hash: &str) -> Result<Option<Session>, StoreError> {
        let row: Option<(i64, String, DateTime<Utc>, DateTime<Utc>)> = with_pool!(self, |pool| sqlx::query_as(
            "SELECT account_id, csrf_token, created_at, last_seen FROM sessions WHERE token_hash = $1"
        )
        .bind(token_hash)
        .fetch_optional(pool)
        .await?);
        Ok(row.map(|(account_id, csrf_token, created_at, last_seen)| Session {
            account_id,
            csrf_token,
            created_at,
            last_seen,
        }))
    }

    pub async fn touch_session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        with_pool!(self, |pool| sqlx::query("UPDATE sessions SET last_seen = $1 WHERE token_hash = $2")
            .bind(now)
            .bind(token_hash)
            .execute(pool)
            .await
            .map(drop)?);
        Ok(())
    }

    /// Ends a session (sign-out or expiry); `actor` is recorded when given.
    pub async fn close_session(&self, token_hash: &str, actor: Option<&str>) -> Result<(), StoreError> {
        let now = Utc::now();
        let mut tx = self.begin_write().await?;
        with_conn!(tx, |conn| {
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(&mut *conn).await?;
            if let Some(actor) = actor {
                let change = Change {
                    at: now,
                    actor,
                    action: "session.sign_out",
                    object: format!("account {actor}"),
                    before: None,
                    after: None,
                };
                append_audit!(conn, &change);
            }
        });
        tx.commit().await?;
        Ok(())
    }

    /// Stores a new API token's hash; the token itself is shown once, by the caller.
    pub async fn create_token(
        &self,
        actor: &str,
        username: &str,
        name: &str,
        token_hash: &str,
        scopes: &[Permission],
    ) -> Result<i64, StoreError> {
        let now = Utc::now();
        let mut tx = self.begin_write().await?;
        let out = with_conn!(tx, |conn| {
            let account: i64 = sqlx::query_scalar("SELECT id FROM accounts WHERE username = $1")
                .bind(username)
                .fetch_optional(&mut *conn)
                .await?
                .ok_or_else(|| unknown_account(username))?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO api_tokens (account_id, name, token_hash, scopes, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(account)
            .bind(name)
            .bind(token_hash)
            .bind(serde_json::to_string(scopes).expect("permissions serialize"))
            .bind(now)
            .fetch_one(&mut *conn)
            .await?;
            let change = Change {
                at: now,
                actor,
                action: "token.create",
                object: format!("account {username}"),
                before: None,
                after: Some(json!({ "token": id, "name": name, "scopes": scopes })),
            };
            append_audit!(conn, &change);
            id
        });
        tx.commit().await?;
        Ok(out)
    }

    /// A token that has not been revoked, by its hash.
    pub async fn token(&self, token_hash: &str) -> Result<Option<Token>, StoreError> {
        let row: Option<(i64, i64, String)> = with_pool!(self, |pool| sqlx::query_as(
            "SELECT t.id, t.account_id, t.scopes FROM api_tokens t JOIN accounts a ON a.id = t.account_id
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND a.active"
        )
        .bind(token_hash)
        .fetch_optional(pool)
        .await?);
        row.map(|(id, account_id, scopes)| {
            let scopes =
                serde_json::from_str(&scopes).map_err(|e| StoreError::Corrupt(format!("token scopes: {e}")))?;
            Ok(Token { id, account_id, scopes })
        })
        .transpose()
    }

    pub async fn revoke_token(&self, actor: &str, id: i64) -> Result<(), StoreError> {
        let now = Utc::now();
        let mut tx = self.begin_write().await?;
        with_conn!(tx, |conn| {
            let username: String = sqlx::query_scalar(
                "SELECT a.username FROM api_tokens t JOIN accounts a ON a.id = t.account_id WHERE t.id = $1",
            )
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("Không có mã truy cập (API token) số {id}.")))?;
            sqlx::query("UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2")
                .bind(now)
                .bind(id)
                .execute(&mut *conn)
                .await?;
            let change = Change {
                at: now,
                actor,
                action: "token.revoke",
                object: format!("account {username}"),
                before: None,
                after: Some(json!({ "token": id })),
            };
            append_audit!(conn, &change);
        });
        tx.commit().await?;
        Ok(())
    }

    pub async fn tokens(&self) -> Result<Vec<TokenSummary>, StoreError> {
        type Row = (i64, String, String, String, DateTime<Utc>, Option<DateTime<Utc>>);
        let rows: Vec<Row> = with_pool!(self, |pool| sqlx::query_as(
            "SELECT t.id, a.username, t.name, t.scopes, t.created_at, t.revoked_at
             FROM api_tokens t JOIN accounts a ON a.id = t.account_id ORDER BY t.id"
        )
        .fetch_all(pool)
        .await?);
        rows.into_iter()
            .map(|(id, username, name, scopes, created_at, revoked_at)| {
                let scopes =
                    serde_json::from_str(&scopes).map_err(|e| StoreError::Corrupt(format!("token scopes: {e}")))?;
                Ok(TokenSummary { id, username, name, scopes, created_at, revoked_at })
            })
            .collect()
    }
}
