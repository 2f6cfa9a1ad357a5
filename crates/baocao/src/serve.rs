//! `baocao serve`

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use baocao_core::schedule::Daily;
use baocao_server::scheduler::{self, Job, Work};
use baocao_server::{AppState, Settings, router};
use baocao_store::Db;
use clap::Args;
use serde::Deserialize;

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", env = "BAOCAO_LISTEN")]
    pub(crate) listen: SocketAddr,
    /// Demo mode: loads the bundled national data into an embedded SQLite
    /// file (reused when present) and opens on the demo province.
    #[arg(long)]
    pub(crate) demo: bool,
    /// Demo settings (TOML); the bundled demo.toml when absent.
    #[arg(long, requires = "demo")]
    pub(crate) demo_config: Option<PathBuf>,
    /// Mark session cookies Secure (set this when a TLS proxy is in front
    /// and does not send `X-Forwarded-Proto: https`).
    #[arg(long, env = "BAOCAO_SECURE_COOKIES")]
    pub(crate) secure_cookies: bool,
    /// A reverse proxy is in front: take the client's address from
    /// `X-Forwarded-For` (for sign-in rate limiting).
    #[arg(long, env = "BAOCAO_BEHIND_PROXY")]
    pub(crate) behind_proxy: bool,
    /// The province's official mail domain (default of account plans).
    #[arg(long, env = "BAOCAO_MAIL_DOMAIN")]
    pub(crate) mail_domain: Option<String>,
    /// The SMTP server mail is sent through: `smtp://host:25`,
    /// `smtp://user:pass@host:587?tls=required` (STARTTLS) or
    /// `smtps://user:pass@host:465` (TLS). Without it, mail waits in the
    /// outbox (Tài khoản → Hộp thư đi).
    #[arg(long, env = "BAOCAO_SMTP_URL", hide_env_values = true)]
    pub(crate) smtp_url: Option<String>,
    /// The organisation's signing key and certificate: approved reports
    /// are then signed (CMS detached signatures of their content, PAdES
    /// in their printed PDF). Either a key in a PKCS#11 token, named by its
    /// URI (`pkcs11:token=…;object=…?module-path=….so`; the PIN in
    /// BAOCAO_SIGNING_PIN), or an encrypted PKCS#12 file (.p12 / .pfx; the
    /// passphrase in BAOCAO_SIGNING_PASSPHRASE). Secrets are never read
    /// from the command line.
    #[arg(long, env = "BAOCAO_SIGNING_KEY")]
    pub(crate) signing_key: Option<std::path::PathBuf>,
    /// The certification authorities signed reports are checked against
    /// (PEM, one or several certificates). The demo, without one, issues
    /// its own authority and key.
    #[arg(long, env = "BAOCAO_TRUST_LIST")]
    pub(crate) trust_list: Option<std::path::PathBuf>,
    /// The sender of baocao's mail (default: baocao@ the mail domain).
    #[arg(long, env = "BAOCAO_MAIL_FROM")]
    pub(crate) mail_from: Option<String>,
    /// The site's address as officials reach it, for the links in mail
    /// (default: http:// and the address listened on).
    #[arg(long, env = "BAOCAO_PUBLIC_URL")]
    pub(crate) public_url: Option<String>,
    /// Roles whose holders must sign in with a second factor (RFC 6238
    /// codes), comma-separated, or `none`. Default: system_admin,
    /// unit_admin, approver; `none` in the demo.
    #[arg(long, env = "BAOCAO_SECOND_FACTOR_FOR")]
    pub(crate) second_factor_for: Option<String>,
    /// The province's OpenID Connect identity provider (its issuer URL):
    /// officials may then sign in through it. Its redirect URI for baocao
    /// is the public URL followed by `/login/sso/callback`.
    #[arg(long, env = "BAOCAO_OIDC_ISSUER", requires = "oidc_client_id")]
    pub(crate) oidc_issuer: Option<String>,
    /// baocao's client id at the identity provider.
    #[arg(long, env = "BAOCAO_OIDC_CLIENT_ID")]
    pub(crate) oidc_client_id: Option<String>,
    /// baocao's client secret there (none for a public client).
    #[arg(long, env = "BAOCAO_OIDC_CLIENT_SECRET", hide_env_values = true)]
    pub(crate) oidc_client_secret: Option<String>,
    /// The provider's name on the sign-in button.
    #[arg(long, env = "BAOCAO_OIDC_NAME", default_value = "tài khoản công vụ")]
    pub(crate) oidc_name: String,
    /// When the daily reminders and approvers' digests go out (Vietnam
    /// time, HH:MM).
    #[arg(long, default_value = "07:00", env = "BAOCAO_NOTIFY_AT", value_parser = daily)]
    pub(crate) notify_at: Daily,
    /// Back the database up every night into this directory (as `baocao
    /// backup` does); no nightly backup without it.
    #[arg(long, env = "BAOCAO_BACKUP_DIR")]
    pub(crate) backup_dir: Option<PathBuf>,
    /// When the nightly backup runs (Vietnam time, HH:MM).
    #[arg(long, default_value = "01:30", env = "BAOCAO_BACKUP_AT", value_parser = daily)]
    pub(crate) backup_at: Daily,
    /// How many nightly backups are kept (older ones are removed).
    #[arg(long, default_value_t = 14, env = "BAOCAO_BACKUP_KEEP")]
    pub(crate) backup_keep: usize,
}

