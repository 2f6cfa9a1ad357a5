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
            let mut tasks = Vec::new();
            for regime in state.db.regimes().await? {
                // A closed request asks nothing more of anyone.
                if regime.request.as_ref().is_some_and(|r| r.closed_on.is_some()) {
                    continue;
                }
                let what = match &regime.request {
                    Some(r) => format!(
                        "Đề nghị báo cáo {} {}: {}",
                        r.kind.vietnamese().to_lowercase(),
                        regime.code,
                        regime.name
                    ),
                    None => regime.name.clone(),
                };
                for period in recent_periods(&regime, today) {
                    let completeness = state.db.completeness(&registry, &regime.code, &period).await?;
                    let deadline = regime.deadline(&period);
                    for u in &completeness.units {
                        let Some(unit) = registry.in_force(&u.code, period.end()) else { continue };
                        let target = Target::Unit { unit, day: period.end(), form: Some(&regime.form) };
                        let kind = match u.status {
                            None | Some(Status::Draft) if access.can(&registry, Permission::EnterReports, target) => {
                                "Cần nhập và gửi"
                            }
                            Some(Status::Returned) if access.can(&registry, Permission::EnterReports, target) => {
                                "Bị trả lại, cần sửa"
                            }
                            // Only at the level of the chain the report waits at.
                            Some(Status::Submitted)
                                if access.decides(&registry, &regime, &u.code, &period, u.approvals) =>
                            {
                                "Chờ phê duyệt"
                            }
                            _ => continue,
                        };
                        tasks.push(Task {
                            kind,
                            regime: regime.code.clone(),
                            what: what.clone(),
                            unit: u.code.clone(),
                            unit_name: u.name.clone(),
                            period: period.to_string(),
                            period_label: period.label(),
                            deadline: format_vn(deadline),
                            late: today > deadline,
                        });
                    }
                }
            }
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
