//! `baocao`: the command line and the server of the reporting information system.

/// `println!` that hands a failed write back to the caller (`?`) instead of
/// panicking: output piped into `head` closes early, and that is no error.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)?
    }};
}

/// `print!` as [`outln!`] does it.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        write!(std::io::stdout().lock(), $($arg)*)?
    }};
}

mod backup;
mod config;
mod cutover;
mod data;
mod demo;
mod directory;
mod doctor;
mod feed;
mod files;
mod migrate;
mod output;
mod progress;
mod registry;
mod reports;
mod serve;
mod tasks;
mod upstream;
mod users;

use clap::{Parser, Subcommand};

// Loads, validation and page rendering make many small, short-lived
// allocations; glibc's allocator spent a sixth of a national load's
// instructions on them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Hệ thống thông tin báo cáo — the reporting information system of a
/// province and its communes, through reorganizations.
#[derive(Parser)]
#[command(name = "baocao", version, about)]
struct Cli {
    /// Database URL: sqlite:PATH (created when missing) or postgres://…
    /// [default: sqlite:baocao.db; sqlite:baocao-demo.db with `serve --demo`]
    #[arg(long, global = true, env = "BAOCAO_DATABASE_URL")]
    db: Option<String>,

    /// Configuration file (TOML; docs/baocao.toml documents every key):
    /// its values count where neither the command line nor the
    /// environment sets one.
    #[arg(long, global = true, env = "BAOCAO_CONFIG")]
    config: Option<std::path::PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the web application and the REST API.
    Serve(serve::ServeArgs),
    /// Checks what `serve` would run with: configuration, database and its
    /// migrations, mail server, disk space, backups, clock, scheduled jobs.
    Doctor(doctor::DoctorArgs),
    /// Brings the database schema up to date; `--check` tries it on a copy
    /// first and changes nothing.
    Migrate(migrate::MigrateArgs),
    /// Prints the manual page (roff), for the Debian package's `man baocao`.
    #[command(hide = true)]
    Manual,
    /// The registry of administrative units (danh mục đơn vị hành chính).
    #[command(subcommand)]
    Registry(registry::RegistryCommand),
    /// Indicators (chỉ tiêu).
    #[command(subcommand)]
    Indicators(data::IndicatorCommand),
    /// Reported values: DHIS2 interchange and queries across reorganizations.
    #[command(subcommand)]
    Data(data::DataCommand),
    /// Forms (biểu mẫu), versioned by validity dates.
    #[command(subcommand)]
    Forms(reports::FormCommand),
    /// Reporting regimes (chế độ báo cáo).
    #[command(subcommand)]
    Regimes(reports::RegimeCommand),
    /// A report: show, save a draft, submit, approve, return.
    #[command(subcommand)]
    Report(reports::ReportCommand),
    /// An output form (biểu đầu ra) computed from the reports of its regime.
    Output(reports::OutputArgs),
    /// Which units sent a period's report, on time or late.
    Completeness {
        #[arg(long)]
        regime: String,
        #[arg(long)]
        period: baocao_core::Period,
        #[arg(long, value_enum, default_value_t)]
        format: output::Format,
    },
    /// Accounts of the reporting system and their grants (phân quyền).
    #[command(subcommand)]
    Users(users::UserCommand),
    /// API tokens for integrations.
    #[command(subcommand)]
    Tokens(users::TokenCommand),
    /// The hash-chained audit log (nhật ký hệ thống).
    #[command(subcommand)]
    Audit(users::AuditCommand),
    /// Agencies (cơ quan, đơn vị) over time.
    #[command(subcommand)]
    Agencies(directory::AgencyCommand),
    /// Rosters of officials (danh sách cán bộ, công chức, viên chức) over time.
    #[command(subcommand)]
    Roster(directory::RosterCommand),
    /// Account plans for the shared systems, from the rosters.
    #[command(subcommand)]
    Accounts(directory::AccountCommand),
    /// A backup of the database (SQLite's online copy, or pg_dump), kept
    /// with a retention.
    Backup(backup::BackupArgs),
    /// Restores a backup into a new database, checked by verifying its audit log.
    Restore(backup::RestoreArgs),
    /// Cutovers: a reorganization taken into the reporting system at 00:00
    /// of its effective day, with backup, packages and handover records.
    #[command(subcommand)]
    Cutover(cutover::CutoverCommand),
    /// Archive packages (BagIt) of dissolved units.
    #[command(subcommand)]
    Archive(cutover::ArchiveCommand),
    /// The plans' task tables (nhiệm vụ), followed up against their deadlines.
    #[command(subcommand)]
    Tasks(tasks::TaskCommand),
    /// The plans' targets (e.g. the share of dossiers fully online), measured from the reports.
    #[command(subcommand)]
    Targets(tasks::TargetCommand),
    /// Systems above this one that approved reports are sent to (DHIS2 Web API).
    #[command(subcommand)]
    Upstream(upstream::UpstreamCommand),
    /// Other systems whose figures are pulled on a schedule (JSON or CSV over HTTPS).
    #[command(subcommand)]
    Feed(feed::FeedCommand),
    /// Reporting periods with their data cut-off windows (Decree 09/2019).
    Periods {
        /// daily, monthly, quarterly, six_monthly, nine_months or yearly.
        #[arg(long, default_value = "monthly")]
        periodicity: baocao_core::Periodicity,
        /// Periods ending on or after this day (1 January of this year when absent).
        #[arg(long, value_parser = baocao_core::parse_date)]
        from: Option<chrono::NaiveDate>,
        /// Periods ending on or before this day (31 December of this year when absent).
        #[arg(long, value_parser = baocao_core::parse_date)]
        to: Option<chrono::NaiveDate>,
        #[arg(long, value_enum, default_value_t)]
        format: output::Format,
    },
}

