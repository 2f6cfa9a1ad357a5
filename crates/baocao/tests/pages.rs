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
