//! Feeds end to end, with a real process: `baocao feed set` saves a feed
//! pulling from another system's HTTP endpoint (a small server in this
//! test); `baocao serve` fetches it on its schedule. The other system is
//! down at first: the run is recorded as failed and nothing is stored.
//! Asked again, the figures arrive, each value with its origin (the run
//! and the record), shown as pulled on the report, not typed over, and
//! traced by one API call; every figure composed from them is marked. On PostgreSQL with `BAOCAO_TEST_DATABASE_URL`,
//! else on SQLite files.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use baocao_core::{Period, Periodicity, today_in_vietnam};
use chrono::Datelike;
use common::{Process, spawn};

/// The month whose data window is open today: the one a feed counts.
fn open_month() -> Period {
    let today = today_in_vietnam();
    Period::ending_between(Periodicity::Monthly, today - chrono::Months::new(1), today + chrono::Months::new(2))
        .into_iter()
        .find(|p| p.cutoff().0 <= today && today <= p.cutoff().1)
        .unwrap()
}

/// The other system: 503 while `down`, else a CSV of dossiers.
async fn other_system(down: Arc<AtomicBool>, period: Period) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().route(
        "/ho-so.csv",
        axum::routing::get(move || {
            let down = down.clone();
            async move {
                if down.load(Ordering::SeqCst) {
                    return (axum::http::StatusCode::SERVICE_UNAVAILABLE, String::new());
                }
                let csv = format!(
                    "ma,xa,ky,tiep_nhan,dung_han,toan_trinh\n\
                     A1,X-NGOK-BAY,{period},120,110,80\n\
                     A2,23527,{period},40,,25\n\
                     A3,99999,{period},1,1,1\n\
                     A4,23527,{period},nhiều,,\n"
                );
                (axum::http::StatusCode::OK, csv)
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

fn cli(url: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_baocao"))
        .args(["--db", url])
        .args(args)
        .env("CI", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Waits until the feed has `n` runs; answers the latest.
async fn runs(db: &baocao_store::Db, n: usize) -> baocao_store::feeds::FeedRun {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let list = db.feed_runs(10).await.unwrap();
        if list.len() >= n {
            return list[0].clone();
        }
        assert!(Instant::now() < deadline, "{} run(s) of {n}", list.len());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_feed_fills_the_dossier_indicators_with_their_origin_and_survives_the_other_system_being_down() {
    let app = spawn().await;
    let period = open_month();
    let down = Arc::new(AtomicBool::new(true));
    let other = other_system(down.clone(), period).await;
    let definition = format!(
        r#"code = "dvc"
name = "Hệ thống giải quyết TTHC"
url = "{other}/ho-so.csv"
format = "csv"
every_minutes = 60

[fields]
id = "ma"
unit = "xa"
period = "ky"

[indicators]
tiep_nhan = "HS_TIEP_NHAN"
dung_han = "HS_DUNG_HAN"
toan_trinh = "HS_TRUC_TUYEN_TOAN_TRINH"

[units]
X-NGOK-BAY = "23317"
"#
    );
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), definition).unwrap();
    let said = cli(&app.db.url, &["feed", "set", file.path().to_str().unwrap()]);
    assert!(said.contains("Đã lưu nguồn cấp dvc"), "{said}");
    let _server = Process::serve(&app.db.url).await;

    // Down: the run is recorded, nothing stored, tried again on schedule.
    let failed = runs(&app.db.db, 1).await;
    assert_eq!((failed.outcome.as_str(), failed.http_status, failed.stored), ("failed", Some(503), 0));
    let doctor = std::process::Command::new(env!("CARGO_BIN_EXE_baocao"))
        .args(["--db", app.db.url.as_str(), "doctor", "--format", "json"])
        .output()
        .unwrap();
    let findings: serde_json::Value = serde_json::from_slice(&doctor.stdout).unwrap();
    let told = findings.as_array().unwrap().iter().find(|f| f["check"] == "feed").unwrap();
    assert_eq!(told["level"], "warn", "{told}");
    assert!(told["vi"].as_str().unwrap().contains("503"), "{told}");
    let origin = format!("/api/v1/values/origin?indicator=HS_TIEP_NHAN&unit=23317&period={period}");
    let (status, body) = app.get_as(Some("ngokbay"), &origin).await;
    assert_eq!((status, body["sources"].as_array().map(Vec::len)), (200, Some(0)), "{body}");

    // Back, and asked for at once: what maps is stored, the rest refused by record.
    down.store(false, Ordering::SeqCst);
    cli(&app.db.url, &["feed", "run", "dvc"]);
    let run = runs(&app.db.db, 2).await;
    assert_eq!((run.outcome.as_str(), run.records, run.stored, run.refused), ("stored", 4, 5, 2), "{run:?}");
    let refused: Vec<String> = run.refusals().iter().map(|r| r.record.clone()).collect();
    assert_eq!(refused, ["A3", "A4"]);

    // One call says where the figure came from.
    let (status, body) = app.get_as(Some("ngokbay"), &origin).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["value"]["value"], 120.0);
    let source = &body["sources"][0];
    assert_eq!((source["origin"]["kind"].as_str(), source["origin"]["record"].as_str()), (Some("pulled"), Some("A1")));
    assert_eq!(source["origin"]["feed"], "Hệ thống giải quyết TTHC");
    assert_eq!(source["origin"]["run"], run.id);
    // The province's figure names each commune's origin, for those the asker sees.
    let province = format!("/api/v1/values/origin?indicator=HS_TIEP_NHAN&unit=51&period={period}");
    let (status, body) = app.get_as(Some("viewer"), &province).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["value"]["value"], 160.0);
    assert_eq!(body["sources"].as_array().unwrap().len(), 2, "{body}");
    let (status, _) = app.get_as(Some("sathay"), &province).await;
    assert_eq!(status, 403);

    // Every figure composed from them says so: `pulled` in the API and the
    // files, ‡ on the pages, with what the mark means.
    assert_eq!(body["value"]["pulled"], true, "{body}");
    let table = format!(
        "/api/v1/values/table?structure_at={}&period={period}&org_unit=51&indicators=HS_TIEP_NHAN&format=json",
        today_in_vietnam()
    );
    let (status, rows) = app.get_as(Some("viewer"), &table).await;
    assert_eq!(status, 200, "{rows}");
    assert_eq!((rows[0]["value"].as_f64(), rows[0]["pulled"].as_bool()), (Some(160.0), Some(true)), "{rows}");
    let month = format!("{}-{:02}", period.year(), period.start().month());
    let pivot = format!("/analysis?indicator=HS_TIEP_NHAN&unit=51&depth=area&from={month}&to={month}");
    let (status, html) = app.text_as("viewer", &pivot).await;
    assert_eq!(status, 200);
    assert!(html.contains("160</a> ‡") && html.contains("được đánh dấu ‡"), "{html}");
    let (status, html) = app.text_as("viewer", &format!("/output?form=TH01&unit=51&period={period}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("160</a> ‡"), "{html}");
    assert!(html.contains(baocao_core::report::PULLED_NOTE), "{html}");

    // On the report: marked as pulled, read-only, and linked to its origin.
    let report = format!("/reports/BC_THANG_TTHC/23317/{period}");
    let (status, html) = app.text_as("ngokbay", &report).await;
    assert_eq!(status, 200);
    assert!(html.contains(r#"name="v:HS_TIEP_NHAN" id="v-HS_TIEP_NHAN" value="120" inputmode="decimal""#), "{html}");
    assert!(html.contains("readonly class=\"pulled\""), "{html}");
    assert!(html.contains("tự động"), "{html}");
    let (status, page) =
        app.text_as("ngokbay", &format!("/values/origin?indicator=HS_TIEP_NHAN&unit=23317&period={period}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("Lấy tự động từ Hệ thống giải quyết TTHC") && page.contains("bản ghi gốc A1"), "{page}");

    // Typed over through the API: refused, naming the indicator.
    let typed = format!(
        r#"{{"regime":"BC_THANG_TTHC","unit":"23317","period":"{period}","action":"save","values":{{"HS_TIEP_NHAN":"100"}}}}"#
    );
    let (status, body) =
        app.post_as(Some("ngokbay"), "/api/v1/reports?answer=outcome", "application/json", &typed).await;
    assert_eq!(status, 409, "{body}");
    assert!(body.to_string().contains("HS_TIEP_NHAN") && body.to_string().contains("lấy tự động"), "{body}");
    // Kept as pulled, with an indicator the feed does not fill typed in.
    let kept = format!(
        r#"{{"regime":"BC_THANG_TTHC","unit":"23317","period":"{period}","action":"save","values":{{"HS_TIEP_NHAN":"120","VB_DIEN_TU":"7"}}}}"#
    );
    let (status, body) =
        app.post_as(Some("ngokbay"), "/api/v1/reports?answer=outcome", "application/json", &kept).await;
    assert_eq!(status, 200, "{body}");
    let typed_origin = format!("/api/v1/values/origin?indicator=VB_DIEN_TU&unit=23317&period={period}");
    let (_, body) = app.get_as(Some("ngokbay"), &typed_origin).await;
    assert_eq!(body["sources"][0]["origin"]["kind"], "entered", "{body}");
    assert_eq!(body["sources"][0]["origin"]["actor"], "ngokbay", "{body}");
    // A draft's value is told, as not counted yet.
    assert_eq!(body["sources"][0]["counts"], false, "{body}");

    // The administrator's page lists the runs and the refused records.
    let (status, html) = app.text_as("admin", "/admin/feeds").await;
    assert_eq!(status, 200);
    assert!(html.contains("không lấy được") && html.contains("<code>A4</code>"), "{html}");
}
