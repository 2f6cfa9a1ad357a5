//! Pages that speak to their user: the menu offers only what opens, and a
//! refusal is said in Vietnamese inside the page, keeping what was typed.

mod common;

use common::{PEOPLE, spawn};

/// The links of the page's menu.
fn menu(html: &str) -> Vec<String> {
    let nav = html.split("<nav aria-label=\"Chức năng\">").nth(1).and_then(|s| s.split("</nav>").next()).unwrap_or("");
    nav.split("href=\"").skip(1).filter_map(|s| s.split('"').next()).map(str::to_string).collect()
}

#[tokio::test]
async fn every_menu_entry_opens_for_whoever_sees_it() {
    let app = spawn().await;
    for (who, ..) in PEOPLE {
        let (status, home) = app.text_as(who, "/").await;
        assert_eq!(status, 200, "{who}: home");
        let entries = menu(&home);
        assert!(!entries.is_empty(), "{who} sees a menu");
        for href in entries {
            let (status, body) = app.text_as(who, &href).await;
            assert_eq!(status, 200, "{who} opens {href} from the menu: {}", &body[..body.len().min(600)]);
        }
    }
}

/// A refused account is said by its form, in Vietnamese, inside the page;
/// what was typed is kept, never the password.
#[tokio::test]
async fn a_duplicate_account_is_refused_inside_the_page_keeping_what_was_typed() {
    let app = spawn().await;
    let res = app
        .client
        .post(app.url("/admin/accounts"))
        .bearer_auth(app.token("admin"))
        .form(&[("username", "ngokbay"), ("display_name", "Trần Văn Mới"), ("password", "mat-khau-rat-dai")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 409);
    let html = res.text().await.unwrap();
    assert!(html.contains("<nav aria-label=\"Chức năng\">"), "inside the layout");
    assert!(
        html.contains("id=\"account-refused\"") && html.contains("Tên đăng nhập «ngokbay» đã có người dùng"),
        "{html}"
    );
    assert!(html.contains("value=\"ngokbay\"") && html.contains("value=\"Trần Văn Mới\""), "what was typed is kept");
    assert!(!html.contains("mat-khau-rat-dai"), "never the password");

    // A grant with an unreadable day: said by the grant form, fields kept.
    let res = app
        .client
        .post(app.url("/admin/grants"))
        .bearer_auth(app.token("admin"))
        .form(&[("username", "sathay"), ("role", "viewer"), ("unit", "23527"), ("valid_from", "31/02/2026")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let html = res.text().await.unwrap();
    assert!(html.contains("id=\"grant-refused\"") && html.contains("ngày «31/02/2026» không hợp lệ"), "{html}");
    assert!(html.contains("value=\"31/02/2026\"") && html.contains("value=\"viewer\" selected"), "{html}");
}

/// An unknown unit, a page the account may not open and a path nobody
/// knows: each said in Vietnamese inside the layout, with the menu.
#[tokio::test]
async fn refusals_are_pages_in_vietnamese_with_the_menu() {
    let app = spawn().await;
    for (who, path, status, says) in [
        ("viewer", "/units/99999", 404, "Không có đơn vị mã 99999."),
        ("ngokbay", "/audit", 403, "Tài khoản không có quyền"),
        ("ngokbay", "/khong-co-trang-nay", 404, "Không tìm thấy trang này."),
    ] {
        let (got, html) = app.text_as(who, path).await;
        assert_eq!(got, status, "{who} {path}");
        assert!(html.contains(says), "{who} {path}: {html}");
        assert!(!menu(&html).is_empty(), "{who} {path}: the menu is there");
        assert!(html.contains("role=\"alert\""), "{who} {path}");
    }
    // Nobody signed in: the layout without a menu, still in Vietnamese.
    let res = app.client.get(app.url("/khong-co-trang-nay")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    let html = res.text().await.unwrap();
    assert!(html.contains("Không tìm thấy trang này.") && menu(&html).is_empty(), "{html}");
}

/// The pivot draws the chart asked for, compares with the same period a
/// year before, and a page's chart leaves as an SVG file naming its
/// namespace; a page without a chart says so.
#[tokio::test]
async fn a_pivots_chart_is_drawn_as_asked_and_leaves_as_an_svg_file() {
    let app = spawn().await;
    let set = r#"{"dataValues":[
        {"dataElement":"HS_TIEP_NHAN","period":"202510","orgUnit":"23317","value":"650"},
        {"dataElement":"HS_TIEP_NHAN","period":"202511","orgUnit":"23317","value":"731"},
        {"dataElement":"HS_TIEP_NHAN","period":"202411","orgUnit":"23317","value":"600"},
        {"dataElement":"HS_TIEP_NHAN","period":"202411","orgUnit":"23314","value":"40"}]}"#;
    let (status, summary) = app.post("/api/v1/dataValueSets", "application/json", set).await;
    assert_eq!((status, summary["status"].as_str()), (200, Some("SUCCESS")), "{summary}");
    let base = "/analysis?indicator=HS_TIEP_NHAN&unit=23317&depth=area&from=2025-10&to=2025-11&at=30/11/2025\
                &rows=indicator&cols=period";
    for (chart, label) in [
        ("", "Giá trị theo kỳ"),
        ("line", "Giá trị theo kỳ"),
        ("column", "Cột: "),
        ("stacked", "Cột chồng: "),
        ("ranking", "Xếp hạng: "),
    ] {
        let (status, html) = app.text_as("admin", &format!("{base}&chart={chart}")).await;
        assert_eq!(status, 200, "{chart}: {html}");
        assert!(html.contains(&format!("aria-label=\"{label}")), "{chart}: {html}");
    }
    assert_eq!(app.text_as("admin", &format!("{base}&chart=pie")).await.0, 400);

    // Beside each month, the same month a year before in today's structure
    // (Ngọk Bay then was the old Ngọk Bay and Xã Kroong, 600 + 40), and the change.
    let (status, html) = app.text_as("admin", &format!("{base}&compare=last_year")).await;
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("<th>Cùng kỳ năm trước (Tháng 11/2024)</th><th>Tháng 11/2025 so với cùng kỳ (%)</th>"),
        "{html}"
    );
    // Each month's figure links to where it comes from; the change, made
    // of two figures, does not.
    let mut parts = html.split("<a class=\"origin\" href=\"");
    let mut plain = parts.next().unwrap_or_default().to_string();
    for part in parts {
        plain.push_str(part.split_once("\">").map_or(part, |(_, rest)| rest));
    }
    let plain = plain.replace("</a>", "");
    assert!(plain.contains(r#"<td class="num">731</td><td class="num">640</td><td class="num">114,2</td>"#), "{html}");
    assert!(html.contains(r#"period=202411&#38;structure_at="#), "{html}");
    assert!(html.contains(r#">640</a></td><td class="num">114,2</td>"#), "{html}");

    let res = app.client.get(app.url(&format!("{base}&chart=stacked&format=svg"))).bearer_auth(app.token("admin"));
    let res = res.send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/svg+xml; charset=utf-8");
    let disposition = res.headers()["content-disposition"].to_str().unwrap().to_string();
    assert!(disposition.starts_with("attachment; filename=\"") && disposition.ends_with(".svg\""), "{disposition}");
    let svg = res.text().await.unwrap();
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" "), "{svg}");
    assert!(svg.contains("Số hồ sơ thủ tục hành chính tiếp nhận · Tháng 11/2025: 731"), "{svg}");

    // The same figures as data, one a line with their flags, from the API.
    let (_, html) = app.text_as("admin", base).await;
    let at = html.find(r#"id="export-csv""#).map(|end| html[..end].rfind("href=\"").unwrap() + 6).unwrap();
    // As a browser reads the attribute: askama writes `&` as `&#38;`.
    let link = html[at..].split('"').next().unwrap().replace("&#38;", "&");
    let (status, csv) = app.text_as("admin", &link).await;
    assert_eq!(status, 200, "{link}: {csv}");
    assert!(csv.contains("HS_TIEP_NHAN,23317,Xã Ngọk Bay,202511,731,false,0"), "{link}: {csv}");

    let compare = "/compare?indicator=HS_TIEP_NHAN&unit=23317&months=12&format=svg";
    let res = app.client.get(app.url(compare)).bearer_auth(app.token("admin")).send().await.unwrap();
    assert_eq!(
        (res.status().as_u16(), res.headers()["content-type"].to_str().unwrap()),
        (200, "image/svg+xml; charset=utf-8")
    );
    let (status, body) = app.text_as("admin", "/quality?regime=BC_THANG_TTHC&period=202511&format=svg").await;
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("Trang này không có biểu đồ."), "{body}");
}

#[tokio::test]
async fn a_provinces_unit_picker_offers_its_own_units_and_the_provinces() {
    let app = common::spawn_with(|s| s.home_province = Some("51".into())).await;
    let (status, html) = app.text_as("admin", "/output").await;
    assert_eq!(status, 200);
    let picker = html.split("<datalist id=\"unit-list\">").nth(1).unwrap().split("</datalist>").next().unwrap();
    // Its communes, itself and every province; not another province's ward.
    for code in ["23317", "51", "01"] {
        assert!(picker.contains(&format!("value=\"{code}\"")), "{code}: {picker}");
    }
    assert!(!picker.contains("value=\"00004\""), "{picker}");
    // A unit elsewhere is still taken by its code.
    let (status, _) = app.text_as("admin", "/compare?indicator=HS_TIEP_NHAN&unit=00004").await;
    assert_eq!(status, 200);
}
