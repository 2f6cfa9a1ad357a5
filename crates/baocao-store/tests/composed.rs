//! Figures composed over many periods at once (a series, a table) are the
//! figures composed one period at a time, across a reorganization, over
//! years of months, and for an asker who may not see every source.

use baocao_core::datavalue::RawValue;
use baocao_core::{Period, UnitKind, UnitVersion};
use baocao_store::Db;
use baocao_store::compose::{Audience, Counting, Visibility};
use baocao_store::restated::{Cell, TableQuery};
use baocao_testkit::{TestDb, counted_indicators, merge_communes, reorganization, unit};
use chrono::NaiveDate;

fn day(s: &str) -> NaiveDate {
    baocao_core::parse_date(s).unwrap()
}

/// January 2020 to October 2025: 70 months.
fn months() -> Vec<Period> {
    (2020..=2025)
        .flat_map(|year| (1..=12).map(move |month| Period::Month { year, month }))
        .filter(|p| *p <= Period::Month { year: 2025, month: 10 })
        .collect()
}

/// What a commune entered in a month: distinct for every unit and month.
fn entered(unit: u32, index: usize) -> f64 {
    f64::from(unit) * 1000.0 + index as f64
}

/// A province of three communes; on 1 July 2025 communes 00001 and 00002
/// merge into 00001. Every commune of the day enters CT01 every month.
async fn merged_province() -> TestDb {
    let t = TestDb::new().await;
    let baseline = vec![
        unit("01", "Tỉnh Một", UnitKind::Province, 1, None),
        unit("00001", "Xã An", UnitKind::Commune, 2, Some("01")),
        unit("00002", "Xã Bình", UnitKind::Commune, 2, Some("01")),
        unit("00003", "Xã Cường", UnitKind::Commune, 2, Some("01")),
    ];
    t.db.apply_reorganization(baseline, &reorganization("baseline", "2020-01-01", vec![]), false, "test", &|_| {})
        .await
        .unwrap();
    let merge = merge_communes(&["00001", "00002"], "00001", "Xã An", "01");
    t.db.apply_reorganization(vec![], &reorganization("merge", "2025-07-01", vec![merge]), false, "test", &|_| {})
        .await
        .unwrap();
    t.db.import_indicators("test", &counted_indicators(["CT01".to_string()])).await.unwrap();
    let registry = t.db.load_registry().await.unwrap();
    let mut raw = Vec::new();
    for (i, period) in months().iter().enumerate() {
        let communes: &[u32] = if period.end() < day("2025-07-01") { &[1, 2, 3] } else { &[1, 3] };
        for &u in communes {
            raw.push(RawValue {
                index: raw.len(),
                data_element: "CT01".into(),
                period: period.to_string(),
                org_unit: format!("{u:05}"),
                value: entered(u, i).to_string(),
                comment: None,
            });
        }
    }
    let summary = t.db.import_data_values("test", "test.json", &registry, raw).await.unwrap();
    assert_eq!(summary.import_count.imported, 66 * 3 + 4 * 2, "{summary:?}");
    t
}

/// Every cell of the table, composed one period at a time.
async fn one_at_a_time(db: &Db, units: &[&str], at: NaiveDate, audience: Audience<'_>) -> Vec<Cell> {
    let registry = db.load_registry().await.unwrap();
    let mut cells = Vec::new();
    for period in months() {
        for code in units {
            let c = db.query_value(&registry, "CT01", code, &period, Some(at), audience).await.unwrap();
            if let Some(value) = c.value {
                cells.push(Cell {
                    indicator: "CT01".into(),
                    unit: code.to_string(),
                    period,
                    value,
                    estimated: c.estimated,
                    withheld: c.withheld,
                    pulled: c.pulled,
                });
            }
        }
    }
    cells
}

/// What a series says of each month (value and marks) against the same
/// month asked alone.
async fn assert_series_is_its_values(db: &Db, code: &str, at: NaiveDate, audience: Audience<'_>) {
    let registry = db.load_registry().await.unwrap();
    let series = db.query_series(&registry, "CT01", code, &months(), at, audience).await.unwrap();
    for (period, got) in months().iter().zip(series) {
        let alone = db.query_value(&registry, "CT01", code, period, Some(at), audience).await.unwrap();
        let marks = |c: &baocao_core::restate::Composed| (c.value, c.estimated, c.withheld, c.pulled);
        assert_eq!(marks(&got), marks(&alone), "{code} {period}");
    }
}

