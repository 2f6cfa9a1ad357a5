//! Indicators (chỉ tiêu) and the values reported for them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What kind of value an indicator takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueType {
    Integer,
    Decimal,
    Percent,
    Text,
    Boolean,
}

/// How values of an indicator combine across units (tổng hợp).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregation {
    Sum,
    Average,
    Min,
    Max,
    /// A stock at the end of the period: over time the last value counts;
    /// across units values add up.
    Last,
    /// Values do not combine (text, ratios without a formula).
    None,
    /// Computed from other indicators, e.g. `{HS_TOAN_TRINH} / {HS_TIEP_NHAN} * 100`.
    Formula(String),
}

impl ValueType {
    const ALL: [ValueType; 5] =
        [ValueType::Integer, ValueType::Decimal, ValueType::Percent, ValueType::Text, ValueType::Boolean];

    pub fn as_str(self) -> &'static str {
        match self {
            ValueType::Integer => "integer",
            ValueType::Decimal => "decimal",
            ValueType::Percent => "percent",
            ValueType::Text => "text",
            ValueType::Boolean => "boolean",
        }
    }
}

impl FromStr for ValueType {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let wanted = s.trim().to_lowercase();
        ValueType::ALL.into_iter().find(|t| t.as_str() == wanted).ok_or_else(|| {
            let words: Vec<_> = ValueType::ALL.iter().map(|t| t.as_str()).collect();
            format!("unknown value type «{}»: expected one of {}", s.trim(), words.join(", "))
        })
    }
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Aggregation {
    /// Reads the `aggregation` column; `formula` needs the formula text.
    pub fn parse(word: &str, formula: Option<&str>) -> Result<Aggregation, String> {
        let formula = formula.map(str::trim).filter(|f| !f.is_empty());
        let agg = match word.trim().to_lowercase().as_str() {
            "sum" => Aggregation::Sum,
            "average" => Aggregation::Average,
            "min" => Aggregation::Min,
            "max" => Aggregation::Max,
            "last" => Aggregation::Last,
            "none" => Aggregation::None,
            "formula" => {
                return formula
                    .map(|f| Aggregation::Formula(f.to_string()))
                    .ok_or_else(|| "aggregation «formula» needs the formula column".to_string());
            }
            other => {
                return Err(format!(
                    "unknown aggregation «{other}»: expected one of sum, average, min, max, last, none, formula"
                ));
            }
        };
        match formula {
            Some(_) => Err(format!("a formula is given but the aggregation is «{}», not «formula»", agg.word())),
            None => Ok(agg),
        }
    }

    pub fn word(&self) -> &'static str {
        match self {
            Aggregation::Sum => "sum",
            Aggregation::Average => "average",
            Aggregation::Min => "min",
            Aggregation::Max => "max",
            Aggregation::Last => "last",
            Aggregation::None => "none",
            Aggregation::Formula(_) => "formula",
        }
    }

    pub fn formula(&self) -> Option<&str> {
        match self {
            Aggregation::Formula(f) => Some(f),
            _ => None,
        }
    }
}

/// An indicator: what is measured, in which unit of measure (đơn vị tính).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Indicator {
    pub code: String,
    pub name: String,
    /// Unit of measure, e.g. "hồ sơ", "%", "triệu đồng".
    pub unit: String,
    pub value_type: ValueType,
    pub aggregation: Aggregation,
    /// Indicator group (nhóm chỉ tiêu).
    pub group: Option<String>,
}

/// A checked value of an indicator.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    Number(f64),
    Bool(bool),
    Text(String),
}

impl Value {
    pub fn as_number(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Number(n) => write!(f, "{n}"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Text(t) => f.write_str(t),
        }
    }
}