fn daily(text: &str) -> Result<Daily, String> {
    baocao_core::schedule::parse_time(text).map(Daily)
}

/// The nightly backup job: a backup, then all but the `keep` newest removed.
fn nightly_backup(db: Db, url: String, dir: PathBuf, keep: usize, at: Daily) -> Job {
    let work: Work = std::sync::Arc::new(move || {
        let (db, url, dir) = (db.clone(), url.clone(), dir.clone());
        Box::pin(async move {
            let (path, removed) =
                crate::backup::backup_and_prune(&db, &url, &dir, Some(keep)).await.map_err(|e| format!("{e:#}"))?;
            Ok(format!("Đã sao lưu vào {}; xóa {} bản cũ (giữ {keep} bản mới nhất).", path.display(), removed.len()))
        })
    });
    Job { name: scheduler::BACKUP, at, work }
}

/// Scheduled cutovers (`baocao cutover schedule`), at 00:00 Vietnam time:
/// rehearsed the day before, applied on the day.
fn scheduled_cutovers(db: Db, url: String) -> Job {
    let work: Work = std::sync::Arc::new(move || {
        let (db, url) = (db.clone(), url.clone());
        Box::pin(async move { crate::cutover::run_scheduled(&db, &url, chrono::Utc::now()).await })
    });
    Job { name: scheduler::CUTOVERS, at: Daily(chrono::NaiveTime::MIN), work }
}

/// Greets the SMTP server `serve` would send through (for `baocao doctor`):
/// its address without the password, or why it cannot be reached.
pub(crate) async fn check_mail_server(smtp_url: &str) -> Result<String, String> {
    baocao_server::mail::check_server(smtp_url).await.map(|()| baocao_server::mail::redacted(smtp_url))
}

/// The roles of `--second-factor-for`.
fn second_factor_roles(arg: Option<&str>, demo: bool) -> anyhow::Result<Vec<baocao_core::access::Role>> {
    let list = match arg {
        Some(list) => list,
        None if demo => "none",
        None => "system_admin,unit_admin,approver",
    };
    if list.trim() == "none" {
        return Ok(Vec::new());
    }
    list.split(',').map(|r| r.trim().parse().map_err(|e: String| anyhow::anyhow!("--second-factor-for: {e}"))).collect()
}

#[derive(Deserialize)]
struct DemoConfig {
    province: String,
    password: String,
    /// The official mail domain account plans use by default.
    #[serde(default)]
    mail_domain: Option<String>,
    #[serde(default)]
    accounts: Vec<crate::demo::DemoAccount>,
    #[serde(default)]
    dashboards: Vec<crate::demo::DemoDashboard>,
}

