//! «Việc của tôi»: the reports an account has to send, approve or follow,
//! under the dashboard shared on its home page (the province's, for its
//! approvers).

use super::*;

/// One line of a to-do list.
struct Task {
    kind: &'static str,
    regime: String,
    /// What is reported: the regime's name, or the request's.
    what: String,
    unit: String,
    unit_name: String,
    period: String,
    period_label: String,
    deadline: String,
    late: bool,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    chrome: Chrome,
    today: String,
    tasks: Vec<Task>,
    /// The dashboard shared on the account's home page, if any: its id,
    /// its name and the names of its views, each composed on its own
    /// request (`/dashboards/{id}/views/{n}`).
    dashboard: Option<(i64, String, Vec<String>)>,
}

/// Reports the account has to enter, send again, or approve, with deadlines.
pub async fn home(State(state): State<AppState>, access: Access) -> Response {
    page_result(
        async {
            let registry = state.registry().await?;
            let today = today_in_vietnam();
            let tasks = crate::due::due_reports(&state, &access, &registry, today)
                .await?
                .into_iter()
                .map(|d| {
                    let what = match &d.regime.request {
                        Some(r) => format!(
                            "Đề nghị báo cáo {} {}: {}",
                            r.kind.vietnamese().to_lowercase(),
                            d.regime.code,
                            d.regime.name
                        ),
                        None => d.regime.name.clone(),
                    };
                    Task {
                        kind: d.duty.vietnamese(),
                        regime: d.regime.code.clone(),
                        what,
                        unit: d.unit,
                        unit_name: d.unit_name,
                        period: d.period.to_string(),
                        period_label: d.period.label(),
                        deadline: format_vn(d.deadline),
                        late: today > d.deadline,
                    }
                })
                .collect();
            let shown = super::dashboards::home_dashboard(&state, &access, &registry).await?;
            Ok(HomePage {
                chrome: Chrome::new(&state, &access),
                today: format_vn(today),
                tasks,
                dashboard: shown.map(|d| (d.id, d.name, d.items.into_iter().map(|i| i.name).collect())),
            })
        }
        .await,
    )
}
