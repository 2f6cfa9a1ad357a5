//! The plans' tasks and targets, followed up: imported from the plans'
//! tables, updated as work is done, targets measured from the reports.

use std::collections::HashMap;

use baocao_core::tasks::{Measure, Progress, Target, Task, TaskStatus};
use baocao_core::{Period, Registry};
use chrono::{NaiveDate, Utc};
use serde_json::json;

use crate::audit::Change;
use crate::compose::{Audience, Counting};
use crate::restated::TableQuery;
use crate::{Db, StoreError, append_audit, with_conn, with_pool};

type TaskRow = (String, String, String, String, String, NaiveDate, String, String, Option<NaiveDate>, Option<String>);

fn task_of(r: TaskRow) -> Result<Task, StoreError> {
    let (plan, number, title, lead, coordinating, deadline, product, status, done_on, evidence) = r;
    let status = status.replace('_', " ").parse().map_err(StoreError::Corrupt)?;
    Ok(Task { plan, number, title, lead, coordinating, deadline, product, status, done_on, evidence })
}

impl Db {
    /// Adds or replaces tasks by (plan, number); all or nothing.
    pub async fn import_tasks(&self, actor: &str, tasks: &[Task]) -> Result<usize, StoreError> {
        let mut tx = self.begin_write().await?;
        let out = with_conn!(tx, |conn| {
            for t in tasks {
                sqlx::query(
                    "INSERT INTO tasks (plan, number, title, lead, coordinating, deadline, product, status, done_on, evidence)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                     ON CONFLICT (plan, number) DO UPDATE SET title = excluded.title, lead = excluded.lead,
                       coordinating = excluded.coordinating, deadline = excluded.deadline, product = excluded.product,
                       status = excluded.status, done_on = excluded.done_on, evidence = excluded.evidence",
                )
                .bind(&t.plan)
                .bind(&t.number)
                .bind(&t.title)
                .bind(&t.lead)
                .bind(&t.coordinating)
                .bind(t.deadline)
                .bind(&t.product)
                .bind(t.status.as_str())
                .bind(t.done_on)
                .bind(&t.evidence)
                .execute(&mut *conn)
                .await?;
            }
            let change = Change {
                at: Utc::now(),
                actor,
                action: "tasks.import",
                object: "tasks".into(),
                before: None,
                after: Some(json!(tasks)),
            };
            append_audit!(conn, &change);
            tasks.len()
        });
        tx.commit().await?;
        Ok(out)
    }

    /// Every task, by deadline.
    pub async fn tasks(&self) -> Result<Vec<Task>, StoreError> {
        let sql = "SELECT plan, number, title, lead, coordinating, deadline, product, status, done_on, evidence
            FROM tasks ORDER BY deadline, plan, number";
        let rows: Vec<TaskRow> = with_pool!(self, |pool| sqlx::query_as(sql).fetch_all(pool).await?);
        rows.into_iter().map(task_of).collect()
    }

    /// Records where a task stands.
    pub async fn update_task(
        &self,
        actor: &str,
        plan: &str,
        number: &str,
        status: TaskStatus,
        done_on: Option<NaiveDate>,
        evidence: Option<&str>,
    ) -> Result<(), StoreError> {
        if status == TaskStatus::Done && done_on.is_none() {
            return Err(StoreError::Conflict("Nhiệm vụ đã hoàn thành cần có ngày hoàn thành.".into()));
        }
        let mut tx = self.begin_write().await?;
        with_conn!(tx, |conn| {
            let updated = sqlx::query(
                "UPDATE tasks SET status = $1, done_on = $2, evidence = COALESCE($3, evidence) WHERE plan = $4 AND number = $5",
            )
            .bind(status.as_str())
            .bind(done_on)
            .bind(evidence)
            .bind(plan)
            .bind(number)
            .execute(&mut *conn)
            .await?
            .rows_affected();
            if updated == 0 {
                return Err(StoreError::NotFound(format!("Kế hoạch «{plan}» không có nhiệm vụ số {number}.")));
            }
            let change = Change {
                at: Utc::now(),
                actor,
                action: "task.update",
                object: format!("task {plan} {number}"),
                before: None,
                after: Some(json!({ "status": status, "done_on": done_on, "evidence": evidence })),
            };
            append_audit!(conn, &change);
        });
        tx.commit().await?;
        Ok(())
    }

