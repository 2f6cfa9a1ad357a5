//! Reports in the database: entered, checked, submitted, approved,
//! returned and reopened; consolidated and counted for completeness.
//! Their forms and regimes are [`crate::forms`].

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use baocao_core::datavalue::CheckedValue;
use baocao_core::form::{Column, Form};
use baocao_core::indicator::{with_formula_components, year_to_date_of};
use baocao_core::regime::Regime;
use baocao_core::report::{
    Completeness, Consolidated, ConsolidatedRow, ReportRow, ReportView, Revision, Signature, UnitCompleteness,
    column_key,
};
use baocao_core::workflow::{Action, Status};
use baocao_core::{Indicator, Period, Registry, UnitVersion};
use chrono::{DateTime, Utc};

use crate::compose::{Audience, ComposeContext, Counting};
use crate::error::{parse_json, rejected};
use crate::restated::TableQuery;
use crate::values::ReportFilter;
use crate::{Db, StoreError, with_pool};

/// What a person asks of a report.
#[derive(Clone, Debug)]
pub struct ReportRequest {
    pub regime: String,
    pub unit: String,
    pub period: Period,
    pub action: Action,
    /// This period's values by indicator code, as typed.
    pub values: BTreeMap<String, String>,
    /// Year plan values by indicator code, as typed.
    pub plan: BTreeMap<String, String>,
    pub actor: String,
    pub signature: Option<(String, String)>,
    /// When the action happened, for reports carried over from an earlier
    /// system with their own history; now when absent.
    pub at: Option<DateTime<Utc>>,
    /// For an approval or a return on a regime with an approval chain: the
    /// level (1 the first) the actor was found to decide at. The action is
    /// refused if the report has moved to another level meanwhile. None:
    /// whatever level it stands at (the command line's operator).
    pub level: Option<usize>,
    /// The `Idempotency-Key` the request came with, claimed: marked applied
    /// in the action's own transaction, and the action written only if
    /// the claim still holds.
    pub idempotency: Option<crate::idempotency::Held>,
    /// The revision the change was made on (0: before the report's first
    /// action); refused as [`StoreError::Stale`] when the report has moved
    /// since. None: whatever it stands at.
    pub base_revision: Option<i64>,
}

/// The regime, reporting unit, form version and indicators of one report.
#[derive(Debug)]
pub(crate) struct ReportScope {
    pub(crate) regime_id: i64,
    pub(crate) regime: Regime,
    pub(crate) unit: UnitVersion,
    pub(crate) form_id: i64,
    pub(crate) form: Form,
    pub(crate) indicators: Arc<HashMap<String, Indicator>>,
    /// The area whose figures the report gives, when not its own
    /// ([`Regime::about`]).
    pub(crate) about: Option<baocao_core::VersionKey>,
}

/// What an action on a report came to: the status it left the report in
/// and what the form's rules found in its values.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Outcome {
    pub status: Status,
    pub findings: Vec<baocao_core::form::Finding>,
    /// The number of the revision the action wrote: what a next change
    /// made on this state gives as its `base_revision`.
    pub revision: i64,
}

/// One composed figure of an output form, with its marks.
#[derive(Clone, Copy, Default)]
struct Figure {
    value: Option<f64>,
    estimated: bool,
    pulled: bool,
}

