//! `baocao upstream`: the systems approved reports are sent up to, and
//! their deliveries.

use std::path::PathBuf;

use baocao_store::Db;
use clap::Subcommand;

use crate::output::{self, Format};

#[derive(Subcommand)]
pub enum UpstreamCommand {
    /// Creates or replaces an upstream system from its definition (TOML:
    /// code, name, url, auth, secret_env, [[regimes]], [indicators], [units]).
    Set { file: PathBuf },
    /// The upstream systems.
    List {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// The latest deliveries, newest first.
    Deliveries {
        #[arg(long, default_value_t = 50)]
        limit: i64,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

pub async fn run(db: &Db, command: UpstreamCommand) -> anyhow::Result<()> {
    match command {
        UpstreamCommand::Set { file } => {
            let name = file.display().to_string();
            let text = crate::files::read_text(&file)?;
            let link = baocao_ingest::upstream::read_link(&name, &text)?;
            db.save_upstream_link(&crate::cli_actor(), &link).await?;
            outln!(
                "Đã lưu kết nối cấp trên {}: {} chế độ báo cáo gửi tới {}.",
                link.code,
                link.regimes.len(),
                link.url
            );
            if let Err(why) = baocao_ingest::upstream::secret(&link) {
                outln!("{why}: `baocao serve` cần khóa của cấp trên ở đó.");
            }
            Ok(())
        }
        UpstreamCommand::List { format } => {
            let links = db.upstream_links().await?;
            if format == Format::Json {
                return output::json(&links);
            }
            let rows: Vec<Vec<String>> = links
                .iter()
                .map(|l| {
                    let regimes: Vec<String> =
                        l.regimes.iter().map(|r| format!("{}→{}", r.regime, r.data_set)).collect();
                    vec![l.code.clone(), l.name.clone(), l.url.clone(), regimes.join(", "), l.secret_place()]
                })
                .collect();
            let fields = ["code", "name", "url", "regimes", "secret"];
            output::rows(
                format,
                &fields,
                &["Mã", "Hệ thống", "Địa chỉ", "Chế độ → tập dữ liệu", "Biến chứa khóa"],
                rows,
            )
        }
        UpstreamCommand::Deliveries { limit, format } => {
            let list = db.deliveries(limit).await?;
            if format == Format::Json {
                return output::json(&list);
            }
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|d| {
                    vec![
                        d.id.to_string(),
                        d.link.clone(),
                        format!("{}/{}/{}", d.regime, d.unit, d.period),
                        d.state.clone(),
                        d.attempts.to_string(),
                        d.last_error.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            let fields = ["id", "link", "report", "state", "attempts", "last_error"];
            output::rows(
                format,
                &fields,
                &["Số", "Hệ thống", "Báo cáo", "Trạng thái", "Số lần gửi", "Lỗi gần nhất"],
                rows,
            )
        }
    }
}
