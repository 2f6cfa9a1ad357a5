//! Writing actions on reports, many to a transaction.
//!
//! Every action (save, submit, approve, return) goes into one queue per
//! database handle. A *lane* writes what waits in it (up to
//! [`BATCH_LIMIT`] actions, oldest first): one transaction, a handful of
//! set-based statements for the whole batch (read the reports' state, upsert
//! values, move reports, append revisions, chain the audit records), one
//! commit, and again while actions wait. Each caller is answered after that
//! commit, so nothing acknowledged is lost; a request that arrives while a
//! batch is being written waits for the next one.
//!
//! Why: sqlx runs an SQLite connection on a thread of its own and hands each
//! statement and each row across a channel, and a commit costs an `fsync`.
//! Written one by one, a submission took about twenty hand-offs and one
//! `fsync`; batched, both are shared by every submission of the batch.
//!
//! SQLite has one writer at a time, so one lane. PostgreSQL writes several
//! batches at once ([`POSTGRES_LANES`]), each on units none of the others
//! is writing in that year: a batch locks its units and years first (an
//! advisory lock, so that the lanes of every process agree), and takes the
//! rows every writer shares (the revisions of values and periods, the end of
//! the audit chain) only at its end, in the order the values import takes
//! them too. With one lane, the writer waited on PostgreSQL while the
//! cores had time to spare.
//!
//! Each action is decided on its own, in order, against the state read in
//! the transaction: a refused action (rule errors, a locked or legacy
//! report, a transition the workflow does not allow) is answered with its
//! reason and writes nothing, without affecting the others. Two actions on
//! the same report never share a round; the later waits for the next.
//! Should the batch fail as a whole (a database error), each of its actions
//! is written again alone, so that only the culprit fails.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use baocao_core::Period;
use baocao_core::datavalue::CheckedValue;
use baocao_core::form::{Column, Severity};
use baocao_core::notify::ReportEvent;
use baocao_core::workflow::{Action, Status, approval_barred, transition};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

use crate::audit::{Change, chained};
use crate::error::{parse_json, rejected};
use crate::idempotency::MARK_APPLIED;
use crate::notifications::{EventKind, INSERT_EVENT};
use crate::reports::{Outcome, ReportRequest, ReportScope, checked};
use crate::signatures::{PEND_SIGNATURE, SUPERSEDE_UNSIGNED};
use crate::upstream::{ENQUEUE_DELIVERIES, SUPERSEDE_WAITING, SUPERSEDED_BY_APPROVAL};
use crate::{Db, StoreError, with_conn};

/// At most this many actions in one transaction, first come first: under a
/// burst, a transaction stays short and the earliest callers are answered
/// first.
const BATCH_LIMIT: usize = 256;

/// The refusal of a keyed action whose claim another request took over.
const LOST_CLAIM: &str =
    "Yêu cầu cùng khóa Idempotency-Key đã được xử lý ở nơi khác; hãy tải lại báo cáo để xem kết quả.";

/// Batches PostgreSQL writes at once, in one process. Measured with the
/// server, its clients and PostgreSQL on the same two cores (`benches/submit`,
/// 07/12/2026): two lanes wrote 30% more reports a second than one, four no
/// more than two, with a longer p99. The cores were busy by then; a server
/// with cores to spare may gain from more.
const POSTGRES_LANES: usize = 2;

/// Report actions waiting to be written, and the lanes writing them.
#[derive(Debug, Default)]
pub(crate) struct ReportQueue {
    state: Mutex<QueueState>,
}

#[derive(Debug, Default)]
struct QueueState {
    waiting: Vec<Waiting>,
    /// The units and years of the batches being written: an action on one
    /// of them waits for its batch to end, so that actions on one report are
    /// written in the order they came.
    writing: HashSet<UnitYear>,
    /// Lanes writing now.
    lanes: usize,
}

