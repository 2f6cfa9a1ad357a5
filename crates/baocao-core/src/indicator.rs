//! Indicators (chỉ tiêu) and the values reported for them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What kind of value an indicator takes, as DHIS2 distinguishes them: a
/// count (số hồ sơ, số văn bản) is a whole number that cannot be negative.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueType {
    /// Any whole number (a balance, a change): DHIS2's INTEGER.
    Integer,
    /// A count: 0, 1, 2 … (DHIS2's INTEGER_ZERO_OR_POSITIVE).
    IntegerZeroOrPositive,
    /// 1, 2, 3 … (DHIS2's INTEGER_POSITIVE).
    IntegerPositive,
    /// −1, −2 … (DHIS2's INTEGER_NEGATIVE).
    IntegerNegative,
    /// Any number (DHIS2's NUMBER).
    Decimal,
    /// 0 to 100 (DHIS2's PERCENTAGE).
    Percent,
    /// 0 to 1 (DHIS2's UNIT_INTERVAL).
    UnitInterval,
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
    pub const ALL: [ValueType; 9] = [
        ValueType::Integer,
        ValueType::IntegerZeroOrPositive,
        ValueType::IntegerPositive,
        ValueType::IntegerNegative,
        ValueType::Decimal,
        ValueType::Percent,
        ValueType::UnitInterval,
        ValueType::Text,
        ValueType::Boolean,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ValueType::Integer => "integer",
            ValueType::IntegerZeroOrPositive => "integer_zero_or_positive",
            ValueType::IntegerPositive => "integer_positive",
            ValueType::IntegerNegative => "integer_negative",
            ValueType::Decimal => "decimal",
            ValueType::Percent => "percent",
            ValueType::UnitInterval => "unit_interval",
            ValueType::Text => "text",
            ValueType::Boolean => "boolean",
        }
    }

    /// The name DHIS2 gives it, also read.
    fn dhis2(self) -> &'static str {
        match self {
            ValueType::Integer => "INTEGER",
            ValueType::IntegerZeroOrPositive => "INTEGER_ZERO_OR_POSITIVE",
            ValueType::IntegerPositive => "INTEGER_POSITIVE",
            ValueType::IntegerNegative => "INTEGER_NEGATIVE",
            ValueType::Decimal => "NUMBER",
            ValueType::Percent => "PERCENTAGE",
            ValueType::UnitInterval => "UNIT_INTERVAL",
            ValueType::Text => "TEXT",
            ValueType::Boolean => "BOOLEAN",
        }
    }

    /// What a value of this type is, in Vietnamese: said when one is refused.
    pub fn expected(self) -> &'static str {
        match self {
            ValueType::Integer => "một số nguyên (ví dụ 12 hoặc -3)",
            ValueType::IntegerZeroOrPositive => "một số nguyên không âm (0, 1, 2 …; ví dụ 1.250)",
            ValueType::IntegerPositive => "một số nguyên dương (1, 2, 3 …)",
            ValueType::IntegerNegative => "một số nguyên âm (-1, -2 …)",
            ValueType::Decimal => "một số (ví dụ 12,5 hoặc 1.250)",
            ValueType::Percent => "một tỷ lệ phần trăm từ 0 đến 100 (ví dụ 12,5)",
            ValueType::UnitInterval => "một số từ 0 đến 1 (ví dụ 0,25)",
            ValueType::Text => "một đoạn chữ",
            ValueType::Boolean => "có hoặc không",
        }
    }

    /// The type as people read it.
    pub fn vietnamese(self) -> &'static str {
        match self {
            ValueType::Integer => "số nguyên",
            ValueType::IntegerZeroOrPositive => "số nguyên không âm (số đếm)",
            ValueType::IntegerPositive => "số nguyên dương",
            ValueType::IntegerNegative => "số nguyên âm",
            ValueType::Decimal => "số",
            ValueType::Percent => "tỷ lệ % (0–100)",
            ValueType::UnitInterval => "tỷ lệ (0–1)",
            ValueType::Text => "văn bản",
            ValueType::Boolean => "có/không",
        }
    }
}

