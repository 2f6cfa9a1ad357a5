//! «Phân tích»: a pivot table of figures — indicators, units and periods
//! arranged as the user asks, every figure composed in the structure of
//! one day by the same rule as everywhere else — with a chart, a
//! workbook and a print.

use super::charts;
use super::export::{Exported, FormatQuery, answer, kept_query, query};
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

/// Which months: those chosen, or a span that moves with today (what a
/// saved view on a dashboard wants), always ending with last month.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Span {
    Chosen,
    LastMonth,
    Last12,
    ThisYear,
    LastYear,
}

impl Span {
    const ALL: [Span; 5] = [Span::Chosen, Span::LastMonth, Span::Last12, Span::ThisYear, Span::LastYear];

    fn word(self) -> &'static str {
        match self {
            Span::Chosen => "",
            Span::LastMonth => "last_month",
            Span::Last12 => "last12",
            Span::ThisYear => "this_year",
            Span::LastYear => "last_year",
        }
    }

    fn vietnamese(self) -> &'static str {
        match self {
            Span::Chosen => "các tháng đã chọn",
            Span::LastMonth => "tháng trước",
            Span::Last12 => "12 tháng gần nhất",
            Span::ThisYear => "từ đầu năm (lũy kế năm)",
            Span::LastYear => "cả năm trước",
        }
    }

    fn parse(value: Option<&str>) -> Result<Span, ApiError> {
        let v = value.unwrap_or_default();
        Span::ALL.into_iter().find(|s| s.word() == v).ok_or_else(|| {
            ApiError::bad_request(format!(
                "Tham số `span`: «{v}» không phải last_month, last12, this_year hoặc last_year."
            ))
        })
    }

    /// The first and last months of the span, given last month; none for
    /// the months chosen.
    fn months(self, last_month: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
        let january = |year| NaiveDate::from_ymd_opt(year, 1, 1).expect("the first of January");
        match self {
            Span::Chosen => None,
            Span::LastMonth => Some((last_month, last_month)),
            Span::Last12 => Some((last_month - chrono::Months::new(11), last_month)),
            Span::ThisYear => Some((january(last_month.year()), last_month)),
            Span::LastYear => Some((
                january(last_month.year() - 1),
                NaiveDate::from_ymd_opt(last_month.year() - 1, 12, 1).expect("the first of December"),
            )),
        }
    }
}

/// The chart drawn of the table's rows (at most eight).
#[derive(Clone, Copy, PartialEq, Eq)]
enum ChartKind {
    /// Lines when the columns are periods, else a ranking.
    Auto,
    Line,
    Column,
    Stacked,
    Ranking,
}

impl ChartKind {
    const ALL: [ChartKind; 5] =
        [ChartKind::Auto, ChartKind::Line, ChartKind::Column, ChartKind::Stacked, ChartKind::Ranking];

    fn word(self) -> &'static str {
        match self {
            ChartKind::Auto => "",
            ChartKind::Line => "line",
            ChartKind::Column => "column",
            ChartKind::Stacked => "stacked",
            ChartKind::Ranking => "ranking",
        }
    }

    fn vietnamese(self) -> &'static str {
        match self {
            ChartKind::Auto => "tự chọn",
            ChartKind::Line => "đường",
            ChartKind::Column => "cột",
            ChartKind::Stacked => "cột chồng",
            ChartKind::Ranking => "xếp hạng (cột cuối)",
        }
    }

    fn parse(value: Option<&str>) -> Result<ChartKind, ApiError> {
        let v = value.unwrap_or_default();
        ChartKind::ALL.into_iter().find(|k| k.word() == v).ok_or_else(|| {
            ApiError::bad_request(format!("Tham số `chart`: «{v}» không phải line, column, stacked hoặc ranking."))
        })
    }
}

/// The parameters a view of this page is made of: what a favourite keeps.
const VIEW_KEYS: [&str; 13] = [
    "indicator",
    "unit",
    "depth",
    "periodicity",
    "span",
    "from",
    "to",
    "at",
    "rows",
    "cols",
    "compare",
    "submitted",
    "chart",
];

/// The suffix of a period's member that stands for its change on the
/// same period a year before.
const CHANGE: char = '%';

/// A view's query string as a favourite keeps it.
pub(super) fn canonical_query(text: &str) -> Result<String, ApiError> {
    kept_query(text, &VIEW_KEYS, "phân tích")
}

/// One row of the table as shown: its label and its cells, formatted.
pub(super) struct ShownRow {
    label: String,
    /// The area's own figure (its total) among its units.
    total: bool,
    cells: Vec<ShownCell>,
}

