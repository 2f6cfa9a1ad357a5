//! Rosters and account plans as the store writes them in bulk, on either
//! backend: what a re-import the same day, a later day, a changed contact
//! or an unlisted official does to the history, and a batch of account
//! steps in which one account is both created and given two grants.

use std::collections::BTreeMap;

use baocao_core::access::Role;
use baocao_core::directory::{Agency, Gender, Listing, Step};
use baocao_store::Db;
use baocao_testkit::TestDb;
use chrono::NaiveDate;

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn agency(code: &str) -> Agency {
    Agency {
        code: code.into(),
        name: format!("Sở {code}"),
        kind: "sở".into(),
        parent_code: None,
        unit_code: None,
        valid_from: None,
        valid_to: None,
        successor_codes: vec![],
        archive: None,
    }
}

fn listing(agency: &str, name: &str, born: &str, position: &str, email: Option<&str>) -> Listing {
    Listing {
        place: format!("ds.csv, dòng của {name}"),
        agency_code: agency.into(),
        full_name: name.into(),
        birth_date: day(born),
        gender: Some(Gender::Female),
        position: position.into(),
        post: "Văn phòng".into(),
        email: email.map(Into::into),
        phone: None,
        roles: BTreeMap::from([("baocao".to_string(), "viewer".to_string())]),
    }
}

/// Who works where on `on`: (agency, name, position, email), in order.
async fn roster(db: &Db, on: &str) -> Vec<(String, String, String, Option<String>)> {
    let mut r: Vec<_> = db
        .roster_at(day(on), None)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.agency_code, e.full_name, e.position, e.email))
        .collect();
    r.sort();
    r
}

fn entry(agency: &str, name: &str, position: &str, email: Option<&str>) -> (String, String, String, Option<String>) {
    (agency.into(), name.into(), position.into(), email.map(Into::into))
}

#[tokio::test]
async fn a_roster_import_keeps_the_history_of_every_day() {
    let t = TestDb::new().await;
    let db = &t.db;
    db.import_agencies("admin", &[agency("S1"), agency("S2")]).await.unwrap();
    let first = [
        listing("S1", "Trần Thị Lan", "1980-01-02", "Chuyên viên", Some("lantt@tinh.gov.vn")),
        listing("S1", "Lê Thị Mai", "1985-03-04", "Chuyên viên", None),
        listing("S2", "Phạm Thị Hoa", "1990-05-06", "Chánh văn phòng", None),
    ];
    let s = db.import_roster("admin", &first, day("2025-01-01")).await.unwrap();
    assert_eq!((s.people_added, s.postings_begun, s.postings_ended, s.unchanged), (3, 3, 0, 0));

    // Corrected the same day: the posting it replaces was never in force
    // (removed, not ended); an empty email keeps the one stored.
    let corrected = [
        listing("S1", "Trần Thị Lan", "1980-01-02", "Phó Giám đốc", None),
        listing("S1", "Lê Thị Mai", "1985-03-04", "Chuyên viên", Some("mailt@tinh.gov.vn")),
    ];
    let s = db.import_roster("admin", &corrected, day("2025-01-01")).await.unwrap();
    assert_eq!((s.people_added, s.postings_begun, s.postings_ended, s.unchanged), (0, 1, 1, 1));
    let expected = vec![
        entry("S1", "Lê Thị Mai", "Chuyên viên", Some("mailt@tinh.gov.vn")),
        entry("S1", "Trần Thị Lan", "Phó Giám đốc", Some("lantt@tinh.gov.vn")),
        entry("S2", "Phạm Thị Hoa", "Chánh văn phòng", None),
    ];
    assert_eq!(roster(db, "2025-01-01").await, expected);

    // Half a year on, S2 lists Lan (a transfer) and Mai's name is written
    // with other diacritics; S1 lists nobody else, so Mai's posting there
    // ends; nobody lists S2's Hoa any more, and S2 is listed: hers ends too.
    let later = [
        listing("S2", "Trần Thị Lan", "1980-01-02", "Phó Giám đốc", None),
        listing("S1", "Lê Thi Mai", "1985-03-04", "Chuyên viên", None),
    ];
    let s = db.import_roster("admin", &later, day("2025-07-01")).await.unwrap();
    assert_eq!((s.people_added, s.transfers, s.postings_begun, s.postings_ended, s.unchanged), (0, 1, 1, 2, 1));
    assert_eq!(
        roster(db, "2025-07-01").await,
        vec![
            entry("S1", "Lê Thi Mai", "Chuyên viên", Some("mailt@tinh.gov.vn")),
            entry("S2", "Trần Thị Lan", "Phó Giám đốc", Some("lantt@tinh.gov.vn")),
        ]
    );
    // The day before is as it was (names are people's, shown as last written).
    let before = roster(db, "2025-06-30").await;
    assert_eq!(before.len(), 3);
    assert_eq!(before[1], entry("S1", "Trần Thị Lan", "Phó Giám đốc", Some("lantt@tinh.gov.vn")));
    assert_eq!(before[2], entry("S2", "Phạm Thị Hoa", "Chánh văn phòng", None));

    // The same roster again changes nothing.
    let s = db.import_roster("admin", &later, day("2025-07-01")).await.unwrap();
    assert_eq!((s.people_added, s.postings_begun, s.postings_ended, s.unchanged), (0, 0, 0, 2));
    assert!(db.verify_audit().await.unwrap().problems.is_empty());
}

