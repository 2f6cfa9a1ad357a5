//! Feeds (nguồn cấp số liệu) in the database: their definitions, whose
//! turn it is to be fetched, and each run's outcome with the values it
//! stored, written together: a run's values exist exactly when its record
//! does, each value naming the run and the record it came from.

use std::collections::HashMap;

use baocao_core::Registry;
use baocao_core::feed::{Feed, Record, Refusal};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::audit::Change;
use crate::values::Origin;
use crate::{Db, StoreError, append_audit, with_conn, with_pool};

/// How long a claimed fetch may run before another process may take it
/// again (the first having died): longer than a fetch's time-out.
const CLAIM_LEASE: Duration = Duration::minutes(5);

/// The refusals a run keeps (all are counted).
const KEPT_REFUSALS: usize = 200;

/// A feed due to be fetched, claimed by this process.
#[derive(Clone, Debug)]
pub struct ClaimedFeed {
    pub id: i64,
    pub feed: Feed,
}

/// What a fetch brought back.
pub enum Fetched {
    /// The document, read into records.
    Records { http_status: u16, records: Vec<Record> },
    /// Nothing usable: the system did not answer, refused, or sent what
    /// does not read. Nothing is stored; the next run is at its time.
    Failed { http_status: Option<u16>, message: String },
}

/// A run as recorded.
#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow)]
pub struct FeedRun {
    pub id: i64,
    pub feed: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    /// `stored` or `failed`.
    pub outcome: String,
    pub http_status: Option<i32>,
    pub records: i64,
    pub stored: i64,
    pub new_values: i64,
    pub refused: i64,
    pub message: Option<String>,
    /// JSON of the first refusals ([`Refusal`]).
    #[serde(skip)]
    pub refusals: Option<String>,
}

impl FeedRun {
    /// The first refusals, as kept.
    pub fn refusals(&self) -> Vec<Refusal> {
        self.refusals.as_deref().and_then(|r| serde_json::from_str(r).ok()).unwrap_or_default()
    }
}

/// A feed with its schedule and its last run.
#[derive(Clone, Debug, Serialize)]
pub struct FeedState {
    pub feed: Feed,
    pub next_run_at: DateTime<Utc>,
    pub last_run: Option<FeedRun>,
}

const SELECT_RUNS: &str = "SELECT r.id, f.code AS feed, r.started_at, r.finished_at, r.outcome, r.http_status,
        r.records, r.stored, r.new_values, r.refused, r.message, r.refusals
    FROM feed_runs r JOIN feeds f ON f.id = r.feed_id";

impl Db {
    /// Saves a feed's definition (new, or replacing the one of its code),
    /// audited; it is fetched at once, then every `every_minutes`.
    pub async fn save_feed(&self, actor: &str, feed: &Feed) -> Result<(), StoreError> {
        feed.check().map_err(StoreError::Unprocessable)?;
        let known: Vec<String> =
            with_pool!(self, |pool| sqlx::query_scalar("SELECT code FROM indicators").fetch_all(pool).await?);
        if let Some(unknown) = feed.filled().find(|code| !known.iter().any(|k| k == code)) {
            return Err(StoreError::NotFound(format!("Không có chỉ tiêu «{unknown}» ([indicators]).")));
        }
        let now = Utc::now();
        let definition = serde_json::to_string(feed).expect("plain data serializes");
        let mut tx = self.begin_write().await?;
        with_conn!(tx, |conn| {
            let before: Option<String> = sqlx::query_scalar("SELECT definition FROM feeds WHERE code = $1")
                .bind(&feed.code)
                .fetch_optional(&mut *conn)
                .await?;
            sqlx::query(
                "INSERT INTO feeds (code, definition, next_run_at, updated_at) VALUES ($1, $2, $3, $3)
                 ON CONFLICT (code) DO UPDATE SET definition = excluded.definition,
                     next_run_at = excluded.next_run_at, updated_at = excluded.updated_at",
            )
            .bind(&feed.code)
            .bind(&definition)
            .bind(now)
            .execute(&mut *conn)
            .await?;
            let object = format!("feed {}", feed.code);
            let change = Change::definition(now, actor, "feed.set", object, before, &definition);
            append_audit!(conn, &change);
        });
        tx.commit().await
    }