impl QueueState {
    /// The oldest actions (at most [`BATCH_LIMIT`]) on units and years no
    /// lane is writing, marked as being written.
    fn take(&mut self) -> Vec<Waiting> {
        let mut batch = Vec::new();
        let mut taken = HashSet::new();
        let mut held_back = HashSet::new();
        let mut rest = Vec::with_capacity(self.waiting.len());
        for w in self.waiting.drain(..) {
            let key = w.job.unit_year();
            // An action behind one left waiting stays behind it.
            if batch.len() < BATCH_LIMIT && !self.writing.contains(&key) && !held_back.contains(&key) {
                taken.insert(key);
                batch.push(w);
            } else {
                held_back.insert(key);
                rest.push(w);
            }
        }
        self.waiting = rest;
        self.writing.extend(taken);
        batch
    }
}

/// A unit (code and first day) and a year: what one lane writes at a time.
type UnitYear = (String, Option<chrono::NaiveDate>, i32);

/// The key of `unit_year`'s advisory lock, the same in every process.
fn lock_key(unit_year: &UnitYear) -> i32 {
    use sha2::Digest;
    let (code, from, year) = unit_year;
    let digest = sha2::Sha256::digest(format!("{code}\u{1f}{from:?}\u{1f}{year}"));
    i32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

#[derive(Debug)]
struct Waiting {
    job: Job,
    answer: oneshot::Sender<Result<Outcome, StoreError>>,
}

impl ReportQueue {
    pub(crate) fn waiting_len(&self) -> usize {
        self.state.lock().expect("report queue").waiting.len()
    }
}

/// An action with its values checked against the form's types.
#[derive(Debug)]
struct Job {
    scope: Arc<ReportScope>,
    req: ReportRequest,
    values: Vec<CheckedValue>,
    plan: Vec<CheckedValue>,
    /// For an approval: what the report shows, fixed with it.
    frozen: Option<String>,
}

impl Job {
    fn report_key(&self) -> (i64, String, Period) {
        (self.scope.regime_id, self.scope.unit.code.clone(), self.req.period)
    }

    fn unit_year(&self) -> UnitYear {
        (self.scope.unit.code.clone(), self.scope.unit.validity.from, self.req.period.year())
    }
}

/// What the batch's first statement found of one report.
#[derive(Deserialize)]
struct State {
    k: usize,
    unit_id: i64,
    cutover: Option<String>,
    status: Option<String>,
    signer: Option<String>,
    position: Option<String>,
    snapshot: Option<String>,
    /// Stored values: indicator, text, number, and the feed's name for a
    /// value pulled from another system.
    values: Vec<(String, String, Option<f64>, Option<String>)>,
    /// Levels of the approval chain that approved it as last sent.
    approvals: Option<i64>,
    /// Who last sent it.
    submitter: Option<String>,
    /// Who approved it, at any level, since it was last sent.
    approvers: Option<Vec<String>>,
    /// Its last revision's number; none before its first action.
    revision: Option<i64>,
}

#[derive(Serialize)]
struct StateKey<'a> {
    k: usize,
    regime_id: i64,
    code: &'a str,
    valid_from: Option<chrono::NaiveDate>,
    period: String,
}

/// A value as `upsert_report_values` takes it.
type ValueRow<'a> = (&'a str, i64, &'a str, chrono::NaiveDate, String, Option<f64>);

/// One accepted action as the batch statements' JSON rows take it.
#[derive(Serialize)]
struct Accepted<'a> {
    regime_id: i64,
    form_id: i64,
    unit_id: i64,
    period: String,
    status: &'static str,
    action: &'static str,
    actor: &'a str,
    reason: Option<&'a str>,
    signer: Option<&'a str>,
    position: Option<&'a str>,
    snapshot: String,
    frozen: Option<&'a str>,
    approvals: usize,
    level: Option<usize>,
    about_code: Option<&'a str>,
    about_from: Option<chrono::NaiveDate>,
    #[serde(skip)]
    audit_action: String,
    #[serde(skip)]
    object: String,
    #[serde(skip)]
    before: serde_json::Value,
    #[serde(skip)]
    after: serde_json::Value,
    /// What the report's sender is told, for a return, a final approval
    /// or a reopening (`core::notify::ReportEvent`).
    #[serde(skip)]
    event: Option<ReportEvent>,
    /// The revision this action writes.
    #[serde(skip)]
    revision: i64,
    #[serde(skip)]
    job: &'a Job,
}

