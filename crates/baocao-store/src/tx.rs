//! Transactions you can read: a write keeps what it wrote only when
//! [`WriteTx::commit`] is called; a read sees one snapshot.
//!
//! Why not sqlx's own `Transaction`: a body that returns an error must leave
//! nothing behind, which an explicit `commit` at the end of the happy path
//! gives for free (every `?` before it drops the transaction, which rolls
//! back). And a transaction whose end failed (a `COMMIT` or `ROLLBACK`
//! refused because the disk is full, or SQLite having rolled back on its
//! own after an I/O error) leaves sqlx's idea of the connection's state
//! wrong: back in the pool, that connection refuses every later `BEGIN`
//! ("attempted to call begin_with at non-zero transaction depth") until the
//! process restarts. Here such a connection is closed instead, so that the
//! pool opens a fresh one once the disk has room again.
//!
//! Operations that several callers combine into one transaction (a
//! cutover) take `&mut WriteTx` and are named `*_in`; their public forms
//! open a transaction, call them, and commit. Bodies that differ by
//! backend are expanded for each backend's own connection type by
//! [`with_conn!`](crate::with_conn).

use sqlx::pool::PoolConnection;
use sqlx::{Database, Postgres, Sqlite, TransactionManager};
use tokio::sync::OwnedMutexGuard;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::db::Shared;
use crate::{Db, StoreError};

/// A pooled connection of either backend, inside a transaction.
pub enum Conn {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(PoolConnection<Postgres>),
}

/// Runs `$body` with `$conn` bound to the backend's own connection type
/// (`&mut SqliteConnection` or `&mut PgConnection`) of a [`WriteTx`] or
/// [`ReadTx`], inside its transaction.
#[macro_export]
#[doc(hidden)]
macro_rules! with_conn {
    ($tx:expr, |$conn:ident| $body:expr) => {
        match $tx.conn() {
            $crate::tx::Conn::Sqlite(c) => {
                let $conn: &mut sqlx::SqliteConnection = &mut *c;
                $body
            }
            $crate::tx::Conn::Postgres(c) => {
                let $conn: &mut sqlx::PgConnection = &mut *c;
                $body
            }
        }
    };
}

/// An open write transaction. Dropped without [`WriteTx::commit`], it is
/// rolled back: nothing it wrote remains.
pub struct WriteTx {
    inner: Open,
    /// SQLite: this process's writer turn ([`crate::db::Sqlite::writer`]),
    /// held until the transaction has ended.
    turn: Option<OwnedMutexGuard<()>>,
    /// Where the outcome is noted, for [`Db::ready`].
    shared: Arc<Shared>,
}

/// An open read-only transaction: every statement sees the same snapshot.
/// It has nothing to keep; dropping it ends it.
pub struct ReadTx {
    inner: Open,
}

/// The connection of a transaction that has not ended yet.
struct Open(Option<Conn>);

impl Db {
    /// Begins a write transaction. On SQLite it begins IMMEDIATE: a
    /// deferred transaction that reads and then writes cannot wait for the
    /// write lock and fails at once with "database is locked" when another
    /// writer is active; taking the lock first makes concurrent writers
    /// queue (up to the busy timeout) instead. Writers of this process queue
    /// on [`crate::db::Sqlite::writer`] first, first come first served.
    pub async fn begin_write(&self) -> Result<WriteTx, StoreError> {
        match self {
            Db::Sqlite(sqlite) => {
                let turn = sqlite.writer.clone().lock_owned().await;
                let conn = begin::<Sqlite>(&sqlite.pool, Some("BEGIN IMMEDIATE")).await.map_err(|e| {
                    sqlite.shared.write_failed.store(true, Ordering::Relaxed);
                    // SQLite says "attempt to write a readonly database":
                    // name the file or directory that cannot be written.
                    crate::db::read_only(&sqlite.path).unwrap_or(e)
                })?;
                Ok(WriteTx { inner: Open(Some(Conn::Sqlite(conn))), turn: Some(turn), shared: sqlite.shared.clone() })
            }
            Db::Postgres(postgres) => {
                let conn = begin::<Postgres>(&postgres.pool, None).await.inspect_err(|_| {
                    postgres.shared.write_failed.store(true, Ordering::Relaxed);
                })?;
                Ok(WriteTx { inner: Open(Some(Conn::Postgres(conn))), turn: None, shared: postgres.shared.clone() })
            }
        }
    }

