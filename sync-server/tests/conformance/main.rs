//! The storage conformance suite: every backend answers the same fixtures the same way. Each
//! check runs on SQLite (a fresh file) and on PostgreSQL (a fresh database in the cluster that
//! `pg_virtualenv` makes; `scripts/test.sh` runs the tests inside it). Test names contain
//! `postgres` when they run there.
//!
//! One module per storage trait; `common` holds the fixtures and the `conformance!` macro.

mod common;
mod leads;
mod reports;
mod staff;
mod sync;
mod visits;
