//! The files a command reads and writes, with errors in Vietnamese that
//! name the file, and a size limit checked before anything is read: a
//! command is not to run out of memory on a file too large to parse.

use std::io::Read as _;
use std::path::Path;

use anyhow::bail;

/// The most a command reads of one file: a DHIS2 file of about five
/// million values. A larger one is split (the limit keeps what a read and
/// its parse hold in memory under 2 GiB).
pub const LIMIT: u64 = 512 * 1024 * 1024;

/// An I/O error as an operator reads it: in Vietnamese for what usually
/// happens, the system's own words otherwise.
fn said(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "không có tệp hoặc thư mục này".into(),
        std::io::ErrorKind::PermissionDenied => "không có quyền truy cập".into(),
        std::io::ErrorKind::IsADirectory => "đây là thư mục, không phải tệp".into(),
        std::io::ErrorKind::StorageFull => "hết chỗ trên đĩa".into(),
        _ => error.to_string(),
    }
}

/// The bytes of the file at `path`, refused whole past [`LIMIT`].
pub fn read(path: impl AsRef<Path>) -> anyhow::Result<Vec<u8>> {
    read_at_most(path.as_ref(), LIMIT)
}

fn read_at_most(path: &Path, limit: u64) -> anyhow::Result<Vec<u8>> {
    let shown = path.display();
    let cannot = |e: std::io::Error| anyhow::anyhow!("không đọc được tệp {shown}: {}", said(&e));
    let file = std::fs::File::open(path).map_err(cannot)?;
    let size = file.metadata().map_err(cannot)?.len();
    if size > limit {
        bail!("tệp {shown} quá lớn ({size} byte; tối đa {limit} byte): hãy chia thành các tệp nhỏ hơn");
    }
    // The size read is what the file had; one that grows (or a pipe, whose
    // size says nothing) is still not read past the limit.
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or_default());
    file.take(limit + 1).read_to_end(&mut bytes).map_err(cannot)?;
    if bytes.len() as u64 > limit {
        bail!("tệp {shown} quá lớn (hơn {limit} byte): hãy chia thành các tệp nhỏ hơn");
    }
    Ok(bytes)
}

/// The text of the file at `path`, which must be UTF-8.
pub fn read_text(path: impl AsRef<Path>) -> anyhow::Result<String> {
    let path = path.as_ref();
    String::from_utf8(read(path)?).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        anyhow::anyhow!("tệp {} không phải văn bản UTF-8 (byte thứ {} không đọc được)", path.display(), at + 1)
    })
}

/// Writes `bytes` to the file at `path`.
pub fn write(path: impl AsRef<Path>, bytes: impl AsRef<[u8]>) -> anyhow::Result<()> {
    let path = path.as_ref();
    std::fs::write(path, bytes).map_err(|e| anyhow::anyhow!("không ghi được tệp {}: {}", path.display(), said(&e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_past_the_limit_is_refused_before_it_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lon.json");
        std::fs::write(&path, vec![b'x'; 11]).unwrap();
        let refused = read_at_most(&path, 10).unwrap_err().to_string();
        assert!(refused.contains("lon.json") && refused.contains("quá lớn (11 byte; tối đa 10 byte)"), "{refused}");
        assert_eq!(read_at_most(&path, 11).unwrap().len(), 11);
    }

    #[test]
    fn what_goes_wrong_is_said_in_vietnamese_with_the_files_name() {
        let dir = tempfile::tempdir().unwrap();
        let missing = read(dir.path().join("thieu.csv")).unwrap_err().to_string();
        assert!(missing.contains("thieu.csv") && missing.contains("không có tệp"), "{missing}");
        let folder = read(dir.path()).unwrap_err().to_string();
        assert!(folder.starts_with("không đọc được tệp"), "{folder}");
        let latin1 = dir.path().join("latin1.csv");
        std::fs::write(&latin1, b"ab\xe9").unwrap();
        let text = read_text(&latin1).unwrap_err().to_string();
        assert!(text.contains("latin1.csv") && text.contains("không phải văn bản UTF-8 (byte thứ 3"), "{text}");
        let nowhere = write(dir.path().join("khong/co.xlsx"), b"x").unwrap_err().to_string();
        assert!(nowhere.contains("không ghi được tệp") && nowhere.contains("co.xlsx"), "{nowhere}");
    }
}
