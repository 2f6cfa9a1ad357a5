//! Two-factor sign-in: an account's time-based code secret (offered, then
//! confirmed with a code from it), the last step used (a code works once),
//! single-use recovery codes, and the sign-ins whose password was right
//! waiting for their code. Codes are checked by `baocao-credentials`; this
//! keeps what they are checked against.

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::audit::Change;
use crate::{Db, StoreError, append_audit, with_conn, with_pool};

impl Db {
    /// The secret offered to an account that has none: the one already
    /// waiting, or `fresh`, kept waiting until a code from it is typed.
    pub async fn offer_totp(&self, account_id: i64, fresh: &str) -> Result<Option<String>, StoreError> {
        let mut tx = self.begin_write().await?;
        let offered: Option<Option<String>> = with_conn!(tx, |conn| sqlx::query_scalar(
            "UPDATE accounts SET totp_pending = COALESCE(totp_pending, $2)
             WHERE id = $1 AND totp_secret IS NULL RETURNING totp_pending"
        )
        .bind(account_id)
        .bind(fresh)
        .fetch_optional(&mut *conn)
        .await?);
        tx.commit().await?;
        Ok(offered.flatten())
    }

    /// The account's confirmed secret and the one offered, if any.
    pub async fn totp_secrets(&self, account_id: i64) -> Result<(Option<String>, Option<String>), StoreError> {
        let found: Option<(Option<String>, Option<String>)> =
            with_pool!(self, |pool| sqlx::query_as("SELECT totp_secret, totp_pending FROM accounts WHERE id = $1")
                .bind(account_id)
                .fetch_optional(pool)
                .await?);
        Ok(found.unwrap_or((None, None)))
    }

    /// Makes the offered secret the account's, its code of `step` used,
    /// with these recovery codes (their hashes) replacing any before.
    pub async fn confirm_totp(
        &self,
        account_id: i64,
        username: &str,
        step: u64,
        recovery_hashes: &[String],
    ) -> Result<(), StoreError> {
        let now = Utc::now();
        let mut tx = self.begin_write().await?;
        with_conn!(tx, |conn| {
            let confirmed = sqlx::query(
                "UPDATE accounts SET totp_secret = totp_pending, totp_pending = NULL, totp_last_step = $2
                 WHERE id = $1 AND totp_pending IS NOT NULL",
            )
            .bind(account_id)
            .bind(step as i64)
            .execute(&mut *conn)
            .await?
            .rows_affected();
            if confirmed == 0 {
                return Err(StoreError::Conflict("Không có mã bí mật nào đang chờ xác nhận: hãy bắt đầu lại.".into()));
            }
            sqlx::query("DELETE FROM recovery_codes WHERE account_id = $1")
                .bind(account_id)
                .execute(&mut *conn)
                .await?;
            for hash in recovery_hashes {
                sqlx::query("INSERT INTO recovery_codes (account_id, code_hash) VALUES ($1, $2)")
                    .bind(account_id)
                    .bind(hash)
                    .execute(&mut *conn)
                    .await?;
            }
            let change = Change {
                at: now,
                actor: username,
                action: "account.totp_enable",
                object: format!("account {username}"),
                before: None,
                after: Some(json!({ "recovery_codes": recovery_hashes.len() })),
            };
            append_audit!(conn, &change);
        });
        tx.commit().await?;
        Ok(())
    }

    /// Uses the account's code of time step `step`: false when that step,
    /// or a later one, was used already (a code seen once is spent).
    pub async fn use_totp_step(&self, account_id: i64, step: u64) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let spent = with_conn!(tx, |conn| sqlx::query(
            "UPDATE accounts SET totp_last_step = $2
             WHERE id = $1 AND totp_secret IS NOT NULL AND (totp_last_step IS NULL OR totp_last_step < $2)"
        )
        .bind(account_id)
        .bind(step as i64)
        .execute(&mut *conn)
        .await?
        .rows_affected());
        tx.commit().await?;
        Ok(spent == 1)
    }

    /// Uses one of the account's recovery codes (by its hash): false when
    /// it is not one, or was used.
    pub async fn use_recovery_code(&self, account_id: i64, code_hash: &str) -> Result<bool, StoreError> {
        let now = Utc::now();
        let mut tx = self.begin_write().await?;
        let used = with_conn!(tx, |conn| sqlx::query(
            "UPDATE recovery_codes SET used_at = $3 WHERE account_id = $1 AND code_hash = $2 AND used_at IS NULL"
        )
        .bind(account_id)
        .bind(code_hash)
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected());
        tx.commit().await?;
        Ok(used == 1)
    }

    /// Turns an account's second factor off (a lost phone and lost
    /// recovery codes: an administrator's decision, audited); the account
    /// enrols again at its next sign-in if its roles require it.
    pub async fn disable_totp(&self, actor: &str, username: &str) -> Result<(), StoreError> {
        let now = Utc::now();
        let mut tx = self.begin_write().await?;
        let id: i64 = with_conn!(tx, |conn| {
            let id: i64 = sqlx::query_scalar(
                "UPDATE accounts SET totp_secret = NULL, totp_pending = NULL, totp_last_step = NULL
                 WHERE username = $1 RETURNING id",
            )
            .bind(username)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| crate::accounts::unknown_account(username))?;
            sqlx::query("DELETE FROM recovery_codes WHERE account_id = $1").bind(id).execute(&mut *conn).await?;
            id
        });
        Self::credential_changed_in(&mut tx, id, actor, "account.totp_disable", username, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Keeps a sign-in whose password was right until `expires_at`, waiting
    /// for its code (under its token's hash).
    pub async fn begin_pending_sign_in(
        &self,
        account_id: i64,
        token_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        with_conn!(tx, |conn| {
            sqlx::query("DELETE FROM pending_sign_ins WHERE expires_at < $1")
                .bind(Utc::now())
                .execute(&mut *conn)
                .await?;
            sqlx::query("INSERT INTO pending_sign_ins (token_hash, account_id, expires_at) VALUES ($1, $2, $3)")
                .bind(token_hash)
                .bind(account_id)
                .bind(expires_at)
                .execute(&mut *conn)
                .await?;
        });
        tx.commit().await?;
        Ok(())
    }

    /// The account of a sign-in waiting for its code, if it has not expired.
    pub async fn pending_sign_in(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<i64>, StoreError> {
        Ok(with_pool!(self, |pool| sqlx::query_scalar(
            "SELECT account_id FROM pending_sign_ins WHERE token_hash = $1 AND expires_at > $2"
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(pool)
        .await?))
    }

    /// Ends a waiting sign-in (its code was accepted).
    pub async fn end_pending_sign_in(&self, token_hash: &str) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        with_conn!(tx, |conn| {
            sqlx::query("DELETE FROM pending_sign_ins WHERE token_hash = $1")
                .bind(token_hash)
                .execute(&mut *conn)
                .await?;
        });
        tx.commit().await?;
        Ok(())
    }
}
