//! «Phân tích»: a pivot table of figures — indicators, units and periods
//! arranged as the user asks, every figure composed in the structure of
//! one day by the same rule as everywhere else — with a chart, a
//! workbook and a print.

use super::charts;
use super::export::{Exported, FormatQuery, deliver, query};
use super::*;
use baocao_core::table::{Cell, Table, TableRow};
use baocao_core::{Periodicity, UnitVersion};
use baocao_store::compose::Audience;
use baocao_store::restated::{self, TableQuery};

/// The most figures one page composes; larger tables go through the
/// API's streamed export (`/api/v1/values/table`).
const MOST_CELLS: usize = 20_000;

/// The three ways a figure is told apart.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Dim {
    Unit,
    Indicator,
    Period,
}

impl Dim {
    const ALL: [Dim; 3] = [Dim::Unit, Dim::Indicator, Dim::Period];

    fn word(self) -> &'static str {
        match self {
            Dim::Unit => "unit",
            Dim::Indicator => "indicator",
            Dim::Period => "period",
        }
    }

    fn vietnamese(self) -> &'static str {
        match self {
            Dim::Unit => "Đơn vị",
            Dim::Indicator => "Chỉ tiêu",
            Dim::Period => "Kỳ",
        }
    }

    fn parse(name: &str, value: Option<&str>, default: Dim) -> Result<Dim, ApiError> {
        match value.filter(|v| !v.is_empty()) {
            None => Ok(default),
            Some(v) => Dim::ALL.into_iter().find(|d| d.word() == v).ok_or_else(|| {
                ApiError::bad_request(format!("Tham số `{name}`: «{v}» không phải unit, indicator hoặc period."))
            }),
        }
    }
}

/// Which units of the area: the area, its direct units, or every level.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Depth {
    Area,
    Children,
    All,
}

impl Depth {
    fn parse(value: Option<&str>) -> Result<Depth, ApiError> {
        match value.filter(|v| !v.is_empty()) {
            None | Some("children") => Ok(Depth::Children),
            Some("area") => Ok(Depth::Area),
            Some("all") => Ok(Depth::All),
            Some(other) => {
                Err(ApiError::bad_request(format!("Tham số `depth`: «{other}» không phải area, children hoặc all.")))
            }
        }
    }

    fn word(self) -> &'static str {
        match self {
            Depth::Area => "area",
            Depth::Children => "children",
            Depth::All => "all",
        }
    }
}

/// One row of the table as shown: its label and its cells, formatted.
struct ShownRow {
    label: String,
    /// The area's own figure (its total) among its units.
    total: bool,
    cells: Vec<ShownCell>,
}

struct ShownCell {
    value: Option<f64>,
    text: String,
    marks: &'static str,
}

#[derive(Template)]
#[template(path = "analysis.html")]
struct AnalysisPage {
    chrome: Chrome,
    indicators: Vec<(String, String, bool)>,
    unit: String,
    unit_name: String,
    unit_choices: Vec<(String, String)>,
    depth: &'static str,
    periodicity: &'static str,
    from: String,
    to: String,
    at: String,
    rows_dim: &'static str,
    cols_dim: &'static str,
    dims: Vec<(&'static str, &'static str)>,
    include_submitted: bool,
    counting: &'static str,
    marks: &'static str,
    corner: String,
    headings: Vec<String>,
    rows: Vec<ShownRow>,
    chart: String,
    /// The page's filters, for its workbook and print links.
    export: String,
    title_line: String,
}

const MARKS: &str = "Mọi số liệu được tính theo cơ cấu đơn vị hành chính của ngày đã chọn; số của một địa bàn được tính \
từ các đơn vị của nó theo cùng quy tắc, không phải cộng các dòng trên trang. Số có phần ước tính được đánh dấu *; số không \
gồm phần của đơn vị ngoài phạm vi được xem của tài khoản được đánh dấu †.";