pub async fn run(db: Option<String>, args: ServeArgs) -> anyhow::Result<()> {
    // Before anything else: the demo may start again on its key's token.
    if args.demo && args.signing_key.is_none() {
        crate::demo::signing::use_token()?;
    }
    let url = crate::database_url(db, if args.demo { "sqlite:baocao-demo.db" } else { "sqlite:baocao.db" });
    let db = Db::connect(&url).await.with_context(|| format!("không mở được cơ sở dữ liệu {url}"))?;
    let mut settings = Settings {
        demo: args.demo,
        secure_cookies: args.secure_cookies,
        behind_proxy: args.behind_proxy,
        mail_domain: args.mail_domain.clone(),
        second_factor_roles: second_factor_roles(args.second_factor_for.as_deref(), args.demo)?,
        ..Default::default()
    };
    let mut demo = None;
    if args.demo {
        let text = match &args.demo_config {
            Some(path) => crate::files::read_text(path)?,
            None => include_str!("../demo.toml").to_string(),
        };
        let config: DemoConfig = toml::from_str(&text).context("thiết lập bản trình diễn không hợp lệ")?;
        let domain = settings.mail_domain.clone().or_else(|| config.mail_domain.clone());
        let domain = domain.unwrap_or_else(|| "tinh-demo.gov.vn".into());
        crate::demo::prepare(&db, &url, &config.province, &domain).await?;
        crate::demo::accounts(&db, &config.accounts, &config.password).await?;
        crate::demo::dashboards(&db, &config.dashboards, &config.province).await?;
        let province = db.unit_history(&config.province).await?;
        let name = province.last().map(|u| u.name.clone()).unwrap_or_default();
        outln!("Tỉnh trình diễn: {name} ({})", config.province);
        settings.home_province = Some(config.province.clone());
        settings.mail_domain = settings.mail_domain.take().or_else(|| config.mail_domain.clone());
        demo = Some(config);
    }
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("không nghe được tại {}", args.listen))?;
    let addr = listener.local_addr()?;
    // Read by scripts and tests to find the port: kept as it is.
    outln!("baocao is serving on http://{addr}/ (database {url})");
    settings.public_url = args.public_url.clone().unwrap_or_else(|| format!("http://{addr}"));
    if let Some(smtp_url) = &args.smtp_url {
        let domain = settings.mail_domain.clone().unwrap_or_else(|| "localhost".into());
        let from = args.mail_from.clone().unwrap_or_else(|| format!("Hệ thống thông tin báo cáo <baocao@{domain}>"));
        let mail = baocao_server::mail::MailSettings {
            smtp_url: smtp_url.clone(),
            from,
            public_url: settings.public_url.clone(),
        };
        baocao_server::mail::spawn(db.clone(), mail).map_err(anyhow::Error::msg)?;
        let server = baocao_server::mail::redacted(smtp_url);
        outln!("Thư được gửi qua {server}");
        settings.mail_server = Some(server);
    } else if demo.is_some() {
        outln!("Chưa có máy chủ thư (--smtp-url): thư của bản trình diễn nằm ở http://{addr}/admin/outbox");
    }
    if let Some(config) = &demo {
        outln!("Tài khoản trình diễn (mật khẩu: {}):", config.password);
        for a in &config.accounts {
            outln!("  {:<20} {} — {}", a.username, a.role.vietnamese(), a.name);
        }
    }
    let mut state = AppState::new(db.clone(), settings);
    let mut signing = args.signing_key.as_deref().map(signing_key).transpose()?;
    let mut trust = args.trust_list.as_deref().map(trust_list).transpose()?;
    if demo.is_some() && signing.is_none() {
        let (key, authority) = crate::demo::signing::key()?;
        signing = Some(key);
        trust.get_or_insert(authority);
    }
    if let Some(trust) = trust {
        outln!("Chữ ký số của báo cáo được kiểm tra theo {} chứng thư tin cậy", trust.len);
        state = state.with_trust_list(trust);
    }
    if let (Some(issuer), Some(client_id)) = (&args.oidc_issuer, &args.oidc_client_id) {
        let sso = baocao_server::oidc::Sso::new(baocao_server::oidc::SsoSettings {
            issuer: issuer.clone(),
            client_id: client_id.clone(),
            client_secret: args.oidc_client_secret.clone(),
            label: args.oidc_name.clone(),
        })
        .map_err(anyhow::Error::msg)?;
        state = state.with_sso(sso);
        outln!("Đăng nhập một lần qua {issuer}");
    }
    let mut jobs =
        vec![scheduler::notifications(state.clone(), args.notify_at), scheduled_cutovers(db.clone(), url.clone())];
    if let Some(dir) = &args.backup_dir {
        jobs.push(nightly_backup(db.clone(), url.clone(), dir.clone(), args.backup_keep, args.backup_at));
        outln!(
            "Sao lưu hằng đêm vào {} ({}, giữ {} bản)",
            dir.display(),
            args.backup_at.vietnamese(),
            args.backup_keep
        );
    }
    scheduler::spawn(state.clone(), jobs).await?;
    if let Some(key) = signing {
        outln!("Báo cáo đã duyệt được ký số với danh nghĩa {}", key.subject());
        baocao_server::signing::spawn(db.clone(), std::sync::Arc::new(key), demo.is_some());
    }
    if let Some(config) = &demo {
        let typed = config.accounts.iter().filter_map(|a| a.unit.clone()).collect();
        let feed = crate::demo::feed::start(&db, typed).await?;
        outln!("Nguồn cấp trình diễn (hồ sơ theo xã) tại http://{feed}/thong-ke-ho-so (Quản trị → Nguồn cấp số liệu)");
        // Fetched before the first page is served: the demo's figures do
        // not change under its first visitor.
        baocao_server::feeds::run_due(&db).await?;
        national_instance(&db, &url, &config.province, &config.password).await?;
    }
    // Approved reports go upward, and feeds are fetched, from every
    // process: each delivery and each due fetch is claimed by one of them.
    baocao_server::upstream::spawn(db.clone());
    baocao_server::feeds::spawn(db.clone());
    let app = router(state);
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(stop_signal())
        .await?;
    // Every request has been answered: the last writes are committed, and
    // closing the pool ends SQLite's journal cleanly.
    db.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// The demo's national instance (`demo::national`): prepared and served in