#[derive(sqlx::FromRow)]
struct RevisionRow {
    seq: i64,
    action: String,
    status: String,
    actor: String,
    at: DateTime<Utc>,
    note: Option<String>,
    level: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct ReportRowDb {
    id: i64,
    status: String,
    submitted_at: Option<DateTime<Utc>>,
    approved_at: Option<DateTime<Utc>>,
    returned_reason: Option<String>,
    signer: Option<String>,
    signer_position: Option<String>,
    signed_at: Option<DateTime<Utc>>,
    frozen: Option<String>,
    approvals: i64,
}

/// The report of a regime ($1), unit version (code $2, valid from $3) and
/// period ($4).
const REPORT_OF: &str = "FROM reports r JOIN units u ON u.id = r.unit_id
     WHERE r.regime_id = $1 AND u.code = $2 AND COALESCE(u.valid_from, '0001-01-01') = COALESCE($3, '0001-01-01')
       AND r.period = $4";

const REPORT_COLUMNS: &str = "r.id, r.status, r.submitted_at, r.approved_at, r.returned_reason, r.signer, \
     r.signer_position, r.signed_at, r.frozen, r.approvals";

/// Values typed for the form's indicators, checked against their types;
/// every problem named in Vietnamese.
pub(crate) fn checked(
    typed: &BTreeMap<String, String>,
    form: &Form,
    indicators: &HashMap<String, Indicator>,
    unit: &UnitVersion,
    period: Period,
    column: Column,
) -> Result<Vec<CheckedValue>, StoreError> {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for (index, (code, text)) in typed.iter().enumerate() {
        let Some(indicator) = form.indicators().find(|c| c == code).and_then(|c| indicators.get(c)) else {
            problems.push(format!("Chỉ tiêu «{code}» không có trong biểu {}.", form.code));
            continue;
        };
        if text.trim().is_empty() {
            continue;
        }
        if indicator.aggregation.formula().is_some() {
            problems.push(format!(
                "Chỉ tiêu «{}» ({code}) được tính tự động theo công thức; không nhập số liệu.",
                form.label(code, indicators)
            ));
            continue;
        }
        match indicator.value_type.parse(&baocao_core::text::parse_vn_number(text)) {
            Ok(value) => out.push(CheckedValue {
                index,
                indicator: code.clone(),
                unit: unit.key(),
                period,
                value,
                comment: None,
            }),
            Err(e) => problems.push(format!(
                "Chỉ tiêu «{}» ({code}), cột «{}»: giá trị không hợp lệ ({e}).",
                form.label(code, indicators),
                column.heading()
            )),
        }
    }
    if problems.is_empty() { Ok(out) } else { Err(rejected(problems.join("\n"))) }
}

impl Db {
    /// The unit that reports, checked against the regime for that period.
    fn reporting_unit(
        registry: &Registry,
        regime: &Regime,
        code: &str,
        period: &Period,
    ) -> Result<UnitVersion, StoreError> {
        let Some(unit) = registry.in_force(code, period.end()) else {
            return Err(rejected(format!(
                "đơn vị {code} không có hiệu lực trong kỳ {}; không báo cáo cho kỳ này được",
                period.label()
            )));
        };
        regime.asks(period).map_err(rejected)?;
        if !regime.covers(registry, unit, period) {
            return Err(rejected(format!(
                "đơn vị {code} không thuộc diện báo cáo theo chế độ {} trong kỳ {}",
                regime.code,
                period.label()
            )));
        }
        Ok(unit.clone())
    }

    /// Applies an action to a report (creating it as a draft if needed), in
    /// one transaction: values saved, rules checked, status moved, revision
    /// kept. Errors of the rules block submission; warnings do not.
    pub async fn act_on_report(&self, registry: &Registry, req: ReportRequest) -> Result<ReportView, StoreError> {
        let scope = Arc::new(self.scope(registry, &req.regime, &req.unit, &req.period).await?);
        let period = req.period;
        let frozen = self.freezing(registry, &scope, &req).await?;
        self.write_report_action(scope.clone(), req, frozen).await?;
        self.view(registry, &scope, &period).await
    }

    /// [`Db::act_on_report`] without computing the report afterwards, for
    /// callers acting on many reports or that need only the outcome.
    pub async fn apply_report_action(&self, registry: &Registry, req: ReportRequest) -> Result<Outcome, StoreError> {
        let scope = Arc::new(self.scope(registry, &req.regime, &req.unit, &req.period).await?);
        let frozen = self.freezing(registry, &scope, &req).await?;
        self.write_report_action(scope, req, frozen).await
    }

