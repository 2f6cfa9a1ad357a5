//! The national lists of administrative units before and after the
//! two-level reform of 1 July 2025 (format: `data/vn-admin/README.md`).
//!
//! The lists become a *baseline* (the three-level structure, in force since
//! before the registry's records begin) and one [`Reorganization`] that ends
//! it on 2025-06-30 and begins the two-level structure on 2025-07-01. The
//! files are real and not perfectly clean; what is odd in them is reported
//! as [`Anomalies`] rather than hidden or guessed away.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use baocao_core::{Change, NewUnit, Predecessor, ReorgInfo, Reorganization, UnitKind, UnitVersion, Validity};
use chrono::NaiveDate;
use serde::Serialize;

use crate::error::{IngestError, Location, Problems};
use crate::table::{Row, Table};

/// The key under which the reform is recorded; loading it again is a no-op.
pub const REFORM_KEY: &str = "vn-2025-two-level";

pub fn effective_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 7, 1).expect("valid date")
}

/// The content of one input file and the name to report problems under.
pub struct Source {
    pub name: String,
    pub text: String,
}

impl Source {
    pub fn read(path: &Path) -> Result<Source, Problems> {
        let name = path.display().to_string();
        std::fs::read_to_string(path).map(|text| Source { name: name.clone(), text }).map_err(|e| {
            Problems(vec![IngestError {
                location: Location { file: name, line: None, column: None, ..Default::default() },
                message: format!("không đọc được tệp: {e}"),
            }])
        })
    }
}

/// The four national files, and optionally a supplement of lineage that
/// the national files lack.
pub struct Sources {
    pub units_before: Source,
    pub units_after: Source,
    pub conversion: Source,
    pub province_conversion: Source,
    pub supplement: Option<Source>,
}

pub const UNITS_BEFORE: &str = "units-2024.csv";
pub const UNITS_AFTER: &str = "units-2025.csv";
pub const CONVERSION: &str = "conversion-2025.csv";
pub const PROVINCE_CONVERSION: &str = "province-conversion-2025.csv";

impl Sources {
    /// Reads the four files from a directory laid out like `data/vn-admin`.
    pub fn from_dir(dir: &Path, supplement: Option<&Path>) -> Result<Sources, Problems> {
        let mut problems = Vec::new();
        let mut read = |name: &str| {
            Source::read(&dir.join(name)).unwrap_or_else(|mut p| {
                problems.append(&mut p.0);
                Source { name: name.into(), text: String::new() }
            })
        };
        let sources = Sources {
            units_before: read(UNITS_BEFORE),
            units_after: read(UNITS_AFTER),
            conversion: read(CONVERSION),
            province_conversion: read(PROVINCE_CONVERSION),
            supplement: None,
        };
        let supplement = match supplement.map(Source::read) {
            Some(Err(mut p)) => {
                problems.append(&mut p.0);
                None
            }
            Some(Ok(s)) => Some(s),
            None => None,
        };
        if problems.is_empty() { Ok(Sources { supplement, ..sources }) } else { Err(Problems(problems)) }
    }

    /// The copies of the national files compiled into the program, with the
    /// bundled supplement for the special zones, so that the demo needs
    /// nothing outside the binary.
    pub fn bundled() -> Sources {
        let source = |name: &str, text: &str| Source { name: format!("bundled {name}"), text: text.into() };
        Sources {
            units_before: source(UNITS_BEFORE, include_str!("../../../data/vn-admin/units-2024.csv")),
            units_after: source(UNITS_AFTER, include_str!("../../../data/vn-admin/units-2025.csv")),
            conversion: source(CONVERSION, include_str!("../../../data/vn-admin/conversion-2025.csv")),
            province_conversion: source(
                PROVINCE_CONVERSION,
                include_str!("../../../data/vn-admin/province-conversion-2025.csv"),
            ),
            supplement: Some(source(
                "special-zones-2025.csv",
                include_str!("../../../data/supplements/special-zones-2025.csv"),
            )),
        }
    }
}

