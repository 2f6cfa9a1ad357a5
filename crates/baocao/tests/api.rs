//! The HTTP API over a real socket, against a fresh database.

mod common;

use baocao_core::access::Role;
use baocao_core::regime::ApprovalLevel;
use common::spawn;

#[tokio::test]
async fn units_lineage_search_and_map() {
    let app = spawn().await;
    let (status, units) = app.get("/api/v1/units?at=2025-07-01&under=51").await;
    assert_eq!(status, 200);
    assert_eq!(units.as_array().unwrap().len(), 96);
    let (_, before) = app.get("/api/v1/units?at=30/06/2025&under=51&level=3").await;
    assert_eq!(before.as_array().unwrap().len(), 170);

    let (status, unit) = app.get("/api/v1/units/23317?at=2025-07-01").await;
    assert_eq!(status, 200);
    assert_eq!((unit["name"].as_str(), unit["parent_code"].as_str()), (Some("Xã Ngọk Bay"), Some("51")));

    let (_, lineage) = app.get("/api/v1/units/23317/lineage?at=2025-07-01").await;
    let preds: Vec<&str> =
        lineage["predecessors"].as_array().unwrap().iter().map(|p| p["code"].as_str().unwrap()).collect();
    assert_eq!(preds, ["23314", "23317", "23320"]);

    let (_, found) = app.get("/api/v1/search?q=NG%E1%BB%8CK%20BAY&at=2025-07-01").await;
    assert!(found.as_array().unwrap().iter().any(|u| u["code"] == "23317"));

    let (_, map) = app.get("/api/v1/units/62/map?from=2025-06-30&to=2025-07-01").await;
    assert_eq!(map[0]["code"], "51");
}

#[tokio::test]
async fn errors_are_json_and_name_the_problem() {
    let app = spawn().await;
    let (status, body) = app.get("/api/v1/units?at=2025-02-31").await;
    assert_eq!(status, 400);
    assert!(body["error"].as_str().unwrap().contains("tham số `at`"), "{body}");
    let (status, body) = app.get("/api/v1/units/99999").await;
    assert_eq!(status, 404);
    assert!(body["error"].as_str().unwrap().contains("99999"));
    let (status, _) = app.get("/api/v1/units/62?at=2025-07-01").await;
    assert_eq!(status, 404);
    // A known path with another method, and an unknown path: named, in JSON.
    let (status, body) = app.post("/api/v1/units", "application/json", "{}").await;
    assert_eq!(status, 405);
    assert!(body["error"].as_str().unwrap().contains("chỉ dùng: GET"), "{body}");
    let (status, body) = app.get("/api/v1/nothing").await;
    assert_eq!((status, body["error"].is_string()), (404, true));
}

#[tokio::test]
async fn health_openapi_and_pages() {
    let app = spawn().await;
    assert_eq!(app.get("/healthz").await.0, 200);
    assert_eq!(app.get("/readyz").await.0, 200);
    let (_, doc) = app.get("/api/openapi.json").await;
    for path in [
        "/api/v1/units",
        "/api/v1/units/{code}",
        "/api/v1/units/{code}/lineage",
        "/api/v1/search",
        "/api/v1/units/{code}/map",
        "/api/v1/indicators",
        "/api/v1/periods",
        "/api/v1/dataValueSets",
        "/api/v1/values",
        "/api/v1/reports",
        "/api/v1/completeness",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing from OpenAPI");
    }
    let (status, home) = app.get("/units?at=01/07/2025").await;
    assert_eq!(status, 200);
    let html = home.as_str().unwrap();
    assert!(html.contains("Bản trình diễn") && html.contains("Xã Ngọk Bay") && html.contains("01/07/2025"));
    let (_, page) = app.get("/units/23317?at=2025-07-01").await;
    let page = page.as_str().unwrap();
    assert!(page.contains("Xã Kroong") && page.contains("Đơn vị tiền thân"));
    // Pages show the last day in force (30/06/2025), not the exclusive end.
    let (_, old) = app.get("/units/23314?at=2025-06-30").await;
    let old = old.as_str().unwrap();
    assert!(old.contains("đến hết ngày: 30/06/2025") && !old.contains("01/07/2025</td>"), "{old}");
}

#[tokio::test]
async fn data_value_sets_round_trip_and_values_restate() {
    let app = spawn().await;
    let (status, summary) = app
        .post(
            "/api/v1/dataValueSets",
            "application/json",
            r#"{"period":"202407","dataValues":[
                {"dataElement":"HS_TIEP_NHAN","orgUnit":"23314","value":"4"},
                {"dataElement":"HS_TIEP_NHAN","orgUnit":"23317","value":"5"},
                {"dataElement":"HS_TIEP_NHAN","orgUnit":"23320","value":"6"},
                {"dataElement":"HS_TIEP_NHAN","orgUnit":"23314","period":"202508","value":"1"}]}"#,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(summary["importCount"]["imported"], 3);
    assert_eq!(summary["conflicts"][0]["object"], "23314");

    let (_, v) =
        app.get("/api/v1/values?indicator=HS_TIEP_NHAN&unit=23317&period=202407&structure_at=01/07/2025").await;
    assert_eq!((v["value"].as_f64(), v["estimated"].as_bool()), (Some(15.0), Some(false)));

    let csv = "dataelement,period,orgunit,catoptcombo,attroptcombo,value\nHS_TIEP_NHAN,202508,23317,default,,9\n";
    let (_, summary) = app.post("/api/v1/dataValueSets", "text/csv", csv).await;
    assert_eq!(summary["status"], "SUCCESS");

    let (status, set) = app.get("/api/v1/dataValueSets?period=202407&orgUnit=608&children=true").await;
    assert_eq!(status, 200);
    assert_eq!(set["dataValues"].as_array().unwrap().len(), 3);
    let (status, body) = app.get("/api/v1/dataValueSets?period=202508&orgUnit=23314").await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = app.post("/api/v1/dataValueSets", "application/json", "{not json").await;
    assert_eq!(status, 400);
    assert!(body["error"].as_str().unwrap().contains("request body"));
}

