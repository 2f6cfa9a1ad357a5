//! Exact scopes: what an account may see of a composed figure, what it may
//! give to others, where sign-in may send it, and when its credentials stop.

mod common;

use baocao_core::access::{Grant, Permission, Role};
use baocao_credentials::{new_token, token_hash};
use common::{App, PASSWORD, spawn};

/// An officer of Xã Cà Đam (21136) with an API token. Xã Trà Bùi (21142)
/// was split in 2025 between Cà Đam and Tây Trà Bồng (21157).
async fn officer_of_ca_dam(app: &App) -> String {
    let db = &app.db.db;
    db.create_account("test", "cadam", "Cán bộ Cà Đam", None).await.unwrap();
    let grant =
        Grant { role: Role::DataEntry, unit: Some("21136".into()), forms: vec![], validity: Default::default() };
    db.add_grant("test", "cadam", &grant).await.unwrap();
    let token = new_token();
    db.create_token("test", "cadam", "tests", &token_hash(&token), &Permission::ALL).await.unwrap();
    token
}

async fn values_of_november(app: &App) {
    let set = r#"{"dataValues":[
        {"dataElement":"HS_TIEP_NHAN","period":"202511","orgUnit":"21136","value":"100"},
        {"dataElement":"HS_TIEP_NHAN","period":"202511","orgUnit":"21157","value":"40"}]}"#;
    let (status, summary) = app.post("/api/v1/dataValueSets", "application/json", set).await;
    assert_eq!((status, summary["status"].as_str()), (200, Some("SUCCESS")), "{summary}");
}

