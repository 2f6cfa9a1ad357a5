//! The demo's feed: a small local stand-in for the administrative-procedure
//! system, which counts the dossiers each commune received, processed on
//! time and processed fully online in the data window now open, and the
//! feed definition (`data/demo/feed.toml`) that pulls them, so that the
//! share of dossiers fully online is measured without typing. The communes
//! of the demo's own accounts are not connected to it: their officers
//! type their reports, as the walkthrough shows.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use baocao_core::{Period, Periodicity, today_in_vietnam};
use baocao_store::Db;
use chrono::Months;
use serde_json::{Value, json};

use super::{DEMO_ACTOR, month_values, size_of};

const DEFINITION: &str = include_str!("../../../../data/demo/feed.toml");
/// The address the definition names, replaced by the stand-in's.
const DEFINED_URL: &str = "http://127.0.0.1:8090/thong-ke-ho-so";
const PATH: &str = "/thong-ke-ho-so";
/// The demo regime whose communes the stand-in counts.
const REGIME: &str = "BC_THANG_TTHC";

/// Starts the stand-in on a free local port and saves the feed that pulls
/// from it (due at once); answers the stand-in's address.
pub async fn start(db: &Db, typed: Vec<String>) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let state = Source { db: db.clone(), typed: Arc::new(typed) };
    let app = axum::Router::new().route(PATH, axum::routing::get(records)).with_state(state);
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "the demo feed stopped");
        }
    });
    let text = DEFINITION.replace(DEFINED_URL, &format!("http://{addr}{PATH}"));
    let feed = baocao_ingest::feed::read_feed("data/demo/feed.toml", &text)?;
    db.save_feed(DEMO_ACTOR, &feed).await?;
    Ok(addr)
}

/// The month whose data window is open today: the dossiers counted so far.
fn open_month() -> Option<Period> {
    let today = today_in_vietnam();
    Period::ending_between(Periodicity::Monthly, today - Months::new(1), today + Months::new(2))
        .into_iter()
        .find(|p| p.cutoff().0 <= today && today <= p.cutoff().1)
}

/// What the stand-in counts from: the demo's units, less the communes
/// whose reports are `typed`.
#[derive(Clone)]
struct Source {
    db: Db,
    typed: Arc<Vec<String>>,
}

async fn records(State(Source { db, typed }): State<Source>) -> Result<Json<Value>, StatusCode> {
    let unavailable = |_| StatusCode::SERVICE_UNAVAILABLE;
    let period = open_month().ok_or(StatusCode::SERVICE_UNAVAILABLE)?;
    let registry = db.load_registry().await.map_err(unavailable)?;
    let regimes = db.regimes().await.map_err(unavailable)?;
    let regime = regimes.iter().find(|r| r.code == REGIME).ok_or(StatusCode::NOT_FOUND)?;
    // Counted so far: the share of the window gone by.
    let (from, to) = period.cutoff();
    let today = today_in_vietnam();
    let gone = ((today - from).num_days() + 1) as f64 / ((to - from).num_days() + 1) as f64;
    let mut data: Vec<Value> = regime
        .units_for(&registry, &period)
        .iter()
        .filter(|unit| !typed.contains(&unit.code))
        .map(|unit| {
            let size = size_of(&registry, unit, period.end());
            let full: std::collections::HashMap<&str, f64> =
                month_values(&unit.code, size, &period).into_iter().collect();
            let so_far = |code: &str| (full.get(code).copied().unwrap_or(0.0) * gone).round();
            json!({
                "ma_ban_ghi": format!("DVC-{}-{period}", unit.code),
                "ma_xa": unit.code,
                "ky": period.to_string(),
                "tiep_nhan": so_far("HS_TIEP_NHAN"),
                "dung_han": so_far("HS_DUNG_HAN"),
                "toan_trinh": so_far("HS_TRUC_TUYEN_TOAN_TRINH"),
            })
        })
        .collect();
    // A commune code the reorganization retired, as another system may
    // still send: refused by the run, and shown with its reason.
    data.push(json!({ "ma_ban_ghi": format!("DVC-00001-{period}"), "ma_xa": "00001", "ky": period.to_string(),
        "tiep_nhan": 1, "dung_han": 1, "toan_trinh": 0 }));
    Ok(Json(json!({ "data": data, "generated": today.to_string() })))
}