/// Everything read from the files, ready for the registry.
pub struct NationalReform {
    pub baseline: Vec<UnitVersion>,
    pub reorganization: Reorganization,
    pub anomalies: Anomalies,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct AnomalyUnit {
    pub code: String,
    pub name: String,
    pub kind: UnitKind,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct MissingCode {
    pub code: String,
    pub file: String,
    pub line: u64,
    pub column: String,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SplitWithoutWeights {
    pub code: String,
    pub name: String,
    pub successors: Vec<String>,
    /// Only part of the territory is accounted for: the rest of the old unit
    /// went to a unit the files do not name.
    pub rest_unaccounted: bool,
}

/// What is odd in the national files, by code.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Anomalies {
    /// Old communes that no row of the conversion file continues; they end
    /// with an archive decision.
    pub old_communes_without_successor: Vec<AnomalyUnit>,
    /// Old districts none of whose communes continue (island districts).
    pub old_districts_without_successor: Vec<AnomalyUnit>,
    /// Codes in the conversion files that the lists do not have.
    pub conversion_codes_not_in_lists: Vec<MissingCode>,
    /// New units that begin with no predecessor at all.
    pub new_units_without_predecessor: Vec<AnomalyUnit>,
    /// Old units split (`partly=1`) with no known share for each part.
    pub splits_without_weights: Vec<SplitWithoutWeights>,
}

impl Anomalies {
    pub fn total(&self) -> usize {
        self.old_communes_without_successor.len()
            + self.old_districts_without_successor.len()
            + self.conversion_codes_not_in_lists.len()
            + self.new_units_without_predecessor.len()
            + self.splits_without_weights.len()
    }
}

fn anomaly_unit(u: &UnitVersion) -> AnomalyUnit {
    AnomalyUnit { code: u.code.clone(), name: u.name.clone(), kind: u.kind }
}

fn parse_code(value: &str) -> Result<String, String> {
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(value.to_string())
    } else {
        Err(format!("mã «{value}» không hợp lệ: cần chữ số, giữ số 0 ở đầu (ví dụ 01, 001, 00004)"))
    }
}

fn parse_flag(value: &str) -> Result<bool, String> {
    match value {
        "0" => Ok(false),
        "1" => Ok(true),
        _ => Err(format!("giá trị «{value}» không hợp lệ: cần 0 hoặc 1")),
    }
}

fn parse_weight(value: &str) -> Result<f64, String> {
    value
        .parse::<f64>()
        .ok()
        .filter(|w| *w > 0.0 && *w <= 1.0)
        .ok_or_else(|| format!("tỷ lệ «{value}» không hợp lệ: cần lớn hơn 0 và không quá 1, ví dụ 0.25"))
}

/// Reads a list of units (`code,name,type,level,parent_code`).
fn read_units(source: &Source, errors: &mut Vec<IngestError>) -> BTreeMap<String, UnitVersion> {
    let table = Table::read(&source.name, &source.text, &["code", "name", "type", "level", "parent_code"], errors);
    let mut units: BTreeMap<String, UnitVersion> = BTreeMap::new();
    let mut lines: HashMap<&str, u64> = HashMap::new();
    let mut rows: Vec<Row<'_>> = Vec::new();
    for row in table.rows() {
        let code = row.parsed("code", errors, parse_code);
        let name = row.required("name", errors);
        let kind = row.parsed("type", errors, |v| v.parse::<UnitKind>());
        let level = row.parsed("level", errors, |v| {
            v.parse::<u8>()
                .ok()
                .filter(|l| (1..=3).contains(l))
                .ok_or_else(|| format!("cấp «{v}» không hợp lệ: cần 1, 2 hoặc 3"))
        });
        let parent = match row.get("parent_code") {
            "" => Some(None),
            p => parse_code(p).map(Some).map_err(|m| errors.push(row.problem("parent_code", m))).ok(),
        };
        let (Some(code), Some(name), Some(kind), Some(level), Some(parent_code)) = (code, name, kind, level, parent)
        else {
            continue;
        };
        if let Some(first) = lines.get(code.as_str()) {
            errors.push(row.problem("code", format!("mã {code} có hai lần (lần đầu ở dòng {first})")));
            continue;
        }
        lines.insert(row.get("code"), row.line());
        let unit = UnitVersion {
            code: code.clone(),
            name,
            kind,
            level,
            parent_code,
            validity: Validity::default(),
            archive_note: None,
            agency: None,
        };
        units.insert(code, unit);
        rows.push(row);
    }
    for row in rows {
        let unit = &units[row.get("code")];
        match &unit.parent_code {
            Some(p) => match units.get(p) {
                None => errors.push(
                    row.problem("parent_code", format!("không có đơn vị cấp trên {p}: tệp không có đơn vị mã này")),
                ),
                Some(parent) if parent.level + 1 != unit.level => errors.push(row.problem(
                    "level",
                    format!("đơn vị cấp {} không thể trực thuộc {p} (cấp {})", unit.level, parent.level),
                )),
                Some(_) => {}
            },
            None if unit.level != 1 => {
                errors.push(row.problem("parent_code", format!("đơn vị cấp {} cần có đơn vị cấp trên", unit.level)))
            }
            None => {}
        }
    }
    units
}

/// One line of lineage: where an old unit's territory went.
struct Link {
    old: String,
    new: String,
    partial: bool,
    weight: Option<f64>,
}

impl Sources {
    /// Reads and checks all files; all-or-nothing.
    pub fn read(&self) -> Result<NationalReform, Problems> {
        let mut errors = Vec::new();
        let before = read_units(&self.units_before, &mut errors);
        let after = read_units(&self.units_after, &mut errors);
        let mut anomalies = Anomalies::default();
        let mut links: Vec<Link> = Vec::new();

        // A pair of codes both lists know, or an anomaly for each one they don't.
        let mut known_pair = |row: &Row<'_>, file: &str, old: &str, new: &str| {
            let mut known = true;
            for (code, column, list) in [(old, "old_code", &before), (new, "new_code", &after)] {
                if !list.contains_key(code) {
                    anomalies.conversion_codes_not_in_lists.push(MissingCode {
                        code: code.into(),
                        file: file.into(),
                        line: row.line(),
                        column: column.into(),
                    });
                    known = false;
                }
            }
            known
        };