#[tokio::test]
async fn a_split_communes_value_leaves_out_the_neighbour_the_officer_may_not_see() {
    let app = spawn().await;
    let token = officer_of_ca_dam(&app).await;
    values_of_november(&app).await;
    let path = "/api/v1/values?indicator=HS_TIEP_NHAN&unit=21142&period=202511&structure_at=2025-06-30";

    // Whoever sees both communes gets the whole of old Trà Bùi.
    let (status, whole) = app.get(path).await;
    assert_eq!(status, 200, "{whole}");
    let sources: Vec<&str> = whole["sources"].as_array().unwrap().iter().map(|s| s["unit"].as_str().unwrap()).collect();
    assert_eq!(sources.len(), 2, "{whole}");
    assert!(whole.get("withheld").is_none(), "{whole}");

    // Cà Đam's officer: only Cà Đam's share, and told that something is left out.
    let res = app.client.get(app.url(path)).bearer_auth(&token).send().await.unwrap();
    let (status, mine) = common::answer(res).await;
    assert_eq!(status, 200, "{mine}");
    assert_eq!(mine["withheld"], 1, "{mine}");
    let sources: Vec<&str> = mine["sources"].as_array().unwrap().iter().map(|s| s["unit"].as_str().unwrap()).collect();
    assert_eq!(sources, ["21136"], "{mine}");
    assert!(mine["value"].as_f64().unwrap() < whole["value"].as_f64().unwrap());
    assert!(!mine.to_string().contains("21157") && !mine.to_string().contains("40"), "{mine}");

    // A table of the same figure says the same, to each.
    let table = "/api/v1/values/table?structure_at=2025-06-30&period=202511&org_unit=21142&indicators=HS_TIEP_NHAN";
    let whole_table = app.client.get(app.url(table)).bearer_auth(app.token("admin")).send().await.unwrap();
    let whole_table = whole_table.text().await.unwrap();
    let whole_value = whole["value"].as_f64().unwrap();
    assert!(whole_table.ends_with(&format!(",202511,{whole_value},{},0,false\n", whole["estimated"])), "{whole_table}");
    let mine_table = app.client.get(app.url(table)).bearer_auth(&token).send().await.unwrap();
    assert_eq!(mine_table.status(), 200);
    let mine_table = mine_table.text().await.unwrap();
    let mine_value = mine["value"].as_f64().unwrap();
    assert!(mine_table.ends_with(&format!(",202511,{mine_value},{},1,false\n", mine["estimated"])), "{mine_table}");
    assert!(!mine_table.contains("21157") && !mine_table.contains(&whole_value.to_string()), "{mine_table}");

    // The pivot page too: the officer's share, marked †, never the whole.
    let pivot = "/analysis?indicator=HS_TIEP_NHAN&unit=21142&depth=area&from=2025-11&to=2025-11&at=30/06/2025";
    let as_officer = app.client.get(app.url(pivot)).bearer_auth(&token).send().await.unwrap().text().await.unwrap();
    let as_admin = app.client.get(app.url(pivot)).bearer_auth(app.token("admin")).send().await.unwrap();
    let as_admin = as_admin.text().await.unwrap();
    let shown = baocao_core::text::format_figure;
    assert!(as_admin.contains(&format!(">{}", shown(whole_value))), "the administrator sees the whole");
    assert!(
        as_officer.contains(&format!(">{}</a> ", shown(mine_value))) && as_officer.contains("†</td>"),
        "the share, marked"
    );
    assert!(!as_officer.contains(&format!(">{}", shown(whole_value))), "the officer never sees the whole");

    // The comparison page composes the same way: the whole on its row for
    // the administrator, the officer's share (marked †) for the officer.
    let page = |token: String| {
        let req = app.client.get(app.url("/compare?indicator=HS_TIEP_NHAN&unit=21142&at=30/06/2025&months=36"));
        async move { req.bearer_auth(token).send().await.unwrap().text().await.unwrap() }
    };
    let all = page(app.token("admin").to_string()).await;
    let shown = page(token.clone()).await;
    let whole_text = baocao_core::text::format_number(whole["value"].as_f64().unwrap(), 0);
    let mine_text = baocao_core::text::format_number(mine["value"].as_f64().unwrap(), 0);
    assert!(all.contains(&format!(">{whole_text} *<")), "the administrator sees the whole");
    assert!(shown.contains(&format!(">{mine_text} * †<")), "the officer sees the share, marked");
    assert!(!shown.contains(&format!(">{whole_text} *")), "the officer never sees the whole");

    // The page's workbook and print say what the page says, to each.
    let path = "/compare?indicator=HS_TIEP_NHAN&unit=21142&at=30/06/2025&months=36";
    let figure_of = |sheet: &[Vec<String>]| -> Vec<f64> {
        sheet.iter().filter(|r| r[0].len() == 7 && r[0].contains('/')).filter_map(|r| r[1].parse().ok()).collect()
    };
    let theirs = figure_of(&common::sheet(&app.bytes_as("admin", &format!("{path}&format=xlsx")).await));
    let as_officer =
        |format: &str| app.client.get(app.url(&format!("{path}&format={format}"))).bearer_auth(&token).send();
    let mine_rows = figure_of(&common::sheet(&as_officer("xlsx").await.unwrap().bytes().await.unwrap()));
    assert!(theirs.contains(&whole["value"].as_f64().unwrap()), "{theirs:?}");
    assert!(mine_rows.contains(&mine["value"].as_f64().unwrap()), "{mine_rows:?}");
    assert!(!mine_rows.contains(&whole["value"].as_f64().unwrap()), "the officer's workbook never holds the whole");
    let printed = as_officer("print").await.unwrap().text().await.unwrap();
    assert!(printed.contains(&format!(">{mine_text} * †<")) && !printed.contains(&format!(">{whole_text} *")));
    assert!(printed.contains("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM") && printed.contains("NGƯỜI LẬP BIỂU"));
}

#[tokio::test]
async fn a_unit_administrator_gives_no_more_than_it_holds() {
    let app = spawn().await;
    let give = |role: &'static str, unit: &'static str, to: &'static str| {
        let req = app.client.post(app.url("/admin/grants")).bearer_auth(app.token("unitadmin")).form(&[
            ("username", to),
            ("role", role),
            ("unit", unit),
        ]);
        async move { req.send().await.unwrap().status().as_u16() }
    };
    // Approving is not a unit administrator's to give, to itself or anyone.
    assert_eq!(give("approver", "23317", "unitadmin").await, 403);
    assert_eq!(give("approver", "23317", "ngokbay").await, 403);
    assert_eq!(give("system_admin", "23317", "ngokbay").await, 403);
    // Entry and reading, within its own commune, are.
    assert_eq!(give("data_entry", "23317", "ngokbay").await, 303);
    assert_eq!(give("viewer", "23317", "sathay").await, 303);
    // Not outside it.
    assert_eq!(give("viewer", "23527", "sathay").await, 403);
    let accounts = app.db.db.accounts().await.unwrap();
    let roles_of = |name: &str| -> Vec<Role> {
        accounts.iter().find(|a| a.username == name).unwrap().grants.iter().map(|g| g.grant.role).collect()
    };
    assert!(!roles_of("unitadmin").contains(&Role::Approver));
    assert!(!roles_of("ngokbay").contains(&Role::Approver));
}

