//! Pulls figures from other systems (nguồn cấp số liệu): a worker `serve`
//! starts, which claims one due feed at a time from the database (so that
//! several processes never fetch the same one at once), fetches its
//! document with a bounded size and time, and hands the records to the
//! store, which records the run and stores what maps in one transaction.

use std::time::Duration as StdDuration;

use baocao_store::Db;
use baocao_store::feeds::{ClaimedFeed, Fetched};
use chrono::Utc;

use crate::upstream::{authorized, client};

/// How often an idle worker looks for due feeds.
const POLL: StdDuration = StdDuration::from_secs(5);

/// The largest document a fetch reads: a province's communes for a
/// month are a few hundred kilobytes.
const MAX_DOCUMENT: usize = 16 * 1024 * 1024;

/// Starts the worker on the runtime.
pub fn spawn(db: Db) -> tokio::task::JoinHandle<()> {
    let client = client(StdDuration::from_secs(120));
    tokio::spawn(async move {
        loop {
            match db.claim_feed(Utc::now()).await {
                Ok(Some(claimed)) => run(&db, &client, claimed).await,
                Ok(None) => tokio::time::sleep(POLL).await,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the feeds");
                    tokio::time::sleep(POLL).await;
                }
            }
        }
    })
}

/// Runs the feeds due now, one after another, before anything else: the
/// demo fetches its feed before it serves, so that its first pages show
/// the figures pulled. How many ran.
pub async fn run_due(db: &Db) -> Result<usize, baocao_store::StoreError> {
    let client = client(StdDuration::from_secs(120));
    let mut ran = 0;
    while let Some(claimed) = db.claim_feed(Utc::now()).await? {
        run(db, &client, claimed).await;
        ran += 1;
    }
    Ok(ran)
}

async fn run(db: &Db, client: &reqwest::Client, claimed: ClaimedFeed) {
    let started_at = Utc::now();
    let fetched = fetch(client, &claimed).await;
    let code = claimed.feed.code.clone();
    let registry = match db.load_registry().await {
        Ok(registry) => registry,
        Err(e) => {
            // The claim lapses and another try takes the feed again.
            tracing::error!(feed = %code, error = %e, "cannot read the units to map a feed's records");
            return;
        }
    };
    match db.store_feed_run(&registry, &claimed, started_at, fetched).await {
        Ok(run) if run.outcome == "failed" => {
            tracing::warn!(feed = %code, message = ?run.message, "a feed could not be fetched")
        }
        Ok(run) => tracing::info!(feed = %code, stored = run.stored, refused = run.refused, "feed fetched"),
        Err(e) => tracing::error!(feed = %code, error = %e, "cannot record a feed's run"),
    }
}

async fn fetch(client: &reqwest::Client, claimed: &ClaimedFeed) -> Fetched {
    let feed = &claimed.feed;
    let failed = |http_status, message| Fetched::Failed { http_status, message };
    let mut request = client.get(&feed.url);
    if let (Some(auth), Some(env)) = (feed.auth, &feed.secret_env) {
        let Ok(secret) = std::env::var(env) else {
            return failed(None, format!("chưa đặt biến môi trường {env} (khóa đăng nhập hệ thống cấp số liệu)"));
        };
        request = authorized(request, auth, &secret);
    }
    let mut response = match request.send().await {
        Ok(response) => response,
        Err(e) => return failed(None, format!("không kết nối được {}: {e}", feed.url)),
    };
    let status = response.status().as_u16();
    if !response.status().is_success() {
        return failed(Some(status), format!("{} trả lời mã {status}", feed.url));
    }
    // Read by pieces, and given up past the limit: a length the sender
    // announces is not trusted.
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(piece)) if body.len() + piece.len() > MAX_DOCUMENT => {
                return failed(Some(status), format!("tài liệu lớn hơn {} MiB; không đọc", MAX_DOCUMENT >> 20));
            }
            Ok(Some(piece)) => body.extend_from_slice(&piece),
            Ok(None) => break,
            Err(e) => return failed(Some(status), format!("tài liệu bị ngắt giữa chừng: {e}")),
        }
    }
    match baocao_ingest::feed::read_records(feed, &body) {
        Ok(records) => Fetched::Records { http_status: status, records },
        Err(message) => failed(Some(status), message),
    }
}
