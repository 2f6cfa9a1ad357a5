//! Files and bodies sent to hurt the server: refused clearly, quickly
//! read no further than needed, and the server keeps answering.

mod common;

use std::io::Write;
use std::sync::OnceLock;

use common::{answer, spawn};

/// A workbook of Ngọk Bay's report that unpacks to a gibibyte: one extra
/// member of zeros, about a megabyte packed.
fn zip_bomb() -> &'static [u8] {
    static BOMB: OnceLock<Vec<u8>> = OnceLock::new();
    BOMB.get_or_init(|| {
        let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .large_file(true);
        out.start_file("xl/sharedStrings.xml", options).unwrap();
        let zeros = vec![b'0'; 1 << 20];
        for _ in 0..1024 {
            out.write_all(&zeros).unwrap();
        }
        out.finish().unwrap().into_inner()
    })
}

/// A small workbook whose two cells are at the opposite corners of a sheet:
/// laid out as a grid, it would take seventeen billion cells.
fn grid_bomb() -> Vec<u8> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet().set_name("Thông tin").unwrap();
    sheet.write_string(0, 0, "regime").unwrap();
    sheet.write_string(1_048_575, 16_383, "x").unwrap();
    workbook.save_to_buffer().unwrap()
}

async fn upload_report(app: &common::App, who: &str, bytes: Vec<u8>) -> (u16, serde_json::Value) {
    let req = app
        .client
        .post(app.url("/api/v1/reports/xlsx"))
        .bearer_auth(app.token(who))
        .header("content-type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        .body(bytes);
    answer(req.send().await.unwrap()).await
}

#[tokio::test]
async fn a_workbook_that_unpacks_to_a_gibibyte_is_refused_and_the_server_goes_on() {
    let app = spawn().await;
    let bomb = zip_bomb().to_vec();
    assert!(bomb.len() < 2 << 20, "{} bytes", bomb.len());
    let (status, body) = upload_report(&app, "ngokbay", bomb.clone()).await;
    assert_eq!(status, 413, "{body}");
    let message = body["error"].as_str().unwrap();
    assert!(message.contains("uploaded workbook") && message.contains("vượt quá 64 MB"), "{message}");
    // The same through the roster and agency imports and the page upload.
    for path in ["/api/v1/roster?from=2025-07-01", "/api/v1/agencies"] {
        let req = app
            .client
            .post(app.url(path))
            .bearer_auth(app.token("admin"))
            .header("content-type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
            .body(bomb.clone());
        let (status, body) = answer(req.send().await.unwrap()).await;
        assert_eq!(status, 413, "{path}: {body}");
    }
    assert_eq!(app.get("/healthz").await.0, 200);
}

#[tokio::test]
async fn a_sheet_with_cells_at_opposite_corners_is_refused_without_laying_it_out() {
    let app = spawn().await;
    let (status, body) = upload_report(&app, "ngokbay", grid_bomb()).await;
    assert_eq!(status, 413, "{body}");
    assert!(body["error"].as_str().unwrap().contains("quá 200000 dòng"), "{body}");
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_in_vietnamese() {
    let app = spawn().await;
    let big = vec![b'a'; baocao_server::body::LIMIT + 1];
    let (status, body) = upload_report(&app, "ngokbay", big.clone()).await;
    assert_eq!(status, 413, "{body}");
    assert!(body["error"].as_str().unwrap().contains("vượt quá 16 MB"), "{body}");
    // A page upload says it too, rather than taking the file as missing.
    let boundary = "xYz";
    let mut form =
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"ds.csv\"\r\n\r\n")
            .into_bytes();
    form.extend_from_slice(&big);
    form.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let res = app
        .client
        .post(app.url("/roster"))
        .bearer_auth(app.token("admin"))
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 413);
    assert!(res.text().await.unwrap().contains("vượt quá 16 MB"));
}

#[tokio::test]
async fn control_characters_are_refused_where_text_comes_in() {
    let app = spawn().await;
    let set = r#"{"dataValues":[{"dataElement":"HS_TIEP_NHAN","period":"202508","orgUnit":"23317","value":"5","comment":"a\u001b[2Jb"}]}"#;
    let (status, body) = app.post("/api/v1/dataValueSets", "application/json", set).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"].as_str().unwrap().contains("dataValues[0].comment"), "{body}");
    let csv = "Mã định danh,Tên cơ quan,Loại,Mã đơn vị hành chính,Hiệu lực từ\nH51.09,UBND\u{202e}xã,UBND xã,23317,01/07/2025\n";
    let (status, body) = app.post("/api/v1/agencies", "text/csv", csv).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"].as_str().unwrap().contains("U+202E"), "{body}");
    let user = r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ke.gian","displayName":"Kẻ\u0008gian"}"#;
    let (status, body) = app.post("/scim/v2/Users", "application/scim+json", user).await;
    assert_eq!(status, 400, "{body}");
    assert!(app.db.db.account("ke.gian").await.unwrap().is_none());
}

#[tokio::test]
async fn an_agency_naming_a_unit_that_does_not_exist_is_refused() {
    let app = spawn().await;
    let csv =
        "Mã định danh,Tên cơ quan,Loại,Mã đơn vị hành chính,Hiệu lực từ\nH51.09,UBND xã Ma,UBND xã,99999,01/07/2025\n";
    let (status, body) = app.post("/api/v1/agencies", "text/csv", csv).await;
    assert_eq!(status, 409, "{body}");
    assert!(body["error"].as_str().unwrap().contains("«99999» không tồn tại"), "{body}");
}

#[tokio::test]
async fn the_same_cell_twice_in_one_data_value_set_is_a_conflict() {
    let app = spawn().await;
    let set = r#"{"dataValues":[
        {"dataElement":"HS_TIEP_NHAN","period":"202508","orgUnit":"23317","value":"5"},
        {"dataElement":"HS_TIEP_NHAN","period":"202508","orgUnit":"23317","value":"6"}]}"#;
    let (status, summary) = app.post("/api/v1/dataValueSets", "application/json", set).await;
    assert_eq!(status, 200, "{summary}");
    assert_eq!(summary["status"], "ERROR");
    assert_eq!(summary["conflicts"][0]["indexes"], serde_json::json!([0, 1]));
}

/// The server as its own process, so that its memory is its own to measure.
#[tokio::test]
async fn a_worst_case_upload_keeps_the_servers_memory_bounded() {
    let app = spawn().await;
    let server = common::Process::serve(&app.db.url).await;
    let before = server.peak_memory_kib();
    let req = reqwest::Client::new()
        .post(format!("{}/api/v1/reports/xlsx", server.base))
        .bearer_auth(app.token("ngokbay"))
        .body(zip_bomb().to_vec());
    assert_eq!(req.send().await.unwrap().status().as_u16(), 413);
    let req = reqwest::Client::new()
        .post(format!("{}/api/v1/reports/xlsx", server.base))
        .bearer_auth(app.token("ngokbay"))
        .body(grid_bomb());
    assert_eq!(req.send().await.unwrap().status().as_u16(), 413);
    let after = server.peak_memory_kib();
    // What the limits allow at most (64 MiB unpacked, inflated in 16 KiB
    // steps) is far below this; without them the process grows to
    // gigabytes, or aborts.
    assert!(after < 200 * 1024, "peak memory {before} KiB before, {after} KiB after");
    assert_eq!(reqwest::get(format!("{}/healthz", server.base)).await.unwrap().status().as_u16(), 200);
}
