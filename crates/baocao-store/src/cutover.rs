//! Cutovers: a reorganization taken into the reporting system in one
//! transaction (the reorganization itself when the plan carries it, form
//! versions that start, regimes reassigned, the account plan of the day),
//! recorded with what a rollback needs. What a dissolved unit's package
//! holds is gathered by [`crate::unit_archive`].
//!
//! Crash safety comes from the single transaction: a process killed at any
//! point leaves the database before or after, never between; applying the
//! same plan again completes it (or finds it done).

use std::collections::{BTreeSet, HashMap};

use baocao_core::Registry;
use baocao_core::cutover::{
    Cutover, DissolvedUnit, EndingAgency, OPEN_REPORT_FATE, OpenReport, ReorgSource, Summary, count_steps,
    dissolved_units,
};
use baocao_core::directory::{Step, check_agencies, unsettled_agencies};
use baocao_core::form::Form;
use baocao_core::reorg::AppliedDelta;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::account_plan::{AccountUndo, PlannedAddress, given_addresses};
use crate::audit::Change;
use crate::{Db, StoreError, WriteTx, append_audit, with_conn, with_pool};

/// A cutover checked against the database, with everything it would do.
#[derive(Clone, Debug)]
pub struct Prepared {
    pub delta: AppliedDelta,
    /// The registry as it will be.
    pub registry: Registry,
    pub steps: Vec<Step>,
    addresses: Vec<PlannedAddress>,
    /// Form versions in force the day before that a starting version ends.
    ends: Vec<Form>,
    pub summary: Summary,
    /// Every problem found; the cutover is applied only when there are none.
    pub problems: Vec<String>,
    /// Already applied with this very plan.
    pub applied: bool,
}

/// How to restore the state before a cutover.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Undo {
    /// Form versions that started: (code, valid_from).
    forms_started: Vec<(String, NaiveDate)>,
    /// Versions the plan carried that were stored already: (code,
    /// valid_from, the definition they had).
    forms_replaced: Vec<(String, NaiveDate, String)>,
    /// Versions given an end: (code, valid_from, the end they had).
    forms_ended: Vec<(String, Option<NaiveDate>, Option<NaiveDate>)>,
    /// Regimes saved, with the definition they had (none: new).
    regimes: Vec<(String, Option<String>)>,
    accounts: Vec<AccountUndo>,
}

/// An applied cutover as recorded.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CutoverRecord {
    pub key: String,
    pub name: String,
    pub effective_date: NaiveDate,
    pub checksum: String,
    pub reorganization: String,
    /// The cutover applied the reorganization (a rollback reverts it).
    pub applied_reorganization: bool,
    pub summary: Summary,
    pub applied_at: DateTime<Utc>,
    pub units: Vec<CutoverUnit>,
}

/// A unit a cutover dissolved, and where its package is.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CutoverUnit {
    pub code: String,
    pub name: String,
    pub successors: Vec<String>,
    pub package: Option<String>,
}

