//! Composed figures are kept in memory between requests, and never served
//! older than the data: an approval, a reopening and an import made by
//! another process each change the output form, the comparison and the
//! pivot at once. On PostgreSQL with `BAOCAO_TEST_DATABASE_URL`, else on
//! SQLite files.

mod common;

use common::{App, spawn};

/// The province's dossiers received in September 2025, as the output form,
/// the comparison page and the pivot page each show them.
async fn shown(app: &App) -> (Option<f64>, String, String) {
    let (status, output) = app.get_as(Some("viewer"), "/api/v1/output?form=TH01&unit=51&period=202509").await;
    assert_eq!(status, 200, "{output}");
    let (status, compare) = app.text_as("viewer", "/compare?indicator=HS_TIEP_NHAN&unit=51&months=36").await;
    assert_eq!(status, 200);
    let row = compare.split("<td>09/2025</td>").nth(1).unwrap_or_default();
    let (status, pivot) =
        app.text_as("viewer", "/analysis?indicator=HS_TIEP_NHAN&unit=51&depth=area&from=2025-09&to=2025-09").await;
    assert_eq!(status, 200);
    let cell = pivot.split("<tbody>").nth(1).unwrap_or_default();
    let first = |html: &str| html.split("</tr>").next().unwrap_or_default().to_string();
    (output["rows"][0]["cells"][0].as_f64(), first(row), first(cell))
}

#[tokio::test]
async fn a_kept_figure_follows_every_write_that_changes_it() {
    let app = spawn().await;
    let (output, compare, pivot) = shown(&app).await;
    assert_eq!(output, None);
    assert!(!compare.contains("120") && !pivot.contains("120"), "{compare}\n{pivot}");
    // Asked again, unchanged: the same answer.
    assert_eq!(shown(&app).await.0, None);

    // Approved: counted at once.
    let submit = r#"{"regime":"BC_THANG_TTHC","unit":"23317","period":"202509","action":"submit","signer":"Lê Văn C","position":"Chủ tịch","values":{"HS_TIEP_NHAN":"120","HS_DUNG_HAN":"1"}}"#;
    let (status, body) = app.post_as(Some("ngokbay"), "/api/v1/reports", "application/json", submit).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(shown(&app).await.0, None, "submitted, not approved: not counted yet");
    let approve = r#"{"regime":"BC_THANG_TTHC","unit":"23317","period":"202509","action":"approve"}"#;
    let (status, body) = app.post_as(Some("approver"), "/api/v1/reports", "application/json", approve).await;
    assert_eq!(status, 200, "{body}");
    let (output, compare, pivot) = shown(&app).await;
    assert_eq!(output, Some(120.0));
    assert!(compare.contains(">120") && pivot.contains(">120<"), "{compare}\n{pivot}");

    // Reopened: no longer counted.
    let reopen =
        r#"{"regime":"BC_THANG_TTHC","unit":"23317","period":"202509","action":"reopen","reason":"Sai số liệu"}"#;
    let (status, body) = app.post_as(Some("approver"), "/api/v1/reports", "application/json", reopen).await;
    assert_eq!(status, 200, "{body}");
    let (output, compare, pivot) = shown(&app).await;
    assert_eq!(output, None);
    assert!(!compare.contains("120") && !pivot.contains("120"), "{compare}\n{pivot}");

    // Imported by another process (the command line) into the same
    // database: this server's memory does not hide it.
    let file = tempfile::Builder::new().suffix(".json").tempfile().unwrap();
    let set = r#"{"dataValues":[{"dataElement":"HS_TIEP_NHAN","period":"202509","orgUnit":"23527","value":"40"}]}"#;
    std::fs::write(file.path(), set).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_baocao"))
        .args(["--db", app.db.url.as_str(), "data", "import", file.path().to_str().unwrap()])
        .env("CI", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (output, compare, pivot) = shown(&app).await;
    assert_eq!(output, Some(40.0));
    assert!(compare.contains(">40") && pivot.contains(">40<"), "{compare}\n{pivot}");
}