/// A feed pulls 3 as `indicator` of `unit` for `period` (a DHIS2 code).
async fn pull(db: &Db, registry: &baocao_core::Registry, indicator: &str, unit: &str, period: &str) {
    use baocao_store::feeds::Fetched;
    let mut feed = baocao_ingest::feed::read_feed("feed.toml", include_str!("../../../data/demo/feed.toml")).unwrap();
    feed.indicators = [("so_a".to_string(), indicator.to_string())].into_iter().collect();
    db.save_feed("test", &feed).await.unwrap();
    let claimed = db.claim_feed(chrono::Utc::now()).await.unwrap().unwrap();
    let record = [("ma_ban_ghi", "R1"), ("ma_xa", unit), ("ky", period), ("so_a", "3")];
    let records = vec![record.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()];
    let fetched = Fetched::Records { http_status: 200, records };
    let run = db.store_feed_run(registry, &claimed, chrono::Utc::now(), fetched).await.unwrap();
    assert_eq!(run.stored, 1, "{run:?}");
}

async fn table(db: &Db, units: &[&str], at: NaiveDate, audience: Audience<'_>) -> Vec<Cell> {
    table_of(db, &["CT01"], units, at, audience).await
}

async fn table_of(db: &Db, indicators: &[&str], units: &[&str], at: NaiveDate, audience: Audience<'_>) -> Vec<Cell> {
    let registry = db.load_registry().await.unwrap();
    let query = TableQuery {
        indicators: indicators.iter().map(|i| i.to_string()).collect(),
        units: units.iter().map(|u| u.to_string()).collect(),
        periods: months(),
        structure_at: at,
    };
    let mut cells = Vec::new();
    db.restate_table(&registry, &query, audience, |chunk| {
        cells.extend(chunk);
        async { true }
    })
    .await
    .unwrap();
    cells
}

#[tokio::test]
async fn a_series_and_a_table_are_their_figures_composed_one_period_at_a_time() {
    let t = merged_province().await;
    let registry = t.db.load_registry().await.unwrap();
    let at = day("2025-08-01");
    let merged = day("2025-07-01");
    let everyone = Audience::everywhere(Counting::APPROVED);

    // The new commune's series in the 2025 structure: before the merger,
    // the sum of the two it was made of; after, its own.
    let series = t.db.query_series(&registry, "CT01", "00001", &months(), at, everyone).await.unwrap();
    let values: Vec<Option<f64>> = series.iter().map(|c| c.value).collect();
    let expected: Vec<Option<f64>> = months()
        .iter()
        .enumerate()
        .map(|(i, p)| Some(if p.end() < merged { entered(1, i) + entered(2, i) } else { entered(1, i) }))
        .collect();
    assert_eq!(values, expected);
    assert_series_is_its_values(&t.db, "00001", at, everyone).await;
    assert_series_is_its_values(&t.db, "00002", day("2025-01-01"), everyone).await;

    let units = ["01", "00001", "00003"];
    let cells = table(&t.db, &units, at, everyone).await;
    assert_eq!(cells.len(), 3 * 70);
    assert_eq!(cells, one_at_a_time(&t.db, &units, at, everyone).await);
    // The province is every commune, whatever the structure.
    let province: Vec<f64> = cells.iter().filter(|c| c.unit == "01").map(|c| c.value).collect();
    let sums: Vec<f64> = months()
        .iter()
        .enumerate()
        .map(|(i, p)| entered(1, i) + entered(3, i) + if p.end() < merged { entered(2, i) } else { 0.0 })
        .collect();
    assert_eq!(province, sums);
}