    /// The feeds, by code, each with its last run.
    pub async fn feeds(&self) -> Result<Vec<FeedState>, StoreError> {
        let rows: Vec<(String, DateTime<Utc>)> =
            with_pool!(self, |pool| sqlx::query_as("SELECT definition, next_run_at FROM feeds ORDER BY code")
                .fetch_all(pool)
                .await?);
        let last = format!("{SELECT_RUNS} WHERE r.id IN (SELECT MAX(id) FROM feed_runs GROUP BY feed_id)");
        let runs: Vec<FeedRun> = with_pool!(self, |pool| sqlx::query_as(&last).fetch_all(pool).await?);
        let mut runs: HashMap<String, FeedRun> = runs.into_iter().map(|r| (r.feed.clone(), r)).collect();
        rows.into_iter()
            .map(|(definition, next_run_at)| {
                let feed: Feed = serde_json::from_str(&definition)
                    .map_err(|e| StoreError::Corrupt(format!("feed definition: {e}")))?;
                let last_run = runs.remove(&feed.code);
                Ok(FeedState { feed, next_run_at, last_run })
            })
            .collect()
    }

    /// The latest `limit` runs of every feed, newest first.
    pub async fn feed_runs(&self, limit: i64) -> Result<Vec<FeedRun>, StoreError> {
        let sql = format!("{SELECT_RUNS} ORDER BY r.id DESC LIMIT $1");
        Ok(with_pool!(self, |pool| sqlx::query_as(&sql).bind(limit).fetch_all(pool).await?))
    }

    /// Makes feed `code` due now (an administrator asking for a fetch).
    pub async fn feed_due_now(&self, actor: &str, code: &str) -> Result<(), StoreError> {
        let now = Utc::now();
        let mut tx = self.begin_write().await?;
        with_conn!(tx, |conn| {
            let moved = sqlx::query("UPDATE feeds SET next_run_at = $1 WHERE code = $2")
                .bind(now)
                .bind(code)
                .execute(&mut *conn)
                .await?
                .rows_affected();
            if moved == 0 {
                return Err(StoreError::NotFound(format!("Không có nguồn cấp số liệu «{code}».")));
            }
            let change = Change {
                at: now,
                actor,
                action: "feed.run",
                object: format!("feed {code}"),
                before: None,
                after: None,
            };
            append_audit!(conn, &change);
        });
        tx.commit().await
    }

    /// Claims the feed whose fetch is most overdue at `now`, if any; a
    /// claim older than its lease (its process died) is taken again.
    pub async fn claim_feed(&self, now: DateTime<Utc>) -> Result<Option<ClaimedFeed>, StoreError> {
        // An idle schedule is answered by a read, as the outbox's is.
        let due: i64 = with_pool!(self, |pool| sqlx::query_scalar(
            "SELECT COUNT(*) FROM feeds WHERE next_run_at <= $1 AND (claimed_at IS NULL OR claimed_at < $2)"
        )
        .bind(now)
        .bind(now - CLAIM_LEASE)
        .fetch_one(pool)
        .await?);
        if due == 0 {
            return Ok(None);
        }
        let mut tx = self.begin_write().await?;
        // The claim is asked again in the update itself: of two processes
        // choosing the same feed, one takes it.
        let row: Option<(i64, String)> = with_conn!(tx, |conn| sqlx::query_as(
            "UPDATE feeds SET claimed_at = $1
             WHERE id = (SELECT id FROM feeds WHERE next_run_at <= $1 AND (claimed_at IS NULL OR claimed_at < $2)
                         ORDER BY next_run_at, id LIMIT 1)
               AND (claimed_at IS NULL OR claimed_at < $2)
             RETURNING id, definition"
        )
        .bind(now)
        .bind(now - CLAIM_LEASE)
        .fetch_optional(&mut *conn)
        .await?);
        tx.commit().await?;
        row.map(|(id, definition)| {
            let feed =
                serde_json::from_str(&definition).map_err(|e| StoreError::Corrupt(format!("feed definition: {e}")))?;
            Ok(ClaimedFeed { id, feed })
        })
        .transpose()
    }

