use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

use crate::StoreError;

/// How many rows one write must touch for [`Db::after_bulk_write`] to
/// gather statistics: an import of a file, a national registry; not a
/// report (a few dozen values) nor a feed's usual day.
const BULK_ROWS: usize = 10_000;

/// What a bulk write wrote, for [`Db::after_bulk_write`].
pub(crate) enum Written<'a> {
    /// These tables, as `ANALYZE` lists them.
    Tables(&'a str),
    /// These values: the partitions of `data_values` that hold their periods.
    Values(&'a [baocao_core::datavalue::CheckedValue]),
}

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
    /// The database file: its neighbours stand for locks (`exclusive`).
    pub(crate) path: std::path::PathBuf,
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
    /// Numbers of periods read for compositions, kept for the next ones.
    pub(crate) numbers: crate::compose::KeptNumbers,
    /// The last write transaction of this handle did not commit: until a
    /// write succeeds again, [`Db::ready`] tries one.
    pub(crate) write_failed: std::sync::atomic::AtomicBool,
}

/// Runs `$body` with `$pool` bound to the backend's own pool type: reads
/// outside a transaction. Writes go through [`crate::tx::WriteTx`].
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

/// Why an SQLite database could not be opened, said plainly when it is
/// that the file or its directory cannot be written (SQLite says only
/// "unable to open database file").
fn cannot_open(path: &std::path::Path, error: sqlx::Error) -> StoreError {
    read_only(path).unwrap_or(StoreError::Database(error))
}

fn cannot_migrate(path: &std::path::Path, error: sqlx::migrate::MigrateError) -> StoreError {
    read_only(path).unwrap_or(StoreError::Migrate(error))
}

/// A refusal naming what cannot be written, if that is the trouble: baocao
/// writes the database and, beside it, its journal (`-wal`, `-shm`).
pub(crate) fn read_only(path: &std::path::Path) -> Option<StoreError> {
    let problem = |what: &std::path::Path, e: std::io::Error| {
        StoreError::Open(format!(
            "{} cannot be written ({e}): baocao writes the database file and, in its directory, its journal \
             (-wal, -shm) (cơ sở dữ liệu chỉ đọc hoặc không có quyền ghi)",
            what.display()
        ))
    };
    if path.exists()
        && let Err(e) = std::fs::OpenOptions::new().append(true).open(path)
    {
        return Some(problem(path, e));
    }
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    let probe = dir.join(format!(".baocao-write-probe-{}", std::process::id()));
    match std::fs::File::create(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            None
        }
        Err(e) => Some(problem(dir, e)),
    }
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Where a database's schema stands against this binary's migrations.
#[derive(Debug, serde::Serialize)]
pub struct Migrations {
    /// How many are applied.
    pub applied: usize,
    /// What this binary would apply (`0023 idempotency rate limits`).
    pub pending: Vec<String>,
    /// Applied by a newer binary than this one.
    pub unknown: Vec<i64>,
    /// Begun and not finished.
    pub failed: Vec<i64>,
}

impl Db {
    /// Connects to `url` (`sqlite:PATH`, created when missing, or
    /// `postgres://…`) and brings the schema up to date.
    pub async fn connect(url: &str) -> Result<Db, StoreError> {
        let db = Self::open(url).await?;
        db.migrate().await?;
        Ok(db)
    }