/// A table too large to keep its numbers has the database sum them; a
/// small one reads them into memory. Both give the same cells, whatever
/// the indicator's aggregation, the structure day (whole shares, estimated
/// shares), the rule of counting (a draft's value left out), what the
/// asker may see, and numbers pulled by a feed.
#[tokio::test]
async fn a_table_summed_by_the_database_is_the_table_composed_in_memory() {
    use baocao_core::indicator::Aggregation;
    use baocao_core::workflow::Action;
    use baocao_store::reports::ReportRequest;
    let t = merged_province().await;
    let mut indicators = counted_indicators((2..=6).map(|i| format!("CT0{i}")));
    let aggregations = [
        Aggregation::Average,
        Aggregation::Min,
        Aggregation::Max,
        Aggregation::None,
        Aggregation::Formula("{CT01} + {CT02}".into()),
    ];
    for (indicator, aggregation) in indicators.iter_mut().zip(aggregations) {
        indicator.aggregation = aggregation;
    }
    t.db.import_indicators("test", &indicators).await.unwrap();
    let registry = t.db.load_registry().await.unwrap();
    let mut raw = Vec::new();
    for (i, period) in months().iter().enumerate() {
        let communes: &[u32] = if period.end() < day("2025-07-01") { &[1, 2, 3] } else { &[1, 3] };
        for (&u, k) in communes.iter().flat_map(|u| (2..=5).map(move |k| (u, k))) {
            raw.push(RawValue {
                index: raw.len(),
                data_element: format!("CT0{k}"),
                period: period.to_string(),
                org_unit: format!("{u:05}"),
                value: (entered(u, i) + f64::from(k * u)).to_string(),
                comment: None,
            });
        }
    }
    t.db.import_data_values("test", "more.json", &registry, raw).await.unwrap();
    // A draft of Xã Cường for August 2025 changes its CT01: it counts only
    // for the draft's own rule, «everything».
    let counted = counted_indicators(["CT01".to_string()]);
    t.db.save_form(
        "test",
        &baocao_testkit::input_form("BM", &counted, vec![baocao_core::form::Column::ThisPeriod], vec![]),
    )
    .await
    .unwrap();
    t.db.save_regime("test", &baocao_testkit::monthly_regime("BM", vec![UnitKind::Commune])).await.unwrap();
    let draft = ReportRequest {
        regime: "BC".into(),
        unit: "00003".into(),
        period: Period::Month { year: 2025, month: 8 },
        action: Action::Save,
        values: [("CT01".to_string(), "999".to_string())].into_iter().collect(),
        plan: Default::default(),
        actor: "test".into(),
        signature: None,
        at: None,
        level: None,
        idempotency: None,
        base_revision: None,
    };
    t.db.apply_report_action(&registry, draft).await.unwrap();
    // Xã Cường's CT01 of January 2024 comes from a feed.
    pull(&t.db, &registry, "CT01", "00003", "202401").await;

    let sees = |unit: &UnitVersion, _day: NaiveDate| unit.code != "00002";
    let visible: &Visibility = &sees;
    let withholding = Audience { counting: Counting::APPROVED, visible: Some(visible) };
    let asked = ["CT01", "CT02", "CT03", "CT04", "CT05", "CT06"];
    let cases = [
        (day("2025-08-01"), &["01", "00001", "00003"][..], Audience::everywhere(Counting::APPROVED)),
        (day("2025-08-01"), &["01", "00001", "00003"][..], Audience::everywhere(Counting::Everything)),
        (day("2025-01-01"), &["01", "00001", "00002", "00003"][..], Audience::everywhere(Counting::APPROVED)),
        (day("2025-08-01"), &["01", "00001", "00003"][..], withholding),
    ];
    for (at, units, audience) in cases {
        t.db.sum_tables_above(usize::MAX);
        let in_memory = table_of(&t.db, &asked, units, at, audience).await;
        t.db.sum_tables_above(0);
        let summed = table_of(&t.db, &asked, units, at, audience).await;
        assert_eq!(summed, in_memory, "{at} {units:?} {:?}", audience.counting);
        // What each case is there for is in the table.
        let august = Period::Month { year: 2025, month: 8 };
        let cell = |indicator: &str, unit: &str, period: Period| {
            summed.iter().find(|c| c.indicator == indicator && c.unit == unit && c.period == period).cloned()
        };
        let draft_counted = cell("CT01", "00003", august).map(|c| c.value) == Some(999.0);
        assert_eq!(draft_counted, audience.counting == Counting::Everything);
        assert!(cell("CT01", "00003", Period::Month { year: 2024, month: 1 }).unwrap().pulled);
        assert!(cell("CT06", "01", august).is_some(), "the formula is composed");
        assert!(cell("CT05", "01", august).is_none(), "«none» does not add up over communes");
        assert_eq!(cell("CT05", "00003", august).map(|c| c.value), Some(entered(3, 67) + 15.0));
    }
    let estimated = table_of(&t.db, &asked, &["00002"], day("2025-01-01"), Audience::everywhere(Counting::APPROVED));
    let after = estimated.await.into_iter().filter(|c| c.period.end() >= day("2025-07-01")).collect::<Vec<_>>();
    assert!(!after.is_empty() && after.iter().all(|c| c.estimated), "{after:?}");
}

#[tokio::test]
async fn a_source_the_asker_may_not_see_is_withheld_in_every_period_read_at_once() {
    let t = merged_province().await;
    let at = day("2025-08-01");
    let sees = |unit: &UnitVersion, _day: NaiveDate| unit.code != "00002";
    let visible: &Visibility = &sees;
    let audience = Audience { counting: Counting::APPROVED, visible: Some(visible) };
    let units = ["00001", "00003"];
    let cells = table(&t.db, &units, at, audience).await;
    assert_eq!(cells, one_at_a_time(&t.db, &units, at, audience).await);
    let withheld: Vec<(Period, usize)> =
        cells.iter().filter(|c| c.unit == "00001" && c.withheld > 0).map(|c| (c.period, c.withheld)).collect();
    assert_eq!(withheld.len(), 66, "{withheld:?}");
    let first = cells.iter().find(|c| c.unit == "00001").unwrap();
    assert_eq!((first.value, first.withheld), (entered(1, 0), 1));
    assert_series_is_its_values(&t.db, "00001", at, audience).await;
}

