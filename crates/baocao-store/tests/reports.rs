//! Report actions that arrive together are written together, one batch per
//! transaction, yet each is decided on its own: a refused one writes
//! nothing and does not hold the others back.

use std::collections::BTreeMap;

use baocao_core::access::Role;
use baocao_core::form::{Column, Rule, Severity};
use baocao_core::regime::{ApprovalLevel, Regime};
use baocao_core::workflow::{Action, Status};
use baocao_core::{Period, Registry, UnitKind};
use baocao_ingest::vn_admin::Sources;
use baocao_store::reports::ReportRequest;
use baocao_store::signatures::Signed;
use baocao_store::{Db, StoreError};
use baocao_testkit::{TestDb, counted_indicators, input_form};

const PERIOD: Period = Period::Month { year: 2025, month: 8 };

async fn reporting() -> (TestDb, Registry) {
    let t = TestDb::new().await;
    let reform = Sources::bundled().read().unwrap();
    t.db.apply_reorganization(reform.baseline, &reform.reorganization, false, "test", &|_| {}).await.unwrap();
    let indicators = counted_indicators(["CT01".to_string(), "CT02".to_string()]);
    t.db.import_indicators("test", &indicators).await.unwrap();
    let rules = vec![Rule::Required { indicator: "CT02".into(), severity: Severity::Error }];
    let form = input_form("BM", &indicators, vec![Column::ThisPeriod], rules);
    t.db.save_form("test", &form).await.unwrap();
    let regime = baocao_testkit::monthly_regime("BM", vec![UnitKind::Commune, UnitKind::Ward]);
    t.db.save_regime("test", &regime).await.unwrap();
    let registry = t.db.load_registry().await.unwrap();
    (t, registry)
}

fn request(unit: &str, action: Action, values: &[(&str, &str)]) -> ReportRequest {
    ReportRequest {
        regime: "BC".into(),
        unit: unit.into(),
        period: PERIOD,
        action,
        values: values.iter().map(|(c, v)| (c.to_string(), v.to_string())).collect::<BTreeMap<_, _>>(),
        plan: BTreeMap::new(),
        actor: "test".into(),
        signature: Some(("Lê Văn C".into(), "Chủ tịch".into())),
        at: None,
        level: None,
        idempotency: None,
        base_revision: None,
    }
}

/// The codes of the first `n` communes in force in the period.
fn communes(registry: &Registry, n: usize) -> Vec<String> {
    let day = PERIOD.end();
    registry
        .versions()
        .iter()
        .filter(|v| v.validity.contains(day) && v.level == 2)
        .map(|v| v.code.clone())
        .take(n)
        .collect()
}

