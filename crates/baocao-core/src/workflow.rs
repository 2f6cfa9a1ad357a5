//! The life of a report: draft → submitted → approved, or returned with a
//! reason and submitted again. An approved report is locked: what it shows
//! is fixed at approval, until it is reopened (by someone who may approve
//! it, with a reason), which makes it a draft again.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Nháp.
    Draft,
    /// Đã gửi.
    Submitted,
    /// Đã duyệt: locked.
    Approved,
    /// Trả lại để sửa.
    Returned,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Submitted => "submitted",
            Status::Approved => "approved",
            Status::Returned => "returned",
        }
    }

    pub fn vietnamese(self) -> &'static str {
        match self {
            Status::Draft => "Nháp",
            Status::Submitted => "Đã gửi",
            Status::Approved => "Đã duyệt",
            Status::Returned => "Trả lại",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        [Status::Draft, Status::Submitted, Status::Approved, Status::Returned].into_iter().find(|x| x.as_str() == s)
    }

    /// Values can be changed only in a draft or a returned report.
    pub fn editable(self) -> bool {
        matches!(self, Status::Draft | Status::Returned)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    Save,
    Submit,
    Approve,
    Return {
        reason: String,
    },
    /// An approved report made a draft again, to be corrected: the only way
    /// its figures can change after approval.
    Reopen {
        reason: String,
    },
}

/// The names of the actions, as requests and the history write them.
pub const ACTIONS: [&str; 5] = ["save", "submit", "approve", "return", "reopen"];

impl Action {
    pub fn name(&self) -> &'static str {
        match self {
            Action::Save => "save",
            Action::Submit => "submit",
            Action::Approve => "approve",
            Action::Return { .. } => "return",
            Action::Reopen { .. } => "reopen",
        }
    }

    /// The action named `name` (see [`ACTIONS`]); `reason` is what a
    /// return or a reopening says (ignored by the others).
    pub fn parse(name: &str, reason: Option<String>) -> Result<Action, String> {
        let reason = || reason.clone().unwrap_or_default();
        match name.trim() {
            "save" => Ok(Action::Save),
            "submit" => Ok(Action::Submit),
            "approve" => Ok(Action::Approve),
            "return" => Ok(Action::Return { reason: reason() }),
            "reopen" => Ok(Action::Reopen { reason: reason() }),
            other => Err(format!("thao tác «{other}» không có; cần một trong: {}", ACTIONS.join(", "))),
        }
    }

    /// Whether the action takes someone who may approve (returning and
    /// reopening change what another has sent).
    pub fn approves(&self) -> bool {
        matches!(self, Action::Approve | Action::Return { .. } | Action::Reopen { .. })
    }

    /// The reason a return or a reopening gives.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Action::Return { reason } | Action::Reopen { reason } => Some(reason),
            _ => None,
        }
    }
}

/// An action's stored name (`Action::name`) as people read it.
pub fn action_vietnamese(name: &str) -> &str {
    match name {
        "save" => "Lưu nháp",
        "submit" => "Gửi báo cáo",
        "approve" => "Phê duyệt",
        "return" => "Trả lại",
        "reopen" => "Mở lại để sửa",
        other => other,
    }
}

/// Why `actor` may not approve a report that `submitter` last sent and
/// `approvers` approved at lower levels since: nobody approves their own
/// submission unless the regime allows it (`self_approval`), and each
/// level of a chain is decided by another account.
pub fn approval_barred(
    actor: &str,
    submitter: Option<&str>,
    approvers: &[&str],
    self_approval: bool,
) -> Option<&'static str> {
    if !self_approval && submitter == Some(actor) {
        Some("Không thể tự phê duyệt báo cáo do chính mình gửi: chế độ báo cáo này cần người khác phê duyệt.")
    } else if approvers.contains(&actor) {
        Some("Tài khoản này đã phê duyệt báo cáo ở một cấp trước; mỗi cấp do một người khác quyết định.")
    } else {
        None
    }
}

/// The status after `action`, or why it is not allowed (in Vietnamese).
pub fn transition(from: Status, action: &Action) -> Result<Status, String> {
    match (from, action) {
        (Status::Draft | Status::Returned, Action::Save) => Ok(from),
        (Status::Draft | Status::Returned, Action::Submit) => Ok(Status::Submitted),
        (Status::Submitted, Action::Approve) => Ok(Status::Approved),
        (Status::Submitted, Action::Return { reason }) => {
            if reason.trim().is_empty() {
                Err("Trả lại báo cáo cần ghi rõ lý do.".into())
            } else {
                Ok(Status::Returned)
            }
        }
        (Status::Approved, Action::Reopen { reason }) => {
            if reason.trim().is_empty() {
                Err("Mở lại báo cáo đã duyệt cần ghi rõ lý do.".into())
            } else {
                Ok(Status::Draft)
            }
        }
        (Status::Approved, _) => Err(
            "Báo cáo đã được duyệt và bị khóa; muốn sửa, người có quyền phê duyệt phải mở lại báo cáo (ghi rõ lý do)."
                .into(),
        ),
        (s, a) => Err(format!("Không thể thực hiện «{}» với báo cáo ở trạng thái «{}».", a.name(), s.vietnamese())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowed_and_refused_transitions() {
        let ret = Action::Return { reason: "Sai số liệu dòng 2".into() };
        assert_eq!(transition(Status::Draft, &Action::Submit), Ok(Status::Submitted));
        assert_eq!(transition(Status::Submitted, &Action::Approve), Ok(Status::Approved));
        assert_eq!(transition(Status::Submitted, &ret), Ok(Status::Returned));
        assert_eq!(transition(Status::Returned, &Action::Submit), Ok(Status::Submitted));
        assert!(transition(Status::Draft, &Action::Approve).is_err());
        assert!(transition(Status::Submitted, &Action::Save).is_err());
        assert!(transition(Status::Approved, &Action::Save).unwrap_err().contains("khóa"));

        assert!(transition(Status::Approved, &ret).is_err());
        let no_reason = Action::Return { reason: "  ".into() };
        assert!(transition(Status::Submitted, &no_reason).unwrap_err().contains("lý do"));
        let reopen = Action::Reopen { reason: "Sai kế hoạch năm".into() };
        assert_eq!(transition(Status::Approved, &reopen), Ok(Status::Draft));
        assert!(transition(Status::Submitted, &reopen).is_err());
        assert!(transition(Status::Approved, &Action::Reopen { reason: " ".into() }).unwrap_err().contains("lý do"));
        for name in ACTIONS {
            assert_eq!(Action::parse(name, Some("x".into())).unwrap().name(), name);
        }
        assert!(Action::parse("publish", None).is_err());
    }

    #[test]
    fn nobody_approves_their_own_submission_or_two_levels() {
        assert!(approval_barred("a", Some("a"), &[], false).unwrap().contains("tự phê duyệt"));
        assert_eq!(approval_barred("a", Some("a"), &[], true), None);
        assert!(approval_barred("b", Some("a"), &["b"], true).unwrap().contains("cấp trước"));
        assert_eq!(approval_barred("c", Some("a"), &["b"], false), None);
    }
}
