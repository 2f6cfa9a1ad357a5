//! Persistence for baocao.
//!
//! One [`Db`] type over two backends: SQLite, embedded, the default, and
//! PostgreSQL for production. Each backend has its own migrations
//! (`migrations/sqlite`, `migrations/postgres`). Queries are written once
//! with `$N` placeholders, which both drivers accept, and bodies are
//! expanded for each backend by [`with_pool!`] (reads outside a
//! transaction) and [`with_conn!`] (inside a [`WriteTx`] or [`ReadTx`]), so
//! that each compiles against its own driver's types. A write transaction
//! keeps what it wrote only when its `commit` is called. Where the dialects
//! differ (bulk writes), the statement pairs live side by side in `sql`.
//!
//! Queries are checked at run time (no `query!` macros), so building needs
//! no live database.

pub mod account_links;
pub mod account_plan;
pub mod accounts;
mod agency_rows;
pub mod archive;
pub mod audit;
mod catalog;
pub mod compose;
pub mod cutover;
pub mod dashboards;
pub(crate) mod db;
pub mod directory;
mod error;
pub mod exclusive;
pub mod feeds;
pub mod follow_ups;
pub mod forms;
pub mod idempotency;
pub mod indicators;
pub mod jobs;
pub mod kept;
pub mod notifications;
pub mod outbox;
pub mod provenance;
pub mod rate_limits;
pub mod registry;
mod registry_writes;
mod report_writer;
pub mod reports;
mod requests;
pub mod restated;
pub mod scheduled_cutovers;
pub mod second_factor;
pub mod sessions;
pub mod signatures;
pub mod single_sign_on;
mod sql;
mod summed;
pub mod tasks;
pub mod tx;
pub mod unit_archive;
pub mod upstream;
mod value_writes;
pub mod values;

pub use catalog::FigureRevisions;
pub(crate) use db::Written;
pub use db::{Backend, Db, Migrations, Postgres, Sqlite};
pub use error::StoreError;
pub use tx::{ReadTx, WriteTx};
