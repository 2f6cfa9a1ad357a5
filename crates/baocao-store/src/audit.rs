//! Appending to and reading the hash-chained audit log
//! ([`baocao_core::audit`]).

use baocao_core::audit::{Record, Verdict, verify};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;

use crate::{Db, StoreError, with_conn, with_pool};

/// A change to record, in the transaction that makes it.
pub struct Change<'a> {
    pub at: DateTime<Utc>,
    pub actor: &'a str,
    pub action: &'a str,
    pub object: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// The columns of a stored record, as text.
pub(crate) struct Row {
    pub at: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

impl<'a> Change<'a> {
    /// A definition kept as JSON text replaced by `definition`: `before`
    /// is the text it replaces (none when it is new; an unreadable one is
    /// recorded as null).
    pub(crate) fn definition(
        at: DateTime<Utc>,
        actor: &'a str,
        action: &'a str,
        object: String,
        before: Option<String>,
        definition: &str,
    ) -> Change<'a> {
        Change {
            at,
            actor,
            action,
            object,
            before: before.map(|b| serde_json::from_str(&b).unwrap_or(Value::Null)),
            after: Some(serde_json::from_str(definition).expect("a definition is the JSON it was serialized to")),
        }
    }

    /// The hash of this change stored as `row`, number `seq`, after the
    /// record whose hash is `prev`.
    pub(crate) fn hash(&self, row: &Row, prev: &str, seq: i64) -> String {
        baocao_core::audit::chain_hash(
            prev,
            seq,
            &row.at,
            self.actor,
            self.action,
            &self.object,
            row.before.as_deref(),
            row.after.as_deref(),
        )
    }

    pub(crate) fn row(&self) -> Row {
        Row {
            at: self.at.to_rfc3339_opts(SecondsFormat::Micros, true),
            before: self.before.as_ref().map(Value::to_string),
            after: self.after.as_ref().map(Value::to_string),
        }
    }
}

