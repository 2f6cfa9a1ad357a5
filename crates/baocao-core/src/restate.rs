//! Values asked for in the structure of another day (so sánh cùng kỳ
//! across reorganizations).
//!
//! A value of unit U, as U stood on day S, for a period ending on day E, is
//! composed from the units in force on E. Going back (E before S: a new
//! commune's value last year), each old unit contributes the share of it
//! that went into U; going forward (an old unit asked about a later
//! period), each new unit contributes the share of it that came from U.
//! Shares the registry does not know are estimated (equal parts) and the
//! result is then flagged as an estimate, never presented as exact.

use chrono::NaiveDate;
use serde::Serialize;

use crate::registry::{Registry, RegistryError};
use crate::unit::UnitVersion;

/// One unit of day E that contributes to the asked value.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Contribution {
    pub unit: UnitVersion,
    /// The share of this unit's value that counts.
    pub weight: f64,
    /// The share is a guess, not known from the registry.
    pub estimated: bool,
}

/// Which units of day `period_end`, with which shares, make up unit `code`
/// as it stood on day `structure_at`. A unit with children on that day
/// (a province, a district) is the sum of its lowest units.
pub fn contributions(
    registry: &Registry,
    code: &str,
    structure_at: NaiveDate,
    period_end: NaiveDate,
) -> Result<Vec<Contribution>, RegistryError> {
    let leaves = registry.leaves_under(code, structure_at)?;
    let mut out: Vec<Contribution> = Vec::new();
    // A province has hundreds of leaves: find a unit's entry by its key.
    let mut index: std::collections::HashMap<crate::unit::VersionKey, usize> = std::collections::HashMap::new();
    for leaf in leaves {
        for c in leaf_contributions(registry, &leaf, structure_at, period_end)? {
            match index.get(&c.unit.key()) {
                Some(&i) => {
                    out[i].weight += c.weight;
                    out[i].estimated |= c.estimated;
                }
                None => {
                    index.insert(c.unit.key(), out.len());
                    out.push(c);
                }
            }
        }
    }
    Ok(out)
}

fn leaf_contributions(
    registry: &Registry,
    unit: &UnitVersion,
    structure_at: NaiveDate,
    period_end: NaiveDate,
) -> Result<Vec<Contribution>, RegistryError> {
    if unit.validity.contains(period_end) {
        return Ok(vec![Contribution { unit: unit.clone(), weight: 1.0, estimated: false }]);
    }
    let targets = registry.map(&unit.code, structure_at, period_end)?;
    let backward = period_end < structure_at;
    targets
        .into_iter()
        .map(|t| {
            // The map's weight is the share of the older unit of the pair.
            let (weight, estimated) = if backward {
                match t.weight {
                    Some(w) => (w, false),
                    None => (equal_share(registry, &t.unit.code, period_end, structure_at)?, true),
                }
            } else {
                let origins = registry.map(&t.unit.code, period_end, structure_at)?;
                match origins.as_slice() {
                    [only] if only.unit.key() == unit.key() => (1.0, false),
                    _ => (1.0 / origins.len().max(1) as f64, true),
                }
            };
            Ok(Contribution { unit: t.unit, weight, estimated })
        })
        .collect()
}

/// An estimate of the share of `code` (on `from`) that went into each of
/// the units it maps to on `to`: equal parts.
fn equal_share(registry: &Registry, code: &str, from: NaiveDate, to: NaiveDate) -> Result<f64, RegistryError> {
    let parts = registry.map(code, from, to)?.len();
    Ok(1.0 / parts.max(1) as f64)
}

/// One source of a composed value, as `data query` shows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SourceValue {
    pub unit: String,
    pub name: String,
    /// The stored value, `null` when the unit reported nothing.
    pub value: Option<f64>,
    pub weight: f64,
}

/// A value composed from its sources.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Composed {
    pub value: Option<f64>,
    /// Some share was estimated; the value is not exact.
    pub estimated: bool,
    pub sources: Vec<SourceValue>,
    /// For a computed indicator: the values of the indicators its formula names.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub components: std::collections::BTreeMap<String, Option<f64>>,
    /// Sources left out because the asker may not see them: the value is
    /// then made of the others only, and says so (0 when none was left out).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub withheld: usize,
    /// Some number it is made of was pulled from another system (a feed),
    /// not entered: the pages mark it ‡.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pulled: bool,
}

impl Composed {
    /// A plain indicator's figure made of `shares` (without `withheld`
    /// sources the asker may not see), from the [`Summary`] of the numbers
    /// present, whether Rust or the database added them up: without its
    /// sources, estimated when a share is.
    pub fn of_summary(
        aggregation: &crate::indicator::Aggregation,
        present: &Summary,
        shares: &[Contribution],
        withheld: usize,
        pulled: bool,
    ) -> Result<Composed, String> {
        Ok(Composed {
            value: aggregate_summary(aggregation, present, shares.len())?,
            estimated: shares.iter().any(|c| c.estimated),
            sources: Vec::new(),
            components: Default::default(),
            withheld,
            pulled,
        })
    }

