//! `baocao backup` and `baocao restore`, and the backup a cutover takes
//! before it changes anything: SQLite's online copy (`VACUUM INTO`) or
//! `pg_dump`, written under a hidden name, checked, flushed, then named; a
//! restore goes into a new database only and is checked by verifying the
//! audit log's hash chain.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use baocao_store::Db;
use clap::Args;

use crate::output::{self, Format};

/// The name backups made by `baocao backup` start with.
const PREFIX: &str = "baocao";

#[derive(Args)]
pub struct BackupArgs {
    /// Where backups are kept.
    #[arg(long, default_value = "backups")]
    dir: PathBuf,
    /// Keep this many of the newest backups made by this command and
    /// remove older ones (a cutover's backups are left alone).
    #[arg(long)]
    keep: Option<usize>,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

#[derive(Args)]
pub struct RestoreArgs {
    /// A backup made by `baocao backup` or a cutover (.sqlite or .pgdump).
    file: PathBuf,
    /// The new database to restore into: `sqlite:PATH` (a file that does not
    /// exist yet) or `postgres://…` (a database without the backup's schema).
    #[arg(long)]
    to: String,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub async fn backup(db: &Db, url: &str, args: BackupArgs) -> anyhow::Result<()> {
    let (path, removed) = backup_and_prune(db, url, &args.dir, args.keep).await?;
    if args.format == Format::Json {
        return output::json(&serde_json::json!({ "backup": path, "removed": removed }));
    }
    outln!("backup: {}", path.display());
    for old in &removed {
        outln!("removed (older than the {} kept): {}", args.keep.unwrap_or_default(), old.display());
    }
    Ok(())
}

/// A backup in `dir`, then all but the `keep` newest of this command's
/// removed: the backup and what was removed.
pub async fn backup_and_prune(
    db: &Db,
    url: &str,
    dir: &Path,
    keep: Option<usize>,
) -> anyhow::Result<(PathBuf, Vec<PathBuf>)> {
    let path = write(db, url, dir, PREFIX).await?;
    let removed = match keep {
        Some(keep) => prune(dir, keep.max(1))?,
        None => Vec::new(),
    };
    Ok((path, removed))
}

/// Removes all but the `keep` newest backups of this command in `dir`
/// (their names sort by time).
fn prune(dir: &Path, keep: usize) -> anyhow::Result<Vec<PathBuf>> {
    let mut ours: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            name.starts_with(&format!("{PREFIX}-")) && (name.ends_with(".sqlite") || name.ends_with(".pgdump"))
        })
        .collect();
    ours.sort();
    let old = ours.len().saturating_sub(keep);
    let removed: Vec<PathBuf> = ours.into_iter().take(old).collect();
    for path in &removed {
        std::fs::remove_file(path).with_context(|| format!("cannot remove {}", path.display()))?;
    }
    Ok(removed)
}

/// Restores a backup into a new database and verifies its audit log.
pub async fn restore(args: RestoreArgs) -> anyhow::Result<()> {
    let records = restore_into(&args.file, &args.to).await?;
    if args.format == Format::Json {
        return output::json(&serde_json::json!({ "restored": args.to, "audit_records": records }));
    }
    outln!("restored into {}; audit log intact: {records} records, hash chain verified", args.to);
    Ok(())
}