    /// For an approval, what the report shows as it is approved (JSON of
    /// [`baocao_core::report::Frozen`]), stored with the approval in its
    /// transaction. The report is submitted then, so nothing of its own
    /// can change in between; what it draws on (other months, the year's
    /// plan) is read as the approver sees it.
    async fn freezing(
        &self,
        registry: &Registry,
        scope: &ReportScope,
        req: &ReportRequest,
    ) -> Result<Option<String>, StoreError> {
        if req.action != Action::Approve {
            return Ok(None);
        }
        let view = self.live_view(registry, scope, &req.period).await?;
        Ok(Some(serde_json::to_string(&view.frozen()).expect("plain data serializes")))
    }

    /// What a report of `code` for `period` under `regime` is about, checked:
    /// loaded once for an action and the view that answers it.
    async fn scope(
        &self,
        registry: &Registry,
        regime: &str,
        code: &str,
        period: &Period,
    ) -> Result<ReportScope, StoreError> {
        let catalog = self.catalog().await?;
        let (regime_id, regime) = catalog.regime(regime)?.clone();
        let unit = Self::reporting_unit(registry, &regime, code, period)?;
        let (form_id, form) = catalog.form_at(&regime.form, period.end())?.clone();
        let indicators = catalog.indicators.clone();
        let about = regime.about(registry, &unit, period.end()).map(|area| area.key());
        Ok(ReportScope { regime_id, regime, unit, form_id, form, indicators, about })
    }

    /// A report as it stands, with computed columns and its history. A
    /// report not started yet is shown as an empty draft.
    pub async fn report(
        &self,
        registry: &Registry,
        regime: &str,
        code: &str,
        period: &Period,
    ) -> Result<ReportView, StoreError> {
        let scope = self.scope(registry, regime, code, period).await?;
        self.view(registry, &scope, period).await
    }

    /// How many levels of its regime's approval chain approved the report
    /// of unit `code` for `period` as it was last sent (0 when there is no
    /// report): the level it waits at is the next.
    pub async fn report_approvals(
        &self,
        registry: &Registry,
        regime: &str,
        code: &str,
        period: &Period,
    ) -> Result<usize, StoreError> {
        let (regime_id, _) = self.regime_row(regime).await?;
        let Some(unit) = registry.in_force(code, period.end()) else { return Ok(0) };
        let key = unit.key();
        let sql = format!("SELECT r.approvals {REPORT_OF}");
        let approvals: Option<i64> = with_pool!(self, |pool| sqlx::query_scalar(&sql)
            .bind(regime_id)
            .bind(&key.code)
            .bind(key.valid_from)
            .bind(period.to_string())
            .fetch_optional(pool)
            .await?);
        Ok(approvals.unwrap_or(0).max(0) as usize)
    }

    /// The earliest period any report of `regime` is for (periods of one
    /// regime sort as text), so that lists can offer periods back to it.
    pub async fn first_report_period(&self, regime: &str) -> Result<Option<Period>, StoreError> {
        let (regime_id, _) = self.regime_row(regime).await?;
        let sql = "SELECT MIN(period) FROM reports WHERE regime_id = $1";
        let first: Option<String> =
            with_pool!(self, |pool| sqlx::query_scalar(sql).bind(regime_id).fetch_one(pool).await?);
        Ok(first.and_then(|p| p.parse().ok()))
    }

    /// For each submitted report of `regime` for `period`, by unit code:
    /// who sent it last and who approved it since (at lower levels), what
    /// decides whether an account may approve it
    /// (`core::workflow::approval_barred`) without composing the report.
    pub async fn report_deciders(
        &self,
        regime: &str,
        period: &Period,
    ) -> Result<HashMap<String, (String, Vec<String>)>, StoreError> {
        let (regime_id, _) = self.regime_row(regime).await?;
        let sql = "SELECT u.code, v.action, v.actor FROM report_revisions v
             JOIN reports r ON r.id = v.report_id JOIN units u ON u.id = r.unit_id
             WHERE r.regime_id = $1 AND r.period = $2 AND r.status = 'submitted' AND v.action IN ('submit', 'approve')
               AND v.seq >= (SELECT MAX(w.seq) FROM report_revisions w WHERE w.report_id = r.id AND w.action = 'submit')
             ORDER BY u.code, v.seq";
        let rows: Vec<(String, String, String)> = with_pool!(self, |pool| sqlx::query_as(sql)
            .bind(regime_id)
            .bind(period.to_string())
            .fetch_all(pool)
            .await?);
        let mut deciders: HashMap<String, (String, Vec<String>)> = HashMap::new();
        for (code, action, actor) in rows {
            let entry = deciders.entry(code).or_default();
            if action == "submit" {
                entry.0 = actor;
            } else {
                entry.1.push(actor);
            }
        }
        Ok(deciders)
    }