#[tokio::test]
async fn a_unit_administrator_resets_and_closes_only_the_accounts_it_could_have_made() {
    let app = spawn().await;
    let post = |who: &'static str, path: &'static str, form: Vec<(&'static str, &'static str)>| {
        let req = app.client.post(app.url(path)).bearer_auth(app.token(who)).form(&form);
        async move { req.send().await.unwrap().status().as_u16() }
    };
    let password =
        |who, of| post(who, "/admin/accounts/password", vec![("username", of), ("password", "mat-khau-moi-rat-dai")]);
    let close = |who, of| post(who, "/admin/accounts/state", vec![("username", of), ("active", "false")]);
    // Its own commune's officer: yes.
    assert_eq!(password("unitadmin", "ngokbay").await, 303);
    assert!(app.sign_in("ngokbay", "mat-khau-moi-rat-dai", None).await.is_some(), "the new password signs in");
    // The system administrator, an approver over the province, another
    // commune's officer: no, and nothing changes.
    for other in ["admin", "approver", "sathay"] {
        assert_eq!(password("unitadmin", other).await, 403, "{other}");
        assert_eq!(close("unitadmin", other).await, 403, "{other}");
    }
    assert!(app.sign_in("approver", PASSWORD, None).await.is_some(), "the approver's password is unchanged");
    // Too short a password is refused by the form, saying why.
    let (status, page) = {
        let res = app
            .client
            .post(app.url("/admin/accounts/password"))
            .bearer_auth(app.token("admin"))
            .form(&[("username", "viewer"), ("password", "ngan")])
            .send()
            .await
            .unwrap();
        (res.status().as_u16(), res.text().await.unwrap())
    };
    assert_eq!(status, 400);
    assert!(page.contains("id=\"password-refused\"") && page.contains("ít nhất 8 ký tự"), "{page}");
    // Closed, an account can neither sign in nor use its token.
    assert_eq!(close("unitadmin", "ngokbay").await, 303);
    assert!(app.sign_in("ngokbay", "mat-khau-moi-rat-dai", None).await.is_none());
    assert_eq!(app.get_as(Some("ngokbay"), "/api/v1/indicators").await.0, 401);
    assert_eq!(post("admin", "/admin/accounts/state", vec![("username", "ngokbay"), ("active", "true")]).await, 303);
    assert!(app.sign_in("ngokbay", "mat-khau-moi-rat-dai", None).await.is_some(), "open again, it signs in");
    // Its tokens were revoked when it was closed, and stay so: new ones are made.
    assert_eq!(app.get_as(Some("ngokbay"), "/api/v1/indicators").await.0, 401);
    // No administrator closes the account it is using.
    assert_eq!(close("admin", "admin").await, 400);
    let audit =
        app.db.db.audit_records(&baocao_store::audit::AuditFilter { limit: 50, ..Default::default() }).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|r| r.actor == "unitadmin" && r.action.starts_with("account.") && r.object == "account ngokbay")
    );
    // The page says only its own notices, whatever a link asks it to.
    // (Unit codes such as 00900 are on the page, in the unit picker: the
    // injected words are what must not be.)
    let (_, page) = app.text_as("admin", "/admin/accounts?done=Tài khoản bị khóa, gọi số 0900").await;
    assert!(!page.contains("gọi số") && !page.contains("bị khóa, gọi"), "{page}");
    let (_, page) = app.text_as("admin", "/admin/accounts?done=closed&who=ngokbay").await;
    assert!(page.contains("Đã khóa tài khoản ngokbay"), "{page}");
    let (_, page) = app.text_as("admin", "/admin/accounts?done=closed&who=gọi số 0900").await;
    assert!(page.contains("Đã khóa tài khoản") && !page.contains("gọi số"), "{page}");
}

