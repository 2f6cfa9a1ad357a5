//! Permissions by function and unit (phân quyền theo chức năng và đơn vị).
//!
//! An account holds [`Grant`]s: a [`Role`] on a unit subtree (or on the
//! whole system), optionally narrowed to some forms, valid from a day to a
//! day. A role is a fixed bundle of [`Permission`]s. Whether an action is
//! allowed is decided here, and only here, by [`allows`]: the server asks
//! it for every route and every unit a request touches.
//!
//! A grant on a unit covers the agencies that serve that unit or a unit of
//! its subtree; a grant on an agency covers that agency and the agencies
//! under it (and never the units it serves).
//!
//! A grant names a unit as it stands now; for days before a
//! reorganization it covers the units that stood for it then (a grant on
//! the new Xã Ngọk Bay lets its officials read the reports of the three old
//! communes it was formed from), as regimes do.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::date::Validity;
use crate::registry::Registry;
use crate::unit::UnitVersion;

/// What an official does in the system (vai trò).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Quản trị hệ thống: everything, everywhere it is granted.
    SystemAdmin,
    /// Quản trị đơn vị: accounts of a unit subtree.
    UnitAdmin,
    /// Cán bộ nhập liệu: enters and submits reports.
    DataEntry,
    /// Lãnh đạo phê duyệt: approves or returns submitted reports.
    Approver,
    /// Người xem: reads reports and totals.
    Viewer,
}

/// One thing a route or a page does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Read the registry of units, indicators, forms, regimes and periods.
    ViewCatalog,
    /// Read reports, totals and completeness.
    ViewReports,
    /// Save drafts and submit reports.
    EnterReports,
    /// Approve or return submitted reports.
    ApproveReports,
    /// Change indicators, forms, regimes and bulk data.
    ManageCatalog,
    /// Create accounts, grant and revoke roles, issue API tokens.
    ManageAccounts,
    /// Read the audit log.
    ViewAudit,
}

impl Permission {
    pub const ALL: [Permission; 7] = [
        Permission::ViewCatalog,
        Permission::ViewReports,
        Permission::EnterReports,
        Permission::ApproveReports,
        Permission::ManageCatalog,
        Permission::ManageAccounts,
        Permission::ViewAudit,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Permission::ViewCatalog => "view_catalog",
            Permission::ViewReports => "view_reports",
            Permission::EnterReports => "enter_reports",
            Permission::ApproveReports => "approve_reports",
            Permission::ManageCatalog => "manage_catalog",
            Permission::ManageAccounts => "manage_accounts",
            Permission::ViewAudit => "view_audit",
        }
    }

    pub fn vietnamese(self) -> &'static str {
        match self {
            Permission::ViewCatalog => "xem danh mục",
            Permission::ViewReports => "xem báo cáo",
            Permission::EnterReports => "nhập và gửi báo cáo",
            Permission::ApproveReports => "phê duyệt báo cáo",
            Permission::ManageCatalog => "quản lý danh mục, biểu mẫu, chế độ báo cáo",
            Permission::ManageAccounts => "quản lý tài khoản và phân quyền",
            Permission::ViewAudit => "xem nhật ký hệ thống",
        }
    }
}

impl std::str::FromStr for Permission {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Permission::ALL.into_iter().find(|p| p.as_str() == s).ok_or_else(|| {
            let known: Vec<_> = Permission::ALL.iter().map(|p| p.as_str()).collect();
            format!("không có quyền «{s}»: cần một trong {}", known.join(", "))
        })
    }
}

