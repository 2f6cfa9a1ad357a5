//! Pure domain logic of baocao.
//!
//! Everything here is deterministic and free of I/O so that it can be tested
//! exhaustively (unit and property tests) and reused by the store, the server
//! and the command line alike. The central idea is that administrative units
//! live in *time*: a [`UnitVersion`] is valid over a half-open interval of
//! days, and [`Edge`]s of lineage link the versions that ended on the eve of a
//! [`Reorganization`] to the versions that began with it.

pub mod access;
pub mod audit;
pub mod cutover;
pub mod datavalue;
pub mod date;
pub mod directory;
pub mod feed;
pub mod form;
pub mod indicator;
pub mod mail;
pub mod notify;
pub mod period;
pub mod quality;
pub mod regime;
pub mod registry;
pub mod reorg;
pub mod report;
pub mod restate;
pub mod schedule;
pub mod table;
pub mod tasks;
pub mod text;
pub mod unit;
pub mod upstream;
pub mod workflow;

pub use date::{Validity, parse_date, today_in_vietnam};
pub use indicator::{Aggregation, Indicator, Value, ValueType};
pub use period::{Period, Periodicity};
pub use registry::{Lineage, LineageEntry, MapEntry, Registry, RegistryError};
pub use reorg::{AppliedDelta, Change, Edge, NewUnit, Predecessor, ReorgError, ReorgInfo, Reorganization, Share};
pub use unit::{UnitDetail, UnitKind, UnitVersion, VersionKey};
