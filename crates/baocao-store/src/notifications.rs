//! Notifications: events turned into notices in officials' inboxes and
//! mail, following each one's preferences.
//!
//! What happens to a report (returned, approved, reopened) or a request
//! sent is written as an *event* in the transaction of the happening; the
//! scheduler's dispatcher later turns each event into notices, in one
//! transaction that first marks the event dispatched (a conditional
//! update: of two processes, one does it). Reminders and digests come
//! from a daily job that finds what is due on the day. Either way a
//! notice is stored once per account and key (`core::notify::Notice::key`)
//! and mailed only when it is stored, so running a job again, or two
//! processes running it, never tells anyone twice.

use std::collections::{HashMap, HashSet};

use baocao_core::access::{Grant, Role, Target, holds, holds_role};
use baocao_core::date::day_in_vietnam;
use baocao_core::mail::{NoticeParams, Params, Template};
use baocao_core::notify::{self, Late, Notice, OVERDUE_REMINDED_DAYS, Preference, ReportEvent, Topic, reminder_on};
use baocao_core::tasks::TaskStatus;
use baocao_core::unit::UnitVersion;
use baocao_core::{Period, Registry};
use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::Serialize;

use crate::error::parse_json;
use crate::{Db, StoreError, WriteTx, with_conn, with_pool};

/// Writes an event (kind, payload JSON, time) in the caller's transaction.
pub(crate) const INSERT_EVENT: &str = "INSERT INTO events (kind, payload, created_at) VALUES ($1, $2, $3)";

/// What an event is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EventKind {
    /// A [`ReportEvent`].
    Report,
    /// A request sent: `{"regime": code}`.
    Request,
}

impl EventKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            EventKind::Report => "report",
            EventKind::Request => "request",
        }
    }
}

/// Events dispatched per pass: a burst of approvals is told in a few passes.
const DISPATCHED_PER_PASS: i64 = 100;

/// An account that may be told something: active, with its grants.
#[derive(Clone, Debug)]
struct Recipient {
    id: i64,
    username: String,
    display_name: String,
    email: Option<String>,
    grants: Vec<Grant>,
}

/// A notice in an inbox.
#[derive(Clone, Debug, Serialize)]
pub struct InboxEntry {
    pub id: i64,
    pub topic: Topic,
    pub title: String,
    pub body: String,
    pub link: String,
    pub created_at: DateTime<Utc>,
    pub read: bool,
}

/// What a reminder pass told, by kind of notice (notices newly stored).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Reminded {
    pub deadlines: usize,
    pub tasks: usize,
    pub digests: usize,
}

impl Db {
    /// Records an event inside the caller's transaction.
    pub(crate) async fn record_event_in(
        tx: &mut WriteTx,
        kind: EventKind,
        payload: &impl Serialize,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let payload = serde_json::to_string(payload).expect("plain data serializes");
        with_conn!(tx, |conn| {
            sqlx::query(INSERT_EVENT).bind(kind.as_str()).bind(payload).bind(now).execute(&mut *conn).await?;
        });
        Ok(())
    }

    /// Active accounts with their grants.
    async fn recipients(&self) -> Result<Vec<Recipient>, StoreError> {
        let accounts: Vec<(i64, String, String, Option<String>)> = with_pool!(self, |pool| {
            sqlx::query_as(
            "SELECT id, username, display_name, email FROM accounts WHERE active AND withdrawn_at IS NULL ORDER BY id"
        )
        .fetch_all(pool)
        .await?
        });
        let mut grants: HashMap<i64, Vec<Grant>> = HashMap::new();
        for summary in self.accounts().await? {
            grants.insert(summary.id, summary.grants.into_iter().map(|g| g.grant).collect());
        }
        Ok(accounts
            .into_iter()
            .map(|(id, username, display_name, email)| Recipient {
                grants: grants.remove(&id).unwrap_or_default(),
                id,
                username,
                display_name,
                email,
            })
            .collect())
    }

