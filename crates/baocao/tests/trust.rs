//! A report one can trust: fixed once approved (until reopened, on the
//! record), signed by someone named, and printed as Decree 30/2020 writes it.

mod common;

use baocao_store::compose::Counting;
use common::{App, answer, sheet, sheet_row, spawn};
use serde_json::{Value, json};

const REGIME: &str = "BC_THANG_TTHC";

async fn act(app: &App, who: &str, body: Value) -> (u16, Value) {
    app.post_as(Some(who), "/api/v1/reports", "application/json", &body.to_string()).await
}

fn report_of(period: &str, action: &str) -> Value {
    json!({ "regime": REGIME, "unit": "23317", "period": period, "action": action })
}

fn cell(view: &Value, indicator: &str, column: &str) -> Option<f64> {
    let row = view["rows"].as_array().unwrap().iter().find(|r| r["indicator"] == indicator)?;
    row["cells"][column].as_f64()
}

/// November entered with a year plan of 1.200, sent and approved.
async fn approved_november(app: &App) -> Value {
    let mut body = report_of("202511", "submit");
    body["values"] = json!({ "HS_TIEP_NHAN": "300", "HS_DUNG_HAN": "280" });
    body["plan"] = json!({ "HS_TIEP_NHAN": "1.200" });
    body["signer"] = json!("Trần Thị B");
    body["position"] = json!("Phó Chủ tịch");
    let (status, sent) = act(app, "ngokbay", body).await;
    assert_eq!(status, 200, "{sent}");
    let (status, approved) = act(app, "approver", report_of("202511", "approve")).await;
    assert_eq!((status, approved["status"].as_str()), (200, Some("approved")), "{approved}");
    approved
}

#[tokio::test]
async fn an_approved_report_keeps_every_figure_it_showed() {
    let app = spawn().await;
    let approved = approved_november(&app).await;
    assert_eq!(cell(&approved, "HS_TIEP_NHAN", "year_plan"), Some(1200.0));
    let percent = cell(&approved, "HS_TIEP_NHAN", "percent_of_plan");

    // December enters a new plan for the year, and values for September
    // (in November's year to date) arrive by import.
    let mut december = report_of("202512", "save");
    december["values"] = json!({ "HS_TIEP_NHAN": "310" });
    december["plan"] = json!({ "HS_TIEP_NHAN": "2.000" });
    let (status, saved) = act(&app, "ngokbay", december).await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(cell(&saved, "HS_TIEP_NHAN", "year_plan"), Some(2000.0), "December shows the new plan");
    let set = r#"{"dataValues":[{"dataElement":"HS_TIEP_NHAN","period":"202509","orgUnit":"23317","value":"999"}]}"#;
    assert_eq!(app.post("/api/v1/dataValueSets", "application/json", set).await.0, 200);

    // November, through the API, the workbook and the printed page.
    let (_, shown) = app.get("/api/v1/reports?regime=BC_THANG_TTHC&unit=23317&period=202511").await;
    assert_eq!(cell(&shown, "HS_TIEP_NHAN", "year_plan"), Some(1200.0), "{shown}");
    assert_eq!(cell(&shown, "HS_TIEP_NHAN", "percent_of_plan"), percent);
    assert_eq!(shown["rows"], approved["rows"], "every figure as approved");
    assert_eq!(shown["signature"]["signer"], "Trần Thị B");
    let xlsx = app.bytes_as("viewer", "/api/v1/reports/xlsx?regime=BC_THANG_TTHC&unit=23317&period=202511").await;
    let indicators = app.db.db.indicators().await.unwrap().into_iter().map(|i| (i.code.clone(), i)).collect();
    let workbook = baocao_ingest::xlsx::read_report("tai-ve.xlsx", &xlsx, &indicators).unwrap();
    assert_eq!(workbook.plan["HS_TIEP_NHAN"], "1200");
    let (_, printed) = app.text_as("viewer", "/reports/BC_THANG_TTHC/23317/202511/print").await;
    assert!(printed.contains(">1.200<") && !printed.contains(">2.000<"), "the printed plan is the approved one");
}