    /// A report as people see it: computed now, or for an approved report
    /// as it was fixed at its approval (a report approved before approvals
    /// fixed it is fixed the first time it is shown).
    async fn view(&self, registry: &Registry, scope: &ReportScope, period: &Period) -> Result<ReportView, StoreError> {
        let (view, row) = self.view_and_row(registry, scope, period).await?;
        let Some(row) = row.filter(|r| r.status == Status::Approved.as_str()) else { return Ok(view) };
        match &row.frozen {
            Some(frozen) => Ok(view.with_frozen(parse_json("frozen report", frozen)?)),
            None => {
                let frozen = serde_json::to_string(&view.frozen()).expect("plain data serializes");
                with_pool!(self, |pool| sqlx::query(
                    "UPDATE reports SET frozen = $1 WHERE id = $2 AND status = 'approved' AND frozen IS NULL"
                )
                .bind(&frozen)
                .bind(row.id)
                .execute(pool)
                .await
                .map(drop))?;
                Ok(view)
            }
        }
    }

    /// A report computed from what is stored now, whatever its state.
    async fn live_view(
        &self,
        registry: &Registry,
        scope: &ReportScope,
        period: &Period,
    ) -> Result<ReportView, StoreError> {
        Ok(self.view_and_row(registry, scope, period).await?.0)
    }

    async fn view_and_row(
        &self,
        registry: &Registry,
        scope: &ReportScope,
        period: &Period,
    ) -> Result<(ReportView, Option<ReportRowDb>), StoreError> {
        let ReportScope { regime_id, regime, unit, form, indicators, .. } = scope;
        let regime_id = *regime_id;
        let sql = format!("SELECT {REPORT_COLUMNS} {REPORT_OF}");
        let key = unit.key();
        let row: Option<ReportRowDb> = with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(regime_id)
            .bind(&key.code)
            .bind(key.valid_from)
            .bind(period.to_string())
            .fetch_optional(pool)
            .await?);
        let revisions: Vec<Revision> = match &row {
            None => Vec::new(),
            Some(r) => {
                let sql = "SELECT seq, action, status, actor, at, note, level FROM report_revisions WHERE report_id = $1 ORDER BY seq";
                let rows: Vec<RevisionRow> =
                    with_pool!(self, |pool| sqlx::query_as(sql).bind(r.id).fetch_all(pool).await?);
                rows.into_iter()
                    .map(|r| Revision {
                        seq: r.seq,
                        action: r.action,
                        status: r.status,
                        actor: r.actor,
                        at: r.at,
                        note: r.note,
                        level: r.level,
                    })
                    .collect()
            }
        };
        let rows = self.report_rows(registry, form, indicators, unit, period).await?;
        let this: HashMap<String, f64> =
            rows.iter().filter_map(|r| Some((r.indicator.clone()?, *r.cells.get("this_period")?))).collect();
        let status = row.as_ref().and_then(|r| Status::parse(&r.status)).unwrap_or(Status::Draft);
        let view = ReportView {
            regime: regime.code.clone(),
            form: form.code.clone(),
            form_name: form.name.clone(),
            unit: unit.code.clone(),
            unit_name: unit.name.clone(),
            period: *period,
            period_label: period.label(),
            status,
            deadline: regime.deadline(period),
            submitted_at: row.as_ref().and_then(|r| r.submitted_at),
            approved_at: row.as_ref().and_then(|r| r.approved_at),
            returned_reason: row.as_ref().and_then(|r| r.returned_reason.clone()),
            signature: row.as_ref().and_then(|r| {
                Some(Signature {
                    signer: r.signer.clone()?,
                    position: r.signer_position.clone()?,
                    signed_at: r.signed_at?,
                })
            }),
            columns: form.columns.clone(),
            findings: form.validate(&this, indicators),
            rows,
            revisions,
            levels: regime.level_names(),
            approvals: row.as_ref().map_or(0, |r| r.approvals.max(0) as usize),
        };
        Ok((view, row))
    }

