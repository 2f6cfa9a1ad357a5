//! `baocao feed`: the other systems whose figures are pulled on a
//! schedule, and their runs.

use std::path::PathBuf;

use baocao_store::Db;
use clap::Subcommand;

use crate::output::{self, Format};

#[derive(Subcommand)]
pub enum FeedCommand {
    /// Creates or replaces a feed from its definition (TOML: code, name,
    /// url, format, every_minutes, [fields], [indicators], [units]); it is
    /// fetched by `serve` at once, then on its schedule.
    Set { file: PathBuf },
    /// The feeds, with their last run.
    List {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Makes a feed due now: the next `serve` worker to look fetches it.
    Run { code: String },
    /// The latest runs, newest first.
    Runs {
        #[arg(long, default_value_t = 50)]
        limit: i64,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

pub async fn run(db: &Db, command: FeedCommand) -> anyhow::Result<()> {
    match command {
        FeedCommand::Set { file } => {
            let name = file.display().to_string();
            let text = crate::files::read_text(&file)?;
            let feed = baocao_ingest::feed::read_feed(&name, &text)?;
            db.save_feed(&crate::cli_actor(), &feed).await?;
            outln!(
                "Đã lưu nguồn cấp {}: {} trường từ {}, lấy mỗi {} phút.",
                feed.code,
                feed.indicators.len(),
                feed.url,
                feed.every_minutes
            );
            if let Some(env) = feed.secret_env.as_ref().filter(|e| std::env::var_os(e).is_none()) {
                outln!("Đặt biến môi trường {env} cho `baocao serve`: biến này giữ khóa của nguồn cấp.");
            }
            Ok(())
        }
        FeedCommand::List { format } => {
            let feeds = db.feeds().await?;
            if format == Format::Json {
                return output::json(&feeds);
            }
            let rows: Vec<Vec<String>> = feeds
                .iter()
                .map(|f| {
                    vec![
                        f.feed.code.clone(),
                        f.feed.name.clone(),
                        f.feed.url.clone(),
                        f.feed.every_minutes.to_string(),
                        f.last_run.as_ref().map(|r| r.outcome.clone()).unwrap_or_default(),
                    ]
                })
                .collect();
            let fields = ["code", "name", "url", "every_minutes", "last_outcome"];
            output::rows(format, &fields, &["Mã", "Hệ thống", "Địa chỉ", "Lấy mỗi (phút)", "Lần gần nhất"], rows)
        }
        FeedCommand::Run { code } => {
            db.feed_due_now(&crate::cli_actor(), &code).await?;
            outln!("Nguồn cấp {code} đến hạn lấy ngay: `baocao serve` đang chạy sẽ lấy trong vài giây.");
            Ok(())
        }
        FeedCommand::Runs { limit, format } => {
            let runs = db.feed_runs(limit).await?;
            if format == Format::Json {
                return output::json(&runs);
            }
            let rows: Vec<Vec<String>> = runs
                .iter()
                .map(|r| {
                    vec![
                        r.id.to_string(),
                        r.feed.clone(),
                        r.outcome.clone(),
                        r.records.to_string(),
                        r.stored.to_string(),
                        r.refused.to_string(),
                        r.message.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            let fields = ["id", "feed", "outcome", "records", "stored", "refused", "message"];
            output::rows(format, &fields, &["Lần", "Nguồn", "Kết quả", "Bản ghi", "Đã ghi", "Từ chối", "Ghi chú"], rows)
        }
    }
}
