//! Mail waiting to be sent (the outbox). A message is written in the
//! transaction of what caused it (an account created, a reset asked for),
//! so it exists exactly when its cause does; a worker claims one message
//! at a time, sends it, and records the outcome. A claim is a conditional
//! update, so two processes on one database never send the same message.
//!
//! SMTP cannot tell whether a message whose sending was cut off arrived:
//! such a message (claimed, its process gone) becomes `uncertain` and is
//! never sent again on its own; an administrator reads its state and may
//! send it again. Once sent, what it said (a one-time link) is erased.

use baocao_core::mail::{Params, Template};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::json;

use crate::audit::Change;
use crate::{Db, StoreError, WriteTx, append_audit, with_conn, with_pool};

/// How long a claimed message may take to send before it is presumed cut
/// off (its process stopped) and marked uncertain.
pub const CLAIM_LEASE: Duration = Duration::minutes(5);

/// A message claimed for sending.
#[derive(Clone, Debug)]
pub struct Claimed {
    pub id: i64,
    pub template: Template,
    pub recipient: String,
    pub params: Params,
    /// Tries before this one.
    pub attempts: i32,
}

/// A message as administrators see it (without what it says).
#[derive(Clone, Debug, Serialize)]
pub struct OutboxEntry {
    pub id: i64,
    pub template: String,
    pub recipient: String,
    /// pending, sending, sent, failed, uncertain.
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
}

type EntryRow = (i64, String, String, String, i32, DateTime<Utc>, Option<DateTime<Utc>>, Option<String>, DateTime<Utc>);