        let conversion =
            Table::read(&self.conversion.name, &self.conversion.text, &["old_code", "partly", "new_code"], &mut errors);
        for row in conversion.rows() {
            let old = row.parsed("old_code", &mut errors, parse_code);
            let new = row.parsed("new_code", &mut errors, parse_code);
            let partial = row.parsed("partly", &mut errors, parse_flag);
            let (Some(old), Some(new), Some(partial)) = (old, new, partial) else { continue };
            if known_pair(&row, &conversion.file, &old, &new) {
                links.push(Link { old, new, partial, weight: None });
            }
        }

        let provinces = Table::read(
            &self.province_conversion.name,
            &self.province_conversion.text,
            &["old_code", "new_code"],
            &mut errors,
        );
        let mut province_links = Vec::new();
        for row in provinces.rows() {
            let old = row.parsed("old_code", &mut errors, parse_code);
            let new = row.parsed("new_code", &mut errors, parse_code);
            let (Some(old), Some(new)) = (old, new) else { continue };
            if known_pair(&row, &provinces.file, &old, &new) {
                province_links.push((old, new));
            }
        }
        // An old province listed twice was split between two new ones.
        let mut province_count: HashMap<&str, usize> = HashMap::new();
        for (old, _) in &province_links {
            *province_count.entry(old).or_default() += 1;
        }
        for (old, new) in &province_links {
            links.push(Link {
                old: old.clone(),
                new: new.clone(),
                partial: province_count[old.as_str()] > 1,
                weight: None,
            });
        }

        if let Some(supplement) = &self.supplement {
            let table =
                Table::read(&supplement.name, &supplement.text, &["old_code", "new_code", "partly"], &mut errors);
            for row in table.rows() {
                let old = row.parsed("old_code", &mut errors, parse_code);
                let new = row.parsed("new_code", &mut errors, parse_code);
                let partial = row.parsed("partly", &mut errors, parse_flag);
                let weight = match row.get("weight") {
                    "" => Some(None),
                    w => parse_weight(w).map(Some).map_err(|m| errors.push(row.problem("weight", m))).ok(),
                };
                let (Some(old), Some(new), Some(partial), Some(weight)) = (old, new, partial, weight) else { continue };
                if !before.contains_key(&old) {
                    errors.push(
                        row.problem("old_code", format!("không có đơn vị cũ {old} trong {}", self.units_before.name)),
                    );
                    continue;
                }
                if !after.contains_key(&new) {
                    errors.push(
                        row.problem("new_code", format!("không có đơn vị mới {new} trong {}", self.units_after.name)),
                    );
                    continue;
                }
                if !partial && weight.is_some_and(|w| w < 1.0) {
                    errors.push(row.problem("weight", "a whole transfer (partly=0) has weight 1"));
                    continue;
                }
                match links.iter_mut().find(|l| l.old == old && l.new == new) {
                    Some(link) => {
                        link.partial = partial;
                        link.weight = weight;
                    }
                    None => links.push(Link { old, new, partial, weight }),
                }
            }
        }

