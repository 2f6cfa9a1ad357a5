//! `Idempotency-Key` on write requests, as a client that retries uses it:
//! the same request with the same key is carried out once and answered
//! again, another request with that key is refused, and keys are each
//! account's own.

mod common;

use common::{App, spawn};
use serde_json::Value;

const REPORT: &str = "/api/v1/reports?regime=BC_THANG_TTHC&unit=23317&period=202509";

fn save(value: u32) -> String {
    format!(
        r#"{{"regime":"BC_THANG_TTHC","unit":"23317","period":"202509","action":"save","values":{{"HS_TIEP_NHAN":"{value}"}}}}"#
    )
}

/// Posts `body` to the reports API as `who` with `key`: status, whether the
/// answer was given again, and the body.
async fn post(app: &App, who: &str, key: Option<&str>, body: &str) -> (u16, bool, Value) {
    let mut req = app
        .client
        .post(app.url("/api/v1/reports"))
        .bearer_auth(app.token(who))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(key) = key {
        req = req.header("idempotency-key", key);
    }
    let res = req.send().await.unwrap();
    let replayed = res.headers().get("idempotent-replayed").is_some_and(|v| v == "true");
    let status = res.status().as_u16();
    (status, replayed, res.json().await.unwrap())
}

async fn saves(app: &App) -> usize {
    let (_, report) = app.get(REPORT).await;
    report["revisions"].as_array().unwrap().iter().filter(|r| r["action"] == "save").count()
}

#[tokio::test]
async fn a_retry_with_the_same_key_is_carried_out_once() {
    let app = spawn().await;
    let (status, replayed, first) = post(&app, "ngokbay", Some("khoa-1"), &save(10)).await;
    assert_eq!((status, replayed), (200, false), "{first}");
    let (status, replayed, again) = post(&app, "ngokbay", Some("khoa-1"), &save(10)).await;
    assert_eq!((status, replayed), (200, true), "{again}");
    assert_eq!(first, again, "the first answer, given again");
    assert_eq!(saves(&app).await, 1);

    // The same key with another request: refused, nothing written.
    let (status, _, refused) = post(&app, "ngokbay", Some("khoa-1"), &save(11)).await;
    assert_eq!(status, 422, "{refused}");
    assert!(refused["error"].as_str().unwrap().contains("đã dùng cho một yêu cầu khác"), "{refused}");
    assert_eq!(saves(&app).await, 1);

    // Without a key, each request is carried out.
    for _ in 0..2 {
        assert_eq!(post(&app, "ngokbay", None, &save(12)).await.0, 200);
    }
    assert_eq!(saves(&app).await, 3);

    // Keys are each account's own: another account's «khoa-1» is new.
    let (status, replayed, _) = post(&app, "admin", Some("khoa-1"), &save(10)).await;
    assert_eq!((status, replayed), (200, false));
    assert_eq!(saves(&app).await, 4);
}

#[tokio::test]
async fn a_refusal_is_kept_like_any_answer_and_a_malformed_key_refused() {
    let app = spawn().await;
    // A submission without a signer is refused by the workflow: the retry
    // gets the same refusal, and nothing is written either time.
    let submit = r#"{"regime":"BC_THANG_TTHC","unit":"23317","period":"202509","action":"submit"}"#;
    let (status, replayed, first) = post(&app, "ngokbay", Some("gui-1"), submit).await;
    assert_eq!((status, replayed), (409, false), "{first}");
    let (status, replayed, again) = post(&app, "ngokbay", Some("gui-1"), submit).await;
    assert_eq!((status, replayed, &again), (409, true, &first));

    let long = "k".repeat(256);
    for key in ["", long.as_str(), "khóa có dấu"] {
        let res = app
            .client
            .post(app.url("/api/v1/reports"))
            .bearer_auth(app.token("ngokbay"))
            .header("content-type", "application/json")
            .header("idempotency-key", reqwest::header::HeaderValue::from_bytes(key.as_bytes()).unwrap())
            .body(save(1))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 400, "key {key:?}");
        let body: Value = res.json().await.unwrap();
        assert!(body["error"].as_str().unwrap().contains("Idempotency-Key"), "{body}");
    }
    assert_eq!(saves(&app).await, 0);
}

/// Other write routes keep their answer too: a request (ad-hoc report)
/// sent twice with one key is created once.
#[tokio::test]
async fn other_write_routes_answer_a_retry_from_the_kept_answer() {
    let app = spawn().await;
    let body = r#"{"kind":"ad_hoc","name":"Báo cáo nhanh số hồ sơ","form":"BM01","period":"Quý III/2025","deadline":"31/12/2099","legal_basis":"Công văn số 1/UBND","units":["23317"]}"#;
    let send = || {
        app.client
            .post(app.url("/api/v1/requests"))
            .bearer_auth(app.token("admin"))
            .header("content-type", "application/json")
            .header("idempotency-key", "yeu-cau-1")
            .body(body)
            .send()
    };
    let first = send().await.unwrap();
    assert_eq!(first.status().as_u16(), 201);
    let content_type = first.headers().get("content-type").cloned();
    let first: Value = first.json().await.unwrap();
    let again = send().await.unwrap();
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.headers().get("content-type").cloned(), content_type);
    assert_eq!((again.status().as_u16(), again.json::<Value>().await.unwrap()), (201, first.clone()));
    let (_, listed) = app.get("/api/v1/requests").await;
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
}