#[tokio::test]
async fn account_steps_written_together_are_each_one_account_grant_and_record() {
    let t = TestDb::new().await;
    let db = &t.db;
    db.create_account("admin", "cu@tinh.gov.vn", "Người cũ", None).await.unwrap();
    let steps = vec![
        Step::Create { username: "lantt@tinh.gov.vn".into(), display_name: "Trần Thị Lan".into() },
        Step::Grant { username: "lantt@tinh.gov.vn".into(), role: Role::Viewer, unit: Some("51".into()) },
        Step::ReadOnly { username: "lantt@tinh.gov.vn".into(), unit: Some("48".into()), until: day("2025-10-01") },
        Step::Create { username: "thukho".into(), display_name: "Thủ kho".into() },
        Step::Grant { username: "thukho".into(), role: Role::DataEntry, unit: None },
        Step::Rename { username: "cu@tinh.gov.vn".into(), display_name: "Người Cũ".into() },
    ];
    db.apply_account_steps("admin", &steps, day("2025-07-01")).await.unwrap();

    let accounts = db.accounts().await.unwrap();
    let lan = accounts.iter().find(|a| a.username == "lantt@tinh.gov.vn").unwrap();
    let mut grants: Vec<_> =
        lan.grants.iter().map(|g| (g.grant.role, g.grant.unit.clone(), g.grant.validity.to)).collect();
    grants.sort_by_key(|g| g.1.clone());
    assert_eq!(
        grants,
        [(Role::Viewer, Some("48".into()), Some(day("2025-10-01"))), (Role::Viewer, Some("51".into()), None)]
    );
    let keeper = accounts.iter().find(|a| a.username == "thukho").unwrap();
    assert_eq!(keeper.grants.len(), 1);
    assert_eq!(accounts.iter().find(|a| a.username == "cu@tinh.gov.vn").unwrap().display_name, "Người Cũ");
    // Only the account named by an address is mailed its activation link.
    let mails: Vec<String> = db.outbox(10).await.unwrap().into_iter().map(|m| m.recipient).collect();
    assert_eq!(mails, ["lantt@tinh.gov.vn"]);

    // A step naming an account that is already there fails the whole batch.
    let again = [Step::Create { username: "thukho".into(), display_name: "Thủ kho".into() }];
    let err = db.apply_account_steps("admin", &again, day("2025-07-01")).await.unwrap_err();
    assert!(err.to_string().contains("«thukho» đã có người dùng"), "{err}");
    let verdict = db.verify_audit().await.unwrap();
    assert!(verdict.problems.is_empty(), "{:?}", verdict.problems);
}