    /// Every row of the form with its columns, entered or computed.
    async fn report_rows(
        &self,
        registry: &Registry,
        form: &Form,
        indicators: &HashMap<String, Indicator>,
        unit: &UnitVersion,
        period: &Period,
    ) -> Result<Vec<ReportRow>, StoreError> {
        let structure_at = period.end();
        // A report shows its own values as they stand, draft or not; what
        // it draws from other periods (the year to date, the same period
        // last year) counts by the one rule, so that no one else's draft,
        // nor a dissolved unit's, slips in.
        let own = &ComposeContext::new(registry, indicators, Counting::Everything);
        let official = &ComposeContext::new(registry, indicators, Counting::APPROVED);
        let last_year = period.year_before();
        let year_to_date = period.year_to_date();
        let plans: HashMap<String, f64> = {
            let sql = "SELECT i.code, p.value FROM plan_values p JOIN indicators i ON i.id = p.indicator_id
                       JOIN units u ON u.id = p.unit_id
                       WHERE u.code = $1 AND COALESCE(u.valid_from, '0001-01-01') = COALESCE($2, '0001-01-01') AND p.year = $3";
            let key = unit.key();
            let rows: Vec<(String, f64)> = with_pool!(self, |pool| sqlx::query_as(sql)
                .bind(&key.code)
                .bind(key.valid_from)
                .bind(period.year())
                .fetch_all(pool)
                .await?);
            rows.into_iter().collect()
        };
        let pulled: HashMap<String, String> = {
            let sql = "SELECT i.code, s.label FROM data_values d JOIN indicators i ON i.id = d.indicator_id
                       JOIN units u ON u.id = d.unit_id JOIN value_sources s ON s.id = d.source_id AND s.kind = 'feed'
                       WHERE u.code = $1 AND COALESCE(u.valid_from, '0001-01-01') = COALESCE($2, '0001-01-01')
                         AND d.period = $3";
            let key = unit.key();
            let rows: Vec<(String, String)> = with_pool!(self, |pool| sqlx::query_as(sql)
                .bind(&key.code)
                .bind(key.valid_from)
                .bind(period.to_string())
                .fetch_all(pool)
                .await?);
            rows.into_iter().collect()
        };
        // A figure is estimated when it has a value resting on a guessed
        // share, pulled when it has one made partly of a feed's numbers.
        let estimated =
            |c: &Option<baocao_core::restate::Composed>| c.as_ref().is_some_and(|c| c.value.is_some() && c.estimated);
        let pulled_in =
            |c: &Option<baocao_core::restate::Composed>| c.as_ref().is_some_and(|c| c.value.is_some() && c.pulled);
        let mut out = Vec::new();
        for row in &form.rows {
            let indicator = row.indicator.as_ref().and_then(|c| indicators.get(c));
            let mut cells = BTreeMap::new();
            let (mut this_period_estimated, mut same_period_estimated) = (false, false);
            let (mut year_to_date_estimated, mut same_period_pulled, mut year_to_date_pulled) = (false, false, false);
            if let Some(ind) = indicator {
                let value_at = |p: Period| {
                    let ctx = if p == *period { own } else { official };
                    self.compose_or_blank(ctx, ind, &unit.code, p, structure_at)
                };
                let this = value_at(*period).await?;
                this_period_estimated = estimated(&this);
                let this = this.and_then(|c| c.value);
                let before = value_at(last_year).await?;
                same_period_estimated = estimated(&before);
                same_period_pulled = pulled_in(&before);
                let before = before.and_then(|c| c.value);
                // The year so far of the indicator, or of the components
                // of its formula (a rate's is the rate of the sums).
                let mut to_date: HashMap<(String, Period), Option<f64>> = HashMap::new();
                for code in with_formula_components([ind.code.clone()], indicators) {
                    let Some(component) = indicators.get(&code) else { continue };
                    for p in &year_to_date {
                        let ctx = if p == period { own } else { official };
                        let figure = self.compose_or_blank(ctx, component, &unit.code, *p, structure_at).await?;
                        // Every figure the year so far may read marks it,
                        // as an output form's row is marked.
                        year_to_date_estimated |= estimated(&figure);
                        year_to_date_pulled |= pulled_in(&figure);
                        to_date.insert((code.clone(), *p), figure.and_then(|c| c.value));
                    }
                }
                let of = |code: &str| -> Vec<Option<f64>> {
                    year_to_date.iter().map(|p| to_date.get(&(code.to_string(), *p)).copied().flatten()).collect()
                };
                let cumulative = year_to_date_of(&ind.code, indicators, &of);
                let plan = plans.get(&ind.code).copied();
                let percent = |a: Option<f64>, b: Option<f64>| match (a, b) {
                    (Some(a), Some(b)) if b != 0.0 => Some(a / b * 100.0),
                    _ => None,
                };
                for (column, value) in [
                    (Column::ThisPeriod, this),
                    (Column::YearPlan, plan),
                    (Column::Cumulative, cumulative),
                    (Column::SamePeriodLastYear, before),
                    (Column::PercentOfPlan, percent(cumulative, plan)),
                    (Column::PercentOfSamePeriod, percent(this, before)),
                ] {
                    if let Some(v) = value.filter(|_| form.columns.contains(&column)) {
                        cells.insert(column_key(column).to_string(), v);
                    }
                }
            }
            out.push(ReportRow {
                stt: row.stt.clone(),
                label: row.label.clone().or_else(|| indicator.map(|i| i.name.clone())).unwrap_or_default(),
                indicator: row.indicator.clone(),
                unit_of_measure: indicator.map(|i| i.unit.clone()),
                heading: row.heading,
                computed: indicator.is_some_and(|i| i.aggregation.formula().is_some()),
                indent: row.indent,
                cells,
                this_period_estimated,
                same_period_estimated,
                year_to_date_estimated,
                pulled_from: row.indicator.as_ref().and_then(|c| pulled.get(c)).cloned(),
                same_period_pulled,
                year_to_date_pulled,
            });
        }
        Ok(out)
    }