#[tokio::test]
async fn only_reopening_changes_an_approved_report_and_it_is_on_the_record() {
    let app = spawn().await;
    approved_november(&app).await;
    let mut change = report_of("202511", "save");
    change["values"] = json!({ "HS_TIEP_NHAN": "301" });
    let (status, refused) = act(&app, "ngokbay", change.clone()).await;
    assert_eq!(status, 409, "{refused}");
    assert!(refused["error"].as_str().unwrap().contains("mở lại"), "{refused}");

    // Reopening takes someone who may approve, and a reason.
    let mut reopen = report_of("202511", "reopen");
    assert_eq!(act(&app, "ngokbay", reopen.clone()).await.0, 403);
    assert_eq!(act(&app, "approver", reopen.clone()).await.0, 409, "no reason");
    reopen["reason"] = json!("Kế hoạch năm ghi nhầm");
    let (status, reopened) = act(&app, "approver", reopen).await;
    assert_eq!((status, reopened["status"].as_str()), (200, Some("draft")), "{reopened}");
    let last = reopened["revisions"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((last["action"].as_str(), last["note"].as_str()), (Some("reopen"), Some("Kế hoạch năm ghi nhầm")));
    let (_, audit) = app.get("/api/v1/audit?action=report.reopen").await;
    let record = &audit[0];
    assert_eq!(
        (record["before"]["status"].as_str(), record["after"]["status"].as_str()),
        (Some("approved"), Some("draft"))
    );
    assert_eq!(record["after"]["reason"], "Kế hoạch năm ghi nhầm");

    // A draft again: entered, sent, approved again.
    let (status, saved) = act(&app, "ngokbay", change).await;
    assert_eq!((status, cell(&saved, "HS_TIEP_NHAN", "this_period")), (200, Some(301.0)), "{saved}");
    assert_eq!(act(&app, "ngokbay", report_of("202511", "submit")).await.0, 200, "the signer is kept");
    let (_, approved) = act(&app, "approver", report_of("202511", "approve")).await;
    assert_eq!(cell(&approved, "HS_TIEP_NHAN", "this_period"), Some(301.0));
}

#[tokio::test]
async fn a_report_is_sent_only_signed_and_the_signer_is_kept() {
    let app = spawn().await;
    let mut submit = report_of("202510", "submit");
    submit["values"] = json!({ "HS_TIEP_NHAN": "100", "HS_DUNG_HAN": "90" });
    let (status, refused) = act(&app, "ngokbay", submit.clone()).await;
    assert_eq!(status, 409);
    assert!(refused["error"].as_str().unwrap().contains("người ký"), "{refused}");
    // Named with a draft, kept for the submission.
    let mut save = report_of("202510", "save");
    save["signer"] = json!("Y Sương");
    save["position"] = json!("Chủ tịch");
    assert_eq!(act(&app, "ngokbay", save).await.0, 200);
    let (status, sent) = act(&app, "ngokbay", submit).await;
    assert_eq!(status, 200, "{sent}");
    assert_eq!(
        (sent["signature"]["signer"].as_str(), sent["signature"]["position"].as_str()),
        (Some("Y Sương"), Some("Chủ tịch"))
    );

    // A refused submission from the page keeps what was typed.
    let cookie = app.sign_in("ngokbay", common::PASSWORD, None).await.unwrap();
    let page = app.client.get(app.url("/reports/BC_THANG_TTHC/23317/202509")).header("cookie", &cookie);
    let html = page.send().await.unwrap().text().await.unwrap();
    let at = html.find("name=\"_csrf\" value=\"").unwrap() + 20;
    let csrf = html[at..at + 64].to_string();
    let form = [
        ("_csrf", csrf.as_str()),
        ("action", "submit"),
        ("v:HS_TIEP_NHAN", "10"),
        ("v:HS_DUNG_HAN", "12"),
        ("signer", "Đinh Văn Mười"),
        ("position", "Phó Chủ tịch"),
    ];
    let res = app
        .client
        .post(app.url("/reports/BC_THANG_TTHC/23317/202509"))
        .header("cookie", &cookie)
        .form(&form)
        .send()
        .await
        .unwrap();
    let (status, html) = answer(res).await;
    assert_eq!(status, 422);
    let html = html.as_str().unwrap();
    assert!(html.contains("value=\"Đinh Văn Mười\"") && html.contains("value=\"Phó Chủ tịch\""), "kept as typed");
}

#[tokio::test]
async fn the_printed_report_signs_as_decree_30_writes_it() {
    let app = spawn().await;
    approved_november(&app).await;
    let (_, printed) = app.text_as("viewer", "/reports/BC_THANG_TTHC/23317/202511/print").await;
    assert!(printed.contains("TM. ỦY BAN NHÂN DÂN<br>KT. CHỦ TỊCH<br>PHÓ CHỦ TỊCH"), "{printed}");
    assert!(printed.contains("Trần Thị B"));
}

#[tokio::test]
async fn values_make_sense_wherever_they_come_from() {
    let app = spawn().await;
    // A count cannot be negative: refused in Vietnamese, saying what is expected.
    let mut save = report_of("202510", "save");
    save["values"] = json!({ "HS_TIEP_NHAN": "-3" });
    let (status, refused) = act(&app, "ngokbay", save).await;
    assert_eq!(status, 409);
    let message = refused["error"].as_str().unwrap();
    assert!(message.contains("«-3» không hợp lệ: cần một số nguyên không âm"), "{message}");
    let set = r#"{"dataValues":[{"dataElement":"HS_TIEP_NHAN","period":"202510","orgUnit":"23317","value":"-3"}]}"#;
    let (_, summary) = app.post("/api/v1/dataValueSets", "application/json", set).await;
    assert_eq!(summary["status"], "ERROR", "{summary}");
    assert!(summary["conflicts"][0]["value"].as_str().unwrap().contains("số nguyên không âm"));

    // What people type, as they type it.
    let mut save = report_of("202510", "save");
    save["values"] = json!({ "HS_TIEP_NHAN": "1 250", "VB_DIEN_TU": "1.250" });
    let (status, saved) = act(&app, "ngokbay", save).await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(
        (cell(&saved, "HS_TIEP_NHAN", "this_period"), cell(&saved, "VB_DIEN_TU", "this_period")),
        (Some(1250.0), Some(1250.0))
    );

    // A period that has not begun takes no report and no value.
    let mut ahead = report_of("203012", "save");
    ahead["values"] = json!({ "HS_TIEP_NHAN": "5" });
    let (status, refused) = act(&app, "ngokbay", ahead).await;
    assert_eq!(status, 409, "{refused}");
    assert!(refused["error"].as_str().unwrap().contains("chưa bắt đầu"), "{refused}");
    let set = r#"{"dataValues":[{"dataElement":"HS_TIEP_NHAN","period":"203012","orgUnit":"23317","value":"5"}]}"#;
    let (_, summary) = app.post("/api/v1/dataValueSets", "application/json", set).await;
    assert_eq!(summary["conflicts"][0]["errorCode"], "E7645", "{summary}");
    assert!(
        app.db.db.numbers("HS_TIEP_NHAN", &"203012".parse().unwrap(), Counting::Everything).await.unwrap().is_empty()
    );
}

/// The province's figure for August 2025 in every place that shows one.
async fn figures(app: &App, submitted: bool) -> Vec<(&'static str, f64)> {
    let flag = if submitted { "true" } else { "false" };
    let (_, value) =
        app.get(&format!("/api/v1/values?indicator=HS_TIEP_NHAN&unit=51&period=202508&include_submitted={flag}")).await;
    let (_, output) =
        app.get(&format!("/api/v1/output?form=TH01&unit=51&period=202508&include_submitted={flag}")).await;
    let row = output["rows"].as_array().unwrap().iter().find(|r| r["code"] == "HS_TIEP_NHAN").unwrap().clone();
    let (_, set) =
        app.get(&format!("/api/v1/dataValueSets?period=202508&orgUnit=51&children=true&includeSubmitted={flag}")).await;
    let exported: f64 = set["dataValues"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["dataElement"] == "HS_TIEP_NHAN")
        .map(|v| v["value"].as_str().unwrap().parse::<f64>().unwrap())
        .sum();
    let query = if submitted { "&submitted=1" } else { "" };
    let (_, page) = app.text_as("admin", &format!("/compare?indicator=HS_TIEP_NHAN&unit=51&months=36{query}")).await;
    let row_at = page.find("<td>08/2025</td>").expect("August 2025 on the comparison page");
    let cell = &page[row_at..];
    let shown = cell.split("<td class=\"num\">").nth(1).unwrap();
    // The figure links to where it comes from, counted by the same rule.
    let origin = "/values/origin?indicator=HS_TIEP_NHAN&#38;unit=51&#38;period=202508&#38;structure_at=";
    assert!(shown.starts_with(&format!("<a class=\"origin\" href=\"{origin}")), "{shown}");
    assert_eq!(shown.contains("include_submitted=true"), submitted, "{shown}");
    let shown = shown.split('>').nth(1).unwrap().split(['<', ' ']).next().unwrap().replace('.', "");
    assert!(page.contains("id=\"counting\""), "the page says what counts");
    // The pages' workbooks: the same figures, kept numbers.
    let compare = sheet(
        &app.bytes_as("admin", &format!("/compare?indicator=HS_TIEP_NHAN&unit=51&months=36{query}&format=xlsx")).await,
    );
    let output =
        sheet(&app.bytes_as("admin", &format!("/output?form=TH01&unit=51&period=202508{query}&format=xlsx")).await);
    let label = row["label"].as_str().unwrap();
    let (_, table) = app
        .text_as(
            "admin",
            &format!("/api/v1/values/table?structure_at=2025-08-31&period=202508&org_unit=51&indicators=HS_TIEP_NHAN&include_submitted={flag}"),
        )
        .await;
    let table_row = table.lines().nth(1).unwrap_or_else(|| panic!("one row in {table}")).to_string();
    // Every province's figure and none of their communes' (`level=1`):
    // the demo reports in one province, so the same single row.
    let (_, provinces) = app
        .text_as(
            "admin",
            &format!("/api/v1/values/table?structure_at=2025-08-31&period=202508&level=1&indicators=HS_TIEP_NHAN&include_submitted={flag}"),
        )
        .await;
    assert_eq!(provinces.lines().skip(1).collect::<Vec<_>>(), [table_row.as_str()], "{provinces}");
    let analysis =
        format!("/analysis?indicator=HS_TIEP_NHAN&unit=51&depth=area&from=2025-08&to=2025-08&at=31/08/2025{query}");
    let (_, pivot) = app.text_as("admin", &analysis).await;
    assert!(pivot.contains("id=\"counting\""), "the pivot says what counts");
    let pivot_cell = pivot.split("id=\"pivot\"").nth(1).unwrap().split("<td class=\"num\">").nth(1).unwrap();
    // The pivot's figure links to where it comes from too, counted alike;
    // the page it opens says the same figure.
    let pivot_origin =
        "/values/origin?indicator=HS_TIEP_NHAN&#38;unit=51&#38;period=202508&#38;structure_at=2025-08-31";
    assert!(pivot_cell.starts_with(&format!("<a class=\"origin\" href=\"{pivot_origin}")), "{pivot_cell}");
    let href = pivot_cell.split('"').nth(3).unwrap().replace("&#38;", "&");
    assert_eq!(href.contains("include_submitted=true"), submitted, "{href}");
    let (_, traced) = app.text_as("admin", &href).await;
    let traced = traced.split("id=\"figure\"").nth(1).expect("the origin page's figure");
    let traced = traced.split("<strong>").nth(1).unwrap().split('<').next().unwrap().replace('.', "");
    let pivot_shown = pivot_cell.split('>').nth(1).unwrap().split(['<', ' ']).next().unwrap().replace('.', "");
    let pivot_sheet = sheet(&app.bytes_as("admin", &format!("{analysis}&format=xlsx")).await);
    vec![
        ("values API", value["value"].as_f64().unwrap()),
        ("output form TH01", row["cells"][0].as_f64().unwrap()),
        ("export", exported),
        ("comparison page", shown.parse().unwrap()),
        ("comparison workbook", sheet_row(&compare, 0, "08/2025")[1].parse().unwrap()),
        ("output form's workbook", sheet_row(&output, 1, label)[3].parse().unwrap()),
        ("values table API", table_row.split(',').nth(4).unwrap().parse().unwrap()),
        ("analysis page", pivot_shown.parse().unwrap()),
        ("where the analysis figure comes from", traced.parse().unwrap()),
        ("analysis workbook", sheet_row(&pivot_sheet, 0, "Tỉnh Quảng Ngãi")[1].parse().unwrap()),
    ]
}

#[tokio::test]
async fn every_total_counts_the_same_reports() {
    let app = spawn().await;
    // August 2025: Ngọk Bay approved (100), Đăk Rơ Wa sent (50), Sa Thầy a draft (30).
    for (unit, value, steps) in
        [("23317", "100", &["submit", "approve"][..]), ("23302", "50", &["submit"]), ("23527", "30", &["save"])]
    {
        for step in steps {
            let who = if *step == "approve" { "approver" } else { "admin" };
            let mut body = json!({ "regime": REGIME, "unit": unit, "period": "202508", "action": step });
            if *step != "approve" {
                body["values"] = json!({ "HS_TIEP_NHAN": value });
                body["signer"] = json!("Lê Văn C");
                body["position"] = json!("Chủ tịch");
            }
            let (status, answer) = act(&app, who, body).await;
            assert_eq!(status, 200, "{unit} {step}: {answer}");
        }
    }
    for (what, figure) in figures(&app, false).await {
        assert_eq!(figure, 100.0, "{what}: approved reports only");
    }
    for (what, figure) in figures(&app, true).await {
        assert_eq!(figure, 150.0, "{what}: submitted too, when asked; never a draft");
    }
}

/// The quality page finds a value far from its unit's own history, an
/// approver marks it to be checked and then says what was found (both on
/// the record), and nobody else may; an officer sees only their commune.
#[tokio::test]
async fn an_outlier_is_found_against_its_units_history_and_followed_up() {
    let app = spawn().await;
    let mut values: Vec<Value> = [("202507", 100), ("202508", 104), ("202509", 98), ("202510", 102)]
        .into_iter()
        .chain([("202511", 96), ("202512", 101), ("202601", 400)])
        .map(|(period, v)| json!({"dataElement": "HS_TIEP_NHAN", "period": period, "orgUnit": "23317", "value": v.to_string()}))
        .collect();
    values.push(json!({"dataElement": "HS_TIEP_NHAN", "period": "202601", "orgUnit": "23527", "value": "50"}));
    let set = json!({ "dataValues": values }).to_string();
    let (status, summary) = app.post("/api/v1/dataValueSets", "application/json", &set).await;
    assert_eq!((status, summary["status"].as_str()), (200, Some("SUCCESS")), "{summary}");

    let page = format!("/quality?regime={REGIME}&period=202601");
    let findings = |html: &str| -> String {
        let start = html.find(r#"id="findings""#).expect("the findings");
        html[start..start + html[start..].find("</table>").unwrap()].to_string()
    };
    let (status, html) = app.text_as("approver", &page).await;
    assert_eq!(status, 200, "{html}");
    let found = findings(&html);
    // History 96–104: median 100,5, MAD 2, so 400 is far beyond.
    assert!(found.contains("Xã Ngọk Bay") && found.contains(">400<"), "{found}");
    assert!(found.contains("Ngoại lai: cao bất thường") && found.contains("100,5"), "{found}");
    // Sa Thầy's 50 has no history to be judged by; its values not sent are missing.
    assert_eq!(found.matches("Ngoại lai").count(), 1, "{found}");
    assert!(found.contains("/23527/202601\">Xã Sa Thầy") && found.contains("Thiếu số liệu"), "{found}");

    let follow = |who: &'static str, action: &'static str, indicator: &'static str, note: &'static str| {
        let form = [
            ("regime", REGIME),
            ("period", "202601"),
            ("unit", "23317"),
            ("indicator", indicator),
            ("action", action),
            ("note", note),
        ];
        let req = app.client.post(app.url("/quality/follow-ups")).bearer_auth(app.token(who)).form(&form);
        async move { req.send().await.unwrap().status().as_u16() }
    };
    for who in ["ngokbay", "viewer", "unitadmin"] {
        assert_eq!(follow(who, "mark", "HS_TIEP_NHAN", "?").await, 403, "{who}");
    }
    assert_eq!(follow("approver", "mark", "KHONG_CO", "?").await, 404, "an indicator not on the form");
    assert_eq!(follow("approver", "resolve", "HS_TIEP_NHAN", "?").await, 404, "nothing open to resolve");
    assert_eq!(follow("approver", "mark", "HS_TIEP_NHAN", "Tăng gấp bốn lần").await, 303);
    let (_, html) = app.text_as("approver", &page).await;
    assert!(findings(&html).contains("Tăng gấp bốn lần"), "marked");
    assert!(html.contains(r#"<strong id="open-follow-ups">1</strong>"#));
    assert_eq!(follow("approver", "resolve", "HS_TIEP_NHAN", "Đúng: đợt cao điểm cấp giấy tờ").await, 303);
    let (_, html) = app.text_as("approver", &page).await;
    assert!(findings(&html).contains("Đã xác minh (approver): Đúng: đợt cao điểm cấp giấy tờ"));
    assert!(html.contains(r#"<strong id="open-follow-ups">0</strong>"#));
    let (_, audit) = app.get("/api/v1/audit?action=value.follow_up").await;
    let audit = audit.to_string();
    assert!(audit.contains("value.follow_up_resolved") && audit.contains("Tăng gấp bốn lần"), "{audit}");

    // Sa Thầy's officer: their own commune only.
    let (status, html) = app.text_as("sathay", &page).await;
    assert_eq!(status, 200);
    assert!(html.contains("Xã Sa Thầy") && !html.contains("Ngọk Bay"), "{html}");

    // Kept as a favourite, the page keeps its regime only (it opens on the
    // latest period), and a dashboard shows its scores.
    let save =
        [("page", "quality"), ("name", "Chất lượng"), ("query", "regime=BC_THANG_TTHC&period=202601&format=xlsx")];
    let res = app.client.post(app.url("/favourites")).bearer_auth(app.token("approver")).form(&save).send().await;
    assert_eq!(res.unwrap().status().as_u16(), 303);
    let approver = app.db.db.account("approver").await.unwrap().unwrap();
    let kept = app.db.db.favourites(approver.id).await.unwrap();
    assert_eq!(kept[0].link(), "/quality?regime=BC_THANG_TTHC");
    let board = [("name", "Chất lượng của tỉnh"), ("item", &kept[0].id.to_string())];
    let res = app.client.post(app.url("/dashboards")).bearer_auth(app.token("approver")).form(&board).send().await;
    let res = res.unwrap();
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let (status, html) = app.text_as("approver", &location).await;
    assert_eq!(status, 200);
    assert!(html.contains("Điểm trung bình") && html.contains(r#"<table class="grid quality-part">"#), "{html}");
}