    /// Records a claimed feed's run and stores what it brought, in one
    /// transaction: values that map to an indicator, a unit in force and a
    /// period, except those a submitted or approved report holds (the
    /// report is not changed under its approver, nor after approval); the
    /// others are refused with the record they came from. The feed is due
    /// again `every_minutes` after `started_at`.
    pub async fn store_feed_run(
        &self,
        registry: &Registry,
        claimed: &ClaimedFeed,
        started_at: DateTime<Utc>,
        fetched: Fetched,
    ) -> Result<FeedRun, StoreError> {
        let feed = &claimed.feed;
        let (http_status, records, failure) = match fetched {
            Fetched::Records { http_status, records } => (Some(http_status), records, None),
            Fetched::Failed { http_status, message } => (http_status, Vec::new(), Some(message)),
        };
        let (raw, ids, mut refusals) = feed.raw_values(&records);
        // Checked as any import is; what a submitted report holds is not
        // changed under its approver either.
        let (ok, conflicts) = self.checked_values(registry, raw, &|_, _| true, true).await?;
        for c in &conflicts {
            refusals.extend(c.indexes.iter().map(|&i| Refusal {
                record: ids.get(i).cloned().unwrap_or_default(),
                message: format!("{}: {}", c.object, c.value),
            }));
        }
        // A record refused for its unit is refused once, not once a value.
        let mut seen = std::collections::HashSet::new();
        refusals.retain(|r| seen.insert((r.record.clone(), r.message.clone())));
        let finished_at = Utc::now();
        let outcome = if failure.is_some() { "failed" } else { "stored" };
        let kept: Vec<&Refusal> = refusals.iter().take(KEPT_REFUSALS).collect();
        let kept = (!kept.is_empty()).then(|| serde_json::to_string(&kept).expect("plain data serializes"));
        let actor = format!("feed:{}", feed.code);
        let mut tx = self.begin_write().await?;
        let run_id: i64 = with_conn!(tx, |conn| sqlx::query_scalar(
            "INSERT INTO feed_runs (feed_id, started_at, finished_at, outcome, http_status, records, refused,
                 message, refusals)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id"
        )
        .bind(claimed.id)
        .bind(started_at)
        .bind(finished_at)
        .bind(outcome)
        .bind(http_status.map(i32::from))
        .bind(records.len() as i64)
        .bind(refusals.len() as i64)
        .bind(failure.as_deref())
        .bind(kept.as_deref())
        .fetch_one(&mut *conn)
        .await?);
        let count = if ok.is_empty() {
            Default::default()
        } else {
            let origin = Origin::Feed { label: &feed.name, run: run_id, records: &ids };
            Self::store_values_in(&mut tx, &actor, &ok, origin).await?
        };
        let next = started_at + Duration::minutes(i64::from(feed.every_minutes));
        with_conn!(tx, |conn| {
            sqlx::query("UPDATE feed_runs SET stored = $1, new_values = $2 WHERE id = $3")
                .bind(ok.len() as i64)
                .bind(count.imported as i64)
                .bind(run_id)
                .execute(&mut *conn)
                .await?;
            sqlx::query("UPDATE feeds SET next_run_at = $1, claimed_at = NULL WHERE id = $2")
                .bind(next)
                .bind(claimed.id)
                .execute(&mut *conn)
                .await?;
        });
        tx.commit().await?;
        let sql = format!("{SELECT_RUNS} WHERE r.id = $1");
        Ok(with_pool!(self, |pool| sqlx::query_as(&sql).bind(run_id).fetch_one(pool).await?))
    }
}