#[tokio::test]
async fn indicators_and_periods() {
    let app = spawn().await;
    let (_, list) = app.get("/api/v1/indicators").await;
    assert!(list.as_array().unwrap().iter().any(|i| i["code"] == "TY_LE_TOAN_TRINH" && i["value_type"] == "percent"));
    let (_, periods) = app.get("/api/v1/periods?periodicity=quarterly&from=2025-01-01&to=2025-12-31").await;
    assert_eq!(periods.as_array().unwrap().len(), 4);
    assert_eq!(periods[2]["cutoff_from"], "2025-06-15");
    let (status, _) = app.get("/api/v1/periods?periodicity=weekly&from=2025-01-01&to=2025-12-31").await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn reports_over_http() {
    let app = spawn().await;
    let body = |action: &str, extra: &str| {
        format!(r#"{{"regime":"BC_THANG_TTHC","unit":"23317","period":"202509","action":"{action}"{extra}}}"#)
    };
    let (status, draft) = app
        .post_as(
            Some("ngokbay"),
            "/api/v1/reports",
            "application/json",
            &body("save", r#","values":{"HS_TIEP_NHAN":"10","HS_DUNG_HAN":"12"}"#),
        )
        .await;
    assert_eq!(status, 200, "{draft}");
    assert!(draft["findings"][0]["message"].as_str().unwrap().contains("lớn hơn tổng"));
    let (status, refused) =
        app.post_as(Some("ngokbay"), "/api/v1/reports", "application/json", &body("submit", "")).await;
    assert_eq!(status, 409);
    assert!(refused["error"].as_str().unwrap().contains("Chưa thể gửi báo cáo"));
    let (status, sent) = app
        .post_as(
            Some("ngokbay"),
            "/api/v1/reports",
            "application/json",
            &body("submit", r#","values":{"HS_DUNG_HAN":"9"},"signer":"Lê Văn C","position":"Phó Chủ tịch""#),
        )
        .await;
    assert_eq!((status, sent["status"].as_str()), (200, Some("submitted")));
    let (status, _) = app.post_as(Some("approver"), "/api/v1/reports", "application/json", &body("return", "")).await;
    assert_eq!(status, 409, "returning needs a reason");
    let (status, _) = app.post_as(Some("ngokbay"), "/api/v1/reports", "application/json", &body("approve", "")).await;
    assert_eq!(status, 403, "a data entry officer does not approve");
    let (_, approved) =
        app.post_as(Some("approver"), "/api/v1/reports", "application/json", &body("approve", "")).await;
    assert_eq!(approved["status"], "approved");
    let (_, shown) = app.get("/api/v1/reports?regime=BC_THANG_TTHC&unit=23317&period=202509").await;
    let actors: Vec<&str> =
        shown["revisions"].as_array().unwrap().iter().map(|r| r["actor"].as_str().unwrap()).collect();
    assert_eq!(actors, ["ngokbay", "ngokbay", "approver"]);
    let (_, c) = app.get("/api/v1/completeness?regime=BC_THANG_TTHC&period=202509").await;
    assert_eq!((c["expected"].as_u64(), c["approved"].as_u64()), (Some(96), Some(1)));
    let (status, _) = app.post("/api/v1/reports", "application/json", &body("publish", "")).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn concurrent_submissions_all_succeed() {
    let app = spawn().await;
    let (_, units) = app.get("/api/v1/units?at=2025-08-31&under=51").await;
    let codes: Vec<String> =
        units.as_array().unwrap().iter().take(24).map(|u| u["code"].as_str().unwrap().to_string()).collect();
    let app = &app;
    let answers = futures::future::join_all(codes.iter().map(|code| async move {
        let body = format!(
            r#"{{"regime":"BC_THANG_TTHC","unit":"{code}","period":"202508","action":"submit","signer":"Lê Văn C","position":"Chủ tịch","values":{{"HS_TIEP_NHAN":"10","HS_DUNG_HAN":"9"}}}}"#
        );
        app.post("/api/v1/reports?answer=outcome", "application/json", &body).await
    }))
    .await;
    for (status, body) in &answers {
        assert_eq!(*status, 200, "{body}");
        // The outcome only: the status and what the rules found, no recomputed report.
        assert_eq!((body["status"].as_str(), body["findings"].as_array().map(Vec::len)), (Some("submitted"), Some(0)));
        assert!(body.get("rows").is_none());
    }
    let (_, c) = app.get("/api/v1/completeness?regime=BC_THANG_TTHC&period=202508").await;
    assert_eq!(c["submitted"].as_u64(), Some(codes.len() as u64));
}

fn form_body(definition: &str) -> String {
    serde_urlencoded::to_string([("definition", definition)]).unwrap()
}

#[tokio::test]
async fn the_form_designer_previews_and_versions_forms() {
    let app = spawn().await;
    const FORM: &str = "application/x-www-form-urlencoded";
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/demo/form-bm01.toml");
    let bm01 = std::fs::read_to_string(path).unwrap();
    let (status, page) = app.post("/forms/designer/preview", FORM, &form_body("code = \"X\"\nname = ")).await;
    assert_eq!(status, 200);
    assert!(page.as_str().unwrap().contains("dòng 2"), "{page}");
    let (_, page) = app.post("/forms/designer/preview", FORM, &form_body(&bm01)).await;
    assert!(page.as_str().unwrap().contains("Số hồ sơ thủ tục hành chính tiếp nhận"));
    let (status, page) = app.get("/forms/designer?code=BM01&from=2025-07-01").await;
    assert_eq!(status, 200);
    assert!(page.as_str().unwrap().contains("HS_TIEP_NHAN"));

    // Once a report uses the version, only its end may change, after that report's period.
    let body =
        r#"{"regime":"BC_THANG_TTHC","unit":"23317","period":"202509","action":"save","values":{"HS_TIEP_NHAN":"5"}}"#;
    assert_eq!(app.post_as(Some("ngokbay"), "/api/v1/reports", "application/json", body).await.0, 200);
    let renamed = bm01.replacen("name = \"", "name = \"Mới: ", 1);
    let (status, page) = app.post("/forms/designer", FORM, &form_body(&renamed)).await;
    assert_eq!(status, 422);
    assert!(page.as_str().unwrap().contains("chỉ được đổi ngày hết hiệu lực"), "{page}");
    let ended = |day: &str| {
        bm01.replacen("valid_from = \"2025-07-01\"", &format!("valid_from = \"2025-07-01\"\nvalid_to = \"{day}\""), 1)
    };
    assert_eq!(app.post("/forms/designer", FORM, &form_body(&ended("2025-09-15"))).await.0, 422);
    assert_eq!(app.post("/forms/designer", FORM, &form_body(&ended("2027-01-01"))).await.0, 303);
    let next = renamed.replacen("valid_from = \"2025-07-01\"", "valid_from = \"2027-01-01\"", 1);
    assert_eq!(app.post("/forms/designer", FORM, &form_body(&next)).await.0, 303);
    let (_, page) = app.get("/forms/BM01").await;
    assert!(page.as_str().unwrap().contains("Mới: "), "the latest version is shown");
    assert_eq!(app.post_as(Some("ngokbay"), "/forms/designer", FORM, &form_body(&next)).await.0, 403);
}

#[tokio::test]
async fn scim_clients_list_filter_create_patch_and_close_users() {
    let app = spawn().await;
    const SCIM: &str = "application/scim+json";
    let (status, created) = app
        .post("/scim/v2/Users", SCIM, r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"annv@qn.gov.vn","name":{"formatted":"Nguyễn Văn An"}}"#)
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(
        (created["displayName"].as_str(), created["emails"][0]["value"].as_str()),
        (Some("Nguyễn Văn An"), Some("annv@qn.gov.vn"))
    );
    let id = created["id"].as_str().unwrap().to_string();
    let (status, again) = app.post("/scim/v2/Users", SCIM, r#"{"userName":"annv@qn.gov.vn"}"#).await;
    assert_eq!((status, again["scimType"].as_str()), (409, Some("uniqueness")));

    let (_, found) = app.get("/scim/v2/Users?filter=userName%20eq%20%22ANNV@qn.gov.vn%22").await;
    assert_eq!(found["totalResults"], 1);
    assert_eq!(found["Resources"][0]["id"], id.as_str());
    let (_, page) = app.get("/scim/v2/Users?startIndex=2&count=3").await;
    assert_eq!(
        (page["totalResults"].as_u64(), page["itemsPerPage"].as_u64(), page["startIndex"].as_u64()),
        (Some(7), Some(3), Some(2))
    );
    let (status, bad) = app.get("/scim/v2/Users?filter=title%20eq%20%22x%22").await;
    assert_eq!((status, bad["scimType"].as_str()), (400, Some("invalidFilter")));
    // Filters as RFC 7644 writes them: logical operators, precedence, parentheses.
    let query = |filter: &str| format!("/scim/v2/Users?{}", serde_urlencoded::to_string([("filter", filter)]).unwrap());
    let (_, both) = app.get(&query(r#"userName eq "annv@qn.gov.vn" and active eq true"#)).await;
    assert_eq!(both["totalResults"], 1, "{both}");
    let (_, either) = app.get(&query(r#"userName eq "annv@qn.gov.vn" or userName eq "ngokbay""#)).await;
    assert_eq!(either["totalResults"], 2, "{either}");
    let (_, none) = app.get(&query(r#"not (active eq true) and (userName sw "annv" or userName sw "ngok")"#)).await;
    assert_eq!(none["totalResults"], 0, "{none}");
    let (status, bad) = app.get(&query(r#"userName eq "a" and"#)).await;
    assert_eq!((status, bad["scimType"].as_str()), (400, Some("invalidFilter")));

    let patch = r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false,"displayName":"Nguyễn Văn An (nghỉ)"}}]}"#;
    let req = app.client.patch(app.url(&format!("/scim/v2/Users/{id}"))).bearer_auth(app.token("admin")).body(patch);
    let (status, patched) = common::answer(req.send().await.unwrap()).await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(
        (patched["active"].as_bool(), patched["displayName"].as_str()),
        (Some(false), Some("Nguyễn Văn An (nghỉ)"))
    );

    // Replacing: the identity provider's own id is kept, a missing display name goes.
    let put = r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"annv@qn.gov.vn","externalId":"idp-42","active":true}"#;
    let req = app.client.put(app.url(&format!("/scim/v2/Users/{id}"))).bearer_auth(app.token("admin")).body(put);
    let (status, replaced) = common::answer(req.send().await.unwrap()).await;
    assert_eq!(status, 200, "{replaced}");
    assert_eq!(
        (replaced["externalId"].as_str(), replaced.get("displayName"), replaced["active"].as_bool()),
        (Some("idp-42"), None, Some(true))
    );
    let renamed = put.replace("annv@qn.gov.vn", "annv2@qn.gov.vn");
    let req = app.client.put(app.url(&format!("/scim/v2/Users/{id}"))).bearer_auth(app.token("admin")).body(renamed);
    let (status, refused) = common::answer(req.send().await.unwrap()).await;
    assert_eq!((status, refused["scimType"].as_str()), (400, Some("mutability")));
    let search = r#"{"filter":"externalId eq \"idp-42\"","attributes":["userName"]}"#;
    let (_, found) = app.post("/scim/v2/Users/.search", SCIM, search).await;
    assert_eq!(found["totalResults"], 1);
    let keys: Vec<&String> = found["Resources"][0].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["id", "meta", "schemas", "userName"], "only what was asked, and what is always returned");

    // Deleting closes and withdraws: SCIM knows the account no more, baocao keeps it.
    let req = app.client.delete(app.url("/scim/v2/Users/2")).bearer_auth(app.token("admin"));
    assert_eq!(req.send().await.unwrap().status().as_u16(), 204);
    assert_eq!(
        app.get_as(Some("ngokbay"), "/api/v1/indicators").await.0,
        401,
        "a closed account's token stops working"
    );
    let (status, gone) = app.get("/scim/v2/Users/2").await;
    assert_eq!((status, gone["schemas"][0].as_str()), (404, Some("urn:ietf:params:scim:api:messages:2.0:Error")));
    let (_, list) = app.get("/scim/v2/Users").await;
    assert_eq!(list["totalResults"], 6);
    let (_, accounts) = app.get("/api/v1/accounts").await;
    assert_eq!(accounts.as_array().unwrap().len(), 7, "the account itself is kept");

    let (_, groups) = app.get("/scim/v2/Groups").await;
    let approvers = groups["Resources"].as_array().unwrap().iter().find(|g| g["id"] == "approver").unwrap();
    assert_eq!(approvers["members"][0]["display"], "Người dùng approver");
    let (status, approvers) = app.get("/scim/v2/Groups/approver?attributes=displayName").await;
    assert_eq!((status, approvers.get("members")), (200, None));
    let (status, refused) = app.post("/scim/v2/Groups", SCIM, r#"{"displayName":"x"}"#).await;
    assert_eq!((status, refused["status"].as_str()), (405, Some("405")), "roles are given in baocao");
    let (status, unknown) = app.get("/scim/v2/Nothing").await;
    assert_eq!((status, unknown["status"].as_str()), (404, Some("404")));
    let (_, audit) = app.get("/api/v1/audit?actor=admin&action=account.").await;
    let actions: Vec<&str> = audit.as_array().unwrap().iter().map(|r| r["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        [
            "account.withdraw",
            "account.external_id",
            "account.open",
            "account.rename",
            "account.rename",
            "account.close",
            "account.create"
        ]
    );
}

#[tokio::test]
async fn rosters_are_uploaded_reviewed_and_their_accounts_applied_in_the_browser() {
    let app = spawn().await;
    let (status, body) = app
        .post("/api/v1/agencies", "text/csv", "code,name,kind,unit_code\nH51.01,UBND xã Ngọk Bay,UBND xã,23317\n")
        .await;
    assert_eq!((status, &body["imported"]), (200, &serde_json::json!(1)), "{body}");
    let (_, lineage) = app.get("/api/v1/agencies/H51.01").await;
    assert_eq!(lineage["versions"][0]["unit_code"], "23317");
    // An agency of Xã Kroong, which ended with the reform, needs a successor or an archive decision.
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(&b"code,name,kind,unit_code\nH01.01,UBND x\xc3\xa3 Kroong,UBND xa,23314\n"[..])
            .file_name("cq.csv"),
    );
    let res =
        app.client.post(app.url("/agencies")).bearer_auth(app.token("admin")).multipart(form).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("cơ quan H01.01 (UBND xã Kroong) của đơn vị 23314, đơn vị này chấm dứt ngày 01/07/2025"),
        "{html}"
    );
    let (_, agencies) = app.get("/api/v1/agencies?at=2025-06-30").await;
    assert_eq!(agencies.as_array().map(Vec::len), Some(1), "nothing of the refused file was kept: {agencies}");
    let upload = |csv: String| {
        let form = reqwest::multipart::Form::new()
            .part("file", reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("ds.csv"))
            .text("from", "01/07/2025");
        app.client.post(app.url("/roster")).bearer_auth(app.token("admin")).multipart(form).send()
    };
    let header = "Mã cơ quan,Họ và tên,Ngày sinh,Chức vụ,Vị trí công tác,Vai trò\n";
    let bad = format!("{header}H51.01,Nguyễn Văn An,31/02/1980,Chủ tịch,Lãnh đạo,\n");
    let res = upload(bad).await.unwrap();
    assert_eq!(res.status().as_u16(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("ds.csv, dòng 2, cột `birth_date`"), "{html}");

    let good = format!("{header}H51.01,Nguyễn Văn An,01/02/1980,Chủ tịch,Lãnh đạo,baocao:approver\n");
    let res = upload(good).await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.text().await.unwrap().contains("Đã nạp 1 người"));
    // The roster of the day leaves the page as a workbook, with the page's columns.
    let book = app.bytes_as("admin", "/roster/xlsx?at=01/07/2025&agency=H51.01").await;
    let sheet = common::named_sheet(&book, "Danh sách");
    let row = common::sheet_row(&sheet, 1, "Nguyễn Văn An");
    assert_eq!((row[0].as_str(), row[2].as_str(), row[3].as_str()), ("H51.01", "01/02/1980", "Chủ tịch"), "{sheet:?}");
    assert_eq!(app.text_as("viewer", "/roster/xlsx?at=01/07/2025").await.0, 403);

    let (status, page) = app.get("/accounts/plan?at=01/07/2025").await;
    assert_eq!(status, 200);
    let page = page.as_str().unwrap();
    assert!(
        page.contains("annv@qn.gov.vn") && page.contains("Tạo tài khoản") && page.contains("Lãnh đạo phê duyệt"),
        "{page}"
    );
    // The plans leave the page as the workbooks the command line writes.
    let plan = |system: &str| format!("/accounts/plan/xlsx?system={system}&at=2025-07-01&domain=qn.gov.vn");
    let book = app.bytes_as("admin", &plan("email")).await;
    let sheet = common::named_sheet(&book, "Kế hoạch");
    assert_eq!(common::sheet_row(&sheet, 1, "Nguyễn Văn An")[3], "annv@qn.gov.vn", "{sheet:?}");
    let book = app.bytes_as("admin", &plan("baocao")).await;
    let sheet = common::named_sheet(&book, "Kế hoạch");
    assert_eq!(common::sheet_row(&sheet, 1, "annv@qn.gov.vn")[0], "create", "{sheet:?}");
    let book = app.bytes_as("admin", &plan("signature")).await;
    // Forms 01 (officials) and 02 (agencies), as the command line writes them.
    let individuals = common::named_sheet(&book, "Mẫu 01");
    assert!(individuals[0][0].contains("CHO CÁ NHÂN"), "{individuals:?}");
    let sheet = common::named_sheet(&book, "Mẫu 02");
    assert!(sheet.iter().any(|r| r.iter().any(|c| c == "Mã định danh điện tử")), "{sheet:?}");
    assert_eq!(app.text_as("admin", &plan("fax")).await.0, 400);
    assert_eq!(app.text_as("viewer", &plan("email")).await.0, 403);
    let (status, _) =
        app.post("/accounts/apply", "application/x-www-form-urlencoded", "at=2025-07-01&domain=qn.gov.vn").await;
    assert_eq!(status, 303);
    let (_, page) = app.get("/accounts/plan?at=01/07/2025").await;
    assert!(page.as_str().unwrap().contains("Không có gì phải làm"));

    // The same through the REST API: a CSV roster in, the plans out.
    let csv = "agency_code,full_name,birth_date,position,post,roles\nH51.01,Ngô Văn An,02/03/1984,Công chức,Văn phòng,baocao:data_entry\n";
    let (status, summary) = app.post("/api/v1/roster?from=2025-08-01", "text/csv", csv).await;
    assert_eq!((status, summary["people_added"].as_u64(), summary["postings_ended"].as_u64()), (200, Some(1), Some(1)));
    let (_, email) = app.get("/api/v1/accounts/plan?system=email&at=2025-08-01").await;
    assert_eq!(email["accounts"][0]["address"], "annv2@qn.gov.vn", "annv is taken by the first An's account");
    let (_, steps) = app.get("/api/v1/accounts/plan?system=baocao&at=2025-08-01").await;
    let actions: Vec<&str> = steps["steps"].as_array().unwrap().iter().map(|s| s["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["create", "grant", "end", "read_only"], "{steps}");
    let (status, done) = app.post("/api/v1/accounts/apply?system=baocao&at=2025-08-01", "text/plain", "").await;
    assert_eq!((status, done["steps"].as_u64()), (200, Some(4)));
    // The account the plan made is mailed its activation link at its address.
    let outbox = app.db.db.outbox(50).await.unwrap();
    let mailed = outbox.iter().find(|m| m.recipient == "annv2@qn.gov.vn").expect("an activation mail");
    assert_eq!((mailed.template.as_str(), mailed.state.as_str()), ("activation", "pending"));
}

#[tokio::test]
async fn archive_packages_are_shown_read_only_to_who_may_see_the_unit() {
    let app = spawn().await;
    let info: Vec<(String, String)> = [
        ("Source-Organization", "Văn phòng UBND tỉnh"),
        ("Bag-Group-Identifier", "qn-2025"),
        ("External-Identifier", "23314"),
        ("Unit-Name", "Xã Kroong"),
        ("Unit-Valid-To", "2025-07-01"),
        ("Payload-Oxum", "52.1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let html = b"<html><script>alert(1)</script><p>BI\xc3\x8aN B\xe1\xba\xa2N</p></html>".to_vec();
    let file = baocao_store::archive::PackageFile {
        path: "data/bien-ban-ban-giao.html".into(),
        content: html,
        sha256: "x".into(),
    };
    let (id, new) = app.db.db.load_package("test", &info, std::slice::from_ref(&file)).await.unwrap();
    assert!(new);
    assert!(!app.db.db.load_package("test", &info, &[file]).await.unwrap().1, "loaded once");

    // Kroong is a predecessor of Ngọk Bay: its officer sees it, Sa Thầy's does not.
    let (status, list) = app.get_as(Some("ngokbay"), "/archive").await;
    assert!(status == 200 && list.as_str().unwrap().contains("Xã Kroong"));
    let (_, list) = app.get_as(Some("sathay"), "/archive").await;
    assert!(!list.as_str().unwrap().contains("Xã Kroong"));
    assert_eq!(app.get_as(Some("sathay"), &format!("/archive/{id}")).await.0, 403);
    let (status, page) = app.get_as(Some("ngokbay"), &format!("/archive/{id}")).await;
    assert!(status == 200 && page.as_str().unwrap().contains("Dữ liệu lưu trữ, chỉ xem"));
    let res = app
        .client
        .get(app.url(&format!("/archive/{id}/files/data/bien-ban-ban-giao.html")))
        .bearer_auth(app.token("ngokbay"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let csp = res.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.starts_with("sandbox"), "a loaded document cannot run script here: {csp}");
}

#[tokio::test]
async fn the_plans_page_puts_late_tasks_first() {
    let app = spawn().await;
    let task = |number: &str, deadline: &str| baocao_core::tasks::Task {
        plan: "KH 1".into(),
        number: number.into(),
        title: format!("Nhiệm vụ {number}"),
        lead: "Sở Nội vụ".into(),
        coordinating: String::new(),
        deadline: baocao_core::parse_date(deadline).unwrap(),
        product: String::new(),
        status: baocao_core::tasks::TaskStatus::InProgress,
        done_on: None,
        evidence: None,
    };
    app.db.db.import_tasks("test", &[task("1", "2099-12-31"), task("2", "2025-06-30")]).await.unwrap();
    let (status, page) = app.get_as(Some("viewer"), "/tasks").await;
    let page = page.as_str().unwrap().to_string();
    assert_eq!(status, 200);
    assert!(page.contains("1 nhiệm vụ quá hạn") && page.contains("30/06/2025"), "{page}");
    assert!(page.find("Nhiệm vụ 2").unwrap() < page.find("Nhiệm vụ 1").unwrap(), "the late one first");
    assert!(!page.contains("Cập nhật"), "a viewer does not update tasks");

    // Where a task stands is recorded from its row: done needs its day.
    let form = "application/x-www-form-urlencoded";
    let update = |who: &'static str, body: &'static str| {
        let app = &app;
        async move { app.post_as(Some(who), "/tasks", form, body).await.0 }
    };
    assert_eq!(update("viewer", "plan=KH+1&number=2&status=done&done_on=01%2F07%2F2025").await, 403);
    assert_eq!(update("admin", "plan=KH+1&number=2&status=done").await, 409);
    assert_eq!(update("admin", "plan=KH+1&number=2&status=done&done_on=31%2F02%2F2025").await, 400);
    assert_eq!(update("admin", "plan=KH+1&number=2&status=finished").await, 400);
    let done = "plan=KH+1&number=2&status=done&done_on=01%2F07%2F2025&evidence=C%C3%B4ng+v%C4%83n+123%2FVP";
    assert_eq!(update("admin", done).await, 303);
    let (_, page) = app.text_as("admin", "/tasks?done=1").await;
    assert!(page.contains("Đã cập nhật tình trạng nhiệm vụ.") && page.contains("0 nhiệm vụ quá hạn"), "{page}");
    assert!(page.contains("Công văn 123/VP") && page.contains("01/07/2025"), "{page}");
    let task = app.db.db.tasks().await.unwrap().into_iter().find(|t| t.number == "2").unwrap();
    assert_eq!(task.status, baocao_core::tasks::TaskStatus::Done);
}

#[tokio::test]
async fn a_filled_workbook_uploaded_on_the_report_page_is_saved_as_a_draft() {
    let app = spawn().await;
    let app = &app;
    let save = |values: &'static str| {
        let body = format!(
            r#"{{"regime":"BC_THANG_TTHC","unit":"23317","period":"202509","action":"save","values":{values}}}"#
        );
        async move { app.post_as(Some("ngokbay"), "/api/v1/reports", "application/json", &body).await.0 }
    };
    // The officer's workbook, filled offline with 40 dossiers received.
    assert_eq!(save(r#"{"HS_TIEP_NHAN":"40"}"#).await, 200);
    let filled = app.bytes_as("ngokbay", "/api/v1/reports/xlsx?regime=BC_THANG_TTHC&unit=23317&period=202509").await;
    // Meanwhile the draft says 7; the upload brings the workbook's 40 back.
    assert_eq!(save(r#"{"HS_TIEP_NHAN":"7"}"#).await, 200);
    let upload = |path: &'static str, bytes: Vec<u8>, who: &'static str| {
        let part = reqwest::multipart::Part::bytes(bytes).file_name("bao-cao.xlsx");
        let req = app
            .client
            .post(app.url(path))
            .bearer_auth(app.token(who))
            .multipart(reqwest::multipart::Form::new().part("file", part));
        async move {
            let res = req.send().await.unwrap();
            let redirect = res.headers().get("hx-redirect").map(|v| v.to_str().unwrap().to_string());
            (res.status().as_u16(), redirect, res.text().await.unwrap())
        }
    };
    let page = "/reports/BC_THANG_TTHC/23317/202509/xlsx";
    let (status, redirect, _) = upload(page, filled.clone(), "ngokbay").await;
    assert_eq!((status, redirect.as_deref()), (204, Some("/reports/BC_THANG_TTHC/23317/202509?done=upload")));
    let (_, report) =
        app.get_as(Some("ngokbay"), "/api/v1/reports?regime=BC_THANG_TTHC&unit=23317&period=202509").await;
    let received = report["rows"].as_array().unwrap().iter().find(|r| r["indicator"] == "HS_TIEP_NHAN").unwrap();
    assert_eq!(received["cells"]["this_period"], 40.0, "{report}");
    assert_eq!(report["status"], "draft");

    // The workbook of September uploaded on August's page: refused on the
    // page, saying which report the file is; nothing saved.
    let (status, _, html) = upload("/reports/BC_THANG_TTHC/23317/202508/xlsx", filled, "ngokbay").await;
    assert_eq!(status, 422);
    assert!(html.contains("không phải báo cáo đang mở") && html.contains("202509"), "{html}");
    // Not a workbook: the reader's problem, on the page.
    let (status, _, html) = upload(page, b"PK not really".to_vec(), "ngokbay").await;
    assert_eq!(status, 422);
    assert!(html.contains("bao-cao.xlsx"), "{html}");
    // Another commune's officer may not, whatever the file.
    assert_eq!(upload(page, Vec::new(), "sathay").await.0, 403);
}

#[tokio::test]
async fn a_report_climbs_a_two_level_chain_and_each_level_sees_its_queue() {
    let mut app = spawn().await;
    let mut regime = app.db.db.regime("BC_THANG_TTHC").await.unwrap();
    regime.code = "BC_HAI_CAP".into();
    regime.name = "Báo cáo hai cấp duyệt".into();
    regime.approval = vec![
        ApprovalLevel { name: "Lãnh đạo UBND xã".into(), role: Role::Approver, unit: None },
        ApprovalLevel { name: "Văn phòng UBND tỉnh".into(), role: Role::Approver, unit: Some("51".into()) },
    ];
    app.db.db.save_regime("test", &regime).await.unwrap();
    app.add_person("chutich", Role::Approver, Some("23317")).await;
    let body = |action: &str, extra: &str| {
        format!(r#"{{"regime":"BC_HAI_CAP","unit":"23317","period":"202509","action":"{action}"{extra}}}"#)
    };
    let post = |who: &'static str, body: String| {
        let app = &app;
        async move { app.post_as(Some(who), "/api/v1/reports", "application/json", &body).await }
    };
    let sent = body(
        "submit",
        r#","values":{"HS_TIEP_NHAN":"10","HS_DUNG_HAN":"9"},"signer":"Lê Văn C","position":"Chủ tịch""#,
    );
    assert_eq!(post("ngokbay", sent).await.0, 200);

    // The province waits for the commune's leaders: its approval is refused, naming the level.
    let (status, refused) = post("approver", body("approve", "")).await;
    assert_eq!(status, 403, "{refused}");
    assert!(refused["error"].as_str().unwrap().contains("cấp 1/2 (Lãnh đạo UBND xã)"), "{refused}");
    let review = |who: &'static str| {
        let app = &app;
        async move { app.text_as(who, "/review?regime=BC_HAI_CAP&period=202509").await.1 }
    };
    let queue = review("chutich").await;
    assert!(queue.contains(r#"value="23317""#));
    // The period picker goes back to the first report, however old.
    assert!(queue.contains(r#"<option value="202509" selected>"#), "{queue}");
    assert!(!review("approver").await.contains(r#"value="23317""#));
    let (_, first) = post("chutich", body("approve", "")).await;
    assert_eq!((first["status"].as_str(), first["approvals"].as_u64()), (Some("submitted"), Some(1)), "{first}");
    // Now it waits for the province, and the commune's leader cannot decide there too.
    assert_eq!(post("chutich", body("approve", "")).await.0, 403);
    assert!(!review("chutich").await.contains(r#"value="23317""#));
    let queue = review("approver").await;
    assert!(queue.contains(r#"value="23317""#) && queue.contains("chờ Văn phòng UBND tỉnh duyệt (cấp 2/2)"), "{queue}");
    let (_, c) = app.get("/api/v1/completeness?regime=BC_HAI_CAP&period=202509").await;
    assert_eq!((c["submitted"].as_u64(), c["approved"].as_u64()), (Some(1), Some(0)), "{c}");

    // The province approves its selection: first a page to confirm, then the approvals.
    let form = "application/x-www-form-urlencoded";
    let pick = "regime=BC_HAI_CAP&period=202509&unit=23317&unit=23302";
    let (status, confirm) = app.post_as(Some("approver"), "/review", form, pick).await;
    let confirm = confirm.as_str().unwrap().to_string();
    assert_eq!(status, 200);
    // 23302 sent nothing: it is not in the queue and not taken.
    assert!(confirm.contains("Xác nhận phê duyệt 1 báo cáo") && !confirm.contains("23302"), "{confirm}");
    let (_, shown) = app.get("/api/v1/reports?regime=BC_HAI_CAP&unit=23317&period=202509").await;
    assert_eq!(shown["status"], "submitted", "nothing is approved before the confirmation");
    let (status, done) = app.post_as(Some("approver"), "/review", form, &format!("{pick}&confirm=1")).await;
    assert_eq!(status, 200);
    assert!(done.as_str().unwrap().contains("Đã phê duyệt 1/1 báo cáo đã chọn."), "{done}");
    let (_, shown) = app.get("/api/v1/reports?regime=BC_HAI_CAP&unit=23317&period=202509").await;
    let history: Vec<_> = shown["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["actor"].as_str().unwrap(), r["level"].as_u64()))
        .collect();
    assert_eq!(history, [("ngokbay", None), ("chutich", Some(1)), ("approver", Some(2))]);
    assert_eq!(shown["status"], "approved");
    let (_, c) = app.get("/api/v1/completeness?regime=BC_HAI_CAP&period=202509").await;
    assert_eq!(c["approved"].as_u64(), Some(1));
    // The list narrows to a status and to units found without diacritics.
    let list = |filter: &'static str| {
        let app = &app;
        async move { app.text_as("viewer", &format!("/reports?regime=BC_HAI_CAP&period=202509&{filter}")).await }
    };
    let (_, approved) = list("status=approved").await;
    assert!(approved.contains("Ngọk Bay") && approved.contains(">1/96 đơn vị<"), "{approved}");
    let (_, found) = list("q=NGOK%20bay").await;
    assert!(found.contains("Ngọk Bay") && found.contains(">1/96 đơn vị<"), "{found}");
    let (_, none) = list("status=missing&q=ngok%20bay").await;
    assert!(!none.contains("Ngọk Bay") && none.contains(">0/96 đơn vị<"), "{none}");
    assert_eq!(list("status=lost").await.0, 400);
    // Each count of «Tiến độ» opens the list of exactly those units.
    let (_, progress) = app.text_as("viewer", "/completeness?regime=BC_HAI_CAP&period=202509").await;
    for (id, filter, count) in [("approved", "approved", 1), ("submitted", "sent", 1), ("missing", "unsent", 95)] {
        let link =
            format!("/reports?regime=BC_HAI_CAP&amp;period=202509&amp;status={filter}\"><strong id=\"{id}\">{count}<");
        assert!(progress.contains(&link), "{id}: {progress}");
        let (_, listed) =
            app.text_as("viewer", &format!("/reports?regime=BC_HAI_CAP&period=202509&status={filter}")).await;
        assert!(listed.contains(&format!(">{count}/96 đơn vị<")), "{filter}: {listed}");
    }
    let (_, page) = app.text_as("viewer", "/reports/BC_HAI_CAP/23317/202509").await;
    assert!(page.contains("Phê duyệt (cấp 2: Văn phòng UBND tỉnh)"), "{page}");

    // Only the last level undoes its approval.
    let reopen = body("reopen", r#","reason":"Sai số liệu""#);
    assert_eq!(post("chutich", reopen.clone()).await.0, 403);
    assert_eq!(post("approver", reopen).await.0, 200);
    // Nobody approves their own submission, not even the administrator.
    let sent = body("submit", r#","signer":"Lê Văn C","position":"Chủ tịch""#);
    assert_eq!(post("admin", sent).await.0, 200);
    let (status, refused) = post("admin", body("approve", "")).await;
    assert_eq!(status, 409);
    assert!(refused["error"].as_str().unwrap().contains("tự phê duyệt"), "{refused}");
    // Its queue says why, offers no box to tick, and a selection naming it takes nothing.
    let queue = review("admin").await;
    assert!(queue.contains("tự phê duyệt") && !queue.contains(r#"value="23317""#), "{queue}");
    let (status, _) = app.post_as(Some("admin"), "/review", form, &format!("{pick}&confirm=1")).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn indicators_are_imported_from_the_browser_all_or_nothing() {
    let app = spawn().await;
    let upload = |name: &'static str, text: String| {
        let app = &app;
        async move {
            let form = reqwest::multipart::Form::new()
                .part("file", reqwest::multipart::Part::bytes(text.into_bytes()).file_name(name));
            let res = app.client.post(app.url("/indicators")).bearer_auth(app.token("admin")).multipart(form);
            let res = res.send().await.unwrap();
            (res.status().as_u16(), res.text().await.unwrap())
        }
    };
    let header = "code,name,unit,value_type,aggregation,group,formula\n";
    // One bad row refuses the whole list, naming file, row and column.
    let row = "CAY_XANH,Số cây xanh trồng mới,cây,integer_zero_or_positive,sum,Môi trường,\n";
    let bad = format!("{header}{row}X,Sai,cái,giant,sum,,\n");
    let (status, page) = upload("chi-tieu.csv", bad).await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("chi-tieu.csv") && page.contains("không có gì thay đổi"), "{page}");
    let (_, list) = app.text_as("viewer", "/indicators?q=cay+xanh").await;
    assert!(!list.contains("CAY_XANH"), "nothing of a refused list is kept");
    let good = format!("{header}{row}");
    let (status, page) = upload("chi-tieu.csv", good).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("1 chỉ tiêu mới, 0 chỉ tiêu cập nhật"), "{page}");
    let (_, list) = app.text_as("viewer", "/indicators?q=cay+xanh").await;
    assert!(list.contains("CAY_XANH") && !list.contains("Nạp danh sách chỉ tiêu"), "a viewer has no upload form");
}

#[tokio::test]
async fn a_request_reaches_its_units_and_is_followed_until_closed() {
    let mut app = spawn().await;
    let form = "application/x-www-form-urlencoded";
    let year = chrono::Datelike::year(&baocao_core::today_in_vietnam());
    let code = format!("DX-{year}-001");
    let basis = "legal_basis=C%C3%B4ng+v%C4%83n+s%E1%BB%91+123%2FUBND-VP";
    let request_for = |period: &str, units: &str, basis: &str| {
        format!(
            "kind=ad_hoc&name=B%C3%A1o+c%C3%A1o+nhanh+m%C6%B0a+l%C5%A9&form=BM01&period={period}&deadline=31%2F12%2F2099&{basis}&units={units}"
        )
    };
    let request = |units: &str, basis: &str| request_for("15%2F08%2F2025", units, basis);
    // Every field is checked before anything is stored, and named.
    let (status, page) = app.post_as(Some("admin"), "/requests", form, &request("23317", "legal_basis=+")).await;
    assert_eq!(status, 409, "{page}");
    assert!(page.as_str().unwrap().contains("căn cứ"), "{page}");
    let (status, page) = app.post_as(Some("admin"), "/requests", form, &request("99999", basis)).await;
    assert_eq!(status, 400);
    assert!(page.as_str().unwrap().contains("Đơn vị nhận «99999»"), "{page}");
    let (status, _) = app.post_as(Some("admin"), "/requests", form, &request("", basis)).await;
    assert_eq!(status, 400);
    // Whoever sends within a province sends nowhere else (00004: Hà Nội).
    app.add_person("tinh", Role::SystemAdmin, Some("51")).await;
    let (status, _) = app.post_as(Some("tinh"), "/requests", form, &request("23317%0A00004", basis)).await;
    assert_eq!(status, 403);
    // The month's figures are the monthly regime's: one figure a unit, an
    // indicator and a period, never changed through another report.
    let (status, page) = app.post_as(Some("tinh"), "/requests", form, &request_for("08%2F2025", "23317", basis)).await;
    assert_eq!(status, 409);
    assert!(page.as_str().unwrap().contains("theo «Báo cáo tháng"), "{page}");
    assert!(app.db.db.regimes().await.unwrap().iter().all(|r| r.request.is_none()), "nothing refused is stored");

    // Sent to two communes, the second picked as the picker writes it.
    let (status, _) =
        app.post_as(Some("tinh"), "/requests", form, &request("23317%0A23527+X%C3%A3+Sa+Th%E1%BA%A7y", basis)).await;
    assert_eq!(status, 303);
    let (_, home) = app.text_as("ngokbay", "/").await;
    assert!(home.contains(&format!("Đề nghị báo cáo đột xuất {code}: Báo cáo nhanh mưa lũ")), "{home}");
    // Each sees its own unit only: Ngọk Bay's officer learns nothing of Sa Thầy.
    let (_, list) = app.text_as("ngokbay", "/requests").await;
    assert!(list.contains(&code) && list.contains(">0/1<") && !list.contains("Gửi đề nghị"), "{list}");
    let (_, list) = app.text_as("tinh", "/requests").await;
    assert!(list.contains(">0/2<") && list.contains("Gia hạn"), "{list}");
    // The picker offers the units the sender may send to, findable without
    // diacritics, and nothing beyond its province.
    assert!(list.contains(r#"<option value="23317" label="Xã Ngọk Bay · xa ngok bay">"#), "{list}");
    assert!(!list.contains(r#"<option value="00004""#), "{list}");
    // On the comparison page too, within what the account may see.
    let (_, compare) = app.text_as("ngokbay", "/compare?unit=23317").await;
    assert!(compare.contains(r#"<option value="23317""#) && !compare.contains(r#"<option value="23527""#), "{compare}");

    // The request asks for its one period; a regime for its periodicity.
    let act = |who: &'static str, regime: &str, unit: &str, period: &str, action: &str| {
        let values = if action == "approve" { "" } else { r#","values":{"HS_TIEP_NHAN":"10","HS_DUNG_HAN":"9"}"# };
        let body = format!(
            r#"{{"regime":"{regime}","unit":"{unit}","period":"{period}","action":"{action}","signer":"Lê Văn C","position":"Chủ tịch"{values}}}"#
        );
        let app = &app;
        async move { app.post_as(Some(who), "/api/v1/reports", "application/json", &body).await }
    };
    let (status, body) = act("ngokbay", &code, "23317", "202508", "save").await;
    assert_eq!(status, 409);
    assert!(body.to_string().contains("chỉ hỏi số liệu ngày 15/08/2025"), "{body}");
    let (status, body) = act("ngokbay", "BC_THANG_TTHC", "23317", "2025Q3", "save").await;
    assert_eq!(status, 409, "a monthly regime takes no quarter: {body}");
    assert_eq!(act("ngokbay", &code, "23317", "20250815", "submit").await.0, 200);
    let (_, c) = app.get_as(Some("tinh"), &format!("/api/v1/completeness?regime={code}&period=20250815")).await;
    assert_eq!((c["expected"].as_u64(), c["submitted"].as_u64()), (Some(2), Some(1)), "{c}");

    // Extended (only later), then closed: nothing more is taken but the
    // approval of what was sent.
    let extend = |who: &'static str, day: &'static str| {
        let (app, url) = (&app, format!("/requests/{code}/extend"));
        async move { app.post_as(Some(who), &url, form, &format!("deadline={day}")).await.0 }
    };
    assert_eq!(extend("tinh", "01%2F01%2F2020").await, 409);
    assert_eq!(extend("approver", "01%2F01%2F2100").await, 403);
    assert_eq!(extend("tinh", "01%2F01%2F2100").await, 303);
    let (_, list) = app.text_as("tinh", "/requests").await;
    assert!(list.contains("01/01/2100") && list.contains("gia hạn từ 31/12/2099"), "{list}");
    let close = format!("/requests/{code}/close");
    assert_eq!(app.post_as(Some("tinh"), &close, form, "").await.0, 303);
    let (status, body) = act("sathay", &code, "23527", "20250815", "save").await;
    assert_eq!(status, 409);
    assert!(body.to_string().contains("đã kết thúc"), "{body}");
    let (status, body) = act("approver", &code, "23317", "20250815", "approve").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(app.post_as(Some("tinh"), &close, form, "").await.0, 409, "closed once");
    assert_eq!(extend("tinh", "02%2F01%2F2100").await, 409, "a closed request is not extended");
    let (_, home) = app.text_as("sathay", "/").await;
    assert!(!home.contains(&code), "a closed request is nobody's task: {home}");
    let (_, report) = app.text_as("ngokbay", &format!("/reports/{code}/23317/20250815")).await;
    assert!(report.contains("Đề nghị đã kết thúc ngày"), "{report}");
    let filter = baocao_store::audit::AuditFilter { action: Some("request.".into()), limit: 50, ..Default::default() };
    let actions: Vec<String> = app.db.db.audit_records(&filter).await.unwrap().into_iter().map(|r| r.action).collect();
    for action in ["request.send", "request.extend", "request.close"] {
        assert!(actions.iter().any(|a| a == action), "{action} in {actions:?}");
    }
}

#[tokio::test]
async fn a_regime_is_written_in_the_browser_with_its_units_and_periods_previewed() {
    let app = spawn().await;
    let form = "application/x-www-form-urlencoded";
    let encode = |toml: &str| serde_urlencoded::to_string([("definition", toml)]).unwrap();
    let (status, page) = app.text_as("admin", "/regimes/editor?code=BC_THANG_TTHC").await;
    assert_eq!(status, 200);
    assert!(page.contains("code = &#34;BC_THANG_TTHC&#34;"), "{page}");
    // A quarterly regime of the province's communes, in two levels.
    let regime = r#"
code = "BC_QUY_MOI"
name = "Báo cáo quý thử nghiệm"
form = "BM01"
periodicity = "quarterly"
deadline_days_after_cutoff = 5
[units]
under = "51"
kinds = ["xã", "phường", "đặc khu"]
[[approval]]
name = "Lãnh đạo UBND xã"
[[approval]]
name = "Văn phòng UBND tỉnh"
unit = "51"
"#;
    let (status, preview) = app.post_as(Some("admin"), "/regimes/editor/preview", form, &encode(regime)).await;
    let preview = preview.as_str().unwrap().to_string();
    assert_eq!(status, 200);
    assert!(preview.contains(": 96 đơn vị báo cáo, hạn gửi"), "{preview}");
    assert!(preview.contains("Xã Ba Tơ") && preview.contains("… và 56 đơn vị khác"), "{preview}");
    assert!(preview.contains("1. Lãnh đạo UBND xã") && preview.contains("Quý IV/"), "{preview}");
    // Every problem is named before anything is saved.
    let wrong = regime.replace("\"BM01\"", "\"BM99\"").replace("unit = \"51\"", "unit = \"99\"");
    let (status, page) = app.post_as(Some("admin"), "/regimes/editor", form, &encode(&wrong)).await;
    let page = page.as_str().unwrap().to_string();
    assert_eq!(status, 422);
    assert!(page.contains("Không có biểu mẫu «BM99»") && page.contains("ở đơn vị «99»"), "{page}");
    assert!(app.db.db.regime("BC_QUY_MOI").await.is_err(), "nothing saved");
    let (status, _) = app.post_as(Some("viewer"), "/regimes/editor", form, &encode(regime)).await;
    assert_eq!(status, 403);
    let (status, _) = app.post_as(Some("admin"), "/regimes/editor", form, &encode(regime)).await;
    assert_eq!(status, 303);
    let saved = app.db.db.regime("BC_QUY_MOI").await.unwrap();
    assert_eq!((saved.approval.len(), saved.units.under.as_deref()), (2, Some("51")));
    let (_, list) = app.text_as("admin", "/regimes?saved=BC_QUY_MOI").await;
    assert!(
        list.contains("Đã lưu chế độ báo cáo BC_QUY_MOI") && list.contains("/regimes/editor?code=BC_QUY_MOI"),
        "{list}"
    );
}

#[tokio::test]
async fn accounts_are_found_by_name_without_diacritics_and_by_status() {
    let app = spawn().await;
    let row = |name: &str| format!(r#"<td class="code">{name}"#);
    let (status, page) = app.text_as("admin", "/admin/accounts?q=nguoi+dung+sat").await;
    assert_eq!(status, 200);
    assert!(page.contains(&row("sathay")) && !page.contains(&row("ngokbay")), "{page}");
    assert!(page.contains(r#"<p class="summary" id="shown">1/6 tài khoản</p>"#), "{page}");
    let (_, page) = app.text_as("admin", "/admin/accounts?q=ngok").await;
    assert!(page.contains(&row("ngokbay")) && !page.contains(&row("sathay")), "by username: {page}");
    let form = "application/x-www-form-urlencoded";
    assert_eq!(app.post_as(Some("admin"), "/admin/accounts/state", form, "username=viewer&active=false").await.0, 303);
    let (_, page) = app.text_as("admin", "/admin/accounts?status=closed").await;
    assert!(page.contains(&row("viewer")) && !page.contains(&row("admin")), "{page}");
    let (_, page) = app.text_as("admin", "/admin/accounts?status=open").await;
    assert!(!page.contains(&row("viewer")) && page.contains("5/6 tài khoản"), "{page}");
    assert_eq!(app.text_as("admin", "/admin/accounts?status=deleted").await.0, 400);
    // Grants are given on units picked by name; a unit administrator is
    // offered only its own subtree.
    assert!(page.contains(r#"<option value="23317" label="Xã Ngọk Bay · xa ngok bay">"#), "{page}");
    let (_, page) = app.text_as("unitadmin", "/admin/accounts").await;
    assert!(page.contains(r#"<option value="23317""#) && !page.contains(r#"<option value="23527""#), "{page}");
}

#[tokio::test]
async fn requests_through_the_api_answer_as_the_page_does() {
    let mut app = spawn().await;
    app.add_person("tinh", Role::SystemAdmin, Some("51")).await;
    let json = "application/json";
    let body = |kind: &str, units: &str| {
        format!(
            r#"{{"kind":"{kind}","name":"Báo cáo chuyên đề chuyển đổi số","form":"BM01","period":"Quý III/2025","deadline":"31/12/2099","legal_basis":"Kế hoạch số 7/KH-UBND","units":{units}}}"#
        )
    };
    let (status, refused) = app.post_as(Some("tinh"), "/api/v1/requests", json, &body("urgent", r#"["23317"]"#)).await;
    assert_eq!(status, 400);
    assert!(refused["error"].as_str().unwrap().contains("Loại đề nghị «urgent»"), "{refused}");
    assert_eq!(app.post_as(Some("tinh"), "/api/v1/requests", json, &body("thematic", r#"["00004"]"#)).await.0, 403);
    let (status, sent) =
        app.post_as(Some("tinh"), "/api/v1/requests", json, &body("thematic", r#"["23317","23527"]"#)).await;
    assert_eq!(status, 201, "{sent}");
    let year = chrono::Datelike::year(&baocao_core::today_in_vietnam());
    let code = format!("CD-{year}-001");
    assert_eq!(
        (sent["code"].as_str(), sent["period"].as_str(), sent["recipients"].as_u64()),
        (Some(code.as_str()), Some("2025Q3"), Some(2))
    );
    // Each recipient sees it with its own unit only; others do not see it.
    let (_, mine) = app.get_as(Some("ngokbay"), "/api/v1/requests").await;
    assert_eq!((mine[0]["code"].as_str(), mine[0]["recipients"].as_u64()), (Some(code.as_str()), Some(1)), "{mine}");
    app.add_person("hanoi", Role::Viewer, Some("01")).await;
    assert_eq!(app.get_as(Some("hanoi"), "/api/v1/requests").await.1, serde_json::json!([]));
    let extend = format!("/api/v1/requests/{code}/extend");
    let (status, extended) = app.post_as(Some("tinh"), &extend, json, r#"{"deadline":"2100-01-01"}"#).await;
    assert_eq!(
        (status, extended["extended_from"].as_str(), extended["deadline"].as_str()),
        (200, Some("2099-12-31"), Some("2100-01-01"))
    );
    let (status, closed) = app.post_as(Some("tinh"), &format!("/api/v1/requests/{code}/close"), json, "").await;
    assert_eq!(status, 200);
    assert_eq!(closed["closed_on"].as_str(), Some(baocao_core::today_in_vietnam().to_string().as_str()));
    assert_eq!(app.post_as(Some("tinh"), &extend, json, r#"{"deadline":"2100-02-01"}"#).await.0, 409);
}

#[tokio::test]
async fn departments_report_on_their_own_regime_in_two_levels_and_stay_out_of_the_units_totals() {
    use baocao_core::directory::Agency;
    let mut app = spawn().await;
    let agency = |code: &str, name: &str, kind: &str, unit: &str| Agency {
        code: code.into(),
        name: name.into(),
        kind: kind.into(),
        parent_code: None,
        unit_code: Some(unit.into()),
        valid_from: None,
        valid_to: None,
        successor_codes: Vec::new(),
        archive: None,
    };
    let agencies = [
        agency("H51.S01", "Sở Nội vụ", "sở", "51"),
        agency("H51.S02", "Sở Tư pháp", "sở", "51"),
        agency("H51.X23317", "Ủy ban nhân dân xã Ngọk Bay", "UBND xã", "23317"),
    ];
    app.db.db.import_agencies("test", &agencies).await.unwrap();
    let mut regime: baocao_core::regime::Regime = baocao_ingest::definitions::read_toml(
        "so.toml",
        r#"
code = "BC_SO"
name = "Báo cáo tháng của các sở"
form = "BM01"
periodicity = "monthly"
deadline_days_after_cutoff = 5
[agencies]
kinds = ["Sở"]
under = "51"
[[approval]]
name = "Lãnh đạo sở"
[[approval]]
name = "Văn phòng UBND tỉnh"
unit = "51"
"#,
    )
    .unwrap();
    app.db.db.save_regime("test", &regime).await.unwrap();
    app.add_person("so.nhaplieu", Role::DataEntry, Some("H51.S02")).await;
    app.add_person("so.lanhdao", Role::Approver, Some("H51.S02")).await;

    // The departments, and only they, are expected; the communes' regime still lists its 96.
    let (_, c) = app.get("/api/v1/completeness?regime=BC_SO&period=202509").await;
    let listed: Vec<&str> = c["units"].as_array().unwrap().iter().map(|u| u["name"].as_str().unwrap()).collect();
    assert_eq!(listed, ["Sở Nội vụ", "Sở Tư pháp"], "{c}");
    let (_, c) = app.get("/api/v1/completeness?regime=BC_THANG_TTHC&period=202509").await;
    assert_eq!(c["expected"], 96);
    let (_, units) = app.get("/api/v1/units?at=2025-07-01&under=51").await;
    assert_eq!(units.as_array().unwrap().len(), 96, "agencies are not units");
    let (_, found) = app.get("/api/v1/search?q=tu%20phap").await;
    assert_eq!(found.as_array().map(Vec::len), Some(0), "{found}");
    let (_, before) = app.get("/api/v1/values?indicator=HS_TIEP_NHAN&unit=51&period=202509").await;

    let act = |who: &'static str, unit: &'static str, action: &'static str| {
        let values = if action == "approve" { "" } else { r#","values":{"HS_TIEP_NHAN":"500","HS_DUNG_HAN":"480"}"# };
        let body = format!(
            r#"{{"regime":"BC_SO","unit":"{unit}","period":"202509","action":"{action}","signer":"Trần Văn D","position":"Giám đốc"{values}}}"#
        );
        let app = &app;
        async move { app.post_as(Some(who), "/api/v1/reports", "application/json", &body).await }
    };
    // A department's officer sends its own report, not another's; a commune's officer neither.
    assert_eq!(act("so.nhaplieu", "H51.S01", "save").await.0, 403);
    assert_eq!(act("ngokbay", "H51.S02", "save").await.0, 403);
    assert_eq!(act("so.nhaplieu", "H51.S02", "submit").await.0, 200);
    // The provincial office waits for the director; the director decides first.
    assert_eq!(act("approver", "H51.S02", "approve").await.0, 403);
    assert_eq!(act("so.lanhdao", "H51.S02", "approve").await.0, 200);
    let (status, done) = act("approver", "H51.S02", "approve").await;
    assert_eq!((status, done["status"].as_str()), (200, Some("approved")), "{done}");
    // Whoever reads the province reads its departments; another commune does not.
    let report = "/api/v1/reports?regime=BC_SO&unit=H51.S02&period=202509";
    assert_eq!(app.get_as(Some("viewer"), report).await.0, 200);
    assert_eq!(app.get_as(Some("sathay"), report).await.0, 403);
    let (_, page) = app.text_as("viewer", "/units/H51.S02").await;
    assert!(page.contains("mã H51.S02 · cơ quan (sở, phục vụ đơn vị 51)"), "{page}");
    let (_, page) = app.text_as("viewer", "/reports/BC_SO/H51.S02/202509").await;
    assert!(page.contains("Sở Tư pháp (H51.S02) · cơ quan phục vụ Tỉnh Quảng Ngãi"), "{page}");
    let (_, page) = app.text_as("viewer", "/reports?regime=BC_SO&period=202509").await;
    assert!(page.contains("Sở Tư pháp") && page.contains(">2/2 đơn vị<"), "{page}");
    // Consolidated department by department over the province; an area
    // total, which composes units, is refused for agencies.
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/demo/form-th02.toml");
    let by_unit =
        std::fs::read_to_string(demo).unwrap().replace("\"TH02\"", "\"TH_SO\"").replace("BC_THANG_TTHC", "BC_SO");
    let form: baocao_core::form::Form = baocao_ingest::definitions::read_toml("th-so.toml", &by_unit).unwrap();
    app.db.db.save_form("test", &form).await.unwrap();
    let (status, output) = app.get_as(Some("viewer"), "/api/v1/output?form=TH_SO&unit=51&period=202509").await;
    assert_eq!(status, 200, "{output}");
    let rows: Vec<(&str, Option<f64>)> = output["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["label"].as_str().unwrap(), r["cells"][0].as_f64()))
        .collect();
    assert_eq!(rows, [("Sở Nội vụ", None), ("Sở Tư pháp", Some(500.0))], "{output}");
    let total = by_unit.replace("\"TH_SO\"", "\"TH_SO_TONG\"").replace("by_unit", "total");
    let form: baocao_core::form::Form = baocao_ingest::definitions::read_toml("th-so-tong.toml", &total).unwrap();
    app.db.db.save_form("test", &form).await.unwrap();
    let (status, refused) = app.get_as(Some("viewer"), "/api/v1/output?form=TH_SO_TONG&unit=51&period=202509").await;
    assert_eq!(status, 409);
    assert!(refused["error"].as_str().unwrap().contains("by_unit"), "{refused}");
    // The department's figures are its own: the province's total of its communes does not change.
    let (_, after) = app.get("/api/v1/values?indicator=HS_TIEP_NHAN&unit=51&period=202509").await;
    assert_eq!(before["value"], after["value"], "{before} {after}");

    // A regime whose agencies give the province's figures: once their
    // report counts, the province's figure is theirs, not its communes' sum.
    use baocao_core::regime::{About, AgencySelector};
    let mut province_wide = regime.clone();
    province_wide.code = "BC_SO_TINH".into();
    province_wide.agencies =
        Some(AgencySelector { codes: vec!["H51.S01".into()], about: About::Province, ..Default::default() });
    province_wide.approval.clear();
    app.db.db.save_regime("test", &province_wide).await.unwrap();
    let file = |regime: &'static str, unit: &'static str, action: &'static str, received: &'static str| {
        let body = format!(
            r#"{{"regime":"{regime}","unit":"{unit}","period":"202509","action":"{action}","signer":"Trần Văn D","position":"Giám đốc","values":{{"HS_TIEP_NHAN":"{received}","HS_DUNG_HAN":"1"}}}}"#
        );
        let app = &app;
        async move { app.post_as(Some("admin"), "/api/v1/reports", "application/json", &body).await.0 }
    };
    assert_eq!(file("BC_SO_TINH", "H51.S01", "submit", "7000").await, 200);
    let province = "/api/v1/values?indicator=HS_TIEP_NHAN&unit=51&period=202509";
    let (_, official) = app.get(province).await;
    assert_eq!(official["value"], before["value"], "a submitted report does not count yet: {official}");
    let (_, counted) = app.get(&format!("{province}&include_submitted=true")).await;
    assert_eq!((counted["value"].as_f64(), counted["estimated"].as_bool()), (Some(7000.0), Some(false)), "{counted}");
    assert_eq!(counted["sources"][0]["unit"], "H51.S01", "{counted}");
    assert_eq!(counted["sources"].as_array().map(Vec::len), Some(1), "{counted}");
    let (_, commune_before) = app.get("/api/v1/values?indicator=HS_TIEP_NHAN&unit=23317&period=202509").await;
    let approve = r#"{"regime":"BC_SO_TINH","unit":"H51.S01","period":"202509","action":"approve"}"#;
    assert_eq!(app.post_as(Some("approver"), "/api/v1/reports", "application/json", approve).await.0, 200);
    let (_, official) = app.get(province).await;
    assert_eq!(official["value"].as_f64(), Some(7000.0), "{official}");
    // A table summed by the database (as a national table is) leaves the
    // indicators the agencies filed to the general way: the province's
    // figure is still the department's, the same as in a table read into
    // memory, while an indicator no report files is summed.
    let csv = "dataelement,period,orgunit,catoptcombo,attroptcombo,value\nTHU_NGAN_SACH,202509,23317,default,,123.5\n";
    assert_eq!(app.post("/api/v1/dataValueSets", "text/csv", csv).await.1["status"], "SUCCESS");
    let table = "/api/v1/values/table?indicators=HS_TIEP_NHAN,THU_NGAN_SACH&org_unit=51&period=202509\
                 &structure_at=2025-09-30&format=json";
    app.db.db.sum_tables_above(usize::MAX);
    let (status, in_memory) = app.get(table).await;
    assert_eq!(status, 200, "{in_memory}");
    app.db.db.sum_tables_above(0);
    let (_, summed) = app.get(table).await;
    app.db.db.sum_tables_above(usize::MAX);
    assert_eq!(summed, in_memory);
    let cell = |indicator: &str| {
        let mut rows = summed.as_array().unwrap().iter().filter(|r| r["indicator"] == indicator && r["unit"] == "51");
        rows.next().and_then(|r| r["value"].as_f64())
    };
    assert_eq!((cell("HS_TIEP_NHAN"), cell("THU_NGAN_SACH")), (Some(7000.0), Some(123.5)), "{summed}");
    let (_, page) = app.text_as("viewer", "/reports/BC_SO_TINH/H51.S01/202509").await;
    assert!(page.contains("Số liệu của báo cáo này là số liệu của Tỉnh Quảng Ngãi"), "{page}");
    let (_, page) = app.text_as("viewer", "/reports/BC_SO/H51.S02/202509").await;
    assert!(!page.contains("Số liệu của báo cáo này là số liệu"), "own figures say nothing: {page}");
    // A commune's committee giving its commune's figures: the commune's
    // figure is the committee's, in the commune's page and in its area's.
    let mut commune_wide = province_wide.clone();
    commune_wide.code = "BC_UBND_XA_DIABAN".into();
    commune_wide.agencies =
        Some(AgencySelector { codes: vec!["H51.X23317".into()], about: About::Area, ..Default::default() });
    app.db.db.save_regime("test", &commune_wide).await.unwrap();
    assert_eq!(file("BC_UBND_XA_DIABAN", "H51.X23317", "submit", "41").await, 200);
    let commune = "/api/v1/values?indicator=HS_TIEP_NHAN&unit=23317&period=202509&include_submitted=true";
    let (_, v) = app.get(commune).await;
    assert_eq!((v["value"].as_f64(), v["sources"][0]["unit"].as_str()), (Some(41.0), Some("H51.X23317")), "{v}");
    assert_ne!(commune_before["value"].as_f64(), Some(41.0), "{commune_before}");
    // A commune's committee is within its commune's grants.
    regime.code = "BC_UBND_XA".into();
    regime.agencies =
        Some(baocao_core::regime::AgencySelector { kinds: vec!["UBND xã".into()], ..Default::default() });
    regime.approval.clear();
    app.db.db.save_regime("test", &regime).await.unwrap();
    let xa = "/api/v1/reports?regime=BC_UBND_XA&unit=H51.X23317&period=202509";
    assert_eq!(app.get_as(Some("ngokbay"), xa).await.0, 200);
    assert_eq!(app.get_as(Some("sathay"), xa).await.0, 403);

    // Two departments merged into a new one on 01/03/2025: their reports
    // follow it, as units' do (whole: one successor each, so exact).
    let ended = |code: &str, name: &str| Agency {
        valid_to: Some("2025-03-01".parse().unwrap()),
        successor_codes: vec!["H51.S07".into()],
        ..agency(code, name, "sở", "51")
    };
    let merged = Agency {
        valid_from: Some("2025-03-01".parse().unwrap()),
        ..agency("H51.S07", "Sở Nội vụ (mới)", "sở", "51")
    };
    app.db
        .db
        .import_agencies("test", &[ended("H51.S05", "Sở Lao động"), ended("H51.S06", "Sở Nội vụ (cũ)"), merged])
        .await
        .unwrap();
    // January 2025's report of a department, sent with `received` dossiers.
    let send_january = |unit: &'static str, received: &'static str| {
        let body = format!(
            r#"{{"regime":"BC_SO","unit":"{unit}","period":"202501","action":"submit","signer":"Trần Văn D","position":"Giám đốc","values":{{"HS_TIEP_NHAN":"{received}","HS_DUNG_HAN":"1"}}}}"#
        );
        let app = &app;
        async move { app.post_as(Some("admin"), "/api/v1/reports", "application/json", &body).await.0 }
    };
    assert_eq!(send_january("H51.S05", "30").await, 200);
    assert_eq!(send_january("H51.S06", "12").await, 200);
    let (_, v) = app
        .get("/api/v1/values?indicator=HS_TIEP_NHAN&unit=H51.S07&period=202501&structure_at=2025-07-01&include_submitted=true")
        .await;
    assert_eq!((v["value"].as_f64(), v["estimated"].as_bool()), (Some(42.0), Some(false)), "{v}");
    let (_, lineage) = app.get("/api/v1/units/H51.S05/lineage?at=2025-02-01").await;
    assert_eq!(lineage["successors"][0]["code"], "H51.S07", "{lineage}");
    // A department that absorbs another keeps its code, as a new version
    // from that day: both old versions' reports follow it.
    let absorbing_old = Agency {
        valid_to: Some("2025-03-01".parse().unwrap()),
        successor_codes: vec!["H51.S08".into()],
        ..agency("H51.S08", "Sở Tài chính", "sở", "51")
    };
    let absorbed = Agency {
        valid_to: Some("2025-03-01".parse().unwrap()),
        successor_codes: vec!["H51.S08".into()],
        ..agency("H51.S09", "Sở Kế hoạch và Đầu tư", "sở", "51")
    };
    let absorbing_new = Agency {
        valid_from: Some("2025-03-01".parse().unwrap()),
        ..agency("H51.S08", "Sở Tài chính", "sở", "51")
    };
    let alone = Agency { successor_codes: vec!["H51.S10".into()], ..agency("H51.S10", "Sở X", "sở", "51") };
    assert!(app.db.db.import_agencies("test", &[alone]).await.is_err(), "succeeding itself needs a new version");
    app.db.db.import_agencies("test", &[absorbing_old, absorbed, absorbing_new]).await.unwrap();
    assert_eq!(send_january("H51.S08", "5").await, 200);
    assert_eq!(send_january("H51.S09", "7").await, 200);
    let (_, v) = app
        .get("/api/v1/values?indicator=HS_TIEP_NHAN&unit=H51.S08&period=202501&structure_at=2025-07-01&include_submitted=true")
        .await;
    assert_eq!((v["value"].as_f64(), v["estimated"].as_bool()), (Some(12.0), Some(false)), "{v}");
    // A request goes to units and agencies alike.
    let request = r#"{"kind":"ad_hoc","name":"Báo cáo nhanh","form":"BM01","period":"15/08/2025","deadline":"31/12/2099","legal_basis":"CV 9","units":["23317","H51.S02"]}"#;
    let (status, sent) = app.post_as(Some("admin"), "/api/v1/requests", "application/json", request).await;
    assert_eq!((status, sent["recipients"].as_u64()), (201, Some(2)), "{sent}");
    let (_, home) = app.text_as("so.nhaplieu", "/").await;
    assert!(home.contains("Báo cáo nhanh"), "the department's officer has the request among its tasks: {home}");
    // Whoever holds the new department reads its predecessors' reports.
    app.add_person("noivu", Role::Viewer, Some("H51.S07")).await;
    assert_eq!(app.get_as(Some("noivu"), "/api/v1/reports?regime=BC_SO&unit=H51.S05&period=202501").await.0, 200);
    assert_eq!(app.get_as(Some("so.nhaplieu"), "/api/v1/reports?regime=BC_SO&unit=H51.S05&period=202501").await.0, 403);
}

#[tokio::test]
async fn a_roster_grants_a_department_its_own_reports_when_it_says_at_agency() {
    let app = spawn().await;
    let (status, _) =
        app.post("/api/v1/agencies", "text/csv", "code,name,kind,unit_code\nH51.S02,Sở Tư pháp,sở,51\n").await;
    assert_eq!(status, 200);
    let roster = |director: &str| {
        format!(
            "agency_code,full_name,birth_date,position,post,roles\n\
             H51.S02,Trần Văn Đức,02/03/1975,Giám đốc,Lãnh đạo,baocao:{director}\n\
             H51.S02,Lê Thị Hoa,04/05/1990,Chuyên viên,Văn phòng,baocao:data_entry\n"
        )
    };
    let (status, _) = app.post("/api/v1/roster?from=2025-08-01", "text/csv", &roster("approver@tinh")).await;
    assert_eq!(status, 200, "the roster itself is taken");
    let (status, refused) = app.get("/api/v1/accounts/plan?system=baocao&at=2025-08-01&domain=qn.gov.vn").await;
    assert_eq!(status, 409);
    assert!(refused["error"].as_str().unwrap().contains("phạm vi «tinh» không có"), "{refused}");
    let (status, _) = app.post("/api/v1/roster?from=2025-08-01", "text/csv", &roster("approver@agency")).await;
    assert_eq!(status, 200);
    let (_, plan) = app.get("/api/v1/accounts/plan?system=baocao&at=2025-08-01&domain=qn.gov.vn").await;
    let grants: Vec<(&str, &str, &str)> = plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["action"] == "grant")
        .map(|s| (s["username"].as_str().unwrap(), s["role"].as_str().unwrap(), s["unit"].as_str().unwrap()))
        .collect();
    assert_eq!(
        grants,
        [("ductv@qn.gov.vn", "approver", "H51.S02"), ("hoalt@qn.gov.vn", "data_entry", "51")],
        "the director decides on the department's own reports only: {plan}"
    );
}

/// What a phone takes along before going offline, and how its changes come
/// back: the reports due with their rules, conditional reads, changes
/// refused when made on an earlier revision, compressed scripts and data.
#[tokio::test]
async fn a_device_takes_its_reports_along_and_its_changes_are_checked_on_return() {
    let app = spawn().await;
    let (status, due) = app.get_as(Some("ngokbay"), "/api/v1/reports/due").await;
    assert_eq!(status, 200, "{due}");
    let due = due.as_array().unwrap();
    assert!(!due.is_empty() && due.iter().all(|d| d["unit"] == "23317"), "{due:?}");
    let entry = due.iter().find(|d| d["duty"] == "enter" && d["regime"] == "BC_THANG_TTHC").expect("a report to enter");
    assert!(!entry["rules"].as_array().unwrap().is_empty(), "{entry}");
    assert!(entry["indicators"]["HS_TIEP_NHAN"]["expected"].as_str().unwrap().starts_with("một số"), "{entry}");
    assert_eq!(entry["report"]["unit"], "23317");
    let period = entry["period"].as_str().unwrap();
    let seqs = entry["report"]["revisions"].as_array().unwrap().iter().map(|r| r["seq"].as_i64().unwrap());
    let revision = seqs.max().unwrap_or(0);
    // Another commune's officer takes nothing of Ngọk Bay's.
    let (_, theirs) = app.get_as(Some("sathay"), "/api/v1/reports/due").await;
    assert!(theirs.as_array().unwrap().iter().all(|d| d["unit"] != "23317"), "{theirs}");

    // A report read again with its tag costs no body until it changes.
    let path = format!("/api/v1/reports?regime=BC_THANG_TTHC&unit=23317&period={period}");
    let read = |tag: Option<String>| {
        let mut req = app.client.get(app.url(&path)).bearer_auth(app.token("ngokbay"));
        if let Some(tag) = tag {
            req = req.header("if-none-match", tag);
        }
        req.send()
    };
    let first = read(None).await.unwrap();
    assert_eq!(first.status(), 200);
    let tag = first.headers()["etag"].to_str().unwrap().to_string();
    let again = read(Some(tag.clone())).await.unwrap();
    assert_eq!(again.status(), 304);
    assert!(again.bytes().await.unwrap().is_empty());

    // A change made on the revision taken along is applied…
    let change = |base: i64, value: &str| {
        format!(
            r#"{{"regime":"BC_THANG_TTHC","unit":"23317","period":"{period}","action":"save","values":{{"HS_TIEP_NHAN":"{value}"}},"base_revision":{base}}}"#
        )
    };
    let (status, saved) = app
        .post_as(Some("ngokbay"), "/api/v1/reports?answer=outcome", "application/json", &change(revision, "40"))
        .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["revision"].as_i64(), Some(revision + 1));
    let changed = read(Some(tag)).await.unwrap();
    assert_eq!(changed.status(), 200, "the tag follows the report");
    // …one made on the same, now earlier, revision is refused, and writes nothing.
    let (status, refused) = app
        .post_as(Some("ngokbay"), "/api/v1/reports?answer=outcome", "application/json", &change(revision, "41"))
        .await;
    assert_eq!(status, 412, "{refused}");
    assert!(refused["error"].as_str().unwrap().contains("Báo cáo đã thay đổi"), "{refused}");
    let (_, shown) = app.get(&path).await;
    let row = shown["rows"].as_array().unwrap().iter().find(|r| r["indicator"] == "HS_TIEP_NHAN").unwrap();
    assert_eq!(row["cells"]["this_period"].as_f64(), Some(40.0));

    // Who is signed in, for the offline page: an API token has no CSRF token.
    let (status, me) = app.get_as(Some("ngokbay"), "/api/v1/session").await;
    assert_eq!((status, me["username"].as_str(), me["csrf"].is_null()), (200, Some("ngokbay"), true));

    // Scripts and JSON go compressed; pages, which hold a CSRF token, do not.
    for (path, compressed) in [("/static/offline.js", true), ("/api/v1/reports/due", true), ("/", false)] {
        let res = app
            .client
            .get(app.url(path))
            .bearer_auth(app.token("ngokbay"))
            .header("accept-encoding", "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(res.headers().get("content-encoding").is_some(), compressed, "{path}");
    }

    // The installable application: manifest, icons, a worker of this release.
    let (status, manifest) = app.get_as(None, "/manifest.webmanifest").await;
    assert_eq!((status, manifest["start_url"].as_str()), (200, Some("/")));
    for icon in manifest["icons"].as_array().unwrap() {
        let res = app.client.get(app.url(icon["src"].as_str().unwrap())).send().await.unwrap();
        assert_eq!(res.headers()["content-type"], "image/png");
        assert!(res.bytes().await.unwrap().starts_with(b"\x89PNG"));
    }
    let worker = app.client.get(app.url("/sw.js")).send().await.unwrap();
    assert_eq!(worker.headers()["cache-control"], "no-cache");
    let worker = worker.text().await.unwrap();
    assert!(worker.contains("const CACHE = \"baocao-") && !worker.contains("__VERSION__"));
    let (status, shell) = app.text_as("ngokbay", "/offline").await;
    assert_eq!(status, 200);
    assert!(shell.contains("/static/offline.js") && !shell.contains("ngokbay"), "the page holds no account");
}