/// the background on a port of its own, then linked from the province, so
/// that the province serves at once.
async fn national_instance(province: &Db, url: &str, code: &str, password: &str) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let place = crate::demo::national::place(url);
    outln!(
        "Phiên bản quốc gia trình diễn tại http://{addr}/ (cơ sở dữ liệu {}; đăng nhập bằng {}): báo cáo đã duyệt được gửi lên đó",
        place.url,
        crate::demo::national::READER
    );
    let (province, code, password) = (province.clone(), code.to_string(), password.to_string());
    tokio::spawn(async move {
        let national = match crate::demo::national::prepare(&place, &code, &password).await {
            Ok(db) => db,
            Err(e) => return tracing::error!(error = %e, "the demo's national instance did not start"),
        };
        let base = format!("http://{addr}");
        let settings = Settings { demo: true, public_url: base.clone(), ..Default::default() };
        let app = router(AppState::new(national, settings));
        let served = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>());
        if let Err(e) = crate::demo::national::link(&province, &base, &place.token_file).await {
            return tracing::error!(error = %e, "the province is not linked to the demo's national instance");
        }
        tracing::info!(%base, "the demo's national instance serves");
        if let Err(e) = served.await {
            tracing::error!(error = %e, "the demo's national instance stopped");
        }
    });
    Ok(())
}

/// Ctrl-C, or SIGTERM (what systemd and container runtimes send to stop a
/// service): the server stops taking connections, finishes the requests
/// under way, then exits.
async fn stop_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("stopping: finishing the requests under way");
}

/// Reads the trust list of `--trust-list`.
pub(crate) fn trust_list(path: &std::path::Path) -> anyhow::Result<baocao_signing::TrustList> {
    let pem = crate::files::read(path)?;
    baocao_signing::TrustList::from_pem(&pem).with_context(|| format!("danh sách chứng thư tin cậy {}", path.display()))
}

/// Opens the signing key of `--signing-key` (what `serve` and `doctor` do
/// alike): a PKCS#11 URI, logging in with the PIN in `BAOCAO_SIGNING_PIN`,
/// or a PKCS#12 file with the passphrase in `BAOCAO_SIGNING_PASSPHRASE`.
pub(crate) fn signing_key(path: &std::path::Path) -> anyhow::Result<baocao_signing::SigningKey> {
    if let Some(uri) = path.to_str().filter(|p| p.starts_with("pkcs11:")) {
        let settings = baocao_signing::token::TokenSettings::from_uri(uri)?;
        let pin = std::env::var("BAOCAO_SIGNING_PIN").unwrap_or_default();
        return baocao_signing::SigningKey::from_pkcs11(&settings, &pin)
            .with_context(|| format!("khóa ký trong thiết bị «{}»", settings.token));
    }
    let der = crate::files::read(path)?;
    let passphrase = std::env::var("BAOCAO_SIGNING_PASSPHRASE").unwrap_or_default();
    baocao_signing::SigningKey::from_pkcs12(&der, &passphrase).with_context(|| format!("khóa ký {}", path.display()))
}