    /// An output form for the area `code` and `period`, from the approved
    /// reports of its regime (and the submitted ones with
    /// `include_submitted`), in the structure of the period's last day.
    pub async fn consolidate(
        &self,
        registry: &Registry,
        form: &str,
        code: &str,
        period: &Period,
        include_submitted: bool,
    ) -> Result<Consolidated, StoreError> {
        let (_, form) = self.form_at(form, period.end()).await?;
        let source =
            form.source.clone().ok_or_else(|| rejected(format!("biểu mẫu {} không phải là biểu đầu ra", form.code)))?;
        let (regime_id, regime) = self.regime_row(&source.regime).await?;
        let day = period.end();
        let area = registry.in_force(code, day).ok_or_else(|| {
            rejected(format!("đơn vị {code} không có hiệu lực ngày {}", baocao_core::date::format_vn(day)))
        })?;
        let indicators = self.indicators_by_code().await?;
        let counting = Counting::Official { include_submitted };
        let expected: Vec<UnitVersion> =
            regime.units_for(registry, period).into_iter().filter(|u| registry.within(u, &area.code, day)).collect();
        // An area's total composes its units; agencies are no part of it, so
        // their regimes are consolidated agency by agency.
        if regime.agencies.is_some() && source.layout == baocao_core::form::Layout::Total {
            return Err(rejected(format!(
                "biểu đầu ra {} cộng theo địa bàn, mà chế độ {} có cơ quan báo cáo: hãy dùng biểu theo từng đơn vị (layout = \"by_unit\")",
                form.code, regime.code
            )));
        }
        let counted = self.reported_units(&ReportFilter { regime_id, include_submitted }, period).await?;
        let counted = expected.iter().filter(|u| counted.contains(&u.key())).count();
        // Every figure of the form composed in one pass by the engine of
        // every table (`restate_table`): each unit's shares once, each
        // period's numbers read once for the form's indicators only.
        let year_to_date = period.year_to_date();
        let periods: Vec<Period> = match source.layout {
            // The year so far ends with this period; last year's is not in it.
            baocao_core::form::Layout::Total => {
                std::iter::once(period.year_before()).chain(year_to_date.iter().copied()).collect()
            }
            baocao_core::form::Layout::ByUnit => vec![*period],
        };
        let units = match source.layout {
            baocao_core::form::Layout::Total => vec![area.code.clone()],
            baocao_core::form::Layout::ByUnit => expected.iter().map(|u| u.code.clone()).collect(),
        };
        let on_form = form.rows.iter().filter_map(|r| r.indicator.clone());
        // A total's year to date of a formula reads its components too.
        let mut asked: Vec<String> = match source.layout {
            baocao_core::form::Layout::Total => with_formula_components(on_form, &indicators),
            baocao_core::form::Layout::ByUnit => on_form.collect(),
        };
        asked.retain(|c| indicators.contains_key(c));
        asked.sort_unstable();
        asked.dedup();
        let query = TableQuery { indicators: asked, units, periods, structure_at: day };
        let mut figures: HashMap<(String, String, Period), Figure> = HashMap::new();
        self.restate_table(registry, &query, Audience::everywhere(counting), |cells| {
            figures.extend(cells.into_iter().map(|c| {
                let figure = Figure { value: Some(c.value), estimated: c.estimated, pulled: c.pulled };
                ((c.indicator, c.unit, c.period), figure)
            }));
            std::future::ready(true)
        })
        .await?;
        let value = |indicator: &str, unit: &str, p: Period| {
            figures.get(&(indicator.to_string(), unit.to_string(), p)).copied().unwrap_or_default()
        };
        let indicator_rows: Vec<(&baocao_core::form::FormRow, &Indicator)> =
            form.rows.iter().filter_map(|r| Some((r, r.indicator.as_ref().and_then(|c| indicators.get(c))?))).collect();
        let (headings, rows) = match source.layout {
            baocao_core::form::Layout::Total => {
                let columns: Vec<Column> = form
                    .columns
                    .iter()
                    .copied()
                    .filter(|c| !matches!(c, Column::YearPlan | Column::PercentOfPlan))
                    .collect();
                let mut rows = Vec::new();
                for row in &form.rows {
                    let indicator = row.indicator.as_ref().and_then(|c| indicators.get(c));
                    let mut cells = Vec::new();
                    let mut traced = Vec::new();
                    let (mut estimated, mut pulled) = (false, false);
                    if let Some(ind) = indicator {
                        let now = value(&ind.code, &area.code, *period);
                        let last_year = value(&ind.code, &area.code, period.year_before());
                        let (this, before) = (now.value, last_year.value);
                        let of = |code: &str| -> Vec<Option<f64>> {
                            year_to_date.iter().map(|p| value(code, &area.code, *p).value).collect()
                        };
                        let cumulative = year_to_date_of(&ind.code, &indicators, &of);
                        // The year so far is marked as the figures it is made
                        // of: a formula's are its components'.
                        if cumulative.is_some() {
                            let read = with_formula_components([ind.code.clone()], &indicators);
                            for f in read.iter().flat_map(|c| year_to_date.iter().map(|p| value(c, &area.code, *p))) {
                                estimated |= f.value.is_some() && f.estimated;
                                pulled |= f.value.is_some() && f.pulled;
                            }
                        }
                        estimated |= now.estimated || last_year.estimated;
                        pulled |= now.pulled || last_year.pulled;
                        for c in &columns {
                            let one = |p: Period| Some((ind.code.clone(), area.code.clone(), p));
                            traced.push(match c {
                                Column::ThisPeriod => one(*period),
                                Column::SamePeriodLastYear => one(period.year_before()),
                                _ => None,
                            });
                            cells.push(match c {
                                Column::ThisPeriod => this,
                                Column::SamePeriodLastYear => before,
                                Column::Cumulative => cumulative,
                                Column::PercentOfSamePeriod => {
                                    this.zip(before).filter(|(_, b)| *b != 0.0).map(|(a, b)| a / b * 100.0)
                                }
                                Column::YearPlan | Column::PercentOfPlan => None,
                            });
                        }
                    }
                    rows.push(ConsolidatedRow {
                        stt: row.stt.clone(),
                        label: row.label.clone().or_else(|| indicator.map(|i| i.name.clone())).unwrap_or_default(),
                        code: row.indicator.clone(),
                        unit_of_measure: indicator.map(|i| i.unit.clone()),
                        heading: row.heading,
                        indent: row.indent,
                        cells,
                        estimated,
                        pulled,
                        traced,
                    });
                }
                (columns.iter().map(|c| c.heading().to_string()).collect(), rows)
            }
            baocao_core::form::Layout::ByUnit => {
                let mut rows = Vec::new();
                for (i, unit) in expected.iter().enumerate() {
                    let mut cells = Vec::new();
                    let mut traced = Vec::new();
                    let (mut estimated, mut pulled) = (false, false);
                    for (_, ind) in &indicator_rows {
                        let figure = value(&ind.code, &unit.code, *period);
                        cells.push(figure.value);
                        traced.push(Some((ind.code.clone(), unit.code.clone(), *period)));
                        estimated |= figure.estimated;
                        pulled |= figure.pulled;
                    }
                    rows.push(ConsolidatedRow {
                        stt: (i + 1).to_string(),
                        label: unit.name.clone(),
                        code: Some(unit.code.clone()),
                        unit_of_measure: None,
                        heading: false,
                        indent: 0,
                        cells,
                        estimated,
                        pulled,
                        traced,
                    });
                }
                let headings = indicator_rows
                    .iter()
                    .map(|(r, i)| format!("{} ({})", r.label.clone().unwrap_or_else(|| i.name.clone()), i.unit))
                    .collect();
                (headings, rows)
            }
        };
        Ok(Consolidated {
            form: form.code.clone(),
            form_name: form.name.clone(),
            regime: regime.code.clone(),
            unit: area.code.clone(),
            unit_name: area.name.clone(),
            period: *period,
            period_label: period.label(),
            layout: source.layout,
            include_submitted,
            counted,
            expected: expected.len(),
            headings,
            rows,
        })
    }

