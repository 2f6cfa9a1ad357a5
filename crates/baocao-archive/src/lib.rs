//! BagIt bags (RFC 8493): how baocao packages the data of a dissolved unit
//! for the archive and for its successor.
//!
//! A bag is a directory: `bagit.txt`, the payload under `data/`,
//! `manifest-sha256.txt` (a checksum per payload file), `bag-info.txt`
//! (who made it, when, what it holds, and the payload's size as
//! `Payload-Oxum`) and `tagmanifest-sha256.txt` (checksums of the tag
//! files). Bags are written reproducibly (the same payload and information
//! give the same bytes) and atomically (into a temporary sibling directory,
//! renamed when complete, every file flushed to the disk first), so an
//! interrupted packaging or a crash leaves either no bag or a whole one. [`verify_bag`] checks a bag completely: every file
//! listed is there with its checksum, nothing unlisted is in `data/`, and
//! the tag files and `Payload-Oxum` agree.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// A file of the payload: its path under `data/` ('/'-separated) and content.
pub struct Payload {
    pub path: String,
    pub bytes: Vec<u8>,
}

/// What a bag holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BagSummary {
    pub files: usize,
    pub bytes: u64,
    /// `Payload-Oxum`: bytes.files.
    pub oxum: String,
    /// The bag-info fields, in order.
    pub info: Vec<(String, String)>,
}

#[derive(Debug, thiserror::Error)]
pub enum BagError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{}: not a valid bag; {} problem(s):\n  {}", .0.display(), .1.len(), .1.join("\n  "))]
    Invalid(PathBuf, Vec<String>),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BagError + '_ {
    move |source| BagError::Io { path: path.to_path_buf(), source }
}

const BAGIT_TXT: &str = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";

/// The SHA-256 of `bytes` in lower-case hex, as manifests write it.
pub fn sha256(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// A manifest path: RFC 8493 §2.1.3 percent-encodes `%`, CR and LF.
fn encode(path: &str) -> String {
    path.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

fn decode(path: &str) -> String {
    path.replace("%0A", "\n").replace("%0a", "\n").replace("%0D", "\r").replace("%0d", "\r").replace("%25", "%")
}

/// A relative path that stays inside its directory.
fn safe(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('/')
        && !path.contains('\\')
        && path.split('/').all(|p| !p.is_empty() && p != "." && p != "..")
}

fn manifest(entries: &BTreeMap<String, String>) -> String {
    entries.iter().map(|(path, hash)| format!("{hash}  {}\n", encode(path))).collect()
}

/// Writes `bytes` to `path` and waits until they are on the disk.
fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut file = fs::File::create(path)?;
    file.write_all(bytes)?;
    file.sync_data()
}

/// Waits until a directory's entries (a file created or renamed in it) are
/// on the disk.
fn sync_dir(dir: &Path) -> Result<(), BagError> {
    fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}

/// Writes `bytes` to `path` whole or not at all, and durably: into a hidden
/// sibling, flushed to the disk, renamed over `path`, and the directory
/// flushed. After a crash at any point the file is the old one or the new
/// one, complete; never a part.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), BagError> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "file".into());
    let staging = path.with_file_name(format!(".{name}.partial"));
    write_synced(&staging, bytes).map_err(io(&staging))?;
    fs::rename(&staging, path).map_err(io(path))?;
    sync_dir(path.parent().unwrap_or(Path::new(".")))
}

