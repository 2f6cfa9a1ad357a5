//! Sending upward: the upstream systems (links), the deliveries of approved
//! reports to them, and the completeness registrations a higher instance
//! receives.
//!
//! A delivery is written by the report writer in the transaction of the
//! final approval that causes it ([`ENQUEUE_DELIVERIES`]), after the
//! deliveries of the same report still waiting are marked superseded
//! ([`SUPERSEDE_WAITING`]): one report, one delivery on its way. A worker
//! claims one delivery at a time by a conditional update, so several
//! processes never send the same one at once; what is sent is read when it
//! is sent, and a report reopened meanwhile is not sent (its next approval
//! makes a new delivery). Sending is idempotent at the receiver, so a claim
//! whose process stopped is simply taken again once its lease lapses.

use baocao_core::VersionKey;
use baocao_core::upstream::{Link, Sending};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;
use serde_json::json;

use crate::audit::Change;
use crate::error::parse_json;
use crate::{Db, StoreError, append_audit, with_conn, with_pool};

/// How long a claimed delivery may take before another process may take it.
pub const CLAIM_LEASE: Duration = Duration::minutes(2);

/// Run by the report writer for each final approval (`$1` regime, `$2`
/// unit, `$3` period, `$4` the approval's revision, `$5` now): one delivery
/// per link that takes the regime.
pub(crate) const ENQUEUE_DELIVERIES: &str =
    "INSERT INTO upstream_deliveries (link_id, report_id, revision, next_attempt_at, created_at)
     SELECT l.link_id, r.id, $4, $5, $5 FROM upstream_link_regimes l
     JOIN reports r ON r.regime_id = l.regime_id AND r.unit_id = $2 AND r.period = $3
     WHERE l.regime_id = $1";

/// Run before [`ENQUEUE_DELIVERIES`]: an earlier approval's delivery not
/// yet sent gives way to the new one (same arguments but the fourth).
pub(crate) const SUPERSEDE_WAITING: &str = "UPDATE upstream_deliveries SET state = 'superseded', last_error = $4
     WHERE state = 'pending'
       AND report_id = (SELECT id FROM reports WHERE regime_id = $1 AND unit_id = $2 AND period = $3)";

/// Why a waiting delivery was superseded by a newer approval.
pub(crate) const SUPERSEDED_BY_APPROVAL: &str = "Báo cáo được phê duyệt lại trước khi gửi: gửi theo lần duyệt mới.";

/// A delivery taken for sending, with what it sends.
#[derive(Clone, Debug)]
pub struct ClaimedDelivery {
    pub id: i64,
    pub link: Link,
    /// Tries before this one.
    pub attempts: i32,
    /// The report as approved; none when it is no longer approved.
    pub report: Option<ApprovedReport>,
}

/// An approved report's content as sent upward.
#[derive(Clone, Debug)]
pub struct ApprovedReport {
    pub regime: String,
    pub unit: String,
    pub period: String,
    pub approved_on: NaiveDate,
    pub values: Vec<(String, String)>,
}

impl ApprovedReport {
    pub fn sending(&self) -> Sending<'_> {
        Sending {
            regime: &self.regime,
            unit: &self.unit,
            period: &self.period,
            approved_on: self.approved_on,
            values: &self.values,
        }
    }
}

/// How a delivery ended, as the worker records it.
#[derive(Clone, Debug)]
pub enum Settled<'a> {
    /// Taken by the upstream; `summary` is its import summary.
    Sent { http_status: u16, summary: &'a str },
    /// Tried again at `retry_at`.
    Retry { error: &'a str, http_status: Option<u16>, retry_at: DateTime<Utc> },
    /// Refused for good until an administrator sends it again.
    Refused { error: &'a str, http_status: Option<u16>, summary: Option<&'a str> },
    /// The report was reopened before it could be sent.
    Superseded,
}

/// A delivery as the «Gửi lên cấp trên» page shows it.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct DeliveryEntry {
    pub id: i64,
    pub link: String,
    pub regime: String,
    pub unit: String,
    pub unit_name: String,
    pub period: String,
    pub revision: i64,
    /// pending, sending, sent, refused, superseded.
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub http_status: Option<i32>,
    pub summary: Option<String>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A delivered report as read when it is sent: regime, unit, period,
/// status, when approved, its last snapshot.
type ReportRow = (String, String, String, String, Option<DateTime<Utc>>, Option<String>);

/// A completeness registration received: data set, period, unit code,
/// whether complete, the day it says.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Registration {
    pub data_set: String,
    pub period: String,
    pub organisation_unit: String,
    pub completed: bool,
    pub date: Option<String>,
}

