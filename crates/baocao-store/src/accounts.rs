//! Accounts of the reporting system and their grants; their sessions and
//! API tokens are in [`crate::sessions`].
//!
//! Passwords arrive here already hashed (argon2, by `baocao-credentials`):
//! nothing stored lets anyone sign in. Every change is audited in its own
//! transaction.

use std::collections::HashMap;

use baocao_core::access::{Grant, Role};
use baocao_core::date::Validity;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::json;
use sqlx::QueryBuilder;

use crate::audit::Change;
use crate::sql::{ROWS, push_list};
use crate::{Db, StoreError, WriteTx, append_audit, append_audits, with_conn, with_pool};

/// An account as the sign-in needs it.
#[derive(Clone, Debug)]
pub struct Account {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub password_hash: Option<String>,
    pub active: bool,
    pub failed_sign_ins: i32,
    pub locked_until: Option<DateTime<Utc>>,
    /// Signs in with a second factor (a time-based code).
    pub totp: bool,
    /// May sign in with its own password (off: single sign-on only).
    pub password_sign_in: bool,
}

/// A grant as stored, with its id (to revoke it).
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StoredGrant {
    pub id: i64,
    #[serde(flatten)]
    pub grant: Grant,
}

/// An account with its grants, for administration pages.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountSummary {
    /// The account's number, stable for ever (SCIM `id`).
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub active: bool,
    pub grants: Vec<StoredGrant>,
    /// A provisioning client's identifier for the account (SCIM `externalId`).
    pub external_id: Option<String>,
    /// Withdrawn by a provisioning client (SCIM `DELETE`): closed, and no
    /// longer served to such clients.
    pub withdrawn: bool,
}

/// The texts of an account that change one at a time.
pub(crate) enum AccountText {
    DisplayName,
    ExternalId,
}

type AccountRow = (i64, String, String, Option<String>, bool, i32, Option<DateTime<Utc>>, bool, bool);
type GrantRow = (i64, String, Option<String>, String, Option<NaiveDate>, Option<NaiveDate>);
/// A grant row preceded by its account id.
type OwnedGrantRow = (i64, i64, String, Option<String>, String, Option<NaiveDate>, Option<NaiveDate>);

fn grant_from(row: GrantRow) -> Result<StoredGrant, StoreError> {
    let (id, role, unit, forms, from, to) = row;
    let role: Role = role.parse().map_err(StoreError::Corrupt)?;
    let forms: Vec<String> =
        serde_json::from_str(&forms).map_err(|e| StoreError::Corrupt(format!("grant forms: {e}")))?;
    Ok(StoredGrant { id, grant: Grant { role, unit, forms, validity: Validity::new(from, to) } })
}

pub(crate) fn username_taken(username: &str) -> StoreError {
    StoreError::Conflict(format!("Tên đăng nhập «{username}» đã có người dùng; chọn tên khác."))
}

pub(crate) fn unknown_account(username: &str) -> StoreError {
    StoreError::NotFound(format!("Không có tài khoản «{username}»."))
}

const ACCOUNT_COLUMNS: &str = "id, username, display_name, password_hash, active, failed_sign_ins, locked_until, totp_secret IS NOT NULL, password_sign_in";

impl Db {
    /// Creates an account. Usernames are unique for ever: a closed account
    /// keeps its name, so the audit log never becomes ambiguous.
    pub async fn create_account(
        &self,
        actor: &str,
        username: &str,
        display_name: &str,
        password_hash: Option<&str>,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        let out = Self::create_account_in(&mut tx, actor, username, display_name, password_hash).await?;
        tx.commit().await?;
        Ok(out)
    }