/// Runs `requests` all at once, each from a task of its own.
async fn together(db: &Db, registry: &Registry, requests: Vec<ReportRequest>) -> Vec<Result<Status, StoreError>> {
    let registry = std::sync::Arc::new(registry.clone());
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|req| {
            let (db, registry) = (db.clone(), registry.clone());
            tokio::spawn(async move { db.apply_report_action(&registry, req).await.map(|o| o.status) })
        })
        .collect();
    let mut out = Vec::new();
    for task in tasks {
        out.push(task.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn actions_arriving_together_are_each_decided_and_kept() {
    let (t, registry) = reporting().await;
    let communes = communes(&registry, 60);
    let records_before = t.db.verify_audit().await.unwrap().records;

    // Even communes submit complete reports; odd ones leave out CT02, which
    // the form requires, and are refused.
    let requests = communes
        .iter()
        .enumerate()
        .map(|(i, code)| {
            let values: &[(&str, &str)] = if i % 2 == 0 { &[("CT01", "7"), ("CT02", "3")] } else { &[("CT01", "7")] };
            request(code, Action::Submit, values)
        })
        .collect();
    let outcomes = together(&t.db, &registry, requests).await;
    for (i, outcome) in outcomes.iter().enumerate() {
        match (i % 2, outcome) {
            (0, Ok(Status::Submitted)) => {}
            (1, Err(StoreError::Conflict(message))) => assert!(message.contains("Chưa thể gửi"), "{message}"),
            other => panic!("commune {}: {other:?}", communes[i]),
        }
    }
    for (i, code) in communes.iter().enumerate().take(4) {
        let view = t.db.report(&registry, "BC", code, &PERIOD).await.unwrap();
        let ct01 = view.rows[0].cells.get(baocao_core::report::column_key(Column::ThisPeriod)).copied();
        if i % 2 == 0 {
            assert_eq!((view.status, view.revisions.len(), ct01), (Status::Submitted, 1, Some(7.0)), "{code}");
        } else {
            // Refused: neither the values nor a report were written.
            assert_eq!((view.status, view.revisions.len(), ct01), (Status::Draft, 0, None), "{code}");
        }
    }

    // The same report acted on twice at once: the actions take turns, so
    // the second sees what the first did (approving twice is refused once).
    let first = communes[0].clone();
    let approvals = vec![request(&first, Action::Approve, &[]), request(&first, Action::Approve, &[])];
    let outcomes = together(&t.db, &registry, approvals).await;
    let approved = outcomes.iter().filter(|o| matches!(o, Ok(Status::Approved))).count();
    let refused = outcomes.iter().filter(|o| matches!(o, Err(StoreError::Conflict(_)))).count();
    assert_eq!((approved, refused), (1, 1), "{outcomes:?}");
    let view = t.db.report(&registry, "BC", &first, &PERIOD).await.unwrap();
    assert_eq!((view.status, view.revisions.len()), (Status::Approved, 2));

    // One audit record per accepted action, the chain intact.
    let verdict = t.db.verify_audit().await.unwrap();
    assert!(verdict.problems.is_empty(), "{:?}", verdict.problems);
    assert_eq!(verdict.records - records_before, 30 + 1);
}

/// The regime of `reporting` with a two-level approval chain: the
/// commune's leaders, then the provincial office.
async fn with_chain(db: &Db, self_approval: bool) -> Regime {
    let mut regime = db.regime("BC").await.unwrap();
    regime.approval = vec![
        ApprovalLevel { name: "Lãnh đạo UBND xã".into(), role: Role::Approver, unit: None },
        ApprovalLevel { name: "Văn phòng UBND tỉnh".into(), role: Role::Approver, unit: Some("51".into()) },
    ];
    regime.self_approval = self_approval;
    db.save_regime("test", &regime).await.unwrap();
    regime
}

/// `actor` acts on the report of [`UNIT`] (sending it with its values).
fn by(actor: &str, action: Action, level: Option<usize>) -> ReportRequest {
    let values: &[(&str, &str)] = if action == Action::Submit { &[("CT01", "7"), ("CT02", "3")] } else { &[] };
    ReportRequest { actor: actor.into(), level, ..request(UNIT, action, values) }
}

const UNIT: &str = "23317";

#[tokio::test]
async fn a_report_climbs_its_approval_chain_one_account_a_level() {
    let (t, registry) = reporting().await;
    with_chain(&t.db, false).await;
    let act = |req| async { t.db.apply_report_action(&registry, req).await };
    let refused = |r: Result<_, StoreError>| match r {
        Err(StoreError::Conflict(m)) => m,
        other => panic!("expected a refusal, got {other:?}"),
    };
    act(by("canbo", Action::Submit, None)).await.unwrap();
    // Nobody approves what they sent themselves.
    assert!(refused(act(by("canbo", Action::Approve, Some(1))).await).contains("tự phê duyệt"));
    // The first level's approval leaves it sent, waiting for the second.
    let first = act(by("chutich", Action::Approve, Some(1))).await.unwrap();
    assert_eq!(first.status, Status::Submitted);
    let view = t.db.report(&registry, "BC", UNIT, &PERIOD).await.unwrap();
    assert_eq!((view.approvals, view.standing().as_str()), (1, "Đã gửi, chờ Văn phòng UBND tỉnh duyệt (cấp 2/2)"));
    let c = t.db.completeness(&registry, "BC", &PERIOD).await.unwrap();
    let line = c.units.iter().find(|u| u.code == UNIT).unwrap();
    assert_eq!((line.status, line.approvals, c.approved), (Some(Status::Submitted), 1, 0));
    // One account, one level; and a decision made for a level the report left is refused.
    assert!(refused(act(by("chutich", Action::Approve, None)).await).contains("cấp trước"));
    assert!(refused(act(by("vanphong", Action::Approve, Some(1))).await).contains("đang chờ cấp 2/2"));
    let last = act(by("vanphong", Action::Approve, Some(2))).await.unwrap();
    assert_eq!(last.status, Status::Approved);
    let view = t.db.report(&registry, "BC", UNIT, &PERIOD).await.unwrap();
    let levels: Vec<_> = view.revisions.iter().map(|r| (r.action.as_str(), r.actor.as_str(), r.level)).collect();
    assert_eq!(levels, [("submit", "canbo", None), ("approve", "chutich", Some(1)), ("approve", "vanphong", Some(2))]);
    assert_eq!(t.db.completeness(&registry, "BC", &PERIOD).await.unwrap().approved, 1);

    // Reopened and sent again, it climbs from the first level, and who
    // approved before may approve again.
    act(by("vanphong", Action::Reopen { reason: "Sai số liệu".into() }, None)).await.unwrap();
    act(by("canbo", Action::Submit, None)).await.unwrap();
    assert_eq!(t.db.report_approvals(&registry, "BC", UNIT, &PERIOD).await.unwrap(), 0);
    act(by("chutich", Action::Approve, Some(1))).await.unwrap();
    // A return at the second level sends it back to the commune, from the start.
    let back = act(by("vanphong", Action::Return { reason: "Thiếu số liệu".into() }, Some(2))).await.unwrap();
    assert_eq!(back.status, Status::Returned);
    assert_eq!(t.db.report_approvals(&registry, "BC", UNIT, &PERIOD).await.unwrap(), 0);
    let view = t.db.report(&registry, "BC", UNIT, &PERIOD).await.unwrap();
    assert_eq!(view.revisions.last().unwrap().level, Some(2));
}

#[tokio::test]
async fn a_regime_may_let_the_sender_approve_and_refuses_a_chain_it_cannot_reach() {
    let (t, registry) = reporting().await;
    with_chain(&t.db, true).await;
    let act = |req| async { t.db.apply_report_action(&registry, req).await };
    act(by("chutich", Action::Submit, None)).await.unwrap();
    assert_eq!(act(by("chutich", Action::Approve, Some(1))).await.unwrap().status, Status::Submitted);

    let mut regime = t.db.regime("BC").await.unwrap();
    regime.approval[1].unit = Some("99999".into());
    let refusal = t.db.save_regime("test", &regime).await.unwrap_err().to_string();
    assert!(refusal.contains("99999"), "{refusal}");
    regime.approval[1] = regime.approval[0].clone();
    regime.approval[1].name = "Lần nữa".into();
    let refusal = t.db.save_regime("test", &regime).await.unwrap_err().to_string();
    assert!(refusal.contains("trùng vai trò"), "{refusal}");
    regime.approval[1].role = Role::Viewer;
    let refusal = t.db.save_regime("test", &regime).await.unwrap_err().to_string();
    assert!(refusal.contains("không có quyền phê duyệt"), "{refusal}");
    // Nothing refused was kept.
    assert_eq!(t.db.regime("BC").await.unwrap().approval[1].unit.as_deref(), Some("51"));
}

/// A keyed action marks its key in its own transaction: after a crash
/// between that commit and keeping the answer, a retry finds the action's
/// outcome; a process whose claim was taken over writes nothing.
#[tokio::test]
async fn a_keyed_action_marks_its_key_with_its_write() {
    use baocao_store::idempotency::{Claim, Held, Keyed, LEASE};
    let (t, registry) = reporting().await;
    let unit = "23317";
    let now = chrono::Utc::now();
    let keyed = Keyed { principal: "test", key: "k", fingerprint: "f", route: "POST /api/v1/reports", exact: true };
    let Claim::Acquired(token) = t.db.claim_idempotency_key(&keyed, now).await.unwrap() else { panic!("acquired") };
    let held = Held { principal: "test".into(), key: "k".into(), token };
    let save = ReportRequest { idempotency: Some(held.clone()), ..request(unit, Action::Save, &[("CT01", "7")]) };
    let outcome = t.db.apply_report_action(&registry, save).await.unwrap();
    // The process stops before keeping its answer; a retry, once the claim
    // has lapsed, is answered with the outcome, and nothing is written again.
    let lapsed = now + LEASE + chrono::Duration::seconds(1);
    let Claim::Answered(kept) = t.db.claim_idempotency_key(&keyed, lapsed).await.unwrap() else { panic!("answered") };
    assert_eq!((kept.status, kept.body), (200, serde_json::to_vec(&outcome).unwrap()));

    // A claim taken over by a retry: the late first request writes nothing.
    let keyed = Keyed { key: "k2", ..keyed };
    let Claim::Acquired(first) = t.db.claim_idempotency_key(&keyed, now).await.unwrap() else { panic!("acquired") };
    let Claim::Acquired(_) = t.db.claim_idempotency_key(&keyed, lapsed).await.unwrap() else { panic!("taken over") };
    let late = Held { principal: "test".into(), key: "k2".into(), token: first };
    let save = ReportRequest { idempotency: Some(late), ..request(unit, Action::Save, &[("CT01", "8")]) };
    let refused = t.db.apply_report_action(&registry, save).await;
    assert!(matches!(&refused, Err(StoreError::Conflict(m)) if m.contains("Idempotency-Key")), "{refused:?}");
    let view = t.db.report(&registry, "BC", unit, &PERIOD).await.unwrap();
    assert_eq!(view.revisions.len(), 1, "one save written");
}

/// A change made on an earlier state of the report (entered offline, say)
/// is refused when the report moved meanwhile, and writes nothing; made on
/// the state it finds, it is applied and says the revision it wrote.
#[tokio::test]
async fn a_change_made_on_an_earlier_revision_is_refused_whole() {
    let (t, registry) = reporting().await;
    let unit = registry.versions().iter().find(|v| v.validity.contains(PERIOD.end()) && v.level == 2).unwrap();
    let on = |base: i64, action: Action, values: &[(&str, &str)]| ReportRequest {
        base_revision: Some(base),
        ..request(&unit.code, action, values)
    };
    // Made on a report not yet begun (revision 0): applied, as revision 1.
    let first = t.db.apply_report_action(&registry, on(0, Action::Save, &[("CT01", "5")])).await.unwrap();
    assert_eq!((first.status, first.revision), (Status::Draft, 1));
    // Another officer saves on revision 1: revision 2.
    let second = t.db.apply_report_action(&registry, on(1, Action::Save, &[("CT01", "6")])).await.unwrap();
    assert_eq!(second.revision, 2);
    // The device still holds revision 1: its change and its sending are refused.
    for action in [Action::Save, Action::Submit] {
        match t.db.apply_report_action(&registry, on(1, action, &[("CT01", "9"), ("CT02", "1")])).await {
            Err(StoreError::Stale(message)) => assert!(message.contains("bản 1, nay là bản 2"), "{message}"),
            other => panic!("{other:?}"),
        }
    }
    let view = t.db.report(&registry, "BC", &unit.code, &PERIOD).await.unwrap();
    let ct01 = view.rows[0].cells.get(baocao_core::report::column_key(Column::ThisPeriod)).copied();
    assert_eq!((view.status, view.revisions.len(), ct01), (Status::Draft, 2, Some(6.0)));
    // Made again on what it now finds: sent.
    let sent =
        t.db.apply_report_action(&registry, on(2, Action::Submit, &[("CT01", "9"), ("CT02", "1")])).await.unwrap();
    assert_eq!((sent.status, sent.revision), (Status::Submitted, 3));
}

/// An upstream that takes the regime `BC`.
fn upstream() -> baocao_core::upstream::Link {
    baocao_core::upstream::Link {
        code: "trung-uong".into(),
        name: "Cấp trên".into(),
        url: "https://baocao.example/api/v1".into(),
        auth: baocao_core::upstream::Auth::Bearer,
        secret_env: "UPSTREAM_TOKEN".into(),
        secret_file: None,
        retry_seconds: 30,
        regimes: vec![baocao_core::upstream::RegimeMap { regime: "BC".into(), data_set: "DS".into() }],
        indicators: Default::default(),
        units: Default::default(),
    }
}

#[tokio::test]
async fn a_final_approval_writes_its_delivery_upward_with_it_once_per_report() {
    use baocao_store::upstream::Settled;
    let (t, registry) = reporting().await;
    let mut link = upstream();
    link.regimes[0].regime = "KHONG_CO".into();
    assert!(matches!(t.db.save_upstream_link("test", &link).await, Err(StoreError::NotFound(_))));
    t.db.save_upstream_link("test", &upstream()).await.unwrap();
    let unit = registry.versions().iter().find(|v| v.validity.contains(PERIOD.end()) && v.level == 2).unwrap();
    let act = |action: Action, values: &[(&str, &str)]| request(&unit.code, action, values);
    // A submission is not sent; an approval is, as the report stood.
    t.db.apply_report_action(&registry, act(Action::Submit, &[("CT01", "7"), ("CT02", "1")])).await.unwrap();
    assert!(t.db.deliveries(10).await.unwrap().is_empty());
    assert!(t.db.claim_delivery(chrono::Utc::now()).await.unwrap().is_none());
    t.db.apply_report_action(&registry, act(Action::Approve, &[])).await.unwrap();
    let list = t.db.deliveries(10).await.unwrap();
    assert_eq!((list.len(), list[0].state.as_str(), list[0].revision), (1, "pending", 2));
    let claimed = t.db.claim_delivery(chrono::Utc::now()).await.unwrap().unwrap();
    let report = claimed.report.as_ref().unwrap();
    assert_eq!(report.values, [("CT01".to_string(), "7".to_string()), ("CT02".to_string(), "1".to_string())]);
    // Claimed once: another process finds nothing to take.
    assert!(t.db.claim_delivery(chrono::Utc::now()).await.unwrap().is_none());
    // The upstream is down: tried again later, not before.
    let later = chrono::Utc::now() + chrono::Duration::seconds(30);
    let retry = Settled::Retry { error: "không kết nối được", http_status: None, retry_at: later };
    t.db.settle_delivery(claimed.id, retry).await.unwrap();
    assert!(t.db.claim_delivery(chrono::Utc::now()).await.unwrap().is_none());
    let again = t.db.claim_delivery(later).await.unwrap().unwrap();
    assert_eq!((again.id, again.attempts), (claimed.id, 1));
    // A claim whose process stopped is taken again once its lease lapses.
    let lapsed = later + baocao_store::upstream::CLAIM_LEASE + chrono::Duration::seconds(1);
    let retaken = t.db.claim_delivery(lapsed).await.unwrap().unwrap();
    assert_eq!(retaken.id, claimed.id);
    t.db.settle_delivery(retaken.id, Settled::Refused { error: "HTTP 401", http_status: Some(401), summary: None })
        .await
        .unwrap();
    assert!(t.db.claim_delivery(lapsed).await.unwrap().is_none());
    // An administrator sends it again (audited); a sent one cannot be.
    t.db.resend_delivery("admin", claimed.id).await.unwrap();
    let resent = t.db.claim_delivery(chrono::Utc::now()).await.unwrap().unwrap();
    t.db.settle_delivery(resent.id, Settled::Sent { http_status: 200, summary: "{}" }).await.unwrap();
    assert!(matches!(t.db.resend_delivery("admin", claimed.id).await, Err(StoreError::Conflict(_))));

    // Reopened and approved twice before the worker looks: the first
    // approval's delivery gives way to the second's.
    let reopen = Action::Reopen { reason: "Sai số liệu".into() };
    for value in ["8", "9"] {
        t.db.apply_report_action(&registry, act(reopen.clone(), &[])).await.unwrap();
        t.db.apply_report_action(&registry, act(Action::Submit, &[("CT01", value)])).await.unwrap();
        t.db.apply_report_action(&registry, act(Action::Approve, &[])).await.unwrap();
    }
    let list = t.db.deliveries(10).await.unwrap();
    assert_eq!((list[1].state.as_str(), list[0].state.as_str()), ("superseded", "pending"));
    assert!(list[1].last_error.as_deref().unwrap().contains("phê duyệt lại"));
    // Reopened again before it is sent: what waits is not sent.
    t.db.apply_report_action(&registry, act(reopen, &[])).await.unwrap();
    let waiting = t.db.claim_delivery(chrono::Utc::now()).await.unwrap().unwrap();
    assert!(waiting.report.is_none());
    t.db.settle_delivery(waiting.id, Settled::Superseded).await.unwrap();
    t.db.apply_report_action(&registry, act(Action::Submit, &[("CT01", "10")])).await.unwrap();
    t.db.apply_report_action(&registry, act(Action::Approve, &[])).await.unwrap();
    let last = t.db.claim_delivery(chrono::Utc::now()).await.unwrap().unwrap();
    assert_eq!(last.report.unwrap().values[0], ("CT01".to_string(), "10".to_string()));
    let states: Vec<String> = t.db.deliveries(10).await.unwrap().into_iter().map(|d| d.state).collect();
    assert_eq!(states, ["sending", "superseded", "superseded", "sent"]);
    let verdict = t.db.verify_audit().await.unwrap();
    assert!(verdict.problems.is_empty(), "{:?}", verdict.problems);
}

#[tokio::test]
async fn an_approval_waits_for_its_signature_and_a_reopened_report_is_not_signed() {
    let (t, registry) = reporting().await;
    let unit = registry.versions().iter().find(|v| v.validity.contains(PERIOD.end()) && v.level == 2).unwrap();
    let act = |action: Action, values: &[(&str, &str)]| request(&unit.code, action, values);
    t.db.apply_report_action(&registry, act(Action::Submit, &[("CT01", "7"), ("CT02", "1")])).await.unwrap();
    assert!(t.db.unsigned_report().await.unwrap().is_none(), "a submission is not signed");
    t.db.apply_report_action(&registry, act(Action::Approve, &[])).await.unwrap();
    let waiting = t.db.unsigned_report().await.unwrap().unwrap();
    let content = waiting.content.clone().unwrap();
    assert_eq!((content.revision, content.values["CT01"].as_str()), (2, "7"));
    // The same report gives the same bytes.
    assert_eq!(content.canonical(), t.db.unsigned_report().await.unwrap().unwrap().content.unwrap().canonical());
    let shown = t.db.report_signature("BC", &unit.code, &PERIOD.to_string()).await.unwrap().unwrap();
    assert_eq!(shown.state, "pending");
    // Reopened before it was signed: nothing to sign as approved.
    t.db.apply_report_action(&registry, act(Action::Reopen { reason: "Sai".into() }, &[])).await.unwrap();
    let stale = t.db.unsigned_report().await.unwrap().unwrap();
    assert!(stale.content.is_none());
    t.db.record_signature(stale.id, None, chrono::Utc::now()).await.unwrap();
    assert!(t.db.unsigned_report().await.unwrap().is_none());
    // Approved again: signed as then, once.
    t.db.apply_report_action(&registry, act(Action::Submit, &[("CT01", "8")])).await.unwrap();
    t.db.apply_report_action(&registry, act(Action::Approve, &[])).await.unwrap();
    let next = t.db.unsigned_report().await.unwrap().unwrap();
    let bytes = next.content.unwrap().canonical();
    t.db.record_signature(
        next.id,
        Some(Signed { content: &bytes, signature: b"der", signer: "UBND", pdf: Some(b"%PDF") }),
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    t.db.record_signature(
        next.id,
        Some(Signed { content: b"other", signature: b"other", signer: "other", pdf: None }),
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    let kept = t.db.report_signature("BC", &unit.code, &PERIOD.to_string()).await.unwrap().unwrap();
    assert_eq!((kept.state.as_str(), kept.signer.as_deref(), kept.revision), ("signed", Some("UBND"), 5));
    assert_eq!(kept.content.unwrap().into_bytes(), bytes);
    let pdf = t.db.report_signed_pdf("BC", &unit.code, &PERIOD.to_string()).await.unwrap();
    assert_eq!(pdf.as_deref(), Some(&b"%PDF"[..]), "the first signer's PDF is kept with its signature");
}

fn feed() -> baocao_core::feed::Feed {
    let mut feed = baocao_ingest::feed::read_feed("feed.toml", include_str!("../../../data/demo/feed.toml")).unwrap();
    feed.indicators = [("so_a", "CT01"), ("so_b", "CT02")].into_iter().map(|(a, b)| (a.into(), b.into())).collect();
    feed
}

fn record(pairs: &[(&str, &str)]) -> baocao_core::feed::Record {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[tokio::test]
async fn a_feeds_run_stores_what_maps_with_its_origin_and_what_it_fills_is_not_typed_over() {
    use baocao_store::feeds::Fetched;
    use baocao_store::provenance::Provenance;
    let (t, registry) = reporting().await;
    let mut unknown = feed();
    unknown.indicators.insert("so_c".into(), "KHONG_CO".into());
    assert!(matches!(t.db.save_feed("test", &unknown).await, Err(StoreError::NotFound(_))));
    t.db.save_feed("admin", &feed()).await.unwrap();
    let mut units = registry.versions().iter().filter(|v| v.validity.contains(PERIOD.end()) && v.level == 2);
    let (a, b) = (units.next().unwrap(), units.next().unwrap());
    let period = PERIOD.to_string();
    // Due at once, claimed by one process only.
    let claimed = t.db.claim_feed(chrono::Utc::now()).await.unwrap().unwrap();
    assert!(t.db.claim_feed(chrono::Utc::now()).await.unwrap().is_none());
    let records = vec![
        record(&[("ma_ban_ghi", "R1"), ("ma_xa", &a.code), ("ky", &period), ("so_a", "120"), ("so_b", "")]),
        record(&[("ma_ban_ghi", "R2"), ("ma_xa", &b.code), ("ky", &period), ("so_a", "nhiều"), ("so_b", "4")]),
        record(&[("ma_ban_ghi", "R3"), ("ma_xa", "99999"), ("ky", &period), ("so_a", "1")]),
        record(&[("ma_xa", &a.code), ("so_a", "1")]),
    ];
    let started = chrono::Utc::now();
    let fetched = Fetched::Records { http_status: 200, records };
    let run = t.db.store_feed_run(&registry, &claimed, started, fetched).await.unwrap();
    assert_eq!((run.outcome.as_str(), run.records, run.stored, run.new_values, run.refused), ("stored", 4, 2, 2, 3));
    let refused: Vec<String> = run.refusals().iter().map(|r| r.record.clone()).collect();
    assert_eq!(refused, ["#4", "R2", "R3"]);
    // Not due again before its time.
    assert!(t.db.claim_feed(chrono::Utc::now()).await.unwrap().is_none());
    let second = t.db.claim_feed(started + chrono::Duration::minutes(61)).await.unwrap().unwrap();

    // Where the value came from: the feed's run and the record.
    let origin = t.db.value_origin("CT01", &a.code, &PERIOD).await.unwrap().unwrap();
    assert_eq!(origin.value, "120");
    let Provenance::Pulled { feed, run: run_id, record: from, .. } = origin.origin else { panic!("{origin:?}") };
    assert_eq!((feed.as_str(), run_id, from.as_deref()), (self::feed().name.as_str(), run.id, Some("R1")));
    // The report shows it as pulled; typed over, it is refused; kept, the
    // report is sent and the value keeps its origin.
    let shown = t.db.report(&registry, "BC", &a.code, &PERIOD).await.unwrap();
    let row = shown.rows.iter().find(|r| r.indicator.as_deref() == Some("CT01")).unwrap();
    assert_eq!(row.pulled_from.as_deref(), Some(self::feed().name.as_str()));
    let act = |action: Action, values: &[(&str, &str)]| request(&a.code, action, values);
    let typed = t.db.apply_report_action(&registry, act(Action::Save, &[("CT01", "100"), ("CT02", "3")])).await;
    let Err(StoreError::Conflict(message)) = typed else { panic!("{typed:?}") };
    assert!(message.contains("lấy tự động") && message.contains("CT01"), "{message}");
    t.db.apply_report_action(&registry, act(Action::Submit, &[("CT01", "120"), ("CT02", "3")])).await.unwrap();
    let origin = t.db.value_origin("CT01", &a.code, &PERIOD).await.unwrap().unwrap();
    assert!(matches!(origin.origin, Provenance::Pulled { .. }), "{origin:?}");
    let typed = t.db.value_origin("CT02", &a.code, &PERIOD).await.unwrap().unwrap();
    let Provenance::Entered { regime, action, .. } = &typed.origin else { panic!("{typed:?}") };
    assert_eq!((regime.as_str(), action.as_str()), ("BC", "submit"));

    // A later run does not change a report sent for approval.
    let records = vec![record(&[("ma_ban_ghi", "R1"), ("ma_xa", &a.code), ("ky", &period), ("so_a", "125")])];
    let fetched = Fetched::Records { http_status: 200, records };
    let run = t.db.store_feed_run(&registry, &second, started, fetched).await.unwrap();
    assert_eq!((run.stored, run.refused), (0, 1));
    assert!(run.refusals()[0].message.contains("đã gửi hoặc đã duyệt"), "{:?}", run.refusals());
    assert_eq!(t.db.value_origin("CT01", &a.code, &PERIOD).await.unwrap().unwrap().value, "120");
    // A failed fetch is recorded and stores nothing.
    let claimed = t.db.claim_feed(started + chrono::Duration::minutes(200)).await.unwrap().unwrap();
    let fetched = Fetched::Failed { http_status: Some(503), message: "trả lời mã 503".into() };
    let run = t.db.store_feed_run(&registry, &claimed, started, fetched).await.unwrap();
    assert_eq!((run.outcome.as_str(), run.stored), ("failed", 0));
    assert_eq!(t.db.feed_runs(10).await.unwrap().len(), 3);
    assert_eq!(t.db.feeds().await.unwrap()[0].last_run.as_ref().map(|r| r.id), Some(run.id));

    // Imported values say which file.
    let raw = vec![baocao_core::datavalue::RawValue {
        index: 0,
        data_element: "CT01".into(),
        period: period.clone(),
        org_unit: b.code.clone(),
        value: "9".into(),
        comment: None,
    }];
    t.db.import_data_values("nhap", "so-lieu.json", &registry, raw).await.unwrap();
    let imported = t.db.value_origin("CT01", &b.code, &PERIOD).await.unwrap().unwrap();
    let Provenance::Imported { label, actor, .. } = imported.origin else { panic!("{imported:?}") };
    assert_eq!((label.as_str(), actor.as_str()), ("so-lieu.json", "nhap"));
}

/// Two handles on one database, as two `serve` processes are: each writes
/// its batches on its own (on PostgreSQL several at once), yet actions on
/// one report take turns across them, and the audit chain stays one chain.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_acting_on_the_same_reports_take_turns() {
    let (t, registry) = reporting().await;
    let other = Db::connect(&t.url).await.unwrap();
    let communes = communes(&registry, 40);
    let records_before = t.db.verify_audit().await.unwrap().records;
    let submits = communes.iter().map(|c| request(c, Action::Submit, &[("CT01", "7"), ("CT02", "3")])).collect();
    assert!(together(&t.db, &registry, submits).await.iter().all(|o| matches!(o, Ok(Status::Submitted))));

    // Every report approved at once through both handles, and saved by
    // both: one approval per report wins, the other is refused.
    let registry = std::sync::Arc::new(registry);
    let tasks: Vec<_> = communes
        .iter()
        .flat_map(|code| [(t.db.clone(), code.clone()), (other.clone(), code.clone())])
        .map(|(db, code)| {
            let registry = registry.clone();
            tokio::spawn(async move {
                let outcome = db.apply_report_action(&registry, request(&code, Action::Approve, &[])).await;
                (code, outcome.map(|o| o.status))
            })
        })
        .collect();
    let mut approved = BTreeMap::new();
    for task in tasks {
        let (code, outcome) = task.await.unwrap();
        match outcome {
            Ok(Status::Approved) => *approved.entry(code).or_insert(0) += 1,
            Err(StoreError::Conflict(_)) => {}
            other => panic!("{code}: {other:?}"),
        }
    }
    assert!(approved.values().all(|n| *n == 1) && approved.len() == communes.len(), "{approved:?}");
    for code in &communes {
        let view = t.db.report(&registry, "BC", code, &PERIOD).await.unwrap();
        let seqs: Vec<i64> = view.revisions.iter().map(|r| r.seq).collect();
        assert_eq!((view.status, seqs), (Status::Approved, vec![1, 2]), "{code}");
    }
    let verdict = other.verify_audit().await.unwrap();
    assert!(verdict.problems.is_empty(), "{:?}", verdict.problems);
    assert_eq!(verdict.records - records_before, 2 * communes.len());
}
