//! «Tiến độ»: which units sent a period's report, on time or late.

use super::*;

#[derive(Template)]
#[template(path = "completeness.html")]
struct CompletenessPage {
    chrome: Chrome,
    regimes: Vec<(String, String)>,
    regime: String,
    periods: Vec<(String, String)>,
    period: String,
    summary: Completeness,
    period_label: String,
    deadline: String,
    rows: Vec<ListRow>,
    chart: String,
}

/// Completeness and timeliness of a regime: a chart of recent periods and
/// the state of each unit in the chosen one.
pub async fn completeness(State(state): State<AppState>, access: Access, Query(q): Query<ListQuery>) -> Response {
    page_result(
        async {
            let registry = state.registry().await?;
            let (regimes, regime, periods, period) = choose(&state, &q).await?;
            let summary = readable_completeness(&state, &access, &regime.code, &period).await?;
            let mut bars = Vec::new();
            for p in periods.iter().take(6).rev() {
                // The chosen period is counted already, as the asker may see it.
                let other;
                let c = if *p == period {
                    &summary
                } else {
                    other = shown_to(
                        &registry,
                        &access,
                        &regime.form,
                        state.db.completeness(&registry, &regime.code, p).await?,
                    );
                    &other
                };
                let label = match p {
                    Period::Month { year, month } => format!("{month:02}/{year}"),
                    other => other.to_string(),
                };
                bars.push(charts::Bar {
                    label,
                    on_time: c.on_time,
                    late: c.late,
                    missing: c.missing,
                    expected: c.expected,
                });
            }
            let rows = visible(&registry, &access, &regime, &summary, Permission::ViewReports)
                .into_iter()
                .map(list_row)
                .collect();
            Ok(CompletenessPage {
                chrome: Chrome::new(&state, &access),
                regimes: regimes.iter().map(|r| (r.code.clone(), r.name.clone())).collect(),
                regime: regime.code.clone(),
                periods: periods.iter().map(|p| (p.to_string(), p.label())).collect(),
                period: period.to_string(),
                period_label: period.label(),
                deadline: format_vn(regime.deadline(&period)),
                chart: charts::bars(&bars),
                rows,
                summary,
            })
        }
        .await,
    )
}
