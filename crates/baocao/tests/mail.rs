//! Accounts that go live on their own: activation links mailed with the
//! account, «forgot password», the password policy, and the outbox's
//! promises (claimed once, retried with backoff, never sent twice after a
//! stop). The mail itself goes through a real SMTP server in
//! `e2e/mail/run.sh`.

mod common;

use baocao_core::mail::Template;
use chrono::{Duration, Utc};
use common::{App, spawn};

/// Posts a form as nobody (the pages of one-time links are public).
async fn post_form(app: &App, path: &str, form: &[(&str, &str)]) -> (u16, String, String) {
    let res = app.client.post(app.url(path)).form(form).send().await.unwrap();
    let status = res.status().as_u16();
    let location = res.headers().get("location").map(|l| l.to_str().unwrap().to_string()).unwrap_or_default();
    (status, location, res.text().await.unwrap())
}

/// The one-time token of the latest unsent message to `recipient`.
async fn token_for(app: &App, recipient: &str, template: Template) -> String {
    let outbox = app.db.db.outbox(100).await.unwrap();
    let entry = outbox.iter().find(|m| m.recipient == recipient && m.template == template.as_str()).expect("a mail");
    let (found, to, params) = app.db.db.unsent_mail(entry.id).await.unwrap().expect("its content");
    assert_eq!((found, to.as_str()), (template, recipient));
    match params {
        baocao_core::mail::Params::Link(link) => link.token,
        other => panic!("a link message, not {other:?}"),
    }
}

#[tokio::test]
async fn an_invited_account_activates_itself_and_a_forgotten_password_is_reset_by_mail() {
    let app = spawn().await;
    let form = "application/x-www-form-urlencoded";
    let invite = "username=nguyen.van.an&display_name=Nguy%E1%BB%85n+V%C4%83n+An&email=an%40qn.gov.vn&password=";
    let (status, _) = app.post_as(Some("admin"), "/admin/accounts", form, invite).await;
    assert_eq!(status, 303);
    // The mail waits in the outbox, listed for administrators; the demo shows its text.
    let (_, page) = app.text_as("admin", "/admin/outbox").await;
    assert!(
        page.contains("an@qn.gov.vn") && page.contains("Kích hoạt tài khoản") && page.contains("chờ gửi"),
        "{page}"
    );
    assert!(page.contains("/activate?token=") && page.contains("id=\"no-server\""), "{page}");
    let token = token_for(&app, "an@qn.gov.vn", Template::Activation).await;
    assert!(app.sign_in("nguyen.van.an", "", None).await.is_none());

    let (status, page) = app.get_as(None, &format!("/activate?token={token}")).await;
    assert_eq!(status, 200, "{page}");
    let (status, _, page) =
        post_form(&app, "/activate", &[("token", &token), ("password", "aaaaaaaaaa"), ("confirm", "aaaaaaaaaa")]).await;
    assert!(status == 400 && page.contains("lặp lại ký tự"), "{status} {page}");
    let (status, _, page) =
        post_form(&app, "/activate", &[("token", &token), ("password", "nguyenvanan"), ("confirm", "nguyenvanan")])
            .await;
    assert!(status == 400 && page.contains("Mật khẩu này"), "the account's own name: {status} {page}");
    let good = "ngua vang qua cau tre";
    let (status, _, page) =
        post_form(&app, "/activate", &[("token", &token), ("password", good), ("confirm", "ngua vang qua cau")]).await;
    assert!(status == 400 && page.contains("không giống nhau"), "{status} {page}");
    let (status, location, _) =
        post_form(&app, "/activate", &[("token", &token), ("password", good), ("confirm", good)]).await;
    assert_eq!((status, location.as_str()), (303, "/login?done=activation"));
    let session = app.sign_in("nguyen.van.an", good, None).await.expect("signs in with the password it set");
    // A link works once.
    let (status, _, page) =
        post_form(&app, "/activate", &[("token", &token), ("password", good), ("confirm", good)]).await;
    assert!(status == 410 && page.contains("chỉ dùng một lần"), "{status} {page}");

    // «Forgot password» answers alike for an unknown name and a known one.
    let (status, _, unknown) = post_form(&app, "/forgot", &[("who", "khong-co-ai")]).await;
    let (_, _, known) = post_form(&app, "/forgot", &[("who", "AN@qn.gov.vn")]).await;
    assert_eq!((status, &unknown), (200, &known));
    let resets = |app: &App| {
        let db = app.db.db.clone();
        async move { db.outbox(100).await.unwrap().iter().filter(|m| m.template == "reset").count() }
    };
    assert_eq!(resets(&app).await, 1);
    // Asking again at once mails nothing more.
    post_form(&app, "/forgot", &[("who", "nguyen.van.an")]).await;
    assert_eq!(resets(&app).await, 1);
    let token = token_for(&app, "an@qn.gov.vn", Template::Reset).await;
    let fresh = "song da chay ve xuoi";
    let (status, location, _) =
        post_form(&app, "/reset", &[("token", &token), ("password", fresh), ("confirm", fresh)]).await;
    assert_eq!((status, location.as_str()), (303, "/login?done=reset"));
    assert!(app.sign_in("nguyen.van.an", good, None).await.is_none(), "the old password no longer works");
    assert!(app.sign_in("nguyen.van.an", fresh, None).await.is_some());
    let res = app.client.get(app.url("/")).header("cookie", &session).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 303, "sessions from before the reset end");
    // An activation link is sent again on an administrator's request; the earlier stops working.
    let body = "username=nguyen.van.an";
    assert_eq!(app.post_as(Some("admin"), "/admin/accounts/activation", form, body).await.0, 303);
    let again = token_for(&app, "an@qn.gov.vn", Template::Activation).await;
    let (status, page) = app.get_as(None, &format!("/activate?token={again}")).await;
    assert_eq!(status, 200, "{page}");
}

