//! Scheduled jobs as the database keeps them: when each runs next, and
//! every run with its outcome.
//!
//! Several `serve` processes may share a database; each looks for due jobs
//! and claims one by moving its next run with a compare-and-set on a claim
//! counter, so exactly one of them runs it. A run holds a lease that its
//! process extends while it works; a run whose lease lapsed (the process
//! died or was stopped) is marked interrupted and its job made due again:
//! jobs are idempotent, so running one again finishes what was cut off.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::json;

use crate::audit::Change;
use crate::{Db, StoreError, append_audit, with_conn, with_pool};

/// How long a run stays claimed without its process extending it.
pub const LEASE: Duration = Duration::minutes(2);

/// A job as the jobs page lists it.
#[derive(Clone, Debug, Serialize)]
pub struct JobState {
    pub name: String,
    /// When it runs, in Vietnamese ("hằng ngày lúc 07:00").
    pub schedule: String,
    pub next_run_at: DateTime<Utc>,
}

/// One run of a job.
#[derive(Clone, Debug, Serialize)]
pub struct JobRun {
    pub id: i64,
    pub job: String,
    /// The scheduled moment it ran for.
    pub due_at: DateTime<Utc>,
    /// Which process ran it (host and process number).
    pub runner: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// running, succeeded, failed, interrupted.
    pub outcome: String,
    pub detail: Option<String>,
}

type RunRow = (i64, String, DateTime<Utc>, String, DateTime<Utc>, Option<DateTime<Utc>>, String, Option<String>);

fn run_of(row: RunRow) -> JobRun {
    let (id, job, due_at, runner, started_at, finished_at, outcome, detail) = row;
    JobRun { id, job, due_at, runner, started_at, finished_at, outcome, detail }
}

