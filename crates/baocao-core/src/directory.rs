//! The directory of officials (danh sách cán bộ, công chức, viên chức):
//! official email addresses and duplicate detection across agencies.
//!
//! Addresses are ASCII without diacritics (email công vụ). The scheme is
//! deterministic: the same people and the same existing addresses always
//! give the same addresses, whatever order the rosters arrive in, and no two
//! people of the province get the same one.
//!
//! **The rule** (shown to users as [`RULE`]): the local part is the given
//! name (the last word of the full name) followed by the initials of the
//! other words, folded to ASCII and lower case: Nguyễn Văn An → `annv`.
//! Addresses already in use are kept by their owners and never given again.
//! When several people share a local part, they are put in order of date of
//! birth, then agency code, then full name, then their identifier; the
//! first free one gets the bare local part and the next ones a number from
//! 2 upwards (`annv`, `annv2`, `annv3` …), skipping numbers in use.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use chrono::NaiveDate;
use serde::Serialize;

use crate::Registry;
use crate::reorg::{AppliedDelta, ReorgError};
use crate::text::fold;

/// The collision rule, as shown next to generated addresses.
pub const RULE: &str = "Tên + chữ cái đầu của họ và tên đệm, không dấu (Nguyễn Văn An → annv). \
Địa chỉ đã có được giữ nguyên. Trùng nhau thì xếp theo ngày sinh, mã cơ quan, họ tên, mã cán bộ; \
người đầu tiên nhận địa chỉ gốc, người sau thêm số từ 2 (annv2, annv3…), bỏ qua số đã dùng.";

/// An agency (cơ quan, đơn vị), one version of it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Agency {
    /// Electronic identifier (mã định danh điện tử).
    pub code: String,
    pub name: String,
    /// sở, ban, UBND xã …: free text, as the province names them.
    pub kind: String,
    pub parent_code: Option<String>,
    /// The administrative unit the agency serves.
    pub unit_code: Option<String>,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    /// Agencies that take over from this one when it ends (cơ quan kế thừa):
    /// its lineage, as units have theirs.
    #[serde(default)]
    pub successor_codes: Vec<String>,
    /// The decision that sends its records to the archive instead, when it
    /// ends with no successor (quyết định lưu trữ).
    #[serde(default)]
    pub archive: Option<String>,
}

impl Agency {
    fn in_force(&self, day: NaiveDate) -> bool {
        self.valid_from.is_none_or(|f| f <= day) && self.valid_to.is_none_or(|t| t > day)
    }

    fn overlaps(&self, other: &Agency) -> bool {
        let starts_before_other_ends = match (self.valid_from, other.valid_to) {
            (Some(f), Some(t)) => f < t,
            _ => true,
        };
        let other_starts_before_this_ends = match (other.valid_from, self.valid_to) {
            (Some(f), Some(t)) => f < t,
            _ => true,
        };
        starts_before_other_ends && other_starts_before_this_ends
    }

    /// Whether the agency is settled for its unit ending on `end`: ended by
    /// that day, with successors or an archive decision.
    fn settled_by(&self, end: NaiveDate) -> bool {
        self.valid_to.is_some_and(|t| t <= end) && (!self.successor_codes.is_empty() || self.archive.is_some())
    }

    fn unsettled_message(&self, unit: &str, end: NaiveDate) -> String {
        format!(
            "cơ quan {} ({}) của đơn vị {unit}, đơn vị này chấm dứt ngày {}: hãy cho cơ quan hết hiệu lực chậm nhất \
             ngày đó (hiệu lực đến) và nêu cơ quan kế thừa hoặc quyết định lưu trữ",
            self.code,
            self.name,
            end.format("%d/%m/%Y")
        )
    }
}

/// An agency version that ended with successors, as the agency list says.
pub struct Succession {
    pub code: String,
    pub valid_from: Option<NaiveDate>,
    /// The first day without it.
    pub ends: NaiveDate,
    pub successors: Vec<String>,
}