impl Db {
    /// Creates or replaces the upstream `link` (by its code) and the regimes
    /// it takes, audited. Refuses a regime that does not exist.
    pub async fn save_upstream_link(&self, actor: &str, link: &Link) -> Result<(), StoreError> {
        link.check().map_err(StoreError::Unprocessable)?;
        let now = Utc::now();
        let definition = serde_json::to_string(link).expect("plain data serializes");
        let mut tx = self.begin_write().await?;
        with_conn!(tx, |conn| {
            let mut regime_ids = Vec::with_capacity(link.regimes.len());
            for r in &link.regimes {
                let id: Option<i64> = sqlx::query_scalar("SELECT id FROM regimes WHERE code = $1")
                    .bind(&r.regime)
                    .fetch_optional(&mut *conn)
                    .await?;
                regime_ids.push(id.ok_or_else(|| {
                    StoreError::NotFound(format!("Không có chế độ báo cáo «{}» (regimes.regime).", r.regime))
                })?);
            }
            let before: Option<String> = sqlx::query_scalar("SELECT definition FROM upstream_links WHERE code = $1")
                .bind(&link.code)
                .fetch_optional(&mut *conn)
                .await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO upstream_links (code, definition, updated_at) VALUES ($1, $2, $3)
                 ON CONFLICT (code) DO UPDATE SET definition = excluded.definition, updated_at = excluded.updated_at
                 RETURNING id",
            )
            .bind(&link.code)
            .bind(&definition)
            .bind(now)
            .fetch_one(&mut *conn)
            .await?;
            sqlx::query("DELETE FROM upstream_link_regimes WHERE link_id = $1").bind(id).execute(&mut *conn).await?;
            for regime_id in regime_ids {
                sqlx::query("INSERT INTO upstream_link_regimes (link_id, regime_id) VALUES ($1, $2)")
                    .bind(id)
                    .bind(regime_id)
                    .execute(&mut *conn)
                    .await?;
            }
            let object = format!("upstream {}", link.code);
            let change = Change::definition(now, actor, "upstream.set", object, before, &definition);
            append_audit!(conn, &change);
        });
        tx.commit().await?;
        Ok(())
    }

    /// The upstream links, by code.
    pub async fn upstream_links(&self) -> Result<Vec<Link>, StoreError> {
        let rows: Vec<String> =
            with_pool!(self, |pool| sqlx::query_scalar("SELECT definition FROM upstream_links ORDER BY code")
                .fetch_all(pool)
                .await?);
        rows.iter().map(|d| parse_json("upstream link", d)).collect()
    }

    /// Takes the delivery due longest at `now`, if any, with what it sends.
    /// A delivery claimed longer than [`CLAIM_LEASE`] ago (its process
    /// stopped) is due again.
    pub async fn claim_delivery(&self, now: DateTime<Utc>) -> Result<Option<ClaimedDelivery>, StoreError> {
        // An idle queue is answered by a read, as the mail outbox's is.
        let waiting: i64 = with_pool!(self, |pool| sqlx::query_scalar(
            "SELECT COUNT(*) FROM upstream_deliveries
             WHERE (state = 'pending' AND next_attempt_at <= $1) OR (state = 'sending' AND claimed_at < $2)"
        )
        .bind(now)
        .bind(now - CLAIM_LEASE)
        .fetch_one(pool)
        .await?);
        if waiting == 0 {
            return Ok(None);
        }
        let mut tx = self.begin_write().await?;
        let claimed = with_conn!(tx, |conn| {
            sqlx::query(
                "UPDATE upstream_deliveries SET state = 'pending', next_attempt_at = $1
                 WHERE state = 'sending' AND claimed_at < $2",
            )
            .bind(now)
            .bind(now - CLAIM_LEASE)
            .execute(&mut *conn)
            .await?;
            // The state is asked again in the update itself: of two
            // processes choosing the same row, one moves it.
            let row: Option<(i64, i64, i32)> = sqlx::query_as(
                "UPDATE upstream_deliveries SET state = 'sending', claimed_at = $1
                 WHERE id = (SELECT id FROM upstream_deliveries WHERE state = 'pending' AND next_attempt_at <= $1
                             ORDER BY next_attempt_at, id LIMIT 1)
                   AND state = 'pending'
                 RETURNING id, link_id, attempts",
            )
            .bind(now)
            .fetch_optional(&mut *conn)
            .await?;
            match row {
                None => None,
                Some((id, link_id, attempts)) => {
                    let definition: String = sqlx::query_scalar("SELECT definition FROM upstream_links WHERE id = $1")
                        .bind(link_id)
                        .fetch_one(&mut *conn)
                        .await?;
                    let report: Option<ReportRow> = sqlx::query_as(
                        "SELECT g.code, u.code, r.period, r.status, r.approved_at,
                        (SELECT v.snapshot FROM report_revisions v WHERE v.report_id = r.id ORDER BY v.seq DESC LIMIT 1)
                 FROM upstream_deliveries d JOIN reports r ON r.id = d.report_id
                 JOIN regimes g ON g.id = r.regime_id JOIN units u ON u.id = r.unit_id
                 WHERE d.id = $1",
                    )
                    .bind(id)
                    .fetch_optional(&mut *conn)
                    .await?;
                    Some((id, definition, attempts, report))
                }
            }
        });
        tx.commit().await?;
        let Some((id, definition, attempts, report)) = claimed else { return Ok(None) };
        let link: Link = parse_json("upstream link", &definition)?;
        let report = match report {
            Some((regime, unit, period, status, approved_at, Some(snapshot))) if status == "approved" => {
                let values: std::collections::BTreeMap<String, String> = parse_json("report snapshot", &snapshot)?;
                let approved_on =
                    approved_at.map_or_else(baocao_core::today_in_vietnam, baocao_core::date::day_in_vietnam);
                Some(ApprovedReport { regime, unit, period, approved_on, values: values.into_iter().collect() })
            }
            _ => None,
        };
        Ok(Some(ClaimedDelivery { id, link, attempts, report }))
    }

    /// Records how delivery `id` ended; only a delivery still claimed is
    /// moved.
    pub async fn settle_delivery(&self, id: i64, settled: Settled<'_>) -> Result<(), StoreError> {
        let now = Utc::now();
        let (state, next, http_status, summary, error, sent_at) = match settled {
            Settled::Sent { http_status, summary } => ("sent", now, Some(http_status), Some(summary), None, Some(now)),
            Settled::Retry { error, http_status, retry_at } => {
                ("pending", retry_at, http_status, None, Some(error), None)
            }
            Settled::Refused { error, http_status, summary } => {
                ("refused", now, http_status, summary, Some(error), None)
            }
            Settled::Superseded => (
                "superseded",
                now,
                None,
                None,
                Some("Báo cáo đã được mở lại trước khi gửi: sẽ gửi khi được phê duyệt lại."),
                None,
            ),
        };
        let mut tx = self.begin_write().await?;
        with_conn!(tx, |conn| {
            sqlx::query(
                "UPDATE upstream_deliveries SET state = $2, next_attempt_at = $3, http_status = $4,
                        summary = COALESCE($5, summary), last_error = $6, sent_at = $7, attempts = attempts + 1
                 WHERE id = $1 AND state = 'sending'",
            )
            .bind(id)
            .bind(state)
            .bind(next)
            .bind(http_status.map(i32::from))
            .bind(summary)
            .bind(error)
            .bind(sent_at)
            .execute(&mut *conn)
            .await?;
        });
        tx.commit().await?;
        Ok(())
    }

    /// The latest `limit` deliveries, newest first.
    pub async fn deliveries(&self, limit: i64) -> Result<Vec<DeliveryEntry>, StoreError> {
        let rows: Vec<DeliveryEntry> = with_pool!(self, |pool| {
            sqlx::query_as(
            "SELECT d.id, l.code AS link, g.code AS regime, u.code AS unit, u.name AS unit_name, r.period, d.revision,
                    d.state, d.attempts, d.next_attempt_at, d.sent_at, d.http_status, d.summary, d.last_error,
                    d.created_at
             FROM upstream_deliveries d JOIN upstream_links l ON l.id = d.link_id
             JOIN reports r ON r.id = d.report_id JOIN regimes g ON g.id = r.regime_id
             JOIN units u ON u.id = r.unit_id
             ORDER BY d.id DESC LIMIT $1"
        )
        .bind(limit)
        .fetch_all(pool)
        .await?
        });
        Ok(rows)
    }

    /// Sends a refused delivery again, on an administrator's decision
    /// (audited), once what made the upstream refuse it is mended.
    pub async fn resend_delivery(&self, actor: &str, id: i64) -> Result<(), StoreError> {
        let now = Utc::now();
        let mut tx = self.begin_write().await?;
        with_conn!(tx, |conn| {
            let moved = sqlx::query(
                "UPDATE upstream_deliveries SET state = 'pending', next_attempt_at = $2, attempts = 0
                 WHERE id = $1 AND state = 'refused'",
            )
            .bind(id)
            .bind(now)
            .execute(&mut *conn)
            .await?
            .rows_affected();
            if moved != 1 {
                return Err(StoreError::Conflict(format!(
                    "Lần gửi số {id} không ở trạng thái gửi lại được (chỉ lần gửi bị cấp trên từ chối)."
                )));
            }
            let change = Change {
                at: now,
                actor,
                action: "upstream.resend",
                object: format!("delivery {id}"),
                before: None,
                after: Some(json!({ "state": "pending" })),
            };
            append_audit!(conn, &change);
        });
        tx.commit().await?;
        Ok(())
    }

    /// Stores completeness registrations received, each for the unit
    /// version given (resolved and access-checked by the caller), in one
    /// transaction; a registration stored again replaces the earlier.
    /// Returns how many were new and how many replaced one.
    pub async fn store_registrations(
        &self,
        actor: &str,
        registrations: &[(Registration, VersionKey)],
    ) -> Result<(usize, usize), StoreError> {
        let now = Utc::now();
        let (mut imported, mut updated) = (0, 0);
        let mut tx = self.begin_write().await?;
        with_conn!(tx, |conn| {
            for (r, unit) in registrations {
                let unit_id: i64 =
                    sqlx::query_scalar("SELECT id FROM units WHERE code = $1 AND valid_from IS NOT DISTINCT FROM $2")
                        .bind(&unit.code)
                        .bind(unit.valid_from)
                        .fetch_optional(&mut *conn)
                        .await?
                        .ok_or_else(|| {
                            StoreError::NotFound(format!("Không có đơn vị {} trong cơ sở dữ liệu.", unit.code))
                        })?;
                let existed: Option<bool> = sqlx::query_scalar(
                    "SELECT completed FROM dataset_registrations WHERE data_set = $1 AND period = $2 AND unit_id = $3",
                )
                .bind(&r.data_set)
                .bind(&r.period)
                .bind(unit_id)
                .fetch_optional(&mut *conn)
                .await?;
                match existed {
                    Some(_) => updated += 1,
                    None => imported += 1,
                }
                sqlx::query(
                    "INSERT INTO dataset_registrations (data_set, period, unit_id, completed, completed_on, stored_by, stored_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)
                     ON CONFLICT (data_set, period, unit_id) DO UPDATE SET completed = excluded.completed,
                        completed_on = excluded.completed_on, stored_by = excluded.stored_by, stored_at = excluded.stored_at",
                )
                .bind(&r.data_set)
                .bind(&r.period)
                .bind(unit_id)
                .bind(r.completed)
                .bind(&r.date)
                .bind(actor)
                .bind(now)
                .execute(&mut *conn)
                .await?;
            }
            if !registrations.is_empty() {
                let change = Change {
                    at: now,
                    actor,
                    action: "registrations.import",
                    object: "completeDataSetRegistrations".into(),
                    before: None,
                    after: Some(json!({ "imported": imported, "updated": updated })),
                };
                append_audit!(conn, &change);
            }
        });
        tx.commit().await?;
        Ok((imported, updated))
    }

    /// The registrations received for a data set and period, by unit code.
    pub async fn registrations(&self, data_set: &str, period: &str) -> Result<Vec<Registration>, StoreError> {
        let rows: Vec<(String, bool, Option<String>)> = with_pool!(self, |pool| {
            sqlx::query_as(
            "SELECT u.code, r.completed, r.completed_on FROM dataset_registrations r JOIN units u ON u.id = r.unit_id
             WHERE r.data_set = $1 AND r.period = $2 ORDER BY u.code"
        )
        .bind(data_set)
        .bind(period)
        .fetch_all(pool)
        .await?
        });
        Ok(rows
            .into_iter()
            .map(|(unit, completed, date)| Registration {
                data_set: data_set.to_string(),
                period: period.to_string(),
                organisation_unit: unit,
                completed,
                date,
            })
            .collect())
    }
}