impl Db {
    /// Checks `cutover` against the database and works out what it would
    /// change; nothing is written.
    pub async fn prepare_cutover(&self, cutover: &Cutover) -> Result<Prepared, StoreError> {
        let mut problems = Vec::new();
        let eff = cutover.effective_date;
        let eve =
            eff.pred_opt().ok_or_else(|| StoreError::Conflict("Ngày hiệu lực nằm ngoài phạm vi cho phép.".into()))?;
        let mut registry = self.load_registry().await?;
        let agencies = self.all_agencies().await?;
        let existing = self.cutover(&cutover.key).await?;
        let delta = match &cutover.reorganization {
            ReorgSource::Applied { key } => match self.applied_delta(key).await {
                Ok(delta) => delta,
                Err(StoreError::NotFound(m)) => {
                    return Err(StoreError::Refused("không thực hiện được đợt chuyển đổi", vec![m]));
                }
                Err(e) => return Err(e),
            },
            ReorgSource::Plan { reorganization } => {
                if existing.as_ref().is_some_and(|s| s.applied_reorganization) {
                    self.applied_delta(&reorganization.info.key).await?
                } else {
                    match registry.plan_checked(reorganization, |d| unsettled_agencies(&agencies, d)) {
                        Ok(delta) => {
                            registry.apply(reorganization).map_err(StoreError::Invalid)?;
                            delta
                        }
                        Err(errors) => {
                            // The rest is still checked, against the
                            // registry as it is: every problem at once.
                            problems.extend(errors.iter().map(|e| e.to_string()));
                            AppliedDelta {
                                info: reorganization.info.clone(),
                                ended: Vec::new(),
                                begun: Vec::new(),
                                edges: Vec::new(),
                            }
                        }
                    }
                }
            }
        };
        let applied = match &existing {
            Some(r) if r.checksum == cutover.checksum() => true,
            Some(_) => {
                problems.push(format!(
                    "một đợt chuyển đổi khác có mã «{}» đã được áp dụng; hãy hoàn tác (rollback) đợt đó trước",
                    cutover.key
                ));
                false
            }
            None => false,
        };
        let stored_forms = self.forms().await?;
        let codes: BTreeSet<String> = stored_forms.iter().map(|f| f.code.clone()).collect();
        problems.extend(cutover.check(&registry, &delta, &codes));
        let indicators: HashMap<String, baocao_core::Indicator> =
            self.indicators().await?.into_iter().map(|i| (i.code.clone(), i)).collect();
        let mut ends = Vec::new();
        for form in &cutover.forms {
            problems.extend(form.check(&indicators).into_iter().map(|p| format!("biểu mẫu {}: {p}", form.code)));
            let versions = stored_forms.iter().filter(|f| f.code == form.code);
            for v in versions {
                if v.valid_from == form.valid_from {
                    continue;
                }
                if v.validity().contains(eve) && v.valid_to != Some(eff) {
                    let mut ended = v.clone();
                    ended.valid_to = Some(eff);
                    ends.push(ended);
                } else if v.validity().overlaps(&form.validity()) {
                    problems.push(format!(
                        "form {}: the new version overlaps the version from {}",
                        form.code,
                        v.valid_from.map_or("-".into(), baocao_core::date::format_vn)
                    ));
                }
            }
        }
        let (addresses, steps) = match &cutover.accounts {
            Some(plan) if !applied => {
                let addresses = self.address_plan(eff, &plan.domain).await?.addresses;
                match self.reporting_plan_from(&addresses, eff, &plan.domain, plan.grace_days).await {
                    Ok(steps) => (addresses, steps),
                    Err(e) => {
                        problems.push(e.to_string());
                        (Vec::new(), Vec::new())
                    }
                }
            }
            _ => (Vec::new(), Vec::new()),
        };
        let dissolved = dissolved_units(&registry, &delta, cutover.scope.as_deref());
        let summary = Summary {
            units_closed: delta.ended.len(),
            units_opened: delta.begun.len(),
            open_reports: self.open_reports(&dissolved, eff).await?,
            dissolved,
            agencies_ending: agencies
                .iter()
                .filter(|a| a.valid_to == Some(eff))
                .map(|a| EndingAgency {
                    code: a.code.clone(),
                    name: a.name.clone(),
                    successors: a.successor_codes.clone(),
                    archive: a.archive.clone(),
                })
                .collect(),
            forms_started: cutover.forms.iter().map(|f| f.code.clone()).collect(),
            forms_ended: ends.iter().map(|f| f.code.clone()).collect(),
            regimes: cutover.regimes.iter().map(|r| r.code.clone()).collect(),
            account_steps: count_steps(&steps),
        };
        Ok(Prepared { delta, registry, steps, addresses, ends, summary, problems, applied })
    }

    /// Reports of the dissolved units' last versions (in force the day
    /// before `eff`, whether or not the reorganization is applied yet) that
    /// are not approved.
    async fn open_reports(&self, dissolved: &[DissolvedUnit], eff: NaiveDate) -> Result<Vec<OpenReport>, StoreError> {
        let codes: BTreeSet<&str> = dissolved.iter().map(|d| d.code.as_str()).collect();
        let sql = "SELECT u.code, g.code, r.period, r.status FROM reports r
            JOIN units u ON u.id = r.unit_id JOIN regimes g ON g.id = r.regime_id
            WHERE (u.valid_from IS NULL OR u.valid_from < $1) AND (u.valid_to IS NULL OR u.valid_to >= $1)
              AND r.status <> 'approved' ORDER BY u.code, g.code, r.period";
        let rows: Vec<(String, String, String, String)> =
            with_pool!(self, |pool| sqlx::query_as(sql).bind(eff).fetch_all(pool).await?);
        Ok(rows
            .into_iter()
            .filter(|r| codes.contains(r.0.as_str()))
            .map(|(unit, regime, period, status)| OpenReport {
                unit,
                regime,
                period,
                status,
                fate: OPEN_REPORT_FATE.to_string(),
            })
            .collect())
    }

