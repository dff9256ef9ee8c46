#!/usr/bin/env bash
# Runs every test of the workspace, the kiosk window tests under Xvfb included.
# Installs what the tests need first. One profile (release) for tests and binaries, so
# that Bevy is compiled once.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh test
. scripts/env.sh
cargo fmt --all -- --check
cargo clippy --release --workspace --all-targets -- -D warnings
cargo build --release --workspace --bins
# Inside a throw-away PostgreSQL cluster (made and dropped by pg_virtualenv, which exports
# PGHOST, PGPORT, PGUSER, PGPASSWORD): the storage conformance suite runs on both backends.
pg_virtualenv -o fsync=off cargo test --release --workspace --no-fail-fast