    /// Which units sent the report of `period` under `regime`, on time or late.
    pub async fn completeness(
        &self,
        registry: &Registry,
        regime: &str,
        period: &Period,
    ) -> Result<Completeness, StoreError> {
        let (regime_id, regime) = self.regime_row(regime).await?;
        let deadline = regime.deadline(period);
        let sql = "SELECT u.code, r.status, r.submitted_at, r.approvals FROM reports r JOIN units u ON u.id = r.unit_id
                   WHERE r.regime_id = $1 AND r.period = $2";
        let rows: Vec<(String, String, Option<DateTime<Utc>>, i64)> = with_pool!(self, |pool| sqlx::query_as(sql)
            .bind(regime_id)
            .bind(period.to_string())
            .fetch_all(pool)
            .await?);
        let by_unit: HashMap<String, (Status, Option<DateTime<Utc>>, usize)> = rows
            .into_iter()
            .filter_map(|(code, status, at, approvals)| {
                Some((code, (Status::parse(&status)?, at, approvals.max(0) as usize)))
            })
            .collect();
        // The deadline is a day in Vietnam: sent before its end (UTC+7) is on time.
        let units: Vec<UnitCompleteness> = regime
            .units_for(registry, period)
            .into_iter()
            .map(|u| {
                let (status, submitted_at, approvals) =
                    by_unit.get(&u.code).map_or((None, None, 0), |(s, at, n)| (Some(*s), *at, *n));
                let sent = matches!(status, Some(Status::Submitted | Status::Approved));
                let on_time = submitted_at.filter(|_| sent).map(|at| baocao_core::date::day_in_vietnam(at) <= deadline);
                UnitCompleteness { code: u.code, name: u.name, status, submitted_at, on_time, approvals }
            })
            .collect();
        Ok(Completeness::of(regime.code.clone(), *period, deadline, units))
    }
}