#[tokio::test]
async fn numbers_kept_from_one_composition_give_way_to_a_value_written_after_it() {
    let t = merged_province().await;
    let registry = t.db.load_registry().await.unwrap();
    let everyone = Audience::everywhere(Counting::APPROVED);
    let october = Period::Month { year: 2025, month: 10 };
    let september = Period::Month { year: 2025, month: 9 };
    let province = |period: Period, at: &'static str| {
        let (db, registry) = (&t.db, &registry);
        async move { db.query_value(registry, "CT01", "01", &period, Some(day(at)), everyone).await.unwrap().value }
    };
    let write = |period: Period, value: &'static str| {
        let (db, registry) = (&t.db, &registry);
        let raw = vec![RawValue {
            index: 0,
            data_element: "CT01".into(),
            period: period.to_string(),
            org_unit: "00003".into(),
            value: value.into(),
            comment: None,
        }];
        async move { db.import_data_values("test", "again.json", registry, raw).await.unwrap() }
    };
    assert_eq!(province(october, "2025-10-31").await, Some(entered(1, 69) + entered(3, 69)));
    assert_eq!(province(september, "2025-09-30").await, Some(entered(1, 68) + entered(3, 68)));
    // Another structure day reads the same month: its numbers are kept.
    assert_eq!(province(october, "2025-08-01").await, Some(entered(1, 69) + entered(3, 69)));
    write(october, "5").await;
    assert_eq!(province(october, "2025-09-01").await, Some(entered(1, 69) + 5.0));
    assert_eq!(province(october, "2025-10-31").await, Some(entered(1, 69) + 5.0));
    // Each month's numbers give way to a value of their own month, and
    // only to that: October's stay as they are.
    write(september, "7").await;
    assert_eq!(province(september, "2025-09-30").await, Some(entered(1, 68) + 7.0));
    assert_eq!(province(october, "2025-10-31").await, Some(entered(1, 69) + 5.0));
    write(october, "6").await;
    assert_eq!(province(october, "2025-10-31").await, Some(entered(1, 69) + 6.0));
    assert_eq!(province(september, "2025-09-30").await, Some(entered(1, 68) + 7.0));
}

/// An output form over the communes' regime, by area total (`TH`) or one
/// row per commune (`TU`).
async fn with_output_forms(db: &Db) {
    use baocao_core::form::{Column, Consolidation, FormKind, Layout};
    let indicators = counted_indicators(["CT01".to_string()]);
    let columns = vec![Column::ThisPeriod, Column::Cumulative, Column::SamePeriodLastYear, Column::PercentOfSamePeriod];
    db.save_form("test", &baocao_testkit::input_form("BM", &indicators, vec![Column::ThisPeriod], vec![]))
        .await
        .unwrap();
    db.save_regime("test", &baocao_testkit::monthly_regime("BM", vec![UnitKind::Commune])).await.unwrap();
    for (code, layout) in [("TH", Layout::Total), ("TU", Layout::ByUnit)] {
        let mut form = baocao_testkit::input_form(code, &indicators, columns.clone(), vec![]);
        form.kind = FormKind::Output;
        form.source = Some(Consolidation { regime: "BC".into(), layout });
        db.save_form("test", &form).await.unwrap();
    }
}