impl ValueType {
    /// Checks a value as written in an interchange file (decimal point,
    /// no thousands separators), naming what was expected when it fails.
    pub fn parse(self, text: &str) -> Result<Value, String> {
        let t = text.trim();
        let number = || -> Result<f64, String> {
            t.parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .ok_or_else(|| format!("«{t}» is not a number (write 1234.5, without thousands separators)"))
        };
        match self {
            ValueType::Integer => {
                let n = number()?;
                if n.fract() != 0.0 {
                    return Err(format!("«{t}» is not a whole number"));
                }
                Ok(Value::Number(n))
            }
            ValueType::Decimal => number().map(Value::Number),
            ValueType::Percent => {
                let n = number()?;
                if !(0.0..=100.0).contains(&n) {
                    return Err(format!("«{t}» is not a percentage between 0 and 100"));
                }
                Ok(Value::Number(n))
            }
            ValueType::Boolean => match t.to_lowercase().as_str() {
                "true" | "1" | "có" => Ok(Value::Bool(true)),
                "false" | "0" | "không" => Ok(Value::Bool(false)),
                _ => Err(format!("«{t}» is not true or false")),
            },
            ValueType::Text => {
                if t.is_empty() {
                    Err("empty text".into())
                } else {
                    crate::text::check_text(t, true)?;
                    Ok(Value::Text(t.to_string()))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_checked_against_their_type() {
        assert_eq!(ValueType::Integer.parse("42").unwrap(), Value::Number(42.0));
        assert!(ValueType::Integer.parse("4.5").unwrap_err().contains("whole number"));
        assert!(ValueType::Decimal.parse("1.234,5").unwrap_err().contains("not a number"));
        assert!(ValueType::Percent.parse("120").unwrap_err().contains("between 0 and 100"));
        assert_eq!(ValueType::Boolean.parse("có").unwrap(), Value::Bool(true));
        assert!(ValueType::Decimal.parse("NaN").is_err());
    }

    #[test]
    fn aggregation_and_formula_go_together() {
        assert_eq!(Aggregation::parse("SUM", None).unwrap(), Aggregation::Sum);
        assert_eq!(Aggregation::parse("formula", Some("{A} / {B}")).unwrap().formula(), Some("{A} / {B}"));
        assert!(Aggregation::parse("formula", None).unwrap_err().contains("formula column"));
        assert!(Aggregation::parse("sum", Some("{A}")).unwrap_err().contains("not «formula»"));
        assert!(Aggregation::parse("median", None).unwrap_err().contains("unknown aggregation"));
        assert!("float".parse::<ValueType>().unwrap_err().contains("integer, decimal"));
    }
}

/// The indicator codes a formula names, written `{CODE}`.
pub fn formula_references(formula: &str) -> impl Iterator<Item = &str> {
    formula.split('{').skip(1).filter_map(|part| part.split_once('}').map(|(name, _)| name.trim()))
}

/// Evaluates a formula such as `{HS_TRUC_TUYEN_TOAN_TRINH} / {HS_TIEP_NHAN} * 100`
/// with the values of the indicators it names. `Ok(None)` when a value is
/// missing or the result is not a number (a division by zero).
pub fn evaluate_formula(formula: &str, values: &std::collections::HashMap<String, f64>) -> Result<Option<f64>, String> {
    use exmex::Express;
    let expr = exmex::parse::<f64>(formula).map_err(|e| format!("invalid formula «{formula}»: {e}"))?;
    let mut args = Vec::new();
    for name in expr.var_names() {
        let code = name.trim_start_matches('{').trim_end_matches('}');
        match values.get(code) {
            Some(v) => args.push(*v),
            None => return Ok(None),
        }
    }
    let result = expr.eval(&args).map_err(|e| format!("formula «{formula}»: {e}"))?;
    Ok(Some(result).filter(|r| r.is_finite()))
}

#[cfg(test)]
mod formula_tests {
    use super::*;

    #[test]
    fn formulas_name_indicators_in_braces() {
        let values = std::collections::HashMap::from([("A".to_string(), 30.0), ("B_2".to_string(), 120.0)]);
        assert_eq!(evaluate_formula("{A} / {B_2} * 100", &values), Ok(Some(25.0)));
        assert_eq!(evaluate_formula("{A} / {C}", &values), Ok(None));
        let zero = std::collections::HashMap::from([("A".to_string(), 1.0), ("B_2".to_string(), 0.0)]);
        assert_eq!(evaluate_formula("{A} / {B_2}", &zero), Ok(None));
        assert!(evaluate_formula("{A} / (", &values).is_err());
    }
}