/// Appends `$change` (a [`Change`]) to the audit log on `$conn`, inside
/// the caller's transaction: the change and its record commit together or
/// not at all. Bumping the head first takes its row lock, so concurrent
/// appenders queue rather than fork the chain.
#[macro_export]
#[doc(hidden)]
macro_rules! append_audit {
    ($conn:expr, $change:expr) => {{
        let change: &$crate::audit::Change<'_> = $change;
        let row = change.row();
        let (seq, prev): (i64, String) =
            sqlx::query_as("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
                .fetch_one(&mut *$conn)
                .await?;
        let hash = change.hash(&row, &prev, seq);
        sqlx::query(
            "INSERT INTO audit_log (seq, at, actor, action, object, before, after, prev_hash, hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(seq)
        .bind(&row.at)
        .bind(change.actor)
        .bind(change.action)
        .bind(&change.object)
        .bind(&row.before)
        .bind(&row.after)
        .bind(&prev)
        .bind(&hash)
        .execute(&mut *$conn)
        .await?;
        sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1").bind(&hash).execute(&mut *$conn).await?;
    }};
}

/// A record chained after the one before it, as stored.
#[derive(serde::Serialize)]
pub(crate) struct ChainedRow<'a> {
    pub seq: i64,
    pub at: String,
    pub actor: &'a str,
    pub action: &'a str,
    pub object: &'a str,
    pub before: Option<String>,
    pub after: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

/// `changes` chained after the record `head` (its seq and hash), and the
/// new end of the chain: the same records [`append_audit!`] writes one at
/// a time.
pub(crate) fn chained_rows<'a>(head: (i64, String), changes: &'a [Change<'_>]) -> (Vec<ChainedRow<'a>>, (i64, String)) {
    let (mut seq, mut prev) = head;
    let mut rows = Vec::with_capacity(changes.len());
    for change in changes {
        let row = change.row();
        seq += 1;
        let hash = change.hash(&row, &prev, seq);
        let prev_hash = std::mem::replace(&mut prev, hash.clone());
        rows.push(ChainedRow {
            seq,
            at: row.at,
            actor: change.actor,
            action: change.action,
            object: &change.object,
            before: row.before,
            after: row.after,
            prev_hash,
            hash,
        });
    }
    (rows, (seq, prev))
}

/// [`chained_rows`] as the JSON batch of the dialect's `insert_audit`.
pub(crate) fn chained(head: (i64, String), changes: &[Change<'_>]) -> (String, (i64, String)) {
    let (rows, end) = chained_rows(head, changes);
    (serde_json::to_string(&rows).expect("plain data serializes"), end)
}

/// Appends the slice of changes `$changes` to the audit log on `$conn` (either
/// backend), as [`append_audit!`] would one by one, in multi-row statements:
/// for the thousands of records of a cutover's accounts.
#[macro_export]
#[doc(hidden)]
macro_rules! append_audits {
    ($conn:expr, $changes:expr) => {{
        let changes: &[$crate::audit::Change<'_>] = $changes;
        if !changes.is_empty() {
            // Moving the head first takes its row lock, as `append_audit!` does.
            let n = changes.len() as i64;
            let head: (i64, String) =
                sqlx::query_as("UPDATE audit_head SET seq = seq + $1 WHERE id = 1 RETURNING seq - $1, hash")
                    .bind(n)
                    .fetch_one(&mut *$conn)
                    .await?;
            let (rows, (_, hash)) = $crate::audit::chained_rows(head, changes);
            for chunk in rows.chunks($crate::sql::ROWS) {
                let mut insert = sqlx::QueryBuilder::new(
                    "INSERT INTO audit_log (seq, at, actor, action, object, before, after, prev_hash, hash) ",
                );
                insert.push_values(chunk, |mut b, r| {
                    b.push_bind(r.seq)
                        .push_bind(r.at.as_str())
                        .push_bind(r.actor)
                        .push_bind(r.action)
                        .push_bind(r.object)
                        .push_bind(r.before.as_deref())
                        .push_bind(r.after.as_deref())
                        .push_bind(r.prev_hash.as_str())
                        .push_bind(r.hash.as_str());
                });
                insert.build().execute(&mut *$conn).await?;
            }
            sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1").bind(hash).execute(&mut *$conn).await?;
        }
    }};
}

/// Which records to list.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    /// Actions starting with this (`report.` for every report action).
    pub action: Option<String>,
    /// Objects containing this.
    pub object: Option<String>,
    /// Only records before this sequence number (paging backwards).
    pub before_seq: Option<i64>,
    pub limit: i64,
}

type RecordRow = (i64, String, String, String, String, Option<String>, Option<String>, String, String);

fn record(row: RecordRow) -> Record {
    let (seq, at, actor, action, object, before, after, prev_hash, hash) = row;
    // Text that is not JSON can only come from tampering; it is kept as a
    // JSON string so that verification sees the hash mismatch.
    let json = |t: Option<String>| t.map(|t| serde_json::from_str(&t).unwrap_or(Value::String(t)));
    Record { seq, at, actor, action, object, before: json(before), after: json(after), prev_hash, hash }
}

const COLUMNS: &str = "seq, at, actor, action, object, before, after, prev_hash, hash";

impl Db {
    /// Records matching `filter`, newest first.
    pub async fn audit_records(&self, filter: &AuditFilter) -> Result<Vec<Record>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM audit_log
             WHERE ($1 IS NULL OR actor = $1) AND ($2 IS NULL OR action LIKE $2 || '%')
               AND ($3 IS NULL OR object LIKE '%' || $3 || '%') AND ($4 IS NULL OR seq < $4)
             ORDER BY seq DESC LIMIT $5"
        );
        let rows: Vec<RecordRow> = with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(&filter.actor)
            .bind(&filter.action)
            .bind(&filter.object)
            .bind(filter.before_seq)
            .bind(filter.limit)
            .fetch_all(pool)
            .await?);
        Ok(rows.into_iter().map(record).collect())
    }

    /// Reads the whole chain in one snapshot and checks it.
    pub async fn verify_audit(&self) -> Result<Verdict, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM audit_log ORDER BY seq");
        let mut snapshot = self.begin_read().await?;
        let (rows, head): (Vec<RecordRow>, (i64, String)) = with_conn!(snapshot, |conn| {
            let rows = sqlx::query_as(&sql).fetch_all(&mut *conn).await?;
            let head = sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(&mut *conn).await?;
            (rows, head)
        });
        let records: Vec<Record> = rows.into_iter().map(record).collect();
        Ok(verify(&records, head.0, &head.1))
    }
}