    /// Adds or replaces targets by code. A year-to-date target of an
    /// indicator that has no year to date (an average, a rate) is refused,
    /// all of them with it: it could never be measured.
    pub async fn import_targets(&self, actor: &str, targets: &[Target]) -> Result<usize, StoreError> {
        let catalog = self.indicators_by_code().await?;
        for t in targets.iter().filter(|t| t.measure == Measure::YearToDate) {
            for code in std::iter::once(&t.indicator).chain(&t.of) {
                let Some(indicator) = catalog.get(code) else { continue };
                if !indicator.aggregation.has_year_to_date() {
                    return Err(StoreError::Conflict(format!(
                        "Mục tiêu {}: chỉ tiêu {code} tổng hợp theo «{}» nên không có lũy kế từ đầu năm \
                         (chỉ cộng dồn được chỉ tiêu «sum», chỉ tiêu «last» lấy số cuối kỳ). \
                         Hãy đo theo kỳ, hoặc đo tỷ lệ của hai chỉ tiêu cộng dồn (of).",
                        t.code,
                        indicator.aggregation.word()
                    )));
                }
            }
        }
        let mut tx = self.begin_write().await?;
        let out = with_conn!(tx, |conn| {
            for t in targets {
                sqlx::query(
                    "INSERT INTO targets (code, definition) VALUES ($1, $2)
                     ON CONFLICT (code) DO UPDATE SET definition = excluded.definition",
                )
                .bind(&t.code)
                .bind(serde_json::to_string(t).expect("plain data serializes"))
                .execute(&mut *conn)
                .await?;
            }
            let change = Change {
                at: Utc::now(),
                actor,
                action: "targets.import",
                object: "targets".into(),
                before: None,
                after: Some(json!(targets)),
            };
            append_audit!(conn, &change);
            targets.len()
        });
        tx.commit().await?;
        Ok(out)
    }

    pub async fn targets(&self) -> Result<Vec<Target>, StoreError> {
        let rows: Vec<String> =
            with_pool!(self, |pool| sqlx::query_scalar("SELECT definition FROM targets ORDER BY code")
                .fetch_all(pool)
                .await?);
        rows.iter().map(|d| crate::error::parse_json("target", d)).collect()
    }

    /// Every target measured in `period`: its indicators' figures for its
    /// unit, composed in the structure of the period's end by the one
    /// engine of every figure (`Db::restate_table`); for a year-to-date
    /// target, each indicator's year so far by the rule of the forms'
    /// «lũy kế» column ([`baocao_core::Aggregation::year_to_date`]: a flow
    /// adds up, a stock is its figure at the period's end); then their
    /// share when it has one. Measured from the values that count
    /// (approved reports and direct imports:
    /// [`crate::compose::Counting::APPROVED`]).
    pub async fn target_progress(&self, registry: &Registry, period: &Period) -> Result<Vec<Progress>, StoreError> {
        let day = period.end();
        let catalog = self.indicators_by_code().await?;
        let mut out = Vec::new();
        for target in self.targets().await? {
            let periods = match target.measure {
                Measure::Period => vec![*period],
                Measure::YearToDate => period.year_to_date(),
            };
            let mut indicators = vec![target.indicator.clone()];
            indicators.extend(target.of.clone());
            let query = TableQuery { indicators, units: vec![target.unit.clone()], periods, structure_at: day };
            let mut figures: HashMap<(String, Period), f64> = HashMap::new();
            let audience = Audience::everywhere(Counting::APPROVED);
            self.restate_table(registry, &query, audience, |cells| {
                figures.extend(cells.into_iter().map(|c| ((c.indicator, c.period), c.value)));
                std::future::ready(true)
            })
            .await?;
            let measured = |code: &String| {
                let at = |p: &Period| figures.get(&(code.clone(), *p)).copied();
                match target.measure {
                    Measure::Period => at(period),
                    Measure::YearToDate => {
                        let to_date: Vec<Option<f64>> = query.periods.iter().map(at).collect();
                        catalog.get(code).and_then(|i| i.aggregation.year_to_date(&to_date))
                    }
                }
            };
            let (numerator, denominator) = (measured(&target.indicator), target.of.as_ref().and_then(measured));
            let value = numerator.and_then(|n| target.measure(n, denominator));
            out.push(Progress {
                reached: value.is_some_and(|v| target.reached(v)),
                value,
                period: period.to_string(),
                target,
            });
        }
        Ok(out)
    }
}