/// Writes a bag at `dir`, which must not exist yet. `info` is written to
/// `bag-info.txt` in order, followed by `Payload-Oxum`.
pub fn write_bag(dir: &Path, payload: &[Payload], info: &[(&str, String)]) -> Result<BagSummary, BagError> {
    let unsafe_paths: Vec<String> = payload.iter().filter(|p| !safe(&p.path)).map(|p| p.path.clone()).collect();
    if !unsafe_paths.is_empty() {
        let problems = unsafe_paths.iter().map(|p| format!("payload path «{p}» leaves the bag")).collect();
        return Err(BagError::Invalid(dir.to_path_buf(), problems));
    }
    if dir.exists() {
        let problem = "the directory exists already".to_string();
        return Err(BagError::Invalid(dir.to_path_buf(), vec![problem]));
    }
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "bag".into());
    let staging = dir.with_file_name(format!(".{name}.partial"));
    if staging.exists() {
        fs::remove_dir_all(&staging).map_err(io(&staging))?;
    }
    let mut entries = BTreeMap::new();
    let mut bytes = 0u64;
    for file in payload {
        let path = staging.join("data").join(&file.path);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(io(parent))?;
        }
        write_synced(&path, &file.bytes).map_err(io(&path))?;
        entries.insert(format!("data/{}", file.path), sha256(&file.bytes));
        bytes += file.bytes.len() as u64;
    }
    let oxum = format!("{bytes}.{}", payload.len());
    let mut bag_info = String::new();
    let mut fields: Vec<(String, String)> = Vec::new();
    for (label, value) in info {
        let value = value.replace(['\r', '\n'], " ");
        let _ = writeln!(bag_info, "{label}: {value}");
        fields.push((label.to_string(), value));
    }
    let _ = writeln!(bag_info, "Payload-Oxum: {oxum}");
    fields.push(("Payload-Oxum".into(), oxum.clone()));
    let manifest_text = manifest(&entries);
    let mut tags = BTreeMap::new();
    for (file, text) in
        [("bagit.txt", BAGIT_TXT), ("bag-info.txt", bag_info.as_str()), ("manifest-sha256.txt", manifest_text.as_str())]
    {
        let path = staging.join(file);
        write_synced(&path, text.as_bytes()).map_err(io(&path))?;
        tags.insert(file.to_string(), sha256(text.as_bytes()));
    }
    let path = staging.join("tagmanifest-sha256.txt");
    write_synced(&path, manifest(&tags).as_bytes()).map_err(io(&path))?;
    // Every directory of the bag, deepest first, then the rename itself:
    // the bag is on the disk whole before anyone records it.
    let mut dirs: Vec<PathBuf> = payload
        .iter()
        .flat_map(|f| {
            let file = staging.join("data").join(&f.path);
            let within: Vec<PathBuf> =
                file.ancestors().skip(1).take_while(|a| a.starts_with(&staging)).map(Path::to_path_buf).collect();
            within
        })
        .collect();
    dirs.push(staging.clone());
    dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
    dirs.dedup();
    for d in &dirs {
        sync_dir(d)?;
    }
    fs::rename(&staging, dir).map_err(io(dir))?;
    sync_dir(dir.parent().unwrap_or(Path::new(".")))?;
    Ok(BagSummary { files: payload.len(), bytes, oxum, info: fields })
}

/// Reads `NAME: value` lines, with continuation lines folded in.
fn read_info(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
        } else if let Some((label, value)) = line.split_once(':') {
            out.push((label.trim().to_string(), value.trim().to_string()));
        }
    }
    out
}

fn read_manifest(dir: &Path, file: &str, problems: &mut Vec<String>) -> Option<BTreeMap<String, String>> {
    let text = match fs::read_to_string(dir.join(file)) {
        Ok(text) => text,
        Err(e) => {
            problems.push(format!("{file}: {e}"));
            return None;
        }
    };
    let mut entries = BTreeMap::new();
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        match line.split_once(char::is_whitespace) {
            Some((hash, path)) if hash.len() == 64 => {
                let path = decode(path.trim_start());
                if !safe(&path) {
                    problems.push(format!("{file}, line {}: path «{path}» leaves the bag", n + 1));
                } else {
                    entries.insert(path, hash.to_ascii_lowercase());
                }
            }
            _ => problems.push(format!("{file}, line {}: expected a SHA-256 checksum and a path", n + 1)),
        }
    }
    Some(entries)
}

fn files_under(root: &Path, prefix: &str, out: &mut Vec<String>) -> std::io::Result<()> {
    for entry in fs::read_dir(root)? {
        let entry = entry?;
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        if entry.file_type()?.is_dir() {
            files_under(&entry.path(), &format!("{name}/"), out)?;
        } else {
            out.push(name);
        }
    }
    Ok(())
}

