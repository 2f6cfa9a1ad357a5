//! Favourites and dashboards: an account's saved views of the analysis and
//! quality pages, and pages of several of them shared with a role or a
//! unit's tree.
//!
//! A favourite keeps a view's page and query, never its figures: whoever opens it
//! gets them composed anew, within what they may see. Who a dashboard is
//! shared with is decided by `core::access::shared_with`; this keeps what
//! it is decided on.

use baocao_core::access::Role;
use chrono::{DateTime, Utc};
use serde_json::json;

use crate::audit::Change;
use crate::{Db, StoreError, append_audit, with_conn, with_pool};

/// The longest name and query kept: a name is a title, a query a page's
/// filters (a few dozen indicators at most).
pub const NAME_LIMIT: usize = 200;
pub const QUERY_LIMIT: usize = 4_000;
/// Views on one dashboard: each is composed when the page opens.
pub const ITEMS_LIMIT: usize = 12;

/// The pages a favourite may keep a view of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Page {
    /// «Phân tích»: a pivot table and its chart.
    Analysis,
    /// «Chất lượng số liệu»: a regime's latest period, unit by unit.
    Quality,
}

impl Page {
    pub fn as_str(self) -> &'static str {
        match self {
            Page::Analysis => "analysis",
            Page::Quality => "quality",
        }
    }

    /// Where the page is served.
    pub fn path(self) -> &'static str {
        match self {
            Page::Analysis => "/analysis",
            Page::Quality => "/quality",
        }
    }

    fn parse(text: &str) -> Result<Page, StoreError> {
        [Page::Analysis, Page::Quality]
            .into_iter()
            .find(|p| p.as_str() == text)
            .ok_or_else(|| StoreError::Corrupt(format!("favourite of an unknown page «{text}»")))
    }
}

/// A saved view of a page.
#[derive(Clone, Debug, PartialEq)]
pub struct Favourite {
    pub id: i64,
    pub page: Page,
    pub name: String,
    /// The page's query string (`indicator=…&unit=…`).
    pub query: String,
}

impl Favourite {
    /// The view on its page.
    pub fn link(&self) -> String {
        format!("{}?{}", self.page.path(), self.query)
    }
}

type FavouriteRow = (i64, String, String, String);

fn favourite((id, page, name, query): FavouriteRow) -> Result<Favourite, StoreError> {
    Ok(Favourite { id, page: Page::parse(&page)?, name, query })
}

/// A dashboard as kept: its owner, name, who it is shared with and its views.
#[derive(Clone, Debug)]
pub struct Dashboard {
    pub id: i64,
    /// The owner's username.
    pub owner: String,
    pub name: String,
    pub shared_role: Option<Role>,
    pub shared_unit: Option<String>,
    pub on_home: bool,
    pub updated_at: DateTime<Utc>,
    /// Its views, in order.
    pub items: Vec<Favourite>,
}

impl Dashboard {
    /// Whether it is shared with anyone but its owner.
    pub fn shared(&self) -> bool {
        self.shared_role.is_some() || self.shared_unit.is_some()
    }
}

/// Which dashboards to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    All,
    /// Those marked for the home page.
    OnHome,
    /// The one of this id.
    One(i64),
}

/// A dashboard to create (no `id`) or to change (its owner's).
#[derive(Clone, Debug)]
pub struct DashboardDraft {
    pub id: Option<i64>,
    pub name: String,
    pub shared_role: Option<Role>,
    pub shared_unit: Option<String>,
    pub on_home: bool,
    /// The owner's favourites shown, in order.
    pub items: Vec<i64>,
}

fn check_name(name: &str) -> Result<(), StoreError> {
    StoreError::check_text("Tên", name, false)?;
    if name.trim().is_empty() {
        return Err(StoreError::Unprocessable("Tên: cần đặt tên.".into()));
    }
    if name.chars().count() > NAME_LIMIT {
        return Err(StoreError::Unprocessable(format!("Tên: dài quá {NAME_LIMIT} ký tự.")));
    }
    Ok(())
}

type DashboardRow = (i64, String, String, Option<String>, Option<String>, bool, DateTime<Utc>);

const DASHBOARDS: &str = "SELECT d.id, a.username, d.name, d.shared_role, d.shared_unit, d.on_home, d.updated_at
     FROM dashboards d JOIN accounts a ON a.id = d.account_id";