impl FromStr for ValueType {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let wanted = s.trim();
        ValueType::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(wanted) || t.dhis2().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| {
                let words: Vec<_> = ValueType::ALL.iter().map(|t| t.as_str()).collect();
                format!("kiểu giá trị «{wanted}» không có: cần một trong {}", words.join(", "))
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
                    .ok_or_else(|| "cách tổng hợp «formula» cần cột công thức (formula)".to_string());
            }
            other => {
                return Err(format!(
                    "không có cách tổng hợp «{other}»: cần một trong sum, average, min, max, last, none, formula"
                ));
            }
        };
        match formula {
            Some(_) => Err(format!("có công thức nhưng cách tổng hợp là «{}», không phải «formula»", agg.word())),
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

    /// The year so far (lũy kế từ đầu năm) from the figures of the year's
    /// periods up to this one, in order, this period's last
    /// ([`crate::Period::year_to_date`]): a flow adds up what was reported,
    /// a stock is what it is at the end, this period's own figure. The one
    /// rule of output forms, reports and targets.
    ///
    /// Averages, extremes and what does not combine have none: added up, a
    /// month's averages make a number no one can read. A formula's is the
    /// formula of its components' ([`year_to_date_of`]).
    pub fn year_to_date(&self, figures: &[Option<f64>]) -> Option<f64> {
        match self {
            Aggregation::Sum => figures.iter().flatten().copied().reduce(|a, b| a + b),
            Aggregation::Last => figures.last().copied().flatten(),
            _ => None,
        }
    }

    /// Whether [`Aggregation::year_to_date`] gives a figure: asked of it,
    /// so that the two never disagree.
    pub fn has_year_to_date(&self) -> bool {
        self.year_to_date(&[Some(0.0)]).is_some()
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
    /// no thousands separators; what people type goes through
    /// [`crate::text::parse_vn_number`] first). A refusal says, in
    /// Vietnamese, what was given and what was expected.
    pub fn parse(self, text: &str) -> Result<Value, String> {
        let t = text.trim();
        let refused = || format!("«{t}» không hợp lệ: cần {}", self.expected());
        let number = || -> Result<f64, String> { t.parse::<f64>().ok().filter(|n| n.is_finite()).ok_or_else(refused) };
        let within = |n: f64, ok: bool| if ok { Ok(Value::Number(n)) } else { Err(refused()) };
        match self {
            ValueType::Integer => number().and_then(|n| within(n, n.fract() == 0.0)),
            ValueType::IntegerZeroOrPositive => number().and_then(|n| within(n, n.fract() == 0.0 && n >= 0.0)),
            ValueType::IntegerPositive => number().and_then(|n| within(n, n.fract() == 0.0 && n > 0.0)),
            ValueType::IntegerNegative => number().and_then(|n| within(n, n.fract() == 0.0 && n < 0.0)),
            ValueType::Decimal => number().map(Value::Number),
            ValueType::Percent => number().and_then(|n| within(n, (0.0..=100.0).contains(&n))),
            ValueType::UnitInterval => number().and_then(|n| within(n, (0.0..=1.0).contains(&n))),
            ValueType::Boolean => match t.to_lowercase().as_str() {
                "true" | "1" | "có" => Ok(Value::Bool(true)),
                "false" | "0" | "không" => Ok(Value::Bool(false)),
                _ => Err(refused()),
            },
            ValueType::Text => {
                if t.is_empty() {
                    Err(format!("chưa có nội dung: cần {}", self.expected()))
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
        assert_eq!(ValueType::Integer.parse("-3").unwrap(), Value::Number(-3.0));
        assert!(ValueType::Integer.parse("4.5").unwrap_err().contains("cần một số nguyên"));
        let negative = ValueType::IntegerZeroOrPositive.parse("-3").unwrap_err();
        assert_eq!(negative, "«-3» không hợp lệ: cần một số nguyên không âm (0, 1, 2 …; ví dụ 1.250)");
        assert_eq!(ValueType::IntegerZeroOrPositive.parse("0").unwrap(), Value::Number(0.0));
        assert!(ValueType::IntegerPositive.parse("0").is_err());
        assert!(ValueType::IntegerNegative.parse("2").is_err());
        assert!(ValueType::Decimal.parse("1.234,5").unwrap_err().contains("cần một số"));
        assert!(ValueType::Percent.parse("120").unwrap_err().contains("từ 0 đến 100"));
        assert!(ValueType::UnitInterval.parse("1.5").is_err());
        assert_eq!(ValueType::Boolean.parse("có").unwrap(), Value::Bool(true));
        assert!(ValueType::Decimal.parse("NaN").is_err());
        assert_eq!("INTEGER_ZERO_OR_POSITIVE".parse::<ValueType>(), Ok(ValueType::IntegerZeroOrPositive));
        assert_eq!("PERCENTAGE".parse::<ValueType>(), Ok(ValueType::Percent));
    }

    #[test]
    fn a_flow_adds_up_over_the_year_and_a_stock_is_its_last_figure() {
        let figures = [Some(3.0), None, Some(4.5)];
        assert_eq!(Aggregation::Sum.year_to_date(&figures), Some(7.5));
        assert_eq!(Aggregation::Sum.year_to_date(&[None, None]), None);
        assert_eq!(Aggregation::Last.year_to_date(&figures), Some(4.5));
        // A stock not reported this period has no year to date, whatever
        // an earlier month said.
        assert_eq!(Aggregation::Last.year_to_date(&[Some(3.0), None]), None);
        for none in [Aggregation::Average, Aggregation::Min, Aggregation::Max, Aggregation::None] {
            assert_eq!(none.year_to_date(&figures), None, "{none:?}");
            assert!(!none.has_year_to_date());
        }
        assert_eq!(Aggregation::Formula("{A} / {B}".into()).year_to_date(&figures), None);
    }

    #[test]
    fn aggregation_and_formula_go_together() {
        assert_eq!(Aggregation::parse("SUM", None).unwrap(), Aggregation::Sum);
        assert_eq!(Aggregation::parse("formula", Some("{A} / {B}")).unwrap().formula(), Some("{A} / {B}"));
        assert!(Aggregation::parse("formula", None).unwrap_err().contains("cần cột công thức"));
        assert!(Aggregation::parse("sum", Some("{A}")).unwrap_err().contains("không phải «formula»"));
        assert!(Aggregation::parse("median", None).unwrap_err().contains("không có cách tổng hợp"));
        assert!("float".parse::<ValueType>().unwrap_err().contains("integer, integer_zero_or_positive"));
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
    let expr = exmex::parse::<f64>(formula).map_err(|e| format!("công thức «{formula}» không hợp lệ: {e}"))?;
    let mut args = Vec::new();
    for name in expr.var_names() {
        let code = name.trim_start_matches('{').trim_end_matches('}');
        match values.get(code) {
            Some(v) => args.push(*v),
            None => return Ok(None),
        }
    }
    let result = expr.eval(&args).map_err(|e| format!("công thức «{formula}»: {e}"))?;
    Ok(Some(result).filter(|r| r.is_finite()))
}

/// The year so far (lũy kế từ đầu năm) of the indicator `code`:
/// [`Aggregation::year_to_date`] of its own figures (`figures(code)`: those
/// of the year's periods, this one's last); for a formula, the formula of
/// its components' years so far, so that a rate's year to date is the
/// rate of the sums, not a sum of monthly rates. `None` for what has no
/// year to date, a component missing or a formula that goes round.
pub fn year_to_date_of(
    code: &str,
    indicators: &std::collections::HashMap<String, Indicator>,
    figures: &dyn Fn(&str) -> Vec<Option<f64>>,
) -> Option<f64> {
    fn walk(
        code: &str,
        indicators: &std::collections::HashMap<String, Indicator>,
        figures: &dyn Fn(&str) -> Vec<Option<f64>>,
        depth: u8,
    ) -> Option<f64> {
        let indicator = indicators.get(code)?;
        let Some(formula) = indicator.aggregation.formula() else {
            return indicator.aggregation.year_to_date(&figures(code));
        };
        if depth > 8 {
            return None;
        }
        let known = formula_references(formula)
            .filter_map(|name| Some((name.to_string(), walk(name, indicators, figures, depth + 1)?)))
            .collect();
        evaluate_formula(formula, &known).ok().flatten()
    }
    walk(code, indicators, figures, 0)
}

/// `codes` and every indicator their formulas name, however deep: what a
/// year to date ([`year_to_date_of`]) reads figures of.
pub fn with_formula_components(
    codes: impl IntoIterator<Item = String>,
    indicators: &std::collections::HashMap<String, Indicator>,
) -> Vec<String> {
    let mut needed: Vec<String> = Vec::new();
    let mut pending: Vec<String> = codes.into_iter().collect();
    while let Some(code) = pending.pop() {
        if needed.contains(&code) {
            continue;
        }
        if let Some(formula) = indicators.get(&code).and_then(|i| i.aggregation.formula()) {
            pending.extend(formula_references(formula).map(str::to_string));
        }
        needed.push(code);
    }
    needed.sort_unstable();
    needed
}

#[cfg(test)]
mod formula_tests {
    use super::*;

    #[test]
    fn a_rates_year_to_date_is_the_rate_of_the_sums() {
        let indicator = |code: &str, aggregation: Aggregation| {
            let i = Indicator {
                code: code.into(),
                name: code.into(),
                unit: String::new(),
                value_type: ValueType::Decimal,
                aggregation,
                group: None,
            };
            (code.to_string(), i)
        };
        let indicators = std::collections::HashMap::from([
            indicator("ONLINE", Aggregation::Sum),
            indicator("RECEIVED", Aggregation::Sum),
            indicator("RATE", Aggregation::Formula("{ONLINE} / {RECEIVED} * 100".into())),
            indicator("LOOP", Aggregation::Formula("{LOOP} + 1".into())),
        ]);
        // January 10 of 100 (10%), February 90 of 100 (90%): the year so
        // far is 100 of 200, 50%, not 100% (the rates added up).
        let figures = |code: &str| match code {
            "ONLINE" => vec![Some(10.0), Some(90.0)],
            "RECEIVED" => vec![Some(100.0), Some(100.0)],
            _ => vec![None, None],
        };
        assert_eq!(year_to_date_of("RATE", &indicators, &figures), Some(50.0));
        assert_eq!(year_to_date_of("ONLINE", &indicators, &figures), Some(100.0));
        assert_eq!(year_to_date_of("LOOP", &indicators, &figures), None);
        assert_eq!(year_to_date_of("UNKNOWN", &indicators, &figures), None);
        assert_eq!(with_formula_components(["RATE".to_string()], &indicators), ["ONLINE", "RATE", "RECEIVED"]);
    }

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