#[tokio::test]
async fn an_output_form_is_its_figures_composed_one_at_a_time() {
    let t = merged_province().await;
    with_output_forms(&t.db).await;
    let registry = t.db.load_registry().await.unwrap();
    let everyone = Audience::everywhere(Counting::APPROVED);
    for (year, month) in [(2025, 10), (2025, 3), (2024, 12)] {
        let period = Period::Month { year, month };
        let at = period.end();
        let alone = |code: &'static str, p: Period| {
            let (db, registry) = (&t.db, &registry);
            async move { db.query_value(registry, "CT01", code, &p, Some(at), everyone).await.unwrap() }
        };
        for area in ["01", "00001"] {
            let total = t.db.consolidate(&registry, "TH", area, &period, false).await.unwrap();
            let (this, before) = (alone(area, period).await, alone(area, period.year_before()).await);
            let (mut cumulative, mut cumulative_estimated) = (0.0, false);
            for m in period.year_to_date() {
                let month = alone(area, m).await;
                cumulative += month.value.unwrap();
                cumulative_estimated |= month.estimated;
            }
            let (this_value, before_value) = (this.value.unwrap(), before.value.unwrap());
            let row = &total.rows[0];
            assert_eq!(
                row.cells,
                vec![Some(this_value), Some(cumulative), Some(before_value), Some(this_value / before_value * 100.0)],
                "{area} {period}"
            );
            // The row is estimated where any figure it shows is, the year so
            // far's months included.
            let estimated = this.estimated || before.estimated || cumulative_estimated;
            assert_eq!((row.estimated, row.pulled), (estimated, false), "{area} {period}");
        }
        let by_unit = t.db.consolidate(&registry, "TU", "01", &period, false).await.unwrap();
        let communes: &[&'static str] =
            if period.end() < day("2025-07-01") { &["00001", "00002", "00003"] } else { &["00001", "00003"] };
        let rows: Vec<(Option<String>, Vec<Option<f64>>)> =
            by_unit.rows.iter().map(|r| (r.code.clone(), r.cells.clone())).collect();
        let mut expected = Vec::new();
        for code in communes {
            expected.push((Some(code.to_string()), vec![alone(code, period).await.value]));
        }
        assert_eq!(rows, expected, "{period}");
    }
}

/// `indicator` entered by the two communes of the day, January to
/// October 2025, `value` of each month.
fn each_month_of_2025(indicator: &str, value: impl Fn(u32) -> String) -> Vec<RawValue> {
    (1..=10u32)
        .flat_map(|month| ["00001", "00003"].map(move |unit| (month, unit)))
        .enumerate()
        .map(|(index, (month, unit))| RawValue {
            index,
            data_element: indicator.into(),
            period: format!("2025{month:02}"),
            org_unit: unit.into(),
            value: value(month),
            comment: None,
        })
        .collect()
}

#[tokio::test]
async fn a_year_to_date_target_adds_up_a_flow_and_takes_a_stock_at_the_periods_end() {
    use baocao_core::tasks::{Direction, Measure, Target};
    use baocao_core::{Aggregation, Indicator, ValueType};
    let t = merged_province().await;
    let stock = |code: &str, aggregation: Aggregation| Indicator {
        code: code.into(),
        name: format!("Chỉ tiêu {code}"),
        unit: "người".into(),
        value_type: ValueType::IntegerZeroOrPositive,
        aggregation,
        group: None,
    };
    t.db.import_indicators("test", &[stock("DS", Aggregation::Last), stock("TB", Aggregation::Average)]).await.unwrap();
    let registry = t.db.load_registry().await.unwrap();
    // The people of the two communes of the day, a stock, each month of 2025.
    let raw = each_month_of_2025("DS", |month| (10_000 + month).to_string());
    t.db.import_data_values("test", "ds.json", &registry, raw).await.unwrap();
    let target = |code: &str, indicator: &str, of: Option<&str>| Target {
        code: code.into(),
        plan: "KH".into(),
        name: code.into(),
        indicator: indicator.into(),
        of: of.map(str::to_string),
        unit: "01".into(),
        goal: 1.0,
        direction: Direction::AtLeast,
        measure: Measure::YearToDate,
        deadline: day("2025-12-31"),
    };
    t.db.import_targets("test", &[target("THEO_DAN", "CT01", Some("DS")), target("TONG", "CT01", None)]).await.unwrap();
    let october = Period::Month { year: 2025, month: 10 };
    let progress = t.db.target_progress(&registry, &october).await.unwrap();
    // CT01 from January (month index 60 since January 2020) to October.
    let sum: f64 = (60..70)
        .map(|i| {
            let merged = i >= 66;
            entered(1, i) + entered(3, i) + if merged { 0.0 } else { entered(2, i) }
        })
        .sum();
    let value = |code: &str| progress.iter().find(|p| p.target.code == code).unwrap().value;
    assert_eq!(value("TONG"), Some(sum));
    // The people are October's, not ten months of them added up.
    assert_eq!(value("THEO_DAN"), Some(sum * 100.0 / 20_020.0));

    // An average has no year to date: such a target is refused whole.
    let refused = t.db.import_targets("test", &[target("TB_LUY_KE", "TB", None)]).await.unwrap_err().to_string();
    assert!(refused.contains("TB_LUY_KE") && refused.contains("không có lũy kế"), "{refused}");
    assert_eq!(t.db.targets().await.unwrap().len(), 2);
}