/// The lineage of reporting agencies as registry edges, so that an
/// agency's reports and series follow it through mergers and splits as a
/// unit's do: each ended version to the versions of its successors in
/// force the day it ends (`versions`: the registry's, agencies included),
/// whole when there is one successor, in unknown shares (estimated equal)
/// when several. Each day's changes are one reorganization of agencies,
/// known to the registry only (`co-quan-YYYY-MM-DD`).
pub fn agency_edges(
    versions: &[crate::UnitVersion],
    successions: &[Succession],
) -> (Vec<crate::reorg::Edge>, Vec<crate::reorg::ReorgInfo>) {
    let mut edges = Vec::new();
    let mut days = BTreeSet::new();
    for s in successions {
        let from = crate::VersionKey { code: s.code.clone(), valid_from: s.valid_from };
        if !versions.iter().any(|v| v.agency.is_some() && v.key() == from) {
            continue;
        }
        let to: Vec<&crate::UnitVersion> = versions
            .iter()
            .filter(|v| v.agency.is_some() && s.successors.contains(&v.code) && v.validity.contains(s.ends))
            .collect();
        let key = format!("co-quan-{}", s.ends);
        for v in &to {
            edges.push(crate::reorg::Edge {
                from: from.clone(),
                to: v.key(),
                partial: false,
                weight: (to.len() == 1).then_some(1.0),
                reorganization: key.clone(),
            });
        }
        if !to.is_empty() {
            days.insert(s.ends);
        }
    }
    let reorgs = days
        .into_iter()
        .map(|day| crate::reorg::ReorgInfo {
            key: format!("co-quan-{day}"),
            name: format!("Sắp xếp cơ quan ngày {}", crate::date::format_vn(day)),
            effective_date: day,
            legal_basis: None,
        })
        .collect();
    (edges, reorgs)
}

/// Problems of a whole set of agency versions against the registry, all of
/// them: versions of one code that overlap, successors that do not exist
/// when they should take over, agencies of units that have ended for good
/// and were neither given a successor nor an archive decision.
pub fn check_agencies(agencies: &[Agency], registry: &Registry) -> Vec<String> {
    let mut problems = Vec::new();
    let mut by_code: BTreeMap<&str, Vec<&Agency>> = BTreeMap::new();
    for a in agencies {
        by_code.entry(&a.code).or_default().push(a);
    }
    for (code, versions) in &by_code {
        for (i, a) in versions.iter().enumerate() {
            if versions[i + 1..].iter().any(|b| a.overlaps(b)) {
                problems.push(format!("cơ quan {code}: hai phiên bản cùng có hiệu lực trong những ngày giống nhau"));
            }
        }
    }
    for a in agencies {
        for s in &a.successor_codes {
            let takes_over = by_code.get(s.as_str()).is_some_and(|vs| match a.valid_to {
                Some(end) => vs.iter().any(|v| v.in_force(end)),
                None => true,
            });
            // An agency that absorbs others keeps its code as a new version
            // from that day: its old version's successor is itself.
            let renewed = a.valid_to.is_some_and(|end| {
                by_code.get(s.as_str()).is_some_and(|vs| vs.iter().any(|v| v.valid_from == Some(end)))
            });
            if s == &a.code && !renewed {
                problems.push(format!(
                    "cơ quan {}: chỉ tự kế thừa được khi có phiên bản mới của chính cơ quan này từ ngày chấm dứt",
                    a.code
                ));
            } else if !takes_over {
                problems.push(format!(
                    "cơ quan {}: cơ quan kế thừa «{s}» không có hiệu lực khi cơ quan này chấm dứt",
                    a.code
                ));
            }
        }
        let Some(unit) = a.unit_code.as_deref() else { continue };
        if registry.history(unit).next().is_none() {
            problems.push(format!("cơ quan {}: đơn vị hành chính «{unit}» không tồn tại", a.code));
            continue;
        }
        if let Some(end) = final_end(registry, unit)
            && a.valid_from.is_none_or(|f| f < end)
            && !a.settled_by(end)
        {
            problems.push(a.unsettled_message(unit, end));
        }
    }
    problems
}

