//! Feeds (nguồn cấp số liệu): a feed's definition (TOML), as `baocao feed
//! set` reads it, and the documents a fetch brings back (JSON or CSV),
//! read into records for `core::feed::Feed::raw_values`.

use baocao_core::feed::{Feed, Format, MAX_RECORDS, Record};
use serde_json::Value;

use crate::definitions::read_toml;
use crate::error::{IngestError, Location, Problems};
use crate::upstream::check_url;

/// Reads and checks a feed's definition; its URL as an upstream's is.
pub fn read_feed(file: &str, text: &str) -> Result<Feed, Problems> {
    let feed: Feed = read_toml(file, text)?;
    feed.check().map_err(|message| {
        Problems(vec![IngestError { location: Location { file: file.into(), ..Default::default() }, message }])
    })?;
    check_url(file, &feed.url)?;
    Ok(feed)
}

/// The records of a fetched document, or why it cannot be read (in
/// Vietnamese, naming the line of a CSV). The caller has bounded its size.
pub fn read_records(feed: &Feed, body: &[u8]) -> Result<Vec<Record>, String> {
    match feed.format {
        Format::Json => json_records(feed.records.as_deref(), body),
        Format::Csv => csv_records(body),
    }
}

fn json_records(key: Option<&str>, body: &[u8]) -> Result<Vec<Record>, String> {
    let document: Value = serde_json::from_slice(body).map_err(|e| format!("tài liệu JSON không đọc được: {e}"))?;
    let list = match key {
        None => &document,
        Some(key) => document.get(key).ok_or_else(|| format!("tài liệu JSON không có khóa «{key}»"))?,
    };
    let Value::Array(items) = list else {
        return Err("tài liệu JSON phải là (hoặc chứa, theo khóa records) một mảng các bản ghi".into());
    };
    if items.len() > MAX_RECORDS {
        return Err(format!("tài liệu có {} bản ghi, quá {MAX_RECORDS} bản ghi một lần lấy", items.len()));
    }
    items
        .iter()
        .enumerate()
        .map(|(n, item)| {
            let Value::Object(fields) = item else {
                return Err(format!("bản ghi thứ {} không phải một đối tượng JSON", n + 1));
            };
            // Scalars only: a nested object is nothing an indicator takes.
            Ok(fields
                .iter()
                .filter_map(|(name, value)| {
                    let text = match value {
                        Value::String(s) => s.clone(),
                        Value::Number(n) => n.to_string(),
                        Value::Bool(b) => b.to_string(),
                        _ => return None,
                    };
                    Some((name.clone(), text))
                })
                .collect())
        })
        .collect()
}

fn csv_records(body: &[u8]) -> Result<Vec<Record>, String> {
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(body);
    let headers = reader.headers().map_err(|e| format!("dòng tiêu đề CSV không đọc được: {e}"))?.clone();
    let mut records = Vec::new();
    for (n, row) in reader.records().enumerate() {
        let row = row.map_err(|e| format!("dòng {} của CSV không đọc được: {e}", n + 2))?;
        if records.len() == MAX_RECORDS {
            return Err(format!("tài liệu có quá {MAX_RECORDS} bản ghi một lần lấy"));
        }
        records.push(headers.iter().zip(row.iter()).map(|(h, v)| (h.to_string(), v.to_string())).collect());
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_definition_reads() {
        let feed = read_feed("feed.toml", include_str!("../../../data/demo/feed.toml")).unwrap();
        assert_eq!(feed.format, Format::Json);
        assert!(feed.filled().any(|i| i == "HS_TRUC_TUYEN_TOAN_TRINH"));
    }

    fn feed(format: Format, records: Option<&str>) -> Feed {
        let mut feed = read_feed("feed.toml", include_str!("../../../data/demo/feed.toml")).unwrap();
        feed.format = format;
        feed.records = records.map(str::to_string);
        feed
    }

    #[test]
    fn json_records_are_read_at_the_top_or_under_their_key() {
        let top = br#"[{"ma": "R1", "so": 12, "ok": true, "nested": {"x": 1}, "none": null}]"#;
        let records = read_records(&feed(Format::Json, None), top).unwrap();
        assert_eq!(records[0].get("so").map(String::as_str), Some("12"));
        assert_eq!(records[0].get("ok").map(String::as_str), Some("true"));
        assert!(!records[0].contains_key("nested") && !records[0].contains_key("none"));
        let under = br#"{"data": [{"ma": "R1"}], "total": 1}"#;
        assert_eq!(read_records(&feed(Format::Json, Some("data")), under).unwrap().len(), 1);
        let err = read_records(&feed(Format::Json, Some("rows")), under).unwrap_err();
        assert!(err.contains("«rows»"), "{err}");
        assert!(read_records(&feed(Format::Json, None), b"[1, 2]").unwrap_err().contains("thứ 1"));
        assert!(read_records(&feed(Format::Json, None), b"{not json").is_err());
    }

    #[test]
    fn csv_records_name_the_line_that_does_not_read() {
        let ok = "ma,xa,so\nR1, 23317 ,5\n";
        let records = read_records(&feed(Format::Csv, None), ok.as_bytes()).unwrap();
        assert_eq!(records[0].get("xa").map(String::as_str), Some("23317"));
        let ragged = "ma,xa,so\nR1,23317,5\nR2,23317\n";
        let err = read_records(&feed(Format::Csv, None), ragged.as_bytes()).unwrap_err();
        assert!(err.contains("dòng 3"), "{err}");
    }

    #[test]
    fn a_feed_over_plain_http_to_another_machine_is_refused() {
        let text = include_str!("../../../data/demo/feed.toml");
        let start = text.find("url = ").unwrap();
        let end = start + text[start..].find('\n').unwrap();
        let remote = format!("{}url = \"http://dvc.example.gov.vn/thong-ke\"{}", &text[..start], &text[end..]);
        assert!(read_feed("feed.toml", &remote).unwrap_err().to_string().contains("https"));
    }
}
