//! Attempts per client address (signing in, reset links, second-factor
//! codes), counted in the database so that every `serve` process on it
//! counts the same: behind a load balancer, an attacker spreading guesses
//! over the processes gets no more tries than against one.
//!
//! The generic cell rate algorithm: a client's row holds the theoretical
//! arrival time of its next attempt; an attempt is let through when that
//! time is no further ahead of now than the burst allows, and moves it on
//! by one interval. The row is moved with a compare-and-set, so two
//! processes counting at once both count.

use chrono::{DateTime, Utc};

use crate::{Db, StoreError, with_conn};

impl Db {
    /// Counts one attempt of `client` in `bucket` at `now`; true when it is
    /// within `per_minute` attempts a minute (all of them at once at most).
    pub async fn within_rate(
        &self,
        bucket: &str,
        client: &str,
        per_minute: u32,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let interval = 60_000 / i64::from(per_minute.max(1));
        let burst = interval * (i64::from(per_minute.max(1)) - 1);
        let now = now.timestamp_millis();
        let mut tx = self.begin_write().await?;
        let allowed = with_conn!(&mut tx, |conn| {
            // Rows whose time has passed say nothing more than no row.
            sqlx::query("DELETE FROM rate_limits WHERE tat < $1").bind(now).execute(&mut *conn).await?;
            let mut allowed = None;
            // A compare-and-set lost to another process is tried again on
            // what that process wrote; a handful of rounds is plenty.
            for _ in 0..8 {
                let stored: Option<i64> =
                    sqlx::query_scalar("SELECT tat FROM rate_limits WHERE bucket = $1 AND client = $2")
                        .bind(bucket)
                        .bind(client)
                        .fetch_optional(&mut *conn)
                        .await?;
                let tat = stored.unwrap_or(now).max(now);
                if tat - now > burst {
                    allowed = Some(false);
                    break;
                }
                let moved = match stored {
                    None => sqlx::query(
                        "INSERT INTO rate_limits (bucket, client, tat) VALUES ($1, $2, $3)
                         ON CONFLICT (bucket, client) DO NOTHING",
                    )
                    .bind(bucket)
                    .bind(client)
                    .bind(tat + interval)
                    .execute(&mut *conn)
                    .await?
                    .rows_affected(),
                    Some(old) => {
                        sqlx::query("UPDATE rate_limits SET tat = $3 WHERE bucket = $1 AND client = $2 AND tat = $4")
                            .bind(bucket)
                            .bind(client)
                            .bind(tat + interval)
                            .bind(old)
                            .execute(&mut *conn)
                            .await?
                            .rows_affected()
                    }
                };
                if moved == 1 {
                    allowed = Some(true);
                    break;
                }
            }
            // Still contended after all rounds: refused, as a flood is.
            allowed.unwrap_or(false)
        });
        tx.commit().await?;
        Ok(allowed)
    }
}