impl Db {
    /// Applies `req` to the report `scope` describes, in a batch with
    /// whatever else waits; answers once the batch is committed.
    pub(crate) async fn write_report_action(
        &self,
        scope: Arc<ReportScope>,
        req: ReportRequest,
        frozen: Option<String>,
    ) -> Result<Outcome, StoreError> {
        let ReportScope { form, indicators, unit, regime, .. } = &*scope;
        // A period that has not begun is refused, unless the regime plans
        // ahead; actions carried over with their own time are judged then.
        let today = req.at.map_or_else(baocao_core::today_in_vietnam, baocao_core::date::day_in_vietnam);
        regime.open(&req.period, today, &req.action).map_err(rejected)?;
        if let Some((signer, position)) = &req.signature {
            StoreError::check_text("người ký (signer)", signer, false)?;
            StoreError::check_text("chức vụ người ký (position)", position, false)?;
        }
        if let Some(reason) = req.action.reason() {
            StoreError::check_text("lý do (reason)", reason, true)?;
        }
        let values = checked(&req.values, form, indicators, unit, req.period, Column::ThisPeriod)?;
        let year = Period::Year { year: req.period.year() };
        let plan = checked(&req.plan, form, indicators, unit, year, Column::YearPlan)?;
        let (answer, answered) = oneshot::channel();
        let job = Job { scope, req, values, plan, frozen };
        let lanes = match self {
            Db::Sqlite(_) => 1,
            Db::Postgres(_) => POSTGRES_LANES,
        };
        let open_lane = {
            let mut queue = self.shared().reports.state.lock().expect("report queue");
            queue.waiting.push(Waiting { job, answer });
            let open = queue.lanes < lanes;
            queue.lanes += usize::from(open);
            open
        };
        if open_lane {
            // A task of its own, so that the batches are written and their
            // callers answered even if this caller goes away.
            let db = self.clone();
            tokio::spawn(async move { db.write_lane().await });
        }
        answered.await.unwrap_or_else(|_| Err(StoreError::Corrupt("the batch writing this report stopped".into())))
    }

    /// Writes batches while actions wait that no other lane holds back.
    async fn write_lane(&self) {
        let queue = &self.shared().reports;
        let mut held: Vec<UnitYear> = Vec::new();
        loop {
            let batch = {
                // Under the queue's lock: an action pushed after this lane
                // found nothing opens a lane of its own.
                let mut state = queue.state.lock().expect("report queue");
                for key in held.drain(..) {
                    state.writing.remove(&key);
                }
                let batch = state.take();
                if batch.is_empty() {
                    state.lanes -= 1;
                    return;
                }
                batch
            };
            held = batch.iter().map(|w| w.job.unit_year()).collect();
            // A task of its own: should a batch panic, its callers are
            // answered (their senders dropped) and the lane goes on.
            let db = self.clone();
            let _ = tokio::spawn(async move { db.write_batch(batch).await }).await;
        }
    }

    async fn write_batch(&self, mut rest: Vec<Waiting>) {
        while !rest.is_empty() {
            // A round: distinct reports, acted on at the same recorded time.
            let at = rest[0].job.req.at;
            let mut seen = HashSet::new();
            let (round, later): (Vec<Waiting>, Vec<Waiting>) =
                rest.into_iter().partition(|w| w.job.req.at == at && seen.insert(w.job.report_key()));
            rest = later;
            let jobs: Vec<&Job> = round.iter().map(|w| &w.job).collect();
            match self.write_round(&jobs).await {
                Ok(outcomes) => {
                    for (w, outcome) in round.into_iter().zip(outcomes) {
                        let _ = w.answer.send(outcome);
                    }
                }
                Err(e) if round.len() == 1 => {
                    let _ = round.into_iter().next().map(|w| w.answer.send(Err(e)));
                }
                Err(_) => {
                    for w in round {
                        let outcome = self.write_round(&[&w.job]).await.and_then(|mut o| o.remove(0));
                        let _ = w.answer.send(outcome);
                    }
                }
            }
        }
    }