    /// A computed indicator's figure from the figures of the indicators
    /// its `formula` names (`parts`, by name): estimated or pulled when
    /// any of them is, withholding as many sources as the one that
    /// withholds most.
    pub fn of_formula(formula: &str, parts: Vec<(String, Composed)>) -> Result<Composed, String> {
        let estimated = parts.iter().any(|(_, c)| c.estimated);
        let pulled = parts.iter().any(|(_, c)| c.pulled);
        let withheld = parts.iter().map(|(_, c)| c.withheld).max().unwrap_or(0);
        let components: std::collections::BTreeMap<String, Option<f64>> =
            parts.into_iter().map(|(name, c)| (name, c.value)).collect();
        let known = components.iter().filter_map(|(k, v)| Some((k.clone(), (*v)?))).collect();
        let value = crate::indicator::evaluate_formula(formula, &known)?;
        Ok(Composed { value, estimated, sources: Vec::new(), components, withheld, pulled })
    }
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// What an aggregation needs of the numbers present, each with its share:
/// enough to aggregate them by any rule without the numbers themselves,
/// so that a database can sum millions of them and hand over a few.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Summary {
    /// How many numbers are present.
    pub count: usize,
    /// Σ number × share.
    pub weighted: f64,
    /// Σ share.
    pub weights: f64,
    pub least: f64,
    pub most: f64,
}

impl Summary {
    /// The summary of `present` (number, share), added in their order.
    pub fn of(present: &[(f64, f64)]) -> Summary {
        Summary {
            count: present.len(),
            weighted: present.iter().map(|(v, w)| v * w).sum(),
            weights: present.iter().map(|(_, w)| w).sum(),
            least: present.iter().map(|(v, _)| *v).reduce(f64::min).unwrap_or(f64::NAN),
            most: present.iter().map(|(v, _)| *v).reduce(f64::max).unwrap_or(f64::NAN),
        }
    }
}

/// Aggregates the numbers present (each with its share) of `contributions`
/// units as `aggregation` says: `None` when no number is present; an error
/// for what does not aggregate (aggregation «none» over several units or a
/// share, a formula).
pub fn aggregate(
    aggregation: &crate::indicator::Aggregation,
    present: &[(f64, f64)],
    contributions: usize,
) -> Result<Option<f64>, String> {
    aggregate_summary(aggregation, &Summary::of(present), contributions)
}

/// [`aggregate`] from the [`Summary`] of the numbers present: the one rule,
/// whether Rust or the database added them up.
pub fn aggregate_summary(
    aggregation: &crate::indicator::Aggregation,
    present: &Summary,
    contributions: usize,
) -> Result<Option<f64>, String> {
    use crate::indicator::Aggregation;
    if present.count == 0 {
        return Ok(None);
    }
    Ok(match aggregation {
        Aggregation::Sum | Aggregation::Last => Some(present.weighted),
        Aggregation::Average => Some(present.weighted / present.weights),
        Aggregation::Min => Some(present.least),
        Aggregation::Max => Some(present.most),
        Aggregation::None => match present {
            Summary { count: 1, weights, least, .. } if *weights == 1.0 && contributions == 1 => Some(*least),
            _ => return Err("số liệu của chỉ tiêu này không cộng gộp giữa các đơn vị (cách tổng hợp «none»)".into()),
        },
        Aggregation::Formula(_) => {
            return Err("chỉ tiêu tính theo công thức được lập từ các chỉ tiêu mà công thức nêu".into());
        }
    })
}

/// Composes a value from contributions and the stored numbers of their
/// units, as the indicator's aggregation says. Units without a value are
/// listed with `null` and left out; no value at all gives `null`.
pub fn compose(
    aggregation: &crate::indicator::Aggregation,
    contributions: &[Contribution],
    numbers: &std::collections::HashMap<crate::unit::VersionKey, f64>,
) -> Result<Composed, String> {
    let sources: Vec<SourceValue> = contributions
        .iter()
        .map(|c| SourceValue {
            unit: c.unit.code.clone(),
            name: c.unit.name.clone(),
            value: numbers.get(&c.unit.key()).copied(),
            weight: c.weight,
        })
        .collect();
    let present: Vec<(f64, f64)> = sources.iter().filter_map(|s| Some((s.value?, s.weight))).collect();
    let estimated = contributions.iter().any(|c| c.estimated);
    let value = aggregate(aggregation, &present, contributions.len())?;
    Ok(Composed { value, estimated, sources, components: Default::default(), withheld: 0, pulled: false })
}
