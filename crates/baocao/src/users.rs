//! `baocao users`, `baocao tokens` and `baocao audit`: accounts of the
//! reporting system, API tokens for integrations, and the audit log.

use std::io::Read;

use anyhow::{Context, bail};
use baocao_core::access::{Grant, Permission, Role};
use baocao_core::{Validity, parse_date, today_in_vietnam};
use baocao_credentials::{check_password, hash_password, new_token, token_hash};
use baocao_store::Db;
use baocao_store::audit::AuditFilter;
use chrono::NaiveDate;
use clap::Subcommand;

use crate::cli_actor;
use crate::output::{self, Format};

#[derive(Subcommand)]
pub enum UserCommand {
    /// Creates an account. With --email (and no --password-stdin) it is
    /// mailed an activation link to set its password; otherwise without
    /// --password-stdin a random password is generated and printed once.
    Add {
        username: String,
        /// Full name (họ và tên) as shown in the application.
        #[arg(long)]
        name: String,
        /// The account's official mail address.
        #[arg(long)]
        email: Option<String>,
        /// Read the password from standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Sets a new password (ends the account's sessions).
    Passwd {
        username: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Gives a role on a unit subtree (or the whole system).
    Grant {
        username: String,
        /// system_admin, unit_admin, data_entry, approver or viewer.
        #[arg(long)]
        role: Role,
        /// The unit whose subtree the grant covers; the whole system when absent.
        #[arg(long)]
        unit: Option<String>,
        /// Only these forms (comma-separated codes).
        #[arg(long, value_delimiter = ',')]
        forms: Vec<String>,
        /// First day in force.
        #[arg(long, value_parser = parse_date)]
        from: Option<NaiveDate>,
        /// First day no longer in force.
        #[arg(long, value_parser = parse_date)]
        to: Option<NaiveDate>,
    },
    /// Ends a grant (kept in the history).
    Revoke {
        grant: i64,
        /// The first day without it; today when absent.
        #[arg(long, value_parser = parse_date)]
        on: Option<NaiveDate>,
    },
    /// Closes an account: its sessions and tokens end.
    Close { username: String },
    /// Opens a closed account again.
    Open { username: String },
    /// Accounts with their grants.
    List {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Issues an API token for an account, printed once; only its hash is kept.
    Create {
        username: String,
        /// What the token is for.
        #[arg(long)]
        name: String,
        /// Permissions the token is limited to (repeatable); all of the account's when absent.
        #[arg(long = "scope")]
        scopes: Vec<Permission>,
    },
    Revoke {
        id: i64,
    },
    List {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Checks the hash chain of the whole log; fails when any record was
    /// altered, inserted or removed.
    Verify {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Records, newest first.
    List {
        #[arg(long)]
        actor: Option<String>,
        /// Actions starting with this, e.g. `report.`.
        #[arg(long)]
        action: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: i64,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

/// A password from standard input, checked as the web pages check one
/// (`context`: the account's names), or a fresh random one (printed by
/// the caller).
fn password(from_stdin: bool, context: &[&str]) -> anyhow::Result<(String, bool)> {
    if !from_stdin {
        return Ok((new_token()[..20].to_string(), true));
    }
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text).context("không đọc được mật khẩu từ đầu vào chuẩn")?;
    let text = text.trim_end_matches(['\r', '\n']).to_string();
    check_password(&text, context).map_err(anyhow::Error::msg)?;
    Ok((text, false))
}

pub async fn users(db: &Db, command: UserCommand) -> anyhow::Result<()> {
    let actor = cli_actor();
    match command {
        UserCommand::Add { username, name, email: Some(email), password_stdin: false } => {
            db.invite_account(&actor, &username, &name, &email).await?;
            outln!("đã tạo tài khoản {username}; liên kết kích hoạt được gửi thư tới {email} (xem hộp thư đi)");
        }
        UserCommand::Add { username, name, email, password_stdin } => {
            let (password, generated) = password(password_stdin, &[&username, &name])?;
            db.create_account(&actor, &username, &name, Some(&hash_password(&password))).await?;
            if let Some(email) = email {
                db.set_account_email(&actor, &username, &email).await?;
            }
            outln!("đã tạo tài khoản {username}");
            if generated {
                outln!("mật khẩu (chỉ hiện một lần): {password}");
            }
        }
        UserCommand::Passwd { username, password_stdin } => {
            let (password, generated) = password(password_stdin, &[&username])?;
            db.set_password(&actor, &username, &hash_password(&password)).await?;
            outln!("đã đổi mật khẩu của {username}");
            if generated {
                outln!("mật khẩu (chỉ hiện một lần): {password}");
            }
        }
        UserCommand::Grant { username, role, unit, forms, from, to } => {
            if let Some(code) = &unit
                && db.unit_history(code).await?.is_empty()
            {
                bail!("không có đơn vị mã «{code}»");
            }
            let validity = Validity::new(from, to);
            if validity.is_empty() {
                bail!("--to phải sau --from");
            }
            let id = db.add_grant(&actor, &username, &Grant { role, unit, forms, validity }).await?;
            outln!("đã giao quyền số {id} cho {username}");
        }
        UserCommand::Revoke { grant, on } => {
            db.revoke_grant(&actor, grant, on.unwrap_or_else(today_in_vietnam)).await?;
            outln!("đã thu hồi quyền số {grant}");
        }
        UserCommand::Close { username } => db.set_active(&actor, &username, false).await?,
        UserCommand::Open { username } => db.set_active(&actor, &username, true).await?,
        UserCommand::List { format } => {
            let accounts = db.accounts().await?;
            if format == Format::Json {
                return output::json(&accounts);
            }
            let rows = accounts.iter().flat_map(|a| {
                let grants: Vec<Option<&baocao_store::accounts::StoredGrant>> =
                    if a.grants.is_empty() { vec![None] } else { a.grants.iter().map(Some).collect() };
                grants.into_iter().map(move |g| {
                    vec![
                        a.username.clone(),
                        a.display_name.clone(),
                        if a.active { "yes" } else { "no" }.into(),
                        g.map(|g| g.id.to_string()).unwrap_or_default(),
                        g.map(|g| g.grant.role.as_str().to_string()).unwrap_or_default(),
                        g.and_then(|g| g.grant.unit.clone()).unwrap_or_default(),
                        output::first_day(g.and_then(|g| g.grant.validity.from), format),
                        output::last_day(g.and_then(|g| g.grant.validity.to), format),
                    ]
                })
            });
            output::rows(
                format,
                &["username", "name", "active", "grant", "role", "unit", "valid_from", "valid_to"],
                &["Tài khoản", "Họ và tên", "Hoạt động", "Quyền", "Vai trò", "Đơn vị", "Từ ngày", "Đến hết ngày"],
                rows,
            )?;
        }
    }
    Ok(())
}

pub async fn tokens(db: &Db, command: TokenCommand) -> anyhow::Result<()> {
    let actor = cli_actor();
    match command {
        TokenCommand::Create { username, name, scopes } => {
            let scopes = if scopes.is_empty() { Permission::ALL.to_vec() } else { scopes };
            let token = new_token();
            let id = db.create_token(&actor, &username, &name, &token_hash(&token), &scopes).await?;
            outln!("mã truy cập số {id} của {username} (chỉ hiện một lần; gửi kèm dạng `Authorization: Bearer …`):");
            outln!("{token}");
        }
        TokenCommand::Revoke { id } => {
            db.revoke_token(&actor, id).await?;
            outln!("đã thu hồi mã truy cập số {id}");
        }
        TokenCommand::List { format } => {
            let tokens = db.tokens().await?;
            if format == Format::Json {
                return output::json(&tokens);
            }
            output::rows(
                format,
                &["id", "username", "name", "scopes", "created_at", "revoked_at"],
                &["Số", "Tài khoản", "Mục đích", "Phạm vi", "Cấp lúc", "Thu hồi lúc"],
                tokens.iter().map(|t| {
                    vec![
                        t.id.to_string(),
                        t.username.clone(),
                        t.name.clone(),
                        t.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" "),
                        t.created_at.to_rfc3339(),
                        t.revoked_at.map(|r| r.to_rfc3339()).unwrap_or_default(),
                    ]
                }),
            )?;
        }
    }
    Ok(())
}

pub async fn audit(db: &Db, command: AuditCommand) -> anyhow::Result<()> {
    match command {
        AuditCommand::Verify { format } => {
            let verdict = db.verify_audit().await?;
            if format == Format::Json {
                output::json(&verdict)?;
            } else if verdict.problems.is_empty() {
                outln!("nhật ký kiểm toán nguyên vẹn: {} bản ghi, chuỗi băm đã kiểm tra", verdict.records);
            } else {
                for p in &verdict.problems {
                    outln!("{p}");
                }
            }
            if !verdict.problems.is_empty() {
                bail!("nhật ký kiểm toán đã bị sửa: {} vấn đề", verdict.problems.len());
            }
        }
        AuditCommand::List { actor, action, limit, format } => {
            let records =
                db.audit_records(&AuditFilter { actor, action, object: None, before_seq: None, limit }).await?;
            if format == Format::Json {
                return output::json(&records);
            }
            output::rows(
                format,
                &["seq", "at", "actor", "action", "object"],
                &["#", "Thời điểm", "Người thực hiện", "Thao tác", "Đối tượng"],
                records.iter().map(|r| {
                    vec![r.seq.to_string(), r.at.clone(), r.actor.clone(), r.action.clone(), r.object.clone()]
                }),
            )?;
        }
    }
    Ok(())
}
