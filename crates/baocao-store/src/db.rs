use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

use crate::StoreError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A connection pool to one of the supported backends.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(Sqlite),
    Postgres(Postgres),
}

/// An SQLite pool, and the turn of its writers in this process.
#[derive(Clone, Debug)]
pub struct Sqlite {
    // Public for the exported macros, which expand in other crates.
    #[doc(hidden)]
    pub pool: SqlitePool,
    /// SQLite has one writer at a time. Writers that find it busy wait in
    /// SQLite's busy handler, which sleeps in growing steps (up to 100 ms)
    /// and wakes them in no order; queueing them here instead hands the
    /// turn over at once and first come, first served. Other processes
    /// still meet the busy handler.
    #[doc(hidden)]
    pub writer: std::sync::Arc<tokio::sync::Mutex<()>>,
    pub(crate) shared: std::sync::Arc<Shared>,
}

/// A PostgreSQL pool.
#[derive(Clone, Debug)]
pub struct Postgres {
    #[doc(hidden)]
    pub pool: PgPool,
    pub(crate) shared: std::sync::Arc<Shared>,
}

/// What the clones of one [`Db`] share besides the pool.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    pub(crate) reports: crate::report_writer::ReportQueue,
    pub(crate) catalog: crate::catalog::CatalogCache,
}

/// Runs `$body` with `$pool` bound to the backend's own pool type.
#[macro_export]
#[doc(hidden)]
macro_rules! with_pool {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::Db::Sqlite(sqlite) => {
                let $pool = &sqlite.pool;
                $body
            }
            $crate::Db::Postgres(postgres) => {
                let $pool = &postgres.pool;
                $body
            }
        }
    };
}

/// Opens a transaction, SQLite's begun with `$sqlite_begin`, and runs
/// `$body` with `$conn` bound to the backend's own connection type;
/// commits when the body returns `Ok`.
#[macro_export]
#[doc(hidden)]
macro_rules! transaction {
    ($db:expr, $sqlite_begin:literal, |$conn:ident| $body:expr) => {
        match $db {
            $crate::Db::Sqlite(sqlite) => {
                let _turn = if $sqlite_begin == "BEGIN IMMEDIATE" { Some(sqlite.writer.lock().await) } else { None };
                let mut tx = sqlite.pool.begin_with($sqlite_begin).await?;
                let $conn = &mut *tx;
                let out = $body;
                tx.commit().await?;
                out
            }
            $crate::Db::Postgres(postgres) => {
                let mut tx = postgres.pool.begin().await?;
                let $conn = &mut *tx;
                let out = $body;
                tx.commit().await?;
                out
            }
        }
    };
}

/// A write transaction. On SQLite it begins IMMEDIATE: a deferred
/// transaction that reads and then writes cannot wait for the write lock and
/// fails at once with "database is locked" when another writer is active;
/// taking the lock first makes concurrent writers queue (up to the busy
/// timeout) instead.
#[macro_export]
#[doc(hidden)]
macro_rules! with_tx {
    ($db:expr, |$conn:ident| $body:expr) => {
        $crate::transaction!($db, "BEGIN IMMEDIATE", |$conn| $body)
    };
}

/// A read-only transaction: a consistent snapshot.
#[macro_export]
#[doc(hidden)]
macro_rules! with_read_tx {
    ($db:expr, |$conn:ident| $body:expr) => {
        $crate::transaction!($db, "BEGIN", |$conn| $body)
    };
}

/// A connection inside an open write transaction, of either backend: what
/// operations take so that several of them (a cutover) can share one
/// transaction and commit or vanish together.
pub(crate) enum Tx<'c> {
    Sqlite(&'c mut sqlx::SqliteConnection),
    Postgres(&'c mut sqlx::PgConnection),
}

impl<'c> From<&'c mut sqlx::SqliteConnection> for Tx<'c> {
    fn from(conn: &'c mut sqlx::SqliteConnection) -> Self {
        Tx::Sqlite(conn)
    }
}