#[tokio::test]
async fn the_outbox_sends_each_message_once_retries_later_and_never_resends_on_its_own() {
    let app = spawn().await;
    let db = &app.db.db;
    for (user, email) in [("a", "a@qn.gov.vn"), ("b", "b@qn.gov.vn"), ("c", "c@qn.gov.vn")] {
        db.invite_account("test", user, user, email).await.unwrap();
    }
    let now = Utc::now() + Duration::seconds(1);
    // Two workers asking at once never get the same message.
    let (x, y) = tokio::join!(db.claim_mail(now), db.claim_mail(now));
    let (x, y) = (x.unwrap().unwrap(), y.unwrap().unwrap());
    assert_ne!(x.id, y.id);
    let z = db.claim_mail(now).await.unwrap().unwrap();
    assert!(db.claim_mail(now).await.unwrap().is_none(), "nothing else is due");
    // A passing refusal: tried again once due, not before.
    db.mail_not_sent(x.id, "421 busy", Some(now + Duration::minutes(1))).await.unwrap();
    assert!(db.claim_mail(now).await.unwrap().is_none());
    let retried = db.claim_mail(now + Duration::minutes(2)).await.unwrap().unwrap();
    assert_eq!((retried.id, retried.attempts), (x.id, 1));
    // Sent: what it said (its link) is erased.
    db.mail_sent(retried.id, now).await.unwrap();
    assert!(db.unsent_mail(retried.id).await.unwrap().is_none());
    // A permanent refusal is given up.
    db.mail_not_sent(z.id, "550 no such user", None).await.unwrap();
    // A message whose sending was cut off (its process stopped) is not sent
    // again on its own once its claim lapses; an administrator may.
    assert!(db.claim_mail(now + Duration::minutes(10)).await.unwrap().is_none());
    let states: Vec<(i64, String)> = db.outbox(10).await.unwrap().into_iter().map(|m| (m.id, m.state)).collect();
    for (id, expected) in [(x.id, "sent"), (y.id, "uncertain"), (z.id, "failed")] {
        assert!(states.contains(&(id, expected.to_string())), "{id} should be {expected}: {states:?}");
    }
    let (_, page) = app.text_as("admin", "/admin/outbox").await;
    assert!(page.contains("không rõ đã đến chưa") && page.contains("Gửi lại"), "{page}");
    assert_eq!(app.post_as(Some("admin"), &format!("/admin/outbox/{}/resend", x.id), "", "").await.0, 409);
    assert_eq!(app.post_as(Some("admin"), &format!("/admin/outbox/{}/resend", y.id), "", "").await.0, 303);
    let resent = db.claim_mail(Utc::now() + Duration::seconds(1)).await.unwrap().unwrap();
    assert_eq!(resent.id, y.id);
    let (_, audit) = app.get("/api/v1/audit?action=mail.resend").await;
    assert!(audit.to_string().contains(&format!("mail {}", y.id)), "{audit}");
    // An account closed before its mail went (a cutover rolled back) is not mailed.
    db.invite_account("test", "d", "d", "d@qn.gov.vn").await.unwrap();
    db.set_active("test", "d", false).await.unwrap();
    assert!(db.claim_mail(Utc::now() + Duration::seconds(1)).await.unwrap().is_none());
    let given_up = db.outbox(1).await.unwrap().remove(0);
    assert_eq!((given_up.recipient.as_str(), given_up.state.as_str()), ("d@qn.gov.vn", "failed"));
}