/// The command line, completed by the configuration file if one is named.
fn parse() -> anyhow::Result<(Cli, config::Config)> {
    use clap::{CommandFactory, FromArgMatches};
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches)?;
    let Some(path) = &cli.config else { return Ok((cli, config::Config::default())) };
    let config = config::Config::read(path)?;
    // `doctor` takes `serve`'s options, to check what it would run with.
    let serve = matches.subcommand_matches("serve").or_else(|| matches.subcommand_matches("doctor"));
    let extra = config.arguments(&matches, serve);
    if extra.is_empty() {
        return Ok((cli, config));
    }
    let cli = Cli::try_parse_from(std::env::args_os().chain(extra))
        .map_err(|e| anyhow::anyhow!("tệp cấu hình {}: {}", path.display(), e.to_string().trim()))?;
    Ok((cli, config))
}

fn main() -> std::process::ExitCode {
    let (cli, config) = match parse() {
        Ok(parsed) => parsed,
        Err(e) => {
            eprintln!("lỗi: {e:#}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let serving = matches!(cli.command, Command::Serve(_));
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        let configured = config.log.as_deref().and_then(|l| tracing_subscriber::EnvFilter::try_new(l).ok());
        configured.unwrap_or_else(|| tracing_subscriber::EnvFilter::new(if serving { "info" } else { "warn" }))
    });
    // BAOCAO_LOG_FORMAT=json (or `log_format = "json"`): one JSON object per
    // line (with the request id of each request's span), for log collectors.
    let json = match std::env::var("BAOCAO_LOG_FORMAT") {
        Ok(format) => format == "json",
        Err(_) => config.log_format == Some(config::LogFormat::Json),
    };
    let subscriber = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if json {
        subscriber.json().with_current_span(true).init();
    } else {
        subscriber.init();
    }

    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a Tokio runtime");
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => serve::run(cli.db, args).await,
            Command::Manual => manual(),
            Command::Doctor(args) => doctor::run(cli.db, cli.config.as_deref(), args).await,
            Command::Migrate(args) => migrate::run(&database_url(cli.db, "sqlite:baocao.db"), args).await,
            Command::Registry(command) => registry::run(cli.db, command).await,
            Command::Indicators(command) => with_db(cli.db, |db| Box::pin(data::indicators(db, command))).await,
            Command::Data(command) => with_db(cli.db, |db| Box::pin(data::data(db, command))).await,
            Command::Forms(command) => with_db(cli.db, |db| Box::pin(reports::forms(db, command))).await,
            Command::Regimes(command) => with_db(cli.db, |db| Box::pin(reports::regimes(db, command))).await,
            Command::Report(command) => with_db(cli.db, |db| Box::pin(reports::report(db, command))).await,
            Command::Output(args) => with_db(cli.db, |db| Box::pin(reports::output(db, args))).await,
            Command::Completeness { regime, period, format } => {
                with_db(cli.db, |db| Box::pin(async move { reports::completeness(db, &regime, &period, format).await }))
                    .await
            }
            Command::Users(command) => with_db(cli.db, |db| Box::pin(users::users(db, command))).await,
            Command::Tokens(command) => with_db(cli.db, |db| Box::pin(users::tokens(db, command))).await,
            Command::Audit(command) => with_db(cli.db, |db| Box::pin(users::audit(db, command))).await,
            Command::Agencies(command) => with_db(cli.db, |db| Box::pin(directory::agencies(db, command))).await,
            Command::Roster(command) => with_db(cli.db, |db| Box::pin(directory::roster(db, command))).await,
            Command::Accounts(command) => with_db(cli.db, |db| Box::pin(directory::accounts(db, command))).await,
            Command::Cutover(command) => {
                let url = database_url(cli.db.clone(), "sqlite:baocao.db");
                with_db(cli.db, |db| Box::pin(cutover::run(db, url, command))).await
            }
            Command::Backup(args) => {
                let url = database_url(cli.db.clone(), "sqlite:baocao.db");
                with_db(cli.db, |db| Box::pin(async move { backup::backup(db, &url, args).await })).await
            }
            Command::Restore(args) => backup::restore(args).await,
            Command::Archive(cutover::ArchiveCommand::Load { dir }) => {
                with_db(cli.db, |db| Box::pin(async move { cutover::load(db, &dir).await })).await
            }
            Command::Archive(cutover::ArchiveCommand::Verify { dir }) => cutover::verify(&dir),
            Command::Tasks(command) => with_db(cli.db, |db| Box::pin(tasks::tasks(db, command))).await,
            Command::Targets(command) => with_db(cli.db, |db| Box::pin(tasks::targets(db, command))).await,
            Command::Upstream(command) => with_db(cli.db, |db| Box::pin(upstream::run(db, command))).await,
            Command::Feed(command) => with_db(cli.db, |db| Box::pin(feed::run(db, command))).await,
            Command::Periods { periodicity, from, to, format } => data::periods(periodicity, from, to, format),
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        // The reader of our output went away (`baocao … | head`): it has
        // what it wanted.
        Err(e) if closed_output(&e) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lỗi: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The manual page, made from the command line's own definition so that
/// it says what the binary does.
fn manual() -> anyhow::Result<()> {
    use clap::CommandFactory;
    clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout().lock())?;
    Ok(())
}

/// True when `e` is a write to a pipe whose reader has gone.
fn closed_output(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || cause.downcast_ref::<csv::Error>().is_some_and(|c| match c.kind() {
                csv::ErrorKind::Io(io) => io.kind() == std::io::ErrorKind::BrokenPipe,
                _ => false,
            })
    })
}

