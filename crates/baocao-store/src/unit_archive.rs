//! Everything kept of a dissolved unit, gathered for its archive package:
//! its versions, reports with their revisions, values, the form versions
//! its reports used, grants, the agencies that served it and their rosters
//! on its last day, and its audit trail.

use std::collections::BTreeSet;

use baocao_core::UnitVersion;
use baocao_core::directory::Agency;
use baocao_core::form::Form;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::directory::RosterEntry;
use crate::{Db, StoreError, with_pool};

/// Everything kept of a dissolved unit, for its package.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UnitArchive {
    pub versions: Vec<UnitVersion>,
    pub reports: Vec<ArchivedReport>,
    pub values: Vec<ArchivedValue>,
    /// The form versions its reports used, as they were.
    pub forms: Vec<Form>,
    /// Grants on the unit, and whose.
    pub accounts: Vec<ArchivedGrant>,
    /// The agencies that served it, and their rosters on its last day.
    pub agencies: Vec<Agency>,
    pub roster: Vec<RosterEntry>,
    pub audit: Vec<baocao_core::audit::Record>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ArchivedReport {
    pub regime: String,
    pub period: String,
    pub form: String,
    pub status: String,
    pub submitted_at: Option<DateTime<Utc>>,
    pub approved_at: Option<DateTime<Utc>>,
    pub returned_reason: Option<String>,
    pub signer: Option<String>,
    pub signer_position: Option<String>,
    pub signed_at: Option<DateTime<Utc>>,
    pub revisions: Vec<ArchivedRevision>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ArchivedRevision {
    pub seq: i64,
    pub action: String,
    pub status: String,
    pub actor: String,
    pub at: DateTime<Utc>,
    pub note: Option<String>,
    pub snapshot: serde_json::Value,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ArchivedValue {
    pub indicator: String,
    pub period: String,
    pub value: String,
    pub comment: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ArchivedGrant {
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
}

type ArchivedReportRow = (
    i64,
    String,
    String,
    String,
    String,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<DateTime<Utc>>,
);

impl Db {
    /// Everything kept of unit `code` in its versions that ended by the day
    /// after `last_day` (a code a new unit goes on with is not the new
    /// unit's data), for its package; rosters and grants as of `last_day`.
    pub async fn unit_archive(&self, code: &str, last_day: NaiveDate) -> Result<UnitArchive, StoreError> {
        let end = last_day.succ_opt().unwrap_or(last_day);
        let versions: Vec<UnitVersion> =
            self.unit_history(code).await?.into_iter().filter(|v| v.validity.to.is_some_and(|t| t <= end)).collect();
        let sql = "SELECT r.id, g.code, r.period, f.definition, r.status, r.submitted_at, r.approved_at, r.returned_reason,
                   r.signer, r.signer_position, r.signed_at
            FROM reports r JOIN units u ON u.id = r.unit_id JOIN regimes g ON g.id = r.regime_id JOIN forms f ON f.id = r.form_id
            WHERE u.code = $1 AND u.valid_to <= $2 ORDER BY g.code, r.period";
        let rows: Vec<ArchivedReportRow> =
            with_pool!(self, |pool| sqlx::query_as(sql).bind(code).bind(end).fetch_all(pool).await?);
        let revision_sql = "SELECT v.report_id, v.seq, v.action, v.status, v.actor, v.at, v.note, v.snapshot
            FROM report_revisions v JOIN reports r ON r.id = v.report_id JOIN units u ON u.id = r.unit_id
            WHERE u.code = $1 AND u.valid_to <= $2 ORDER BY v.report_id, v.seq";
        type RevisionRow = (i64, i64, String, String, String, DateTime<Utc>, Option<String>, String);
        let revisions: Vec<RevisionRow> =
            with_pool!(self, |pool| sqlx::query_as(revision_sql).bind(code).bind(end).fetch_all(pool).await?);
        let mut forms: Vec<Form> = Vec::new();
        let mut reports = Vec::new();
        for (
            id,
            regime,
            period,
            definition,
            status,
            submitted_at,
            approved_at,
            returned_reason,
            signer,
            position,
            signed,
        ) in rows
        {
            let form: Form = crate::error::parse_json("form definition", &definition)?;
            let form_code = form.code.clone();
            if !forms.iter().any(|f| f.code == form.code && f.valid_from == form.valid_from) {
                forms.push(form);
            }
            reports.push(ArchivedReport {
                regime,
                period,
                form: form_code,
                status,
                submitted_at,
                approved_at,
                returned_reason,
                signer,
                signer_position: position,
                signed_at: signed,
                revisions: revisions
                    .iter()
                    .filter(|r| r.0 == id)
                    .map(|r| {
                        Ok(ArchivedRevision {
                            seq: r.1,
                            action: r.2.clone(),
                            status: r.3.clone(),
                            actor: r.4.clone(),
                            at: r.5,
                            note: r.6.clone(),
                            snapshot: crate::error::parse_json("report snapshot", &r.7)?,
                        })
                    })
                    .collect::<Result<_, StoreError>>()?,
            });
        }
        let value_sql = "SELECT i.code, v.period, v.value, v.comment FROM data_values v
            JOIN units u ON u.id = v.unit_id JOIN indicators i ON i.id = v.indicator_id
            WHERE u.code = $1 AND u.valid_to <= $2 ORDER BY v.period, i.code";
        let values: Vec<(String, String, String, Option<String>)> =
            with_pool!(self, |pool| sqlx::query_as(value_sql).bind(code).bind(end).fetch_all(pool).await?);
        let grant_sql = "SELECT a.username, a.display_name, g.role, g.valid_from, g.valid_to FROM grants g
            JOIN accounts a ON a.id = g.account_id WHERE g.unit_code = $1 ORDER BY a.username, g.id";
        type GrantRow = (String, String, String, Option<NaiveDate>, Option<NaiveDate>);
        let grants: Vec<GrantRow> =
            with_pool!(self, |pool| sqlx::query_as(grant_sql).bind(code).fetch_all(pool).await?);
        let agencies: Vec<Agency> =
            self.agencies_at(last_day).await?.into_iter().filter(|a| a.unit_code.as_deref() == Some(code)).collect();
        let serving: BTreeSet<&str> = agencies.iter().map(|a| a.code.as_str()).collect();
        let roster = self
            .roster_at(last_day, None)
            .await?
            .into_iter()
            .filter(|e| serving.contains(e.agency_code.as_str()))
            .collect();
        let filter =
            crate::audit::AuditFilter { object: Some(code.to_string()), limit: i64::MAX, ..Default::default() };
        let mut audit = self.audit_records(&filter).await?;
        audit.reverse();
        Ok(UnitArchive {
            versions,
            reports,
            values: values
                .into_iter()
                .map(|(indicator, period, value, comment)| ArchivedValue { indicator, period, value, comment })
                .collect(),
            forms,
            accounts: grants
                .into_iter()
                .map(|(username, display_name, role, valid_from, valid_to)| ArchivedGrant {
                    username,
                    display_name,
                    role,
                    valid_from,
                    valid_to,
                })
                .collect(),
            agencies,
            roster,
            audit,
        })
    }
}
