//! Figures composed from stored values, across reorganizations: one rule
//! for which values count ([`Counting`]), whom a figure is for and what it
//! may show them ([`Audience`]), and the composition of an indicator for a
//! unit, a period and the structure of a day (sums over the units of that
//! day, shares of the units before a reorganization, formulas of other
//! indicators), reading each period's numbers once.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use baocao_core::restate::Contribution;
use baocao_core::{Indicator, Period, Registry, UnitVersion, VersionKey};
use chrono::NaiveDate;

use crate::kept::Kept;
use crate::{Db, FigureRevisions, StoreError};

/// Whether the asker may see a unit as it stood on a day: a composed value
/// leaves out (and counts as withheld) the sources it may not.
pub type Visibility<'a> = dyn Fn(&UnitVersion, NaiveDate) -> bool + Sync + 'a;

/// Whom a figure is composed for: which stored values count, and which
/// units they may see (all when `visible` is absent).
#[derive(Clone, Copy)]
pub struct Audience<'a> {
    pub counting: Counting,
    pub visible: Option<&'a Visibility<'a>>,
}

impl Audience<'_> {
    /// Someone who sees every unit (the command line, a system-wide grant).
    pub fn everywhere(counting: Counting) -> Audience<'static> {
        Audience { counting, visible: None }
    }
}

/// Which stored values a figure is made of: one rule for every total the
/// system shows (comparisons, output forms, targets, year to date,
/// exports), stated on the pages that show them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Counting {
    /// Values that belong to no report (imported directly, as DHIS2
    /// dataValueSets) and those of approved reports; with
    /// `include_submitted`, those of submitted reports too. A draft or a
    /// returned report never counts.
    Official { include_submitted: bool },
    /// Every stored value: what a report shows of itself while it is a draft.
    Everything,
}

impl Counting {
    /// Approved reports only: what counts unless one asks for more.
    pub const APPROVED: Counting = Counting::Official { include_submitted: false };

    /// The condition on a value `d` (of `data_values`), with the parameter
    /// `$n` bound to [`Counting::include_submitted`]: false when the value
    /// belongs to a report (one whose form has its indicator, of its unit
    /// and period) that does not count.
    pub(crate) fn condition(self, n: usize) -> String {
        match self {
            // The parameter is bound whatever the rule (PostgreSQL refuses
            // a bound parameter a statement does not use).
            Counting::Everything => format!("(CAST(${n} AS BOOLEAN) OR true)"),
            Counting::Official { .. } => format!(
                "NOT EXISTS (SELECT 1 FROM reports r JOIN form_indicators fi ON fi.form_id = r.form_id
                   WHERE r.unit_id = d.unit_id AND r.period = d.period AND fi.indicator_id = d.indicator_id
                     AND {})",
                self.excludes(n)
            ),
        }
    }

    /// The condition on a report `r` whose values do not count, with `$n`
    /// bound to [`Counting::include_submitted`].
    pub(crate) fn excludes(self, n: usize) -> String {
        match self {
            Counting::Everything => format!("(CAST(${n} AS BOOLEAN) AND false)"),
            Counting::Official { .. } => format!("(r.status <> 'approved' AND NOT (${n} AND r.status = 'submitted'))"),
        }
    }

    /// The condition on a report `r` whose values are read as an area's
    /// figures, with `$n` bound to [`Counting::include_submitted`].
    pub(crate) fn report_condition(self, n: usize) -> String {
        match self {
            Counting::Everything => format!("(CAST(${n} AS BOOLEAN) OR true)"),
            Counting::Official { .. } => format!("(r.status = 'approved' OR (${n} AND r.status = 'submitted'))"),
        }
    }

    pub(crate) fn include_submitted(self) -> bool {
        matches!(self, Counting::Official { include_submitted: true })
    }

    /// The rule in Vietnamese, for the pages that show totals.
    pub fn vietnamese(self) -> &'static str {
        match self {
            Counting::Official { include_submitted: false } => {
                "Số liệu gồm số liệu nhập trực tiếp và số liệu của các báo cáo đã phê duyệt; báo cáo nháp, đã gửi chưa duyệt hoặc bị trả lại không được tính."
            }
            Counting::Official { include_submitted: true } => {
                "Số liệu gồm số liệu nhập trực tiếp và số liệu của các báo cáo đã phê duyệt hoặc đã gửi (chưa duyệt); báo cáo nháp hoặc bị trả lại không được tính."
            }
            Counting::Everything => "Mọi số liệu đã lưu, kể cả của báo cáo nháp.",
        }
    }
}

