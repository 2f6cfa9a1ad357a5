//! Notifications end to end through the store's jobs and the HTTP pages:
//! a returned report tells its sender (inbox and mail, as they prefer), a
//! request tells the officers of the units it asks, deadlines are reminded
//! before, on and after the day to the units' own officers, approvers get
//! a digest of what is late, and no job run twice tells anyone twice. On
//! both backends (`BAOCAO_TEST_DATABASE_URL`).

mod common;

use baocao_core::Period;
use baocao_core::notify::{Preference, Topic};
use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use common::{App, spawn};
use serde_json::Value;

const JSON: &str = "application/json";

/// 08:00 in Vietnam on `day`.
fn morning(day: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day.and_hms_opt(1, 0, 0).unwrap())
}

async fn act(app: &App, who: &str, unit: &str, period: &str, action: &str, extra: &str) -> Value {
    let body =
        format!(r#"{{"regime":"BC_THANG_TTHC","unit":"{unit}","period":"{period}","action":"{action}"{extra}}}"#);
    let (status, answer) = app.post_as(Some(who), "/api/v1/reports", JSON, &body).await;
    assert_eq!(status, 200, "{action} {unit} {period}: {answer}");
    answer
}

const SIGNED: &str =
    r#","values":{"HS_TIEP_NHAN":"10","HS_DUNG_HAN":"9"},"signer":"Lê Văn C","position":"Phó Chủ tịch""#;

async fn account_id(app: &App, username: &str) -> i64 {
    app.db.db.account(username).await.unwrap().unwrap().id
}

async fn notices(app: &App, username: &str) -> Vec<baocao_store::notifications::InboxEntry> {
    app.db.db.inbox(account_id(app, username).await, 1000).await.unwrap()
}

/// The notice messages waiting in the outbox to `recipient`.
async fn mailed(app: &App, recipient: &str) -> Vec<String> {
    let mut found = Vec::new();
    for m in
        app.db.db.outbox(1000).await.unwrap().into_iter().filter(|m| m.recipient == recipient && m.template == "notice")
    {
        if let Some((_, _, baocao_core::mail::Params::Notice(p))) = app.db.db.unsent_mail(m.id).await.unwrap() {
            found.push(p.title);
        }
    }
    found
}

#[tokio::test]
async fn a_returned_report_tells_its_sender_in_the_inbox_and_by_mail_once() {
    let app = spawn().await;
    let db = &app.db.db;
    db.set_account_email("test", "ngokbay", "ngokbay@qn.gov.vn").await.unwrap();
    let registry = db.load_registry().await.unwrap();
    act(&app, "ngokbay", "23317", "202509", "submit", SIGNED).await;
    act(&app, "approver", "23317", "202509", "return", r#","reason":"Thiếu số hồ sơ trực tuyến""#).await;
    // Nothing is told until the dispatcher runs; then once, however often it runs.
    assert!(notices(&app, "ngokbay").await.is_empty());
    assert_eq!(db.dispatch_events(&registry, Utc::now()).await.unwrap(), 1);
    assert_eq!(db.dispatch_events(&registry, Utc::now()).await.unwrap(), 0);
    let inbox = notices(&app, "ngokbay").await;
    assert_eq!(inbox.len(), 1, "{inbox:?}");
    let notice = &inbox[0];
    assert_eq!(notice.topic, Topic::Report);
    assert!(notice.title.starts_with("Báo cáo bị trả lại"), "{}", notice.title);
    assert!(notice.body.contains("Thiếu số hồ sơ trực tuyến") && notice.body.contains("«approver»"), "{}", notice.body);
    assert_eq!(notice.link, "/reports/BC_THANG_TTHC/23317/202509");
    assert_eq!(mailed(&app, "ngokbay@qn.gov.vn").await, std::slice::from_ref(&notice.title));
    assert!(notices(&app, "approver").await.is_empty(), "whoever returned it is not told");

    // The badge counts it; opening it marks it read and leads to the report.
    let (_, badge) = app.text_as("ngokbay", "/inbox/badge").await;
    assert!(badge.contains(">1<"), "{badge}");
    let (_, page) = app.text_as("ngokbay", "/inbox").await;
    assert!(page.contains("Thiếu số hồ sơ trực tuyến") && page.contains("1 chưa đọc"), "{page}");
    let (status, _) = app.text_as("sathay", &format!("/inbox/{}", notice.id)).await;
    assert_eq!(status, 404, "another account's notice is not found");
    let res = app.client.get(app.url(&format!("/inbox/{}", notice.id))).bearer_auth(app.token("ngokbay")).send().await;
    let res = res.unwrap();
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(res.headers()["location"], "/reports/BC_THANG_TTHC/23317/202509");
    let (_, badge) = app.text_as("ngokbay", "/inbox/badge").await;
    assert!(badge.is_empty(), "{badge}");

    // Mail turned off for reports: the approval comes to the inbox only.
    let ngokbay = account_id(&app, "ngokbay").await;
    db.set_preferences(ngokbay, &[(Topic::Report, Preference { in_app: true, by_mail: false })]).await.unwrap();
    act(&app, "ngokbay", "23317", "202509", "submit", SIGNED).await;
    act(&app, "approver", "23317", "202509", "approve", "").await;
    assert_eq!(db.dispatch_events(&registry, Utc::now()).await.unwrap(), 1);
    let inbox = notices(&app, "ngokbay").await;
    assert!(inbox[0].title.starts_with("Báo cáo đã được phê duyệt"), "{}", inbox[0].title);
    assert_eq!(mailed(&app, "ngokbay@qn.gov.vn").await.len(), 1, "no second mail");
    let prefs = db.preferences(ngokbay).await.unwrap();
    assert!(prefs.contains(&(Topic::Report, Preference { in_app: true, by_mail: false })));
    assert!(prefs.contains(&(Topic::Deadline, Preference::default())));
}

#[tokio::test]
async fn a_request_tells_the_officers_of_the_units_it_asks() {
    let app = spawn().await;
    let db = &app.db.db;
    let registry = db.load_registry().await.unwrap();
    let mut regime = db.regime("BC_THANG_TTHC").await.unwrap();
    let today = baocao_core::today_in_vietnam();
    regime.units = baocao_core::regime::UnitSelector { codes: vec!["23317".into()], ..Default::default() };
    regime.request = Some(baocao_core::regime::Request {
        kind: baocao_core::regime::RequestKind::AdHoc,
        period: Period::Day(today),
        deadline: today + Days::new(5),
        legal_basis: "Công văn số 12/UBND-VP".into(),
        sent_on: today,
        extended_from: None,
        closed_on: None,
    });
    let code = db.send_request("test", regime).await.unwrap();
    assert_eq!(db.dispatch_events(&registry, Utc::now()).await.unwrap(), 1);
    let inbox = notices(&app, "ngokbay").await;
    assert_eq!(inbox.len(), 1);
    assert!(inbox[0].title.contains("Đề nghị báo cáo mới") && inbox[0].body.contains(&code), "{:?}", inbox[0]);
    assert!(notices(&app, "sathay").await.is_empty(), "an officer of a unit not asked is not told");
    assert!(notices(&app, "admin").await.is_empty(), "nor is the system administrator");
}

#[tokio::test]
async fn deadlines_are_reminded_to_units_that_have_not_sent_and_late_ones_digested_for_approvers() {
    let app = spawn().await;
    let db = &app.db.db;
    let registry = db.load_registry().await.unwrap();
    let regime = db.regime("BC_THANG_TTHC").await.unwrap();
    let period: Period = "202609".parse().unwrap();
    let deadline = regime.deadline(&period);
    // Xã Sa Thầy sent its report; Xã Ngọk Bay did not.
    act(&app, "sathay", "23527", "202609", "submit", SIGNED).await;

    let told = db.remind(&registry, morning(deadline - Days::new(3))).await.unwrap();
    assert!(told.deadlines > 0, "{told:?}");
    let keys = |n: &[baocao_store::notifications::InboxEntry]| n.iter().map(|e| e.title.clone()).collect::<Vec<_>>();
    let mine = notices(&app, "ngokbay").await;
    assert!(
        mine.iter()
            .any(|n| n.topic == Topic::Deadline && n.title.contains("Tháng 9/2026") && n.title.contains("còn 3 ngày")),
        "{:?}",
        keys(&mine)
    );
    assert!(
        notices(&app, "sathay").await.iter().all(|n| !n.title.contains("Tháng 9/2026")),
        "a unit that sent is not reminded"
    );
    assert!(notices(&app, "admin").await.is_empty(), "reminders go to data-entry officers, not to every role");
    // The same day again: nobody told twice.
    let again = db.remind(&registry, morning(deadline - Days::new(3))).await.unwrap();
    assert_eq!(again, Default::default());
    // A day without a reminder of its own tells nothing new about it.
    db.remind(&registry, morning(deadline - Days::new(2))).await.unwrap();
    let count =
        |n: &[baocao_store::notifications::InboxEntry]| n.iter().filter(|n| n.title.contains("Tháng 9/2026")).count();
    assert_eq!(count(&notices(&app, "ngokbay").await), 1);

    // The day after: late, reminded; the approver of the province gets the digest.
    db.remind(&registry, morning(deadline + Days::new(1))).await.unwrap();
    let mine = notices(&app, "ngokbay").await;
    assert!(
        mine.iter().any(|n| n.title.contains("Tháng 9/2026") && n.title.contains("đã quá hạn 1 ngày")),
        "{:?}",
        keys(&mine)
    );
    let digest = notices(&app, "approver").await;
    let digest = digest.iter().find(|n| n.topic == Topic::Digest).expect("a digest for the approver");
    assert!(digest.body.contains("(23317): Báo cáo") && digest.body.contains("Tháng 9/2026"), "{}", digest.body);
    assert!(
        !digest.body.contains("(23527): Báo cáo tình hình giải quyết TTHC tháng kỳ Tháng 09/2026"),
        "{}",
        digest.body
    );
    assert!(notices(&app, "ngokbay").await.iter().all(|n| n.topic != Topic::Digest), "digests are for approvers");
}