    /// Connects to `url` as it is, its schema left alone: for `baocao
    /// doctor` and `baocao migrate --check`, which look before changing.
    pub async fn open(url: &str) -> Result<Db, StoreError> {
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
            let path = options.get_filename().to_path_buf();
            // A file on this machine does not go stale the way a network
            // connection does: testing it before each use would cost one more
            // trip to SQLite's worker thread per statement.
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .test_before_acquire(false)
                .connect_with(options)
                .await
                .map_err(|e| cannot_open(&path, e))?;
            Ok(Db::Sqlite(Sqlite { path, pool, writer: Default::default(), shared: Default::default() }))
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
            Ok(Db::Postgres(Postgres { pool, shared: Default::default() }))
        } else {
            Err(StoreError::UnsupportedUrl(url.to_string()))
        }
    }

    /// Brings the schema up to date.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Db::Sqlite(sqlite) => {
                // Two processes starting on a new database would both create
                // its tables: the migrations take turns (SQLite has no
                // advisory lock of its own; PostgreSQL's migrator takes one).
                let path = &sqlite.path;
                let turn = crate::exclusive::lock_path(&crate::exclusive::lock_file(path, "migrate"), true);
                SQLITE_MIGRATIONS.run(&sqlite.pool).await.map_err(|e| cannot_migrate(path, e))?;
                drop(turn);
            }
            Db::Postgres(postgres) => POSTGRES_MIGRATIONS.run(&postgres.pool).await?,
        }
        Ok(())
    }

    /// The schema's migrations: applied, and those this binary would apply.
    pub async fn migrations(&self) -> Result<Migrations, StoreError> {
        let known = match self {
            Db::Sqlite(_) => &SQLITE_MIGRATIONS,
            Db::Postgres(_) => &POSTGRES_MIGRATIONS,
        };
        let exists: bool = with_pool!(self, |pool| sqlx::query_scalar(match self {
            Db::Sqlite(_) => "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = '_sqlx_migrations')",
            Db::Postgres(_) => "SELECT to_regclass('_sqlx_migrations') IS NOT NULL",
        })
        .fetch_one(pool)
        .await?);
        let applied: Vec<(i64, bool)> = if exists {
            with_pool!(self, |pool| sqlx::query_as("SELECT version, success FROM _sqlx_migrations ORDER BY version")
                .fetch_all(pool)
                .await?)
        } else {
            Vec::new()
        };
        let pending = known
            .iter()
            .filter(|m| !applied.iter().any(|(v, _)| *v == m.version))
            .map(|m| format!("{:04} {}", m.version, m.description))
            .collect();
        let unknown = applied.iter().filter(|(v, _)| !known.iter().any(|m| m.version == *v)).map(|(v, _)| *v).collect();
        let failed = applied.iter().filter(|(_, ok)| !ok).map(|(v, _)| *v).collect();
        Ok(Migrations { applied: applied.len(), pending, unknown, failed })
    }

    /// The database server's clock, on PostgreSQL (another machine, often);
    /// `None` for SQLite, which runs on this machine's clock.
    pub async fn server_time(&self) -> Result<Option<chrono::DateTime<chrono::Utc>>, StoreError> {
        match self {
            Db::Sqlite(_) => Ok(None),
            Db::Postgres(postgres) => {
                Ok(Some(sqlx::query_scalar("SELECT statement_timestamp()").fetch_one(&postgres.pool).await?))
            }
        }
    }

    /// On PostgreSQL, how many values lie outside the yearly partitions
    /// (migration 0030: their period's year has no partition of its own,
    /// so they sit in the default one, read but never pruned); none on
    /// SQLite, which does not partition.
    pub async fn values_outside_partitions(&self) -> Result<Option<i64>, StoreError> {
        match self {
            Db::Sqlite(_) => Ok(None),
            Db::Postgres(postgres) => {
                let sql = "SELECT COUNT(*) FROM data_values_other_years";
                Ok(Some(sqlx::query_scalar(sql).fetch_one(&postgres.pool).await?))
            }
        }
    }

    /// Creates the database `name` on the same PostgreSQL server (for a
    /// temporary copy); refused on SQLite.
    pub async fn create_database(&self, name: &str) -> Result<(), StoreError> {
        self.on_server(&format!("CREATE DATABASE \"{}\"", name.replace('"', "\"\""))).await
    }

    /// Drops the database `name` made by [`Db::create_database`].
    pub async fn drop_database(&self, name: &str) -> Result<(), StoreError> {
        self.on_server(&format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", name.replace('"', "\"\""))).await
    }

    async fn on_server(&self, statement: &str) -> Result<(), StoreError> {
        match self {
            Db::Sqlite(_) => Err(StoreError::UnsupportedUrl("a database server (PostgreSQL)".into())),
            Db::Postgres(postgres) => {
                sqlx::query(statement).execute(&postgres.pool).await?;
                Ok(())
            }
        }
    }

    /// After a bulk write of `rows` rows: from [`BULK_ROWS`] on,
    /// PostgreSQL's planner statistics of what was `written` are gathered
    /// at once (`ANALYZE`), as after any bulk load. Until autovacuum gets
    /// to them (a minute or more later) the planner would take a freshly
    /// loaded table for empty, and read a month of every unit to find
    /// three units' figures (ten times the work, measured on a commune's
    /// series after an import). SQLite plans from its indexes alone, with
    /// no statistics to keep. The write is committed before: a failure
    /// here is logged, not answered as the write's.
    pub(crate) async fn after_bulk_write(&self, written: Written<'_>, rows: usize) {
        let Db::Postgres(postgres) = self else { return };
        if rows < BULK_ROWS {
            return;
        }
        let tables = match written {
            Written::Tables(tables) => tables.to_string(),
            // Only the years written: `ANALYZE data_values` samples every
            // year's partition: on a national instance (five years of
            // every commune) it was seen running for over 20 s after the
            // import of one month.
            // Each year's partition is found by a row of one of its
            // periods, so that a partition an operator added is found too.
            Written::Values(values) => {
                let mut years = std::collections::BTreeMap::new();
                for v in values {
                    years.entry(v.period.year()).or_insert_with(|| v.period.to_string());
                }
                let periods: Vec<String> = years.into_values().collect();
                let found = sqlx::query_scalar::<_, String>(
                    "SELECT DISTINCT d.t::regclass::text FROM UNNEST($1::text[]) AS p (period)
                     CROSS JOIN LATERAL (SELECT tableoid AS t FROM data_values WHERE period = p.period LIMIT 1) AS d",
                )
                .bind(&periods)
                .fetch_all(&postgres.pool)
                .await;
                match found {
                    Ok(partitions) if !partitions.is_empty() => partitions.join(", "),
                    Ok(_) => return,
                    Err(e) => {
                        tracing::warn!(error = %e, "the partitions written were not found; statistics not gathered");
                        return;
                    }
                }
            }
        };
        if let Err(e) = sqlx::query(&format!("ANALYZE {tables}")).execute(&postgres.pool).await {
            tracing::warn!(tables, error = %e, "statistics not gathered after a bulk write");
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

    /// Checks that an SQLite file (a backup) opens and passes SQLite's
    /// integrity check, read-only.
    pub async fn check_sqlite_file(path: &std::path::Path) -> Result<(), StoreError> {
        let options = SqliteConnectOptions::new().filename(path).read_only(true);
        let mut conn = sqlx::ConnectOptions::connect(&options).await?;
        let verdict: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&mut conn).await?;
        sqlx::Connection::close(conn).await?;
        if verdict == "ok" { Ok(()) } else { Err(StoreError::Corrupt(format!("{}: {verdict}", path.display()))) }
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

    /// Whether this handle can serve: the database answers and, when the
    /// last write did not commit, a write commits now (a full disk or a
    /// read-only file make the server not ready until they are mended,
    /// and ready again by themselves after).
    pub async fn ready(&self) -> Result<(), StoreError> {
        with_pool!(self, |pool| sqlx::query("SELECT 1").execute(pool).await.map(|_| ()))?;
        if self.shared().write_failed.load(std::sync::atomic::Ordering::Relaxed) {
            let mut tx = self.begin_write().await?;
            crate::with_conn!(tx, |conn| sqlx::query(
                "UPDATE cache_revisions SET revision = revision + 1 WHERE name = 'probe'"
            )
            .execute(&mut *conn)
            .await
            .map(|_| ()))?;
            tx.commit().await?;
        }
        Ok(())
    }

    pub(crate) fn shared(&self) -> &Shared {
        match self {
            Db::Sqlite(sqlite) => &sqlite.shared,
            Db::Postgres(postgres) => &postgres.shared,
        }
    }

    /// The connection pool as `/metrics` shows it: connections open, of
    /// which idle, and the most it opens.
    pub fn pool_state(&self) -> (u32, usize, u32) {
        with_pool!(self, |pool| (pool.size(), pool.num_idle(), pool.options().get_max_connections()))
    }

    /// Report actions waiting for the report writer's next batch.
    pub fn report_queue_len(&self) -> usize {
        self.shared().reports.waiting_len()
    }

    pub async fn close(&self) {
        with_pool!(self, |pool| pool.close().await)
    }
}
