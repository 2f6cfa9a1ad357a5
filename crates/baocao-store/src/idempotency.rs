//! Write requests sent with an `Idempotency-Key`: the first is carried out,
//! a retry with the same key gets the first one's answer.
//!
//! A request claims its key (`pending`, held with a random token until a
//! lease lapses), is carried out, and its answer is kept (`done`). Where a
//! route's write can say so in its own transaction (report actions, see
//! [`mark_applied`]), the key is marked `applied` there, with the outcome:
//! should the process die between that commit and keeping the answer, a
//! retry is answered from the mark, and a retry of a request whose write
//! never committed is carried out, once. Other routes cannot tell a write
//! that committed from one that did not: a claim of theirs that lapsed, or
//! failed with a server error, is `unknown`, and a retry is refused rather
//! than carried out a second time.

use chrono::{DateTime, Duration, Utc};

use crate::{Db, StoreError, with_conn};

/// How long a key is kept; then it may name a new request.
pub const KEPT: Duration = Duration::hours(24);

/// How long a claim holds its key without an answer: a retry meanwhile is
/// asked to wait. A write takes milliseconds; one of an exact route still
/// under way when its claim is taken over is refused at its commit.
pub const LEASE: Duration = Duration::seconds(10);

/// One write request with its key.
pub struct Keyed<'a> {
    /// The account asking: keys are each account's own.
    pub principal: &'a str,
    pub key: &'a str,
    /// A hash of the method, path, query and body: the same key with
    /// another request is refused.
    pub fingerprint: &'a str,
    /// Method and route, for messages and the operator.
    pub route: &'a str,
    /// Whether the route marks its write in the write's own transaction.
    pub exact: bool,
}

/// An answer kept for a key.
#[derive(Clone, Debug, PartialEq)]
pub struct Kept {
    pub status: u16,
    /// The answer's headers, as a JSON list of name and value pairs.
    pub headers: Option<String>,
    pub body: Vec<u8>,
}

/// What a claim found.
#[derive(Debug, PartialEq)]
pub enum Claim {
    /// Carry the request out; the key is held with this token.
    Acquired(String),
    /// Carried out before: its answer.
    Answered(Kept),
    /// The key names another request.
    Mismatch,
    /// A request with this key is being carried out now.
    InProgress,
    /// An earlier request with this key may or may not have been carried
    /// out (its process stopped, or it failed with a server error).
    Unknown,
}

type Row = (String, String, String, DateTime<Utc>, Option<i32>, Option<String>, Option<Vec<u8>>);

impl Db {
    /// Claims `keyed.key` for `keyed.principal` at `now`, or says why not.
    pub async fn claim_idempotency_key(&self, keyed: &Keyed<'_>, now: DateTime<Utc>) -> Result<Claim, StoreError> {
        let token = baocao_credentials::new_token();
        let mut tx = self.begin_write().await?;
        let claim = with_conn!(&mut tx, |conn| {
            // Keys older than a day are forgotten (an index on the age keeps
            // this a short look).
            sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
                .bind(now - KEPT)
                .execute(&mut *conn)
                .await?;
            let inserted = sqlx::query(
                "INSERT INTO idempotency_keys (principal, key, fingerprint, route, state, token, lease_until, created_at)
                 VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7)
                 ON CONFLICT (principal, key) DO NOTHING",
            )
            .bind(keyed.principal)
            .bind(keyed.key)
            .bind(keyed.fingerprint)
            .bind(keyed.route)
            .bind(&token)
            .bind(now + LEASE)
            .bind(now)
            .execute(&mut *conn)
            .await?
            .rows_affected();
            if inserted == 1 {
                Claim::Acquired(token)
            } else {
                let (fingerprint, state, held, lease_until, status, headers, body): Row = sqlx::query_as(
                    "SELECT fingerprint, state, token, lease_until, status, headers, body
                     FROM idempotency_keys WHERE principal = $1 AND key = $2",
                )
                .bind(keyed.principal)
                .bind(keyed.key)
                .fetch_one(&mut *conn)
                .await?;
                match state.as_str() {
                    _ if fingerprint != keyed.fingerprint => Claim::Mismatch,
                    "done" | "applied" => Claim::Answered(Kept {
                        status: status.and_then(|s| u16::try_from(s).ok()).unwrap_or(200),
                        headers,
                        body: body.unwrap_or_default(),
                    }),
                    "pending" if lease_until > now => Claim::InProgress,
                    // The process holding it stopped before any write of an
                    // exact route committed: carried out now, once (a
                    // compare-and-set on the token it held).
                    "pending" if keyed.exact => {
                        let taken = sqlx::query(
                            "UPDATE idempotency_keys SET token = $3, lease_until = $4
                             WHERE principal = $1 AND key = $2 AND token = $5 AND state = 'pending'",
                        )
                        .bind(keyed.principal)
                        .bind(keyed.key)
                        .bind(&token)
                        .bind(now + LEASE)
                        .bind(&held)
                        .execute(&mut *conn)
                        .await?
                        .rows_affected();
                        if taken == 1 { Claim::Acquired(token) } else { Claim::InProgress }
                    }
                    _ => Claim::Unknown,
                }
            }
        });
        tx.commit().await?;
        Ok(claim)
    }

    /// Keeps `answer` for the key claimed with `token`.
    pub async fn keep_idempotent_answer(
        &self,
        principal: &str,
        key: &str,
        token: &str,
        answer: &Kept,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        with_conn!(&mut tx, |conn| {
            sqlx::query(
                "UPDATE idempotency_keys SET state = 'done', status = $4, headers = $5, body = $6
                 WHERE principal = $1 AND key = $2 AND token = $3 AND state IN ('pending', 'applied')",
            )
            .bind(principal)
            .bind(key)
            .bind(token)
            .bind(i32::from(answer.status))
            .bind(&answer.headers)
            .bind(&answer.body)
            .execute(&mut *conn)
            .await?;
        });
        tx.commit().await?;
        Ok(())
    }

    /// Lets go of the key claimed with `token` after a server error: an
    /// exact route's key is free again unless its write was marked (a
    /// retry is carried out); another route's is `unknown`.
    pub async fn release_idempotency_key(
        &self,
        principal: &str,
        key: &str,
        token: &str,
        exact: bool,
    ) -> Result<(), StoreError> {
        let statement = if exact {
            "DELETE FROM idempotency_keys WHERE principal = $1 AND key = $2 AND token = $3 AND state = 'pending'"
        } else {
            "UPDATE idempotency_keys SET state = 'unknown'
             WHERE principal = $1 AND key = $2 AND token = $3 AND state = 'pending'"
        };
        let mut tx = self.begin_write().await?;
        with_conn!(&mut tx, |conn| {
            sqlx::query(statement).bind(principal).bind(key).bind(token).execute(&mut *conn).await?;
        });
        tx.commit().await?;
        Ok(())
    }
}

/// The key a write carries, as the route handed it to the store.
#[derive(Clone, Debug)]
pub struct Held {
    pub principal: String,
    pub key: String,
    pub token: String,
}

/// Marks, inside a write's own transaction, a key ($1 principal, $2 key,
/// $3 token) as applied with the write's outcome ($4, JSON). No row
/// changed: the claim was lost (it lapsed and a retry took it over, or a
/// retry applied it), and the caller writes nothing.
pub(crate) const MARK_APPLIED: &str = r#"UPDATE idempotency_keys SET state = 'applied', status = 200,
         headers = '[["content-type","application/json"]]', body = $4
     WHERE principal = $1 AND key = $2 AND token = $3 AND state = 'pending'"#;