    pub(crate) async fn create_account_in(
        tx: &mut WriteTx,
        actor: &str,
        username: &str,
        display_name: &str,
        password_hash: Option<&str>,
    ) -> Result<i64, StoreError> {
        StoreError::check_text("tên đăng nhập (username)", username, false)?;
        StoreError::check_text("họ và tên (display name)", display_name, false)?;
        let now = Utc::now();
        with_conn!(tx, |conn| {
            let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM accounts WHERE username = $1")
                .bind(username)
                .fetch_optional(&mut *conn)
                .await?;
            if taken.is_some() {
                return Err(username_taken(username));
            }
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO accounts (username, display_name, password_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(username)
            .bind(display_name)
            .bind(password_hash)
            .bind(now)
            .fetch_one(&mut *conn)
            .await?;
            let after = json!({ "display_name": display_name, "password": password_hash.is_some() });
            let change = Change {
                at: now,
                actor,
                action: "account.create",
                object: format!("account {username}"),
                before: None,
                after: Some(after),
            };
            append_audit!(conn, &change);
            Ok(id)
        })
    }

    pub async fn account(&self, username: &str) -> Result<Option<Account>, StoreError> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE username = $1");
        let row: Option<AccountRow> =
            with_pool!(self, |pool| sqlx::query_as(&sql).bind(username).fetch_optional(pool).await?);
        Ok(row.map(account_from))
    }