impl Role {
    pub const ALL: [Role; 5] = [Role::SystemAdmin, Role::UnitAdmin, Role::DataEntry, Role::Approver, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::SystemAdmin => "system_admin",
            Role::UnitAdmin => "unit_admin",
            Role::DataEntry => "data_entry",
            Role::Approver => "approver",
            Role::Viewer => "viewer",
        }
    }

    pub fn vietnamese(self) -> &'static str {
        match self {
            Role::SystemAdmin => "Quản trị hệ thống",
            Role::UnitAdmin => "Quản trị đơn vị",
            Role::DataEntry => "Cán bộ nhập liệu",
            Role::Approver => "Lãnh đạo phê duyệt",
            Role::Viewer => "Người xem",
        }
    }

    pub fn permissions(self) -> &'static [Permission] {
        use Permission::*;
        match self {
            Role::SystemAdmin => &Permission::ALL,
            Role::UnitAdmin => &[ViewCatalog, ViewReports, ManageAccounts],
            Role::DataEntry => &[ViewCatalog, ViewReports, EnterReports],
            Role::Approver => &[ViewCatalog, ViewReports, ApproveReports],
            Role::Viewer => &[ViewCatalog, ViewReports],
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Role::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| {
            let known: Vec<_> = Role::ALL.iter().map(|r| r.as_str()).collect();
            format!("không có vai trò «{s}»: cần một trong {}", known.join(", "))
        })
    }
}

/// A role given to an account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Grant {
    pub role: Role,
    /// The unit whose subtree (itself included) the grant covers; none: the
    /// whole system.
    pub unit: Option<String>,
    /// Only these forms; empty: every form.
    #[serde(default)]
    pub forms: Vec<String>,
    #[serde(flatten)]
    pub validity: Validity,
}

/// What a request touches.
#[derive(Clone, Copy, Debug)]
pub enum Target<'a> {
    /// Anything at all: the user holds the permission somewhere (to show a
    /// page or a menu whose contents are then filtered).
    Somewhere,
    /// The whole system: only a grant without a unit will do.
    System,
    /// One unit as it stood on a day, optionally through one form.
    Unit { unit: &'a UnitVersion, day: NaiveDate, form: Option<&'a str> },
}

impl Grant {
    fn covers(&self, registry: &Registry, target: Target<'_>) -> bool {
        match target {
            Target::Somewhere => true,
            Target::System => self.unit.is_none() && self.forms.is_empty(),
            Target::Unit { unit, day, form } => {
                let form_ok = self.forms.is_empty() || form.is_some_and(|f| self.forms.iter().any(|g| g == f));
                let unit_ok = match &self.unit {
                    None => true,
                    Some(code) => registry.stand_ins(code, day).iter().any(|root| registry.within(unit, root, day)),
                };
                form_ok && unit_ok
            }
        }
    }
}

/// True when one of `grants`, in force on `today`, gives `permission` over
/// `target`. `limit`, when given (an API token's scopes), must also contain
/// the permission: a token never does more than its account may.
pub fn allows(
    registry: &Registry,
    grants: &[Grant],
    limit: Option<&[Permission]>,
    permission: Permission,
    target: Target<'_>,
    today: NaiveDate,
) -> bool {
    if limit.is_some_and(|l| !l.contains(&permission)) {
        return false;
    }
    grants
        .iter()
        .any(|g| g.validity.contains(today) && g.role.permissions().contains(&permission) && g.covers(registry, target))
}

/// Whether `grants` (within `limit`) let an account decide at a level of
/// a regime's approval chain whose decision is `role`'s on unit `scope`
/// (the reporting unit when the level names none), for a report of a day
/// `day` through `form`: a grant in force on `today` of that role, or of
/// the system administrator, on exactly `scope` (a grant names a unit as
/// it stands now, so the units that stood for it on `day` count), or on
/// the whole system. A grant on the province does not make its holder the
/// commune's own leader: each level is its own people.
#[allow(clippy::too_many_arguments)]
pub fn decides_at(
    registry: &Registry,
    grants: &[Grant],
    limit: Option<&[Permission]>,
    role: Role,
    scope: &str,
    day: NaiveDate,
    form: &str,
    today: NaiveDate,
) -> bool {
    if limit.is_some_and(|l| !l.contains(&Permission::ApproveReports)) {
        return false;
    }
    grants.iter().any(|g| {
        g.validity.contains(today)
            && (g.role == role || g.role == Role::SystemAdmin)
            && (g.forms.is_empty() || g.forms.iter().any(|f| f == form))
            && match &g.unit {
                None => true,
                Some(code) => code == scope || registry.stand_ins(code, day).iter().any(|s| s == scope),
            }
    })
}