impl Db {
    /// Keeps `query` of `page` as the account's favourite `name`, replacing
    /// the one of that name; its id.
    pub async fn save_favourite(
        &self,
        account_id: i64,
        page: Page,
        name: &str,
        query: &str,
    ) -> Result<i64, StoreError> {
        check_name(name)?;
        StoreError::check_text("Truy vấn", query, false)?;
        if query.len() > QUERY_LIMIT {
            return Err(StoreError::Unprocessable(format!("Truy vấn: dài quá {QUERY_LIMIT} ký tự.")));
        }
        let mut tx = self.begin_write().await?;
        let id: i64 = with_conn!(tx, |conn| sqlx::query_scalar(
            "INSERT INTO favourites (account_id, page, name, query, created_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (account_id, name) DO UPDATE SET page = excluded.page, query = excluded.query RETURNING id"
        )
        .bind(account_id)
        .bind(page.as_str())
        .bind(name.trim())
        .bind(query)
        .bind(Utc::now())
        .fetch_one(&mut *conn)
        .await?);
        tx.commit().await?;
        Ok(id)
    }

    /// The account's favourites, in the order they were first saved.
    pub async fn favourites(&self, account_id: i64) -> Result<Vec<Favourite>, StoreError> {
        let rows: Vec<FavouriteRow> = with_pool!(self, |pool| sqlx::query_as(
            "SELECT id, page, name, query FROM favourites WHERE account_id = $1 ORDER BY id"
        )
        .bind(account_id)
        .fetch_all(pool)
        .await?);
        rows.into_iter().map(favourite).collect()
    }