impl<'c> From<&'c mut sqlx::PgConnection> for Tx<'c> {
    fn from(conn: &'c mut sqlx::PgConnection) -> Self {
        Tx::Postgres(conn)
    }
}

/// Runs `$body` with `$conn` bound to the backend's own connection of a
/// [`Tx`], inside the transaction the caller opened.
macro_rules! in_tx {
    ($tx:expr, |$conn:ident| $body:expr) => {
        match $tx {
            $crate::db::Tx::Sqlite(c) => {
                let $conn = &mut **c;
                $body
            }
            $crate::db::Tx::Postgres(c) => {
                let $conn = &mut **c;
                $body
            }
        }
    };
}
pub(crate) use in_tx;

/// A write transaction for operations written against [`Tx`]: `$body`
/// runs with `$tx` bound to it.
macro_rules! with_write {
    ($db:expr, |$tx:ident| $body:expr) => {
        $crate::with_tx!($db, |conn| {
            let mut tx = $crate::db::Tx::from(conn);
            let $tx = &mut tx;
            $body
        })
    };
}
pub(crate) use with_write;

impl Db {
    /// Connects to `url` (`sqlite:PATH`, created when missing, or
    /// `postgres://…`) and brings the schema up to date.
    pub async fn connect(url: &str) -> Result<Db, StoreError> {
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // FULL: a committed transaction survives a power cut, not only a crash.
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                // Every commit invalidates the page cache of the pool's other
                // connections, which then read the pages again with one
                // system call and one copy each; mapped, they read them in place.
                .pragma("mmap_size", "1073741824");
            // A file on this machine does not go stale the way a network
            // connection does: testing it before each use would cost one more
            // trip to SQLite's worker thread per statement.
            let pool =
                SqlitePoolOptions::new().max_connections(8).test_before_acquire(false).connect_with(options).await?;
            sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
            Ok(Db::Sqlite(Sqlite { pool, writer: Default::default(), shared: Default::default() }))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            // JIT compilation pays off for long analytical queries only; for
            // the short queries of an interactive application it can cost
            // more than the queries themselves.
            let options = PgConnectOptions::from_str(url)?.options([("jit", "off")]);
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await?;
            sqlx::migrate!("./migrations/postgres").run(&pool).await?;
            Ok(Db::Postgres(Postgres { pool, shared: Default::default() }))
        } else {
            Err(StoreError::UnsupportedUrl(url.to_string()))
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Writes a consistent copy of an SQLite database to `path` while it
    /// stays in use (`VACUUM INTO`: one transaction's snapshot, compacted).
    /// Returns false on PostgreSQL, whose backups are made with pg_dump.
    pub async fn backup_sqlite(&self, path: &std::path::Path) -> Result<bool, StoreError> {
        match self {
            Db::Sqlite(sqlite) => {
                sqlx::query("VACUUM INTO $1").bind(path.to_string_lossy().into_owned()).execute(&sqlite.pool).await?;
                Ok(true)
            }
            Db::Postgres(_) => Ok(false),
        }
    }

    /// The PostgreSQL schema baocao works in (its `search_path`), for
    /// pg_dump; `None` on SQLite.
    pub async fn schema(&self) -> Result<Option<String>, StoreError> {
        match self {
            Db::Sqlite(_) => Ok(None),
            Db::Postgres(postgres) => {
                Ok(sqlx::query_scalar("SELECT current_schema()").fetch_one(&postgres.pool).await?)
            }
        }
    }

    /// True when the database answers.
    pub async fn ping(&self) -> bool {
        with_pool!(self, |pool| sqlx::query("SELECT 1").execute(pool).await.is_ok())
    }

    pub(crate) fn shared(&self) -> &Shared {
        match self {
            Db::Sqlite(sqlite) => &sqlite.shared,
            Db::Postgres(postgres) => &postgres.shared,
        }
    }

    pub async fn close(&self) {
        with_pool!(self, |pool| pool.close().await)
    }
}