/// What values are composed from: the registry, the indicators, and which
/// stored values count.
pub(crate) struct ComposeContext<'a> {
    pub registry: &'a Registry,
    pub indicators: &'a HashMap<String, Indicator>,
    pub counting: Counting,
    /// Only the sources the asker may see; all when absent.
    pub visible: Option<&'a Visibility<'a>>,
    /// Numbers already read, by period: one query per period, however many
    /// indicators and units a report or an output form composes.
    numbers: std::sync::Mutex<HashMap<Period, Arc<PeriodNumbers>>>,
    /// The revisions the numbers are read at, once read: what the numbers
    /// kept between compositions ([`KeptNumbers`]) are checked against.
    revisions: std::sync::Mutex<Option<Arc<NumbersRevisions>>>,
    /// The indicators whose numbers are read (those asked and those their
    /// formulas name); every indicator when absent. A figure of one
    /// indicator then costs the same however many others are stored.
    only: Option<Vec<String>>,
    /// Contributions by unit code and the epochs of the structure day and
    /// the period's day: the same for every period between two changes of
    /// the registry (a year of months before a reform shares one).
    contributions: std::sync::Mutex<HashMap<(String, usize, usize), SharedContributions>>,
}

pub(crate) type SharedContributions = Arc<Vec<Contribution>>;

/// The numbers kept between compositions, by period, rule of counting and
/// indicators read (all when absent), each with its period's revision: the
/// next question about the same months (another structure day, another
/// page) reads none of them again while no value or report of that period
/// changes, nor the catalog, access or the registry. A report filed this
/// month leaves the numbers of the months before kept.
#[derive(Debug)]
pub(crate) struct KeptNumbers {
    kept: Kept<NumbersKey, (i64, Arc<PeriodNumbers>)>,
    /// A table whose period draws on more numbers than this has the
    /// database sum them (`summed`): [`MOST_NUMBERS`], what could not be
    /// kept anyway, unless [`Db::sum_tables_above`] said otherwise.
    sum_above: std::sync::atomic::AtomicUsize,
}

/// What a composition's numbers are read at: the revisions of all but
/// values (see [`FigureRevisions::without_values`]) and each period's own.
#[derive(Debug)]
struct NumbersRevisions {
    others: FigureRevisions,
    periods: HashMap<String, i64>,
}

impl NumbersRevisions {
    fn of(&self, period: &Period) -> i64 {
        self.periods.get(&period.to_string()).copied().unwrap_or(0)
    }
}

/// A period, a rule of counting and the indicators read (all when absent).
type NumbersKey = (Period, Counting, Option<Vec<String>>);

/// At most this many numbers are kept (some tens of MiB); a province's
/// seven indicators over two years of months are about 70,000.
const MOST_NUMBERS: usize = 500_000;

impl Default for KeptNumbers {
    fn default() -> Self {
        KeptNumbers { kept: Kept::new(MOST_NUMBERS), sum_above: MOST_NUMBERS.into() }
    }
}

/// The numeric values of one period for the unit codes read so far, by
/// indicator and unit code: a figure finds its sources' numbers without
/// walking every value of the period.
#[derive(Clone, Default)]
pub(crate) struct PeriodNumbers {
    codes: HashSet<String>,
    /// By indicator and unit code, each version of the unit that has a
    /// number (its first day: the code is the key) and the number. Not the
    /// version's whole key: a national period holds a million numbers, each
    /// of which would carry a second copy of its code.
    values: HashMap<String, HashMap<String, Vec<Dated>>>,
    /// Figures agencies' reports give about these units (by indicator and
    /// area code): the area's version, each agency and its value.
    filed: HashMap<String, HashMap<String, Vec<Filed>>>,
    /// The numbers pulled from another system (a feed), by indicator and
    /// unit version: few or none, so a set beside the numbers rather than
    /// a flag on each.
    pulled: HashMap<String, HashSet<VersionKey>>,
}

/// A unit version's first day (its code is the map's key) and its number.
type Dated = (Option<NaiveDate>, f64);