struct ShownCell {
    value: Option<f64>,
    text: String,
    marks: &'static str,
    /// Where a period's figure comes from (`/values/origin`); none for a
    /// change on last year, which is two figures.
    origin: Option<String>,
}

/// The table alone, as the analysis page and a dashboard's views show it.
#[derive(Template)]
#[template(path = "pivot.html")]
pub(super) struct PivotPart<'a> {
    pub corner: &'a str,
    pub headings: &'a [String],
    pub rows: &'a [ShownRow],
}

#[derive(Template)]
#[template(path = "analysis.html")]
pub(super) struct AnalysisPage {
    chrome: Chrome,
    indicators: Vec<(String, String, bool)>,
    unit: String,
    pub unit_name: String,
    unit_choices: Vec<(String, String)>,
    depth: &'static str,
    periodicity: &'static str,
    from: String,
    to: String,
    span: &'static str,
    spans: Vec<(&'static str, &'static str)>,
    at: String,
    rows_dim: &'static str,
    cols_dim: &'static str,
    chart_kind: &'static str,
    /// Each period beside the same period a year before.
    last_year: bool,
    chart_kinds: Vec<(&'static str, &'static str)>,
    dims: Vec<(&'static str, &'static str)>,
    include_submitted: bool,
    counting: &'static str,
    marks: &'static str,
    corner: String,
    headings: Vec<String>,
    rows: Vec<ShownRow>,
    pub chart: String,
    /// The page's filters, for its workbook and print links.
    pub export: String,
    /// The same figures from the API, one a line with their flags (CSV):
    /// its query.
    data: String,
    pub title_line: String,
}

impl AnalysisPage {
    /// The table alone, for a dashboard.
    pub(super) fn pivot(&self) -> PivotPart<'_> {
        PivotPart { corner: &self.corner, headings: &self.headings, rows: &self.rows }
    }

    /// How many rows the table has.
    pub(super) fn rows(&self) -> usize {
        self.rows.len()
    }
}

const MARKS: &str = "Mọi số liệu được tính theo cơ cấu đơn vị hành chính của ngày đã chọn; số của một địa bàn được tính \
từ các đơn vị của nó theo cùng quy tắc, không phải cộng các dòng trên trang. Số có phần ước tính được đánh dấu *; số không \
gồm phần của đơn vị ngoài phạm vi được xem của tài khoản được đánh dấu †; số có phần lấy tự động từ hệ thống khác (nguồn cấp \
số liệu) được đánh dấu ‡.";

impl Exported for AnalysisPage {
    fn chart(&self) -> Option<&str> {
        Some(&self.chart)
    }

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
    answer(&state, &access, &f, build(&state, &access, &pairs)).await
}