/// Right after a bulk import PostgreSQL's planner knows the values are
/// there (`ANALYZE`, not left to autovacuum a minute later): otherwise it
/// takes the table for empty and reads a month of every unit to compose
/// one commune's figure. Only the years written are analyzed: every
/// year's partition took over 20 s after a month of a national instance.
#[tokio::test]
async fn a_bulk_import_gathers_the_planner_statistics_of_the_years_it_wrote() {
    let t = merged_province().await;
    if !t.url.starts_with("postgres") {
        // SQLite plans from its indexes alone and keeps no statistics.
        return;
    }
    let codes: Vec<String> = (0..300).map(|i| format!("X{i:03}")).collect();
    t.db.import_indicators("test", &counted_indicators(codes.clone())).await.unwrap();
    let registry = t.db.load_registry().await.unwrap();
    let year: Vec<Period> = (1..=12).map(|month| Period::Month { year: 2024, month }).collect();
    let raw: Vec<RawValue> = year
        .iter()
        .flat_map(|p| codes.iter().flat_map(move |c| ["00001", "00002", "00003"].map(move |u| (p, c, u))))
        .enumerate()
        .map(|(index, (p, c, u))| RawValue {
            index,
            data_element: c.clone(),
            period: p.to_string(),
            org_unit: u.into(),
            value: "1".into(),
            comment: None,
        })
        .collect();
    assert!(raw.len() >= 10_000);
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&t.url).await.unwrap();
    let analyzed = "SELECT relname::text FROM pg_stat_user_tables
                    WHERE schemaname = current_schema() AND relname LIKE 'data_values%' AND last_analyze IS NOT NULL";
    let before: Vec<String> = sqlx::query_scalar(analyzed).fetch_all(&mut conn).await.unwrap();
    assert_eq!(before, Vec::<String>::new(), "the small import before gathers nothing");
    t.db.import_data_values("test", "bulk.json", &registry, raw).await.unwrap();
    // Statistics views are flushed asynchronously: a few seconds at most.
    let mut after: Vec<String> = Vec::new();
    for _ in 0..50 {
        after = sqlx::query_scalar(analyzed).fetch_all(&mut conn).await.unwrap();
        if !after.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(after, ["data_values_2024"], "the partition of the year written, alone");
}

#[tokio::test]
async fn the_year_to_date_of_a_quarter_adds_up_quarters_not_months() {
    let t = merged_province().await;
    with_output_forms(&t.db).await;
    let registry = t.db.load_registry().await.unwrap();
    // Quarterly figures of the two communes of the day (the months the
    // province also holds must not count in a quarter's year to date).
    let raw: Vec<RawValue> = [("2025Q1", 1), ("2025Q2", 2), ("2025Q3", 4)]
        .iter()
        .flat_map(|(q, v)| ["00001", "00003"].map(move |u| (q, v, u)))
        .enumerate()
        .map(|(index, (q, v, u))| RawValue {
            index,
            data_element: "CT01".into(),
            period: q.to_string(),
            org_unit: u.into(),
            value: v.to_string(),
            comment: None,
        })
        .collect();
    t.db.import_data_values("test", "quarters.json", &registry, raw).await.unwrap();
    let third = Period::Quarter { year: 2025, quarter: 3 };
    let total = t.db.consolidate(&registry, "TH", "01", &third, false).await.unwrap();
    // This quarter, the year so far (Q1 + Q2 + Q3 of both communes), the
    // same quarter last year (none), and no comparison with it.
    assert_eq!(total.rows[0].cells, vec![Some(8.0), Some(14.0), None, None]);
}

/// `RATE`, the rate `formula` of the counted indicators `counted` (saved
/// with it), and the output form `TR` over the communes' regime showing
/// the rows `shown`, this period and the year so far.
async fn with_rate_form(db: &Db, counted: &[&str], formula: &str, shown: &[&str]) {
    use baocao_core::form::{Column, Consolidation, FormKind, Layout};
    use baocao_core::{Aggregation, Indicator, ValueType};
    let mut indicators = counted_indicators(counted.iter().map(|c| c.to_string()));
    indicators.push(Indicator {
        code: "RATE".into(),
        name: "Tỷ lệ trực tuyến".into(),
        unit: "%".into(),
        value_type: ValueType::Percent,
        aggregation: Aggregation::Formula(formula.into()),
        group: None,
    });
    db.import_indicators("test", &indicators).await.unwrap();
    indicators.retain(|i| shown.contains(&i.code.as_str()));
    let mut form = baocao_testkit::input_form("TR", &indicators, vec![Column::ThisPeriod, Column::Cumulative], vec![]);
    form.kind = FormKind::Output;
    form.source = Some(Consolidation { regime: "BC".into(), layout: Layout::Total });
    db.save_form("test", &form).await.unwrap();
}