/// The day a unit code stops for good: a version of it ends and none begins
/// that day (a code that continues under a new version is not dissolved).
fn final_end(registry: &Registry, code: &str) -> Option<NaiveDate> {
    let versions: Vec<&crate::UnitVersion> = registry.history(code).collect();
    versions.iter().filter_map(|v| v.validity.to).find(|&end| !versions.iter().any(|v| v.validity.from == Some(end)))
}

/// The agencies a reorganization would leave without a successor or an
/// archive decision: those in force the day before it that serve a unit it
/// ends for good. Named by unit code, as the reorganization's other errors.
pub fn unsettled_agencies(agencies: &[Agency], delta: &AppliedDelta) -> Vec<ReorgError> {
    let eff = delta.info.effective_date;
    let Some(eve) = eff.pred_opt() else { return Vec::new() };
    let continuing: HashSet<&str> = delta.begun.iter().map(|v| v.code.as_str()).collect();
    let dissolved: HashSet<&str> =
        delta.ended.iter().map(|e| e.key.code.as_str()).filter(|c| !continuing.contains(c)).collect();
    agencies
        .iter()
        .filter(|a| a.in_force(eve) && !a.settled_by(eff))
        .filter_map(|a| {
            let unit = a.unit_code.as_deref().filter(|u| dissolved.contains(u))?;
            Some(ReorgError { code: unit.to_string(), message: a.unsettled_message(unit, eff) })
        })
        .collect()
}

/// An agency's place in the lineage of agencies.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AgencyLineage {
    /// Every version of the code, oldest first.
    pub versions: Vec<Agency>,
    /// Agencies that named this one as their successor.
    pub predecessors: Vec<Agency>,
    /// The agencies this one named as its successors.
    pub successors: Vec<Agency>,
}

/// The lineage of agency `code` among all `agencies` versions, or `None`
/// when no version has that code.
pub fn agency_lineage(agencies: &[Agency], code: &str) -> Option<AgencyLineage> {
    let mut versions: Vec<Agency> = agencies.iter().filter(|a| a.code == code).cloned().collect();
    if versions.is_empty() {
        return None;
    }
    versions.sort_by_key(|a| a.valid_from);
    let predecessors = agencies.iter().filter(|a| a.successor_codes.iter().any(|s| s == code)).cloned().collect();
    let named: BTreeSet<&str> = versions.iter().flat_map(|v| v.successor_codes.iter().map(String::as_str)).collect();
    let successors = agencies.iter().filter(|a| named.contains(a.code.as_str())).cloned().collect();
    Some(AgencyLineage { versions, predecessors, successors })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    Male,
    Female,
}

impl Gender {
    /// As stored and shown: `nam`, `nữ`.
    pub fn vietnamese(self) -> &'static str {
        match self {
            Gender::Male => "nam",
            Gender::Female => "nữ",
        }
    }
}

/// An official as an agency's roster lists them: only what the shared
/// systems need.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Listing {
    /// Where it came from, for messages ("ds.xlsx, trang tính «…», dòng 12").
    pub place: String,
    pub agency_code: String,
    pub full_name: String,
    /// Required: with the name, it tells one person from another.
    pub birth_date: NaiveDate,
    pub gender: Option<Gender>,
    /// Chức vụ.
    pub position: String,
    /// Vị trí công tác.
    pub post: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// The role wanted in each shared system, by system name.
    pub roles: BTreeMap<String, String>,
}

/// What the scheme needs to know of a person.
#[derive(Clone, Debug, PartialEq)]
pub struct Person {
    /// A stable identifier (the roster's person id).
    pub id: String,
    pub full_name: String,
    pub birth_date: Option<NaiveDate>,
    pub agency: String,
    /// An address the person already has, kept as it is.
    pub existing: Option<String>,
}