/// Runs `job` against the database named by `--db`, closing it cleanly.
async fn with_db<F>(db: Option<String>, job: F) -> anyhow::Result<()>
where
    F: for<'a> FnOnce(&'a baocao_store::Db) -> std::pin::Pin<Box<dyn Future<Output = anyhow::Result<()>> + 'a>>,
{
    use anyhow::Context;
    let url = database_url(db, "sqlite:baocao.db");
    let db = baocao_store::Db::connect(&url).await.with_context(|| format!("không mở được cơ sở dữ liệu {url}"))?;
    let result = job(&db).await;
    // A newcomer who ran `serve --demo` and then the README's examples
    // reads the default database, not the demo's: say which one answered.
    let empty = matches!(db.has_units().await, Ok(false));
    db.close().await;
    if empty {
        eprintln!("{}", empty_database_note(&url));
    }
    result
}

fn empty_database_note(url: &str) -> String {
    format!(
        "lưu ý: cơ sở dữ liệu {url} chưa có đơn vị hành chính nào (chưa nạp danh mục bằng `baocao registry load`). \
         Dữ liệu của bản trình diễn nằm trong sqlite:baocao-demo.db: thêm `--db sqlite:baocao-demo.db`."
    )
}

/// Who the audit log names for changes made from the command line: the
/// operating-system user, marked as such.
pub(crate) fn cli_actor() -> String {
    let user = std::env::var("USER").or_else(|_| std::env::var("USERNAME")).unwrap_or_else(|_| "unknown".into());
    format!("cli:{user}")
}

/// The database URL from `--db`, the environment, or the default.
fn database_url(db: Option<String>, default: &str) -> String {
    db.filter(|u| !u.is_empty()).unwrap_or_else(|| default.to_string())
}
