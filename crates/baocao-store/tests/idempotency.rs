//! Idempotency keys and attempt counts as the database keeps them, on
//! either backend: what a retry finds after the first request finished,
//! while it runs, after its process stopped, and after a day; attempts
//! counted by two handles on one database count together.

use baocao_store::Db;
use baocao_store::idempotency::{Claim, KEPT, Kept, Keyed, LEASE};
use baocao_testkit::TestDb;
use chrono::{DateTime, Duration, Utc};

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn keyed<'a>(key: &'a str, fingerprint: &'a str, exact: bool) -> Keyed<'a> {
    Keyed { principal: "ngokbay", key, fingerprint, route: "POST /api/v1/test", exact }
}

fn acquired(claim: Claim) -> String {
    match claim {
        Claim::Acquired(token) => token,
        other => panic!("acquired expected, found {other:?}"),
    }
}

#[tokio::test]
async fn a_key_is_claimed_once_answered_again_and_forgotten_after_a_day() {
    let t = TestDb::new().await;
    let db = &t.db;
    let now = at("2026-12-05T03:00:00Z");
    let token = acquired(db.claim_idempotency_key(&keyed("k1", "f1", false), now).await.unwrap());
    // While the first is carried out, a retry waits; another request with
    // the key is refused.
    assert_eq!(db.claim_idempotency_key(&keyed("k1", "f1", false), now).await.unwrap(), Claim::InProgress);
    assert_eq!(db.claim_idempotency_key(&keyed("k1", "f2", false), now).await.unwrap(), Claim::Mismatch);
    // Another account's key of the same name is its own.
    let other = Keyed { principal: "admin", ..keyed("k1", "f2", false) };
    acquired(db.claim_idempotency_key(&other, now).await.unwrap());

    let kept =
        Kept { status: 201, headers: Some(r#"[["content-type","application/json"]]"#.into()), body: b"{}".to_vec() };
    db.keep_idempotent_answer("ngokbay", "k1", &token, &kept).await.unwrap();
    assert_eq!(db.claim_idempotency_key(&keyed("k1", "f1", false), now).await.unwrap(), Claim::Answered(kept));

    // A day on, the key names a new request.
    let later = now + KEPT + Duration::seconds(1);
    acquired(db.claim_idempotency_key(&keyed("k1", "f3", false), later).await.unwrap());
}

#[tokio::test]
async fn a_claim_whose_process_stopped_is_taken_over_only_where_the_write_says_it_committed() {
    let t = TestDb::new().await;
    let db = &t.db;
    let now = at("2026-12-05T03:00:00Z");
    let lapsed = now + LEASE + Duration::seconds(1);
    // A route that marks its write in the write's transaction: nothing was
    // marked, so nothing committed, and the retry carries it out, once.
    let first = acquired(db.claim_idempotency_key(&keyed("exact", "f", true), now).await.unwrap());
    let second = acquired(db.claim_idempotency_key(&keyed("exact", "f", true), lapsed).await.unwrap());
    assert_ne!(first, second);
    assert_eq!(db.claim_idempotency_key(&keyed("exact", "f", true), lapsed).await.unwrap(), Claim::InProgress);
    // The first process, late, cannot keep an answer over the second's claim.
    let late = Kept { status: 200, headers: None, body: b"late".to_vec() };
    db.keep_idempotent_answer("ngokbay", "exact", &first, &late).await.unwrap();
    assert_eq!(db.claim_idempotency_key(&keyed("exact", "f", true), lapsed).await.unwrap(), Claim::InProgress);

    // Another route cannot tell: the retry is refused rather than carried
    // out a second time.
    acquired(db.claim_idempotency_key(&keyed("other", "f", false), now).await.unwrap());
    assert_eq!(db.claim_idempotency_key(&keyed("other", "f", false), lapsed).await.unwrap(), Claim::Unknown);
    // So is one that failed with a server error; an exact route's is free.
    let failed = acquired(db.claim_idempotency_key(&keyed("failed", "f", false), now).await.unwrap());
    db.release_idempotency_key("ngokbay", "failed", &failed, false).await.unwrap();
    assert_eq!(db.claim_idempotency_key(&keyed("failed", "f", false), now).await.unwrap(), Claim::Unknown);
    let freed = acquired(db.claim_idempotency_key(&keyed("freed", "f", true), now).await.unwrap());
    db.release_idempotency_key("ngokbay", "freed", &freed, true).await.unwrap();
    acquired(db.claim_idempotency_key(&keyed("freed", "f", true), now).await.unwrap());
}

#[tokio::test]
async fn attempts_counted_by_two_handles_on_one_database_count_together() {
    let t = TestDb::new().await;
    let other = Db::connect(&t.url).await.unwrap();
    let now = at("2026-12-05T03:00:00Z");
    for attempt in 0..10 {
        let db = if attempt % 2 == 0 { &t.db } else { &other };
        assert!(db.within_rate("sign-in", "10.0.0.1", 10, now).await.unwrap(), "attempt {attempt}");
    }
    assert!(!other.within_rate("sign-in", "10.0.0.1", 10, now).await.unwrap());
    assert!(!t.db.within_rate("sign-in", "10.0.0.1", 10, now).await.unwrap());
    // Another address, or another kind of attempt, has its own count.
    assert!(t.db.within_rate("sign-in", "10.0.0.2", 10, now).await.unwrap());
    assert!(t.db.within_rate("reset", "10.0.0.1", 10, now).await.unwrap());
    // One more every six seconds, and all ten again after a minute.
    let soon = now + Duration::seconds(6);
    assert!(t.db.within_rate("sign-in", "10.0.0.1", 10, soon).await.unwrap());
    assert!(!t.db.within_rate("sign-in", "10.0.0.1", 10, soon).await.unwrap());
    let later = now + Duration::minutes(2);
    for attempt in 0..10 {
        assert!(other.within_rate("sign-in", "10.0.0.1", 10, later).await.unwrap(), "attempt {attempt} later");
    }
}
