//! The files of a restated export (`data export --structure-at`, the API's
//! `/api/v1/values/table`): figures in the structure of one day, a row per
//! unit, indicator and period, written chunk by chunk as they are composed.
//!
//! CSV for spreadsheets and JSON (an array of the same rows) for programs;
//! numbers as programs read them (a dot for decimals), the unit's name in
//! the structure day, and the marks that keep a figure honest: whether
//! some share was estimated, how many sources the asker may not see, and
//! whether some number was pulled from another system.

use baocao_core::Registry;
use baocao_store::restated::Cell;
use chrono::NaiveDate;
use serde::Serialize;

/// The columns, in order.
pub const HEADER: [&str; 8] = ["indicator", "unit", "unit_name", "period", "value", "estimated", "withheld", "pulled"];

#[derive(Serialize)]
struct Row<'a> {
    indicator: &'a str,
    unit: &'a str,
    unit_name: &'a str,
    period: String,
    value: f64,
    estimated: bool,
    withheld: usize,
    pulled: bool,
}

fn rows<'a>(cells: &'a [Cell], registry: &'a Registry, structure_at: NaiveDate) -> impl Iterator<Item = Row<'a>> {
    cells.iter().map(move |c| Row {
        indicator: &c.indicator,
        unit: &c.unit,
        unit_name: registry.in_force(&c.unit, structure_at).map_or("", |u| u.name.as_str()),
        period: c.period.to_string(),
        value: c.value,
        estimated: c.estimated,
        withheld: c.withheld,
        pulled: c.pulled,
    })
}

/// Where a chunk stands in the file: the first carries the CSV header or
/// opens the JSON array.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Chunk {
    First,
    Next,
}

/// CSV lines for `cells` (with the header when `chunk` is the first).
pub fn csv_chunk(cells: &[Cell], registry: &Registry, structure_at: NaiveDate, chunk: Chunk) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    if chunk == Chunk::First {
        w.write_record(HEADER).expect("writing to memory");
    }
    for r in rows(cells, registry, structure_at) {
        // Numbers in their shortest exact form (63, not 63.0).
        let (value, estimated, withheld) = (r.value.to_string(), r.estimated.to_string(), r.withheld.to_string());
        let pulled = r.pulled.to_string();
        w.write_record([r.indicator, r.unit, r.unit_name, &r.period, &value, &estimated, &withheld, &pulled])
            .expect("writing to memory");
    }
    String::from_utf8(w.into_inner().expect("writing to memory")).expect("CSV of UTF-8 text")
}

/// JSON array elements for `cells`: the first chunk opens the array, the
/// others continue it; [`JSON_END`] closes it.
pub fn json_chunk(cells: &[Cell], registry: &Registry, structure_at: NaiveDate, chunk: Chunk) -> String {
    let mut out = String::new();
    let mut first = chunk == Chunk::First;
    if first {
        out.push('[');
    }
    for row in rows(cells, registry, structure_at) {
        if !first {
            out.push(',');
        }
        first = false;
        out.push('\n');
        out.push_str(&serde_json::to_string(&row).expect("plain data serializes"));
    }
    out
}

/// What closes a JSON export.
pub const JSON_END: &str = "\n]\n";