#[tokio::test]
async fn the_year_to_date_of_a_rate_is_the_rate_of_the_sums() {
    let t = merged_province().await;
    with_output_forms(&t.db).await;
    with_rate_form(&t.db, &["CT01", "ON"], "{ON} / {CT01} * 100", &["CT01", "ON", "RATE"]).await;
    let registry = t.db.load_registry().await.unwrap();
    // Each commune of the day puts one dossier a month online, January to
    // October 2025.
    let raw = each_month_of_2025("ON", |_| "1".to_string());
    t.db.import_data_values("test", "on.json", &registry, raw).await.unwrap();
    let october = Period::Month { year: 2025, month: 10 };
    let total = t.db.consolidate(&registry, "TR", "01", &october, false).await.unwrap();
    let received: f64 =
        (60..70).map(|i| entered(1, i) + entered(3, i) + if i < 66 { entered(2, i) } else { 0.0 }).sum();
    let this_month = entered(1, 69) + entered(3, 69);
    let cells: Vec<Vec<Option<f64>>> = total.rows.iter().map(|r| r.cells.clone()).collect();
    assert_eq!(
        cells,
        vec![
            vec![Some(this_month), Some(received)],
            vec![Some(2.0), Some(20.0)],
            // Twenty of all received since January, not ten months' rates added up.
            vec![Some(2.0 / this_month * 100.0), Some(20.0 / received * 100.0)],
        ]
    );
}

#[tokio::test]
async fn a_rates_year_to_date_is_marked_pulled_when_a_component_was() {
    let t = merged_province().await;
    with_output_forms(&t.db).await;
    with_rate_form(&t.db, &["ON", "DEN"], "{ON} / {DEN} * 100", &["RATE"]).await;
    let registry = t.db.load_registry().await.unwrap();
    // The numerator pulled by a feed in January, the denominator imported
    // in February: the rate has no figure in either month, its year so
    // far has one, made partly of what was pulled.
    pull(&t.db, &registry, "ON", "00001", "202501").await;
    let raw = vec![RawValue {
        index: 0,
        data_element: "DEN".into(),
        period: "202502".into(),
        org_unit: "00001".into(),
        value: "12".into(),
        comment: None,
    }];
    t.db.import_data_values("test", "den.json", &registry, raw).await.unwrap();
    let february = Period::Month { year: 2025, month: 2 };
    let total = t.db.consolidate(&registry, "TR", "01", &february, false).await.unwrap();
    let row = &total.rows[0];
    assert_eq!(row.cells, vec![None, Some(25.0)]);
    assert!(row.pulled, "{row:?}");
}