impl Db {
    /// Puts a message in the outbox inside the caller's transaction.
    pub(crate) async fn enqueue_in(
        tx: &mut WriteTx,
        template: Template,
        recipient: &str,
        account_id: Option<i64>,
        params: &Params,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let params = params.to_json();
        with_conn!(tx, |conn| {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO outbox (template, recipient, account_id, params, next_attempt_at, created_at)
                 VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
            )
            .bind(template.as_str())
            .bind(recipient)
            .bind(account_id)
            .bind(params)
            .bind(now)
            .fetch_one(&mut *conn)
            .await?;
            Ok(id)
        })
    }

    /// Takes the oldest message due at `now` for sending, if any. Messages
    /// claimed longer than [`CLAIM_LEASE`] ago become uncertain first, and
    /// those to accounts closed since are given up.
    pub async fn claim_mail(&self, now: DateTime<Utc>) -> Result<Option<Claimed>, StoreError> {
        // An idle outbox is answered by a read: the worker looks every few
        // seconds, and a write transaction each time would contend with
        // the report writer for nothing.
        let waiting: i64 = with_pool!(self, |pool| sqlx::query_scalar(
            "SELECT COUNT(*) FROM outbox
             WHERE (state = 'pending' AND next_attempt_at <= $1) OR (state = 'sending' AND claimed_at < $2)"
        )
        .bind(now)
        .bind(now - CLAIM_LEASE)
        .fetch_one(pool)
        .await?);
        if waiting == 0 {
            return Ok(None);
        }
        let dialect = self.dialect();
        let mut tx = self.begin_write().await?;
        let claimed = with_conn!(tx, |conn| {
            sqlx::query(
                "UPDATE outbox SET state = 'uncertain', last_error = $2
                 WHERE state = 'sending' AND claimed_at < $1",
            )
            .bind(now - CLAIM_LEASE)
            .bind("Việc gửi bị ngắt giữa chừng (máy chủ dừng): không rõ thư đã đến hay chưa, nên không tự gửi lại.")
            .execute(&mut *conn)
            .await?;
            // An account closed since (a cutover rolled back, an official
            // gone) is not mailed a link that would no longer work.
            sqlx::query(
                "UPDATE outbox SET state = 'failed', last_error = $1
                 WHERE state = 'pending' AND account_id IN (SELECT id FROM accounts WHERE NOT active)",
            )
            .bind("Tài khoản đã bị khóa trước khi thư được gửi: không gửi.")
            .execute(&mut *conn)
            .await?;
            let row: Option<(i64, String, String, Option<String>, i32)> =
                sqlx::query_as(dialect.claim_mail).bind(now).fetch_optional(&mut *conn).await?;
            row
        });
        tx.commit().await?;
        let Some((id, template, recipient, params, attempts)) = claimed else { return Ok(None) };
        let template: Template = template.parse().map_err(StoreError::Corrupt)?;
        let params = params.ok_or_else(|| StoreError::Corrupt(format!("thư {id} không còn nội dung")))?;
        let params = Params::parse(template, &params).map_err(|e| StoreError::Corrupt(format!("thư {id}: {e}")))?;
        Ok(Some(Claimed { id, template, recipient, params, attempts }))
    }

    /// Records that the server took message `id`; what it said is erased.
    pub async fn mail_sent(&self, id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.settle(id, "UPDATE outbox SET state = 'sent', sent_at = $2, params = NULL, last_error = NULL, attempts = attempts + 1 WHERE id = $1 AND state = 'sending'", now, None).await
    }

    /// Records that message `id` was refused: tried again at `retry_at`, or
    /// given up (`failed`) when there is none.
    pub async fn mail_not_sent(&self, id: i64, error: &str, retry_at: Option<DateTime<Utc>>) -> Result<(), StoreError> {
        match retry_at {
            Some(at) => self.settle(id, "UPDATE outbox SET state = 'pending', next_attempt_at = $2, last_error = $3, attempts = attempts + 1 WHERE id = $1 AND state = 'sending'", at, Some(error)).await,
            None => self.settle(id, "UPDATE outbox SET state = 'failed', next_attempt_at = $2, last_error = $3, attempts = attempts + 1 WHERE id = $1 AND state = 'sending'", Utc::now(), Some(error)).await,
        }
    }

    async fn settle(&self, id: i64, sql: &str, at: DateTime<Utc>, error: Option<&str>) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        with_conn!(tx, |conn| {
            let mut q = sqlx::query(sql).bind(id).bind(at);
            if let Some(error) = error {
                q = q.bind(error);
            }
            q.execute(&mut *conn).await?;
        });
        tx.commit().await?;
        Ok(())
    }

    /// The latest `limit` messages, newest first.
    pub async fn outbox(&self, limit: i64) -> Result<Vec<OutboxEntry>, StoreError> {
        let rows: Vec<EntryRow> = with_pool!(self, |pool| sqlx::query_as(
            "SELECT id, template, recipient, state, attempts, next_attempt_at, sent_at, last_error, created_at
             FROM outbox ORDER BY id DESC LIMIT $1"
        )
        .bind(limit)
        .fetch_all(pool)
        .await?);
        Ok(rows
            .into_iter()
            .map(|(id, template, recipient, state, attempts, next_attempt_at, sent_at, last_error, created_at)| {
                OutboxEntry {
                    id,
                    template,
                    recipient,
                    state,
                    attempts,
                    next_attempt_at,
                    sent_at,
                    last_error,
                    created_at,
                }
            })
            .collect())
    }

    /// What message `id` says, while it is not sent (the demo shows it when
    /// no mail server is set).
    pub async fn unsent_mail(&self, id: i64) -> Result<Option<(Template, String, Params)>, StoreError> {
        let row: Option<(String, String, Option<String>)> = with_pool!(self, |pool| sqlx::query_as(
            "SELECT template, recipient, params FROM outbox WHERE id = $1 AND state <> 'sent'"
        )
        .bind(id)
        .fetch_optional(pool)
        .await?);
        let Some((template, recipient, Some(params))) = row else { return Ok(None) };
        let template: Template = template.parse().map_err(StoreError::Corrupt)?;
        let params = Params::parse(template, &params).map_err(|e| StoreError::Corrupt(format!("thư {id}: {e}")))?;
        Ok(Some((template, recipient, params)))
    }

    /// Sends an uncertain or failed message again, on an administrator's
    /// decision (audited).
    pub async fn resend_mail(&self, actor: &str, id: i64) -> Result<(), StoreError> {
        let now = Utc::now();
        let mut tx = self.begin_write().await?;
        with_conn!(tx, |conn| {
            let recipient: Option<String> = sqlx::query_scalar(
                "UPDATE outbox SET state = 'pending', next_attempt_at = $2, attempts = 0
                 WHERE id = $1 AND state IN ('uncertain', 'failed') AND params IS NOT NULL RETURNING recipient",
            )
            .bind(id)
            .bind(now)
            .fetch_optional(&mut *conn)
            .await?;
            let Some(recipient) = recipient else {
                return Err(StoreError::Conflict(format!(
                    "Thư số {id} không ở trạng thái gửi lại được (chỉ thư không rõ đã đến hoặc gửi không được)."
                )));
            };
            let change = Change {
                at: now,
                actor,
                action: "mail.resend",
                object: format!("mail {id}"),
                before: None,
                after: Some(json!({ "recipient": recipient })),
            };
            append_audit!(conn, &change);
        });
        tx.commit().await?;
        Ok(())
    }
}