#[tokio::test]
async fn api_tokens_are_made_and_revoked_from_the_browser_for_accounts_one_manages() {
    let app = spawn().await;
    let make = |who: &'static str, of: &'static str| {
        let req = app.client.post(app.url("/admin/tokens")).bearer_auth(app.token(who)).form(&[
            ("username", of),
            ("name", "đồng bộ số liệu"),
            ("scope", "view_catalog"),
            ("scope", "view_reports"),
        ]);
        async move {
            let res = req.send().await.unwrap();
            (res.status().as_u16(), res.text().await.unwrap())
        }
    };
    // Shown once on the page that answers, never in a URL.
    let (status, page) = make("unitadmin", "ngokbay").await;
    assert_eq!(status, 200, "{page}");
    let shown = page.split("<code>").nth(1).and_then(|rest| rest.split("</code>").next()).unwrap().to_string();
    assert_eq!(shown.len(), 64, "{page}");
    let with_token = |token: String, path: &'static str| {
        let req = app.client.get(app.url(path)).bearer_auth(token);
        async move { req.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(with_token(shown.clone(), "/api/v1/indicators").await, 200);
    // Only the functions ticked: no entry with it.
    let entry = app.client.post(app.url("/api/v1/reports")).bearer_auth(&shown).json(&serde_json::json!({
        "regime": "BC_THANG_TTHC", "unit": "23317", "period": "202509", "action": "save"
    }));
    assert_eq!(entry.send().await.unwrap().status().as_u16(), 403);
    // Not for an account it does not manage.
    assert_eq!(make("unitadmin", "approver").await.0, 403);
    // Revoked, it stops working.
    let tokens = app.db.db.tokens().await.unwrap();
    let id = tokens.iter().find(|t| t.username == "ngokbay" && t.name == "đồng bộ số liệu").unwrap().id.to_string();
    let revoke =
        app.client.post(app.url("/admin/tokens/revoke")).bearer_auth(app.token("unitadmin")).form(&[("token", id)]);
    assert_eq!(revoke.send().await.unwrap().status().as_u16(), 303);
    assert_eq!(with_token(shown, "/api/v1/indicators").await, 401);
}

#[tokio::test]
async fn after_sign_in_next_leads_only_to_this_site() {
    let app = spawn().await;
    for (next, expected) in [
        ("/reports?period=202508", "/reports?period=202508"),
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("/\t/evil.example", "/"),
        ("/\\evil.example", "/"),
    ] {
        let res = app
            .client
            .post(app.url("/login"))
            .form(&[("username", "ngokbay"), ("password", common::PASSWORD), ("next", next)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 303, "{next:?}");
        assert_eq!(res.headers()["location"], expected, "{next:?}");
    }
}

#[tokio::test]
async fn a_locked_accounts_tokens_stop_working_until_the_lock_ends() {
    let app = spawn().await;
    assert_eq!(app.get_as(Some("approver"), "/api/v1/indicators").await.0, 200);
    for _ in 0..5 {
        assert!(app.sign_in("approver", "wrong password", None).await.is_none());
    }
    assert_eq!(app.get_as(Some("approver"), "/api/v1/indicators").await.0, 401);
    // An administrator opening it again (a new password) ends the lock.
    let hash = baocao_credentials::hash_password("mat-khau-moi-rat-dai");
    app.db.db.set_password("test", "approver", &hash).await.unwrap();
    assert_eq!(app.get_as(Some("approver"), "/api/v1/indicators").await.0, 200);
}

/// The pivot table a page shows (the analysis page, a dashboard's view).
fn pivot_table(html: &str) -> &str {
    let start = html.find(r#"<table class="grid pivot">"#).expect("a pivot table");
    let end = start + html[start..].find("</table>").expect("the table's end");
    &html[start..end]
}

/// A dashboard shared with a role over a unit shares its questions, never
/// its figures: each account it is shared with gets each view composed
/// within what it may see, everyone else does not find it, and only its
/// owner changes it.
#[tokio::test]
async fn a_shared_dashboard_shows_each_account_only_what_it_may_see() {
    let app = spawn().await;
    let set = r#"{"dataValues":[
        {"dataElement":"HS_TIEP_NHAN","period":"202511","orgUnit":"23317","value":"731"},
        {"dataElement":"HS_TIEP_NHAN","period":"202511","orgUnit":"23527","value":"419"}]}"#;
    let (status, summary) = app.post("/api/v1/dataValueSets", "application/json", set).await;
    assert_eq!((status, summary["status"].as_str()), (200, Some("SUCCESS")), "{summary}");
    let post = |who: &'static str, path: &'static str, form: Vec<(&'static str, String)>| {
        let req = app.client.post(app.url(path)).bearer_auth(app.token(who)).form(&form);
        async move {
            let res = req.send().await.unwrap();
            let location = res.headers().get("location").map(|l| l.to_str().unwrap().to_string());
            (res.status().as_u16(), location.unwrap_or_default())
        }
    };
    let month = "&from=2025-11&to=2025-11&at=30/11/2025";
    let province = format!("indicator=HS_TIEP_NHAN&unit=51&depth=children{month}&format=xlsx");
    let own_area = format!("indicator=HS_TIEP_NHAN&depth=area{month}");
    for (name, query) in [("Tỉnh theo xã", &province), ("Địa bàn của tôi", &own_area)] {
        let saved = post("admin", "/favourites", vec![("name", name.into()), ("query", query.clone())]).await;
        assert_eq!(saved, (303, "/dashboards?saved=1".into()));
    }
    let admin = app.db.db.account("admin").await.unwrap().unwrap();
    let favourites = app.db.db.favourites(admin.id).await.unwrap();
    assert_eq!(favourites.len(), 2);
    assert!(!favourites[0].query.contains("format"), "kept without the download: {}", favourites[0].query);
    let mut form = vec![
        ("name", "Bảng của các xã".to_string()),
        ("shared_role", "data_entry".into()),
        ("shared_unit", "51".into()),
        ("on_home", "1".into()),
    ];
    form.extend(favourites.iter().map(|f| ("item", f.id.to_string())));
    let (status, location) = post("admin", "/dashboards", form).await;
    assert_eq!(status, 303);
    let id: i64 = location.strip_prefix("/dashboards/").unwrap().parse().unwrap();
    let dashboard = format!("/dashboards/{id}");

    // Each officer of the province's communes: the province's view is
    // shown for their commune instead, said so; the own-area view is their
    // commune's alone.
    for (officer, commune, other) in [("ngokbay", "23317", "Sa Thầy"), ("sathay", "23527", "Ngọk Bay")] {
        let (status, html) = app.text_as(officer, &dashboard).await;
        assert_eq!(status, 200, "{officer}: {html}");
        assert!(html.contains("Bảng của các xã") && html.contains("không xem được địa bàn"), "{officer}: {html}");
        let alone = format!("/analysis?indicator=HS_TIEP_NHAN&unit={commune}&depth=area{month}");
        let (_, own) = app.text_as(officer, &alone).await;
        assert_eq!(pivot_table(&html), pivot_table(&own), "{officer}: their own commune's figures");
        // Who it is shared with is named above; the views name nothing else.
        let views = &html[html.find(r#"<div class="cards">"#).unwrap()..];
        let second = views.rfind(r#"<table class="grid pivot">"#).unwrap();
        assert_eq!(pivot_table(&views[second..]), pivot_table(&own), "{officer}: the own-area view too");
        assert!(!views.contains(other) && !views.contains("Tỉnh Quảng Ngãi"), "{officer}: nothing else: {views}");
        // On the home page, each view comes on its own request, composed
        // for the officer as on the dashboard's page.
        let (_, home) = app.text_as(officer, "/").await;
        assert!(home.contains(r#"id="home-dashboard""#), "{officer}: on the home page");
        assert!(home.contains(&format!(r#"hx-get="{dashboard}/views/1""#)), "{officer}: {home}");
        let (status, view) = app.text_as(officer, &format!("{dashboard}/views/1")).await;
        assert_eq!(status, 200, "{officer}: {view}");
        assert_eq!(pivot_table(&view), pivot_table(&own), "{officer}: the home page's view");
        assert!(!view.contains(other) && !view.contains("Tỉnh Quảng Ngãi"), "{officer}: {view}");
        assert_eq!(app.text_as(officer, &format!("{dashboard}/views/2")).await.0, 404, "{officer}: no third view");
        // Downloaded, each view is a sheet of the officer's own figures.
        let book = app.bytes_as(officer, &format!("{dashboard}?format=xlsx")).await;
        let sheets =
            format!("{:?}", ["1. Tỉnh theo xã", "2. Địa bàn của tôi"].map(|name| common::named_sheet(&book, name)));
        let (own_value, other_value) = if commune == "23317" { ("731", "419") } else { ("419", "731") };
        assert!(sheets.contains("không xem được địa bàn") && sheets.contains(own_value), "{officer}: {sheets}");
        assert!(!sheets.contains(other) && !sheets.contains(other_value), "{officer}: {sheets}");
        assert!(!sheets.contains("Tỉnh Quảng Ngãi"), "{officer}: {sheets}");
        // Printed, one document under the commune's letterhead, each view
        // in turn, the officer's own figures alone.
        let (status, printed) = app.text_as(officer, &format!("{dashboard}?format=print")).await;
        assert_eq!(status, 200, "{officer}: {printed}");
        let body = &printed[printed.find("</table>").expect("the letterhead")..];
        assert!(printed.contains("BẢNG ĐIỀU HÀNH: BẢNG CỦA CÁC XÃ"), "{officer}: {printed}");
        assert!(body.contains("1. Tỉnh theo xã") && body.contains("2. Địa bàn của tôi"), "{officer}: {body}");
        assert!(body.contains(own_value) && !body.contains(other_value) && !body.contains(other), "{officer}: {body}");
        assert!(!printed.contains("Tỉnh Quảng Ngãi") && !printed.contains("TỈNH QUẢNG NGÃI"), "{officer}: {printed}");
    }
    // The administrator sees every commune of the province in its view.
    let (_, html) = app.text_as("admin", &dashboard).await;
    assert!(html.contains("Xã Ngọk Bay") && html.contains("Xã Sa Thầy"), "{html}");
    let book = app.bytes_as("admin", &format!("{dashboard}?format=xlsx")).await;
    let sheet = format!("{:?}", common::named_sheet(&book, "1. Tỉnh theo xã"));
    assert!(sheet.contains("Xã Ngọk Bay") && sheet.contains("731") && sheet.contains("419"), "{sheet}");
    assert_eq!(app.text_as("admin", &format!("{dashboard}?format=svg")).await.0, 400, "each chart is on its page");
    // Not shared with approvers or viewers: not found, nor on their home page.
    for who in ["approver", "viewer"] {
        assert_eq!(app.text_as(who, &dashboard).await.0, 404, "{who}");
        assert_eq!(app.text_as(who, &format!("{dashboard}/views/0")).await.0, 404, "{who}");
        assert_eq!(app.text_as(who, &format!("{dashboard}?format=xlsx")).await.0, 404, "{who}");
        assert_eq!(app.text_as(who, &format!("{dashboard}?format=print")).await.0, 404, "{who}");
        assert!(!app.text_as(who, "/").await.1.contains("home-dashboard"), "{who}");
    }

    // Only its owner changes it; an officer cannot take the owner's views
    // nor share beyond their own commune.
    let delete = format!("/dashboards/{id}/delete");
    let req = app.client.post(app.url(&delete)).bearer_auth(app.token("ngokbay")).form(&[("x", "")]);
    assert_eq!(req.send().await.unwrap().status().as_u16(), 404);
    let taken = vec![("id", id.to_string()), ("name", "Của tôi".into())];
    assert_eq!(post("ngokbay", "/dashboards", taken).await.0, 404);
    let borrowed = vec![("name", "Của tôi".into()), ("item", favourites[0].id.to_string())];
    assert_eq!(post("ngokbay", "/dashboards", borrowed).await.0, 404);
    for share in [vec![("shared_unit", "51".to_string())], vec![("shared_role", "approver".to_string())]] {
        let mut form = vec![("name", "Chia sẻ".to_string())];
        form.extend(share);
        assert_eq!(post("ngokbay", "/dashboards", form).await.0, 403);
    }
    let (_, audit) = app.get("/api/v1/audit?action=dashboard.").await;
    assert!(audit.to_string().contains(&format!("dashboard {id}")), "{audit}");

    let req = app.client.post(app.url(&delete)).bearer_auth(app.token("admin")).form(&[("x", "")]);
    assert_eq!(req.send().await.unwrap().status().as_u16(), 303);
    assert_eq!(app.text_as("ngokbay", &dashboard).await.0, 404);
    assert!(!app.text_as("ngokbay", "/").await.1.contains("home-dashboard"));
}
