//! Indicator lists: CSV with columns `code,name,unit,value_type,aggregation,group`
//! and, for computed indicators, `formula`.

use std::collections::HashMap;

use baocao_core::indicator::formula_references;
use baocao_core::{Aggregation, Indicator, ValueType};

use crate::error::{IngestError, Problems};
use crate::table::Table;

/// Reads an indicator list; all or nothing.
pub fn read_csv(file: &str, text: &str) -> Result<Vec<Indicator>, Problems> {
    let mut errors = Vec::new();
    let table = Table::read(file, text, &["code", "name", "unit", "value_type", "aggregation", "group"], &mut errors);
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut out = Vec::new();
    for row in table.rows() {
        let code = row.parsed("code", &mut errors, |c| {
            if c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '.' || ch == '-') {
                Ok(c.to_string())
            } else {
                Err(format!("invalid code «{c}»: use letters A–Z, digits, «_», «.» or «-»"))
            }
        });
        let name = row.required("name", &mut errors);
        let unit = row.required("unit", &mut errors);
        let value_type = row.parsed("value_type", &mut errors, |v| v.parse::<ValueType>());
        let formula = row.get("formula");
        let aggregation =
            row.parsed("aggregation", &mut errors, |a| Aggregation::parse(a, Some(formula).filter(|f| !f.is_empty())));
        let (Some(code), Some(name), Some(unit), Some(value_type), Some(aggregation)) =
            (code, name, unit, value_type, aggregation)
        else {
            continue;
        };
        if let Some(first) = seen.insert(code.clone(), row.line()) {
            errors.push(row.problem("code", format!("code {code} is listed twice (first on line {first})")));
            continue;
        }
        let group = Some(row.get("group").to_string()).filter(|g| !g.is_empty());
        out.push(Indicator { code, name, unit, value_type, aggregation, group });
    }
    // Formulas may only name indicators of the same list.
    for i in &out {
        if let Some(formula) = i.aggregation.formula() {
            for name in formula_references(formula) {
                if !seen.contains_key(name) {
                    let line = seen[&i.code];
                    errors.push(IngestError {
                        location: crate::Location {
                            file: file.into(),
                            line: Some(line),
                            column: Some("formula".into()),
                            ..Default::default()
                        },
                        message: format!("the formula names «{name}», which is not an indicator of this list"),
                    });
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        errors.sort();
        Err(Problems(errors))
    }
}
