//! What single sign-on decides on baocao's side, on both backends: which
//! account a provider's subject signs into (linked by a verified address
//! the first time, by the subject after, never by an ambiguous address),
//! and an account whose own password is turned off refused a password
//! sign-in. The flow with a real provider is e2e/sso.test.mjs.

mod common;

use common::{PASSWORD, spawn};

const ISSUER: &str = "https://dinhdanh.tinh.gov.vn";

#[tokio::test]
async fn a_subject_is_linked_by_its_verified_address_once_then_found_by_itself() {
    let app = spawn().await;
    let db = &app.db.db;
    db.set_account_email("test", "ngokbay", "ngokbay@qn.gov.vn").await.unwrap();
    assert!(db.sso_account(ISSUER, "s-1", None).await.unwrap().is_none(), "no address, no link");
    assert!(db.sso_account(ISSUER, "s-1", Some("khong-co@qn.gov.vn")).await.unwrap().is_none());
    let found = db.sso_account(ISSUER, "s-1", Some("NgokBay@qn.gov.vn")).await.unwrap().expect("linked");
    assert_eq!(found.username, "ngokbay");
    // From now on the subject decides: a changed address at the provider
    // does not move the sign-in, and the address no longer links another subject.
    assert_eq!(db.sso_account(ISSUER, "s-1", Some("khac@qn.gov.vn")).await.unwrap().unwrap().username, "ngokbay");
    assert!(db.sso_account(ISSUER, "s-2", Some("ngokbay@qn.gov.vn")).await.unwrap().is_none());
    // The same subject at another provider is someone else.
    assert!(db.sso_account("https://khac.example", "s-1", None).await.unwrap().is_none());
    // An address two accounts share names neither.
    db.set_account_email("test", "sathay", "chung@qn.gov.vn").await.unwrap();
    db.set_account_email("test", "viewer", "chung@qn.gov.vn").await.unwrap();
    assert!(db.sso_account(ISSUER, "s-3", Some("chung@qn.gov.vn")).await.unwrap().is_none());
    let (_, audit) = app.get("/api/v1/audit?action=account.link_sso").await;
    assert!(audit.to_string().contains("account.link_sso"), "the link is audited");
}

#[tokio::test]
async fn an_account_without_its_own_password_signs_in_only_through_the_provider() {
    let app = spawn().await;
    assert!(app.sign_in("ngokbay", PASSWORD, None).await.is_some());
    let form = "application/x-www-form-urlencoded";
    let (status, _) = app
        .post_as(Some("unitadmin"), "/admin/accounts/password-sign-in", form, "username=ngokbay&allowed=false")
        .await;
    assert_eq!(status, 303);
    assert!(app.sign_in("ngokbay", PASSWORD, None).await.is_none(), "the password no longer signs in");
    app.db.db.set_account_email("test", "ngokbay", "ngokbay@qn.gov.vn").await.unwrap();
    let now = chrono::Utc::now();
    assert!(!app.db.db.request_reset("ngokbay", now).await.unwrap(), "nor is a reset link mailed for it");
    let (status, _) =
        app.post_as(Some("unitadmin"), "/admin/accounts/password-sign-in", form, "username=ngokbay&allowed=true").await;
    assert_eq!(status, 303);
    assert!(app.sign_in("ngokbay", PASSWORD, None).await.is_some());
    // Only whoever manages the account may change it.
    let (status, _) =
        app.post_as(Some("sathay"), "/admin/accounts/password-sign-in", form, "username=ngokbay&allowed=false").await;
    assert_eq!(status, 403);
}
