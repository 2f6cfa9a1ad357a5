//! Tables of figures in the structure of one day: many indicators, units
//! and periods composed in one pass, by the same rules as a single value
//! ([`Db::query_value`]) and from the same reads.
//!
//! Each period's numbers are read once for every unit the table draws on
//! and only for the indicators asked (with those their formulas name); the
//! shares of a unit are computed once for all periods between two changes
//! of the registry, and filtered by what the asker may see once for all
//! its indicators. A plain indicator (no formula, nothing filed by
//! agencies that period) is aggregated straight from the numbers read;
//! the others go through [`Db::compose_indicator`] like a single value. A
//! period that draws on more numbers than may be kept has the database
//! sum the plain indicators' numbers instead, formulas evaluated from
//! those sums (`summed`). Cells are handed
//! over period by period, so that an export of years of data holds one
//! period in memory.

use baocao_core::restate::Contribution;
use baocao_core::{Indicator, Period, Registry};
use chrono::NaiveDate;
use serde::Serialize;

use crate::compose::{Audience, ComposeContext, SharedContributions};
use crate::{Db, StoreError};

/// What a table asks: indicators by code, units by code (in force on
/// `structure_at`), periods.
#[derive(Clone, Debug)]
pub struct TableQuery {
    pub indicators: Vec<String>,
    pub units: Vec<String>,
    pub periods: Vec<Period>,
    pub structure_at: NaiveDate,
}

/// One figure of a table. Cells without a value are not given.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Cell {
    pub indicator: String,
    pub unit: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub period: Period,
    pub value: f64,
    /// Some share was estimated; the value is not exact.
    pub estimated: bool,
    /// Sources left out because the asker may not see them (0: none).
    pub withheld: usize,
    /// Some number it is made of was pulled from another system (a feed).
    pub pulled: bool,
}

impl Db {
    /// Composes every cell of `query` for `audience`, period by period in
    /// the order asked, handing each period's cells (units in the order
    /// asked, then indicators in the order asked) to `emit`, which answers
    /// false to stop early (the reader went away).
    pub async fn restate_table<F, Fut>(
        &self,
        registry: &Registry,
        query: &TableQuery,
        audience: Audience<'_>,
        mut emit: F,
    ) -> Result<(), StoreError>
    where
        F: FnMut(Vec<Cell>) -> Fut,
        Fut: Future<Output = bool>,
    {
        let indicators = self.indicators_by_code().await?;
        let asked: Vec<&Indicator> = query
            .indicators
            .iter()
            .map(|code| {
                indicators.get(code).ok_or_else(|| StoreError::NotFound(format!("Không có chỉ tiêu «{code}».")))
            })
            .collect::<Result<_, _>>()?;
        for code in &query.units {
            if registry.in_force(code, query.structure_at).is_none() {
                return Err(StoreError::NotFound(format!(
                    "Đơn vị «{code}» không có hiệu lực ngày {}.",
                    baocao_core::date::format_vn(query.structure_at)
                )));
            }
        }
        // What the asked indicators are made of: their formulas' components.
        let drawn = baocao_core::indicator::with_formula_components(query.indicators.iter().cloned(), &indicators);
        let drawn: Vec<&Indicator> = drawn.iter().filter_map(|code| indicators.get(code)).collect();
        let mut ctx = ComposeContext::new(registry, &indicators, audience.counting);
        ctx.visible = audience.visible;
        ctx.limit_to(asked.iter().map(|i| i.code.as_str()));
        for period in &query.periods {
            // Each unit's shares, and which of them the asker may see, once
            // for all its indicators; every unit the table draws on read in
            // one go rather than as each cell first needs it.
            let shares: Vec<(SharedContributions, usize)> = query
                .units
                .iter()
                .map(|code| ctx.shown_contributions(code, query.structure_at, period.end()))
                .collect::<Result<_, _>>()?;
            let mut sources: Vec<&str> = query.units.iter().map(String::as_str).collect();
            sources.extend(shares.iter().flat_map(|(shown, _)| shown.iter().map(|c| c.unit.code.as_str())));
            sources.sort_unstable();
            sources.dedup();
            // What cannot be kept is summed where it is stored (`summed`);
            // the rest read once for every cell and kept for the next table.
            let sums = if self.summed_by_database(sources.len() * asked.len()) {
                let units: Vec<&[Contribution]> = shares.iter().map(|(shown, _)| shown.as_slice()).collect();
                Some(self.sums(period, &units, &drawn, audience.counting).await?)
            } else {
                self.read_numbers(&ctx, period, &sources).await?;
                None
            };
            let mut cells = Vec::new();
            for (position, (code, (shown, withheld))) in query.units.iter().zip(&shares).enumerate() {
                for indicator in &asked {
                    let figure = match &sums {
                        Some(sums) => sums.figure(position, indicator, &indicators, shown, *withheld),
                        None => ctx.plain_figure(indicator, period, shown, *withheld),
                    };
                    let c = match figure {
                        Some(Ok(c)) => c,
                        // What does not aggregate is left blank, as on every page.
                        Some(Err(_)) => continue,
                        None => {
                            let at = query.structure_at;
                            let Some(c) = self.compose_or_blank(&ctx, indicator, code, *period, at).await? else {
                                continue;
                            };
                            c
                        }
                    };
                    if let Some(value) = c.value {
                        cells.push(Cell {
                            indicator: indicator.code.clone(),
                            unit: code.clone(),
                            period: *period,
                            value,
                            estimated: c.estimated,
                            withheld: c.withheld,
                            pulled: c.pulled,
                        });
                    }
                }
            }
            ctx.forget(period);
            if !emit(cells).await {
                break;
            }
        }
        Ok(())
    }
}