        if !errors.is_empty() {
            errors.sort();
            return Err(Problems(errors));
        }

        let mut predecessors: BTreeMap<&str, Vec<Predecessor>> = BTreeMap::new();
        let mut successors: BTreeMap<&str, Vec<&Link>> = BTreeMap::new();
        for link in &links {
            predecessors.entry(&link.new).or_default().push(Predecessor {
                code: link.old.clone(),
                partial: link.partial,
                weight: if link.partial { link.weight } else { Some(1.0) },
            });
            successors.entry(&link.old).or_default().push(link);
        }

        let mut changes = vec![Change::AbolishLevel { level: 2 }];
        for (code, unit) in &after {
            let successor = NewUnit {
                code: code.clone(),
                name: unit.name.clone(),
                kind: unit.kind,
                level: Some(unit.level),
                parent_code: unit.parent_code.clone(),
            };
            match predecessors.remove(code.as_str()) {
                Some(predecessors) => changes.push(Change::Succession { predecessors, successor }),
                None => {
                    anomalies.new_units_without_predecessor.push(anomaly_unit(unit));
                    changes.push(Change::Create { unit: successor });
                }
            }
        }

        // Districts continue through their communes (AbolishLevel derives
        // that); those with no continuing commune need an archive decision.
        let mut children: HashMap<&str, Vec<&str>> = HashMap::new();
        for unit in before.values() {
            if let Some(p) = &unit.parent_code {
                children.entry(p).or_default().push(&unit.code);
            }
        }
        for (code, unit) in &before {
            let mine = successors.get(code.as_str());
            if let Some(list) = mine {
                if list.iter().any(|l| l.partial && l.weight.is_none()) {
                    let known: f64 = list.iter().filter_map(|l| l.weight).sum();
                    anomalies.splits_without_weights.push(SplitWithoutWeights {
                        code: code.clone(),
                        name: unit.name.clone(),
                        successors: list.iter().map(|l| l.new.clone()).collect(),
                        rest_unaccounted: list.len() == 1 || (known > 0.0 && known < 1.0),
                    });
                }
                continue;
            }
            let continues_through_children = unit.level == 2
                && children.get(code.as_str()).is_some_and(|cs| cs.iter().any(|c| successors.contains_key(c)));
            if continues_through_children {
                continue;
            }
            let note =
                "Không có đơn vị kế thừa trong bảng chuyển đổi quốc gia (national conversion lists name no successor)";
            changes.push(Change::Dissolve { code: code.clone(), successors: vec![], archive: Some(note.into()) });
            if unit.level == 2 {
                anomalies.old_districts_without_successor.push(anomaly_unit(unit));
            } else {
                anomalies.old_communes_without_successor.push(anomaly_unit(unit));
            }
        }
        anomalies.conversion_codes_not_in_lists.sort_by(|a, b| a.code.cmp(&b.code).then(a.line.cmp(&b.line)));

        Ok(NationalReform {
            baseline: before.into_values().collect(),
            reorganization: Reorganization {
                info: ReorgInfo {
                    key: REFORM_KEY.into(),
                    name: "Sắp xếp đơn vị hành chính, tổ chức chính quyền địa phương 2 cấp".into(),
                    effective_date: effective_date(),
                    legal_basis: Some(
                        "Nghị quyết số 202/2025/QH15 và các nghị quyết của Ủy ban Thường vụ Quốc hội về sắp xếp đơn vị hành chính cấp xã năm 2025"
                            .into(),
                    ),
                },
                changes,
            },
            anomalies,
        })
    }
}