    /// Decides and writes `jobs` (distinct reports) in one transaction; the
    /// outer error is the transaction's, the inner ones each action's.
    async fn write_round(&self, jobs: &[&Job]) -> Result<Vec<Result<Outcome, StoreError>>, StoreError> {
        let now: DateTime<Utc> = jobs[0].req.at.unwrap_or_else(Utc::now);
        let dialect = self.dialect();
        let keys: Vec<StateKey<'_>> = jobs
            .iter()
            .enumerate()
            .map(|(k, job)| StateKey {
                k,
                regime_id: job.scope.regime_id,
                code: &job.scope.unit.code,
                valid_from: job.scope.unit.validity.from,
                period: job.req.period.to_string(),
            })
            .collect();
        let keys = serde_json::to_string(&keys).expect("plain data serializes");
        let mut tx = self.begin_write().await?;
        let outcomes = with_conn!(tx, |conn| {
            // Taken first: on PostgreSQL the lanes of every process write
            // one unit's year one batch at a time, as SQLite's write lock
            // makes every batch take its turn.
            if let Some(lock) = dialect.lock_report_units {
                let keys: std::collections::BTreeSet<i32> = jobs.iter().map(|j| lock_key(&j.unit_year())).collect();
                let keys: Vec<String> = keys.iter().map(i32::to_string).collect();
                sqlx::query(lock).bind(keys.join(",")).execute(&mut *conn).await?;
            }
            let found: String = sqlx::query_scalar(dialect.report_state).bind(&keys).fetch_one(&mut *conn).await?;
            let found: Vec<State> = parse_json("report state", &found)?;
            let mut states: HashMap<usize, State> = found.into_iter().map(|s| (s.k, s)).collect();
            let mut outcomes = Vec::with_capacity(jobs.len());
            let mut accepted = Vec::new();
            for (k, job) in jobs.iter().enumerate() {
                match decide(job, states.remove(&k)) {
                    Ok((outcome, row)) => {
                        // A keyed request is written only while its claim
                        // holds, and its key is marked in this transaction:
                        // a retry after a crash finds it applied.
                        if let Some(held) = &job.req.idempotency {
                            let body = serde_json::to_vec(&outcome).expect("plain data serializes");
                            let marked = sqlx::query(MARK_APPLIED)
                                .bind(&held.principal)
                                .bind(&held.key)
                                .bind(&held.token)
                                .bind(body)
                                .execute(&mut *conn)
                                .await?
                                .rows_affected();
                            if marked != 1 {
                                outcomes.push(Err(StoreError::Conflict(LOST_CLAIM.into())));
                                continue;
                            }
                        }
                        outcomes.push(Ok(outcome));
                        accepted.push(row);
                    }
                    Err(e) => outcomes.push(Err(e)),
                }
            }
            if !accepted.is_empty() {
                let values: Vec<ValueRow<'_>> = accepted
                    .iter()
                    .flat_map(|a| {
                        let (period, end) = (a.period.as_str(), a.job.req.period.end());
                        a.job.values.iter().map(move |v| {
                            (v.indicator.as_str(), a.unit_id, period, end, v.value.to_string(), v.value.as_number())
                        })
                    })
                    .collect();
                if !values.is_empty() {
                    sqlx::query(dialect.upsert_report_values)
                        .bind(serde_json::to_string(&values).expect("plain data serializes"))
                        .bind(now)
                        .execute(&mut *conn)
                        .await?;
                }
                for a in &accepted {
                    for p in &a.job.plan {
                        sqlx::query(
                            "INSERT INTO plan_values (indicator_id, unit_id, year, value)
                             SELECT i.id, $2, $3, $4 FROM indicators i WHERE i.code = $1
                             ON CONFLICT (indicator_id, unit_id, year) DO UPDATE SET value = excluded.value",
                        )
                        .bind(&p.indicator)
                        .bind(a.unit_id)
                        .bind(a.job.req.period.year())
                        .bind(p.value.as_number())
                        .execute(&mut *conn)
                        .await?;
                    }
                }
                let rows = serde_json::to_string(&accepted).expect("plain data serializes");
                sqlx::query(dialect.upsert_reports).bind(&rows).bind(now).execute(&mut *conn).await?;
                sqlx::query(dialect.insert_revisions).bind(&rows).bind(now).execute(&mut *conn).await?;
                for event in accepted.iter().filter_map(|a| a.event.as_ref()) {
                    sqlx::query(INSERT_EVENT)
                        .bind(EventKind::Report.as_str())
                        .bind(serde_json::to_string(event).expect("plain data serializes"))
                        .bind(now)
                        .execute(&mut *conn)
                        .await?;
                }
                // What goes upward, and the signature to make, are written
                // with the approval that causes them: an approval exists
                // exactly when its delivery and its pending signature do.
                for a in accepted.iter().filter(|a| a.status == Status::Approved.as_str()) {
                    sqlx::query(SUPERSEDE_WAITING)
                        .bind(a.regime_id)
                        .bind(a.unit_id)
                        .bind(&a.period)
                        .bind(SUPERSEDED_BY_APPROVAL)
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query(SUPERSEDE_UNSIGNED)
                        .bind(a.regime_id)
                        .bind(a.unit_id)
                        .bind(&a.period)
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query(PEND_SIGNATURE)
                        .bind(a.regime_id)
                        .bind(a.unit_id)
                        .bind(&a.period)
                        .bind(a.revision)
                        .bind(now)
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query(ENQUEUE_DELIVERIES)
                        .bind(a.regime_id)
                        .bind(a.unit_id)
                        .bind(&a.period)
                        .bind(a.revision)
                        .bind(now)
                        .execute(&mut *conn)
                        .await?;
                }
                // The rows every writer shares, last and held until the
                // commit: the revisions in the order `store_values_in` takes
                // them, then the end of the audit chain.
                sqlx::query(crate::catalog::BUMP_VALUES_REVISION).execute(&mut *conn).await?;
                let periods: std::collections::BTreeSet<&str> = accepted.iter().map(|a| a.period.as_str()).collect();
                for period in periods {
                    sqlx::query(crate::catalog::BUMP_PERIOD_REVISION).bind(period).execute(&mut *conn).await?;
                }
                let changes: Vec<Change<'_>> = accepted
                    .iter_mut()
                    .map(|a| Change {
                        at: now,
                        actor: a.actor,
                        action: &a.audit_action,
                        object: std::mem::take(&mut a.object),
                        before: Some(a.before.take()),
                        after: Some(a.after.take()),
                    })
                    .collect();
                let head: (i64, String) = sqlx::query_as(dialect.lock_audit_head).fetch_one(&mut *conn).await?;
                let (records, (seq, hash)) = chained(head, &changes);
                sqlx::query(dialect.insert_audit).bind(records).execute(&mut *conn).await?;
                sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
                    .bind(seq)
                    .bind(hash)
                    .execute(&mut *conn)
                    .await?;
            }
            outcomes
        });
        tx.commit().await?;
        Ok(outcomes)
    }
}