impl Exported for AnalysisPage {
    fn table(&self) -> Table {
        Table {
            title: "Phân tích số liệu".into(),
            lines: vec![self.title_line.clone()],
            headings: std::iter::once(self.corner.clone()).chain(self.headings.iter().cloned()).collect(),
            rows: self
                .rows
                .iter()
                .map(|r| TableRow {
                    heading: r.total,
                    cells: std::iter::once(Cell::text(&r.label))
                        .chain(r.cells.iter().map(|c| Cell::figure(c.value, c.marks)))
                        .collect(),
                    ..Default::default()
                })
                .collect(),
            notes: vec![self.counting.into(), MARKS.into()],
            file_name: format!("phan-tich-{}", self.unit),
        }
    }
}

fn month_param(name: &str, value: Option<&str>, default: NaiveDate) -> Result<NaiveDate, ApiError> {
    let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else { return Ok(default) };
    let refused = || ApiError::bad_request(format!("Tham số `{name}`: «{v}» không phải tháng dạng yyyy-mm."));
    let (year, month) = v.split_once('-').ok_or_else(refused)?;
    let (year, month) = (year.parse().map_err(|_| refused())?, month.parse().map_err(|_| refused())?);
    NaiveDate::from_ymd_opt(year, month, 1).ok_or_else(refused)
}

/// The pivot table: `indicator` (repeated), `unit`, `depth`, `periodicity`,
/// `from` and `to` (months, yyyy-mm), `at` (the structure day), `rows` and
/// `cols` (unit, indicator or period), `submitted`.
pub async fn analysis(
    State(state): State<AppState>,
    access: Access,
    Query(pairs): Query<Vec<(String, String)>>,
    Query(f): Query<FormatQuery>,
) -> Response {
    let format = match f.format() {
        Ok(format) => format,
        Err(e) => return error_page(e),
    };
    let page = build(&state, &access, &pairs).await;
    deliver(&state, &access, page, format).await
}

