//! Changes to the registry: baseline lists added, reorganizations checked
//! and planned (every problem at once), applied and reverted exactly.

use super::*;
use crate::date::format_vn;

impl Registry {
    /// Adds versions that are not yet known (the baseline lists), skipping
    /// exact duplicates so that loading twice changes nothing. Returns the
    /// versions actually added.
    pub fn add_baseline(&mut self, versions: Vec<UnitVersion>) -> Result<Vec<UnitVersion>, Vec<RegistryError>> {
        let mut errors = Vec::new();
        let mut fresh = Vec::new();
        let mut seen = HashSet::new();
        for v in versions {
            if !seen.insert(v.key()) {
                errors.push(RegistryError::Baseline(format!("{}: được liệt kê hai lần", v.code)));
                continue;
            }
            match self.version(&v.key()) {
                Some(existing) if existing == &v => continue,
                Some(_) => {
                    errors.push(RegistryError::Baseline(format!("{}: khác với phiên bản đã có trong danh mục", v.code)))
                }
                None => {
                    if self.history(&v.code).any(|o| o.validity.overlaps(&v.validity)) {
                        errors.push(RegistryError::Baseline(format!(
                            "{}: trùng thời gian hiệu lực với một phiên bản đã có trong danh mục",
                            v.code
                        )));
                    }
                    fresh.push(v);
                }
            }
        }
        let codes: HashMap<&str, &UnitVersion> = fresh.iter().map(|v| (v.code.as_str(), v)).collect();
        for v in &fresh {
            if let Some(parent) = &v.parent_code {
                let level_ok = match codes.get(parent.as_str()) {
                    Some(p) => p.level + 1 == v.level,
                    None => self.history(parent).any(|p| p.level + 1 == v.level),
                };
                if !codes.contains_key(parent.as_str()) && !self.by_code.contains_key(parent) {
                    errors.push(RegistryError::Baseline(format!("{}: không có đơn vị cấp trên mã {parent}", v.code)));
                } else if !level_ok {
                    errors.push(RegistryError::Baseline(format!(
                        "{}: cấp {} không nằm ngay dưới đơn vị cấp trên {parent}",
                        v.code, v.level
                    )));
                }
            } else if v.level != 1 {
                errors.push(RegistryError::Baseline(format!(
                    "{}: đơn vị cấp {} phải có đơn vị cấp trên",
                    v.code, v.level
                )));
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        self.versions.extend(fresh.iter().cloned());
        self.reindex();
        Ok(fresh)
    }

    /// Validates a reorganization against the registry and applies it.
    /// Every problem is reported, not only the first.
    pub fn apply(&mut self, reorg: &Reorganization) -> Result<AppliedDelta, Vec<ReorgError>> {
        let delta = self.plan(reorg)?;
        self.apply_delta(&delta);
        Ok(delta)
    }

    /// Computes what `reorg` would change, without changing anything.
    pub fn plan(&self, reorg: &Reorganization) -> Result<AppliedDelta, Vec<ReorgError>> {
        self.plan_checked(reorg, |_| Vec::new())
    }

    /// [`Registry::plan`] with further checks of what would change (the
    /// agencies of dissolved units, say), whose problems are listed with
    /// the plan's own, all at once.
    pub fn plan_checked(
        &self,
        reorg: &Reorganization,
        further: impl FnOnce(&AppliedDelta) -> Vec<ReorgError>,
    ) -> Result<AppliedDelta, Vec<ReorgError>> {
        let info = &reorg.info;
        let eff = info.effective_date;
        let mut plan = Plan::compile(reorg);
        let mut errors = std::mem::take(&mut plan.errors);
        let err = |errors: &mut Vec<ReorgError>, code: &str, message: String| {
            errors.push(ReorgError { code: code.to_string(), message })
        };
        if self.reorgs.contains_key(&info.key) {
            err(&mut errors, &info.key, "đợt sắp xếp có mã này đã được áp dụng".into());
        }
        let Some(eve) = eff.checked_sub_days(Days::new(1)) else {
            err(&mut errors, &info.key, "ngày có hiệu lực nằm ngoài khoảng cho phép".into());
            return Err(errors);
        };

        // Continuing codes with changed attributes: end and begin again.
        for (code, m) in &plan.modifications {
            let Some(current) = self.in_force(code, eve) else {
                err(&mut errors, code, format!("không có hiệu lực ngày {}, nên không thay đổi được", format_vn(eve)));
                continue;
            };
            if plan.begins.contains_key(code) {
                err(&mut errors, code, "vừa được thay đổi vừa được lập mới".into());
                continue;
            }
            let unit = crate::reorg::NewUnit {
                code: code.clone(),
                name: m.name.clone().unwrap_or_else(|| current.name.clone()),
                kind: m.kind.unwrap_or(current.kind),
                level: None,
                parent_code: m.parent_code.clone().or_else(|| current.parent_code.clone()),
            };
            plan.ends.entry(code.clone()).or_default();
            plan.begins.insert(code.clone(), unit);
            if !plan.edges.iter().any(|e| &e.from == code && &e.to == code) {
                plan.edges.push(crate::reorg::PlanEdge {
                    from: code.clone(),
                    to: code.clone(),
                    partial: false,
                    weight: Some(1.0),
                });
            }
        }

        // Abolished levels: every unit of the level ends, unless ended already.
        for level in &plan.abolished_levels {
            for v in self.versions.iter().filter(|v| v.level == *level && v.validity.contains(eve)) {
                plan.ends.entry(v.code.clone()).or_default();
            }
        }

        // Ended versions must be in force on the eve.
        let mut ended: Vec<EndedVersion> = Vec::new();
        let mut ended_units: HashMap<&str, &UnitVersion> = HashMap::new();
        for (code, archive) in &plan.ends {
            match self.in_force(code, eve) {
                None => err(
                    &mut errors,
                    code,
                    format!(
                        "không có hiệu lực ngày {}, nên không thể chấm dứt ngày {}",
                        format_vn(eve),
                        format_vn(eff)
                    ),
                ),
                Some(v) if v.validity.to.is_some() => err(
                    &mut errors,
                    code,
                    format!(
                        "đã chấm dứt ngày {}; chỉ phiên bản còn hiệu lực mới chấm dứt được",
                        format_vn(v.validity.to.expect("checked"))
                    ),
                ),
                Some(v) => {
                    ended_units.insert(code.as_str(), v);
                    ended.push(EndedVersion { key: v.key(), archive_note: archive.clone() });
                }
            }
        }

        // Which code is in force on the effective day once the plan applies.
        let continuing = |code: &str| -> Option<&UnitVersion> {
            self.in_force(code, eff).filter(|_| !ended_units.contains_key(code))
        };

        // Begun versions: no overlap, a parent in force, a consistent level.
        let mut levels: HashMap<&str, u8> = HashMap::new();
        let mut pending: Vec<&str> = plan.begins.keys().map(String::as_str).collect();
        // Levels derive from parents that may begin in the same plan, so
        // resolve parents first (bounded: the hierarchy is shallow).
        for _ in 0..=plan.begins.len() {
            let before = pending.len();
            pending.retain(|code| {
                let unit = &plan.begins[*code];
                let parent_level = match &unit.parent_code {
                    None => Some(0),
                    Some(p) if plan.begins.contains_key(p) => levels.get(p.as_str()).copied(),
                    Some(p) => continuing(p).map(|v| v.level).or(Some(u8::MAX)),
                };
                match parent_level {
                    Some(l) => {
                        levels.insert(code, l.saturating_add(1));
                        false
                    }
                    None => true,
                }
            });
            if pending.len() == before {
                break;
            }
        }
        for code in pending {
            err(&mut errors, code, "chuỗi đơn vị cấp trên của nó khép thành vòng".into());
        }
        let mut begun = Vec::new();
        for (code, unit) in &plan.begins {
            if let Some(v) =
                self.history(code).find(|v| !ended_units.contains_key(code.as_str()) && v.validity.contains(eff))
            {
                err(
                    &mut errors,
                    code,
                    format!("trùng thời gian hiệu lực: «{}» đã có hiệu lực ngày {}", v.name, format_vn(eff)),
                );
            } else if let Some(v) = self.history(code).find(|v| v.validity.from.is_some_and(|f| f >= eff)) {
                err(
                    &mut errors,
                    code,
                    format!(
                        "trùng thời gian hiệu lực: phiên bản sau «{}» bắt đầu ngày {}",
                        v.name,
                        format_vn(v.validity.from.expect("checked"))
                    ),
                );
            }
            match (&unit.parent_code, unit.kind.is_province_level()) {
                (None, false) => err(&mut errors, code, format!("{} phải có đơn vị cấp trên", unit.kind)),
                (Some(p), true) => err(&mut errors, code, format!("{} không thể trực thuộc {p}", unit.kind)),
                (Some(p), false) if !plan.begins.contains_key(p) && continuing(p).is_none() => {
                    err(&mut errors, code, format!("đơn vị cấp trên {p} không có hiệu lực ngày {}", format_vn(eff)))
                }
                _ => {}
            }
            let level = levels.get(code.as_str()).copied().unwrap_or(1);
            if level == u8::MAX {
                continue;
            }
            if let Some(stated) = unit.level.filter(|l| *l != level) {
                err(&mut errors, code, format!("cấp {stated} không khớp với đơn vị cấp trên (phải là cấp {level})"));
            }
            begun.push(UnitVersion {
                code: code.clone(),
                name: unit.name.clone(),
                kind: unit.kind,
                level,
                parent_code: unit.parent_code.clone(),
                validity: Validity::new(Some(eff), None),
                archive_note: None,
                agency: None,
            });
        }

        // Units that continue must not be left under a parent that ends.
        let dissolved: HashSet<&str> = ended_units.keys().copied().filter(|c| !plan.begins.contains_key(*c)).collect();
        for v in self.versions.iter().filter(|v| v.validity.contains(eve) && v.validity.contains(eff)) {
            if ended_units.contains_key(v.code.as_str()) {
                continue;
            }
            if let Some(p) = v.parent_code.as_deref().filter(|p| dissolved.contains(p)) {
                err(&mut errors, &v.code, format!("sẽ còn trực thuộc {p}, đơn vị chấm dứt ngày {}", format_vn(eff)));
            }
        }

        // Edges: explicit ones, then those derived for abolished levels.
        let mut edges: Vec<Edge> = Vec::new();
        let key_after = |code: &str| -> Option<VersionKey> {
            if plan.begins.contains_key(code) {
                Some(VersionKey { code: code.to_string(), valid_from: Some(eff) })
            } else {
                continuing(code).map(UnitVersion::key)
            }
        };
        for e in &plan.edges {
            let Some(from) = ended_units.get(e.from.as_str()) else {
                // Reported above when the code is not in force at all.
                if self.in_force(&e.from, eve).is_some() {
                    err(&mut errors, &e.from, "là đơn vị tiền thân nhưng không chấm dứt".into());
                }
                continue;
            };
            let Some(to) = key_after(&e.to) else {
                err(
                    &mut errors,
                    &e.to,
                    format!("đơn vị kế thừa của {} không có hiệu lực ngày {}", e.from, format_vn(eff)),
                );
                continue;
            };
            if let Some(w) = e.weight.filter(|w| !(*w > 0.0 && *w <= 1.0 + WEIGHT_EPSILON)) {
                err(&mut errors, &e.from, format!("tỷ trọng {w} sang {} phải lớn hơn 0 và không quá 1", e.to));
            }
            edges.push(Edge {
                from: from.key(),
                to,
                partial: e.partial,
                weight: e.weight,
                reorganization: info.key.clone(),
            });
        }
        let explicit: HashSet<&str> = edges.iter().map(|e| e.from.code.as_str()).collect();
        let mut abolished: Vec<&UnitVersion> = ended_units
            .iter()
            .filter(|(code, v)| !explicit.contains(**code) && plan.abolished_levels.contains(&v.level))
            .map(|(_, v)| *v)
            .collect();
        abolished.sort_by(|a, b| a.code.cmp(&b.code));
        let derived =
            if abolished.is_empty() { Vec::new() } else { self.derive_from_children(&abolished, eve, &edges) };
        edges.extend(derived);

        // Dissolved units need a successor or an archive decision.
        let with_successor: HashSet<&str> = edges.iter().map(|e| e.from.code.as_str()).collect();
        for code in &dissolved {
            let archived = plan.ends.get(*code).is_some_and(Option::is_some);
            if !with_successor.contains(code) && !archived {
                err(
                    &mut errors,
                    code,
                    format!("chấm dứt ngày {} mà không có đơn vị kế thừa hay quyết định lưu trữ", format_vn(eff)),
                );
            }
        }

        // Shares leaving one predecessor.
        let mut outgoing: BTreeMap<&str, Vec<&Edge>> = BTreeMap::new();
        for e in &edges {
            outgoing.entry(e.from.code.as_str()).or_default().push(e);
        }
        for (code, list) in &outgoing {
            if list.len() > 1 && list.iter().any(|e| !e.partial) {
                err(&mut errors, code, "chuyển nguyên vẹn sang một đơn vị kế thừa nhưng cũng sang đơn vị khác".into());
            }
            let known: f64 = list.iter().filter_map(|e| e.weight).sum();
            let all_known = list.iter().all(|e| e.weight.is_some());
            if (all_known && (known - 1.0).abs() > WEIGHT_EPSILON) || known > 1.0 + WEIGHT_EPSILON {
                err(&mut errors, code, format!("tỷ trọng sang các đơn vị kế thừa cộng lại bằng {known}, không bằng 1"));
            }
        }

        let delta = AppliedDelta { info: info.clone(), ended, begun, edges };
        errors.extend(further(&delta));
        if errors.is_empty() {
            Ok(delta)
        } else {
            errors.sort();
            errors.dedup();
            Err(errors)
        }
    }

    /// Successors of units of an abolished level: wherever their children
    /// went. Whole when all children went whole to one single unit.
    fn derive_from_children(&self, units: &[&UnitVersion], eve: NaiveDate, edges: &[Edge]) -> Vec<Edge> {
        let wanted: HashSet<&str> = units.iter().map(|u| u.code.as_str()).collect();
        let mut parent_of: HashMap<&str, &str> = HashMap::new();
        for v in self.versions.iter().filter(|v| v.validity.contains(eve)) {
            if let Some(p) = v.parent_code.as_deref().filter(|p| wanted.contains(p)) {
                parent_of.insert(v.code.as_str(), p);
            }
        }
        // Per abolished unit: each target, whether any share of it is partial.
        let mut targets: HashMap<&str, BTreeMap<&VersionKey, (bool, &str)>> = HashMap::new();
        for e in edges {
            if let Some(parent) = parent_of.get(e.from.code.as_str()) {
                let entry = targets.entry(parent).or_default().entry(&e.to).or_insert((false, &e.reorganization));
                entry.0 |= e.partial;
            }
        }
        let mut out = Vec::new();
        for unit in units {
            let Some(list) = targets.get(unit.code.as_str()) else { continue };
            let whole = list.len() == 1 && list.values().all(|(partial, _)| !partial);
            out.extend(list.iter().map(|(to, (_, reorganization))| Edge {
                from: unit.key(),
                to: (*to).clone(),
                partial: !whole,
                weight: whole.then_some(1.0),
                reorganization: reorganization.to_string(),
            }));
        }
        out
    }

    fn apply_delta(&mut self, delta: &AppliedDelta) {
        let eff = delta.info.effective_date;
        for e in &delta.ended {
            let i = self.by_key[&e.key];
            self.versions[i].validity.to = Some(eff);
            self.versions[i].archive_note = e.archive_note.clone();
        }
        self.versions.extend(delta.begun.iter().cloned());
        self.edges.extend(delta.edges.iter().cloned());
        self.reorgs.insert(delta.info.key.clone(), delta.info.clone());
        self.reindex();
    }

    /// Checks that `delta` can be reverted: nothing later builds on what it began.
    pub fn check_revert(&self, delta: &AppliedDelta) -> Result<(), RegistryError> {
        let fail = |reason: String| RegistryError::Revert { key: delta.info.key.clone(), reason };
        for v in &delta.begun {
            let Some(current) = self.version(&v.key()) else {
                return Err(fail(format!("{} không còn trong danh mục", v.code)));
            };
            if current.validity.to.is_some() || self.out_edges.contains_key(&v.key()) {
                return Err(fail(format!("{} đã bị một đợt sắp xếp sau thay đổi", v.code)));
            }
        }
        Ok(())
    }

    /// Undoes an applied reorganization exactly.
    pub fn revert(&mut self, delta: &AppliedDelta) -> Result<(), RegistryError> {
        self.check_revert(delta)?;
        let begun: HashSet<VersionKey> = delta.begun.iter().map(UnitVersion::key).collect();
        self.versions.retain(|v| !begun.contains(&v.key()));
        self.edges.retain(|e| e.reorganization != delta.info.key);
        self.reindex();
        for e in &delta.ended {
            let i = self.by_key[&e.key];
            self.versions[i].validity.to = None;
            self.versions[i].archive_note = None;
        }
        self.refresh_boundaries();
        self.reorgs.remove(&delta.info.key);
        Ok(())
    }
}
