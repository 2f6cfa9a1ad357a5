//! Where a stored value came from (nguồn gốc số liệu): entered in a report
//! (by whom, in which revision), imported (which file or API), or pulled
//! from another system (which feed, which run, which record). A composed
//! figure's own provenance is its sources (`compose`), each of which is
//! one of these.

use chrono::{DateTime, Utc};
use serde::Serialize;

use baocao_core::Period;

use crate::{Db, StoreError, with_pool};

/// The origin of one stored value.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Provenance {
    /// Typed into a report: the revision that wrote it as it stands.
    Entered { regime: String, revision: i64, action: String, actor: String, at: DateTime<Utc> },
    /// Loaded from a file or through the API.
    Imported { label: String, actor: String, at: DateTime<Utc> },
    /// Pulled from another system by a feed's run.
    Pulled { feed: String, run: i64, fetched_at: DateTime<Utc>, record: Option<String> },
    /// Stored before origins were kept, by no revision of a report.
    Unknown,
}

/// A stored value with its origin.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StoredOrigin {
    pub value: String,
    pub origin: Provenance,
}

type SourceRow =
    (i64, String, Option<String>, Option<String>, Option<String>, Option<DateTime<Utc>>, Option<i64>, Option<String>);

impl Db {
    /// The stored value of `indicator` for unit `code` (any of its
    /// versions) in `period`, and where it came from; `None` when nothing
    /// is stored.
    pub async fn value_origin(
        &self,
        indicator: &str,
        code: &str,
        period: &Period,
    ) -> Result<Option<StoredOrigin>, StoreError> {
        let sql = "SELECT d.unit_id, d.value, s.kind, s.label, s.actor, s.at, s.feed_run_id, d.source_record
            FROM data_values d JOIN indicators i ON i.id = d.indicator_id JOIN units u ON u.id = d.unit_id
            LEFT JOIN value_sources s ON s.id = d.source_id
            WHERE i.code = $1 AND u.code = $2 AND d.period = $3";
        let row: Option<SourceRow> = with_pool!(self, |pool| sqlx::query_as(sql)
            .bind(indicator)
            .bind(code)
            .bind(period.to_string())
            .fetch_optional(pool)
            .await?);
        let Some((unit_id, value, kind, label, actor, at, run, record)) = row else { return Ok(None) };
        let origin = match (kind.as_deref(), label, actor, at) {
            (Some("feed"), Some(feed), _, Some(at)) => {
                Provenance::Pulled { feed, run: run.unwrap_or_default(), fetched_at: at, record }
            }
            (Some(_), Some(label), Some(actor), Some(at)) => Provenance::Imported { label, actor, at },
            _ => self.entered(unit_id, period, indicator).await?,
        };
        Ok(Some(StoredOrigin { value, origin }))
    }

    /// The latest revision of a report of the unit row `unit_id` for
    /// `period` that wrote `indicator`.
    async fn entered(&self, unit_id: i64, period: &Period, indicator: &str) -> Result<Provenance, StoreError> {
        let sql = "SELECT g.code, v.seq, v.action, v.actor, v.at, v.snapshot FROM report_revisions v
            JOIN reports r ON r.id = v.report_id JOIN regimes g ON g.id = r.regime_id
            WHERE r.unit_id = $1 AND r.period = $2 AND v.action IN ('save', 'submit')
            ORDER BY v.at DESC, v.seq DESC";
        let rows: Vec<(String, i64, String, String, DateTime<Utc>, String)> = with_pool!(self, |pool| {
            sqlx::query_as(sql).bind(unit_id).bind(period.to_string()).fetch_all(pool).await?
        });
        for (regime, revision, action, actor, at, snapshot) in rows {
            let values: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(&snapshot).map_err(|e| StoreError::Corrupt(format!("report snapshot: {e}")))?;
            if values.contains_key(indicator) {
                return Ok(Provenance::Entered { regime, revision, action, actor, at });
            }
        }
        Ok(Provenance::Unknown)
    }
}