    /// Applies `cutover` in one transaction, after checking it. Applying
    /// the same plan again changes nothing.
    pub async fn apply_cutover(&self, actor: &str, cutover: &Cutover) -> Result<(Prepared, bool), StoreError> {
        let prepared = self.prepare_cutover(cutover).await?;
        if !prepared.problems.is_empty() {
            return Err(StoreError::Refused("không thực hiện được đợt chuyển đổi", prepared.problems));
        }
        if prepared.applied {
            return Ok((prepared, false));
        }
        let indicators: HashMap<String, baocao_core::Indicator> =
            self.indicators().await?.into_iter().map(|i| (i.code.clone(), i)).collect();
        let eff = cutover.effective_date;
        let mut write = self.begin_write().await?;
        let tx = &mut write;
        {
            let mut undo = Undo::default();
            let applied_reorganization = match &cutover.reorganization {
                ReorgSource::Plan { reorganization } => {
                    Self::apply_reorganization_in(tx, Vec::new(), reorganization, false, actor, &|_| {}).await?;
                    true
                }
                ReorgSource::Applied { .. } => false,
            };
            for ended in &prepared.ends {
                let before = stored_form_end(tx, &ended.code, ended.valid_from).await?;
                Self::save_form_in(tx, actor, ended, &indicators).await?;
                undo.forms_ended.push((ended.code.clone(), ended.valid_from, before));
            }
            for form in &cutover.forms {
                let before: Option<String> = with_conn!(tx, |conn| sqlx::query_scalar(
                    "SELECT definition FROM forms WHERE code = $1 AND valid_from = $2"
                )
                .bind(&form.code)
                .bind(eff)
                .fetch_optional(&mut *conn)
                .await?);
                Self::save_form_in(tx, actor, form, &indicators).await?;
                match before {
                    Some(definition) => undo.forms_replaced.push((form.code.clone(), eff, definition)),
                    None => undo.forms_started.push((form.code.clone(), eff)),
                }
            }
            for regime in &cutover.regimes {
                let before: Option<String> =
                    with_conn!(tx, |conn| sqlx::query_scalar("SELECT definition FROM regimes WHERE code = $1")
                        .bind(&regime.code)
                        .fetch_optional(&mut *conn)
                        .await?);
                Self::save_regime_in(tx, actor, regime, crate::forms::Saving::Upsert, "regime.save").await?;
                undo.regimes.push((regime.code.clone(), before));
            }
            if !prepared.steps.is_empty() {
                Self::record_addresses_in(tx, &given_addresses(&prepared.addresses, &prepared.steps)).await?;
                undo.accounts = Self::apply_account_steps_in(tx, actor, &prepared.steps, eff).await?;
            }
            let summary = serde_json::to_string(&prepared.summary).expect("plain data serializes");
            let undo = serde_json::to_string(&undo).expect("plain data serializes");
            with_conn!(tx, |conn| {
                sqlx::query(
                    "INSERT INTO cutovers (key, name, effective_date, checksum, reorganization, applied_reorganization,
                         summary, undo, applied_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(&cutover.key)
                .bind(&cutover.name)
                .bind(eff)
                .bind(cutover.checksum())
                .bind(cutover.reorganization.key())
                .bind(applied_reorganization)
                .bind(&summary)
                .bind(&undo)
                .bind(Utc::now())
                .execute(&mut *conn)
                .await?;
                for d in &prepared.summary.dissolved {
                    sqlx::query(
                        "INSERT INTO cutover_units (cutover_key, unit_code, unit_name, successors) VALUES ($1, $2, $3, $4)",
                    )
                    .bind(&cutover.key)
                    .bind(&d.code)
                    .bind(&d.name)
                    .bind(json!(d.successors).to_string())
                    .execute(&mut *conn)
                    .await?;
                }
                let change = Change {
                    at: Utc::now(),
                    actor,
                    action: "cutover.apply",
                    object: format!("cutover {}", cutover.key),
                    before: None,
                    after: Some(json!({ "effective_date": eff, "checksum": cutover.checksum(),
                        "units_closed": prepared.summary.units_closed, "units_opened": prepared.summary.units_opened,
                        "dissolved": prepared.summary.dissolved.len(), "account_steps": prepared.summary.account_steps })),
                };
                append_audit!(conn, &change);
            });
        }
        write.commit().await?;
        Ok((prepared, true))
    }

    /// An applied cutover, with its dissolved units.
    pub async fn cutover(&self, key: &str) -> Result<Option<CutoverRecord>, StoreError> {
        type Row = (String, String, NaiveDate, String, String, bool, String, DateTime<Utc>);
        let row: Option<Row> = with_pool!(self, |pool| {
            sqlx::query_as(
            "SELECT key, name, effective_date, checksum, reorganization, applied_reorganization, summary, applied_at
             FROM cutovers WHERE key = $1"
        )
        .bind(key)
        .fetch_optional(pool)
        .await?
        });
        let Some((key, name, effective_date, checksum, reorganization, applied_reorganization, summary, applied_at)) =
            row
        else {
            return Ok(None);
        };
        let units: Vec<(String, String, String, Option<String>)> = with_pool!(self, |pool| {
            sqlx::query_as(
            "SELECT unit_code, unit_name, successors, package FROM cutover_units WHERE cutover_key = $1 ORDER BY unit_code"
        )
        .bind(&key)
        .fetch_all(pool)
        .await?
        });
        let units = units
            .into_iter()
            .map(|(code, name, successors, package)| {
                let successors = crate::error::parse_json("successors", &successors)?;
                Ok(CutoverUnit { code, name, successors, package })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(Some(CutoverRecord {
            summary: crate::error::parse_json("cutover summary", &summary)?,
            key,
            name,
            effective_date,
            checksum,
            reorganization,
            applied_reorganization,
            applied_at,
            units,
        }))
    }

    /// Keys of the applied cutovers, oldest first.
    pub async fn cutovers(&self) -> Result<Vec<String>, StoreError> {
        Ok(with_pool!(self, |pool| sqlx::query_scalar("SELECT key FROM cutovers ORDER BY applied_at, key")
            .fetch_all(pool)
            .await?))
    }

    /// Records where a dissolved unit's package is.
    pub async fn set_package(&self, key: &str, unit: &str, package: &str) -> Result<(), StoreError> {
        with_pool!(self, |pool| sqlx::query(
            "UPDATE cutover_units SET package = $1 WHERE cutover_key = $2 AND unit_code = $3"
        )
        .bind(package)
        .bind(key)
        .bind(unit)
        .execute(pool)
        .await
        .map(|_| ())?);
        Ok(())
    }

    /// The cutover that dissolved `code`, and where its package is: the
    /// reports of its ended versions are read-only legacy.
    pub async fn dissolution(&self, code: &str) -> Result<Option<(String, Option<String>)>, StoreError> {
        Ok(with_pool!(self, |pool| sqlx::query_as(
            "SELECT cutover_key, package FROM cutover_units WHERE unit_code = $1"
        )
        .bind(code)
        .fetch_optional(pool)
        .await?))
    }

    /// Checks what should hold after cutover `key`; every problem found.
    pub async fn verify_cutover(&self, key: &str) -> Result<Vec<String>, StoreError> {
        let record = self
            .cutover(key)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("Không có đợt chuyển đổi «{key}».")))?;
        let eff = record.effective_date;
        let registry = self.load_registry().await?;
        let mut problems = registry.check_invariants();
        let eve = eff.pred_opt().unwrap_or(eff);
        for u in &record.units {
            match registry.in_force(&u.code, eve) {
                Some(v) if v.validity.to == Some(eff) => {}
                _ => problems.push(format!(
                    "đơn vị {}: phiên bản ngày {} không chấm dứt ngày {}",
                    u.code,
                    baocao_core::date::format_vn(eve),
                    baocao_core::date::format_vn(eff)
                )),
            }
        }
        // Grants name codes; a code that goes on (as a merged unit) is
        // served by its grants, one that stops must only be read.
        let stopped: BTreeSet<&str> =
            record.units.iter().map(|u| u.code.as_str()).filter(|c| registry.in_force(c, eff).is_none()).collect();
        for account in self.accounts().await?.iter().filter(|a| a.active) {
            for g in &account.grants {
                let on_dissolved = g.grant.unit.as_deref().is_some_and(|u| stopped.contains(u));
                let after = g.grant.validity.to.is_none_or(|t| t > eff);
                if on_dissolved && after && g.grant.role != baocao_core::access::Role::Viewer {
                    problems.push(format!(
                        "account {}: grant {} ({}) on dissolved unit {} stays in force after the cutover",
                        account.username,
                        g.id,
                        g.grant.role.as_str(),
                        g.grant.unit.as_deref().unwrap_or_default()
                    ));
                }
            }
        }
        problems.extend(check_agencies(&self.all_agencies().await?, &registry));
        let forms = self.forms().await?;
        for (i, form) in forms.iter().enumerate() {
            let overlapping = forms[i + 1..].iter().any(|v| {
                v.code == form.code && v.valid_from != form.valid_from && v.validity().overlaps(&form.validity())
            });
            if overlapping {
                problems.push(format!("biểu mẫu {}: các phiên bản trùng thời gian hiệu lực", form.code));
            }
        }
        let verdict = self.verify_audit().await?;
        problems.extend(verdict.problems.iter().map(|p| format!("nhật ký hệ thống: {p}")));
        Ok(problems)
    }

    /// Restores the state before cutover `key`, while nothing depends on
    /// it: no report uses a unit it began or a form version it started.
    pub async fn rollback_cutover(&self, actor: &str, key: &str) -> Result<(), StoreError> {
        let record = self
            .cutover(key)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("Không có đợt chuyển đổi «{key}».")))?;
        let undo_text: String = with_pool!(self, |pool| sqlx::query_scalar("SELECT undo FROM cutovers WHERE key = $1")
            .bind(key)
            .fetch_one(pool)
            .await?);
        let undo: Undo = crate::error::parse_json("cutover undo", &undo_text)?;
        let mut dependents = Vec::new();
        for (code, from) in &undo.forms_started {
            let n: i64 = with_pool!(self, |pool| {
                sqlx::query_scalar(
                "SELECT COUNT(*) FROM reports r JOIN forms f ON f.id = r.form_id WHERE f.code = $1 AND f.valid_from = $2"
            )
            .bind(code)
            .bind(from)
            .fetch_one(pool)
            .await?
            });
            if n > 0 {
                dependents.push(format!("{n} report(s) use form {code} from {}", baocao_core::date::format_vn(*from)));
            }
        }
        if record.applied_reorganization {
            let n: i64 = with_pool!(self, |pool| {
                sqlx::query_scalar(
                "SELECT (SELECT COUNT(*) FROM reports r JOIN units u ON u.id = r.unit_id JOIN reorganizations g ON g.id = u.created_by WHERE g.key = $1)
                      + (SELECT COUNT(*) FROM data_values v JOIN units u ON u.id = v.unit_id JOIN reorganizations g ON g.id = u.created_by WHERE g.key = $1)"
            )
            .bind(&record.reorganization)
            .fetch_one(pool)
            .await?
            });
            if n > 0 {
                dependents.push(format!("{n} report(s) or value(s) belong to units the cutover began"));
            }
        }
        if !dependents.is_empty() {
            return Err(StoreError::Refused(
                "không hoàn tác được đợt chuyển đổi: đã có dữ liệu mới dựa trên nó",
                dependents,
            ));
        }
        let mut write = self.begin_write().await?;
        let tx = &mut write;
        {
            for step in undo.accounts.iter().rev() {
                match step {
                    AccountUndo::Created { username } => Self::set_state_in(tx, actor, username, false, false).await?,
                    AccountUndo::Closed { username } => Self::set_state_in(tx, actor, username, true, false).await?,
                    AccountUndo::Opened { username } => Self::set_state_in(tx, actor, username, false, false).await?,
                    AccountUndo::Renamed { username, display_name } => {
                        let text = crate::accounts::AccountText::DisplayName;
                        Self::set_account_text_in(tx, actor, username, text, Some(display_name)).await?
                    }
                    AccountUndo::Granted { grant } => {
                        let from: Option<NaiveDate> =
                            with_conn!(tx, |conn| sqlx::query_scalar("SELECT valid_from FROM grants WHERE id = $1")
                                .bind(grant)
                                .fetch_one(&mut *conn)
                                .await?);
                        Self::revoke_grant_in(tx, actor, *grant, from.unwrap_or(record.effective_date)).await?;
                    }
                    AccountUndo::Ended { grant, valid_to } => {
                        with_conn!(tx, |conn| {
                            sqlx::query("UPDATE grants SET valid_to = $1 WHERE id = $2")
                                .bind(valid_to)
                                .bind(grant)
                                .execute(&mut *conn)
                                .await?;
                            let change = Change {
                                at: Utc::now(),
                                actor,
                                action: "grant.restore",
                                object: format!("grant {grant}"),
                                before: None,
                                after: Some(json!({ "grant": grant, "valid_to": valid_to })),
                            };
                            append_audit!(conn, &change);
                        });
                    }
                }
            }
            with_conn!(tx, |conn| {
                for (code, from) in &undo.forms_started {
                    sqlx::query("DELETE FROM forms WHERE code = $1 AND valid_from = $2")
                        .bind(code)
                        .bind(from)
                        .execute(&mut *conn)
                        .await?;
                }
                for (code, from, definition) in &undo.forms_replaced {
                    let form: Form = crate::error::parse_json("form definition", definition)?;
                    sqlx::query("UPDATE forms SET name = $1, valid_to = $2, definition = $3 WHERE code = $4 AND valid_from = $5")
                        .bind(&form.name)
                        .bind(form.valid_to)
                        .bind(definition)
                        .bind(code)
                        .bind(from)
                        .execute(&mut *conn)
                        .await?;
                }
                for (code, from, to) in &undo.forms_ended {
                    let (id, definition): (i64, String) = sqlx::query_as(
                        "SELECT id, definition FROM forms WHERE code = $1 AND COALESCE(valid_from, '0001-01-01') = COALESCE($2, '0001-01-01')",
                    )
                    .bind(code)
                    .bind(from)
                    .fetch_one(&mut *conn)
                    .await?;
                    let mut form: Form = crate::error::parse_json("form definition", &definition)?;
                    form.valid_to = *to;
                    sqlx::query("UPDATE forms SET valid_to = $1, definition = $2 WHERE id = $3")
                        .bind(to)
                        .bind(serde_json::to_string(&form).expect("plain data serializes"))
                        .bind(id)
                        .execute(&mut *conn)
                        .await?;
                }
                for (code, before) in &undo.regimes {
                    match before {
                        Some(definition) => {
                            let name = serde_json::from_str::<serde_json::Value>(definition)
                                .ok()
                                .and_then(|v| v["name"].as_str().map(str::to_string))
                                .unwrap_or_default();
                            sqlx::query("UPDATE regimes SET name = $1, definition = $2 WHERE code = $3")
                                .bind(name)
                                .bind(definition)
                                .bind(code)
                                .execute(&mut *conn)
                                .await?;
                        }
                        None => {
                            sqlx::query("DELETE FROM regimes WHERE code = $1").bind(code).execute(&mut *conn).await?;
                        }
                    }
                }
                sqlx::query("DELETE FROM cutover_units WHERE cutover_key = $1").bind(key).execute(&mut *conn).await?;
                sqlx::query("DELETE FROM cutovers WHERE key = $1").bind(key).execute(&mut *conn).await?;
                let change = Change {
                    at: Utc::now(),
                    actor,
                    action: "cutover.rollback",
                    object: format!("cutover {key}"),
                    before: Some(json!({ "effective_date": record.effective_date, "checksum": record.checksum })),
                    after: None,
                };
                append_audit!(conn, &change);
            });
            if record.applied_reorganization {
                Self::revert_reorganization_in(tx, actor, &record.reorganization).await?;
            }
        }
        write.commit().await
    }
}

/// The end a stored form version has now.
async fn stored_form_end(
    tx: &mut WriteTx,
    code: &str,
    from: Option<NaiveDate>,
) -> Result<Option<NaiveDate>, StoreError> {
    Ok(with_conn!(tx, |conn| sqlx::query_scalar(
        "SELECT valid_to FROM forms WHERE code = $1 AND COALESCE(valid_from, '0001-01-01') = COALESCE($2, '0001-01-01')"
    )
    .bind(code)
    .bind(from)
    .fetch_one(&mut *conn)
    .await?))
}