impl Db {
    /// Makes job `name` known, running next at `next` — or earlier if it
    /// was due earlier already (a run missed while no server ran is run
    /// now, once).
    pub async fn register_job(&self, name: &str, schedule: &str, next: DateTime<Utc>) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        with_conn!(&mut tx, |conn| {
            sqlx::query(
                "INSERT INTO jobs (name, schedule, next_run_at) VALUES ($1, $2, $3)
                 ON CONFLICT (name) DO UPDATE SET schedule = excluded.schedule,
                     next_run_at = CASE WHEN jobs.next_run_at < excluded.next_run_at
                                        THEN jobs.next_run_at ELSE excluded.next_run_at END",
            )
            .bind(name)
            .bind(schedule)
            .bind(next)
            .execute(&mut *conn)
            .await?;
        });
        tx.commit().await?;
        Ok(())
    }

    /// Claims job `name` for `runner` if it is due at `now` and no run of
    /// it is under way: its next run moves to `next(now)` and a run is
    /// recorded, whose id is returned. A run whose lease lapsed is marked
    /// interrupted first, and its job is then due at once.
    pub async fn claim_job(
        &self,
        name: &str,
        runner: &str,
        now: DateTime<Utc>,
        next: DateTime<Utc>,
    ) -> Result<Option<i64>, StoreError> {
        // Most looks find nothing due: answered by a read, without taking
        // the write lock every process's every look would otherwise take.
        let (due, lapsed): (Option<DateTime<Utc>>, i64) = with_pool!(self, |pool| sqlx::query_as(
            "SELECT (SELECT next_run_at FROM jobs WHERE name = $1),
                    (SELECT COUNT(*) FROM job_runs WHERE job = $1 AND outcome = 'running' AND lease_until < $2)"
        )
        .bind(name)
        .bind(now)
        .fetch_one(pool)
        .await?);
        if lapsed == 0 && due.is_none_or(|due| due > now) {
            return Ok(None);
        }
        let mut tx = self.begin_write().await?;
        let claimed = with_conn!(&mut tx, |conn| {
            let lapsed = sqlx::query(
                "UPDATE job_runs SET outcome = 'interrupted', finished_at = $2, detail = $3
                 WHERE job = $1 AND outcome = 'running' AND lease_until < $2",
            )
            .bind(name)
            .bind(now)
            .bind("Bị ngắt giữa chừng (máy chủ dừng); chạy lại.")
            .execute(&mut *conn)
            .await?
            .rows_affected();
            if lapsed > 0 {
                sqlx::query("UPDATE jobs SET next_run_at = $2 WHERE name = $1 AND next_run_at > $2")
                    .bind(name)
                    .bind(now)
                    .execute(&mut *conn)
                    .await?;
            }
            let running: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM job_runs WHERE job = $1 AND outcome = 'running'")
                    .bind(name)
                    .fetch_one(&mut *conn)
                    .await?;
            let job: Option<(DateTime<Utc>, i64)> =
                sqlx::query_as("SELECT next_run_at, claims FROM jobs WHERE name = $1")
                    .bind(name)
                    .fetch_optional(&mut *conn)
                    .await?;
            match job {
                Some((due, claims)) if running == 0 && due <= now => {
                    // Of two processes that read the same count, the second
                    // finds it moved (on PostgreSQL, after waiting for the
                    // first to commit) and claims nothing.
                    let moved = sqlx::query(
                        "UPDATE jobs SET next_run_at = $2, claims = claims + 1 WHERE name = $1 AND claims = $3",
                    )
                    .bind(name)
                    .bind(next)
                    .bind(claims)
                    .execute(&mut *conn)
                    .await?
                    .rows_affected();
                    if moved == 1 {
                        let id: i64 = sqlx::query_scalar(
                            "INSERT INTO job_runs (job, due_at, runner, started_at, lease_until, outcome)
                             VALUES ($1, $2, $3, $4, $5, 'running') RETURNING id",
                        )
                        .bind(name)
                        .bind(due)
                        .bind(runner)
                        .bind(now)
                        .bind(now + LEASE)
                        .fetch_one(&mut *conn)
                        .await?;
                        Some(id)
                    } else {
                        None
                    }
                }
                _ => None,
            }
        });
        tx.commit().await?;
        Ok(claimed)
    }

    /// Extends the lease of run `id` while its process works on it.
    pub async fn extend_job_lease(&self, id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
        with_pool!(self, |pool| sqlx::query(
            "UPDATE job_runs SET lease_until = $2 WHERE id = $1 AND outcome = 'running'"
        )
        .bind(id)
        .bind(now + LEASE)
        .execute(pool)
        .await
        .map(drop))?;
        Ok(())
    }

    /// Records how run `id` ended.
    pub async fn finish_job(&self, id: i64, succeeded: bool, detail: &str) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        with_conn!(&mut tx, |conn| {
            sqlx::query(
                "UPDATE job_runs SET outcome = $2, finished_at = $3, detail = $4 WHERE id = $1 AND outcome = 'running'",
            )
            .bind(id)
            .bind(if succeeded { "succeeded" } else { "failed" })
            .bind(Utc::now())
            .bind(detail)
            .execute(&mut *conn)
            .await?;
        });
        tx.commit().await?;
        Ok(())
    }

    /// Makes job `name` due now, on an administrator's word (audited).
    pub async fn run_job_now(&self, actor: &str, name: &str) -> Result<(), StoreError> {
        let now = Utc::now();
        let mut tx = self.begin_write().await?;
        with_conn!(&mut tx, |conn| {
            let found = sqlx::query("UPDATE jobs SET next_run_at = $2 WHERE name = $1")
                .bind(name)
                .bind(now)
                .execute(&mut *conn)
                .await?
                .rows_affected();
            if found == 0 {
                return Err(StoreError::NotFound(format!("Không có việc định kỳ «{name}».")));
            }
            let change = Change {
                at: now,
                actor,
                action: "job.run_now",
                object: format!("job {name}"),
                before: None,
                after: Some(json!({ "next_run_at": now })),
            };
            append_audit!(conn, &change);
        });
        tx.commit().await?;
        Ok(())
    }

    /// Every job known, by name.
    pub async fn jobs(&self) -> Result<Vec<JobState>, StoreError> {
        let rows: Vec<(String, String, DateTime<Utc>)> =
            with_pool!(self, |pool| sqlx::query_as("SELECT name, schedule, next_run_at FROM jobs ORDER BY name")
                .fetch_all(pool)
                .await?);
        Ok(rows.into_iter().map(|(name, schedule, next_run_at)| JobState { name, schedule, next_run_at }).collect())
    }

    /// The latest `limit` runs of every job, newest first.
    pub async fn job_runs(&self, limit: i64) -> Result<Vec<JobRun>, StoreError> {
        let rows: Vec<RunRow> = with_pool!(self, |pool| sqlx::query_as(
            "SELECT id, job, due_at, runner, started_at, finished_at, outcome, detail FROM job_runs
             ORDER BY id DESC LIMIT $1"
        )
        .bind(limit)
        .fetch_all(pool)
        .await?);
        Ok(rows.into_iter().map(run_of).collect())
    }
}
