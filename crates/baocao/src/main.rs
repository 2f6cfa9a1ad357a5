//! `baocao`: the command line and the server of the reporting information system.

mod output;
mod progress;
mod registry;
mod serve;

use clap::{Parser, Subcommand};

/// Hệ thống thông tin báo cáo — the reporting information system of a
/// province and its communes, through reorganizations.
#[derive(Parser)]
#[command(name = "baocao", version, about)]
struct Cli {
    /// Database URL: sqlite:PATH (created when missing) or postgres://…
    /// [default: sqlite:baocao.db; sqlite:baocao-demo.db with `serve --demo`]
    #[arg(long, global = true, env = "BAOCAO_DATABASE_URL")]
    db: Option<String>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the web application and the REST API.
    Serve(serve::ServeArgs),
    /// The registry of administrative units (danh mục đơn vị hành chính).
    #[command(subcommand)]
    Registry(registry::RegistryCommand),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let serving = matches!(cli.command, Command::Serve(_));
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(if serving { "info" } else { "warn" }));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();

    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a Tokio runtime");
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => serve::run(cli.db, args).await,
            Command::Registry(command) => registry::run(cli.db, command).await,
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The database URL from `--db`, the environment, or the default.
fn database_url(db: Option<String>, default: &str) -> String {
    db.filter(|u| !u.is_empty()).unwrap_or_else(|| default.to_string())
}