    /// Stores `notices` as each recipient prefers, in one transaction, and
    /// mails those newly stored to recipients who want mail. With `event`,
    /// the event is marked dispatched first, and nothing is done if it was
    /// already (another process dispatched it). Returns the topics of the
    /// notices that were new.
    async fn deliver(
        &self,
        notices: Vec<(&Recipient, Notice)>,
        event: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Topic>, StoreError> {
        let preferences = self.all_preferences().await?;
        let mut tx = self.begin_write().await?;
        if let Some(id) = event {
            let claimed = with_conn!(&mut tx, |conn| sqlx::query(
                "UPDATE events SET dispatched_at = $2 WHERE id = $1 AND dispatched_at IS NULL"
            )
            .bind(id)
            .bind(now)
            .execute(&mut *conn)
            .await?
            .rows_affected());
            if claimed == 0 {
                return Ok(Vec::new());
            }
        }
        let mut new = Vec::new();
        for (to, notice) in notices {
            let preference = preferences.get(&(to.id, notice.topic)).copied().unwrap_or_default();
            if !preference.in_app && !preference.by_mail {
                continue;
            }
            let stored = with_conn!(&mut tx, |conn| sqlx::query(
                "INSERT INTO notifications (account_id, topic, title, body, link, event_key, in_app, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (account_id, event_key) DO NOTHING"
            )
            .bind(to.id)
            .bind(notice.topic.as_str())
            .bind(&notice.title)
            .bind(&notice.body)
            .bind(&notice.link)
            .bind(&notice.key)
            .bind(preference.in_app)
            .bind(now)
            .execute(&mut *conn)
            .await?
            .rows_affected());
            if stored == 0 {
                continue;
            }
            new.push(notice.topic);
            if let (true, Some(email)) = (preference.by_mail, &to.email) {
                let params = Params::Notice(NoticeParams {
                    display_name: to.display_name.clone(),
                    title: notice.title,
                    body: notice.body,
                    link: notice.link,
                });
                Self::enqueue_in(&mut tx, Template::Notice, email, Some(to.id), &params, now).await?;
            }
        }
        tx.commit().await?;
        Ok(new)
    }

    /// Tells `notice` to every active account whose grants `who` accepts;
    /// returns how many were newly told.
    pub(crate) async fn notify_where(
        &self,
        notice: Notice,
        now: DateTime<Utc>,
        who: impl Fn(&[Grant]) -> bool,
    ) -> Result<usize, StoreError> {
        let recipients = self.recipients().await?;
        let notices = recipients.iter().filter(|r| who(&r.grants)).map(|r| (r, notice.clone())).collect();
        Ok(self.deliver(notices, None, now).await?.len())
    }

    /// Turns waiting events into notices; returns how many notices were new.
    pub async fn dispatch_events(&self, registry: &Registry, now: DateTime<Utc>) -> Result<usize, StoreError> {
        let waiting: Vec<(i64, String, String)> = with_pool!(self, |pool| sqlx::query_as(
            "SELECT id, kind, payload FROM events WHERE dispatched_at IS NULL ORDER BY id LIMIT $1"
        )
        .bind(DISPATCHED_PER_PASS)
        .fetch_all(pool)
        .await?);
        if waiting.is_empty() {
            return Ok(0);
        }
        let recipients = self.recipients().await?;
        let today = day_in_vietnam(now);
        let mut new = 0;
        for (id, kind, payload) in waiting {
            let notices: Vec<(&Recipient, Notice)> = match kind.as_str() {
                "report" => {
                    let event: ReportEvent = parse_json("report event", &payload)?;
                    // The sender is told, not whoever acted on their own report.
                    let told = event.submitter.as_deref().filter(|s| *s != event.actor);
                    recipients
                        .iter()
                        .filter(|r| Some(r.username.as_str()) == told)
                        .map(|r| (r, event.notice(id)))
                        .collect()
                }
                "request" => {
                    let payload: serde_json::Value = parse_json("request event", &payload)?;
                    let code = payload["regime"].as_str().unwrap_or_default();
                    let regime = self.regime(code).await?;
                    let Some(request) = &regime.request else { continue };
                    let notice = notify::request_notice(code, &regime.name, &request.legal_basis, request.deadline);
                    let units = regime.units_for(registry, &request.period);
                    let day = request.period.end();
                    recipients
                        .iter()
                        .filter(|r| {
                            units.iter().any(|unit| {
                                let target = Target::Unit { unit, day, form: Some(&regime.form) };
                                holds_role(registry, &r.grants, Role::DataEntry, target, today)
                            })
                        })
                        .map(|r| (r, notice.clone()))
                        .collect()
                }
                other => return Err(StoreError::Corrupt(format!("sự kiện {id} có loại lạ «{other}»"))),
            };
            new += self.deliver(notices, Some(id), now).await?.len();
        }
        Ok(new)
    }

    /// The daily reminders of the day of `now` (Vietnam): reports not sent
    /// whose deadline is near, today or passed (to their units' data-entry
    /// officers); tasks of plans not done, likewise (to whoever manages
    /// plans); and each approver's digest of what is late within their
    /// reach. Run again the same day, it tells nobody twice.
    pub async fn remind(&self, registry: &Registry, now: DateTime<Utc>) -> Result<Reminded, StoreError> {
        let today = day_in_vietnam(now);
        let recipients = self.recipients().await?;
        let mut notices: Vec<(&Recipient, Notice)> = Vec::new();
        // Late reports with what decides who approves them: the unit, the
        // period's last day and the form.
        let mut late: Vec<(UnitVersion, (NaiveDate, String), Late)> = Vec::new();
        for regime in self.regimes().await? {
            if regime.request.as_ref().is_some_and(|r| r.closed_on.is_some()) {
                continue;
            }
            let from = today.checked_sub_days(Days::new(400)).unwrap_or(today);
            let to = today.checked_add_days(Days::new(60)).unwrap_or(today);
            for period in regime.periods(from, to) {
                let deadline = regime.deadline(&period);
                let reminder = reminder_on(deadline, today, &regime.reminders);
                let overdue = deadline < today && (today - deadline).num_days() <= OVERDUE_REMINDED_DAYS;
                if reminder.is_none() && !overdue {
                    continue;
                }
                let sent = self.units_that_sent(&regime.code, &period).await?;
                for unit in regime.units_for(registry, &period).into_iter().filter(|u| !sent.contains(&u.code)) {
                    let day = period.end();
                    if let Some(reminder) = reminder {
                        let notice = notify::deadline_notice(
                            (&regime.code, &regime.name),
                            (&unit.code, &unit.name),
                            (&period.to_string(), &period.label()),
                            deadline,
                            reminder,
                        );
                        for r in &recipients {
                            let target = Target::Unit { unit: &unit, day, form: Some(&regime.form) };
                            if holds_role(registry, &r.grants, Role::DataEntry, target, today) {
                                notices.push((r, notice.clone()));
                            }
                        }
                    }
                    if overdue {
                        let line = Late {
                            regime_name: regime.name.clone(),
                            period_label: period.label(),
                            unit: unit.code.clone(),
                            unit_name: unit.name.clone(),
                            deadline,
                        };
                        late.push((unit, (day, regime.form.clone()), line));
                    }
                }
            }
        }
        let planners: Vec<&Recipient> = recipients
            .iter()
            .filter(|r| holds(&r.grants, None, baocao_core::access::Permission::ManageCatalog, today))
            .collect();
        for task in self.tasks().await?.into_iter().filter(|t| t.status != TaskStatus::Done) {
            if let Some(reminder) = reminder_on(task.deadline, today, &notify::DEFAULT_REMINDERS) {
                let notice =
                    notify::task_notice(&task.plan, &task.number, &task.title, &task.lead, task.deadline, reminder);
                notices.extend(planners.iter().map(|r| (*r, notice.clone())));
            }
        }
        for r in &recipients {
            let theirs: Vec<Late> = late
                .iter()
                .filter(|(unit, (day, form), _)| {
                    let target = Target::Unit { unit, day: *day, form: Some(form) };
                    holds_role(registry, &r.grants, Role::Approver, target, today)
                })
                .map(|(_, _, line)| line.clone())
                .collect();
            if let Some(notice) = notify::digest(today, &theirs) {
                notices.push((r, notice));
            }
        }
        let new = self.deliver(notices, None, now).await?;
        let count = |topic: Topic| new.iter().filter(|t| **t == topic).count();
        Ok(Reminded { deadlines: count(Topic::Deadline), tasks: count(Topic::Task), digests: count(Topic::Digest) })
    }

    /// The codes of the units whose report of `regime` for `period` was
    /// sent (submitted or approved).
    async fn units_that_sent(&self, regime: &str, period: &Period) -> Result<HashSet<String>, StoreError> {
        let codes: Vec<String> = with_pool!(self, |pool| sqlx::query_scalar(
            "SELECT u.code FROM reports r JOIN units u ON u.id = r.unit_id JOIN regimes g ON g.id = r.regime_id
             WHERE g.code = $1 AND r.period = $2 AND r.status IN ('submitted', 'approved')"
        )
        .bind(regime)
        .bind(period.to_string())
        .fetch_all(pool)
        .await?);
        Ok(codes.into_iter().collect())
    }

    /// Each account's preferences that differ from the default.
    async fn all_preferences(&self) -> Result<HashMap<(i64, Topic), Preference>, StoreError> {
        let rows: Vec<(i64, String, bool, bool)> = with_pool!(self, |pool| sqlx::query_as(
            "SELECT account_id, topic, in_app, by_mail FROM notification_preferences"
        )
        .fetch_all(pool)
        .await?);
        let mut found = HashMap::new();
        for (account, topic, in_app, by_mail) in rows {
            let topic: Topic = topic.parse().map_err(StoreError::Corrupt)?;
            found.insert((account, topic), Preference { in_app, by_mail });
        }
        Ok(found)
    }

    /// An account's preference for every topic.
    pub async fn preferences(&self, account_id: i64) -> Result<Vec<(Topic, Preference)>, StoreError> {
        let stored = self.all_preferences().await?;
        Ok(Topic::ALL.iter().map(|t| (*t, stored.get(&(account_id, *t)).copied().unwrap_or_default())).collect())
    }

    /// Sets an account's preferences (each topic given), in one transaction.
    pub async fn set_preferences(&self, account_id: i64, chosen: &[(Topic, Preference)]) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        for (topic, p) in chosen {
            with_conn!(&mut tx, |conn| {
                sqlx::query(
                    "INSERT INTO notification_preferences (account_id, topic, in_app, by_mail) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (account_id, topic) DO UPDATE SET in_app = excluded.in_app, by_mail = excluded.by_mail",
                )
                .bind(account_id)
                .bind(topic.as_str())
                .bind(p.in_app)
                .bind(p.by_mail)
                .execute(&mut *conn)
                .await?;
            });
        }
        tx.commit().await?;
        Ok(())
    }