async fn build(state: &AppState, access: &Access, pairs: &[(String, String)]) -> Result<AnalysisPage, ApiError> {
    let param = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let registry = state.registry().await?;
    let known = state.db.indicators().await?;
    let mut asked: Vec<String> =
        pairs.iter().filter(|(k, v)| k == "indicator" && !v.is_empty()).map(|(_, v)| v.clone()).collect();
    asked.dedup();
    if asked.is_empty() {
        asked.extend(known.first().map(|i| i.code.clone()));
    }
    for code in &asked {
        if !known.iter().any(|i| &i.code == code) {
            return Err(ApiError::not_found(format!("Không có chỉ tiêu «{code}».")));
        }
    }
    let at = crate::api::day_param("at", param("at"))?;
    let unit_code = param("unit")
        .filter(|u| !u.is_empty())
        .map(str::to_string)
        .or_else(|| access.home_unit(state.settings.home_province.as_deref()))
        .ok_or_else(|| ApiError::bad_request("Chọn đơn vị (mã đơn vị)."))?;
    let area = unit_on(&registry, &unit_code, at)?;
    access.require(&registry, Permission::ViewReports, Target::Unit { unit: area, day: at, form: None })?;
    let depth = Depth::parse(param("depth"))?;
    let periodicity: Periodicity = param("periodicity")
        .filter(|p| !p.is_empty())
        .unwrap_or("monthly")
        .parse()
        .map_err(|e: String| ApiError::bad_request(format!("Tham số `periodicity`: {e}")))?;
    let today = today_in_vietnam();
    let this_month = NaiveDate::from_ymd_opt(today.year(), today.month(), 1).expect("the first of a month");
    let from = month_param("from", param("from"), this_month - chrono::Months::new(12))?;
    let to_month = month_param("to", param("to"), this_month - chrono::Months::new(1))?;
    let to = to_month + chrono::Months::new(1) - Days::new(1);
    let periods = Period::ending_between(periodicity, from, to);
    if periods.is_empty() {
        return Err(ApiError::bad_request("Không có kỳ nào kết thúc trong khoảng tháng đã chọn."));
    }
    let rows_dim = Dim::parse("rows", param("rows"), Dim::Unit)?;
    let mut cols_dim = Dim::parse("cols", param("cols"), Dim::Period)?;
    if cols_dim == rows_dim {
        cols_dim = Dim::ALL.into_iter().find(|d| *d != rows_dim && *d != Dim::Indicator).unwrap_or(Dim::Indicator);
    }
    let third = Dim::ALL.into_iter().find(|d| *d != rows_dim && *d != cols_dim).expect("three dimensions");

    // The units shown: only those the account may see, so that no row
    // tells a figure of a unit outside its scope.
    let units: Vec<&UnitVersion> = match depth {
        Depth::Area => vec![area],
        Depth::Children => registry
            .units_of_area(Some(&area.code), true, at)
            .map_err(|e| ApiError::not_found(e.to_string()))?
            .into_iter()
            .filter(|u| u.code == area.code || u.parent_code.as_deref() == Some(area.code.as_str()))
            .collect(),
        Depth::All => {
            registry.units_of_area(Some(&area.code), true, at).map_err(|e| ApiError::not_found(e.to_string()))?
        }
    };
    let units: Vec<&UnitVersion> = units.into_iter().filter(|u| access.sees(&registry, u, at)).collect();
    let size = units.len() * asked.len() * periods.len();
    if size > MOST_CELLS {
        return Err(ApiError::bad_request(format!(
            "Bảng có {} ô, quá {} ô một trang: hãy chọn ít chỉ tiêu, đơn vị hoặc kỳ hơn, hoặc tải toàn bộ qua API /api/v1/values/table.",
            format_number(size as f64, 0),
            format_number(MOST_CELLS as f64, 0)
        )));
    }

    let include_submitted = param("submitted").is_some_and(|v| !v.is_empty());
    let counting = Counting::Official { include_submitted };
    let sees = |unit: &UnitVersion, day| access.sees(&registry, unit, day);
    let visible: Option<&baocao_store::compose::Visibility> = (!access.reads_everywhere()).then_some(&sees);
    let table = TableQuery {
        indicators: asked.clone(),
        units: units.iter().map(|u| u.code.clone()).collect(),
        periods: periods.clone(),
        structure_at: at,
    };
    let mut cells: HashMap<(String, String, Period), restated::Cell> = HashMap::new();
    state
        .db
        .restate_table(&registry, &table, Audience { counting, visible }, |chunk| {
            cells.extend(chunk.into_iter().map(|c| ((c.unit.clone(), c.indicator.clone(), c.period), c)));
            std::future::ready(true)
        })
        .await?;

    // Each dimension's members, in order, with their labels.
    let indicator_name =
        |code: &str| known.iter().find(|i| i.code == code).map_or(code.to_string(), |i| i.name.clone());
    let members = |dim: Dim| -> Vec<(String, String)> {
        match dim {
            Dim::Unit => units.iter().map(|u| (u.code.clone(), u.name.clone())).collect(),
            Dim::Indicator => asked.iter().map(|c| (c.clone(), indicator_name(c))).collect(),
            Dim::Period => periods.iter().map(|p| (p.to_string(), p.label())).collect(),
        }
    };
    let (row_members, col_members, third_members) = (members(rows_dim), members(cols_dim), members(third));
    let cell_of = |by: &[(Dim, &str)]| -> Option<&restated::Cell> {
        let of = |d: Dim| by.iter().find(|(k, _)| *k == d).map(|(_, v)| *v).unwrap_or_default();
        let period: Period = of(Dim::Period).parse().ok()?;
        cells.get(&(of(Dim::Unit).to_string(), of(Dim::Indicator).to_string(), period))
    };
    let mut rows = Vec::new();
    for (row_key, row_label) in &row_members {
        for (third_key, third_label) in &third_members {
            let label =
                if third_members.len() == 1 { row_label.clone() } else { format!("{row_label} · {third_label}") };
            let total = rows_dim == Dim::Unit && *row_key == area.code && units.len() > 1;
            let shown = col_members
                .iter()
                .map(|(col_key, _)| {
                    let found = cell_of(&[(rows_dim, row_key), (cols_dim, col_key), (third, third_key)]);
                    let value = found.map(|c| c.value);
                    let marks = found.map_or("", |c| marks(c.estimated, c.withheld > 0));
                    let text =
                        value.map(|v| format_number(v, if v.fract() == 0.0 { 0 } else { 1 })).unwrap_or_default();
                    ShownCell { value, text, marks }
                })
                .collect();
            rows.push(ShownRow { label, total, cells: shown });
        }
    }
    let headings: Vec<String> = col_members.iter().map(|(_, l)| l.clone()).collect();
    let chart = if cols_dim == Dim::Period && headings.len() > 1 {
        // The area's own line would flatten its units' lines: drawn alone
        // only when it is all there is.
        let drawn: Vec<&ShownRow> = rows.iter().filter(|r| !r.total).collect();
        let drawn = if drawn.is_empty() { rows.iter().collect() } else { drawn };
        let series: Vec<(String, Vec<Option<f64>>)> =
            drawn.iter().take(8).map(|r| (r.label.clone(), r.cells.iter().map(|c| c.value).collect())).collect();
        charts::lines(&headings, &series)
    } else {
        let last = headings.len().saturating_sub(1);
        let bars: Vec<(String, f64)> = rows
            .iter()
            .filter(|r| !r.total)
            .filter_map(|r| Some((r.label.clone(), r.cells.get(last)?.value?)))
            .collect();
        charts::ranking(headings.get(last).map_or("", String::as_str), &bars)
    };
    let mut export_pairs: Vec<(&str, &str)> = asked.iter().map(|c| ("indicator", c.as_str())).collect();
    let (from_text, to_text) = (from.format("%Y-%m").to_string(), to_month.format("%Y-%m").to_string());
    let at_text = format_vn(at);
    export_pairs.extend([
        ("unit", unit_code.as_str()),
        ("depth", depth.word()),
        ("periodicity", periodicity.as_str()),
        ("from", from_text.as_str()),
        ("to", to_text.as_str()),
        ("at", at_text.as_str()),
        ("rows", rows_dim.word()),
        ("cols", cols_dim.word()),
        ("submitted", if include_submitted { "1" } else { "" }),
    ]);
    let export = query(&export_pairs);
    let corner = if third_members.len() == 1 {
        format!("{} \\ {}", rows_dim.vietnamese(), cols_dim.vietnamese())
    } else {
        format!("{} · {} \\ {}", rows_dim.vietnamese(), third.vietnamese(), cols_dim.vietnamese())
    };
    Ok(AnalysisPage {
        chrome: Chrome::new(state, access),
        indicators: known.iter().map(|i| (i.code.clone(), i.name.clone(), asked.contains(&i.code))).collect(),
        unit_name: area.name.clone(),
        unit_choices: unit_choices(&registry, access, Permission::ViewReports, at),
        title_line: format!("{} ({}) · theo cơ cấu ngày {}", area.name, area.code, at_text),
        unit: unit_code,
        depth: depth.word(),
        periodicity: periodicity.as_str(),
        from: from_text,
        to: to_text,
        at: at_text,
        rows_dim: rows_dim.word(),
        cols_dim: cols_dim.word(),
        dims: Dim::ALL.iter().map(|d| (d.word(), d.vietnamese())).collect(),
        include_submitted,
        counting: counting.vietnamese(),
        marks: MARKS,
        export,
        corner,
        headings,
        rows,
        chart,
    })
}
