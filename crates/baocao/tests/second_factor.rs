//! Two-factor sign-in (RFC 6238): enrolment from the account's security
//! page, required by policy for chosen roles, codes that work once,
//! recovery codes, and an administrator turning it off. The codes are
//! typed from totp-rs, an implementation beside baocao's own use of it;
//! `e2e/mail/run.sh` types them from pyotp. Sign-ins and codes from one
//! address are limited to ten a minute: this walk stays within them.

mod common;

use baocao_core::access::Role;
use common::{App, PASSWORD, session_cookie, spawn_with};

/// The code of `secret` at `unix_time`, as an authenticator app shows it.
fn code(secret: &str, unix_time: u64) -> String {
    let secret = totp_rs::Secret::try_from_base32(secret).unwrap();
    totp_rs::Builder::new().with_secret(secret).build().unwrap().generate(unix_time).to_string()
}

fn now() -> u64 {
    chrono::Utc::now().timestamp() as u64
}

/// The value of `<… name="NAME" value="…">` in a page.
fn field(page: &str, marker: &str) -> String {
    let start = page.find(marker).unwrap_or_else(|| panic!("{marker} in {page}")) + marker.len();
    page[start..].split('"').next().unwrap().to_string()
}

async fn get(app: &App, path: &str, cookie: &str) -> (u16, String, String) {
    let res = app.client.get(app.url(path)).header("cookie", cookie).send().await.unwrap();
    let location = res.headers().get("location").map(|l| l.to_str().unwrap().to_string()).unwrap_or_default();
    (res.status().as_u16(), location, res.text().await.unwrap())
}

async fn post(app: &App, path: &str, cookie: &str, form: &[(&str, &str)]) -> reqwest::Response {
    app.client.post(app.url(path)).header("cookie", cookie).form(form).send().await.unwrap()
}

/// Signs in with the password; the pending sign-in's cookie when a code is asked for.
async fn password_step(app: &App) -> String {
    let form = [("username", "approver"), ("password", PASSWORD), ("next", "/review")];
    let res = app.client.post(app.url("/login")).form(&form).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(res.headers()["location"], "/login/code?next=%2Freview");
    assert!(session_cookie(&res).is_none(), "no session before the code");
    let pending = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|v| v.starts_with("baocao_pending="));
    pending.expect("a pending sign-in cookie").split(';').next().unwrap().to_string()
}

#[tokio::test]
async fn an_approver_enrols_a_second_factor_before_anything_else_and_signs_in_with_it() {
    let app = spawn_with(|s| s.second_factor_roles = vec![Role::Approver, Role::SystemAdmin]).await;
    // Roles outside the policy sign in with their password alone.
    let officer = app.sign_in("ngokbay", PASSWORD, None).await.unwrap();
    assert_eq!(get(&app, "/reports", &officer).await.0, 200);
    let session = app.sign_in("approver", PASSWORD, None).await.unwrap();
    // Before enrolling, every page leads to the security page and nothing can be done.
    let (status, location, _) = get(&app, "/review", &session).await;
    assert_eq!((status, location.as_str()), (303, "/account/security"));
    let (status, _, page) = get(&app, "/account/security", &session).await;
    assert!(status == 200 && page.contains("id=\"required\"") && page.contains("<svg"), "{page}");
    let csrf = field(&page, "name=\"_csrf\" value=\"");
    let secret = field(&page, "<code id=\"secret\">").split('<').next().unwrap().to_string();
    let res =
        post(&app, "/admin/accounts/state", &session, &[("_csrf", &csrf), ("username", "viewer"), ("active", "false")])
            .await;
    assert_eq!(res.status().as_u16(), 403);
    // A wrong code is refused; the offered key stays the same.
    let res = post(&app, "/account/security/totp", &session, &[("_csrf", &csrf), ("code", "000000")]).await;
    assert_eq!(res.status().as_u16(), 400);
    let (_, _, again) = get(&app, "/account/security", &session).await;
    assert!(again.contains(&secret), "{again}");
    let first = code(&secret, now());
    let res = post(&app, "/account/security/totp", &session, &[("_csrf", &csrf), ("code", &first)]).await;
    let page = res.text().await.unwrap();
    assert!(page.contains("id=\"recovery\""), "{page}");
    let recovery: Vec<String> =
        page.split("<li><code>").skip(1).map(|c| c.split('<').next().unwrap().to_string()).collect();
    assert_eq!(recovery.len(), 10, "{page}");
    assert_eq!(get(&app, "/review", &session).await.0, 200, "enrolled, the account works");

    // Signing in now takes the password, then a code; the code used to enrol is spent.
    let pending = password_step(&app).await;
    let res = post(&app, "/login/code", &pending, &[("code", &first), ("next", "/review")]).await;
    assert_eq!(res.status().as_u16(), 401);
    assert!(res.text().await.unwrap().contains("Mã xác thực không đúng hoặc đã dùng"));
    // The next step's code (a phone's clock may run ahead by one step) opens a session.
    let next = code(&secret, now() + 30);
    let res = post(&app, "/login/code", &pending, &[("code", &next), ("next", "/review")]).await;
    assert_eq!((res.status().as_u16(), res.headers()["location"].to_str().unwrap()), (303, "/review"));
    let signed = session_cookie(&res).expect("a session");
    assert_eq!(get(&app, "/review", &signed).await.0, 200);
    // A recovery code, typed in capitals without its dash, works once.
    let typed = recovery[0].replace('-', "").to_uppercase();
    let pending = password_step(&app).await;
    let res = post(&app, "/login/code", &pending, &[("code", &typed)]).await;
    assert_eq!(res.status().as_u16(), 303);
    let pending = password_step(&app).await;
    assert_eq!(post(&app, "/login/code", &pending, &[("code", &typed)]).await.status().as_u16(), 401);
    // The administrator turns it off (a lost phone): the approver's sessions end.
    let form = "application/x-www-form-urlencoded";
    let (status, _) = app.post_as(Some("admin"), "/admin/accounts/second-factor", form, "username=approver").await;
    assert_eq!(status, 303);
    assert_eq!(get(&app, "/review", &signed).await.0, 303);
    let session = app.sign_in("approver", PASSWORD, None).await.expect("the password alone signs in again");
    assert_eq!(get(&app, "/review", &session).await.1, "/account/security", "and enrols again");
}