    /// The latest `limit` notices of an account's inbox, newest first.
    pub async fn inbox(&self, account_id: i64, limit: i64) -> Result<Vec<InboxEntry>, StoreError> {
        type Row = (i64, String, String, String, String, DateTime<Utc>, bool);
        let rows: Vec<Row> = with_pool!(self, |pool| sqlx::query_as(
            "SELECT id, topic, title, body, link, created_at, read_at IS NOT NULL FROM notifications
             WHERE account_id = $1 AND in_app ORDER BY id DESC LIMIT $2"
        )
        .bind(account_id)
        .bind(limit)
        .fetch_all(pool)
        .await?);
        rows.into_iter()
            .map(|(id, topic, title, body, link, created_at, read)| {
                let topic = topic.parse().map_err(StoreError::Corrupt)?;
                Ok(InboxEntry { id, topic, title, body, link, created_at, read })
            })
            .collect()
    }

    /// Where an account's mail goes, if anywhere.
    pub async fn account_email(&self, account_id: i64) -> Result<Option<String>, StoreError> {
        let email: Option<Option<String>> =
            with_pool!(self, |pool| sqlx::query_scalar("SELECT email FROM accounts WHERE id = $1")
                .bind(account_id)
                .fetch_optional(pool)
                .await?);
        Ok(email.flatten())
    }

