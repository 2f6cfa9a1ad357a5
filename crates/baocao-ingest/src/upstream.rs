//! An upstream system's definition (TOML), as `baocao upstream set` reads
//! it: the link's own checks (`core::upstream::Link::check`) and its URL's.

use baocao_core::upstream::Link;

use crate::definitions::read_toml;
use crate::error::{IngestError, Location, Problems};

/// Reads and checks a link. Its URL must be `https`, or `http` to a
/// loopback address (two instances on one machine, tests): a token sent in
/// clear over a network is a token given away.
pub fn read_link(file: &str, text: &str) -> Result<Link, Problems> {
    let link: Link = read_toml(file, text)?;
    link.check().map_err(|m| refuse(file, m))?;
    check_url(file, &link.url)?;
    Ok(link)
}

/// The largest key file read.
const MAX_SECRET: u64 = 64 * 1024;

/// The link's key, from its file or the environment variable it names;
/// why not, in Vietnamese. Read at each use, so that a key replaced is
/// used from the next delivery on.
pub fn secret(link: &Link) -> Result<String, String> {
    let missing = || format!("chưa có khóa đăng nhập cấp trên ({})", link.secret_place());
    let secret = match &link.secret_file {
        Some(path) => {
            let size = std::fs::metadata(path).map_err(|_| missing())?.len();
            if size > MAX_SECRET {
                return Err(format!("tệp khóa {path} quá lớn ({size} byte)"));
            }
            std::fs::read_to_string(path).map_err(|e| format!("không đọc được tệp khóa {path}: {e}"))?
        }
        None => std::env::var(&link.secret_env).map_err(|_| missing())?,
    };
    let secret = secret.trim().to_string();
    if secret.is_empty() {
        return Err(missing());
    }
    Ok(secret)
}

fn refuse(file: &str, message: String) -> Problems {
    Problems(vec![IngestError { location: Location { file: file.into(), ..Default::default() }, message }])
}

/// Refuses a URL other than `https`, or `http` to this machine, and one
/// that carries a name, a password or parameters: secrets go in the
/// environment variable the definition names.
pub(crate) fn check_url(file: &str, url: &str) -> Result<(), Problems> {
    let parsed = url::Url::parse(url).map_err(|e| refuse(file, format!("url «{url}» không hợp lệ: {e}")))?;
    let loopback = match parsed.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    let secure = parsed.scheme() == "https" || (parsed.scheme() == "http" && loopback);
    if !secure || !parsed.username().is_empty() || parsed.password().is_some() || parsed.query().is_some() {
        return Err(refuse(
            file,
            format!(
                "url «{url}» phải dùng https (http chỉ với địa chỉ máy này), không chứa tên, mật khẩu hay tham số: \
                 khóa để trong biến môi trường secret_env"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINK: &str = r#"
code = "trung-uong"
name = "Hệ thống báo cáo Trung ương"
url = "https://baocao.example.gov.vn/api/v1"
auth = "bearer"
secret_env = "BAOCAO_UPSTREAM_TOKEN"

[[regimes]]
regime = "BC_THANG_TTHC"
data_set = "BC_THANG_TTHC"

[indicators]
HS_TIEP_NHAN = "hsTiepNhan"
"#;

    #[test]
    fn a_key_is_read_from_its_file_at_each_use() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("upstream.token");
        let mut link = read_link("trung-uong.toml", LINK).unwrap();
        link.secret_env = String::new();
        link.secret_file = Some(path.display().to_string());
        let missing = secret(&link).unwrap_err();
        assert!(missing.contains("upstream.token"), "{missing}");
        std::fs::write(&path, "token-1\n").unwrap();
        assert_eq!(secret(&link).unwrap(), "token-1");
        std::fs::write(&path, "token-2").unwrap();
        assert_eq!(secret(&link).unwrap(), "token-2", "a key replaced is used from then on");
        std::fs::write(&path, "  \n").unwrap();
        assert!(secret(&link).is_err(), "an empty file is no key");
        std::fs::write(&path, vec![b'x'; 70 * 1024]).unwrap();
        assert!(secret(&link).unwrap_err().contains("quá lớn"));
    }

    #[test]
    fn a_definition_is_read_with_its_mapping() {
        let link = read_link("trung-uong.toml", LINK).unwrap();
        assert_eq!(link.retry_seconds, 30);
        assert_eq!(link.indicators["HS_TIEP_NHAN"], "hsTiepNhan");
    }

    #[test]
    fn the_demo_definition_reads() {
        let link = read_link("upstream.toml", include_str!("../../../data/demo/upstream.toml")).unwrap();
        assert_eq!(link.data_set("BC_THANG_TTHC"), Some("BC_THANG_TTHC"));
    }

    #[test]
    fn plain_http_to_another_machine_and_secrets_in_the_url_are_refused() {
        for url in ["http://baocao.example.gov.vn/api", "https://u:p@baocao.example/api", "ftp://x/api"] {
            let text = LINK.replace("https://baocao.example.gov.vn/api/v1", url);
            let err = read_link("l.toml", &text).unwrap_err().to_string();
            assert!(err.contains("https"), "{url}: {err}");
        }
        let local = LINK.replace("https://baocao.example.gov.vn", "http://127.0.0.1:8080");
        assert!(read_link("l.toml", &local).is_ok());
        let unknown = LINK.replace("auth = ", "password = \"x\"\nauth = ");
        assert!(read_link("l.toml", &unknown).is_err());
    }
}
