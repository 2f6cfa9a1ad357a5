//! The audit log (nhật ký hệ thống): an append-only, hash-chained record of
//! every change.
//!
//! Each record's hash covers its own fields and the hash of the record
//! before it, so that editing, inserting or deleting any record breaks the
//! chain from that point on; the chain's head (the last sequence number
//! and hash) is kept apart, so that cutting records off the end is seen too.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The hash before the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One change: who, when, what, before and after.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Record {
    /// Position in the chain, from 1, without gaps.
    pub seq: i64,
    /// When, as RFC 3339 in UTC (kept as text so the hash is reproducible).
    pub at: String,
    /// The account (or `cli:NAME` for the command line).
    pub actor: String,
    /// What was done, as `object.verb` (`report.submit`, `account.create` …).
    pub action: String,
    /// What it was done to.
    pub object: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Value>))]
    pub before: Option<serde_json::Value>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Value>))]
    pub after: Option<serde_json::Value>,
    pub prev_hash: String,
    pub hash: String,
}

/// The hash of a record whose predecessor's hash is `prev_hash`.
#[allow(clippy::too_many_arguments)]
pub fn chain_hash(
    prev_hash: &str,
    seq: i64,
    at: &str,
    actor: &str,
    action: &str,
    object: &str,
    before: Option<&str>,
    after: Option<&str>,
) -> String {
    let mut h = Sha256::new();
    // Fields are length-prefixed so that no two different records can
    // concatenate to the same bytes.
    for field in [prev_hash, &seq.to_string(), at, actor, action, object, before.unwrap_or("∅"), after.unwrap_or("∅")]
    {
        h.update(field.len().to_le_bytes());
        h.update(field.as_bytes());
    }
    format!("{:x}", h.finalize())
}

impl Record {
    fn recomputed(&self) -> String {
        let text = |v: &Option<serde_json::Value>| v.as_ref().map(|v| v.to_string());
        chain_hash(
            &self.prev_hash,
            self.seq,
            &self.at,
            &self.actor,
            &self.action,
            &self.object,
            text(&self.before).as_deref(),
            text(&self.after).as_deref(),
        )
    }
}

/// What verification found.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Verdict {
    pub records: usize,
    /// Every break, by sequence number; empty when the chain is whole.
    pub problems: Vec<String>,
}

/// Checks a chain read in sequence order against the head kept apart.
pub fn verify(records: &[Record], head_seq: i64, head_hash: &str) -> Verdict {
    let mut problems = Vec::new();
    let mut prev = GENESIS.to_string();
    let mut expected_seq = 1;
    for r in records {
        if r.seq != expected_seq {
            problems.push(format!("bản ghi {expected_seq}: bị thiếu (bản ghi tiếp theo còn lại là {})", r.seq));
        }
        if r.prev_hash != prev {
            problems.push(format!("bản ghi {}: không nối tiếp bản ghi trước nó", r.seq));
        }
        if r.recomputed() != r.hash {
            problems.push(format!("bản ghi {}: nội dung không khớp mã băm (đã bị sửa)", r.seq));
        }
        prev = r.hash.clone();
        expected_seq = r.seq + 1;
    }
    let last = records.last().map_or(0, |r| r.seq);
    if last != head_seq || prev != head_hash {
        problems.push(format!(
            "chuỗi kết thúc ở bản ghi {last} nhưng đầu chuỗi ghi {head_seq}: có bản ghi bị xóa hoặc thêm"
        ));
    }
    Verdict { records: records.len(), problems }
}