/// Checks the bag at `dir` completely; every problem is listed.
pub fn verify_bag(dir: &Path) -> Result<BagSummary, BagError> {
    let mut problems = Vec::new();
    match fs::read_to_string(dir.join("bagit.txt")) {
        Ok(text) => {
            let info = read_info(&text);
            let version = info.iter().find(|(k, _)| k == "BagIt-Version").map(|(_, v)| v.as_str());
            if !matches!(version, Some("1.0" | "0.97")) {
                problems.push(format!("bagit.txt: BagIt-Version {version:?} is not 1.0 or 0.97"));
            }
        }
        Err(e) => problems.push(format!("bagit.txt: {e}")),
    }
    let info = fs::read_to_string(dir.join("bag-info.txt")).map(|t| read_info(&t)).unwrap_or_default();
    let manifest = read_manifest(dir, "manifest-sha256.txt", &mut problems).unwrap_or_default();
    let mut bytes = 0u64;
    for (path, hash) in &manifest {
        match fs::read(dir.join(path)) {
            Ok(content) => {
                bytes += content.len() as u64;
                if &sha256(&content) != hash {
                    problems.push(format!("{path}: checksum does not match the manifest"));
                }
            }
            Err(e) => problems.push(format!("{path}: listed in the manifest but {e}")),
        }
    }
    let mut present = Vec::new();
    if let Err(e) = files_under(&dir.join("data"), "data/", &mut present) {
        problems.push(format!("data/: {e}"));
    }
    for path in present.iter().filter(|p| !manifest.contains_key(*p)) {
        problems.push(format!("{path}: in the payload but not in the manifest"));
    }
    if dir.join("tagmanifest-sha256.txt").exists() {
        for (path, hash) in read_manifest(dir, "tagmanifest-sha256.txt", &mut problems).unwrap_or_default() {
            match fs::read(dir.join(&path)) {
                Ok(content) if sha256(&content) == hash => {}
                Ok(_) => problems.push(format!("{path}: checksum does not match the tag manifest")),
                Err(e) => problems.push(format!("{path}: listed in the tag manifest but {e}")),
            }
        }
    }
    let oxum = format!("{bytes}.{}", manifest.len());
    if let Some((_, declared)) = info.iter().find(|(k, _)| k == "Payload-Oxum")
        && declared != &oxum
    {
        problems.push(format!("bag-info.txt: Payload-Oxum {declared} but the payload is {oxum}"));
    }
    if problems.is_empty() {
        Ok(BagSummary { files: manifest.len(), bytes, oxum, info })
    } else {
        Err(BagError::Invalid(dir.to_path_buf(), problems))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<Payload> {
        vec![
            Payload { path: "reports/BC 2025-06.json".into(), bytes: b"{\"x\":1}".to_vec() },
            Payload { path: "values.csv".into(), bytes: "chỉ tiêu,giá trị\nA,1\n".as_bytes().to_vec() },
        ]
    }

    #[test]
    fn a_written_bag_verifies_and_is_the_same_every_time() {
        let root = tempfile::tempdir().unwrap();
        let info = [("Source-Organization", "UBND tỉnh".to_string()), ("Bagging-Date", "2025-07-01".to_string())];
        let a = write_bag(&root.path().join("a"), &sample(), &info).unwrap();
        assert_eq!(a.oxum, format!("{}.2", 7 + "chỉ tiêu,giá trị\nA,1\n".len()));
        let checked = verify_bag(&root.path().join("a")).unwrap();
        assert_eq!((checked.files, checked.oxum.clone()), (2, a.oxum.clone()));
        assert_eq!(checked.info[0], ("Source-Organization".to_string(), "UBND tỉnh".to_string()));
        write_bag(&root.path().join("b"), &sample(), &info).unwrap();
        for file in ["bag-info.txt", "manifest-sha256.txt", "tagmanifest-sha256.txt"] {
            assert_eq!(
                fs::read(root.path().join("a").join(file)).unwrap(),
                fs::read(root.path().join("b").join(file)).unwrap()
            );
        }
        assert!(write_bag(&root.path().join("a"), &sample(), &info).is_err(), "never over an existing bag");
    }

    #[test]
    fn every_kind_of_damage_is_found() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("bag");
        write_bag(&dir, &sample(), &[("Source-Organization", "X".to_string())]).unwrap();
        fs::write(dir.join("data/values.csv"), "changed").unwrap();
        fs::write(dir.join("data/extra.txt"), "not listed").unwrap();
        fs::remove_file(dir.join("data/reports/BC 2025-06.json")).unwrap();
        let Err(BagError::Invalid(_, problems)) = verify_bag(&dir) else { panic!("damage not found") };
        let text = problems.join("\n");
        for expected in [
            "data/values.csv: checksum does not match",
            "data/extra.txt: in the payload but not in the manifest",
            "data/reports/BC 2025-06.json: listed in the manifest but",
            "Payload-Oxum",
        ] {
            assert!(text.contains(expected), "{expected} in {text}");
        }
        fs::write(dir.join("bag-info.txt"), "Source-Organization: Y\n").unwrap();
        let Err(BagError::Invalid(_, problems)) = verify_bag(&dir) else { panic!() };
        assert!(problems.iter().any(|p| p.contains("bag-info.txt: checksum does not match the tag manifest")));
    }

    #[test]
    fn paths_that_leave_the_bag_are_refused() {
        let root = tempfile::tempdir().unwrap();
        let bad = [Payload { path: "../escape".into(), bytes: vec![] }];
        assert!(matches!(write_bag(&root.path().join("x"), &bad, &[]), Err(BagError::Invalid(..))));
        assert!(!root.path().join("x").exists());
    }
}
