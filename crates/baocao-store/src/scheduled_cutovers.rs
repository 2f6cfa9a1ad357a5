//! Cutovers scheduled for 00:00 of their effective day: what the
//! scheduler rehearses the day before and applies on the day (the work
//! itself is the binary's, as for `cutover apply`), and what it told the
//! system administrators.

use baocao_core::access::Role;
use baocao_core::notify::Notice;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::json;

use crate::audit::Change;
use crate::{Db, StoreError, append_audit, with_conn, with_pool};

/// A scheduled cutover as the jobs page and the scheduler see it.
#[derive(Clone, Debug, Serialize)]
pub struct ScheduledCutover {
    pub key: String,
    pub name: String,
    pub plan_path: String,
    pub effective_date: NaiveDate,
    /// scheduled, applied, failed, cancelled.
    pub state: String,
    /// What the rehearsal the day before found.
    pub rehearsal: Option<String>,
    /// What the application did, or why it could not.
    pub outcome: Option<String>,
}

type Row = (String, String, String, NaiveDate, String, Option<String>, Option<String>);

impl Db {
    /// Schedules (or schedules again) the cutover `key` of the plan at
    /// `plan_path`, audited.
    pub async fn schedule_cutover(
        &self,
        actor: &str,
        key: &str,
        name: &str,
        plan_path: &str,
        effective_date: NaiveDate,
    ) -> Result<(), StoreError> {
        let now = Utc::now();
        let mut tx = self.begin_write().await?;
        with_conn!(&mut tx, |conn| {
            let applied: Option<String> =
                sqlx::query_scalar("SELECT state FROM scheduled_cutovers WHERE key = $1 AND state = 'applied'")
                    .bind(key)
                    .fetch_optional(&mut *conn)
                    .await?;
            if applied.is_some() {
                return Err(StoreError::Conflict(format!("Đợt chuyển đổi «{key}» đã được thực hiện theo lịch.")));
            }
            sqlx::query(
                "INSERT INTO scheduled_cutovers (key, name, plan_path, effective_date, scheduled_by, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (key) DO UPDATE SET name = excluded.name, plan_path = excluded.plan_path,
                     effective_date = excluded.effective_date, state = 'scheduled', rehearsal = NULL,
                     outcome = NULL, scheduled_by = excluded.scheduled_by, updated_at = excluded.updated_at",
            )
            .bind(key)
            .bind(name)
            .bind(plan_path)
            .bind(effective_date)
            .bind(actor)
            .bind(now)
            .execute(&mut *conn)
            .await?;
            let change = Change {
                at: now,
                actor,
                action: "cutover.schedule",
                object: format!("cutover {key}"),
                before: None,
                after: Some(json!({ "plan": plan_path, "effective_date": effective_date })),
            };
            append_audit!(conn, &change);
        });
        tx.commit().await?;
        Ok(())
    }

    /// Takes a cutover off the schedule (audited); one applied stays as it is.
    pub async fn cancel_scheduled_cutover(&self, actor: &str, key: &str) -> Result<(), StoreError> {
        let now = Utc::now();
        let mut tx = self.begin_write().await?;
        with_conn!(&mut tx, |conn| {
            let found = sqlx::query(
                "UPDATE scheduled_cutovers SET state = 'cancelled', updated_at = $2 WHERE key = $1 AND state <> 'applied'",
            )
            .bind(key)
            .bind(now)
            .execute(&mut *conn)
            .await?
            .rows_affected();
            if found == 0 {
                return Err(StoreError::NotFound(format!("Không có đợt chuyển đổi «{key}» đang chờ theo lịch.")));
            }
            let change = Change {
                at: now,
                actor,
                action: "cutover.unschedule",
                object: format!("cutover {key}"),
                before: None,
                after: None,
            };
            append_audit!(conn, &change);
        });
        tx.commit().await?;
        Ok(())
    }

    /// Every scheduled cutover, by effective date.
    pub async fn scheduled_cutovers(&self) -> Result<Vec<ScheduledCutover>, StoreError> {
        let rows: Vec<Row> = with_pool!(self, |pool| sqlx::query_as(
            "SELECT key, name, plan_path, effective_date, state, rehearsal, outcome FROM scheduled_cutovers
             ORDER BY effective_date, key"
        )
        .fetch_all(pool)
        .await?);
        Ok(rows
            .into_iter()
            .map(|(key, name, plan_path, effective_date, state, rehearsal, outcome)| ScheduledCutover {
                key,
                name,
                plan_path,
                effective_date,
                state,
                rehearsal,
                outcome,
            })
            .collect())
    }

    /// Records a rehearsal's outcome.
    pub async fn record_rehearsal(&self, key: &str, outcome: &str) -> Result<(), StoreError> {
        self.record_scheduled(
            key,
            "UPDATE scheduled_cutovers SET rehearsal = $2, updated_at = $3 WHERE key = $1",
            outcome,
        )
        .await
    }

    /// Records an application's outcome: applied, or failed (tried again).
    pub async fn record_application(&self, key: &str, applied: bool, outcome: &str) -> Result<(), StoreError> {
        let sql = if applied {
            "UPDATE scheduled_cutovers SET state = 'applied', outcome = $2, updated_at = $3 WHERE key = $1"
        } else {
            "UPDATE scheduled_cutovers SET state = 'failed', outcome = $2, updated_at = $3 WHERE key = $1"
        };
        self.record_scheduled(key, sql, outcome).await
    }

    async fn record_scheduled(&self, key: &str, sql: &str, outcome: &str) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        with_conn!(&mut tx, |conn| {
            sqlx::query(sql).bind(key).bind(outcome).bind(Utc::now()).execute(&mut *conn).await?;
        });
        tx.commit().await?;
        Ok(())
    }

    /// Tells every system administrator (a grant over the whole system)
    /// `notice`, as each prefers; returns how many were newly told.
    pub async fn notify_administrators(&self, notice: Notice, now: DateTime<Utc>) -> Result<usize, StoreError> {
        let today = baocao_core::date::day_in_vietnam(now);
        self.notify_where(notice, now, |grants| {
            grants.iter().any(|g| g.role == Role::SystemAdmin && g.unit.is_none() && g.validity.contains(today))
        })
        .await
    }
}