/// A report marks each figure that depends on an estimated share, as an
/// output form's row is marked: its year so far too, when one of the
/// months it sums was restated from a split whose shares are not known.
#[tokio::test]
async fn a_reports_year_to_date_is_marked_estimated_when_a_month_it_sums_is() {
    use baocao_core::form::Column;
    use baocao_core::reorg::{NewUnit, SplitPart};
    let t = TestDb::new().await;
    let baseline = vec![
        unit("01", "Tỉnh Một", UnitKind::Province, 1, None),
        unit("00001", "Xã An", UnitKind::Commune, 2, Some("01")),
        unit("00002", "Xã Bình", UnitKind::Commune, 2, Some("01")),
    ];
    t.db.apply_reorganization(baseline, &reorganization("baseline", "2020-01-01", vec![]), false, "test", &|_| {})
        .await
        .unwrap();
    // On 1 July 2025 Xã Bình splits in two, the shares not known.
    let part = |code: &str, name: &str| SplitPart {
        unit: NewUnit {
            code: code.into(),
            name: name.into(),
            kind: UnitKind::Commune,
            level: None,
            parent_code: Some("01".into()),
        },
        weight: None,
    };
    let split = baocao_core::reorg::Change::Split {
        code: "00002".into(),
        into: vec![part("00004", "Xã Bình Bắc"), part("00005", "Xã Bình Nam")],
    };
    t.db.apply_reorganization(vec![], &reorganization("split", "2025-07-01", vec![split]), false, "test", &|_| {})
        .await
        .unwrap();
    let indicators = counted_indicators(["CT01".to_string()]);
    t.db.import_indicators("test", &indicators).await.unwrap();
    let columns = vec![Column::ThisPeriod, Column::Cumulative, Column::SamePeriodLastYear, Column::PercentOfSamePeriod];
    t.db.save_form("test", &baocao_testkit::input_form("BM", &indicators, columns, vec![])).await.unwrap();
    t.db.save_regime("test", &baocao_testkit::monthly_regime("BM", vec![UnitKind::Commune])).await.unwrap();
    let registry = t.db.load_registry().await.unwrap();
    // Every commune of the day enters 10 each month, July 2024 to August 2026.
    let mut raw = Vec::new();
    for (year, month) in
        (7..=12).map(|m| (2024, m)).chain((1..=12).map(|m| (2025, m))).chain((1..=8).map(|m| (2026, m)))
    {
        let communes: &[&str] =
            if (year, month) < (2025, 7) { &["00001", "00002"] } else { &["00001", "00004", "00005"] };
        for code in communes {
            raw.push(RawValue {
                index: raw.len(),
                data_element: "CT01".into(),
                period: format!("{year}{month:02}"),
                org_unit: code.to_string(),
                value: "10".into(),
                comment: None,
            });
        }
    }
    t.db.import_data_values("test", "months.json", &registry, raw).await.unwrap();

    let marks = |code: &'static str, year: i32, month: u32| {
        let (db, registry) = (&t.db, &registry);
        async move {
            let view = db.report(registry, "BC", code, &Period::Month { year, month }).await.unwrap();
            let row = &view.rows[0];
            let marked: Vec<Column> = view.columns.iter().copied().filter(|&c| row.estimated(c)).collect();
            (row.cells.get("cumulative").copied(), marked, view.any_estimated())
        }
    };
    // August 2025 of a new commune: its year so far holds January to June,
    // half of Xã Bình's each (5) by an estimate, and its own July and
    // August; last August is half of Xã Bình's too.
    let (cumulative, marked, any) = marks("00004", 2025, 8).await;
    assert_eq!(cumulative, Some(6.0 * 5.0 + 2.0 * 10.0));
    assert_eq!(
        marked,
        [Column::Cumulative, Column::SamePeriodLastYear, Column::PercentOfSamePeriod],
        "this period is its own, exact"
    );
    assert!(any);
    // March 2026: the year so far is all its own; only last March, before
    // the split, is estimated.
    let (cumulative, marked, _) = marks("00004", 2026, 3).await;
    assert_eq!(cumulative, Some(30.0));
    assert_eq!(marked, [Column::SamePeriodLastYear, Column::PercentOfSamePeriod]);
    // August 2026: last August is its own too; nothing is estimated.
    assert_eq!(marks("00004", 2026, 8).await, (Some(80.0), vec![], false));
    // A commune the split left alone has nothing estimated, nor a mark to explain.
    assert_eq!(marks("00001", 2025, 8).await, (Some(80.0), vec![], false));
}

/// A report marks ‡ each figure made partly of numbers pulled from another
/// system, as an output form's row is marked: its year so far when a month
/// it sums was pulled by a feed, last year's figure when that one was.
#[tokio::test]
async fn a_reports_year_to_date_is_marked_pulled_when_a_month_it_sums_was() {
    use baocao_core::form::Column;
    let t = merged_province().await;
    let indicators = counted_indicators(["CT01".to_string()]);
    let columns = vec![Column::ThisPeriod, Column::Cumulative, Column::SamePeriodLastYear, Column::PercentOfSamePeriod];
    t.db.save_form("test", &baocao_testkit::input_form("BM", &indicators, columns, vec![])).await.unwrap();
    t.db.save_regime("test", &baocao_testkit::monthly_regime("BM", vec![UnitKind::Commune])).await.unwrap();
    let registry = t.db.load_registry().await.unwrap();
    // Xã Cường's January 2024 comes from a feed; every other month was entered.
    pull(&t.db, &registry, "CT01", "00003", "202401").await;

    let marks = |year: i32, month: u32| {
        let (db, registry) = (&t.db, &registry);
        async move {
            let view = db.report(registry, "BC", "00003", &Period::Month { year, month }).await.unwrap();
            let row = &view.rows[0];
            let marked: Vec<Column> = view.columns.iter().copied().filter(|&c| row.pulled(c)).collect();
            (row.cells.get("cumulative").copied(), marked, view.pulled_note())
        }
    };
    // February 2024: the year so far holds the pulled January.
    let (cumulative, marked, note) = marks(2024, 2).await;
    let february = months().iter().position(|p| *p == Period::Month { year: 2024, month: 2 }).unwrap();
    assert_eq!(cumulative, Some(3.0 + entered(3, february)));
    assert_eq!(marked, [Column::Cumulative], "this period and last February were entered");
    assert_eq!(note.as_deref(), Some(baocao_core::report::PULLED_NOTE));
    // January 2025: last January was pulled, and the percentage made of it.
    let (_, marked, _) = marks(2025, 1).await;
    assert_eq!(marked, [Column::SamePeriodLastYear, Column::PercentOfSamePeriod]);
    // March 2025: nothing it shows was pulled, nor a mark to explain.
    assert_eq!(marks(2025, 3).await.1, []);
    assert_eq!(marks(2025, 3).await.2, None);
}