    /// Begins a read-only transaction: one consistent snapshot for all its
    /// statements (PostgreSQL's default isolation would let each statement
    /// see what committed since the one before).
    pub async fn begin_read(&self) -> Result<ReadTx, StoreError> {
        let conn = match self {
            Db::Sqlite(sqlite) => Conn::Sqlite(begin::<Sqlite>(&sqlite.pool, None).await?),
            Db::Postgres(postgres) => Conn::Postgres(
                begin::<Postgres>(&postgres.pool, Some("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")).await?,
            ),
        };
        Ok(ReadTx { inner: Open(Some(conn)) })
    }
}

async fn begin<DB: Database>(
    pool: &sqlx::Pool<DB>,
    statement: Option<&'static str>,
) -> Result<PoolConnection<DB>, StoreError> {
    let mut conn = pool.acquire().await?;
    match DB::TransactionManager::begin(&mut conn, statement.map(Into::into)).await {
        Ok(()) => Ok(conn),
        Err(e) => {
            // Whatever state the failed BEGIN left, the connection is not
            // trusted again.
            conn.close_on_drop();
            Err(e.into())
        }
    }
}

impl WriteTx {
    /// The connection, for [`with_conn!`](crate::with_conn).
    #[doc(hidden)]
    pub fn conn(&mut self) -> &mut Conn {
        self.inner.conn()
    }

    /// Makes everything written in this transaction durable. An error means
    /// nothing was kept; the connection is then closed, not reused.
    pub async fn commit(mut self) -> Result<(), StoreError> {
        let mut conn = self.inner.0.take().expect("a transaction is open until it ends");
        let done = match &mut conn {
            Conn::Sqlite(c) => <Sqlite as Database>::TransactionManager::commit(c).await,
            Conn::Postgres(c) => <Postgres as Database>::TransactionManager::commit(c).await,
        };
        self.shared.write_failed.store(done.is_err(), Ordering::Relaxed);
        if let Err(e) = done {
            // Closing a connection ends its transaction, whatever state
            // the failed COMMIT left it in.
            conn.close_on_drop();
            return Err(e.into());
        }
        Ok(())
    }
}

impl ReadTx {
    /// The connection, for [`with_conn!`](crate::with_conn).
    #[doc(hidden)]
    pub fn conn(&mut self) -> &mut Conn {
        self.inner.conn()
    }
}

impl Open {
    fn conn(&mut self) -> &mut Conn {
        self.0.as_mut().expect("a transaction is open until it ends")
    }
}

impl Conn {
    fn close_on_drop(&mut self) {
        match self {
            Conn::Sqlite(c) => c.close_on_drop(),
            Conn::Postgres(c) => c.close_on_drop(),
        }
    }

    async fn rollback(&mut self) -> Result<(), sqlx::Error> {
        match self {
            Conn::Sqlite(c) => <Sqlite as Database>::TransactionManager::rollback(c).await,
            Conn::Postgres(c) => <Postgres as Database>::TransactionManager::rollback(c).await,
        }
    }
}

/// Rolls back a transaction that ended without a commit, then gives the
/// connection back, or closes it if the rollback failed (a connection whose
/// transaction state is unknown must not serve anyone else). The writer's
/// turn is held until then, so that this process's next writer does not
/// meet the lock still taken.
fn end_without_commit(open: &mut Open, turn: Option<OwnedMutexGuard<()>>) {
    let Some(mut conn) = open.0.take() else { return };
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => {
            runtime.spawn(async move {
                if conn.rollback().await.is_err() {
                    conn.close_on_drop();
                }
                drop(conn);
                drop(turn);
            });
        }
        // No runtime to roll back on: closing the connection rolls back.
        Err(_) => conn.close_on_drop(),
    }
}

impl Drop for WriteTx {
    fn drop(&mut self) {
        if self.inner.0.is_some() {
            // Most writes that end without a commit were refused for what
            // they asked, but some because the database could not write
            // (a full disk): readiness checks which, by writing.
            self.shared.write_failed.store(true, Ordering::Relaxed);
        }
        let turn = self.turn.take();
        end_without_commit(&mut self.inner, turn);
    }
}

impl Drop for ReadTx {
    fn drop(&mut self) {
        end_without_commit(&mut self.inner, None);
    }
}