    /// How many notices of an account's inbox are unread.
    pub async fn unread(&self, account_id: i64) -> Result<i64, StoreError> {
        Ok(with_pool!(self, |pool| sqlx::query_scalar(
            "SELECT COUNT(*) FROM notifications WHERE account_id = $1 AND in_app AND read_at IS NULL"
        )
        .bind(account_id)
        .fetch_one(pool)
        .await?))
    }

    /// Marks notice `id` of the account read (all of them when `None`);
    /// returns the notice's link, if it is the account's.
    pub async fn mark_read(
        &self,
        account_id: i64,
        id: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<Option<String>, StoreError> {
        let mut tx = self.begin_write().await?;
        let link = with_conn!(&mut tx, |conn| {
            sqlx::query(
                "UPDATE notifications SET read_at = $3 WHERE account_id = $1 AND ($2 IS NULL OR id = $2) AND read_at IS NULL",
            )
            .bind(account_id)
            .bind(id)
            .bind(now)
            .execute(&mut *conn)
            .await?;
            let link: Option<String> =
                sqlx::query_scalar("SELECT link FROM notifications WHERE account_id = $1 AND id = $2")
                    .bind(account_id)
                    .bind(id)
                    .fetch_optional(&mut *conn)
                    .await?;
            link
        });
        tx.commit().await?;
        Ok(link)
    }
}
