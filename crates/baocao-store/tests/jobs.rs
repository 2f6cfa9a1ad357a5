//! Scheduled jobs' claims, on either backend: a due job is claimed once,
//! a job under way is not claimed again, and a run whose process stopped
//! (its lease lapsed) is marked interrupted and its job run again.

use baocao_store::jobs::LEASE;
use baocao_testkit::TestDb;
use chrono::{DateTime, Duration, Utc};

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

#[tokio::test]
async fn a_due_job_is_claimed_once_and_an_interrupted_run_is_run_again() {
    let t = TestDb::new().await;
    let db = &t.db;
    let start = at("2026-12-04T00:00:00Z");
    let next_day = at("2026-12-05T00:00:00Z");
    db.register_job("notifications", "hằng ngày lúc 07:00", start).await.unwrap();
    assert_eq!(db.claim_job("notifications", "a:1", start - Duration::seconds(1), next_day).await.unwrap(), None);
    let run = db.claim_job("notifications", "a:1", start, next_day).await.unwrap().expect("due");
    assert_eq!(db.claim_job("notifications", "b:2", start, next_day).await.unwrap(), None, "claimed already");
    // A process that registers the job again later does not put off a run
    // that is due, and does not bring an earlier time back.
    db.register_job("notifications", "hằng ngày lúc 07:00", at("2026-12-06T00:00:00Z")).await.unwrap();
    assert_eq!(db.jobs().await.unwrap()[0].next_run_at, next_day);

    // Its process stops: once the lease lapses, the run is interrupted and
    // whoever looks next runs the job again.
    let later = start + LEASE + Duration::seconds(1);
    assert_eq!(db.claim_job("notifications", "b:2", start + Duration::seconds(30), next_day).await.unwrap(), None);
    let again = db.claim_job("notifications", "b:2", later, next_day).await.unwrap().expect("run again");
    assert_ne!(again, run);
    let runs = db.job_runs(10).await.unwrap();
    assert_eq!(runs[1].outcome, "interrupted");
    assert_eq!(runs[0].runner, "b:2");
    assert_eq!(runs[0].due_at, later, "due when it was found interrupted");
    db.finish_job(again, true, "xong").await.unwrap();
    assert_eq!(db.job_runs(10).await.unwrap()[0].outcome, "succeeded");
    assert_eq!(db.claim_job("notifications", "b:2", later, next_day).await.unwrap(), None, "not due till tomorrow");
    assert!(db.run_job_now("test", "khong-co").await.is_err());
}
