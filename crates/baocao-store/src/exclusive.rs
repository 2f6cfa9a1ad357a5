//! One at a time per database: what must not run twice at once on the same
//! database (a cutover, the migrations of a new database), whichever
//! process starts it.
//!
//! On PostgreSQL a session-level advisory lock, held by a connection kept
//! aside for as long as the work lasts (and closed after it, so that the
//! lock never outlives its holder back in the pool). On SQLite an advisory
//! lock on a file beside the database (`baocao.db.cutover.lock`): the
//! operating system releases it when its process ends, however it ends, so
//! a killed run never leaves the database locked.

use std::path::{Path, PathBuf};

use sha2::Digest;
use sqlx::pool::PoolConnection;

use crate::{Db, StoreError};

/// Held while the work it guards lasts; dropping it lets the next one in.
#[must_use = "the lock is released when this is dropped"]
pub struct Exclusive {
    _held: Held,
}

enum Held {
    /// The open file is the lock: closing it releases it.
    File {
        _file: std::fs::File,
    },
    Postgres(PoolConnection<sqlx::Postgres>),
}

impl Exclusive {
    /// Lets the next one in now. Dropping does too, but on PostgreSQL only
    /// once the connection has closed in the background.
    pub async fn release(mut self) -> Result<(), StoreError> {
        if let Held::Postgres(conn) = &mut self._held {
            sqlx::query("SELECT pg_advisory_unlock_all()").execute(&mut **conn).await?;
        }
        Ok(())
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if let Held::Postgres(conn) = self {
            // Closing the session releases its advisory locks.
            conn.close_on_drop();
        }
    }
}

/// The file beside an SQLite database that stands for one kind of work.
pub(crate) fn lock_file(database: &Path, purpose: &str) -> PathBuf {
    let mut name = database.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(format!(".{purpose}.lock"));
    database.with_file_name(name)
}

/// Takes the lock on `path`: waiting for it, or refusing at once.
pub(crate) fn lock_path(path: &Path, wait: bool) -> Result<Option<std::fs::File>, StoreError> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| StoreError::Conflict(format!("không mở được tệp khóa {}: {e}", path.display())))?;
    if wait {
        file.lock().map_err(|e| StoreError::Conflict(format!("không khóa được {}: {e}", path.display())))?;
        return Ok(Some(file));
    }
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(StoreError::Conflict(format!("không khóa được {}: {e}", path.display())))
        }
    }
}

impl Db {
    /// Takes the lock of `purpose` on this database, or refuses with a
    /// clear message when another process (or task) holds it.
    pub async fn exclusive(&self, purpose: &str) -> Result<Exclusive, StoreError> {
        let busy = || {
            StoreError::Conflict(format!(
                "another «{purpose}» is running on this database; wait for it to end \
                 (một tiến trình «{purpose}» khác đang chạy trên cơ sở dữ liệu này)"
            ))
        };
        match self {
            Db::Sqlite(sqlite) => {
                let path = lock_file(&sqlite.path, purpose);
                let file = lock_path(&path, false)?.ok_or_else(busy)?;
                Ok(Exclusive { _held: Held::File { _file: file } })
            }
            Db::Postgres(postgres) => {
                let mut conn = postgres.pool.acquire().await?;
                // One key per purpose and schema (tests run side by side in
                // schemas of one database).
                let schema: String = sqlx::query_scalar("SELECT current_schema()").fetch_one(&mut *conn).await?;
                let digest = sha2::Sha256::digest(format!("baocao {purpose} {schema}").as_bytes());
                let key = i64::from_be_bytes(digest[..8].try_into().expect("eight bytes"));
                let taken: bool =
                    sqlx::query_scalar("SELECT pg_try_advisory_lock($1)").bind(key).fetch_one(&mut *conn).await?;
                if !taken {
                    return Err(busy());
                }
                Ok(Exclusive { _held: Held::Postgres(conn) })
            }
        }
    }
}