/// The local part of a name under the scheme, or `None` when the name has
/// no letters to build one from.
pub fn local_part(full_name: &str) -> Option<String> {
    let folded = fold(full_name);
    let words: Vec<String> = folded
        .split(' ')
        .map(|w| w.chars().filter(char::is_ascii_alphanumeric).collect::<String>())
        .filter(|w| !w.is_empty())
        .collect();
    let (given, others) = words.split_last()?;
    let mut local = given.clone();
    local.extend(others.iter().filter_map(|w| w.chars().next()));
    Some(local)
}

/// An address given to a person, and whether it was there already.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Address {
    pub person: String,
    pub address: String,
    pub existing: bool,
}

/// Why a person got no address.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Unaddressed {
    pub person: String,
    pub reason: String,
}

/// Addresses for everyone at `domain`, keeping existing ones; `in_use` are
/// further addresses taken by others (other systems, people not listed).
pub fn assign_addresses(people: &[Person], domain: &str, in_use: &[String]) -> (Vec<Address>, Vec<Unaddressed>) {
    let domain = domain.trim().trim_start_matches('@').to_ascii_lowercase();
    let mut taken: HashSet<String> = in_use.iter().map(|a| a.trim().to_ascii_lowercase()).collect();
    let mut out = Vec::new();
    let mut refused = Vec::new();
    // Existing addresses first: their owners keep them.
    for p in people {
        if let Some(a) = p.existing.as_deref().map(|a| a.trim().to_ascii_lowercase()).filter(|a| !a.is_empty()) {
            if !taken.insert(a.clone()) && !in_use.iter().any(|u| u.eq_ignore_ascii_case(&a)) {
                refused.push(Unaddressed {
                    person: p.id.clone(), reason: format!("địa chỉ {a} đã thuộc người khác")
                });
                continue;
            }
            out.push(Address { person: p.id.clone(), address: a, existing: true });
        }
    }
    let mut by_local: BTreeMap<String, Vec<&Person>> = BTreeMap::new();
    for p in people.iter().filter(|p| p.existing.as_deref().is_none_or(|a| a.trim().is_empty())) {
        match local_part(&p.full_name) {
            Some(local) => by_local.entry(local).or_default().push(p),
            None => {
                refused.push(Unaddressed { person: p.id.clone(), reason: "họ tên không có chữ cái".into() })
            }
        }
    }
    for (local, mut group) in by_local {
        group.sort_by(|a, b| {
            (a.birth_date, &a.agency, &a.full_name, &a.id).cmp(&(b.birth_date, &b.agency, &b.full_name, &b.id))
        });
        let mut n = 1;
        for p in group {
            let address = loop {
                let candidate = if n == 1 { format!("{local}@{domain}") } else { format!("{local}{n}@{domain}") };
                n += 1;
                if taken.insert(candidate.clone()) {
                    break candidate;
                }
            };
            out.push(Address { person: p.id.clone(), address, existing: false });
        }
    }
    out.sort_by(|a, b| a.person.cmp(&b.person));
    (out, refused)
}

/// People who may be listed twice: the same name (with or without
/// diacritics, any case) and the same date of birth, in the rosters of one
/// or several agencies.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Duplicate {
    pub name: String,
    pub birth_date: Option<NaiveDate>,
    pub people: Vec<String>,
    /// The agencies that list them.
    pub agencies: Vec<String>,
}

