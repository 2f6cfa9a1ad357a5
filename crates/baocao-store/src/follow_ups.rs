//! Follow-ups (cần xác minh): values of a report an approver marks to be
//! checked, and what was found. Marking and resolving are audited; who may
//! do either is decided by the caller (who may approve the unit's report).

use baocao_core::Period;
use chrono::{DateTime, Utc};
use serde_json::json;

use crate::audit::Change;
use crate::{Db, StoreError, append_audit, with_conn, with_pool};

/// The longest note kept.
pub const NOTE_LIMIT: usize = 1_000;

/// Which value a follow-up is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueKey {
    pub regime: String,
    pub unit: String,
    pub period: Period,
    pub indicator: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FollowUp {
    pub unit: String,
    pub indicator: String,
    pub note: String,
    pub marked_by: String,
    pub marked_at: DateTime<Utc>,
    /// Who resolved it, when, and what was found; none while open.
    pub resolved: Option<(String, DateTime<Utc>, String)>,
}

type FollowUpRow =
    (String, String, String, String, DateTime<Utc>, Option<String>, Option<DateTime<Utc>>, Option<String>);

fn check_note(field: &str, note: &str) -> Result<String, StoreError> {
    StoreError::check_text(field, note, true)?;
    let note = note.trim();
    if note.is_empty() {
        return Err(StoreError::Unprocessable(format!("{field}: cần ghi nội dung.")));
    }
    if note.chars().count() > NOTE_LIMIT {
        return Err(StoreError::Unprocessable(format!("{field}: dài quá {NOTE_LIMIT} ký tự.")));
    }
    Ok(note.to_string())
}

impl Db {
    /// Marks the value to be checked, with why (again, if it was resolved).
    pub async fn mark_follow_up(&self, actor: &str, key: &ValueKey, note: &str) -> Result<(), StoreError> {
        let note = check_note("Lý do cần xác minh", note)?;
        let now = Utc::now();
        let mut tx = self.begin_write().await?;
        with_conn!(tx, |conn| {
            sqlx::query(
                "INSERT INTO follow_ups (regime, unit, period, indicator, note, marked_by, marked_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (regime, period, unit, indicator) DO UPDATE SET note = excluded.note,
                     marked_by = excluded.marked_by, marked_at = excluded.marked_at,
                     resolved_by = NULL, resolved_at = NULL, resolution = NULL",
            )
            .bind(&key.regime)
            .bind(&key.unit)
            .bind(key.period.to_string())
            .bind(&key.indicator)
            .bind(&note)
            .bind(actor)
            .bind(now)
            .execute(&mut *conn)
            .await?;
            let change = Change {
                at: now,
                actor,
                action: "value.follow_up",
                object: object(key),
                before: None,
                after: Some(json!({ "note": note })),
            };
            append_audit!(conn, &change);
        });
        tx.commit().await?;
        Ok(())
    }

    /// Says what was found about a value marked to be checked.
    pub async fn resolve_follow_up(&self, actor: &str, key: &ValueKey, resolution: &str) -> Result<(), StoreError> {
        let resolution = check_note("Kết quả xác minh", resolution)?;
        let now = Utc::now();
        let mut tx = self.begin_write().await?;
        with_conn!(tx, |conn| {
            let resolved = sqlx::query(
                "UPDATE follow_ups SET resolved_by = $5, resolved_at = $6, resolution = $7
                 WHERE regime = $1 AND period = $2 AND unit = $3 AND indicator = $4 AND resolved_at IS NULL",
            )
            .bind(&key.regime)
            .bind(key.period.to_string())
            .bind(&key.unit)
            .bind(&key.indicator)
            .bind(actor)
            .bind(now)
            .bind(&resolution)
            .execute(&mut *conn)
            .await?
            .rows_affected();
            if resolved == 0 {
                return Err(StoreError::NotFound(format!(
                    "Không có yêu cầu xác minh nào đang mở cho chỉ tiêu {} của đơn vị {} kỳ {}.",
                    key.indicator, key.unit, key.period
                )));
            }
            let change = Change {
                at: now,
                actor,
                action: "value.follow_up_resolved",
                object: object(key),
                before: None,
                after: Some(json!({ "resolution": resolution })),
            };
            append_audit!(conn, &change);
        });
        tx.commit().await?;
        Ok(())
    }

    /// The follow-ups of a regime's period, open and resolved.
    pub async fn follow_ups(&self, regime: &str, period: &Period) -> Result<Vec<FollowUp>, StoreError> {
        let rows: Vec<FollowUpRow> = with_pool!(self, |pool| sqlx::query_as(
            "SELECT unit, indicator, note, marked_by, marked_at, resolved_by, resolved_at, resolution
             FROM follow_ups WHERE regime = $1 AND period = $2 ORDER BY unit, indicator"
        )
        .bind(regime)
        .bind(period.to_string())
        .fetch_all(pool)
        .await?);
        Ok(rows
            .into_iter()
            .map(|(unit, indicator, note, marked_by, marked_at, by, at, resolution)| FollowUp {
                unit,
                indicator,
                note,
                marked_by,
                marked_at,
                resolved: match (by, at, resolution) {
                    (Some(by), Some(at), Some(r)) => Some((by, at, r)),
                    _ => None,
                },
            })
            .collect())
    }
}

fn object(key: &ValueKey) -> String {
    format!("value {}/{}/{}/{}", key.regime, key.unit, key.period, key.indicator)
}