    pub async fn account_by_id(&self, id: i64) -> Result<Option<Account>, StoreError> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = $1");
        let row: Option<AccountRow> =
            with_pool!(self, |pool| sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?);
        Ok(row.map(account_from))
    }

    /// Sets a new password hash and ends the account's sessions.
    pub async fn set_password(&self, actor: &str, username: &str, password_hash: &str) -> Result<(), StoreError> {
        let now = Utc::now();
        let mut tx = self.begin_write().await?;
        let id: i64 = with_conn!(tx, |conn| {
            let id: i64 = sqlx::query_scalar(
                "UPDATE accounts SET password_hash = $1, failed_sign_ins = 0, locked_until = NULL WHERE username = $2 RETURNING id",
            )
            .bind(password_hash)
            .bind(username)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| unknown_account(username))?;
            id
        });
        Self::credential_changed_in(&mut tx, id, actor, "account.password", username, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Ends the sessions of account `id`, whose credentials changed, and
    /// audits the change, in the caller's transaction.
    pub(crate) async fn credential_changed_in(
        tx: &mut WriteTx,
        id: i64,
        actor: &str,
        action: &str,
        username: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        with_conn!(tx, |conn| {
            sqlx::query("DELETE FROM sessions WHERE account_id = $1").bind(id).execute(&mut *conn).await?;
            let change = Change { at, actor, action, object: format!("account {username}"), before: None, after: None };
            append_audit!(conn, &change);
        });
        Ok(())
    }

    /// Changes the name an account is shown with.
    pub async fn rename_account(&self, actor: &str, username: &str, display_name: &str) -> Result<(), StoreError> {
        self.set_account_text(actor, username, AccountText::DisplayName, Some(display_name)).await
    }

    /// Records a provisioning client's identifier for an account.
    pub async fn set_external_id(
        &self,
        actor: &str,
        username: &str,
        external_id: Option<&str>,
    ) -> Result<(), StoreError> {
        self.set_account_text(actor, username, AccountText::ExternalId, external_id).await
    }

    /// One text of an account changed, audited with what it was.
    async fn set_account_text(
        &self,
        actor: &str,
        username: &str,
        field: AccountText,
        value: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        Self::set_account_text_in(&mut tx, actor, username, field, value).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn set_account_text_in(
        tx: &mut WriteTx,
        actor: &str,
        username: &str,
        field: AccountText,
        value: Option<&str>,
    ) -> Result<(), StoreError> {
        let now = Utc::now();
        let (column, action) = match field {
            AccountText::DisplayName => ("display_name", "account.rename"),
            AccountText::ExternalId => ("external_id", "account.external_id"),
        };
        if let Some(value) = value {
            StoreError::check_text(column, value, false)?;
        }
        with_conn!(tx, |conn| {
            let before: Option<String> =
                sqlx::query_scalar(&format!("SELECT {column} FROM accounts WHERE username = $1"))
                    .bind(username)
                    .fetch_optional(&mut *conn)
                    .await?
                    .ok_or_else(|| unknown_account(username))?;
            sqlx::query(&format!("UPDATE accounts SET {column} = $1 WHERE username = $2"))
                .bind(value)
                .bind(username)
                .execute(&mut *conn)
                .await?;
            let change = Change {
                at: now,
                actor,
                action,
                object: format!("account {username}"),
                before: Some(serde_json::Value::Object([(column.to_string(), json!(before))].into_iter().collect())),
                after: Some(serde_json::Value::Object([(column.to_string(), json!(value))].into_iter().collect())),
            };
            append_audit!(conn, &change);
            Ok(())
        })
    }

    /// Opens or closes an account; closing ends its sessions and tokens.
    /// Opening an account a provisioning client withdrew serves it again.
    pub async fn set_active(&self, actor: &str, username: &str, active: bool) -> Result<(), StoreError> {
        self.set_state(actor, username, active, false).await
    }

    /// Closes an account for a provisioning client that deleted it; it is
    /// kept (the audit log and reports name it) but no longer served to them.
    pub async fn withdraw_account(&self, actor: &str, username: &str) -> Result<(), StoreError> {
        self.set_state(actor, username, false, true).await
    }

    async fn set_state(&self, actor: &str, username: &str, active: bool, withdraw: bool) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        Self::set_state_in(&mut tx, actor, username, active, withdraw).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn set_state_in(
        tx: &mut WriteTx,
        actor: &str,
        username: &str,
        active: bool,
        withdraw: bool,
    ) -> Result<(), StoreError> {
        let now = Utc::now();
        with_conn!(tx, |conn| {
            let id: i64 = sqlx::query_scalar(
                "UPDATE accounts SET active = $1,
                     withdrawn_at = CASE WHEN $1 THEN NULL WHEN $3 THEN $4 ELSE withdrawn_at END
                 WHERE username = $2 RETURNING id",
            )
            .bind(active)
            .bind(username)
            .bind(withdraw)
            .bind(now)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| unknown_account(username))?;
            if !active {
                sqlx::query("DELETE FROM sessions WHERE account_id = $1").bind(id).execute(&mut *conn).await?;
                sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE account_id = $2 AND revoked_at IS NULL")
                    .bind(now)
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
            }
            let change = Change {
                at: now,
                actor,
                action: match (active, withdraw) {
                    (true, _) => "account.open",
                    (false, false) => "account.close",
                    (false, true) => "account.withdraw",
                },
                object: format!("account {username}"),
                before: Some(json!({ "active": !active })),
                after: Some(json!({ "active": active })),
            };
            append_audit!(conn, &change);
            Ok(())
        })
    }

    /// Counts a failed sign-in; after `max` in a row the account is locked
    /// until `lock_until`. Returns the lock, if any.
    /// A lock in force is not extended: failures while locked cannot keep
    /// an account locked for ever.
    pub async fn record_failed_sign_in(
        &self,
        account: &Account,
        max: i32,
        lock_until: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let now = Utc::now();
        let mut tx = self.begin_write().await?;
        let out = with_conn!(tx, |conn| {
            let (failures, locked): (i32, Option<DateTime<Utc>>) = sqlx::query_as(
                "UPDATE accounts SET failed_sign_ins = failed_sign_ins + 1,
                    locked_until = CASE WHEN locked_until > $4 THEN locked_until
                                        WHEN failed_sign_ins + 1 >= $1 THEN $2 ELSE locked_until END
                 WHERE id = $3 RETURNING failed_sign_ins, locked_until",
            )
            .bind(max)
            .bind(lock_until)
            .bind(account.id)
            .bind(now)
            .fetch_one(&mut *conn)
            .await?;
            let change = Change {
                at: now,
                actor: &account.username,
                action: "session.sign_in_failed",
                object: format!("account {}", account.username),
                before: None,
                after: Some(json!({ "failed_sign_ins": failures, "locked_until": locked })),
            };
            append_audit!(conn, &change);
            locked.filter(|l| *l > now)
        });
        tx.commit().await?;
        Ok(out)
    }

    /// Records a sign-in tried with a name no account has: in the audit
    /// log, without the name (people type their password there by
    /// mistake). It costs what a wrong password costs, so that how long a
    /// refusal takes does not tell which names exist.
    pub async fn record_unknown_sign_in(&self) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        with_conn!(tx, |conn| {
            let change = Change {
                at: Utc::now(),
                actor: "anonymous",
                action: "session.sign_in_failed",
                object: "unknown account".into(),
                before: None,
                after: None,
            };
            append_audit!(conn, &change);
        });
        tx.commit().await
    }

    /// Gives `grant` to `username`.
    pub async fn add_grant(&self, actor: &str, username: &str, grant: &Grant) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        let out = Self::add_grant_in(&mut tx, actor, username, grant).await?;
        tx.commit().await?;
        Ok(out)
    }

    pub(crate) async fn add_grant_in(
        tx: &mut WriteTx,
        actor: &str,
        username: &str,
        grant: &Grant,
    ) -> Result<i64, StoreError> {
        let ids = Self::add_grants_in(tx, actor, &[(username, grant)]).await?;
        Ok(ids[0])
    }

    /// Gives each `(username, grant)`, audited; returns the grants' ids in
    /// the same order. A few multi-row statements whatever the number: a
    /// cutover gives thousands at once.
    pub(crate) async fn add_grants_in(
        tx: &mut WriteTx,
        actor: &str,
        grants: &[(&str, &Grant)],
    ) -> Result<Vec<i64>, StoreError> {
        /// A grant as stored, to find each inserted row's request.
        type Key = (i64, String, Option<String>, String, Option<NaiveDate>, Option<NaiveDate>);
        /// An inserted grant: its id, then its `Key`.
        type Inserted = (i64, i64, String, Option<String>, String, Option<NaiveDate>, Option<NaiveDate>);
        let now = Utc::now();
        let usernames: Vec<&str> = grants.iter().map(|(u, _)| *u).collect();
        with_conn!(tx, |conn| {
            let mut accounts: HashMap<String, i64> = HashMap::new();
            for chunk in usernames.chunks(ROWS) {
                let mut select = QueryBuilder::new("SELECT username, id FROM accounts WHERE username IN ");
                push_list(&mut select, chunk.iter().copied());
                let rows: Vec<(String, i64)> = select.build_query_as().fetch_all(&mut *conn).await?;
                accounts.extend(rows);
            }
            let mut wanted: HashMap<Key, Vec<usize>> = HashMap::new();
            let mut rows = Vec::with_capacity(grants.len());
            for (n, (username, grant)) in grants.iter().enumerate() {
                let account = *accounts.get(*username).ok_or_else(|| unknown_account(username))?;
                let forms = serde_json::to_string(&grant.forms).expect("strings serialize");
                let key = (
                    account,
                    grant.role.as_str().to_owned(),
                    grant.unit.clone(),
                    forms,
                    grant.validity.from,
                    grant.validity.to,
                );
                wanted.entry(key.clone()).or_default().push(n);
                rows.push(key);
            }
            // Rows come back in no promised order: each is matched to its
            // request by content (identical requests are interchangeable).
            let mut ids = vec![0; grants.len()];
            for chunk in rows.chunks(ROWS) {
                let mut insert =
                    QueryBuilder::new("INSERT INTO grants (account_id, role, unit_code, forms, valid_from, valid_to) ");
                insert.push_values(chunk, |mut b, (account, role, unit, forms, from, to)| {
                    b.push_bind(*account)
                        .push_bind(role.as_str())
                        .push_bind(unit.as_deref())
                        .push_bind(forms.as_str())
                        .push_bind(*from)
                        .push_bind(*to);
                });
                insert.push(" RETURNING id, account_id, role, unit_code, forms, valid_from, valid_to");
                let stored: Vec<Inserted> = insert.build_query_as().fetch_all(&mut *conn).await?;
                for (id, account, role, unit, forms, from, to) in stored {
                    let n = wanted
                        .get_mut(&(account, role, unit, forms, from, to))
                        .and_then(Vec::pop)
                        .ok_or_else(|| StoreError::Corrupt("a grant was stored that nobody asked for".into()))?;
                    ids[n] = id;
                }
            }
            let changes: Vec<Change<'_>> = grants
                .iter()
                .zip(&ids)
                .map(|((username, grant), id)| Change {
                    at: now,
                    actor,
                    action: "grant.add",
                    object: format!("account {username}"),
                    before: None,
                    after: Some(json!({ "grant": id, "role": grant.role, "unit": grant.unit, "forms": grant.forms,
                        "valid_from": grant.validity.from, "valid_to": grant.validity.to })),
                })
                .collect();
            append_audits!(conn, &changes);
            Ok(ids)
        })
    }

    /// Ends a grant on `day` (exclusive): kept, so the past stays explained.
    pub async fn revoke_grant(&self, actor: &str, id: i64, day: NaiveDate) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        Self::revoke_grant_in(&mut tx, actor, id, day).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn revoke_grant_in(
        tx: &mut WriteTx,
        actor: &str,
        id: i64,
        day: NaiveDate,
    ) -> Result<(), StoreError> {
        let now = Utc::now();
        with_conn!(tx, |conn| {
            let row: Option<(String, Option<NaiveDate>, Option<NaiveDate>)> = sqlx::query_as(
                "SELECT a.username, g.valid_from, g.valid_to FROM grants g JOIN accounts a ON a.id = g.account_id WHERE g.id = $1",
            )
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
            let (username, from, to) =
                row.ok_or_else(|| StoreError::NotFound(format!("Không có quyền được cấp số {id}.")))?;
            if to.is_some_and(|t| t <= day) {
                return Ok(());
            }
            // A grant that had not begun yet ends where it begins: empty, never in force.
            let end = from.map_or(day, |f| f.max(day));
            sqlx::query("UPDATE grants SET valid_to = $1 WHERE id = $2").bind(end).bind(id).execute(&mut *conn).await?;
            let change = Change {
                at: now,
                actor,
                action: "grant.revoke",
                object: format!("account {username}"),
                before: Some(json!({ "grant": id, "valid_to": to })),
                after: Some(json!({ "grant": id, "valid_to": end })),
            };
            append_audit!(conn, &change);
            Ok(())
        })
    }

    pub async fn grants_of(&self, account_id: i64) -> Result<Vec<StoredGrant>, StoreError> {
        let rows: Vec<GrantRow> = with_pool!(self, |pool| sqlx::query_as(
            "SELECT id, role, unit_code, forms, valid_from, valid_to FROM grants WHERE account_id = $1 ORDER BY id"
        )
        .bind(account_id)
        .fetch_all(pool)
        .await?);
        rows.into_iter().map(grant_from).collect()
    }

    /// Every account with its grants, by username.
    pub async fn accounts(&self) -> Result<Vec<AccountSummary>, StoreError> {
        type Row = (i64, String, String, bool, Option<String>, bool);
        let accounts: Vec<Row> = with_pool!(self, |pool| {
            sqlx::query_as(
            "SELECT id, username, display_name, active, external_id, withdrawn_at IS NOT NULL FROM accounts ORDER BY username"
        )
        .fetch_all(pool)
        .await?
        });
        let grants: Vec<OwnedGrantRow> = with_pool!(self, |pool| sqlx::query_as(
            "SELECT account_id, id, role, unit_code, forms, valid_from, valid_to FROM grants ORDER BY id"
        )
        .fetch_all(pool)
        .await?);
        let mut out = Vec::with_capacity(accounts.len());
        for (id, username, display_name, active, external_id, withdrawn) in accounts {
            let mine = grants
                .iter()
                .filter(|g| g.0 == id)
                .map(|g| grant_from((g.1, g.2.clone(), g.3.clone(), g.4.clone(), g.5, g.6)))
                .collect::<Result<Vec<_>, _>>()?;
            out.push(AccountSummary { id, username, display_name, active, grants: mine, external_id, withdrawn });
        }
        Ok(out)
    }
}

fn account_from(row: AccountRow) -> Account {
    let (id, username, display_name, password_hash, active, failed_sign_ins, locked_until, totp, password_sign_in) =
        row;
    Account { id, username, display_name, password_hash, active, failed_sign_ins, locked_until, totp, password_sign_in }
}