/// Groups of possible duplicates. People without a date of birth are only
/// grouped when their names are written identically (with diacritics):
/// many people are called Nguyễn Văn A, and homonyms are not duplicates.
pub fn duplicates(people: &[Person]) -> Vec<Duplicate> {
    let mut groups: BTreeMap<(String, Option<NaiveDate>), Vec<&Person>> = BTreeMap::new();
    for p in people {
        let name = match p.birth_date {
            Some(_) => fold(&p.full_name),
            None => p.full_name.split_whitespace().collect::<Vec<_>>().join(" "),
        };
        groups.entry((name, p.birth_date)).or_default().push(p);
    }
    groups
        .into_iter()
        .filter(|(_, list)| list.len() > 1)
        .map(|((_, birth_date), list)| Duplicate {
            name: list[0].full_name.clone(),
            birth_date,
            people: list.iter().map(|p| p.id.clone()).collect(),
            agencies: list.iter().map(|p| p.agency.clone()).collect::<BTreeSet<_>>().into_iter().collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(id: &str, name: &str, born: Option<&str>, agency: &str) -> Person {
        Person {
            id: id.into(),
            full_name: name.into(),
            birth_date: born.map(|b| crate::parse_date(b).unwrap()),
            agency: agency.into(),
            existing: None,
        }
    }

    #[test]
    fn an_agency_split_is_estimated_a_merger_is_whole_and_unknown_versions_are_skipped() {
        let day = |d: &str| d.parse::<NaiveDate>().unwrap();
        let body = |code: &str, from: Option<&str>, to: Option<&str>| crate::UnitVersion {
            code: code.into(),
            name: code.into(),
            kind: crate::UnitKind::Agency,
            level: 9,
            parent_code: None,
            validity: crate::Validity::new(from.map(day), to.map(day)),
            archive_note: None,
            agency: Some(crate::unit::AgencyTraits { kind: "sở".into(), area: Some("51".into()) }),
        };
        let versions = [
            body("A", None, Some("2025-03-01")),
            body("B", Some("2025-03-01"), None),
            body("C", Some("2025-03-01"), None),
        ];
        let ends = |code: &str, successors: &[&str]| Succession {
            code: code.into(),
            valid_from: None,
            ends: day("2025-03-01"),
            successors: successors.iter().map(|s| s.to_string()).collect(),
        };
        let (edges, reorgs) = agency_edges(&versions, &[ends("A", &["B", "C"]), ends("GONE", &["B"])]);
        let weights: Vec<(&str, Option<f64>)> = edges.iter().map(|e| (e.to.code.as_str(), e.weight)).collect();
        assert_eq!(weights, [("B", None), ("C", None)], "a split's shares are unknown; an unknown version has no edge");
        assert_eq!(reorgs.len(), 1);
        assert_eq!(reorgs[0].name, "Sắp xếp cơ quan ngày 01/03/2025");
        let (edges, _) = agency_edges(&versions, &[ends("A", &["B"])]);
        assert_eq!(edges[0].weight, Some(1.0), "one successor takes it whole");
    }

    #[test]
    fn local_parts_are_ascii_given_name_then_initials() {
        assert_eq!(local_part("Nguyễn Văn An").as_deref(), Some("annv"));
        assert_eq!(local_part("  ĐẶNG thị   Thuỳ   Dương ").as_deref(), Some("duongdtt"));
        assert_eq!(local_part("Lò Văn Ưng").as_deref(), Some("unglv"));
        assert_eq!(local_part("K' Ho").as_deref(), Some("hok"));
        assert_eq!(local_part("—"), None);
    }

    #[test]
    fn collisions_are_numbered_in_a_fixed_order_whatever_the_input_order() {
        let people = vec![
            person("3", "Nguyễn Văn An", Some("1990-05-01"), "X02"),
            person("1", "Nguyễn Văn An", Some("1985-01-01"), "X01"),
            person("2", "Ngô Văn An", None, "X01"),
        ];
        let (a, refused) = assign_addresses(&people, "quangngai.gov.vn", &["annv@quangngai.gov.vn".into()]);
        assert!(refused.is_empty());
        let of = |id: &str| a.iter().find(|x| x.person == id).unwrap().address.clone();
        // annv is in use elsewhere: the oldest gets annv2, then annv3; no birth date sorts first.
        assert_eq!(
            (of("2"), of("1"), of("3")),
            (
                "annv2@quangngai.gov.vn".to_string(),
                "annv3@quangngai.gov.vn".to_string(),
                "annv4@quangngai.gov.vn".to_string()
            )
        );
        let mut reversed = people.clone();
        reversed.reverse();
        assert_eq!(assign_addresses(&reversed, "quangngai.gov.vn", &["annv@quangngai.gov.vn".into()]).0, a);
    }

    #[test]
    fn existing_addresses_are_kept_and_not_given_twice() {
        let mut a = person("1", "Trần Thị Bình", Some("1980-01-01"), "X01");
        a.existing = Some("binhtt@qn.gov.vn".into());
        let b = person("2", "Trần Thanh Bình", Some("1970-01-01"), "X01");
        let (out, _) = assign_addresses(&[b, a], "qn.gov.vn", &[]);
        assert_eq!(out[0].address, "binhtt@qn.gov.vn");
        assert!(out[0].existing);
        assert_eq!(out[1].address, "binhtt2@qn.gov.vn");
    }

    #[test]
    fn thousands_of_common_names_get_distinct_addresses() {
        let families = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng"];
        let middles = ["Văn", "Thị", "Hữu", "Đức", "Thanh"];
        let givens = ["An", "Anh", "Bình", "Dũng", "Hà", "Hải", "Hùng", "Lan", "Linh", "Nam", "Ngọc", "Tâm"];
        let mut people = Vec::new();
        for (i, ((f, m), g)) in families
            .iter()
            .flat_map(|f| middles.iter().map(move |m| (f, m)))
            .flat_map(|fm| givens.iter().map(move |g| (fm, g)))
            .enumerate()
        {
            for copy in 0..9 {
                let born = format!("19{:02}-0{}-1{}", 60 + (i + copy) % 40, 1 + copy % 9, copy % 9);
                people.push(person(&format!("{i}-{copy}"), &format!("{f} {m} {g}"), Some(&born), "X01"));
            }
        }
        assert_eq!(people.len(), 5400);
        let (out, refused) = assign_addresses(&people, "tinh.gov.vn", &[]);
        assert!(refused.is_empty());
        let distinct: HashSet<&str> = out.iter().map(|a| a.address.as_str()).collect();
        assert_eq!(distinct.len(), people.len());
        assert!(out.iter().all(|a| a.address.is_ascii() && !a.address.contains(' ')));
    }

    #[test]
    fn account_plans_create_grant_and_retire_what_the_roster_no_longer_supports() {
        use crate::access::{Grant, Role};
        let day = crate::parse_date("2025-07-01").unwrap();
        let wanted = vec![
            Wanted {
                username: "annv@qn.gov.vn".into(),
                display_name: "Nguyễn Văn An".into(),
                role: Role::Approver,
                unit: Some("23317".into()),
            },
            Wanted {
                username: "binhtt@qn.gov.vn".into(),
                display_name: "Trần Thị Bình".into(),
                role: Role::DataEntry,
                unit: Some("23317".into()),
            },
        ];
        let grant =
            |role, unit: &str| Grant { role, unit: Some(unit.into()), forms: vec![], validity: Default::default() };
        let existing = vec![
            Existing {
                username: "annv@qn.gov.vn".into(),
                display_name: "Nguyễn Văn An".into(),
                active: true,
                grants: vec![(1, grant(Role::Approver, "23314"))],
            },
            Existing {
                username: "binhtt@qn.gov.vn".into(),
                display_name: "Trần Thị Bình".into(),
                active: true,
                grants: vec![(2, grant(Role::DataEntry, "23317"))],
            },
            Existing {
                username: "quantri".into(),
                display_name: "Quản trị".into(),
                active: true,
                grants: vec![(3, grant(Role::SystemAdmin, "51"))],
            },
        ];
        let steps = plan_accounts(&wanted, &existing, "qn.gov.vn", day, 90);
        let until = crate::parse_date("2025-09-29").unwrap();
        assert_eq!(
            steps,
            vec![
                Step::Grant { username: "annv@qn.gov.vn".into(), role: Role::Approver, unit: Some("23317".into()) },
                Step::End {
                    username: "annv@qn.gov.vn".into(),
                    grant: 1,
                    role: Role::Approver,
                    unit: Some("23314".into())
                },
                Step::ReadOnly { username: "annv@qn.gov.vn".into(), unit: Some("23314".into()), until },
            ]
        );
        let fresh = plan_accounts(&wanted, &[], "qn.gov.vn", day, 90);
        assert!(matches!(&fresh[0], Step::Create { username, .. } if username == "annv@qn.gov.vn"));
        assert_eq!(fresh.len(), 4);
        // Once the read-only period is over, an account nobody asks for is closed.
        let mut ended = grant(Role::Viewer, "23314");
        ended.validity = crate::date::Validity::new(Some(day), Some(until));
        let left = [Existing {
            username: "cuonglv@qn.gov.vn".into(),
            display_name: "Lê Văn Cường".into(),
            active: true,
            grants: vec![(4, ended)],
        }];
        assert_eq!(plan_accounts(&[], &left, "qn.gov.vn", until.pred_opt().unwrap(), 90), vec![]);
        assert_eq!(
            plan_accounts(&[], &left, "qn.gov.vn", until, 90),
            vec![Step::Close { username: "cuonglv@qn.gov.vn".into() }]
        );
        assert!(!renamed("Lê Văn Cường", "Le Van Cuong"), "a roster typed without diacritics changes nothing");
        assert!(renamed("Lê Văn Cường", "Lê Văn Cương") && renamed("Le Van Cuong", "Lê Văn Cường"));
        // Asked for again, a closed account is opened; a name now written
        // with its diacritics is followed.
        let mut back = left[0].clone();
        back.active = false;
        back.display_name = "Le Van Cuong".into();
        let again = Wanted {
            username: "cuonglv@qn.gov.vn".into(),
            display_name: "Lê Văn Cường".into(),
            role: Role::Viewer,
            unit: Some("23317".into()),
        };
        assert_eq!(
            plan_accounts(&[again.clone(), Wanted { role: Role::DataEntry, ..again }], &[back], "qn.gov.vn", until, 90)
                [..2],
            [
                Step::Open { username: "cuonglv@qn.gov.vn".into() },
                Step::Rename { username: "cuonglv@qn.gov.vn".into(), display_name: "Lê Văn Cường".into() }
            ]
        );
    }

    #[test]
    fn duplicates_ignore_diacritics_but_not_homonyms_without_birth_dates() {
        let people = vec![
            person("1", "Nguyễn Văn A", Some("1980-01-01"), "X01"),
            person("2", "Nguyen Van A", Some("1980-01-01"), "X02"),
            person("3", "Nguyễn Văn A", Some("1990-01-01"), "X01"),
            person("4", "Nguyễn Văn B", None, "X01"),
            person("5", "Nguyen Van B", None, "X02"),
        ];
        let d = duplicates(&people);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].people, ["1", "2"]);
        assert_eq!(d[0].agencies, ["X01", "X02"]);
    }
}