/// Whether `job` may act on the report as `state` found it, and if so what
/// it leaves: its outcome and the rows to write.
fn decide<'j>(job: &'j Job, state: Option<State>) -> Result<(Outcome, Accepted<'j>), StoreError> {
    let ReportScope { regime, unit, form, indicators, .. } = &*job.scope;
    let req = &job.req;
    let state = state.ok_or_else(|| {
        StoreError::NotFound(format!("Đơn vị {} ({}) không có trong cơ sở dữ liệu.", unit.name, unit.code))
    })?;
    // A change made on what the report was at an earlier revision (entered
    // offline, say) is not applied over what happened since.
    let revision = state.revision.unwrap_or(0);
    if let Some(base) = req.base_revision.filter(|&base| base != revision) {
        return Err(StoreError::Stale(format!(
            "Báo cáo đã thay đổi từ lúc lấy về để sửa (bản {base}, nay là bản {revision}): \
             xem bản hiện có trên máy chủ rồi chọn giữ bản nào; không lưu gì."
        )));
    }
    // Only a version that has ended can be legacy.
    if let (Some(_), Some(cutover)) = (unit.validity.to, &state.cutover) {
        return Err(StoreError::Conflict(format!(
            "{} ({}) đã giải thể theo đợt chuyển đổi «{cutover}»: báo cáo của đơn vị là dữ liệu lưu trữ, chỉ xem.",
            unit.name, unit.code
        )));
    }
    let status = match &state.status {
        None => Status::Draft,
        Some(text) => Status::parse(text).ok_or_else(|| StoreError::Corrupt("report status".into()))?,
    };
    if (!job.values.is_empty() || !job.plan.is_empty()) && !status.editable() {
        let hint = if status == Status::Approved {
            " Muốn sửa, người có quyền phê duyệt phải mở lại báo cáo (ghi rõ lý do)."
        } else {
            ""
        };
        return Err(rejected(format!(
            "Báo cáo đang ở trạng thái «{}»; không thể sửa số liệu.{hint}",
            status.vietnamese()
        )));
    }
    let next = transition(status, &req.action).map_err(rejected)?;
    let (next, approvals, level) = climb(regime, req, &state, next)?;
    // Who signs is part of what is sent: given now, or kept from a save.
    let given = |s: Option<&str>| s.is_some_and(|s| !s.trim().is_empty());
    let signed = match &req.signature {
        Some((signer, position)) => given(Some(signer)) && given(Some(position)),
        None => given(state.signer.as_deref()) && given(state.position.as_deref()),
    };
    if next == Status::Submitted && !signed {
        return Err(rejected(
            "Chưa thể gửi báo cáo: cần ghi người ký và chức vụ của người ký (ví dụ: Nguyễn Văn A, Phó Chủ tịch)."
                .into(),
        ));
    }
    // A figure another system counts is not typed over: the feed is
    // where it is corrected (its next run brings the correction).
    for v in &job.values {
        let fed = state.values.iter().find(|(code, ..)| *code == v.indicator);
        if let Some((code, text, number, Some(feed))) = fed {
            let same = match (number, v.value.as_number()) {
                (Some(a), Some(b)) => a == &b,
                _ => *text == v.value.to_string(),
            };
            if !same {
                return Err(rejected(format!(
                    "«{}» ({code}) lấy tự động từ «{feed}» ({text}): không sửa tay được trong báo cáo; \
                     số sai thì sửa ở hệ thống đó, lần lấy sau sẽ cập nhật.",
                    indicators.get(code).map_or(code.as_str(), |i| i.name.as_str())
                )));
            }
        }
    }
    // The values as they will stand, for the rules and the revision.
    let mut current: BTreeMap<String, (String, Option<f64>)> =
        state.values.into_iter().map(|(code, text, number, _)| (code, (text, number))).collect();
    for v in &job.values {
        current.insert(v.indicator.clone(), (v.value.to_string(), v.value.as_number()));
    }
    current.retain(|code, _| form.indicators().any(|c| c == code));
    let numbers: HashMap<String, f64> =
        current.iter().filter_map(|(code, (_, n))| Some((code.clone(), (*n)?))).collect();
    let findings = form.validate(&numbers, indicators);
    if next == Status::Submitted && findings.iter().any(|f| f.severity == Severity::Error) {
        let list: Vec<&str> =
            findings.iter().filter(|f| f.severity == Severity::Error).map(|f| f.message.as_str()).collect();
        return Err(rejected(format!("Chưa thể gửi báo cáo:\n{}", list.join("\n"))));
    }
    let snapshot: BTreeMap<&str, &str> = current.iter().map(|(c, (v, _))| (c.as_str(), v.as_str())).collect();
    let reason = req.action.reason();
    let previous: Option<serde_json::Value> = state.snapshot.and_then(|p| serde_json::from_str(&p).ok());
    let told = matches!(req.action, Action::Return { .. } | Action::Reopen { .. }) || next == Status::Approved;
    let event = told.then(|| ReportEvent {
        regime: regime.code.clone(),
        regime_name: regime.name.clone(),
        unit: unit.code.clone(),
        unit_name: unit.name.clone(),
        period: req.period.to_string(),
        period_label: req.period.label(),
        action: req.action.name().to_string(),
        actor: req.actor.clone(),
        reason: reason.map(str::to_string),
        submitter: state.submitter.clone(),
    });
    let accepted = Accepted {
        regime_id: job.scope.regime_id,
        form_id: job.scope.form_id,
        unit_id: state.unit_id,
        period: req.period.to_string(),
        status: next.as_str(),
        action: req.action.name(),
        actor: &req.actor,
        reason,
        signer: req.signature.as_ref().map(|(s, _)| s.as_str()),
        position: req.signature.as_ref().map(|(_, p)| p.as_str()),
        snapshot: serde_json::to_string(&snapshot).expect("plain data serializes"),
        frozen: job.frozen.as_deref().filter(|_| next == Status::Approved),
        approvals,
        level,
        about_code: job.scope.about.as_ref().map(|a| a.code.as_str()),
        about_from: job.scope.about.as_ref().and_then(|a| a.valid_from),
        audit_action: format!("report.{}", req.action.name()),
        object: format!("report {}/{}/{}", regime.code, unit.code, req.period),
        before: serde_json::json!({ "status": status.as_str(), "values": previous }),
        after: serde_json::json!({ "status": next.as_str(), "values": snapshot, "reason": reason, "level": level }),
        event,
        revision: revision + 1,
        job,
    };
    Ok((Outcome { status: next, findings, revision: revision + 1 }, accepted))
}