pub(super) async fn build(
    state: &AppState,
    access: &Access,
    pairs: &[(String, String)],
) -> Result<AnalysisPage, ApiError> {
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
    let last_month = this_month - chrono::Months::new(1);
    let span = Span::parse(param("span"))?;
    let (from, to_month) = match span.months(last_month) {
        Some(months) => months,
        None => (
            month_param("from", param("from"), this_month - chrono::Months::new(12))?,
            month_param("to", param("to"), last_month)?,
        ),
    };
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
    let chart_kind = ChartKind::parse(param("chart"))?;
    // «So với cùng kỳ»: beside each period, the same period a year before
    // and the change, in percent.
    let last_year = match param("compare").unwrap_or_default() {
        "" => false,
        "last_year" => true,
        other => return Err(ApiError::bad_request(format!("Tham số `compare`: «{other}» không phải last_year."))),
    };

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
    let size = units.len() * asked.len() * periods.len() * if last_year { 3 } else { 1 };
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
        periods: if last_year {
            let mut both: Vec<Period> = periods.iter().flat_map(|p| [p.year_before(), *p]).collect();
            both.sort_by_key(|p| p.start());
            both.dedup();
            both
        } else {
            periods.clone()
        },
        structure_at: at,
    };
    let asker = access.figure_asker();
    let key =
        format!("pivot|{:?}|{:?}|{:?}|{at}|{include_submitted}|{asker}", table.indicators, table.units, table.periods);
    let cells = state
        .figures(key, HashMap::len, async {
            let mut cells: HashMap<(String, String, Period), restated::Cell> = HashMap::new();
            state
                .db
                .restate_table(&registry, &table, Audience { counting, visible }, |chunk| {
                    cells.extend(chunk.into_iter().map(|c| ((c.unit.clone(), c.indicator.clone(), c.period), c)));
                    std::future::ready(true)
                })
                .await?;
            Ok(cells)
        })
        .await?;

    // Each dimension's members, in order, with their labels.
    let indicator_name =
        |code: &str| known.iter().find(|i| i.code == code).map_or(code.to_string(), |i| i.name.clone());
    let members = |dim: Dim| -> Vec<(String, String)> {
        match dim {
            Dim::Unit => units.iter().map(|u| (u.code.clone(), u.name.clone())).collect(),
            Dim::Indicator => asked.iter().map(|c| (c.clone(), indicator_name(c))).collect(),
            Dim::Period if last_year => periods
                .iter()
                .flat_map(|p| {
                    let before = p.year_before();
                    [
                        (p.to_string(), p.label()),
                        (before.to_string(), format!("Cùng kỳ năm trước ({})", before.label())),
                        (format!("{p}{CHANGE}"), format!("{} so với cùng kỳ (%)", p.label())),
                    ]
                })
                .collect(),
            Dim::Period => periods.iter().map(|p| (p.to_string(), p.label())).collect(),
        }
    };
    let (row_members, col_members, third_members) = (members(rows_dim), members(cols_dim), members(third));
    // A figure and its marks; a change on last year is marked when either
    // of its figures is.
    let cell_of = |by: &[(Dim, &str)]| -> Option<(f64, &'static str)> {
        let of = |d: Dim| by.iter().find(|(k, _)| *k == d).map(|(_, v)| *v).unwrap_or_default();
        let get = |period: Period| cells.get(&(of(Dim::Unit).to_string(), of(Dim::Indicator).to_string(), period));
        match of(Dim::Period).strip_suffix(CHANGE) {
            None => get(of(Dim::Period).parse().ok()?).map(|c| (c.value, marks(c.estimated, c.withheld > 0, c.pulled))),
            Some(key) => {
                let period: Period = key.parse().ok()?;
                let (now, before) = (get(period)?, get(period.year_before())?);
                let shown = marks(
                    now.estimated || before.estimated,
                    now.withheld > 0 || before.withheld > 0,
                    now.pulled || before.pulled,
                );
                (before.value != 0.0).then(|| (now.value / before.value * 100.0, shown))
            }
        }
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
                    let by = [(rows_dim, row_key.as_str()), (cols_dim, col_key.as_str()), (third, third_key.as_str())];
                    let found = cell_of(&by);
                    let value = found.map(|(v, _)| v);
                    let marks = found.map_or("", |(_, m)| m);
                    let text = value.map(baocao_core::text::format_figure).unwrap_or_default();
                    let of = |d: Dim| by.iter().find(|(k, _)| *k == d).map(|(_, v)| *v).unwrap_or_default();
                    let origin = (value.is_some() && !of(Dim::Period).ends_with(CHANGE)).then(|| {
                        let counted = if include_submitted { "&include_submitted=true" } else { "" };
                        format!(
                            "/values/origin?indicator={}&unit={}&period={}&structure_at={at}{counted}",
                            of(Dim::Indicator),
                            of(Dim::Unit),
                            of(Dim::Period)
                        )
                    });
                    ShownCell { value, text, marks, origin }
                })
                .collect();
            rows.push(ShownRow { label, total, cells: shown });
        }
    }
    let headings: Vec<String> = col_members.iter().map(|(_, l)| l.clone()).collect();
    // The area's own row would flatten its units' lines and bars: drawn
    // alone only when it is all there is.
    let drawn: Vec<&ShownRow> = rows.iter().filter(|r| !r.total).collect();
    let drawn = if drawn.is_empty() { rows.iter().collect() } else { drawn };
    // Compared with last year, the chart draws the periods chosen alone.
    let drawn_columns: Vec<usize> = (0..col_members.len())
        .filter(|i| cols_dim != Dim::Period || periods.iter().any(|p| p.to_string() == col_members[*i].0))
        .collect();
    let headings_drawn: Vec<String> = drawn_columns.iter().map(|i| headings[*i].clone()).collect();
    let series: Vec<(String, Vec<Option<f64>>)> = drawn
        .iter()
        .take(8)
        .map(|r| (r.label.clone(), drawn_columns.iter().map(|i| r.cells[*i].value).collect()))
        .collect();
    let kind = match chart_kind {
        ChartKind::Auto if cols_dim == Dim::Period && headings_drawn.len() > 1 => ChartKind::Line,
        ChartKind::Auto => ChartKind::Ranking,
        chosen => chosen,
    };
    let chart = match kind {
        ChartKind::Line => charts::lines(&headings_drawn, &series),
        ChartKind::Column => charts::columns(&headings_drawn, &series, false),
        ChartKind::Stacked => charts::columns(&headings_drawn, &series, true),
        ChartKind::Auto | ChartKind::Ranking => {
            let last = *drawn_columns.last().unwrap_or(&0);
            let bars: Vec<(String, f64)> =
                drawn.iter().filter_map(|r| Some((r.label.clone(), r.cells.get(last)?.value?))).collect();
            charts::ranking(headings.get(last).map_or("", String::as_str), &bars)
        }
    };
    let mut export_pairs: Vec<(&str, &str)> = asked.iter().map(|c| ("indicator", c.as_str())).collect();
    let (from_text, to_text) = (from.format("%Y-%m").to_string(), to_month.format("%Y-%m").to_string());
    let at_text = format_vn(at);
    export_pairs.extend([
        ("unit", unit_code.as_str()),
        ("depth", depth.word()),
        ("periodicity", periodicity.as_str()),
        ("span", span.word()),
        ("from", from_text.as_str()),
        ("to", to_text.as_str()),
        ("at", at_text.as_str()),
        ("rows", rows_dim.word()),
        ("cols", cols_dim.word()),
        ("compare", if last_year { "last_year" } else { "" }),
        ("chart", chart_kind.word()),
        ("submitted", if include_submitted { "1" } else { "" }),
    ]);
    let export = query(&export_pairs);
    let (first, last) = (periods[0].to_string(), periods[periods.len() - 1].to_string());
    let (structure_at, indicator_list) = (at.format("%Y-%m-%d").to_string(), asked.join(","));
    let data = query(&[
        ("structure_at", structure_at.as_str()),
        ("from", first.as_str()),
        ("to", last.as_str()),
        ("org_unit", area.code.as_str()),
        ("children", if depth == Depth::Area { "" } else { "true" }),
        ("indicators", indicator_list.as_str()),
        ("include_submitted", if include_submitted { "true" } else { "" }),
    ]);
    let data = data.trim_end_matches('&').to_string();
    let corner = if third_members.len() == 1 {
        format!("{} \\ {}", rows_dim.vietnamese(), cols_dim.vietnamese())
    } else {
        format!("{} · {} \\ {}", rows_dim.vietnamese(), third.vietnamese(), cols_dim.vietnamese())
    };
    Ok(AnalysisPage {
        chrome: Chrome::new(state, access),
        indicators: known.iter().map(|i| (i.code.clone(), i.name.clone(), asked.contains(&i.code))).collect(),
        unit_name: area.name.clone(),
        unit_choices: unit_choices(state, &registry, access, Permission::ViewReports, at).await?,
        title_line: format!("{} ({}) · theo cơ cấu ngày {}", area.name, area.code, at_text),
        unit: unit_code,
        depth: depth.word(),
        periodicity: periodicity.as_str(),
        from: from_text,
        to: to_text,
        span: span.word(),
        spans: Span::ALL.iter().map(|s| (s.word(), s.vietnamese())).collect(),
        at: at_text,
        rows_dim: rows_dim.word(),
        cols_dim: cols_dim.word(),
        chart_kind: chart_kind.word(),
        last_year,
        chart_kinds: ChartKind::ALL.iter().map(|k| (k.word(), k.vietnamese())).collect(),
        dims: Dim::ALL.iter().map(|d| (d.word(), d.vietnamese())).collect(),
        include_submitted,
        counting: counting.vietnamese(),
        marks: MARKS,
        export,
        data,
        corner,
        headings,
        rows,
        chart,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_view_holds_only_the_pages_own_parameters_in_order() {
        let kept =
            canonical_query("?format=xlsx&to=2025-11&_csrf=abc&indicator=A&unit=51&indicator=B&from=2025-01").unwrap();
        assert_eq!(kept, "indicator=A&indicator=B&unit=51&from=2025-01&to=2025-11");
    }

    #[test]
    fn spans_end_with_last_month() {
        let day = |y, m| NaiveDate::from_ymd_opt(y, m, 1).unwrap();
        let last = day(2026, 1);
        assert_eq!(Span::Chosen.months(last), None);
        assert_eq!(Span::LastMonth.months(last), Some((last, last)));
        assert_eq!(Span::Last12.months(last), Some((day(2025, 2), last)));
        assert_eq!(Span::ThisYear.months(last), Some((day(2026, 1), last)));
        assert_eq!(Span::LastYear.months(last), Some((day(2025, 1), day(2025, 12))));
        assert!(Span::parse(Some("next_year")).is_err());
    }
}