/// What one agency's counting report gives about one area.
#[derive(Clone)]
struct Filed {
    area: VersionKey,
    agency: VersionKey,
    value: f64,
}

impl PeriodNumbers {
    /// How many numbers these are, as [`KeptNumbers`] counts them.
    fn size(&self) -> usize {
        let values: usize = self.values.values().flat_map(|by_code| by_code.values()).map(Vec::len).sum();
        let filed: usize = self.filed.values().flat_map(|by_code| by_code.values()).map(Vec::len).sum();
        values + filed + self.codes.len()
    }

    /// What agencies filed about the area version `area` for `indicator`.
    fn filed_about(&self, indicator: &str, area: &VersionKey) -> Vec<(VersionKey, f64)> {
        let of_code = self.filed.get(indicator).and_then(|by_code| by_code.get(&area.code));
        of_code.into_iter().flatten().filter(|f| f.area == *area).map(|f| (f.agency.clone(), f.value)).collect()
    }
}

impl<'a> ComposeContext<'a> {
    pub fn new(registry: &'a Registry, indicators: &'a HashMap<String, Indicator>, counting: Counting) -> Self {
        ComposeContext {
            registry,
            indicators,
            counting,
            visible: None,
            numbers: Default::default(),
            revisions: Default::default(),
            only: None,
            contributions: Default::default(),
        }
    }

    /// The shares of unit `code` as it stood on `structure_at`, for a
    /// period ending on `period_end`, without those the asker may not see;
    /// and how many were left out.
    pub(crate) fn shown_contributions(
        &self,
        code: &str,
        structure_at: NaiveDate,
        period_end: NaiveDate,
    ) -> Result<(SharedContributions, usize), StoreError> {
        let shares = self.contributions(code, structure_at, period_end)?;
        let Some(visible) = self.visible else { return Ok((shares, 0)) };
        let (shown, hidden): (Vec<_>, Vec<_>) = shares.iter().cloned().partition(|c| visible(&c.unit, period_end));
        if hidden.is_empty() {
            return Ok((shares, 0));
        }
        Ok((Arc::new(shown), hidden.len()))
    }

    /// Reads only the numbers of `asked` and of the indicators their
    /// formulas name, however deep.
    pub fn limit_to<'s>(&mut self, asked: impl IntoIterator<Item = &'s str>) {
        let asked = asked.into_iter().map(str::to_string);
        self.only = Some(baocao_core::indicator::with_formula_components(asked, self.indicators));
    }

    /// The figure of a plain indicator (no formula, nothing filed by
    /// agencies for it this period) made of `shares` (without `withheld`
    /// sources the asker may not see), from numbers already read for every
    /// unit of `shares`: what [`Db::compose_indicator`] answers, without
    /// listing its sources. An error for what does not aggregate; `None`
    /// when the general path must answer.
    pub(crate) fn plain_figure(
        &self,
        indicator: &Indicator,
        period: &Period,
        shares: &[Contribution],
        withheld: usize,
    ) -> Option<Result<baocao_core::restate::Composed, String>> {
        if indicator.aggregation.formula().is_some() {
            return None;
        }
        let present: Vec<(f64, f64)> = {
            let cache = self.numbers.lock().expect("not poisoned");
            let numbers = cache.get(period)?;
            if numbers.filed.contains_key(&indicator.code) {
                return None;
            }
            let by_code = numbers.values.get(&indicator.code);
            shares
                .iter()
                .filter_map(|c| {
                    let stored = by_code?.get(&c.unit.code)?;
                    let (_, value) = stored.iter().find(|(from, _)| *from == c.unit.validity.from)?;
                    Some((*value, c.weight))
                })
                .collect()
        };
        let summary = baocao_core::restate::Summary::of(&present);
        let pulled = self.any_pulled(&indicator.code, period, shares);
        Some(baocao_core::restate::Composed::of_summary(&indicator.aggregation, &summary, shares, withheld, pulled))
    }

    /// Whether the number of `indicator` of any unit of `shares` in
    /// `period`, as read, was pulled from another system.
    pub(crate) fn any_pulled(&self, indicator: &str, period: &Period, shares: &[Contribution]) -> bool {
        let cache = self.numbers.lock().expect("not poisoned");
        let Some(pulled) = cache.get(period).and_then(|n| n.pulled.get(indicator)) else { return false };
        shares.iter().any(|c| pulled.contains(&c.unit.key()))
    }

    /// Forgets the numbers read for `period`: a long export keeps one
    /// period in memory at a time.
    pub fn forget(&self, period: &Period) {
        self.numbers.lock().expect("not poisoned").remove(period);
    }

    /// One unit's figure from what agencies filed about it, aggregated as
    /// the indicator says (none when it cannot be, as several values of an
    /// indicator that does not add up).
    fn filed_value(&self, indicator: &str, by_agency: &[(VersionKey, f64)]) -> Option<f64> {
        let aggregation = &self.indicators.get(indicator)?.aggregation;
        compose_filed(self.registry, aggregation, by_agency, |_| true).ok()?.value
    }

    fn contributions(
        &self,
        code: &str,
        structure_at: NaiveDate,
        period_end: NaiveDate,
    ) -> Result<SharedContributions, StoreError> {
        let key = (code.to_string(), self.registry.epoch(structure_at), self.registry.epoch(period_end));
        if let Some(found) = self.contributions.lock().expect("not poisoned").get(&key) {
            return Ok(found.clone());
        }
        let computed = Arc::new(baocao_core::restate::contributions(self.registry, code, structure_at, period_end)?);
        self.contributions.lock().expect("not poisoned").insert(key, computed.clone());
        Ok(computed)
    }
}

