//! A page's table downloaded as a workbook or printed as the official biểu:
//! `?format=xlsx` or `?format=print` on the page's own address, so that
//! every filter the page took (regime, period, unit, structure day, the
//! counting rule) applies to the file as to the page, with the same access.

use axum::response::Html;
use baocao_core::table::Table;
use baocao_documents::table::Letterhead;

use super::*;

/// What a page with a table answers: the page, its workbook or its print.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Format {
    Page,
    Xlsx,
    Print,
    /// The page's chart, as a file.
    Svg,
}

#[derive(Deserialize)]
pub struct FormatQuery {
    format: Option<String>,
}

impl FormatQuery {
    /// Refused before any work when unknown.
    pub(crate) fn format(&self) -> Result<Format, ApiError> {
        match self.format.as_deref() {
            None | Some("") => Ok(Format::Page),
            Some("xlsx") => Ok(Format::Xlsx),
            Some("print") => Ok(Format::Print),
            Some("svg") => Ok(Format::Svg),
            Some(other) => Err(ApiError::bad_request(format!(
                "Tham số `format`: «{other}» không phải xlsx (tải bảng tính), print (bản in) hoặc svg (biểu đồ)."
            ))),
        }
    }
}

/// A page whose table can leave it.
pub(crate) trait Exported {
    fn table(&self) -> Table;

    /// The page's chart (SVG drawn for the page), if it has one.
    fn chart(&self) -> Option<&str> {
        None
    }
}

/// The letterhead of what an account prints: the people's committee of
/// the unit its pages open on (the province for its offices, a commune
/// for its officers).
pub(super) async fn letterhead(state: &AppState, access: &Access) -> Result<Letterhead, ApiError> {
    let registry = state.registry().await?;
    let home = access.home_unit(state.settings.home_province.as_deref());
    let name = home.and_then(|code| registry.in_force(&code, today_in_vietnam()).map(|u| u.name.clone()));
    Ok(match name {
        Some(name) => Letterhead::committee_of(&name),
        None => Letterhead { agency: "ỦY BAN NHÂN DÂN".into(), place: String::new() },
    })
}

/// Answers a page, or its table or chart as `?format=` asks: an unknown
/// format is refused before the page is made (`page` is awaited only then).
pub(crate) async fn answer<P: Template + Exported>(
    state: &AppState,
    access: &Access,
    format: &FormatQuery,
    page: impl Future<Output = Result<P, ApiError>>,
) -> Response {
    match format.format() {
        Ok(format) => deliver(state, access, page.await, format).await,
        Err(e) => error_page(e),
    }
}

/// Answers a page, or its table as `format` asks.
async fn deliver<P: Template + Exported>(
    state: &AppState,
    access: &Access,
    page: Result<P, ApiError>,
    format: Format,
) -> Response {
    let answer = async {
        let page = page?;
        Ok::<_, ApiError>(match format {
            Format::Page => render(&page),
            Format::Xlsx => {
                let table = page.table();
                let bytes = baocao_ingest::xlsx::write_table(&table, state.settings.demo)
                    .map_err(|e| ApiError::bad_request(e.to_string()))?;
                crate::respond::workbook(&table.file_name, bytes)
            }
            Format::Print => {
                let head = letterhead(state, access).await?;
                Html(baocao_documents::table::render(&page.table(), &head, state.settings.demo)?).into_response()
            }
            Format::Svg => {
                let chart = page.chart().ok_or_else(|| ApiError::not_found("Trang này không có biểu đồ."))?;
                // Inline in a page the namespace is implied; a file names it.
                let file = chart.replacen("<svg ", "<svg xmlns=\"http://www.w3.org/2000/svg\" ", 1);
                let name = format!("{}.svg", baocao_core::table::file_name(&page.table().file_name));
                (
                    [
                        (axum::http::header::CONTENT_TYPE, "image/svg+xml; charset=utf-8".to_string()),
                        (axum::http::header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
                    ],
                    file,
                )
                    .into_response()
            }
        })
    }
    .await;
    answer.unwrap_or_else(error_page)
}

/// The query of a page's own filters (the empty ones left out), ending
/// with `&` when there are any, to which a link adds `format=…`.
pub(crate) fn query(pairs: &[(&str, &str)]) -> String {
    let kept: Vec<_> = pairs.iter().filter(|(_, v)| !v.is_empty()).collect();
    match serde_urlencoded::to_string(kept) {
        Ok(q) if !q.is_empty() => q + "&",
        _ => String::new(),
    }
}

/// A view of a page as a favourite keeps it: of the query string `text`,
/// only the page's own parameters `keys`, in their order (no format, no
/// CSRF token). `page` names the page in a refusal.
pub(crate) fn kept_query(text: &str, keys: &[&str], page: &str) -> Result<String, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(text.trim_start_matches('?'))
        .map_err(|_| ApiError::bad_request(format!("Truy vấn của trang {page} không đọc được.")))?;
    let kept: Vec<(&str, &str)> = keys
        .iter()
        .flat_map(|key| pairs.iter().filter(move |(k, _)| k == key).map(|(k, v)| (k.as_str(), v.as_str())))
        .collect();
    Ok(query(&kept).trim_end_matches('&').to_string())
}