/// Restores `file` into the new database `to`, brings its schema up to
/// date, and verifies its audit log: the number of records verified.
pub(crate) async fn restore_into(file: &Path, to: &str) -> anyhow::Result<usize> {
    let is_sqlite = file.extension().is_some_and(|e| e == "sqlite");
    match (is_sqlite, to.strip_prefix("sqlite:")) {
        (true, Some(path)) => {
            let path = Path::new(path.split('?').next().unwrap_or(path));
            if path.exists() {
                bail!("{} exists: a backup is restored into a new database only", path.display());
            }
            Db::check_sqlite_file(file).await.with_context(|| format!("{} is not a sound backup", file.display()))?;
            let partial = path.with_extension("restoring");
            std::fs::copy(file, &partial).with_context(|| format!("cannot write {}", partial.display()))?;
            std::fs::File::open(&partial).and_then(|f| f.sync_all())?;
            std::fs::rename(&partial, path).with_context(|| format!("cannot name {}", path.display()))?;
        }
        (false, None) if to.starts_with("postgres") => {
            let status = std::process::Command::new("pg_restore")
                .args(["--no-owner", "--exit-on-error", "--dbname", to])
                .arg(file)
                .status()
                .context("cannot run pg_restore (install postgresql-client)")?;
            if !status.success() {
                bail!("pg_restore failed ({status}): is the target database new, without the backup's schema?");
            }
        }
        _ => bail!("a .sqlite backup is restored to sqlite:PATH, a .pgdump backup to postgres://…"),
    }
    let db = Db::connect(to).await.with_context(|| format!("cannot open the restored database {to}"))?;
    let verdict = db.verify_audit().await;
    db.close().await;
    let verdict = verdict?;
    if !verdict.problems.is_empty() {
        bail!("the restored audit log does not verify:\n{}", verdict.problems.join("\n"));
    }
    Ok(verdict.records)
}

/// Backs the database up into `dir` as `PREFIX-STAMP.sqlite|pgdump`: written
/// under a hidden name, checked (SQLite's integrity check, or `pg_restore`
/// reading the dump's table of contents), flushed to the disk, and only
/// then given its name. A backup killed or cut short by a full disk never
/// looks like a backup, and what it left is cleared by the next run.
pub(crate) async fn write(db: &Db, url: &str, dir: &Path, key: &str) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let extension = if db.backend() == baocao_store::Backend::Sqlite { "sqlite" } else { "pgdump" };
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    // Two runs in one second get two names.
    let target = (1..)
        .map(|n| match n {
            1 => dir.join(format!("{key}-{stamp}.{extension}")),
            n => dir.join(format!("{key}-{stamp}-{n}.{extension}")),
        })
        .find(|p| !p.exists())
        .expect("some name is free");
    let name = target.file_name().expect("a file name").to_string_lossy().into_owned();
    let partial = dir.join(format!(".{name}.partial"));
    for leftover in std::fs::read_dir(dir)?.filter_map(|e| e.ok().map(|e| e.path())) {
        let hidden = leftover.file_name().is_some_and(|n| n.to_string_lossy().starts_with(&format!(".{key}-")));
        if hidden && leftover.extension().is_some_and(|e| e == "partial") {
            std::fs::remove_file(&leftover).with_context(|| format!("cannot remove {}", leftover.display()))?;
        }
    }
    let written = write_backup(db, url, &partial).await;
    if let Err(e) = written {
        let _ = std::fs::remove_file(&partial);
        return Err(e.context("the backup failed; nothing was changed"));
    }
    std::fs::File::open(&partial)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("cannot flush {}", partial.display()))?;
    std::fs::rename(&partial, &target).with_context(|| format!("cannot name {}", target.display()))?;
    std::fs::File::open(dir).and_then(|d| d.sync_all()).with_context(|| format!("cannot flush {}", dir.display()))?;
    Ok(target)
}

/// Writes a backup to `path` and checks it can be read back.
pub(crate) async fn write_backup(db: &Db, url: &str, path: &Path) -> anyhow::Result<()> {
    if db.backup_sqlite(path).await? {
        return Ok(baocao_store::Db::check_sqlite_file(path).await?);
    }
    let schema = db.schema().await?.unwrap_or_else(|| "public".into());
    let status = std::process::Command::new("pg_dump")
        .args(["--format=custom", "--no-owner", "--schema", &schema, "--file"])
        .arg(path)
        .arg(url)
        .status()
        .context("cannot run pg_dump (install postgresql-client)")?;
    if !status.success() {
        bail!("pg_dump failed ({status})");
    }
    let listed = std::process::Command::new("pg_restore")
        .arg("--list")
        .arg(path)
        .stdout(std::process::Stdio::null())
        .status()
        .context("cannot run pg_restore to check the dump (install postgresql-client)")?;
    if !listed.success() {
        bail!("the dump cannot be read back by pg_restore ({listed})");
    }
    Ok(())
}