impl Db {
    /// Whether a table's period that draws on `numbers` numbers is summed
    /// by the database rather than read into memory and kept.
    pub(crate) fn summed_by_database(&self, numbers: usize) -> bool {
        numbers > self.shared().numbers.sum_above.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Has tables whose period draws on more than `numbers` numbers summed
    /// by the database (by default, those too large to keep). Both ways
    /// give the same figures; tests set it low to show that they do, and
    /// benchmarks to compare them.
    #[doc(hidden)]
    pub fn sum_tables_above(&self, numbers: usize) {
        self.shared().numbers.sum_above.store(numbers, std::sync::atomic::Ordering::Relaxed);
    }

    /// [`Db::compose_indicator`] for what is shown: a value that cannot be
    /// composed (no formula components, aggregation «none») is left blank.
    pub(crate) async fn compose_or_blank(
        &self,
        ctx: &ComposeContext<'_>,
        indicator: &Indicator,
        code: &str,
        period: Period,
        structure_at: NaiveDate,
    ) -> Result<Option<baocao_core::restate::Composed>, StoreError> {
        match self.compose_indicator(ctx, indicator, code, &period, structure_at, 0).await {
            Ok(c) => Ok(Some(c)),
            Err(StoreError::Conflict(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The numbers of one indicator and period for some units. Each unit's
    /// values of a period are read once, for every indicator the context
    /// reads, and kept in `ctx`.
    async fn cached_numbers(
        &self,
        ctx: &ComposeContext<'_>,
        indicator: &str,
        period: &Period,
        units: &[&str],
    ) -> Result<HashMap<VersionKey, f64>, StoreError> {
        self.read_numbers(ctx, period, units).await?;
        let cache = ctx.numbers.lock().expect("not poisoned");
        let Some(numbers) = cache.get(period) else { return Ok(HashMap::new()) };
        let mut found: HashMap<VersionKey, f64> = HashMap::new();
        if let Some(by_code) = numbers.values.get(indicator) {
            for code in units {
                let versions = by_code.get(*code).into_iter().flatten();
                found.extend(versions.map(|&(valid_from, v)| (VersionKey { code: code.to_string(), valid_from }, v)));
            }
        }
        // What agencies filed about a unit is its figure (see `filed_figure`).
        if let Some(by_code) = numbers.filed.get(indicator) {
            let mut done: HashSet<&VersionKey> = HashSet::new();
            for code in units {
                for filed in by_code.get(*code).into_iter().flatten() {
                    if !done.insert(&filed.area) {
                        continue;
                    }
                    if let Some(value) = ctx.filed_value(indicator, &numbers.filed_about(indicator, &filed.area)) {
                        found.insert(filed.area.clone(), value);
                    }
                }
            }
        }
        Ok(found)
    }

    /// Reads into `ctx` the numbers of `period` for the units not read yet:
    /// from what an earlier composition kept, else from the database (and
    /// then kept for the next).
    pub(crate) async fn read_numbers(
        &self,
        ctx: &ComposeContext<'_>,
        period: &Period,
        units: &[&str],
    ) -> Result<(), StoreError> {
        let unread = |numbers: Option<&PeriodNumbers>| -> Vec<&str> {
            let known = numbers.map(|n| &n.codes);
            units.iter().copied().filter(|c| !known.is_some_and(|k| k.contains(*c))).collect()
        };
        let mine = ctx.numbers.lock().expect("not poisoned").get(period).cloned();
        if unread(mine.as_deref()).is_empty() {
            return Ok(());
        }
        let revisions = self.numbers_revisions(ctx).await?;
        let revision = revisions.of(period);
        let key = (*period, ctx.counting, ctx.only.clone());
        let kept = &self.shared().numbers.kept;
        // What is kept holds what this composition read before (it was kept
        // then), unless the memory started over: then begin from its own.
        let base = kept
            .get(revisions.others, &key)
            .and_then(|(at, numbers)| (at == revision).then_some(numbers))
            .filter(|k| mine.as_ref().is_none_or(|m| m.codes.is_subset(&k.codes)));
        let base = base.or(mine);
        let missing = unread(base.as_deref());
        if missing.is_empty() {
            ctx.numbers.lock().expect("not poisoned").insert(*period, base.expect("every unit was read"));
            return Ok(());
        }
        let only = ctx.only.as_deref();
        let read = self.numbers_of_units(period, &missing, ctx.counting, only).await?;
        let filed = self.filed_numbers(period, &missing, ctx.counting, only).await?;
        let mut entry = base.map(|b| PeriodNumbers::clone(&b)).unwrap_or_default();
        entry.codes.extend(missing.iter().map(|c| c.to_string()));
        for ((indicator, unit), value, pulled) in read {
            if pulled {
                entry.pulled.entry(indicator.clone()).or_default().insert(unit.clone());
            }
            let VersionKey { code, valid_from } = unit;
            entry.values.entry(indicator).or_default().entry(code).or_default().push((valid_from, value));
        }
        for ((indicator, area), agency, value) in filed {
            let by_code = entry.filed.entry(indicator).or_default();
            by_code.entry(area.code.clone()).or_default().push(Filed { area, agency, value });
        }
        let size = entry.size();
        let entry = Arc::new(entry);
        kept.put(revisions.others, key, (revision, entry.clone()), size);
        ctx.numbers.lock().expect("not poisoned").insert(*period, entry);
        Ok(())
    }

    /// The revisions `ctx` reads its numbers at: read before its first
    /// numbers, then the same for all of them.
    async fn numbers_revisions(&self, ctx: &ComposeContext<'_>) -> Result<Arc<NumbersRevisions>, StoreError> {
        if let Some(revisions) = ctx.revisions.lock().expect("not poisoned").clone() {
            return Ok(revisions);
        }
        let others = self.figure_revisions().await?.without_values();
        let revisions = Arc::new(NumbersRevisions { others, periods: self.period_revisions().await? });
        *ctx.revisions.lock().expect("not poisoned") = Some(revisions.clone());
        Ok(revisions)
    }

    /// The figures agencies' reports give about the unit `code` asked in
    /// the structure of its own period: when any counts, they are its
    /// figure (the province's population as the statistics office reports
    /// it, not the communes' sum), with the agencies as its sources. A unit
    /// asked in another day's structure is composed from its units as usual.
    async fn filed_figure(
        &self,
        ctx: &ComposeContext<'_>,
        indicator: &Indicator,
        code: &str,
        period: &Period,
        structure_at: NaiveDate,
    ) -> Result<Option<baocao_core::restate::Composed>, StoreError> {
        let (Some(then), Some(now)) =
            (ctx.registry.in_force(code, period.end()), ctx.registry.in_force(code, structure_at))
        else {
            return Ok(None);
        };
        if then.key() != now.key() || then.agency.is_some() {
            return Ok(None);
        }
        self.read_numbers(ctx, period, &[code]).await?;
        let filed = {
            let cache = ctx.numbers.lock().expect("not poisoned");
            cache.get(period).map(|n| n.filed_about(&indicator.code, &then.key())).unwrap_or_default()
        };
        if filed.is_empty() {
            return Ok(None);
        }
        let shown = |version: &UnitVersion| ctx.visible.is_none_or(|visible| visible(version, period.end()));
        let composed =
            compose_filed(ctx.registry, &indicator.aggregation, &filed, shown).map_err(StoreError::Conflict)?;
        Ok(Some(composed))
    }

    /// The numbers stored for one period for the units with these codes,
    /// by indicator and unit version, and whether each was pulled from
    /// another system.
    async fn numbers_of_units(
        &self,
        period: &Period,
        codes: &[&str],
        counting: Counting,
        only: Option<&[String]>,
    ) -> Result<Vec<((String, VersionKey), f64, bool)>, StoreError> {
        // From the units to their values through the (unit_id, period)
        // index, not through all values of the period: CROSS JOIN fixes
        // that order for SQLite and is an ordinary join for PostgreSQL.
        let from = |list: &str, n: usize, indicators: &str| {
            format!(
                "FROM units u CROSS JOIN data_values d JOIN indicators i ON i.id = d.indicator_id
                 LEFT JOIN value_sources s ON s.id = d.source_id AND s.kind = 'feed'
                 WHERE d.unit_id = u.id AND d.period = $1 AND d.value_num IS NOT NULL AND u.code IN ({list})
                   AND {} {indicators}",
                counting.condition(n)
            )
        };
        // The flag as 0 or 1: both backends then read it alike.
        let columns = "i.code, u.code, u.valid_from, d.value_num, CASE WHEN s.id IS NULL THEN 0 ELSE 1 END";
        type Row = (String, String, Option<NaiveDate>, f64, i32);
        let rows: Vec<Row> = self.rows_by_codes(period, codes, counting, only, columns, from).await?;
        Ok(rows
            .into_iter()
            .map(|(i, code, valid_from, v, pulled)| ((i, VersionKey { code, valid_from }), v, pulled == 1))
            .collect())
    }

    /// The figures that counting reports of agencies give about the units
    /// with these codes in one period ([`baocao_core::regime::About`]):
    /// (indicator, area), the agency, and its value.
    async fn filed_numbers(
        &self,
        period: &Period,
        codes: &[&str],
        counting: Counting,
        only: Option<&[String]>,
    ) -> Result<Vec<((String, VersionKey), VersionKey, f64)>, StoreError> {
        let from = |list: &str, n: usize, indicators: &str| {
            format!(
                "FROM units a JOIN reports r ON r.about_unit_id = a.id JOIN units g ON g.id = r.unit_id
                 JOIN form_indicators fi ON fi.form_id = r.form_id
                 JOIN data_values d ON d.unit_id = r.unit_id AND d.period = r.period AND d.indicator_id = fi.indicator_id
                 JOIN indicators i ON i.id = d.indicator_id
                 WHERE r.period = $1 AND d.value_num IS NOT NULL AND a.code IN ({list}) AND {} {indicators}",
                counting.report_condition(n)
            )
        };
        let columns = "i.code, a.code, a.valid_from, g.code, g.valid_from, d.value_num";
        type Row = (String, String, Option<NaiveDate>, String, Option<NaiveDate>, f64);
        let rows: Vec<Row> = self.rows_by_codes(period, codes, counting, only, columns, from).await?;
        Ok(rows
            .into_iter()
            .map(|(i, code, from, agency, agency_from, v)| {
                ((i, VersionKey { code, valid_from: from }), VersionKey { code: agency, valid_from: agency_from }, v)
            })
            .collect())
    }

    /// Rows of `columns` for one period and some unit codes: `from` makes
    /// the `FROM …` clause of a list of code parameters (`$2`…), the
    /// number of the parameter that takes [`Counting::include_submitted`]
    /// and a condition on the indicator `i` (empty when every indicator is
    /// read: `only` absent or too long to bind).
    async fn rows_by_codes<R>(
        &self,
        period: &Period,
        codes: &[&str],
        counting: Counting,
        only: Option<&[String]>,
        columns: &str,
        from: impl Fn(&str, usize, &str) -> String,
    ) -> Result<Vec<R>, StoreError>
    where
        R: serde::de::DeserializeOwned + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
    {
        let only: &[String] = only.filter(|list| list.len() <= 200).unwrap_or_default();
        let mut rows = Vec::new();
        // Bounded batches keep within both backends' limits on parameters.
        for chunk in codes.chunks(500) {
            let list: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
            let first = chunk.len() + 3;
            let indicators = if only.is_empty() {
                String::new()
            } else {
                let params: Vec<String> = (0..only.len()).map(|i| format!("${}", first + i)).collect();
                format!("AND i.code IN ({})", params.join(", "))
            };
            let from = from(&list.join(", "), chunk.len() + 2, &indicators);
            macro_rules! bound {
                ($query:expr) => {{
                    let mut q = $query.bind(period.to_string());
                    for code in chunk {
                        q = q.bind(*code);
                    }
                    q = q.bind(counting.include_submitted());
                    for code in only {
                        q = q.bind(code.as_str());
                    }
                    q
                }};
            }
            match self {
                // As one JSON row: sqlx hands each SQLite row across threads
                // separately, and compositions read hundreds of small rows.
                Db::Sqlite(sqlite) => {
                    let sql = format!("SELECT json_group_array(json_array({columns})) {from}");
                    let json: String = bound!(sqlx::query_scalar(&sql)).fetch_one(&sqlite.pool).await?;
                    let read: Vec<R> =
                        serde_json::from_str(&json).map_err(|e| StoreError::Corrupt(format!("stored numbers: {e}")))?;
                    rows.extend(read);
                }
                // As rows: PostgreSQL streams them, and building the same
                // JSON took half the statement's time (25,300 rows a month
                // of a province's table).
                Db::Postgres(postgres) => {
                    let sql = format!("SELECT {columns} {from}");
                    rows.extend(bound!(sqlx::query_as::<_, R>(&sql)).fetch_all(&postgres.pool).await?);
                }
            }
        }
        Ok(rows)
    }

    /// The value of `indicator` for unit `code` in `period`, in the
    /// structure of day `structure_at` (the period's own last day when
    /// absent): a province or district sums its units of that day, and a
    /// unit that did not exist in the period is composed from those that did.
    /// What counts and what the asker may see are the `audience`'s; the
    /// sources it may not see are left out and counted as withheld.
    pub async fn query_value(
        &self,
        registry: &Registry,
        indicator: &str,
        code: &str,
        period: &Period,
        structure_at: Option<NaiveDate>,
        audience: Audience<'_>,
    ) -> Result<baocao_core::restate::Composed, StoreError> {
        let at = structure_at.unwrap_or_else(|| period.end());
        let periods = std::slice::from_ref(period);
        let mut composed = self.series(registry, indicator, code, periods, at, audience, true).await?.remove(0);
        // Shown to people: in Vietnamese order of names.
        composed.sources.sort_by(|a, b| baocao_core::text::compare_vi(&a.name, &b.name).then(a.unit.cmp(&b.unit)));
        Ok(composed)
    }

    /// [`Db::query_value`] for several periods, all in the structure of
    /// day `structure_at`, reading each period's numbers once; without the
    /// sources of each value (a series shows none, and listing them is
    /// most of the work of a plain indicator's figure).
    pub async fn query_series(
        &self,
        registry: &Registry,
        indicator: &str,
        code: &str,
        periods: &[Period],
        structure_at: NaiveDate,
        audience: Audience<'_>,
    ) -> Result<Vec<baocao_core::restate::Composed>, StoreError> {
        self.series(registry, indicator, code, periods, structure_at, audience, false).await
    }

    #[allow(clippy::too_many_arguments)]
    async fn series(
        &self,
        registry: &Registry,
        indicator: &str,
        code: &str,
        periods: &[Period],
        structure_at: NaiveDate,
        audience: Audience<'_>,
        with_sources: bool,
    ) -> Result<Vec<baocao_core::restate::Composed>, StoreError> {
        let indicators: HashMap<String, Indicator> =
            self.indicators().await?.into_iter().map(|i| (i.code.clone(), i)).collect();
        let found = indicators.get(indicator);
        let indicator = found.ok_or_else(|| StoreError::NotFound(format!("Không có chỉ tiêu «{indicator}».")))?;
        let mut ctx = ComposeContext::new(registry, &indicators, audience.counting);
        ctx.visible = audience.visible;
        ctx.limit_to([indicator.code.as_str()]);
        let mut series = Vec::with_capacity(periods.len());
        for period in periods {
            if !with_sources
                && let Some(plain) = self.plain_composed(&ctx, indicator, code, period, structure_at).await?
            {
                series.push(plain);
                continue;
            }
            series.push(self.compose_indicator(&ctx, indicator, code, period, structure_at, 0).await?);
        }
        Ok(series)
    }

    /// The figure of a plain indicator as [`Db::compose_indicator`] gives
    /// it, without its sources, straight from the numbers read
    /// ([`ComposeContext::plain_figure`]); `None` when the general path
    /// must answer (a formula, figures filed by agencies).
    async fn plain_composed(
        &self,
        ctx: &ComposeContext<'_>,
        indicator: &Indicator,
        code: &str,
        period: &Period,
        structure_at: NaiveDate,
    ) -> Result<Option<baocao_core::restate::Composed>, StoreError> {
        if indicator.aggregation.formula().is_some() {
            return Ok(None);
        }
        let (shown, withheld) = ctx.shown_contributions(code, structure_at, period.end())?;
        let mut units: Vec<&str> = shown.iter().map(|c| c.unit.code.as_str()).collect();
        // The unit itself: what agencies filed about it is read with it.
        units.push(code);
        self.read_numbers(ctx, period, &units).await?;
        Ok(ctx.plain_figure(indicator, period, &shown, withheld).and_then(Result::ok))
    }

    /// The value of `indicator` for unit `code` in `period`, in the
    /// structure of day `structure_at`; a computed indicator from the
    /// values of the indicators its formula names, each composed first.
    pub(crate) fn compose_indicator<'a>(
        &'a self,
        ctx: &'a ComposeContext<'a>,
        indicator: &'a Indicator,
        code: &'a str,
        period: &'a Period,
        structure_at: NaiveDate,
        depth: u8,
    ) -> std::pin::Pin<Box<dyn Future<Output = Result<baocao_core::restate::Composed, StoreError>> + Send + 'a>> {
        Box::pin(async move {
            let Some(formula) = indicator.aggregation.formula() else {
                if let Some(filed) = self.filed_figure(ctx, indicator, code, period, structure_at).await? {
                    return Ok(filed);
                }
                let (contributions, withheld) = ctx.shown_contributions(code, structure_at, period.end())?;
                let units: Vec<&str> = contributions.iter().map(|c| c.unit.code.as_str()).collect();
                let numbers = self.cached_numbers(ctx, &indicator.code, period, &units).await?;
                let mut composed = baocao_core::restate::compose(&indicator.aggregation, &contributions, &numbers)
                    .map_err(StoreError::Conflict)?;
                composed.withheld = withheld;
                composed.pulled = ctx.any_pulled(&indicator.code, period, &contributions);
                return Ok(composed);
            };
            if depth > 8 {
                return Err(StoreError::Conflict(format!(
                    "Công thức của chỉ tiêu {} quay vòng lại chính nó.",
                    indicator.code
                )));
            }
            let mut parts = Vec::new();
            for name in baocao_core::indicator::formula_references(formula) {
                let part = ctx.indicators.get(name).ok_or_else(|| {
                    StoreError::Conflict(format!(
                        "Công thức của chỉ tiêu {} dùng «{name}», không có chỉ tiêu này.",
                        indicator.code
                    ))
                })?;
                let composed = self.compose_indicator(ctx, part, code, period, structure_at, depth + 1).await?;
                parts.push((name.to_string(), composed));
            }
            baocao_core::restate::Composed::of_formula(formula, parts).map_err(StoreError::Conflict)
        })
    }
}

/// The figure agencies filed about one unit (`filed`: each agency's value),
/// aggregated as the indicator says, each agency counting whole; an agency
/// `shown` refuses is left out and counted as withheld.
fn compose_filed(
    registry: &Registry,
    aggregation: &baocao_core::indicator::Aggregation,
    filed: &[(VersionKey, f64)],
    shown: impl Fn(&UnitVersion) -> bool,
) -> Result<baocao_core::restate::Composed, String> {
    let mut contributions = Vec::new();
    let mut withheld = 0;
    for (agency, _) in filed {
        let Some(version) = registry.version(agency) else { continue };
        if !shown(version) {
            withheld += 1;
            continue;
        }
        contributions.push(Contribution { unit: version.clone(), weight: 1.0, estimated: false });
    }
    let numbers: HashMap<VersionKey, f64> = filed.iter().cloned().collect();
    let mut composed = baocao_core::restate::compose(aggregation, &contributions, &numbers)?;
    composed.withheld = withheld;
    Ok(composed)
}