/// An account of the reporting system that a roster asks for: the person's
/// official address as username, a role on the unit their agency serves.
#[derive(Clone, Debug, PartialEq)]
pub struct Wanted {
    pub username: String,
    pub display_name: String,
    pub role: crate::access::Role,
    pub unit: Option<String>,
}

/// An account as it stands, with its grants (id and grant).
#[derive(Clone, Debug, PartialEq)]
pub struct Existing {
    pub username: String,
    pub display_name: String,
    pub active: bool,
    pub grants: Vec<(i64, crate::access::Grant)>,
}

/// One step of an account plan for the reporting system, effective on the
/// plan's day.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Step {
    /// A new account (no password: the official sets one through the
    /// administrator, or signs in through an identity provider).
    Create { username: String, display_name: String },
    /// A role on a unit subtree from the day.
    Grant { username: String, role: crate::access::Role, unit: Option<String> },
    /// A grant the roster no longer supports ends on the day…
    End { username: String, grant: i64, role: crate::access::Role, unit: Option<String> },
    /// …and the official keeps reading the unit's (now legacy) reports until `until`.
    ReadOnly { username: String, unit: Option<String>, until: NaiveDate },
    /// An account the rosters no longer ask for and with nothing left to
    /// read (its grace period is over) is closed.
    Close { username: String },
    /// A closed account the rosters ask for again is opened.
    Open { username: String },
    /// The roster spells the official's name differently now (diacritics,
    /// spacing): the account follows.
    Rename { username: String, display_name: String },
}