/// What whoever manages the accounts of units may give there without
/// holding it: what the officials they provision do every day (read and
/// enter reports). Anything else (approving, the catalog, the audit log)
/// is given only by someone who holds it there.
const PROVISIONED: [Permission; 3] = [Permission::ViewCatalog, Permission::ViewReports, Permission::EnterReports];

/// Whether `grants` (within `limit`) may give `role` over `target` on
/// `today`, or the permission that is missing: managing accounts there,
/// and holding there every permission of the role that is not
/// [`PROVISIONED`]. So nobody gives (themselves or anyone) more than they
/// hold: a unit administrator gives data entry, not approval.
pub fn may_give(
    registry: &Registry,
    grants: &[Grant],
    limit: Option<&[Permission]>,
    role: Role,
    target: Target<'_>,
    today: NaiveDate,
) -> Result<(), Permission> {
    let needed = std::iter::once(Permission::ManageAccounts)
        .chain(role.permissions().iter().copied().filter(|p| !PROVISIONED.contains(p)));
    for permission in needed {
        if !allows(registry, grants, limit, permission, target, today) {
            return Err(permission);
        }
    }
    Ok(())
}

/// True when one of `grants`, in force on `today`, gives `permission`
/// anywhere at all (within `limit`, if given): whether to offer a function
/// before knowing which units it will touch.
pub fn holds(grants: &[Grant], limit: Option<&[Permission]>, permission: Permission, today: NaiveDate) -> bool {
    limit.is_none_or(|l| l.contains(&permission))
        && grants.iter().any(|g| g.validity.contains(today) && g.role.permissions().contains(&permission))
}

/// The units a set of grants reaches with `permission` on `today`, as codes
/// of subtree roots; `None` when some grant covers the whole system.
pub fn reach(grants: &[Grant], permission: Permission, today: NaiveDate) -> Option<Vec<String>> {
    let mut roots = Vec::new();
    for g in grants.iter().filter(|g| g.validity.contains(today) && g.role.permissions().contains(&permission)) {
        match &g.unit {
            None => return None,
            Some(code) if !roots.contains(code) => roots.push(code.clone()),
            Some(_) => {}
        }
    }
    Some(roots)
}

/// Whether one of `grants`, in force on `today`, is of `role` itself over
/// `target`: whom a notice about a unit concerns (its data-entry officers
/// for a deadline, its approvers for a digest), not everyone whose wider
/// role happens to include the permission.
pub fn holds_role(registry: &Registry, grants: &[Grant], role: Role, target: Target<'_>, today: NaiveDate) -> bool {
    grants.iter().any(|g| g.validity.contains(today) && g.role == role && g.covers(registry, target))
}

/// Whether an account with `grants` is among those something is shared
/// with (a dashboard): a grant in force on `today` of `role` (any role
/// when none) whose scope meets `unit`'s tree — over the unit, over a unit
/// within it, or over the whole system (any scope when no unit is named).
pub fn shared_with(
    registry: &Registry,
    grants: &[Grant],
    role: Option<Role>,
    unit: Option<&str>,
    today: NaiveDate,
) -> bool {
    let meets = |g: &Grant| match (unit, &g.unit) {
        (None, _) | (Some(_), None) => true,
        (Some(shared), Some(scope)) => {
            registry
                .in_force(shared, today)
                .is_some_and(|u| registry.stand_ins(scope, today).iter().any(|root| registry.within(u, root, today)))
                || registry.in_force(scope, today).is_some_and(|s| registry.within(s, shared, today))
        }
    };
    grants.iter().any(|g| g.validity.contains(today) && role.is_none_or(|r| g.role == r) && meets(g))
}

/// Whether an account with `grants` must sign in with a second factor on
/// `day`: it holds (in force that day) one of the `roles` the policy names.
pub fn requires_second_factor(grants: &[Grant], roles: &[Role], day: NaiveDate) -> bool {
    grants.iter().any(|g| roles.contains(&g.role) && g.validity.contains(day))
}
