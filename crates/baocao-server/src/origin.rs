//! Where a figure comes from (nguồn gốc số liệu), one click or one call
//! away: the figure as composed (which units, exact or estimated, how many
//! left out as unseen), and for each unit's stored value whether it was
//! entered (by whom, in which revision of which report), imported (which
//! file or API) or pulled (which feed, which run, which record).

use askama::Template;
use axum::Json;
use axum::extract::State;
use axum::response::Response;
use baocao_core::date::time_vn;
use baocao_core::restate::Composed;
use baocao_core::text::format_figure;
use baocao_store::provenance::Provenance;
use serde::Serialize;
use utoipa::ToSchema;

use crate::access::Access;
use crate::data_api::{ValueQuery, composed};
use crate::error::ApiError;
use crate::pages::{Chrome, page_result};
use crate::params::Query;
use crate::state::AppState;

/// A composed value and the origin of each stored value it is made of.
#[derive(Serialize, ToSchema)]
pub struct ValueOrigin {
    pub value: Composed,
    /// The units the asker may see that hold a stored value, each with
    /// where that value came from and whether it counts.
    pub sources: Vec<SourceOrigin>,
}

#[derive(Serialize, ToSchema)]
pub struct SourceOrigin {
    pub unit: String,
    pub name: String,
    /// The value as stored (text).
    pub value: String,
    pub weight: f64,
    /// Whether the value counts in the figure by the one rule (a draft's
    /// does not).
    pub counts: bool,
    pub origin: Provenance,
}

async fn origin_of(state: &AppState, access: &Access, q: &ValueQuery) -> Result<ValueOrigin, ApiError> {
    let (value, period) = composed(state, access, q).await?;
    let mut sources = Vec::new();
    // Only the sources the composition kept: those the asker may see. A
    // value stored in a report that does not count yet (a draft) is told
    // too, as not counted.
    for s in &value.sources {
        if let Some(stored) = state.db.value_origin(&q.indicator, &s.unit, &period).await? {
            sources.push(SourceOrigin {
                unit: s.unit.clone(),
                name: s.name.clone(),
                value: stored.value,
                weight: s.weight,
                counts: s.value.is_some(),
                origin: stored.origin,
            });
        }
    }
    Ok(ValueOrigin { value, sources })
}

/// Where a value comes from: its composition, and each stored value's origin.
#[utoipa::path(get, path = "/api/v1/values/origin", params(ValueQuery),
    responses((status = 200, body = ValueOrigin), (status = 404, description = "unknown unit or indicator")))]
pub async fn origin_api(
    State(state): State<AppState>,
    access: Access,
    Query(q): Query<ValueQuery>,
) -> Result<Json<ValueOrigin>, ApiError> {
    Ok(Json(origin_of(&state, &access, &q).await?))
}

#[derive(Template)]
#[template(path = "origin.html")]
struct OriginPage {
    chrome: Chrome,
    indicator: String,
    unit: String,
    period: String,
    value: String,
    estimated: bool,
    pulled: bool,
    withheld: usize,
    components: Vec<(String, String)>,
    rows: Vec<OriginRow>,
}

struct OriginRow {
    unit: String,
    name: String,
    value: String,
    share: String,
    how: String,
    href: Option<String>,
}

/// An origin said in Vietnamese, with the report it was entered in.
fn told(origin: &Provenance, unit: &str, period: &str) -> (String, Option<String>) {
    match origin {
        Provenance::Entered { regime, revision, action, actor, at } => {
            let what = if action == "submit" { "gửi" } else { "lưu nháp" };
            (
                format!("Nhập trong báo cáo {regime}, bản {revision} ({what}) bởi {actor} lúc {}", time_vn(*at)),
                Some(format!("/reports/{regime}/{unit}/{period}")),
            )
        }
        Provenance::Imported { label, actor, at } => (format!("Nạp từ {label} bởi {actor} lúc {}", time_vn(*at)), None),
        Provenance::Pulled { feed, run, fetched_at, record } => (
            format!(
                "Lấy tự động từ {feed}, lần lấy số {run} lúc {}{}",
                time_vn(*fetched_at),
                record.as_deref().map(|r| format!(", bản ghi gốc {r}")).unwrap_or_default()
            ),
            None,
        ),
        Provenance::Unknown => ("Không rõ: lưu trước khi hệ thống ghi nguồn số liệu".into(), None),
    }
}

pub async fn origin_page(State(state): State<AppState>, access: Access, Query(q): Query<ValueQuery>) -> Response {
    let page = async {
        let found = origin_of(&state, &access, &q).await?;
        let period = q.period.clone();
        let rows = found
            .sources
            .iter()
            .map(|s| {
                let (mut how, href) = told(&s.origin, &s.unit, &period);
                if !s.counts {
                    how.push_str(" — chưa tính vào số liệu: báo cáo chưa được phê duyệt");
                }
                OriginRow {
                    unit: s.unit.clone(),
                    name: s.name.clone(),
                    value: s.value.parse::<f64>().map_or_else(|_| s.value.clone(), format_figure),
                    share: if s.weight == 1.0 { String::new() } else { format!("× {}", format_figure(s.weight)) },
                    how,
                    href,
                }
            })
            .collect();
        let label = period.parse::<baocao_core::Period>().map_or_else(|_| period.clone(), |p| p.label());
        Ok::<_, ApiError>(OriginPage {
            chrome: Chrome::new(&state, &access),
            indicator: q.indicator.clone(),
            unit: q.unit.clone(),
            period: label,
            value: found.value.value.map_or_else(|| "—".into(), format_figure),
            estimated: found.value.estimated,
            pulled: found.value.pulled,
            withheld: found.value.withheld,
            components: found
                .value
                .components
                .iter()
                .map(|(code, v)| (code.clone(), v.map_or_else(|| "—".into(), format_figure)))
                .collect(),
            rows,
        })
    };
    page_result(page.await)
}