/// Whether an account shown as `shown` should follow a roster that now
/// writes `listed`: a different name, or the same letters with other
/// diacritics; never the same name typed without any.
fn renamed(shown: &str, listed: &str) -> bool {
    shown != listed && (fold(shown) != fold(listed) || !listed.is_ascii())
}

/// How long, by default, the officials of a dissolved unit keep reading its
/// data after the cutover, in days.
pub const DEFAULT_GRACE_DAYS: u64 = 90;

/// The steps that bring the accounts of `domain` (usernames ending in
/// `@domain`: the ones rosters manage; accounts made by hand are left
/// alone) in line with `wanted` on `day`. Grants that lose their basis end
/// that day and become read-only for `grace_days`.
pub fn plan_accounts(
    wanted: &[Wanted],
    existing: &[Existing],
    domain: &str,
    day: NaiveDate,
    grace_days: u64,
) -> Vec<Step> {
    use crate::access::Role;
    let suffix = format!("@{}", domain.trim().trim_start_matches('@').to_ascii_lowercase());
    let current = |e: &Existing, role: Role, unit: &Option<String>| {
        e.grants.iter().any(|(_, g)| g.role == role && &g.unit == unit && g.validity.contains(day))
    };
    let mut steps = Vec::new();
    for w in wanted {
        let found = existing.iter().find(|e| e.username == w.username);
        if found.is_none()
            && !steps.iter().any(|s| matches!(s, Step::Create { username, .. } if *username == w.username))
        {
            steps.push(Step::Create { username: w.username.clone(), display_name: w.display_name.clone() });
        }
        if let Some(e) = found {
            // One wanted entry per role: open and rename once per account.
            if !e.active && !steps.iter().any(|s| matches!(s, Step::Open { username } if *username == w.username)) {
                steps.push(Step::Open { username: w.username.clone() });
            }
            if renamed(&e.display_name, &w.display_name)
                && !steps.iter().any(|s| matches!(s, Step::Rename { username, .. } if *username == w.username))
            {
                steps.push(Step::Rename { username: w.username.clone(), display_name: w.display_name.clone() });
            }
        }
        if found.is_none_or(|e| !current(e, w.role, &w.unit)) {
            steps.push(Step::Grant { username: w.username.clone(), role: w.role, unit: w.unit.clone() });
        }
    }
    let until = day.checked_add_days(chrono::Days::new(grace_days)).unwrap_or(day);
    for e in existing.iter().filter(|e| e.username.ends_with(&suffix)) {
        for (id, g) in &e.grants {
            let still = wanted.iter().any(|w| w.username == e.username && w.role == g.role && w.unit == g.unit);
            let legacy_view = g.role == Role::Viewer && g.validity.to.is_some();
            if still || legacy_view || !g.validity.contains(day) {
                continue;
            }
            steps.push(Step::End { username: e.username.clone(), grant: *id, role: g.role, unit: g.unit.clone() });
            steps.push(Step::ReadOnly { username: e.username.clone(), unit: g.unit.clone(), until });
        }
        let wanted_here = wanted.iter().any(|w| w.username == e.username);
        let anything_left = e.grants.iter().any(|(_, g)| g.validity.to.is_none_or(|to| to > day));
        if e.active && !wanted_here && !anything_left {
            steps.push(Step::Close { username: e.username.clone() });
        }
    }
    steps
}