/// Where an action leaves the report in its regime's approval chain: the
/// status (an approval below the last level leaves it sent, waiting for
/// the next), the levels approved since it was sent, and the level the
/// action was decided at. Refuses whoever sent it approving it (unless the
/// regime allows it), one account approving at two levels, and an action
/// decided at a level the report has left meanwhile.
fn climb(
    regime: &baocao_core::regime::Regime,
    req: &ReportRequest,
    state: &State,
    next: Status,
) -> Result<(Status, usize, Option<usize>), StoreError> {
    let approved = state.approvals.unwrap_or(0).max(0) as usize;
    let chain = !regime.approval.is_empty();
    let waiting = approved + 1;
    let at_level = || match req.level {
        Some(level) if level != waiting => Err(rejected(format!(
            "Báo cáo đã chuyển cấp phê duyệt (đang chờ cấp {waiting}/{}); hãy mở lại trang báo cáo.",
            regime.levels()
        ))),
        _ => Ok(chain.then_some(waiting)),
    };
    match &req.action {
        Action::Approve => {
            let approvers: Vec<&str> = state.approvers.iter().flatten().map(String::as_str).collect();
            let barred = approval_barred(&req.actor, state.submitter.as_deref(), &approvers, regime.self_approval);
            if let Some(reason) = barred {
                return Err(rejected(reason.into()));
            }
            let level = at_level()?;
            let status = if waiting < regime.levels() { Status::Submitted } else { next };
            Ok((status, waiting, level))
        }
        Action::Return { .. } => Ok((next, 0, at_level()?)),
        _ => Ok((next, 0, None)),
    }
}