    /// Removes one of the account's favourites (and it from its
    /// dashboards); false when the account has none of that id.
    pub async fn delete_favourite(&self, account_id: i64, id: i64) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let gone = with_conn!(tx, |conn| sqlx::query("DELETE FROM favourites WHERE id = $1 AND account_id = $2")
            .bind(id)
            .bind(account_id)
            .execute(&mut *conn)
            .await?
            .rows_affected());
        tx.commit().await?;
        Ok(gone == 1)
    }

    /// Creates or changes one of the account's dashboards, audited (it may
    /// be shared); its id. Every view must be one of the account's own
    /// favourites.
    pub async fn save_dashboard(
        &self,
        account_id: i64,
        actor: &str,
        draft: &DashboardDraft,
    ) -> Result<i64, StoreError> {
        check_name(&draft.name)?;
        if draft.items.len() > ITEMS_LIMIT {
            return Err(StoreError::Unprocessable(format!("Một bảng điều hành có tối đa {ITEMS_LIMIT} mục.")));
        }
        let now = Utc::now();
        let name = draft.name.trim();
        let role = draft.shared_role.map(Role::as_str);
        let mut tx = self.begin_write().await?;
        let id = with_conn!(tx, |conn| {
            let taken: Option<i64> =
                sqlx::query_scalar("SELECT id FROM dashboards WHERE account_id = $1 AND name = $2")
                    .bind(account_id)
                    .bind(name)
                    .fetch_optional(&mut *conn)
                    .await?;
            if taken.is_some_and(|t| Some(t) != draft.id) {
                return Err(StoreError::Conflict(format!("Đã có bảng điều hành tên «{name}».")));
            }
            // One statement either way: a change only of the account's own
            // (`$7` its id), a creation when `$7` is none.
            let sql = match draft.id {
                Some(_) => {
                    "UPDATE dashboards SET name = $2, shared_role = $3, shared_unit = $4, on_home = $5, updated_at = $6
                     WHERE id = $7 AND account_id = $1 RETURNING id"
                }
                None => {
                    "INSERT INTO dashboards (account_id, name, shared_role, shared_unit, on_home, updated_at)
                     SELECT $1, $2, $3, $4, $5, $6 WHERE CAST($7 AS BIGINT) IS NULL RETURNING id"
                }
            };
            let id: i64 = sqlx::query_scalar(sql)
                .bind(account_id)
                .bind(name)
                .bind(role)
                .bind(draft.shared_unit.as_deref())
                .bind(draft.on_home)
                .bind(now)
                .bind(draft.id)
                .fetch_optional(&mut *conn)
                .await?
                .ok_or_else(|| {
                    StoreError::NotFound(format!("Không có bảng điều hành số {} của tài khoản.", draft.id.unwrap_or(0)))
                })?;
            sqlx::query("DELETE FROM dashboard_items WHERE dashboard_id = $1").bind(id).execute(&mut *conn).await?;
            for (position, favourite) in draft.items.iter().enumerate() {
                // Only the owner's own favourites: selected, not trusted.
                let placed = sqlx::query(
                    "INSERT INTO dashboard_items (dashboard_id, position, favourite_id)
                     SELECT $1, $2, id FROM favourites WHERE id = $3 AND account_id = $4",
                )
                .bind(id)
                .bind(position as i64)
                .bind(favourite)
                .bind(account_id)
                .execute(&mut *conn)
                .await?
                .rows_affected();
                if placed == 0 {
                    return Err(StoreError::NotFound(format!("Không có mục yêu thích số {favourite} của tài khoản.")));
                }
            }
            let change = Change {
                at: now,
                actor,
                action: "dashboard.save",
                object: format!("dashboard {id}"),
                before: None,
                after: Some(json!({
                    "name": name,
                    "shared_role": role,
                    "shared_unit": draft.shared_unit,
                    "on_home": draft.on_home,
                    "items": draft.items,
                })),
            };
            append_audit!(conn, &change);
            id
        });
        tx.commit().await?;
        Ok(id)
    }

    /// Removes one of the account's dashboards, audited; false when it
    /// has none of that id.
    pub async fn delete_dashboard(&self, account_id: i64, actor: &str, id: i64) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let gone = with_conn!(tx, |conn| {
            let gone = sqlx::query("DELETE FROM dashboards WHERE id = $1 AND account_id = $2")
                .bind(id)
                .bind(account_id)
                .execute(&mut *conn)
                .await?
                .rows_affected();
            if gone == 1 {
                let change = Change {
                    at: Utc::now(),
                    actor,
                    action: "dashboard.delete",
                    object: format!("dashboard {id}"),
                    before: None,
                    after: None,
                };
                append_audit!(conn, &change);
            }
            gone
        });
        tx.commit().await?;
        Ok(gone == 1)
    }

    /// The dashboards `which` asks for, with their views, newest change
    /// first: the caller picks those the account may open (few: one an
    /// official or two).
    pub async fn dashboards(&self, which: Which) -> Result<Vec<Dashboard>, StoreError> {
        let (home_only, id) = match which {
            Which::All => (false, None),
            Which::OnHome => (true, None),
            Which::One(id) => (false, Some(id)),
        };
        const CHOSEN: &str = "(d.on_home OR NOT $1) AND (CAST($2 AS BIGINT) IS NULL OR d.id = $2)";
        let rows: Vec<DashboardRow> = with_pool!(self, |pool| sqlx::query_as(&format!(
            "{DASHBOARDS} WHERE {CHOSEN} ORDER BY d.updated_at DESC, d.id DESC"
        ))
        .bind(home_only)
        .bind(id)
        .fetch_all(pool)
        .await?);
        let items: Vec<(i64, i64, String, String, String)> = with_pool!(self, |pool| sqlx::query_as(&format!(
            "SELECT i.dashboard_id, f.id, f.page, f.name, f.query FROM dashboard_items i
             JOIN favourites f ON f.id = i.favourite_id JOIN dashboards d ON d.id = i.dashboard_id
             WHERE {CHOSEN} ORDER BY i.dashboard_id, i.position"
        ))
        .bind(home_only)
        .bind(id)
        .fetch_all(pool)
        .await?);
        rows.into_iter()
            .map(|row| {
                let id = row.0;
                let mut d = dashboard(row)?;
                d.items = items
                    .iter()
                    .filter(|(of, ..)| *of == id)
                    .map(|(_, id, page, name, query)| favourite((*id, page.clone(), name.clone(), query.clone())))
                    .collect::<Result<_, _>>()?;
                Ok(d)
            })
            .collect()
    }
}

fn dashboard((id, owner, name, role, unit, on_home, updated_at): DashboardRow) -> Result<Dashboard, StoreError> {
    let shared_role =
        role.map(|r| r.parse::<Role>().map_err(|e| StoreError::Corrupt(format!("dashboard {id}: {e}")))).transpose()?;
    Ok(Dashboard { id, owner, name, shared_role, shared_unit: unit, on_home, updated_at, items: Vec::new() })
}
